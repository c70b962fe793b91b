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

import contextvars
import io
import math
from collections.abc import Sequence
from pathlib import Path
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
    """A figure with fixed margins (a layout engine costs more than drawing the curves of 20 trackers); the right
    margin leaves room for half of the last x tick label ("1.0", "50"), which a 0.97 margin clipped."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(**(margins or {"left": 0.12, "right": 0.95, "bottom": 0.12, "top": 0.92}))
    return fig


# while set (``keeping``), every figure drawn is also kept here, for --figures to save as PDF / SVG / PGF
_KEPT: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar("kept_figures", default=None)


def _svg(fig: Any) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context(_rc()):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    kept = _KEPT.get()
    if kept is not None:
        kept.append(fig)
    return buf.getvalue()


def keeping(draw: Any, *args: Any) -> tuple[Any, list[Any]]:
    """``draw(*args)`` and the matplotlib figures it drew (for exporting them under a stable name)."""
    kept: list[Any] = []
    token = _KEPT.set(kept)
    try:
        return draw(*args), kept
    finally:
        _KEPT.reset(token)


def tex_available() -> str | None:
    """The TeX program matplotlib's PGF backend would run, when one is installed: saving a PGF file needs it (the
    backend asks LaTeX for text metrics to place legends and labels), compiling the paper needs it anyway."""
    import shutil

    import matplotlib

    program = str(matplotlib.rcParams["pgf.texsystem"])
    return program if shutil.which(program) else None


def save_figure(fig: Any, stem: Path, formats: Sequence[str] = ("pdf", "svg", "pgf")) -> list[Path]:
    """Save ``fig`` as ``stem``.pdf / .svg / .pgf (PGF only when a TeX program is installed; see tex_available)."""
    import matplotlib

    out = []
    for fmt in formats:
        if fmt == "pgf" and tex_available() is None:
            continue
        path = stem.with_suffix(f".{fmt}")
        with matplotlib.rc_context(_rc() | ({"svg.fonttype": "none"} if fmt == "svg" else {})):
            # no dates inside: the same report exports byte-identical figure files
            fig.savefig(path, format=fmt, metadata={"svg": {"Date": None}, "pdf": {"CreationDate": None}}.get(fmt))
        out.append(path)
    return out


def _style(i: int, n_points: int = 0) -> dict[str, Any]:
    """Colour, dash and marker of the i-th tracker: line style and marker change with every index, so printed in
    greyscale (where colours merge) two trackers still differ in dash and marker (4 dashes x 10 markers: 20 trackers
    with distinct pairs; colours too). ``n_points``: the curve's length, for about 8 markers along it."""
    import matplotlib

    cmap = matplotlib.colormaps["tab20"]
    style = {"color": cmap((2 * i) % 20 + (i // 10) % 2), "linestyle": _STYLES[i % len(_STYLES)],
             "marker": _MARKERS[i % len(_MARKERS)], "markersize": 3.2, "markerfacecolor": "none",
             "markeredgewidth": 0.8, "linewidth": 1.2}
    if n_points:
        # offset per tracker so markers of curves that run together do not sit on one another
        step = max(1, n_points // 8)
        style["markevery"] = (min(i * step // 5, n_points - 1) if n_points > 1 else 0, step)
    return style


def _curve_plot(ax: Any, x: Any, curves: list[tuple[str, Any, float]], xlabel: str, ylabel: str, title: str,
                legend_loc: str, legend_size: float | None = None, colours: dict[str, int] | None = None) -> None:
    """Curves sorted by their bracketed value (best first) with the legend in that order; a tracker keeps its
    colour (``colours``: its rank by success AUC) across the report's plots."""
    order = sorted(curves, key=lambda c: -c[2] if math.isfinite(c[2]) else math.inf)
    for i, (name, y, value) in enumerate(order):
        ax.plot(x, y, label=f"{name} [{format_value(value)}]", **_style((colours or {}).get(name, i), len(x)))
    ax.set_xlim(float(x[0]), float(x[-1]))
    ax.set_ylim(0, 1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ncol = 2 if len(order) > 12 else 1
    # two figures side by side print at about 0.76 of their size: 8 pt here is 6 pt on paper
    ax.legend(loc=legend_loc, ncol=ncol, fontsize=legend_size or (7.5 if len(order) > 12 else 8),
              frameon=True, framealpha=0.85, handlelength=2.2)


def colour_index(report: Any) -> dict[str, int]:
    """Tracker -> style index (colour, dash, marker) in every plot of a report: its rank in the report's ranking
    (success AUC, EAO, ...), so a tracker looks the same in all of the report's figures."""
    return {name: i for i, name in enumerate(report.ranked())}


def attribute_order(codes: Sequence[str], names: dict[str, str] | None) -> list[tuple[str, str]]:
    """(code, display name) of attributes in one order for a report's plots and tables: the suite's
    ``attribute_names`` order, then codes it does not name, sorted; the display name is the suite's."""
    names = names or {}
    known = [c for c in names if c in set(codes)]
    rest = sorted(c for c in set(codes) if c not in names)
    return [(c, names.get(c, c)) for c in [*known, *rest]]


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
    """Success plots per attribute in one grid (title: attribute and its sequence count); None without attributes.

    One legend for the whole grid, above it, in ranking order: per-axes legends had to shrink to about 4 pt in
    print to fit eleven small axes. A tracker's style is the same in every plot of the report (``colour_index``),
    so the shared legend names every curve; the per-attribute AUCs are in the per-attribute table."""
    from matplotlib.lines import Line2D

    from evalkit.registry import PROFILES

    codes = attribute_order([c for t in report.trackers.values() for c in t.per_attribute], names)
    if not codes:
        return None
    profile = PROFILES.get(report.profile)
    cols = 3
    rows = math.ceil(len(codes) / cols)
    colours = colour_index(report)
    drawn = [n for n in report.ranked() if report.trackers[n].per_attribute]
    legend_rows = math.ceil(len(drawn) / 3)
    top_in = 0.75 + 0.2 * legend_rows  # title, legend and the first row's axes titles, in inches
    height = 2.5 * rows + top_in
    fig = _figure(9.2, height, {"left": 0.06, "right": 0.985, "bottom": 0.45 / height, "top": 1 - top_in / height,
                                "wspace": 0.22, "hspace": 0.55})
    x = profile.success_thresholds
    for k, (code, label) in enumerate(codes):
        ax = fig.add_subplot(rows, cols, k + 1)
        members = {n: t.per_attribute[code] for n, t in report.trackers.items() if code in t.per_attribute}
        n_seq = max((s.n_sequences for s in members.values()), default=0)
        for name in drawn:
            if name in members:
                ax.plot(x, members[name].success_curve, **_style(colours[name], len(x)))
        ax.set_xlim(float(x[0]), float(x[-1]))
        ax.set_ylim(0, 1)
        ax.set_title(f"{label} ({n_seq})")
        if k % cols == 0:
            ax.set_ylabel("Success rate")
        if k >= len(codes) - cols:
            ax.set_xlabel("Overlap threshold")
    handles = [Line2D([], [], **{**_style(colours[n]), "markevery": None}) for n in drawn]
    fig.legend(handles, drawn, loc="upper center", ncol=min(3, len(drawn)), fontsize=9, frameon=False,
               bbox_to_anchor=(0.5, 1 - 0.3 / height), handlelength=3.0)
    fig.suptitle(_title(report, "Per-attribute success"), fontsize=10, y=1 - 0.08 / height, va="top")
    return _svg(fig)


def ar_plot(report: Any) -> str:
    """VOT accuracy-robustness plot: accuracy against failures per 100 frames (right is more robust)."""
    fig = _figure(4.6, 3.6)
    ax = fig.add_subplot()
    colours = colour_index(report)
    scored = [(n, report.trackers[n].score) for n in report.ranked() if report.trackers[n].per_sequence]
    for name, s in scored:
        style = _style(colours[name])
        ax.plot([s.failures_per_100], [s.accuracy], marker=style["marker"], linestyle="none", markersize=5,
                color=style["color"], label=f"{name} [A {format_value(s.accuracy)}, "
                                             f"F/100 {format_value(s.failures_per_100)}]")
    worst = max([s.failures_per_100 for _, s in scored if math.isfinite(s.failures_per_100)] + [0.1])
    ax.set_xlim(worst * 1.15, 0)  # inverted: fewer failures to the right
    ax.set_ylim(0, 1)
    # the x axis is failures per 100 frames (pysot's robustness), not the table's Robustness (failures per sequence)
    ax.set_xlabel("Failures per 100 frames (right is better)")
    ax.set_ylabel("Accuracy")
    ax.set_title(f"Accuracy-robustness on {report.suite.upper()}{' (partial)' if report.partial else ''}")
    ax.legend(loc="lower left", fontsize=8, ncol=2 if len(scored) > 12 else 1)
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
    colours = colour_index(report)
    for name, y, eao in curves:
        ax.plot(np.arange(1, len(y) + 1), y, label=f"{name} [{format_value(eao)}]",
                **_style(colours[name], len(y)))
    low, high = report.interval
    ax.axvspan(low, high, color="0.85", alpha=0.6, linewidth=0)
    ax.set_xlim(1, longest)
    ax.set_ylim(0, 1)
    ax.set_xlabel("Sequence length N (frames)")
    ax.set_ylabel("Expected average overlap")
    ax.set_title(f"EAO curve on {report.suite.upper()} (interval {low}-{high} shaded)")
    ax.legend(loc="upper right", fontsize=8, ncol=2 if len(curves) > 12 else 1)
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


def eao_radar_plot(report: Any, names: dict[str, str] | None = None) -> str | None:
    """Per-attribute EAO of a VOT report on a radar (after pysot's ``draw_eao``): one spoke for the overall EAO and
    one per attribute (tag), each spoke scaled to its best tracker (so the best reaches the rim), the spoke's label
    giving the lowest and highest EAO on it. None without per-attribute EAO."""
    long = report.per_attribute()
    if long.empty or "eao" not in long:
        return None
    codes = attribute_order(list(dict.fromkeys(long["attribute"])), names)
    drawn = [n for n in report.ranked() if report.trackers[n].per_sequence]
    table = long.set_index(["tracker", "attribute"])["eao"]
    spokes = [("Overall", {n: float(report.trackers[n].score.eao) for n in drawn})]
    spokes += [(label, {n: float(table.get((n, code), np.nan)) for n in drawn}) for code, label in codes]
    if len(spokes) < 3 or not drawn:
        return None
    fig = _figure(4.8, 4.8, {"left": 0.2, "right": 0.8, "bottom": 0.22, "top": 0.8})
    ax = fig.add_subplot(projection="polar")
    angles = np.linspace(0, 2 * np.pi, len(spokes), endpoint=False)
    highs = [np.nanmax(list(v.values())) if np.isfinite(list(v.values())).any() else np.nan for _, v in spokes]
    lows = [np.nanmin(list(v.values())) if np.isfinite(list(v.values())).any() else np.nan for _, v in spokes]
    colours = colour_index(report)
    for name in drawn:
        values = np.array([v[name] / high if high and np.isfinite(high) else np.nan
                           for (_, v), high in zip(spokes, highs, strict=True)])
        closed = np.append(values, values[0])
        ax.plot(np.append(angles, angles[0]), closed, label=name, **{**_style(colours[name]), "markersize": 4})
    ax.set_thetagrids(np.degrees(angles), [f"{label}\n({format_value(lo)}, {format_value(hi)})"
                                           for (label, _), lo, hi in zip(spokes, lows, highs, strict=True)],
                      fontsize=8.5)
    ax.tick_params(axis="x", pad=9)  # spoke labels clear of the rim the best tracker reaches
    ax.set_ylim(0, 1.05)
    ax.set_yticklabels([])
    ax.spines["polar"].set_visible(False)
    ax.set_title(f"EAO per attribute on {report.suite.upper()}{' (partial)' if report.partial else ''}", pad=26)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=min(3, len(drawn)), fontsize=9,
              frameon=False)
    return _svg(fig)
