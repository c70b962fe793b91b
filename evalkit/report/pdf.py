"""Write a report as PDF with reportlab: selectable text, vector figures (matplotlib SVG -> svglib drawings).

    >>> write_pdf(report, Path("report.pdf"))        # doctest: +SKIP

The text font is DejaVu Sans, embedded from matplotlib's own copy, so the PDF shows every character evalkit prints
(``†``, ``≠``, ``—``) and figures and text share one font. Portrait A4 pages; the published tables use a landscape
page. Long tables split across pages and repeat their header. The file is written to a temporary name and renamed.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from evalkit.io import atomic_target
from evalkit.report.document import (
    FigureBlock,
    Heading,
    KeyValues,
    LeaderboardBlock,
    PageBreak,
    Report,
    TableBlock,
    Text,
)

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"


@cache
def _register_fonts() -> None:
    """Register matplotlib's DejaVu Sans with reportlab (text) and svglib (figure text)."""
    import matplotlib
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from svglib.fonts import register_font

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    faces = {FONT: "DejaVuSans.ttf", FONT_BOLD: "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique": "DejaVuSans-Oblique.ttf",
             "DejaVuSans-BoldOblique": "DejaVuSans-BoldOblique.ttf"}
    for name, file in faces.items():
        pdfmetrics.registerFont(TTFont(name, str(folder / file)))
    addMapping(FONT, 0, 0, FONT)
    addMapping(FONT, 1, 0, FONT_BOLD)
    addMapping(FONT, 0, 1, "DejaVuSans-Oblique")
    addMapping(FONT, 1, 1, "DejaVuSans-BoldOblique")
    register_font("DejaVu Sans", str(folder / faces[FONT]), rlgFontName=FONT)
    register_font("DejaVu Sans", str(folder / faces[FONT_BOLD]), weight="bold", rlgFontName=FONT_BOLD)


@cache
def _styles() -> dict[str, Any]:
    from reportlab.lib.styles import ParagraphStyle

    base = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=11.5, spaceAfter=4)
    return {
        "title": ParagraphStyle("title", parent=base, fontName=FONT_BOLD, fontSize=18, leading=22, spaceAfter=10),
        "h1": ParagraphStyle("h1", parent=base, fontName=FONT_BOLD, fontSize=14, leading=17, spaceBefore=4,
                             spaceAfter=8),
        "h2": ParagraphStyle("h2", parent=base, fontName=FONT_BOLD, fontSize=11, leading=14, spaceBefore=8,
                             spaceAfter=4),
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7, leading=8.6, spaceAfter=2),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9, spaceAfter=0),
        "key": ParagraphStyle("key", parent=base, fontName=FONT_BOLD, fontSize=8.5, leading=10.5, spaceAfter=0),
        "value": ParagraphStyle("value", parent=base, fontSize=8.5, leading=10.5, spaceAfter=0),
        "caption": ParagraphStyle("caption", parent=base, fontSize=7.5, leading=9, textColor="#333333",
                                  spaceBefore=2, spaceAfter=8),
    }


def _p(text: str, style: str) -> Any:
    from reportlab.platypus import Paragraph

    return Paragraph(escape(text).replace("\n", "<br/>"), _styles()[style])


def _drawing(svg: str, width: float, max_height: float = 1e9) -> Any:
    """The SVG as a reportlab drawing (vector), scaled to ``width`` or less so it is at most ``max_height`` tall."""
    from svglib.svglib import svg2rlg

    d = svg2rlg(io.BytesIO(svg.encode("utf-8")))
    if d is None:
        raise ValueError("svglib could not read a figure")
    f = min(width / d.width, max_height / d.height)
    d.scale(f, f)
    d.width, d.height = d.width * f, d.height * f
    return d


def _table(block: TableBlock, avail: float) -> list[Any]:
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    size = 6.5 if block.small else 8.0
    from reportlab.lib.enums import TA_CENTER

    cell_style = _styles()["cell"].clone("c", fontSize=size, leading=size * 1.2, alignment=TA_CENTER)
    data: list[list[Any]] = [list(h) for h in block.header]
    for r, row in enumerate(block.rows):
        out: list[Any] = []
        for c, text in enumerate(row):
            mark = block.marks.get((r, c), "")
            if mark == "second":
                out.append(Paragraph(f"<u>{escape(text)}</u>", cell_style))
            else:
                out.append(text)
        data.append(out)
    n_head = len(block.header)
    cmds: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), FONT, size),
        ("FONT", (0, 0), (-1, n_head - 1), FONT_BOLD, size),
        ("LINEABOVE", (0, 0), (-1, 0), 0.8, colors.black),
        ("LINEBELOW", (0, n_head - 1), (-1, n_head - 1), 0.5, colors.black),
        ("LINEBELOW", (0, -1), (-1, -1), 0.8, colors.black),
        ("ALIGN", (1, 0), (-1, -1), "CENTER"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.2),
        ("LEFTPADDING", (0, 0), (-1, -1), 2.5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
    ]
    for hr, c0, c1 in block.spans:
        cmds.append(("SPAN", (c0, hr), (c1, hr)))
        cmds.append(("LINEBELOW", (c0, hr), (c1, hr), 0.4, colors.black))
    for (r, c), mark in block.marks.items():
        if mark == "best":
            cmds.append(("FONT", (c, r + n_head), (c, r + n_head), FONT_BOLD, size))
    for r in range(len(block.rows)):
        if r % 2 == 1:
            cmds.append(("BACKGROUND", (0, r + n_head), (-1, r + n_head), colors.HexColor("#f3f3f3")))
    widths = _column_widths(block, size)
    if sum(widths) > avail:  # too wide: shrink the font so the table fits the page, down to 4 pt
        factor = max(avail / sum(widths), MIN_TABLE_FONT / size)
        size *= factor
        cmds = [(*cmd[:4], cmd[4] * factor) if cmd[0] == "FONT" else cmd for cmd in cmds]
        cell_style.fontSize, cell_style.leading = size, size * 1.2
        widths = [w * factor for w in widths]
        if sum(widths) > avail:  # still too wide at 4 pt: the widest column wraps its text in what is left
            _wrap_widest_column(data, widths, avail, n_head, cell_style)
    table = Table(data, colWidths=widths, repeatRows=n_head, hAlign="LEFT")
    table.setStyle(TableStyle(cmds))
    out: list[Any] = []
    if block.caption:
        out.append(_p(block.caption, "h2"))
    out.append(table)
    out.extend(_p(n, "small") for n in block.notes)
    return out


MIN_TABLE_FONT = 4.0  # pt: a table too wide for the page shrinks its font to this, then wraps its widest column


def _wrap_widest_column(data: list[list[Any]], widths: list[float], avail: float, n_head: int,
                        cell_style: Any) -> None:
    """Give the widest column the page width the others leave (at least a fifth of it) and make its body cells
    left-aligned paragraphs that wrap there; ``data`` and ``widths`` are changed in place."""
    from reportlab.lib.enums import TA_LEFT
    from reportlab.platypus import Paragraph

    c = max(range(len(widths)), key=widths.__getitem__)
    widths[c] = max(avail - (sum(widths) - widths[c]), avail / 5)
    style = cell_style.clone("wrapped", alignment=TA_LEFT)
    for row in data[n_head:]:
        if c < len(row) and isinstance(row[c], str):
            row[c] = Paragraph(escape(row[c]), style)


def _column_widths(block: TableBlock, size: float) -> list[float]:
    """Each column as wide as its widest text (bold font for headers and marks) plus padding."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    n = max(len(r) for r in [*block.header, *block.rows])
    widths = [0.0] * n
    spanned = {(hr, c) for hr, c0, c1 in block.spans for c in range(c0, c1 + 1)}
    for hr, row in enumerate(block.header):
        for c, text in enumerate(row):
            if (hr, c) not in spanned:  # a header may break into lines (attribute names): its widest line
                widths[c] = max(widths[c], *(stringWidth(line, FONT_BOLD, size) for line in text.split("\n")))
    for r, row in enumerate(block.rows):
        for c, text in enumerate(row):
            font = FONT_BOLD if block.marks.get((r, c)) == "best" else FONT
            widths[c] = max(widths[c], stringWidth(text, font, size))
    for hr, c0, c1 in block.spans:  # a group title wider than its columns widens them evenly
        need = stringWidth(block.header[hr][c0], FONT_BOLD, size) - sum(widths[c0:c1 + 1])
        if need > 0:
            for c in range(c0, c1 + 1):
                widths[c] += need / (c1 - c0 + 1)
    # padding (2 x 2.5) plus slack: an underlined (second best) cell is a Paragraph, which wrapped its last digit
    # onto a second line when its width left no room for rounding
    return [w + 9.0 for w in widths]


def _key_values(block: KeyValues, avail: float) -> Any:
    from reportlab.platypus import Table, TableStyle

    data = [[_p(k, "key"), _p(v, "value")] for k, v in block.rows]
    table = Table(data, colWidths=[0.24 * avail, 0.76 * avail], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 1),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 1), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _figures(block: FigureBlock, avail: float, avail_height: float) -> list[Any]:
    from reportlab.platypus import Table, TableStyle

    max_height = avail_height - 40.0  # room for the caption and the table padding
    if len(block.svgs) == 1:
        width = avail if block.full_width else avail * 0.55
        row: list[Any] = [_drawing(block.svgs[0], width, max_height)]
    else:
        gap = 6.0
        width = (avail - gap * (len(block.svgs) - 1)) / len(block.svgs)
        row = [_drawing(s, width, max_height) for s in block.svgs]
    table = Table([row], hAlign="LEFT")
    table.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 3)]))
    out: list[Any] = [table]
    if block.caption:
        out.append(_p(block.caption, "caption"))
    return out


def write_pdf(report: Report, path: Path) -> None:
    """Lay out every block and write the PDF atomically."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import cm
    from reportlab.platypus import BaseDocTemplate, CondPageBreak, Frame, NextPageTemplate, PageTemplate
    from reportlab.platypus import PageBreak as RLPageBreak

    _register_fonts()
    margin = 1.6 * cm

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
        w, _ = canvas._pagesize
        canvas.drawString(margin, 0.9 * cm, f"{report.title} — evalkit {report.stamp.get('evalkit', '')} — "
                                            f"{report.stamp.get('date', '')}")
        canvas.drawRightString(w - margin, 0.9 * cm, f"page {doc.page}")
        canvas.restoreState()

    with atomic_target(Path(path)) as tmp_path:
        tmp = str(tmp_path)
        doc = BaseDocTemplate(tmp, pagesize=A4, leftMargin=margin, rightMargin=margin, topMargin=margin,
                              bottomMargin=margin * 1.1, title=report.title, author="evalkit",
                              subject="tracking evaluation report", creator=f"evalkit {report.stamp.get('evalkit')}")
        pw, ph = A4
        lw, lh = landscape(A4)
        portrait = Frame(margin, margin * 1.1, pw - 2 * margin, ph - 2.1 * margin, id="p")
        wide = Frame(margin, margin * 1.1, lw - 2 * margin, lh - 2.1 * margin, id="l")
        doc.addPageTemplates([PageTemplate("portrait", [portrait], onPage=footer, pagesize=A4),
                              PageTemplate("landscape", [wide], onPage=footer, pagesize=landscape(A4))])
        story: list[Any] = []
        avail, avail_height = portrait._width, portrait._height
        for block in report.blocks:
            if isinstance(block, PageBreak):
                if story:
                    target = "landscape" if block.landscape else "portrait"
                    story.append(NextPageTemplate(target))
                    story.append(RLPageBreak())
                    frame = wide if block.landscape else portrait
                    avail, avail_height = frame._width, frame._height
            elif isinstance(block, Heading):
                style = "title" if block.level == 0 else ("h1" if block.level == 1 else "h2")
                if block.level == 2:
                    story.append(CondPageBreak(3 * cm))
                story.append(_p(block.text, style))
            elif isinstance(block, Text):
                story.append(_p(block.text, "small" if block.small else "body"))
            elif isinstance(block, KeyValues):
                story.append(_key_values(block, avail))
            elif isinstance(block, TableBlock):
                story.extend(_table(block, avail))
            elif isinstance(block, FigureBlock):
                story.extend(_figures(block, avail, avail_height))
            elif isinstance(block, LeaderboardBlock):
                story.extend(_table(block.as_table(), avail))
        doc.build(story)
