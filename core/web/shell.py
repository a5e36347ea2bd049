"""What every page gets: navigation of enabled plugins, the unit's name, language, CSRF."""

from __future__ import annotations

from typing import Any

from flask import Flask, request, url_for
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import default_exceptions

from core.contracts import MenuItem
from core.instance import ruang
from core.web.assets import asset_url

LANGUAGES: tuple[tuple[str, str, str], ...] = (
    # code, short label, name in its own language
    ("id", "ID", "Bahasa Indonesia"),
    ("en", "EN", "English"),
)

# Names of the icons in static/icons.svg that a MenuItem may ask for.
ICONS = frozenset({
    "home", "plugin", "settings", "shield", "records", "exam", "lab", "helpdesk", "training",
    "certificate", "calendar", "users", "chart", "kiosk", "file", "user", "globe", "logout",
    "check", "alert", "search", "clock", "mail", "book", "building", "list",
})

# Werkzeug's stock explanations are English; the error page shows its own words instead.
GENERIC_ERROR_TEXTS = frozenset(
    str(exc.description) for exc in default_exceptions.values() if exc.description
)


def navigation(user: Any) -> dict[str, list[dict[str, Any]]]:
    """Menu entries of enabled plugins for ``user``, grouped by section and ordered."""
    host = ruang().plugins
    who = user if getattr(user, "is_authenticated", False) else None
    items: list[MenuItem] = host.collect("ruang_menu_items", user=who)
    sections: dict[str, list[dict[str, Any]]] = {}
    current = request.path.rstrip("/") or "/"
    for item in sorted(items, key=lambda i: (i.order, i.label)):
        try:
            href = url_for(item.endpoint)
        except Exception:  # noqa: S112 - an entry whose endpoint is gone is skipped
            continue
        target = href.rstrip("/") or "/"
        active = request.endpoint == item.endpoint or (
            target != "/" and current.startswith(target + "/"))
        sections.setdefault(item.section, []).append(
            {"label": item.label, "href": href, "endpoint": item.endpoint,
             "icon": item.icon if item.icon in ICONS else "",
             "initial": (item.label[:1] or "?").upper(), "active": active}
        )
    return sections


def unit_settings() -> dict[str, str]:
    """The ``ui.*`` settings, with their defaults when the database cannot be read.

    The error page uses the layout too, so a broken database must not break it again.
    """
    from core import settings_store
    from core.web.plugin import UI_SETTINGS

    r = ruang()
    values = {spec.key: str(spec.default) for spec in UI_SETTINGS}
    try:
        with r.db.session() as session:
            for key in values:
                values[key] = str(settings_store.get(session, r.plugins, key) or "")
    except (SQLAlchemyError, settings_store.SettingError):
        pass
    return values


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else ruang().settings.default_locale


def back_path() -> str:
    """Where the language switch returns to: this page, with its query string."""
    qs = request.query_string.decode("utf-8", "replace")
    return request.path + ("?" + qs if qs else "")


def install_shell(app: Flask) -> None:
    from core.accounts.roles import DIVISION_LABELS, ROLE_LABELS, Division, Role

    def role_label(user: Any) -> str:
        try:
            label = ROLE_LABELS[Role(user.role)]
        except (ValueError, AttributeError):
            return ""
        division = getattr(user, "division", None)
        if division:
            try:
                head = "Kabag. " if getattr(user, "is_division_head", False) else ""
                return f"{head}{Division(division).value}"
            except ValueError:
                pass
        return label

    @app.context_processor
    def _shell() -> dict[str, Any]:
        ui = unit_settings()
        return {
            "nav": navigation(current_user),
            "csrf_token": generate_csrf,
            "current_user": current_user,
            "asset_url": asset_url,
            "ui": ui,
            "languages": LANGUAGES,
            "current_language": current_language(),
            "back_path": back_path,
            "role_label": role_label,
            "division_labels": DIVISION_LABELS,
            "ruang_version": ruang().plugins.get("web").version,
            "generic_error_texts": GENERIC_ERROR_TEXTS,
        }
