"""Frames per second from stored per-frame times (evalkit.results.speed), in each layout that stores them; never
guessed where none are stored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evalkit.results import discover_results, tracker_speed
from evalkit.store import ResultStore, RunMeta


def _boxes(path: Path, n: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("1,2,3,4\n" * n)


def test_store_times_and_device(tmp_path: Path) -> None:
    """<label>.time.txt per run: a sequence's FPS is frames over its total time, the tracker's the mean over
    sequences; the device is the run.json's."""
    store = ResultStore(tmp_path)
    folder = tmp_path / "kcf@0"
    store.open_run_set(folder, RunMeta(tracker="kcf", device="cuda", fingerprint="0"))
    store.write_run(folder, "A", "ope", np.ones((4, 4)), np.full(4, 0.01), {"status": "ok"})  # 100 fps
    store.write_run(folder, "B", "ope", np.ones((2, 4)), np.array([0.5, 0.5]), {"status": "ok"})  # 2 fps
    [rs] = discover_results(folder)
    speed = tracker_speed(rs)
    assert speed is not None and speed.fps == pytest.approx(51.0) and speed.device == "cuda"
    assert speed.n_sequences == 2
    only_b = tracker_speed(rs, ["b"])
    assert only_b is not None and only_b.fps == pytest.approx(2.0)


@pytest.mark.parametrize("times_path", ["KCF/times/Couple_time.txt", "KCF/Couple_time.txt"])
def test_got10k_otb_layout_times(tmp_path: Path, times_path: str) -> None:
    """got10k's OTB experiment: times/<seq>_time.txt (or beside the boxes), one second-count a line."""
    _boxes(tmp_path / "KCF" / "Couple.txt", 3)
    (tmp_path / times_path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / times_path).write_text("0.1\n0.1\n0.1\n")
    [rs] = discover_results(tmp_path)
    speed = tracker_speed(rs)
    assert speed is not None and speed.fps == pytest.approx(10.0) and speed.device == "unknown device"


def test_got10k_repetition_layout_times(tmp_path: Path) -> None:
    """got10k's GOT-10k experiment: one <seq>_time.txt with a comma-separated column per repetition, all counted."""
    seq = tmp_path / "SiamFC" / "GOT-10k_Val_000001"
    for rep in (1, 2):
        _boxes(seq / f"GOT-10k_Val_000001_{rep:03d}.txt", 2)
    (seq / "GOT-10k_Val_000001_time.txt").write_text("0.1,0.3\n0.1,0.3\n")
    [rs] = discover_results(tmp_path)
    speed = tracker_speed(rs)
    assert speed is not None and speed.fps == pytest.approx(4 / 0.8)


def test_no_times_no_speed(tmp_path: Path) -> None:
    """Boxes without times (an OTB .mat archive, a bare text folder), or an unreadable time file: no speed."""
    _boxes(tmp_path / "KCF" / "Couple.txt", 3)
    _boxes(tmp_path / "CSRT" / "Couple.txt", 3)
    (tmp_path / "CSRT" / "Couple_time.txt").write_text("fast\n")
    assert [tracker_speed(rs) for rs in discover_results(tmp_path)] == [None, None]
