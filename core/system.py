"""The host's own plugin: plugin states and settings tables, and the operator commands."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.plugins import PluginState, hookimpl
from core.settings_store import StoredSetting


@hookimpl
def ruang_models() -> Sequence[type]:
    return [PluginState, StoredSetting]


@hookimpl
def ruang_migrations() -> str:
    return str(Path(__file__).parent / "migrations" / "system")


@hookimpl
def ruang_cli_commands() -> Sequence[Any]:
    from core.cli import (
        backup_cmd,
        db_group,
        demo,
        plugins_group,
        restore_cmd,
        serve,
        settings_group,
        tls_group,
    )

    return [serve, db_group, plugins_group, settings_group, demo, tls_group, backup_cmd,
            restore_cmd]
