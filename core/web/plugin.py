"""The UI shell as a core plugin: dashboard, admin pages, base layout, front-end assets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import constr

from core.contracts import MenuItem, SettingSpec
from core.plugins import hookimpl
from core.web.i18n import N_

# Settings of the shell itself, changed on /admin/settings (or `ruang settings set`).
UI_SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("ui.unit_name", constr(strip_whitespace=True, min_length=1, max_length=40),
                "BPTI", N_("Short name of the IT service unit, shown next to Ruang in the header")),
    SettingSpec("ui.institution", constr(strip_whitespace=True, max_length=120), "",
                N_("Name of the university, shown under the unit's name")),
    SettingSpec("ui.announcement", constr(strip_whitespace=True, max_length=300), "",
                N_("A notice shown at the top of every page to signed-in users (empty: none)")),
)


@hookimpl
def ruang_blueprints() -> Sequence[Any]:
    from core.web.assets import bp as assets_bp
    from core.web.views import bp

    return [bp, assets_bp]


@hookimpl
def ruang_settings() -> Sequence[SettingSpec]:
    return UI_SETTINGS


@hookimpl
def ruang_menu_items(user: Any) -> Sequence[MenuItem]:
    from flask_babel import gettext as _

    from core.accounts.access import can

    items = []
    if user is not None and getattr(user, "is_authenticated", False):
        items.append(MenuItem(_("Dashboard"), "web.dashboard", icon="home", order=0))
    if can(user, "plugins.manage"):
        items.append(MenuItem(_("Plugins"), "web.admin_plugins", icon="plugin", order=900,
                              section="admin"))
    if can(user, "settings.manage"):
        items.append(MenuItem(_("Settings"), "web.admin_settings", icon="settings", order=920,
                              section="admin"))
    if can(user, "audit.read"):
        items.append(MenuItem(_("Audit log"), "web.admin_audit", icon="shield", order=930,
                              section="admin"))
    return items


@hookimpl
def ruang_app_created(app: Any) -> None:
    from core.web.shell import install_shell

    install_shell(app)
