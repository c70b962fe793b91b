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

import math
import shlex
import sys
from collections.abc import Callable, Iterable
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from evalkit.errors import EvalkitError
from evalkit.report.provenance import ResultProvenance, Speed, report_stamp, result_provenance, tracker_speed

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


def _fmt(v: float | int | None, digits: int = 3) -> str:
    if v is None:
        return "-"
    if isinstance(v, int):
        return str(v)
    return "-" if not math.isfinite(v) else f"{v:.{digits}f}"


def _ci(ci: dict[str, tuple[float, float]], key: str) -> str:
    lo_hi = ci.get(key)
    return f"[{lo_hi[0]:.3f}, {lo_hi[1]:.3f}]" if lo_hi else ""


def _best(values: SequenceABC[float | None], higher: bool = True) -> list[int]:
    """Positions of the best finite values (within 1e-12 of the highest, or the lowest); none when none is finite."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return []
    target = max(finite) if higher else min(finite)
    return [i for i, v in enumerate(values) if v is not None and math.isfinite(v) and abs(v - target) < 1e-12]


def _ranked(report: Any) -> list[str]:
    """Tracker names best first: by success AUC, or by EAO for a VOT report (evalkit.tables' order)."""
    from evalkit.tables import ranked, vot_ranked

    return vot_ranked(report) if hasattr(report, "interval") else ranked(report)


def ope_table(report: Any) -> TableBlock:
    """Headline scores with bootstrap intervals; best per column bold, ``=`` marks no significant difference."""
    names = _ranked(report)
    header = [["Tracker", "Success AUC", "95% CI", "Prec@20", "95% CI", "Prec AUC", "Norm prec", "Seqs", "Frames",
               "p vs best"]]
    rows, marks = [], {}
    for name in names:
        t = report.trackers[name]
        s = t.score
        flag = ""
        if not t.complete:
            flag += " *"
        if t.vs_best is not None and not t.vs_best.significant:
            flag += " ="
        p = ("" if t.vs_best is None else "<0.001" if t.vs_best.p_value < 0.001 else f"{t.vs_best.p_value:.3f}")
        p = p or ("best" if t.ci95 and len(names) > 1 else "")
        rows.append([name + flag, _fmt(s.success_auc), _ci(t.ci95, "success_auc"), _fmt(s.precision_20),
                     _ci(t.ci95, "precision_20"), _fmt(s.precision_auc), _fmt(s.norm_precision),
                     str(s.n_sequences), str(s.n_frames), p])
    for c, f in {1: "success_auc", 3: "precision_20", 5: "precision_auc", 6: "norm_precision"}.items():
        for r in _best([getattr(report.trackers[n].score, f) for n in names]):
            marks[(r, c)] = "best"
    notes = []
    if any(t.ci95 for t in report.trackers.values()):
        notes.append("95% CI: percentile bootstrap over sequences. p vs best: paired sign-flip permutation test of "
                     "success AUC against the best tracker; '=' marks p >= 0.05 (not significantly different).")
    if any(not t.complete for t in report.trackers.values()):
        notes.append("* some sequences could not be scored for this tracker (see the problems section).")
    if report.partial:
        notes.append(f"PARTIAL: scored on {report.n_suite_sequences - len(report.missing_data)} sequences present; "
                     f"not the benchmark's headline numbers.")
    caption = f"{report.suite.upper()}, {report.protocol.upper()}, profile {report.profile}"
    return TableBlock(header, rows, marks, notes, caption)


def vot_table(report: Any) -> TableBlock:
    """EAO, accuracy, robustness and failures per tracker, best bold (fewest failures for R)."""
    names = _ranked(report)
    header = [["Tracker", "EAO", "Accuracy", "Robustness", "Failures", "Failures / 100 frames", "Seqs"]]
    rows, marks = [], {}
    for name in names:
        t = report.trackers[name]
        s = t.score
        rows.append([name + ("" if t.complete else " *"), _fmt(s.eao), _fmt(s.accuracy), _fmt(s.robustness),
                     _fmt(float(s.failures), 1), _fmt(s.failures_per_100), str(len(t.per_sequence))])
    for c, attr, higher in ((1, "eao", True), (2, "accuracy", True), (5, "failures_per_100", False)):
        for r in _best([getattr(report.trackers[n].score, attr) for n in names], higher):
            marks[(r, c)] = "best"
    notes = [f"EAO over sequence lengths {report.interval[0]}-{report.interval[1]} ({report.convention} "
             f"convention); robustness: failures per sequence averaged over repetitions."]
    if report.partial:
        notes.append("PARTIAL: not every sequence of the suite was present.")
    return TableBlock(header, rows, marks, notes, f"{report.suite.upper()}, supervised (baseline) experiment")


def vot_tag_table(report: Any) -> TableBlock | None:
    """Per visual attribute (VOT per-frame tags): EAO, accuracy and failures of every tracker; best EAO bold."""
    names = _ranked(report)
    tags = sorted({t for n in names for t in report.trackers[n].score.tags})
    if not tags:
        return None
    rows, marks = [], {}
    for r, tag in enumerate(tags):
        row = [tag.replace("_", " ")]
        eaos = []
        for n in names:
            ts = report.trackers[n].score.tags.get(tag)
            row.append("-" if ts is None else f"{_fmt(ts.eao)} / {_fmt(ts.accuracy)} / {ts.failures:g}")
            eaos.append(ts.eao if ts is not None and math.isfinite(ts.eao) else None)
        if sum(v is not None for v in eaos) > 1:  # one tracker with the tag: nothing to mark
            for c in _best(eaos):
                marks[(r, c + 1)] = "best"
        rows.append(row)
    return TableBlock([["Tag", *names]], rows, marks, ["Cells: EAO / accuracy / failures on the frames with the tag; "
                                                       "fragments weighted by their share of tagged frames."],
                      f"{report.suite.upper()}: per visual attribute", small=True)


def speed_table(speeds: dict[str, Speed | None]) -> TableBlock:
    """FPS per tracker with the device it ran on."""
    rows = [[name, _fmt(s.fps, 1) if s else "-", s.device if s else "no stored times",
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


def sequence_tables(report: Any, chunk: int = 10) -> list[TableBlock]:
    """Per-sequence success AUC (OPE/TRE/SRE) or accuracy/failures (VOT), at most ``chunk`` trackers a table."""
    is_vot = hasattr(report, "interval")
    names = _ranked(report)
    seqs = sorted({s for t in report.trackers.values() for s in t.per_sequence}, key=str.lower)
    out = []
    for start in range(0, len(names), chunk):
        part = names[start:start + chunk]
        rows, marks = [], {}
        for r, seq in enumerate(seqs):
            row = [seq]
            values = []
            for name in part:
                item = report.trackers[name].per_sequence.get(seq)
                if item is None:
                    row.append("-")
                    values.append(None)
                elif is_vot:
                    row.append(f"{item.accuracy:.3f} / {item.failures:g}")
                    values.append(None)
                else:
                    v = float(item.success_curve().mean())
                    row.append(f"{v:.3f}")
                    values.append(v)
            finite = [v for v in values if v is not None]
            if finite and len(part) > 1:
                for c, v in enumerate(values):
                    if v is not None and abs(v - max(finite)) < 1e-12:
                        marks[(r, c + 1)] = "best"
            rows.append(row)
        what = "accuracy / failures" if is_vot else "success AUC"
        caption = f"{report.suite.upper()} {report.protocol.upper()}: per-sequence {what}"
        if len(names) > chunk:
            caption += f" (trackers {start + 1}-{start + len(part)} of {len(names)})"
        out.append(TableBlock([["Sequence", *part]], rows, marks, [], caption, small=True))
    return out


def _suite_line(report: Any) -> str:
    n = report.n_suite_sequences
    scored = max((len(t.per_sequence) for t in report.trackers.values()), default=0)
    text = f"{report.suite} ({scored} of {n} sequences scored)"
    return text + (" PARTIAL" if report.partial else "")


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


def build_report(ope_reports: SequenceABC[Any], vot_reports: SequenceABC[Any], result_sets: SequenceABC[Any],
                 tables: SequenceABC[Any] = (), data_sources: dict[str, str] | None = None,
                 title: str = "evalkit report", command: str | None = None, resamples: int | None = None,
                 seed: int | None = None, attribute_names: dict[str, dict[str, str]] | None = None,
                 progress: Callable[[str], None] | None = None) -> Report:
    """Assemble every block of the report from scored reports, result sets and filled paper tables."""
    from evalkit.report import figures

    if not ope_reports and not vot_reports and not tables:
        raise EvalkitError("nothing to report: no scored suite and no table")
    tick = progress or (lambda _what: None)
    stamp = report_stamp()
    trackers = list(dict.fromkeys([n for r in [*ope_reports, *vot_reports] for n in r.trackers]
                                  + [rs.tracker for rs in result_sets]))
    blocks: list[Block] = [Heading(title, 0)]
    what = [("Trackers", ", ".join(trackers)),
            ("Suites", "; ".join(dict.fromkeys(_suite_line(r) for r in [*ope_reports, *vot_reports]))
             or "none (tables only)"),
            ("Protocols", ", ".join(dict.fromkeys([r.protocol.upper() for r in ope_reports]
                                                  + ["VOT supervised" for _ in vot_reports])) or "-"),
            ("Profile", ", ".join(dict.fromkeys(r.profile for r in ope_reports)) or "-")]
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
    problems = [(name, str(p)) for r in [*ope_reports, *vot_reports] for name, t in r.trackers.items()
                for p in t.problems]
    if problems:
        blocks.append(Heading("Problems in the results", 2))
        shown = problems[:40]
        blocks.append(Text("\n".join(f"{n}: {p}" for n, p in shown)
                           + (f"\n... and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""),
                           small=True))

    for r in ope_reports:
        blocks.append(PageBreak())
        blocks.append(Heading(f"{r.suite.upper()} — {r.protocol.upper()}" + (" (partial)" if r.partial else "")))
        blocks.append(ope_table(r))
        tick("figures")
        blocks.append(FigureBlock([figures.success_plot(r), figures.precision_plot(r)],
                                  f"Success and precision plots ({r.protocol.upper()}); legends sorted by success "
                                  f"AUC and by precision at 20 px."))
        if r.protocol == "ope":
            names = (attribute_names or {}).get(r.suite)
            grid = figures.attribute_plot(r, names)
            if grid is not None:
                blocks.append(FigureBlock([grid], "Success plots per attribute (sequence count in brackets).",
                                          full_width=True))
    for v in vot_reports:
        blocks.append(PageBreak())
        blocks.append(Heading(f"{v.suite.upper()} — VOT supervised" + (" (partial)" if v.partial else "")))
        blocks.append(vot_table(v))
        tick("figures")
        blocks.append(FigureBlock([figures.ar_plot(v), figures.eao_curve_plot(v)],
                                  "Accuracy-robustness plot and expected-overlap curve."))
        blocks.append(FigureBlock([figures.eao_ranking_plot(v)], "EAO ranking."))
        tag_table = vot_tag_table(v)
        if tag_table is not None:
            blocks.append(tag_table)

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
    appendix = [r for r in [*ope_reports, *vot_reports] if any(t.per_sequence for t in r.trackers.values())]
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
    """The report ``evalkit run`` writes at its end (PDF or HTML by extension): OPE/TRE/SRE and VOT supervised
    reports get their sections; any other report (VOT multistart) its text table."""
    from evalkit.scoring import ScoreReport
    from evalkit.scoring_vot import VotReport
    from evalkit.tables import format_any

    ope = [r for r in reports if isinstance(r, ScoreReport)]
    vot = [r for r in reports if isinstance(r, VotReport)]
    other = [r for r in reports if not isinstance(r, ScoreReport | VotReport)]
    if not ope and not vot:
        report = Report(title, [Heading(title, 0)], report_stamp())
    else:
        report = build_report(ope, vot, result_sets, data_sources=data_sources, title=title, command=command_line(),
                              resamples=resamples, seed=seed)
    for r in other:
        report.blocks.append(PageBreak())
        report.blocks.append(Heading(f"{r.suite.upper()} — {r.protocol}"))
        report.blocks.append(Text(format_any(r), small=True))
    return write_report(report, path)
