"""Write a report as one self-contained HTML page: inline CSS, figures as inline SVG, no external resources.

    >>> write_html(report, Path("report.html"))        # doctest: +SKIP

The page holds exactly the blocks the PDF holds (see :mod:`evalkit.report.document`), in the same order.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from evalkit.io import atomic_write_text
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

_CSS = """
body { font-family: 'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif; font-size: 13px; margin: 2em auto;
       max-width: 1200px; color: #111; padding: 0 1em; }
h1 { font-size: 26px; } h2 { font-size: 20px; margin-top: 1.6em; border-bottom: 1px solid #bbb; }
h3 { font-size: 15px; margin-top: 1.2em; }
table { border-collapse: collapse; margin: 0.4em 0 0.3em 0; font-size: 12px; }
th, td { padding: 2px 7px; text-align: center; white-space: nowrap; }
td:first-child, th:first-child { text-align: left; }
thead tr:first-child th { border-top: 1.5px solid #000; } thead tr:last-child th { border-bottom: 1px solid #000; }
tbody tr:last-child td { border-bottom: 1.5px solid #000; } tbody tr:nth-child(even) { background: #f4f4f4; }
table.small { font-size: 11px; } table.kv td { text-align: left; white-space: normal; vertical-align: top; }
table.kv td:first-child { font-weight: bold; padding-right: 1.5em; } table.kv tr { background: none !important; }
table.kv tbody tr:last-child td { border-bottom: none; }
.note { font-size: 11px; color: #333; margin: 0.1em 0; } .caption { font-size: 12px; color: #333; }
.figures { display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-start; }
.figures > div { flex: 0 1 auto; max-width: 100%; }
.figures svg { display: block; max-width: 100%; height: auto; }
table.board th { cursor: pointer; user-select: none; } table.board th[aria-sort]::after { content: " \2195"; }
table.board th[aria-sort="ascending"]::after { content: " \2191"; }
table.board th[aria-sort="descending"]::after { content: " \2193"; }
table.board td a { color: inherit; text-decoration: none; border-bottom: 1px dotted #777; }
pre.problems { font-size: 11px; white-space: pre-wrap; } .scroll { overflow-x: auto; }
"""


def _svg_inline(svg: str) -> str:
    """The <svg> element of a matplotlib SVG file, without the XML prologue and doctype. Its width and height (in
    pt) stay: they are the figure's intended size (the grid of per-attribute plots is 9.2 in wide), which the CSS
    only caps at the page width. Without them a flex item shrank to the browser's 300 px default for an SVG."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


# sorts the leaderboard on a header click: by each cell's data-value (numbers; unscored cells last), toggling the
# direction; the first click sorts best first (descending where higher is better)
_SORT_JS = """
function evalkitSort(th) {
  var table = th.closest('table'), body = table.tBodies[0], col = th.cellIndex;
  var higher = th.dataset.higher !== 'false';
  var asc = th.getAttribute('aria-sort') ? th.getAttribute('aria-sort') !== 'ascending' : !higher;
  if (col === 0) { asc = th.getAttribute('aria-sort') !== 'ascending'; }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute('aria-sort'); });
  th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
  var rows = Array.prototype.slice.call(body.rows);
  rows.sort(function (a, b) {
    var x = a.cells[col].dataset.value, y = b.cells[col].dataset.value;
    if (col === 0) { return asc ? x.localeCompare(y) : y.localeCompare(x); }
    x = x === '' ? NaN : Number(x); y = y === '' ? NaN : Number(y);
    if (isNaN(x) || isNaN(y)) { return isNaN(x) - isNaN(y); }
    return asc ? x - y : y - x;
  });
  rows.forEach(function (r) { body.appendChild(r); });
}
"""


def _leaderboard(block: LeaderboardBlock) -> str:
    """The sortable leaderboard: a link per cell to its suite's section, its provenance as the tooltip, and the
    columns' provenance as footnotes."""
    b = block.board
    head = ['<th data-higher="false" onclick="evalkitSort(this)" title="sort by name">Tracker</th>']
    for c in b.columns:
        head.append(f'<th data-higher="{str(c.higher_is_better).lower()}" onclick="evalkitSort(this)" '
                    f'title="{escape(c.note)}">{escape(c.label)}<br><small>{escape(c.metric)}</small></th>')
    rows = []
    for name, cells in b.rows:
        tds = [f'<td data-value="{escape(name)}">{escape(name)}</td>']
        for c, cell in zip(b.columns, cells, strict=True):
            value = "" if cell.value != cell.value else repr(cell.value)
            inner = (f'<a href="#{escape(c.anchor)}" title="{escape(cell.provenance)}">{escape(cell.text)}</a>'
                     if cell.provenance and cell.text != "-" else escape(cell.text or "-"))
            tds.append(f'<td data-value="{value}" title="{escape(cell.provenance)}">{inner}</td>')
        rows.append("<tr>" + "".join(tds) + "</tr>")
    notes = "".join(f'<p class="note">{escape(c.note)}</p>' for c in b.columns)
    return (f'<div class="scroll"><table class="board" id="leaderboard-table"><thead><tr>{"".join(head)}</tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table></div>'
            f'<p class="note">Click a header to sort; each number links to its suite\'s section, its tooltip '
            f'names the results it came from.</p>{notes}')


def _table(block: TableBlock) -> str:
    out = []
    if block.caption:
        out.append(f"<h3>{escape(block.caption)}</h3>")
    cls = ' class="small"' if block.small else ""
    out.append(f'<div class="scroll"><table{cls}><thead>')
    spans = {(hr, c0): c1 - c0 + 1 for hr, c0, c1 in block.spans}
    for hr, header in enumerate(block.header):
        cells, skip = [], 0
        for c, text in enumerate(header):
            if skip:
                skip -= 1
                continue
            span = spans.get((hr, c), 1)
            skip = span - 1
            attr = f' colspan="{span}"' if span > 1 else ""
            cells.append(f"<th{attr}>{escape(text)}</th>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</thead><tbody>")
    for r, row in enumerate(block.rows):
        cells = []
        for c, text in enumerate(row):
            mark = block.marks.get((r, c), "")
            inner = escape(text)
            if mark == "best":
                inner = f"<b>{inner}</b>"
            elif mark == "second":
                inner = f"<u>{inner}</u>"
            cells.append(f"<td>{inner}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    out.extend(f'<p class="note">{escape(n)}</p>' for n in block.notes)
    return "\n".join(out)


def render_html(report: Report) -> str:
    """The whole page as a string."""
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{escape(report.title)}</title>",
             '<meta name="generator" content="evalkit ' + escape(report.stamp.get("evalkit", "")) + '">',
             f"<style>{_CSS}</style>"
             # script only where there is something to sort: a one-suite report stays a page without any
             + (f"<script>{_SORT_JS}</script>" if any(isinstance(b, LeaderboardBlock) for b in report.blocks)
                else "") + "</head><body>"]
    for block in report.blocks:
        if isinstance(block, Heading):
            level = min(3, block.level + 1)
            anchor = f' id="{escape(block.anchor)}"' if block.anchor else ""
            parts.append(f"<h{level}{anchor}>{escape(block.text)}</h{level}>")
        elif isinstance(block, Text):
            if block.small:
                parts.append(f'<pre class="problems">{escape(block.text)}</pre>')
            else:
                parts.append(f"<p>{escape(block.text)}</p>")
        elif isinstance(block, KeyValues):
            rows = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in block.rows)
            parts.append(f'<table class="kv"><tbody>{rows}</tbody></table>')
        elif isinstance(block, TableBlock):
            parts.append(_table(block))
        elif isinstance(block, FigureBlock):
            kind = "fig-full" if block.full_width else "fig-half"
            figs = "".join(f'<div class="{kind}">{_svg_inline(s)}</div>' for s in block.svgs)
            parts.append(f'<div class="figures">{figs}</div>')
            if block.caption:
                parts.append(f'<p class="caption">{escape(block.caption)}</p>')
        elif isinstance(block, PageBreak):
            parts.append("<hr>")
        elif isinstance(block, LeaderboardBlock):
            parts.append(_leaderboard(block))
    parts.append(f'<p class="note">{escape(report.title)} — evalkit {escape(report.stamp.get("evalkit", ""))} — '
                 f'{escape(report.stamp.get("date", ""))}</p>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_html(report: Report, path: Path) -> None:
    """Write the page atomically."""
    atomic_write_text(Path(path), render_html(report))
