"""Item analysis of an exam, from plain data: no database, no Flask.

Input is one :class:`ItemSpec` per item and one :class:`Response` per item on a
candidate's paper (an item a candidate was not given has no response; an item given but
left blank has a response with ``choices=()`` and score 0). Output is an
:class:`ExamAnalysis` of dataclasses that turn into JSON with :meth:`ExamAnalysis.to_dict`.

Conventions, so the numbers can be checked by hand:

* Variances and standard deviations divide by N (population), as KR-20's ``p*q`` does,
  so KR-20 and Cronbach's alpha agree exactly on dichotomous items.
* Facility ``p`` is the mean score on the item divided by its maximum: the proportion
  correct for a right/wrong item, the mean share of points for partial credit.
* The point-biserial is *corrected*: the Pearson correlation of the item score with the
  rest score (total minus the item), so an item does not correlate with itself. For a
  0/1 item Pearson's r is the point-biserial; for a partial-credit item it is the
  item-rest correlation.
* Upper and lower groups are the top and bottom 27% of the item's takers by total score
  (``round(0.27 * N)``, at least one), ties broken by candidate id so results are
  repeatable. The upper-lower index is ``(mean upper - mean lower) / max points``.
* A response not yet scored (an essay waiting for its rater) is left out of its item's
  statistics and of the reliability; the exam says how many are pending.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

GROUP_SHARE = 0.27
HARD_BELOW = 0.2
EASY_ABOVE = 0.9
LOW_DISCRIMINATION = 0.2
SMALL_N = 30
EPS = 1e-9

__all__ = [
    "AnalysisError", "Bin", "DistractorRow", "Distribution", "ExamAnalysis", "Flag",
    "ItemSpec", "ItemStats", "Reliability", "Response", "analyse", "cronbach_alpha",
    "distribution", "kr20", "pearson", "pvariance",
]


class AnalysisError(ValueError):
    """The data cannot be analysed as given; the message says which response and why."""


# -- input -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemSpec:
    """An item as analysed: its maximum points and, for choice items, options and key.

    ``options`` are option ids in authored order; ``option_labels`` (same length, optional)
    are what staff call them (``A``, ``B``...), defaulting to letters.
    """

    id: str
    label: str = ""
    max_points: float = 1.0
    options: tuple[str, ...] = ()
    key: frozenset[str] = frozenset()
    option_labels: tuple[str, ...] = ()
    section: str = ""

    def option_label(self, index: int) -> str:
        if index < len(self.option_labels) and self.option_labels[index]:
            return self.option_labels[index]
        return _letters(index)


@dataclass(frozen=True)
class Response:
    """One item on one candidate's paper: the points earned, the options chosen, the time."""

    candidate: str
    item: str
    score: float | None
    choices: tuple[str, ...] = ()
    seconds: float | None = None
    answered: bool = True  # for a choice item, no choice also means unanswered


# -- output ------------------------------------------------------------------------------------


@dataclass
class Flag:
    """Why an item deserves a look; ``reason`` is Indonesian text for staff."""

    code: str
    reason: str
    severity: str = "warning"  # "warning": review the item; "info": worth knowing


@dataclass
class DistractorRow:
    option: str
    label: str
    is_key: bool
    count: int
    proportion: float
    upper: int
    upper_proportion: float
    lower: int
    lower_proportion: float
    point_biserial: float | None
    unused: bool = False
    upper_prefers: bool = False


@dataclass
class ItemStats:
    item: str
    label: str
    section: str
    max_points: float
    n: int  # takers with a score
    omitted: int
    pending: int
    mean_score: float | None
    facility: float | None
    point_biserial: float | None
    upper_lower: float | None
    upper_facility: float | None
    lower_facility: float | None
    group_size: int
    mean_seconds: float | None
    distractors: list[DistractorRow] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return any(f.severity == "warning" for f in self.flags)


@dataclass
class Bin:
    lower: float  # percent of the maximum, inclusive
    upper: float  # exclusive, except the last bin, which holds 100%
    count: int


@dataclass
class Distribution:
    n: int
    mean: float | None
    median: float | None
    sd: float | None
    minimum: float | None
    maximum: float | None
    mean_percent: float | None
    possible: float | None  # the maximum total, when every paper has the same one
    bins: list[Bin] = field(default_factory=list)


@dataclass
class Reliability:
    method: str  # "KR-20", "alpha" or "" when it cannot be computed
    value: float | None
    kr20: float | None
    alpha: float | None
    sem: float | None
    items: int
    candidates: int
    note: str = ""


@dataclass
class ExamAnalysis:
    candidates: int
    items: list[ItemStats]
    reliability: Reliability
    distribution: Distribution
    totals: dict[str, float]
    warnings: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> list[ItemStats]:
        return [i for i in self.items if i.flagged]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for stats, row in zip(self.items, out["items"], strict=True):
            row["flagged"] = stats.flagged
        return out


# -- small statistics, each usable on its own ------------------------------------------------------


def pvariance(values: Sequence[float]) -> float:
    """Population variance (divides by N); 0 for fewer than two values."""
    return statistics.pvariance(values) if len(values) > 1 else 0.0


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r, or ``None`` where either variable does not vary."""
    if len(xs) != len(ys):
        raise ValueError("pearson needs two sequences of the same length")
    n = len(xs)
    if n < 2:
        return None
    mx, my = math.fsum(xs) / n, math.fsum(ys) / n
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    syy = math.fsum((y - my) ** 2 for y in ys)
    if sxx <= EPS or syy <= EPS:
        return None
    sxy = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def cronbach_alpha(matrix: Sequence[Sequence[float]]) -> float | None:
    """Alpha of a candidates x items score matrix: k/(k-1) * (1 - sum var_i / var_total)."""
    if len(matrix) < 2 or len(matrix[0]) < 2:
        return None
    k = len(matrix[0])
    totals = [math.fsum(row) for row in matrix]
    total_var = pvariance(totals)
    if total_var <= EPS:
        return None
    item_vars = math.fsum(pvariance([row[j] for row in matrix]) for j in range(k))
    return k / (k - 1) * (1 - item_vars / total_var)


def kr20(matrix: Sequence[Sequence[float]], max_points: Sequence[float]) -> float | None:
    """KR-20 of right/wrong items (each score 0 or its maximum): k/(k-1) * (1 - sum pq / var).

    The total variance is of the 0/1 totals, so items worth more than one point count as
    one, as the formula assumes. ``None`` if an item is not right/wrong.
    """
    if len(matrix) < 2 or len(matrix[0]) < 2:
        return None
    k = len(matrix[0])
    binary: list[list[float]] = []
    for row in matrix:
        out = []
        for score, top in zip(row, max_points, strict=True):
            if abs(score) <= EPS:
                out.append(0.0)
            elif abs(score - top) <= EPS:
                out.append(1.0)
            else:
                return None
        binary.append(out)
    n = len(binary)
    ps = [math.fsum(r[j] for r in binary) / n for j in range(k)]
    total_var = pvariance([math.fsum(r) for r in binary])
    if total_var <= EPS:
        return None
    return k / (k - 1) * (1 - math.fsum(p * (1 - p) for p in ps) / total_var)


def distribution(totals: Sequence[float], possible: Sequence[float] | float | None = None,
                 bins: int = 10) -> Distribution:
    """Mean, median, SD (divides by N), range, and a histogram of percent of the maximum.

    ``possible`` is the maximum total, one per candidate when papers differ.
    """
    n = len(totals)
    if isinstance(possible, int | float):
        maxima: list[float] = [float(possible)] * n
    elif possible is None:
        maxima = []
    else:
        maxima = [float(m) for m in possible]
    if n == 0:
        return Distribution(0, None, None, None, None, None, None, None,
                            _bins([], bins))
    percents = [100.0 * t / m for t, m in zip(totals, maxima, strict=True) if m > 0]
    same = maxima and all(abs(m - maxima[0]) <= EPS for m in maxima)
    return Distribution(
        n=n, mean=statistics.fmean(totals), median=float(statistics.median(totals)),
        sd=math.sqrt(pvariance(totals)), minimum=min(totals), maximum=max(totals),
        mean_percent=statistics.fmean(percents) if percents else None,
        possible=maxima[0] if same else None, bins=_bins(percents, bins),
    )


def _bins(percents: Iterable[float], count: int) -> list[Bin]:
    count = max(1, count)
    width = 100.0 / count
    out = [Bin(round(i * width, 6), round((i + 1) * width, 6), 0) for i in range(count)]
    for pct in percents:
        index = min(count - 1, max(0, math.floor(pct / width + EPS)))
        out[index].count += 1
    return out


# -- Indonesian text ---------------------------------------------------------------------------


def _letters(index: int) -> str:
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(65 + rest) + out
    return out


def _id(value: float, digits: int = 2) -> str:
    """A number as Indonesian writes it: a comma before the decimals."""
    text = f"{value:.{digits}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text.replace(".", ",")


def _pct(value: float) -> str:
    return f"{_id(100 * value, 0)}%"


# -- the analysis ------------------------------------------------------------------------------


def _group_size(n: int) -> int:
    return max(1, int(GROUP_SHARE * n + 0.5)) if n >= 2 else 0


def _check(items: Sequence[ItemSpec], responses: Sequence[Response]) -> dict[str, ItemSpec]:
    by_id: dict[str, ItemSpec] = {}
    for spec in items:
        if spec.id in by_id:
            raise AnalysisError(f"item {spec.id} is listed twice")
        if not spec.max_points > 0:
            raise AnalysisError(f"item {spec.id} has maximum points {spec.max_points}; "
                                "it must be above 0")
        if not set(spec.key) <= set(spec.options):
            raise AnalysisError(f"item {spec.id}: its key names options it does not have")
        by_id[spec.id] = spec
    seen: set[tuple[str, str]] = set()
    for number, resp in enumerate(responses, start=1):
        where = f"response {number} (candidate {resp.candidate}, item {resp.item})"
        if resp.item not in by_id:
            raise AnalysisError(f"{where}: no such item")
        spec = by_id[resp.item]
        if (resp.candidate, resp.item) in seen:
            raise AnalysisError(f"{where}: the candidate has this item twice")
        seen.add((resp.candidate, resp.item))
        if resp.score is not None:
            if not math.isfinite(resp.score):
                raise AnalysisError(f"{where}: the score is not a number")
            if resp.score > spec.max_points + EPS:
                raise AnalysisError(f"{where}: score {resp.score} is above the item's "
                                    f"maximum {spec.max_points}")
        if resp.seconds is not None and not (math.isfinite(resp.seconds)
                                             and resp.seconds >= 0):
            raise AnalysisError(f"{where}: the time on the item is not a positive number")
        unknown = [c for c in resp.choices if c not in spec.options]
        if unknown and spec.options:
            raise AnalysisError(f"{where}: chose option(s) {', '.join(unknown)} that the item "
                                "does not have")
    return by_id


def _item_flags(stats: ItemStats) -> list[Flag]:
    flags: list[Flag] = []
    p = stats.facility
    if p is not None and p < HARD_BELOW:
        flags.append(Flag("too_hard", f"Terlalu sulit: tingkat kesukaran p = {_id(p)} "
                          f"(di bawah {_id(HARD_BELOW)}); periksa kunci, kejelasan soal, "
                          "atau apakah materi sudah diajarkan."))
    elif p is not None and p > EASY_ABOVE:
        flags.append(Flag("too_easy", f"Terlalu mudah: tingkat kesukaran p = {_id(p)} "
                          f"(di atas {_id(EASY_ABOVE)}); soal hampir tidak membedakan peserta."))
    r = stats.point_biserial
    measure, name = (r, "korelasi point-biserial") if r is not None else (
        stats.upper_lower, "indeks kelompok atas-bawah")
    if measure is not None and measure < 0:
        flags.append(Flag("negative_discrimination",
                          f"Daya beda negatif ({name} {_id(measure)}): peserta berskor rendah "
                          "lebih sering menjawab benar daripada peserta berskor tinggi; "
                          "periksa kunci jawaban."))
    elif measure is not None and measure < LOW_DISCRIMINATION:
        flags.append(Flag("low_discrimination",
                          f"Daya beda rendah ({name} {_id(measure)}, di bawah "
                          f"{_id(LOW_DISCRIMINATION)}): soal kurang membedakan peserta "
                          "berkemampuan tinggi dan rendah."))
    for row in stats.distractors:
        if row.upper_prefers:
            flags.append(Flag("distractor_upper",
                              f"Pengecoh {row.label} lebih banyak dipilih kelompok atas "
                              f"({row.upper} peserta) daripada kelompok bawah ({row.lower} "
                              "peserta): mungkin juga benar atau menyesatkan."))
    unused = [row.label for row in stats.distractors if row.unused]
    if unused:
        flags.append(Flag("distractor_unused",
                          f"Pengecoh {', '.join(unused)} tidak dipilih siapa pun: tidak "
                          "berfungsi, pertimbangkan menggantinya.", severity="info"))
    return flags


def _analyse_item(spec: ItemSpec, rows: list[Response], totals: dict[str, float]
                  ) -> ItemStats:
    scored = [r for r in rows if r.score is not None]
    pending = len(rows) - len(scored)
    n = len(scored)
    scores = [float(r.score) for r in scored if r.score is not None]
    rest = [totals[r.candidate] - float(r.score) for r in scored if r.score is not None]
    times = [r.seconds for r in rows if r.seconds is not None]
    mean = statistics.fmean(scores) if scores else None
    ranked = sorted(scored, key=lambda r: (-totals[r.candidate], r.candidate))
    g = _group_size(n)
    upper, lower = (ranked[:g], ranked[n - g:]) if g else ([], [])

    def share(group: list[Response]) -> float | None:
        if not group:
            return None
        return math.fsum(float(r.score or 0.0) for r in group) / len(group) / spec.max_points

    up, low = share(upper), share(lower)
    stats = ItemStats(
        item=spec.id, label=spec.label or spec.id, section=spec.section,
        max_points=spec.max_points, n=n,
        omitted=sum(1 for r in rows if not r.answered or (spec.options and not r.choices)),
        pending=pending, mean_score=mean,
        facility=mean / spec.max_points if mean is not None else None,
        point_biserial=pearson(scores, rest),
        upper_lower=(up - low) if up is not None and low is not None else None,
        upper_facility=up, lower_facility=low, group_size=g,
        mean_seconds=statistics.fmean(times) if times else None,
    )
    if spec.options:
        upper_ids = {r.candidate for r in upper}
        lower_ids = {r.candidate for r in lower}
        for index, option in enumerate(spec.options):
            chose = [option in r.choices for r in scored]
            count = sum(chose)
            n_up = sum(1 for r in scored if r.candidate in upper_ids and option in r.choices)
            n_low = sum(1 for r in scored if r.candidate in lower_ids and option in r.choices)
            is_key = option in spec.key
            stats.distractors.append(DistractorRow(
                option=option, label=spec.option_label(index), is_key=is_key, count=count,
                proportion=count / n if n else 0.0, upper=n_up,
                upper_proportion=n_up / g if g else 0.0, lower=n_low,
                lower_proportion=n_low / g if g else 0.0,
                point_biserial=pearson([1.0 if c else 0.0 for c in chose], rest),
                unused=not is_key and n > 0 and count == 0,
                upper_prefers=not is_key and n_up > n_low,
            ))
    stats.flags = _item_flags(stats)
    return stats


def _reliability(items: Sequence[ItemSpec], responses: Sequence[Response],
                 candidates: Sequence[str]) -> Reliability:
    """KR-20 or alpha on the items every candidate was given and has a score for."""
    score: dict[tuple[str, str], float] = {
        (r.candidate, r.item): float(r.score) for r in responses if r.score is not None}
    given: dict[str, set[str]] = {}
    for r in responses:
        given.setdefault(r.item, set()).add(r.candidate)
    everyone = set(candidates)
    common = [s for s in items if given.get(s.id, set()) == everyone and everyone]
    complete = [c for c in candidates if all((c, s.id) in score for s in common)]
    note = ""
    if len(common) < len(given):
        note = (f"Reliabilitas dihitung dari {len(common)} butir yang diterima semua peserta "
                f"(dari {len(given)} butir).")
    if len(complete) < len(candidates):
        note = (note + " " if note else "") + (
            f"{len(candidates) - len(complete)} peserta belum dinilai lengkap dan tidak "
            "diikutkan.")
    if len(common) < 2 or len(complete) < 2:
        return Reliability("", None, None, None, None, len(common), len(complete),
                           (note + " " if note else "") + "Reliabilitas butuh sedikitnya "
                           "2 butir dan 2 peserta.")
    matrix = [[score[(c, s.id)] for s in common] for c in complete]
    alpha = cronbach_alpha(matrix)
    k20 = kr20(matrix, [s.max_points for s in common])
    method, value = ("KR-20", k20) if k20 is not None else ("alpha", alpha)
    if alpha is None:
        return Reliability("", None, None, None, None, len(common), len(complete),
                           (note + " " if note else "") + "Skor total semua peserta sama; "
                           "reliabilitas tidak dapat dihitung.")
    sd = math.sqrt(pvariance([math.fsum(row) for row in matrix]))
    # A negative coefficient means no reliability at all; the error is then the whole SD.
    sem = sd * math.sqrt(1 - max(0.0, min(1.0, value))) if value is not None else None
    return Reliability(method, value, k20, alpha, sem, len(common), len(complete), note)


def analyse(items: Sequence[ItemSpec], responses: Sequence[Response], *, bins: int = 10
            ) -> ExamAnalysis:
    """Analyse an exam: per-item statistics, reliability, score distribution and flags."""
    by_id = _check(items, responses)
    candidates = sorted({r.candidate for r in responses})
    totals: dict[str, float] = dict.fromkeys(candidates, 0.0)
    possible: dict[str, float] = dict.fromkeys(candidates, 0.0)
    per_item: dict[str, list[Response]] = {s.id: [] for s in items}
    for r in responses:
        per_item[r.item].append(r)
        possible[r.candidate] += by_id[r.item].max_points
        if r.score is not None:
            totals[r.candidate] += r.score
    stats = [_analyse_item(spec, per_item[spec.id], totals) for spec in items]
    warnings: list[str] = []
    if 0 < len(candidates) < SMALL_N:
        warnings.append(f"Hanya {len(candidates)} peserta: statistik butir kurang stabil "
                        f"(disarankan sedikitnya {SMALL_N}).")
    pending = sum(s.pending for s in stats)
    if pending:
        warnings.append(f"{pending} jawaban belum dinilai (misalnya esai); angka akan "
                        "berubah setelah penilaian selesai.")
    return ExamAnalysis(
        candidates=len(candidates), items=stats,
        reliability=_reliability(items, responses, candidates),
        distribution=distribution([totals[c] for c in candidates],
                                  [possible[c] for c in candidates], bins),
        totals=totals, warnings=warnings,
    )
