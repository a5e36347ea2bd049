"""Item analysis against numbers worked out by hand on small fixed data sets.

The main data set: ten candidates (c01..c10), four right/wrong items with options A-D.

    cand  Q1 Q2 Q3 Q4  total      choices (Q1..Q4; - = left blank)
    c01    1  1  1  1    4        A B C D
    c02    1  1  1  0    3        A B C A
    c03    1  1  0  1    3        A B D D
    c04    1  0  1  0    2        A A C B
    c05    1  1  0  0    2        A B D C
    c06    0  1  1  0    2        B B C A
    c07    1  0  0  0    1        A C A B
    c08    0  0  1  0    1        B D C C
    c09    0  1  0  0    1        C B A A
    c10    0  0  0  0    0        - A - -
    keys: Q1 A, Q2 B, Q3 C, Q4 D

Totals 4,3,3,2,2,2,1,1,1,0: sum 19, mean 1.9, median (2+2)/2 = 2, population variance
(4.41 + 2*1.21 + 3*0.01 + 3*0.81 + 3.61)/10 = 12.9/10 = 1.29.
Facility: Q1 6/10, Q2 6/10, Q3 5/10, Q4 2/10.
Groups: 27% of 10 = 2.7 -> 3 each. Ranked by (-total, id): upper c01 c02 c03,
lower c08 c09 c10 (c07, c08, c09 tie on 1; ids decide).
"""

from __future__ import annotations

import math
import random

import pytest

from plugins.cbt.analysis.stats import (
    AnalysisError,
    ItemSpec,
    Response,
    analyse,
    cronbach_alpha,
    kr20,
)

KEYS = {"Q1": "A", "Q2": "B", "Q3": "C", "Q4": "D"}
CHOICES = {
    "c01": "ABCD", "c02": "ABCA", "c03": "ABDD", "c04": "AACB", "c05": "ABDC",
    "c06": "BBCA", "c07": "ACAB", "c08": "BDCC", "c09": "CBAA", "c10": "-A--",
}
ITEMS = [ItemSpec(q, label=f"Soal {q[1]}", options=("A", "B", "C", "D"),
                  key=frozenset(k)) for q, k in KEYS.items()]


def responses() -> list[Response]:
    out = []
    for number, (cand, picks) in enumerate(CHOICES.items()):
        for (item, key), pick in zip(KEYS.items(), picks, strict=True):
            seconds: float | None = None
            if item == "Q1":
                seconds = 10.0 * (number + 1)  # 10, 20, ... 100: mean 55
            elif item == "Q2" and cand in ("c01", "c02"):
                seconds = {"c01": 20.0, "c02": 40.0}[cand]  # the rest unknown: mean 30
            out.append(Response(cand, item, 1.0 if pick == key else 0.0,
                                () if pick == "-" else (pick,), seconds))
    return out


@pytest.fixture(scope="module")
def result():
    return analyse(ITEMS, responses())


def by_item(result, item):
    return next(s for s in result.items if s.item == item)


def test_facility_and_upper_lower_index(result):
    assert result.candidates == 10
    assert [by_item(result, q).facility for q in KEYS] == pytest.approx([0.6, 0.6, 0.5, 0.2])
    # Upper c01 c02 c03, lower c08 c09 c10:
    # Q1 upper 3/3, lower 0/3 -> D = 1;      Q2 upper 3/3, lower 1/3 (c09) -> 2/3
    # Q3 upper 2/3, lower 1/3 (c08) -> 1/3;  Q4 upper 2/3 (c01 c03), lower 0/3 -> 2/3
    assert [by_item(result, q).upper_lower for q in KEYS] == pytest.approx(
        [1, 2 / 3, 1 / 3, 2 / 3])
    assert by_item(result, "Q3").upper_facility == pytest.approx(2 / 3)
    assert by_item(result, "Q3").lower_facility == pytest.approx(1 / 3)
    assert all(by_item(result, q).group_size == 3 for q in KEYS)


def test_corrected_point_biserial(result):
    # r_pb = (M1 - M0) / s_rest * sqrt(p q), with the rest score (total minus the item).
    # Q1: rest = 3,2,2,1,1,2,0,1,1,0: mean 1.3, mean of squares 2.5, var 0.81, s = 0.9.
    #     right (c01-c05, c07): rest 3+2+2+1+1+0 = 9 / 6 = 1.5; wrong: 2+1+1+0 = 4 / 4 = 1.0
    #     r = 0.5 / 0.9 * sqrt(0.24) = 0.27217
    # Q2: rest = 3,2,2,2,1,1,1,1,0,0: s = 0.9; right 9/6 = 1.5, wrong 4/4 = 1.0: the same.
    # Q3: rest = 3,2,3,1,2,1,1,0,1,0; right (c01 c02 c04 c06 c08) 3+2+1+1+0 = 7/5,
    #     wrong (c03 c05 c07 c09 c10) 3+2+1+1+0 = 7/5: r = 0.
    # Q4: rest = 3,3,2,2,2,2,1,1,1,0: mean 1.7, squares 37/10, var 3.7 - 2.89 = 0.81;
    #     right (c01 c03) 5/2 = 2.5, wrong 12/8 = 1.5; r = 1 / 0.9 * sqrt(0.16) = 0.4444
    expected = [5 / 9 * math.sqrt(0.24), 5 / 9 * math.sqrt(0.24), 0.0, 4 / 9]
    got = [by_item(result, q).point_biserial for q in KEYS]
    assert got == pytest.approx(expected, abs=1e-12)


def test_distractor_table(result):
    q1 = {row.label: row for row in by_item(result, "Q1").distractors}
    # A (key): c01-c05, c07 = 6; upper all three, lower none.
    assert (q1["A"].is_key, q1["A"].count, q1["A"].upper, q1["A"].lower) == (True, 6, 3, 0)
    assert q1["A"].proportion == pytest.approx(0.6)
    assert q1["A"].upper_proportion == pytest.approx(1.0)
    # B: c06 and c08 (c08 is in the lower group).
    assert (q1["B"].count, q1["B"].upper, q1["B"].lower) == (2, 0, 1)
    assert q1["B"].lower_proportion == pytest.approx(1 / 3)
    # B's point-biserial against Q1's rest score: choosers c06 (2), c08 (1): mean 1.5;
    # the other eight 10/8 = 1.25; p = 0.2: r = 0.25 / 0.9 * 0.4 = 0.1111
    assert q1["B"].point_biserial == pytest.approx(0.25 / 0.9 * 0.4)
    # C: c09 alone (rest 1); the other nine 12/9; p = 0.1: r = (1 - 4/3) / 0.9 * 0.3
    assert q1["C"].point_biserial == pytest.approx(-1 / 3 / 0.9 * 0.3)
    # D: nobody.
    assert q1["D"].count == 0 and q1["D"].unused and not q1["A"].unused
    assert by_item(result, "Q1").omitted == 1  # c10
    # Q3's distractor D is chosen by c03 (upper) and c05, by nobody in the lower group.
    q3 = {row.label: row for row in by_item(result, "Q3").distractors}
    assert (q3["D"].count, q3["D"].upper, q3["D"].lower) == (2, 1, 0)
    assert q3["D"].upper_prefers and not q3["A"].upper_prefers  # A: c07 and c09 (lower)
    assert q3["B"].unused


def test_time_on_item(result):
    assert by_item(result, "Q1").mean_seconds == pytest.approx(55.0)
    assert by_item(result, "Q2").mean_seconds == pytest.approx(30.0)
    assert by_item(result, "Q3").mean_seconds is None


def test_kr20_and_sem(result):
    # sum pq = 0.24 + 0.24 + 0.25 + 0.16 = 0.89; var(total) = 1.29
    # KR-20 = 4/3 * (1 - 0.89/1.29) = 4/3 * 40/129 = 160/387 = 0.41344
    # SEM = sqrt(1.29) * sqrt(1 - 160/387) = sqrt(129/100 * 227/387) = sqrt(227/300)
    rel = result.reliability
    assert rel.method == "KR-20"
    assert rel.value == pytest.approx(160 / 387)
    assert rel.kr20 == pytest.approx(160 / 387)
    assert rel.alpha == pytest.approx(160 / 387)  # alpha equals KR-20 on 0/1 items
    assert rel.sem == pytest.approx(math.sqrt(227 / 300))
    assert (rel.items, rel.candidates, rel.note) == (4, 10, "")


def test_score_distribution(result):
    dist = result.distribution
    assert (dist.n, dist.mean, dist.median, dist.minimum, dist.maximum, dist.possible) == (
        10, pytest.approx(1.9), 2.0, 0.0, 4.0, 4.0)
    assert dist.sd == pytest.approx(math.sqrt(1.29))
    # Percents 100, 75, 75, 50, 50, 50, 25, 25, 25, 0: mean 47.5.
    assert dist.mean_percent == pytest.approx(47.5)
    counts = {(b.lower, b.upper): b.count for b in dist.bins if b.count}
    assert counts == {(0, 10): 1, (20, 30): 3, (50, 60): 3, (70, 80): 2, (90, 100): 1}
    assert len(dist.bins) == 10 and sum(b.count for b in dist.bins) == 10


def test_flags_in_indonesian(result):
    # Q3 discriminates not at all (r = 0) and its distractor D draws the upper group.
    q3 = by_item(result, "Q3")
    codes = [f.code for f in q3.flags]
    assert codes == ["low_discrimination", "distractor_upper", "distractor_unused"]
    assert "Daya beda rendah" in q3.flags[0].reason and "0,00" in q3.flags[0].reason
    assert "Pengecoh D lebih banyak dipilih kelompok atas (1 peserta)" in q3.flags[1].reason
    assert q3.flagged
    # Q4 at p = 0.20 exactly is not "too hard" (the rule is p < 0.20), and r = 0.44 is fine.
    assert [f.code for f in by_item(result, "Q4").flags] == []
    # Q1: only an unused distractor, which is information, not a warning.
    q1 = by_item(result, "Q1")
    assert [(f.code, f.severity) for f in q1.flags] == [("distractor_unused", "info")]
    assert not q1.flagged
    assert [s.item for s in result.flagged] == ["Q3"]
    assert "Hanya 10 peserta" in result.warnings[0]


def test_too_easy_too_hard_and_negative():
    # Six candidates a-f. G1-G4 are sound items; N is right only for e and f, E for everyone,
    # H for no one. Totals: a 5, b 5, c 4, d 3, e 3, f 2.
    right = {"G1": "abcd", "G2": "abc", "G3": "ab", "G4": "abcde", "N": "ef", "E": "abcdef",
             "H": ""}
    items = [ItemSpec(i) for i in right]
    data = [Response(c, i, 1.0 if c in who else 0.0) for i, who in right.items()
            for c in "abcdef"]
    result = analyse(items, data)
    assert result.totals == {"a": 5, "b": 5, "c": 4, "d": 3, "e": 3, "f": 2}
    codes = {s.item: [f.code for f in s.flags] for s in result.items}
    # E: p = 1 > 0.9; nobody differs so r is undefined and the upper-lower index (1 - 1 = 0)
    # stands in. H: p = 0. N: the lowest scorers answer it, r < 0.
    assert codes == {"G1": [], "G2": [], "G3": [], "G4": [], "N": ["negative_discrimination"],
                     "E": ["too_easy", "low_discrimination"],
                     "H": ["too_hard", "low_discrimination"]}
    n = next(s for s in result.items if s.item == "N")
    # N's rest = 5,5,4,3,2,1 (mean 20/6); right e f mean 3/2, wrong 17/4; p = 1/3.
    s_rest = math.sqrt(sum((x - 20 / 6) ** 2 for x in (5, 5, 4, 3, 2, 1)) / 6)
    assert n.point_biserial == pytest.approx((3 / 2 - 17 / 4) / s_rest * math.sqrt(2 / 9))
    assert "Daya beda negatif" in n.flags[0].reason and "kunci jawaban" in n.flags[0].reason
    e = next(s for s in result.items if s.item == "E")
    assert e.point_biserial is None and e.upper_lower == 0
    assert "Terlalu mudah" in e.flags[0].reason and "1,00" in e.flags[0].reason


def test_partial_credit_uses_alpha():
    # Three items worth 2 points, four candidates:
    #   c1: 2 2 1 = 5   c2: 1 2 1 = 4   c3: 1 0 1 = 2   c4: 0 0 1 = 1
    # item variances 0.5, 1.0, 0 (sum 1.5); totals 5,4,2,1: mean 3, variance 10/4 = 2.5
    # alpha = 3/2 * (1 - 1.5/2.5) = 0.6; SEM = sqrt(2.5) * sqrt(0.4) = 1
    scores = {"c1": (2, 2, 1), "c2": (1, 2, 1), "c3": (1, 0, 1), "c4": (0, 0, 1)}
    items = [ItemSpec(f"E{j}", max_points=2) for j in range(3)]
    data = [Response(c, f"E{j}", float(s)) for c, row in scores.items()
            for j, s in enumerate(row)]
    result = analyse(items, data)
    rel = result.reliability
    assert (rel.method, rel.kr20) == ("alpha", None)
    assert rel.value == pytest.approx(0.6) and rel.alpha == pytest.approx(0.6)
    assert rel.sem == pytest.approx(1.0)
    e0 = result.items[0]
    assert e0.facility == pytest.approx(0.5)  # mean 1 of 2 points
    # group size round(0.27 * 4) = 1: upper c1 (2 points), lower c4 (0): (2 - 0) / 2 = 1
    assert e0.upper_lower == pytest.approx(1.0)


# -- the reliability coefficient against the textbook formulas, written out independently --


def textbook_alpha(matrix):
    """Cronbach (1951) with sample variances (n - 1): the ratio is the same either way."""
    def var(xs):
        m = sum(xs) / len(xs)
        return sum((x - m) ** 2 for x in xs) / (len(xs) - 1)
    k = len(matrix[0])
    items = sum(var([row[j] for row in matrix]) for j in range(k))
    return k / (k - 1) * (1 - items / var([sum(row) for row in matrix]))


def textbook_kr20(matrix):
    """Kuder-Richardson 20: k/(k-1) * (1 - sum p q / sigma^2), sigma^2 over N."""
    n, k = len(matrix), len(matrix[0])
    ps = [sum(row[j] for row in matrix) / n for j in range(k)]
    totals = [sum(row) for row in matrix]
    mean = sum(totals) / n
    var = sum((t - mean) ** 2 for t in totals) / n
    return k / (k - 1) * (1 - sum(p * (1 - p) for p in ps) / var)


def test_reliability_matches_the_reference_formulas():
    rng = random.Random(20260302)
    for trial in range(20):
        n, k = rng.randint(5, 60), rng.randint(2, 25)
        ability = [rng.gauss(0, 1) for _ in range(n)]
        hardness = [rng.gauss(0, 1) for _ in range(k)]
        binary = [[1.0 if a + rng.gauss(0, 1) > h else 0.0 for h in hardness]
                  for a in ability]
        if len({sum(r) for r in binary}) < 2:
            continue
        items = [ItemSpec(f"I{j}") for j in range(k)]
        data = [Response(f"p{i:02d}", f"I{j}", binary[i][j]) for i in range(n)
                for j in range(k)]
        rel = analyse(items, data).reliability
        assert rel.kr20 == pytest.approx(textbook_kr20(binary), abs=1e-9), trial
        assert rel.alpha == pytest.approx(textbook_alpha(binary), abs=1e-9), trial
        assert kr20(binary, [1.0] * k) == pytest.approx(cronbach_alpha(binary), abs=1e-9)
        # Polytomous: scores 0-4 on each item.
        poly = [[float(max(0, min(4, round(2 + a - h + rng.gauss(0, 1))))) for h in hardness]
                for a in ability]
        if len({sum(r) for r in poly}) < 2:
            continue
        items4 = [ItemSpec(f"I{j}", max_points=4) for j in range(k)]
        data4 = [Response(f"p{i:02d}", f"I{j}", poly[i][j]) for i in range(n)
                 for j in range(k)]
        rel4 = analyse(items4, data4).reliability
        assert rel4.alpha == pytest.approx(textbook_alpha(poly), abs=1e-9), trial


# -- papers that differ, essays waiting, bad data ------------------------------------------


def test_drawn_items_and_pending_essays():
    # Each candidate got Q1 and Q2; only c1 and c2 got Q3 (a random draw); c3's essay E
    # still waits for its rater.
    items = [ItemSpec("Q1"), ItemSpec("Q2"), ItemSpec("Q3"), ItemSpec("E", max_points=5)]
    data = [
        Response("c1", "Q1", 1.0), Response("c1", "Q2", 1.0), Response("c1", "Q3", 1.0),
        Response("c1", "E", 4.0),
        Response("c2", "Q1", 0.0), Response("c2", "Q2", 1.0), Response("c2", "Q3", 0.0),
        Response("c2", "E", 2.0),
        Response("c3", "Q1", 0.0), Response("c3", "Q2", 0.0), Response("c3", "E", None),
    ]
    result = analyse(items, data)
    e = next(s for s in result.items if s.item == "E")
    assert (e.n, e.pending, e.facility) == (2, 1, pytest.approx(0.6))
    q3 = next(s for s in result.items if s.item == "Q3")
    assert q3.n == 2
    rel = result.reliability
    # Common items: Q1, Q2, E; c3 lacks a score for E, so two candidates remain.
    assert (rel.items, rel.candidates) == (3, 2)
    assert "3 butir yang diterima semua peserta (dari 4 butir)" in rel.note
    assert "1 peserta belum dinilai lengkap" in rel.note
    assert any("1 jawaban belum dinilai" in w for w in result.warnings)
    # Totals count what is scored; maxima differ per paper (c3 had no Q3).
    assert result.totals == {"c1": 7.0, "c2": 3.0, "c3": 0.0}
    assert result.distribution.possible is None


@pytest.mark.parametrize(("items", "data", "message"), [
    ([ItemSpec("Q1")], [Response("c1", "Q9", 1.0)], "response 1 (candidate c1, item Q9): no such"),
    ([ItemSpec("Q1")], [Response("c1", "Q1", 1.0), Response("c1", "Q1", 0.0)],
     "response 2 (candidate c1, item Q1): the candidate has this item twice"),
    ([ItemSpec("Q1")], [Response("c1", "Q1", 2.0)], "score 2.0 is above the item's maximum"),
    ([ItemSpec("Q1", options=("A", "B"), key=frozenset("A"))],
     [Response("c1", "Q1", 0.0, ("Z",))], "chose option(s) Z"),
    ([ItemSpec("Q1", options=("A",), key=frozenset("B"))], [], "key names options"),
    ([ItemSpec("Q1", max_points=0)], [], "must be above 0"),
    ([ItemSpec("Q1")], [Response("c1", "Q1", 1.0, seconds=-3)], "time on the item"),
])
def test_bad_data_is_refused_with_the_reason(items, data, message):
    with pytest.raises(AnalysisError, match=None) as info:
        analyse(items, data)
    assert message in str(info.value)


def test_empty_and_degenerate_exams():
    empty = analyse([ItemSpec("Q1")], [])
    assert empty.candidates == 0 and empty.distribution.n == 0
    assert empty.reliability.value is None
    same = analyse([ItemSpec("Q1"), ItemSpec("Q2")],
                   [Response(c, q, 1.0) for c in ("a", "b") for q in ("Q1", "Q2")])
    assert same.reliability.value is None and "sama" in same.reliability.note
    assert same.to_dict()["items"][0]["flagged"] is True
