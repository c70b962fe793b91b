"""Ground-truth box files parsed once per content (evalkit/datasets/box_cache.py): the cached boxes are the fresh
parse, an edit is parsed again, a bad file is named every time, a damaged entry is a miss."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evalkit.datasets import base, box_cache
from evalkit.errors import InputFileError


@pytest.fixture()
def gt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A 600-row box file; the cache under tmp_path, switched on; parses counted in ``parses``."""
    monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("EVALKIT_RESULTS_CACHE", raising=False)
    monkeypatch.setattr(box_cache, "_off_for_process", False)
    box_cache._configured.cache_clear()
    path = tmp_path / "groundtruth_rect.txt"
    rows = np.arange(2400, dtype=float).reshape(600, 4) / 4
    rows[7] = np.nan  # an absent frame is kept as NaN
    path.write_text("\n".join(",".join("NaN" if np.isnan(v) else f"{v:g}" for v in r) for r in rows) + "\n")
    return path


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    parses: list[str] = []
    real = base._parse_boxes
    monkeypatch.setattr(base, "_parse_boxes", lambda path, text: parses.append(text) or real(path, text))
    return parses


def test_second_read_comes_from_the_cache(gt: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = base.read_box_file(gt, expected_rows=600)
    parses = _count_parses(monkeypatch)
    first = base.read_box_file(gt, expected_rows=600, cached=True)
    again = base.read_box_file(gt, expected_rows=600, cached=True)
    assert len(parses) == 1 and len(list((tmp_path / "cache" / "boxes").rglob("*.f8"))) == 1
    np.testing.assert_array_equal(first, fresh)
    np.testing.assert_array_equal(again, fresh)
    assert again.dtype == np.float64 and again.flags.writeable
    with pytest.raises(InputFileError, match="expected 599"):  # the checks run on cached boxes too
        base.read_box_file(gt, expected_rows=599, cached=True)
    with pytest.raises(InputFileError, match="NaN is not allowed"):
        base.read_box_file(gt, allow_nan=False, cached=True)


def test_an_edit_is_parsed_again_and_a_bad_file_every_time(gt: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base.read_box_file(gt, cached=True)
    parses = _count_parses(monkeypatch)
    gt.write_text(gt.read_text().replace("4,4.25,4.5,4.75", "9,9,9,9", 1))
    assert base.read_box_file(gt, cached=True)[4].tolist() == [9.0, 9.0, 9.0, 9.0]
    assert len(parses) == 1
    gt.write_text(gt.read_text() + "1,2,,4\n")
    for _ in range(2):
        with pytest.raises(InputFileError, match=r":601: expected 4 values"):
            base.read_box_file(gt, cached=True)
    assert len(parses) == 3


def test_a_damaged_entry_is_a_miss_and_the_switch_turns_it_off(gt: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    expected = base.read_box_file(gt, cached=True)
    (entry,) = (tmp_path / "cache" / "boxes").rglob("*.f8")
    entry.write_bytes(entry.read_bytes()[:-3])  # not a whole number of boxes
    parses = _count_parses(monkeypatch)
    np.testing.assert_array_equal(base.read_box_file(gt, cached=True), expected)
    assert len(parses) == 1 and entry.stat().st_size == expected.size * 8  # rewritten
    monkeypatch.setenv("EVALKIT_RESULTS_CACHE", "0")
    base.read_box_file(gt, cached=True)
    assert len(parses) == 2


def test_suites_load_their_ground_truth_through_it(shared_dir: Path, gt: Path, monkeypatch: pytest.MonkeyPatch
                                                   ) -> None:
    from evalkit.datasets import load_suite

    first = load_suite("otb100", shared_dir / "data" / "otb100", ["Couple", "Dog1", "David"])
    parses = _count_parses(monkeypatch)
    again = load_suite("otb100", shared_dir / "data" / "otb100", ["Couple", "Dog1", "David"])
    assert all(len(text) < box_cache.MIN_TEXT for text in parses)  # only files too small to be worth an entry
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.ground_truth, b.ground_truth)
