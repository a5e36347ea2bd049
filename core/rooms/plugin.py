"""The rooms area as a core plugin: labs, seats, PCs, kiosks, and the ``/kiosk`` page."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.contracts import MenuItem, Permission, SocketHandler
from core.plugins import hookimpl
from core.rooms.models import Device, EnrolmentCode, EnrolmentFailure, Kiosk, Lab, Seat

HERE = Path(__file__).parent


@hookimpl
def ruang_models() -> Sequence[type]:
    return [Lab, Seat, Device, Kiosk, EnrolmentCode, EnrolmentFailure]


@hookimpl
def ruang_migrations() -> str:
    return str(HERE / "migrations")


@hookimpl
def ruang_blueprints() -> Sequence[Any]:
    from core.rooms.kiosk_views import bp as kiosk_bp
    from core.rooms.views import bp

    return [bp, kiosk_bp]


@hookimpl
def ruang_socket_handlers() -> Sequence[SocketHandler]:
    from core.rooms.events import handlers

    return handlers()


@hookimpl
def ruang_cli_commands() -> Sequence[Any]:
    from core.rooms.cli import rooms

    return [rooms]


@hookimpl
def ruang_app_created(app: Any) -> None:
    from core.rooms.kiosk_views import heartbeat

    # A kiosk token, not a browser session, authenticates the heartbeat.
    app.extensions["ruang.csrf"].exempt(heartbeat)


@hookimpl
def ruang_translations() -> str:
    return str(HERE / "translations")


@hookimpl
def ruang_permissions() -> Sequence[Permission]:
    return [
        Permission("rooms.manage", "Create and edit labs, PCs and kiosks", ("staff",)),
        Permission("rooms.view", "See labs, seat maps and kiosks",
                   ("staff", "head", "proctor")),
    ]


@hookimpl
def ruang_menu_items(user: Any) -> Sequence[MenuItem]:
    from flask_babel import gettext as _

    from core.accounts.access import can

    if not can(user, "rooms.view"):
        return []
    return [MenuItem(_("Rooms & labs"), "rooms.index", icon="building", order=60)]


# tryfirst: the core's labs exist before procedure plugins add theirs (CBT seats people).
@hookimpl(tryfirst=True)
def ruang_demo_data(session: Any) -> None:
    from core.rooms.demo import ensure_demo_labs

    ensure_demo_labs(session)
