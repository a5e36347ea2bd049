"""Accounts as a core plugin: sign-in pages, the ``users`` command, account permissions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.accounts.models import LoginFailure, User
from core.contracts import Permission
from core.plugins import hookimpl


@hookimpl
def ruang_models() -> Sequence[type]:
    return [User, LoginFailure]


@hookimpl
def ruang_blueprints() -> Sequence[Any]:
    from core.accounts.views import bp

    return [bp]


@hookimpl
def ruang_cli_commands() -> Sequence[Any]:
    from core.accounts.cli import users

    return [users]


@hookimpl
def ruang_permissions() -> Sequence[Permission]:
    return [
        Permission("users.manage", "Create, change and deactivate accounts", ("admin",)),
        Permission("plugins.manage", "Switch plugins on and off", ("admin",)),
        Permission("settings.manage", "Change settings and record formats", ("admin",)),
        Permission("audit.read", "Read and verify the audit log", ("admin", "head")),
        Permission("dashboard.view", "See the dashboard",
                   ("staff", "head", "approver", "proctor", "requester", "candidate")),
    ]


@hookimpl(tryfirst=True)
def ruang_demo_data(session: Any) -> None:
    from core.demo import ensure_demo_users

    ensure_demo_users(session)


@hookimpl
def ruang_migrations() -> str:
    from pathlib import Path

    return str(Path(__file__).parent / "migrations")
