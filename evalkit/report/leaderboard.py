"""A leaderboard of trackers x suites: each suite's headline metric (its report kind's ranking column: success AUC for
OPE, EAO for VOT supervised, ...), each cell linking to the suite's section of the same page, with where the number
came from (result source, profile or convention, partial or full) as the cell's tooltip and as footnotes.

    >>> board = leaderboard(reports, result_sets)                 # doctest: +SKIP
    >>> board.columns[0].anchor, board.rows[0].tracker           # doctest: +SKIP
    ('sec-otb100-ope', 'SiamFC-3s')

The HTML writer renders it as a sortable table (a few lines of inline JavaScript sort the rows on a header click);
the PDF as a plain table. Nothing is computed here: every value is a report's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from evalkit.report.provenance import result_provenance


def section_anchor(report: Any) -> str:
    """The id of a report's section in the HTML page (``sec-otb100-ope``), which leaderboard cells link to."""
    return f"sec-{report.suite}-{report.protocol}".lower().replace(" ", "-")


@dataclass(frozen=True)
class BoardColumn:
    """One suite: its label (``OTB100 OPE``), the metric shown, whether higher is better, and its section's id."""

    label: str
    metric: str
    higher_is_better: bool
    anchor: str
    note: str


@dataclass(frozen=True)
class BoardCell:
    """One tracker's headline number on one suite (``text`` "-" and ``value`` NaN where it was not scored)."""

    text: str
    value: float
    provenance: str


@dataclass
class Leaderboard:
    """Trackers (rows, best mean rank first) x suites (columns)."""

    columns: list[BoardColumn]
    rows: list[tuple[str, list[BoardCell]]] = field(default_factory=list)


def _primary(reports: Sequence[Any]) -> list[Any]:
    """One report per suite, the first of its protocols (the CLI sorts OPE before TRE / SRE)."""
    seen: dict[str, Any] = {}
    for r in reports:
        seen.setdefault(r.suite, r)
    return list(seen.values())


def leaderboard(reports: Sequence[Any], result_sets: Sequence[Any]) -> Leaderboard:
    """The leaderboard of ``reports``: one column per suite (its first protocol's report), one row per tracker."""
    sources = {rs.tracker: result_provenance(rs) for rs in result_sets}
    columns: list[BoardColumn] = []
    cells: dict[str, list[BoardCell]] = {}
    primary = _primary(reports)
    trackers = list(dict.fromkeys(n for r in primary for n in r.ranked()))
    for k, r in enumerate(primary):
        column = r.column(r.rank_by)
        settings = ", ".join(r.settings()) or "-"
        partial = "partial" if r.partial else "full"
        columns.append(BoardColumn(f"{r.suite.upper()} {r.protocol_name}", column.label,
                                   column.higher_is_better is not False, section_anchor(r),
                                   f"{r.suite.upper()} {r.protocol_name}: {column.label}; {settings}; {partial} "
                                   f"({r.n_suite_sequences} sequences)"))
        for name in trackers:
            row = cells.setdefault(name, [BoardCell("", math.nan, "")] * k)
            t = r.trackers.get(name)
            raw = t.headline().get(r.rank_by) if t is not None and t.per_sequence else None
            value = float(raw) if isinstance(raw, int | float) and math.isfinite(raw) else math.nan
            if t is None or not t.per_sequence:
                row.append(BoardCell("-", math.nan, f"{name} has no result on {r.suite}"))
                continue
            p = sources.get(name)
            scored = r.n_scored(name) if hasattr(r, "n_scored") else len(t.per_sequence)
            state = partial if scored >= r.n_suite_sequences else f"partial: {scored} of {r.n_suite_sequences}"
            source = f"{p.kind}: {p.source}" if p else "unknown source"
            row.append(BoardCell(column.format(raw), value,
                                 f"{name} on {r.suite.upper()} {r.protocol_name}, {column.label} "
                                 f"{column.format(raw)}; source {source}; {settings}; {state}"))
    for row in cells.values():  # trackers absent from later suites
        row.extend([BoardCell("-", math.nan, "")] * (len(columns) - len(row)))
    return Leaderboard(columns, [(name, cells[name]) for name in _by_mean_rank(trackers, cells, columns)])


def _by_mean_rank(trackers: list[str], cells: dict[str, list[BoardCell]], columns: list[BoardColumn]) -> list[str]:
    """Trackers by their mean rank over the suites they were scored on (more suites first on ties)."""
    ranks: dict[str, list[int]] = {n: [] for n in trackers}
    for c, col in enumerate(columns):
        scored = [n for n in trackers if math.isfinite(cells[n][c].value)]
        scored.sort(key=lambda n: -cells[n][c].value if col.higher_is_better else cells[n][c].value)
        for i, n in enumerate(scored):
            ranks[n].append(i + 1)
    return sorted(trackers, key=lambda n: (sum(ranks[n]) / len(ranks[n]) if ranks[n] else math.inf,
                                           -len(ranks[n])))
