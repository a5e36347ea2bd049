"""Dashboard and the admin page that switches plugins."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from core.accounts.access import require
from core.instance import ruang
from core.plugins import PluginError

bp = Blueprint("web", __name__, template_folder="templates")


@bp.route("/")
@require("dashboard.view")
def dashboard() -> str:
    r = ruang()
    with r.db.session() as session:
        widgets = r.plugins.collect("ruang_dashboard_widgets", user=current_user, session=session)
    widgets.sort(key=lambda w: (w.order, w.title))
    return render_template("web/dashboard.html", widgets=widgets)


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
