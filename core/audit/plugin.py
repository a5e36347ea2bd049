"""The audit log as a core plugin: its table, migrations and the ``audit`` command."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.audit.models import AuditEntry
from core.plugins import hookimpl


@hookimpl
def ruang_models() -> Sequence[type]:
    return [AuditEntry]


@hookimpl
def ruang_migrations() -> str:
    return str(Path(__file__).parent / "migrations")


@hookimpl
def ruang_cli_commands() -> Sequence[Any]:
    from core.audit.cli import audit

    return [audit]
