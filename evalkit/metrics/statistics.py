"""Uncertainty of benchmark scores: bootstrap intervals over sequences and paired tests between trackers.

A benchmark score is an average over a few dozen sequences, so it carries sampling noise that no toolkit reports.
evalkit resamples sequences (the unit the benchmark samples) with replacement and recomputes the aggregate exactly
as the profile defines it (including the OTB toolkit's dropping of all-zero sequences), and compares two trackers
on the same sequences with a paired bootstrap interval and a paired sign-flip permutation test, exact (all 2**n
flips) when there are few sequences. Both are scipy.stats' (``bootstrap``, ``permutation_test``); everything is
seeded. A comparison over so few sequences that no p-value below 0.05 is reachable says so (``conclusive``).

    >>> from evalkit.metrics.statistics import bootstrap_intervals, paired_comparison
    >>> ci = bootstrap_intervals(report.trackers["SiamFC-3s"].per_sequence.values(), profile)   # doctest: +SKIP
    >>> ci["success_auc"]                                                                        # doctest: +SKIP
    (0.55..., 0.61...)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from evalkit.errors import EvalkitError
from evalkit.metrics.ope import RunCounts, _rates
from evalkit.metrics.profiles import Profile

INTERVAL_FIELDS = ("success_auc", "precision_20", "precision_auc", "norm_precision", "mean_iou")
DEFAULT_RESAMPLES = 10_000
DEFAULT_SEED = 0


@dataclass(frozen=True)
class PerSequence:
    """Each sequence's contribution to one headline field, and whether the profile keeps it in the average."""

    values: NDArray[np.float64]
    kept: NDArray[np.bool_]


def per_sequence_values(counts: Iterable[RunCounts], profile: Profile) -> dict[str, PerSequence]:
    """Per-sequence values of every headline field such that the suite score is their mean over kept sequences.

    The suite curves are means of per-sequence curves and each headline number is linear in its curve, so the
    headline number equals the mean of the per-sequence read-offs (over the sequences the profile keeps).
    """
    counts = list(counts)
    if not counts:
        raise EvalkitError("no sequence scores to resample")
    eps = np.finfo(float).eps
    succ = _rates([c.success_hits for c in counts], [c.n_success for c in counts])
    prec = _rates([c.precision_hits for c in counts], [c.n_precision for c in counts])
    norm = _rates([c.norm_hits for c in counts], [c.n_norm for c in counts])

    def kept(curves: NDArray[np.float64]) -> NDArray[np.bool_]:
        if not profile.drop_all_zero_sequences:
            return np.ones(len(curves), bool)
        keep = curves.sum(axis=1) > eps
        return keep if keep.any() else np.ones(len(curves), bool)

    i20 = profile.index_of(profile.precision_thresholds, profile.precision_at)
    if profile.norm_precision_readoff == "area":
        norm_values = norm.mean(axis=1)
    else:
        norm_values = norm[:, profile.index_of(profile.norm_precision_thresholds, profile.norm_precision_at)]
    mean_iou = np.array([c.mean_iou() for c in counts])
    return {
        "success_auc": PerSequence(succ.mean(axis=1), kept(succ)),
        "precision_20": PerSequence(prec[:, i20], kept(prec)),
        "precision_auc": PerSequence(prec.mean(axis=1), kept(prec)),
        "norm_precision": PerSequence(norm_values, kept(norm)),
        "mean_iou": PerSequence(mean_iou, np.ones(len(counts), bool)),
    }


ALPHA = 0.05  # the level `significant` and `conclusive` refer to
BATCH = 1000  # resamples per vectorised call: bounds memory (all 10,000 at once held ~0.2 GB more on LaSOT's 280)


def _kept_mean(values: NDArray[np.float64], kept: NDArray[np.float64], axis: int = -1) -> NDArray[np.float64]:
    """Mean over kept sequences along ``axis``; when a resample keeps none, the mean of all of them (all dropped
    sequences score 0), as :func:`evalkit.metrics.ope.aggregate` falls back to every curve."""
    total = kept.sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (values * kept).sum(axis=axis) / total, values.mean(axis=axis))


def _bootstrap(data: tuple[NDArray[np.float64], ...], statistic: Callable[..., NDArray[np.float64]], level: float,
               resamples: int, seed: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Percentile bootstrap over sequences (the arrays are resampled jointly: ``paired``), by scipy.stats.bootstrap.

    With one sequence there is nothing to resample and the interval is the value itself.
    """
    if len(data[0]) < 2:
        value = np.asarray(statistic(*[d[None, :] for d in data], axis=-1))[..., 0]
        return value, value
    from scipy import stats  # 0.5-1 s to import: only when intervals are asked for (--bootstrap 0 never is)

    res = stats.bootstrap(data, statistic, paired=True, vectorized=True, n_resamples=resamples, batch=BATCH,
                          confidence_level=level, method="percentile", rng=np.random.default_rng(seed))
    return np.asarray(res.confidence_interval.low), np.asarray(res.confidence_interval.high)


def bootstrap_intervals(counts: Iterable[RunCounts], profile: Profile, level: float = 0.95,
                        resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
                        ) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap interval of every headline field, resampling sequences with replacement."""
    fields = per_sequence_values(counts, profile)
    data = tuple(a for name in INTERVAL_FIELDS for a in (fields[name].values, fields[name].kept.astype(np.float64)))

    def statistic(*arrays: NDArray[np.float64], axis: int = -1) -> NDArray[np.float64]:
        return np.stack([_kept_mean(arrays[2 * i], arrays[2 * i + 1], axis) for i in range(len(INTERVAL_FIELDS))])

    low, high = _bootstrap(data, statistic, level, resamples, seed)
    return {name: (float(low[i]), float(high[i])) for i, name in enumerate(INTERVAL_FIELDS)}


@dataclass(frozen=True)
class PairedResult:
    """Difference A - B of one headline field over the sequences both trackers were scored on.

    ``min_p_value`` is the smallest p-value the test could give with this many sequences (2 / 2**n for the exact
    test, 2 / (resamples + 1) for a sampled one); when it is not below 0.05 the comparison cannot conclude anything,
    whatever the data (``conclusive`` is False), and "not significant" would say more than the test can.
    """

    field: str
    a: float
    b: float
    difference: float
    interval: tuple[float, float]
    p_value: float
    n_sequences: int
    min_p_value: float = 0.0
    exact: bool = False

    @property
    def significant(self) -> bool:
        """True when the permutation test rejects "no difference" at the 5 % level."""
        return self.p_value < ALPHA

    @property
    def conclusive(self) -> bool:
        """True when the test could reject at the 5 % level with this many sequences (the smallest p < 0.05)."""
        return self.min_p_value < ALPHA


def smallest_p_value(n_sequences: int, resamples: int) -> tuple[float, bool]:
    """(smallest two-sided p-value reachable, exact?) of the paired sign-flip test on ``n_sequences``.

    scipy's permutation_test enumerates all 2**n sign flips when that many fit in ``resamples`` (exact: the two
    all-same-sign flips give p = 2 / 2**n); otherwise it samples ``resamples`` flips and adds one to each tail's
    count, so p >= 2 / (resamples + 1).
    """
    exact = 2.0 ** n_sequences <= resamples
    return (2.0 ** (1 - n_sequences) if exact else 2.0 / (resamples + 1.0)), exact


def paired_comparison(a: dict[str, RunCounts], b: dict[str, RunCounts], profile: Profile,
                      fields: SequenceABC[str] = INTERVAL_FIELDS, level: float = 0.95,
                      resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> list[PairedResult]:
    """Paired bootstrap interval and sign-flip permutation p-value of A - B on their common sequences.

    The interval resamples sequences jointly for both trackers and recomputes each aggregate
    (scipy.stats.bootstrap, ``paired=True``, percentile); the p-value is scipy.stats.permutation_test with
    ``permutation_type="samples"`` (each sequence's two scores swapped or not: a sign flip of its difference) on the
    mean per-sequence difference, two-sided. With few sequences (2**n <= ``resamples``) every flip is enumerated and
    the test is exact; the result says when n is too small for any p below 0.05 (``conclusive``).
    """
    common = [s for s in a if s in b]
    if len(common) < 2:
        raise EvalkitError(f"the two trackers share {len(common)} scored sequence(s); a paired test needs at least 2")
    fa = per_sequence_values([a[s] for s in common], profile)
    fb = per_sequence_values([b[s] for s in common], profile)
    n = len(common)
    data = tuple(x for name in fields for x in (fa[name].values, fa[name].kept.astype(np.float64),
                                                fb[name].values, fb[name].kept.astype(np.float64)))

    def difference(*arrays: NDArray[np.float64], axis: int = -1) -> NDArray[np.float64]:
        return np.stack([_kept_mean(arrays[4 * i], arrays[4 * i + 1], axis)
                         - _kept_mean(arrays[4 * i + 2], arrays[4 * i + 3], axis) for i in range(len(fields))])

    low, high = _bootstrap(data, difference, level, resamples, seed)
    min_p, exact = smallest_p_value(n, resamples)

    def mean_difference(x: NDArray[np.float64], y: NDArray[np.float64], axis: int = -1) -> NDArray[np.float64]:
        return np.mean(x - y, axis=axis)

    from scipy import stats  # imported when a comparison is asked for: `score --bootstrap 0` never needs it

    results = []
    for i, name in enumerate(fields):
        va, vb = fa[name], fb[name]
        score_a = float(_kept_mean(va.values, va.kept.astype(np.float64)))
        score_b = float(_kept_mean(vb.values, vb.kept.astype(np.float64)))
        # the test statistic is the plain mean of the per-sequence differences (every sequence counts once)
        test = stats.permutation_test((va.values, vb.values), mean_difference, permutation_type="samples",
                                      vectorized=True, n_resamples=resamples, batch=BATCH, alternative="two-sided",
                                      rng=np.random.default_rng(seed + 1))
        results.append(PairedResult(name, score_a, score_b, score_a - score_b, (float(low[i]), float(high[i])),
                                    float(test.pvalue), n, min_p, exact))
    return results
