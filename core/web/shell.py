"""What every page gets: the navigation of enabled plugins and a CSRF token."""

from __future__ import annotations

from typing import Any

from flask import Flask, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from core.contracts import MenuItem
from core.instance import ruang


def navigation(user: Any) -> dict[str, list[dict[str, Any]]]:
    """Menu entries of enabled plugins for ``user``, grouped by section and ordered."""
    host = ruang().plugins
    who = user if getattr(user, "is_authenticated", False) else None
    items: list[MenuItem] = host.collect("ruang_menu_items", user=who)
    sections: dict[str, list[dict[str, Any]]] = {}
    for item in sorted(items, key=lambda i: (i.order, i.label)):
        try:
            href = url_for(item.endpoint)
        except Exception:  # noqa: S112 - an entry whose endpoint is gone is skipped
            continue
        sections.setdefault(item.section, []).append(
            {"label": item.label, "href": href, "icon": item.icon,
             "active": request.endpoint == item.endpoint}
        )
    return sections


def install_shell(app: Flask) -> None:
    @app.context_processor
    def _shell() -> dict[str, Any]:
        return {
            "nav": navigation(current_user),
            "csrf_token": generate_csrf,
            "current_user": current_user,
        }
