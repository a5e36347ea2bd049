"""GIFT, Moodle's text format for questions: import every type Ruang has, and export a bank.

The PyPI GIFT parsers are unmaintained and stop at the first error, while a teacher needs
every problem with its line, so the grammar is parsed here, following Moodle's
``qformat_gift``: questions separated by blank lines; ``//`` comments (with Moodle's
``[tag:...]`` markers); ``$CATEGORY:``; ``::title::``; ``[html]``/``[plain]``; answers
in ``{...}`` (``=`` right, ``~`` wrong, ``%50%`` weights, ``#`` feedback, ``####`` general
feedback, ``->`` matching, ``#`` numeric with ``:tolerance`` or ``min..max``, ``T``/``F``,
``{}`` essay); ``\\`` escapes ``~ = # { } :`` and ``\\n`` is a line break.

Ruang adds one comment marker Moodle ignores, ``// [points:2]``, so a round trip keeps the
item's points. What GIFT cannot say (short-answer case and space rules, matching
distractors' markup, essay rubrics) uses Ruang's defaults on import.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from plugins.cbt.content import (
    Accepted,
    Choice,
    ItemContent,
    ItemDraft,
    ItemKey,
    MatchAnswer,
    MatchPrompt,
    NumericAnswer,
    choice_ids,
)
from plugins.cbt.formats import Entry, Parsed, decode_text, rich
from plugins.cbt.richtext import (
    RichTextError,
    data_uri,
    from_plain,
    looks_like_html,
    rewrite_images,
    to_plain,
)

SPECIAL = "~=#{}:"
_TAG_MARK = re.compile(r"\[tag:([^\]]+)\]", re.IGNORECASE)
_POINTS_MARK = re.compile(r"\[points:\s*([0-9]+(?:\.[0-9]+)?)\s*\]", re.IGNORECASE)
_WEIGHT = re.compile(r"^\s*%(-?\d+(?:[.,]\d+)?)%")
_CATEGORY_PREFIXES = ("$course$/", "$system$/", "$module$/", "$coursecategory$/", "$cat1$/")


class GiftError(ValueError):
    pass


# -- escapes ------------------------------------------------------------------------------


def escape(text: str) -> str:
    out = text.replace("\\", "\\\\")
    for ch in SPECIAL:
        out = out.replace(ch, "\\" + ch)
    return out.replace("\r\n", "\n").replace("\n", "\\n")


def unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n == "n":
                out.append("\n")
            elif n in SPECIAL or n == "\\":
                out.append(n)
            else:  # LaTeX: \( \frac ... stay as written
                out.append(c + n)
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _find(text: str, needle: str, start: int = 0) -> int:
    """Index of the first unescaped ``needle`` at or after ``start``, or -1."""
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(needle, i):
            return i
        i += 1
    return -1


def _split(text: str, seps: str) -> list[tuple[str, str]]:
    """Split at unescaped characters of ``seps``: [(separator, chunk), ...]; first sep ''."""
    parts: list[tuple[str, str]] = []
    sep, buf, i = "", [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            buf.append(text[i : i + 2])
            i += 2
            continue
        if c in seps:
            parts.append((sep, "".join(buf)))
            sep, buf = c, []
        else:
            buf.append(c)
        i += 1
    parts.append((sep, "".join(buf)))
    return parts


# -- parsing ------------------------------------------------------------------------------


def _blocks(text: str) -> list[tuple[int, list[str], list[str]]]:
    """Questions as (first line number, lines, comment lines before and within it)."""
    blocks: list[tuple[int, list[str], list[str]]] = []
    lines: list[str] = []
    comments: list[str] = []
    start = 0
    # As in Moodle, a blank line always ends a question, so an unclosed brace costs one
    # question, not the rest of the file.
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("//"):
            comments.append(stripped)
            continue
        if not stripped:
            if lines:
                blocks.append((start, lines, comments))
                lines, comments = [], []
            continue
        if not lines:
            start = number
        lines.append(raw)
    if lines:
        blocks.append((start, lines, comments))
    return blocks


def _category(line: str) -> str:
    path = line.split(":", 1)[1].strip()
    for prefix in _CATEGORY_PREFIXES:
        if path.startswith(prefix):
            path = path[len(prefix):]
    if path == "top" or path.startswith("top/"):
        path = path[4:]
    return path


def _weight(body: str) -> tuple[float | None, str]:
    m = _WEIGHT.match(body)
    if not m:
        return None, body
    return float(m.group(1).replace(",", ".")) / 100, body[m.end():]


def _text_and_feedback(body: str) -> tuple[str, str]:
    cut = _find(body, "#")
    if cut < 0:
        return unescape(body).strip(), ""
    return unescape(body[:cut]).strip(), unescape(body[cut + 1 :]).strip()


class _Block:
    def __init__(self, fmt: str, files: dict[str, tuple[str, bytes]]) -> None:
        self.fmt = fmt
        self.files = files

    def html(self, text: str) -> str:
        if self.fmt in ("plain", "markdown") or not looks_like_html(text):
            return rich(from_plain(text), self.files)
        return rich(text, self.files)


def _number_spec(spec: str) -> NumericAnswer:
    spec = spec.strip()
    try:
        if ".." in spec:
            lo_s, hi_s = spec.split("..", 1)
            lo, hi = float(lo_s), float(hi_s)
            if hi < lo:
                raise GiftError(f"the range {spec!r} ends below its start")
            return NumericAnswer(value=(lo + hi) / 2, tolerance=(hi - lo) / 2)
        if ":" in spec:
            value_s, tol_s = spec.split(":", 1)
            return NumericAnswer(value=float(value_s), tolerance=abs(float(tol_s)))
        return NumericAnswer(value=float(spec))
    except ValueError:
        raise GiftError(f"{spec!r} is not a number, a number:tolerance or a min..max range") \
            from None


def _parse_answers(answers: str, block: _Block) -> tuple[str, ItemContent, ItemKey]:
    general = ""
    cut = _find(answers, "####")
    if cut >= 0:
        general = block.html(unescape(answers[cut + 4 :]).strip())
        answers = answers[:cut]
    body = answers.strip()
    content = ItemContent(stem="")
    if not body:
        return "essay", content, ItemKey(general_feedback=general)

    tf = re.fullmatch(r"(TRUE|FALSE|T|F)\s*((?:#.*)?)", body, re.IGNORECASE | re.DOTALL)
    if tf:
        truth = tf.group(1).upper().startswith("T")
        fbs = [unescape(c).strip() for _s, c in _split(tf.group(2), "#")[1:]]
        wrong, right = [*fbs, "", ""][:2]
        feedback = {}
        if right:
            feedback["true" if truth else "false"] = block.html(right)
        if wrong:
            feedback["false" if truth else "true"] = block.html(wrong)
        return "truefalse", content, ItemKey(truth=truth, feedback=feedback,
                                             general_feedback=general)

    if body.startswith("#"):
        rest = body[1:].strip()
        chunks = [c for s, c in _split(rest, "=")[1:]] if rest.startswith("=") else [rest]
        numbers = []
        for chunk in chunks:
            weight, chunk = _weight(chunk)
            cut = _find(chunk, "#")
            spec = chunk if cut < 0 else chunk[:cut]
            answer = _number_spec(unescape(spec))
            answer.fraction = 1.0 if weight is None else weight
            numbers.append(answer)
        return "numeric", content, ItemKey(numbers=numbers, general_feedback=general)

    parts = _split(body, "=~")
    if parts[0][1].strip():
        raise GiftError("there is text before the first = or ~ in the answers")
    parts = parts[1:]
    if not parts:
        raise GiftError("the answers have no = or ~")
    markers = [s for s, _c in parts]
    texts = [unescape(c) for _s, c in parts]

    if all(m == "=" for m in markers) and any("->" in t for t in texts):
        prompts: list[MatchPrompt] = []
        answer_list: list[MatchAnswer] = []
        pairs: dict[str, str] = {}
        for t in texts:
            if "->" not in t:
                raise GiftError(f"matching answer {t.strip()!r} has no ->")
            left, right = (x.strip() for x in t.split("->", 1))
            right_html = from_plain(right)
            existing = next((a for a in answer_list if a.html == right_html), None)
            if existing is None:
                existing = MatchAnswer(id=f"a{len(answer_list) + 1}", html=right_html)
                answer_list.append(existing)
            if left:
                pid = f"p{len(prompts) + 1}"
                prompts.append(MatchPrompt(id=pid, html=block.html(left)))
                pairs[pid] = existing.id
        content = ItemContent(stem="", prompts=prompts, answers=answer_list)
        return "matching", content, ItemKey(pairs=pairs, general_feedback=general)

    if all(m == "=" for m in markers):
        accepted, feedback = [], {}
        for _m, chunk in parts:
            weight, chunk = _weight(chunk)
            text, fb = _text_and_feedback(chunk)
            accepted.append(Accepted(text=text or "?", fraction=1.0 if weight is None else weight))
            if fb:
                feedback[text] = block.html(fb)
        return "short", content, ItemKey(accepted=accepted, feedback=feedback,
                                         general_feedback=general)

    ids = choice_ids(len(parts))
    choices, weights, feedback = [], {}, {}
    for cid, (marker, chunk) in zip(ids, parts, strict=True):
        weight, chunk = _weight(chunk)
        text, fb = _text_and_feedback(chunk)
        if not text:
            raise GiftError("an answer is empty")
        choices.append(Choice(id=cid, html=block.html(text)))
        w = 1.0 if marker == "=" and weight is None else (weight or 0.0)
        if w:
            weights[cid] = w
        if fb:
            feedback[cid] = block.html(fb)
    if markers.count("=") > 1:
        raise GiftError("more than one answer is marked right with '='; for several right "
                        "answers give each a weight, like ~%50%")
    item_type = "single" if "=" in markers else "multiple"
    content = ItemContent(stem="", choices=choices)
    return item_type, content, ItemKey(weights=weights, feedback=feedback,
                                       general_feedback=general)


def _parse_block(lines: list[str], comments: list[str], category: str) -> ItemDraft:
    text = "\n".join(lines).strip()
    title = ""
    if text.startswith("::"):
        end = _find(text, "::", 2)
        if end < 0:
            raise GiftError("the title opened with :: is not closed")
        title = unescape(text[2:end]).strip()
        text = text[end + 2 :].lstrip()
    fmt = "moodle"
    m = re.match(r"\[(html|moodle|plain|markdown)\]", text, re.IGNORECASE)
    if m:
        fmt = m.group(1).lower()
        text = text[m.end():]
    open_at = _find(text, "{")
    if open_at < 0:
        raise GiftError("no answers in { }: a description is not a question, and Ruang does "
                        "not import descriptions")
    close_at = _find(text, "}", open_at + 1)
    if close_at < 0:
        raise GiftError("the answers opened with { are not closed with }")
    if _find(text[open_at + 1 : close_at], "{") >= 0:
        raise GiftError("a { inside the answers must be written \\{")
    after = text[close_at + 1 :].strip()
    if _find(after, "{") >= 0:
        raise GiftError("a question may have only one { } answer block")
    before = text[:open_at].strip()
    stem_raw = unescape(before) + (" _____ " + unescape(after) if after else "")
    files: dict[str, tuple[str, bytes]] = {}
    block = _Block(fmt, files)
    item_type, content, key = _parse_answers(text[open_at + 1 : close_at], block)
    content.stem = block.html(stem_raw.strip())
    content.title = title[:300]
    tags: list[str] = []
    points = 1.0
    for comment in comments:
        tags.extend(t.strip() for t in _TAG_MARK.findall(comment))
        pm = _POINTS_MARK.search(comment)
        if pm:
            points = float(pm.group(1))
    return ItemDraft(type=item_type, content=content, key=key, category=category,  # type: ignore[arg-type]
                     tags=tags, points=points, files=files)


def parse(data: bytes) -> Parsed:
    result = Parsed()
    category = ""
    for line, lines, comments in _blocks(decode_text(data)):
        rest: list[str] = []
        line_of_question = line
        for offset, raw in enumerate(lines):
            if raw.strip().upper().startswith("$CATEGORY:"):
                if rest:
                    result.problem(line + offset, "$CATEGORY: must stand on its own line "
                                   "between questions")
                category = _category(raw.strip())
                continue
            if not rest:
                line_of_question = line + offset
            rest.append(raw)
        if not rest:
            continue
        try:
            draft = _parse_block(rest, comments, category)
        except GiftError as exc:
            result.problem(line_of_question, str(exc))
            continue
        except (RichTextError, ValueError) as exc:
            result.problem(line_of_question, _pydantic_message(exc))
            continue
        result.entries.append(Entry(line_of_question, draft))
    return result


def _pydantic_message(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ()))
        return f"{where}: {first.get('msg')}" if where else str(first.get("msg"))
    return str(exc)


# -- export -------------------------------------------------------------------------------


def _pct(weight: float) -> str:
    return f"%{round(weight * 100, 5):g}%"


def export(drafts: Sequence[ItemDraft], asset: Callable[[int], tuple[str, bytes]]) -> str:
    """A bank as GIFT text; images are embedded as ``data:`` URIs inside ``[html]`` text."""
    from plugins.cbt.bank import asset_id

    def html(fragment: str) -> str:
        def inline(src: str) -> str | None:
            aid = asset_id(src)
            if aid is None:
                return None
            return data_uri(*asset(aid))

        return escape(rewrite_images(fragment, inline))

    out: list[str] = []
    category = None
    for draft in drafts:
        if draft.category != category:
            category = draft.category
            out.append("$CATEGORY: $course$/top" + (f"/{category}" if category else ""))
            out.append("")
        c, k = draft.content, draft.key
        marks = "".join(f" [tag:{t}]" for t in draft.tags)
        if draft.points != 1:
            marks += f" [points:{draft.points:g}]"
        if marks:
            out.append("//" + marks)
        head = (f"::{escape(c.title)}::" if c.title else "") + "[html]" + html(c.stem)
        body: list[str] = []
        if draft.type in ("single", "multiple"):
            for ch in c.choices:
                w = k.weights.get(ch.id, 0.0)
                if draft.type == "single" and abs(w - 1) < 1e-9:
                    mark = "="
                else:
                    mark = "~" + (_pct(w) if w else "")
                fb = k.feedback.get(ch.id)
                body.append(f"\t{mark}{html(ch.html)}" + (f"#{html(fb)}" if fb else ""))
        elif draft.type == "truefalse":
            truth = bool(k.truth)
            right = k.feedback.get("true" if truth else "false", "")
            wrong = k.feedback.get("false" if truth else "true", "")
            tf = "TRUE" if truth else "FALSE"
            if wrong or right:
                tf += f"#{html(wrong)}" + (f"#{html(right)}" if right else "")
            body.append(tf)
        elif draft.type == "short":
            for acc in k.accepted:
                fb = k.feedback.get(acc.text)
                weight = "" if abs(acc.fraction - 1) < 1e-9 else _pct(acc.fraction)
                body.append(f"\t={weight}{escape(acc.text)}" + (f"#{html(fb)}" if fb else ""))
        elif draft.type == "numeric":
            specs = [f"{_pct(n.fraction) if abs(n.fraction - 1) > 1e-9 else ''}"
                     f"{n.value:g}:{n.tolerance:g}" for n in k.numbers]
            if len(specs) == 1 and not specs[0].startswith("%"):
                body.append("#" + specs[0])
            else:
                body.append("#")
                body.extend(f"\t={s}" for s in specs)
        elif draft.type == "matching":
            answers = {a.id: a for a in c.answers}
            used = set()
            for p in c.prompts:
                a = answers[k.pairs[p.id]]
                used.add(a.id)
                body.append(f"\t={html(p.html)} -> {escape(to_plain(a.html))}")
            for a in c.answers:
                if a.id not in used:
                    body.append(f"\t= -> {escape(to_plain(a.html))}")
        if k.general_feedback:
            body.append(f"\t####{html(k.general_feedback)}")
        if draft.type == "truefalse" or (draft.type == "numeric" and len(body) == 1):
            out.append(head + " {" + " ".join(body) + "}")
        elif not body:
            out.append(head + " {}")
        else:
            out.append(head + " {")
            out.extend(body)
            out.append("}")
        out.append("")
    return "\n".join(out)
