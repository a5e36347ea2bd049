"""Settings of one Ruang instance, read from ``RUANG_*`` environment variables.

Every variable is validated here, once, so that a malformed value stops the process with a
message naming the variable instead of failing later somewhere deep in a request.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ENV_PREFIX = "RUANG_"


class ConfigError(ValueError):
    """A setting is malformed; the message names the variable and the reason."""


class Settings(BaseModel):
    """The instance's settings. Field ``foo_bar`` is read from ``RUANG_FOO_BAR``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    instance: Path = Field(default=Path("instance"), validate_default=True,
                           description="Instance folder")
    database_url: str = Field(default="", description="SQLAlchemy URL; SQLite in instance/")
    async_mode: Literal["gevent", "eventlet", "threading"] = "gevent"
    message_queue: str = Field(default="", description="Socket.IO message queue, e.g. redis://")
    host: str = "127.0.0.1"
    port: int = Field(default=5000, ge=1, le=65535)
    public_url: str = Field(default="", description="URL people use to reach this instance")
    default_locale: Literal["id", "en"] = "id"
    timezone: str = "Asia/Jakarta"
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "BPTI <bpti@localhost>"
    plugin_refresh_s: float = Field(default=1.0, gt=0, le=60)
    login_max_failures: int = Field(default=5, ge=1, le=1000)
    login_window_s: int = Field(default=900, ge=1)
    secure_cookies: bool = Field(default=False, description="Set when served over HTTPS")
    trusted_proxies: int = Field(
        default=0, ge=0, le=5,
        description="Reverse proxies in front of Ruang whose X-Forwarded-* headers to trust",
    )
    db_pool_size: int = Field(
        default=10, ge=1, le=1000,
        description="PostgreSQL connections each process keeps open (SQLite pools its own)")
    db_max_overflow: int = Field(
        default=20, ge=0, le=1000,
        description="PostgreSQL connections a process may open beyond the pool at a peak")
    jobs: bool = Field(default=True, description="Run background jobs in this process")
    gc_full_every_s: float = Field(
        default=300.0, ge=0, le=86400,
        description="Seconds between the server's full garbage collections (0: CPython's own "
                    "schedule); see core/collector.py")
    assets_dir: Path | None = Field(default=None, description="node_modules of front-end packages")

    @field_validator("instance")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        # Flask and Flask-Babel resolve relative paths against the package, not the
        # working directory: an operator's RUANG_INSTANCE=instance must mean ./instance.
        return value.expanduser().resolve()

    @field_validator("database_url", "message_queue", "public_url")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.instance / 'ruang.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")


def load_settings(environ: dict[str, str] | None = None, **overrides: object) -> Settings:
    """Build :class:`Settings` from the environment, then ``overrides`` (used by tests)."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for name in Settings.model_fields:
        key = ENV_PREFIX + name.upper()
        if key in env:
            values[name] = env[key]
    values.update(overrides)
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            problems.append(f"{ENV_PREFIX}{field.upper()}: {err['msg']} (got {err.get('input')!r})")
        raise ConfigError("; ".join(problems)) from None


def write_secret_once(path: Path, data: bytes) -> bytes:
    """Put ``data`` at ``path`` (owner-only, 0600) unless a file is there already; return
    what the file holds afterwards.

    The bytes are written and synced under a private name first and then linked into place,
    which either succeeds whole or finds the file present: another process (a second node
    starting, a key rotation) never reads a file that is still empty or half-written.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return path.read_bytes()
        return data
    finally:
        tmp.unlink(missing_ok=True)


def instance_secret(settings: Settings, name: str, nbytes: int = 32) -> bytes:
    """Return the secret file ``name`` from the instance folder, creating it on first use.

    The file is created with owner-only permissions (0600) and never overwritten, so the
    session secret and the master key survive restarts and stay out of the repository.
    """
    folder = settings.instance
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if not path.exists():
        return write_secret_once(path, secrets.token_bytes(nbytes))
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path} is readable by others; run: chmod 600 {path}")
    return path.read_bytes()
