"""Issue 15, parsing half: no input file crashes a scoring run. Each case builds its bad file in a temporary folder
and checks the one-line error (file, line where there is one, problem) and that everything else is still scored."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from evalkit.cli import main
from evalkit.config import load_config
from evalkit.datasets import load_suite
from evalkit.datasets.base import read_box_file
from evalkit.errors import InputFileError
from evalkit.results import discover_results, mat_guard, read_mat_folder, read_otb_mat, read_text_set, read_vot_set
from evalkit.results.otb_mat import ivt_affine_to_xywh

BINARY = b"\x89PNG\r\n\x1a\n\x00\xff\xfe\x80garbage"


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = main(args)
    out, err = capsys.readouterr()
    return rc, out, err


def _text_results(shared_dir: Path, root: Path, trackers: tuple[str, ...] = ("A", "B")) -> list[str]:
    """Ground truth written as every tracker's results for the 7 shared OTB sequences; returns their names."""
    suite = load_suite("otb100", shared_dir / "data" / "sequences")
    for t in trackers:
        (root / t).mkdir(parents=True)
        for seq in suite:
            np.savetxt(root / t / f"{seq.name}.txt", seq.ground_truth, fmt="%.4f", delimiter=",")
    return [s.name for s in suite]


def _score_json(shared_dir: Path, results: Path, capsys: pytest.CaptureFixture[str],
                *extra: str) -> tuple[int, dict, str]:
    rc, out, err = run_cli(["score", "--suite", "otb100", "--data-root", str(shared_dir / "data" / "sequences"),
                            "--results", str(results), "--allow-partial", "--format", "json", *extra], capsys)
    return rc, (json.loads(out) if out.strip() else {}), err


# -- 1. binary / non-UTF-8 files ------------------------------------------------------------------------------------
def test_binary_result_file_is_named_and_the_rest_scored(shared_dir: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    names = _text_results(shared_dir, tmp_path / "r")
    bad = tmp_path / "r" / "A" / "Couple.txt"
    bad.write_bytes(b"1,2,3,4\n" + BINARY)
    rc, obj, err = _score_json(shared_dir, tmp_path / "r", capsys)
    assert rc == 0
    assert f"{bad}:2: not a UTF-8 text file" in err
    assert obj["trackers"]["A"]["n_sequences"] == len(names) - 1 and obj["trackers"]["A"]["complete"] is False
    assert obj["trackers"]["B"]["n_sequences"] == len(names) and obj["trackers"]["B"]["complete"] is True


def test_binary_ground_truth_costs_its_sequence(shared_dir: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    for d in (shared_dir / "data" / "sequences").iterdir():
        if d.is_dir():  # frames are not needed to score: ground truth only
            (data / d.name).mkdir(parents=True)
            for gt in d.glob("groundtruth_rect*.txt"):  # Jogging has groundtruth_rect.1.txt and .2.txt
                shutil.copy(gt, data / d.name / gt.name)
    (data / "Dog1" / "groundtruth_rect.txt").write_bytes(BINARY)
    names = _text_results(shared_dir, tmp_path / "r", ("A",))
    rc, out, err = run_cli(["score", "--suite", "otb100", "--data-root", str(data), "--results",
                            str(tmp_path / "r"), "--allow-partial", "--format", "json"], capsys)
    assert rc == 0
    assert f"{data / 'Dog1' / 'groundtruth_rect.txt'}:1: not a UTF-8 text file" in err
    assert json.loads(out)["trackers"]["A"]["n_sequences"] == len(names) - 1


def test_binary_vot_run_and_config(tmp_path: Path) -> None:
    seq = tmp_path / "T" / "baseline" / "ants1"
    seq.mkdir(parents=True)
    (seq / "ants1_001.txt").write_text("1\n0\n10,10,20,20\n")
    (seq / "ants1_002.txt").write_bytes(b"1\n" + BINARY)
    rs = read_vot_set(tmp_path / "T")
    assert [str(p) for p in rs.problems] == [f"{seq / 'ants1_002.txt'}:2: not a UTF-8 text file (byte 0x89 at "
                                            f"offset 2)"]
    assert len(rs.vot_runs_for("ants1") or []) == 1
    cfg = tmp_path / "evalkit.toml"
    cfg.write_bytes(b"[run]\nworkers = 2\n" + BINARY)
    with pytest.raises(InputFileError, match=r"evalkit.toml:3: not a UTF-8 text file"):
        load_config(cfg)


# -- 2. a .mat file that would crash scipy's parser ------------------------------------------------------------------
def _mat_folder(shared_dir: Path, tmp_path: Path) -> Path:
    src = shared_dir / "data" / "results" / "otb100_cfnet_release" / "results_SiamFC-3s_OTB-100"
    out = tmp_path / "mats"
    out.mkdir()
    for seq in ("Couple", "Crossing", "Dog1"):
        shutil.copy(src / f"{seq}_siamfc3s.mat", out)
    return out


def test_corrupt_mat_costs_that_file_only(shared_dir: Path, tmp_path: Path) -> None:
    """A changed byte in the compressed element: the in-process check refuses it, the child process names it."""
    folder = _mat_folder(shared_dir, tmp_path)
    bad = folder / "Couple_siamfc3s.mat"
    data = bytearray(bad.read_bytes())
    data[200] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(mat_guard.Suspicious):
        mat_guard.check_mat5(bytes(data))
    (rs,) = read_mat_folder(folder)
    assert len(rs.problems) == 1 and str(rs.problems[0]).startswith(f"{bad}: ")
    assert rs.runs_for("Couple") is None
    assert rs.runs_for("Crossing") is not None and rs.runs_for("Dog1") is not None


def test_a_parser_crash_is_one_files_problem(shared_dir: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """scipy 1.17.1 here survived every one-byte change tried (see the report); the crash itself is what must be
    contained, so the child's parser is made to die of SIGSEGV, as scipy did on the issue's machine."""
    folder = _mat_folder(shared_dir, tmp_path)
    bad = folder / "Dog1_siamfc3s.mat"
    data = bytearray(bad.read_bytes())
    data[132] ^= 0x01  # the compressed element's declared size: no longer the file's
    bad.write_bytes(bytes(data))
    monkeypatch.setattr(mat_guard, "_CHILD", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    (rs,) = read_mat_folder(folder)
    assert [str(p) for p in rs.problems] == [f"{bad}: corrupt MATLAB file (the element at byte 128 declares "
                                            f"{int.from_bytes(data[132:136], 'little')} bytes, past its end "
                                            f"({len(data)})); scipy's parser crashed on it (signal 11)"]
    assert rs.runs_for("Couple") is not None and rs.runs_for("Crossing") is not None


def test_every_shared_mat_file_passes_the_check(shared_dir: Path) -> None:
    """No real result file goes the slow way (a child process each)."""
    for path in sorted((shared_dir / "data" / "results").rglob("*.mat"))[::7]:
        mat_guard.check_mat5(path.read_bytes())


# -- 3. .mat structs with odd contents -------------------------------------------------------------------------------
ODD_STRUCTS = [
    ({"res": np.ones((5, 4)), "type": "rect", "startFrame": np.nan}, "startFrame must be one whole frame number"),
    ({"res": np.ones((5, 4)), "type": "rect", "startFrame": "one"}, "startFrame must be numbers"),
    ({"res": "boxes", "type": "rect"}, r"res must be numbers"),
    ({"res": np.ones((5, 4, 2)), "type": "rect"}, r"res must be a matrix"),
    ({"res": np.ones((5, 3)), "type": "ivtAff", "tmplsize": [32, 32]}, "6 affine parameters"),
    ({"res": np.ones((5, 6)), "type": "ivtAff", "tmplsize": np.zeros((0, 0))}, "tmplsize must hold"),
    ({"res": np.ones((5, 4)), "type": 7}, "type must be text"),
]


@pytest.mark.parametrize(("record", "message"), ODD_STRUCTS)
def test_odd_mat_structs_are_named(tmp_path: Path, record: dict, message: str) -> None:
    good = tmp_path / "Crossing_T.mat"
    scipy.io.savemat(good, {"results": np.array([{"res": np.ones((120, 4)), "type": "rect"}], dtype=object)})
    bad = tmp_path / "Couple_T.mat"
    scipy.io.savemat(bad, {"results": np.array([record], dtype=object)})
    with pytest.raises(InputFileError, match=message):
        read_otb_mat(bad)
    (rs,) = read_mat_folder(tmp_path)
    assert len(rs.problems) == 1 and str(rs.problems[0]).startswith(f"{bad}: ")
    assert rs.runs_for("Crossing") is not None


def test_ivt_affine_checks_its_inputs() -> None:
    with pytest.raises(ValueError, match="6 affine parameters"):
        ivt_affine_to_xywh(np.ones((3, 3)), np.array([32, 32]))
    with pytest.raises(ValueError, match="tmplsize"):
        ivt_affine_to_xywh(np.ones((3, 6)), np.array([]))


# -- 6. two files for one sequence -----------------------------------------------------------------------------------
def test_case_variants_of_one_sequence_are_refused(shared_dir: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    names = _text_results(shared_dir, tmp_path / "r")
    (tmp_path / "r" / "A" / "couple.txt").write_text("1,1,1,1\n" * 140)
    rs = read_text_set(tmp_path / "r" / "A", "A")
    assert len(rs.problems) == 1
    text = str(rs.problems[0])
    assert "Couple.txt" in text and "couple.txt" in text and "neither is scored" in text
    rc, obj, err = _score_json(shared_dir, tmp_path / "r", capsys)
    assert rc == 0 and "neither is scored" in err
    assert obj["trackers"]["A"]["n_sequences"] == len(names) - 1 and obj["trackers"]["B"]["complete"] is True


# -- 7. incomplete trackers in JSON and --strict ---------------------------------------------------------------------
def test_incomplete_tracker_is_flagged_in_json_and_by_strict(shared_dir: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    names = _text_results(shared_dir, tmp_path / "r")
    (tmp_path / "r" / "A" / "Dog1.txt").unlink()  # no problem in any file: just one sequence fewer
    rc, obj, _ = _score_json(shared_dir, tmp_path / "r", capsys)
    assert rc == 0
    assert (obj["trackers"]["A"]["n_sequences"], obj["trackers"]["A"]["complete"]) == (len(names) - 1, False)
    assert obj["trackers"]["B"]["complete"] is True
    rc, _, err = _score_json(shared_dir, tmp_path / "r", capsys, "--strict")
    assert rc == 3 and "not scored on every sequence: A" in err


def test_vot_json_carries_counts_and_table_marks(shared_dir: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "vot"
    src = shared_dir / "data" / "results" / "vot2018"
    tracker = sorted(d for d in src.iterdir() if d.is_dir())[0]
    shutil.copytree(tracker, results / tracker.name)
    first_seq = sorted((results / tracker.name / "baseline").iterdir())[0]
    shutil.rmtree(first_seq)
    base = ["score", "--suite", "vot2018", "--data-root", str(shared_dir / "data" / "vot2018" / "VOT2018.json"),
            "--results", str(results)]
    rc, out, _ = run_cli([*base, "--format", "json"], capsys)
    entry = json.loads(out)["trackers"][next(iter(json.loads(out)["trackers"]))]
    assert rc == 0 and entry["complete"] is False and entry["n_sequences"] == 59
    rc, out, _ = run_cli(base, capsys)
    assert " *" in out and "could not be scored" in out


# -- 9. sequence names that would leave their folder -----------------------------------------------------------------
@pytest.mark.parametrize("entry", ["..", ".", "a/b", "x\\y"])
def test_got10k_list_entries_are_validated(tmp_path: Path, entry: str) -> None:
    root = tmp_path / "val"
    (root / "GOT-10k_Val_000001").mkdir(parents=True)
    (root / "GOT-10k_Val_000001" / "groundtruth.txt").write_text("1,2,3,4\n5,6,7,8\n")
    (root / "list.txt").write_text(f"GOT-10k_Val_000001\n{entry}\n")
    suite = load_suite("got10k-val", tmp_path, collect=True)
    assert [s.name for s in suite] == ["GOT-10k_Val_000001"]
    assert len(suite.problems) == 1
    assert str(suite.problems[0]).startswith(f"{root / 'list.txt'}:2: {entry!r} is not a sequence name")
    with pytest.raises(InputFileError, match="is not a sequence name"):
        load_suite("got10k-val", tmp_path)


# -- 13. a corrupt run.json ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("content", "problem"), [
    (b"{not json", "1: invalid json"), (BINARY, "1: not a UTF-8 text file"),
    (b"[1, 2]", " run.json must hold a JSON object"), (b'{"tracker": 5}', " 'tracker' must be str")])
def test_corrupt_run_json_is_one_line_naming_it(shared_dir: Path, tmp_path: Path, content: bytes, problem: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """A store folder's run.json says what the folder is (tracker, protocol): a corrupt one stops the command with
    one line naming it (exit 2), as test_results_import pins, never a traceback."""
    _text_results(shared_dir, tmp_path / "r")
    run_json = tmp_path / "r" / "A" / "run.json"
    run_json.write_bytes(content)
    for command in ("score", "report"):
        args = [command, "--suite", "otb100", "--data-root", str(shared_dir / "data" / "sequences"), "--results",
                str(tmp_path / "r"), "--allow-partial"]
        if command == "report":
            args += ["--out", str(tmp_path / "report.html")]
        rc, _, err = run_cli(args, capsys)
        lines = err.strip().splitlines()
        assert rc == 2 and len(lines) == 1 and lines[0].startswith(f"evalkit: error: {run_json}:{problem}"), err


# -- 14. config errors name the line ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "line", "message"), [
    ("[scoring]\nprofile = 'otb-toolkit'\npaths = 5\n", None, None),  # a scalar key inside [scoring]: unknown key
    ("paths = 5\n", 1, r"\[paths\] must be a table"),
    ("# c\ndatasets = \"x\"\n", 2, r"\[datasets\] must be a table"),
    ("[run]\nworkers = 2\nbackend = 'lokky'\n", 3, "run.backend must be one of"),
    ("[paths]\nresults = 'r'\ncache = 3\n", 3, "paths.cache must be a string path"),
    ("[run]\n\nworkers = 0\n", 3, "run.workers must be a positive integer"),
    ("[data]\n", 1, r"unknown section \[data\]"),
    ("[run]\nworkers = \n", 2, "invalid TOML"),
])
def test_config_errors_carry_the_line(tmp_path: Path, text: str, line: int | None, message: str | None) -> None:
    cfg = tmp_path / "evalkit.toml"
    cfg.write_text(text)
    with pytest.raises(InputFileError) as info:
        load_config(cfg)
    if message is None:
        assert str(info.value) == f"{cfg}:3: unknown key scoring.paths; known: profile"
        return
    assert info.value.problem.line == line
    assert str(info.value).startswith(f"{cfg}:{line}: ")
    assert info.match(message)


def test_a_misspelled_backend_fails_a_command_that_runs_nothing(shared_dir: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "evalkit.toml"
    cfg.write_text("[run]\nbackend = 'dsak'\n")
    _text_results(shared_dir, tmp_path / "r", ("A",))
    rc, _, err = run_cli(["--config", str(cfg), "score", "--suite", "otb100", "--data-root",
                          str(shared_dir / "data" / "sequences"), "--results", str(tmp_path / "r"), "--allow-partial"],
                         capsys)
    assert rc == 2 and err.strip().splitlines() == [f"evalkit: error: {cfg}:2: run.backend must be one of loky, "
                                                    f"threading, dask, ray, sequential, got 'dsak'"]


# -- 15. stricter box parsing ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("line", "message"), [
    ("1,2,3,4#5,6,7,8", "expected 4 values"),
    ("1,,2,3,4", "empty field"),
    ("1,2,3,4,", "empty field"),
    ("1,2,inf,4", "infinite value"),
    ("-Infinity 2 3 4", "infinite value"),
])
def test_box_parser_refuses_what_it_used_to_guess(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "groundtruth.txt"
    path.write_text(f"1,2,3,4\n5,6,7,8\n{line}\n9,9,9,9\n")
    with pytest.raises(InputFileError, match=message) as info:
        read_box_file(path)
    assert info.value.problem.line == 3


@pytest.mark.parametrize("text", ["1,2,3,4\n5,6,7,8\n", "1\t2\t3\t4\n5\t6\t7\t8\n", "1 2 3 4\n5 6 7 8\n",
                                  "1, 2, 3, 4\r\n5, 6, 7, 8\r\n", "1,2,3,4\nNaN,NaN,NaN,NaN\n",
                                  "\ufeff1,2,3,4\n5;6;7;8\n"])
def test_box_parser_keeps_the_formats_toolkits_write(tmp_path: Path, text: str) -> None:
    path = tmp_path / "boxes.txt"
    path.write_text(text)
    assert read_box_file(path).shape == (2, 4)


def test_a_stored_runs_sequence_name_is_validated(tmp_path: Path) -> None:
    store = tmp_path / "kcf@0123"
    for seq, recorded in (("Couple", "../../Couple"), ("Dog1", "Dog1")):
        (store / seq).mkdir(parents=True)
        (store / seq / "ope.txt").write_text("1,2,3,4\n")
        (store / seq / "ope.json").write_text(json.dumps({"sequence": recorded, "label": "ope", "status": "ok"}))
    (store / "run.json").write_text(json.dumps({"tracker": "kcf"}))
    (rs,) = discover_results(tmp_path)
    assert len(rs.problems) == 1
    assert str(rs.problems[0]).startswith(f"{store / 'Couple' / 'ope.json'}: '../../Couple' is not a sequence name")
    assert rs.runs_for("Dog1") is not None and rs.runs_for("Couple") is None
