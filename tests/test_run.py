"""`evalkit run`: real frames, partial labels, scores equal `evalkit score`, resume after SIGKILL, failures isolated."""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from evalkit.cli import main
from evalkit.datasets import load_suite

REPO = Path(__file__).resolve().parents[1]


def run_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict, str]:
    """Run ``evalkit run ... --format json`` in-process; return status, the JSON object and stderr."""
    rc = main(["run", *args, "--format", "json", "--no-progress"])
    out, err = capsys.readouterr()
    return rc, json.loads(out), err


def test_run_on_real_frames_matches_score(shared_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """KCF and CSRT on four real OTB sequences with two workers: labelled partial, equal to `evalkit score`."""
    monkeypatch.chdir(tmp_path)
    data = shared_dir / "data" / "sequences"
    rc, obj, _ = run_json(["--trackers", "kcf,csrt", "--suite", "otb100", "--data-root", str(data),
                           "--sequences", "Couple,Crossing,Dog1,David", "--workers", "2",
                           "--results-dir", str(tmp_path / "res")], capsys)
    assert rc == 0
    [run] = obj["runs"]
    assert run["partial"] is True and run["suite"] == "otb100" and run["protocol"] == "ope"
    assert set(run["trackers"]) == {"kcf", "csrt"}
    assert Path(obj["report"]).is_file()
    assert run["trackers"]["csrt"]["n_sequences"] == 4 and run["trackers"]["csrt"]["n_frames"] == 2081
    assert run["trackers"]["csrt"]["success_auc"] > 0.5
    rc = main(["score", "--suite", "otb100", "--data-root", str(data), "--results", str(tmp_path / "res"),
               "--sequences", "Couple,Crossing,Dog1,David", "--format", "json"])
    scored = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert scored["trackers"] == run["trackers"]
    folder = next((tmp_path / "res" / "otb100" / "ope").glob("csrt@*"))
    meta = json.loads((folder / "run.json").read_text())
    assert meta["tracker"] == "csrt" and meta["fingerprint"] == folder.name.split("@")[1]
    assert {"evalkit_version", "git_commit", "device", "seed", "params", "weights_sha256"} <= set(meta)
    first = (folder / "David" / "ope.txt").read_text().splitlines()[0]
    assert first == "129.0000,80.0000,64.0000,78.0000"  # David's frame-300 ground truth, 4 decimals
    times = np.loadtxt(folder / "David" / "ope.time.txt")
    assert times.shape == (471,) and (times > 0).all()


def test_changed_parameter_never_reuses_results(shared_dir: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """A second run resumes (nothing to do); a changed parameter goes to a new fingerprint folder."""
    base = ["--trackers", "kcf", "--suite", "otb100", "--data-root", str(shared_dir / "data" / "sequences"),
            "--sequences", "Crossing", "--results-dir", str(tmp_path / "res")]
    run_json(base, capsys)
    rc, _, err = run_json(base, capsys)
    assert rc == 0 and "1 finished run(s) reused, 0 to run" in err
    rc, _, err = run_json([*base, "--param", "kcf.detect_thresh=0.3"], capsys)
    assert rc == 0 and "reused" not in err
    assert len(list((tmp_path / "res" / "otb100" / "ope").glob("kcf@*"))) == 2
    # scoring the whole store tells the two apart by the parameter in which they differ, and --rename names them
    rc = main(["score", "--suite", "otb100", "--data-root", str(shared_dir / "data" / "sequences"), "--results",
               str(tmp_path / "res"), "--sequences", "Crossing", "--format", "json", "--bootstrap", "0",
               "--rename", "kcf[detect_thresh=0.3]=KCF-0.3"])
    assert rc == 0
    assert set(json.loads(capsys.readouterr().out)["trackers"]) == {"kcf[detect_thresh=None]", "KCF-0.3"}


def _read_boxes(folder: Path) -> dict[str, str]:
    return {p.parent.name: p.read_text() for p in sorted(folder.glob("*/ope.txt"))}


def test_resume_after_sigkill(shared_dir: Path, tmp_path: Path) -> None:
    """Kill a run midway with SIGKILL; the rerun redoes nothing finished and ends equal to an uninterrupted run."""
    data = str(shared_dir / "data" / "sequences")
    args = [sys.executable, "-m", "evalkit.cli", "run", "--trackers", "kcf", "--suite", "otb100", "--data-root", data,
            "--sequences", "Couple,Crossing,David,Dog1", "--workers", "1", "--no-progress", "--bootstrap", "0"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    killed = tmp_path / "killed"
    proc = subprocess.Popen([*args, "--results-dir", str(killed)], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 60
    done: list[Path] = []
    while time.time() < deadline and not done:
        done = [p for p in killed.glob("otb100/ope/kcf@*/*/ope.json") if '"ok"' in p.read_text()]
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert done, "no run finished before the deadline"
    folder = done[0].parent.parent
    finished_before = {p.parent.name: p.stat().st_mtime_ns for p in folder.glob("*/ope.json")
                       if '"ok"' in p.read_text()}
    assert 1 <= len(finished_before) < 4, "the kill should land midway"
    rerun = subprocess.run([*args, "--results-dir", str(killed)], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(finished_before)} finished run(s) reused" in rerun.stderr
    for name, mtime in finished_before.items():
        assert (folder / name / "ope.json").stat().st_mtime_ns == mtime, f"{name} was redone"
    clean = tmp_path / "clean"
    subprocess.run([*args, "--results-dir", str(clean)], cwd=tmp_path, env=env, check=True, capture_output=True,
                   timeout=120)
    clean_folder = next(clean.glob("otb100/ope/kcf@*"))
    assert clean_folder.name == folder.name
    assert _read_boxes(folder) == _read_boxes(clean_folder)
    assert len(_read_boxes(folder)) == 4


def _fake_otb(root: Path, shared: Path) -> None:
    """A small OTB-layout copy of Crossing, Couple and Football1 (frames downscaled to keep the test fast)."""
    for name in ("Crossing", "Couple", "Football1"):
        src = shared / "data" / "sequences" / name
        dst = root / name
        (dst / "img").mkdir(parents=True)
        shutil.copy(src / "groundtruth_rect.txt", dst / "groundtruth_rect.txt")
        for f in sorted((src / "img").glob("*.jpg")):
            shutil.copy(f, dst / "img" / f.name)


RAISING_TRACKER = """
import numpy as np
from evalkit.tracker import Prediction, Tracker

class Picky(Tracker):
    name = "picky"
    def initialize(self, frame, box):
        self.box = np.asarray(box, float)
        self.n = 0
        self.wide = frame.shape[1] == 352   # Football1 frames are 352 px wide
    def update(self, frame):
        self.n += 1
        if self.wide and self.n == 5:
            raise ValueError("cannot handle this sequence")
        return Prediction(self.box)
"""


def test_failures_are_isolated_and_named(shared_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A raising tracker, a corrupt JPEG, a missing frame, a bad ground-truth line: each named; others finish."""
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "otb"
    _fake_otb(data, shared_dir)
    (data / "Couple" / "img" / "0010.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    (data / "Crossing" / "img" / "0050.jpg").unlink()
    module = tmp_path / "picky.py"
    module.write_text(RAISING_TRACKER)
    rc, obj, err = run_json(["--trackers", f"{module}:Picky,kcf", "--suite", "otb100", "--data-root", str(data),
                             "--sequences", "Couple,Crossing,Football1", "--keep-going",
                             "--results-dir", str(tmp_path / "res")], capsys)
    assert rc == 1  # some runs failed; the command says so but finishes the rest
    assert f"{data / 'Couple' / 'img' / '0010.jpg'}: not a decodable image" in err
    assert f"{data / 'Crossing' / 'img' / '0050.jpg'}: frame file is missing" in err
    assert "picky otb100/Football1 (ope): tracker raised in update at frame 5: ValueError" in err
    assert obj["runs"][0]["trackers"]["picky"]["n_sequences"] == 0  # all three of its runs failed
    assert obj["runs"][0]["trackers"]["kcf"]["n_sequences"] == 1  # KCF finished Football1
    # the bad ground-truth line: the sequence is left out with file and line, the others still run
    gt = data / "Football1" / "groundtruth_rect.txt"
    lines = gt.read_text().splitlines()
    lines[3] = "1,2,three,4"
    gt.write_text("\n".join(lines) + "\n")
    (data / "Couple" / "img" / "0010.jpg").write_bytes((shared_dir / "data" / "sequences" / "Couple" / "img" /
                                                       "0010.jpg").read_bytes())
    rc, obj, err = run_json(["--trackers", "kcf", "--suite", "otb100", "--data-root", str(data),
                             "--sequences", "Couple,Crossing,Football1", "--keep-going",
                             "--results-dir", str(tmp_path / "res2")], capsys)
    assert f"{gt}:4: non-numeric field" in err and "sequence left out" in err
    assert obj["runs"][0]["trackers"]["kcf"]["n_sequences"] == 1  # Couple ran; Crossing misses a frame


def test_missing_root_and_frames_are_clear_errors(shared_dir: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """No data root, or ground truth without frames: one clear line each, exit status 2."""
    rc = main(["run", "--trackers", "kcf", "--suite", "otb100", "--results-dir", str(tmp_path)])
    assert rc == 2 and "no data root for otb100" in capsys.readouterr().err
    rc = main(["run", "--trackers", "kcf", "--suite", "otb100", "--data-root", str(shared_dir / "data" / "otb100"),
               "--sequences", "Couple", "--results-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "otb100/Couple: no frame folder on disk" in err
    rc = main(["run", "--trackers", "kfc", "--suite", "otb100", "--data-root", str(tmp_path)])
    assert rc == 2 and "unknown tracker 'kfc'" in (err := capsys.readouterr().err) and "fix: --trackers kcf" in err


def test_check_lists_every_problem_and_writes_nothing(shared_dir: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """`run --check` (and every run before its first job) lists all problems at once, each with its fix, and leaves
    no store folder behind: a typo'd parameter, a misspelt sequence, a sequence without frames, a suite without a
    data root."""
    store = tmp_path / "res"
    args = ["run", "--trackers", "kcf", "--param", "kcf.detect_thres=0.3", "--suite", "otb100,uav20l",
            "--data-root", f"otb100={shared_dir / 'data' / 'otb100'}", "--sequences", "Couple,Coupel",
            "--results-dir", str(store)]
    assert main([*args, "--check"]) == 2
    err = capsys.readouterr().err
    assert "4 problems found before running anything" in err
    for text in ("kcf.detect_thres: unknown parameter", "fix: --param kcf.detect_thresh=0.3",
                 "no sequence 'Coupel' in otb100", "fix: --sequences Couple in place of Coupel",
                 "otb100/Couple: no frame folder on disk", "no data root for uav20l"):
        assert text in err, text
    assert main(args) == 2 and "4 problems found" in capsys.readouterr().err
    assert not store.exists()
    rc = main(["run", "--trackers", "kcf", "--suite", "otb100", "--data-root", str(shared_dir / "data" / "sequences"),
               "--sequences", "Couple", "--check"])
    assert rc == 0 and "ready to run" in capsys.readouterr().out


def test_harness_boxes_are_one_based_and_times_split(shared_dir: Path) -> None:
    """A still tracker returns its 0-based init box; the harness stores it 1-based, equal to the GT of frame 1."""
    from types import SimpleNamespace

    from evalkit.harness import run_spec
    from evalkit.tracker import Prediction, Tracker

    class Still(Tracker):
        name = "still"

        def initialize(self, frame: np.ndarray, box: np.ndarray) -> None:
            assert frame.dtype == np.uint8 and frame.shape[2] == 3
            self.box = box.copy()

        def update(self, frame: np.ndarray) -> Prediction:
            return Prediction(self.box)

    seq = load_suite("otb100", shared_dir / "data" / "sequences", ["Crossing"])["Crossing"]
    out = run_spec(Still(), seq, SimpleNamespace(label="ope", start=0))
    assert out.status == "ok" and out.boxes is not None
    assert (out.boxes == seq.ground_truth[0]).all()
    assert out.times.shape == (seq.n_frames,)
    frame = cv2.imread(str(seq.frames[0]))
    assert frame is not None


@pytest.mark.parametrize(("protocol", "n_runs"), [("tre", 20), ("sre", 12)])
def test_run_tre_and_sre(shared_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], protocol: str,
                         n_runs: int) -> None:
    """TRE / SRE through `evalkit run`: one stored file per run, scored by pooling exactly as `evalkit score` does."""
    from evalkit.protocols import expand

    data = shared_dir / "data" / "sequences"
    rc, obj, _ = run_json(["--trackers", "mosse", "--suite", "otb100", "--data-root", str(data), "--sequences",
                           "Crossing", "--protocol", protocol, "--results-dir", str(tmp_path), "--bootstrap", "0"],
                          capsys)
    assert rc == 0 and obj["runs"][0]["protocol"] == protocol
    folder = next(tmp_path.glob(f"otb100/{protocol}/mosse@*"))
    metas = sorted((folder / "Crossing").glob("*.json"))
    assert len(metas) == n_runs
    seq = load_suite("otb100", data, ["Crossing"])["Crossing"]
    starts = sorted(json.loads(p.read_text())["start_frame"] for p in metas)
    assert starts == sorted(spec.start_frame for spec in expand(protocol, seq))
    rc = main(["score", "--suite", "otb100", "--data-root", str(data), "--results", str(tmp_path / "otb100" /
               protocol), "--sequences", "Crossing", "--protocol", protocol, "--format", "json", "--bootstrap", "0"])
    scored = json.loads(capsys.readouterr().out)
    assert scored["trackers"] == obj["runs"][0]["trackers"]
    assert scored["trackers"]["mosse"]["n_frames"] == sum(120 - s + 1 for s in starts)


def test_tracker_module_flag(shared_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--tracker-module path.py:Class runs a user's tracker (here: one that raises only on wide frames)."""
    module = tmp_path / "picky.py"
    module.write_text(RAISING_TRACKER)
    rc, obj, _ = run_json(["--tracker-module", f"{module}:Picky", "--suite", "otb100", "--data-root",
                           str(shared_dir / "data" / "sequences"), "--sequences", "Crossing",
                           "--results-dir", str(tmp_path / "res"), "--bootstrap", "0"], capsys)
    assert rc == 0 and obj["runs"][0]["trackers"]["picky"]["n_sequences"] == 1
    assert main(["run", "--suite", "otb100", "--data-root", str(tmp_path)]) == 2
    assert "no tracker to run" in capsys.readouterr().err


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="tunes glibc's allocator")
def test_deep_tracker_workers_keep_freed_memory() -> None:
    """Freed per-frame arrays are reused, not faulted in again every frame (evalkit.harness.keep_freed_memory)."""
    code = """
import resource, sys
import numpy as np
from evalkit.harness import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
def frame():  # a frame's worth of large temporaries, written then freed
    arrays = [np.ones(1 << 20) for _ in range(3)]
    del arrays
frame(), frame()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    frame()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}, "PYTHONPATH": str(REPO)}
    faults = {mode: int(subprocess.run([sys.executable, "-c", code, mode], env=env, capture_output=True, text=True,
                                       check=True).stdout) for mode in ("default", "keep")}
    assert faults["keep"] <= 10 < faults["default"], faults
