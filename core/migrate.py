"""Alembic, driven from code: one version location and one branch per plugin.

``upgrade`` brings every installed plugin's branch to its head (enabled or not: a disabled
plugin keeps its tables), so running it twice changes nothing. ``revision`` autogenerates a
plugin's next migration from the difference between its models and the database, looking
only at that plugin's tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from core.db import Base
from core.plugins import PluginHost

HERE = Path(__file__).parent


def _config(host: PluginHost, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE / "migrations"))
    locations = []
    for result in host.all_hook.ruang_migrations():
        if result:
            locations.append(str(Path(result).resolve()))
    cfg.set_main_option("version_locations", " ".join(sorted(set(locations))))
    cfg.set_main_option("path_separator", "space")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["ruang_host"] = host
    return cfg


def load_models(host: PluginHost) -> Any:
    """Import every installed plugin's models so that ``Base.metadata`` knows them all."""
    for _result in host.all_hook.ruang_models():
        pass
    return Base.metadata


def upgrade(host: PluginHost, url: str, target: str = "heads") -> None:
    load_models(host)
    command.upgrade(_config(host, url), target)


def downgrade(host: PluginHost, url: str, target: str) -> None:
    load_models(host)
    command.downgrade(_config(host, url), target)


def check(host: PluginHost, url: str) -> list[str]:
    """Differences between the models and the migrated database (empty when they agree).

    A non-empty answer means a plugin changed its models without a migration.
    """
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    metadata = load_models(host)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(ctx, metadata)
    finally:
        engine.dispose()
    return [_describe(d) for d in diffs]


def _describe(diff: Any) -> str:
    if isinstance(diff, tuple) and diff and isinstance(diff[0], str):
        kind = diff[0]
        obj = diff[1] if len(diff) > 1 else None
        name = getattr(obj, "name", None) or (diff[2] if len(diff) > 2 else "")
        table = getattr(getattr(obj, "table", None), "name", "")
        return f"{kind} {table + '.' if table else ''}{name}"
    return str(diff)


def current_heads(host: PluginHost, url: str) -> list[str]:
    script = ScriptDirectory.from_config(_config(host, url))
    return list(script.get_heads())


def revision(host: PluginHost, url: str, plugin: str, message: str) -> None:
    """Autogenerate the next migration of ``plugin`` into its own version location."""
    info = host.get(plugin)
    location = info.module.ruang_migrations() if hasattr(info.module, "ruang_migrations") else None
    if not location:
        raise ValueError(f"plugin {plugin!r} has no migrations folder (ruang_migrations hook)")
    load_models(host)
    cfg = _config(host, url)
    cfg.attributes["ruang_only_plugin"] = plugin
    script = ScriptDirectory.from_config(cfg)
    branch_exists = any(plugin in (rev.branch_labels or ()) for rev in script.walk_revisions())
    Path(location).mkdir(parents=True, exist_ok=True)
    if branch_exists:
        command.revision(cfg, message=message, autogenerate=True, head=f"{plugin}@head",
                         version_path=str(location))
    else:
        command.revision(cfg, message=message, autogenerate=True, head="base",
                         branch_label=plugin, version_path=str(location))
