"""Notifications as a core plugin: the outbox, its channels and jobs, the outbox page.

The e-mail and webhook channels are offered through ``ruang_notification_channels`` like
any plugin's would be, and delivery runs as a background job every 2 seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import conint, constr

from core.contracts import BackgroundJob, MenuItem, NotificationChannel, SettingSpec, Widget
from core.notify.models import OutboxMessage
from core.plugins import hookimpl

HERE = Path(__file__).parent
DELIVERY_INTERVAL_S = 2.0

def _settings() -> tuple[SettingSpec, ...]:
    from core.notify import service
    from core.notify.webhook import CountryCode, WebhookUrl

    return (
        SettingSpec("notify.webhook_url", WebhookUrl, "",
                    "Address of the WhatsApp/SMS gateway that gets notifications for phone "
                    "numbers as signed JSON (empty: off)"),
        SettingSpec("notify.webhook_secret", constr(strip_whitespace=True, max_length=200), "",
                    "Shared secret for the X-Ruang-Signature header (HMAC-SHA256) the gateway "
                    "checks"),
        SettingSpec("notify.webhook_country_code", CountryCode, "62",
                    "Country calling code put in front of phone numbers that start with 0"),
        SettingSpec("notify.max_attempts", conint(ge=1, le=100), service.DEFAULT_MAX_ATTEMPTS,
                    "How many times a notification is tried before it is marked failed"),
        SettingSpec("notify.retry_base_s", conint(ge=1, le=86400), service.DEFAULT_RETRY_BASE_S,
                    "Seconds before the first retry; each further retry waits twice as long"),
        SettingSpec("notify.keep_days", conint(ge=0, le=3650), service.DEFAULT_KEEP_DAYS,
                    "Days sent and failed notifications stay in the outbox (0: for ever)"),
    )


@hookimpl
def ruang_models() -> Sequence[type]:
    return [OutboxMessage]


@hookimpl
def ruang_migrations() -> str:
    return str(HERE / "migrations")


@hookimpl
def ruang_blueprints() -> Sequence[Any]:
    from core.notify.views import bp

    return [bp]


@hookimpl
def ruang_cli_commands() -> Sequence[Any]:
    from core.notify.cli import notify

    return [notify]


@hookimpl
def ruang_translations() -> str:
    return str(HERE / "translations")


@hookimpl
def ruang_settings() -> Sequence[SettingSpec]:
    return _settings()


@hookimpl
def ruang_notification_channels() -> Sequence[NotificationChannel]:
    from core.notify.mail import EmailChannel
    from core.notify.webhook import WebhookChannel

    return [EmailChannel(), WebhookChannel()]


def _deliver() -> None:
    from core.notify.service import deliver_due

    deliver_due()


def _purge() -> None:
    from core.notify.service import purge_old

    purge_old()


@hookimpl
def ruang_background_jobs() -> Sequence[BackgroundJob]:
    return [
        BackgroundJob("deliver", DELIVERY_INTERVAL_S, _deliver),
        BackgroundJob("purge", 3600.0, _purge),
    ]


@hookimpl
def ruang_menu_items(user: Any) -> Sequence[MenuItem]:
    from flask_babel import gettext as _

    from core.accounts.access import can

    if not can(user, "settings.manage"):
        return []
    return [MenuItem(_("Outbox"), "notify.outbox", icon="mail", order=915, section="admin")]


@hookimpl
def ruang_dashboard_widgets(user: Any, session: Any) -> Sequence[Widget]:
    """Admins see failed notifications on the dashboard, so nobody waits for a lost mail."""
    from flask_babel import gettext as _
    from flask_babel import ngettext
    from markupsafe import Markup

    from core.accounts.access import can
    from core.notify.service import counts

    if not can(user, "settings.manage"):
        return []
    failed = counts(session)["failed"]
    if not failed:
        return []
    text = ngettext("%(num)d notification could not be sent.",
                    "%(num)d notifications could not be sent.", failed)
    html = Markup('<p class="widget-alert">{}</p>').format(text)
    return [Widget(_("Outbox"), str(html), order=5, link_endpoint="notify.outbox")]
