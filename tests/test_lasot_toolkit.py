"""The ``lasot-toolkit`` profile: LaSOT_Evaluation_Toolkit's rules, each pinned by a hand-computed case (issue 13/3).

The rules (utils/eval_tracker.m, utils/calc_seq_err_robust.m, utils/plot_draw_save.m; see
../shared/data/lasot/lasot_toolkit/PROVENANCE.md):

- frame 1 is the ground truth; a prediction with one NaN (or a non-positive width or height) takes the previous
  frame's box; rows after the annotation are cut (monkey-17 keeps 2,260 frames);
- absent frames are deleted before scoring, but every rate is divided by the full sequence length;
- other frames whose ground truth is not all-positive: IoU -1 (a failure), centre error -1 (a hit);
- pixel-inclusive IoU, success IoU > t for t = 0:0.05:1, precision error <= t for t = 0:50 px read at 20,
  normalized precision (centres divided by the ground-truth width and height) read at 0.20;
- curves are averaged over sequences after dropping those whose curve sums to zero.

The end-to-end test scores a result set built from the toolkit's own annotations (all 280 sequences under
``-m slow``, six in the default run) through ``evalkit score`` and compares every headline number with a literal
re-implementation of the MATLAB code path below.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from evalkit.cli import main
from evalkit.datasets import load_suite
from evalkit.datasets.base import Sequence, Suite
from evalkit.registry import PROFILES
from evalkit.results import ResultSet, Run
from evalkit.scoring.ope import score_ope

BOX = [1.0, 1.0, 10.0, 10.0]


def _score(seqs: list[Sequence], preds: dict[str, NDArray[np.float64]], profile: str = "lasot-toolkit",
           family: str = "lasot"):  # noqa: ANN202 - a TrackerScore
    suite = Suite("toy", seqs, [s.name for s in seqs], family=family)
    runs = {s.name.lower(): [Run(np.asarray(preds[s.name], float), None, Path(f"r/{s.name}.txt"))] for s in seqs}
    report = score_ope(suite, [ResultSet("trk", Path("r"), runs=runs)], PROFILES.get(profile), allow_partial=True,
                       resamples=0)
    return report.trackers["trk"]


def _seq(gt: list[list[float]], absent: list[int] | None = None, name: str = "s-1") -> Sequence:
    visible = None if absent is None else ~np.array(absent, dtype=bool)
    return Sequence(name, np.array(gt, float), target_visible=visible)


def test_absent_frames_leave_the_numerators_but_not_the_denominator() -> None:
    """4 frames, perfect predictions, frame 3 absent (its box given: LaSOT annotates some absent frames): 3 of 4
    frames can succeed. Success: IoU 1 beats the 20 thresholds below 1.0 -> 3 * 20 / (4 * 21); precision 3 / 4."""
    seq = _seq([BOX] * 4, absent=[0, 0, 1, 0])
    t = _score([seq], {"s-1": [BOX] * 4})
    assert t.score.success_auc == pytest.approx(60 / 84)
    assert t.score.precision_20 == pytest.approx(0.75) and t.score.norm_precision == pytest.approx(0.75)
    otb = _score([seq], {"s-1": [BOX] * 4}, "otb-toolkit")  # the OTB profile counts it as invalid GT: a precision hit
    assert otb.score.precision_20 == pytest.approx(1.0)


def test_absent_frame_with_zero_box_is_a_precision_failure_but_a_visible_one_is_a_hit() -> None:
    """Frame 2 annotated 0,0,0,0. Absent: deleted (precision 3/4). Visible: centre error -1, a hit (4/4); both are
    success failures (IoU -1), so success is 3 * 20 / 84 either way."""
    gt = [BOX, [0, 0, 0, 0], BOX, BOX]
    absent = _score([_seq(gt, [0, 1, 0, 0])], {"s-1": [BOX] * 4})
    visible = _score([_seq(gt, [0, 0, 0, 0])], {"s-1": [BOX] * 4})
    assert absent.score.precision_20 == pytest.approx(0.75) and visible.score.precision_20 == pytest.approx(1.0)
    assert absent.score.success_auc == visible.score.success_auc == pytest.approx(60 / 84)


def test_one_nan_or_a_non_positive_size_takes_the_previous_box() -> None:
    """Rows 2 and 3 are broken (x NaN; h -5); LaSOT carries row 1 (perfect) into both: every frame IoU 1 -> 20/21.
    The OTB toolkit carries only all-NaN rows (MATLAB's `if` over the vector): its x-NaN row stays and fails, and
    row 4 carries that NaN row and fails too: 2 * 20 / 84."""
    preds = [BOX, BOX, [np.nan, 1, 10, 10], [1, 1, 10, -5]]
    lasot = _score([_seq([BOX] * 4, [0] * 4)], {"s-1": preds})
    assert lasot.score.success_auc == pytest.approx(20 / 21) and lasot.score.precision_20 == 1.0
    otb = _score([_seq([BOX] * 4)], {"s-1": preds}, "otb-toolkit", family="otb")
    assert otb.score.success_auc == pytest.approx(40 / 84)


def test_first_frame_is_the_ground_truth() -> None:
    """Row 1 far off; frame 1 scores as the ground truth, frame 2 carries nothing (its own box is fine)."""
    t = _score([_seq([BOX] * 2, [0, 0])], {"s-1": [[500, 500, 10, 10], BOX]})
    assert t.score.success_auc == pytest.approx(20 / 21)


def test_normalized_precision_divides_by_the_gt_size_per_axis() -> None:
    """GT 10 x 20. Frame 2 shifted (+2, +2): (0.2, 0.1) -> 0.224 > 0.20, a miss; frame 3 shifted (+1, +2):
    (0.1, 0.1) -> 0.141, a hit. Frame 1 is the GT: normalized precision at 0.20 = 2/3."""
    gt = [[1, 1, 10, 20]] * 3
    t = _score([_seq(gt, [0, 0, 0])], {"s-1": [gt[0], [3, 3, 10, 20], [2, 3, 10, 20]]})
    assert t.score.norm_precision == pytest.approx(2 / 3)
    assert t.score.precision_20 == 1.0  # 2.8 and 2.2 px


def test_rows_after_the_annotation_are_cut_with_a_notice() -> None:
    """6 rows for 4 annotated frames (monkey-17 has 2,260 annotated frames and more images): cut, with a notice;
    the OTB toolkit's profile refuses them."""
    preds = [BOX] * 4 + [[900, 900, 5, 5]] * 2
    t = _score([_seq([BOX] * 4, [0] * 4)], {"s-1": preds})
    assert t.unscored == [] and t.score.success_auc == pytest.approx(20 / 21)
    assert len(t.notices) == 1 and "has 6 boxes for the 4 annotated frames" in str(t.notices[0])
    otb = _score([_seq([BOX] * 4)], {"s-1": preds}, "otb-toolkit", family="otb")
    assert otb.unscored == ["s-1"]


def test_sequences_whose_curve_sums_to_zero_are_dropped_from_the_mean() -> None:
    """B's first GT row is 0,0,0,0 (IoU -1) and its second prediction misses: its success curve is all zero and is
    dropped (plot_draw_save.m: aa = aa(sum(aa,2)>eps,:)), so the success AUC is A's alone; B's precision curve
    (frame 1: error -1, a hit) is not zero and is averaged: (1 + 1/2) / 2 at 20 px."""
    a = _seq([BOX] * 2, [0, 0], name="a-1")
    b = _seq([[0, 0, 0, 0], BOX], [0, 0], name="b-1")
    t = _score([a, b], {"a-1": [BOX] * 2, "b-1": [BOX, [300, 300, 10, 10]]})
    assert t.score.success_auc == pytest.approx(20 / 21)
    assert t.score.precision_20 == pytest.approx(0.75)


def test_lasot_suite_defaults_to_its_toolkit_profile_and_has_14_attributes(shared_dir: Path) -> None:
    suite = load_suite("lasot", shared_dir / "data/lasot/lasot_toolkit")
    assert len(suite) == 280 and suite.missing == [] and suite.default_profile == "lasot-toolkit"
    assert list(suite.attribute_names) == ["IV", "POC", "DEF", "MB", "CM", "ROT", "BC", "VC", "SV", "FOC", "FM",
                                           "OV", "LR", "ARC"]
    att = np.loadtxt(shared_dir / "data/lasot/lasot_toolkit/annos/att/monkey-17.txt", delimiter=",")
    assert sorted(c for c, on in zip(suite.attribute_names, att, strict=True) if on) == \
        sorted(suite["monkey-17"].attributes - {"monkey"})
    assert suite["monkey-17"].n_frames == 2260
    absent = np.loadtxt(shared_dir / "data/lasot/lasot_toolkit/annos/absent/airplane-15.txt")
    assert (~suite["airplane-15"].target_visible).tolist() == (absent == 1).tolist()


# ------------------------------------------------------------------ end to end, against the MATLAB code path


def _rect_int(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """calc_rect_int.m: pixel-inclusive overlap of x,y,w,h rows."""
    left = np.maximum(a[:, 0], b[:, 0])
    right = np.minimum(a[:, 0] + a[:, 2] - 1, b[:, 0] + b[:, 2] - 1)
    bottom = np.maximum(a[:, 1], b[:, 1])
    top = np.minimum(a[:, 1] + a[:, 3] - 1, b[:, 1] + b[:, 3] - 1)
    inter = np.maximum(0, right - left + 1) * np.maximum(0, top - bottom + 1)
    return inter / (a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter)


def _toolkit_curves(res: NDArray[np.float64], anno: NDArray[np.float64], absent: NDArray[np.bool_], norm: bool
                    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """calc_seq_err_robust.m + eval_tracker.m for one sequence, line by line: (success curve, error curve)."""
    n = len(anno)
    res = np.array(res[:n], dtype=float)
    for i in range(1, n):
        r = res[i]
        if (np.isnan(r).any() or r[2] <= 0 or r[3] <= 0) and not np.isnan(anno[i]).any():
            res[i] = res[i - 1]
    rect = res.copy()
    rect[0] = anno[0]
    rect, gt = rect[~absent], anno[~absent]
    centre_gt = gt[:, :2] + (gt[:, 2:] - 1) / 2
    centre = rect[:, :2] + (rect[:, 2:] - 1) / 2
    with np.errstate(divide="ignore", invalid="ignore"):  # zero-size GT rows: overwritten by -1 below
        if norm:
            centre, centre_gt = centre / gt[:, 2:], centre_gt / gt[:, 2:]
        err = np.sqrt(((centre - centre_gt) ** 2).sum(axis=1))
    idx = (gt > 0).sum(axis=1) == 4
    cov = -np.ones(len(gt))
    cov[idx] = _rect_int(rect[idx], gt[idx])
    err[~idx] = -1
    overlap_t = np.arange(21) * 0.05
    error_t = np.arange(51) / (100 if norm else 1)
    success = np.array([(cov > t).sum() for t in overlap_t]) / (n + np.finfo(float).eps)
    precision = np.array([(err <= t).sum() for t in error_t]) / (n + np.finfo(float).eps)
    return success, precision


def _plot_mean(curves: list[NDArray[np.float64]]) -> NDArray[np.float64]:
    aa = np.stack(curves)
    return aa[aa.sum(axis=1) > np.finfo(float).eps].mean(axis=0)


def _perturbed(seq_index: int, gt: NDArray[np.float64], absent: NDArray[np.bool_], extra: int,
               rng: np.random.Generator) -> NDArray[np.float64]:
    """The ground truth moved and scaled per sequence, zero boxes on absent frames, a NaN every 97th frame, a
    negative width every 89th, a lost stretch, ``extra`` rows past the end."""
    pred = gt.copy()
    pred[:, 0] += (seq_index % 13) - 6 + rng.normal(0, 2, len(gt))
    pred[:, 1] += rng.normal(0, 2, len(gt))
    pred[:, 2:] *= 1 + 0.05 * (seq_index % 5)
    pred[absent] = 0.0  # a tracker that reports nothing where the target is gone
    pred[5::97, 0] = np.nan
    pred[7::89, 2] = -5.0
    lost = slice(len(gt) // 2, len(gt) // 2 + len(gt) // (4 + seq_index % 7))
    pred[lost, :2] += 400
    return np.vstack([pred, np.tile(pred[-1:], (extra, 1))]) if extra else pred


def _build_and_compare(shared: Path, tmp_path: Path, names: list[str] | None,
                       capsys: pytest.CaptureFixture[str]) -> None:
    root = shared / "data/lasot/lasot_toolkit"
    suite = load_suite("lasot", root)
    rng = np.random.default_rng(13)
    out = tmp_path / "R" / "Perturbed"
    out.mkdir(parents=True)
    picked = [s for s in suite if names is None or s.name in names]
    succ, prec, norm = {}, {}, {}
    for k, seq in enumerate(picked):
        anno = np.loadtxt(root / "annos" / f"{seq.name}.txt", delimiter=",", ndmin=2)
        absent = np.loadtxt(root / "annos" / "absent" / f"{seq.name}.txt", ndmin=1) == 1
        pred = _perturbed(k, anno, absent, 432 if seq.name == "monkey-17" else 0, rng)
        np.savetxt(out / f"{seq.name}.txt", pred, fmt="%.17g", delimiter=",")
        succ[seq.name], prec[seq.name] = _toolkit_curves(pred, anno, absent, norm=False)
        norm[seq.name] = _toolkit_curves(pred, anno, absent, norm=True)[1]
    args = ["score", "--suite", "lasot", "--data-root", str(root), "--results", str(tmp_path / "R"),
            "--format", "json", "--by-attribute"]
    if names is not None:
        args += ["--sequences", ",".join(names)]
    rc = main(args)
    stdout, err = capsys.readouterr()
    assert rc == 0, err
    report = json.loads(stdout)
    assert report["profile"] == "lasot-toolkit"  # the suite's default, no --profile given
    t = report["trackers"]["Perturbed"]
    s_curve, p_curve, n_curve = (_plot_mean(list(c.values())) for c in (succ, prec, norm))
    assert t["success_auc"] == pytest.approx(s_curve.mean(), abs=1e-12)
    assert t["precision_20"] == pytest.approx(p_curve[20], abs=1e-12)
    assert t["norm_precision"] == pytest.approx(n_curve[20], abs=1e-12)
    assert t["n_sequences"] == len(picked)
    if any(s.name == "monkey-17" for s in picked):
        assert "monkey-17.txt" in err and "has 2692 boxes for the 2260 annotated frames" in err
    # per attribute: the same mean over the sequences that carry it
    fov = [s.name for s in picked if "FOC" in s.attributes]
    got = {r["attribute"]: r for r in report["per_attribute"] if r["tracker"] == "Perturbed"}
    if fov:
        assert got["FOC"]["success_auc"] == pytest.approx(_plot_mean([succ[n] for n in fov]).mean(), abs=1e-12)


SIX = ["monkey-17", "airplane-15", "tiger-6", "basketball-6", "bicycle-9", "lion-5"]


def test_evalkit_score_lasot_matches_the_toolkit_code_path_on_six_sequences(
        shared_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """monkey-17 (432 rows too many), airplane-15 / basketball-6 / bicycle-9 (absent frames with boxes),
    tiger-6 / lion-5 (a visible frame with an invalid box)."""
    _build_and_compare(shared_dir, tmp_path, SIX, capsys)


@pytest.mark.slow
def test_evalkit_score_lasot_matches_the_toolkit_code_path_on_all_280(
        shared_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _build_and_compare(shared_dir, tmp_path, None, capsys)
