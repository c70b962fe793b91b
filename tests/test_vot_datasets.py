"""VOT2016 / VOT2018 / VOT2019 datasets: the pysot json in ../shared, the VOT folder layout, the registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import write_vot_layout

from evalkit.datasets import load_suite
from evalkit.datasets.vot import load_vot, suite_metadata
from evalkit.errors import InputFileError
from evalkit.registry import SUITES


def test_vot2018_json_and_sequence_list(shared_dir: Path) -> None:
    """The pysot json: 60 sequences, polygons mixed with 4-value rectangles, tags, image sizes; the package's
    VOT2018 list equals the dataset's list.txt."""
    suite = load_suite("vot2018", shared_dir / "data" / "vot2018")
    listed = (shared_dir / "data" / "vot2018" / "list.txt").read_text().split()
    assert [s.name for s in suite] == listed == suite_metadata("vot2018")["sequences"]
    assert sum(s.n_frames for s in suite) == 21356 and not suite.is_partial and suite.family == "vot"
    rects = sum(int(np.isnan(s.regions[:, 4]).sum()) for s in suite)  # type: ignore[index]
    assert rects == 345
    seq = suite["ants1"]
    assert seq.image_size == (1024, 1024) and seq.regions.shape == (325, 8)  # type: ignore[union-attr]
    # ground truth = the polygon's bounding box: x from 128.72 to 156.83, y from 458.36 to 529.41
    assert seq.ground_truth[0] == pytest.approx([128.72, 458.36, 28.11, 71.05])


def test_vot_folder_layout(tmp_path: Path) -> None:
    """Regions, bounding boxes, tags (.tag and .label), frames and image size from the first frame or the
    'sequence' file; the other 58 sequences are missing."""
    write_vot_layout(tmp_path / "vot2018")
    suite = load_suite("vot2018", tmp_path / "vot2018")
    assert [s.name for s in suite] == ["ants1", "bag"] and len(suite.missing) == 58 and suite.is_partial
    ants = suite["ants1"]
    assert ants.image_size == (64, 48) and ants.frames is not None and ants.frames[0].name == "00000001.jpg"
    assert ants.ground_truth.tolist() == [[10, 10, 20, 10], [11, 10, 20, 10], [12, 10, 20, 10]]
    assert np.isnan(ants.regions[2, 4:]).all()  # type: ignore[index]
    assert ants.tags["occlusion"].tolist() == [False, True, True]
    assert ants.tags["camera_motion"].tolist() == [True, False, False]
    assert not ants.tags["illum_change"].any()
    bag = suite["bag"]
    assert bag.image_size == (320, 240) and bag.frames is None and bag.n_frames == 2


def test_vot_folder_layout_errors_name_file_and_line(tmp_path: Path) -> None:
    """A 5-value region line: the file and line are named; with collect=True the sequence is left out."""
    root = tmp_path / "vot2018"
    write_vot_layout(root)
    (root / "bag" / "groundtruth.txt").write_text("1,2,3,4\n1,2,3,4,5\n")
    with pytest.raises(InputFileError) as info:
        load_vot("vot2018", root)
    assert info.value.problem.line == 2 and info.value.problem.path.name == "groundtruth.txt"
    suite = load_suite("vot2018", root, collect=True)
    assert [s.name for s in suite] == ["ants1"] and suite.problems[0].line == 2


def test_registry_knows_vot_suites() -> None:
    """vot2016, vot2018, vot2019 are registered, each with its 60 sequences and EAO interval."""
    intervals = {"vot2016": [108, 371], "vot2018": [100, 356], "vot2019": [46, 291]}
    for name, interval in intervals.items():
        assert name in SUITES
        meta = suite_metadata(name)
        assert meta["eao_interval"] == interval and len(set(meta["sequences"])) == 60
