"""The plugin's printed records (letter, report, certificates) share one look: DejaVu Sans
(Indonesian names and the rupiah sign print as written), a letterhead with the unit's
name, numbered pages, and small helpers for headings, key-value lines, tables and bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
BRAND = (20, 83, 45)
GREY = (90, 90, 90)


def unit_names() -> tuple[str, str]:
    """(unit, institution) from the core's UI settings, with safe defaults."""
    from core import settings_store
    from core.instance import ruang

    r = ruang()
    try:
        with r.db.session() as session:
            unit = str(settings_store.get(session, r.plugins, "ui.unit_name") or "BPTI")
            inst = str(settings_store.get(session, r.plugins, "ui.institution") or "")
    except Exception:  # the settings belong to the core UI; a record still prints
        unit, inst = "BPTI", ""
    return unit, inst


class Document(FPDF):
    """An A4 record with a letterhead on every page and "page n of m" at the foot."""

    def __init__(self, title: str, number: str = "", orientation: str = "P") -> None:
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self.record_title = title
        self.record_number = number
        self.unit, self.institution = unit_names()
        self.family = self._fonts()
        self.set_title(f"{title} {number}".strip())
        self.set_author(f"{self.unit} {self.institution}".strip())
        self.set_creator("Ruang")
        self.set_auto_page_break(True, margin=18)
        self.set_margins(18, 16, 18)
        self.alias_nb_pages()

    def _fonts(self) -> str:
        for folder in FONT_DIRS:
            regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
            if regular.exists() and bold.exists():
                self.add_font("DejaVu", "", str(regular))
                self.add_font("DejaVu", "B", str(bold))
                oblique = folder / "DejaVuSans-Oblique.ttf"
                self.add_font("DejaVu", "I", str(oblique if oblique.exists() else regular))
                return "DejaVu"
        return "Helvetica"

    def text_ok(self, value: Any) -> str:
        """``value`` as text the font can print (Helvetica has Latin-1 only)."""
        text = "" if value is None else str(value)
        if self.family == "Helvetica":
            return text.encode("latin-1", "replace").decode("latin-1")
        return text

    # -- page furniture -------------------------------------------------------------------

    def header(self) -> None:
        self.set_font(self.family, "B", 11)
        self.set_text_color(*BRAND)
        self.cell(0, 6, self.text_ok(f"{self.unit} {self.institution}".strip().upper()),
                  new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.family, "", 8)
        self.set_text_color(*GREY)
        self.cell(0, 4, self.text_ok(self.record_title + (f" · {self.record_number}"
                                                          if self.record_number else "")),
                  new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(*BRAND)
        self.set_line_width(0.6)
        self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
        self.ln(5)
        self.set_text_color(20, 20, 20)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family, "", 8)
        self.set_text_color(*GREY)
        self.cell(0, 5, f"{self.page_no()}/{{nb}}", align="R")

    # -- content --------------------------------------------------------------------------

    def title_block(self, title: str, subtitle: str = "") -> None:
        self.set_font(self.family, "B", 15)
        self.multi_cell(0, 8, self.text_ok(title), align="C", new_x="LMARGIN", new_y="NEXT")
        if subtitle:
            self.set_font(self.family, "", 10)
            self.multi_cell(0, 5, self.text_ok(subtitle), align="C", new_x="LMARGIN",
                            new_y="NEXT")
        self.ln(3)

    def heading(self, text: str) -> None:
        if self.get_y() > self.h - 40:
            self.add_page()
        self.ln(2)
        self.set_font(self.family, "B", 12)
        self.set_text_color(*BRAND)
        self.cell(0, 7, self.text_ok(text), new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(20, 20, 20)
        self.set_font(self.family, "", 10)

    def paragraph(self, text: str, size: float = 10, style: str = "") -> None:
        self.set_font(self.family, style, size)
        self.multi_cell(0, 5, self.text_ok(text), align="L", new_x="LMARGIN", new_y="NEXT")

    def pairs(self, rows: Sequence[tuple[str, Any]], key_width: float = 52) -> None:
        """Lines of "label: value", each wrapping under itself."""
        for key, value in rows:
            shown = self.text_ok(value if value not in (None, "") else "-")
            self.set_font(self.family, "B", 10)
            key_h = self._height(key_width, self.text_ok(key))
            self.set_font(self.family, "", 10)
            value_w = self.w - self.l_margin - self.r_margin - key_width
            value_h = self._height(value_w, shown)
            if self.get_y() + max(key_h, value_h) > self.h - self.b_margin:
                self.add_page()
            y = self.get_y()
            self.set_font(self.family, "B", 10)
            self.multi_cell(key_width, 5, self.text_ok(key), align="L", new_x="RIGHT",
                            new_y="TOP")
            self.set_font(self.family, "", 10)
            self.multi_cell(value_w, 5, shown, align="L", new_x="LMARGIN", new_y="NEXT")
            self.set_y(y + max(key_h, value_h))

    def _height(self, width: float, text: str) -> float:
        """How tall ``text`` is in a ``multi_cell`` of ``width`` (nothing is drawn)."""
        answer = self.multi_cell(width, 5, text, align="L", dry_run=True, output="HEIGHT")
        return float(answer) if isinstance(answer, (int, float)) else 5.0

    def grid(self, head: Sequence[str], rows: Sequence[Sequence[Any]],
              widths: Sequence[float] | None = None, align: Sequence[str] | None = None,
              size: float = 8.5) -> None:
        self.set_font(self.family, "", size)
        self.set_fill_color(255, 255, 255)  # the bars leave their colour behind
        style = FontFace(emphasis="BOLD", fill_color=(232, 240, 234))
        with self.table(col_widths=tuple(widths) if widths else None,
                        headings_style=style, line_height=size * 0.55,
                        text_align=tuple(align) if align else "LEFT",
                        first_row_as_headings=True, cell_fill_mode="NONE") as table:
            header = table.row()
            for cell in head:
                header.cell(self.text_ok(cell))
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(self.text_ok(value))
        self.ln(2)

    def bars(self, rows: Sequence[tuple[str, float | None]], maximum: float,
             label_width: float = 55, fmt: str = "{:.2f}") -> None:
        """Horizontal bars, one per row: a chart the report prints without a browser."""
        width = self.w - self.l_margin - self.r_margin - label_width - 18
        self.set_font(self.family, "", 9)
        for label, value in rows:
            if self.get_y() > self.h - 25:
                self.add_page()
            y = self.get_y()
            self.set_xy(self.l_margin, y)
            self.cell(label_width, 6, self.text_ok(label))
            self.set_fill_color(230, 230, 230)
            self.rect(self.l_margin + label_width, y + 1, width, 4, style="F")
            if value is not None and maximum > 0:
                self.set_fill_color(*BRAND)
                share = max(0.0, min(1.0, value / maximum))
                self.rect(self.l_margin + label_width, y + 1, width * share, 4, style="F")
            self.set_xy(self.l_margin + label_width + width + 2, y)
            self.cell(16, 6, fmt.format(value) if value is not None else "-", align="R")
            self.set_xy(self.l_margin, y + 6.5)
        self.ln(1)

    def signature(self, place_date: str, title: str, name: str) -> None:
        if self.get_y() > self.h - 55:
            self.add_page()
        self.ln(8)
        x = self.w - self.r_margin - 75
        self.set_x(x)
        self.set_font(self.family, "", 10)
        self.multi_cell(75, 5, self.text_ok(f"{place_date}\n{title}"), align="C",
                        new_x="LMARGIN", new_y="NEXT")
        self.ln(18)
        self.set_x(x)
        self.set_font(self.family, "B", 10)
        self.cell(75, 5, self.text_ok(name or " "), align="C", new_x="LMARGIN", new_y="NEXT")

    def png(self, data: bytes, x: float, y: float, w: float, h: float = 0) -> None:
        self.image(BytesIO(data), x=x, y=y, w=w, h=h)

    def finish(self) -> bytes:
        return bytes(self.output())


def rupiah(amount: int) -> str:
    return "Rp " + f"{amount:,}".replace(",", ".")
