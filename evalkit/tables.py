"""Score tables from any report (OPE/TRE/SRE, VOT supervised, multistart) as text, markdown, LaTeX, HTML, CSV, JSON.

The table model is pandas: a report gives its numbers as DataFrames (:meth:`~evalkit.scoring.base.Report.to_pandas`,
``per_sequence()``, ``per_attribute()``) and describes its columns (:class:`~evalkit.scoring.base.Column`: label,
decimals, which way is better); this module only turns those frames into text. No metric is computed here.

    >>> print(format_report(report))                    # doctest: +SKIP
    OTB100 | OPE | profile otb-toolkit | 100 sequences
    Tracker      Success AUC   AUC 95% CI ...
    >>> print(format_report(report, "latex"))           # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence as SequenceABC
from typing import TYPE_CHECKING, Any, Literal

from evalkit.errors import EvalkitError
from evalkit.metrics.statistics import PairedResult
from evalkit.scoring.base import Column, Report, json_number

if TYPE_CHECKING:
    import pandas as pd

Format = Literal["text", "markdown", "latex", "html", "csv", "json"]
FORMATS: tuple[str, ...] = ("text", "markdown", "latex", "html", "csv", "json")
CI_LABEL = "AUC 95% CI"


# -- marking the best values ---------------------------------------------------------------------------------------
def best_rows(values: SequenceABC[object], higher: bool | None) -> tuple[list[int], list[int]]:
    """Row indices holding the best and the second-best finite value (ties within 1e-12 share a rank)."""
    if higher is None:
        return [], []
    finite = sorted({float(v) for v in values if _finite(v)}, reverse=bool(higher))
    ranks: list[list[int]] = []
    for target in finite[:2]:
        ranks.append([i for i, v in enumerate(values) if _finite(v) and abs(float(v) - target) <= 1e-12])  # type: ignore[arg-type]
    while len(ranks) < 2:
        ranks.append([])
    return ranks[0], ranks[1]


def best_cells(frame: pd.DataFrame, columns: SequenceABC[Column]) -> dict[tuple[int, str], str]:
    """``{(row position, column key): "best" | "second"}`` for every ranked column of a numeric frame."""
    marks: dict[tuple[int, str], str] = {}
    if len(frame) < 2:
        return marks
    for c in columns:
        if c.key not in frame.columns:
            continue
        best, second = best_rows(list(frame[c.key]), c.higher_is_better)
        marks.update({(i, c.key): "best" for i in best})
        marks.update({(i, c.key): "second" for i in second})
    return marks


def _finite(value: object) -> bool:
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


# -- display frames ------------------------------------------------------------------------------------------------
def headline_frame(report: Report) -> tuple[pd.DataFrame, dict[tuple[int, str], str]]:
    """The headline table as display strings (tracker names with marks, an interval column when computed), and the
    best/second marks of its numeric cells keyed by (row, column label)."""
    import pandas as pd

    numbers = report.to_pandas()
    rows: dict[str, list[str]] = {"Tracker": [name + report.marks(name) for name in numbers.index]}
    with_ci = any(getattr(report.trackers[n], "ci95", None) for n in numbers.index)
    for i, c in enumerate(report.columns):
        rows[c.label] = [c.format(v) for v in numbers[c.key]]
        if i == 0 and with_ci:
            rows[CI_LABEL] = [_interval(getattr(report.trackers[n], "ci95", {}).get(c.key)) for n in numbers.index]
    extras = [report.extra_cells(n) for n in numbers.index]
    for label in dict.fromkeys(k for e in extras for k in e):
        rows[label] = [e.get(label, "") for e in extras]
    marks = {(i, report.column(key).label): m for (i, key), m in best_cells(numbers, report.columns).items()}
    return pd.DataFrame(rows), marks


def _interval(lo_hi: tuple[float, float] | None) -> str:
    return f"[{lo_hi[0]:.3f}, {lo_hi[1]:.3f}]" if lo_hi else "-"


def sequence_frame(report: Report) -> pd.DataFrame:
    """Per sequence (rows) and tracker (columns): the report's first two sequence metrics as ``a / b``."""
    import pandas as pd

    first, second = report.sequence_columns[:2]
    long = report.per_sequence()
    names = report.ranked()
    seqs = sorted(set(long["sequence"]), key=str.lower)
    cells = {(r.tracker, r.sequence): f"{first.format(getattr(r, first.key))}/{second.format(getattr(r, second.key))}"
             for r in long.itertuples(index=False)}
    rows = {"Sequence": seqs}
    for n in names:
        rows[f"{n} {_short(first)}/{_short(second)}"] = [cells.get((n, s), "-") for s in seqs]
    return pd.DataFrame(rows)


def _short(c: Column) -> str:
    return {"success_auc": "AUC", "precision_20": "P20", "accuracy": "A", "failures": "F", "robustness": "R"}.get(
        c.key, c.label)


def attribute_frame(report: Report, field: str | None = None) -> pd.DataFrame:
    """Per tracker (rows) and attribute (columns, with the number of sequences): one metric, by default the
    ranking one."""
    import pandas as pd

    key = field or report.rank_by
    column = report.column(key)
    long = report.per_attribute()
    if long.empty:
        return pd.DataFrame()
    codes = sorted(set(long["attribute"]))
    counts = long.groupby("attribute")["n_sequences"].max() if "n_sequences" in long else None
    rows: dict[str, list[str]] = {"Tracker": report.ranked()}
    for code in codes:
        n = f"({int(counts[code])})" if counts is not None and _finite(counts[code]) else ""
        values = long[long["attribute"] == code].set_index("tracker")[key]
        rows[f"{code}{n}"] = [column.format(values.get(t)) for t in rows["Tracker"]]
    return pd.DataFrame(rows)


# -- rendering -----------------------------------------------------------------------------------------------------
def render(frame: pd.DataFrame, fmt: Format = "text", marks: dict[tuple[int, str], str] | None = None,
           caption: str | None = None) -> str:
    """A display frame as text (aligned columns), markdown, LaTeX (booktabs; best bold, second underlined), HTML
    or CSV. The first column is left-aligned, the others right-aligned."""
    import pandas as pd

    marks = marks or {}
    if fmt == "csv":
        return frame.to_csv(index=False)
    if fmt in ("text", "markdown"):
        align = ("left", *(["right"] * (len(frame.columns) - 1)))
        if fmt == "markdown":
            frame = frame.copy()
            for (i, col), m in marks.items():
                frame.iloc[i, frame.columns.get_loc(col)] = (f"**{frame.iloc[i][col]}**" if m == "best"
                                                              else f"_{frame.iloc[i][col]}_")
        return frame.to_markdown(index=False, tablefmt="simple" if fmt == "text" else "github",
                                 disable_numparse=True, colalign=align)
    if fmt == "latex":
        cells = frame.map(_latex_escape)
        for (i, col), m in marks.items():
            j = cells.columns.get_loc(col)
            cells.iloc[i, j] = (rf"\textbf{{{cells.iloc[i, j]}}}" if m == "best"
                                else rf"\underline{{{cells.iloc[i, j]}}}")
        cells.columns = [_latex_escape(c) for c in cells.columns]
        tex = cells.style.hide(axis="index")
        if caption:
            tex = tex.set_caption(_latex_escape(caption))
        return tex.to_latex(hrules=True, column_format="l" + "r" * (len(frame.columns) - 1))
    if fmt == "html":
        css = {"best": "font-weight: bold;", "second": "text-decoration: underline;"}

        def styles(data: pd.DataFrame) -> pd.DataFrame:
            out = pd.DataFrame("", index=data.index, columns=data.columns)
            for (i, col), m in marks.items():
                out.iloc[i, out.columns.get_loc(col)] = css[m]
            return out
        styler = frame.style.hide(axis="index").apply(styles, axis=None)
        return (styler.set_caption(caption) if caption else styler).to_html()
    raise EvalkitError(f"unknown table format {fmt!r}; one of {', '.join(FORMATS)}")


def _latex_escape(text: object) -> str:
    out = str(text)
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"), ("#", r"\#"), ("_", r"\_"),
                 ("{", r"\{"), ("}", r"\}"), ("~", r"\textasciitilde{}"), ("^", r"\textasciicircum{}")):
        out = out.replace(a, b) if a != "\\" else out.replace(a, "\x00")
    return out.replace("\x00", r"\textbackslash{}")


def format_report(report: Report, fmt: Format = "text") -> str:
    """The headline table of any report: title line, table, footnotes (CSV: full-precision numbers, one row per
    tracker; JSON: the report's documented object)."""
    if fmt == "json":
        return format_json(report)
    if fmt == "csv":
        return format_csv(report)
    frame, marks = headline_frame(report)
    notes = report.notes()
    if fmt == "text":
        return "\n".join([report.title(), render(frame, "text"), *notes])
    if fmt == "markdown":
        return "\n\n".join([f"**{report.title()}**", render(frame, "markdown", marks), *notes])
    body = render(frame, fmt, marks, caption=report.title())
    if fmt == "latex" and notes:
        body += "\n".join(_latex_escape(n) + r"\\" for n in notes) + "\n"
    elif fmt == "html" and notes:
        import html

        body += "".join(f"<p class='note'>{html.escape(n)}</p>" for n in notes)
    return body


def format_sequences(report: Report, fmt: Format = "text") -> str:
    """Per-sequence scores of every tracker (see :func:`sequence_frame`)."""
    frame = sequence_frame(report)
    return ("per sequence\n" if fmt == "text" else "") + render(frame, fmt)


def format_attributes(report: Report, field: str | None = None, fmt: Format = "text") -> str:
    """One metric per attribute (VOT: per tag) of every tracker; empty when the suite has no attributes."""
    frame = attribute_frame(report, field)
    if frame.empty:
        return ""
    label = field or report.rank_by
    return (f"{label} by attribute\n" if fmt == "text" else "") + render(frame, fmt)


def format_csv(report: Report) -> str:
    """One row per tracker with full precision: suite, protocol, settings, partial, tracker, the columns,
    complete."""
    frame = report.to_pandas().reset_index()
    header = report.json_header()
    for i, (k, v) in enumerate(header.items()):
        frame.insert(i, k, v)
    return frame.to_csv(index=False, lineterminator="\n")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (json_number(v) if isinstance(v, float) else v) for k, v in row.items()}
            for row in frame.to_dict("records")]


def format_json(report: Report, per_sequence: bool = False, per_attribute: bool = False) -> str:
    """Exactly one JSON object: the report's ``as_json``, with ``per_sequence`` / ``per_attribute`` lists of
    records (one per tracker and sequence or attribute) when asked for."""
    obj = report.as_json()
    if per_sequence:
        obj["per_sequence"] = _records(report.per_sequence())
    if per_attribute:
        obj["per_attribute"] = _records(report.per_attribute())
    return json.dumps(obj, indent=2)


def format_comparison(a: str, b: str, results: list[PairedResult], suite: str, protocol: str, profile: str,
                      fmt: Format = "text") -> str:
    """The paired comparison of two trackers: scores, difference, its interval and the p-value, per field."""
    import pandas as pd

    frame = pd.DataFrame({
        "Field": [r.field for r in results], a: [f"{r.a:.4f}" for r in results], b: [f"{r.b:.4f}" for r in results],
        "Difference": [f"{r.difference:+.4f}" for r in results],
        "95% CI": [f"[{r.interval[0]:+.4f}, {r.interval[1]:+.4f}]" for r in results],
        "p-value": [f"{r.p_value:.4f}" for r in results],
        "": ["significant" if r.significant else "not significant" if r.conclusive
             else f"too few sequences (smallest p {r.min_p_value:.3g})" for r in results]})
    n = results[0].n_sequences if results else 0
    title = f"{a} vs {b} | {suite.upper()} | {protocol.upper()} | profile {profile} | {n} common sequences"
    return "\n".join([title, render(frame, fmt),
                      "paired bootstrap interval over sequences; p: paired sign-flip permutation test"])
