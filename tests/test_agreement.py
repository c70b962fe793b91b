"""Frame agreement between two trackers' boxes: hand-computed IoU means, the first parting frame, missing boxes,
the threshold convention (IoU equal to the threshold is agreement), the table means, and the errors."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

import evalkit.metrics.agreement as agreement_module
from evalkit.metrics.agreement import agreement_table, frame_agreement

NAN = [np.nan] * 4


@pytest.mark.parametrize(("a", "b", "mean", "first", "n"), [
    # identical boxes: full agreement, never part
    ([[0, 0, 10, 10], [3, 4, 5, 6]], [[0, 0, 10, 10], [3, 4, 5, 6]], 1.0, None, 2),
    # half-width shift: 50 / 150 = 1/3 < 0.5 on row 1
    ([[0, 0, 10, 10], [0, 0, 10, 10]], [[0, 0, 10, 10], [5, 0, 10, 10]], (1 + 1 / 3) / 2, 1, 2),
    # a quarter shift: 75 / 125 = 0.6 (agree), then disjoint on row 2
    ([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]], [[0, 0, 10, 10], [2.5, 0, 10, 10], [20, 0, 10, 10]],
     (1 + 0.6 + 0) / 3, 2, 3),
    # both missing on row 0: not compared; only A missing on row 2: compared as IoU 0 (they part there)
    ([NAN, [0, 0, 10, 10], NAN], [NAN, [0, 0, 10, 10], [0, 0, 10, 10]], 0.5, 2, 2),
    # a zero-size box is not a usable box: B has none on row 1 -> IoU 0
    ([[0, 0, 10, 10], [0, 0, 10, 10]], [[0, 0, 10, 10], [0, 0, 0, 10]], 0.5, 1, 2),
])
def test_hand_computed_cases(a: list[list[float]], b: list[list[float]], mean: float, first: int | None,
                             n: int) -> None:
    r = frame_agreement(np.array(a, dtype=float), np.array(b, dtype=float))
    assert r.mean_iou == pytest.approx(mean, abs=1e-12)
    assert r.first_parting == first
    assert r.n_compared == n
    assert frame_agreement(np.array(b, dtype=float), np.array(a, dtype=float)).first_parting == first  # symmetric


def test_threshold_boundary_and_parameter() -> None:
    a = np.array([[0, 0, 10, 10], [0, 0, 10, 10]])
    b = np.array([[0, 0, 10, 10], [0, 0, 10, 5]])  # IoU exactly 0.5 on row 1
    assert frame_agreement(a, b).first_parting is None  # parting is IoU < threshold, so 0.5 agrees
    assert frame_agreement(a, b, threshold=0.6).first_parting == 1
    assert frame_agreement(a, b, threshold=1.0).first_parting == 1


def test_nothing_compared_and_inputs_untouched() -> None:
    a = np.array([NAN, NAN])
    b = a.copy()
    r = frame_agreement(a, b)
    assert math.isnan(r.mean_iou) and r.first_parting is None and r.n_compared == 0
    assert np.isnan(r.ious).all() and np.isnan(a).all()


def test_per_frame_ious() -> None:
    r = frame_agreement([[0, 0, 10, 10], NAN, [0, 0, 10, 10]], [[5, 0, 10, 10], NAN, NAN])
    np.testing.assert_allclose(r.ious, [1 / 3, np.nan, 0.0])


def test_table_means_are_frame_weighted_and_per_sequence() -> None:
    same = np.array([[0, 0, 10, 10]] * 3)
    shifted = np.array([[5, 0, 10, 10]] * 3)
    table = agreement_table({"A": (same, same), "B": (same[:1], shifted[:1]), "C": (np.array([NAN]),
                                                                                   np.array([NAN]))})
    assert table.n_compared == 4
    assert table.mean_iou == pytest.approx((3 * 1.0 + 1 / 3) / 4)
    assert table.mean_of_sequences == pytest.approx((1.0 + 1 / 3) / 2)  # C compared nothing: left out
    assert table.parted == ["B"]
    js = table.as_json()
    assert js["sequences"]["B"] == {"mean_iou": pytest.approx(1 / 3), "first_parting": 0, "n_compared": 1}
    assert math.isnan(agreement_table({}).mean_iou)


def test_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="Couple: frame agreement needs boxes for the same frames, got 2 and 1"):
        agreement_table({"Couple": (np.zeros((2, 4)), np.zeros((1, 4)))})
    with pytest.raises(ValueError, match=r"threshold must lie in \(0, 1\], got 0"):
        frame_agreement(np.zeros((1, 4)), np.zeros((1, 4)), threshold=0)
    with pytest.raises(ValueError, match=r"shape \(N, 4\)"):
        frame_agreement(np.zeros((2, 3)), np.zeros((2, 3)))


def test_module_example() -> None:
    result = doctest.testmod(agreement_module)
    assert result.attempted == 4 and result.failed == 0
