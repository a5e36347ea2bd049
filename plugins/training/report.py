"""The report of a training (laporan pelaksanaan Diklat), the SOP's record of performance.

Issued when staff document the training: the records service gives it a number in the
same transaction, and the PDF is written under the instance folder. It holds the event
(what Ka. BPTI approved and how it went), attendance, the evaluation's results, the
learning gain from the pre- and post-test, supervision notes and the documentation
(photos printed, files listed with their SHA-256). Staff may print it again later (more
photos came in): the number stays, the file is replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from typing import Any

from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.db import Database, utcnow
from core.records.service import issue as issue_number
from plugins.training import clock, files
from plugins.training.errors import N_, TrainingError, record_language
from plugins.training.errors import t as _
from plugins.training.evaluation import results
from plugins.training.letter import approver, proposal_pairs
from plugins.training.models import FileKind, Participant, Training
from plugins.training.participants import of_training, status_label
from plugins.training.pdfdoc import Document

PARTY_STATUSES = {"to_contact": N_("To contact"), "contacted": N_("Contacted"),
                  "confirmed": N_("Confirmed"), "declined": N_("Declined")}
MAX_PHOTOS = 8
MAX_COMMENTS = 15
NOTE_LABELS = {"observation": N_("Observation"), "problem": N_("Problem"),
               "action": N_("Action taken"), "third_party": N_("Third party")}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _gain(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _thumb(data: bytes) -> bytes | None:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            rgb = img.convert("RGB")
        rgb.thumbnail((900, 900))
        out = io.BytesIO()
        rgb.save(out, format="JPEG", quality=80)
        return out.getvalue()
    except Exception:
        return None


def render(session: Session, training: Training, number: str, signer: str = "") -> bytes:
    """The report's PDF, in the instance's language, signed by ``signer`` (the staff
    member who documented the training)."""
    with record_language():
        return _render(session, training, number, signer)


def _render(session: Session, training: Training, number: str, signer: str) -> bytes:
    res = results(session, training.id)
    g = res.gain
    people = [p for p in of_training(session, training.id)
              if p.status != "cancelled" or p.checked_in_at is not None]
    doc = Document(_("Training report"), number)
    doc.add_page()
    doc.title_block(_("TRAINING REPORT (DIKLAT)"), _("Number: %(number)s", number=number))

    doc.heading(_("1. The training"))
    party_status = PARTY_STATUSES.get(training.third_party_status, "")
    doc.pairs([
        *proposal_pairs(session, training),
        (_("Approval letter"), training.letter_number or "-"),
        (_("Approved by"), " · ".join(x for x in approver(session, training) if x)),
        (_("Third party contact"), _(party_status) if party_status else "-"),
    ])
    done = sum(1 for i in training.checklist if i.done)
    doc.pairs([(_("Preparation"), _("%(done)s of %(all)s checklist tasks done",
                                    done=done, all=len(training.checklist)))])

    doc.heading(_("2. Attendance"))
    a = res.attendance
    doc.pairs([
        (_("Registered"), a.registered),
        (_("Attended"), _("%(n)s of %(registered)s (%(rate)s)", n=a.attended,
                          registered=a.registered, rate=_pct(a.rate * 100 if a.rate
                                                              is not None else None))),
        (_("Staff / students"), f"{a.attended_staff} / {a.attended_students}"),
        (_("Checked in by"), _("QR code: %(qr)s, staff: %(staff)s", qr=a.by_qr,
                               staff=a.by_staff)),
        (_("Waiting list / withdrawn"), f"{a.waitlisted} / {a.cancelled}"),
    ])
    rows = []
    for n, p in enumerate(people, start=1):
        rows.append(_person_row(n, p))
    if rows:
        doc.grid([_("No"), _("Name"), _("Unit"), _("Status"), _("Check-in"), _("Pre"),
                  _("Post"), _("Gain")], rows, widths=(7, 45, 38, 22, 24, 12, 12, 14),
                 align=("RIGHT", "LEFT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"))

    doc.heading(_("3. Evaluation by the participants"))
    doc.pairs([(_("Responses"), _("%(n)s of %(attended)s who attended (%(rate)s)",
                                  n=res.responses, attended=a.attended,
                                  rate=_pct(res.response_rate * 100
                                            if res.response_rate is not None else None))),
               (_("Average rating"), _("%(value)s of 5", value=_num(res.overall, 2)))])
    if res.responses:
        doc.bars([(_(x.label), x.average) for x in res.aspects], maximum=5.0)
        doc.grid([_("Aspect"), "1", "2", "3", "4", "5", _("Average")],
                 [[_(x.label), *x.counts, _num(x.average, 2)] for x in res.aspects],
                 widths=(60, 14, 14, 14, 14, 14, 24),
                 align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"))
        for title, comments in ((_("What was good"), res.liked),
                                (_("What should improve"), res.improve)):
            if comments:
                doc.paragraph(title, style="B")
                for c in comments[:MAX_COMMENTS]:
                    doc.paragraph(f"• {c[:600]}", size=9)
                if len(comments) > MAX_COMMENTS:
                    doc.paragraph(_("and %(n)s more", n=len(comments) - MAX_COMMENTS), size=9)

    doc.heading(_("4. Learning gain (pre-test and post-test)"))
    if training.check_mode == "none":
        doc.paragraph(_("This training had no knowledge check."))
    elif g is None or not g.pairs:
        doc.paragraph(_("Nobody took both tests."))
    else:
        doc.pairs([
            (_("Took both tests"), g.pairs),
            (_("Average pre-test"), _num(g.pre_mean)),
            (_("Average post-test"), _num(g.post_mean)),
            (_("Normalised gain <g>"), _gain(g.class_gain) + f" ({_(g.band) if g.band else '-'})"),
            (_("Average individual gain"), _gain(g.mean_gain)),
            (_("Gain bands"), _("high %(high)s, medium %(medium)s, low %(low)s", **g.bands)),
        ])
        doc.bars([(_("Average pre-test"), g.pre_mean), (_("Average post-test"), g.post_mean)],
                 maximum=100.0, fmt="{:.1f}")
        doc.paragraph(_("Normalised gain = (post - pre) / (100 - pre): high from 0.7, medium "
                        "from 0.3, low below."), size=8)

    from plugins.training.service import notes

    doc.heading(_("5. Supervision notes"))
    written = notes(session, training.id)
    if not written:
        doc.paragraph(_("No notes were written."))
    for note in written:
        kind = _(NOTE_LABELS.get(note.category, note.category))
        doc.paragraph(f"{clock.fmt(note.created_at)} · {note.author_name} · {kind}", size=8,
                      style="B")
        doc.paragraph(note.text[:3000], size=9)

    doc.heading(_("6. Documentation"))
    attached = files.of_training(session, training.id)
    photos = [f for f in attached if f.kind == FileKind.PHOTO.value]
    others = [f for f in attached if f.kind != FileKind.PHOTO.value]
    if not attached:
        doc.paragraph(_("No photos or files were attached."))
    if others:
        doc.grid([_("Kind"), _("File"), _("Size"), "SHA-256"],
                 [[_(f.kind), f.filename, f"{max(f.size // 1024, 1)} KB", f.sha256[:16]]
                  for f in others], widths=(24, 80, 20, 50))
    _photos(doc, photos)

    day = clock.fmt(utcnow(), "%d-%m-%Y")
    doc.signature(day, _("BPTI staff responsible for the training"), signer)
    return doc.finish()


def _person_row(n: int, p: Participant) -> list[Any]:
    from plugins.training.quiz import normalised_gain

    g = (normalised_gain(p.pre_score, p.post_score)
         if p.pre_score is not None and p.post_score is not None else None)
    return [n, p.name, p.unit or "-", status_label(p.status),
            clock.fmt(p.checked_in_at, "%d-%m %H:%M") or _("absent"),
            _num(p.pre_score, 0), _num(p.post_score, 0),
            _gain(g)]


def _photos(doc: Document, photos: list[Any]) -> None:
    """Photos two per row, each fitted in its cell and captioned."""
    from PIL import Image

    if not photos:
        return
    doc.paragraph(_("Photos (%(n)s)", n=len(photos)), style="B")
    col_w = (doc.w - doc.l_margin - doc.r_margin - 6) / 2
    cell_h = 62.0
    images = []
    for row in photos[:MAX_PHOTOS]:
        try:
            data = _thumb(files.read(row))
        except (OSError, TrainingError):
            data = None
        if data is not None:
            images.append((row, data))
    row_y = doc.get_y()
    for i, (row, data) in enumerate(images):
        col = i % 2
        if col == 0:
            if doc.get_y() + cell_h + 8 > doc.h - 20:
                doc.add_page()
            row_y = doc.get_y()
        with Image.open(io.BytesIO(data)) as img:
            ratio = img.height / img.width
        w = min(col_w, cell_h / ratio)
        h = w * ratio
        x = doc.l_margin + col * (col_w + 6)
        doc.png(data, x=x + (col_w - w) / 2, y=row_y, w=w, h=h)
        doc.set_xy(x, row_y + cell_h + 0.5)
        doc.set_font(doc.family, "", 7)
        doc.cell(col_w, 4, doc.text_ok(row.title or row.filename)[:70], align="C")
        if col == 1 or i == len(images) - 1:
            doc.set_xy(doc.l_margin, row_y + cell_h + 7)
    if len(photos) > MAX_PHOTOS:
        doc.paragraph(_("and %(n)s more", n=len(photos) - MAX_PHOTOS), size=9)


def _name(actor: Any) -> str:
    return str(getattr(actor, "display_name", "") or getattr(actor, "username", "") or "")


def issue_report(session: Session, training: Training, actor: Any) -> str:
    """Number the report inside the caller's transaction (it vanishes with a rollback).

    The PDF is drawn afterwards by :func:`publish`, outside any write transaction: drawing
    takes a moment, and on SQLite a write transaction holds the lock every writer (exam
    answers too) waits for.
    """
    if training.report_number:
        raise TrainingError(N_("The report of this training was issued already (%(number)s)."),
                            kind="state", http=409, number=training.report_number)
    record = issue_number(session, "DIKLAT-LAP", ref_type="training", ref_id=training.id,
                          actor=actor)
    training.report_number = record.number
    training.report_at = record.issued_at
    training.report_file = ""
    session.flush()
    audit(session, "training.report.issue", actor=actor, object_type="training",
          object_id=training.id, details={"number": record.number})
    return record.number


def publish(db: Database, training_id: int, actor: Any) -> bytes:
    """Draw the report of a documented training and keep it as its file, replacing an
    earlier print (the number stays). Returns the PDF."""
    with db.session() as session:
        training = session.get(Training, training_id)
        if training is None or not training.report_number:
            raise TrainingError(N_("The report is issued when the training is documented."),
                                kind="state", http=409)
        number = training.report_number
        data = render(session, training, number, _name(actor))
    instance = files._instance()
    name = files.store_bytes(instance, data)
    try:
        with db.transaction() as session:
            training = session.get(Training, training_id)
            assert training is not None
            old = training.report_file
            training.report_file = name
            training.report_at = utcnow()
            audit(session, "training.report.print" if not old else
                  "training.report.regenerate", actor=actor, object_type="training",
                  object_id=training_id, details={"number": number, "bytes": len(data),
                                                  "sha256": hashlib.sha256(data).hexdigest()})
    except BaseException:
        files.remove(instance, [name])
        raise
    if old:
        files.remove(instance, [old])
    return data


def report_bytes(db: Database, training: Training, actor: Any = "system") -> bytes:
    """The report's PDF: its file, or drawn now when it has none yet (the drawing after
    the numbering was interrupted) or the file went missing."""
    if not training.report_number:
        raise TrainingError(N_("The report is issued when the training is documented."),
                            kind="not_found", http=404)
    if training.report_file:
        with contextlib.suppress(FileNotFoundError):
            return files.path_of(files._instance(), training.report_file).read_bytes()
    return publish(db, training.id, actor)
