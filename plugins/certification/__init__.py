"""Sertifikasi IT."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.contracts import MenuItem, Permission
from core.plugins import hookimpl


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
