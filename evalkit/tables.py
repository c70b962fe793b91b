"""Formatting of score reports as text tables, JSON and CSV. No metric is computed here.

    >>> print(format_table(report))          # doctest: +SKIP
    OTB100 | OPE | profile otb-toolkit | 100 sequences
    Tracker        Success AUC  Prec@20  Prec AUC  Norm prec  Mean IoU  Seqs  Frames
    ...
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from evalkit.metrics.statistics import PairedResult
from evalkit.scoring import ScoreReport
from evalkit.scoring_multistart import MultistartReport
from evalkit.scoring_vot import VotReport

COLUMNS = (
    ("success_auc", "Success AUC"),
    ("precision_20", "Prec@20"),
    ("precision_auc", "Prec AUC"),
    ("norm_precision", "Norm prec"),
    ("mean_iou", "Mean IoU"),
    ("n_sequences", "Seqs"),
    ("n_frames", "Frames"),
)


def _fmt(value: float | int) -> str:
    if isinstance(value, int):
        return str(value)
    return "-" if not math.isfinite(value) else f"{value:.3f}"


def _render(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths,
                                                                                              strict=True)))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths,
                                                                                                   strict=True))))
    return "\n".join(lines)


def _title(report: ScoreReport) -> str:
    title = f"{report.suite.upper()} | {report.protocol.upper()} | profile {report.profile} | " \
            f"{report.n_suite_sequences} sequences"
    if report.partial:
        missing = f", {len(report.missing_data)} missing" if report.missing_data else ""
        title += f" | PARTIAL (not the benchmark's headline numbers{missing})"
    return title


def _best_first(trackers: Mapping[str, Any], value: Callable[[Any], float | None]) -> list[str]:
    """Tracker names sorted by ``value`` of their score entry, highest first; missing or NaN values last."""
    def key(name: str) -> float:
        v = value(trackers[name])
        return -v if v is not None and math.isfinite(v) else math.inf
    return sorted(trackers, key=key)


def ranked(report: ScoreReport) -> list[str]:
    """Tracker names sorted by success AUC, best first (unscored trackers last)."""
    return _best_first(report.trackers, lambda t: t.score.success_auc)


def format_table(report: ScoreReport) -> str:
    """The headline table, trackers ranked by success AUC."""
    with_ci = any(t.ci95 for t in report.trackers.values())
    header = ["Tracker", *(label for _, label in COLUMNS)]
    if with_ci:
        header[2:2] = ["AUC 95% CI"]
    rows = []
    for name in ranked(report):
        t = report.trackers[name]
        flag = "" if t.complete else " *"
        if t.vs_best is not None and not t.vs_best.significant:
            flag += " ="
        row = [name + flag, *(_fmt(getattr(t.score, k)) for k, _ in COLUMNS)]
        if with_ci:
            lo_hi = t.ci95.get("success_auc")
            row[2:2] = [f"[{lo_hi[0]:.3f}, {lo_hi[1]:.3f}]" if lo_hi else "-"]
        rows.append(row)
    text = _title(report) + "\n" + _render(header, rows)
    if any(not t.complete for t in report.trackers.values()):
        text += "\n* some sequences could not be scored for this tracker (see the problems listed above)"
    if any(t.vs_best is not None and not t.vs_best.significant for t in report.trackers.values()):
        text += ("\n= success AUC not significantly different from the best tracker's (paired sign-flip "
                 "permutation test over sequences, p >= 0.05)")
    if with_ci:
        text += "\nAUC 95% CI: percentile bootstrap over sequences"
    return text


def format_comparison(a: str, b: str, results: list[PairedResult], suite: str, protocol: str, profile: str
                      ) -> str:
    """The paired comparison of two trackers: scores, difference, its interval and the p-value, per field."""
    header = ["Field", a, b, "Difference", "95% CI", "p-value", ""]
    rows = [[r.field, f"{r.a:.4f}", f"{r.b:.4f}", f"{r.difference:+.4f}",
             f"[{r.interval[0]:+.4f}, {r.interval[1]:+.4f}]", f"{r.p_value:.4f}",
             "significant" if r.significant else "not significant"] for r in results]
    n = results[0].n_sequences if results else 0
    title = f"{a} vs {b} | {suite.upper()} | {protocol.upper()} | profile {profile} | {n} common sequences"
    return title + "\n" + _render(header, rows) + ("\npaired bootstrap interval over sequences; p: paired sign-flip "
                                                   "permutation test")


def format_attribute_table(report: ScoreReport, field: str = "success_auc") -> str:
    """Per-attribute scores (one column per attribute, with the number of sequences in the header)."""
    codes = sorted({c for t in report.trackers.values() for c in t.per_attribute})
    if not codes:
        return ""
    header = ["Tracker"]
    for c in codes:
        n = max((t.per_attribute[c].n_sequences for t in report.trackers.values() if c in t.per_attribute),
                default=0)
        header.append(f"{c}({n})")
    rows = []
    for name in ranked(report):
        t = report.trackers[name]
        rows.append([name, *(_fmt(getattr(t.per_attribute[c], field)) if c in t.per_attribute else "-"
                             for c in codes)])
    return f"{field} by attribute\n" + _render(header, rows)


def format_sequence_table(report: ScoreReport) -> str:
    """Per-sequence success AUC and precision at 20 px for every tracker."""
    names = ranked(report)
    seqs = sorted({s for t in report.trackers.values() for s in t.per_sequence}, key=str.lower)
    header = ["Sequence", *(f"{n} AUC/P20" for n in names)]
    rows = []
    for s in seqs:
        row = [s]
        for n in names:
            c = report.trackers[n].per_sequence.get(s)
            if c is None:
                row.append("-")
            else:
                p = c.precision_curve()
                row.append(f"{c.success_curve().mean():.3f}/{p[min(20, len(p) - 1)]:.3f}")
        rows.append(row)
    return "per sequence\n" + _render(header, rows)


def format_json(report: ScoreReport | VotReport | MultistartReport) -> str:
    """Exactly one JSON object (the report's ``as_json``: OPE/TRE/SRE, VOT supervised or multistart)."""
    return json.dumps(report.as_json(), indent=2)


def format_csv(report: ScoreReport) -> str:
    """One row per tracker with full precision, plus suite, protocol, profile and the partial flag."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["suite", "protocol", "profile", "partial", "tracker", *(k for k, _ in COLUMNS), "complete"])
    for name in ranked(report):
        t = report.trackers[name]
        w.writerow([report.suite, report.protocol, report.profile, report.partial, name,
                    *(repr(getattr(t.score, k)) if isinstance(getattr(t.score, k), float) else getattr(t.score, k)
                      for k, _ in COLUMNS), t.complete])
    return buf.getvalue()


def vot_ranked(report: VotReport) -> list[str]:
    """Tracker names sorted by EAO, best first (unscored trackers last)."""
    return _best_first(report.trackers, lambda t: t.score.eao)


def format_vot_table(report: VotReport) -> str:
    """EAO, accuracy, robustness and failures of a VOT supervised report, best EAO first."""
    low, high = report.interval
    title = (f"{report.suite.upper()} | VOT-SUPERVISED | {report.convention} convention | EAO interval "
             f"[{low}, {high}] | {report.n_suite_sequences} sequences")
    if report.partial:
        title += f" | PARTIAL (not the benchmark's headline numbers, {len(report.missing_data)} missing)"
    header = ["Tracker", "EAO", "Accuracy", "Robustness", "Failures", "Fail/100 fr", "Seqs", "Frames"]
    rows = []
    for name in vot_ranked(report):
        s = report.trackers[name].score
        rows.append([name, _fmt(s.eao), _fmt(s.accuracy), _fmt(s.robustness),
                     f"{s.failures:.0f}" if float(s.failures).is_integer() else _fmt(s.failures),
                     _fmt(s.failures_per_100), str(s.n_sequences), str(s.n_frames)])
    note = ("Robustness: failures per sequence, averaged over repetitions (VOT2016-2018); Fail/100 fr: failures per "
            "100 frames as pysot prints it.")
    return f"{title}\n{_render(header, rows)}\n{note}"


def format_vot_tag_table(report: VotReport) -> str:
    """Accuracy and failures per visual attribute (VOT per-frame tags) of every tracker."""
    names = vot_ranked(report)
    tags = sorted({t for n in names for t in report.trackers[n].score.tags})
    header = ["Tag", *[f"{n} A / F" for n in names]]
    rows = []
    for tag in tags:
        row = [tag]
        for n in names:
            ts = report.trackers[n].score.tags.get(tag)
            row.append("-" if ts is None else f"{_fmt(ts.accuracy)} / {ts.failures:.1f}")
        rows.append(row)
    return _render(header, rows)


def format_vot_sequence_table(report: VotReport) -> str:
    """Accuracy and failures (mean over repetitions) of every sequence and tracker."""
    names = sorted(report.trackers)
    seqs = sorted({s for n in names for s in report.trackers[n].per_sequence})
    rows = []
    for seq in seqs:
        row = [seq]
        for n in names:
            ps = report.trackers[n].per_sequence.get(seq)
            row.append("-" if ps is None else f"{ps.accuracy:.3f} / {ps.failures:.1f}")
        rows.append(row)
    return _render(["Sequence", *[f"{n} A / F" for n in names]], rows)


def format_vot_csv(report: VotReport) -> str:
    """One row per tracker: eao, accuracy, robustness, failures, failures_per_100."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    fields = ["eao", "accuracy", "robustness", "failures", "failures_per_100"]
    writer.writerow(["suite", "protocol", "partial", "tracker", *fields])
    data = report.as_json()["trackers"]
    for name in vot_ranked(report):
        writer.writerow([report.suite, report.protocol, report.partial, name,
                         *[data[name][f] for f in fields]])  # type: ignore[index]
    return buf.getvalue()


def format_multistart_table(report: MultistartReport) -> str:
    """VOT2020-style multistart accuracy, robustness and EAO, best EAO first."""
    title = f"{report.suite.upper()} | VOT-MULTISTART (VOT2020 rules) | {report.n_suite_sequences} sequences"
    if report.partial:
        title += " | PARTIAL (not the benchmark's headline numbers)"
    header = ["Tracker", "EAO", "Accuracy", "Robustness", "Seqs", "Runs"]
    rows = []
    for name in _best_first(report.trackers, lambda t: t.score.eao if t.score is not None else None):
        s = report.trackers[name].score
        rows.append([name, "-", "-", "-", "0", "0"] if s is None else
                    [name, _fmt(s.eao), _fmt(s.accuracy), _fmt(s.robustness), str(s.n_sequences), str(s.n_runs)])
    note = ""
    scored = any(t.score is not None for t in report.trackers.values())
    if scored and report.longest_run and report.longest_run <= report.eao_low:
        note = (f"\nEAO averages the expected overlap of runs {report.eao_low}-{report.eao_high} frames long; the "
                f"longest anchor run here has {report.longest_run} frames, so the EAO column carries no information")
    return f"{title}\n{_render(header, rows)}{note}"


def format_any(report: ScoreReport | VotReport | MultistartReport) -> str:
    """The score table of any report kind (OPE/TRE/SRE, VOT supervised, multistart)."""
    if isinstance(report, VotReport):
        return format_vot_table(report)
    if isinstance(report, MultistartReport):
        return format_multistart_table(report)
    return format_table(report)
