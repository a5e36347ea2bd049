"""The UI shell as a core plugin: dashboard, admin pages, base layout."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.contracts import MenuItem
from core.plugins import hookimpl


@hookimpl
def ruang_blueprints() -> Sequence[Any]:
    from core.web.views import bp

    return [bp]


@hookimpl
def ruang_menu_items(user: Any) -> Sequence[MenuItem]:
    from core.accounts.access import can

    items = []
    if user is not None and getattr(user, "is_authenticated", False):
        items.append(MenuItem("Dasbor", "web.dashboard", order=0))
    if can(user, "plugins.manage"):
        items.append(MenuItem("Plugin", "web.admin_plugins", order=900, section="admin"))
    return items


@hookimpl
def ruang_app_created(app: Any) -> None:
    from core.web.shell import install_shell

    install_shell(app)
