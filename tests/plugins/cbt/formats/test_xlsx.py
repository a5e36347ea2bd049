"""XLSX: the template teachers fill in imports row by row, with errors by row number."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook
from openpyxl.drawing.image import Image

from plugins.cbt import bank as service
from plugins.cbt import formats
from plugins.cbt.formats import xlsx
from plugins.cbt.richtext import image_sources
from tests.plugins.cbt import samples
from tests.plugins.cbt.formats.helpers import import_into


def _filled(rows: list[list[object]], image_row: int | None = None) -> bytes:
    wb = load_workbook(io.BytesIO(xlsx.template()))
    ws = wb["Soal"]
    for row in rows:
        ws.append(row)
    if image_row is not None:
        img = Image(io.BytesIO(samples.PNG))
        ws.add_image(img, f"N{image_row}")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_the_template_has_the_columns_a_guide_and_examples():
    wb = load_workbook(io.BytesIO(xlsx.template()))
    assert wb.sheetnames == ["Soal", "Contoh", "Petunjuk"]
    assert [c.value for c in wb["Soal"][1]] == xlsx.HEADERS
    assert wb["Soal"].max_row == 1  # nothing to delete before filling it in
    assert wb["Soal"].data_validations.dataValidation[0].formula1 == \
        '"PG,PGK,BS,ISIAN,NUMERIK,JODOH,ESAI"'


def test_the_examples_of_the_template_import_as_every_type(db):
    wb = load_workbook(io.BytesIO(xlsx.template()))
    rows = [[c.value for c in row] for row in wb["Contoh"].iter_rows(min_row=2)]
    bank, report = import_into(db, "XLSX", _filled(rows, image_row=2), "xlsx")
    assert report.problems == [] and report.imported == 7
    with db.session() as session:
        items = service.list_items(session, bank)
    pg, pgk, bs, isian, num, jodoh, esai = items
    assert pg.type == "single" and pg.key.weights == {"b": 1.0} and pg.category == "Geografi"
    assert pg.tags == ["peta"] and pg.key.general_feedback == "Jakarta sejak 1945."
    assert len(image_sources(pg.content.stem)) == 1  # the picture placed on row 2
    assert pgk.type == "multiple" and pgk.points == 2
    assert pgk.key.weights == {"a": 0.5, "b": 0.5, "c": -0.5, "d": -0.5}
    assert bs.type == "truefalse" and bs.key.truth is True
    assert [a.text for a in isian.key.accepted] == ["Bandung", "Kota Bandung"]
    assert (num.key.numbers[0].value, num.key.numbers[0].tolerance) == (3.14, 0.005)
    assert jodoh.type == "matching" and [a.html for a in jodoh.content.answers] == [
        "Jakarta", "Tokyo", "Kairo", "Roma"]
    assert esai.type == "essay" and esai.key.rubric.startswith("Menyebut Ketuhanan")


def test_bad_rows_are_reported_by_row_number_and_the_good_rows_import(db):
    rows = [
        ["PG", "", "", "Soal baik", "a", "b", "", "", "", "", "A", "", 1, ""],      # row 2
        ["PG", "", "", "Kunci salah", "a", "b", "", "", "", "", "C", "", 1, ""],    # row 3
        ["XYZ", "", "", "Tipe aneh", "", "", "", "", "", "", "", "", 1, ""],        # row 4
        [],                                                                          # row 5
        ["BS", "", "", "Benar atau?", "", "", "", "", "", "", "Mungkin", "", 1, ""],  # row 6
        ["NUMERIK", "", "", "Angka", "", "", "", "", "", "", "sepuluh", "", 1, ""],   # row 7
        ["PG", "", "", "", "a", "b", "", "", "", "", "A", "", 1, ""],               # row 8
        ["PGK", "", "", "Poin salah", "a", "b", "", "", "", "", "A", "", -2, ""],  # row 9
        ["JODOH", "", "", "Tanpa panah", "Indonesia", "Jepang", "", "", "", "", "", "", 1, ""],
        ["PG", "", "", "Dua kunci", "a", "b", "", "", "", "", "A,B", "", 1, ""],   # row 11
        ["ESAI", "", "", "Soal esai yang baik", "", "", "", "", "", "", "", "", 5, ""],
    ]
    report = formats.preview(_filled(rows), "xlsx")
    assert [(p.line, p.message) for p in report.problems] == [
        (3, "Kunci C names no filled option (options: A, B)"),
        (4, "Tipe 'XYZ' is not one of PG, PGK, BS, ISIAN, NUMERIK, JODOH, ESAI"),
        (6, "Kunci 'Mungkin' for BS must be B (benar) or S (salah)"),
        (7, "Kunci 'sepuluh' is not a number"),
        (8, "Pertanyaan is empty"),
        (9, "Poin '-2' is not a positive number"),
        (10, "Opsi A of a JODOH question must read 'left -> right'"),
        (11, "a PG question has one key letter; use PGK for several"),
    ]
    assert [e.line for e in report.items] == [2, 12]


def test_a_workbook_without_the_columns_or_not_a_workbook_is_refused():
    wb = Workbook()
    assert wb.active is not None
    wb.active.append(["Nama", "Kelas"])
    buf = io.BytesIO()
    wb.save(buf)
    report = formats.preview(buf.getvalue(), "xlsx")
    assert report.problems[0].line == 1 and "no column Tipe or Pertanyaan" in \
        report.problems[0].message
    report = formats.preview(b"not a workbook", "xlsx")
    assert report.problems[0].line == 0
