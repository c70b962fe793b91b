"""Hardening of `evalkit run` (issue 15, running half): no tracker can hang or kill a run, and nothing computed is
lost. Each case asserts its one-line error or recorded failure AND that the other trackers and sequences still
finish and are scored.

The suite is a tiny GOT-10k-layout copy of six real OTB frames of Crossing (360 px wide), Couple (320) and
Football1 (352); the test trackers tell the sequences apart by the frame width.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from evalkit.cli import main
from evalkit.tracker import Prediction

SEQUENCES = ("Crossing", "Couple", "Football1")
N_FRAMES = 6


def tiny_suite(root: Path, shared: Path) -> Path:
    """A got10k-val folder of the first six frames of three OTB sequences; returns its root."""
    for name in SEQUENCES:
        src = shared / "data" / "sequences" / name
        dst = root / name
        dst.mkdir(parents=True)
        gt = src.joinpath("groundtruth_rect.txt").read_text().splitlines()[:N_FRAMES]
        (dst / "groundtruth.txt").write_text("\n".join(gt) + "\n")
        for k in range(1, N_FRAMES + 1):
            shutil.copy(src / "img" / f"{k:04d}.jpg", dst / f"{k:08d}.jpg")
    (root / "list.txt").write_text("\n".join(SEQUENCES) + "\n")
    return root


TRACKERS = '''
import ctypes
import os
import sys
import time
import warnings

import numpy as np
from evalkit.tracker import Prediction, Tracker

COUPLE, FOOTBALL = 320, 352


class Base(Tracker):
    name = "base"

    def initialize(self, frame, box):
        self.box = np.asarray(box, float)
        self.n = 0
        self.width = frame.shape[1]

    def update(self, frame):
        self.n += 1
        return self.answer()

    def answer(self):
        return Prediction(self.box)


class ArrayT(Base):  # got10k's trackers return a numpy array
    name = "array"

    def answer(self):
        return self.box.copy()


class PairT(Base):  # (box, score), as several toolkits' trackers return
    name = "pair"

    def answer(self):
        return tuple(self.box), 0.5


class ListT(Base):  # a list; and noisy numpy warnings, which must not reach the terminal
    name = "listbox"

    def answer(self):
        np.mean(np.zeros(0))
        warnings.warn("a noisy tracker", RuntimeWarning)
        return list(self.box)


class NoneT(Base):
    name = "none"

    def answer(self):
        return None if self.width == COUPLE and self.n == 3 else self.box


class ShapeT(Base):
    name = "shape"

    def answer(self):
        return [1.0, 2.0, 3.0] if self.width == COUPLE and self.n == 2 else self.box


class ExitT(Base):
    name = "exiter"

    def answer(self):
        if self.width == FOOTBALL and self.n == 2:
            sys.exit(3)
        return self.box


class DieT(Base):
    name = "dier"

    def answer(self):
        if self.width == COUPLE and self.n == 3:
            os._exit(7)
        if self.width == FOOTBALL and self.n == 2:
            ctypes.string_at(0)  # a segfault in native code
        return self.box


class HangT(Base):
    name = "hanger"

    def answer(self):
        if self.width == COUPLE and self.n == 3:
            time.sleep(10_000)
        return self.box
'''


@pytest.fixture
def setup(shared_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(data root, tracker module) in a fresh working folder."""
    monkeypatch.chdir(tmp_path)
    module = tmp_path / "trk.py"
    module.write_text(TRACKERS)
    return tiny_suite(tmp_path / "got", shared_dir), module


def run(data: Path, module: Path, classes: str, *extra: str) -> int:
    """`evalkit run --format json` in-process on the tiny suite (results in ./res); its exit status."""
    refs = ",".join(f"{module}:{c}" for c in classes.split(","))
    return main(["run", "--trackers", refs, "--suite", "got10k-val", "--data-root", str(data), "--format", "json",
                 "--no-progress", "--bootstrap", "0", "--results-dir", "res", *extra])


def finish(capfd: pytest.CaptureFixture[str], rc: int) -> tuple[int, dict, str]:
    """The exit status, the JSON printed (empty when none) and stderr (also the worker processes')."""
    out, err = capfd.readouterr()
    return rc, (json.loads(out) if out.strip() else {}), err


def scored(obj: dict, tracker: str) -> int:
    """How many sequences a tracker was scored on."""
    return int(obj["runs"][0]["trackers"][tracker]["n_sequences"])


def record(tracker: str, sequence: str) -> dict:
    """The stored run record of a tracker on a sequence."""
    [path] = Path("res").glob(f"got10k-val/ope/{tracker}@*/{sequence}/ope.json")
    return json.loads(path.read_text())


def test_prediction_coercion() -> None:
    """4 numbers in any container, or a (box, score) pair, are a box; the rest says what came back."""
    box = [1.0, 2.0, 3.0, 4.0]
    for value in (box, tuple(box), np.array(box), np.array([box])):
        assert Prediction.coerce(value).box.tolist() == box
    pair = Prediction.coerce((np.array(box), 0.25))
    assert pair.box.tolist() == box and pair.score == 0.25
    for value, text in ((None, "returned None"), ([1, 2, 3], "of shape (3,)"), ("1,2,3,4", "returned str"),
                        ((box, "high"), "score is str")):
        with pytest.raises(ValueError, match=text.replace("(", r"\(").replace(")", r"\)")):
            Prediction.coerce(value)


def test_odd_returns_and_sys_exit_are_recorded_failures(setup: tuple[Path, Path],
                                                        capfd: pytest.CaptureFixture[str]) -> None:
    """Array, (box, score) and list answers are scored; None, 3 numbers and sys.exit(3) fail only their own run,
    named with the frame; numpy's warnings stay off the terminal."""
    data, module = setup
    rc, obj, err = finish(capfd, run(data, module, "ArrayT,PairT,ListT,NoneT,ShapeT,ExitT", "--keep-going"))
    assert rc == 1, err
    for name in ("array", "pair", "listbox"):
        assert scored(obj, name) == 3, name
    for name in ("none", "shape", "exiter"):
        assert scored(obj, name) == 2, name  # the other two sequences still ran and were scored
    assert "none got10k-val/Couple (ope): tracker returned None instead of a box at frame 3" in err
    assert "shape got10k-val/Couple (ope): tracker returned list of shape (3,), not a box" in err
    assert "exiter got10k-val/Football1 (ope): tracker called sys.exit(3) in update at frame 2" in err
    assert record("exiter", "Football1")["status"] == "failed"
    assert "Warning" not in err and "noisy" not in err, err


def test_dying_worker_is_that_jobs_failure(setup: tuple[Path, Path], capfd: pytest.CaptureFixture[str]) -> None:
    """os._exit(7) and a segfault in a worker: each is its own run's failure; the worker is replaced, the others
    (here: two workers, the plain tracker beside them) finish and are scored."""
    data, module = setup
    rc, obj, err = finish(capfd, run(data, module, "DieT,ArrayT", "--keep-going", "--workers", "2"))
    assert rc == 1, err
    assert "dier got10k-val/Couple (ope): worker process exited with status 7 at frame 3" in err
    assert "dier got10k-val/Football1 (ope): worker process killed by SIGSEGV at frame 2" in err
    assert scored(obj, "dier") == 1 and scored(obj, "array") == 3
    assert "TerminatedWorkerError" not in err and "Traceback" not in err


def test_hanging_tracker_times_out(setup: tuple[Path, Path], capfd: pytest.CaptureFixture[str]) -> None:
    """A tracker that never returns: `[run] timeout` (evalkit.toml) stops that run, recorded as its failure at its
    frame; the worker is replaced and the rest finish. The run limit does the same on its own."""
    data, module = setup
    Path("evalkit.toml").write_text("[run]\ntimeout = 4\n")
    rc, obj, err = finish(capfd, run(data, module, "HangT,ArrayT", "--keep-going"))
    assert rc == 1, err
    assert "hanger got10k-val/Couple (ope): timed out at frame 3 after 4." in err and "(frame limit 4 s)" in err
    assert scored(obj, "hanger") == 2 and scored(obj, "array") == 3
    assert record("hanger", "Couple")["error"].startswith("timed out at frame 3")
    Path("evalkit.toml").unlink()
    shutil.rmtree("res")
    rc, obj, err = finish(capfd, run(data, module, "HangT", "--keep-going", "--run-timeout", "6"))
    assert rc == 1 and "hanger got10k-val/Couple (ope): timed out at frame 3 after 6." in err, err
    assert scored(obj, "hanger") == 2


def test_timeout_must_be_positive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A bad `[run] timeout` names the file; a bad --timeout is an argument error."""
    monkeypatch.chdir(tmp_path)
    Path("evalkit.toml").write_text("[run]\ntimeout = -1\n")
    assert main(["run", "--trackers", "kcf", "--suite", "demo"]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'evalkit.toml'}" in err and "run.timeout must be a positive number" in err, err
    with pytest.raises(SystemExit):
        main(["run", "--trackers", "kcf", "--suite", "demo", "--timeout", "0"])


def test_truncated_jpeg_is_the_runs_failure(setup: tuple[Path, Path], capfd: pytest.CaptureFixture[str]) -> None:
    """A JPEG cut to 60 %: libjpeg alone would only warn and the run count as ok; it is named as truncated."""
    data, module = setup
    frame = data / "Couple" / "00000004.jpg"
    frame.write_bytes(frame.read_bytes()[: int(frame.stat().st_size * 0.6)])
    rc, obj, err = finish(capfd, run(data, module, "ArrayT", "--keep-going"))
    assert rc == 1
    assert f"{frame}: truncated image" in err and "Premature end" not in err
    assert scored(obj, "array") == 2


def test_truncated_png_is_named(tmp_path: Path) -> None:
    """The same for a PNG (no IEND chunk); an intact one decodes."""
    import cv2

    from evalkit.frames import FrameError, read_frame

    path = tmp_path / "f.png"
    cv2.imwrite(str(path), np.full((20, 30, 3), 90, np.uint8))
    assert read_frame(path).shape == (20, 30, 3)
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(FrameError, match="f.png: truncated image"):
        read_frame(path)


def test_unwritable_reports_folder_is_refused_before_running(setup: tuple[Path, Path],
                                                            capfd: pytest.CaptureFixture[str]) -> None:
    """/proc/... and a file used as a folder: one line naming the path, exit 2, nothing run."""
    data, module = setup
    Path("afile").write_text("")
    for reports in ("/proc/evalkit-reports", "afile/reports"):
        Path("evalkit.toml").write_text(f'[paths]\nreports = "{reports}"\n')
        rc, _, err = finish(capfd, run(data, module, "ArrayT"))
        assert rc == 2, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "reports folder is not writable" in lines[0], err
        assert not Path("res").exists()


def test_report_failing_at_the_end_still_prints_the_table(setup: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
                                                          capfd: pytest.CaptureFixture[str]) -> None:
    """The report writer fails after all tracking: the table is printed, one line names the report and the
    problem, exit status 1; no empty placeholder is left."""
    import evalkit.report.document as document

    data, module = setup

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device", str(args[2]))

    monkeypatch.setattr(document, "write_run_report", broken)
    rc = main(["run", "--trackers", f"{module}:ArrayT", "--suite", "got10k-val", "--data-root", str(data),
               "--no-progress", "--bootstrap", "0", "--results-dir", "res"])
    out, err = capfd.readouterr()
    assert rc == 1
    assert "array" in out and "report:" not in out  # the table
    assert "evalkit: error: report not written:" in err and "No space left on device" in err
    assert list(Path("reports").glob("*.pdf")) == []


def test_damaged_stored_run_is_redone(setup: tuple[Path, Path], capfd: pytest.CaptureFixture[str]) -> None:
    """A run whose record says ok but whose boxes file is cut short is redone (named), not reused then dropped;
    stray .tmp files of killed writes are removed; a corrupt run.json is one line naming it."""
    data, module = setup
    assert finish(capfd, run(data, module, "ArrayT"))[0] == 0
    [folder] = Path("res").glob("got10k-val/ope/array@*")
    boxes = folder / "Couple" / "ope.txt"
    intact = boxes.read_text()
    boxes.write_text("".join(intact.splitlines(keepends=True)[:3]))
    stray = folder / "Crossing" / ".ope.txt.x1y2z3.tmp"
    stray.write_text("half")
    (folder / "Crossing" / "ope.json").unlink()  # that run was killed while writing
    old_meta_tmp = folder / ".run.json.abcd.tmp"
    old_meta_tmp.write_text("{")
    os.utime(old_meta_tmp, (time.time() - 3600, time.time() - 3600))
    rc, obj, err = finish(capfd, run(data, module, "ArrayT"))
    assert rc == 0, err
    assert f"{boxes}: 3 rows, its run has 6 frames (cut short); running it again" in err
    assert "1 finished run(s) reused, 2 to run" in err
    assert boxes.read_text() == intact and scored(obj, "array") == 3
    assert not stray.exists() and not old_meta_tmp.exists()
    (folder / "run.json").write_text('{"tracker": "array",\n  "params": oops}\n')
    rc, _, err = finish(capfd, run(data, module, "ArrayT"))
    assert rc == 2 and err.strip() == f"evalkit: error: {folder / 'run.json'}:2: invalid json: Expecting value", err


def test_weights_other_than_published_are_refused_or_labelled(setup: tuple[Path, Path], shared_dir: Path,
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capfd: pytest.CaptureFixture[str]) -> None:
    """A cached dcfnet file that is not the published one is refused (file and both digests); named explicitly it
    runs, and the scored name carries its digest; the untrained network shows as "dcfnet [untrained]"."""
    from conftest import require_module

    require_module("torch")
    from trackers.weights import CATALOG, load_state_dict, sha256_of

    published = shared_dir / "weights" / "dcfnet" / "param.pth"
    if not published.is_file():
        pytest.fail(f"{published} is missing from the shared folder")
    import torch

    data, _ = setup
    monkeypatch.delenv("EVALKIT_WEIGHTS", raising=False)
    monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "cache"))
    cached = tmp_path / "cache" / "weights" / "dcfnet" / "param.pth"
    cached.parent.mkdir(parents=True)
    torch.save({k: v + 0.001 for k, v in load_state_dict(published).items()}, cached)  # same shapes, other weights
    digest = sha256_of(cached)
    base = ["run", "--trackers", "dcfnet", "--suite", "got10k-val", "--data-root", str(data), "--format", "json",
            "--no-progress", "--bootstrap", "0", "--results-dir", "res"]
    rc, _, err = finish(capfd, main(base))
    assert rc == 2 and str(cached) in err and digest in err and CATALOG["dcfnet"].sha256 in err, err
    rc, obj, err = finish(capfd, main([*base, "--param", f"dcfnet.weights={cached}"]))
    assert rc == 0, err
    assert list(obj["runs"][0]["trackers"]) == [f"dcfnet [weights {digest[:12]}]"]
    rc, obj, err = finish(capfd, main([*base, "--param", "dcfnet.random_init=true"]))
    assert rc == 0 and list(obj["runs"][0]["trackers"]) == ["dcfnet [untrained]"], err
