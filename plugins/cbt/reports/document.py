"""The PDF page every CBT report is printed on: Unicode fonts, letterhead, page numbers.

Names on a roster may be in any script an Indonesian campus sees (Latin with diacritics,
Arabic). The body font is DejaVu Sans (Debian's ``fonts-dejavu-core``) or Noto Sans
(``fonts-noto-core``); Arabic letters fall back to Noto Naskh/Sans Arabic. When the
``uharfbuzz`` package is installed, fpdf2 shapes the text, so Arabic letters join and run
right to left; without it they print as separate letters. A report never falls back to a
Latin-1 core font: missing fonts stop it with :class:`FontMissing`, which says what to
install.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from babel.dates import format_date
from fpdf import FPDF

FONT_ROOTS: tuple[Path, ...] = (Path("/usr/share/fonts/truetype"), Path("/usr/share/fonts"))
BODY_FONTS: tuple[tuple[str, str, str], ...] = (
    # (folder under a root, regular, bold)
    ("dejavu", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    ("noto", "NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
)
ARABIC_FONTS: tuple[tuple[str, str, str], ...] = (
    ("noto", "NotoNaskhArabic-Regular.ttf", "NotoNaskhArabic-Bold.ttf"),
    ("noto", "NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf"),
)
FAMILY = "ruang"
ARABIC = "ruangarab"
INK = (20, 30, 45)
MUTED = (90, 100, 115)
RULE = (170, 178, 190)
SHADE = (232, 237, 244)


class FontMissing(RuntimeError):
    """No Unicode font to print a report with; the message says what to install."""


@dataclass(frozen=True)
class FontSet:
    regular: Path
    bold: Path
    arabic: tuple[Path, Path] | None


def find_fonts(roots: Sequence[Path] = FONT_ROOTS) -> FontSet:
    """The first body font found (and an Arabic one if there is one) under ``roots``."""

    def first(choices: tuple[tuple[str, str, str], ...]) -> tuple[Path, Path] | None:
        for root in roots:
            for folder, regular, bold in choices:
                r, b = root / folder / regular, root / folder / bold
                if r.is_file() and b.is_file():
                    return r, b
        return None

    body = first(BODY_FONTS)
    if body is None:
        looked = ", ".join(f"{folder}/{regular}" for folder, regular, _ in BODY_FONTS)
        raise FontMissing(
            "No Unicode font for PDF reports: looked for " + looked + " under "
            + ", ".join(str(r) for r in roots) + ". Install Debian's fonts-dejavu-core "
            "(apt-get install fonts-dejavu-core) or fonts-noto-core.")
    return FontSet(body[0], body[1], first(ARABIC_FONTS))


def shaping_available() -> bool:
    return importlib.util.find_spec("uharfbuzz") is not None


def id_date(day: date) -> str:
    """``Senin, 2 Maret 2026``."""
    return format_date(day, "EEEE, d MMMM y", locale="id")


def id_day(day: date) -> str:
    """``2 Maret 2026``."""
    return format_date(day, "d MMMM y", locale="id")


def id_time(moment: datetime | None) -> str:
    """``08.00 WIB`` (Indonesian writes a dot between hours and minutes)."""
    if moment is None:
        return "-"
    zone = moment.tzname() if moment.tzinfo else None
    return f"{moment:%H.%M}" + (f" {zone}" if zone else "")


def id_number(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    text = f"{value:.{digits}f}".replace(".", ",")
    if "," in text:
        text = text.rstrip("0").rstrip(",")
    return text


class ReportPDF(FPDF):
    """An A4 page with a letterhead line, a footer with the document's name and page X of Y."""

    def __init__(self, *, title: str, institution: str, footer: str = "",
                 fonts: FontSet | None = None, orientation: str = "P") -> None:
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self.report_title = title
        self.institution = institution
        self.footer_text = footer
        self.draft_mark = ""
        fonts = fonts or find_fonts()
        self.add_font(FAMILY, "", str(fonts.regular))
        self.add_font(FAMILY, "B", str(fonts.bold))
        if fonts.arabic is not None:
            self.add_font(ARABIC, "", str(fonts.arabic[0]))
            self.add_font(ARABIC, "B", str(fonts.arabic[1]))
            self.set_fallback_fonts([ARABIC], exact_match=False)
        if shaping_available():
            self.set_text_shaping(True)
        self.set_title(title)
        self.set_creator("Ruang")
        self.set_author(institution)
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(True, margin=18)
        self.alias_nb_pages()
        self.set_text_color(*INK)
        self.set_draw_color(*RULE)

    def font(self, size: float, bold: bool = False) -> None:
        self.set_font(FAMILY, "B" if bold else "", size)

    def header(self) -> None:
        if self.draft_mark:
            self.watermark(self.draft_mark)

    def footer(self) -> None:
        self.set_y(-12)
        self.font(7.5)
        self.set_text_color(*MUTED)
        width = self.w - self.l_margin - self.r_margin
        self.cell(width * 0.7, 5, self.footer_text or self.report_title)
        self.cell(width * 0.3, 5, f"Halaman {self.page_no()} dari {{nb}}", align="R")
        self.set_text_color(*INK)

    def letterhead(self, lines: Sequence[str]) -> None:
        """The institution's name in capitals over a double rule."""
        width = self.w - self.l_margin - self.r_margin
        for index, line in enumerate(lines):
            self.font(12 if index == 0 else 9.5, bold=index == 0)
            self.cell(width, 6 if index == 0 else 4.6, line, align="C",
                      new_x="LMARGIN", new_y="NEXT")
        y = self.get_y() + 1.5
        self.set_line_width(0.6)
        self.line(self.l_margin, y, self.w - self.r_margin, y)
        self.set_line_width(0.2)
        self.line(self.l_margin, y + 1, self.w - self.r_margin, y + 1)
        self.set_y(y + 4)

    def heading(self, text: str, size: float = 10.5, keep: float = 20) -> None:
        if self.will_page_break(keep):  # keep a heading with what follows it
            self.add_page()
        else:
            self.ln(1.5)
        self.font(size, bold=True)
        self.multi_cell(0, 5.5, text, align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(0.5)

    def paragraph(self, text: str, size: float = 9.5) -> None:
        self.font(size)
        self.multi_cell(0, 5, text, align="J", new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def pairs(self, rows: Sequence[tuple[str, str]], label_w: float = 42) -> None:
        """``Label : value`` lines, values wrapping under themselves."""
        for label, value in rows:
            self.font(9.5)
            if self.will_page_break(5):
                self.add_page()
            self.cell(label_w, 5, label)
            self.cell(4, 5, ":")
            self.multi_cell(0, 5, value or "-", align="L", new_x="LMARGIN", new_y="NEXT")

    def watermark(self, text: str) -> None:
        """Large pale text across the page: drafts must not pass for the record."""
        x, y = self.get_x(), self.get_y()
        with self.local_context(text_color=(225, 228, 233)), self.rotation(35, self.w / 2,
                                                                           self.h / 2):
            self.set_font(FAMILY, "B", 80)
            width = self.get_string_width(text)
            self.text(self.w / 2 - width / 2, self.h / 2 + 10, text)
        self.set_xy(x, y)
