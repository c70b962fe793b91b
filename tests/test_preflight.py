"""Preflight: every problem of a run listed at once, each with the flag or command that fixes it: a temporary OTB
data root with a missing frame and a sequence without frames, a typo'd sequence, a missing and a refused weights file,
a typo'd parameter and tracker, data roots that are absent, missing or in the wrong layout; a ready run has none."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evalkit.preflight import PreflightError, Problem, format_problems, preflight, require_ready

SEQS = ("Couple", "Crossing", "Dog1")


@pytest.fixture()
def nowhere(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``isolated``, and no ../shared beside the working folder: no ready-made EVALKIT_WEIGHTS hint."""
    monkeypatch.delenv("EVALKIT_SHARED", raising=False)
    monkeypatch.chdir(isolated)
    return isolated


@pytest.fixture()
def otb_root(tmp_path: Path, shared_dir: Path) -> Path:
    """OTB dataset layout: Couple complete, Crossing without frame 0057, Dog1 without an img folder (empty frames:
    preflight checks that images exist, it does not decode them)."""
    root = tmp_path / "otb"
    for name in SEQS:
        src = shared_dir / "data" / "sequences" / name
        (root / name).mkdir(parents=True)
        shutil.copy(src / "groundtruth_rect.txt", root / name / "groundtruth_rect.txt")
        if name != "Dog1":
            (root / name / "img").mkdir()
            for frame in (src / "img").iterdir():
                (root / name / "img" / frame.name).touch()
    (root / "Crossing" / "img" / "0057.jpg").unlink()
    return root


def _by_subject(problems: list[Problem]) -> dict[str, Problem]:
    subjects = [p.subject for p in problems]
    assert len(subjects) == len(set(subjects)), subjects
    return {p.subject: p for p in problems}


def test_every_problem_at_once(nowhere: Path, otb_root: Path) -> None:
    problems = preflight(["fdsiamfc15", "kfc"], {"fdsiamfc15": {"scale_stp": "1.05"}}, ["otb100"],
                         {"otb100": otb_root}, sequences=[*SEQS, "Coupel"])
    found = _by_subject(problems)
    assert set(found) == {"fdsiamfc15.scale_stp", "fdsiamfc15", "kfc", "otb100/Coupel", "otb100/Dog1",
                          "otb100/Crossing"}
    typo = found["fdsiamfc15.scale_stp"]
    assert typo.kind == "parameter" and typo.fix == "--param fdsiamfc15.scale_step=1.05"
    weights = found["fdsiamfc15"]
    assert weights.kind == "weights" and "looked in: " in weights.message
    assert str(nowhere / "cache" / "weights" / "fdsiamfc" / "FDSiamfc_15.pth") in weights.message
    assert weights.fix.startswith("evalkit weights fetch fdsiamfc15") and "export EVALKIT_WEIGHTS=" in weights.fix
    assert found["kfc"].fix == "--trackers kcf"
    assert found["otb100/Coupel"].fix == "--sequences Couple in place of Coupel"
    frames = found["otb100/Crossing"]
    assert frames.kind == "frames" and "1 of 120 frame images missing" in frames.message
    assert str(otb_root / "Crossing" / "img" / "0057.jpg") in frames.message
    assert found["otb100/Dog1"].kind == "frames" and found["otb100/Dog1"].message == "no frame folder on disk"
    text = format_problems(problems)
    assert text.startswith("evalkit: 6 problems found before running anything\n")
    assert text.count("fix: ") == 6


def test_the_shared_folder_is_offered_as_evalkit_weights(nowhere: Path, shared_dir: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALKIT_SHARED", str(shared_dir))
    [problem] = preflight(["fdsiamfc15"])
    assert problem.fix.startswith(f"export EVALKIT_WEIGHTS={(shared_dir / 'weights').resolve()}  (or: evalkit")


def test_ready_run_has_no_problem(nowhere: Path, otb_root: Path, shared_dir: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALKIT_WEIGHTS", str(shared_dir / "weights"))
    assert preflight(["fdsiamfc15", "kcf"], {"FDSiamFC15": {"scale_step": "1.05"}}, ["otb100"],
                     {"otb100": otb_root}, sequences=["couple"]) == []
    require_ready(["fdsiamfc15"])  # returns quietly


def test_refused_weights_and_explicit_files(nowhere: Path, shared_dir: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    bad = nowhere / "weights" / "fdsiamfc" / "FDSiamfc_15.pth"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not the published file")
    monkeypatch.setenv("EVALKIT_WEIGHTS", str(nowhere / "weights"))
    [refused] = preflight(["fdsiamfc15"])
    assert "not the published fdsiamfc15" in refused.message and str(bad) in refused.message
    assert refused.fix.startswith(f"rm {bad} && evalkit weights fetch fdsiamfc15")
    assert preflight(["fdsiamfc15"], {"fdsiamfc15": {"weights": str(bad)}}) == []  # named explicitly: used
    [gone] = preflight(["fdsiamfc15"], {"fdsiamfc15": {"weights": str(nowhere / "nope.pth")}})
    assert "nope.pth does not exist" in gone.message
    assert preflight(["fdsiamfc15"], {"fdsiamfc15": {"random_init": "true"}}) == []  # untrained: no file needed
    [both] = preflight(["fdsiamfc15"], {"fdsiamfc15": {"random_init": "true", "weights": str(bad)}})
    assert "both weights and random_init" in both.message


def test_train_only_networks_and_bad_values(nowhere: Path) -> None:
    found = _by_subject(preflight(["cfnet-conv5", "fdsiamfc15"], {"fdsiamfc15": {"scale_num": "two",
                                                                                "random_init": "true"},
                                                                 "fdsiamfc": {"scale_num": "3"}}))
    assert found["cfnet-conv5"].fix.startswith("must be trained: evalkit train --tracker cfnet-conv5")
    assert found["fdsiamfc15.scale_num"].fix == "--param fdsiamfc15.scale_num=<int>"
    assert found["fdsiamfc"].fix == "--param fdsiamfc15.scale_num=..."  # a --param for a tracker not run
    [even] = preflight(["fdsiamfc15"], {"fdsiamfc15": {"scale_num": "2", "random_init": "true"}})
    assert even.subject == "fdsiamfc15.scale_num" and "scale_num must be odd" in even.message


def test_data_root_problems(nowhere: Path, otb_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVALKIT_DATA_UAV123", raising=False)
    empty = nowhere / "empty"
    empty.mkdir()
    found = _by_subject(preflight([], None, ["otb100", "otb50", "uav123", "tc128", "otb1000"],
                                  {"otb100": otb_root, "otb50": empty, "tc128": nowhere / "nope"}))
    assert found["otb100"].kind == "data" and "97 of 100 sequences are not in" in found["otb100"].message
    assert found["otb100"].fix.startswith("--allow-partial")
    assert "holds none of the otb50 sequences" in found["otb50"].message
    assert found["otb50"].fix.startswith("--data-root otb50=PATH where PATH holds <Seq>/groundtruth_rect.txt")
    assert found["uav123"].message == "no data root for uav123 (none given or configured)"
    assert found["uav123"].fix.startswith("--data-root uav123=PATH (or [datasets] uav123")
    assert "export EVALKIT_DATA_UAV123=PATH" in found["uav123"].fix
    assert found["tc128"].message == f"data root {nowhere / 'nope'} does not exist"
    assert found["otb1000"].fix == "--suite otb100"
    partial = preflight([], None, ["otb100"], {"otb100": otb_root}, allow_partial=True)
    assert [p.subject for p in partial] == ["otb100/Dog1", "otb100/Crossing"]  # the frames are still checked


def test_a_malformed_ground_truth_names_the_file(nowhere: Path, otb_root: Path) -> None:
    gt = otb_root / "Couple" / "groundtruth_rect.txt"
    gt.write_text(gt.read_text().replace("\n", "\n1,2,3\n", 1))
    found = _by_subject(preflight([], None, ["otb100"], {"otb100": otb_root}, sequences=["Couple"]))
    assert found["otb100/Couple"].kind == "data" and str(gt) in found["otb100/Couple"].message
    assert found["otb100/Couple"].fix == f"repair or replace {gt}"


def test_preflight_error_lists_everything(nowhere: Path) -> None:
    with pytest.raises(PreflightError) as info:
        require_ready(["kfc", "mose"])
    assert [p.subject for p in info.value.problems] == ["kfc", "mose"]
    assert "2 problems" in str(info.value) and "--trackers mosse" in str(info.value)


def test_importing_preflight_imports_neither_torch_nor_trackers() -> None:
    code = "import sys, evalkit.preflight; print('torch' in sys.modules, 'trackers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_ground_truth_without_frames_is_one_problem(nowhere: Path, shared_dir: Path) -> None:
    [problem] = preflight([], None, ["otb100"], {"otb100": shared_dir / "data" / "otb100"})
    assert problem.kind == "frames" and problem.subject == "otb100"
    assert problem.message.startswith("no frame folder on disk for ") and "(100 in all)" in problem.message


def test_the_seed_trackers_are_ready_with_the_shared_weights(nowhere: Path, shared_dir: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    seeds = ["siamfc", "cfnet", "dcfnet"]
    missing = preflight(seeds)
    assert [(p.kind, p.subject) for p in missing] == [("weights", s) for s in seeds]
    monkeypatch.setenv("EVALKIT_WEIGHTS", str(shared_dir / "weights"))  # what make demo / make test set
    assert preflight(seeds) == []


def test_sequences_missing_from_the_root_or_unknown(nowhere: Path, otb_root: Path) -> None:
    found = _by_subject(preflight([], None, ["otb100"], {"otb100": otb_root}, sequences=["couple", "Bolt", "qqq"]))
    assert set(found) == {"otb100/Bolt", "otb100/qqq"}
    assert found["otb100/Bolt"].message.startswith(f"not in {otb_root}")
    assert found["otb100/qqq"].fix.startswith("--sequences NAMES of otb100 (e.g. ")
