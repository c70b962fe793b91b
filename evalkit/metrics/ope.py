"""One-pass evaluation (OPE) metrics: success, precision and normalized precision, per run and aggregated.

A run is first turned into threshold hit counts (``RunCounts``); a sequence pools the counts of its runs (one for
OPE, 20 for TRE, 12 for SRE, as the OTB toolkit does); a suite averages the sequences' curves.

    >>> import numpy as np
    >>> from evalkit.metrics.profiles import OTB_TOOLKIT
    >>> gt = np.array([[1, 1, 10, 10], [2, 2, 10, 10]], float)
    >>> c = evaluate_run(gt, gt, OTB_TOOLKIT, family="otb")
    >>> round(float(c.success_curve().mean()), 3)   # a perfect tracker scores 20/21 (IoU > 1.0 never holds)
    0.952

Output fields (per tracker): ``success_auc``, ``precision_20``, ``precision_auc``, ``norm_precision``, ``mean_iou``,
``n_sequences``, ``n_frames``.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from evalkit import geometry
from evalkit.errors import EvalkitError
from evalkit.metrics.profiles import GroundTruthRule, Profile, Validity

FIELDS = ("success_auc", "precision_20", "precision_auc", "norm_precision", "mean_iou", "n_sequences", "n_frames")


class PredictionError(EvalkitError):
    """A profile that refuses invalid predictions (pytracking) found one; carries the 0-based row."""

    def __init__(self, row: int, message: str) -> None:
        self.row = row
        super().__init__(message)


@dataclass(frozen=True)
class RunCounts:
    """Hit counts of one or more pooled runs at each threshold, and the frame count they are divided by."""

    success_hits: NDArray[np.float64]
    precision_hits: NDArray[np.float64]
    norm_hits: NDArray[np.float64]
    iou_sum: float
    n_success: int
    n_precision: int
    n_norm: int

    def __add__(self, other: RunCounts) -> RunCounts:
        return RunCounts(self.success_hits + other.success_hits, self.precision_hits + other.precision_hits,
                         self.norm_hits + other.norm_hits, self.iou_sum + other.iou_sum,
                         self.n_success + other.n_success, self.n_precision + other.n_precision,
                         self.n_norm + other.n_norm)

    @staticmethod
    def _rate(hits: NDArray[np.float64], n: int) -> NDArray[np.float64]:
        return hits / n if n > 0 else np.zeros_like(hits)

    def success_curve(self) -> NDArray[np.float64]:
        """Fraction of frames whose IoU exceeds each overlap threshold."""
        return self._rate(self.success_hits, self.n_success)

    def precision_curve(self) -> NDArray[np.float64]:
        """Fraction of frames whose centre error is within each pixel threshold."""
        return self._rate(self.precision_hits, self.n_precision)

    def norm_precision_curve(self) -> NDArray[np.float64]:
        """Fraction of frames whose normalized centre error is within each threshold."""
        return self._rate(self.norm_hits, self.n_norm)

    def mean_iou(self) -> float:
        """Average overlap over the counted frames (frames counted as failures contribute 0)."""
        return self.iou_sum / self.n_success if self.n_success else 0.0


def _valid(gt: NDArray[np.float64], test: Validity, eps: float = 0.0) -> NDArray[np.bool_]:
    with np.errstate(invalid="ignore"):
        if test == "all-positive":
            return (gt > 0).all(axis=1)
        if test == "size-positive":
            return (gt[:, 2] > 0) & (gt[:, 3] > 0)
        if test == "finite":
            return np.isfinite(gt).all(axis=1)
        centres = geometry.box_centers(gt)
        if test == "norm-center-positive":  # pysot tests the centre divided by the GT size
            centres = centres / (gt[:, 2:] + eps)
        return (centres > 0).all(axis=1)


def _counts_above(values: NDArray[np.float64], thresholds: NDArray[np.float64]) -> NDArray[np.float64]:
    """Number of values strictly greater than each threshold (NaN counts as below)."""
    v = np.sort(np.where(np.isnan(values), -np.inf, values))
    return (v.size - np.searchsorted(v, thresholds, side="right")).astype(np.float64)


def _counts_within(values: NDArray[np.float64], thresholds: NDArray[np.float64]) -> NDArray[np.float64]:
    """Number of values less than or equal to each threshold (NaN counts as above)."""
    v = np.sort(np.where(np.isnan(values), np.inf, values))
    return np.searchsorted(v, thresholds, side="right").astype(np.float64)


def _replace_invalid_predictions(pred: NDArray[np.float64], gt: NDArray[np.float64], profile: Profile
                                 ) -> NDArray[np.float64]:
    """Apply the profile's rule for unusable predicted boxes (copying; inputs are never changed)."""
    mode = profile.invalid_prediction
    if mode == "keep" or len(pred) < 2:
        return pred
    gt_known = ~np.isnan(gt).any(axis=1)
    with np.errstate(invalid="ignore"):
        if mode == "previous-if-gt":
            # OTB: `if (isnan(r) | r(3)<=0 | r(4)<=0) & ~isnan(r_anno)` -- MATLAB's `if` needs all four true.
            bad_size = (pred[:, 2] <= 0) | (pred[:, 3] <= 0)
            replace = (np.isnan(pred) | bad_size[:, None]).all(axis=1) & gt_known
        else:  # pytracking: NaN or negative sizes are errors, zero sizes take the previous box
            broken = np.isnan(pred).any(axis=1) | (pred[:, 2:] < 0).any(axis=1)
            if broken.any():
                row = int(np.flatnonzero(broken)[0])
                raise PredictionError(row, f"invalid predicted box {pred[row].tolist()} (NaN or negative size)")
            replace = (pred[:, 2:] == 0).any(axis=1) & gt_known
    replace[0] = False
    if not replace.any():
        return pred
    source = np.where(replace, 0, np.arange(len(pred)))
    np.maximum.accumulate(source, out=source)
    return pred[source]


def _apply(values: NDArray[np.float64], valid: NDArray[np.bool_], treatment: str, hit: float, fail: float
           ) -> tuple[NDArray[np.float64], int]:
    """Set values of invalid frames to a hit or a failure, or drop them; return values and the denominator."""
    if treatment == "drop":
        return values[valid], int(valid.sum())
    out = values.copy()
    out[~valid] = hit if treatment == "hit" else fail
    return out, len(values)


def evaluate_run(pred: NDArray[np.float64], gt: NDArray[np.float64], profile: Profile, family: str,
                 visible: NDArray[np.bool_] | None = None) -> RunCounts:
    """Hit counts of one run, with ``pred`` and ``gt`` already aligned row by row (row 0 = the run's first frame)."""
    pred = geometry.as_boxes(pred)
    gt = geometry.as_boxes(gt)
    if pred.shape != gt.shape:
        raise EvalkitError(f"prediction has {len(pred)} rows but ground truth {len(gt)}")
    if len(pred) == 0:
        raise EvalkitError("empty run")
    pred = _replace_invalid_predictions(pred, gt, profile)
    if profile.first_frame == "ground-truth":
        pred = pred.copy()
        pred[0] = gt[0]
    rule: GroundTruthRule = profile.rule_for(family)

    ious = geometry.iou(pred, gt, pixel_inclusive=profile.iou_pixel_inclusive, union_eps=profile.iou_union_eps)
    if profile.iou_clip:
        ious = np.clip(ious, 0.0, 1.0)
    errors = geometry.center_error(pred, gt)
    norm_errors = geometry.normalized_center_error(pred, gt, eps=profile.normalized_eps)

    invisible = None
    if visible is not None and rule.invisible != "ignore":
        invisible = ~np.asarray(visible, dtype=bool)

    def prepare(values: NDArray[np.float64], test: Validity, treatment: str, hit: float, fail: float
                ) -> tuple[NDArray[np.float64], int]:
        valid = _valid(gt, test, profile.normalized_eps)
        if invisible is not None and rule.invisible == "as-invalid":
            valid = valid & ~invisible
        out, n = _apply(values, valid, treatment, hit, fail)
        if invisible is not None and rule.invisible == "fail":
            keep = valid if treatment == "drop" else np.ones(len(values), bool)
            out = out.copy()
            out[invisible[keep]] = fail
        return out, n

    s_vals, n_s = prepare(ious, rule.success_valid, rule.success_invalid, np.inf, -1.0)
    p_vals, n_p = prepare(errors, rule.precision_valid, rule.precision_invalid, -1.0, np.inf)
    n_vals, n_n = prepare(norm_errors, rule.norm_valid, rule.norm_invalid, -1.0, np.inf)

    counted_ious = np.where(np.isfinite(s_vals) & (s_vals > 0), s_vals, 0.0)
    return RunCounts(
        success_hits=_counts_above(s_vals, profile.success_thresholds),
        precision_hits=_counts_within(p_vals, profile.precision_thresholds),
        norm_hits=_counts_within(n_vals, profile.norm_precision_thresholds),
        iou_sum=float(counted_ious.sum()),
        n_success=n_s,
        n_precision=n_p,
        n_norm=n_n,
    )


def pool(runs: Iterable[RunCounts]) -> RunCounts:
    """Pool several runs of one sequence (TRE / SRE): hits and frame counts are summed before dividing."""
    it = iter(runs)
    total = next(it)
    for r in it:
        total = total + r
    return total


@dataclass(frozen=True)
class SuiteScore:
    """Aggregated OPE scores of one tracker on a suite, with the averaged curves."""

    success_curve: NDArray[np.float64]
    precision_curve: NDArray[np.float64]
    norm_precision_curve: NDArray[np.float64]
    success_auc: float
    precision_20: float
    precision_auc: float
    norm_precision: float
    mean_iou: float
    n_sequences: int
    n_frames: int

    def as_dict(self) -> dict[str, float | int]:
        """The headline fields, in ``FIELDS`` order."""
        return {k: getattr(self, k) for k in FIELDS}


def _mean_curve(curves: NDArray[np.float64], drop_zero: bool) -> NDArray[np.float64]:
    if drop_zero:
        keep = curves.sum(axis=1) > np.finfo(float).eps
        curves = curves[keep] if keep.any() else curves
    return curves.mean(axis=0)


def aggregate(per_sequence: SequenceABC[RunCounts], profile: Profile) -> SuiteScore:
    """Average per-sequence curves over a suite and read off the headline numbers under ``profile``."""
    if not per_sequence:
        raise EvalkitError("no sequence to aggregate")
    succ = np.stack([c.success_curve() for c in per_sequence])
    prec = np.stack([c.precision_curve() for c in per_sequence])
    norm = np.stack([c.norm_precision_curve() for c in per_sequence])
    s = _mean_curve(succ, profile.drop_all_zero_sequences)
    p = _mean_curve(prec, profile.drop_all_zero_sequences)
    n = _mean_curve(norm, profile.drop_all_zero_sequences)
    if profile.norm_precision_readoff == "area":
        norm_value = float(n.mean())
    else:
        norm_value = float(n[profile.index_of(profile.norm_precision_thresholds, profile.norm_precision_at)])
    return SuiteScore(
        success_curve=s, precision_curve=p, norm_precision_curve=n,
        success_auc=float(s.mean()),
        precision_20=float(p[profile.index_of(profile.precision_thresholds, profile.precision_at)]),
        precision_auc=float(p.mean()),
        norm_precision=norm_value,
        mean_iou=float(np.mean([c.mean_iou() for c in per_sequence])),
        n_sequences=len(per_sequence),
        n_frames=int(sum(c.n_success for c in per_sequence)),
    )
