"""The ``ruang`` command: one command line for everything an operator does.

Plugins add their commands through ``ruang_cli_commands``; a command of a disabled plugin
exits with an error that says so. Every command runs inside the app's context.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask

from core.config import ConfigError, load_settings
from core.instance import ruang
from core.plugins import PluginError


def _make_app() -> Flask:
    from core.app import create_app

    try:
        return create_app(load_settings())
    except ConfigError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)


class RuangGroup(click.Group):
    """The top-level group; loads plugin commands lazily so ``--help`` stays correct."""

    _app: Flask | None = None

    def _ensure(self) -> Flask:
        if self._app is None:
            self._app = _make_app()
            host = self._app.extensions["ruang"].plugins
            for plugin, cmd in host.collect_by_plugin("ruang_cli_commands", enabled_only=False):
                if cmd.name in self.commands:
                    continue
                self.add_command(_guarded(cmd, plugin, host))
        return self._app

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._ensure()
        return sorted(self.commands)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._ensure()
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        app = self._ensure()
        with app.app_context():
            return super().invoke(ctx)


def _guarded(cmd: click.Command, plugin: str, host: Any) -> click.Command:
    """Wrap a plugin's command so that it refuses to run while the plugin is disabled."""
    if host.get(plugin).origin == "core":
        return cmd
    original = cmd.invoke

    @functools.wraps(original)
    def invoke(ctx: click.Context) -> Any:
        if not host.is_enabled(plugin):
            raise click.ClickException(
                f"the {plugin} plugin is disabled; enable it with: ruang plugins enable {plugin}"
            )
        return original(ctx)

    cmd.invoke = invoke  # type: ignore[method-assign]
    return cmd


@click.group(cls=RuangGroup)
def cli() -> None:
    """Ruang: CBT exams, ICT labs, helpdesk, training and certification for BPTI."""


# -- serve ---------------------------------------------------------------------------------


EVENTLET_MAX_CONNECTIONS = 60_000


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (default RUANG_HOST)")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="Port (RUANG_PORT)")
@click.option("--tls", is_flag=True, help="Serve HTTPS with the certificate of `ruang tls init`")
def serve(host: str | None, port: int | None, tls: bool) -> None:
    """Run the web and Socket.IO server."""
    from flask import current_app

    from core.tls import files_for

    r = ruang()
    try:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        r.plugins.hook.ruang_startup_check(app=app)
    except Exception as exc:
        raise click.ClickException(f"refusing to start: {exc}") from None
    host = host or r.settings.host
    port = port or r.settings.port
    ssl_args: dict[str, str] = {}
    if tls:
        files = files_for(r.settings.instance)
        if not files.exists():
            raise click.ClickException("no certificate yet; run: ruang tls init --name HOST")
        ssl_args = {"certfile": str(files.cert), "keyfile": str(files.key)}
    shown_host = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host  # noqa: S104
    scheme = "https" if tls else "http"
    base = r.settings.public_url or f"{scheme}://{shown_host}:{port}"
    if r.settings.jobs:
        from core.jobs import start_scheduler

        start_scheduler(current_app._get_current_object())  # type: ignore[attr-defined]
    from core.collector import pace

    # Last, so that what the app and the scheduler built is frozen with the rest.
    pace(r.settings.gc_full_every_s, r.socketio.start_background_task, r.socketio.sleep)
    click.echo(f"Ruang {r.settings.async_mode} server on {host}:{port}")
    click.echo(f"  staff and proctors: {base}/")
    click.echo(f"  kiosk (lab PCs):    {base}/kiosk")
    sys.stdout.flush()
    server_args: dict[str, Any] = dict(ssl_args)
    if r.settings.async_mode == "eventlet":
        # eventlet's WSGI server stops accepting at 1,024 open connections by default: a
        # kiosk holds two (its websocket and its page's keep-alive), so the 513th kiosk's
        # connection waited in the listen queue for ever (the lab profile under eventlet).
        # gevent's server has no such cap; the real bound is the open-file limit
        # (LimitNOFILE=65536 in deploy/ruang@.service).
        server_args["max_size"] = EVENTLET_MAX_CONNECTIONS
    r.socketio.run(current_app._get_current_object(), host=host, port=port,  # type: ignore[attr-defined]
                   use_reloader=False, log_output=False, **server_args)


@click.group("tls")
def tls_group() -> None:
    """HTTPS for the lab network (kiosks need a secure context for WebCrypto)."""


@tls_group.command("init")
@click.option("--name", "names", multiple=True, required=True,
              help="Host name or IP address the lab PCs use (repeat for several)")
@click.option("--days", default=825, type=int, help="Validity of the server certificate")
def tls_init(names: tuple[str, ...], days: int) -> None:
    """Create the lab CA (once) and a server certificate for NAMES."""
    from core.tls import INSTALL_HELP, TLSError, init

    r = ruang()
    try:
        files = init(r.settings.instance, list(names), days=days)
    except TLSError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"server certificate: {files.cert}")
    click.echo(f"lab CA certificate: {files.ca_cert}")
    click.echo(INSTALL_HELP.format(ca=files.ca_cert, host=names[0], port=r.settings.port))


# -- db ------------------------------------------------------------------------------------


@click.group("db")
def db_group() -> None:
    """Database migrations."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Bring every plugin's tables to their newest migration (safe to run again)."""
    from core import migrate

    r = ruang()
    migrate.upgrade(r.plugins, r.settings.sqlalchemy_url)
    click.echo("database is up to date")


@db_group.command("check")
def db_check() -> None:
    """Exit non-zero when a model has changed without a migration."""
    from core import migrate

    r = ruang()
    diffs = migrate.check(r.plugins, r.settings.sqlalchemy_url)
    if diffs:
        for line in diffs:
            click.echo(f"  {line}", err=True)
        raise click.ClickException(f"{len(diffs)} difference(s) between models and database; "
                                   "run `ruang db upgrade`, or write the missing migration")
    click.echo("models and database agree")


@db_group.command("revision")
@click.option("--plugin", required=True, help="Plugin whose models changed")
@click.option("-m", "--message", required=True)
def db_revision(plugin: str, message: str) -> None:
    """Autogenerate a plugin's next migration (for developers)."""
    from core import migrate

    r = ruang()
    try:
        migrate.revision(r.plugins, r.settings.sqlalchemy_url, plugin, message)
    except (PluginError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


# -- plugins -------------------------------------------------------------------------------


@click.group("plugins")
def plugins_group() -> None:
    """List, enable and disable plugins."""


@plugins_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def plugins_list(as_json: bool) -> None:
    """Each plugin's name, version, origin and state."""
    host = ruang().plugins
    host.refresh(force=True)
    rows = [
        {"name": p.name, "version": p.version, "origin": p.origin,
         "state": "enabled" if host.is_enabled(p.name) else "disabled",
         "description": p.description}
        for p in host.plugins.values() if p.switchable
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(f"{'NAME':<16} {'VERSION':<9} {'ORIGIN':<22} STATE")
    for row in rows:
        click.echo(f"{row['name']:<16} {row['version']:<9} {row['origin']:<22} {row['state']}")


def _toggle(name: str, enabled: bool) -> None:
    r = ruang()
    try:
        with r.db.transaction() as session:
            changed = r.plugins.set_enabled(session, name, enabled, actor=None)
    except PluginError as exc:
        raise click.ClickException(str(exc)) from None
    word = "enabled" if enabled else "disabled"
    click.echo(f"plugin {name} {word}" if changed else f"plugin {name} was already {word}")


@plugins_group.command("enable")
@click.argument("name")
def plugins_enable(name: str) -> None:
    """Switch a plugin on (every server process follows within seconds)."""
    _toggle(name, True)


@plugins_group.command("disable")
@click.argument("name")
def plugins_disable(name: str) -> None:
    """Switch a plugin off; its data is kept."""
    _toggle(name, False)


# -- settings ------------------------------------------------------------------------------


@click.group("settings")
def settings_group() -> None:
    """Settings staff may change at run time."""


@settings_group.command("list")
def settings_list() -> None:
    from core import settings_store

    r = ruang()
    with r.db.session() as session:
        for key, spec in sorted(settings_store.specs(r.plugins).items()):
            value = settings_store.get(session, r.plugins, key)
            click.echo(f"{key} = {json.dumps(value)}    # {spec.description}")


@settings_group.command("set")
@click.argument("key")
@click.argument("value")
def settings_set(key: str, value: str) -> None:
    from core import settings_store

    r = ruang()
    try:
        with r.db.transaction() as session:
            stored = settings_store.set_value(session, r.plugins, key, value)
    except settings_store.SettingError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{key} = {json.dumps(stored)}")


# -- demo ----------------------------------------------------------------------------------


@click.command("demo")
def demo() -> None:
    """Add demo users, labs and every enabled plugin's demo data (safe to run again)."""
    r = ruang()
    with r.db.transaction() as session:
        r.plugins.hook.ruang_demo_data(session=session)
    from core.demo import DEMO_LOGINS

    click.echo("demo data is in place; sign in with:")
    for username, password, role in DEMO_LOGINS:
        click.echo(f"  {role:<28} {username} / {password}")


# -- backup and restore --------------------------------------------------------------------

KEY_WARNING = """\
WARNING: this archive holds the MASTER KEY of the exam content next to the database.
Anyone who has the archive can read every question bank and answer key. Keep it where
only the operators can read it, or make key-less backups with --without-key and keep
the master_key somewhere else."""


@click.command("backup")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--without-key", is_flag=True,
              help="Leave the master key out (keep it elsewhere; a restore then needs it)")
def backup_cmd(out: Path, without_key: bool) -> None:
    """Write a backup of the database and the instance folder to OUT (file or folder).

    Safe while servers run: SQLite is copied with its online backup API, PostgreSQL with
    pg_dump of one snapshot.
    """
    from core import backup

    r = ruang()
    try:
        result = backup.backup(r.settings, out, with_key=not without_key,
                               progress=lambda m: click.echo(f"  {m}", err=True))
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    m = result.manifest
    click.echo(f"backup written: {result.path}")
    click.echo(f"  {m.engine} database, {len(m.members) - 1} file(s), audit log "
               f"{m.audit_entries} entries (head {m.audit_head[:12] or '-'}), "
               f"master key {m.master_key_id or '-'}")
    if m.includes_key and m.master_key_id:
        click.secho(KEY_WARNING, err=True, fg="red", bold=True)
    elif m.master_key_id:
        click.echo(f"  the master key is NOT in it: keep master_key (id {m.master_key_id}) "
                   "with this backup's record", err=True)


@click.command("restore")
@click.argument("archive", type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation")
def restore_cmd(archive: Path, yes: bool) -> None:
    """Replace this instance's database and folder by the content of ARCHIVE.

    Stop every server of the instance first. The archive is checked completely before
    anything changes; the replaced instance folder is kept beside the new one.
    """
    from core import backup

    r = ruang()
    if not yes:
        click.confirm(f"Replace the instance {r.settings.instance} and its database by "
                      f"{archive}?", abort=True)
    try:
        result = backup.restore(r.settings, r.plugins, archive, dispose=r.db.dispose,
                                progress=lambda m: click.echo(f"  {m}", err=True))
    except backup.BackupError as exc:
        raise click.ClickException(f"restore refused: {exc}") from None
    m = result.manifest
    click.echo(f"restored the backup of {m.created_at} ({m.engine}, audit log "
               f"{m.audit_entries} entries, head {m.audit_head[:12] or '-'})")
    if result.previous is not None:
        click.echo(f"  the replaced instance folder is kept as {result.previous}")


def main() -> None:
    cli(prog_name="ruang")
