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

from collections.abc import Mapping
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from numpy.typing import NDArray

from evalkit.datasets.base import Sequence, Suite
from evalkit.errors import EvalkitError, InputProblem
from evalkit.metrics.ope import (
    OP_THRESHOLDS,
    AlignedRun,
    PredictionError,
    RunCounts,
    SuiteScore,
    aggregate_groups,
    evaluate_runs,
    pool,
    success_at,
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
from evalkit.scoring.base import N_FRAMES, N_SEQUENCES, Column, Report, ScoringOptions, TrackerResult, check_suite

if TYPE_CHECKING:  # pandas is imported when a DataFrame is asked for
    import pandas as pd

OPE_COLUMNS = (
    Column("success_auc", "Success AUC", description="mean of the success curve (the OTB toolkit's AUC)"),
    Column("precision_20", "Prec@20", description="precision at the profile's pixel threshold (20 px)"),
    Column("precision_auc", "Prec AUC", description="mean of the precision curve over 0..50 px"),
    Column("norm_precision", "Norm prec", description="normalized precision as the profile reads it off"),
    Column("op50", "OP50", description="overlap precision: share of frames with IoU > 0.50 (pytracking)"),
    Column("op75", "OP75", description="overlap precision: share of frames with IoU > 0.75 (pytracking)"),
    Column("mean_iou", "Mean IoU", description="average overlap"),
    N_SEQUENCES,
    N_FRAMES,
)


@dataclass
class TrackerScore(TrackerResult):
    """One tracker's scores on a suite: headline, per sequence, per attribute, and what could not be scored."""

    score: SuiteScore
    per_sequence: dict[str, RunCounts]
    per_attribute: dict[str, SuiteScore]
    ci95: dict[str, tuple[float, float]] = field(default_factory=dict, kw_only=True)
    vs_best: PairedResult | None = field(default=None, kw_only=True)
    precision_index: int = field(default=20, kw_only=True)  # the profile's precision threshold in the curve
    success_thresholds: NDArray[np.float64] = field(default_factory=lambda: np.linspace(0, 1, 21), kw_only=True)

    def headline(self) -> Mapping[str, object]:
        """The headline fields (NaN and zero counts when nothing was scored)."""
        return self.score.as_dict()

    def sequence_values(self) -> dict[str, dict[str, object]]:
        """Per sequence: the headline fields read off that sequence's (pooled) curves."""
        out = {}
        for name, c in self.per_sequence.items():
            p, s = c.precision_curve(), c.success_curve()
            out[name] = {"success_auc": float(s.mean()),
                         "precision_20": float(p[min(self.precision_index, len(p) - 1)]),
                         "precision_auc": float(p.mean()),
                         **{k: success_at(s, self.success_thresholds, t) for k, t in OP_THRESHOLDS.items()},
                         "mean_iou": c.mean_iou(), "n_frames": c.n_success}
        return out

    def attribute_values(self) -> dict[str, Mapping[str, object]]:
        """Per attribute: the headline fields over the sequences that carry it."""
        return {code: s.as_dict() for code, s in self.per_attribute.items()}

    def json_extra(self) -> dict[str, object]:
        """The bootstrap intervals, when statistics were computed."""
        return {"ci95": {k: [lo, hi] for k, (lo, hi) in self.ci95.items()}} if self.ci95 else {}


@dataclass
class ScoreReport(Report):
    """OPE (or pooled TRE / SRE) scores of several trackers on one suite under one profile."""

    profile: str = field(default="", kw_only=True)

    kind: ClassVar[str] = "ope"
    columns: ClassVar[tuple[Column, ...]] = OPE_COLUMNS
    sequence_columns: ClassVar[tuple[Column, ...]] = tuple(c for c in OPE_COLUMNS if c.key not in
                                                           ("norm_precision", "n_sequences"))
    attribute_columns: ClassVar[tuple[Column, ...]] = OPE_COLUMNS
    rank_by: ClassVar[str] = "success_auc"

    def settings(self) -> list[str]:
        """The profile the numbers follow."""
        return [f"profile {self.profile}"]

    def json_header(self) -> dict[str, object]:
        """suite, protocol, profile, partial."""
        return {"suite": self.suite, "protocol": self.protocol, "profile": self.profile, "partial": self.partial}

    def marks(self, name: str) -> str:
        """`*` when some sequence was not scored; `=` when not significantly different from the best; `?` when
        there are too few sequences for the test to conclude anything (no p below 0.05 is reachable)."""
        t = self.trackers[name]
        flag = super().marks(name)
        if t.vs_best is None:
            return flag
        if not t.vs_best.conclusive:
            return flag + " ?"
        return flag + (" =" if not t.vs_best.significant else "")

    def curves(self, kind: str = "success") -> pd.DataFrame:
        """The averaged ``success``, ``precision`` or ``norm_precision`` curve of every scored tracker: one column per
        tracker (best first), indexed by the profile's thresholds."""
        import pandas as pd

        from evalkit.registry import PROFILES

        profile = PROFILES.get(self.profile)
        x = {"success": profile.success_thresholds, "precision": profile.precision_thresholds,
             "norm_precision": profile.norm_precision_thresholds}
        if kind not in x:
            raise EvalkitError(f"unknown curve {kind!r}; one of {', '.join(x)}")
        frame = pd.DataFrame({n: getattr(self.trackers[n].score, f"{kind}_curve") for n in self.ranked()
                              if self.trackers[n].per_sequence}, index=pd.Index(x[kind], name="threshold"))
        return frame

    def extra_cells(self, name: str) -> dict[str, str]:
        """The p-value of the paired test against the best tracker (when statistics were computed)."""
        if not any(t.ci95 for t in self.trackers.values()) or len(self.trackers) < 2:
            return {}
        t = self.trackers[name]
        if t.vs_best is None:
            return {"p vs best": "best" if t.ci95 else ""}
        return {"p vs best": "<0.001" if t.vs_best.p_value < 0.001 else f"{t.vs_best.p_value:.3f}"}

    def notes(self) -> list[str]:
        """What `*`, `=` and the interval column mean."""
        out = super().notes()
        compared = [t.vs_best for t in self.trackers.values() if t.vs_best is not None]
        if any(r.conclusive and not r.significant for r in compared):
            out.append("= success AUC not significantly different from the best tracker's (paired sign-flip "
                       "permutation test over sequences, p >= 0.05)")
        inconclusive = [r for r in compared if not r.conclusive]
        if inconclusive:
            r = inconclusive[0]
            out.append(f"? too few sequences to conclude: with {r.n_sequences} the smallest p-value the paired test "
                       f"can give is {r.min_p_value:.3g} (>= 0.05), so 'not significant' would mean nothing")
        if any(t.ci95 for t in self.trackers.values()):
            out.append("AUC 95% CI: percentile bootstrap over sequences; p vs best: paired sign-flip permutation test "
                       "of success AUC against the best tracker")
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


def align_run(run: Run, seq: Sequence, protocol_start: int, profile: Profile | None = None,
              notices: list[InputProblem] | None = None) -> tuple[NDArray[np.float64], int]:
    """Result rows and ground-truth row index they start at; raises InputProblem-carrying errors on mismatch.

    ``profile`` (when given) decides two tolerances, each reported in ``notices`` rather than refused:
    ``ope_alignment == "by-position"`` matches the rows of a result whose recorded start frame disagrees with the
    annotation to the annotated frames by position (the OTB toolkit's genPerfMat.m scores OPE against
    ``anno = subAnno{1}`` and never reads ``startFrame``: public OTB-100 sets store ``startFrame = 1`` for BlurCar1,
    annotated from frame 247); ``extra_rows == "cut"`` drops rows after the last annotated frame (LaSOT's
    calc_seq_err_robust.m, for monkey-17). Without a profile both are refused.
    """
    n = seq.n_frames
    boxes = run.boxes
    by_position = profile is not None and profile.ope_alignment == "by-position"
    cut = profile is not None and profile.extra_rows == "cut"
    fits_whole = (n, n - protocol_start)
    if run.start_frame is not None:
        offset = run.start_frame - seq.start_frame
        consistent = 0 <= offset < n and (len(boxes) == n - offset or (cut and len(boxes) > n - offset))
        if not consistent and by_position and (len(boxes) in fits_whole or (cut and len(boxes) > n)):
            assert profile is not None
            offset = 0 if len(boxes) >= n else protocol_start
            _notice(notices, run, f"records start frame {run.start_frame} but {seq.name} is annotated from frame "
                                  f"{seq.start_frame}; its {len(boxes)} rows are matched to frames "
                                  f"{seq.frame_number(offset)}.. by position, as {profile.name} does")
        elif not 0 <= offset < n:
            raise _problem(run, None, f"starts at frame {run.start_frame}, outside {seq.name}'s frames "
                                      f"{seq.start_frame}..{seq.start_frame + n - 1}")
    elif len(boxes) == n or (cut and len(boxes) > n):
        offset = 0
    elif len(boxes) == n - protocol_start:
        offset = protocol_start
    else:
        expected = f"{n}" if protocol_start == 0 else f"{n} (or {n - protocol_start} from frame " \
                                                      f"{seq.frame_number(protocol_start)})"
        line = min(len(boxes), n) + 1
        raise _problem(run, line, f"has {len(boxes)} boxes, expected {expected} for {seq.name}")
    if cut and len(boxes) > n - offset:
        assert profile is not None
        _notice(notices, run, f"has {len(boxes)} boxes for the {n - offset} annotated frames of {seq.name} from "
                              f"frame {seq.frame_number(offset)}; the rows after them are cut, as {profile.name} does")
        boxes = boxes[: n - offset]
    if len(boxes) != n - offset:
        raise _problem(run, None, f"has {len(boxes)} boxes from frame {run.start_frame}, expected {n - offset} "
                                  f"for {seq.name}")
    if looks_like_corners(boxes[0], seq.ground_truth[offset]):
        raise _problem(run, run.line_offset + 1, f"first box {run.boxes[0].tolist()} looks like x1,y1,x2,y2 "
                                                 f"corners of the ground truth; evalkit expects x,y,w,h")
    if offset < protocol_start:  # a run stored from frame 1 where the protocol starts later (OTB initOmit)
        boxes = boxes[protocol_start - offset:]
        offset = protocol_start
    return boxes, offset


def _notice(notices: list[InputProblem] | None, run: Run, message: str) -> None:
    """Record something the scoring tolerated as a toolkit does (printed like a problem; the sequence is scored)."""
    if notices is not None:
        notices.append(InputProblem(run.source, None, message))


class RunProblem(EvalkitError):
    """A run that cannot be aligned to its sequence (wrong length, start outside the annotation, ...): one problem."""

    def __init__(self, problem: InputProblem) -> None:
        self.problem = problem
        super().__init__(str(problem))


def _problem(run: Run, line: int | None, message: str) -> RunProblem:
    return RunProblem(InputProblem(run.source, line, message))


POOLED_PROTOCOLS = ("tre", "sre")
_ALL = "\0all sequences"  # the suite's group among the attribute groups (no attribute code is spelled so)


def aligned_runs(rs: ResultSet, seq: Sequence, profile: Profile, others: SequenceABC[str] = (),
                 protocol: str = "ope", notices: list[InputProblem] | None = None
                 ) -> list[tuple[Run, AlignedRun, int]]:
    """A tracker's runs on a sequence aligned to its ground truth: [(run, (boxes, gt, visible), gt row offset)].

    OPE takes run 1 from the protocol's start frame; TRE and SRE take every stored run (the OTB toolkit's 20
    temporal segments or 12 spatial perturbations), each from the start frame it records (the profile's
    ``ope_alignment`` applies to OPE only). What the profile tolerates is appended to ``notices``.
    """
    runs = rs.runs_for(seq.name, seq.aliases, others)
    if not runs:
        raise RunProblem(InputProblem(rs.source, None, f"no result for sequence {seq.name}"))
    if protocol in POOLED_PROTOCOLS and len(runs) < 2:
        message = f"holds 1 run of {seq.name}; {protocol.upper()} needs the protocol's runs (OTB: 20 TRE, 12 SRE)"
        raise RunProblem(InputProblem(runs[0].source, None, message))
    out = []
    for run in runs[:1] if protocol == "ope" else runs:
        start = seq.first_start_index(profile.honour_init_omit) if protocol == "ope" else 0
        boxes, offset = align_run(run, seq, start, profile if protocol == "ope" else None, notices)
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
    check_suite(suite, allow_partial)
    names = [s.name for s in suite]
    precision_index = profile.index_of(profile.precision_thresholds, profile.precision_at)
    trackers: dict[str, TrackerScore] = {}
    for rs in result_sets:
        problems = list(rs.problems)
        notices: list[InputProblem] = []
        unscored: list[str] = []
        aligned = {}
        for seq in suite:
            try:
                aligned[seq.name] = aligned_runs(rs, seq, profile, [n for n in names if n != seq.name], protocol,
                                                 notices)
            except RunProblem as exc:
                problems.append(exc.problem)
                unscored.append(seq.name)
        per_seq = evaluate_aligned(aligned, profile, suite.family, problems, unscored)
        if not per_seq:
            trackers[rs.tracker] = TrackerScore(rs.tracker, _empty_score(profile), {}, {}, problems=problems,
                                                unscored=unscored, notices=notices)
            continue
        per_seq = {n: per_seq[n] for n in names if n in per_seq}  # suite order
        row = {name: i for i, name in enumerate(per_seq)}
        groups: dict[str, list[int]] = {_ALL: list(range(len(per_seq)))}
        for code in suite.attribute_names:  # each attribute's scored members (an empty one is left out)
            groups[code] = [row[s.name] for s in suite if code in s.attributes and s.name in row]
        by_attr = aggregate_groups(list(per_seq.values()), groups, profile)
        overall = by_attr.pop(_ALL)
        trackers[rs.tracker] = TrackerScore(rs.tracker, overall, per_seq,
                                            by_attr, problems=problems, unscored=unscored, notices=notices,
                                            precision_index=precision_index,
                                            success_thresholds=profile.success_thresholds)
    if resamples > 0:
        add_statistics(trackers, profile, resamples, seed)
    return ScoreReport(suite.name, protocol, suite.is_partial, len(suite), suite.missing, trackers,
                       profile=profile.name)


def score(suite: Suite, result_sets: SequenceABC[ResultSet], options: ScoringOptions, protocol: str = "ope"
          ) -> ScoreReport:
    """The registered scorer of ``ope``: :func:`score_ope` with the options' profile and statistics."""
    if options.profile is None:
        raise EvalkitError("OPE scoring needs a profile (--profile)")
    return score_ope(suite, result_sets, options.profile, allow_partial=options.allow_partial, protocol=protocol,
                     resamples=options.resamples, seed=options.seed)


def score_tre(suite: Suite, result_sets: SequenceABC[ResultSet], options: ScoringOptions) -> ScoreReport:
    """The registered scorer of ``tre``: every stored temporal segment pooled per sequence."""
    return score(suite, result_sets, options, "tre")


def score_sre(suite: Suite, result_sets: SequenceABC[ResultSet], options: ScoringOptions) -> ScoreReport:
    """The registered scorer of ``sre``: every stored spatial perturbation pooled per sequence."""
    return score(suite, result_sets, options, "sre")


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
                      np.zeros(len(profile.norm_precision_thresholds)), nan, nan, nan, nan, nan, nan, nan, 0, 0)
