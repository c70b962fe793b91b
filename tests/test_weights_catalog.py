"""The weights catalog against the reference files: every entry's sha256, licence and source; the train-only
entries; refusal of a cache / EVALKIT_WEIGHTS file that is not the published one (explicit paths are used and
labelled instead); the untrained and digest label suffixes; `evalkit weights list`; the Makefile default."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from trackers.weights import (
    CATALOG,
    TRAIN_ONLY,
    MissingWeightsError,
    TrainOnly,
    WeightsError,
    WeightsMismatchError,
    _by_name,
    fetch,
    is_untrained,
    label_suffix,
    resolve_weights,
    sha256_of,
    tracker_label_suffix,
    weights_digest,
    weights_status,
)

REPO = Path(__file__).resolve().parent.parent
# The seed trackers' networks and how each one gets its weights (issue 12): a published file or training.
PUBLISHED = ("siamfc", "fdsiamfc30", "fdsiamfc15", "fdsiamd", "dcfnet", "cfnet-conv1", "cfnet-conv1-gray",
             "cfnet-conv2", "cfnet-conv2-gray", "baseline-cf-conv3", "baseline-cf-conv3-gray")
TRAINED_ONLY = ("cfnet-conv5", "baseline-conv5", "dcffnet")


def _corrupt_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    data = bytearray(src.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dst.write_bytes(bytes(data))


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_entry_matches_the_reference_file(name: str, shared_dir: Path) -> None:
    entry = CATALOG[name]
    path = shared_dir / "weights" / entry.relpath
    assert path.is_file(), f"{name}: {path} missing from the reference folder"
    assert sha256_of(path) == entry.sha256
    assert entry.url.startswith("https://") and entry.url.endswith(Path(entry.relpath).name)
    provenance = (path.parent / "PROVENANCE.md").read_text()
    assert entry.sha256 in provenance  # the catalog digest is the one the provenance records
    assert entry.licence != "unknown" and entry.licence in provenance


def test_every_seed_network_has_a_published_or_train_only_entry() -> None:
    assert set(PUBLISHED) <= set(CATALOG)
    assert set(TRAINED_ONLY) <= set(TRAIN_ONLY)
    assert not set(CATALOG) & set(TRAIN_ONLY)
    for name in TRAINED_ONLY:
        assert f"evalkit train --tracker {name}" in TRAIN_ONLY[name].how


def test_a_name_defined_twice_is_an_error() -> None:
    t = TrainOnly("x", "nowhere", "evalkit train --tracker x")
    with pytest.raises(ValueError, match="'x' is defined twice"):
        _by_name(t, t)


@pytest.mark.parametrize("place", ["env", "cache"])
def test_a_file_with_another_sha256_is_refused(place: str, isolated: Path, shared_dir: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    folder = isolated / "weights" if place == "env" else isolated / "cache" / "weights"
    if place == "env":
        monkeypatch.setenv("EVALKIT_WEIGHTS", str(folder))
    bad = folder / "fdsiamfc" / "FDSiamfc_15.pth"
    _corrupt_copy(shared_dir / "weights" / "fdsiamfc" / "FDSiamfc_15.pth", bad)
    actual = sha256_of(bad)
    with pytest.raises(WeightsMismatchError) as info:
        resolve_weights("fdsiamfc15")
    message = str(info.value)
    assert str(bad) in message and actual in message and CATALOG["fdsiamfc15"].sha256 in message
    assert "evalkit weights fetch fdsiamfc15" in message
    with pytest.raises(WeightsMismatchError):
        resolve_weights("fdsiamfc/FDSiamfc_15.pth")  # by relpath: the same entry, the same check
    status = weights_status("fdsiamfc15")
    assert status.path == bad and status.sha256 == actual and not status.ok


def test_an_explicit_file_is_used_and_its_digest_labels_the_run(isolated: Path, shared_dir: Path) -> None:
    bad = isolated / "mine.pth"
    _corrupt_copy(shared_dir / "weights" / "fdsiamfc" / "FDSiamfc_15.pth", bad)
    assert resolve_weights("fdsiamfc15", bad) == bad
    d = weights_digest("fdsiamfc15", bad)
    assert d.path == bad and d.explicit and d.sha256 == sha256_of(bad) and not d.published
    assert d.expected == CATALOG["fdsiamfc15"].sha256
    good = weights_digest("fdsiamfc15", shared_dir / "weights" / "fdsiamfc" / "FDSiamfc_15.pth")
    assert good.published


def test_sha256_is_recomputed_when_the_file_changes(tmp_path: Path) -> None:
    f = tmp_path / "w.bin"
    f.write_bytes(b"a")
    first = sha256_of(f)
    f.write_bytes(b"bb")
    assert sha256_of(f) != first == "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"


def test_missing_weights_list_every_place_and_the_fixes(isolated: Path, shared_dir: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALKIT_SHARED", str(shared_dir))
    with pytest.raises(MissingWeightsError) as info:
        resolve_weights("fdsiamd")
    assert info.value.looked == [isolated / "cache" / "weights" / "fdsiamfc" / "FDSiamd.pth"]
    message = str(info.value)
    assert "evalkit weights fetch fdsiamd" in message
    assert f"export EVALKIT_WEIGHTS={(shared_dir / 'weights').resolve()}" in message


def test_train_only_networks_cannot_be_fetched(isolated: Path) -> None:
    with pytest.raises(WeightsError, match=r"must be trained: evalkit train --tracker baseline-conv5"):
        fetch("baseline-conv5")


def test_untrained_and_digest_label_suffixes() -> None:
    from trackers.fdsiamfc import FDSiamFC15

    untrained = FDSiamFC15(random_init=True).params
    trained = FDSiamFC15(weights="x.pth").params
    assert is_untrained(untrained) and not is_untrained(trained)
    assert label_suffix(untrained, "random-init-seed0") == " [untrained]"
    published = CATALOG["fdsiamfc15"].sha256
    assert label_suffix(trained, published, "fdsiamfc15") == ""
    assert label_suffix(trained, published) == ""  # any catalog file counts when no entry is named
    assert label_suffix(trained, CATALOG["fdsiamfc30"].sha256, "fdsiamfc15") == \
        f" [weights {CATALOG['fdsiamfc30'].sha256[:12]}]"
    assert label_suffix(trained, "ab" * 32) == " [weights abababababab]"
    assert label_suffix(trained, None) == ""
    assert not is_untrained(object())  # a tracker without the parameter is never "untrained"
    assert is_untrained({"random_init": True}) and is_untrained({"random_init": "true"})  # run.json / --param
    assert not is_untrained({"random_init": False}) and not is_untrained({"random_init": "false"})
    assert label_suffix({"random_init": True, "scale_num": 3}, "random-init-seed0") == " [untrained]"


def test_tracker_label_suffix(isolated: Path, shared_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trackers.fdsiamfc import FDSiamFC15

    monkeypatch.setenv("EVALKIT_WEIGHTS", str(shared_dir / "weights"))
    mine = isolated / "mine.pth"
    _corrupt_copy(shared_dir / "weights" / "fdsiamfc" / "FDSiamfc_15.pth", mine)
    assert tracker_label_suffix(FDSiamFC15(random_init=True)) == " [untrained]"
    assert tracker_label_suffix(FDSiamFC15()) == ""  # the published file, found through EVALKIT_WEIGHTS
    assert tracker_label_suffix(FDSiamFC15(weights=str(mine))) == f" [weights {sha256_of(mine)[:12]}]"


def test_weights_list_shows_licence_digest_place_and_train_only(isolated: Path, shared_dir: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from evalkit.cli import main

    env = isolated / "weights"
    shutil.copytree(shared_dir / "weights" / "dcfnet", env / "dcfnet")
    _corrupt_copy(shared_dir / "weights" / "fdsiamfc" / "FDSiamd.pth", env / "fdsiamfc" / "FDSiamd.pth")
    monkeypatch.setenv("EVALKIT_WEIGHTS", str(env))
    monkeypatch.setenv("EVALKIT_SHARED", str(shared_dir))
    assert main(["weights", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    row = {line.split()[0]: line for line in lines if line and not line.startswith(" ")}
    assert row["dcfnet"].split()[1:3] == ["MIT", "8a9c2ad0a259"]
    assert f"yes: {env / 'dcfnet' / 'param.pth'} ($EVALKIT_WEIGHTS)" in row["dcfnet"]
    assert "REFUSED" in row["fdsiamd"] and "evalkit weights fetch fdsiamd" in row["fdsiamd"]
    assert "no: evalkit weights fetch siamfc" in row["siamfc"]
    assert "must be trained: evalkit train --tracker dcffnet" in row["dcffnet"]
    assert any("from foolwood/DCFNet_pytorch track/param.pth" in line for line in lines)
    assert lines[-1] == f"missing files are in a reference folder: export EVALKIT_WEIGHTS={shared_dir / 'weights'}"


def test_make_demo_and_test_default_evalkit_weights_to_the_shared_folder(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    (tmp_path / "weights").mkdir()

    def database(env: dict[str, str]) -> str:
        # -p prints the rule database (target-specific variables included), -q runs no recipe
        return subprocess.run(["make", "-pq", f"SHARED={tmp_path}", "clean"], cwd=REPO, capture_output=True,
                              text=True, env=env, check=False).stdout

    base = {"PATH": "/usr/bin:/bin"}
    text = database(base)
    for target in ("demo", "test"):
        assert f"{target}: EVALKIT_WEIGHTS := {tmp_path / 'weights'}" in text
    assert "EVALKIT_WEIGHTS :=" not in database({**base, "EVALKIT_WEIGHTS": "/mine"})  # the user's setting wins
    shutil.rmtree(tmp_path / "weights")
    assert "EVALKIT_WEIGHTS :=" not in database(base)  # no folder, no default
