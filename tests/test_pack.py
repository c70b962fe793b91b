"""``evalkit pack``: GOT-10k and TrackingNet evaluation-server archives, checked file by file.

Synthetic result sets for every test sequence (GOT-10k: got10k's ``<seq>/<seq>_00k.txt`` + ``<seq>_time.txt``
layout, three repetitions; TrackingNet: ``<seq>.txt``) are packed through the CLI, and the archive is read back:
member names (exactly the expected set, nothing else), line counts, the number format of each line (got10k's
``%.3f`` boxes and ``%.8f`` times; ``%.2f`` for TrackingNet, read back as the devkit reads it), the time files' one
column per repetition. A missing sequence, a NaN box, a short file and a missing time file are refused with every
offending name, and nothing is left under the target name.

    .venv/bin/python -m pytest tests/test_pack.py -q
"""

from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from evalkit.cli import main
from evalkit.interop.submission import PackRefused, sequence_list, write_pack
from evalkit.results import discover_results

GOT_BOX = re.compile(r"^-?\d+\.\d{3},-?\d+\.\d{3},-?\d+\.\d{3},-?\d+\.\d{3}$")
GOT_TIMES = re.compile(r"^\d+\.\d{8}(,\d+\.\d{8})*$")
TN_BOX = re.compile(r"^-?\d+\.\d{2},-?\d+\.\d{2},-?\d+\.\d{2},-?\d+\.\d{2}$")


def frames_of(name: str) -> int:
    """A small, sequence-dependent frame count (so a count mix-up between sequences would show)."""
    return 3 + sum(map(ord, name)) % 5


def write_got10k_results(tracker_dir: Path, names: list[str], reps: int = 3) -> dict[str, list[np.ndarray]]:
    """got10k's test layout: <seq>/<seq>_00k.txt (``%.4f``, so packing must round) and <seq>_time.txt."""
    rng = np.random.default_rng(0)
    boxes = {}
    for name in names:
        n = frames_of(name)
        runs = [np.round(rng.uniform(0, 300, size=(n, 4)), 4) for _ in range(reps)]
        folder = tracker_dir / name
        folder.mkdir(parents=True)
        for k, b in enumerate(runs, 1):
            np.savetxt(folder / f"{name}_{k:03d}.txt", b, fmt="%.4f", delimiter=",")
        np.savetxt(folder / f"{name}_time.txt", rng.uniform(0.01, 0.05, size=(n, reps)), fmt="%.8f", delimiter=",")
        boxes[name] = runs
    return boxes


def read_zip(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {info.filename: z.read(info).decode() for info in z.infolist()}


def test_shipped_lists() -> None:
    """GOT-10k test: 180 names GOT-10k_Test_000001..000180; TrackingNet test: 511 distinct names."""
    got = sequence_list("got10k-test")
    assert len(got) == 180 and got[0] == "GOT-10k_Test_000001" and got[-1] == "GOT-10k_Test_000180"
    tn = sequence_list("trackingnet")
    assert len(tn) == 511 == len(set(tn)) and all(re.fullmatch(r"[A-Za-z0-9_-]{11}_\d+", n) for n in tn)


def test_got10k_pack_file_by_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every test sequence gives <seq>/<seq>_001..003.txt and <seq>/<seq>_time.txt, nothing else."""
    names = sequence_list("got10k-test")
    boxes = write_got10k_results(tmp_path / "results" / "SiamFC", names)
    out = tmp_path / "siamfc.zip"
    assert main(["pack", "--suite", "got10k-test", "--results", str(tmp_path / "results" / "SiamFC"),
                 "--out", str(out)]) == 0
    assert "180 got10k-test sequences, 3 repetition(s), 720 files" in capsys.readouterr().out
    files = read_zip(out)
    expected = {f"{n}/{n}_{k:03d}.txt" for n in names for k in (1, 2, 3)} | {f"{n}/{n}_time.txt" for n in names}
    assert set(files) == expected
    for name in names:
        n = frames_of(name)
        for k in (1, 2, 3):
            lines = files[f"{name}/{name}_{k:03d}.txt"].splitlines()
            assert len(lines) == n and all(GOT_BOX.match(ln) for ln in lines)
            back = np.array([[float(v) for v in ln.split(",")] for ln in lines])
            np.testing.assert_allclose(back, boxes[name][k - 1], atol=5e-4 + 1e-9)
        times = files[f"{name}/{name}_time.txt"].splitlines()
        assert len(times) == n and all(GOT_TIMES.match(t) and t.count(",") == 2 for t in times)


def test_got10k_pack_of_a_deterministic_tracker(tmp_path: Path) -> None:
    """One repetition: <seq>_001.txt only, and a one-column time file."""
    names = sequence_list("got10k-test")[:4]
    write_got10k_results(tmp_path / "T", names, reps=1)
    (rs,) = discover_results(tmp_path / "T")
    summary = write_pack("got10k-test", rs, tmp_path / "t.zip", names)
    files = read_zip(tmp_path / "t.zip")
    assert summary.repetitions == 1 and set(files) == {f"{n}/{n}_{s}.txt" for n in names for s in ("001", "time")}
    assert all("," not in t for t in files[f"{names[0]}/{names[0]}_time.txt"].splitlines())


def test_missing_sequences_are_all_named_and_nothing_is_written(tmp_path: Path) -> None:
    """Two sequences absent: one refusal naming both; no archive and no temporary file left."""
    names = sequence_list("got10k-test")
    write_got10k_results(tmp_path / "T", [n for n in names if n not in ("GOT-10k_Test_000007", "GOT-10k_Test_000150")])
    out = tmp_path / "out" / "t.zip"
    rc = main(["pack", "--suite", "got10k-test", "--results", str(tmp_path / "T"), "--out", str(out)])
    assert rc == 2
    (rs,) = discover_results(tmp_path / "T")
    with pytest.raises(PackRefused) as info:
        write_pack("got10k-test", rs, out)
    assert info.value.missing == ["GOT-10k_Test_000007", "GOT-10k_Test_000150"]
    assert "2 got10k-test sequence(s) have no result: GOT-10k_Test_000007, GOT-10k_Test_000150" in str(info.value)
    assert not out.exists() and (not out.parent.exists() or not any(out.parent.iterdir()))


def test_bad_boxes_and_times_are_named(tmp_path: Path) -> None:
    """A NaN box (file and line), a file shorter than its sequence's frames, a time file of the wrong size."""
    names = sequence_list("got10k-test")[:3]
    write_got10k_results(tmp_path / "T", names)
    a, b, c = names
    path_a = tmp_path / "T" / a / f"{a}_002.txt"
    lines = path_a.read_text().splitlines()
    lines[1] = "nan,1,2,3"
    path_a.write_text("\n".join(lines) + "\n")
    path_b = tmp_path / "T" / b / f"{b}_001.txt"
    path_b.write_text("\n".join(path_b.read_text().splitlines()[:-1]) + "\n")
    time_c = tmp_path / "T" / c / f"{c}_time.txt"
    time_c.write_text("\n".join(time_c.read_text().splitlines()[:-1]) + "\n")
    (rs,) = discover_results(tmp_path / "T")
    frames = {n: frames_of(n) for n in names}
    with pytest.raises(PackRefused) as info:
        write_pack("got10k-test", rs, tmp_path / "t.zip", names, frames)
    text = str(info.value)
    assert f"{path_a}:2: box [nan, 1.0, 2.0, 3.0] is not finite" in text
    assert f"{path_b}:{frames_of(b)}: has {frames_of(b) - 1} boxes, expected {frames_of(b)}" in text
    assert f"{time_c}: holds {frames_of(c) - 1} x 3 times, expected {frames_of(c)} x 3" in text
    assert not (tmp_path / "t.zip").exists()


def test_got10k_pack_needs_times(tmp_path: Path) -> None:
    """<seq>.txt results without per-frame times: refused, since the server reads <seq>_time.txt."""
    names = sequence_list("got10k-test")[:2]
    for n in names:
        (tmp_path / "T").mkdir(exist_ok=True)
        np.savetxt(tmp_path / "T" / f"{n}.txt", np.ones((4, 4)), fmt="%.1f", delimiter=",")
    (rs,) = discover_results(tmp_path / "T")
    with pytest.raises(PackRefused, match="has no per-frame time file"):
        write_pack("got10k-test", rs, tmp_path / "t.zip", names)


def test_trackingnet_pack_file_by_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One <seq>.txt per test sequence at the archive root, x,y,w,h with %.2f, read back as the devkit reads it."""
    names = sequence_list("trackingnet")
    rng = np.random.default_rng(1)
    boxes = {}
    tracker = tmp_path / "results" / "SiamFC"
    tracker.mkdir(parents=True)
    frames = tmp_path / "TrackingNet" / "TEST" / "frames"
    for name in names:
        boxes[name] = rng.uniform(0, 500, size=(frames_of(name), 4))
        np.savetxt(tracker / f"{name}.txt", boxes[name], fmt="%.5f", delimiter="\t")  # tabs: packing rewrites them
        (frames / name).mkdir(parents=True)
        for k in range(frames_of(name)):
            (frames / name / f"{k}.jpg").write_bytes(b"")
    out = tmp_path / "tn.zip"
    assert main(["pack", "--suite", "trackingnet", "--results", str(tracker), "--out", str(out),
                 "--data-root", str(tmp_path / "TrackingNet")]) == 0
    assert "511 trackingnet sequences, 511 files" in capsys.readouterr().out
    files = read_zip(out)
    assert set(files) == {f"{n}.txt" for n in names}
    for name in names:
        lines = files[f"{name}.txt"].splitlines()
        assert len(lines) == frames_of(name) and all(TN_BOX.match(ln) for ln in lines)
        rows = [[float(v) for v in row] for row in csv.reader(lines)]
        stored = np.loadtxt(tracker / f"{name}.txt", delimiter="\t")  # the %.5f values the pack rounds to %.2f
        np.testing.assert_allclose(rows, stored, rtol=0, atol=5e-3 + 1e-9)
    (frames / names[0] / "99.jpg").write_bytes(b"")  # one frame more than boxes: refused with the count
    rc = main(["pack", "--suite", "trackingnet", "--results", str(tracker), "--out", str(tmp_path / "x.zip"),
               "--data-root", str(tmp_path / "TrackingNet")])
    assert rc == 2 and f"expected {frames_of(names[0]) + 1} (one per frame)" in capsys.readouterr().err
    assert not (tmp_path / "x.zip").exists()


def test_list_file_replaces_the_shipped_list(tmp_path: Path) -> None:
    """--list: the names of a data root's list.txt are the ones required."""
    names = ["GOT-10k_Test_000001", "GOT-10k_Test_000002"]
    write_got10k_results(tmp_path / "T", names, reps=1)
    (tmp_path / "list.txt").write_text("\n".join(names) + "\n")
    out = tmp_path / "t.zip"
    assert main(["pack", "--suite", "got10k-test", "--results", str(tmp_path / "T"), "--out", str(out),
                 "--list", str(tmp_path / "list.txt")]) == 0
    assert len(read_zip(out)) == 4


def test_a_line_without_four_values_is_named(tmp_path: Path) -> None:
    """A TrackingNet result line with three values: refused, the problem names the file and line."""
    names = sequence_list("trackingnet")[:2]
    (tmp_path / "T").mkdir()
    for n in names:
        np.savetxt(tmp_path / "T" / f"{n}.txt", np.ones((3, 4)), fmt="%.1f", delimiter=",")
    bad = tmp_path / "T" / f"{names[1]}.txt"
    bad.write_text("1,2,3,4\n1,2,3\n1,2,3,4\n")
    (rs,) = discover_results(tmp_path / "T")
    with pytest.raises(PackRefused) as info:
        write_pack("trackingnet", rs, tmp_path / "t.zip", names)
    assert str(bad) + ":2:" in str(info.value) and not (tmp_path / "t.zip").exists()
    assert info.value.missing == []  # named by its file's problem, not also as missing
