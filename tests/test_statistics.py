"""Bootstrap intervals and paired tests: exactness of the per-sequence decomposition, hand cases, real data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from evalkit.cli import main
from evalkit.datasets import load_suite
from evalkit.metrics.ope import RunCounts, aggregate, evaluate_run
from evalkit.metrics.profiles import GOT10K, OTB_TOOLKIT
from evalkit.metrics.statistics import bootstrap_intervals, paired_comparison, per_sequence_values
from evalkit.registry import PROFILES
from evalkit.results import discover_results
from evalkit.scoring.ope import score_ope


def _runs(rng: np.random.Generator, n_seq: int, shift: float) -> dict[str, RunCounts]:
    """Per-sequence counts of a synthetic tracker whose boxes are off by ``shift`` px on average."""
    out = {}
    for s in range(n_seq):
        gt = np.column_stack([rng.integers(10, 200, (40, 2)), rng.integers(10, 60, (40, 2))]).astype(float)
        pred = gt + np.column_stack([rng.normal(0, shift, (40, 2)), np.zeros((40, 2))])
        out[f"s{s}"] = evaluate_run(pred, gt, OTB_TOOLKIT, "otb")
    return out


@pytest.mark.parametrize("profile", [OTB_TOOLKIT, GOT10K], ids=lambda p: p.name)
def test_per_sequence_values_reproduce_the_aggregate(profile) -> None:  # type: ignore[no-untyped-def]
    """The suite score is exactly the mean of per-sequence read-offs over kept sequences (OTB drops zero curves)."""
    counts = list(_runs(np.random.default_rng(1), 12, 8.0).values())
    zero = RunCounts(np.zeros(21), np.zeros(51), np.zeros(51), 0.0, 40, 40, 40)
    counts.append(zero)  # dropped by OTB's plotDrawSave, averaged in by got10k
    score = aggregate(counts, profile)
    fields = per_sequence_values(counts, profile)
    for name in ("success_auc", "precision_20", "precision_auc", "norm_precision", "mean_iou"):
        f = fields[name]
        assert (f.values[f.kept].mean()) == pytest.approx(getattr(score, name), abs=1e-12), name
    assert fields["success_auc"].kept.sum() == (12 if profile is OTB_TOOLKIT else 13)


def test_bootstrap_is_seeded_and_brackets_the_estimate() -> None:
    """Same seed, same interval; the interval contains the point estimate; identical sequences give a point."""
    counts = list(_runs(np.random.default_rng(2), 30, 10.0).values())
    a = bootstrap_intervals(counts, OTB_TOOLKIT, resamples=2000, seed=7)
    b = bootstrap_intervals(counts, OTB_TOOLKIT, resamples=2000, seed=7)
    c = bootstrap_intervals(counts, OTB_TOOLKIT, resamples=2000, seed=8)
    assert a == b and a != c
    est = aggregate(counts, OTB_TOOLKIT).success_auc
    assert a["success_auc"][0] < est < a["success_auc"][1]
    same = [counts[0]] * 10
    lo, hi = bootstrap_intervals(same, OTB_TOOLKIT, resamples=500)["success_auc"]
    assert lo == pytest.approx(hi)


def test_paired_test_hand_cases() -> None:
    """A tracker against itself: difference 0, p = 1. Better on all 10 sequences: exact p = 2 / 2**10."""
    a = _runs(np.random.default_rng(3), 10, 2.0)
    same = paired_comparison(a, a, OTB_TOOLKIT, fields=("success_auc",), resamples=2000)[0]
    assert same.difference == 0 and same.p_value == 1.0 and not same.significant
    # B: the same sequences with every box shifted far away -> worse on every sequence
    b = {k: RunCounts(v.success_hits * 0.5, v.precision_hits * 0.5, v.norm_hits * 0.5, v.iou_sum * 0.5,
                      v.n_success, v.n_precision, v.n_norm) for k, v in a.items()}
    r = paired_comparison(a, b, OTB_TOOLKIT, fields=("success_auc",), resamples=20000, seed=0)[0]
    assert r.difference > 0 and r.interval[0] > 0
    # only the all-same-sign flips reach the observed |mean|: probability 2/1024 under the null, exactly (all
    # 1024 flips enumerated)
    assert r.exact and r.p_value == pytest.approx(2 / 1024, abs=1e-15)
    assert r.significant


def test_real_siamfc_interval_and_cfnet_comparison(shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """SiamFC-3s OTB-100 AUC interval, and CFNet-conv2 vs SiamFC-3s (the closing note reports these)."""
    suite = load_suite("otb100", shared_dir / "data" / "otb100")
    sets = discover_results(shared_dir / "data" / "results" / "otb100_cfnet_release")
    report = score_ope(suite, sets, PROFILES.get("otb-toolkit"))
    siam = report.trackers["SiamFC-3s"]
    lo, hi = siam.ci95["success_auc"]
    assert lo < siam.score.success_auc < hi and 0.02 < hi - lo < 0.15
    rc = main(["score", "--suite", "otb100", "--data-root", str(shared_dir / "data" / "otb100"), "--results",
               str(shared_dir / "data" / "results" / "otb100_cfnet_release"), "--format", "json"])
    obj = json.loads(capsys.readouterr().out)
    assert rc == 0 and obj["trackers"]["SiamFC-3s"]["ci95"]["success_auc"] == [lo, hi]
    rc = main(["compare", "CFNet-conv2", "SiamFC-3s", "--suite", "otb100", "--data-root",
               str(shared_dir / "data" / "otb100"), "--results",
               str(shared_dir / "data" / "results" / "otb100_cfnet_release"), "--format", "json"])
    cmp = json.loads(capsys.readouterr().out)
    assert rc == 0 and cmp["n_sequences"] == 100
    auc = cmp["fields"]["success_auc"]
    assert auc["difference"] == pytest.approx(auc["a"] - auc["b"])
    assert auc["ci95"][0] < auc["difference"] < auc["ci95"][1]
    assert 0 < auc["p_value"] <= 1
    print(f"SiamFC-3s OTB-100 AUC {siam.score.success_auc:.4f} 95% CI [{lo:.4f}, {hi:.4f}]; "
          f"CFNet-conv2 - SiamFC-3s {auc['difference']:+.4f} CI {auc['ci95']} p={auc['p_value']:.4f}")
