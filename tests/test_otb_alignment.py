"""OPE rows matched to the annotated frames by position, as the OTB toolkit does (issue 13, item 1).

The OTB toolkit's ``genPerfMat.m`` scores OPE with ``anno = subAnno{1}`` (the annotation from the sequence's first
scored frame) and ``calcSeqErrRobust(res, anno)``: result row k meets annotation row k; the ``startFrame`` stored in
the ``.mat`` is never read for OPE. Public OTB-100 result sets store ``startFrame = 1`` for BlurCar1 (annotated
247..988) with 742 rows, so the toolkit scores them; under ``otb-toolkit`` evalkit does too, with a notice naming the
file. Profiles whose toolkits read plain-text rows keep refusing a recorded start frame that contradicts the
annotation (``ope_alignment = "start-frame"``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io

from evalkit.cli import main
from evalkit.datasets import load_suite
from evalkit.datasets.base import Sequence, Suite
from evalkit.registry import PROFILES
from evalkit.results import ResultSet, Run, discover_results, read_otb_mat
from evalkit.scoring.ope import score_ope

GT = np.array([[1, 1, 10, 10]] * 4, dtype=float)
# frame 1 is replaced by the GT; then IoU 1, then x shifted by 5 of 10 pixels (pixel-inclusive: 50 / 150), then 0
ROWS = np.array([[0, 0, 3, 3], [1, 1, 10, 10], [6, 1, 10, 10], [11, 1, 10, 10]], dtype=float)
# IoU 1 beats the 20 thresholds below 1.0 (twice); IoU 1/3 beats 0, 0.05, ..., 0.30 (7); so 47 hits of 4 x 21
EXPECTED_AUC = 47 / (4 * 21)


def _suite() -> Suite:
    seq = Sequence("BlurCarX", GT, start_frame=3)  # annotated from frame 3, like BlurCar3
    return Suite("toy", [seq], ["BlurCarX"], family="otb")


def _result(start_frame: int | None, rows: np.ndarray = ROWS) -> ResultSet:
    run = Run(rows, start_frame, Path("res/BlurCarX_trk.mat"))
    return ResultSet("trk", Path("res"), runs={"blurcarx": [run]})


def test_start_frame_1_on_a_later_annotation_is_scored_by_position_under_otb_toolkit() -> None:
    report = score_ope(_suite(), [_result(1)], PROFILES.get("otb-toolkit"), resamples=0)
    t = report.trackers["trk"]
    assert t.problems == [] and t.unscored == []
    assert t.score.success_auc == pytest.approx(EXPECTED_AUC)
    assert len(t.notices) == 1
    note = str(t.notices[0])
    assert "BlurCarX_trk.mat" in note and "start frame 1" in note and "frame 3" in note


def test_by_position_gives_what_a_consistent_start_frame_gives() -> None:
    profile = PROFILES.get("otb-toolkit")
    moved = score_ope(_suite(), [_result(1)], profile, resamples=0).trackers["trk"]
    stated = score_ope(_suite(), [_result(3)], profile, resamples=0).trackers["trk"]
    plain = score_ope(_suite(), [_result(None)], profile, resamples=0).trackers["trk"]
    assert stated.notices == [] and plain.notices == []
    assert moved.score.success_curve.tolist() == stated.score.success_curve.tolist() == \
        plain.score.success_curve.tolist()


@pytest.mark.parametrize("profile", ["pysot", "got10k", "pytracking"])
def test_other_profiles_refuse_a_contradicting_start_frame(profile: str) -> None:
    t = score_ope(_suite(), [_result(1)], PROFILES.get(profile), allow_partial=True, resamples=0).trackers["trk"]
    assert t.unscored == ["BlurCarX"] and t.notices == []
    assert "starts at frame 1, outside BlurCarX's frames 3..6" in str(t.problems[0])


def test_wrong_row_count_is_still_refused_under_otb_toolkit() -> None:
    t = score_ope(_suite(), [_result(1, ROWS[:3])], PROFILES.get("otb-toolkit"), allow_partial=True,
                  resamples=0).trackers["trk"]
    assert t.unscored == ["BlurCarX"] and t.notices == []


def test_real_blurcar1_mat_with_start_frame_1(shared_dir: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A released SiamFC-3s BlurCar1 file rewritten with startFrame = 1 scores exactly like the original."""
    src = shared_dir / "data/results/otb100_cfnet_release/results_SiamFC-3s_OTB-100/BlurCar1_siamfc3s.mat"
    original = read_otb_mat(src)[0]
    assert original.start_frame == 247 and len(original.boxes) == 742
    record = {"res": original.boxes, "type": "rect", "len": len(original.boxes), "startFrame": 1, "annoBegin": 1}
    out = tmp_path / "moved"
    out.mkdir()
    scipy.io.savemat(out / "BlurCar1_siamfc3s.mat", {"results": np.array([record], dtype=object)})
    suite = load_suite("otb100", shared_dir / "data/otb100", ["BlurCar1"])
    profile = PROFILES.get("otb-toolkit")
    moved = score_ope(suite, discover_results(out), profile, allow_partial=True, resamples=0)
    stated = score_ope(suite, discover_results(src.parent), profile, allow_partial=True, resamples=0)
    (tm,), (ts,) = moved.trackers.values(), stated.trackers.values()
    assert tm.score.success_curve.tolist() == ts.score.success_curve.tolist()
    assert tm.score.n_frames == 742 and tm.notices and not ts.notices

    rc = main(["score", "--suite", "otb100", "--data-root", str(shared_dir / "data/otb100"), "--results", str(out),
               "--sequences", "BlurCar1", "--format", "json"])
    err = capsys.readouterr().err
    assert rc == 0
    assert "note:" in err and "BlurCar1_siamfc3s.mat" in err and "problem" not in err
