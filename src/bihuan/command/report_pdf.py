"""The daily report (日报) as a PDF: the same title, sentences and tables as the HTML report, laid out
on A4 with fpdf2 in vendored fonts, so it prints without any font installed on the server: DejaVu Sans
for Latin letters and digits, falling back to Droid Sans Fallback for Chinese (which has no Latin)."""

from __future__ import annotations

from importlib.resources import as_file, files

from fpdf import FPDF
from fpdf.enums import TextEmphasis, WrapMode, XPos, YPos
from fpdf.fonts import FontFace

from bihuan.command.report import DailyReportPublic, ReportTable

FONTS = files("bihuan.web") / "static" / "vendor" / "fonts"
FAMILY, CJK = "dejavu", "droid"
WIDE_TABLES = frozenset({"delays", "capacity"})  # many columns: printed in a smaller size
HEADINGS = FontFace(emphasis=TextEmphasis.NONE, fill_color=(235, 238, 242))  # the font has no bold face


def report_pdf(report: DailyReportPublic) -> bytes:
    """The report as PDF bytes; its creation date is the report's `as_of`, so the same report gives the
    same document."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_creation_date(report.situation.as_of)
    pdf.set_title(f"{report.title} {report.subtitle}")
    pdf.set_lang(report.language)
    for family, name in ((FAMILY, "DejaVuSans.ttf"), (CJK, "DroidSansFallbackFull.ttf")):
        with as_file(FONTS / name) as path:
            pdf.add_font(family, fname=str(path))
    pdf.set_fallback_fonts([CJK])
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_margins(15, 15, 15)
    pdf.add_page()
    pdf.set_font(FAMILY, size=18)
    pdf.cell(0, 10, report.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, size=10)
    pdf.cell(0, 6, report.subtitle, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    wrap = WrapMode.WORD if report.language == "en" else WrapMode.CHAR  # Chinese breaks between any characters
    pdf.set_font(FAMILY, size=11)
    for item in report.items:
        pdf.multi_cell(0, 6, item.text, wrapmode=wrap, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)
    for table in report.tables:
        if table.rows:
            _table(pdf, table, wrap)
    return bytes(pdf.output())


def _table(pdf: FPDF, table: ReportTable, wrap: WrapMode) -> None:
    pdf.ln(4)
    pdf.set_font(FAMILY, size=13)
    pdf.cell(0, 8, table.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, size=8 if table.key in WIDE_TABLES else 10)
    with pdf.table(text_align="LEFT", line_height=5, wrapmode=wrap, headings_style=HEADINGS) as grid:
        header = grid.row()
        for column in table.columns:
            header.cell(column)
        for cells in table.rows:
            row = grid.row()
            for cell in cells:
                row.cell(cell)
