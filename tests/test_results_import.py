"""Result import: OTB-toolkit .mat archives (real CFNet and UAV20L releases), text layouts, store folders, problems."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from numpy.typing import NDArray

from evalkit.datasets import Suite, load_suite
from evalkit.errors import EvalkitError, InputFileError, InputProblem
from evalkit.registry import PROFILES
from evalkit.results import (
    ResultSet,
    Run,
    default_renames,
    discover_results,
    ivt_affine_to_xywh,
    read_otb_mat,
    split_mat_name,
)
from evalkit.scoring.ope import score_ope

CFNET_TRACKERS = ["Baseline+CF-conv3", "Baseline-conv5", "CFNet-conv1", "CFNet-conv2", "CFNet-conv5", "SiamFC-3s"]
UAV20L_TRACKERS = ["DSST", "ECO_HC", "KCF", "SRDCF", "Staple"]
OTB_TOOLKIT_GT_COPY_AUC = 20 / 21  # IoU 1 passes every threshold of 0:0.05:1 except 1 itself (IoU > thr)


# ---------------------------------------------------------------- helpers


@functools.cache
def _discover(path: str) -> list[ResultSet]:
    """Result sets of a shared results folder, read once per session (tests never mutate them)."""
    return discover_results(Path(path))


@functools.cache
def _suite(name: str, root: str) -> Suite:
    """A suite of the shared data, loaded once per session."""
    return load_suite(name, root)


def _cfnet(shared_dir: Path) -> dict[str, ResultSet]:
    """The six CFNet-release result sets by (paper) tracker name."""
    return {rs.tracker: rs for rs in _discover(str(shared_dir / "data" / "results" / "otb100_cfnet_release"))}


def _otb100(shared_dir: Path) -> Suite:
    """OTB-100 from the toolkit layout."""
    return _suite("otb100", str(shared_dir / "data" / "otb100"))


def _write_boxes(path: Path, boxes: NDArray[np.float64], sep: str = ",") -> Path:
    """Write one box per line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(sep.join(f"{v:g}" for v in row) + "\n" for row in boxes))
    return path


def _boxes(n: int, seed: int = 0) -> NDArray[np.float64]:
    """``n`` random boxes with two decimals (so every separator round-trips exactly)."""
    rng = np.random.default_rng(seed)
    return np.round(np.hstack([rng.uniform(1, 300, (n, 2)), rng.uniform(4, 80, (n, 2))]), 2)


def _save_results_mat(path: Path, records: list[dict[str, object]]) -> Path:
    """An OTB-toolkit result file: variable ``results``, a 1 x N cell of structs."""
    cell = np.empty((1, len(records)), dtype=object)
    for i, rec in enumerate(records):
        cell[0, i] = rec
    scipy.io.savemat(path, {"results": cell})
    return path


# ---------------------------------------------------------------- the real CFNet release (OTB-100, TRE)


def test_cfnet_release_trackers(shared_dir: Path) -> None:
    """Six trackers, archive suffixes mapped to the names the CFNet paper prints, no problems."""
    sets = _cfnet(shared_dir)
    assert sorted(sets) == CFNET_TRACKERS
    folders = {rs.source.name for rs in sets.values()}
    assert len(folders) == 6 and all(f.startswith("results_") for f in folders)
    assert sets["SiamFC-3s"].source.name == "results_SiamFC-3s_OTB-100"
    assert sets["Baseline+CF-conv3"].source.name == "results_baseline-on-cfnet-conv3_OTB-100"
    for rs in sets.values():
        assert rs.problems == [], rs.tracker  # the SiamFC folder's README.txt is not a result file
        assert len(rs.runs) == 100, rs.tracker
        assert all(len(runs) == 20 for runs in rs.runs.values()), rs.tracker


def test_cfnet_release_covers_otb100(shared_dir: Path) -> None:
    """Every OTB-100 entry finds its TRE runs; run 1 starts at the one-pass start, each run ends at the last frame."""
    suite = _otb100(shared_dir)
    for rs in _cfnet(shared_dir).values():
        assert {"Jogging_1", "Jogging_2", "Human4_2", "Skating2_1", "Skating2_2"} <= set(rs.names.values())
        for seq in suite:
            runs = rs.runs_for(seq.name, seq.aliases)
            assert runs is not None and len(runs) == 20, (rs.tracker, seq.name)
            assert runs[0].start_frame == seq.frame_number(seq.first_start_index()), (rs.tracker, seq.name)
            starts = [r.start_frame for r in runs]
            assert starts == sorted(starts)
            for run in runs:
                assert run.start_frame is not None and run.boxes.shape[1] == 4
                assert run.start_frame + len(run.boxes) - 1 == seq.start_frame + seq.n_frames - 1


def test_cfnet_release_tiger1_and_david(shared_dir: Path) -> None:
    """Tiger1's OPE run starts at frame 6 with 349 boxes; David's at frame 300 with 471."""
    for rs in _cfnet(shared_dir).values():
        tiger = rs.runs_for("Tiger1")
        david = rs.runs_for("david")
        assert tiger is not None and david is not None
        assert (tiger[0].start_frame, len(tiger[0].boxes)) == (6, 349)
        assert (david[0].start_frame, len(david[0].boxes)) == (300, 471)
        assert tiger[0].source.name.startswith("Tiger1_") and tiger[0].source.suffix == ".mat"


def test_cfnet_single_tracker_folder(shared_dir: Path) -> None:
    """Pointing at one tracker's folder reads that tracker alone."""
    folder = shared_dir / "data" / "results" / "otb100_cfnet_release" / "results_cfnet-conv2_OTB-100"
    sets = _discover(str(folder))
    assert [rs.tracker for rs in sets] == ["CFNet-conv2"]
    assert len(sets[0].runs) == 100


def test_uav20l_release(shared_dir: Path) -> None:
    """UAV20L archive: five trackers x 20 sequences, every UAV20L entry matched, OPE from frame 1."""
    sets = _discover(str(shared_dir / "data" / "results" / "uav20l_dcf"))
    assert [rs.tracker for rs in sets] == UAV20L_TRACKERS
    suite = _suite("uav20l", str(shared_dir / "data" / "uav123"))
    for rs in sets:
        assert len(rs.runs) == 20 and rs.problems == []
        for seq in suite:
            runs = rs.runs_for(seq.name)
            assert runs is not None, (rs.tracker, seq.name)
            assert runs[0].start_frame == 1 and len(runs[0].boxes) == seq.n_frames


# ---------------------------------------------------------------- file names


@pytest.mark.parametrize(("stem", "expected"), [
    ("Jogging_1_cf2camera", ("Jogging_1", "cf2camera")),
    ("Jogging_2_siamfc3s", ("Jogging_2", "siamfc3s")),
    ("Human4_2_siamfc3s", ("Human4_2", "siamfc3s")),
    ("Skating2_1_x", ("Skating2_1", "x")),
    ("Skating2.2_xc5camera", ("Skating2.2", "xc5camera")),
    ("David_siamfc3s", ("David", "siamfc3s")),
    ("David3_siamfc3s", ("David3", "siamfc3s")),
    ("Skater2_KCF", ("Skater2", "KCF")),
    ("bird1_2_KCF", ("bird1_2", "KCF")),  # UAV123 sub-sequence
    ("bird1_KCF", ("bird1", "KCF")),  # UAV20L full sequence
    ("bird1_ECO_HC", ("bird1", "ECO_HC")),
    ("car1_s_ECO_HC", ("car1_s", "ECO_HC")),
    ("car1_3_SRDCF", ("car1_3", "SRDCF")),
    ("car13_SRDCF", ("car13", "SRDCF")),
    ("car1_siamfc", ("car1", "siamfc")),  # 's' after car1_ is not car1_s
    ("uav1_3_Staple", ("uav1_3", "Staple")),
    ("person12_2_DSST", ("person12_2", "DSST")),
    ("Badminton_ce1_MEEM", ("Badminton_ce1", "MEEM")),  # TColor-128
    ("unknownseq_MyTracker", ("unknownseq", "MyTracker")),
])
def test_split_mat_name(stem: str, expected: tuple[str, str]) -> None:
    """``<seq>_<tracker>`` splits at the longest known sequence name, underscores and dots included."""
    assert split_mat_name(stem) == expected


@pytest.mark.parametrize("stem", ["README", "bird1_", "_KCF"])
def test_split_mat_name_without_tracker(stem: str) -> None:
    """A name without a ``<seq>_<tracker>`` split is skipped (None), not guessed."""
    assert split_mat_name(stem) is None


# ---------------------------------------------------------------- text layouts


@pytest.mark.parametrize("sep", [",", "\t", " "])
def test_text_separators_parse_identically(tmp_path: Path, sep: str) -> None:
    """got10k/pysot ``<tracker>/<seq>.txt``: comma, tab and space separated files give the same boxes."""
    boxes = _boxes(30)
    _write_boxes(tmp_path / "MyTracker" / "Couple.txt", boxes, sep=sep)
    (tmp_path / "MyTracker" / "Couple_time.txt").write_text("0.01\n0.02\n")
    [rs] = discover_results(tmp_path)
    assert rs.tracker == "MyTracker" and rs.problems == []
    assert list(rs.names.values()) == ["Couple"]  # the _time.txt file is not a result
    runs = rs.runs_for("couple")
    assert runs is not None and len(runs) == 1
    np.testing.assert_array_equal(runs[0].boxes, boxes)
    assert runs[0].start_frame is None
    assert runs[0].source == tmp_path / "MyTracker" / "Couple.txt"


def test_results_root_with_several_trackers(tmp_path: Path) -> None:
    """A root of tracker folders gives one set per folder, sorted by name; ``times`` folders are skipped."""
    for i, tracker in enumerate(["zeta", "Alpha", "mid"]):
        _write_boxes(tmp_path / tracker / "David.txt", _boxes(4, i))
    _write_boxes(tmp_path / "times" / "David.txt", _boxes(4, 9))
    (tmp_path / "Alpha" / "David_time.txt").write_text("0.1\n")
    sets = discover_results(tmp_path)
    assert [rs.tracker for rs in sets] == ["Alpha", "mid", "zeta"]
    for rs in sets:
        assert rs.source == tmp_path / rs.tracker and list(rs.names.values()) == ["David"]


def test_nested_pysot_layout(tmp_path: Path) -> None:
    """pysot's ``results/OTB100/<tracker>/<seq>.txt`` is found from the results root."""
    base = tmp_path / "results" / "OTB100"
    _write_boxes(base / "SiamRPN" / "Jogging-1.txt", _boxes(5, 1))
    _write_boxes(base / "SiamMask" / "Human4-2.txt", _boxes(5, 2))
    sets = discover_results(tmp_path / "results")
    assert [rs.tracker for rs in sets] == ["SiamMask", "SiamRPN"]
    assert sets[1].runs_for("jogging_1") is not None and sets[1].runs_for("Jogging-2") is None
    assert sets[0].runs_for("Human4.2") is not None


def test_text_names_are_matched_by_alias(tmp_path: Path) -> None:
    """Result files named with any alias are found under the suite's name (``jogging.2.txt`` -> ``Jogging-2``)."""
    _write_boxes(tmp_path / "T" / "jogging.2.txt", _boxes(3))
    _write_boxes(tmp_path / "T" / "skating2_1.txt", _boxes(3))
    _write_boxes(tmp_path / "T" / "HUMAN42.txt", _boxes(3))
    [rs] = discover_results(tmp_path / "T")
    assert rs.runs_for("Jogging-2") is not None and rs.runs_for("Jogging-1") is None
    assert rs.runs_for("Skating2-1") is not None and rs.runs_for("Skating2-2") is None
    assert rs.runs_for("Human4-2") is not None  # separator-free file name, found by the loose match
    assert rs.names == {"jogging-2": "jogging.2", "skating2-1": "skating2_1", "human42": "HUMAN42"}


def test_no_results_found(tmp_path: Path) -> None:
    """An empty folder, or one that does not exist, is an error saying what evalkit looked for."""
    (tmp_path / "empty").mkdir()
    with pytest.raises(EvalkitError, match=r"no tracking results found .*<seq>_<tracker>\.mat"):
        discover_results(tmp_path / "empty")
    with pytest.raises(EvalkitError, match="does not exist"):
        discover_results(tmp_path / "nowhere")


# ---------------------------------------------------------------- problems are collected, the rest is scored


def test_problems_collected_rest_scored(shared_dir: Path, tmp_path: Path) -> None:
    """Bad files become InputProblems naming file and line; the good ones score as ground-truth copies (20/21)."""
    gt = {seq.name: seq.ground_truth for seq in _otb100(shared_dir)}
    folder = tmp_path / "GTCopy"
    lines = [",".join(f"{v:g}" for v in row) for row in gt["Couple"]]
    lines[4] = "12,abc,40,60"
    (folder / "Couple.txt").parent.mkdir(parents=True)
    (folder / "Couple.txt").write_text("\n".join(lines) + "\n")
    _write_boxes(folder / "Crossing.txt", gt["Crossing"][:-3])
    x, y, w, h = gt["Football1"][0]
    corners = gt["Football1"].copy()
    corners[0] = [x, y, x + w - 1, y + h - 1]
    _write_boxes(folder / "Football1.txt", corners)
    _write_boxes(folder / "David.txt", gt["David"])
    _write_boxes(folder / "Dog1.txt", gt["Dog1"], sep="\t")
    _write_boxes(folder / "jogging_1.txt", gt["Jogging-1"], sep=" ")
    _write_boxes(folder / "Jogging-2.txt", gt["Jogging-2"])
    (folder / "David_time.txt").write_text("0.5\n" * 471)

    [rs] = discover_results(folder)
    assert rs.problems == [InputProblem(folder / "Couple.txt", 5, "non-numeric field in '12,abc,40,60'")]
    suite = _suite("otb100", str(shared_dir / "data" / "sequences"))
    report = score_ope(suite, [rs], PROFILES.get("otb-toolkit"), allow_partial=True)
    assert report.partial and len(report.missing_data) == 93
    ts = report.trackers["GTCopy"]
    assert sorted(ts.unscored) == ["Couple", "Crossing", "Football1"] and not ts.complete
    assert sorted(ts.per_sequence) == ["David", "Dog1", "Jogging-1", "Jogging-2"]
    by_file = {(p.path.name, p.line): p.message for p in ts.problems}
    assert by_file[("Couple.txt", 5)].startswith("non-numeric field")
    assert "no result for sequence Couple" in by_file[("GTCopy", None)]
    assert "has 117 boxes, expected 120" in by_file[("Crossing.txt", 118)]
    assert "looks like x1,y1,x2,y2" in by_file[("Football1.txt", 1)]
    assert len(ts.problems) == 4
    assert ts.score.success_auc == pytest.approx(OTB_TOOLKIT_GT_COPY_AUC)
    assert round(ts.score.success_auc, 3) == 0.952
    assert ts.score.precision_20 == pytest.approx(1.0)
    assert ts.score.n_sequences == 4
    assert ts.score.n_frames == sum(suite[n].n_frames for n in ("David", "Dog1", "Jogging-1", "Jogging-2"))
    for counts in ts.per_sequence.values():
        assert counts.success_hits[-1] == 0 and (counts.success_hits[:-1] == counts.n_success).all()


def test_problems_on_subset_of_complete_suite(shared_dir: Path, tmp_path: Path) -> None:
    """The same ground-truth copies scored on a two-sequence subset of the toolkit suite."""
    suite = _otb100(shared_dir).subset(["Couple", "Crossing"])
    _write_boxes(tmp_path / "T" / "couple.txt", suite["Couple"].ground_truth)
    _write_boxes(tmp_path / "T" / "crossing.txt", suite["Crossing"].ground_truth)
    report = score_ope(suite, discover_results(tmp_path / "T"), PROFILES.get("otb-toolkit"), allow_partial=True)
    ts = report.trackers["T"]
    assert report.partial and ts.complete and ts.problems == []
    assert ts.score.success_auc == pytest.approx(OTB_TOOLKIT_GT_COPY_AUC)


# ---------------------------------------------------------------- OTB-toolkit .mat files


def test_ivt_affine_hand_computed() -> None:
    """p = [cx, cy, s, 0, 0, s] maps template corners (+-16, +-16) to cx +- 16s, cy +- 16s, floored."""
    p = np.array([[100.3, 50.7, 1.0, 0, 0, 1.0], [100.0, 50.0, 0.5, 0, 0, 2.0], [10.2, 20.9, 1.5, 0, 0, 1.5]])
    boxes = ivt_affine_to_xywh(p, np.array([32, 32]))
    # row 0: x1 = floor(84.3) = 84, x3 = floor(116.3) = 116; y1 = floor(34.7) = 34, y3 = floor(66.7) = 66
    # row 1: x = floor(100 - 8) = 92 .. floor(108); y = floor(50 - 32) = 18 .. floor(82)
    # row 2: x = floor(10.2 - 24) = -14 .. floor(34.2) = 34; y = floor(20.9 - 24) = -4 .. floor(44.9) = 44
    np.testing.assert_array_equal(boxes, [[84, 34, 32, 32], [92, 18, 16, 64], [-14, -4, 48, 48]])


def test_ivt_affine_template_is_width_then_height() -> None:
    """tmplsize is [w h] as calcRectCenter reads it; p3 scales x by template x, p5 scales y by template x."""
    p = np.array([0.0, 0.0, 1.0, 0.0, 0.0, 1.0])
    np.testing.assert_array_equal(ivt_affine_to_xywh(p, np.array([40, 20])), [[-20, -10, 40, 20]])
    sheared = np.array([0.0, 0.0, 1.0, 0.5, 0.25, 1.0])  # x += 0.5 * ty, y += 0.25 * tx
    # corner 1 (-20, -10): x = -20 - 5 = -25, y = -5 - 10 = -15; corner 3 (20, 10): x = 25, y = 15
    np.testing.assert_array_equal(ivt_affine_to_xywh(sheared, np.array([40, 20])), [[-25, -15, 50, 30]])


def test_read_otb_mat_ivt_affine(tmp_path: Path) -> None:
    """An ``ivtAff`` result is converted as calcRectCenter does; ``rect`` runs are read as stored."""
    aff = np.array([[100.3, 50.7, 1.0, 0, 0, 1.0], [100.0, 50.0, 0.5, 0, 0, 2.0]])
    rect = np.array([[1.5, 2.0, 30.0, 40.0], [2.5, 3.0, 31.0, 41.0], [3.5, 4.0, 32.0, 42.0]])
    path = _save_results_mat(tmp_path / "Couple_IVT.mat", [
        {"type": "ivtAff", "res": aff, "tmplsize": np.array([32.0, 32.0]), "len": 2.0, "startFrame": 1.0},
        {"type": "rect", "res": rect, "len": 3.0, "startFrame": 5.0},
    ])
    runs = read_otb_mat(path)
    assert len(runs) == 2
    np.testing.assert_array_equal(runs[0].boxes, [[84, 34, 32, 32], [92, 18, 16, 64]])
    assert runs[0].start_frame == 1 and runs[0].source == path
    np.testing.assert_array_equal(runs[1].boxes, rect)
    assert runs[1].start_frame == 5


def test_read_otb_mat_single_struct(tmp_path: Path) -> None:
    """A one-run file (a 1x1 cell, squeezed by scipy) and a one-row result still give N x 4 boxes."""
    path = _save_results_mat(tmp_path / "David_T.mat", [{"type": "rect", "res": np.array([[1.0, 2.0, 3.0, 4.0]]),
                                                         "startFrame": 300.0}])
    [run] = read_otb_mat(path)
    assert run.boxes.shape == (1, 4) and run.start_frame == 300


@pytest.mark.parametrize(("record", "message"), [
    ({"type": "4corner", "res": np.zeros((2, 8))}, "has type '4corner'"),
    ({"type": "ivtAff", "res": np.zeros((2, 6))}, "ivtAff but has no 'tmplsize'"),
    ({"type": "rect", "len": 2.0}, "has no field 'res'"),
    ({"type": "rect", "res": np.zeros((2, 5))}, "5 columns, expected 4"),
])
def test_read_otb_mat_bad_records(tmp_path: Path, record: dict[str, object], message: str) -> None:
    """Unreadable result records are errors naming the file and the record."""
    path = _save_results_mat(tmp_path / "Couple_T.mat", [record])
    with pytest.raises(InputFileError, match=message) as info:
        read_otb_mat(path)
    assert info.value.problem.path == path


def test_bad_mat_files_are_problems(tmp_path: Path) -> None:
    """A corrupt .mat, or one without ``results``, is a problem of its tracker; its other files are still read."""
    good = _save_results_mat(tmp_path / "Couple_T.mat", [{"type": "rect", "res": np.ones((3, 4)),
                                                          "startFrame": 1.0}])
    (tmp_path / "David_T.mat").write_bytes(b"MATLAB 5.0 MAT-file, but truncated")
    scipy.io.savemat(tmp_path / "Dog1_T.mat", {"other": np.ones(3)})
    [rs] = discover_results(tmp_path)
    assert rs.tracker == "T"
    couple = rs.runs_for("Couple")
    assert couple is not None and couple[0].source == good
    assert rs.runs_for("David") is None and rs.runs_for("Dog1") is None
    msgs = {p.path.name: p.message for p in rs.problems}
    assert msgs["David_T.mat"].startswith("not a readable MATLAB file")
    assert "no variable 'results'" in msgs["Dog1_T.mat"]


def test_mat_folder_with_several_trackers(tmp_path: Path) -> None:
    """One folder of ``<seq>_<tracker>.mat`` files holding several trackers gives one set each."""
    rec = [{"type": "rect", "res": np.ones((2, 4)), "startFrame": 1.0}]
    for stem in ("bird1_2_KCF", "bird1_KCF", "car1_s_ECO_HC", "bird1_ECO_HC"):
        _save_results_mat(tmp_path / f"{stem}.mat", rec)
    sets = discover_results(tmp_path)
    assert [rs.tracker for rs in sets] == ["ECO_HC", "KCF"]
    assert sorted(sets[0].names.values()) == ["bird1", "car1_s"]
    assert sorted(sets[1].names.values()) == ["bird1", "bird1_2"]


# ---------------------------------------------------------------- names: defaults, renames, duplicates


def test_default_renames_are_the_cfnet_paper_names() -> None:
    """The built-in map turns archive suffixes into the names the CFNet paper prints."""
    names = default_renames()
    assert names["cf2camera"] == "CFNet-conv2" and names["xc3incf3camera"] == "Baseline+CF-conv3"
    assert sorted(names.values()) == CFNET_TRACKERS


def test_duplicate_tracker_names_are_an_error(tmp_path: Path) -> None:
    """The same tracker name in two folders is refused, naming both folders."""
    _write_boxes(tmp_path / "run1" / "KCF" / "Couple.txt", _boxes(3))
    _write_boxes(tmp_path / "run2" / "KCF" / "Couple.txt", _boxes(3))
    with pytest.raises(EvalkitError, match="tracker name 'KCF' found in several places") as info:
        discover_results(tmp_path)
    assert str(tmp_path / "run1" / "KCF") in str(info.value) and str(tmp_path / "run2" / "KCF") in str(info.value)


def test_duplicates_after_default_rename(tmp_path: Path) -> None:
    """Two folders that the built-in map gives the same paper name collide too."""
    _write_boxes(tmp_path / "siamfc3s" / "Couple.txt", _boxes(3))
    _write_boxes(tmp_path / "SiamFC-3s" / "Couple.txt", _boxes(3))
    with pytest.raises(EvalkitError, match="'SiamFC-3s' found in several places"):
        discover_results(tmp_path)
    sets = discover_results(tmp_path, renames={"siamfc3s": "SiamFC-3s (rerun)"})
    assert [rs.tracker for rs in sets] == ["SiamFC-3s", "SiamFC-3s (rerun)"]


def test_renames_override_names(shared_dir: Path, tmp_path: Path) -> None:
    """``renames`` replaces folder and built-in names (case-insensitively on the archive name)."""
    _write_boxes(tmp_path / "KCF" / "Couple.txt", _boxes(3))
    _write_boxes(tmp_path / "cf2camera" / "Couple.txt", _boxes(3))
    _write_boxes(tmp_path / "Mine" / "Couple.txt", _boxes(3))
    assert [rs.tracker for rs in discover_results(tmp_path)] == ["CFNet-conv2", "KCF", "Mine"]
    sets = discover_results(tmp_path, renames={"kcf": "KCF (2015)", "cf2camera": "CFNet-2"})
    assert [rs.tracker for rs in sets] == ["CFNet-2", "KCF (2015)", "Mine"]
    release = shared_dir / "data" / "results" / "otb100_cfnet_release" / "results_SiamFC-3s_OTB-100"
    [rs] = discover_results(release, renames={"siamfc3s": "SiamFC"})
    assert rs.tracker == "SiamFC"


# ---------------------------------------------------------------- evalkit's own store


def test_store_folder(tmp_path: Path) -> None:
    """A folder with run.json: tracker name from it, start frames from its optional ``start_frames`` map."""
    store = tmp_path / "2024-01-01_fdsiamfc"
    _write_boxes(store / "David.txt", _boxes(471))
    _write_boxes(store / "Couple.txt", _boxes(140, 1))
    (store / "run.json").write_text(json.dumps({"tracker": "FDSiamFC_30", "start_frames": {"David": 300}}))
    [rs] = discover_results(store)
    assert rs.tracker == "FDSiamFC_30" and rs.source == store and rs.problems == []
    david, couple = rs.runs_for("David"), rs.runs_for("Couple")
    assert david is not None and couple is not None
    assert david[0].start_frame == 300 and couple[0].start_frame is None
    assert len(david[0].boxes) == 471


def test_store_folder_with_boxes_subfolder_among_trackers(tmp_path: Path) -> None:
    """Store folders sit beside ordinary tracker folders; boxes may live in ``boxes/``; no name -> folder name."""
    store = tmp_path / "mystore"
    _write_boxes(store / "boxes" / "Couple.txt", _boxes(4))
    (store / "run.json").write_text("{}")
    _write_boxes(tmp_path / "KCF" / "Couple.txt", _boxes(4))
    sets = discover_results(tmp_path)
    assert [rs.tracker for rs in sets] == ["KCF", "mystore"]
    assert sets[1].source == store and sets[1].runs_for("couple") is not None


def test_store_bad_run_json(tmp_path: Path) -> None:
    """An unreadable run.json is an error naming it and the line."""
    (tmp_path / "S").mkdir()
    (tmp_path / "S" / "run.json").write_text('{\n  "tracker": "X",\n  oops\n}')
    with pytest.raises(InputFileError, match="invalid json") as info:
        discover_results(tmp_path / "S")
    assert info.value.problem.path == tmp_path / "S" / "run.json" and info.value.problem.line == 3


def test_run_lookup_uses_aliases() -> None:
    """``runs_for`` matches stored names across case, separators and the sequence's aliases."""
    run = Run(np.ones((2, 4)), None, Path("x.txt"))
    rs = ResultSet("T", Path("."), runs={"jogging-1": [run], "human4-2": [run]})
    assert rs.runs_for("Jogging-1") == [run] and rs.runs_for("JOGGING_1") == [run]
    assert rs.runs_for("Human4.2") == [run] and rs.runs_for("nope", ["human4_2"]) == [run]
    assert rs.runs_for("Jogging-2") is None


def test_renames_apply_to_the_mapped_name_too(tmp_path: Path) -> None:
    """A rename may name the printed name the built-in map gives an archive (``CFNet-conv2=authors``), so a port's
    store folder and its authors' archive of the same name can be told apart."""
    _write_boxes(tmp_path / "cf2camera" / "Couple.txt", _boxes(3))
    [rs] = discover_results(tmp_path, renames={"CFNet-conv2": "authors"})
    assert rs.tracker == "authors"
