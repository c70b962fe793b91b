"""VOT2020 multistart scoring on hand-built anchor runs (answers worked out in the comments), plus a check against a
frame-by-frame transcription of the vot-toolkit 0.9.0 rules on random runs."""

from __future__ import annotations

import numpy as np
import pytest

from evalkit.metrics.multistart import (
    FIELDS,
    VOT2020,
    MultistartRules,
    aggregate,
    failure_progress,
    run_overlaps,
    score_sequence,
)


def run(*parts: tuple[float, int]) -> np.ndarray:
    """Overlaps built from (value, count) parts."""
    return np.concatenate([np.full(n, v, dtype=float) for v, n in parts])


# --- failure detection --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("overlaps", "present", "expected"), [
    # 5 good frames after the anchor, then 10 frames <= 0.1 (rows 6..15): failure at the first of them
    (run((1, 1), (0.5, 5), (0.05, 10), (0.5, 4)), None, 6),
    # only 9 low frames: no failure, the whole run (15 frames) counts
    (run((1, 1), (0.05, 9), (0.5, 5)), None, 15),
    # the threshold is inclusive: overlap exactly 0.1 is low -> rows 1..10 fail at row 1
    (run((1, 1), (0.1, 10)), None, 1),
    # a frame whose ground truth is empty (row 6) restarts the count: 5 + 5 low frames never make 10
    (run((1, 1), (0, 11)), np.r_[[True] * 6, False, [True] * 5], 12),
    # empty-ground-truth frames never count as low: rows 1..3 absent, rows 4..13 low -> failure at row 4
    (run((1, 1), (0, 13)), np.r_[True, [False] * 3, [True] * 10], 4),
])
def test_failure_progress(overlaps: np.ndarray, present: np.ndarray | None, expected: int) -> None:
    assert failure_progress(overlaps, present) == expected


def test_anchor_frame_scores_zero_and_counts_towards_failure() -> None:
    # anchor frame then 9 frames at 0.05 then 10 at 0.8. vot-toolkit scores the anchor frame 0 (its trajectory holds
    # an initialisation marker), so rows 0..9 are 10 low frames: failure at row 0, nothing tracked: A = 0, R = 0.
    overlaps = run((1.0, 1), (0.05, 9), (0.8, 10))
    s = score_sequence([overlaps], n_frames=20)
    assert (s.progress, s.accuracy, s.robustness) == (0, 0.0, 0.0)
    # keeping the given anchor overlap (1.0): only 9 low frames, no failure:
    # A = (1 + 9 * 0.05 + 10 * 0.8) / 20 = 9.45 / 20 = 0.4725, R = 20 / 20 = 1
    kept = score_sequence([overlaps], n_frames=20, rules=MultistartRules(init_frame_overlap=None))
    assert kept.accuracy == pytest.approx(0.4725) and kept.robustness == 1.0


# --- accuracy and robustness --------------------------------------------------------------------------------------

def test_accuracy_and_robustness_per_sequence_and_aggregated() -> None:
    # sequence 1 (30 frames): a forward run of 30 frames and a backward run of 21.
    # forward: anchor (scored 0), 19 frames at 0.6, 10 at 0.0 -> row 0 is low but row 1 restarts the count;
    #   rows 20..29 fail -> progress 20, overlap sum 0 + 19 * 0.6 = 11.4
    # backward: anchor, 20 frames at 0.9 -> progress 21, sum 18.0
    # A1 = (11.4 + 18) / (20 + 21) = 29.4 / 41 = 0.717073, R1 = 41 / (30 + 21) = 41 / 51 = 0.803922
    s1 = score_sequence([run((0.7, 1), (0.6, 19), (0.0, 10)), run((1.0, 1), (0.9, 20))], n_frames=30)
    assert (s1.progress, s1.run_frames, s1.n_runs) == (41, 51, 2)
    assert s1.overlap_sum == pytest.approx(29.4)
    assert s1.accuracy == pytest.approx(29.4 / 41) and s1.robustness == pytest.approx(41 / 51)
    # sequence 2 (10 frames): one run, anchor then 9 at 0.5 -> progress 10, sum 4.5: A2 = 0.45, R2 = 1
    s2 = score_sequence([run((1.0, 1), (0.5, 9))], n_frames=10)
    assert s2.accuracy == pytest.approx(0.45) and s2.robustness == 1.0
    # A weighted by tracked frames: (A1 * 41 + A2 * 10) / 51 = (29.4 + 4.5) / 51 = 33.9 / 51 = 0.664706
    # R weighted by sequence length: (R1 * 30 + R2 * 10) / 40 = (1230 / 51 + 10) / 40 = 0.852941
    total = aggregate([s1, s2])
    assert total.accuracy == pytest.approx(33.9 / 51)
    assert total.robustness == pytest.approx((1230 / 51 + 10) / 40)
    assert (total.n_sequences, total.n_runs) == (2, 3)
    assert set(total.as_dict()) == set(FIELDS)


# --- EAO ----------------------------------------------------------------------------------------------------------

SMALL = MultistartRules(grace=2, eao_low=2, eao_high=6)  # curve j = 0..5, EAO = mean of j = 2..5


def _small_runs() -> list[np.ndarray]:
    return [
        # A, 8 frames, never fails: j = 1..5 -> mean(o[1..j]) = 0.8, 0.7, 0.6, 0.5, (0.8+0.6+0.4+0.2+0.5)/5 = 0.5
        np.array([1, 0.8, 0.6, 0.4, 0.2, 0.5, 0.5, 0.5]),
        # B, 3 frames, never fails: j = 1, 2 -> 0.9, 0.6; from j = 3 on it is shorter and did not fail: not counted
        np.array([1, 0.9, 0.3]),
        # C, 4 frames: rows 2 and 3 low (grace 2) -> fails at row 2, progress 2, zeroed: [0, 0.7, 0, 0]
        #   j = 1, 2, 3 -> 0.7, 0.35, 0.7 / 3; past its end it failed, so it counts as sum(o[1:]) / (j - 1):
        #   j = 4 -> 0.7 / 3, j = 5 -> 0.7 / 4 (the toolkit's divisor; the zero-padded mean would be 0.7 / j)
        np.array([1, 0.7, 0.05, 0.05]),
    ]


def test_eao_curve_and_score_by_hand() -> None:
    s = score_sequence(_small_runs(), n_frames=8, rules=SMALL)
    # curve: j=1 (0.8+0.9+0.7)/3 = 0.8; j=2 (0.7+0.6+0.35)/3 = 0.55; j=3 (0.6 + 0.7/3)/2 = 0.416667;
    # j=4 (0.5 + 0.7/3)/2 = 0.366667; j=5 (0.5 + 0.175)/2 = 0.3375
    expected = [0.0, 0.8, 0.55, (0.6 + 0.7 / 3) / 2, (0.5 + 0.7 / 3) / 2, 0.3375]
    np.testing.assert_allclose(s.eao_curve(), expected)
    total = aggregate([s], SMALL)
    np.testing.assert_allclose(total.eao_curve, expected)
    # EAO = mean(j = 2..5) = (0.55 + 0.416667 + 0.366667 + 0.3375) / 4 = 0.417708
    assert total.eao == pytest.approx((0.55 + (0.6 + 0.7 / 3) / 2 + (0.5 + 0.7 / 3) / 2 + 0.3375) / 4)
    # C tracked 2 frames (sum 0 + 0.7): A = (0+0.8+0.6+0.4+0.2+0.5+0.5+0.5 + 0+0.9+0.3 + 0+0.7) / (8 + 3 + 2) = 5.4 / 13
    assert s.accuracy == pytest.approx(5.4 / 13) and s.robustness == pytest.approx(13 / 15)


def test_eao_zero_padded_mean_instead_of_the_toolkit_divisor() -> None:
    rules = MultistartRules(grace=2, eao_low=2, eao_high=6, toolkit_padding=False)
    total = aggregate([score_sequence(_small_runs(), n_frames=8, rules=rules)], rules)
    # j = 4 -> (0.5 + 0.7/4)/2 = 0.3375, j = 5 -> (0.5 + 0.7/5)/2 = 0.32
    np.testing.assert_allclose(total.eao_curve[4:], [0.3375, 0.32])
    assert total.eao == pytest.approx((0.55 + (0.6 + 0.7 / 3) / 2 + 0.3375 + 0.32) / 4)


def test_eao_pools_runs_over_sequences() -> None:
    # the same three runs split over two sequences give the same pooled curve (the toolkit weights each sequence's
    # curve by its number of active runs)
    runs = _small_runs()
    one = aggregate([score_sequence(runs, 8, rules=SMALL)], SMALL)
    two = aggregate([score_sequence(runs[:1], 8, rules=SMALL), score_sequence(runs[1:], 4, rules=SMALL)], SMALL)
    np.testing.assert_allclose(two.eao_curve, one.eao_curve)
    assert two.eao == pytest.approx(one.eao)


def test_vot2020_interval_ends_at_index_754() -> None:
    # one run of 756 frames: overlap 1 on rows 1..114, 0 from row 115 -> fails at 115 and is zeroed from there.
    # curve j = mean(o[1..j]) = min(j, 114) / j; vot-toolkit keeps 755 points (0..754) and averages from 115 to the
    # end: EAO = mean(114 / j for j = 115..754), 640 points (755 is not included).
    overlaps = run((1.0, 115), (0.0, 641))
    total = aggregate([score_sequence([overlaps], n_frames=756)])
    assert len(total.eao_curve) == VOT2020.eao_high == 755
    assert total.eao == pytest.approx(float(np.mean(114 / np.arange(115, 755))))
    assert total.eao != pytest.approx(float(np.mean(114 / np.arange(115, 756))), rel=1e-9, abs=0)


# --- an independent frame-by-frame transcription of the rules, on random runs -------------------------------------

def _reference(runs: list[np.ndarray], presents: list[np.ndarray], rules: MultistartRules
               ) -> tuple[float, float, int, list[float], list[float]]:
    """Loop over frames exactly as the rules read (module docstring), to cross-check the vectorised code."""
    overlap_sum, tracked, frames = 0.0, 0, 0
    curve = [0.0] * rules.eao_high
    active = [0.0] * rules.eao_high
    for o_in, present in zip(runs, presents, strict=True):
        o = [float(v) for v in o_in]
        o[0] = 0.0
        count, progress = 0, len(o)
        for j, (v, p) in enumerate(zip(o, present, strict=True)):
            if v <= rules.threshold and p:
                count += 1
                if count == rules.grace:
                    progress = j + 1 - rules.grace
                    break
            else:
                count = 0
        overlap_sum += sum(o[:progress])
        tracked += progress
        frames += len(o)
        failed = progress < len(o)
        o = o[:progress] + [0.0] * (len(o) - progress)
        for j in range(1, rules.eao_high):
            if j < len(o):
                curve[j] += sum(o[1:j + 1]) / j
                active[j] += 1
            elif failed:
                curve[j] += sum(o[1:]) / (j - 1)
                active[j] += 1
    return overlap_sum, tracked / frames, tracked, curve, active


def test_matches_a_frame_by_frame_transcription_on_random_runs() -> None:
    rng = np.random.default_rng(7)
    rules = MultistartRules(grace=4, eao_low=20, eao_high=60)
    runs, presents = [], []
    for _ in range(25):
        n = int(rng.integers(2, 90))
        runs.append(np.where(rng.random(n) < 0.3, rng.random(n) * 0.1, rng.random(n)))
        presents.append(rng.random(n) > 0.05)
    s = score_sequence(runs, n_frames=90, target_present=presents, rules=rules)
    overlap_sum, robustness, tracked, curve, active = _reference(runs, presents, rules)
    assert s.overlap_sum == pytest.approx(overlap_sum) and s.progress == tracked
    assert s.robustness == pytest.approx(robustness)
    np.testing.assert_allclose(s.eao_sum, curve)
    np.testing.assert_allclose(s.eao_active, active)


# --- overlaps of box runs -----------------------------------------------------------------------------------------

def test_run_overlaps_of_a_backward_box_run() -> None:
    gt = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [np.nan] * 4, [0, 0, 10, 10]], dtype=float)
    # backward run from row 2: rows 2, 1, 0. Row 2 has no target and a box is predicted -> 0 (VOT: 1 only when both
    # are empty); row 1: (5,0,10,10) vs (0,0,10,10) overlap 5 x 10 = 50 of 150 -> 1/3; row 0: exact -> 1
    pred = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [0, 0, 10, 10]], dtype=float)
    overlaps, present = run_overlaps(pred, gt, range(2, -1, -1))
    np.testing.assert_allclose(overlaps, [0.0, 1 / 3, 1.0])
    np.testing.assert_array_equal(present, [False, True, True])
    # no prediction: 0 where there is a target, 1 where there is none
    empty = np.full((2, 4), np.nan)
    np.testing.assert_allclose(run_overlaps(empty, gt, [2, 3])[0], [1.0, 0.0])
    with pytest.raises(ValueError, match="2 predictions for a run of 3 frames"):
        run_overlaps(empty, gt, [0, 1, 2])


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="NaN"):
        score_sequence([np.array([1.0, np.nan])], n_frames=2)
    with pytest.raises(ValueError, match="at least one anchor run"):
        score_sequence([], n_frames=2)
    with pytest.raises(ValueError, match="grace"):
        MultistartRules(grace=0)
