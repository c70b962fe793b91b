"""The report's content as a list of blocks (headings, key-value lists, tables, figures), shared by the PDF and the
HTML writer so both show the same thing.

    >>> report = build_report(ope_reports, vot_reports, result_sets, data_sources={"otb100": "..."})  # doctest: +SKIP
    >>> write_report(report, Path("report.pdf"))        # or .html                                   # doctest: +SKIP

Order: first page (what was run: trackers, suites, protocols, profile, statistics; software, machine and date;
data sources; result provenance per tracker: source, weights sha256, device, parameters, evalkit version); then per
suite and protocol the score table (95 % bootstrap intervals, best bold, ``=`` where the paired test cannot tell a
tracker from the best), success and precision plots and per-attribute plots; VOT suites with the EAO/A/R table,
the AR plot, the EAO curve and ranking; speed (FPS with device); the published-table layouts asked for; and an
appendix of per-sequence tables.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Iterable
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from evalkit.errors import EvalkitError
from evalkit.report.provenance import ResultProvenance, Speed, report_stamp, result_provenance, tracker_speed
from evalkit.scoring.base import format_value

Mark = Literal["", "best", "second"]


@dataclass
class Heading:
    """A section title (level 1 starts a new page in the PDF)."""

    text: str
    level: int = 1


@dataclass
class Text:
    """A paragraph of plain text."""

    text: str
    small: bool = False


@dataclass
class KeyValues:
    """Label: value lines (the provenance page)."""

    rows: list[tuple[str, str]]


@dataclass
class TableBlock:
    """A table: header rows, body rows, per-cell marks (best bold, second underlined) and notes below."""

    header: list[list[str]]
    rows: list[list[str]]
    marks: dict[tuple[int, int], Mark] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    caption: str = ""
    small: bool = False
    spans: list[tuple[int, int, int]] = field(default_factory=list)  # (header row, first col, last col)


@dataclass
class FigureBlock:
    """One or two SVG figures side by side, with a caption."""

    svgs: list[str]
    caption: str = ""
    full_width: bool = False


@dataclass
class PageBreak:
    """Start a new page (PDF) or a visual separator (HTML)."""

    landscape: bool = False


Block = Heading | Text | KeyValues | TableBlock | FigureBlock | PageBreak


@dataclass
class Report:
    """A titled list of blocks."""

    title: str
    blocks: list[Block]
    stamp: dict[str, str]


def _block(frame: Any, marks: dict[tuple[int, str], str], notes: list[str], caption: str,
           small: bool = False) -> TableBlock:
    """A display DataFrame (evalkit.tables) as a report table; marks keyed by (row, column label)."""
    columns = list(frame.columns)
    cells: dict[tuple[int, int], Mark] = {(i, columns.index(col)): m for (i, col), m in marks.items()}  # type: ignore[misc]
    return TableBlock([columns], [list(map(str, row)) for row in frame.itertuples(index=False)], cells, notes, caption,
                      small=small)


def score_table(report: Any) -> TableBlock:
    """The headline table of any report kind: its columns, best bold and second underlined, its footnotes."""
    from evalkit.tables import headline_frame

    frame, marks = headline_frame(report)
    return _block(frame, marks, report.notes(), report.title())


def attribute_tables(report: Any) -> list[TableBlock]:
    """Per attribute (VOT: per tag) tables of the columns the report shows as tables, best per attribute bold."""
    from evalkit.tables import attribute_frame, best_rows

    out = []
    for key in report.attribute_tables:
        frame = attribute_frame(report, key)
        if frame.empty:
            continue
        column = report.column(key)
        long = report.per_attribute()
        marks = {}
        for col in frame.columns[1:]:
            code = col.split("(")[0]
            values = long[long["attribute"] == code].set_index("tracker")[key]
            best, _ = best_rows([values.get(t) for t in frame["Tracker"]], column.higher_is_better)
            marks.update({(i, col): "best" for i in best})
        out.append(_block(frame, marks, [], f"{report.suite.upper()}: {column.label} per attribute", small=True))
    return out


def sequence_tables(report: Any, chunk: int = 10) -> list[TableBlock]:
    """Per-sequence scores (the report's first two per-sequence columns, ``a/b``), at most ``chunk`` trackers a
    table; the best first value of each row bold."""
    from evalkit.tables import best_rows, sequence_frame

    frame = sequence_frame(report)
    long = report.per_sequence()
    first = report.sequence_columns[0]
    names = report.ranked()
    out = []
    for start in range(0, len(names), chunk):
        part = frame.iloc[:, [0, *range(1 + start, 1 + min(start + chunk, len(names)))]]
        marks = {}
        if part.shape[1] > 2:
            by = long.set_index(["sequence", "tracker"])[first.key]
            for r, seq in enumerate(part["Sequence"]):
                values = [by.get((seq, n)) for n in names[start:start + chunk]]
                best, _ = best_rows(values, first.higher_is_better)
                marks.update({(r, part.columns[c + 1]): "best" for c in best})
        caption = f"{report.suite.upper()} {report.protocol_name}: per sequence"
        if len(names) > chunk:
            caption += f" (trackers {start + 1}-{start + part.shape[1] - 1} of {len(names)})"
        out.append(_block(part, marks, [], caption, small=True))
    return out


def speed_table(speeds: dict[str, Speed | None]) -> TableBlock:
    """FPS per tracker with the device it ran on."""
    rows = [[name, format_value(s.fps, 1) if s else "-", s.device if s else "no stored times",
             str(s.n_sequences) if s else "-"] for name, s in speeds.items()]
    return TableBlock([["Tracker", "FPS", "Device", "Sequences timed"]], rows, {},
                      ["FPS: per-sequence frames over total time (initialisation included), averaged over "
                       "sequences; hardware-bound, compare only on the same device."], "Speed")


def paper_table_block(table: Any) -> TableBlock:
    """A filled published-table layout as a report table (marks as the paper prints them)."""
    from evalkit.paper_tables.render import grid

    groups, labels, plain, ranks = grid(table)
    marks: dict[tuple[int, int], Mark] = {k: ("best" if r == 1 else "second") for k, r in ranks.items()}
    header = [labels]
    spans = []
    if groups and any(name for name, _ in groups):
        top, col = [], 0
        for name, span in groups:
            top.extend([name] + [""] * (span - 1))
            if span > 1:
                spans.append((0, col, col + span - 1))
            col += span
        header = [top, labels]
    caption = table.layout.title + (" (partial)" if table.partial else "")
    notes = list(table.notes)
    if table.layout.marks:
        notes.insert(0, "Best bold, second underlined" + (" (red and blue in the paper)."
                                                           if table.layout.marks == "red-blue" else "."))
    if table.shows_published:
        notes.insert(0, "Cells: evalkit / published (difference).")
    return TableBlock(header, plain, marks, notes, caption, spans=spans)


def _suite_line(report: Any) -> str:
    scored = max((len(t.per_sequence) for t in report.trackers.values()), default=0)
    text = f"{report.suite} ({scored} of {report.n_suite_sequences + len(report.missing_data)} sequences scored)"
    return text + (" PARTIAL" if report.partial else "")


def _figures(report: Any, attribute_names: dict[str, dict[str, str]] | None) -> list[FigureBlock]:
    """The figures of one report, by its kind: OPE curves and per-attribute grid, VOT AR / EAO plots."""
    from evalkit.report import figures

    if report.kind == "ope":
        out = [FigureBlock([figures.success_plot(report), figures.precision_plot(report)],
                           f"Success and precision plots ({report.protocol.upper()}); legends sorted by success "
                           f"AUC and by precision at 20 px.")]
        if report.protocol == "ope":
            grid = figures.attribute_plot(report, (attribute_names or {}).get(report.suite))
            if grid is not None:
                out.append(FigureBlock([grid], "Success plots per attribute (sequence count in brackets).",
                                       full_width=True))
        return out
    if report.kind == "vot":
        return [FigureBlock([figures.ar_plot(report), figures.eao_curve_plot(report)],
                            "Accuracy-robustness plot and expected-overlap curve."),
                FigureBlock([figures.eao_ranking_plot(report)], "EAO ranking.")]
    return []


def _provenance_rows(p: ResultProvenance) -> list[tuple[str, str]]:
    rows = [(p.tracker, f"{p.kind}: {p.source}")]
    details = []
    if p.weights_sha256:
        details.append(f"weights sha256 {p.weights_sha256}")
    if p.device:
        details.append(f"device {p.device}")
    if p.evalkit_version:
        details.append(f"evalkit {p.evalkit_version}" + (f" @ {p.git_commit[:10]}" if p.git_commit else ""))
    if p.created:
        details.append(f"run {p.created}")
    if p.params:
        details.append("params " + ", ".join(f"{k}={v}" for k, v in sorted(p.params.items())))
    if details:
        rows.append(("", "; ".join(details)))
    return rows


def build_report(reports: SequenceABC[Any], result_sets: SequenceABC[Any], tables: SequenceABC[Any] = (),
                 data_sources: dict[str, str] | None = None, title: str = "evalkit report", command: str | None = None,
                 resamples: int | None = None, seed: int | None = None,
                 attribute_names: dict[str, dict[str, str]] | None = None,
                 progress: Callable[[str], None] | None = None) -> Report:
    """Assemble every block of the report from scored reports, result sets and filled paper tables."""
    if not reports and not tables:
        raise EvalkitError("nothing to report: no scored suite and no table")
    tick = progress or (lambda _what: None)
    stamp = report_stamp()
    trackers = list(dict.fromkeys([n for r in reports for n in r.trackers]
                                  + [rs.tracker for rs in result_sets]))
    blocks: list[Block] = [Heading(title, 0)]
    what = [("Trackers", ", ".join(trackers)),
            ("Suites", "; ".join(dict.fromkeys(_suite_line(r) for r in reports))
             or "none (tables only)"),
            ("Protocols", ", ".join(dict.fromkeys(r.protocol_name for r in reports)) or "-"),
            ("Settings", "; ".join(dict.fromkeys(", ".join(r.settings()) for r in reports)) or "-")]
    if resamples is not None:
        what.append(("Statistics", f"{resamples} bootstrap resamples over sequences, seed {seed}"
                     if resamples else "bootstrap off"))
    if tables:
        what.append(("Paper tables", ", ".join(t.layout.name for t in tables)))
    blocks.append(Heading("What was run", 2))
    blocks.append(KeyValues(what))
    blocks.append(Heading("Software, machine and date", 2))
    blocks.append(KeyValues([(k.capitalize() if k != "evalkit" else "evalkit version", v) for k, v in stamp.items()]
                            + ([("Command", command)] if command else [])))
    if data_sources:
        blocks.append(Heading("Data", 2))
        blocks.append(KeyValues([(suite, src) for suite, src in data_sources.items()]))
    provenance = [result_provenance(rs) for rs in result_sets]
    if provenance:
        blocks.append(Heading("Results and weights", 2))
        blocks.append(KeyValues([row for p in provenance for row in _provenance_rows(p)]))
    problems = [(name, str(p)) for r in reports for name, t in r.trackers.items()
                for p in t.problems]
    if problems:
        blocks.append(Heading("Problems in the results", 2))
        shown = problems[:40]
        blocks.append(Text("\n".join(f"{n}: {p}" for n, p in shown)
                           + (f"\n... and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""),
                           small=True))

    for r in reports:
        blocks.append(PageBreak())
        blocks.append(Heading(f"{r.suite.upper()} — {r.protocol_name}" + (" (partial)" if r.partial else "")))
        blocks.append(score_table(r))
        tick("figures")
        blocks.extend(_figures(r, attribute_names))
        blocks.extend(attribute_tables(r))

    speeds = {rs.tracker: tracker_speed(rs) for rs in result_sets}
    blocks.append(Heading("Speed", 2))
    if any(speeds.values()):
        blocks.append(speed_table(speeds))
    else:
        blocks.append(Text("No stored per-frame times in these results (OTB .mat and VOT archives carry none), so "
                           "no speed is shown; evalkit run stores times for every run."))
    if tables:
        blocks.append(PageBreak(landscape=True))
        blocks.append(Heading("Published tables"))
        for t in tables:
            blocks.append(paper_table_block(t))
    appendix = [r for r in reports if any(t.per_sequence for t in r.trackers.values())]
    if appendix:
        blocks.append(PageBreak())
        blocks.append(Heading("Appendix: per-sequence scores"))
        for r in appendix:
            tick("appendix")
            blocks.extend(sequence_tables(r))
    return Report(title, blocks, stamp)


def command_line(argv: Iterable[str] | None = None) -> str:
    """The command that made the report, shell-quoted."""
    args = list(argv) if argv is not None else sys.argv
    return " ".join(shlex.quote(a) for a in ["evalkit", *args[1:]]) if args else "evalkit"


def write_report(report: Report, path: Path, fmt: str | None = None) -> Path:
    """Write ``report`` as PDF or HTML (from ``fmt`` or the file extension), atomically."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt == "pdf":
        from evalkit.report.pdf import write_pdf

        write_pdf(report, path)
    elif fmt in ("html", "htm"):
        from evalkit.report.html import write_html

        write_html(report, path)
    else:
        raise EvalkitError(f"report format {fmt!r}: use --format pdf or html (or an .pdf / .html --out)")
    return path


def write_run_report(reports: SequenceABC[Any], result_sets: SequenceABC[Any], path: Path,
                     data_sources: dict[str, str] | None = None, resamples: int | None = None,
                     seed: int | None = None, title: str = "evalkit run") -> Path:
    """The report ``evalkit run`` writes at its end (PDF or HTML by extension): every report kind gets its section."""
    report = build_report(reports, result_sets, data_sources=data_sources, title=title, command=command_line(),
                          resamples=resamples, seed=seed)
    return write_report(report, path)
