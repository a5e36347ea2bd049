"""The import parsers (GIFT, Aiken, XLSX, QTI) under random and mutated files.

Each property takes a real, good file (the samples of the format tests, Ruang's own XLSX
template, a QTI package Ruang exported) and damages it the ways files get damaged: lines
dropped, doubled or cut, markup characters strewn in, cells given values of the wrong
kind, XML tags broken, bytes of another encoding; or starts from nothing at all. The dry
run (``formats.preview``, what staff see before importing) must then give items and
problems, each problem with its line and a message, or refuse the whole file with a
:class:`FormatError` that says why: never any other exception.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from plugins.cbt import formats
from plugins.cbt.formats import qti, xlsx
from tests.fuzz.strategies import scalars
from tests.plugins.cbt import samples

DATA = Path(__file__).resolve().parent.parent / "plugins" / "cbt" / "data"
GIFT = (DATA / "good.gift").read_text(encoding="utf-8")
AIKEN = (DATA / "good.aiken.txt").read_text(encoding="utf-8")
MARKUP = [*"{}=~#:%->[]\\$/\n\t ", "::", "->", "{#", "%50%", "ANSWER:", "KUNCI:",
                                           "A.", "B)", "TRUE", "$CATEGORY:", "[html]",
                                           "<b>", "<img src=\"data:image/png;base64,xx\">",
                                           "\u202e", "\x00", "é", "ع"]


def check(data: bytes, fmt: str) -> None:
    try:
        report = formats.preview(data, fmt)
    except formats.FormatError as exc:
        assert str(exc), "a FormatError without a message"
        return
    for problem in report.problems:
        assert isinstance(problem.line, int) and problem.line >= 0, problem
        assert problem.message.strip(), problem
    for entry in report.items:
        assert entry.line >= 0


@st.composite
def mutated_lines(draw: st.DrawFn, text: str) -> str:
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 8))):
        if not lines:
            lines.append("")
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["drop", "double", "cut", "strew", "insert", "swap"]))
        if op == "drop":
            del lines[i]
        elif op == "double":
            lines.insert(i, lines[i])
        elif op == "cut":
            lines[i] = lines[i][: draw(st.integers(0, max(0, len(lines[i]))))]
        elif op == "strew":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.sampled_from(MARKUP)) + lines[i][at:]
        elif op == "insert":
            lines.insert(i, "".join(draw(st.lists(st.sampled_from(MARKUP) | st.text(max_size=5),
                                                  max_size=8))))
        else:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def encodings(text: str) -> st.SearchStrategy[bytes]:
    return st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]).map(
        lambda enc: text.encode(enc, errors="replace"))


@given(mutated_lines(GIFT).flatmap(encodings)
       | st.lists(st.sampled_from(MARKUP) | st.text(max_size=4), max_size=80)
       .map(lambda parts: "".join(parts).encode("utf-8", errors="surrogatepass"))
       | st.binary(max_size=300))
def test_gift(data: bytes) -> None:
    check(data, "gift")


@given(mutated_lines(AIKEN).flatmap(encodings)
       | st.lists(st.sampled_from(MARKUP) | st.text(max_size=4), max_size=80)
       .map(lambda parts: "".join(parts).encode("utf-8", errors="surrogatepass"))
       | st.binary(max_size=300))
def test_aiken(data: bytes) -> None:
    check(data, "aiken")


def _template_rows() -> tuple[list[Any], list[list[Any]]]:
    wb = load_workbook(io.BytesIO(xlsx.template()))
    ws = wb["Contoh"]  # the examples sheet: one good row of every type
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    return rows[0], [r for r in rows[1:] if any(v is not None for v in r)]


HEADER, ROWS = _template_rows()
cell_values = scalars.filter(lambda v: not (isinstance(v, int) and abs(v) > 2**60)) | \
    st.sampled_from(["=1/0", "=A1", "single", "multiple", "essay", "a;b", "A", "1;2;x"])


@st.composite
def workbooks(draw: st.DrawFn) -> bytes:
    from openpyxl import Workbook

    header = list(HEADER)
    if draw(st.booleans()):
        del header[draw(st.integers(0, len(header) - 1))]
    rows = [list(r) for r in draw(st.lists(st.sampled_from(ROWS), min_size=0, max_size=6))]
    for _ in range(draw(st.integers(0, 10))):
        if not rows:
            break
        r = draw(st.integers(0, len(rows) - 1))
        c = draw(st.integers(0, len(rows[r]) - 1)) if rows[r] else 0
        if rows[r]:
            rows[r][c] = draw(cell_values)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(header)
    for row in rows:
        # Only what a spreadsheet program can save: openpyxl refuses control characters.
        ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v
                   for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@given(workbooks() | st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b))
def test_xlsx(data: bytes) -> None:
    check(data, "xlsx")


def _package() -> dict[str, bytes]:
    data = qti.export([(i + 1, make()) for i, make in enumerate(samples.ALL)],
                      lambda _aid: ("image/png", samples.PNG))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


PACKAGE = _package()


@st.composite
def packages(draw: st.DrawFn) -> bytes:
    members = dict(PACKAGE)
    for _ in range(draw(st.integers(1, 5))):
        name = draw(st.sampled_from(sorted(members)))
        text = members[name].decode("utf-8", errors="replace")
        op = draw(st.sampled_from(["cut", "strew", "drop", "tag"]))
        at = draw(st.integers(0, len(text)))
        if op == "cut":
            text = text[:at]
        elif op == "strew":
            text = text[:at] + draw(st.sampled_from(["<", ">", "&", "\"", "</x>", "<!DOCTYPE a>",
                                                     "identifier=\"\"", "\x00"])) + text[at:]
        elif op == "drop" and len(members) > 1:
            del members[name]
            continue
        else:
            text = text.replace(draw(st.sampled_from(["choiceInteraction", "simpleChoice",
                                                      "correctResponse", "value", "href",
                                                      "responseDeclaration"])),
                                draw(st.sampled_from(["x", "", "simpleChoice", "value"])), 1)
        members[name] = text.encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buf.getvalue()


@given(packages() | st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b))
def test_qti(data: bytes) -> None:
    check(data, "qti")
