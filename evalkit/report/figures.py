"""Report figures drawn with matplotlib and returned as SVG text (vector, text kept as text).

    >>> svg = success_plot(score_report)                         # doctest: +SKIP
    >>> svg[:5]                                                  # doctest: +SKIP
    '<?xml'

OTB-style success and precision plots (legend sorted by the value in brackets: success AUC, precision at the
profile's read-off), a grid of per-attribute success plots, and for VOT the accuracy-robustness plot, the EAO curve
with the EAO interval shaded and the EAO ranking. Figures are built on :class:`matplotlib.figure.Figure` directly (no
pyplot state), so they never open a window and can be made from any thread. Every plotted number comes from the
score reports; nothing is computed here.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from evalkit.scoring.base import format_value

FONT = "DejaVu Sans"  # matplotlib's bundled font; the PDF embeds the same file, so figure text stays selectable
_STYLES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "D", "^", "v", "<", ">", "p", "h", "*")  # told apart in greyscale too


def _rc() -> dict[str, Any]:
    return {"svg.fonttype": "none", "font.family": FONT, "font.size": 8, "axes.titlesize": 9,
            "legend.fontsize": 6.5, "axes.grid": True, "grid.alpha": 0.3, "svg.hashsalt": "evalkit"}


def _figure(width: float, height: float, margins: dict[str, float] | None = None) -> Any:
    """A figure with fixed margins (a layout engine costs more than drawing the curves of 20 trackers)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(**(margins or {"left": 0.12, "right": 0.97, "bottom": 0.12, "top": 0.92}))
    return fig


def _svg(fig: Any) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context(_rc()):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


def _style(i: int) -> dict[str, Any]:
    """Colour and dash of the i-th curve (20 colours, then dashes: 80 distinguishable trackers)."""
    import matplotlib

    cmap = matplotlib.colormaps["tab20"]
    return {"color": cmap((2 * i) % 20 + (i // 10) % 2), "linestyle": _STYLES[(i // 20) % len(_STYLES)],
            "linewidth": 1.3}


def _curve_plot(ax: Any, x: Any, curves: list[tuple[str, Any, float]], xlabel: str, ylabel: str, title: str,
                legend_loc: str, legend_size: float | None = None, colours: dict[str, int] | None = None) -> None:
    """Curves sorted by their bracketed value (best first) with the legend in that order; a tracker keeps its
    colour (``colours``: its rank by success AUC) across the report's plots."""
    order = sorted(curves, key=lambda c: -c[2] if math.isfinite(c[2]) else math.inf)
    for i, (name, y, value) in enumerate(order):
        ax.plot(x, y, label=f"{name} [{format_value(value)}]", **_style((colours or {}).get(name, i)))
    ax.set_xlim(float(x[0]), float(x[-1]))
    ax.set_ylim(0, 1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ncol = 2 if len(order) > 12 else 1
    ax.legend(loc=legend_loc, ncol=ncol, fontsize=legend_size or (5.5 if len(order) > 12 else 6.5),
              frameon=True, framealpha=0.85, handlelength=2.2)


def colour_index(report: Any) -> dict[str, int]:
    """Tracker -> colour index of an OPE/TRE/SRE report: its rank by success AUC."""
    return {name: i for i, name in enumerate(report.ranked())}


def _title(report: Any, what: str) -> str:
    partial = " (partial)" if report.partial else ""
    return f"{what} plots of {report.protocol_name} on {report.suite.upper()}{partial}"


CURVES = {  # kind -> (curve, headline value it is ranked by, x label, y label, legend place)
    "success": ("success_curve", "success_auc", "Overlap threshold", "Success rate", "lower left"),
    "precision": ("precision_curve", "precision_20", "Location error threshold (px)", "Precision", "lower right"),
}


def draw_curves(report: Any, kind: str, ax: Any, trackers: Sequence[str] | None = None) -> Any:
    """Success or precision curves of an OPE/TRE/SRE report on ``ax``, for ``trackers`` (default all scored); legend
    sorted by the headline value; colours follow the report's ranking. Returns ``ax``."""
    from evalkit.errors import EvalkitError
    from evalkit.registry import PROFILES

    if kind not in CURVES or getattr(report, "kind", "") != "ope":
        raise EvalkitError(f"{kind} plots are drawn from OPE/TRE/SRE reports ({', '.join(CURVES)})")
    curve, value, xlabel, ylabel, where = CURVES[kind]
    profile = PROFILES.get(report.profile)
    names = _chosen(report, trackers)
    curves = [(n, getattr(report.trackers[n].score, curve), getattr(report.trackers[n].score, value)) for n in names]
    x = profile.success_thresholds if kind == "success" else profile.precision_thresholds
    _curve_plot(ax, x, curves, xlabel, ylabel, _title(report, kind.capitalize()), where,
                colours=colour_index(report))
    if kind == "precision":
        ax.axvline(profile.precision_at, color="0.5", linewidth=0.6, linestyle=":")
    return ax


def _chosen(report: Any, trackers: Sequence[str] | None) -> list[str]:
    """The scored trackers to draw, in the report's order; an unknown name is an error listing the known."""
    from evalkit.errors import EvalkitError

    scored = [n for n in report.ranked() if report.trackers[n].per_sequence]
    if trackers is None:
        return scored
    by_lower = {n.lower(): n for n in scored}
    unknown = [t for t in trackers if t.lower() not in by_lower]
    if unknown:
        raise EvalkitError(f"not scored in this report: {', '.join(unknown)}; scored: {', '.join(scored)}")
    return [by_lower[t.lower()] for t in trackers]


def success_plot(report: Any) -> str:
    """Success plot: fraction of frames with IoU above each threshold; legend sorted by success AUC."""
    fig = _figure(4.6, 3.6)
    draw_curves(report, "success", fig.add_subplot())
    return _svg(fig)


def precision_plot(report: Any) -> str:
    """Precision plot: fraction of frames with centre error within each pixel threshold; legend sorted by the value
    at the profile's read-off (20 px)."""
    fig = _figure(4.6, 3.6)
    draw_curves(report, "precision", fig.add_subplot())
    return _svg(fig)


def attribute_plot(report: Any, names: dict[str, str] | None = None) -> str | None:
    """Success plots per attribute in one grid (title: attribute and its sequence count); None without attributes."""
    from evalkit.registry import PROFILES

    codes = sorted({c for t in report.trackers.values() for c in t.per_attribute})
    if not codes:
        return None
    profile = PROFILES.get(report.profile)
    cols = 3
    rows = math.ceil(len(codes) / cols)
    fig = _figure(9.2, 2.9 * rows, {"left": 0.06, "right": 0.99, "bottom": 0.25 / rows, "top": 1 - 0.3 / rows,
                                    "wspace": 0.22, "hspace": 0.45})
    many = len(report.trackers) > 8
    colours = colour_index(report)
    for k, code in enumerate(codes):
        ax = fig.add_subplot(rows, cols, k + 1)
        members = {n: t.per_attribute[code] for n, t in report.trackers.items() if code in t.per_attribute}
        n_seq = max((s.n_sequences for s in members.values()), default=0)
        curves = [(n, s.success_curve, s.success_auc) for n, s in members.items()]
        label = (names or {}).get(code, code)
        _curve_plot(ax, profile.success_thresholds, curves, "Overlap threshold", "Success rate",
                    f"{label} ({n_seq})", "lower left", legend_size=4.2 if many else 5.5,
                    colours=colours)
    fig.suptitle(_title(report, "Per-attribute success"), fontsize=9)
    return _svg(fig)


def ar_plot(report: Any) -> str:
    """VOT accuracy-robustness plot: accuracy against failures per 100 frames (right is more robust)."""
    fig = _figure(4.6, 3.6)
    ax = fig.add_subplot()
    scored = [(n, t.score) for n, t in report.trackers.items() if t.per_sequence]
    scored.sort(key=lambda item: -item[1].eao if math.isfinite(item[1].eao) else math.inf)
    for i, (name, s) in enumerate(scored):
        style = _style(i)
        ax.plot([s.failures_per_100], [s.accuracy], marker=_MARKERS[i % len(_MARKERS)], linestyle="none",
                color=style["color"], label=f"{name} [A {format_value(s.accuracy)}, "
                                             f"F/100 {format_value(s.failures_per_100)}]")
    worst = max([s.failures_per_100 for _, s in scored if math.isfinite(s.failures_per_100)] + [0.1])
    ax.set_xlim(worst * 1.15, 0)  # inverted: fewer failures to the right
    ax.set_ylim(0, 1)
    # the x axis is failures per 100 frames (pysot's robustness), not the table's Robustness (failures per sequence)
    ax.set_xlabel("Failures per 100 frames (right is better)")
    ax.set_ylabel("Accuracy")
    ax.set_title(f"Accuracy-robustness on {report.suite.upper()}{' (partial)' if report.partial else ''}")
    ax.legend(loc="lower left", fontsize=6, ncol=2 if len(scored) > 12 else 1)
    return _svg(fig)


def draw_eao_curve(report: Any, ax: Any, trackers: Sequence[str] | None = None) -> Any:
    """Expected-overlap curve Phi(N) of each tracker of a VOT supervised report on ``ax``, the EAO interval shaded;
    legend sorted by EAO. Returns ``ax``."""
    from evalkit.errors import EvalkitError

    if getattr(report, "kind", "") != "vot":
        raise EvalkitError("EAO curves are drawn from VOT supervised reports")
    curves = [(n, np.asarray(report.trackers[n].eao_curve), float(report.trackers[n].score.eao))
              for n in _chosen(report, trackers) if len(report.trackers[n].eao_curve)]
    longest = max((len(c[1]) for c in curves), default=1)
    for i, (name, y, eao) in enumerate(curves):
        ax.plot(np.arange(1, len(y) + 1), y, label=f"{name} [{format_value(eao)}]", **_style(i))
    low, high = report.interval
    ax.axvspan(low, high, color="0.85", alpha=0.6, linewidth=0)
    ax.set_xlim(1, longest)
    ax.set_ylim(0, 1)
    ax.set_xlabel("Sequence length N (frames)")
    ax.set_ylabel("Expected average overlap")
    ax.set_title(f"EAO curve on {report.suite.upper()} (interval {low}-{high} shaded)")
    ax.legend(loc="upper right", fontsize=6, ncol=2 if len(curves) > 12 else 1)
    return ax


def eao_curve_plot(report: Any) -> str:
    """Expected-overlap curve Phi(N) of each tracker, the EAO interval shaded; legend sorted by EAO."""
    fig = _figure(4.6, 3.6)
    draw_eao_curve(report, fig.add_subplot())
    return _svg(fig)


def eao_ranking_plot(report: Any) -> str:
    """Horizontal bars of EAO, best on top."""
    scored = [(n, float(t.score.eao)) for n, t in report.trackers.items() if t.per_sequence]
    scored.sort(key=lambda item: item[1] if math.isfinite(item[1]) else -math.inf)
    height = max(1.6, 0.28 * len(scored) + 0.9)
    fig = _figure(4.6, height, {"left": 0.25, "right": 0.95, "bottom": 0.45 / height, "top": 1 - 0.3 / height})
    ax = fig.add_subplot()
    y = np.arange(len(scored))
    ax.barh(y, [v for _, v in scored], color=[_style(len(scored) - 1 - i)["color"] for i in range(len(scored))])
    ax.set_yticks(y, [n for n, _ in scored])
    for yi, (_, v) in zip(y, scored, strict=True):
        ax.text(v, yi, f" {format_value(v)}", va="center", fontsize=6.5)
    ax.set_xlim(0, max([v for _, v in scored if math.isfinite(v)] + [0.1]) * 1.2)
    ax.set_xlabel("EAO")
    ax.set_title(f"EAO ranking on {report.suite.upper()}")
    ax.grid(axis="y", visible=False)
    return _svg(fig)
