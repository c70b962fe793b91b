"""evalkit's ``got10k`` profile reproduces the got10k package's own ExperimentOTB / ExperimentUAV123 numbers.

Both toolkits score the same inputs: evalkit reads the raw results and ground truth as usual; got10k gets the rows
evalkit scores (after ``align_run``: OTB Tiger1's results start at frame 6, so both see ground-truth rows 5..353)
written as got10k result text files (``%.17g``, so the boxes read back bit for bit) and an in-memory dataset in place
of got10k's OTB / UAV123 classes, which want images on disk. The two compute the same float64 operations in the same
order, so success / precision scores and every per-sequence curve are compared for exact equality.

    .venv/bin/pytest tests/test_got10k_profile.py -q

Needs the ``got10k`` package (``make install-test``) and the reference data (``EVALKIT_SHARED`` or ``../shared``):
skipped without them on a developer machine, failed under CI (see ``conftest.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from conftest import require_module
from numpy.typing import NDArray

from evalkit.datasets import load_suite
from evalkit.datasets.base import Sequence, Suite
from evalkit.metrics.profiles import Profile
from evalkit.registry import PROFILES
from evalkit.results import ResultSet, discover_results
from evalkit.scoring.ope import ScoreReport, align_run, score_ope

OTB_TRACKERS = ("Baseline+CF-conv3", "Baseline-conv5", "CFNet-conv1", "CFNet-conv2", "CFNet-conv5", "SiamFC-3s")
UAV20L_TRACKERS = ("DSST", "ECO_HC", "KCF", "SRDCF", "Staple")

Performance = dict[str, Any]  # got10k's performance.json: {tracker: {"overall": {...}, "seq_wise": {seq: {...}}}}


class InMemoryDataset:
    """Stand-in for got10k's dataset classes: ``(img_files, anno)`` per sequence, no images on disk needed."""

    def __init__(self, annos: dict[str, NDArray[np.float64]]) -> None:
        self.seq_names = list(annos)
        self._annos = [np.array(annos[name], dtype=np.float64) for name in self.seq_names]

    def __len__(self) -> int:
        return len(self.seq_names)

    def __getitem__(self, index: int | str) -> tuple[list[str], NDArray[np.float64]]:
        if isinstance(index, str):
            index = self.seq_names.index(index)
        anno = self._annos[index]
        return [f"{self.seq_names[index]}/{i + 1:06d}.jpg" for i in range(len(anno))], anno.copy()

    def __iter__(self) -> Iterator[tuple[list[str], NDArray[np.float64]]]:
        return (self[i] for i in range(len(self)))


@dataclass
class Comparison:
    """One suite scored by both toolkits, with the ground-truth rows got10k was given."""

    evalkit: ScoreReport
    got10k: Performance
    annos: dict[str, NDArray[np.float64]]


def write_box_file(path: Path, boxes: NDArray[np.float64]) -> None:
    """Write boxes as a got10k result file: comma separated, 17 significant digits so they read back exactly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, boxes, fmt="%.17g", delimiter=",")


def got10k_report(experiment_cls: type, version: str, suite: Suite, result_sets: SequenceABC[ResultSet],
                  profile: Profile, workdir: Path) -> tuple[Performance, dict[str, NDArray[np.float64]]]:
    """Run got10k's ``report`` on the rows evalkit scores; return its performance dict and the GT rows it saw."""
    start = {seq.name: seq.first_start_index(profile.honour_init_omit) for seq in suite}
    aligned = {rs.tracker: {seq.name: align_run(rs.runs_for(seq.name, seq.aliases)[0], seq, start[seq.name])
                            for seq in suite} for rs in result_sets}
    # got10k has one dataset per experiment, so trackers whose runs start at other rows get their own experiment.
    groups: dict[tuple[int, ...], list[str]] = defaultdict(list)
    for tracker, runs in aligned.items():
        groups[tuple(offset for _, offset in runs.values())].append(tracker)
    performance: Performance = {}
    annos: dict[str, NDArray[np.float64]] = {}
    for trackers in groups.values():
        offsets = {name: offset for name, (_, offset) in aligned[trackers[0]].items()}
        annos = {seq.name: seq.ground_truth[offsets[seq.name]:] for seq in suite}
        for tracker in trackers:
            for seq_name, (boxes, _) in aligned[tracker].items():
                write_box_file(workdir / "results" / version / tracker / f"{seq_name}.txt", boxes)
        experiment = object.__new__(experiment_cls)
        experiment.dataset = InMemoryDataset(annos)
        experiment.result_dir = str(workdir / "results" / version)
        experiment.report_dir = str(workdir / "reports" / version)
        experiment.nbins_iou = 21
        experiment.nbins_ce = 51
        performance.update(experiment.report(list(trackers)))
    return performance, annos


def compare(got10k_experiments: ModuleType, experiment: str, version: str, suite: Suite,
            result_sets: SequenceABC[ResultSet], workdir: Path) -> Comparison:
    """Score ``result_sets`` on ``suite`` with evalkit's got10k profile and with got10k's ``experiment`` class."""
    profile = PROFILES.get("got10k")
    report = score_ope(suite, result_sets, profile)
    performance, annos = got10k_report(getattr(got10k_experiments, experiment), version, suite, result_sets,
                                       profile, workdir)
    return Comparison(report, performance, annos)


def assert_same_numbers(comparison: Comparison, tracker: str) -> None:
    """evalkit's headline scores, mean curves and per-sequence curves equal got10k's, exactly."""
    ours = comparison.evalkit.trackers[tracker]
    theirs = comparison.got10k[tracker]
    assert ours.complete and not ours.problems, (ours.unscored, ours.problems)
    assert ours.score.success_auc == theirs["overall"]["success_score"]
    assert ours.score.precision_20 == theirs["overall"]["precision_score"]
    np.testing.assert_array_equal(ours.score.success_curve, theirs["overall"]["success_curve"])
    np.testing.assert_array_equal(ours.score.precision_curve, theirs["overall"]["precision_curve"])
    assert set(ours.per_sequence) == set(theirs["seq_wise"])
    for seq_name, counts in ours.per_sequence.items():
        seq_wise = theirs["seq_wise"][seq_name]
        np.testing.assert_array_equal(counts.success_curve(), seq_wise["success_curve"], err_msg=seq_name)
        np.testing.assert_array_equal(counts.precision_curve(), seq_wise["precision_curve"], err_msg=seq_name)


@pytest.fixture(scope="module")
def got10k_experiments() -> ModuleType:
    """``got10k.experiments``, imported with matplotlib's Agg backend (its ``report`` saves plots)."""
    matplotlib = require_module("matplotlib")
    matplotlib.use("Agg")
    return require_module("got10k.experiments")


@pytest.fixture(scope="module")
def otb100_comparison(shared_dir: Path, got10k_experiments: ModuleType,
                      tmp_path_factory: pytest.TempPathFactory) -> Comparison:
    """The six CFNet-release trackers on OTB-100, scored by evalkit and by got10k's ExperimentOTB."""
    suite = load_suite("otb100", shared_dir / "data" / "otb100")
    result_sets = discover_results(shared_dir / "data" / "results" / "otb100_cfnet_release")
    return compare(got10k_experiments, "ExperimentOTB", "OTB2015", suite, result_sets,
                   tmp_path_factory.mktemp("got10k_otb100"))


@pytest.fixture(scope="module")
def uav20l_comparison(shared_dir: Path, got10k_experiments: ModuleType,
                      tmp_path_factory: pytest.TempPathFactory) -> Comparison:
    """The five DCF trackers on UAV20L, scored by evalkit and by got10k's ExperimentUAV123 (NaN rows dropped)."""
    suite = load_suite("uav20l", shared_dir / "data" / "uav123")
    result_sets = discover_results(shared_dir / "data" / "results" / "uav20l_dcf")
    return compare(got10k_experiments, "ExperimentUAV123", "UAV20L", suite, result_sets,
                   tmp_path_factory.mktemp("got10k_uav20l"))


def test_otb100_inputs_cover_the_suite(otb100_comparison: Comparison) -> None:
    """Both toolkits saw all six trackers on all 100 sequences, with Tiger1 starting at its stored frame 6."""
    assert sorted(otb100_comparison.evalkit.trackers) == sorted(OTB_TRACKERS)
    assert sorted(otb100_comparison.got10k) == sorted(OTB_TRACKERS)
    assert len(otb100_comparison.annos) == 100
    assert len(otb100_comparison.annos["Tiger1"]) == 354 - 5
    assert len(otb100_comparison.annos["David"]) == 770 - 300 + 1


@pytest.mark.parametrize("tracker", OTB_TRACKERS)
def test_otb100_matches_got10k(otb100_comparison: Comparison, tracker: str) -> None:
    """Success AUC, precision at 20 px and every per-sequence curve equal got10k's ExperimentOTB."""
    assert_same_numbers(otb100_comparison, tracker)
    assert 0.5 < otb100_comparison.evalkit.trackers[tracker].score.success_auc < 0.65


def test_uav20l_inputs_cover_the_suite(uav20l_comparison: Comparison) -> None:
    """Both toolkits saw all five trackers on all 20 sequences, including ground truth with NaN rows."""
    assert sorted(uav20l_comparison.evalkit.trackers) == sorted(UAV20L_TRACKERS)
    assert sorted(uav20l_comparison.got10k) == sorted(UAV20L_TRACKERS)
    assert len(uav20l_comparison.annos) == 20
    nan_rows = sum(int(np.isnan(a).any(axis=1).sum()) for a in uav20l_comparison.annos.values())
    assert nan_rows > 1000  # the drop rule is really exercised


@pytest.mark.parametrize("tracker", UAV20L_TRACKERS)
def test_uav20l_matches_got10k(uav20l_comparison: Comparison, tracker: str) -> None:
    """Success AUC, precision at 20 px and every per-sequence curve equal got10k's ExperimentUAV123."""
    assert_same_numbers(uav20l_comparison, tracker)
    assert 0.15 < uav20l_comparison.evalkit.trackers[tracker].score.success_auc < 0.45


def synthetic_ground_truth() -> NDArray[np.float64]:
    """Ten frames of a 20 x 10 box drifting right, with frames 3, 4 and 7 unannotated (NaN)."""
    gt = np.column_stack([10.0 + 3 * np.arange(10), np.full(10, 20.0), np.full(10, 20.0), np.full(10, 10.0)])
    gt[[3, 4, 7]] = np.nan
    return gt


@pytest.mark.parametrize(
    ("family", "experiment", "version", "oracle_rate"),
    [
        ("otb", "ExperimentOTB", "OTB2015", 7 / 10),  # OTB path: NaN rows stay in, and fail every threshold
        ("uav", "ExperimentUAV123", "UAV20L", 1.0),  # UAV path: NaN rows leave numerator and denominator
    ],
)
def test_nan_ground_truth_rows(got10k_experiments: ModuleType, tmp_path: Path, family: str, experiment: str,
                               version: str, oracle_rate: float) -> None:
    """Frames with NaN ground truth count as failures under got10k's OTB path and are dropped under its UAV path."""
    gt = synthetic_ground_truth()
    suite = Suite(f"synthetic-{family}", [Sequence("Synthetic", gt)], ["Synthetic"], family=family)
    oracle = np.where(np.isnan(gt), 50.0, gt)  # exact wherever annotated; some box where the target is unannotated
    jitter = oracle + np.random.default_rng(7).normal(0.0, 4.0, gt.shape)
    jitter[0] = gt[0]  # trackers store the initial box
    jitter[5] = np.nan  # a lost frame: a failure at every threshold in both toolkits
    jitter[8, 2], jitter[9, 3] = 0.0, -5.0  # degenerate boxes are scored as they are (no previous-box rule)
    write_box_file(tmp_path / "raw" / "Oracle" / "Synthetic.txt", oracle)
    write_box_file(tmp_path / "raw" / "Jitter" / "Synthetic.txt", jitter)
    result_sets = discover_results(tmp_path / "raw")
    assert [rs.tracker for rs in result_sets] == ["Jitter", "Oracle"]

    comparison = compare(got10k_experiments, experiment, version, suite, result_sets, tmp_path / "got10k")
    for tracker in ("Oracle", "Jitter"):
        assert_same_numbers(comparison, tracker)
    # An exact box has IoU 1, which passes every threshold but the last (IoU > 1 never holds).
    oracle_counts = comparison.evalkit.trackers["Oracle"].per_sequence["Synthetic"]
    np.testing.assert_array_equal(oracle_counts.success_curve(), [oracle_rate] * 20 + [0.0])
    np.testing.assert_array_equal(oracle_counts.precision_curve(), [oracle_rate] * 51)
    assert comparison.evalkit.trackers["Oracle"].score.success_auc == pytest.approx(oracle_rate * 20 / 21, abs=1e-15)
    jitter_score = comparison.evalkit.trackers["Jitter"].score
    assert jitter_score.precision_curve[-1] == pytest.approx(oracle_rate - (0.1 if family == "otb" else 1 / 7))
