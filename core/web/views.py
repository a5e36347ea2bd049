"""Dashboard and the admin pages: plugins, run-time settings, the audit log."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator
from sqlalchemy import Select, func, select
from werkzeug.wrappers import Response

from core import settings_store
from core.accounts.access import require
from core.audit.models import AuditEntry
from core.audit.service import record as audit
from core.audit.service import verify
from core.contracts import SettingSpec
from core.instance import ruang
from core.plugins import PluginError
from core.web.validation import field_messages, first_message

bp = Blueprint("web", __name__, template_folder="templates")


@bp.route("/")
@require("dashboard.view")
def dashboard() -> str:
    r = ruang()
    with r.db.session() as session:
        widgets = r.plugins.collect("ruang_dashboard_widgets", user=current_user, session=session)
    widgets.sort(key=lambda w: (w.order, w.title))
    return render_template("web/dashboard.html", widgets=widgets)


# -- plugins ---------------------------------------------------------------------------------


@bp.route("/admin/plugins")
@require("plugins.manage")
def admin_plugins() -> str:
    host = ruang().plugins
    host.refresh(force=True)
    rows = [(p, host.is_enabled(p.name)) for p in host.plugins.values() if p.switchable]
    return render_template("web/plugins.html", rows=rows)


@bp.route("/admin/plugins/<name>", methods=["POST"])
@require("plugins.manage")
def toggle_plugin(name: str) -> Response:
    action = request.form.get("action")
    if action not in ("enable", "disable"):
        abort(400, description=_("Unknown action."))
    r = ruang()
    try:
        with r.db.transaction() as session:
            r.plugins.set_enabled(session, name, action == "enable", actor=current_user)
    except PluginError as exc:
        abort(404 if "no plugin" in str(exc) else 400, description=str(exc))
    flash(_("Plugin %(name)s is now %(state)s.", name=name,
            state=_("enabled") if action == "enable" else _("disabled")), "success")
    return redirect(url_for("web.admin_plugins"))


# -- settings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingRow:
    spec: SettingSpec
    plugin: str
    plugin_enabled: bool
    value: Any
    shown: str  # the value as the form shows it
    widget: str  # "text", "number", "bool", "json"
    is_default: bool
    group: str  # the plugin's name, or "" for the core
    error: str = ""


def _schema_type(spec: SettingSpec) -> str:
    schema = TypeAdapter(spec.type).json_schema()
    kind = schema.get("type")
    return str(kind) if isinstance(kind, str) else "json"


def _widget(spec: SettingSpec) -> str:
    kind = _schema_type(spec)
    if kind == "boolean":
        return "bool"
    if kind in ("integer", "number"):
        return "number"
    if kind == "string":
        return "text"
    return "json"


def _shown(value: Any, widget: str) -> str:
    if widget == "bool":
        return "true" if value else "false"
    if widget == "json":
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def _setting_rows(rejected: dict[str, tuple[str, str]] | None = None) -> list[SettingRow]:
    r = ruang()
    rejected = rejected or {}
    owners = r.plugins.collect_by_plugin("ruang_settings", enabled_only=False)
    rows: list[SettingRow] = []
    with r.db.session() as session:
        for plugin, spec in owners:
            value = settings_store.get(session, r.plugins, spec.key)
            widget = _widget(spec)
            default = TypeAdapter(spec.type).dump_python(spec.default, mode="json")
            shown, error = rejected.get(spec.key, (_shown(value, widget), ""))
            group = "" if r.plugins.get(plugin).origin == "core" else plugin
            rows.append(SettingRow(spec, plugin, r.plugins.is_enabled(plugin), value, shown,
                                   widget, value == default, group, error))
    rows.sort(key=lambda row: (row.group, row.spec.key))
    return rows


def _explain_setting_error(spec: SettingSpec, raw: Any) -> str:
    """Why ``raw`` is refused, in the reader's language (validated as settings_store does)."""
    adapter: TypeAdapter[Any] = TypeAdapter(spec.type)
    try:
        if isinstance(raw, str) and raw[:1] in "[{\"":
            adapter.validate_json(raw)
        elif isinstance(raw, str):
            adapter.validate_strings(raw)
        else:
            adapter.validate_python(raw)
    except ValidationError as exc:
        return first_message(exc.errors(include_url=False))
    return ""


class SettingForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=False)

    key: str = Field(min_length=1, max_length=120)
    value: str = Field(default="", max_length=20_000)
    action: str = Field(default="save", pattern="^(save|reset)$")


@bp.route("/admin/settings")
@require("settings.manage")
def admin_settings() -> str:
    return render_template("web/settings.html", rows=_setting_rows())


@bp.route("/admin/settings", methods=["POST"])
@require("settings.manage")
def change_setting() -> Response | tuple[str, int]:
    try:
        form = SettingForm.model_validate(request.form.to_dict())
    except ValidationError:
        abort(400, description=_("The form was incomplete; nothing was changed."))
    r = ruang()
    spec = settings_store.specs(r.plugins).get(form.key)
    if spec is None:
        abort(404, description=_("There is no setting named %(key)s.", key=form.key))
    raw: Any = form.value
    if form.action == "reset":
        raw = TypeAdapter(spec.type).dump_python(spec.default, mode="json")
    elif _widget(spec) == "text" and spec.type is not str:
        # For a non-string type shown as text (e.g. ``str | None``), a value is passed as
        # JSON so that one starting with a quote or a bracket is taken literally. A plain
        # ``str`` setting is stored as typed: settings_store does not parse it.
        raw = json.dumps(form.value)
    try:
        with r.db.transaction() as session:
            stored = settings_store.set_value(session, r.plugins, spec.key, raw,
                                              actor=current_user)
    except settings_store.SettingError as exc:
        reason = _explain_setting_error(spec, raw) or str(exc).removeprefix(f"{spec.key}: ")
        flash(_("%(key)s was not changed: %(reason)s", key=spec.key, reason=reason), "error")
        rows = _setting_rows({spec.key: (form.value, reason)})
        return render_template("web/settings.html", rows=rows), 400
    flash(_("%(key)s is now %(value)s.", key=spec.key,
            value=json.dumps(stored, ensure_ascii=False)), "success")
    return redirect(url_for("web.admin_settings") + f"#setting-{spec.key}")


# -- audit log -------------------------------------------------------------------------------


class AuditFilter(BaseModel):
    """The audit page's query string. Empty fields filter nothing."""

    action: str = Field(default="", max_length=100)
    actor: str = Field(default="", max_length=200)
    object_type: str = Field(default="", max_length=60)
    object_id: str = Field(default="", max_length=100)
    since: date | None = None
    until: date | None = None
    before: int | None = Field(default=None, ge=1)
    limit: int = Field(default=50, ge=1, le=500)

    @field_validator("action", "actor", "object_type", "object_id", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("since", "until", "before", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    def apply(self, stmt: Select[Any], tz: ZoneInfo) -> Select[Any]:
        if self.action:
            # "plugin." finds every plugin action; "plugin.enable" just that one.
            if self.action.endswith("."):
                stmt = stmt.where(AuditEntry.action.startswith(self.action, autoescape=True))
            else:
                stmt = stmt.where(AuditEntry.action == self.action)
        if self.actor:
            stmt = stmt.where(AuditEntry.actor_name == self.actor)
        if self.object_type:
            stmt = stmt.where(AuditEntry.object_type == self.object_type)
        if self.object_id:
            stmt = stmt.where(AuditEntry.object_id == self.object_id)
        if self.since:
            stmt = stmt.where(AuditEntry.at >= datetime.combine(self.since, time(), tz))
        if self.until:
            end = datetime.combine(self.until + timedelta(days=1), time(), tz)
            stmt = stmt.where(AuditEntry.at < end)
        return stmt

    def query_args(self, **changes: Any) -> dict[str, Any]:
        data = self.model_dump(exclude_defaults=True)
        data.update(changes)
        return {k: v for k, v in data.items() if v not in (None, "")}


def _audit_page(verdict: dict[str, Any] | None = None, status: int = 200) -> tuple[str, int]:
    r = ruang()
    tz = ZoneInfo(r.settings.timezone)
    errors: list[str] = []
    try:
        filters = AuditFilter.model_validate(request.args.to_dict())
    except ValidationError as exc:
        errors = field_messages(exc, {
            "action": _("Action"), "actor": _("Who"), "object_type": _("Object type"),
            "object_id": _("Object"), "since": _("From"), "until": _("Until"),
            "before": _("Older entries"), "limit": _("Number of entries"),
        })
        filters = AuditFilter()
        status = 400
    with r.db.session() as session:
        stmt = filters.apply(select(AuditEntry), tz)
        if filters.before:
            stmt = stmt.where(AuditEntry.id < filters.before)
        entries = list(session.scalars(stmt.order_by(AuditEntry.id.desc())
                                       .limit(filters.limit + 1)))
        total = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
        actions = list(session.scalars(select(AuditEntry.action).distinct()
                                       .order_by(AuditEntry.action)))
        object_types = [t for t in session.scalars(
            select(AuditEntry.object_type).distinct().order_by(AuditEntry.object_type)) if t]
    more = len(entries) > filters.limit
    entries = entries[:filters.limit]
    older = filters.query_args(before=entries[-1].id) if more and entries else None
    html = render_template(
        "web/audit.html", entries=entries, filters=filters, errors=errors, total=total,
        actions=actions, object_types=object_types, older=older, verdict=verdict,
        local=lambda moment: moment.astimezone(tz), tz_name=r.settings.timezone,
        details=_detail_pairs,
    )
    return html, status


def _detail_pairs(details: dict[str, Any] | None, limit: int = 120) -> list[tuple[str, str]]:
    """An entry's details as short ``(key, value)`` pairs for the table."""
    pairs = []
    for key, value in sorted((details or {}).items()):
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        pairs.append((str(key), text if len(text) <= limit else text[:limit - 1] + "…"))
    return pairs


@bp.route("/admin/audit")
@require("audit.read")
def admin_audit() -> tuple[str, int]:
    return _audit_page()


def _reason_text(reason: str) -> str:
    """The audit service's reason, in the reader's language."""
    if reason.startswith("missing"):
        return _("It is missing: the entry was deleted, so the chain has a gap (%(detail)s).",
                 detail=reason)
    if "prev_hash" in reason:
        return _("It does not follow the entry before it: entries were removed, reordered "
                 "or rewritten.")
    if "altered" in reason:
        return _("It was altered after it was written: its hash does not match its content.")
    return reason


@bp.route("/admin/audit/verify", methods=["POST"])
@require("audit.read")
def verify_audit() -> tuple[str, int]:
    r = ruang()
    with r.db.session() as session:
        problem = verify(session)
        count = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
        head = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    verdict: dict[str, Any] = {
        "intact": problem is None, "count": count, "head": head or "",
        "entry_id": problem.entry_id if problem else None,
        "reason": _reason_text(problem.reason) if problem else "",
    }
    # Who checked the chain, and what they found, is itself worth keeping.
    with r.db.transaction() as session:
        audit(session, "audit.verify", actor=current_user, object_type="audit_log",
              details={"intact": verdict["intact"], "entries": count,
                       "first_bad": verdict["entry_id"]})
    return _audit_page(verdict)
