"""Two `evalkit run` processes started together on one store split the work through the runs' lock files: every job
is done once (each tracker call of a shared tracker leaves a marker naming its process), and each writes its own
report (distinct names; each PDF names its own trackers)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import require_module
from test_hardening_run import SEQUENCES, tiny_suite

from evalkit.store.writer import LockHeld, ResultStore

REPO = Path(__file__).resolve().parents[1]

MARKING = '''
import os
import time
from pathlib import Path

import numpy as np
from evalkit.tracker import Tracker


class Marking(Tracker):
    """Slow enough that the two processes overlap; one marker file per run it does."""

    name = "marking"

    def initialize(self, frame, box):
        self.box = np.asarray(box, float)
        marks = Path(os.environ["MARKS"])
        (marks / f"{frame.shape[1]}-{os.getppid()}-{time.monotonic_ns()}").write_text("")
        # meet the other evalkit (the worker's parent) here, so both are tracking at once: without the locks both
        # would now run every job
        ready = marks.parent / "ready"
        ready.mkdir(exist_ok=True)
        (ready / str(os.getppid())).write_text("")
        deadline = time.monotonic() + 300
        while len(list(ready.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)

    def update(self, frame):
        time.sleep(0.15)
        return self.box


class Alpha(Marking):
    name = "alpha"

    def initialize(self, frame, box):
        self.box = np.asarray(box, float)


class Beta(Alpha):
    name = "beta"
'''


def test_two_runs_on_one_store_split_the_work(shared_dir: Path, tmp_path: Path) -> None:
    pypdf = require_module("pypdf")
    data = tiny_suite(tmp_path / "got", shared_dir)
    module = tmp_path / "marking.py"
    module.write_text(MARKING)
    marks = tmp_path / "marks"
    marks.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO), "MARKS": str(marks)}
    procs = []
    for own in ("Alpha", "Beta"):
        cmd = [sys.executable, "-m", "evalkit.cli", "run", "--trackers", f"{module}:Marking,{module}:{own}",
               "--suite", "got10k-val", "--data-root", str(data), "--results-dir", "res", "--no-progress",
               "--bootstrap", "0"]
        procs.append(subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True))
    outputs = [p.communicate(timeout=600) for p in procs]
    for p, (_out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
    assert "is being run by another evalkit (pid" in outputs[0][1] + outputs[1][1]
    # each shared job ran once: one marker per sequence (frame widths 360, 320, 352), whichever process did it
    widths = sorted(m.name.split("-")[0] for m in marks.iterdir())
    assert widths == sorted(["360", "320", "352"]), widths
    [folder] = (tmp_path / "res" / "got10k-val" / "ope").glob("marking@*")
    assert sorted(p.parent.name for p in folder.glob("*/ope.json")) == sorted(SEQUENCES)
    assert not list(folder.glob("*/*.lock")), "every lock was released"
    # both reports exist under distinct names, each naming its own trackers (and the shared one, fully scored)
    reports = [Path(tmp_path / out.strip().splitlines()[-1].removeprefix("report: ")) for out, _ in outputs]
    assert reports[0] != reports[1] and all(r.is_file() for r in reports)
    for report, own, other in ((reports[0], "alpha", "beta"), (reports[1], "beta", "alpha")):
        text = "\n".join(page.extract_text() for page in pypdf.PdfReader(report).pages)
        assert own in text and "marking" in text and other not in text
    for out, _ in outputs:
        assert any(line.startswith("marking ") and line.split()[-2:] == ["3", "18"] for line in out.splitlines()), out


def test_stale_lock_is_taken_over_and_a_live_one_is_left(tmp_path: Path) -> None:
    """A lock whose pid is dead is taken over; a live process' lock is reported as held, naming it."""
    store = ResultStore(tmp_path)
    folder = tmp_path / "s" / "ope" / "t@x"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock_path = folder / "Seq" / "ope.lock"
    lock_path.parent.mkdir(parents=True)
    import platform

    lock_path.write_text(f'{{"pid": {int(dead.stdout)}, "host": "{platform.node()}"}}')
    lock = store.try_lock(folder, "Seq", "ope")
    assert not isinstance(lock, LockHeld) and str(os.getpid()) in lock_path.read_text()
    lock.release()
    lock_path.write_text(f'{{"pid": {os.getppid()}, "host": "{platform.node()}"}}')  # alive: pytest's parent
    held = store.try_lock(folder, "Seq", "ope")
    assert isinstance(held, LockHeld) and held.owner == f"pid {os.getppid()} on {platform.node()}"


def test_waiting_for_another_process_never_blocks(tmp_path: Path) -> None:
    """While every job left is held by another live process the claim stream says so (it does not block: this
    process must still collect and unlock its own finished jobs, or two processes could wait on each other); once
    the lock is gone the job is claimed, or reused when the other process finished it."""
    import platform
    from types import SimpleNamespace

    from evalkit.runner import _WAIT, Job, TrackerSpec, _Claims

    folder = tmp_path / "s" / "ope" / "t@x"
    job = Job(TrackerSpec("kcf", "kcf"), folder, "s", None, "Seq", SimpleNamespace(label="ope", rows=[]), None)
    lock_path = folder / "Seq" / "ope.lock"
    lock_path.parent.mkdir(parents=True)
    lock_path.write_text(f'{{"pid": {os.getppid()}, "host": "{platform.node()}"}}')
    claims = _Claims()
    stream = claims.stream([job])
    assert next(stream) is _WAIT and next(stream) is _WAIT
    lock_path.unlink()
    assert next(stream) is job and str(os.getpid()) in lock_path.read_text()
    claims.release(job)
    assert not lock_path.exists()
