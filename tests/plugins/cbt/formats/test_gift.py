"""GIFT: Moodle's files import with the expected items, errors per line, and round trip."""

from __future__ import annotations

import pytest

from plugins.cbt import bank as service
from plugins.cbt import formats
from tests.plugins.cbt.conftest import DATA
from tests.plugins.cbt.formats.helpers import comparable, filled_bank, import_into


def test_a_moodle_gift_file_imports_every_type(db):
    bank, report = import_into(db, "GIFT", (DATA / "good.gift").read_bytes(), "gift")
    assert report.problems == [] and report.imported == 11
    with db.session() as session:
        items = service.list_items(session, bank)
    by_title = {d.content.title: d for d in items if d.content.title}
    single = by_title["Ibu kota"]
    assert single.type == "single" and single.category == "Geografi"
    assert single.tags == ["peta", "ibukota"]
    assert [c.html for c in single.content.choices] == ["Jakarta", "Bandung", "Medan"]
    assert single.key.weights == {"a": 1.0, "c": -0.5}
    assert single.key.feedback == {"a": "Benar, sejak 1945.", "b": "Itu ibu kota Jawa Barat."}
    assert single.key.general_feedback == "Jakarta adalah ibu kota negara."
    prime = by_title["Prima"]
    assert prime.type == "multiple" and prime.content.stem == "Pilih <b>semua</b> bilangan prima."
    assert prime.key.weights == {"a": 0.5, "b": 0.5, "c": -1.0}
    rest = [d for d in items if not d.content.title]
    tf, short, pi, rng, match, essay, missing, arabic, latex = rest
    assert tf.type == "truefalse" and tf.key.truth is True
    assert tf.key.feedback == {"true": "Betul.", "false": "Coba lihat arah matahari pagi."}
    assert [(a.text, a.fraction) for a in short.key.accepted] == [("Bandung", 1.0),
                                                                  ("Kota Bandung", 0.5)]
    assert pi.category == "Matematika" and pi.content.stem == "Nilai \\(\\pi\\) sampai dua desimal?"
    assert (pi.key.numbers[0].value, pi.key.numbers[0].tolerance) == (3.14, 0.005)
    assert (rng.key.numbers[0].value, rng.key.numbers[0].tolerance) == (3.0, 2.0)
    assert [p.html for p in match.content.prompts] == ["Indonesia", "Jepang", "Mesir"]
    assert [a.html for a in match.content.answers] == ["Jakarta", "Tokyo", "Kairo", "Roma"]
    assert match.key.pairs == {"p1": "a1", "p2": "a2", "p3": "a3"}
    assert essay.type == "essay" and essay.points == 5
    assert missing.content.stem == "Biaya Moodle _____ untuk diunduh."
    assert missing.key.weights == {"b": 1.0}
    assert arabic.content.stem == '<p dir="rtl">ما عاصمة مصر؟</p>'
    assert latex.content.stem == "Pecahan \\frac{1}{2} sama dengan?"


def test_a_malformed_file_reports_every_problem_with_its_line_and_keeps_the_good(db):
    report = formats.preview((DATA / "malformed.gift").read_bytes(), "gift")
    assert [(p.line, p.message) for p in report.problems] == [
        (4, "no answers in { }: a description is not a question, and Ruang does not import "
            "descriptions"),
        (6, "the answers opened with { are not closed with }"),
        (8, "more than one answer is marked right with '='; for several right answers give "
            "each a weight, like ~%50%"),
        (10, "the title opened with :: is not closed"),
        (12, "'tiga:0.1' is not a number, a number:tolerance or a min..max range"),
        (14, "there is text before the first = or ~ in the answers"),
        (18, "matching answer 'Jepang' has no ->"),
        (20, "the correct options' weights add up to 70%, not 100%"),
    ]
    assert [(e.line, e.draft.type) for e in report.items] == [(2, "single"), (16, "truefalse")]
    _bank, report = import_into(db, "Campur", (DATA / "malformed.gift").read_bytes(), "gift")
    assert report.imported == 2


def test_round_trip_through_gift_keeps_what_gift_carries(db):
    source = filled_bank(db)
    with db.session() as session:
        text = formats.export_bank(session, source, "gift")
    assert b"[html]" in text and b"data\\:image/png;base64," in text
    copy, report = import_into(db, "Salinan", text, "gift")
    assert report.problems == []
    before, after = comparable(db, source), comparable(db, copy)
    # GIFT has no place for an essay's rubric or word limit, nor for short answers' case rule.
    for item in before:
        item["key"]["case_sensitive"] = False
        if item["type"] == "essay":
            item["key"]["rubric"] = ""
            item["content"]["max_words"] = None
    assert sorted(after, key=repr) == sorted(before, key=repr)


@pytest.mark.parametrize("text", [
    "Soal {=a ~b}\n\n$CATEGORY: top/X\n\nLain {=c ~d}\n",
    "\ufeffSoal {=a ~b}\n",
])
def test_categories_and_a_byte_order_mark(text):
    report = formats.preview(text.encode("utf-8"), "gift")
    assert report.problems == []
    assert [e.draft.category for e in report.items][-1] in ("X", "")
