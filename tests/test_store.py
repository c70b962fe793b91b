"""The result store: run.json as one typed RunMeta (round trip, unknown and missing keys, corrupt files named), the
writer's fingerprint guard and stamping, the reader's view of what the writer wrote, and atomic writes."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from evalkit import __version__
from evalkit.errors import EvalkitError, InputFileError
from evalkit.geometry.region import VotCode
from evalkit.io import atomic_target, atomic_write_json, atomic_write_text
from evalkit.results import discover_results
from evalkit.store import (
    RESULT_FORMAT_VERSION,
    ResultStore,
    RunMeta,
    RunRecord,
    fingerprint,
    read_run_meta,
    read_store_set,
    store_params,
    store_protocol,
)

# ---------------------------------------------------------------- RunMeta: run.json


def test_run_meta_round_trip_through_the_file(tmp_path: Path) -> None:
    """Every field survives write then read; the file is the JSON object the keys name."""
    meta = RunMeta(tracker="kcf", tracker_ref="trackers.classic:KCF", params={"padding": 1.5, "hog": True},
                   weights_sha256="ab" * 32, fingerprint="0123456789ab", suite="otb100", protocol="tre",
                   device="cuda", seed=3, deterministic=False, data_root="/data/otb", start_frames={"David": 300},
                   result_format=1, evalkit_version="0.1.0", git_commit="c0ffee", host="h", created="2026-01-01")
    path = meta.write(tmp_path)
    assert path == tmp_path / "run.json"
    assert RunMeta.read(path) == meta
    raw = json.loads(path.read_text())
    assert raw["params"] == {"padding": 1.5, "hog": True} and raw["start_frames"] == {"David": 300}
    assert raw["protocol"] == "tre" and raw["seed"] == 3 and raw["deterministic"] is False


def test_missing_keys_are_none_and_unknown_keys_are_kept(tmp_path: Path) -> None:
    """A hand-made run.json with one key reads with the rest empty; keys this version does not know are written back."""
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"tracker": "mine", "note": "tuned by hand", "future_key": [1, 2]}))
    meta = RunMeta.read(path)
    assert meta.tracker == "mine" and meta.protocol is None and meta.params == {} and meta.start_frames == {}
    assert meta.extra == {"note": "tuned by hand", "future_key": [1, 2]}
    meta.write(tmp_path / "copy")
    again = json.loads((tmp_path / "copy" / "run.json").read_text())
    assert again["note"] == "tuned by hand" and again["future_key"] == [1, 2] and again["tracker"] == "mine"
    assert "start_frames" not in again  # written only when a folder has some


@pytest.mark.parametrize(("text", "line", "message"), [
    ('{\n "tracker": "x",\n oops\n}', 3, "invalid json"),
    ('["tracker"]', None, "must hold a JSON object"),
    ('{"tracker": 7}', None, "'tracker' must be str"),
    ('{"seed": true}', None, "'seed' must be int"),
    ('{"params": "padding=1"}', None, "'params' must be dict"),
    ('{"deterministic": 1}', None, "'deterministic' must be bool"),
    ('{"start_frames": {"David": "300"}}', None, "'start_frames' must map"),
])
def test_corrupt_run_json_is_an_error_naming_the_file(tmp_path: Path, text: str, line: int | None,
                                                      message: str) -> None:
    """Not JSON, not an object, or a key of the wrong type: an InputFileError with the file (and the line)."""
    path = tmp_path / "run.json"
    path.write_text(text)
    with pytest.raises(InputFileError, match=message) as info:
        RunMeta.read(path)
    assert info.value.problem.path == path and info.value.problem.line == line
    with pytest.raises(InputFileError):  # the reader of a set says the same, never a bare JSONDecodeError
        read_store_set(tmp_path)


def test_read_run_meta_is_none_outside_the_store(tmp_path: Path) -> None:
    """A folder without run.json is another layout (None); with one, its RunMeta."""
    assert read_run_meta(tmp_path) is None
    RunMeta(tracker="t", protocol="ope").write(tmp_path)
    meta = read_run_meta(tmp_path)
    assert meta is not None and meta.protocol == "ope"


def test_run_record_is_typed_and_knows_when_a_run_finished(tmp_path: Path) -> None:
    """A run's <label>.json: status ok means finished, no format means boxes, a wrong type names the file."""
    record = RunRecord.from_json({"sequence": "David", "label": "tre-03", "status": "ok", "start_frame": 30,
                                  "fps": 12, "note": "kept"}, tmp_path / "tre-03.json")
    assert record.finished and record.data_format == "boxes" and record.start_frame == 30 and record.fps == 12
    assert record.to_json()["note"] == "kept"
    assert not RunRecord(status="failed").finished and RunRecord(format="vot").data_format == "vot"
    with pytest.raises(InputFileError, match="'start_frame' must be int") as info:
        RunRecord.from_json({"start_frame": "30"}, tmp_path / "x.json")
    assert info.value.problem.path == tmp_path / "x.json"


# ---------------------------------------------------------------- writer


def _open(store: ResultStore, params: dict[str, object]) -> tuple[Path, RunMeta]:
    fp = fingerprint("kcf", params, None)
    folder = store.tracker_folder("otb100", "ope", "kcf", fp)
    meta = store.open_run_set(folder, RunMeta(tracker="kcf", params=params, fingerprint=fp, suite="otb100",
                                              protocol="ope", device="cpu", seed=0))
    return folder, meta


def test_open_run_set_stamps_and_guards_the_fingerprint(tmp_path: Path) -> None:
    """run.json gets the format version, evalkit version and date; reopening keeps it; another fingerprint in the
    same folder is refused (a changed parameter never mixes with stale results)."""
    store = ResultStore(tmp_path)
    folder, meta = _open(store, {"padding": 1.5})
    assert folder == tmp_path / "otb100" / "ope" / f"kcf@{meta.fingerprint}"
    assert meta.result_format == RESULT_FORMAT_VERSION and meta.evalkit_version == __version__ and meta.created
    assert RunMeta.read(folder / "run.json") == meta
    assert store.open_run_set(folder, RunMeta(tracker="kcf", fingerprint=meta.fingerprint)) == meta
    with pytest.raises(EvalkitError, match="refusing to mix results"):
        store.open_run_set(folder, RunMeta(tracker="kcf", fingerprint="ffffffffffff"))


def test_open_run_set_checks_a_mapping_as_a_read_run_json(tmp_path: Path) -> None:
    """A run.json-shaped mapping is accepted and checked like a file: a wrong type is an error naming run.json."""
    store = ResultStore(tmp_path)
    meta = store.open_run_set(tmp_path / "a", {"tracker": "kcf", "fingerprint": "f", "seed": 1, "custom": "x"})
    assert meta.seed == 1 and meta.extra == {"custom": "x"}
    with pytest.raises(InputFileError, match="'seed' must be int") as info:
        store.open_run_set(tmp_path / "b", {"tracker": "kcf", "seed": "one"})
    assert info.value.problem.path == tmp_path / "b" / "run.json"


def test_fingerprint_covers_name_parameters_and_weights() -> None:
    """Any change of what determines the results changes the fingerprint; key order does not."""
    base = fingerprint("kcf", {"a": 1, "b": 2}, "ab")
    assert base == fingerprint("kcf", {"b": 2, "a": 1}, "ab") and len(base) == 12
    assert len({base, fingerprint("kcf", {"a": 1, "b": 3}, "ab"), fingerprint("kcf", {"a": 1, "b": 2}, "cd"),
                fingerprint("csrt", {"a": 1, "b": 2}, "ab")}) == 4


# ---------------------------------------------------------------- reader: what the writer wrote


def test_reader_reads_what_the_writer_wrote(tmp_path: Path) -> None:
    """Box runs by label (tre-00 before tre-01) with their start frames, 4 decimals; failed runs and runs of
    another format left out; VOT-format runs read as VOT runs; protocol and parameters from run.json."""
    store = ResultStore(tmp_path)
    folder, _ = _open(store, {"padding": 1.5})
    boxes = np.array([[1.23456, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, np.nan]])
    store.write_run(folder, "Jogging-1", "tre-01", boxes[1:], np.array([0.1]), {"status": "ok", "start_frame": 2})
    store.write_run(folder, "Jogging-1", "tre-00", boxes, np.array([0.1, 0.2]), {"status": "ok", "start_frame": 1})
    store.write_failure(folder, "Jogging-1", "tre-02", {"status": "failed", "error": "boom"})
    store.write_run(folder, "ants1", "rep-002", "1\n0\n0\n", np.zeros(3), {"status": "ok", "format": "vot"})
    store.write_run(folder, "ants1", "rep-001", "1\n0\n10,20,30,40\n", np.zeros(3), {"status": "ok", "format": "vot"})
    rs = read_store_set(folder)
    assert rs.tracker == "kcf" and rs.source == folder and rs.problems == []
    runs = rs.runs_for("jogging_1")
    assert runs is not None and [r.start_frame for r in runs] == [1, 2]
    np.testing.assert_array_equal(runs[0].boxes, np.round(boxes, 4))
    assert rs.names["jogging-1"] == "Jogging-1"
    vot = rs.vot_runs_for("ants1")
    assert vot is not None and [r.repetition for r in vot] == [1, 2]
    assert list(vot[0].codes) == [VotCode.INIT, VotCode.SKIPPED, VotCode.REGION]
    assert store_protocol(rs) == "ope" and store_params(rs) == {"padding": 1.5}
    assert {(r.label, r.status) for r in store.records(folder)} >= {("tre-02", "failed"), ("tre-00", "ok")}
    assert store.finished(folder, "Jogging-1", "tre-00") and not store.finished(folder, "Jogging-1", "tre-02")


def test_reader_names_a_bad_run_file_and_reads_the_rest(tmp_path: Path) -> None:
    """A run record that is not JSON or has a wrong type, or boxes that do not parse, are problems of the set; other
    runs still count."""
    store = ResultStore(tmp_path)
    folder, _ = _open(store, {})
    store.write_run(folder, "Couple", "ope", np.ones((2, 4)), np.ones(2), {"status": "ok", "start_frame": 1})
    store.write_run(folder, "David", "ope", np.ones((2, 4)), np.ones(2), {"status": "ok", "start_frame": 1})
    (folder / "David" / "ope.txt").write_text("1,2,x,4\n")
    (folder / "Couple" / "tre-00.json").write_text("{oops")
    (folder / "Couple" / "tre-01.json").write_text('{"status": "ok", "start_frame": "one"}')
    rs = read_store_set(folder)
    assert rs.runs_for("Couple") is not None and rs.runs_for("David") is None
    assert {p.path.name for p in rs.problems} == {"ope.txt", "tre-00.json", "tre-01.json"}
    assert not store.finished(folder, "Couple", "tre-00")  # a record cut short is run again


def test_other_layouts_have_no_protocol(tmp_path: Path) -> None:
    """A text result folder records no protocol or parameters (None / empty), never the string 'None'."""
    (tmp_path / "KCF").mkdir()
    (tmp_path / "KCF" / "Couple.txt").write_text("1,2,3,4\n")
    [rs] = discover_results(tmp_path)
    assert store_protocol(rs) is None and store_params(rs) == {}


# ---------------------------------------------------------------- atomic writes


def test_atomic_target_leaves_nothing_on_failure(tmp_path: Path) -> None:
    """An exception inside the block removes the temporary file and leaves an existing target untouched."""
    target = tmp_path / "sub" / "out.txt"
    atomic_write_text(target, "old\n")
    with pytest.raises(RuntimeError), atomic_target(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old\n" and sorted(p.name for p in target.parent.iterdir()) == ["out.txt"]


def test_atomic_writes_get_the_usual_permissions(tmp_path: Path) -> None:
    """Files get 0o666 minus the umask (mkstemp alone would leave 0o600), JSON with sorted keys."""
    old = os.umask(0o022)
    try:
        atomic_write_json(tmp_path / "a.json", {"b": 1, "a": 2})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o644
    assert (tmp_path / "a.json").read_text() == '{\n "a": 2,\n "b": 1\n}\n'
