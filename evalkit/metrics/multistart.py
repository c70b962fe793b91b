"""VOT2020 multistart scoring: accuracy, robustness and EAO from the per-frame overlaps of each anchor run.

    >>> import numpy as np
    >>> seq = score_sequence([np.r_[0.0, np.full(29, 0.5)]], n_frames=30)   # one run, never fails
    >>> round(seq.accuracy, 4), seq.robustness                                 # frame 0 scores 0 (see below)
    (0.4833, 1.0)

Input: for each anchor run, its overlaps in run order (index 0 = the anchor frame, backward runs reversed), and
optionally where the ground truth holds a target. The overlap itself (VOT's raster overlap, or ``geometry.iou`` for
boxes via ``run_overlaps``) is the caller's choice. Rules from vot-toolkit 0.9.0 (``vot/analysis/multistart.py``,
VOT2020 stack ``vot2020/shortterm.yaml``):

- failure: the first ``grace`` (10) consecutive frames with overlap <= ``threshold`` (0.1) on frames whose ground
  truth is not empty; a frame with empty ground truth restarts the count. The run's *progress* is the index of the
  first of those frames (the whole run when there is none);
- the anchor frame is scored 0: the toolkit stores an "initialisation" marker there, whose overlap with the ground
  truth is 0, so it counts in accuracy and towards the 10 failing frames (``init_frame_overlap``, None keeps it);
- per sequence: A = sum of overlaps before progress / sum of progress, R = sum of progress / sum of run lengths;
  over sequences A is weighted by the sequence's summed progress and R by the sequence's length;
- EAO curve over j = 1 .. high - 1: a run contributes the mean of its overlaps 1..j (after a failure the rest of the
  run is 0) while j < its length; a run shorter than j contributes only if it failed, as
  ``sum(overlaps[1:]) / (j - 1)`` (the toolkit's divisor; ``toolkit_padding=False`` divides by j, the mean of the
  zero-padded run). Runs are pooled over all sequences; EAO = the mean of the curve from ``low`` to its last point.
  The toolkit builds ``high`` points (0 .. high - 1) and averages ``curve[low:high + 1]``, so VOT2020's
  "115 - 755" is indices 115 .. 754 (640 points).

Output fields: ``accuracy``, ``robustness``, ``eao``, ``n_sequences``, ``n_runs``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evalkit import geometry

FIELDS = ("accuracy", "robustness", "eao", "n_sequences", "n_runs")


@dataclass(frozen=True)
class MultistartRules:
    """Failure detection and EAO interval of a multistart analysis (defaults: vot-toolkit 0.9.0, VOT2020)."""

    threshold: float = 0.1
    grace: int = 10
    eao_low: int = 115
    eao_high: int = 755
    init_frame_overlap: float | None = 0.0
    toolkit_padding: bool = True

    def __post_init__(self) -> None:
        if self.grace < 1:
            raise ValueError(f"grace must be >= 1 frame, got {self.grace}")
        if not 1 <= self.eao_low < self.eao_high:
            raise ValueError(f"need 1 <= eao_low < eao_high, got {self.eao_low}, {self.eao_high}")


VOT2020 = MultistartRules()


@dataclass(frozen=True)
class SequenceMultistart:
    """One sequence's pooled anchor runs: sums that aggregate exactly over sequences."""

    overlap_sum: float
    progress: int
    run_frames: int
    n_frames: int
    n_runs: int
    eao_sum: NDArray[np.float64] = field(repr=False)
    eao_active: NDArray[np.float64] = field(repr=False)

    @property
    def accuracy(self) -> float:
        """Mean overlap over the frames tracked before each run's failure (0 when nothing was tracked)."""
        return self.overlap_sum / self.progress if self.progress > 0 else 0.0

    @property
    def robustness(self) -> float:
        """Fraction of the runs' frames tracked before failure."""
        return self.progress / self.run_frames if self.run_frames > 0 else 0.0

    def eao_curve(self) -> NDArray[np.float64]:
        """This sequence's expected-overlap curve (index j = mean overlap over the first j frames after the anchor)."""
        return _ratio(self.eao_sum, self.eao_active)


@dataclass(frozen=True)
class MultistartScore:
    """Multistart scores of one tracker on a suite."""

    accuracy: float
    robustness: float
    eao: float
    eao_curve: NDArray[np.float64] = field(repr=False)
    n_sequences: int
    n_runs: int

    def as_dict(self) -> dict[str, float | int]:
        """The headline fields, in ``FIELDS`` order."""
        return {k: getattr(self, k) for k in FIELDS}


def _ratio(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den > 0)
    return out


def failure_progress(overlaps: ArrayLike, target_present: ArrayLike | None = None,
                     rules: MultistartRules = VOT2020) -> int:
    """Frames tracked before failure: index of the first of ``grace`` consecutive low frames, else the run length."""
    o = np.asarray(overlaps, dtype=np.float64)
    low = o <= rules.threshold
    if target_present is not None:
        low &= np.asarray(target_present, dtype=bool)
    idx = np.arange(o.size)
    last_ok = np.maximum.accumulate(np.where(low, -1, idx))  # latest frame that restarted the count
    hits = np.flatnonzero(idx - last_ok >= rules.grace)
    return int(hits[0]) + 1 - rules.grace if hits.size else int(o.size)


def _prepared(overlaps: ArrayLike, rules: MultistartRules) -> NDArray[np.float64]:
    o = np.array(overlaps, dtype=np.float64, copy=True, ndmin=1)
    if o.ndim != 1 or o.size == 0:
        raise ValueError(f"a run's overlaps must be a non-empty 1-D array, got shape {np.shape(overlaps)}")
    if np.isnan(o).any():
        raise ValueError("overlaps contain NaN; give 0 for a missing prediction, 1 where both regions are empty")
    if rules.init_frame_overlap is not None:
        o[0] = rules.init_frame_overlap
    return o


def run_eao_contribution(overlaps: NDArray[np.float64], failed: bool, rules: MultistartRules = VOT2020
                         ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """One run's additions to the EAO curve's sums and active counts, for j = 0 .. eao_high - 1 (j = 0 stays 0)."""
    n = rules.eao_high
    total = np.zeros(n)
    active = np.zeros(n)
    m = min(overlaps.size, n)  # j = 1 .. m - 1 lie inside the run
    if m > 1:
        total[1:m] = np.cumsum(overlaps[1:m]) / np.arange(1, m)
        active[1:m] = 1.0
    if failed and overlaps.size < n:
        j = np.arange(overlaps.size, n, dtype=np.float64)
        divisor = j - 1 if rules.toolkit_padding else j
        tail = float(overlaps[1:].sum())
        total[overlaps.size:] = _ratio(np.full(j.size, tail), divisor)
        active[overlaps.size:] = 1.0
    return total, active


def score_sequence(overlaps: SequenceABC[ArrayLike], n_frames: int,
                   target_present: SequenceABC[ArrayLike | None] | None = None,
                   rules: MultistartRules = VOT2020) -> SequenceMultistart:
    """Pool one sequence's anchor runs (``overlaps[k]`` in run order) into accuracy, robustness and EAO sums."""
    if not overlaps:
        raise ValueError("a sequence needs at least one anchor run")
    present = list(target_present) if target_present is not None else [None] * len(overlaps)
    if len(present) != len(overlaps):
        raise ValueError(f"{len(overlaps)} runs but {len(present)} target_present arrays")
    overlap_sum, progress_sum, frames = 0.0, 0, 0
    eao_sum, eao_active = np.zeros(rules.eao_high), np.zeros(rules.eao_high)
    for run, vis in zip(overlaps, present, strict=True):
        o = _prepared(run, rules)
        if vis is not None and np.shape(vis) != o.shape:
            raise ValueError(f"target_present has shape {np.shape(vis)}, overlaps {o.shape}")
        progress = failure_progress(o, vis, rules)
        overlap_sum += float(o[:progress].sum())
        progress_sum += progress
        frames += o.size
        failed = progress < o.size
        o[progress:] = 0.0
        s, a = run_eao_contribution(o, failed, rules)
        eao_sum += s
        eao_active += a
    return SequenceMultistart(overlap_sum, progress_sum, frames, int(n_frames), len(overlaps), eao_sum, eao_active)


def aggregate(per_sequence: Iterable[SequenceMultistart], rules: MultistartRules = VOT2020) -> MultistartScore:
    """Suite scores: A weighted by tracked frames, R by sequence length, EAO from the pooled curve."""
    seqs = list(per_sequence)
    if not seqs:
        raise ValueError("no sequences to aggregate")
    tracked = sum(s.progress for s in seqs)
    accuracy = sum(s.accuracy * s.progress for s in seqs) / tracked if tracked > 0 else 0.0
    length = sum(s.n_frames for s in seqs)
    robustness = sum(s.robustness * s.n_frames for s in seqs) / length if length > 0 else 0.0
    curve = _ratio(sum((s.eao_sum for s in seqs), np.zeros(rules.eao_high)),
                   sum((s.eao_active for s in seqs), np.zeros(rules.eao_high)))
    eao = float(curve[rules.eao_low:rules.eao_high + 1].mean())
    return MultistartScore(float(accuracy), float(robustness), eao, curve, len(seqs), sum(s.n_runs for s in seqs))


def run_overlaps(predictions: ArrayLike, ground_truth: ArrayLike, rows: SequenceABC[int],
                 overlap: Callable[[ArrayLike, ArrayLike], NDArray[np.float64]] = geometry.iou,
                 regions: ArrayLike | None = None, bounds: ArrayLike | None = None,
                 ) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Overlaps of a run's boxes (in run order) with the ground truth at ``rows`` (``RunSpec.rows``).

    Returns (overlaps, target_present); a frame with empty ground truth scores 1 when the prediction is empty too,
    else 0 (VOT's rule), and a missing prediction scores 0. With ``regions`` (the sequence's N x 8 VOT regions) the
    overlap is VOT's raster overlap with the annotated region, within ``bounds`` (W, H) when given, instead of
    ``overlap`` of the boxes.
    """
    pred = geometry.view_boxes(predictions)
    gt = geometry.view_boxes(ground_truth)[np.asarray(list(rows), dtype=np.intp)]
    if pred.shape != gt.shape:
        raise ValueError(f"{len(pred)} predictions for a run of {len(gt)} frames")
    present = geometry.valid_boxes(gt)
    pred_ok = geometry.valid_boxes(pred)
    values = np.zeros(len(gt))
    both = present & pred_ok
    if both.any() and regions is not None:
        from evalkit.geometry.region import region_overlap

        padded = np.hstack([pred[both], np.full((int(both.sum()), 4), np.nan)])
        picked = np.asarray(regions, dtype=np.float64)[np.asarray(list(rows), dtype=np.intp)][both]
        values[both] = np.nan_to_num(region_overlap(padded, picked, bounds), nan=0.0)
    elif both.any():
        values[both] = np.nan_to_num(overlap(pred[both], gt[both]), nan=0.0)
    values[~present & ~pred_ok] = 1.0
    return values, present
