"""Uncertainty of benchmark scores: bootstrap intervals over sequences and paired tests between trackers.

A benchmark score is an average over a few dozen sequences, so it carries sampling noise that no toolkit reports.
evalkit resamples sequences (the unit the benchmark samples) with replacement and recomputes the aggregate exactly
as the profile defines it (including the OTB toolkit's dropping of all-zero sequences), and compares two trackers
on the same sequences with a paired bootstrap interval and a paired sign-flip permutation test. Everything is seeded.

    >>> from evalkit.metrics.statistics import bootstrap_intervals, paired_comparison
    >>> ci = bootstrap_intervals(report.trackers["SiamFC-3s"].per_sequence.values(), profile)   # doctest: +SKIP
    >>> ci["success_auc"]                                                                        # doctest: +SKIP
    (0.55..., 0.61...)
"""

from __future__ import annotations

from collections.abc import Iterable
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


def _kept_means(values: NDArray[np.float64], kept: NDArray[np.bool_], idx: NDArray[np.intp]) -> NDArray[np.float64]:
    """Mean over kept sequences for each row of resampled indices (B x S) -> (B,)."""
    w = kept[idx].astype(np.float64)
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (values[idx] * w).sum(axis=1) / total, np.nan)


def _resample_indices(n: int, resamples: int, seed: int) -> NDArray[np.intp]:
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def bootstrap_intervals(counts: Iterable[RunCounts], profile: Profile, level: float = 0.95,
                        resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
                        ) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap interval of every headline field, resampling sequences with replacement."""
    fields = per_sequence_values(counts, profile)
    n = len(next(iter(fields.values())).values)
    idx = _resample_indices(n, resamples, seed)
    alpha = (1.0 - level) / 2.0
    out = {}
    for name in INTERVAL_FIELDS:
        f = fields[name]
        stats = _kept_means(f.values, f.kept, idx)
        lo, hi = np.nanquantile(stats, [alpha, 1.0 - alpha])
        out[name] = (float(lo), float(hi))
    return out


@dataclass(frozen=True)
class PairedResult:
    """Difference A - B of one headline field over the sequences both trackers were scored on."""

    field: str
    a: float
    b: float
    difference: float
    interval: tuple[float, float]
    p_value: float
    n_sequences: int

    @property
    def significant(self) -> bool:
        """True when the permutation test rejects "no difference" at the 5 % level."""
        return self.p_value < 0.05


def paired_comparison(a: dict[str, RunCounts], b: dict[str, RunCounts], profile: Profile,
                      fields: SequenceABC[str] = INTERVAL_FIELDS, level: float = 0.95,
                      resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> list[PairedResult]:
    """Paired bootstrap interval and sign-flip permutation p-value of A - B on their common sequences.

    The interval resamples sequences jointly for both trackers and recomputes each aggregate; the p-value flips the
    sign of each sequence's difference at random (the null hypothesis: the two trackers are exchangeable on every
    sequence), with the add-one correction so it is never 0.
    """
    common = [s for s in a if s in b]
    if len(common) < 2:
        raise EvalkitError(f"the two trackers share {len(common)} scored sequence(s); a paired test needs at least 2")
    fa = per_sequence_values([a[s] for s in common], profile)
    fb = per_sequence_values([b[s] for s in common], profile)
    n = len(common)
    idx = _resample_indices(n, resamples, seed)
    signs = np.random.default_rng(seed + 1).choice([-1.0, 1.0], size=(resamples, n))
    alpha = (1.0 - level) / 2.0
    results = []
    for name in fields:
        va, vb = fa[name], fb[name]
        full = np.arange(n)[None, :]
        score_a = float(_kept_means(va.values, va.kept, full)[0])
        score_b = float(_kept_means(vb.values, vb.kept, full)[0])
        diffs = _kept_means(va.values, va.kept, idx) - _kept_means(vb.values, vb.kept, idx)
        lo, hi = np.nanquantile(diffs, [alpha, 1.0 - alpha])
        d = va.values - vb.values  # per-sequence paired differences (plain mean: the permutation statistic)
        observed = abs(d.mean())
        permuted = np.abs((signs * d).mean(axis=1))
        p = (1.0 + np.count_nonzero(permuted >= observed - 1e-15)) / (resamples + 1.0)
        results.append(PairedResult(name, score_a, score_b, score_a - score_b, (float(lo), float(hi)), float(p), n))
    return results
