"""Render a filled published-table layout as Markdown, LaTeX (booktabs) or CSV. Formatting only.

    >>> print(render(table, "markdown"))                 # doctest: +SKIP
    | Method | fps | 2013 OPE IoU | prec. | 2013 TRE IoU | prec. | ...

Marks follow the paper: ``bold-underline`` (CFNet) prints the best value bold and the second underlined
(Markdown ``**x**`` and ``<u>x</u>``, LaTeX ``\\textbf`` and ``\\underline``); ``red-blue`` (DCFFNet) prints them red
and blue (LaTeX ``\\textcolor``, needs xcolor; Markdown bold and underlined, with a note). With
``--against-published`` each value cell reads ``ours / paper (difference)``; CSV gets separate columns. Flags: ``†``
a cell the paper itself gets wrong (note below the table), ``≠`` a difference beyond the printed precision, ``*`` a
partial score.
"""

from __future__ import annotations

import csv
import io
from typing import Literal

from evalkit.paper_tables.model import Cell, FilledTable, Metric

Format = Literal["markdown", "latex", "csv", "plain"]


def _flags(cell: Cell) -> str:
    return ("†" if cell.inconsistent else "") + ("≠" if cell.mismatch else "") + ("*" if cell.partial else "")


def _value_text(table: FilledTable, metric: Metric, cell: Cell, fmt: Format) -> str:
    text = metric.format(cell.value)
    if cell.rank and text != "-":
        text = _mark(text, cell.rank, table.layout.marks, fmt)
    if table.against_published and cell.published is not None:
        paper = metric.text(cell.published)
        diff = cell.difference(metric)
        diff_text = f" ({metric.text(diff, sign=True)})" if diff is not None else ""
        text = f"{text} / {paper}{diff_text}"
    flags = _flags(cell)
    if flags:
        text += _latex_flags(flags) if fmt == "latex" else flags
    return text


def _latex_flags(flags: str) -> str:
    return "$^{" + flags.replace("†", r"\dagger").replace("≠", r"\neq").replace("*", r"\ast") + "}$"


def _mark(text: str, rank: int, style: str | None, fmt: Format) -> str:
    if fmt == "plain":  # marks travel separately (the report draws them)
        return text
    if fmt == "markdown":
        return f"**{text}**" if rank == 1 else f"<u>{text}</u>"
    if style == "red-blue":
        return rf"\textcolor{{{'red' if rank == 1 else 'blue'}}}{{{text}}}"
    return rf"\textbf{{{text}}}" if rank == 1 else rf"\underline{{{text}}}"


def _grid(table: FilledTable, fmt: Format) -> tuple[list[tuple[str, int]], list[str], list[list[str]]]:
    """(group header spans, column labels, body rows) in the layout's orientation."""
    layout = table.layout
    if layout.trackers_as_columns:
        labels = [layout.corner, *table.trackers]
        body = [[m.label, *(_value_text(table, m, table.cell(t, m.key), fmt) for t in table.trackers)]
                for m in layout.metrics]
        return [], labels, body
    groups: list[tuple[str, int]] = [("", 1)]
    for m in layout.metrics:
        if groups and groups[-1][0] == m.group and m.group:
            groups[-1] = (m.group, groups[-1][1] + 1)
        else:
            groups.append((m.group, 1))
    labels = [layout.corner, *(m.label for m in layout.metrics)]
    body = [[t, *(_value_text(table, m, table.cell(t, m.key), fmt) for m in layout.metrics)] for t in table.trackers]
    return groups, labels, body


def grid(table: FilledTable) -> tuple[list[tuple[str, int]], list[str], list[list[str]], dict[tuple[int, int], int]]:
    """(group spans, column labels, body rows as plain text, {(row, column): rank}) in the layout's orientation."""
    groups, labels, body = _grid(table, "plain")
    ranks: dict[tuple[int, int], int] = {}
    for i, t in enumerate(table.trackers):
        for j, m in enumerate(table.layout.metrics):
            rank = table.cell(t, m.key).rank
            if rank:
                ranks[(j, i + 1) if table.layout.trackers_as_columns else (i, j + 1)] = rank
    return groups, labels, body, ranks


def render_markdown(table: FilledTable) -> str:
    """A Markdown table (one header row: a group's name leads its first column, as TABLES.md writes them)."""
    groups, labels, body = _grid(table, "markdown")
    header = list(labels)
    if groups:
        i = 0
        for name, span in groups:
            if name:
                header[i] = f"{name} {header[i]}"
            i += span
    lines = [f"**{table.layout.title}**" + (" — PARTIAL" if table.partial else ""), ""]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join(["---"] * len(header)) + "|")
    lines.extend("| " + " | ".join(row) + " |" for row in body)
    notes = list(table.notes)
    if table.layout.marks == "red-blue" and any(c.rank for c in table.cells.values()):
        notes.insert(0, "Best in bold, second underlined (red and blue in the paper).")
    elif table.layout.marks and any(c.rank for c in table.cells.values()):
        notes.insert(0, "Best in bold, second underlined, per " + ("row." if table.layout.trackers_as_columns
                                                                   else "column."))
    if table.shows_published:
        notes.insert(0, "Cells: evalkit / published (difference).")
    if notes:
        lines.append("")
        lines.extend(f"- {n}" for n in notes)
    return "\n".join(lines)


def _tex_escape(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"),
                 ("$", r"\$"), ("{", r"\{"), ("}", r"\}")):
        text = text.replace(a, b)
    return text.replace("≠", r"$\neq$").replace("†", r"$\dagger$")


def render_latex(table: FilledTable) -> str:
    """A booktabs table (``\\toprule``, grouped header with ``\\cmidrule``, ``\\midrule``, ``\\bottomrule``)."""
    groups, labels, body = _grid(table, "latex")
    n = len(labels)
    out = [r"% evalkit table --layout " + table.layout.name + r"; needs \usepackage{booktabs}"
           + (r" and \usepackage{xcolor}" if table.layout.marks == "red-blue" else ""),
           r"\begin{table}[t]", r"\centering", r"\begin{tabular}{l" + "c" * (n - 1) + "}", r"\toprule"]
    if groups and any(name for name, _ in groups):
        cells, rules, col = [], [], 1
        for name, span in groups:
            cells.append(rf"\multicolumn{{{span}}}{{c}}{{{_tex_escape(name)}}}" if span > 1 else _tex_escape(name))
            if name:
                rules.append(rf"\cmidrule(lr){{{col}-{col + span - 1}}}")
            col += span
        out.append(" & ".join(cells) + r" \\")
        out.append(" ".join(rules))
    out.append(" & ".join(_tex_escape(c) for c in labels) + r" \\")
    out.append(r"\midrule")
    for row in body:
        out.append(" & ".join([_tex_escape(row[0]), *row[1:]]) + r" \\")
    out.append(r"\bottomrule")
    out.append(r"\end{tabular}")
    caption = _tex_escape(table.layout.title) + (" (partial)" if table.partial else "")
    if table.layout.marks == "red-blue":
        caption += r". Best in \textcolor{red}{red}, second in \textcolor{blue}{blue}"
    elif table.layout.marks:
        caption += r". Best in \textbf{bold}, second \underline{underlined}"
    if table.shows_published:
        caption += ". Cells: evalkit / published (difference)"
    out.append(rf"\caption{{{caption}.}}")
    out.append(rf"\label{{tab:{table.layout.name}}}")
    out.append(r"\end{table}")
    out.extend(f"% {_tex_escape(n)}" for n in table.notes)
    return "\n".join(out)


def render_csv(table: FilledTable) -> str:
    """One row per table row in the layout's orientation, numbers at the printed precision; with published values
    each value column is followed by ``<column> published`` and ``<column> difference``; flags in ``notes``."""
    layout = table.layout
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    extra = table.against_published

    def value_cols(name: str) -> list[str]:
        return [name, f"{name} published", f"{name} difference"] if extra else [name]

    def values(m: Metric, c: Cell) -> list[str]:
        v = "" if m.printed(c.value) is None else m.format(c.value)
        if not extra:
            return [v]
        diff = c.difference(m)
        return [v, "" if c.published is None else m.text(c.published),
                "" if diff is None else m.text(diff, sign=True)]

    def flags(pairs: list[tuple[str, Cell]]) -> str:
        parts = []
        for label, c in pairs:
            kinds = [k for k, on in (("inconsistent in the paper", c.inconsistent), ("differs", c.mismatch),
                                     ("partial", c.partial)) if on]
            if kinds:
                parts.append(f"{label}: {', '.join(kinds)}")
        return "; ".join(parts)

    if layout.trackers_as_columns:
        w.writerow([layout.corner or "metric", *(c for t in table.trackers for c in value_cols(t)), "notes"])
        for m in layout.metrics:
            cells = [table.cell(t, m.key) for t in table.trackers]
            w.writerow([m.label, *(v for c in cells for v in values(m, c)),
                        flags(list(zip(table.trackers, cells, strict=True)))])
    else:
        names = [f"{m.group} {m.label}".strip() for m in layout.metrics]
        w.writerow([layout.corner, *(c for n in names for c in value_cols(n)), "notes"])
        for t in table.trackers:
            cells = [table.cell(t, m.key) for m in layout.metrics]
            w.writerow([t, *(v for m, c in zip(layout.metrics, cells, strict=True) for v in values(m, c)),
                        flags(list(zip(names, cells, strict=True)))])
    return buf.getvalue()


def render(table: FilledTable, fmt: Format) -> str:
    """The table in ``markdown``, ``latex`` or ``csv``."""
    if fmt == "markdown":
        return render_markdown(table)
    if fmt == "latex":
        return render_latex(table)
    if fmt == "csv":
        return render_csv(table)
    raise ValueError(f"unknown table format {fmt!r}")
