"""Statistics that mean what they say (issue 13): the exact sign-flip test, and `?` where n is too small to conclude.

With n sequences the paired sign-flip test has 2**n equally likely sign patterns under the null; the two
all-same-sign patterns are the most extreme, so no two-sided p-value below 2 / 2**n exists. For n <= 5 that is
>= 0.0625: such a comparison can never be significant, and marking it `=` ("not significantly different") would
claim something the test cannot tell. evalkit enumerates every pattern when 2**n fits in the resample budget (exact)
and marks such comparisons `?` with a footnote.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evalkit.datasets.base import Sequence, Suite
from evalkit.metrics.ope import RunCounts
from evalkit.metrics.profiles import OTB_TOOLKIT
from evalkit.metrics.statistics import paired_comparison, smallest_p_value
from evalkit.registry import PROFILES
from evalkit.results import ResultSet, Run
from evalkit.scoring.ope import score_ope


def _counts(aucs: list[float]) -> dict[str, RunCounts]:
    """Sequences whose success curve is flat at the given value (so each one's AUC is that value)."""
    out = {}
    for k, v in enumerate(aucs):
        hits = np.full(21, v * 100.0)
        out[f"s{k}"] = RunCounts(hits, np.full(51, v * 100.0), np.full(51, v * 100.0), v * 100.0, 100, 100, 100)
    return out


def _p(a: list[float], b: list[float], resamples: int = 10_000):  # noqa: ANN202 - PairedResult
    return paired_comparison(_counts(a), _counts(b), OTB_TOOLKIT, fields=("success_auc",), resamples=resamples)[0]


def test_exact_p_value_by_enumeration() -> None:
    """Differences (0.3, -0.1, 0.2, 0.1), observed sum 0.5. Of the 16 sign patterns of (0.3, 0.1, 0.2, 0.1),
    |sum| >= 0.5 for all-plus (0.7) and the two with one 0.1 negative (0.5), and their 3 mirror images:
    p = 6/16 = 0.375 exactly (the ties at 0.5 count, as they must)."""
    r = _p([0.8, 0.4, 0.7, 0.6], [0.5, 0.5, 0.5, 0.5])
    assert r.exact and r.p_value == pytest.approx(0.375, abs=1e-12)
    assert r.min_p_value == pytest.approx(2 / 16) and not r.conclusive and not r.significant


def test_five_sequences_can_never_be_significant_six_can() -> None:
    five = _p([0.9] * 5, [0.1] * 5)
    assert five.p_value == pytest.approx(2 / 32) and not five.significant and not five.conclusive
    six = _p([0.9] * 6, [0.1] * 6)
    assert six.p_value == pytest.approx(2 / 64) and six.significant and six.conclusive


def test_smallest_p_value_exact_and_sampled() -> None:
    assert smallest_p_value(5, 10_000) == (2 / 32, True)
    assert smallest_p_value(13, 10_000) == (2 / 2**13, True)
    p, exact = smallest_p_value(14, 10_000)  # 16384 patterns > 10000: sampled, add-one correction
    assert not exact and p == pytest.approx(2 / 10_001)
    assert smallest_p_value(30, 20)[0] >= 0.05  # a tiny resample budget cannot conclude either


def test_identical_trackers_p_is_one() -> None:
    r = _p([0.4, 0.5, 0.6, 0.7, 0.3, 0.2, 0.8], [0.4, 0.5, 0.6, 0.7, 0.3, 0.2, 0.8])
    assert r.p_value == 1.0 and r.difference == 0 and r.conclusive and not r.significant


def _report(n_seq: int, shift_b: float):  # noqa: ANN202 - ScoreReport
    """Two trackers on n_seq 20-frame sequences: A perfect, B moved by shift_b pixels on one frame per sequence."""
    box = [10.0, 10.0, 20.0, 20.0]
    seqs = [Sequence(f"q{k}", np.array([box] * 20)) for k in range(n_seq)]
    suite = Suite("toy", seqs, [s.name for s in seqs], family="otb")
    a = {s.name.lower(): [Run(np.array([box] * 20), None, Path(f"a/{s.name}.txt"))] for s in seqs}
    b = {}
    for k, s in enumerate(seqs):
        rows = np.array([box] * 20)
        rows[1 + k % 19, 0] += shift_b * (1 if k % 2 == 0 else 0.5)
        b[s.name.lower()] = [Run(rows, None, Path(f"b/{s.name}.txt"))]
    sets = [ResultSet("A", Path("a"), runs=a), ResultSet("B", Path("b"), runs=b)]
    return score_ope(suite, sets, PROFILES.get("otb-toolkit"), resamples=2000)


def test_table_marks_too_few_sequences_with_a_question_mark() -> None:
    few = _report(4, 15.0)  # B worse on all 4: p = 2/16, cannot conclude
    assert few.trackers["B"].vs_best.p_value == pytest.approx(2 / 16)
    assert few.marks("B").strip() == "?" and "=" not in few.marks("B")
    notes = " ".join(few.notes())
    assert "? too few sequences to conclude: with 4" in notes and "0.125" in notes
    assert "= success AUC not significantly" not in notes


def test_table_marks_conclusive_comparisons_as_before() -> None:
    many = _report(8, 15.0)  # worse on all 8: p = 2/256, significant: no mark
    assert many.trackers["B"].vs_best.significant and many.marks("B").strip() == ""
    same = _report(8, 0.0)  # identical: conclusive, not significant: `=`
    assert same.marks("B").strip() == "=" and not any(n.startswith("?") for n in same.notes())
