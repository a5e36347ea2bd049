"""Sertifikasi IT: proposals to WR II, quotas per field, public registration, certificates."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.contracts import MenuItem, Permission
from core.plugins import hookimpl

HERE = Path(__file__).parent


@hookimpl
def ruang_models() -> Sequence[type]:
    from plugins.certification.models import MODELS

    return MODELS


@hookimpl
def ruang_migrations() -> str:
    return str(HERE / "migrations")


@hookimpl
def ruang_blueprints() -> Sequence[Any]:
    from plugins.certification.views import bp

    return [bp]


@hookimpl
def ruang_permissions() -> Sequence[Permission]:
    return [Permission("certification.view", "Open the Sertifikasi pages", ("staff", "head", "approver", "proctor", "requester"))]


@hookimpl
def ruang_menu_items(user: Any) -> Sequence[MenuItem]:
    from core.accounts.access import can

    return [MenuItem("Sertifikasi", "certification.index", order=20)] if can(user, "certification.view") else []
