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
