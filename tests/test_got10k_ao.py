"""GOT-10k AO / SR0.50 / SR0.75 / FPS: evalkit's ``evalkit score --suite got10k-val`` against the installed got10k
package's ``ExperimentGOT10k(subset='val').report`` on the same files.

A small GOT-10k-like data root is built in a temporary folder the way got10k's loader reads it (``val/list.txt``;
per sequence ``groundtruth.txt``, ``absence.label``, ``cover.label``, ``cut_by_image.label``, ``meta_info.ini`` with
``resolution``, and empty ``NNNNNNNN.jpg`` files, which got10k only counts), with results in got10k's layout
(``<tracker>/<seq>/<seq>_001.txt`` .. ``_003``, ``<seq>_time.txt``): perturbed ground truth, boxes past the image
edge (got10k clips both boxes to the image), frames with cover 0 (left out), one deterministic tracker with one
repetition and one with three. SR0.75 is not a field of got10k's report; its success curve (101 thresholds,
IoU > t) holds it at index 75. Hand-computed cases check each rule on its own.

    .venv/bin/python -m pytest tests/test_got10k_ao.py -q
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import require_module

from evalkit.cli import main
from evalkit.datasets import load_suite
from evalkit.metrics.got10k import bounded_iou, clip_to_image, sequence_ious, summarize
from evalkit.results import Run, discover_results
from evalkit.scoring.got10k import score_got10k

RESOLUTIONS = {"GOT-10k_Val_000001": (320, 240), "GOT-10k_Val_000002": (640, 360), "GOT-10k_Val_000003": (200, 150)}
LENGTHS = {"GOT-10k_Val_000001": 40, "GOT-10k_Val_000002": 25, "GOT-10k_Val_000003": 31}


def _write_rows(path: Path, rows: np.ndarray, fmt: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, rows, fmt=fmt, delimiter=",")


def build_val_root(root: Path, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A GOT-10k-like ``val`` split: three sequences, their labels and meta, empty frame files."""
    split = root / "val"
    split.mkdir(parents=True)
    (split / "list.txt").write_text("\n".join(LENGTHS) + "\n")
    gts = {}
    for name, n in LENGTHS.items():
        w, h = RESOLUTIONS[name]
        size = rng.uniform([20, 15], [w / 3, h / 3], size=(n, 2))
        xy = rng.uniform(0, 1, size=(n, 2)) * ([w, h] - size)
        gt = np.round(np.hstack([xy, size]), 4)
        gt[n // 2, 0] = w - 10  # the target leaves through the right edge: its box is clipped by the bound
        gts[name] = gt
        folder = split / name
        _write_rows(folder / "groundtruth.txt", gt, "%.4f")
        cover = rng.integers(1, 9, size=n)
        cover[[3, 7, n - 2]] = 0  # fully occluded / out of view: left out of AO and SR
        absence = (cover == 0).astype(int)
        for label, values in (("cover", cover), ("absence", absence), ("cut_by_image", np.zeros(n, int))):
            (folder / f"{label}.label").write_text("\n".join(str(v) for v in values) + "\n")
        (folder / "meta_info.ini").write_text(f"[METAINFO]\nurl: none\nresolution: ({w}, {h})\n"
                                              f"object_class: test\nmotion_class: test\n")
        for k in range(1, n + 1):
            (folder / f"{k:08d}.jpg").write_bytes(b"")
    return gts


def build_results(results: Path, gts: dict[str, np.ndarray], rng: np.random.Generator) -> None:
    """Two trackers in got10k's layout: 'Steady' one repetition, 'Jittery' three, both with time files."""
    for tracker, reps, noise in (("Steady", 1, 4.0), ("Jittery", 3, 12.0)):
        for name, gt in gts.items():
            w, h = RESOLUTIONS[name]
            times = []
            for r in range(1, reps + 1):
                boxes = gt + rng.normal(0, noise, size=gt.shape)
                boxes[:, 2:] = np.abs(boxes[:, 2:]) + 1
                boxes[0] = gt[0]  # the tracker reports the given first box
                boxes[5, 0] = -15.0  # past the left edge: x clamped to 0, width kept
                boxes[6] = [w - 5, h - 5, 50, 50]  # mostly outside: clipped to 5 x 5
                _write_rows(results / tracker / name / f"{name}_{r:03d}.txt", boxes, "%.3f")
                t = rng.uniform(0.005, 0.05, size=len(gt))
                t[0] = 0.0 if r == 1 else np.nan  # got10k drops non-positive and NaN times
                times.append(t)
            _write_rows(results / tracker / name / f"{name}_time.txt", np.stack(times, axis=1), "%.8f")


@pytest.fixture(scope="module")
def got10k_case(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The data root, the results and got10k's own report of them."""
    experiments = require_module("got10k.experiments")
    tmp = tmp_path_factory.mktemp("got10k")
    rng = np.random.default_rng(10)
    gts = build_val_root(tmp / "data", rng)
    build_results(tmp / "results" / "GOT-10k", gts, rng)
    experiment = experiments.ExperimentGOT10k(str(tmp / "data"), subset="val", result_dir=str(tmp / "results"),
                                              report_dir=str(tmp / "reports"))
    experiment.plot_curves = lambda *args, **kwargs: None  # the success plot is not compared; drawing it is slow
    performance = experiment.report(["Steady", "Jittery"])
    return {"root": tmp / "data", "results": tmp / "results" / "GOT-10k", "got10k": performance}


def test_cli_matches_got10k_report(got10k_case: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """AO, SR0.50, SR0.75 and FPS of `evalkit score --suite got10k-val` equal got10k's, overall and per sequence."""
    rc = main(["score", "--suite", "got10k-val", "--data-root", str(got10k_case["root"]),
               "--results", str(got10k_case["results"]), "--format", "json", "--per-sequence"])
    out = capsys.readouterr().out
    assert rc == 0
    obj = json.loads(out)
    assert obj["protocol"] == "got10k" and obj["partial"] is False
    for tracker, theirs in got10k_case["got10k"].items():
        mine = obj["trackers"][tracker]
        overall = theirs["overall"]
        assert mine["ao"] == pytest.approx(overall["ao"], rel=1e-12, abs=0)
        assert mine["sr50"] == pytest.approx(overall["sr"], rel=1e-12, abs=0)
        assert mine["sr75"] == pytest.approx(overall["succ_curve"][75], rel=1e-12, abs=0)
        assert mine["speed_fps"] == pytest.approx(overall["speed_fps"], rel=1e-12)
        assert 0.2 < mine["ao"] < 0.95 and mine["sr50"] != mine["sr75"]  # the case is not degenerate
    records = {(r["tracker"], r["sequence"]): r for r in obj["per_sequence"]}
    for tracker, theirs in got10k_case["got10k"].items():
        for seq, values in theirs["seq_wise"].items():
            assert records[(tracker, seq)]["ao"] == pytest.approx(values["ao"], rel=1e-12, abs=0)
            assert records[(tracker, seq)]["sr50"] == pytest.approx(values["sr"], rel=1e-12, abs=0)
    assert obj["trackers"]["Jittery"]["repetitions"] == dict.fromkeys(LENGTHS, 3)
    frames = sum(n - 1 - 3 for n in LENGTHS.values())  # frame 1 and the three cover-0 frames left out
    assert obj["trackers"]["Steady"]["n_frames"] == frames and obj["trackers"]["Jittery"]["n_frames"] == 3 * frames


def test_ope_scores_are_still_there(got10k_case: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """--protocol ope scores the same runs OTB-style (first repetition), under the got10k profile."""
    rc = main(["score", "--suite", "got10k-val", "--data-root", str(got10k_case["root"]), "--results",
               str(got10k_case["results"]), "--protocol", "ope", "--profile", "got10k", "--format", "json"])
    obj = json.loads(capsys.readouterr().out)
    assert rc == 0 and obj["protocol"] == "ope" and "success_auc" in obj["trackers"]["Steady"]


def test_missing_sequence_is_named(got10k_case: dict[str, Any]) -> None:
    """A tracker without one sequence is scored on the rest, marked `*`, and the problem names the sequence."""
    suite = load_suite("got10k-val", got10k_case["root"])
    sets = discover_results(got10k_case["results"])
    steady = next(rs for rs in sets if rs.tracker == "Steady")
    steady.runs.pop(next(k for k in steady.runs if k.endswith("000003")))
    report = score_got10k(suite, [steady])
    t = report.trackers["Steady"]
    assert t.unscored == ["GOT-10k_Val_000003"] and "no result for sequence GOT-10k_Val_000003" in str(t.problems[0])
    assert report.marks("Steady") == " *"


def test_clip_to_image_keeps_width_of_a_box_past_the_left_edge() -> None:
    """got10k clamps x to [0, W] and then w to [0, W - x]: [-15, 10, 40, 20] in a 100 x 50 image -> [0, 10, 40, 20];
    [90, 45, 30, 30] -> [90, 45, 10, 5]."""
    clipped = clip_to_image(np.array([[-15.0, 10, 40, 20], [90, 45, 30, 30]]), (100, 50))
    np.testing.assert_array_equal(clipped, [[0, 10, 40, 20], [90, 45, 10, 5]])
    # unclipped the IoU of [-15,10,40,20] with [0,10,40,20] is 25*20 / (2*800 - 500) = 500/1100; clipped it is 1
    assert bounded_iou(np.array([[-15.0, 10, 40, 20]]), np.array([[0.0, 10, 40, 20]]), None)[0] == pytest.approx(
        500 / 1100)
    assert bounded_iou(np.array([[-15.0, 10, 40, 20]]), np.array([[0.0, 10, 40, 20]]), (100, 50))[0] == \
        pytest.approx(1.0)


def test_first_frame_and_cover_zero_are_left_out_and_repetitions_pooled() -> None:
    """Two repetitions of 4 frames: frame 1 dropped, frame 3 has cover 0. Rep 1 IoUs (frames 2, 4): 0.6, 0.8;
    rep 2: 0.4, 0.76. AO = (0.6 + 0.8 + 0.4 + 0.76) / 4 = 0.64; SR0.50 = 3/4; SR0.75 = 2/4."""
    gt = np.tile([0.0, 0.0, 10.0, 10.0], (4, 1))

    def reps(*heights: float) -> np.ndarray:
        return np.array([[0.0, 0.0, 10.0, h] for h in heights])

    visible = np.array([True, True, False, True])
    ious = sequence_ious([reps(10, 6, 0, 8), reps(0, 4, 10, 7.6)], gt, visible, None)
    np.testing.assert_allclose(ious, [0.6, 0.8, 0.4, 0.76])
    s = summarize(ious, np.array([0.01, 0.0, np.nan, 0.02]))
    assert s.ao == pytest.approx(0.64) and s.sr50 == 0.75 and s.sr75 == 0.5
    assert s.speed_fps == pytest.approx((100 + 50) / 2)  # 1 / t over the positive, non-NaN times
    assert summarize(np.array([0.5, 0.75])).sr50 == 0.5  # exactly 0.5 is not a success (IoU > t)


def test_nan_box_is_named_with_file_and_line(got10k_case: dict[str, Any]) -> None:
    """A NaN box leaves its sequence out with `FILE:LINE: ... not finite` (got10k would print NaN for the tracker)."""
    suite = load_suite("got10k-val", got10k_case["root"])
    (steady,) = [rs for rs in discover_results(got10k_case["results"]) if rs.tracker == "Steady"]
    key = next(k for k in steady.runs if k.endswith("000002"))
    run = steady.runs[key][0]
    boxes = run.boxes.copy()
    boxes[4, 2] = np.nan
    steady.runs[key] = [Run(boxes, None, run.source)]
    t = score_got10k(suite, [steady]).trackers["Steady"]
    assert t.unscored == ["GOT-10k_Val_000002"]
    assert str(t.problems[0]) == f"{run.source}:5: box {boxes[4].tolist()} is not finite"


def test_one_file_per_sequence_layout_scores_the_same(got10k_case: dict[str, Any], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """'Steady' copied to ``<tracker>/<seq>.txt`` + ``<seq>_time.txt`` (got10k's OTB layout, what most archives
    hold) gives got10k's AO, SR and FPS for it: one repetition, times found beside the boxes."""
    flat = tmp_path / "Steady"
    flat.mkdir()
    for seq in LENGTHS:
        src = got10k_case["results"] / "Steady" / seq
        (flat / f"{seq}.txt").write_text((src / f"{seq}_001.txt").read_text())
        (flat / f"{seq}_time.txt").write_text((src / f"{seq}_time.txt").read_text())
    assert main(["score", "--suite", "got10k-val", "--data-root", str(got10k_case["root"]), "--results", str(flat),
                 "--format", "json"]) == 0
    mine = json.loads(capsys.readouterr().out)["trackers"]["Steady"]
    theirs = got10k_case["got10k"]["Steady"]["overall"]
    assert mine["ao"] == pytest.approx(theirs["ao"], rel=1e-12, abs=0)
    assert mine["sr50"] == pytest.approx(theirs["sr"], rel=1e-12, abs=0)
    assert mine["speed_fps"] == pytest.approx(theirs["speed_fps"], rel=1e-12)
