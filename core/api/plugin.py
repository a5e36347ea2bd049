"""The JSON API for integrations as a core plugin: tokens, ``/api/v1``, OpenAPI, CLI."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.api.models import ApiToken
from core.contracts import ApiRoute, MenuItem, Permission
from core.plugins import hookimpl

HERE = Path(__file__).parent


@hookimpl
def ruang_models() -> Sequence[type]:
    return [ApiToken]


@hookimpl
def ruang_migrations() -> str:
    return str(HERE / "migrations")


@hookimpl
def ruang_blueprints() -> Sequence[Any]:
    from core.api.token_pages import bp

    return [bp]


@hookimpl
def ruang_app_created(app: Any) -> None:
    # The API blueprint is built here rather than in ruang_blueprints because it needs the
    # app's plugin host to collect every plugin's routes.
    from core.api.views import install_api

    install_api(app)


@hookimpl
def ruang_api_routes() -> Sequence[ApiRoute]:
    from core.api.endpoints import ROUTES

    return ROUTES


@hookimpl
def ruang_permissions() -> Sequence[Permission]:
    return [Permission("api.tokens", "Create and revoke personal API tokens",
                       ("staff", "head", "admin"))]


@hookimpl
def ruang_cli_commands() -> Sequence[Any]:
    from core.api.cli import tokens_group

    return [tokens_group]


@hookimpl
def ruang_translations() -> str:
    return str(HERE / "translations")


@hookimpl
def ruang_menu_items(user: Any) -> Sequence[MenuItem]:
    from flask_babel import gettext as _

    from core.accounts.access import can

    if not can(user, "api.tokens"):
        return []
    return [MenuItem(_("API tokens"), "api_tokens.tokens_page", icon="shield", order=940,
                     section="admin")]
