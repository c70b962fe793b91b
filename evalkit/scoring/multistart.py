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
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field

import numpy as np

from evalkit.datasets.base import Suite
from evalkit.errors import InputProblem, PartialSuiteError
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

PROTOCOL = "vot-multistart"
_LABEL = re.compile(r"anchor-(\d+)-(forward|backward)$")


@dataclass
class MultistartTrackerScore:
    """One tracker's multistart scores, per sequence, and what could not be scored."""

    tracker: str
    score: MultistartScore | None
    per_sequence: dict[str, SequenceMultistart]
    problems: list[InputProblem] = field(default_factory=list)
    unscored: list[str] = field(default_factory=list)


@dataclass
class MultistartReport:
    """Multistart scores of several trackers on one suite."""

    suite: str
    partial: bool
    n_suite_sequences: int
    trackers: dict[str, MultistartTrackerScore]
    protocol: str = PROTOCOL
    eao_low: int = VOT2020.eao_low
    eao_high: int = VOT2020.eao_high
    longest_run: int = 0  # frames of the longest anchor run scored (EAO needs runs of eao_low frames and more)

    def as_json(self) -> dict[str, object]:
        """``{"suite", "protocol", "partial", "trackers": {name: {accuracy, robustness, eao, n_sequences, n_runs}}}``"""
        return {"suite": self.suite, "protocol": self.protocol, "partial": self.partial,
                "trackers": {n: (t.score.as_dict() if t.score is not None else None) for n, t in self.trackers.items()}}


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
    if suite.missing and not allow_partial:
        raise PartialSuiteError(f"{suite.name}: {len(suite.missing)} of {len(suite.expected)} sequences are not in "
                                f"{suite.source}; pass --allow-partial to score the {len(suite)} present, labelled "
                                f"partial")
    trackers = {}
    for rs in result_sets:
        per_seq, problems, unscored = evaluate_result_set(rs, suite, rules)
        score = aggregate(per_seq.values(), rules) if per_seq else None
        trackers[rs.tracker] = MultistartTrackerScore(rs.tracker, score, per_seq, problems, unscored)
    partial = suite.is_partial or any(t.unscored for t in trackers.values())
    longest = max((s.n_frames for s in suite), default=0)
    return MultistartReport(suite.name, partial, len(suite), trackers, eao_low=rules.eao_low,
                            eao_high=rules.eao_high, longest_run=longest)
