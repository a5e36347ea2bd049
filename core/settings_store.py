"""Settings staff change at run time, declared by plugins through ``ruang_settings``.

Values are validated against the declared type (with pydantic) before they are stored;
a bad value raises :class:`SettingError` naming the key and the reason, and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.contracts import SettingSpec
from core.db import Base, utcnow
from core.plugins import PluginHost


class SettingError(ValueError):
    pass


class StoredSetting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[int | None] = mapped_column(default=None)


def specs(host: PluginHost) -> dict[str, SettingSpec]:
    out: dict[str, SettingSpec] = {}
    for _plugin, spec in host.collect_by_plugin("ruang_settings", enabled_only=False):
        out[spec.key] = spec
    return out


def get(session: Session, host: PluginHost, key: str) -> Any:
    spec = specs(host).get(key)
    if spec is None:
        raise SettingError(f"unknown setting {key!r}")
    row = session.get(StoredSetting, key)
    return spec.default if row is None else row.value


def parse(spec: SettingSpec, raw: Any) -> Any:
    """Validate ``raw`` (a string from a form or the CLI, or a JSON value) against ``spec``."""
    adapter: TypeAdapter[Any] = TypeAdapter(spec.type)
    try:
        if isinstance(raw, str) and spec.type is not str:
            if raw[:1] in "[{\"":
                return adapter.validate_json(raw)
            return adapter.validate_strings(raw)
        return adapter.validate_python(raw)
    except ValidationError as exc:
        msg = exc.errors(include_url=False)[0]["msg"]
        raise SettingError(f"{spec.key}: {msg} (got {raw!r})") from None


def set_value(session: Session, host: PluginHost, key: str, raw: Any, actor: Any = None) -> Any:
    from core.audit.service import record as audit

    spec = specs(host).get(key)
    if spec is None:
        known = ", ".join(sorted(specs(host))) or "none"
        raise SettingError(f"unknown setting {key!r}; known settings: {known}")
    value = parse(spec, raw)
    value = TypeAdapter(spec.type).dump_python(value, mode="json")
    row = session.get(StoredSetting, key)
    old = None if row is None else row.value
    if row is None:
        row = StoredSetting(key=key, value=value)
        session.add(row)
    row.value = value
    row.changed_at = utcnow()
    row.changed_by = getattr(actor, "id", None)
    audit(session, "setting.change", actor=actor, object_type="setting", object_id=key,
          details={"old": old, "new": value})
    return value
