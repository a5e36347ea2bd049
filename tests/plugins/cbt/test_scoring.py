"""Scoring a response against an item's key: the share of the item's points."""

from __future__ import annotations

import pytest

from plugins.cbt.scoring import fraction, normalise, points
from tests.plugins.cbt import samples


def score(draft, response):
    return fraction(draft.type, draft.content, draft.key, response)


def test_single_choice():
    d = samples.single()
    assert score(d, "a") == 1.0 and score(d, "b") == 0.0 and score(d, None) == 0.0


def test_multiple_response_gives_partial_credit_and_never_below_zero():
    d = samples.multiple()
    assert score(d, ["a", "b"]) == 1.0
    assert score(d, ["a"]) == 0.5
    assert score(d, ["a", "c"]) == 0.0
    assert score(d, ["c", "d"]) == 0.0
    d.key.scoring = "all_or_nothing"
    assert score(d, ["a"]) == 0.0 and score(d, ["b", "a"]) == 1.0


def test_true_false():
    d = samples.truefalse()
    assert score(d, True) == 1.0 and score(d, False) == 0.0 and score(d, "true") == 0.0


@pytest.mark.parametrize(("case", "spaces", "given", "expected"), [
    (False, "collapse", "  bandung ", 1.0),
    (False, "collapse", "kota   Bandung", 0.5),
    (True, "collapse", "bandung", 0.0),
    (False, "exact", " Bandung", 0.0),
    (False, "ignore", "Kota Ban dung", 0.5),
    (False, "trim", "Kota  Bandung", 0.0),
])
def test_short_answer_case_and_space_rules(case, spaces, given, expected):
    d = samples.short()
    d.key.case_sensitive = case
    d.key.spaces = spaces
    assert score(d, given) == expected


def test_numeric_tolerance_and_decimal_comma():
    d = samples.numeric()
    assert score(d, "3,14") == 1.0 and score(d, 3.144) == 1.0 and score(d, "3.146") == 0.0
    assert score(d, "tiga") == 0.0 and score(d, "nan") == 0.0


def test_matching_partial():
    d = samples.matching()
    assert score(d, {"p1": "a1", "p2": "a2", "p3": "a3"}) == 1.0
    assert score(d, {"p1": "a1", "p2": "a4"}) == pytest.approx(1 / 3)


def test_essay_waits_for_a_person():
    assert score(samples.essay(), "Ketuhanan") is None


def test_negative_marking_applies_to_wrong_answers_only():
    assert points(1.0, 2, 0.25) == 2.0
    assert points(0.0, 2, 0.25) == -0.5
    assert points(0.0, 2, 0.25, answered=False) == 0.0
    assert points(0.5, 2, 0.25) == 1.0
    assert points(None, 2, 0.25) is None


def test_normalise_uses_unicode_case_folding():
    assert normalise("STRASSE", case_sensitive=False, spaces="trim") == "strasse"
