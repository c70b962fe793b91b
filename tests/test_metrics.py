"""Hand-computed cases for geometry and the OPE metrics, and the conventions each profile pins."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evalkit import geometry
from evalkit.datasets import load_suite
from evalkit.metrics.centre_error import sequence_centre_error
from evalkit.metrics.ope import PredictionError, _counts_within, aggregate, evaluate_run, pool
from evalkit.metrics.profiles import GOT10K, OTB_TOOLKIT, PYSOT, PYTRACKING
from evalkit.registry import PROFILES
from evalkit.results import ResultSet, Run
from evalkit.scoring.centre_error import mean_centre_error

ALL_PROFILES = [OTB_TOOLKIT, GOT10K, PYSOT, PYTRACKING]


# --- geometry -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([0, 0, 10, 10], [5, 0, 10, 10], 50 / 150),  # half shifted
        ([0, 0, 10, 10], [2, 2, 5, 5], 25 / 100),  # contained
        ([0, 0, 10, 10], [20, 20, 5, 5], 0.0),  # disjoint
        ([0, 0, 10, 10], [10, 0, 10, 10], 0.0),  # touching edges
        ([1.5, 2.5, 4, 6], [1.5, 2.5, 4, 6], 1.0),  # identical, sub-pixel
    ],
)
@pytest.mark.parametrize("pixel_inclusive", [False, True])
def test_iou_hand_computed(a: list[float], b: list[float], expected: float, pixel_inclusive: bool) -> None:
    """IoU of x,y,w,h boxes; the OTB pixel-inclusive form gives the same value for x,y,w,h boxes."""
    assert geometry.iou([a], [b], pixel_inclusive=pixel_inclusive)[0] == pytest.approx(expected, abs=1e-12)


def test_iou_nan_and_no_mutation() -> None:
    """A NaN row gives NaN, and the inputs are never changed (got10k's rect_iou clips in place)."""
    a = np.array([[0.0, 0, 10, 10], [np.nan, 0, 1, 1]])
    b = np.array([[-5.0, -5, 10, 10], [0.0, 0, 1, 1]])
    a0, b0 = a.copy(), b.copy()
    out = geometry.iou(a, b)
    assert out[0] == pytest.approx(25 / 175)
    assert np.isnan(out[1])
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)


def test_center_errors() -> None:
    """Centres are x + (w - 1) / 2; normalized error divides each axis by the ground-truth size."""
    assert geometry.box_centers([[0, 0, 10, 10]]).tolist() == [[4.5, 4.5]]
    assert geometry.center_error([[3, 4, 10, 10]], [[0, 0, 10, 10]])[0] == pytest.approx(5.0)
    assert geometry.normalized_center_error([[5, 0, 10, 20]], [[0, 0, 10, 20]])[0] == pytest.approx(0.5)
    assert geometry.normalized_center_error([[5, 10, 10, 20]], [[0, 0, 10, 20]])[0] == pytest.approx(np.sqrt(0.5))


def test_box_conversions() -> None:
    """xywh <-> corners round-trip; polygons give their axis-aligned bounding box."""
    boxes = np.array([[1.0, 2, 3, 4], [0.5, 0.5, 10, 20]])
    corners = geometry.xywh_to_corners(boxes)
    assert corners[0].tolist() == [1, 2, 4, 6]
    np.testing.assert_allclose(geometry.corners_to_xywh(corners), boxes)
    poly = [[1, 1, 5, 1, 5, 4, 1, 4], [0, 2, 2, 0, 4, 2, 2, 4]]
    assert geometry.polygon_to_xywh(poly).tolist() == [[1, 1, 4, 3], [0, 0, 4, 4]]
    assert geometry.valid_boxes([[0, 0, 1, 1], [0, 0, 0, 1], [np.nan, 0, 1, 1]]).tolist() == [True, False, False]
    with pytest.raises(ValueError):
        geometry.iou([[0, 0, 1, 1]], [[0, 0, 1, 1], [0, 0, 1, 1]])


# --- ground truth against itself ---------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ALL_PROFILES, ids=lambda p: p.name)
def test_ground_truth_against_itself(profile) -> None:  # type: ignore[no-untyped-def]
    """IoU = 1 never exceeds the last threshold 1.0, so a perfect tracker scores 20/21 = 0.952 in every toolkit."""
    rng = np.random.default_rng(0)
    gt = np.column_stack([rng.integers(1, 100, (50, 2)), rng.integers(5, 50, (50, 2))]).astype(float)
    counts = evaluate_run(gt, gt, profile, family="otb")
    score = aggregate([counts], profile)
    assert score.success_auc == pytest.approx(20 / 21)
    assert round(score.success_auc, 3) == 0.952
    assert score.precision_20 == 1.0
    assert score.precision_auc == 1.0
    assert score.norm_precision == 1.0
    assert score.mean_iou == pytest.approx(1.0)


def test_success_is_strictly_greater_and_precision_inclusive() -> None:
    """Success counts IoU > t (IoU exactly 0.5 fails at 0.5); precision counts error <= t (20 px hits at 20)."""
    gt = np.array([[1.0, 1, 10, 10], [1.0, 1, 10, 10]])
    pred = np.array([[1.0, 1, 10, 10], [1.0, 1, 10, 5]])  # IoU 0.5 exactly on frame 2
    c = evaluate_run(pred, gt, OTB_TOOLKIT, family="otb")
    s = c.success_curve()
    assert s[10] == 0.5  # threshold 0.5: only frame 1
    assert s[9] == 1.0  # threshold 0.45: both
    gt = np.array([[1.0, 1, 10, 10], [1.0, 1, 10, 10]])
    pred = np.array([[1.0, 1, 10, 10], [21.0, 1, 10, 10]])  # centre error exactly 20
    p = evaluate_run(pred, gt, OTB_TOOLKIT, family="otb").precision_curve()
    assert p[20] == 1.0 and p[19] == 0.5


# --- invalid ground truth, per profile -------------------------------------------------------------------

_GT_WITH_NAN = np.array([[10.0, 10, 20, 20], [np.nan] * 4, [12.0, 10, 20, 20]])


@pytest.mark.parametrize(
    ("profile", "family", "success_auc", "precision_20", "norm_precision"),
    [
        # OTB toolkit: IoU -1 (failure), centre error -1 (hit), all frames in the denominator.
        (OTB_TOOLKIT, "otb", 20 / 21 * 2 / 3, 1.0, 1.0),
        (OTB_TOOLKIT, "uav", 20 / 21 * 2 / 3, 1.0, 1.0),
        # got10k ExperimentOTB: no special case, NaN fails both; ExperimentUAV123: NaN rows dropped.
        (GOT10K, "otb", 20 / 21 * 2 / 3, 2 / 3, 2 / 3 * 51 / 51),
        (GOT10K, "uav", 20 / 21, 1.0, 1.0),
        # pysot: IoU only where w,h > 0 (else fail); distance only where the GT centre is > 0 (else hit).
        (PYSOT, "otb", 20 / 21 * 2 / 3, 1.0, 1.0),
        # pytracking: overlap -1, centre error inf (fail) except UAV (-1, hit), normalized error -1 (hit).
        (PYTRACKING, "otb", 20 / 21 * 2 / 3, 2 / 3, 1.0),
        (PYTRACKING, "uav", 20 / 21 * 2 / 3, 1.0, 1.0),
    ],
    ids=lambda v: getattr(v, "name", str(v)),
)
def test_invalid_ground_truth_frames(profile, family, success_auc, precision_20, norm_precision) -> None:  # type: ignore[no-untyped-def]
    """A perfect tracker on a sequence whose middle frame has NaN ground truth, under each toolkit's rule."""
    pred = np.nan_to_num(_GT_WITH_NAN, nan=15.0)
    score = aggregate([evaluate_run(pred, _GT_WITH_NAN, profile, family)], profile)
    assert score.success_auc == pytest.approx(success_auc)
    assert score.precision_20 == pytest.approx(precision_20)
    assert score.norm_precision == pytest.approx(norm_precision)


def test_otb_invalid_gt_means_any_nonpositive_value() -> None:
    """OTB treats a GT row as valid only when all four values are > 0 (x = 0 is invalid); pysot checks w, h only."""
    gt = np.array([[5.0, 5, 10, 10], [0.0, 5, 10, 10]])
    pred = np.array([[5.0, 5, 10, 10], [50.0, 50, 10, 10]])  # frame 2 is a miss by 50+ px
    otb = aggregate([evaluate_run(pred, gt, OTB_TOOLKIT, "otb")], OTB_TOOLKIT)
    pysot = aggregate([evaluate_run(pred, gt, PYSOT, "otb")], PYSOT)
    assert otb.precision_20 == 1.0  # invalid GT frame is a precision hit under OTB
    assert pysot.precision_20 == 0.5  # a real miss under pysot


# --- first frame, invalid predictions --------------------------------------------------------------------


def test_pixel_inclusive_rounding_is_reproduced() -> None:
    """With sub-pixel boxes the toolkits' (x + w - 1) arithmetic can make IoU of identical boxes exceed 1.0.

    evalkit keeps the toolkits' operation order so such a frame counts as they count it; real OTB/UAV ground
    truth is integer, where the arithmetic is exact and a perfect tracker scores exactly 20/21.
    """
    rng = np.random.default_rng(0)
    boxes = np.column_stack([rng.uniform(1, 100, (50, 2)), rng.uniform(5, 50, (50, 2))])
    inclusive = geometry.iou(boxes, boxes, pixel_inclusive=True)
    assert (inclusive > 1.0).any()
    np.testing.assert_allclose(inclusive, 1.0, atol=1e-12)


def test_first_frame_rule() -> None:
    """OTB, got10k and pytracking score frame 1 as the ground truth; pysot scores the box as stored."""
    gt = np.array([[10.0, 10, 20, 20]] * 4)
    pred = gt.copy()
    pred[0] = [100, 100, 20, 20]
    for profile, expected in [(OTB_TOOLKIT, 1.0), (GOT10K, 1.0), (PYTRACKING, 1.0), (PYSOT, 0.75)]:
        assert evaluate_run(pred, gt, profile, "otb").precision_curve()[20] == expected, profile.name


def test_invalid_predictions() -> None:
    """OTB replaces an all-NaN or non-positive-size box by the previous one; pytracking refuses NaN boxes."""
    gt = np.array([[10.0, 10, 20, 20]] * 4)
    pred = gt.copy()
    pred[2] = np.nan
    pred[3] = [10, 10, 0, 20]
    otb = evaluate_run(pred, gt, OTB_TOOLKIT, "otb")
    assert otb.precision_curve()[0] == 1.0  # rows 3 and 4 took row 2's (perfect) box
    pysot = evaluate_run(pred, gt, PYSOT, "otb")  # NaN box misses; the zero-width box is 10 px off
    assert pysot.precision_curve()[20] == 0.75
    assert pysot.precision_curve()[0] == 0.5
    with pytest.raises(PredictionError) as err:
        evaluate_run(pred, gt, PYTRACKING, "otb")
    assert err.value.row == 2
    zero = gt.copy()
    zero[3] = [10, 10, 0, 20]
    assert evaluate_run(zero, gt, PYTRACKING, "otb").precision_curve()[0] == 1.0


def test_otb_partial_nan_prediction_is_not_replaced() -> None:
    """MATLAB's `if` on a vector needs every element true: a box with one NaN value is kept (and fails)."""
    gt = np.array([[10.0, 10, 20, 20]] * 3)
    pred = gt.copy()
    pred[1, 0] = np.nan
    c = evaluate_run(pred, gt, OTB_TOOLKIT, "otb")
    assert c.success_curve()[0] == pytest.approx(2 / 3)


# --- aggregation -----------------------------------------------------------------------------------------


def test_otb_drops_sequences_whose_curve_is_all_zero() -> None:
    """plotDrawSave drops sequences with an all-zero curve before averaging; got10k averages all."""
    gt = np.array([[10.0, 10, 20, 20]] * 2)
    lost = np.array([[10.0, 10, 20, 20], [300.0, 300, 20, 20]])
    perfect = evaluate_run(gt, gt, OTB_TOOLKIT, "otb")
    zero_pred = np.array([[300.0, 300, 20, 20]] * 2)
    pysot_zero = evaluate_run(zero_pred, gt, PYSOT, "otb")  # stored first frame: a complete loss
    assert pysot_zero.success_curve().sum() == 0
    otb_zero = evaluate_run(lost, gt, OTB_TOOLKIT, "otb")
    assert aggregate([perfect, otb_zero], OTB_TOOLKIT).success_auc == pytest.approx((20 / 21 + 0.5 * 20 / 21) / 2)
    drop_case = OTB_TOOLKIT
    zero_counts = type(perfect)(np.zeros(21), np.zeros(51), np.zeros(51), 0.0, 2, 2, 2)
    assert aggregate([perfect, zero_counts], drop_case).success_auc == pytest.approx(20 / 21)
    assert aggregate([perfect, zero_counts], GOT10K).success_auc == pytest.approx(10 / 21)


def test_pooling_divides_summed_hits_by_summed_frames() -> None:
    """TRE/SRE pool runs per sequence: 2 hits in 2 frames + 0 in 4 frames is 2/6, not the mean 0.5."""
    gt = np.array([[10.0, 10, 20, 20]] * 4)
    a = evaluate_run(gt[:2], gt[:2], OTB_TOOLKIT, "otb")
    miss = np.array([[10.0, 10, 20, 20]] + [[300.0, 300, 20, 20]] * 3)
    b = evaluate_run(miss, gt, OTB_TOOLKIT, "otb")  # frame 1 is set to GT, 3 misses
    pooled = pool([a, b])
    assert pooled.success_curve()[0] == pytest.approx(3 / 6)


def test_normalized_precision_readoff() -> None:
    """got10k reports the area under the normalized precision curve; OTB/pysot/pytracking the value at 0.20."""
    gt = np.array([[0.0, 0, 10, 10]] * 2)
    pred = np.array([[0.0, 0, 10, 10], [1.0, 0, 10, 10]])  # normalized error 0 and 0.1
    got = aggregate([evaluate_run(pred, gt, GOT10K, "otb")], GOT10K)
    otb = aggregate([evaluate_run(pred, gt, OTB_TOOLKIT, "otb")], OTB_TOOLKIT)
    assert otb.norm_precision == 1.0
    # thresholds 0, 0.01, ..., 0.5: error 0.1 is within from index 10 on (41 of 51), error 0 always.
    assert got.norm_precision == pytest.approx((51 + 41) / (2 * 51))


def test_threshold_sets_and_registry() -> None:
    """Every profile uses 21 overlap and 51 pixel thresholds; the registry suggests close names."""
    for p in ALL_PROFILES:
        assert len(p.success_thresholds) == 21 and len(p.precision_thresholds) == 51
        assert PROFILES.get(p.name) is p
    with pytest.raises(Exception, match="did you mean 'pysot'"):
        PROFILES.get("pysto")


def test_threshold_arrays_are_built_as_each_toolkit_builds_them() -> None:
    """Bit-exact thresholds: pysot/pytracking's arange(0, 51) / 100 differs from linspace(0, 0.5, 51) at 0.35."""
    np.testing.assert_array_equal(PYSOT.success_thresholds, np.arange(0, 1.05, 0.05))
    np.testing.assert_array_equal(GOT10K.success_thresholds, np.linspace(0, 1, 21))
    np.testing.assert_array_equal(PYSOT.norm_precision_thresholds, np.arange(0, 51, 1) / 100)
    np.testing.assert_array_equal(GOT10K.norm_precision_thresholds, np.linspace(0, 0.5, 51))
    assert PYSOT.norm_precision_thresholds[35] != GOT10K.norm_precision_thresholds[35]
    # a normalized error a hair above 0.35 is within got10k's 36th threshold but not pysot's
    value = np.array([float(GOT10K.norm_precision_thresholds[35])])
    ids = np.zeros(1, dtype=np.intp)
    assert _counts_within(value, GOT10K.norm_precision_thresholds, ids, 1)[0, 35] == 1
    assert _counts_within(value, PYSOT.norm_precision_thresholds, ids, 1)[0, 35] == 0


# --- centre location error ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("pred", "gt", "from_gt", "expected"), [
    ([[0, 0, 10, 10]], [[3, 4, 10, 10]], False, 5.0),  # centres (4.5, 4.5) and (7.5, 8.5)
    ([[0, 0, 10, 10], [0, 0, 10, 10]], [[3, 4, 10, 10], [0, 0, 10, 10]], True, 0.0),  # first row from the GT
    ([[0, 0, 10, 10], [0, 0, 10, 10]], [[np.nan] * 4, [6, 8, 10, 10]], False, 10.0),  # no GT: frame left out
    ([[0, 0, 10, 10], [np.nan] * 4], [[0, 0, 12, 10], [0, 0, 10, 10]], False, 1.0),  # NaN prediction left out
    ([[0, 0, 4, 4]], [[0, 0, 0, 4]], False, float("nan")),  # zero-size GT: nothing to measure
])
def test_sequence_centre_error_by_hand(pred: list[list[float]], gt: list[list[float]], from_gt: bool,
                                       expected: float) -> None:
    """Mean centre distance (OTB centres x + (w - 1) / 2) over frames with a valid ground truth; inputs untouched."""
    pred_in = np.array(pred, dtype=np.float64)
    before = pred_in.copy()
    got = sequence_centre_error(pred_in, gt, first_frame_from_gt=from_gt)
    assert got == pytest.approx(expected, nan_ok=True)
    np.testing.assert_array_equal(pred_in, before)


def test_mean_centre_error_of_shifted_ground_truth(shared_dir: Path) -> None:
    """Ground truth shifted by (3, 4) px scores 5 px on every sequence (0 with the first frame given); a sequence
    without a result is named, not scored."""
    suite = load_suite("otb100", shared_dir / "data" / "otb100", ["Couple", "Crossing", "Dog"])
    shifted = ResultSet("shifted", shared_dir)
    for seq in list(suite)[:2]:
        shifted.add_runs(seq.name, [Run(seq.ground_truth + [3.0, 4.0, 0.0, 0.0], None, shared_dir / seq.name)])
    cle = mean_centre_error(suite, shifted, PYSOT)  # pysot keeps the stored first frame
    assert cle.per_sequence == pytest.approx({"Couple": 5.0, "Crossing": 5.0}) and cle.value == pytest.approx(5.0)
    assert cle.unscored == ["Dog"] and cle.n_sequences == 2
    with_gt_first = mean_centre_error(suite, shifted, OTB_TOOLKIT)
    n = {s.name: int(geometry.valid_boxes(s.ground_truth).sum()) for s in list(suite)[:2]}
    assert with_gt_first.per_sequence["Couple"] == pytest.approx(5.0 * (n["Couple"] - 1) / n["Couple"])
