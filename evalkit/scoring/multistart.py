"""Score VOT2020-style multistart results (anchor runs) stored by ``evalkit run --protocol vot-multistart``.

    >>> report = score_multistart(suite, [read_store_set(folder)])                  # doctest: +SKIP
    >>> report.as_json()["trackers"]["csrt"]                                         # doctest: +SKIP
    {'accuracy': 0.71, 'robustness': 0.93, 'eao': 0.52, 'n_sequences': 8, 'n_runs': 24}

Each stored run is named by its anchor (``anchor-00050-forward``, see :mod:`evalkit.protocols.multistart`) and holds
its boxes in frame order; the overlaps are taken in run order (backward runs reversed) by
:func:`~evalkit.metrics.multistart.run_overlaps`: the VOT raster overlap against the annotated region within the image
on VOT suites, the box IoU elsewhere; then pooled by :mod:`evalkit.metrics.multistart` with vot-toolkit's VOT2020
rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from evalkit.datasets.base import Suite
from evalkit.errors import InputProblem
from evalkit.metrics.multistart import (
    VOT2020,
    MultistartRules,
    MultistartScore,
    SequenceMultistart,
    aggregate,
    run_overlaps,
)
from evalkit.metrics.multistart import score_sequence as score_multistart_sequence
from evalkit.results import ResultSet, Run
from evalkit.scoring.base import N_SEQUENCES, Column, Report, ScoringOptions, TrackerResult, check_suite, count_column

PROTOCOL = "vot-multistart"
_LABEL = re.compile(r"anchor-(\d+)-(forward|backward)$")


MULTISTART_COLUMNS = (
    Column("eao", "EAO", description="expected average overlap of anchor runs (VOT2020 interval)"),
    Column("accuracy", "Accuracy", description="mean overlap before each run's failure"),
    Column("robustness", "Robustness", description="fraction of the runs' frames tracked before failure; "
                                                  "higher is better (VOT2020)"),
    N_SEQUENCES,
    count_column("n_runs", "Runs", "anchor runs scored"),
)


@dataclass
class MultistartTrackerScore(TrackerResult):
    """One tracker's multistart scores, per sequence, and what could not be scored."""

    score: MultistartScore | None
    per_sequence: dict[str, SequenceMultistart]

    def headline(self) -> Mapping[str, object]:
        """Accuracy, robustness, EAO and the counts; empty when no sequence was scored."""
        return self.score.as_dict() if self.score is not None else {}

    def sequence_values(self) -> dict[str, dict[str, object]]:
        """Per sequence: accuracy, robustness and the number of anchor runs."""
        return {name: {"accuracy": s.accuracy, "robustness": s.robustness, "n_runs": s.n_runs}
                for name, s in self.per_sequence.items()}


@dataclass
class MultistartReport(Report):
    """Multistart scores of several trackers on one suite."""

    eao_low: int = field(default=VOT2020.eao_low, kw_only=True)
    eao_high: int = field(default=VOT2020.eao_high, kw_only=True)
    longest_run: int = field(default=0, kw_only=True)  # frames of the longest anchor run (EAO needs eao_low and more)

    kind: ClassVar[str] = "multistart"
    columns: ClassVar[tuple[Column, ...]] = MULTISTART_COLUMNS
    sequence_columns: ClassVar[tuple[Column, ...]] = tuple(c for c in MULTISTART_COLUMNS
                                                           if c.key in ("accuracy", "robustness", "n_runs"))
    rank_by: ClassVar[str] = "eao"
    json_columns: ClassVar[tuple[str, ...] | None] = ("accuracy", "robustness", "eao", "n_sequences", "n_runs")

    def settings(self) -> list[str]:
        """The rules the numbers follow."""
        return ["VOT2020 rules"]

    def notes(self) -> list[str]:
        """Says when the EAO column carries no information (anchor runs shorter than the EAO interval)."""
        out = super().notes()
        scored = any(t.score is not None for t in self.trackers.values())
        if scored and self.longest_run and self.longest_run <= self.eao_low:
            out.append(f"EAO averages the expected overlap of runs {self.eao_low}-{self.eao_high} frames long; the "
                       f"longest anchor run here has {self.longest_run} frames, so the EAO column carries no "
                       f"information")
        return out


def anchor_of(run: Run) -> tuple[int, int] | None:
    """(row, direction) of a stored anchor run, from its file name; None when the name is not an anchor label."""
    m = _LABEL.search(run.source.stem)
    if m is None:
        return None
    return int(m.group(1)), (1 if m.group(2) == "forward" else -1)


def evaluate_result_set(rs: ResultSet, suite: Suite, rules: MultistartRules
                        ) -> tuple[dict[str, SequenceMultistart], list[InputProblem], list[str]]:
    """Per-sequence multistart sums of one tracker; problems (unnamed or wrong-length runs) are collected."""
    problems = list(rs.problems)
    per_seq: dict[str, SequenceMultistart] = {}
    unscored: list[str] = []
    for seq in suite:
        runs = rs.runs_for(seq.name, seq.aliases) or []
        overlaps, present = [], []
        for run in runs:
            anchor = anchor_of(run)
            if anchor is None:
                problems.append(InputProblem(run.source, None, "not a multistart anchor run (expected a name like "
                                                               "anchor-00050-forward)"))
                continue
            row, direction = anchor
            rows = np.arange(row, seq.n_frames) if direction > 0 else np.arange(0, row + 1)
            if len(run.boxes) != len(rows):
                problems.append(InputProblem(run.source, None, f"has {len(run.boxes)} boxes, the {seq.name} anchor "
                                                               f"run from row {row} covers {len(rows)} frames"))
                continue
            # stored in frame order; scored in run order (a backward run goes from its anchor down to row 0)
            values, vis = run_overlaps(np.asarray(run.boxes, dtype=np.float64)[::direction], seq.ground_truth,
                                       rows[::direction], regions=seq.regions, bounds=seq.image_size)
            overlaps.append(values)
            present.append(vis)
        if not overlaps:
            problems.append(InputProblem(rs.source, None, f"no multistart run for sequence {seq.name}"))
            unscored.append(seq.name)
            continue
        per_seq[seq.name] = score_multistart_sequence(overlaps, seq.n_frames, present, rules)
    return per_seq, problems, unscored


def score_multistart(suite: Suite, result_sets: SequenceABC[ResultSet], rules: MultistartRules = VOT2020,
                     allow_partial: bool = False) -> MultistartReport:
    """VOT2020 multistart accuracy, robustness and EAO of every result set on ``suite``."""
    check_suite(suite, allow_partial)
    trackers = {}
    for rs in result_sets:
        per_seq, problems, unscored = evaluate_result_set(rs, suite, rules)
        score = aggregate(per_seq.values(), rules) if per_seq else None
        trackers[rs.tracker] = MultistartTrackerScore(rs.tracker, score, per_seq, problems=problems,
                                                      unscored=unscored)
    partial = suite.is_partial or any(t.unscored for t in trackers.values())
    longest = max((s.n_frames for s in suite), default=0)
    return MultistartReport(suite.name, PROTOCOL, partial, len(suite), suite.missing, trackers,
                            eao_low=rules.eao_low, eao_high=rules.eao_high, longest_run=longest)


def score(suite: Suite, result_sets: SequenceABC[ResultSet], options: ScoringOptions) -> MultistartReport:
    """The registered scorer of ``vot-multistart``: VOT2020 rules."""
    return score_multistart(suite, result_sets, allow_partial=options.allow_partial)
