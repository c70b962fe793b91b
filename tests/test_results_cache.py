"""The parsed-results cache (evalkit.results.cache): a cached read is the fresh parse, and never a stale one."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from evalkit.results import cache as results_cache
from evalkit.results import discover_results
from evalkit.results.model import ResultSet

RELEASE = Path("data/results/otb100_cfnet_release/results_SiamFC-3s_OTB-100")
FILES = ("Couple_siamfc3s.mat", "Tiger1_siamfc3s.mat", "David_siamfc3s.mat")


@pytest.fixture()
def folder(shared_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Three released .mat files and a broken one in a fresh folder; the cache under tmp_path, switched on."""
    out = tmp_path / "results"
    out.mkdir()
    for name in FILES:
        shutil.copy(shared_dir / RELEASE / name, out / name)
    (out / "Bolt_siamfc3s.mat").write_bytes(b"not a MATLAB file at all")
    monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("EVALKIT_RESULTS_CACHE", raising=False)
    monkeypatch.setattr(results_cache, "_disabled_for_process", False)
    return out


def entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "results").rglob("*.json"))


def snapshot(sets: list[ResultSet]) -> list[tuple[object, ...]]:
    """Everything scoring reads of the sets (Run holds arrays, so dataclass equality cannot be used)."""
    out: list[tuple[object, ...]] = []
    for rs in sets:
        runs = {k: [(r.boxes.tolist(), r.boxes.dtype.str, r.start_frame, r.source, r.line_offset) for r in v]
                for k, v in rs.runs.items()}
        out.append((rs.tracker, rs.source, runs, dict(rs.names), [(p.path, p.line, p.message) for p in rs.problems],
                    rs.vot_runs))
    return out


def fresh(folder: Path, monkeypatch: pytest.MonkeyPatch) -> list[ResultSet]:
    with monkeypatch.context() as m:
        m.setenv("EVALKIT_RESULTS_CACHE", "0")
        return discover_results(folder)


def count_parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Files the OTB reader parses from now on."""
    from evalkit.results import otb_mat

    parsed: list[Path] = []
    real = otb_mat.read_otb_mat

    def spy(path: Path, first_only: bool = False) -> object:
        parsed.append(Path(path))
        return real(path, first_only)

    monkeypatch.setattr(otb_mat, "read_otb_mat", spy)
    return parsed


def test_cached_read_equals_fresh_parse(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = snapshot(fresh(folder, monkeypatch))
    assert expected[0][4], "the broken file is reported"
    assert snapshot(discover_results(folder)) == expected  # the first call parses and writes the entry
    assert len(entries(tmp_path)) == 1
    parsed = count_parses(monkeypatch)
    cached = discover_results(folder)
    assert parsed == []  # from the cache: nothing parsed
    assert snapshot(cached) == expected  # boxes, start frames, sources and the broken file's problem
    boxes = cached[0].runs_for("Couple")[0].boxes
    assert boxes.dtype == np.float64 and boxes.flags.writeable


def test_touch_and_edit_invalidate(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    discover_results(folder)
    parsed = count_parses(monkeypatch)
    couple = folder / "Couple_siamfc3s.mat"
    st = couple.stat()
    os.utime(couple, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # touched: same bytes, other mtime
    discover_results(folder)
    assert couple in parsed
    # same size and mtime, other content: only the content hash can tell
    parsed.clear()
    st = couple.stat()
    data = bytearray(couple.read_bytes())
    data[-1] ^= 0xFF
    couple.write_bytes(bytes(data))
    os.utime(couple, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert couple.stat().st_size == st.st_size and couple.stat().st_mtime_ns == st.st_mtime_ns
    sets = discover_results(folder)
    assert couple in parsed
    assert snapshot(sets) == snapshot(fresh(folder, monkeypatch))  # the edited file's (new) outcome, not the old


def test_parser_change_invalidates(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    discover_results(folder)
    parsed = count_parses(monkeypatch)
    monkeypatch.setattr(results_cache, "_parser_digest", lambda parser: "another parser")
    discover_results(folder)
    assert parsed


@pytest.mark.parametrize("damage", ["garbage-index", "truncated-arrays", "rewritten-arrays", "missing-arrays"])
def test_corrupt_entry_is_ignored_and_rewritten(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               damage: str) -> None:
    expected = snapshot(fresh(folder, monkeypatch))
    discover_results(folder)
    (index,) = entries(tmp_path)
    arrays = index.with_suffix(".f8")
    if damage == "garbage-index":
        index.write_bytes(b'{"key": [1, 2')
    elif damage == "truncated-arrays":
        arrays.write_bytes(arrays.read_bytes()[:-8])
    elif damage == "rewritten-arrays":  # same size, other numbers, written later
        st = arrays.stat()
        arrays.write_bytes(b"\x00" * st.st_size)
        os.utime(arrays, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    else:
        arrays.unlink()
    parsed = count_parses(monkeypatch)
    assert snapshot(discover_results(folder)) == expected  # parsed again, same numbers, no crash
    assert parsed
    parsed.clear()
    assert snapshot(discover_results(folder)) == expected  # and the entry was rewritten: a hit again
    assert parsed == []


def test_cache_can_be_turned_off(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALKIT_RESULTS_CACHE", "off")
    expected = snapshot(discover_results(folder))
    assert entries(tmp_path) == []
    assert "off" in results_cache.describe()
    monkeypatch.delenv("EVALKIT_RESULTS_CACHE")
    assert snapshot(discover_results(folder)) == expected
    assert len(entries(tmp_path)) == 1
    assert str(tmp_path / "cache" / "results") in results_cache.describe()


def test_unwritable_cache_is_off(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("the cache folder cannot be made under a file (permissions do not stop root)")
    monkeypatch.setenv("EVALKIT_CACHE", str(blocker / "cache"))
    expected = snapshot(fresh(folder, monkeypatch))
    assert snapshot(discover_results(folder)) == expected
    assert results_cache.cache_root() is None  # given up for the process after the failed write
    parsed = count_parses(monkeypatch)
    assert snapshot(discover_results(folder)) == expected
    assert parsed  # parsed, as without a cache


def test_prefetch_fills_the_cache_for_every_folder(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                   ) -> None:
    """Several .mat folders under one path are parsed in parallel into the cache; the scan then reads the entries."""
    root = tmp_path / "trackers"
    shutil.copytree(folder, root / "a")
    shutil.copytree(folder, root / "b")
    for path in (root / "b").iterdir():
        path.rename(path.with_name(path.name.replace("siamfc3s", "other")))
    expected = snapshot(fresh(root, monkeypatch))
    parsed = count_parses(monkeypatch)
    assert snapshot(discover_results(root)) == expected
    assert len(entries(tmp_path)) == 2
    if (os.cpu_count() or 1) > 1:
        assert parsed == []  # parsed in the workers, read here from the entries they wrote
    parsed.clear()
    assert snapshot(discover_results(root)) == expected
    assert parsed == []


def test_cache_is_bounded(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond the size bound the least recently used entries go; the newest is always kept."""
    other = tmp_path / "other"
    shutil.copytree(folder, other)
    discover_results(folder)
    monkeypatch.setattr(results_cache, "MAX_BYTES", 1)
    discover_results(other)
    (kept,) = entries(tmp_path)
    assert kept.name == results_cache._entry_name(other, "*.mat", "all runs") + ".json"


def test_text_result_folders_are_cached_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """<tracker>/<seq>.txt folders (LaSOT's 280 files a tracker): the cached sets are the fresh parse, problems
    included, and an edited file is parsed again."""
    monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("EVALKIT_RESULTS_CACHE", raising=False)
    monkeypatch.setattr(results_cache, "_disabled_for_process", False)
    root = tmp_path / "results"
    for tracker, shift in (("A", 0.0), ("B", 1.5)):
        (root / tracker).mkdir(parents=True)
        for seq in ("Couple", "Crossing"):
            boxes = np.arange(40.0).reshape(10, 4) + shift
            np.savetxt(root / tracker / f"{seq}.txt", boxes, delimiter=",", fmt="%.2f")
    (root / "B" / "Dog1.txt").write_text("1,2,3,4\n5,6,,8\n")  # an empty field on line 2
    expected = snapshot(fresh(root, monkeypatch))
    assert [Path(path).name for path, _, _ in expected[1][4]] == ["Dog1.txt"]
    assert snapshot(discover_results(root)) == expected
    assert len(entries(tmp_path)) == 2
    from evalkit.datasets import base

    calls: list[Path] = []
    real = base._parse_boxes_fast
    monkeypatch.setattr(base, "_parse_boxes_fast", lambda text: calls.append(Path()) or real(text))
    assert snapshot(discover_results(root)) == expected and calls == []  # nothing parsed
    (root / "A" / "Couple.txt").write_text("9,9,9,9\n" * 10)
    sets = discover_results(root)
    assert len(calls) == 2  # folder A parsed again (its two files), B from the cache
    assert sets[0].runs_for("Couple")[0].boxes[0].tolist() == [9.0, 9.0, 9.0, 9.0]
