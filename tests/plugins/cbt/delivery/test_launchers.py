"""The kiosk launchers: the Linux one opens the kiosk page in real Chromium; the Windows
ones (no Windows here) are checked for what they pass to Edge and Chrome."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.browser import CHROMIUM

LAUNCHERS = Path(__file__).resolve().parents[4] / "kiosk" / "launchers"
SCRIPT = LAUNCHERS / "ruang-kiosk.sh"


def run(*args: str, env: dict[str, str] | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "RUANG_KIOSK_BROWSER": CHROMIUM, **(env or {})}
    return subprocess.run(["sh", str(SCRIPT), *args], capture_output=True, text=True,
                          env=full, timeout=timeout, check=False)


def test_dry_run_shows_a_kiosk_mode_command_with_its_own_profile(tmp_path):
    done = run("--dry-run", "https://exam.lab:5000/kiosk",
               env={"RUANG_KIOSK_PROFILE": str(tmp_path / "p")})
    assert done.returncode == 0, done.stderr
    words = done.stdout.split()
    assert words[0] == CHROMIUM and "--kiosk" in words
    assert f"--user-data-dir={tmp_path / 'p'}" in words
    assert words[-1] == "https://exam.lab:5000/kiosk"
    assert "--incognito" not in words and done.stderr == ""
    assert not (tmp_path / "p").exists()  # a dry run changes nothing


def test_plain_http_to_a_network_address_is_warned_about():
    done = run("--dry-run", "http://10.20.30.40:5000/kiosk")
    assert done.returncode == 0
    assert "plain HTTP" in done.stderr and "ruang tls init" in done.stderr
    assert "plain HTTP" not in run("--dry-run", "http://127.0.0.1:5000/kiosk").stderr


def test_a_url_is_required():
    done = run(env={"RUANG_KIOSK_URL": ""})
    assert done.returncode == 2 and "RUANG_KIOSK_URL" in done.stderr


@pytest.mark.live
def test_the_launcher_opens_the_kiosk_page_in_chromium(live_server, tmp_path):
    server = live_server()
    done = run(server.url + "/kiosk", env={
        "RUANG_KIOSK_PROFILE": str(tmp_path / "profile"),
        "RUANG_KIOSK_EXTRA_ARGS": "--headless=new --no-sandbox --disable-gpu "
                                  "--disable-dev-shm-usage --dump-dom"}, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Daftarkan komputer ini" in done.stdout  # the enrolment screen, in Indonesian
    assert (tmp_path / "profile").is_dir()


def test_the_windows_launchers_open_edge_or_chrome_in_kiosk_mode():
    cmd = (LAUNCHERS / "ruang-kiosk.cmd").read_bytes()
    assert b"\r\n" in cmd  # cmd.exe wants CRLF line ends
    assert b'-ExecutionPolicy Bypass -File "%~dp0ruang-kiosk.ps1" %*' in cmd
    ps1 = (LAUNCHERS / "ruang-kiosk.ps1").read_text(encoding="utf-8")
    for needle in ('"--kiosk", $Url', "--edge-kiosk-type=fullscreen", "--user-data-dir=",
                   "msedge.exe", "chrome.exe", "Cert:\\LocalMachine\\Root", "[switch]$Watch",
                   "[switch]$DryRun"):
        assert needle in ps1, needle
