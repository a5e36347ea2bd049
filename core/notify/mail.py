"""The e-mail channel: plain text with an optional HTML part, over SMTP (smtplib).

Server settings come from the instance settings (``RUANG_SMTP_HOST``, ``RUANG_SMTP_PORT``,
``RUANG_SMTP_USER``, ``RUANG_SMTP_PASSWORD``, ``RUANG_SMTP_STARTTLS``, ``RUANG_MAIL_FROM``).
Port 465 means TLS from the first byte (SMTPS); otherwise ``RUANG_SMTP_STARTTLS`` upgrades
the connection before signing in. A recipient the server refuses with a 5xx code, or an
address that is not an address, fails for good; everything else is retried.
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email

from core.config import Settings
from core.contracts import Notification
from core.instance import ruang
from core.notify.service import ChannelDown, Deferred, Undeliverable, delivery_key

SMTP_TIMEOUT_S = 30.0


def recipient(address: str) -> str:
    """``address`` checked and in the form SMTP wants, or :class:`Undeliverable`."""
    try:
        checked = validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise Undeliverable(f"invalid e-mail address {address!r}: {exc}") from None
    return checked.ascii_email or checked.normalized


def message_domain(mail_from: str) -> str:
    """The domain of the sender's address, used on the right of Message-IDs."""
    address = parseaddr(mail_from)[1]
    domain = address.rpartition("@")[2]
    return domain or "localhost"


def build_message(notification: Notification, settings: Settings, to: str, key: str
                  ) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = notification.subject
    msg["From"] = settings.mail_from
    msg["To"] = to
    msg["Date"] = format_datetime(datetime.now(ZoneInfo(settings.timezone)))
    # The outbox row's key: a message sent twice keeps one identity.
    msg["Message-ID"] = f"<{key}@{message_domain(settings.mail_from)}>"
    # RFC 3834: tells vacation responders not to answer a machine.
    msg["Auto-Submitted"] = "auto-generated"
    if notification.topic:
        msg["X-Ruang-Topic"] = notification.topic
    msg.set_content(notification.body or notification.subject)
    if notification.html:
        msg.add_alternative(notification.html, subtype="html")
    return msg


def _text(exc: smtplib.SMTPResponseException) -> str:
    raw = exc.smtp_error
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return f"{exc.smtp_code} {text}".strip()


def send(msg: EmailMessage, settings: Settings, timeout: float = SMTP_TIMEOUT_S) -> None:
    """Hand ``msg`` to the configured SMTP server; raises as described in the module doc."""
    host, port = settings.smtp_host, settings.smtp_port
    where = f"{host}:{port}"
    try:
        smtp: smtplib.SMTP
        if port == 465:
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
    except smtplib.SMTPResponseException as exc:
        raise ChannelDown(f"the mail server {where} refused the connection: {_text(exc)}") from None
    except OSError as exc:
        raise ChannelDown(f"cannot reach the mail server {where}: {exc}") from None
    with smtp:
        try:
            if settings.smtp_starttls and port != 465:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
        except smtplib.SMTPResponseException as exc:
            raise ChannelDown(f"the mail server {where} refused us: {_text(exc)}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelDown(f"cannot set up the session with {where}: {exc}") from None
        try:
            smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            reason = f"{code} {text.decode('utf-8', 'replace')}"
            if 500 <= code < 600:
                raise Undeliverable(f"the mail server refused {msg['To']}: {reason}") from None
            raise Deferred(f"the mail server deferred {msg['To']}: {reason}") from None
        except smtplib.SMTPDataError as exc:
            if 500 <= exc.smtp_code < 600:
                raise Undeliverable(f"the mail server rejected the message: {_text(exc)}") from None
            raise Deferred(f"the mail server deferred the message: {_text(exc)}") from None
        except smtplib.SMTPSenderRefused as exc:
            # Our own address is refused: a setting to fix, not this message's fault.
            raise ChannelDown(f"the mail server refused the sender {exc.sender!r} "
                              f"(RUANG_MAIL_FROM): {_text(exc)}") from None
        except smtplib.SMTPServerDisconnected as exc:
            raise ChannelDown(f"the mail server {where} hung up: {exc}") from None
        except OSError as exc:
            raise Deferred(f"sending to {where} failed: {exc}") from None


class EmailChannel:
    """Delivers notifications that carry an e-mail address."""

    name = "email"

    def can_deliver(self, notification: Notification) -> bool:
        return bool(notification.email)

    def deliver(self, notification: Notification) -> None:
        settings = ruang().settings
        to = recipient(notification.email)
        send(build_message(notification, settings, to, delivery_key()), settings)
