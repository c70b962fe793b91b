"""Score result sets on a suite under a profile: align each run to its ground truth, evaluate, aggregate.

    >>> from evalkit.datasets import load_suite
    >>> from evalkit.results import discover_results
    >>> from evalkit.registry import PROFILES
    >>> suite = load_suite("uav20l", "../shared/data/uav123")                        # doctest: +SKIP
    >>> sets = discover_results("../shared/data/results/uav20l_dcf")                 # doctest: +SKIP
    >>> report = score_ope(suite, sets, PROFILES.get("otb-toolkit"))                 # doctest: +SKIP
    >>> round(report.trackers["KCF"].score.success_auc, 3)                          # doctest: +SKIP
    0.196

Problems in single result files are collected per tracker and the rest is still scored; a suite missing sequences
is refused unless ``allow_partial`` is set, and then every output carries ``partial = True``.
"""

from __future__ import annotations

from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from evalkit.datasets.base import Sequence, Suite
from evalkit.errors import EvalkitError, InputProblem, PartialSuiteError
from evalkit.metrics.ope import (
    AlignedRun,
    PredictionError,
    RunCounts,
    SuiteScore,
    aggregate,
    evaluate_runs,
    pool,
)
from evalkit.metrics.profiles import Profile
from evalkit.metrics.statistics import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    PairedResult,
    bootstrap_intervals,
    paired_comparison,
)
from evalkit.results import ResultSet, Run


@dataclass
class TrackerScore:
    """One tracker's scores on a suite: headline, per sequence, per attribute, and what could not be scored."""

    tracker: str
    score: SuiteScore
    per_sequence: dict[str, RunCounts]
    per_attribute: dict[str, SuiteScore]
    problems: list[InputProblem] = field(default_factory=list)
    unscored: list[str] = field(default_factory=list)
    ci95: dict[str, tuple[float, float]] = field(default_factory=dict)
    vs_best: PairedResult | None = None

    @property
    def complete(self) -> bool:
        """True when every sequence of the suite was scored."""
        return not self.unscored


@dataclass
class ScoreReport:
    """Scores of several trackers on one suite under one protocol and profile."""

    suite: str
    protocol: str
    profile: str
    partial: bool
    n_suite_sequences: int
    missing_data: list[str]
    trackers: dict[str, TrackerScore]

    def as_json(self) -> dict[str, object]:
        """The documented JSON object of ``evalkit score --format json``."""
        return {
            "suite": self.suite,
            "protocol": self.protocol,
            "profile": self.profile,
            "partial": self.partial,
            "trackers": {name: _json_fields(t) for name, t in self.trackers.items()},
        }


def _json_fields(t: TrackerScore) -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in t.score.as_dict().items():
        out[k] = None if isinstance(v, float) and not np.isfinite(v) else v
    if t.ci95:
        out["ci95"] = {k: [lo, hi] for k, (lo, hi) in t.ci95.items()}
    return out


def looks_like_corners(first: NDArray[np.float64], gt0: NDArray[np.float64]) -> bool:
    """True when a result's first box is the ground-truth box written as x1,y1,x2,y2 instead of x,y,w,h."""
    f = [float(v) for v in first]
    x, y, w, h = (float(v) for v in gt0)

    def close(target: list[float]) -> bool:
        return all(abs(a - b) <= 0.5 for a, b in zip(f, target, strict=True))

    if close([x, y, w, h]) or not all(np.isfinite(f)):
        return False
    return close([x, y, x + w, y + h]) or close([x, y, x + w - 1, y + h - 1])


def align_run(run: Run, seq: Sequence, protocol_start: int) -> tuple[NDArray[np.float64], int]:
    """Result rows and ground-truth row index they start at; raises InputProblem-carrying errors on mismatch."""
    n = seq.n_frames
    boxes = run.boxes
    if run.start_frame is not None:
        offset = run.start_frame - seq.start_frame
        if not 0 <= offset < n:
            raise _problem(run, None, f"starts at frame {run.start_frame}, outside {seq.name}'s frames "
                                      f"{seq.start_frame}..{seq.start_frame + n - 1}")
    elif len(boxes) == n:
        offset = 0
    elif len(boxes) == n - protocol_start:
        offset = protocol_start
    else:
        expected = f"{n}" if protocol_start == 0 else f"{n} (or {n - protocol_start} from frame " \
                                                      f"{seq.frame_number(protocol_start)})"
        line = min(len(boxes), n) + 1
        raise _problem(run, line, f"has {len(boxes)} boxes, expected {expected} for {seq.name}")
    if run.start_frame is not None and len(boxes) != n - offset:
        raise _problem(run, None, f"has {len(boxes)} boxes from frame {run.start_frame}, expected {n - offset} "
                                  f"for {seq.name}")
    if looks_like_corners(boxes[0], seq.ground_truth[offset]):
        raise _problem(run, run.line_offset + 1, f"first box {run.boxes[0].tolist()} looks like x1,y1,x2,y2 "
                                                 f"corners of the ground truth; evalkit expects x,y,w,h")
    if offset < protocol_start:  # a run stored from frame 1 where the protocol starts later (OTB initOmit)
        boxes = boxes[protocol_start - offset:]
        offset = protocol_start
    return boxes, offset


class _RunProblem(EvalkitError):
    def __init__(self, problem: InputProblem) -> None:
        self.problem = problem
        super().__init__(str(problem))


def _problem(run: Run, line: int | None, message: str) -> _RunProblem:
    return _RunProblem(InputProblem(run.source, line, message))


POOLED_PROTOCOLS = ("tre", "sre")


def aligned_runs(rs: ResultSet, seq: Sequence, profile: Profile, others: SequenceABC[str] = (),
                 protocol: str = "ope") -> list[tuple[Run, AlignedRun, int]]:
    """A tracker's runs on a sequence aligned to its ground truth: [(run, (boxes, gt, visible), gt row offset)].

    OPE takes run 1 from the protocol's start frame; TRE and SRE take every stored run (the OTB toolkit's 20
    temporal segments or 12 spatial perturbations), each from the start frame it records.
    """
    runs = rs.runs_for(seq.name, seq.aliases, others)
    if not runs:
        raise _RunProblem(InputProblem(rs.source, None, f"no result for sequence {seq.name}"))
    if protocol in POOLED_PROTOCOLS and len(runs) < 2:
        message = f"holds 1 run of {seq.name}; {protocol.upper()} needs the protocol's runs (OTB: 20 TRE, 12 SRE)"
        raise _RunProblem(InputProblem(runs[0].source, None, message))
    out = []
    for run in runs[:1] if protocol == "ope" else runs:
        start = seq.first_start_index(profile.honour_init_omit) if protocol == "ope" else 0
        boxes, offset = align_run(run, seq, start)
        visible = seq.target_visible[offset:] if seq.target_visible is not None else None
        out.append((run, (boxes, seq.ground_truth[offset:], visible), offset))
    return out


def evaluate_aligned(aligned: dict[str, list[tuple[Run, AlignedRun, int]]], profile: Profile, family: str,
                     problems: list[InputProblem], unscored: list[str]) -> dict[str, RunCounts]:
    """Evaluate all aligned runs in one pass and pool each sequence's runs; a sequence with a run the profile
    refuses is reported and left out, and the rest re-evaluated."""
    pending = dict(aligned)
    while pending:
        keys = [(name, k) for name, runs in pending.items() for k in range(len(runs))]
        try:
            counts = evaluate_runs([pending[n][k][1] for n, k in keys], profile, family)
        except PredictionError as exc:
            name, k = keys[exc.run]
            run, _, offset = pending.pop(name)[k]
            problems.append(InputProblem(run.source, run.line_offset + offset + exc.row + 1, str(exc)))
            unscored.append(name)
            continue
        per_seq: dict[str, list[RunCounts]] = {}
        for (name, _), c in zip(keys, counts, strict=True):
            per_seq.setdefault(name, []).append(c)
        return {name: pool(cs) for name, cs in per_seq.items()}
    return {}


def score_ope(suite: Suite, result_sets: SequenceABC[ResultSet], profile: Profile,
              allow_partial: bool = False, protocol: str = "ope", resamples: int = DEFAULT_RESAMPLES,
              seed: int = DEFAULT_SEED) -> ScoreReport:
    """OPE (or pooled TRE / SRE) scores of every result set on ``suite`` under ``profile``.

    TRE and SRE pool each sequence's runs (hits and frames summed, then divided) before averaging over sequences,
    as the OTB toolkit's genPerfMat does. With ``resamples`` > 0 each tracker gets bootstrap 95 % intervals over
    sequences and a paired test of its success AUC against the best tracker (seeded, reproducible).
    """
    if protocol not in ("ope", *POOLED_PROTOCOLS):
        raise EvalkitError(f"unknown protocol {protocol!r}; one of ope, tre, sre")
    if suite.missing and not allow_partial:
        raise PartialSuiteError(
            f"{suite.name}: {len(suite.missing)} of {len(suite.expected)} sequences are not in {suite.source} "
            f"(first missing: {', '.join(suite.missing[:5])}); scores on part of a benchmark are not its headline "
            f"numbers. Pass --allow-partial (or --sequences) to score the {len(suite)} present, labelled partial.")
    if len(suite) == 0:
        raise EvalkitError(f"{suite.name}: no sequence found in {suite.source}")
    if suite.withheld:
        raise EvalkitError(f"{suite.name}: {suite.withheld}")
    names = [s.name for s in suite]
    trackers: dict[str, TrackerScore] = {}
    for rs in result_sets:
        problems = list(rs.problems)
        unscored: list[str] = []
        aligned = {}
        for seq in suite:
            try:
                aligned[seq.name] = aligned_runs(rs, seq, profile, [n for n in names if n != seq.name], protocol)
            except _RunProblem as exc:
                problems.append(exc.problem)
                unscored.append(seq.name)
        per_seq = evaluate_aligned(aligned, profile, suite.family, problems, unscored)
        if not per_seq:
            trackers[rs.tracker] = TrackerScore(rs.tracker, _empty_score(profile), {}, {}, problems, unscored)
            continue
        per_seq = {n: per_seq[n] for n in names if n in per_seq}  # suite order
        by_attr = {}
        for code in suite.attribute_names:
            members = [per_seq[s.name] for s in suite if code in s.attributes and s.name in per_seq]
            if members:
                by_attr[code] = aggregate(members, profile)
        trackers[rs.tracker] = TrackerScore(rs.tracker, aggregate(list(per_seq.values()), profile), per_seq,
                                            by_attr, problems, unscored)
    if resamples > 0:
        add_statistics(trackers, profile, resamples, seed)
    return ScoreReport(suite.name, protocol, profile.name, suite.is_partial, len(suite), suite.missing, trackers)


def add_statistics(trackers: dict[str, TrackerScore], profile: Profile, resamples: int, seed: int) -> None:
    """Bootstrap intervals per tracker, and each tracker's paired success-AUC test against the best one."""
    scored = {n: t for n, t in trackers.items() if len(t.per_sequence) >= 2}
    for t in scored.values():
        t.ci95 = bootstrap_intervals(t.per_sequence.values(), profile, resamples=resamples, seed=seed)
    if len(scored) < 2:
        return
    best = max(scored.values(), key=lambda t: t.score.success_auc)
    for t in scored.values():
        if t is not best:
            t.vs_best = paired_comparison(best.per_sequence, t.per_sequence, profile, fields=("success_auc",),
                                          resamples=resamples, seed=seed)[0]


def _empty_score(profile: Profile) -> SuiteScore:
    nan = float("nan")
    return SuiteScore(np.zeros(len(profile.success_thresholds)), np.zeros(len(profile.precision_thresholds)),
                      np.zeros(len(profile.norm_precision_thresholds)), nan, nan, nan, nan, nan, 0, 0)
