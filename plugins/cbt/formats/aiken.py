"""Aiken, the simplest question format Moodle reads: single-choice items only.

::

    Ibu kota Indonesia adalah?
    A. Jakarta
    B) Bandung
    ANSWER: A

The question may run over several lines; options are ``A.`` or ``A)``; the answer line
is ``ANSWER:`` (Indonesian files often say ``KUNCI:`` or ``JAWABAN:``, accepted too).
Every problem is reported with its line; the questions around it still import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from plugins.cbt.content import Choice, ItemContent, ItemDraft, ItemKey, choice_ids
from plugins.cbt.formats import Entry, Parsed, decode_text
from plugins.cbt.richtext import from_plain

_OPTION = re.compile(r"^([A-Za-z])\s*[.)]\s+(.*\S)\s*$")
_ANSWER = re.compile(r"^(?:ANSWER|KUNCI|JAWABAN)\s*:\s*(.*?)\s*$", re.IGNORECASE)


@dataclass
class _Question:
    line: int
    stem: list[str] = field(default_factory=list)
    options: list[tuple[str, str, int]] = field(default_factory=list)  # letter, text, line


def _finish(q: _Question, answer: str, answer_line: int, result: Parsed) -> None:
    if len(q.options) < 2:
        result.problem(answer_line, "a question needs at least two options (A., B., ...) "
                       "before its ANSWER line")
        return
    letters = [letter for letter, _t, _l in q.options]
    answer = answer.strip().upper()
    if not re.fullmatch(r"[A-Z]", answer):
        result.problem(answer_line, f"ANSWER must be one option letter, not {answer!r}")
        return
    if answer not in letters:
        result.problem(answer_line, f"ANSWER {answer} names no option (options: "
                       f"{', '.join(letters)})")
        return
    ids = choice_ids(len(q.options))
    draft = ItemDraft(
        type="single",
        content=ItemContent(
            stem=from_plain("\n".join(q.stem)),
            choices=[Choice(id=cid, html=from_plain(text))
                     for cid, (_l, text, _n) in zip(ids, q.options, strict=True)]),
        key=ItemKey(weights={ids[letters.index(answer)]: 1.0}),
    )
    result.entries.append(Entry(q.line, draft))


def parse(data: bytes) -> Parsed:
    result = Parsed()
    current: _Question | None = None
    skipping = False  # after a broken option, up to that question's ANSWER line
    for number, raw in enumerate(decode_text(data).splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        answer = _ANSWER.match(line)
        if skipping:
            skipping = answer is None
            continue
        if answer:
            if current is None or not current.stem:
                result.problem(number, "ANSWER line without a question before it")
            else:
                _finish(current, answer.group(1), number, result)
            current = None
            continue
        option = _OPTION.match(line)
        if option and current is not None and current.stem:
            letter = option.group(1).upper()
            expected = chr(ord("A") + len(current.options))
            if any(letter == seen for seen, _t, _l in current.options):
                result.problem(number, f"option {letter} appears twice")
                current, skipping = None, True
                continue
            if letter != expected:
                result.problem(number, f"option {letter} comes where {expected} was expected")
                current, skipping = None, True
                continue
            current.options.append((letter, option.group(2), number))
            continue
        if current is not None and current.options:
            # Text after the options: the previous question never got its ANSWER line.
            result.problem(current.line, "the question has no ANSWER line")
            current = None
        if current is None:
            current = _Question(line=number)
        current.stem.append(line)
    if current is not None:
        result.problem(current.line, "the question has no ANSWER line" if current.options
                       else "text at the end of the file is not a question (no options)")
    return result
