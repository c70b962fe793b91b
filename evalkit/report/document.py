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
from evalkit.report.leaderboard import leaderboard, section_anchor
from evalkit.report.provenance import ResultProvenance, report_stamp, result_provenance
from evalkit.results import Speed, tracker_speed
from evalkit.scoring.base import format_value

Mark = Literal["", "best", "second"]


@dataclass
class Heading:
    """A section title (level 1 starts a new page in the PDF)."""

    text: str
    level: int = 1
    anchor: str = ""  # the HTML id leaderboard cells link to


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


@dataclass
class LeaderboardBlock:
    """Trackers x suites (evalkit.report.leaderboard): sortable in HTML, a plain table in the PDF."""

    board: Any  # evalkit.report.leaderboard.Leaderboard

    def as_table(self) -> TableBlock:
        """The leaderboard as a plain table with its footnotes (the PDF's rendering)."""
        b = self.board
        header = [["Tracker", *(f"{c.label} {c.metric}" for c in b.columns)]]
        return TableBlock(header, [[name, *(c.text for c in cells)] for name, cells in b.rows], {},
                          [c.note for c in b.columns])  # no caption: the "Leaderboard" heading names it


Block = Heading | Text | KeyValues | TableBlock | FigureBlock | PageBreak | LeaderboardBlock


@dataclass
class Report:
    """A titled list of blocks."""

    title: str
    blocks: list[Block]
    stamp: dict[str, str]
    figures: dict[str, Any] = field(default_factory=dict)  # stable name (suite_protocol_kind) -> matplotlib Figure


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


def attribute_tables(report: Any, names: dict[str, str] | None = None) -> list[TableBlock]:
    """Per attribute (VOT: per tag) tables of the columns the report shows as tables (OPE: success AUC, which the
    shared-legend attribute plots do not print), best per attribute bold. Rows in the report's ranking, attributes
    in one order and under the suite's names (``names``: its attribute_names), the same as the plots."""
    from evalkit.report.figures import attribute_order
    from evalkit.tables import best_rows

    keys = report.attribute_tables or (("success_auc",) if report.kind == "ope" and report.protocol == "ope" else ())
    long = report.per_attribute()
    if long.empty:
        return []
    codes = attribute_order(list(dict.fromkeys(long["attribute"])), names)
    counts = long.groupby("attribute")["n_sequences"].max() if "n_sequences" in long else None
    trackers = report.ranked()
    out = []
    for key in keys:
        column = report.column(key)
        header = ["Tracker"]
        rows: list[list[str]] = [[t] for t in trackers]
        marks: dict[tuple[int, int], Mark] = {}
        for c, (code, label) in enumerate(codes, start=1):
            n = counts.get(code) if counts is not None else None
            # one word a line: eleven OTB attribute names side by side shrank the table's font below 4 pt
            words = label.replace(" ", "\n")
            header.append(f"{words}\n({int(n)})" if n is not None and n == n else words)
            values = long[long["attribute"] == code].set_index("tracker")[key]
            cells = [values.get(t) for t in trackers]
            for row, v in zip(rows, cells, strict=True):
                row.append(column.format(v))
            best, _ = best_rows(cells, column.higher_is_better)
            marks.update({(i, c): "best" for i in best})
        out.append(TableBlock([header], rows, marks, [], f"{report.suite.upper()}: {column.label} per attribute",
                              small=True))
    return out


def sequence_tables(report: Any, chunk: int = 10, order: SequenceABC[str] = ()) -> list[TableBlock]:
    """Per-sequence scores (the report's first two per-sequence columns, ``a/b``), at most ``chunk`` trackers a
    table; the best first value of each row bold. ``order``: the tracker (column) order of every appendix table
    of a document, so a tracker's column does not move between suites; trackers not in it follow, ranked."""
    from evalkit.tables import best_rows, sequence_frame

    frame = sequence_frame(report)
    long = report.per_sequence()
    first = report.sequence_columns[0]
    ranked = report.ranked()
    names = [n for n in order if n in ranked] + [n for n in ranked if n not in order]
    # sequence_frame's columns are in the report's ranking: reorder them to ``names``
    frame = frame[["Sequence", *(frame.columns[1 + ranked.index(n)] for n in names)]]
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
    # no caption: the section's "Speed" heading names it (a caption printed "Speed" a second time)
    return TableBlock([["Tracker", "FPS", "Device", "Sequences timed"]], rows, {},
                      ["FPS: per-sequence frames over total time (initialisation included), averaged over "
                       "sequences; hardware-bound, compare only on the same device."])


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


def _suite_line(report: Any, sizes: dict[str, int] | None = None) -> str:
    """``suite (N of M sequences scored)``: M is the benchmark's size (``sizes``: the suite's expected list, which a
    --sequences subset keeps) so a subset reads "5 of 100 ... PARTIAL", not "5 of 5"."""
    scored = max((len(t.per_sequence) for t in report.trackers.values()), default=0)
    total = (sizes or {}).get(report.suite) or report.n_suite_sequences + len(report.missing_data)
    text = f"{report.suite} ({scored} of {total} sequences scored)"
    return text + (f" PARTIAL: scored on the {scored} sequences present" if report.partial or scored < total else "")


def _figures(report: Any, attribute_names: dict[str, dict[str, str]] | None,
             kept: dict[str, Any] | None = None) -> list[FigureBlock]:
    """The figures of one report, by its kind: OPE curves and per-attribute grid, VOT AR / EAO plots and the
    per-attribute EAO radar. ``kept``: filled with name -> matplotlib figure, the name ``suite_protocol_kind``
    (``otb100_ope_success``) stable across runs, for ``--figures``."""
    from evalkit.report import figures

    names = (attribute_names or {}).get(report.suite)

    def draw(kind: str, fn: Callable[..., str | None], *args: Any) -> list[str]:
        svg, figs = figures.keeping(fn, report, *args)
        if svg is not None and kept is not None and figs:
            kept[f"{report.suite}_{report.protocol}_{kind}"] = figs[-1]
        return [svg] if svg is not None else []

    if report.kind == "ope":
        out = [FigureBlock(draw("success", figures.success_plot) + draw("precision", figures.precision_plot),
                           f"Success and precision plots ({report.protocol.upper()}); legends sorted by success "
                           f"AUC and by precision at 20 px.")]
        if report.protocol == "ope":
            grid = draw("attributes", figures.attribute_plot, names)
            if grid:
                out.append(FigureBlock(grid, "Success plots per attribute (sequence count in brackets); one "
                                       "legend in ranking order, per-attribute AUC in the table below.",
                                       full_width=True))
        return out
    if report.kind == "vot":
        radar = draw("eao-radar", figures.eao_radar_plot, names)
        return [FigureBlock(draw("ar", figures.ar_plot) + draw("eao-curve", figures.eao_curve_plot),
                            "Accuracy-robustness plot and expected-overlap curve."),
                FigureBlock(draw("eao-ranking", figures.eao_ranking_plot) + radar,
                            "EAO ranking" + (" and EAO per attribute (each spoke scaled to its best tracker; "
                                             "lowest and highest EAO in brackets)." if radar else "."))]
    return []


def provenance_table(provenance: list[ResultProvenance]) -> list[Block]:
    """One table of every result set's provenance (tracker, source, kind, weights sha256 short, device, evalkit
    version, params), and the sources' PROVENANCE.md notes once each below it: a paragraph per tracker repeated the
    same note for every tracker of an archive, two pages for six trackers."""
    import os

    notes: dict[str, str] = {}
    rows = []
    for p in provenance:
        source, _, note = p.source.partition(" (")
        if note:
            note = note[:-1] if note.endswith(")") else note  # the " (...)" result_provenance wraps it in
            notes.setdefault(note, f"[{len(notes) + 1}]")
        folder = os.path.basename(source.rstrip("/")) or source
        parent = os.path.basename(os.path.dirname(source.rstrip("/")))
        shown = f"{parent}/{folder}" if parent else folder
        m = p.meta
        rows.append([p.tracker, shown + (f" {notes[note]}" if note else ""), p.kind,
                     m.weights_sha256[:12] if m.weights_sha256 else "-", m.device or "-",
                     (m.evalkit_version or "-") + (f" @ {m.git_commit[:8]}" if m.git_commit else ""),
                     # a parameter left at None is the tracker's own default (OpenCV's, the catalog's weights): the
                     # stored run.json keeps it; listed here, a classic tracker's row was a paragraph of "x=None"
                     ", ".join(f"{k}={v}" for k, v in sorted(m.params.items()) if v is not None) or "-"])
    roots = sorted({os.path.dirname(os.path.dirname(p.source.partition(" (")[0].rstrip("/"))) for p in provenance})
    table_notes = ([f"Sources under {roots[0]}."] if len(roots) == 1 and roots[0] else [])
    table_notes += [f"{mark} {note}" for note, mark in notes.items()]
    if any(v is None for p in provenance for v in p.meta.params.values()):
        table_notes.append("Params: the parameters set; those left at the tracker's default (None) are in each "
                           "store folder's run.json.")
    return [TableBlock([["Tracker", "Source", "Kind", "Weights sha256", "Device", "evalkit", "Params"]], rows, {},
                       table_notes, small=True)]


def build_report(reports: SequenceABC[Any], result_sets: SequenceABC[Any], tables: SequenceABC[Any] = (),
                 data_sources: dict[str, str] | None = None, title: str = "evalkit report", command: str | None = None,
                 resamples: int | None = None, seed: int | None = None,
                 attribute_names: dict[str, dict[str, str]] | None = None,
                 progress: Callable[[str], None] | None = None, suite_sizes: dict[str, int] | None = None,
                 keep_figures: bool = False) -> Report:
    """Assemble every block of the report from scored reports, result sets and filled paper tables."""
    if not reports and not tables:
        raise EvalkitError("nothing to report: no scored suite and no table")
    if not tables and not any(t.per_sequence for r in reports for t in r.trackers.values()):
        # every plot and table would be empty: refuse instead of writing a report that looks like one
        raise EvalkitError("nothing was scored: no tracker has a scored sequence in "
                           + ", ".join(dict.fromkeys(f"{r.suite} {r.protocol_name}" for r in reports))
                           + " (check --trackers, --sequences and that the results belong to these suites)")
    tick = progress or (lambda _what: None)
    stamp = report_stamp()
    trackers = list(dict.fromkeys([n for r in reports for n in r.trackers]
                                  + [rs.tracker for rs in result_sets]))
    blocks: list[Block] = [Heading(title, 0)]
    kept: dict[str, Any] | None = {} if keep_figures else None
    what = [("Trackers", ", ".join(trackers)),
            ("Suites", "; ".join(dict.fromkeys(_suite_line(r, suite_sizes) for r in reports))
             or "none (tables only)"),
            ("Protocols", ", ".join(dict.fromkeys(r.protocol_name for r in reports)) or "-"),
            ("Settings", "; ".join(dict.fromkeys(", ".join(r.settings()) for r in reports)) or "-")]
    if resamples is not None:
        what.append(("Statistics", f"{resamples} bootstrap resamples over sequences, seed {seed}"
                     if resamples else "bootstrap off"))
    if tables:
        what.append(("Paper tables", ", ".join(t.layout.name for t in tables)))
    # suites of several data sets: a leaderboard first, linking to their sections (OTB-2013/50/100, parts of one
    # data set, already share their trackers' sections and would only repeat one number three times)
    sources = {(data_sources or {}).get(r.suite, r.suite) for r in reports}
    if len({r.suite for r in reports}) > 1 and len(sources) > 1:
        blocks.append(Heading("Leaderboard", 2, anchor="leaderboard"))
        blocks.append(LeaderboardBlock(leaderboard(reports, result_sets)))
    blocks.append(Heading("What was run", 2))
    blocks.append(KeyValues(what))
    blocks.append(Heading("Software, machine and date", 2))
    blocks.append(KeyValues([(k.capitalize() if k != "evalkit" else "evalkit version", v) for k, v in stamp.items()]
                            + ([("Command", command)] if command else [])))
    if data_sources:
        blocks.append(Heading("Data", 2))
        by_source: dict[str, list[str]] = {}  # OTB-2013, -50 and -100 from one root: one paragraph, not three
        for suite, src in data_sources.items():
            by_source.setdefault(src, []).append(suite)
        blocks.append(KeyValues([(", ".join(suites), src) for src, suites in by_source.items()]))
    provenance = [result_provenance(rs) for rs in result_sets]
    if provenance:
        blocks.append(Heading("Results and weights", 2))
        blocks.extend(provenance_table(provenance))
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
        blocks.append(Heading(f"{r.suite.upper()} — {r.protocol_name}" + (" (partial)" if r.partial else ""),
                              anchor=section_anchor(r)))
        blocks.append(score_table(r))
        tick("figures")
        blocks.extend(_figures(r, attribute_names, kept))
        blocks.extend(attribute_tables(r, (attribute_names or {}).get(r.suite)))

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
        # one column order in every appendix table: the first report's ranking (OTB-2013, -50 and -100 rank the
        # trackers differently, which moved a tracker's column from table to table)
        order = appendix[0].ranked()
        for r in appendix:
            tick("appendix")
            blocks.extend(sequence_tables(r, order=order))
    return Report(title, blocks, stamp, kept or {})


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


def write_figures(report: Report, folder: Path) -> list[Path]:
    """Every figure of ``report`` (built with ``keep_figures=True``) as ``folder/suite_protocol_kind``.pdf and .svg,
    plus .pgf when a TeX program is installed (matplotlib needs one to save PGF, not only to compile it)."""
    from evalkit.report.figures import save_figure

    if not report.figures:
        raise EvalkitError("this report has no figures to export (build it with keep_figures=True)")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [path for name, fig in report.figures.items() for path in save_figure(fig, folder / name)]
