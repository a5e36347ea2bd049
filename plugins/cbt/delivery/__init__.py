"""Exam delivery: encrypted papers to lab kiosks, answers over Socket.IO, the server's clock.

The exam path of DESIGN.md from the kiosk's sign-in to the submission, built on the
authoring side of the plugin (exams, candidates, attempts, sealed content). The protocol
is written down in ``docs/protocol.md``. ``plugins/cbt/__init__.py`` registers what this
package brings through the functions below.
"""

from __future__ import annotations

from typing import Any

from core.contracts import BackgroundJob, MenuItem, Permission, SocketHandler


def tables() -> list[type]:
    from plugins.cbt.delivery.models import MODELS

    return MODELS


def blueprints() -> list[Any]:
    from plugins.cbt.delivery.views import bp

    return [bp]


def socket_handlers() -> list[SocketHandler]:
    from plugins.cbt.delivery.sockets import handlers

    return handlers()


def background_jobs() -> list[BackgroundJob]:
    from plugins.cbt.delivery.jobs import jobs

    return jobs()


def permissions() -> list[Permission]:
    return [Permission("cbt.proctor", "Run exam rooms: show the token, start, reset logins",
                       ("proctor", "staff", "head"))]


def menu_items(user: Any) -> list[MenuItem]:
    from core.accounts.access import can
    from plugins.cbt.delivery.texts import t as _

    if not can(user, "cbt.proctor"):
        return []
    return [MenuItem(_("Exam rooms"), "cbt_delivery.rooms", order=24)]
