"""Items from an Excel workbook, as Indonesian teachers keep them: one row per question.

The template (:func:`template`, handed out by ``ruang cbt template`` and the bank page)
has a ``Soal`` sheet with the columns below, a ``Petunjuk`` sheet that explains them and a
``Contoh`` sheet with one example of each type (never imported). Problems are reported
with the row number Excel shows. A picture placed on a row is added to that question.

=============  ============================================================================
Tipe           PG (pilihan ganda), PGK (pilihan ganda kompleks), BS (benar/salah),
               ISIAN, NUMERIK, JODOH (menjodohkan), ESAI
Kategori       e.g. ``Aljabar/Matriks``
Tag            comma-separated
Pertanyaan     the question (plain text, or HTML)
Opsi A..F      options; for JODOH ``left -> right`` (``-> right`` alone is a distractor)
Kunci          PG: ``B``; PGK: ``A,C``; BS: ``B``/``S``; ISIAN: ``jawaban | jawaban lain``;
               NUMERIK: the number; ESAI: the rubric (optional)
Toleransi      NUMERIK: how far an answer may be from Kunci
Poin           points (default 1)
Pembahasan     shown to candidates after the exam, if the exam allows it
=============  ============================================================================
"""

from __future__ import annotations

import io
import re
from typing import Any

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
from plugins.cbt.formats import Entry, Parsed, rich
from plugins.cbt.formats.package import PackageError, read_zip
from plugins.cbt.richtext import RichTextError, from_plain, looks_like_html, sniff_image
from plugins.cbt.scoring import parse_number

SHEET = "Soal"
MAX_ROWS = 5000
OPTION_LETTERS = "ABCDEF"
HEADERS = ["Tipe", "Kategori", "Tag", "Pertanyaan", *(f"Opsi {x}" for x in OPTION_LETTERS),
           "Kunci", "Toleransi", "Poin", "Pembahasan"]
_ALIASES = {
    "tipe": "type", "type": "type", "jenis": "type",
    "kategori": "category", "category": "category",
    "tag": "tags", "tags": "tags",
    "pertanyaan": "question", "soal": "question", "question": "question",
    "kunci": "key", "kunci jawaban": "key", "answer": "key", "key": "key",
    "toleransi": "tolerance", "tolerance": "tolerance",
    "poin": "points", "bobot": "points", "points": "points", "skor": "points",
    "pembahasan": "feedback", "feedback": "feedback",
}
TYPES = {
    "PG": "single", "PILIHAN GANDA": "single", "SINGLE": "single",
    "PGK": "multiple", "PG KOMPLEKS": "multiple", "PILIHAN GANDA KOMPLEKS": "multiple",
    "MULTIPLE": "multiple",
    "BS": "truefalse", "BENAR SALAH": "truefalse", "BENAR/SALAH": "truefalse",
    "TRUEFALSE": "truefalse",
    "ISIAN": "short", "ISIAN SINGKAT": "short", "SHORT": "short",
    "NUMERIK": "numeric", "ANGKA": "numeric", "NUMERIC": "numeric",
    "JODOH": "matching", "MENJODOHKAN": "matching", "MATCHING": "matching",
    "ESAI": "essay", "URAIAN": "essay", "ESSAY": "essay",
}
TRUE_WORDS = {"B", "BENAR", "T", "TRUE", "YA"}
FALSE_WORDS = {"S", "SALAH", "F", "FALSE", "TIDAK"}


class RowError(ValueError):
    pass


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _columns(header: tuple[Any, ...]) -> dict[str, int]:
    cols: dict[str, int] = {}
    for i, cell in enumerate(header):
        name = re.sub(r"\s+", " ", _text(cell).lower())
        m = re.fullmatch(r"(?:opsi|option|pilihan) ([a-f])", name)
        if m:
            cols[f"opt_{m.group(1).upper()}"] = i
        elif name in _ALIASES:
            cols.setdefault(_ALIASES[name], i)
    return cols


def _html(text: str, files: dict[str, tuple[str, bytes]]) -> str:
    return rich(text if looks_like_html(text) else from_plain(text), files)


def _row(values: dict[str, str], files: dict[str, tuple[str, bytes]],
         images: list[tuple[str, bytes]]) -> ItemDraft:
    raw_type = values.get("type", "").upper()
    item_type = TYPES.get(re.sub(r"\s+", " ", raw_type))
    if item_type is None:
        raise RowError(f"Tipe {values.get('type')!r} is not one of PG, PGK, BS, ISIAN, NUMERIK, "
                       "JODOH, ESAI")
    question = values.get("question", "")
    if not question and not images:
        raise RowError("Pertanyaan is empty")
    stem = _html(question, files)
    for i, (mime, data) in enumerate(images, start=1):
        name = f"row-image-{i}.{mime.split('/')[1]}"
        files[name] = (mime, data)
        stem += f'<p><img src="cbt-file:{name}" alt=""></p>'
    options = [(x, values.get(f"opt_{x}", "")) for x in OPTION_LETTERS]
    options = [(x, v) for x, v in options if v]
    key_text = values.get("key", "")
    points_text = values.get("points", "")
    points = 1.0
    if points_text:
        number = parse_number(points_text)
        if number is None or number <= 0:
            raise RowError(f"Poin {points_text!r} is not a positive number")
        points = number
    feedback = _html(values["feedback"], files) if values.get("feedback") else ""
    content = ItemContent(stem=stem)
    key = ItemKey(general_feedback=feedback)

    if item_type in ("single", "multiple"):
        if len(options) < 2:
            raise RowError("a PG or PGK question needs at least two options (Opsi A, Opsi B)")
        letters = [x for x, _v in options]
        ids = choice_ids(len(options))
        content.choices = [Choice(id=cid, html=_html(v, files))
                           for cid, (_x, v) in zip(ids, options, strict=True)]
        chosen = [k.strip().upper() for k in re.split(r"[,;\s]+", key_text) if k.strip()]
        if not chosen:
            raise RowError("Kunci is empty: give the letter of the right option")
        unknown = [k for k in chosen if k not in letters]
        if unknown:
            raise RowError(f"Kunci {', '.join(unknown)} names no filled option "
                           f"(options: {', '.join(letters)})")
        if item_type == "single" and len(chosen) != 1:
            raise RowError("a PG question has one key letter; use PGK for several")
        by_letter = dict(zip(letters, ids, strict=True))
        if item_type == "single":
            key.weights = {by_letter[chosen[0]]: 1.0}
        else:
            share = round(1 / len(chosen), 6)
            # Partial credit: each right option earns its share, each wrong one costs it.
            key.weights = {cid: (share if x in chosen else -share)
                           for x, cid in by_letter.items()}
    elif item_type == "truefalse":
        word = key_text.upper()
        if word in TRUE_WORDS:
            key.truth = True
        elif word in FALSE_WORDS:
            key.truth = False
        else:
            raise RowError(f"Kunci {key_text!r} for BS must be B (benar) or S (salah)")
    elif item_type == "short":
        answers = [a.strip() for a in key_text.split("|") if a.strip()]
        if not answers:
            raise RowError("Kunci is empty: give the accepted answers, separated by |")
        key.accepted = [Accepted(text=a) for a in answers]
    elif item_type == "numeric":
        value = parse_number(key_text)
        if value is None:
            raise RowError(f"Kunci {key_text!r} is not a number")
        tol_text = values.get("tolerance", "")
        tolerance = parse_number(tol_text) if tol_text else 0.0
        if tolerance is None or tolerance < 0:
            raise RowError(f"Toleransi {tol_text!r} is not a number of 0 or more")
        key.numbers = [NumericAnswer(value=value, tolerance=tolerance)]
    elif item_type == "matching":
        for x, v in options:
            if "->" not in v:
                raise RowError(f"Opsi {x} of a JODOH question must read 'left -> right'")
            left, right = (p.strip() for p in v.split("->", 1))
            right_html = _html(right, files)
            answer = next((a for a in content.answers if a.html == right_html), None)
            if answer is None:
                answer = MatchAnswer(id=f"a{len(content.answers) + 1}", html=right_html)
                content.answers.append(answer)
            if left:
                pid = f"p{len(content.prompts) + 1}"
                content.prompts.append(MatchPrompt(id=pid, html=_html(left, files)))
                key.pairs[pid] = answer.id
    elif item_type == "essay":
        key.rubric = _html(key_text, files) if key_text else ""
    tags = [t.strip() for t in values.get("tags", "").split(",") if t.strip()]
    return ItemDraft(type=item_type, content=content, key=key, points=points,  # type: ignore[arg-type]
                     category=values.get("category", ""), tags=tags, files=files)


def _row_images(ws: Any) -> dict[int, list[tuple[str, bytes]]]:
    out: dict[int, list[tuple[str, bytes]]] = {}
    for image in getattr(ws, "_images", []):
        try:
            row = image.anchor._from.row + 1
            data = image._data()
        except (AttributeError, OSError, ValueError):
            continue
        mime = sniff_image(data)
        if mime is not None:
            out.setdefault(row, []).append((mime, data))
    return out


def parse(data: bytes) -> Parsed:
    from openpyxl import load_workbook

    result = Parsed()
    try:
        read_zip(data)  # refuse zip bombs before openpyxl inflates anything
        wb = load_workbook(io.BytesIO(data), data_only=True)
    except PackageError as exc:
        result.problem(0, str(exc))
        return result
    except Exception as exc:  # openpyxl raises many kinds of error for a bad file
        result.problem(0, f"the file is not an Excel workbook (.xlsx): {exc}")
        return result
    ws = wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    cols = _columns(header or ())
    missing = [name for name, col in (("Tipe", "type"), ("Pertanyaan", "question"))
               if col not in cols]
    if missing:
        result.problem(1, f"the first row has no column {' or '.join(missing)}; start from "
                       "the template (ruang cbt template)")
        return result
    images = _row_images(ws)
    for number, row in enumerate(rows, start=2):
        if number > MAX_ROWS + 1:
            result.problem(number, f"more than {MAX_ROWS} rows; split the file")
            break
        values = {name: _text(row[i]) if i < len(row) else "" for name, i in cols.items()}
        if not any(values.values()) and number not in images:
            continue
        try:
            draft = _row(values, {}, images.get(number, []))
        except (RowError, RichTextError) as exc:
            result.problem(number, str(exc))
            continue
        except ValueError as exc:
            from plugins.cbt.formats.gift import _pydantic_message

            result.problem(number, _pydantic_message(exc))
            continue
        result.entries.append(Entry(number, draft))
    return result


EXAMPLES = [
    ["PG", "Geografi", "peta", "Ibu kota Indonesia adalah ...", "Bandung", "Jakarta",
     "Surabaya", "Medan", "", "", "B", "", 1, "Jakarta sejak 1945."],
    ["PGK", "Matematika", "", "Manakah yang bilangan prima?", "2", "3", "4", "9", "", "",
     "A,B", "", 2, ""],
    ["BS", "Umum", "", "Matahari terbit di timur.", "", "", "", "", "", "", "B", "", 1, ""],
    ["ISIAN", "Geografi", "", "Ibu kota Jawa Barat adalah ...", "", "", "", "", "", "",
     "Bandung | Kota Bandung", "", 1, ""],
    ["NUMERIK", "Matematika", "", "Nilai pi sampai dua desimal?", "", "", "", "", "", "",
     "3,14", "0,005", 1, ""],
    ["JODOH", "Geografi", "", "Pasangkan negara dengan ibu kotanya.", "Indonesia -> Jakarta",
     "Jepang -> Tokyo", "Mesir -> Kairo", "-> Roma", "", "", "", "", 3, ""],
    ["ESAI", "PKn", "", "Jelaskan makna sila pertama Pancasila.", "", "", "", "", "", "",
     "Menyebut Ketuhanan Yang Maha Esa (50%), memberi contoh (50%).", "", 5, ""],
]

GUIDE = [
    ("Tipe", "PG = pilihan ganda (satu jawaban), PGK = pilihan ganda kompleks (beberapa "
             "jawaban, nilai parsial), BS = benar/salah, ISIAN = isian singkat, NUMERIK = "
             "jawaban angka, JODOH = menjodohkan, ESAI = uraian (dinilai manual)."),
    ("Kategori", "Nama kategori di bank soal, boleh bertingkat: Aljabar/Matriks."),
    ("Tag", "Beberapa tag dipisahkan koma."),
    ("Pertanyaan", "Teks soal. Rumus LaTeX ditulis di antara \\( dan \\). Teks Arab "
                   "ditampilkan dari kanan ke kiri. Gambar: tempelkan gambar pada baris soal."),
    ("Opsi A-F", "Pilihan jawaban PG/PGK. Untuk JODOH: 'kiri -> kanan'; '-> teks' saja "
                 "adalah pengecoh."),
    ("Kunci", "PG: satu huruf (B). PGK: beberapa huruf (A,C). BS: B atau S. ISIAN: jawaban "
              "yang diterima dipisah | . NUMERIK: angkanya. ESAI: rubrik penilaian (boleh "
              "kosong)."),
    ("Toleransi", "NUMERIK: selisih yang masih dianggap benar, mis. 0,01."),
    ("Poin", "Nilai soal (bawaan 1)."),
    ("Pembahasan", "Ditampilkan kepada peserta setelah ujian jika ujian mengizinkan."),
]


def template() -> bytes:
    """The workbook teachers fill in: the Soal sheet, a guide and examples."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for sheet in (ws, wb.create_sheet("Contoh")):
        sheet.append(HEADERS)
        for cell in sheet[1]:
            cell.font = bold
            cell.fill = fill
        sheet.freeze_panes = "A2"
        for col, width in zip("ABCDEFGHIJKLMN", (10, 16, 14, 50, *([18] * 6), 16, 10, 8, 30),
                              strict=True):
            sheet.column_dimensions[col].width = width
    examples = wb["Contoh"]
    for row in EXAMPLES:
        examples.append(row)
    for row in examples.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    rule = DataValidation(type="list", formula1='"PG,PGK,BS,ISIAN,NUMERIK,JODOH,ESAI"',
                          allow_blank=True, showErrorMessage=True,
                          errorTitle="Tipe soal", error="Pilih PG, PGK, BS, ISIAN, NUMERIK, "
                                                        "JODOH atau ESAI.")
    ws.add_data_validation(rule)
    rule.add(f"A2:A{MAX_ROWS + 1}")
    guide = wb.create_sheet("Petunjuk")
    guide.append(["Kolom", "Cara mengisi"])
    for cell in guide[1]:
        cell.font = bold
    for name, text in GUIDE:
        guide.append([name, text])
    guide.column_dimensions["A"].width = 14
    guide.column_dimensions["B"].width = 100
    for row in guide.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    guide.append([])
    guide.append(["", "Isi soal di lembar 'Soal' (lembar 'Contoh' tidak diimpor), lalu "
                      "impor: ruang cbt import FILE.xlsx --bank NAMA, atau dari halaman bank "
                      "soal."])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
