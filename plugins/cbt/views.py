"""Staff pages of the CBT plugin: banks, items (with a live preview), exams, candidates.

Thin: every change goes through ``bank``, ``formats``, ``exams`` and ``candidates`` inside
one ``db.transaction()``; these views only read forms, call them and show the result.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from core.accounts.access import require
from core.instance import ruang
from plugins.cbt import bank as banks
from plugins.cbt import candidates as roster
from plugins.cbt import exams as exam_service
from plugins.cbt import formats, forms, uploads
from plugins.cbt.content import ITEM_TYPES, TYPE_LABELS
from plugins.cbt.models import Asset, Bank, Category, Exam, Item
from plugins.cbt.render import render_item

bp = Blueprint("cbt", __name__, url_prefix="/cbt", template_folder="templates",
               static_folder="static", static_url_path="/static")

MAX_UPLOAD = formats.MAX_FILE_BYTES


def N_(text: str) -> str:  # noqa: N802 - the name pybabel extracts
    return text


# Words these pages translate from a variable (``content.TYPE_LABELS``, exam states): named
# here so that ``scripts/i18n-update`` extracts them and keeps their translations.
SHOWN_FROM_DATA = (
    N_("Single choice"), N_("Multiple response"), N_("True/false"), N_("Short answer"),
    N_("Numeric"), N_("Matching"), N_("Essay"), N_("Draft"), N_("Published"), N_("Closed"),
)


def _type_labels() -> dict[str, str]:
    return {t: _(TYPE_LABELS[t]) for t in ITEM_TYPES}


def _asset_url(aid: int) -> str:
    return url_for("cbt.asset", asset_id=aid)


T = TypeVar("T")


def _one(session: Any, model: type[T], object_id: int) -> T:
    obj = session.get(model, object_id)
    if obj is None:
        abort(404)
    return cast(T, obj)


def _get(model: type, object_id: int) -> Any:
    with ruang().db.session() as session:
        obj = session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def _upload() -> tuple[bytes, str]:
    file = request.files.get("file")
    if file is None or not file.filename:
        return b"", ""
    data = file.read(MAX_UPLOAD + 1)
    return data, file.filename


@bp.route("/")
@require("cbt.view")
def index() -> str:
    from core.accounts.access import can

    counts: dict[str, int] = {}
    if can(current_user, "cbt.author"):
        with ruang().db.session() as session:
            counts = {"banks": len(banks.banks(session)), "exams": len(exam_service.exams(session))}
    return render_template("cbt/index.html", counts=counts)


# -- banks ---------------------------------------------------------------------------------


@bp.route("/banks", methods=["GET", "POST"])
@require("cbt.author")
def bank_list() -> str | WerkzeugResponse:
    if request.method == "POST":
        try:
            with ruang().db.transaction() as session:
                bank = banks.create_bank(session, request.form.get("name", ""),
                                         request.form.get("description", ""), current_user)
        except banks.BankError as exc:
            flash(str(exc), "error")
        else:
            flash(_("Bank %(name)s created.", name=bank.name), "success")
            return redirect(url_for("cbt.bank_detail", bank_id=bank.id))
    with ruang().db.session() as session:
        rows = banks.banks(session)
        counts = banks.bank_counts(session)
    return render_template("cbt/banks.html", banks=rows, counts=counts)


@bp.route("/banks/<int:bank_id>")
@require("cbt.author")
def bank_detail(bank_id: int) -> str:
    bank = _get(Bank, bank_id)
    args = request.args
    category_id = args.get("category", type=int)
    with ruang().db.session() as session:
        items = banks.list_items(session, bank, category_id=category_id,
                                 tag=args.get("tag") or None,
                                 item_type=args.get("type") or None, text=args.get("q") or None,
                                 archived=args.get("archived") == "1")
        cats = banks.categories(session, bank)
        tag_rows = banks.tags(session, bank)
    return render_template("cbt/bank.html", bank=bank, items=items, categories=cats,
                           tags=tag_rows, types=_type_labels(), args=args,
                           cat_names={c.id: c.name for c in cats})


@bp.route("/template.xlsx")
@require("cbt.author")
def xlsx_template() -> Response:
    from plugins.cbt.formats import xlsx

    return Response(xlsx.template(), headers={
        "Content-Disposition": 'attachment; filename="template-soal-ruang.xlsx"'},
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/banks/<int:bank_id>/export")
@require("cbt.author")
def bank_export(bank_id: int) -> Response:
    bank = _get(Bank, bank_id)
    fmt = request.args.get("format", "gift")
    if fmt not in formats.EXPORT_FORMATS:
        abort(400)
    with ruang().db.session() as session:
        data = formats.export_bank(session, bank, fmt)
    name = f"{bank.name}.{'gift.txt' if fmt == 'gift' else 'qti.zip'}".replace('"', "")
    mime = "text/plain; charset=utf-8" if fmt == "gift" else "application/zip"
    return Response(data, mimetype=mime,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/banks/<int:bank_id>/import", methods=["POST"])
@require("cbt.author")
def bank_import(bank_id: int) -> str | WerkzeugResponse:
    """Step 1 uploads and shows the dry run; step 2 (``token``) imports the good items."""
    bank = _get(Bank, bank_id)
    db = ruang().db
    token = request.form.get("token", "")
    if token:
        with db.session() as session:
            stashed = uploads.take(session, bank, token)
        if stashed is None:
            flash(_("The uploaded file has expired; upload it again."), "error")
            return redirect(url_for("cbt.bank_detail", bank_id=bank.id))
        data, meta = stashed
        report = formats.preview(data, meta["format"])
        try:
            with db.transaction() as session:
                formats.import_items(session, _one(session, Bank, bank.id), report,
                                     current_user)
        except banks.BankError as exc:
            flash(_("Nothing was imported: %(reason)s", reason=str(exc)), "error")
            return redirect(url_for("cbt.bank_detail", bank_id=bank.id))
        with db.session() as session:
            uploads.take(session, bank, token, remove=True)
        flash(_("%(n)s item(s) imported from %(file)s.", n=report.imported,
                file=meta["filename"]), "success")
        return redirect(url_for("cbt.bank_detail", bank_id=bank.id))
    data, filename = _upload()
    if not data:
        flash(_("Choose a file to import."), "error")
        return redirect(url_for("cbt.bank_detail", bank_id=bank.id))
    fmt = request.form.get("format") or formats.detect(filename, data)
    if fmt not in formats.FORMATS:
        abort(400)
    try:
        report = formats.preview(data, fmt)
    except formats.FormatError as exc:
        report = formats.Report(format=fmt, dry_run=True, items=[],
                                problems=[formats.Problem(0, str(exc))])
    with db.session() as session:
        token = uploads.stash(session, bank, data, filename, fmt) if report.items else ""
    return render_template("cbt/import_preview.html", bank=bank, report=report, token=token,
                           filename=filename, types=_type_labels())


# -- items ---------------------------------------------------------------------------------


def _editor(bank: Bank, values: dict[str, Any], item: Item | None = None,
            errors: list[str] | None = None, data: Any = None) -> str:
    with ruang().db.session() as session:
        cats = [c.name for c in banks.categories(session, bank)]
        history = banks.versions(session, item) if item else []
    return render_template("cbt/item_edit.html", bank=bank, item=item, v=values,
                           errors=errors or [], types=_type_labels(), categories=cats,
                           max_choices=forms.MAX_CHOICES, versions=history, data=data)


@bp.route("/banks/<int:bank_id>/items/new", methods=["GET", "POST"])
@require("cbt.author")
def item_new(bank_id: int) -> str | WerkzeugResponse:
    bank = _get(Bank, bank_id)
    if request.method == "GET":
        item_type = request.args.get("type", "single")
        return _editor(bank, forms.blank(item_type if item_type in ITEM_TYPES else "single"))
    try:
        draft = forms.to_draft(forms.from_request(request.form))
        with ruang().db.transaction() as session:
            item = banks.create_item(session, _one(session, Bank, bank.id), draft, current_user)
    except (forms.FormError, banks.BankError) as exc:
        errs = exc.errors if isinstance(exc, forms.FormError) else [str(exc)]
        return _editor(bank, _posted(), errors=errs)
    flash(_("Item saved."), "success")
    if request.form.get("next") == "new":
        return redirect(url_for("cbt.item_new", bank_id=bank.id, type=draft.type))
    return redirect(url_for("cbt.item_edit", item_id=item.id))


def _posted() -> dict[str, Any]:
    values = forms.blank(request.form.get("type", "single"))
    for key in values:
        if key in ("choices", "weights"):
            values[key] = [request.form.get(f"{key[:-1]}_{i}", "")
                           for i in range(1, forms.MAX_CHOICES + 1)]
        elif key == "correct":
            values[key] = request.form.getlist("correct")
        elif key == "case_sensitive":
            values[key] = bool(request.form.get(key))
        else:
            values[key] = request.form.get(key, values[key])
    return values


@bp.route("/items/<int:item_id>", methods=["GET", "POST"])
@require("cbt.author")
def item_edit(item_id: int) -> str | WerkzeugResponse:
    item = _get(Item, item_id)
    bank = _get(Bank, item.bank_id)
    if request.method == "GET":
        with ruang().db.session() as session:
            data = banks.item_data(session, item)
        return _editor(bank, forms.values_of(data), item, data=data)
    try:
        draft = forms.to_draft(forms.from_request(request.form))
        with ruang().db.transaction() as session:
            version = banks.update_item(session, _one(session, Item, item.id), draft,
                                        current_user, note=request.form.get("note", ""))
    except (forms.FormError, banks.BankError) as exc:
        errs = exc.errors if isinstance(exc, forms.FormError) else [str(exc)]
        return _editor(bank, _posted(), item, errors=errs)
    if version.number > item.current_version:
        flash(_("The item is on candidates' papers, so version %(n)s was made; the old "
                "version stays with those results.", n=version.number), "success")
    else:
        flash(_("Item saved."), "success")
    return redirect(url_for("cbt.item_edit", item_id=item.id))


@bp.route("/items/<int:item_id>/archive", methods=["POST"])
@require("cbt.author")
def item_archive(item_id: int) -> WerkzeugResponse:
    item = _get(Item, item_id)
    archived = request.form.get("restore") != "1"
    with ruang().db.transaction() as session:
        banks.archive_item(session, _one(session, Item, item.id), current_user, archived)
    flash(_("Item archived.") if archived else _("Item restored."), "success")
    return redirect(url_for("cbt.bank_detail", bank_id=item.bank_id))


@bp.route("/items/<int:item_id>/versions/<int:number>")
@require("cbt.author")
def item_version(item_id: int, number: int) -> str:
    item = _get(Item, item_id)
    with ruang().db.session() as session:
        version = next((v for v in banks.versions(session, item) if v.number == number), None)
        if version is None:
            abort(404)
        data = banks.item_data(session, item, version)
    html = render_item(data.type, data.content, _asset_url, key=data.key)
    return render_template("cbt/item_version.html", item=item, data=data, preview=html)


@bp.route("/banks/<int:bank_id>/preview", methods=["POST"])
@require("cbt.author")
def item_preview(bank_id: int) -> Response:
    """The live preview: the editor's fields as JSON in, the candidate's view out."""
    _get(Bank, bank_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(ok=False, errors=[_("Send the form as a JSON object.")])
    try:
        draft = forms.to_draft(forms.from_request(body, is_json=True))
    except forms.FormError as exc:
        try:
            partial = forms.ItemForm.model_validate({"type": body.get("type", "single"),
                                                     "stem": str(body.get("stem", ""))})
            from plugins.cbt.content import ItemContent

            html = str(render_item(partial.type, ItemContent(stem=partial.stem), _asset_url))
        except (ValidationError, ValueError):
            html = ""
        return jsonify(ok=False, errors=exc.errors, html=html)
    candidate = render_item(draft.type, draft.content, _asset_url)
    keyed = render_item(draft.type, draft.content, _asset_url, key=draft.key)
    return jsonify(ok=True, errors=[], html=str(candidate), key_html=str(keyed))


@bp.route("/banks/<int:bank_id>/assets", methods=["POST"])
@require("cbt.author")
def asset_upload(bank_id: int) -> tuple[Response, int] | Response:
    bank = _get(Bank, bank_id)
    data, _name = _upload()
    if not data:
        return jsonify(ok=False, error=_("Choose an image.")), 400
    try:
        with ruang().db.transaction() as session:
            asset = banks.add_asset(session, _one(session, Bank, bank.id), data)
    except ValueError as exc:
        return jsonify(ok=False, error=str(exc)), 400
    return jsonify(ok=True, src=f"cbt-asset:{asset.id}", url=_asset_url(asset.id))


@bp.route("/assets/<int:asset_id>")
@require("cbt.author")
def asset(asset_id: int) -> Response:
    with ruang().db.session() as session:
        row = session.get(Asset, asset_id)
        if row is None:
            abort(404)
        data = banks.asset_bytes(session, row)
    resp = Response(data, mimetype=row.mime)
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp


# -- exams ---------------------------------------------------------------------------------


def _local_dt(value: str) -> datetime | None:
    if not value:
        return None
    tz = ZoneInfo(ruang().settings.timezone)
    return datetime.fromisoformat(value).replace(tzinfo=tz)


def _exam_settings(form: Any, code: str | None = None,
                   show_score: str = "after_close") -> exam_service.ExamSettings:
    try:
        opens, closes = _local_dt(form.get("opens_at", "")), _local_dt(form.get("closes_at", ""))
    except ValueError:
        raise exam_service.ExamError(_("Write dates as YYYY-MM-DD HH:MM.")) from None
    try:
        return exam_service.ExamSettings(
            code=code or form.get("code", ""), title=form.get("title", ""),
            instructions=form.get("instructions", ""),
            duration_min=form.get("duration_min") or 60, opens_at=opens, closes_at=closes,
            max_attempts=form.get("max_attempts") or 1,
            shuffle_items=bool(form.get("shuffle_items")),
            shuffle_options=bool(form.get("shuffle_options")),
            pass_mark=form.get("pass_mark") or 0,
            negative_marking=float(form.get("negative_marking") or 0) / 100,
            # The release policy is set on the results page (it may need a date).
            show_score=form.get("show_score", show_score),
            show_answers=form.get("show_answers", "never"))
    except ValidationError as exc:
        msgs = [f"{'.'.join(str(x) for x in e['loc'])}: "
                f"{str(e['msg']).removeprefix('Value error, ')}" for e in exc.errors()]
        raise exam_service.ExamError("; ".join(msgs)) from None
    except ValueError:
        raise exam_service.ExamError(_("Negative marking must be a percentage.")) from None


@bp.route("/exams", methods=["GET", "POST"])
@require("cbt.author")
def exam_list() -> str | WerkzeugResponse:
    if request.method == "POST":
        try:
            settings = _exam_settings(request.form)
            with ruang().db.transaction() as session:
                exam = exam_service.create_exam(session, settings, current_user)
        except exam_service.ExamError as exc:
            flash(str(exc), "error")
        else:
            flash(_("Exam %(code)s created.", code=exam.code), "success")
            return redirect(url_for("cbt.exam_detail", exam_id=exam.id))
    with ruang().db.session() as session:
        rows = exam_service.exams(session)
        counts = {e.id: len(roster.candidates(session, e)) for e in rows}
    return render_template("cbt/exams.html", exams=rows, counts=counts)


def _exam_page(exam_id: int, **extra: Any) -> str:
    with ruang().db.session() as session:
        exam = _one(session, Exam, exam_id)
        if exam is None:
            abort(404)
        settings = exam_service.settings_of(session, exam)
        bank_rows = banks.banks(session)
        cats = {b.id: banks.categories(session, b) for b in bank_rows}
        items = {b.id: banks.list_items(session, b) for b in bank_rows}
        labels: dict[int, str] = {}
        for section in exam.sections:
            for slot in section.slots:
                if slot.kind == "fixed" and slot.item_id:
                    item = _one(session, Item, slot.item_id)
                    labels[slot.id] = banks.item_data(session, item).summary if item else "?"
                elif slot.category_id:
                    cat = session.get(Category, slot.category_id)
                    labels[slot.id] = cat.name if cat else "?"
        people = roster.candidates(session, exam)
        total = exam_service.max_points(session, exam)
    tz = ZoneInfo(ruang().settings.timezone)

    def local_input(value: datetime | None) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%dT%H:%M") if value else ""

    return render_template("cbt/exam.html", exam=exam, s=settings, banks=bank_rows,
                           local_input=local_input,
                           categories=cats, bank_items=items, labels=labels, people=people,
                           max_points=total, types=_type_labels(), **extra)


@bp.route("/exams/<int:exam_id>", methods=["GET", "POST"])
@require("cbt.author")
def exam_detail(exam_id: int) -> str | WerkzeugResponse:
    if request.method == "GET":
        return _exam_page(exam_id)
    exam = _get(Exam, exam_id)
    action = request.form.get("action", "")
    try:
        with ruang().db.transaction() as session:
            exam = _one(session, Exam, exam_id)
            if action == "settings":
                exam_service.update_exam(
                    session, exam, _exam_settings(request.form, exam.code, exam.show_score),
                    current_user)
            elif action == "section":
                exam_service.add_section(session, exam, request.form.get("title", ""))
            elif action in ("fixed", "draw"):
                section = next((s for s in exam.sections
                                if s.id == request.form.get("section", type=int)), None)
                if section is None:
                    raise exam_service.ExamError(_("Choose a section."))
                points = request.form.get("points", type=float)
                if action == "fixed":
                    item = session.get(Item, request.form.get("item", type=int) or 0)
                    if item is None:
                        raise exam_service.ExamError(_("Choose an item."))
                    exam_service.add_fixed(session, exam, section, item, points)
                else:
                    cat = session.get(Category, request.form.get("category", type=int) or 0)
                    if cat is None:
                        raise exam_service.ExamError(_("Choose a category."))
                    exam_service.add_draw(session, exam, section, cat,
                                          request.form.get("count", type=int) or 1, points)
            elif action == "remove":
                exam_service.remove_slot(session, exam, request.form.get("slot", type=int) or 0)
            elif action == "publish":
                exam_service.publish(session, exam, current_user)
            elif action == "unpublish":
                exam_service.unpublish(session, exam, current_user)
            else:
                abort(400)
    except exam_service.ExamError as exc:
        flash(str(exc), "error")
    else:
        flash(_("Saved."), "success")
    return redirect(url_for("cbt.exam_detail", exam_id=exam_id))


@bp.route("/exams/<int:exam_id>/paper")
@require("cbt.author")
def exam_paper(exam_id: int) -> str:
    """A sample paper, as a candidate would get it (a new random seed each time)."""
    import secrets

    from plugins.cbt.models import ItemVersion

    exam = _get(Exam, exam_id)
    with ruang().db.session() as session:
        exam = _one(session, Exam, exam_id)
        try:
            paper = exam_service.build_paper(session, exam, secrets.token_hex(32))
        except exam_service.ExamError as exc:
            flash(str(exc), "error")
            paper = []
        rendered = []
        for p in paper:
            version = _one(session, ItemVersion, p.version_id)
            content, _key = banks.open_version(session, version)
            rendered.append(render_item(version.type, content, _asset_url, number=p.position,
                                        option_order=p.option_order.get("choices"),
                                        answer_order=p.option_order.get("answers")))
        instructions = exam_service.instructions(session, exam)
    return render_template("cbt/paper.html", exam=exam, items=rendered, instructions=instructions)


# -- candidates ----------------------------------------------------------------------------


@bp.route("/exams/<int:exam_id>/candidates", methods=["POST"])
@require("cbt.candidates")
def candidates_import(exam_id: int) -> str | WerkzeugResponse:
    exam = _get(Exam, exam_id)
    data, filename = _upload()
    if not data:
        flash(_("Choose a roster file (XLSX or CSV)."), "error")
        return redirect(url_for("cbt.exam_detail", exam_id=exam.id))
    parsed = roster.parse_roster(data, filename)
    dry = request.form.get("dry_run") == "1"
    with ruang().db.transaction() as session:
        checked = roster.check_against(session, _one(session, Exam, exam.id), parsed)
        added = [] if dry else roster.add_candidates(session, _one(session, Exam, exam.id),
                                                       checked, current_user)
    if dry or checked.problems:
        return _exam_page(exam.id, roster_report=checked, roster_added=len(added),
                          roster_dry=dry)
    flash(_("%(n)s candidate(s) added.", n=len(added)), "success")
    return redirect(url_for("cbt.exam_detail", exam_id=exam.id))


@bp.route("/exams/<int:exam_id>/cards", methods=["POST"])
@require("cbt.candidates")
def login_cards(exam_id: int) -> Response | WerkzeugResponse:
    from plugins.cbt.cards import login_cards as make_pdf
    from plugins.cbt.models import Candidate

    exam = _get(Exam, exam_id)
    everyone = request.form.get("all") == "1"
    with ruang().db.transaction() as session:
        chosen = [c for c in session.scalars(select(Candidate).where(
            Candidate.exam_id == exam.id).order_by(Candidate.participant_number))
            if everyone or not c.password_hash]
        if not chosen:
            flash(_("Every candidate already has a login card. Print again to issue new "
                    "passwords for everyone."), "error")
            return redirect(url_for("cbt.exam_detail", exam_id=exam.id))
        issued = roster.issue_passwords(session, _one(session, Exam, exam.id), chosen,
                                        current_user)
        pdf = make_pdf(exam, issued)
    resp = Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="kartu-{exam.code}.pdf"'})
    resp.headers["Cache-Control"] = "no-store"
    return resp


# -- CBT events (the SOP procedure) --------------------------------------------------------


def _may_manage() -> bool:
    from core.accounts.access import can

    return can(current_user, "cbt.events.manage")


def _event_or_403(session: Any, event_id: int) -> Any:
    from plugins.cbt.models import CbtEvent

    event = _one(session, CbtEvent, event_id)
    if not _may_manage() and event.created_by != current_user.id:
        abort(403)
    return event


def _proposal(form: Any) -> Any:
    from plugins.cbt.events import Proposal

    try:
        return Proposal.model_validate({
            "title": form.get("title", ""), "unit": form.get("unit", ""),
            "purpose": form.get("purpose", ""), "starts_on": form.get("starts_on") or None,
            "ends_on": form.get("ends_on") or form.get("starts_on") or None,
            "expected_candidates": form.get("expected_candidates") or 0,
            "material": form.get("material", ""), "contact": form.get("contact", "")})
    except ValidationError as exc:
        labels = {"title": _("Title"), "unit": _("Unit"), "starts_on": _("First day"),
                  "ends_on": _("Last day"), "expected_candidates": _("Expected candidates")}
        raise ValueError("; ".join(
            f"{labels.get(str(e['loc'][0]), str(e['loc'][0])) if e['loc'] else ''}: "
            f"{str(e['msg']).removeprefix('Value error, ')}".lstrip(": ")
            for e in exc.errors())) from None


@bp.route("/events")
@require("cbt.events.propose")
def event_list() -> str:
    from plugins.cbt import events

    with ruang().db.session() as session:
        rows = events.events_for(session, current_user, everyone=_may_manage())
    return render_template("cbt/events.html", events=rows, wf=events.EVENT,
                           manage=_may_manage())


@bp.route("/events/new", methods=["GET", "POST"])
@require("cbt.events.propose")
def event_new() -> str | WerkzeugResponse:
    from plugins.cbt import events

    values = dict(request.form) if request.method == "POST" else {
        "unit": getattr(current_user, "unit", "")}
    if request.method == "POST":
        try:
            proposal = _proposal(request.form)
            with ruang().db.transaction() as session:
                event = events.propose(session, proposal, current_user)
        except ValueError as exc:
            flash(str(exc), "error")
        else:
            flash(_("Proposal saved as a draft. Submit it when it is complete."), "success")
            return redirect(url_for("cbt.event_detail", event_id=event.id))
    return render_template("cbt/event_form.html", v=values, event=None)


@bp.route("/events/<int:event_id>", methods=["GET", "POST"])
@require("cbt.events.propose")
def event_detail(event_id: int) -> str | WerkzeugResponse:
    from core.accounts.models import User
    from core.rooms.service import labs
    from core.workflow.panel import panel
    from plugins.cbt import events

    db = ruang().db
    if request.method == "POST":  # the requester edits a draft or returned proposal
        try:
            proposal = _proposal(request.form)
            with db.transaction() as session:
                event = _event_or_403(session, event_id)
                events.update_proposal(session, event, proposal, current_user)
        except (ValueError, events.EventError) as exc:
            flash(str(exc), "error")
        else:
            flash(_("Saved."), "success")
        return redirect(url_for("cbt.event_detail", event_id=event_id))
    with db.session() as session:
        event = _event_or_403(session, event_id)
        wf_panel = panel(session, events.EVENT, event, current_user,
                         url_for("cbt.event_workflow", event_id=event.id))
        sessions = events.sessions_of(session, event)
        check = events.checklist(session, event)
        exam = session.get(Exam, event.exam_id) if event.exam_id else None
        manage = _may_manage()
        exam_rows = exam_service.exams(session) if manage else []
        lab_rows = labs(session, include_inactive=False) if manage else []
        proctors = list(session.scalars(select(User).where(
            User.role.in_(("proctor", "staff")), User.active.is_(True))
            .order_by(User.full_name))) if manage else []
        names = {u.id: u.display_name for u in proctors}
        seated = {s.id: len(roster_of_session(session, s.id)) for s in sessions}
    tz = ZoneInfo(ruang().settings.timezone)

    def local_dt(value: datetime, fmt: str = "%d-%m-%Y %H:%M") -> str:
        return value.astimezone(tz).strftime(fmt)

    return render_template(
        "cbt/event.html", event=event, panel=wf_panel, local_dt=local_dt, sessions=sessions,
        check=check,
        exam=exam, manage=manage, exams=exam_rows, labs=lab_rows, proctors=proctors,
        names=names, seated=seated, editable=event.state in events.EDITABLE
        and event.created_by == current_user.id,
        preparing=manage and event.state in events.PREPARING, v=event.__dict__)


def roster_of_session(session: Any, session_id: int) -> list[Any]:
    from plugins.cbt.models import Candidate

    return list(session.scalars(select(Candidate).where(Candidate.session_id == session_id)
                                .order_by(Candidate.seat)))


@bp.route("/events/<int:event_id>/workflow", methods=["POST"])
@require("cbt.events.propose")
def event_workflow(event_id: int) -> WerkzeugResponse:
    from core.workflow.engine import WorkflowError
    from core.workflow.panel import apply_form, status_code
    from plugins.cbt import events

    try:
        with ruang().db.transaction() as session:
            event = _event_or_403(session, event_id)
            apply_form(session, events.EVENT, event, current_user, request.form)
    except WorkflowError as exc:
        flash(str(exc), "error")
        if status_code(exc) == 403:
            abort(403)
    else:
        flash(_("Done."), "success")
    return redirect(url_for("cbt.event_detail", event_id=event_id))


@bp.route("/events/<int:event_id>/prepare", methods=["POST"])
@require("cbt.events.manage")
def event_prepare(event_id: int) -> WerkzeugResponse:
    from plugins.cbt import events

    form = request.form
    action = form.get("action", "")
    try:
        with ruang().db.transaction() as session:
            event = _event_or_403(session, event_id)
            if action == "checklist":
                events.update_checklist(
                    session, event, current_user,
                    exam_id=form.get("exam", type=int),
                    material_agreed=bool(form.get("material_agreed")),
                    devices_checked=bool(form.get("devices_checked")),
                    running_order=form.get("running_order", ""))
            elif action == "session":
                start = _local_dt(form.get("starts_at", ""))
                end = _local_dt(form.get("ends_at", ""))
                if start is None or end is None:
                    raise events.EventError(_("Give the start and end of the session."))
                events.add_session(
                    session, event, current_user, lab_id=form.get("lab", type=int) or 0,
                    starts_at=start, ends_at=end,
                    proctor_ids=[int(p) for p in form.getlist("proctors") if p.isdigit()],
                    seats=form.get("seats", type=int))
            elif action == "seat":
                events.seat_candidates(session, event, form.get("session", type=int) or 0,
                                       current_user, form.get("limit", type=int))
            elif action == "remove_session":
                events.remove_session(session, event, form.get("session", type=int) or 0,
                                      current_user)
            else:
                abort(400)
    except events.EventError as exc:
        flash(str(exc), "error")
    except ValueError:
        flash(_("Write dates as YYYY-MM-DD HH:MM."), "error")
    else:
        flash(_("Saved."), "success")
    return redirect(url_for("cbt.event_detail", event_id=event_id))
