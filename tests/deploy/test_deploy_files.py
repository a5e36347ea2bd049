"""The files of deploy/ say what Ruang understands: settings, unit, admin wrapper."""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from core.cli import serve
from core.config import ENV_PREFIX, Settings, load_settings
from tests.fixtures.servers import REPO_ROOT, ruang_command

DEPLOY = REPO_ROOT / "deploy"
UNIT = DEPLOY / "ruang@.service"
ENV_EXAMPLE = DEPLOY / "ruang.env.example"
ADMIN = DEPLOY / "ruang-admin"


def sourced(env_file: Path) -> dict[str, str]:
    """The RUANG_* variables a POSIX shell gets from ``env_file`` (as ruang-admin reads it)."""
    out = subprocess.run(["sh", "-c", 'set -a; . "$0"; env -0', str(env_file)],
                         env={"PATH": os.environ["PATH"]}, capture_output=True, check=True)
    pairs = (item.split("=", 1) for item in out.stdout.decode().split("\0") if "=" in item)
    return {k: v for k, v in pairs if k.startswith(ENV_PREFIX)}


def unit_settings() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if line and not line.startswith(("#", "[")) and "=" in line:
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def test_env_example_is_valid_settings_for_ruang():
    env = sourced(ENV_EXAMPLE)
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    assert set(env) <= known, f"unknown settings: {set(env) - known}"
    settings = load_settings(environ=env)
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.message_queue.startswith("redis://")
    assert settings.trusted_proxies == 1 and settings.secure_cookies
    assert settings.mail_from == "BPTI <bpti@kampus.ac.id>"  # quoted: read alike by sh and systemd


def test_unit_is_hardened_and_may_write_the_instance_folder():
    unit = unit_settings()
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict",
                       "PrivateTmp": "yes", "ProtectHome": "yes", "User": "ruang"}.items():
        assert unit[key] == [value], key
    writable = [Path(p) for value in unit["ReadWritePaths"] for p in value.split()]
    instance = Path(sourced(ENV_EXAMPLE)["RUANG_INSTANCE"])
    assert any(instance.is_relative_to(p) for p in writable), (instance, writable)
    # The shared settings, then the node's own (optional) file, which overrides them.
    assert unit["EnvironmentFile"] == ["/etc/ruang/ruang.env", "-/etc/ruang/ruang-%i.env"]

    # ExecStart uses only options `ruang serve` has.
    argv = shlex.split(unit["ExecStart"][0])
    assert argv[0].endswith("/.venv/bin/ruang") and argv[1] == "serve"
    options = {opt for param in serve.params for opt in param.opts}
    assert {a for a in argv[2:] if a.startswith("--")} <= options


def test_systemd_accepts_the_unit(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (package systemd)")
    # The unit names /opt/ruang; verify it against this checkout's command instead.
    text = UNIT.read_text().replace("/opt/ruang/.venv/bin/ruang", ruang_command()[0])
    unit = tmp_path / "ruang@.service"
    unit.write_text(text)
    proc = subprocess.run([analyze, "verify", "--man=no", f"{unit.parent}/ruang@5001.service"],
                          capture_output=True, text=True, check=False, cwd=tmp_path)
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr


def test_admin_wrapper_runs_ruang_with_the_env_file(tmp_path, instance):
    env_file = tmp_path / "ruang.env"
    env_file.write_text(f"RUANG_INSTANCE={instance}\nRUANG_MAIL_FROM=\"BPTI <bpti@x.example>\"\n")
    me = pwd.getpwuid(os.geteuid()).pw_name
    env = {"PATH": os.environ["PATH"], "RUANG_ENV_FILE": str(env_file),
           "RUANG_HOME": str(REPO_ROOT), "RUANG_USER": me}
    proc = subprocess.run([str(ADMIN), "plugins", "list"], env=env, capture_output=True,
                          text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert any(line.split()[:1] == ["helpdesk"] for line in proc.stdout.splitlines())

    missing = subprocess.run([str(ADMIN), "plugins", "list"],
                             env={**env, "RUANG_ENV_FILE": str(tmp_path / "nope.env")},
                             capture_output=True, text=True, check=False)
    assert missing.returncode == 1 and "cannot read" in missing.stderr
