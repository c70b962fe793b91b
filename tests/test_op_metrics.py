"""OP50 / OP75: pytracking's overlap precision (plot_results.py ``print_results``), as OPE fields and columns.

Hand-computed cases: IoU values chosen exactly on and around 0.5 / 0.75 check the strict ``>`` of pytracking's
extract_results.py (``err_overlap > threshold_set_overlap``), and two sequences check that the suite value is the mean
of per-sequence rates (the averaged success curve), not a pool over frames. The last test follows the two new fields
through every output (DataFrame, JSON, CSV, text table) with no output code changed for them. The golden case
compares with got10k's ExperimentUAV123 success curve on the released UAV20L results (``../shared``).

    .venv/bin/python -m pytest tests/test_op_metrics.py -q
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import require_module

from evalkit import tables
from evalkit.datasets import load_suite
from evalkit.datasets.base import Sequence, Suite
from evalkit.metrics.ope import FIELDS, aggregate, evaluate_run, success_at
from evalkit.metrics.profiles import PYSOT
from evalkit.results import ResultSet, Run, discover_results
from evalkit.scoring.ope import OPE_COLUMNS, score_ope

GT = np.array([1.0, 1.0, 10.0, 10.0])  # area 100; with the continuous IoU, a box [1, 1, 10, h] has IoU h / 10


def boxes_with_iou(ious: list[float]) -> np.ndarray:
    """Predicted boxes sharing the GT's left, top and width, whose continuous IoU with GT is each value given."""
    return np.array([[1.0, 1.0, 10.0, 10.0 * v] for v in ious])


def test_strictly_greater_than_threshold() -> None:
    """IoU exactly 0.5 is not a hit at 0.50 and exactly 0.75 not one at 0.75 (IoU > t), as in pytracking."""
    ious = [1.0, 0.8, 0.75, 0.6, 0.5, 0.4]  # > 0.5: 1.0, 0.8, 0.75, 0.6 -> 4/6; > 0.75: 1.0, 0.8 -> 2/6
    pred = boxes_with_iou(ious)
    gt = np.tile(GT, (len(ious), 1))
    counts = evaluate_run(pred, gt, PYSOT, family="otb")
    score = aggregate([counts], PYSOT)
    assert score.op50 == pytest.approx(4 / 6)
    assert score.op75 == pytest.approx(2 / 6)


def test_suite_value_is_the_mean_of_sequence_rates() -> None:
    """Sequence A (4 frames, 3 above 0.5, 1 above 0.75) and B (2 frames, 0 and 0): OP50 = (3/4 + 0) / 2 = 0.375,
    OP75 = (1/4 + 0) / 2 = 0.125 -- not 3/6 and 1/6 as pooling frames would give."""
    a = evaluate_run(boxes_with_iou([0.9, 0.7, 0.6, 0.2]), np.tile(GT, (4, 1)), PYSOT, family="otb")
    b = evaluate_run(boxes_with_iou([0.3, 0.1]), np.tile(GT, (2, 1)), PYSOT, family="otb")
    score = aggregate([a, b], PYSOT)
    assert score.op50 == pytest.approx(0.375)
    assert score.op75 == pytest.approx(0.125)
    assert score.as_dict()["op50"] == score.op50 and tuple(score.as_dict()) == FIELDS


def test_read_off_needs_the_exact_threshold() -> None:
    """A curve without the 0.50 threshold gives NaN, not its neighbour's value."""
    curve = np.array([1.0, 0.8, 0.6])
    assert success_at(curve, np.array([0.0, 0.5, 1.0]), 0.5) == 0.8
    assert np.isnan(success_at(curve, np.array([0.0, 0.45, 1.0]), 0.5))


def test_op_fields_reach_every_output() -> None:
    """OP50 / OP75 appear as columns in the DataFrame, JSON, CSV, text table and per-sequence frame."""
    gt = np.tile(GT, (5, 1))
    suite = Suite("mini", [Sequence("s1", gt, None), Sequence("s2", gt.copy(), None)], ["s1", "s2"], family="otb")
    rs = ResultSet("T", Path("results/T"))
    # pysot scores the stored first box and the continuous IoU: s1 rows .1, .8, .6, .5, .3 -> OP50 2/5, OP75 1/5;
    # s2 rows 1, 1, 1, .76, .74 -> OP50 5/5, OP75 4/5. Means: OP50 0.7, OP75 0.5.
    rs.add_runs("s1", [Run(boxes_with_iou([0.1, 0.8, 0.6, 0.5, 0.3]), None, Path("results/T/s1.txt"))])
    rs.add_runs("s2", [Run(boxes_with_iou([1.0, 1.0, 1.0, 0.76, 0.74]), None, Path("results/T/s2.txt"))])
    report = score_ope(suite, [rs], PYSOT)
    assert {"op50", "op75"} <= {c.key for c in OPE_COLUMNS}
    frame = report.to_pandas()
    assert frame.loc["T", "op50"] == pytest.approx(0.7) and frame.loc["T", "op75"] == pytest.approx(0.5)
    obj = json.loads(tables.format_json(report))
    assert obj["trackers"]["T"]["op50"] == pytest.approx(0.7) and obj["trackers"]["T"]["op75"] == pytest.approx(0.5)
    header, row = tables.format_csv(report).strip().splitlines()[:2]
    cells = dict(zip(header.split(","), row.split(","), strict=True))
    assert float(cells["op50"]) == pytest.approx(0.7) and float(cells["op75"]) == pytest.approx(0.5)
    text = tables.format_report(report, "text")
    assert "OP50" in text and "OP75" in text and "0.700" in text and "0.500" in text
    per_seq = report.per_sequence().set_index("sequence")
    assert per_seq.loc["s1", "op50"] == pytest.approx(0.4) and per_seq.loc["s2", "op75"] == pytest.approx(0.8)


def test_golden_uav20l_against_got10k_success_curve(shared_dir: Path, tmp_path: Path) -> None:
    """Golden case: the five released UAV20L trackers under the got10k profile; got10k's ExperimentUAV123 report
    (an independent implementation, threshold set linspace(0, 1, 21), IoU > t) holds OP50 / OP75 at indices 10 / 15
    of its success curve, and evalkit's fields equal them exactly (DSST: OP50 0.4017, OP75 0.1738)."""
    experiments = require_module("got10k.experiments")
    from test_got10k_profile import compare

    suite = load_suite("uav20l", shared_dir / "data" / "uav123")
    sets = discover_results(shared_dir / "data" / "results" / "uav20l_dcf")
    comparison = compare(experiments, "ExperimentUAV123", "UAV20L", suite, sets, tmp_path)
    for name, t in comparison.evalkit.trackers.items():
        curve = comparison.got10k[name]["overall"]["success_curve"]
        assert t.score.op50 == curve[10] and t.score.op75 == curve[15], name
        assert 0 < t.score.op75 < t.score.op50 < 1
    assert round(comparison.evalkit.trackers["DSST"].score.op50, 4) == 0.4017
