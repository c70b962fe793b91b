"""trackers.common.upsample: the scale picker gives the scale, the peak and the upsampled map that upsampling every
map with OpenCV gives, to the bit (ties, near-ties, NaN and infinite maps included), refuses its bound where it does
not hold, and SiamFC-family trackers track identically with and without it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import require_module, sequence_frames

PENALTY = 0.9745  # SiamFC's scale penalty


@pytest.fixture(scope="module")
def upsample() -> object:
    require_module("numba")
    from trackers.common import upsample

    return upsample


def every_map(raw: np.ndarray, mid: int, penalty: float, side: int) -> tuple[int, float, np.ndarray]:
    """The trackers' former step: every map through cv2.resize, penalised float32 maxima, first argmax."""
    up = np.stack([cv2.resize(r, (side, side), interpolation=cv2.INTER_CUBIC) for r in raw])
    peaks = up.reshape(len(up), -1).max(axis=1)
    peaks[:mid] *= penalty
    peaks[mid + 1:] *= penalty
    best = int(np.argmax(peaks))
    return best, float(peaks[best]), up[best]


def response_like(rng: np.random.Generator, scales: int, side: int) -> np.ndarray:
    """Smooth random maps with one broad peak each, at magnitudes from 1e-3 to 1e3."""
    raw = np.cumsum(np.cumsum(rng.standard_normal((scales, side, side)), axis=1), axis=2)
    return (raw * 10.0 ** rng.uniform(-3, 3)).astype(np.float32)


@pytest.mark.parametrize(("scales", "side", "up"), [(3, 17, 272), (5, 17, 272), (3, 17, 255), (3, 22, 352)])
def test_pick_equals_upsampling_every_map(upsample: object, scales: int, side: int, up: int) -> None:
    picker = upsample.ScalePicker(side, up)
    assert picker.bounded  # the compiled upsampling agrees with this OpenCV: the shortcut is in use
    rng = np.random.default_rng(side + up + scales)
    mid = scales // 2
    skipped = 0
    for k in range(150):
        raw = response_like(rng, scales, side)
        if k % 10 == 0:  # exact ties, and maps within the margin of each other: the exact path decides
            raw[mid + 1] = raw[mid - 1] if k % 20 else raw[mid] * np.float32(1 + 1e-6)
        dst = np.full((scales, up, up), np.nan, dtype=np.float32)
        best, peak = picker.pick(raw, mid, PENALTY, dst)
        want_best, want_peak, want_map = every_map(raw, mid, PENALTY, up)
        assert (best, peak) == (want_best, want_peak), k
        assert np.array_equal(dst[best], want_map), k
        skipped += int(np.isnan(dst).any())  # maps the picker proved out were never written
    assert skipped > 100  # the point of it: most frames upsample one map


def test_non_finite_maps_take_every_map(upsample: object) -> None:
    picker = upsample.ScalePicker(17, 272)
    rng = np.random.default_rng(3)
    for bad in (np.nan, np.inf, -np.inf):
        for where in (0, 1, 2):
            raw = response_like(rng, 3, 17)
            raw[where, 5, 6] = bad
            dst = np.empty((3, 272, 272), dtype=np.float32)
            best, peak = picker.pick(raw, 1, PENALTY, dst)
            want_best, want_peak, want_map = every_map(raw, 1, PENALTY, 272)
            assert best == want_best and (peak == want_peak or (np.isnan(peak) and np.isnan(want_peak)))
            assert np.array_equal(dst[best], want_map, equal_nan=True)
    raw = response_like(rng, 3, 17)  # a penalty that is not positive: the bound's ordering argument fails
    dst = np.empty((3, 272, 272), dtype=np.float32)
    assert picker.pick(raw, 1, -0.5, dst)[:2] == every_map(raw, 1, -0.5, 272)[:2]


def test_a_bound_that_does_not_hold_is_not_used(upsample: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """A margin below the compiled upsampling's actual error fails the check against OpenCV at construction, and
    without numba there is nothing to bound with: both pick by upsampling every map, with the same results."""
    assert not upsample.ScalePicker(17, 272, tolerance=1e-12).bounded
    monkeypatch.setattr(upsample, "_KERNEL", [None])
    picker = upsample.ScalePicker(17, 272)
    assert not picker.bounded
    raw = response_like(np.random.default_rng(4), 3, 17)
    dst = np.empty((3, 272, 272), dtype=np.float32)
    best, peak = picker.pick(raw, 1, PENALTY, dst)
    want_best, want_peak, want_map = every_map(raw, 1, PENALTY, 272)
    assert (best, peak) == (want_best, want_peak) and np.array_equal(dst[best], want_map)


@pytest.mark.parametrize("name", ["fdsiamfc15", "fdsiamfc30"])
def test_trackers_track_identically_with_and_without_the_shortcut(upsample: object, shared_dir: Path, name: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from evalkit.registry import tracker_class

    monkeypatch.setenv("EVALKIT_WEIGHTS", str(shared_dir / "weights"))
    frames, gt = sequence_frames(shared_dir, "Football1", 40)
    runs = []
    for bounded in (True, False):
        tracker = tracker_class(name)()
        tracker.load("cpu")
        tracker.initialize(frames[0], gt[0])
        assert tracker._picker.bounded
        monkeypatch.setattr(tracker._picker, "bounded", bounded)
        predictions = [tracker.update(f) for f in frames[1:]]
        runs.append([(pred.box.tolist(), pred.score) for pred in predictions])
        monkeypatch.undo()
        monkeypatch.setenv("EVALKIT_WEIGHTS", str(shared_dir / "weights"))
    assert runs[0] == runs[1]


def test_one_picker_serves_several_threads(upsample: object) -> None:
    """The picker is shared by every tracker of a process (the threading backend runs trackers in threads): calls
    from several threads at once give each its own exact answer."""
    from concurrent.futures import ThreadPoolExecutor

    picker = upsample.scale_picker(17, 272)
    rng = np.random.default_rng(11)
    inputs = [response_like(rng, 3, 17) for _ in range(64)]
    expected = [every_map(raw, 1, PENALTY, 272)[:2] for raw in inputs]

    def pick(raw: np.ndarray) -> tuple[int, float]:
        return picker.pick(raw, 1, PENALTY, np.empty((3, 272, 272), dtype=np.float32))

    for _ in range(3):
        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(pick, inputs)) == expected
