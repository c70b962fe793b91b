"""Dataset loaders: OTB in its three layouts, UAV123/UAV20L, TColor-128, LaSOT, GOT-10k, partial data, bad input."""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Sequence as SequenceABC
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from evalkit.datasets import Suite, load_suite
from evalkit.datasets.base import package_data, read_box_file
from evalkit.errors import EvalkitError, InputFileError, PartialSuiteError
from evalkit.registry import PROFILES
from evalkit.results import ResultSet, Run
from evalkit.scoring.ope import score_ope

# OTB-2015 paper attribute totals over the 100 sequences (Wu, Lim, Yang, TPAMI 2015).
OTB2015_ATTRIBUTE_TOTALS = {"IV": 38, "SV": 64, "OCC": 49, "DEF": 44, "MB": 29, "FM": 39, "IPR": 51, "OPR": 63,
                            "OV": 14, "BC": 31, "LR": 9}
DATASET_LAYOUT_SEQUENCES = ("Couple", "Crossing", "David", "Dog1", "Football1", "Jogging-1", "Jogging-2")
TINY_JPEG = b"\xff\xd8\xff\xd9"


# ---------------------------------------------------------------- helpers


@functools.cache
def _load(name: str, root: str) -> Suite:
    """Suites of the shared data, loaded once per test session (tests never mutate them)."""
    return load_suite(name, root)


def _toolkit(shared_dir: Path, subset: str = "otb100") -> Suite:
    """OTB from the MATLAB-toolkit layout (``anno/``)."""
    return _load(subset, str(shared_dir / "data" / "otb100"))


def _pysot(shared_dir: Path) -> Suite:
    """OTB-100 from pysot's json."""
    return _load("otb100", str(shared_dir / "data" / "otb100" / "OTB100_pysot.json"))


def _dataset(shared_dir: Path) -> Suite:
    """OTB-100 from the dataset layout (seven entries present)."""
    return _load("otb100", str(shared_dir / "data" / "sequences"))


def _random_boxes(n: int, seed: int = 0) -> NDArray[np.float64]:
    """``n`` random x,y,w,h boxes with positive sizes."""
    rng = np.random.default_rng(seed)
    return np.hstack([rng.integers(1, 300, (n, 2)), rng.integers(4, 80, (n, 2))]).astype(np.float64)


def _write_boxes(path: Path, boxes: NDArray[np.float64], sep: str = ",") -> Path:
    """Write one box per line (NaN written as ``NaN``, as the UAV annotations do)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = (sep.join("NaN" if np.isnan(v) else f"{v:g}" for v in row) for row in boxes)
    path.write_text("\n".join(lines) + "\n")
    return path


def _touch_frames(folder: Path, names: SequenceABC[str]) -> None:
    """Tiny placeholder image files (loaders only need the paths)."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        (folder / n).write_bytes(TINY_JPEG)


def _entry(meta: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """The package-metadata entry called ``name``."""
    return next(e for e in meta if e["name"] == name)


def _n_rows(entry: dict[str, Any]) -> int:
    """Ground-truth rows of a package-metadata entry."""
    return int(entry["end_frame"]) - int(entry["start_frame"]) + 1


# ---------------------------------------------------------------- OTB: three layouts


@pytest.mark.parametrize(("subset", "size", "frames"), [("otb2013", 51, 29491), ("otb50", 50, 26972),
                                                        ("otb100", 100, 59040)])
def test_otb_toolkit_subsets_are_complete(shared_dir: Path, subset: str, size: int, frames: int) -> None:
    """Each OTB subset loads whole from the toolkit layout: no sequence missing, headline-grade."""
    suite = _toolkit(shared_dir, subset)
    assert len(suite) == size == len(suite.expected)
    assert suite.missing == []
    assert not suite.is_partial
    assert sum(s.n_frames for s in suite) == frames
    assert "toolkit layout" in suite.source


def test_otb_toolkit_david_and_tiger1(shared_dir: Path) -> None:
    """David covers frames 300..770; Tiger1's one-pass start honours initOmit (frame 6)."""
    suite = _toolkit(shared_dir)
    david = suite["David"]
    assert (david.start_frame, david.n_frames) == (300, 471)
    assert david.frame_number(david.n_frames - 1) == 770
    assert not david.has_frames  # the toolkit copy has no data/<Seq>/img folders
    tiger = suite["Tiger1"]
    assert (tiger.start_frame, tiger.n_frames) == (1, 354)
    assert tiger.first_start_index(honour_init_omit=True) == 5
    assert tiger.frame_number(tiger.first_start_index()) == 6
    assert tiger.first_start_index(honour_init_omit=False) == 0


def test_otb_pysot_matches_toolkit(shared_dir: Path) -> None:
    """pysot's json holds the toolkit ground truth; only Tiger1 drops its first five rows (starts at frame 6)."""
    toolkit, pysot = _toolkit(shared_dir), _pysot(shared_dir)
    assert len(pysot) == 100 and not pysot.is_partial
    assert "pysot layout" in pysot.source
    assert sum(s.n_frames for s in pysot) == 59040 - 5
    for seq in toolkit:
        other = pysot[seq.name]
        if seq.name == "Tiger1":
            assert (other.start_frame, other.n_frames) == (6, 349)
            np.testing.assert_array_equal(other.ground_truth, seq.ground_truth[5:])
            assert other.first_start_index() == 0
        else:
            assert other.start_frame == seq.start_frame, seq.name
            np.testing.assert_array_equal(other.ground_truth, seq.ground_truth, err_msg=seq.name)
        assert other.attributes == seq.attributes, seq.name
        assert not other.has_frames  # no image folders beside the shared json


def test_otb_pysot_folder_with_images(shared_dir: Path, tmp_path: Path) -> None:
    """A folder holding ``OTB100.json`` is the pysot layout; frames are known where the image folder exists."""
    (tmp_path / "OTB100.json").symlink_to(shared_dir / "data" / "otb100" / "OTB100_pysot.json")
    _touch_frames(tmp_path / "Tiger1" / "img", ["0006.jpg"])
    suite = load_suite("otb100", tmp_path)
    tiger = suite["Tiger1"]
    assert tiger.has_frames and tiger.frames is not None
    assert tiger.frames[0] == tmp_path / "Tiger1" / "img" / "0006.jpg"
    assert tiger.frames[-1].name == "0354.jpg"
    assert not suite["David"].has_frames


@pytest.mark.parametrize("name", DATASET_LAYOUT_SEQUENCES)
def test_otb_three_layouts_agree(shared_dir: Path, name: str) -> None:
    """The dataset layout's ground truth equals the toolkit's and pysot's for the same sequence."""
    toolkit, pysot, dataset = _toolkit(shared_dir)[name], _pysot(shared_dir)[name], _dataset(shared_dir)[name]
    assert dataset.name == toolkit.name == pysot.name == name
    assert dataset.start_frame == toolkit.start_frame == pysot.start_frame
    np.testing.assert_array_equal(dataset.ground_truth, toolkit.ground_truth)
    np.testing.assert_array_equal(pysot.ground_truth, toolkit.ground_truth)
    assert dataset.init_omit == toolkit.init_omit
    assert dataset.attributes == toolkit.attributes


def test_otb_dataset_layout_frames(shared_dir: Path) -> None:
    """The dataset layout lists seven entries whose frame paths are real JPEGs (David 0300..0770, Jogging shared)."""
    suite = _dataset(shared_dir)
    assert sorted(s.name for s in suite) == sorted(DATASET_LAYOUT_SEQUENCES)
    assert "dataset layout" in suite.source
    root = shared_dir / "data" / "sequences"
    for seq in suite:
        assert seq.has_frames and seq.frames is not None, seq.name
        assert len(seq.frames) == seq.n_frames
        assert all(p.is_file() and p.suffix == ".jpg" for p in seq.frames), seq.name
        assert seq.frames[0].read_bytes()[:2] == b"\xff\xd8"
    david = suite["David"]
    assert david.frames is not None
    assert (david.start_frame, david.n_frames) == (300, 471)
    assert (david.frames[0].name, david.frames[-1].name) == ("0300.jpg", "0770.jpg")
    jog1, jog2 = suite["Jogging-1"], suite["Jogging-2"]
    assert jog1.frames == jog2.frames
    assert jog1.frames is not None and jog1.frames[0].parent == root / "Jogging" / "img"
    assert not np.array_equal(jog1.ground_truth, jog2.ground_truth)
    np.testing.assert_array_equal(jog2.ground_truth, read_box_file(root / "Jogging" / "groundtruth_rect.2.txt"))
    assert suite["Football1"].n_frames == 74  # 81 images on disk, 74 annotated: an OTB quirk


@pytest.mark.parametrize("layout", ["toolkit", "pysot"])
def test_otb100_attribute_totals_match_paper(shared_dir: Path, layout: str) -> None:
    """Attribute counts over OTB-100 equal the OTB-2015 paper totals."""
    suite = _toolkit(shared_dir) if layout == "toolkit" else _pysot(shared_dir)
    counts = Counter(a for seq in suite for a in seq.attributes)
    assert dict(counts) == OTB2015_ATTRIBUTE_TOTALS
    assert set(suite.attribute_names) == set(OTB2015_ATTRIBUTE_TOTALS)


def test_otb_dataset_layout_target_files(shared_dir: Path, tmp_path: Path) -> None:
    """Jogging: target 1 falls back to ``groundtruth_rect.txt``; a missing ``.2`` file is an error naming it."""
    toolkit = _toolkit(shared_dir)
    gt1, gt2 = toolkit["Jogging-1"].ground_truth, toolkit["Jogging-2"].ground_truth
    _write_boxes(tmp_path / "Jogging" / "groundtruth_rect.txt", gt1)
    _write_boxes(tmp_path / "Jogging" / "groundtruth_rect.2.txt", gt2, sep="\t")
    suite = load_suite("otb100", tmp_path)
    assert sorted(s.name for s in suite) == ["Jogging-1", "Jogging-2"]
    np.testing.assert_array_equal(suite["Jogging-1"].ground_truth, gt1)
    np.testing.assert_array_equal(suite["Jogging-2"].ground_truth, gt2)
    assert not suite["Jogging-1"].has_frames
    (tmp_path / "Jogging" / "groundtruth_rect.2.txt").unlink()
    suite = load_suite("otb100", tmp_path)  # the second target's file is gone: that entry is missing, not an error
    assert [s.name for s in suite] == ["Jogging-1"]
    assert "Jogging-2" in suite.missing
    assert load_suite("otb100", tmp_path, ["Jogging-1"]).missing == suite.missing


# ---------------------------------------------------------------- partial data


def test_dataset_layout_is_partial(shared_dir: Path) -> None:
    """Seven of OTB-100's entries on disk: partial, 93 missing, and scoring refuses without allow_partial."""
    suite = _dataset(shared_dir)
    assert suite.is_partial
    assert len(suite.missing) == 93
    assert "Basketball" in suite.missing and "David" not in suite.missing
    otb = PROFILES.get("otb-toolkit")
    with pytest.raises(PartialSuiteError, match=r"93 of 100"):
        score_ope(suite, [], otb)
    assert score_ope(suite, [], otb, allow_partial=True).partial


def test_subset_marks_partial(shared_dir: Path) -> None:
    """A subset of a complete suite is partial; a 'subset' naming every sequence is not; unknown names fail."""
    full = _toolkit(shared_dir)
    part = full.subset(["couple", "DAVID"])
    assert [s.name for s in part] == ["Couple", "David"]
    assert part.is_partial and not full.is_partial
    assert not full.subset([s.name for s in full]).is_partial
    assert load_suite("otb100", shared_dir / "data" / "otb100", ["Tiger1"]).is_partial
    with pytest.raises(EvalkitError, match="no sequence 'Tigger1'"):
        full.subset(["Tigger1"])


@pytest.mark.parametrize(("alias", "name"), [
    ("Jogging-1", "Jogging-1"), ("jogging_1", "Jogging-1"), ("jogging.1", "Jogging-1"), ("JOGGING1", "Jogging-1"),
    ("jogging-2", "Jogging-2"), ("Human4.2", "Human4-2"), ("human4-2", "Human4-2"), ("Skating2_1", "Skating2-1"),
    ("skating2.2", "Skating2-2"), ("david", "David"), (" Tiger1 ", "Tiger1"), ("BLURCAR1", "BlurCar1"),
])
def test_otb_alias_lookup(shared_dir: Path, alias: str, name: str) -> None:
    """Toolkit, dataset and result-archive spellings of a sequence name all find the same entry."""
    seq = _toolkit(shared_dir).find(alias)
    assert seq is not None and seq.name == name
    assert _toolkit(shared_dir)[alias] is seq


def test_alias_lookup_misses(shared_dir: Path) -> None:
    """Names that are not one entry find nothing: ``Jogging`` has two targets."""
    suite = _toolkit(shared_dir)
    assert suite.find("Jogging") is None
    assert suite.find("Skating2") is None
    with pytest.raises(KeyError, match="Jogging"):
        suite["Jogging"]


# ---------------------------------------------------------------- UAV123 / UAV20L


@pytest.mark.parametrize(("name", "size", "frames", "nan_rows"), [("uav123", 123, 112578, 2683),
                                                                  ("uav20l", 20, 58670, 2409)])
def test_uav_toolkit_layout(shared_dir: Path, name: str, size: int, frames: int, nan_rows: int) -> None:
    """UAV123 and UAV20L from the shared toolkit-layout annotations: sizes, frames and NaN (absent) rows."""
    suite = _load(name, str(shared_dir / "data" / "uav123"))
    assert len(suite) == size and not suite.is_partial
    assert sum(s.n_frames for s in suite) == frames
    assert sum(int(np.isnan(s.ground_truth).any(axis=1).sum()) for s in suite) == nan_rows
    for seq in suite:
        rows = np.isnan(seq.ground_truth)
        assert (rows.all(axis=1) == rows.any(axis=1)).all(), seq.name  # absent rows are NaN in all four fields


@pytest.mark.parametrize("name", ["uav123", "uav20l"])
def test_uav_every_name_finds_itself(shared_dir: Path, name: str) -> None:
    """``car11`` is not ``car1_1`` and ``person21`` is not ``person2_1``: exact names win over loose matches."""
    suite = _load(name, str(shared_dir / "data" / "uav123"))
    wrong = [(s.name, f.name if (f := suite.find(s.name)) else None) for s in suite if suite.find(s.name) is not s]
    assert wrong == []
    if name == "uav123":
        assert suite["car1.1"].name == "car1_1"
        assert suite["PERSON2-1"].name == "person2_1"
        assert suite.subset(["car11"]).sequences[0].name == "car11"


def test_uav_sub_sequence_ranges(shared_dir: Path) -> None:
    """Sub-sequences are frame ranges of one image folder: bird1_2 is frames 775..1477."""
    suite = _load("uav123", str(shared_dir / "data" / "uav123"))
    bird = suite["bird1_2"]
    assert (bird.start_frame, bird.n_frames) == (775, 703)
    assert "OV" in bird.attributes


def test_uav_official_layout(tmp_path: Path) -> None:
    """Official download: ``anno/UAV123/<seq>.txt`` and ``data_seq/UAV123/<folder>/NNNNNN.jpg``."""
    meta = package_data("uav.json")["suites"]
    bike3, bird12, car1s = (_entry(meta["uav123"], n) for n in ("bike3", "bird1_2", "car1_s"))
    gts = {}
    for i, e in enumerate((bike3, bird12, car1s)):
        gt = _random_boxes(_n_rows(e), seed=i)
        gt[3] = np.nan  # target absent in one frame
        gts[e["name"]] = gt
        _write_boxes(tmp_path / "anno" / "UAV123" / f"{e['name']}.txt", gt)
    _touch_frames(tmp_path / "data_seq" / "UAV123" / "bike3", ["000001.jpg"])
    _touch_frames(tmp_path / "data_seq" / "UAV123" / "bird1", ["000775.jpg"])
    suite = load_suite("uav123", tmp_path)
    assert sorted(s.name for s in suite) == ["bike3", "bird1_2", "car1_s"]
    assert suite.is_partial and len(suite.missing) == 120
    for name, gt in gts.items():
        np.testing.assert_array_equal(suite[name].ground_truth, gt)
        assert np.isnan(suite[name].ground_truth[3]).all()
    b3 = suite["bike3"]
    assert b3.frames is not None and len(b3.frames) == 433
    assert b3.frames[0] == tmp_path / "data_seq" / "UAV123" / "bike3" / "000001.jpg"
    bird = suite["bird1.2"]
    assert bird.frames is not None and bird.start_frame == 775
    assert (bird.frames[0].name, bird.frames[-1].name) == ("000775.jpg", "001477.jpg")
    assert bird.frames[0].parent.name == "bird1"
    assert not suite["car1_s"].has_frames  # no image folder: scoring still works, running a tracker does not


def test_uav20l_official_layout(tmp_path: Path) -> None:
    """UAV20L annotations live in ``anno/UAV20L``; its frames are the full UAV123 image folders."""
    bird1 = _entry(package_data("uav.json")["suites"]["uav20l"], "bird1")
    gt = _random_boxes(_n_rows(bird1))
    _write_boxes(tmp_path / "anno" / "UAV20L" / "bird1.txt", gt, sep="\t")
    _write_boxes(tmp_path / "anno" / "UAV123" / "bird1_1.txt", gt[:10])  # wrong length for uav123, never read here
    _touch_frames(tmp_path / "data_seq" / "UAV123" / "bird1", ["000001.jpg"])
    suite = load_suite("uav20l", tmp_path)
    assert [s.name for s in suite] == ["bird1"] and suite.is_partial
    seq = suite["bird1"]
    np.testing.assert_array_equal(seq.ground_truth, gt)
    assert seq.frames is not None and len(seq.frames) == 2437 and seq.frames[-1].name == "002437.jpg"


def test_uav_wrong_row_count_names_file(tmp_path: Path) -> None:
    """A UAV annotation with the wrong number of rows is an error naming the file."""
    path = _write_boxes(tmp_path / "anno" / "UAV123" / "bike3.txt", _random_boxes(432))
    with pytest.raises(InputFileError, match=r"432 boxes, expected 433") as info:
        load_suite("uav123", tmp_path)
    assert info.value.problem.path == path


# ---------------------------------------------------------------- TColor-128


def test_tc128_download_layout(tmp_path: Path) -> None:
    """``<Seq>/<Seq>_gt.txt`` covering the configSeqs range, ``<Seq>/img/NNNN.jpg`` frames."""
    entries = package_data("tc128.json")["sequences"]
    bus, david = _entry(entries, "Busstation_ce2"), _entry(entries, "David")
    gt_bus, gt_david = _random_boxes(_n_rows(bus), 1), _random_boxes(_n_rows(david), 2)
    _write_boxes(tmp_path / "Busstation_ce2" / "Busstation_ce2_gt.txt", gt_bus)
    (tmp_path / "Busstation_ce2" / "Busstation_ce2_frames.txt").write_text("6,400\n")
    _touch_frames(tmp_path / "Busstation_ce2" / "img", ["0006.jpg"])
    _write_boxes(tmp_path / "David" / "david_gt.txt", gt_david, sep=" ")  # gt file name matched case-insensitively
    suite = load_suite("tc128", tmp_path)
    assert sorted(s.name for s in suite) == ["Busstation_ce2", "David"]
    assert suite.is_partial and len(suite.expected) == len(entries)
    seq = suite["busstation-ce2"]
    assert (seq.start_frame, seq.n_frames) == (6, 395)
    np.testing.assert_array_equal(seq.ground_truth, gt_bus)
    assert seq.frames is not None
    assert (seq.frames[0].name, seq.frames[-1].name) == ("0006.jpg", "0400.jpg")
    assert suite["David"].start_frame == 300 and not suite["David"].has_frames
    np.testing.assert_array_equal(suite["David"].ground_truth, gt_david)


def test_tc128_wrong_rows_and_missing_root(tmp_path: Path) -> None:
    """A TColor-128 gt file of the wrong length names the file; a missing root is an error."""
    path = _write_boxes(tmp_path / "Airport_ce" / "Airport_ce_gt.txt", _random_boxes(147))
    with pytest.raises(InputFileError, match="expected 148") as info:
        load_suite("tc128", tmp_path)
    assert info.value.problem.path == path
    with pytest.raises(EvalkitError, match="does not exist"):
        load_suite("tc128", tmp_path / "nowhere")


# ---------------------------------------------------------------- LaSOT


def _lasot_sequence(folder: Path, n: int, occluded: set[int], out_of_view: set[int], seed: int = 0
                    ) -> NDArray[np.float64]:
    """A LaSOT sequence folder: groundtruth.txt, one-line 0/1 flag files, img/NNNNNNNN.jpg."""
    gt = _random_boxes(n, seed)
    _write_boxes(folder / "groundtruth.txt", gt)
    (folder / "full_occlusion.txt").write_text(",".join("1" if i in occluded else "0" for i in range(n)))
    (folder / "out_of_view.txt").write_text(",".join("1" if i in out_of_view else "0" for i in range(n)) + "\n")
    _touch_frames(folder / "img", [f"{i:08d}.jpg" for i in range(1, n + 1)])
    return gt


def test_lasot_download_layout(tmp_path: Path) -> None:
    """``<class>/<class>-<k>/`` (and flat ``<class>-<k>/``): visibility = not occluded and not out of view."""
    gt = _lasot_sequence(tmp_path / "airplane" / "airplane-1", 12, occluded={2, 3}, out_of_view={3, 7})
    flat = tmp_path / "basketball-1"
    _write_boxes(flat / "groundtruth.txt", _random_boxes(5, 1))
    suite = load_suite("lasot", tmp_path)
    assert [s.name for s in suite] == ["airplane-1", "basketball-1"]
    assert suite.is_partial and len(suite.missing) == 278 and suite.family == "lasot"
    seq = suite["airplane-1"]
    np.testing.assert_array_equal(seq.ground_truth, gt)
    assert seq.attributes == {"airplane"}
    assert seq.target_visible is not None
    assert np.flatnonzero(~seq.target_visible).tolist() == [2, 3, 7]
    assert seq.frames is not None and (seq.frames[0].name, seq.frames[-1].name) == ("00000001.jpg", "00000012.jpg")
    bare = suite["basketball-1"]
    assert bare.target_visible is None and not bare.has_frames and bare.n_frames == 5


def test_lasot_bad_flags_name_file(tmp_path: Path) -> None:
    """A flag file of the wrong length, or with non-numeric flags, is an error naming that file."""
    folder = tmp_path / "airplane" / "airplane-1"
    _lasot_sequence(folder, 6, set(), set())
    (folder / "out_of_view.txt").write_text("0,0,0,0,0")
    with pytest.raises(InputFileError, match="5 flags, expected 6") as info:
        load_suite("lasot", tmp_path)
    assert info.value.problem.path == folder / "out_of_view.txt"
    (folder / "out_of_view.txt").write_text("0,0,x,0,0,0")
    with pytest.raises(InputFileError, match="0/1 flags"):
        load_suite("lasot", tmp_path)


# ---------------------------------------------------------------- GOT-10k


def _got10k_split(split_dir: Path, lengths: dict[str, int], test: bool = False) -> dict[str, NDArray[np.float64]]:
    """A GOT-10k split folder: list.txt, per sequence groundtruth.txt (first box only for test), absence.label."""
    split_dir.mkdir(parents=True, exist_ok=True)
    (split_dir / "list.txt").write_text("\n".join(lengths) + "\n")
    gts = {}
    for i, (name, n) in enumerate(lengths.items()):
        gt = _random_boxes(n, seed=i)
        gts[name] = gt
        folder = split_dir / name
        _write_boxes(folder / "groundtruth.txt", gt[:1] if test else gt)
        _touch_frames(folder, [f"{k:08d}.jpg" for k in range(1, n + 1)])
        if not test:
            (folder / "absence.label").write_text("\n".join("1" if k == 1 else "0" for k in range(n)) + "\n")
            (folder / "cover.label").write_text("\n".join("8" for _ in range(n)) + "\n")
        (folder / "meta_info.ini").write_text("[METAINFO]\nobject_class: fish\n")
    return gts


def test_got10k_val(tmp_path: Path) -> None:
    """Validation split: full ground truth, ``absence.label`` -> not visible, frames 00000001.jpg... in order."""
    gts = _got10k_split(tmp_path / "val", {"GOT-10k_Val_000001": 7, "GOT-10k_Val_000002": 4})
    for root in (tmp_path, tmp_path / "val"):
        suite = load_suite("got10k-val", root)
        assert [s.name for s in suite] == list(gts) and not suite.is_partial
        assert suite.family == "got10k"
        seq = suite["GOT-10k_Val_000001"]
        np.testing.assert_array_equal(seq.ground_truth, gts[seq.name])
        assert seq.target_visible is not None and seq.target_visible.tolist() == [True, False] + [True] * 5
        assert seq.frames is not None and [p.name for p in seq.frames] == [f"{k:08d}.jpg" for k in range(1, 8)]


def test_got10k_val_missing_sequence_is_partial(tmp_path: Path) -> None:
    """A sequence named in list.txt but absent on disk is listed as missing."""
    _got10k_split(tmp_path / "val", {"GOT-10k_Val_000001": 3})
    (tmp_path / "val" / "list.txt").write_text("GOT-10k_Val_000001\nGOT-10k_Val_000002\n")
    suite = load_suite("got10k-val", tmp_path)
    assert suite.missing == ["GOT-10k_Val_000002"] and suite.is_partial


def test_got10k_val_frame_count_mismatch(tmp_path: Path) -> None:
    """Validation ground truth must have one box per frame; the error names groundtruth.txt."""
    _got10k_split(tmp_path / "val", {"GOT-10k_Val_000001": 5})
    (tmp_path / "val" / "GOT-10k_Val_000001" / "00000006.jpg").write_bytes(TINY_JPEG)
    with pytest.raises(InputFileError, match="5 boxes but 6 frames") as info:
        load_suite("got10k-val", tmp_path)
    assert info.value.problem.path == tmp_path / "val" / "GOT-10k_Val_000001" / "groundtruth.txt"


def test_got10k_test_first_box_only(tmp_path: Path) -> None:
    """Test split: only the first box is published; the other rows are NaN, one per frame."""
    gts = _got10k_split(tmp_path / "test", {"GOT-10k_Test_000001": 6, "GOT-10k_Test_000002": 3}, test=True)
    suite = load_suite("got10k-test", tmp_path)
    assert [s.name for s in suite] == list(gts)
    seq = suite["GOT-10k_Test_000001"]
    assert seq.n_frames == 6 and seq.frames is not None and len(seq.frames) == 6
    np.testing.assert_array_equal(seq.ground_truth[0], gts[seq.name][0])
    assert np.isnan(seq.ground_truth[1:]).all()
    assert seq.first_start_index() == 0


def test_got10k_test_scoring_is_refused(tmp_path: Path) -> None:
    """Scoring the GOT-10k test split (ground truth withheld) is an error, not a score."""
    gts = _got10k_split(tmp_path / "test", {"GOT-10k_Test_000001": 6}, test=True)
    suite = load_suite("got10k-test", tmp_path)
    rs = ResultSet("T", tmp_path, runs={"got-10k-test-000001": [Run(gts["GOT-10k_Test_000001"], None, tmp_path)]})
    with pytest.raises(EvalkitError):
        score_ope(suite, [rs], PROFILES.get("got10k"))


def test_got10k_without_list(tmp_path: Path) -> None:
    """No list.txt in the root or its split folder is an error saying where evalkit looked."""
    with pytest.raises(EvalkitError, match="no list.txt"):
        load_suite("got10k-val", tmp_path)


# ---------------------------------------------------------------- bad input


def _couple_layout(root: Path, shared_dir: Path) -> tuple[Path, list[str]]:
    """An OTB dataset-layout Couple folder holding the real ground truth; returns the gt path and its lines."""
    lines = (shared_dir / "data" / "sequences" / "Couple" / "groundtruth_rect.txt").read_text().splitlines()
    path = root / "Couple" / "groundtruth_rect.txt"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n")
    return path, lines


@pytest.mark.parametrize(("bad_line", "message"), [
    ("10,x,20,30", "non-numeric field"),
    ("10,20,30", "expected 4 values"),
    ("10 20 30 40 50", "expected 4 values"),
    ("10,20,,30", "non-numeric field|expected 4 values"),
])
def test_gt_bad_line_names_file_and_line(shared_dir: Path, tmp_path: Path, bad_line: str, message: str) -> None:
    """A malformed ground-truth line is an InputFileError naming the file and its 1-based line."""
    path, lines = _couple_layout(tmp_path, shared_dir)
    lines[6] = bad_line
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputFileError, match=message) as info:
        load_suite("otb100", tmp_path)
    assert info.value.problem.path == path
    assert info.value.problem.line == 7
    assert f"{path}:7:" in str(info.value)


def test_gt_short_then_long_line_is_not_rechunked(tmp_path: Path) -> None:
    """A 3-value line followed by a 5-value line keeps the right total but must not be re-chunked into rows."""
    path = tmp_path / "gt.txt"
    path.write_text("1,2,3,4\n5,6,7\n8,9,10,11,12\n13,14,15,16\n")
    with pytest.raises(InputFileError, match="found 3") as info:
        read_box_file(path)
    assert info.value.problem.line == 2


def test_gt_line_numbers_count_blank_lines(tmp_path: Path) -> None:
    """Reported line numbers are the file's physical lines, blank lines included."""
    path = tmp_path / "gt.txt"
    path.write_text("1,2,3,4\n\n\n5,6,seven,8\n")
    with pytest.raises(InputFileError) as info:
        read_box_file(path)
    assert info.value.problem.line == 4


@pytest.mark.parametrize("sep", [",", "\t", " ", ", ", ";"])
def test_box_file_separators(tmp_path: Path, sep: str) -> None:
    """Commas, tabs, spaces and semicolons parse to the same boxes; NaN is read as absent."""
    boxes = _random_boxes(5)
    boxes[2] = np.nan
    got = read_box_file(_write_boxes(tmp_path / "gt.txt", boxes, sep=sep), expected_rows=5)
    np.testing.assert_array_equal(got, boxes)
    with pytest.raises(InputFileError, match="NaN is not allowed") as info:
        read_box_file(tmp_path / "gt.txt", allow_nan=False)
    assert info.value.problem.line == 3


def test_gt_wrong_row_count_names_file(shared_dir: Path, tmp_path: Path) -> None:
    """A ground-truth file one row short is an error naming the file and both counts."""
    path, lines = _couple_layout(tmp_path, shared_dir)
    path.write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(InputFileError, match="has 139 boxes, expected 140") as info:
        load_suite("otb100", tmp_path)
    assert info.value.problem.path == path
    assert str(path) in str(info.value)


def test_pysot_json_mismatch_names_file(tmp_path: Path) -> None:
    """A pysot json whose img_names and gt_rect disagree names the json and the sequence."""
    path = tmp_path / "OTB100.json"
    path.write_text(json.dumps({"Couple": {"img_names": ["Couple/img/0001.jpg"], "gt_rect": [[1, 2, 3, 4]] * 2}}))
    with pytest.raises(InputFileError, match="Couple: 1 img_names but 2 gt_rect rows") as info:
        load_suite("otb100", tmp_path)
    assert info.value.problem.path == path


@pytest.mark.parametrize(("name", "hint"), [("otb10", "'otb100'"), ("uav20", "'uav20l'"), ("lasot2", "'lasot'"),
                                            ("got10k_val", "'got10k-val'")])
def test_unknown_suite_did_you_mean(tmp_path: Path, name: str, hint: str) -> None:
    """A misspelt suite name gets a 'did you mean' answer listing the close names."""
    with pytest.raises(EvalkitError, match=f"unknown suite '{name}'; did you mean .*{hint}"):
        load_suite(name, tmp_path)


def test_missing_data_root(tmp_path: Path) -> None:
    """A data root that does not exist is an error naming it."""
    for name in ("otb100", "uav123", "lasot"):
        with pytest.raises(EvalkitError, match="does not exist"):
            load_suite(name, tmp_path / "absent")
