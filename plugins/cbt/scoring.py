"""How a response scores against an item's key, as a share of the item's points.

The share is in [-1, 1]: negative only where the key says so (a wrong option weighted
-50%), never from exam-level negative marking, which the exam applies on top
(:func:`points`). Essays return ``None``: a person scores them.

Responses: ``single`` a choice id; ``multiple`` a list of choice ids; ``truefalse`` a
bool; ``short`` a string; ``numeric`` a number or a string (comma or dot decimals);
``matching`` a mapping of prompt id to answer id; ``essay`` text.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

from plugins.cbt.content import ItemContent, ItemKey, SpaceRule


def normalise(text: str, *, case_sensitive: bool, spaces: SpaceRule) -> str:
    text = unicodedata.normalize("NFC", text)
    if spaces == "trim":
        text = text.strip()
    elif spaces == "collapse":
        text = re.sub(r"\s+", " ", text).strip()
    elif spaces == "ignore":
        text = re.sub(r"\s+", "", text)
    return text if case_sensitive else text.casefold()


def parse_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    text = value.strip().replace(" ", "")
    # Indonesian writes 3,14; accept it when there is no dot to disagree with.
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _clamp(x: float, lo: float = -1.0, hi: float = 1.0) -> float:
    return max(lo, min(hi, x))


def fraction(item_type: str, content: ItemContent, key: ItemKey, response: Any) -> float | None:
    """The share of the item's points ``response`` earns; ``None`` for essays."""
    if item_type == "essay":
        return None
    if response is None or response == "" or response == [] or response == {}:
        return 0.0
    if item_type == "single":
        return _clamp(key.weights.get(str(response), 0.0))
    if item_type == "multiple":
        chosen = {str(x) for x in response} if isinstance(response, list | tuple) else set()
        if key.scoring == "all_or_nothing":
            correct = {cid for cid, w in key.weights.items() if w > 0}
            return 1.0 if chosen == correct else 0.0
        return _clamp(sum(key.weights.get(cid, 0.0) for cid in chosen), 0.0, 1.0)
    if item_type == "truefalse":
        if not isinstance(response, bool):
            return 0.0
        return 1.0 if response == key.truth else 0.0
    if item_type == "short":
        if not isinstance(response, str):
            return 0.0
        given = normalise(response, case_sensitive=key.case_sensitive, spaces=key.spaces)
        best = 0.0
        for acc in key.accepted:
            expected = normalise(acc.text, case_sensitive=key.case_sensitive, spaces=key.spaces)
            if given == expected and acc.fraction > best:
                best = acc.fraction
        return best
    if item_type == "numeric":
        number = parse_number(response)
        if number is None:
            return 0.0
        best = 0.0
        for ans in key.numbers:
            # A relative slack of 1e-9 so that 0.1+0.2 within tolerance 0 of 0.3 counts.
            if abs(number - ans.value) <= ans.tolerance + 1e-9 * max(1.0, abs(ans.value)):
                best = max(best, ans.fraction)
        return best
    if item_type == "matching":
        if not isinstance(response, dict) or not key.pairs:
            return 0.0
        right = sum(1 for p, a in key.pairs.items() if response.get(p) == a)
        if key.scoring == "all_or_nothing":
            return 1.0 if right == len(key.pairs) else 0.0
        return right / len(key.pairs)
    raise ValueError(f"unknown item type {item_type!r}")


def points(share: float | None, item_points: float, negative_marking: float, *,
           answered: bool = True) -> float | None:
    """Points for one item: the share of its points, and the exam's negative marking.

    ``negative_marking`` is the share of the item's points taken away for a wrong answer
    (0.25 takes a quarter); an unanswered item is not wrong and loses nothing. ``None``
    (an essay waiting for a person) stays ``None``.
    """
    if share is None:
        return None
    if not answered:
        return 0.0
    if share <= 0 and negative_marking > 0:
        return min(share * item_points, -negative_marking * item_points)
    return share * item_points
