"""``ruang cbt ...`` (banks, imports, exports, rosters) and ``ruang keys ...`` (master key)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from core.instance import ruang


@click.group("cbt")
def cbt() -> None:
    """CBT: question banks, imports and exports, exams and candidates."""


@cbt.command("banks")
def banks_cmd() -> None:
    """List the question banks and how many items each holds."""
    from plugins.cbt import bank as service

    with ruang().db.session() as session:
        counts = service.bank_counts(session)
        rows = service.banks(session)
        if not rows:
            click.echo("no question banks yet")
        for b in rows:
            click.echo(f"{b.name}  ({counts.get(b.id, 0)} items)")


@cbt.command("template")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("template-soal.xlsx"), show_default=True)
def template_cmd(output: Path) -> None:
    """Write the XLSX template teachers fill in with their questions."""
    from plugins.cbt.formats import xlsx

    output.write_bytes(xlsx.template())
    click.echo(f"template written to {output}")


@cbt.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--bank", "bank_name", required=True, help="Bank to import into (made if new)")
@click.option("--format", "fmt", type=click.Choice(["gift", "aiken", "qti", "xlsx"]),
              help="Format of FILE (default: guessed from its name and content)")
@click.option("--dry-run", is_flag=True, help="Only list the items and problems; store nothing")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object: imported, errors [{line, message}]")
def import_cmd(file: Path, bank_name: str, fmt: str | None, dry_run: bool,
               as_json: bool) -> None:
    """Import questions from GIFT, Aiken, QTI 2.1 (zip) or XLSX into a bank.

    The good items go in together in one transaction; every problem is listed with its
    line (row for XLSX, item number for QTI). Exits with 1 when there were problems.
    """
    from plugins.cbt import bank as service
    from plugins.cbt import formats

    r = ruang()
    data = file.read_bytes()
    fmt = fmt or formats.detect(file.name, data)
    try:
        report = formats.preview(data, fmt)
    except formats.FormatError as exc:
        report = formats.Report(format=fmt, dry_run=dry_run, items=[],
                                problems=[formats.Problem(0, str(exc))])
    if not dry_run and report.items:
        try:
            with click.progressbar(length=len(report.items), label="importing",
                                   file=sys.stderr) as bar, r.db.transaction() as session:
                bank = service.bank_by_name(session, bank_name)
                if bank is None:
                    bank = service.create_bank(session, bank_name, actor="cli")
                formats.import_items(session, bank, report, actor="cli", progress=bar.update)
        except service.BankError as exc:
            raise click.ClickException(f"nothing was imported: {exc}") from None
    report.dry_run = dry_run
    if as_json:
        out = report.as_dict()
        out["bank"] = bank_name
        click.echo(json.dumps(out, ensure_ascii=False))
    else:
        for p in report.problems:
            click.echo(f"line {p.line}: {p.message}" if p.line else p.message)
        if dry_run:
            click.echo(f"{len(report.items)} item(s) can be imported, "
                       f"{len(report.problems)} problem(s) (dry run: nothing stored)")
        else:
            click.echo(f"{report.imported} item(s) imported into {bank_name!r}, "
                       f"{len(report.problems)} problem(s)")
    if report.problems:
        sys.exit(1)


@cbt.command("export")
@click.option("--bank", "bank_name", required=True)
@click.option("--format", "fmt", type=click.Choice(["gift", "qti"]), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_cmd(bank_name: str, fmt: str, output: Path) -> None:
    """Export a bank as GIFT text or a QTI 2.1 content package (zip)."""
    from plugins.cbt import bank as service
    from plugins.cbt import formats

    with ruang().db.session() as session:
        bank = service.bank_by_name(session, bank_name)
        if bank is None:
            raise click.ClickException(f"no bank named {bank_name!r} (see: ruang cbt banks)")
        data = formats.export_bank(session, bank, fmt)
        count = len(service.list_items(session, bank))
    output.write_bytes(data)
    click.echo(f"{count} item(s) of {bank_name!r} written to {output} ({fmt})")


@cbt.command("demo")
def demo_cmd() -> None:
    """Add a demo exam with a session running now in LAB-1 (after `ruang demo`)."""
    from plugins.cbt.demo import ensure_demo

    try:
        with ruang().db.transaction() as session:
            ensure_demo(session)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


@cbt.command("exams")
def exams_cmd() -> None:
    """List exams with their code, status and number of candidates."""
    from plugins.cbt import candidates, exams

    with ruang().db.session() as session:
        rows = exams.exams(session)
        if not rows:
            click.echo("no exams yet")
        for exam in rows:
            count = len(candidates.candidates(session, exam))
            click.echo(f"{exam.code:<20} {exam.status:<10} {count:>5} candidate(s)  {exam.title}")


@cbt.command("export-results")
@click.argument("exam_code", metavar="EXAM")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), required=True)
@click.option("--out", "output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="File to write (replaced if it exists)")
def export_results_cmd(exam_code: str, fmt: str, output: Path) -> None:
    """Write an exam's results (one row per candidate on the roster) as CSV or XLSX.

    Exit codes: 0 written; 1 unknown exam or the file cannot be written; 2 bad options.
    """
    import os
    import tempfile

    from core.audit.service import record as audit
    from plugins.cbt import exams
    from plugins.cbt.reports.results import to_csv, to_xlsx
    from plugins.cbt.reports.source import result_rows

    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        raise click.ClickException(f"cannot write {output}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (output.exists() and not os.access(output, os.W_OK)):
        raise click.ClickException(f"cannot write {output}: permission denied")
    r = ruang()
    with r.db.session() as session:
        exam = exams.exam_by_code(session, exam_code.strip().upper())
        if exam is None:
            raise click.ClickException(f"no exam with code {exam_code!r} (see: ruang cbt exams)")
        rows, sections = result_rows(session, exam)
        if fmt == "csv":
            data = to_csv(rows, sections)
        else:
            data = to_xlsx(rows, sections, title=f"{exam.title} ({exam.code})",
                           summary=[("Batas lulus", f"{exam.pass_mark:g}%")])
        exam_id, code = exam.id, exam.code
    # Written beside the target and renamed, so a failed run never leaves half a file.
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".ruang-results-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, output)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
    with r.db.transaction() as session:
        audit(session, "cbt.results.exported", actor="cli", object_type="cbt_exams",
              object_id=exam_id, details={"format": fmt, "rows": len(rows), "file": str(output)})
    pending = sum(1 for row in rows if row.marking_pending)
    click.echo(f"{len(rows)} result(s) of {code} written to {output} ({fmt})"
               + (f"; {pending} wait for essay marking" if pending else ""))


@cbt.group("candidates")
def candidates_group() -> None:
    """Exam rosters."""


@candidates_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--exam", "code", required=True, help="Exam code")
@click.option("--dry-run", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
def candidates_import(file: Path, code: str, dry_run: bool, as_json: bool) -> None:
    """Add candidates from XLSX or CSV (columns NIM, Nama, Kelas, Prodi).

    Rows that cannot be used are listed with their row number; the rest are added
    together. Exits with 1 when there were problems.
    """
    from plugins.cbt import candidates, exams

    r = ruang()
    roster = candidates.parse_roster(file.read_bytes(), file.name)
    added = 0
    with r.db.transaction() as session:
        exam = exams.exam_by_code(session, code)
        if exam is None:
            raise click.ClickException(f"no exam with code {code!r} (see: ruang cbt exams)")
        roster = candidates.check_against(session, exam, roster)
        if not dry_run and roster.rows:
            added = len(candidates.add_candidates(session, exam, roster, actor="cli"))
    if as_json:
        click.echo(json.dumps({"imported": added, "valid": len(roster.rows), "dry_run": dry_run,
                               "errors": [p.as_dict() for p in roster.problems]}))
    else:
        for p in roster.problems:
            click.echo(f"row {p.line}: {p.message}" if p.line else p.message)
        verb = "can be added (dry run)" if dry_run else "added"
        click.echo(f"{len(roster.rows) if dry_run else added} candidate(s) {verb}, "
                   f"{len(roster.problems)} problem(s)")
    if roster.problems:
        sys.exit(1)


@cbt.command("cards")
@click.option("--exam", "code", required=True, help="Exam code")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--all", "everyone", is_flag=True,
              help="New passwords for everyone (cards printed before stop working)")
def cards_cmd(code: str, output: Path, everyone: bool) -> None:
    """Print login cards (PDF) with new one-time passwords.

    By default only candidates who have no password yet get one; the passwords are shown
    on these cards only and stored hashed.
    """
    from plugins.cbt import candidates, exams
    from plugins.cbt.cards import login_cards

    r = ruang()
    with r.db.transaction() as session:
        exam = exams.exam_by_code(session, code)
        if exam is None:
            raise click.ClickException(f"no exam with code {code!r} (see: ruang cbt exams)")
        chosen = [c for c in candidates.candidates(session, exam)
                  if everyone or not c.password_hash]
        if not chosen:
            raise click.ClickException("every candidate already has a password; use --all to "
                                       "issue new ones (old cards stop working)")
        with click.progressbar(length=len(chosen), label="issuing passwords",
                               file=sys.stderr) as bar:
            issued = candidates.issue_passwords(session, exam, chosen, actor="cli",
                                                progress=bar.update)
        pdf = login_cards(exam, issued)
        # Written inside the transaction: if the file cannot be written, no password changes.
        output.write_bytes(pdf)
    click.echo(f"{len(issued)} login card(s) written to {output}")


# -- keys ----------------------------------------------------------------------------------


@click.group("keys")
def keys() -> None:
    """The instance master key that protects exam content at rest."""


@keys.command("status")
@click.option("--json", "as_json", is_flag=True)
def keys_status(as_json: bool) -> None:
    """The current master key id and how many data keys each key id wraps."""
    from plugins.cbt import crypto

    r = ruang()
    with r.db.session() as session:
        info = crypto.status(session, crypto.keyring(r.settings))
    if as_json:
        click.echo(json.dumps(info))
        return
    click.echo(f"current master key: {info['current']}")
    for kid, count in sorted(info["data_keys"].items()):
        click.echo(f"  {kid}: {count} data key(s)")
    if info["rotation_in_progress"]:
        click.echo("a rotation was interrupted: run `ruang keys rotate` again to finish it")


@keys.command("rotate")
def keys_rotate() -> None:
    """Re-wrap every data key under a new master key, while servers keep running.

    The old key stays beside the new one until every data key is re-wrapped; an
    interrupted rotation resumes when the command is run again. Back up the instance
    folder's master_key afterwards: without it the exam content cannot be read.
    """
    from core.audit.service import record as audit
    from plugins.cbt import crypto

    r = ruang()
    with r.db.session() as session:
        total = sum(crypto.status(session, crypto.keyring(r.settings))["data_keys"].values())
    with click.progressbar(length=total, label="re-wrapping data keys", file=sys.stderr) as bar:
        try:
            result = crypto.rotate(r.db, r.settings, progress=bar.update)
        except crypto.CryptoError as exc:
            raise click.ClickException(str(exc)) from None
    with r.db.transaction() as session:
        audit(session, "cbt.keys.rotated", actor="cli", object_type="master_key",
              object_id=result.new_id,
              details={"old": result.old_id, "new": result.new_id, "rewrapped": result.rewrapped})
    click.echo(f"master key {result.old_id} replaced by {result.new_id}; "
               f"{result.rewrapped} data key(s) re-wrapped")
