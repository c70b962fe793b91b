"""One-pass evaluation (OPE) metrics: success, precision and normalized precision, per run and aggregated.

A run is first turned into threshold hit counts (``RunCounts``); a sequence pools the counts of its runs (one for
OPE, 20 for TRE, 12 for SRE, as the OTB toolkit does); a suite averages the sequences' curves.

    >>> import numpy as np
    >>> from evalkit.metrics.profiles import OTB_TOOLKIT
    >>> gt = np.array([[1, 1, 10, 10], [2, 2, 10, 10]], float)
    >>> c = evaluate_run(gt, gt, OTB_TOOLKIT, family="otb")
    >>> round(float(c.success_curve().mean()), 3)   # a perfect tracker scores 20/21 (IoU > 1.0 never holds)
    0.952

Output fields (per tracker): ``success_auc``, ``precision_20``, ``precision_auc``, ``norm_precision``, ``op50``,
``op75``, ``mean_iou``, ``n_sequences``, ``n_frames``.

``op50`` / ``op75`` are pytracking's overlap precision (pytracking/analysis/plot_results.py ``print_results``:
``auc_curve[:, threshold_set_overlap == 0.50]``): the suite-averaged success curve read at the threshold 0.50 /
0.75, so a frame counts when its IoU is strictly greater than the threshold (extract_results.py:
``err_overlap > threshold_set_overlap``), under whatever profile the curve was computed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from evalkit import geometry
from evalkit.errors import EvalkitError
from evalkit.metrics.profiles import GroundTruthRule, Profile, Validity

FIELDS = ("success_auc", "precision_20", "precision_auc", "norm_precision", "op50", "op75", "mean_iou", "n_sequences",
          "n_frames")
OP_THRESHOLDS = {"op50": 0.50, "op75": 0.75}  # pytracking's print_results reads the success curve at these two


class PredictionError(EvalkitError):
    """A profile that refuses invalid predictions (pytracking) found one; carries the run and its 0-based row."""

    def __init__(self, row: int, message: str, run: int = 0) -> None:
        self.row = row
        self.run = run
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


def _hist_by_run(run_ids: NDArray[np.intp], bins: NDArray[np.intp], n_runs: int, n_bins: int
                 ) -> NDArray[np.float64]:
    """Histogram of bin indices per run, shape (n_runs, n_bins)."""
    flat = np.bincount(run_ids * n_bins + bins, minlength=n_runs * n_bins)
    return flat.reshape(n_runs, n_bins).astype(np.float64)


def _counts_above(values: NDArray[np.float64], thresholds: NDArray[np.float64], run_ids: NDArray[np.intp],
                  n_runs: int) -> NDArray[np.float64]:
    """Per run, the number of values strictly greater than each threshold (NaN counts as below every threshold)."""
    v = np.where(np.isnan(values), -np.inf, values)
    bins = np.searchsorted(thresholds, v, side="left")  # how many thresholds lie strictly below the value
    hist = _hist_by_run(run_ids, bins, n_runs, len(thresholds) + 1)
    return np.cumsum(hist[:, ::-1], axis=1)[:, ::-1][:, 1:]


def _counts_within(values: NDArray[np.float64], thresholds: NDArray[np.float64], run_ids: NDArray[np.intp],
                   n_runs: int) -> NDArray[np.float64]:
    """Per run, the number of values less than or equal to each threshold (NaN counts as above every threshold)."""
    v = np.where(np.isnan(values), np.inf, values)
    bins = np.searchsorted(thresholds, v, side="left")
    hist = _hist_by_run(run_ids, bins, n_runs, len(thresholds) + 1)
    return np.cumsum(hist[:, :-1], axis=1)


def _replace_invalid_predictions(pred: NDArray[np.float64], gt: NDArray[np.float64], starts: NDArray[np.intp],
                                 profile: Profile) -> NDArray[np.float64]:
    """Apply the profile's rule for unusable predicted boxes (copying; inputs are never changed)."""
    mode = profile.invalid_prediction
    if mode == "keep":
        return pred
    gt_known = ~np.isnan(gt).any(axis=1)
    with np.errstate(invalid="ignore"):
        if mode == "previous-if-gt":
            # OTB: `if (isnan(r) | r(3)<=0 | r(4)<=0) & ~isnan(r_anno)` -- MATLAB's `if` needs all four true.
            bad_size = (pred[:, 2] <= 0) | (pred[:, 3] <= 0)
            replace = (np.isnan(pred) | bad_size[:, None]).all(axis=1) & gt_known
        elif mode == "previous-any-nan":
            # LaSOT calc_seq_err_robust.m: `sum(isnan(r)) | ... | r(3)<=0 | r(4)<=0` is one scalar, so a single NaN
            # (or a non-positive width or height) takes the previous box; `& ~isnan(r_anno)` as in OTB.
            replace = (np.isnan(pred).any(axis=1) | (pred[:, 2] <= 0) | (pred[:, 3] <= 0)) & gt_known
        else:  # pytracking: NaN or negative sizes are errors, zero sizes take the previous box
            broken = np.isnan(pred).any(axis=1) | (pred[:, 2:] < 0).any(axis=1)
            if broken.any():
                row = int(np.flatnonzero(broken)[0])
                run = int(np.searchsorted(starts, row, side="right") - 1)
                raise PredictionError(row - int(starts[run]), f"invalid predicted box {pred[row].tolist()} "
                                      f"(NaN or negative size)", run)
            replace = (pred[:, 2:] == 0).any(axis=1) & gt_known
    replace[starts] = False  # a run's first box is never replaced, so filling never crosses runs
    if not replace.any():
        return pred
    source = np.where(replace, 0, np.arange(len(pred)))
    np.maximum.accumulate(source, out=source)
    return pred[source]


def evaluate_run(pred: NDArray[np.float64], gt: NDArray[np.float64], profile: Profile, family: str,
                 visible: NDArray[np.bool_] | None = None) -> RunCounts:
    """Hit counts of one run, with ``pred`` and ``gt`` already aligned row by row (row 0 = the run's first frame)."""
    return evaluate_runs([(pred, gt, visible)], profile, family)[0]


AlignedRun = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_] | None]


def evaluate_runs(runs: SequenceABC[AlignedRun], profile: Profile, family: str) -> list[RunCounts]:
    """Hit counts of many aligned (pred, gt, visible) runs in one vectorised pass over all their frames."""
    preds, gts = [], []
    for pred, gt, _ in runs:
        p, g = geometry.view_boxes(pred), geometry.view_boxes(gt)
        if p.shape != g.shape:
            raise EvalkitError(f"prediction has {len(p)} rows but ground truth {len(g)}")
        if len(p) == 0:
            raise EvalkitError("empty run")
        preds.append(p)
        gts.append(g)
    n_runs = len(runs)
    lengths = np.array([len(p) for p in preds], dtype=np.intp)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.intp)
    run_ids = np.repeat(np.arange(n_runs, dtype=np.intp), lengths)
    pred = np.concatenate(preds)
    gt = np.concatenate(gts)
    pred = _replace_invalid_predictions(pred, gt, starts, profile)
    if profile.first_frame == "ground-truth":
        pred = pred.copy()
        pred[starts] = gt[starts]
    rule: GroundTruthRule = profile.rule_for(family)

    ious = geometry.iou(pred, gt, pixel_inclusive=profile.iou_pixel_inclusive, union_eps=profile.iou_union_eps)
    if profile.iou_clip:
        ious = np.clip(ious, 0.0, 1.0)
    offsets = geometry.box_centers(pred) - geometry.box_centers(gt)  # the two error measures share it
    errors = np.hypot(offsets[:, 0], offsets[:, 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = offsets / (gt[:, 2:] + profile.normalized_eps)
    norm_errors = np.hypot(scaled[:, 0], scaled[:, 1])

    invisible = None
    if rule.invisible != "ignore" and any(v is not None for _, _, v in runs):
        invisible = ~np.concatenate([np.ones(n, bool) if v is None else np.asarray(v, dtype=bool)
                                     for n, (_, _, v) in zip(lengths, runs, strict=True)])
    masks: dict[str, NDArray[np.bool_]] = {}

    def prepare(values: NDArray[np.float64], test: Validity, treatment: str, hit: float, fail: float
                ) -> tuple[NDArray[np.float64], NDArray[np.intp], NDArray[np.intp]]:
        """Values with invalid frames set to a hit or a failure (or dropped), their run ids and denominators."""
        if test not in masks:
            masks[test] = _valid(gt, test, profile.normalized_eps)
        valid = masks[test]
        if invisible is not None and rule.invisible == "as-invalid":
            valid = valid & ~invisible
        out = values.copy()
        if invisible is not None and rule.invisible == "fail":
            out[invisible & valid] = fail
        removed = invisible if invisible is not None and rule.invisible == "removed" else None
        if treatment == "drop":
            kept = valid if removed is None else valid | removed
            if removed is not None:
                out[removed] = fail
            ids = run_ids[kept]
            return out[kept], ids, np.bincount(ids, minlength=n_runs)
        out[~valid] = hit if treatment == "hit" else fail
        if removed is not None:  # LaSOT: deleted from the numerators whatever the GT, still in the denominator
            out[removed] = fail
        return out, run_ids, lengths

    s_vals, s_ids, n_s = prepare(ious, rule.success_valid, rule.success_invalid, np.inf, -1.0)
    p_vals, p_ids, n_p = prepare(errors, rule.precision_valid, rule.precision_invalid, -1.0, np.inf)
    n_vals, n_ids, n_n = prepare(norm_errors, rule.norm_valid, rule.norm_invalid, -1.0, np.inf)

    counted = np.where(np.isfinite(s_vals) & (s_vals > 0), s_vals, 0.0)
    iou_sums = np.bincount(s_ids, weights=counted, minlength=n_runs)
    s_hits = _counts_above(s_vals, profile.success_thresholds, s_ids, n_runs)
    p_hits = _counts_within(p_vals, profile.precision_thresholds, p_ids, n_runs)
    n_hits = _counts_within(n_vals, profile.norm_precision_thresholds, n_ids, n_runs)
    return [RunCounts(s_hits[k], p_hits[k], n_hits[k], float(iou_sums[k]), int(n_s[k]), int(n_p[k]), int(n_n[k]))
            for k in range(n_runs)]


def success_at(curve: NDArray[np.float64], thresholds: NDArray[np.float64], threshold: float) -> float:
    """The success curve's value at ``threshold`` when the profile has that threshold (pytracking compares for
    equality); NaN when it does not, rather than a neighbour's value under the wrong name."""
    hit = np.flatnonzero(np.isclose(thresholds, threshold, rtol=0.0, atol=1e-9))
    return float(curve[hit[0]]) if len(hit) else float("nan")


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
    op50: float
    op75: float
    mean_iou: float
    n_sequences: int
    n_frames: int

    def as_dict(self) -> dict[str, float | int]:
        """The headline fields, in ``FIELDS`` order."""
        return {k: getattr(self, k) for k in FIELDS}


def _rates(hits: SequenceABC[NDArray[np.float64]], counts: SequenceABC[int]) -> NDArray[np.float64]:
    """Per-sequence curves (hits / frames) as one matrix; a sequence with no counted frame gives zeros."""
    n = np.asarray(counts, dtype=np.float64)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.stack(hits) / n, 0.0)


def _mean_curve(curves: NDArray[np.float64], drop_zero: bool) -> NDArray[np.float64]:
    if drop_zero:
        keep = curves.sum(axis=1) > np.finfo(float).eps
        curves = curves[keep] if keep.any() else curves
    return curves.mean(axis=0)


def aggregate(per_sequence: SequenceABC[RunCounts], profile: Profile) -> SuiteScore:
    """Average per-sequence curves over a suite and read off the headline numbers under ``profile``."""
    return aggregate_groups(per_sequence, {"": range(len(per_sequence))}, profile)[""]


def aggregate_groups(per_sequence: SequenceABC[RunCounts], groups: Mapping[str, SequenceABC[int]], profile: Profile
                     ) -> dict[str, SuiteScore]:
    """:func:`aggregate` of several subsets of the sequences (the suite, each attribute's members: positions in
    ``per_sequence``), the per-sequence curves computed once; an empty group is left out."""
    if not per_sequence:
        raise EvalkitError("no sequence to aggregate")
    succ = _rates([c.success_hits for c in per_sequence], [c.n_success for c in per_sequence])
    prec = _rates([c.precision_hits for c in per_sequence], [c.n_precision for c in per_sequence])
    norm = _rates([c.norm_hits for c in per_sequence], [c.n_norm for c in per_sequence])
    mean_ious = np.array([c.mean_iou() for c in per_sequence])
    frames = np.array([c.n_success for c in per_sequence])
    precision_at = profile.index_of(profile.precision_thresholds, profile.precision_at)
    norm_at = (None if profile.norm_precision_readoff == "area"
               else profile.index_of(profile.norm_precision_thresholds, profile.norm_precision_at))
    out = {}
    for name, members in groups.items():
        rows = np.asarray(members, dtype=np.intp)
        if rows.size == 0:
            continue
        s = _mean_curve(succ[rows], profile.drop_all_zero_sequences)
        p = _mean_curve(prec[rows], profile.drop_all_zero_sequences)
        n = _mean_curve(norm[rows], profile.drop_all_zero_sequences)
        out[name] = SuiteScore(
            success_curve=s, precision_curve=p, norm_precision_curve=n,
            success_auc=float(s.mean()),
            precision_20=float(p[precision_at]),
            precision_auc=float(p.mean()),
            norm_precision=float(n.mean()) if norm_at is None else float(n[norm_at]),
            op50=success_at(s, profile.success_thresholds, OP_THRESHOLDS["op50"]),
            op75=success_at(s, profile.success_thresholds, OP_THRESHOLDS["op75"]),
            mean_iou=float(np.mean(mean_ious[rows])),
            n_sequences=int(rows.size),
            n_frames=int(frames[rows].sum()),
        )
    return out
