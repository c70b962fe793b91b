"""Score VOT supervised ("baseline") results on a VOT suite: EAO, accuracy, robustness, per tag, and the EAO curve.

    >>> from evalkit.datasets import load_suite
    >>> from evalkit.results import discover_results
    >>> suite = load_suite("vot2018", "../shared/data/vot2018")                      # doctest: +SKIP
    >>> report = score_vot(suite, discover_results("../shared/data/results/vot2018"))   # doctest: +SKIP
    >>> {k: round(v, 3) for k, v in report.as_json()["trackers"]["LightTrack"].items()}   # doctest: +SKIP
    {'eao': 0.418, 'accuracy': 0.529, 'robustness': 0.633, 'failures': 38, 'failures_per_100': 0.178}
    >>> occlusion = report.trackers["LightTrack"].score.tags["occlusion"]             # doctest: +SKIP
    >>> round(occlusion.accuracy, 3), occlusion.failures, len(report.trackers["LightTrack"].eao_curve)  # doctest: +SKIP
    (0.391, 6.0, 1500)

The EAO interval defaults to the suite's (``data/vot.json``: VOT2016 [108, 371], VOT2018 [100, 356], VOT2019
[46, 291]); ``convention="pysot"`` reproduces pysot's EAO port instead of the MATLAB toolkit (see
:mod:`evalkit.metrics.vot`). Problems in single result files (a bad line, a run of the wrong length, a missing
sequence) are collected per tracker with file and line, and the rest is still scored; a suite missing sequences is
refused unless ``allow_partial`` is set, and then the report says ``partial``.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from evalkit.datasets.base import Sequence, Suite
from evalkit.datasets.vot import FAMILY, suite_metadata
from evalkit.errors import EvalkitError, InputProblem
from evalkit.geometry.region import overlaps_beyond, region_overlap
from evalkit.metrics.vot import (
    Convention,
    SequenceSupervised,
    SupervisedRules,
    SupervisedScore,
    aggregate,
    evaluate_sequence,
)
from evalkit.results import ResultSet, VotRun
from evalkit.scoring.base import N_FRAMES, N_SEQUENCES, Column, Report, ScoringOptions, TrackerResult, check_suite

PROTOCOL = "vot-supervised"


VOT_COLUMNS = (
    Column("eao", "EAO", description="expected average overlap over the suite's interval of sequence lengths"),
    Column("accuracy", "Accuracy", description="mean overlap of the frames tracked (burn-in after each "
                                              "re-initialisation excluded)"),
    Column("robustness", "Robustness", higher_is_better=False,
           description="failures per sequence, averaged over repetitions (VOT2016-2018); lower is better"),
    Column("failures", "Failures", decimals=1, higher_is_better=False, kind="count",
           description="failures summed over sequences (mean over repetitions)"),
    Column("failures_per_100", "Failures / 100 frames", higher_is_better=False,
           description="failures per 100 frames, as pysot prints it"),
    N_SEQUENCES,
    N_FRAMES,
)


@dataclass
class VotTrackerScore(TrackerResult):
    """One tracker's supervised-experiment scores on a suite, per sequence, and what could not be scored."""

    score: SupervisedScore
    per_sequence: dict[str, SequenceSupervised]

    @property
    def eao_curve(self) -> NDArray[np.float64]:
        """Phi(N) for N = 1.. (index N - 1): the expected average overlap of an N-frame sequence."""
        return self.score.eao_curve

    def headline(self) -> Mapping[str, object]:
        """EAO, accuracy, robustness, failures, failures per 100 frames and the counts."""
        return {**self.score.as_dict(), "n_sequences": self.score.n_sequences, "n_frames": self.score.n_frames}

    def sequence_values(self) -> dict[str, dict[str, object]]:
        """Per sequence: accuracy and failures (mean over repetitions)."""
        return {name: {"accuracy": s.accuracy, "failures": s.failures, "n_frames": s.n_frames}
                for name, s in self.per_sequence.items()}

    def attribute_values(self) -> dict[str, dict[str, object]]:
        """Per VOT tag: EAO, accuracy, failures and failures per 100 tagged frames."""
        return {tag: {"eao": t.eao, "accuracy": t.accuracy, "failures": t.failures,
                      "failures_per_100": t.failures_per_100, "n_sequences": t.n_sequences, "n_frames": t.n_frames}
                for tag, t in self.score.tags.items()}


@dataclass
class VotReport(Report):
    """Supervised-experiment scores of several trackers on one VOT suite."""

    interval: tuple[int, int] = field(default=(0, 0), kw_only=True)
    convention: str = field(default="matlab", kw_only=True)

    kind: ClassVar[str] = "vot"
    columns: ClassVar[tuple[Column, ...]] = VOT_COLUMNS
    sequence_columns: ClassVar[tuple[Column, ...]] = tuple(c for c in VOT_COLUMNS
                                                           if c.key in ("accuracy", "failures", "n_frames"))
    attribute_columns: ClassVar[tuple[Column, ...]] = tuple(c for c in VOT_COLUMNS if c.key != "robustness")
    rank_by: ClassVar[str] = "eao"
    attribute_tables: ClassVar[tuple[str, ...]] = ("eao", "accuracy", "failures")
    json_columns: ClassVar[tuple[str, ...] | None] = ("eao", "accuracy", "robustness", "failures",
                                                     "failures_per_100")

    def settings(self) -> list[str]:
        """Convention and EAO interval."""
        return [f"{self.convention} convention", f"EAO interval [{self.interval[0]}, {self.interval[1]}]"]

    def notes(self) -> list[str]:
        """What robustness and failures per 100 frames mean here."""
        return [*super().notes(), "Robustness: failures per sequence, averaged over repetitions (VOT2016-2018); "
                                  "failures per 100 frames as pysot prints them."]


def default_interval(suite: str) -> tuple[int, int]:
    """The suite's EAO interval [low, high] from ``data/vot.json``."""
    low, high = suite_metadata(suite)["eao_interval"]
    return int(low), int(high)


def _check_suite(suite: Suite, allow_partial: bool) -> None:
    if suite.family != FAMILY:
        raise EvalkitError(f"{suite.name} is not a VOT suite; the supervised experiment is scored on vot2016, "
                           f"vot2018 or vot2019")
    check_suite(suite, allow_partial)
    unsized = [s.name for s in suite if s.image_size is None]
    if unsized:
        raise EvalkitError(f"{suite.name}: no image size for {', '.join(unsized[:5])}; the VOT overlap is bounded "
                           f"by the image: put the frames, or a 'sequence' file with width= and height=, beside "
                           f"groundtruth.txt")


def _usable_runs(rs: ResultSet, seq: Sequence, problems: list[InputProblem]) -> list[VotRun]:
    runs = rs.vot_runs_for(seq.name, seq.aliases)
    if not runs:
        problems.append(InputProblem(rs.source, None, f"no VOT supervised result for sequence {seq.name}"))
        return []
    good = []
    for run in runs:
        if run.n_frames != seq.n_frames:
            line = min(run.n_frames, seq.n_frames) + 1
            problems.append(InputProblem(run.source, line, f"has {run.n_frames} lines, expected {seq.n_frames} "
                                                           f"(one per frame of {seq.name})"))
            continue
        good.append(run)
    if not good:
        problems.append(InputProblem(rs.source, None, f"no usable VOT supervised result for sequence {seq.name}"))
    return good


def evaluate_result_set(rs: ResultSet, suite: Suite, rules: SupervisedRules
                        ) -> tuple[dict[str, SequenceSupervised], list[InputProblem], list[str]]:
    """Evaluate every sequence of ``suite`` for one tracker: overlaps of all its runs in two vectorised passes."""
    problems = list(rs.problems)
    unscored: list[str] = []
    picked: list[tuple[Sequence, list[VotRun]]] = []
    for seq in suite:
        runs = _usable_runs(rs, seq, problems)
        if runs:
            picked.append((seq, runs))
        else:
            unscored.append(seq.name)
    if not picked:
        return {}, problems, unscored
    pred = np.concatenate([r.regions for _, runs in picked for r in runs])
    gt = np.concatenate([seq.region_rows for seq, runs in picked for _ in runs])
    size = np.concatenate([np.tile(np.asarray(seq.image_size, dtype=np.float64), (seq.n_frames, 1))
                           for seq, runs in picked for _ in runs])
    accuracy_overlaps = region_overlap(pred, gt, size)  # accuracy: bounds [W, H], as both toolkits pass them
    eao_overlaps = accuracy_overlaps.copy()  # EAO: bounds [W - 1, H - 1]; only frames reaching the edge differ
    edge = overlaps_beyond(pred, gt, size)
    eao_overlaps[edge] = region_overlap(pred[edge], gt[edge], size[edge] - 1)
    per_seq = {}
    start = 0
    for seq, runs in picked:
        stop = start + seq.n_frames * len(runs)
        shape = (len(runs), seq.n_frames)
        codes = np.stack([r.codes for r in runs])
        per_seq[seq.name] = evaluate_sequence(seq.name, codes, accuracy_overlaps[start:stop].reshape(shape),
                                              eao_overlaps[start:stop].reshape(shape), seq.tags, rules)
        start = stop
    return per_seq, problems, unscored


def score_vot(suite: Suite, result_sets: SequenceABC[ResultSet], interval: tuple[int, int] | None = None,
              convention: Convention = "matlab", allow_partial: bool = False, burn_in: int = 10,
              skip_after_failure: int = 5) -> VotReport:
    """EAO, accuracy and robustness (overall, per tag, per sequence) of every result set on a VOT suite.

    ``interval``: the EAO range [low, high] of sequence lengths (default: the suite's); ``convention``: ``"matlab"``
    (the VOT2016-2018 toolkit) or ``"pysot"`` (pysot's EAO port); ``burn_in`` and ``skip_after_failure``: the
    stack's parameters (10 and 5 for every VOT2016-2019 stack).
    """
    _check_suite(suite, allow_partial)
    low_high = (int(interval[0]), int(interval[1])) if interval is not None else default_interval(suite.name)
    rules = SupervisedRules(burn_in=burn_in, skip_after_failure=skip_after_failure, convention=convention)
    longest = max(s.n_frames for s in suite)
    trackers = {}
    for rs in result_sets:
        per_seq, problems, unscored = evaluate_result_set(rs, suite, rules)
        score = aggregate(list(per_seq.values()), low_high, longest, rules)
        trackers[rs.tracker] = VotTrackerScore(rs.tracker, score, per_seq, problems=problems, unscored=unscored)
    return VotReport(suite.name, PROTOCOL, suite.is_partial, len(suite), suite.missing, trackers, interval=low_high,
                     convention=convention)


def score(suite: Suite, result_sets: SequenceABC[ResultSet], options: ScoringOptions) -> VotReport:
    """The registered scorer of ``vot-supervised``: :func:`score_vot` with the options' convention and interval."""
    if options.convention not in ("matlab", "pysot"):
        raise EvalkitError(f"unknown VOT convention {options.convention!r}; one of matlab, pysot")
    return score_vot(suite, result_sets, interval=options.interval,
                     convention=options.convention,  # type: ignore[arg-type]
                     allow_partial=options.allow_partial)
