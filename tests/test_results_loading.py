"""Loading the result sets a command works on (evalkit.results.loading): variants of one tracker named by the
parameter that differs, only the asked protocol's store folders read, folder kinds told apart by structure and a
typed exception."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import evalkit.results.discovery as discovery
from evalkit.errors import EvalkitError
from evalkit.results import DuplicateTrackerError, discover_results, load_result_sets, store_folders
from evalkit.store import ResultStore, RunMeta, fingerprint


def _stored(root: Path, tracker: str, params: dict[str, object], protocol: str = "ope",
            suite: str = "otb100") -> Path:
    """A store folder of ``tracker`` under ``root`` (the runner's layout) with one finished run on Couple."""
    store = ResultStore(root)
    fp = fingerprint(tracker, params, None)
    folder = store.tracker_folder(suite, protocol, tracker, fp)
    store.open_run_set(folder, RunMeta(tracker=tracker, params=params, fingerprint=fp, suite=suite,
                                       protocol=protocol))
    store.write_run(folder, "Couple", "ope", np.ones((3, 4)), np.ones(3), {"status": "ok", "start_frame": 1})
    return folder


def test_variants_are_named_by_the_parameter_that_differs(tmp_path: Path) -> None:
    """Two runs of one tracker with different parameters: name[key=value] (only the differing keys), which renames
    map to the printed names; the rest keep their label."""
    _stored(tmp_path, "mine", {"cf": "none", "lr": 0.1})
    _stored(tmp_path, "mine", {"cf": "first", "lr": 0.1})
    _stored(tmp_path, "mine", {"cf": "second", "lr": 0.1})
    sets = load_result_sets([tmp_path], [("mine[cf=none]", "Baseline")])
    assert sorted(rs.tracker for rs in sets) == ["Baseline", "mine[cf=first]", "mine[cf=second]"]


def test_identical_parameters_are_named_by_fingerprint(tmp_path: Path) -> None:
    """Runs whose run.json parameters agree (weights changed, say) are told apart by their folder's fingerprint."""
    for i in range(2):
        folder = tmp_path / "otb100" / "ope" / f"mine@{i}{i}{i}"
        ResultStore(tmp_path).open_run_set(folder, RunMeta(tracker="mine", params={"a": 1}, protocol="ope",
                                                           fingerprint=f"{i}"))
        (folder / "Couple.txt").write_text("1,2,3,4\n")
    assert sorted(rs.tracker for rs in load_result_sets([tmp_path], [])) == ["mine@000", "mine@111"]


def test_only_the_asked_protocols_store_folders_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a protocol, store folders recorded under another are never read (their files may be anything); without
    one, one tracker under two protocols is an error that names both folders."""
    ope = _stored(tmp_path, "kcf", {})
    tre = _stored(tmp_path, "kcf", {}, protocol="tre")
    read: list[Path] = []
    real = discovery.read_store_set
    monkeypatch.setattr(discovery, "read_store_set", lambda folder: read.append(folder) or real(folder))
    [rs] = load_result_sets([tmp_path], [], protocol="ope")
    assert rs.tracker == "kcf" and rs.source == ope and read == [ope]
    assert load_result_sets([tre.parent], [], protocol="ope") == []  # only TRE folders there: no sets
    with pytest.raises(EvalkitError, match=r"several protocols \(ope, tre\)"):
        load_result_sets([tmp_path], [])


def test_user_renames_override_the_archive_name_map(shared_dir: Path) -> None:
    """Archive names are mapped by the built-in map (cf2camera -> CFNet-conv2) unless the user renames them."""
    release = shared_dir / "data" / "results" / "otb100_cfnet_release"
    names = {rs.tracker for rs in load_result_sets([release], [("siamfc3s", "Mine")])}
    assert {"Mine", "CFNet-conv2"} <= names and "SiamFC-3s" not in names


def test_duplicate_names_are_a_typed_error(tmp_path: Path) -> None:
    """One tracker name in two non-store folders: DuplicateTrackerError with the name and both places, which loading
    passes on (only store folders are variants to tell apart)."""
    for parent in ("a", "b"):
        (tmp_path / parent / "KCF").mkdir(parents=True)
        (tmp_path / parent / "KCF" / "Couple.txt").write_text("1,2,3,4\n")
    with pytest.raises(DuplicateTrackerError) as info:
        discover_results(tmp_path)
    assert info.value.tracker == "KCF" and info.value.sources == [tmp_path / "a" / "KCF", tmp_path / "b" / "KCF"]
    with pytest.raises(DuplicateTrackerError):
        load_result_sets([tmp_path], [])
    with pytest.raises(EvalkitError, match="is in both"):  # two --results folders holding one name
        load_result_sets([tmp_path / "a", tmp_path / "b"], [])


def test_an_archive_tracker_named_as_a_stored_one_asks_for_a_rename(shared_dir: Path, tmp_path: Path) -> None:
    """evalkit's cfnet-conv2 beside the authors' CFNet-conv2 (compare --frames against the release): not variants of
    one tracker, and not a protocol clash: the error names both places and the --rename that tells them apart."""
    folder = _stored(tmp_path / "store", "cfnet-conv2", {"variant": "conv2"})
    release = shared_dir / "data" / "results" / "otb100_cfnet_release"
    with pytest.raises(EvalkitError) as info:
        load_result_sets([folder.parent, release], [])
    message = str(info.value)
    assert "'cfnet-conv2' is in both" in message and str(folder) in message and "--rename CFNet-conv2=" in message
    sets = load_result_sets([folder.parent, release], [("CFNet-conv2", "authors")])
    assert {"cfnet-conv2", "authors"} <= {rs.tracker for rs in sets}


def test_store_folders_are_found_by_structure(tmp_path: Path) -> None:
    """Store folders one to three levels down (the store root, a suite's or a protocol's folder), by their run.json."""
    folders = [_stored(tmp_path, "kcf", {}), _stored(tmp_path, "csrt", {}, suite="uav123")]
    (tmp_path / "stray").mkdir()
    (tmp_path / "stray" / "run.json").mkdir()  # a folder named run.json is not a store's run.json
    assert store_folders(tmp_path) == sorted(folders)
    assert store_folders(tmp_path / "otb100") == [folders[0]]
