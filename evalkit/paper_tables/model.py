"""What a published-table layout is (metrics, paper rows, marks) and what a filled table holds. No metric is computed.

    >>> layout = LAYOUTS.get("cfnet-table1")            # doctest: +SKIP
    >>> [m.key for m in layout.metrics][:3]             # doctest: +SKIP
    ['fps', 'otb2013/ope/iou', 'otb2013/ope/prec']

A layout lists its metrics (the table's value columns, or rows when trackers are columns), the trackers the paper
prints (with the names result archives use for them) and how the paper marks the best and second-best values.
A :class:`FilledTable` is a layout with one :class:`Cell` per (tracker, metric), ready for the renderers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Literal

Source = Literal["ope", "vot", "speed", "complexity", "static", "centre-error"]
Better = Literal["higher", "lower"]
MarkStyle = Literal["bold-underline", "red-blue"]


@dataclass(frozen=True)
class Metric:
    """One value column of a layout (a row when trackers are the columns).

    ``source`` says where the value comes from: ``ope`` (a scored OPE/TRE/SRE field of ``suite``), ``vot`` (a
    supervised-experiment field), ``centre-error`` (mean centre location error), ``speed`` (frames per second from
    the stored per-frame times), ``complexity`` (a measured field of ``evalkit complexity --format json``) or
    ``static`` (a property of the tracker variant the layout itself defines, such as FDSiamFC's width ratio).
    """

    key: str
    label: str
    source: Source
    field: str = ""
    group: str = ""
    suite: str | None = None
    protocol: str = "ope"
    scale: float = 1.0
    decimals: int = 3
    better: Better | None = "higher"
    marked: bool = False
    hardware_bound: bool = False
    strip_zeros: bool = False

    def format(self, value: float | None) -> str:
        """The value as the paper prints it (scaled, fixed decimals), or ``-`` when there is none."""
        if value is None or not math.isfinite(value):
            return "-"
        return self.text(value * self.scale)

    def text(self, printed: float, sign: bool = False) -> str:
        """An already scaled number in the paper's format (``strip_zeros``: 0.530 prints as 0.53, as in the
        FDSiamFC README)."""
        out = f"{printed:+.{self.decimals}f}" if sign else f"{printed:.{self.decimals}f}"
        if self.strip_zeros and "." in out:
            out = out.rstrip("0").rstrip(".")
        return out

    def printed(self, value: float | None) -> float | None:
        """The value rounded as printed (what the marks and the comparison with the paper use)."""
        if value is None or not math.isfinite(value):
            return None
        return round(value * self.scale, self.decimals)


@dataclass(frozen=True)
class PaperRow:
    """A tracker the paper prints: its printed name, the names result archives give it, and fixed properties."""

    name: str
    aliases: tuple[str, ...] = ()
    static: tuple[tuple[str, float], ...] = ()

    def matches(self, tracker: str) -> bool:
        """True when a result set's tracker name is this row (case and separators ignored)."""
        return name_key(tracker) in {name_key(n) for n in (self.name, *self.aliases)}


def name_key(name: str) -> str:
    """A tracker name compared without case or separators (``FDSiamFC_30`` = ``fdsiamfc-30``)."""
    return re.sub(r"[^0-9a-z+]", "", name.lower())


@dataclass(frozen=True)
class Layout:
    """A published table: title, source, metrics, the paper's rows and how best values are marked."""

    name: str
    title: str
    source: str
    metrics: tuple[Metric, ...]
    rows: tuple[PaperRow, ...] = ()
    trackers_as_columns: bool = False
    corner: str = "Tracker"
    marks: MarkStyle | None = None
    profile: str = "otb-toolkit"
    notes: tuple[str, ...] = ()
    generic: bool = False

    def suites(self) -> list[str]:
        """The suites the layout's scored metrics need, in first-use order."""
        out: list[str] = []
        for m in self.metrics:
            if m.suite and m.suite not in out:
                out.append(m.suite)
        return out

    def row_for(self, tracker: str) -> PaperRow | None:
        """The paper row a tracker name maps to, if any."""
        return next((r for r in self.rows if r.matches(tracker)), None)


@dataclass
class Cell:
    """One filled value: evalkit's number, the paper's (when known), and flags for partial or inconsistent cells."""

    value: float | None
    published: float | None = None
    partial: bool = False
    inconsistent: bool = False
    mismatch: bool = False
    rank: int = 0  # 1 best, 2 second best, 0 unmarked

    def difference(self, metric: Metric) -> float | None:
        """evalkit's printed value minus the paper's, in printed units."""
        ours = metric.printed(self.value)
        if ours is None or self.published is None:
            return None
        return round(ours - self.published, metric.decimals)


@dataclass
class FilledTable:
    """A layout filled from scored results: trackers (printed names) x metrics -> cells, and footnotes."""

    layout: Layout
    trackers: list[str]
    cells: dict[tuple[str, str], Cell]
    notes: list[str] = field(default_factory=list)
    partial: bool = False
    against_published: bool = False

    @property
    def shows_published(self) -> bool:
        """True when the published values are asked for and the paper has at least one of these cells."""
        return self.against_published and any(c.published is not None for c in self.cells.values())

    def cell(self, tracker: str, key: str) -> Cell:
        """The cell of a tracker and metric key (an empty cell when the layout has none)."""
        return self.cells.get((tracker, key), Cell(None))


def assign_marks(table: FilledTable) -> None:
    """Rank each marked metric's printed values across trackers: equal printed values share a rank (dense ranking),
    as the papers do when two trackers tie on the printed digits."""
    for m in table.layout.metrics:
        if not m.marked or m.better is None:
            continue
        values = {t: m.printed(table.cell(t, m.key).value) for t in table.trackers}
        distinct = sorted({v for v in values.values() if v is not None}, reverse=m.better == "higher")
        for t, v in values.items():
            if v is None or (t, m.key) not in table.cells:
                continue
            rank = distinct.index(v) + 1
            table.cells[(t, m.key)].rank = rank if rank <= 2 else 0
