"""Import of VOT supervised results: <tracker>/baseline/<seq>/<seq>_NNN.txt files and evalkit's store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import write_run

from evalkit.errors import InputFileError
from evalkit.results import VotCode, VotRun, discover_results, read_store_set, read_vot_run


def test_read_vot_run_formats(tmp_path: Path) -> None:
    """``1``, ``2.0000``, ``0``, a rectangle, a polygon with integers, a NaN region (unknown, as the toolkit's
    parser makes it)."""
    run = read_vot_run(write_run(tmp_path / "s_001.txt", ["1.0000", "1,2,3,4", "2.0000", "0", "1",
                                                         "1,2,3,2,3,4,1,4", "nan,nan,nan,nan"]), 1)
    init, region, failure, skipped = VotCode.INIT, VotCode.REGION, VotCode.FAILURE, VotCode.SKIPPED
    assert run.codes.tolist() == [init, region, failure, skipped, init, region, skipped]
    assert run.regions[1].tolist()[:4] == [1, 2, 3, 4] and np.isnan(run.regions[1, 4:]).all()
    assert run.regions[5].tolist() == [1, 2, 3, 2, 3, 4, 1, 4]
    assert np.isnan(run.regions[[0, 2, 3, 4, 6]]).all()
    spaced = read_vot_run(write_run(tmp_path / "t_001.txt", ["1", "1 2 3 4"]), 1)
    assert spaced.codes.tolist() == [init, region]


@pytest.mark.parametrize(("line", "message"), [("3", "flag"), ("1,2,3", "3 values"), ("1,x,3,4", "non-numeric"),
                                               ("", "empty line")])
def test_bad_result_lines_name_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    """A bad third line is reported with the file and line 3."""
    path = write_run(tmp_path / "ants1_001.txt", ["1", "1,2,3,4", line, "1,2,3,4"])
    with pytest.raises(InputFileError, match=message) as info:
        read_vot_run(path)
    assert info.value.problem.path == path and info.value.problem.line == 3


def test_vot2018_results_are_found(shared_dir: Path) -> None:
    """A results root with several tracker folders holding baseline/: one set each, 60 sequences of VotRun (kept
    apart from OPE runs), named after the tracker folder; a tracker folder or its baseline/ folder works too."""
    root = shared_dir / "data" / "results" / "vot2018"
    sets = discover_results(root)
    assert [s.tracker for s in sets] == ["LightTrack", "NanoTrack"]
    for rs in sets:
        assert len(rs.vot_runs) == 60 and not rs.runs and not rs.problems
        run = rs.vot_runs_for("ants1")[0]  # type: ignore[index]
        assert run.n_frames == 325 and run.codes[0] == VotCode.INIT and run.repetition == 1
        assert run.source.name == "ants1_001.txt"
    assert [s.tracker for s in discover_results(root / "LightTrack")] == ["LightTrack"]
    via_baseline = discover_results(root / "LightTrack" / "baseline")
    assert [s.tracker for s in via_baseline] == ["LightTrack"] and via_baseline[0].source == root / "LightTrack"


def test_store_vot_runs_are_read(tmp_path: Path) -> None:
    """evalkit's store keeps supervised runs as VOT lines (format 'vot'); they are read as VotRun, in order."""
    folder = tmp_path / "store"
    folder.mkdir()
    (folder / "run.json").write_text(json.dumps({"tracker": "kcf"}))
    for rep in (2, 1):
        write_run(folder / "bag" / f"vot-{rep:03d}.txt", ["1", "2,3,4,5"])
        (folder / "bag" / f"vot-{rep:03d}.json").write_text(json.dumps(
            {"sequence": "bag", "label": f"vot-{rep:03d}", "status": "ok", "format": "vot"}))
    rs = read_store_set(folder)
    runs = rs.vot_runs_for("bag")
    assert runs is not None and [r.repetition for r in runs] == [1, 2] and not rs.runs
    assert isinstance(runs[0], VotRun)
