"""Fill a published-table layout from scored results: pick the trackers, score each suite once, read off the cells.

    >>> inputs = TableInputs(discover_results(Path("../shared/data/results/otb100_cfnet_release")),
    ...                      {"*": Path("../shared/data/otb100")})                        # doctest: +SKIP
    >>> table = fill_table(LAYOUTS.get("cfnet-table1"), inputs, against_published=True)  # doctest: +SKIP
    >>> table.cell("SiamFC-3s", "otb100/ope/iou").value                                  # doctest: +SKIP
    0.582...

Every number comes from evalkit's own scoring (:func:`evalkit.scoring.score`,
:func:`evalkit.scoring.centre_error.mean_centre_error`), the stored per-frame times, or a measured complexity JSON;
the published values (``published.json``) are only ever shown beside them. A suite without a data root leaves its
cells empty and says so in a note; a tracker scored on part of a suite gets a partial mark.
"""

from __future__ import annotations

import json
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from evalkit.errors import EvalkitError, InputFileError
from evalkit.paper_tables.model import Cell, FilledTable, Layout, Metric, assign_marks, name_key
from evalkit.results import ResultSet, Speed, tracker_speed


@cache
def published_values() -> dict[str, Any]:
    """The papers' values per layout (``published.json``: rows, tolerance, known-inconsistent cells, source)."""
    return json.loads(resources.files("evalkit.paper_tables").joinpath("published.json").read_text())


def read_measured(path: Path) -> dict[str, dict[str, float]]:
    """Measured complexity per tracker from ``evalkit complexity --format json`` (or a file of the same shape).

    Accepted shapes: ``{"trackers": {name: {...}}}``, ``{name: {...}}`` or ``[{"tracker": name, ...}, ...]``; fields
    ``model_size_mb`` (or ``size_mb``, or ``params`` / ``parameters`` as a float32 count -> MB), ``gflops`` (or
    ``flops`` / ``macs``-free ``flops`` in units, divided by 1e9), ``fps`` and ``device`` are read.
    """
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise EvalkitError(f"cannot read measured values {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InputFileError(path, exc.lineno, f"invalid json: {exc.msg}") from None
    if isinstance(data, dict) and isinstance(data.get("trackers"), dict | list):
        data = data["trackers"]
    records: dict[str, dict[str, Any]] = {}
    if isinstance(data, list):
        for i, item in enumerate(data):
            if not isinstance(item, dict) or not isinstance(item.get("tracker", item.get("name")), str):
                raise InputFileError(path, None, f"entry {i + 1} has no 'tracker' name")
            records[item.get("tracker", item.get("name"))] = item
    elif isinstance(data, dict):
        records = {k: v for k, v in data.items() if isinstance(v, dict)}
    if not records:
        raise InputFileError(path, None, "no tracker entries (expected {tracker: {model_size_mb, gflops, ...}})")
    out: dict[str, dict[str, float]] = {}
    for name, rec in records.items():
        values: dict[str, float] = {}
        size = rec.get("model_size_mb", rec.get("size_mb"))
        if size is None and rec.get("params", rec.get("parameters")) is not None:
            size = float(rec.get("params", rec.get("parameters"))) * 4 / 1e6  # float32 parameters
        if size is not None:
            values["model_size_mb"] = float(size)
        gflops = rec.get("gflops")
        if gflops is None and rec.get("flops") is not None:
            gflops = float(rec["flops"]) / 1e9
        if gflops is not None:
            values["gflops"] = float(gflops)
        if rec.get("fps") is not None:
            values["fps"] = float(rec["fps"])
        if rec.get("device"):
            values["device"] = str(rec["device"])  # type: ignore[assignment]
        out[name] = values
    return out


@dataclass
class TableInputs:
    """Result sets, data roots (per suite, ``"*"`` for all; ``config_roots`` from evalkit.toml and the environment,
    tried last) and options from which layouts are filled."""

    result_sets: list[ResultSet]
    data_roots: dict[str, Path] = field(default_factory=dict)
    profile: str | None = None
    measured: dict[str, dict[str, float]] = field(default_factory=dict)
    allow_partial: bool = False
    sequences: list[str] | None = None
    config_roots: dict[str, Path] = field(default_factory=dict)
    _ope: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    _vot: dict[str, Any] = field(default_factory=dict)
    _suites: dict[str, Any] = field(default_factory=dict)
    _speeds: dict[int, Speed | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def roots(self, suite: str) -> list[Path]:
        """Data roots to try for ``suite``: its own (``--data-root SUITE=PATH``), the common ``--data-root PATH``,
        then the configured one (``$EVALKIT_DATA_<SUITE>``, evalkit.toml [datasets])."""
        found = [self.data_roots.get(suite), self.data_roots.get("*"), self.config_roots.get(suite)]
        return list(dict.fromkeys(p for p in found if p is not None))

    def suite(self, name: str) -> Any:
        """The loaded suite from the first root that holds any of its sequences, or None (with a note)."""
        if name in self._suites:
            return self._suites[name]
        from evalkit.datasets import load_suite

        roots = self.roots(name)
        suite = None
        if not roots:
            self.notes.append(f"{name}: no data root given (--data-root {name}=PATH); its cells are empty")
        why = []
        for root in roots:
            try:
                loaded = load_suite(name, root, self.sequences)
            except EvalkitError as exc:
                if name in self.data_roots:  # named explicitly: the user must hear about it
                    raise
                why.append(f"not loaded from {root} ({exc})")
                continue
            if len(loaded) == 0 and name not in self.data_roots:
                why.append(f"none of its sequences is under {root}")
                continue
            suite = loaded
            break
        if suite is None and roots:
            self.notes.append(f"{name}: {'; '.join(why)}; its cells are empty (--data-root {name}=PATH)")
        if suite is not None and suite.missing and not self.allow_partial and not self.sequences:
            raise EvalkitError(f"{name}: {len(suite.missing)} of {len(suite.expected)} sequences are not in "
                               f"{suite.source}; pass --allow-partial to fill the table from the {len(suite)} "
                               f"present (cells are then marked partial)")
        self._suites[name] = suite
        return suite

    def profile_for(self, layout: Layout) -> Any:
        """The metric profile: ``--profile``, else the layout's."""
        from evalkit.registry import PROFILES

        return PROFILES.get(self.profile or layout.profile)

    def ope(self, suite_name: str, protocol: str, layout: Layout) -> Any:
        """The score report of every result set on a suite under a protocol (computed once)."""
        profile = self.profile_for(layout)
        key = (suite_name, protocol, profile.name)
        if key not in self._ope:
            from evalkit.scoring import ScoringOptions, score

            suite = self.suite(suite_name)
            box_sets = [rs for rs in self.result_sets if rs.runs]
            self._ope[key] = None if suite is None or not box_sets else score(
                protocol, suite, box_sets, ScoringOptions(profile=profile, allow_partial=True))
        return self._ope[key]

    def vot(self, suite_name: str) -> Any:
        """The supervised-experiment report of every VOT result set on a VOT suite (computed once)."""
        if suite_name not in self._vot:
            from evalkit.scoring import ScoringOptions, score

            suite = self.suite(suite_name)
            vot_sets = [rs for rs in self.result_sets if rs.vot_runs]
            self._vot[suite_name] = None if suite is None or not vot_sets else score(
                "vot-supervised", suite, vot_sets, ScoringOptions(allow_partial=True))
        return self._vot[suite_name]

    def speed(self, rs: ResultSet) -> Speed | None:
        """The result set's speed from its stored per-frame times, or None (read once: every time file is loaded)."""
        if id(rs) not in self._speeds:
            self._speeds[id(rs)] = tracker_speed(rs)
        return self._speeds[id(rs)]


def _published(layout: Layout) -> dict[str, Any]:
    return published_values()["layouts"].get(layout.name, {})


def choose_trackers(layout: Layout, result_sets: SequenceABC[ResultSet], wanted: SequenceABC[str] | None
                    ) -> list[tuple[str, ResultSet]]:
    """(printed name, result set) per table entry: the trackers asked for, in that order; else the paper's rows
    found in the results, in the paper's order; else every result set."""
    by_key = {name_key(rs.tracker): rs for rs in result_sets}
    if wanted:
        out = []
        for w in wanted:
            rs = by_key.get(name_key(w))
            if rs is None:
                row = next((r for r in layout.rows if r.matches(w)), None)
                rs = next((s for s in result_sets if row is not None and row.matches(s.tracker)), None)
            if rs is None:
                raise EvalkitError(f"tracker {w!r} not found in the results; found: "
                                   f"{', '.join(s.tracker for s in result_sets) or 'none'}")
            row = layout.row_for(rs.tracker)
            out.append((row.name if row else rs.tracker, rs))
        return out
    out = []
    taken: set[int] = set()
    for row in layout.rows:  # a set named exactly as the row wins over one matching an alias
        exact = [s for s in result_sets if name_key(s.tracker) == name_key(row.name) and id(s) not in taken]
        rs = (exact or [s for s in result_sets if row.matches(s.tracker) and id(s) not in taken] or [None])[0]
        if rs is not None:
            taken.add(id(rs))
            out.append((row.name, rs))
    if out:
        return out
    return [(rs.tracker, rs) for rs in result_sets]


def _cell(metric: Metric, printed_name: str, rs: ResultSet, layout: Layout, inputs: TableInputs) -> Cell:
    if metric.source == "static":
        row = layout.row_for(rs.tracker) or layout.row_for(printed_name)
        value = dict(row.static).get(metric.key) if row else None
        return Cell(value)
    if metric.source == "speed":
        speed = inputs.speed(rs)
        if speed is not None:
            return Cell(speed.fps)
        measured = _measured_for(inputs, printed_name, rs.tracker)
        return Cell(measured.get("fps"))
    if metric.source == "complexity":
        return Cell(_measured_for(inputs, printed_name, rs.tracker).get(metric.field))
    assert metric.suite is not None
    if metric.source == "vot":
        report = inputs.vot(metric.suite)
        t = report.trackers.get(rs.tracker) if report is not None else None
        if t is None or not t.per_sequence:
            return Cell(None)
        return Cell(float(getattr(t.score, metric.field)), partial=not t.complete or report.partial)
    if metric.source == "centre-error":
        from evalkit.scoring.centre_error import mean_centre_error

        suite = inputs.suite(metric.suite)
        if suite is None or not rs.runs:
            return Cell(None)
        cle = mean_centre_error(suite, rs, inputs.profile_for(layout))
        if not cle.per_sequence:
            return Cell(None)
        return Cell(cle.value, partial=bool(cle.unscored) or suite.is_partial)
    report = inputs.ope(metric.suite, metric.protocol, layout)
    t = report.trackers.get(rs.tracker) if report is not None else None
    if t is None or not t.per_sequence:
        return Cell(None)
    if metric.field == "op_50":
        profile = inputs.profile_for(layout)
        value = float(t.score.success_curve[profile.index_of(profile.success_thresholds, 0.5)])
    else:
        value = float(getattr(t.score, metric.field))
    return Cell(value, partial=not t.complete or report.partial)


def _measured_for(inputs: TableInputs, *names: str) -> dict[str, float]:
    keys = {name_key(n) for n in names}
    return next((v for k, v in inputs.measured.items() if name_key(k) in keys), {})


def fill_table(layout: Layout, inputs: TableInputs, trackers: SequenceABC[str] | None = None,
               against_published: bool = False) -> FilledTable:
    """Every cell of ``layout`` for the chosen trackers, with marks, flags and (optionally) the paper's values."""
    if layout.generic and not trackers:
        raise EvalkitError(f"layout {layout.name!r} takes its columns from --trackers A,B,C (the variants to compare)")
    chosen = choose_trackers(layout, inputs.result_sets, trackers)
    if not chosen:
        raise EvalkitError("no tracker results to fill the table with")
    names = [n for n, _ in chosen]
    if len(set(names)) != len(names):
        raise EvalkitError(f"two result sets map to the same row of {layout.name}: {', '.join(names)}")
    pub = _published(layout)
    rows_pub: dict[str, dict[str, float | None]] = pub.get("rows", {})
    tolerance = float(pub.get("tolerance", 0.0))
    inconsistent = {(item["row"], k): item["note"] for item in pub.get("inconsistent", []) for k in item["keys"]}
    cells: dict[tuple[str, str], Cell] = {}
    notes: list[str] = []
    for name, rs in chosen:
        for metric in layout.metrics:
            cell = _cell(metric, name, rs, layout, inputs)
            paper = rows_pub.get(name, {}).get(metric.key)
            cell.published = float(paper) if paper is not None else None
            if (name, metric.key) in inconsistent:
                cell.inconsistent = True
            ours = metric.printed(cell.value)
            if (against_published and ours is not None and cell.published is not None and not cell.inconsistent
                    and not metric.hardware_bound and not cell.partial
                    and abs(ours - cell.published) > tolerance + 1e-9):
                cell.mismatch = True
            cells[(name, metric.key)] = cell
    table = FilledTable(layout, names, cells, notes, against_published=against_published)
    assign_marks(table)
    table.partial = any(c.partial for c in cells.values())
    for note in dict.fromkeys(inconsistent[(t, m.key)] for t in names for m in layout.metrics
                              if (t, m.key) in inconsistent):
        notes.append(f"† {note}")
    if any(c.mismatch for c in cells.values()):
        notes.append(f"≠ differs from the published value by more than {tolerance:g} (the printed precision).")
    if table.partial:
        notes.append("* partial: scored on part of the suite (not the benchmark's headline number).")
    if any(m.hardware_bound for m in layout.metrics):
        speeds = {n: _speed_text(inputs.speed(rs)) or _measured_speed_text(_measured_for(inputs, n, rs.tracker))
                  for n, rs in chosen}
        measured = [f"{n}: {s}" for n, s in speeds.items() if s]
        notes.append("Speed is hardware-bound: " + ("; ".join(measured) if measured else
                                                    "no stored per-frame times in these results, so no FPS") + ".")
    if any(m.source == "complexity" for m in layout.metrics) and not inputs.measured:
        notes.append("No measured complexity given (--measured FILE.json from `evalkit complexity --format json`): "
                     "model size and GFLOPs are empty.")
    notes.extend(layout.notes)
    notes.extend(dict.fromkeys(inputs.notes))
    if against_published and pub.get("source"):
        notes.append(f"Published values: {pub['source']}.")
    return table


def _speed_text(speed: Speed | None) -> str:
    if speed is None:
        return ""
    return f"{speed.fps:.1f} fps on {speed.device} ({speed.n_sequences} sequences)"


def _measured_speed_text(measured: dict[str, Any]) -> str:
    if measured.get("fps") is None:
        return ""
    return f"{measured['fps']:.1f} fps on {measured.get('device', 'an unnamed device')} (--measured)"
