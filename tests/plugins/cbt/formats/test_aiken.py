"""Aiken: single-choice files import; broken questions are reported with their line."""

from __future__ import annotations

from plugins.cbt import bank as service
from plugins.cbt import formats
from tests.plugins.cbt.conftest import DATA
from tests.plugins.cbt.formats.helpers import import_into


def test_an_aiken_file_imports_with_the_expected_keys(db):
    bank, report = import_into(db, "Aiken", (DATA / "good.aiken.txt").read_bytes(), "aiken")
    assert report.problems == [] and report.imported == 3
    with db.session() as session:
        items = service.list_items(session, bank)
    assert [d.type for d in items] == ["single"] * 3
    first, second, third = items
    assert first.content.stem == "Ibu kota Indonesia adalah?"
    assert [c.html for c in first.content.choices] == ["Bandung", "Jakarta", "Surabaya", "Medan"]
    assert first.key.weights == {"b": 1.0}
    assert second.key.weights == {"b": 1.0}
    assert third.content.stem == "Planet terbesar di tata surya<br>adalah planet apa?"


def test_problems_are_listed_per_line_and_the_good_questions_still_import(db):
    data = (DATA / "malformed.aiken.txt").read_bytes()
    report = formats.preview(data, "aiken")
    assert [(p.line, p.message) for p in report.problems] == [
        (9, "ANSWER E names no option (options: A, B)"),
        (11, "the question has no ANSWER line"),
        (17, "option C comes where B was expected"),
        (22, "a question needs at least two options (A., B., ...) before its ANSWER line"),
        (24, "ANSWER line without a question before it"),
    ]
    assert [e.line for e in report.items] == [1, 26]
    assert formats.detect("soal.txt", data) == "aiken"
