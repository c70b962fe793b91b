"""trackers.common.matlab_ops: the numba-compiled resampling passes give scipy's sparse products to the bit (crops,
pyramids and response maps of the SiamFC / CFNet MATLAB ports must not move), on random images, views, uint8 frames,
padded windows, zeros of both signs and the trackers' own sizes; a one-scale pyramid equals that scale of the whole
pyramid; transposed map upsampling equals the transposed imresize."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import require_module

from trackers.common import matlab_ops


@pytest.fixture
def sparse(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """``sparse(fn, *args)``: ``fn(*args)`` computed with scipy's sparse products, as without numba."""
    require_module("numba")
    assert matlab_ops._compiled() is not None

    def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with monkeypatch.context() as m:
            m.setattr(matlab_ops, "_KERNELS", [None])
            return fn(*args, **kwargs)

    return run


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def _image(rng: np.random.Generator, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    kind = rng.integers(3)
    if dtype == np.uint8:
        return rng.integers(0, 256, shape).astype(np.uint8)
    if kind == 0:
        return (rng.random(shape) * 255).astype(dtype)
    if kind == 1:
        return (rng.standard_normal(shape) * 10).astype(dtype)
    return (rng.integers(-2, 3, shape) * rng.choice([0.0, -0.0, 1.0], shape)).astype(dtype)  # zeros, exact ties


def test_imresize_compiled_equals_sparse(sparse: Callable[..., Any]) -> None:
    rng = np.random.default_rng(12)
    cases = [((274, 274, 3), np.float32, 255 / 274), ((132, 132, 3), np.float32, 274 / 132),
             ((33, 33, 3), np.float64, 8.0), ((17, 17), np.float32, 16.0), ((263, 263, 3), np.float32, 255 / 263)]
    for _ in range(60):
        h, w = (int(v) for v in rng.integers(2, 200, 2))
        shape = (h, w) if rng.random() < 0.3 else (h, w, int(rng.choice([1, 3, 4])))
        scale = float(rng.choice([rng.uniform(0.3, 3.0), 127 / max(h, w), rng.integers(20, 300) / h]))
        cases.append((shape, rng.choice([np.float32, np.float64, np.uint8]), scale))
    for shape, dtype, scale in cases:
        image = _image(rng, shape, dtype)
        if rng.random() < 0.3:  # a view inside a larger array
            big = np.zeros((shape[0] + 3, shape[1] + 5, *shape[2:]), dtype)
            big[1:1 + shape[0], 2:2 + shape[1]] = image
            image = big[1:1 + shape[0], 2:2 + shape[1]]
        assert _same(matlab_ops.imresize(image, scale), sparse(matlab_ops.imresize, image, scale)), (shape, scale)


def test_pyramid_and_subwindow_compiled_equal_sparse(sparse: Callable[..., Any]) -> None:
    rng = np.random.default_rng(5)
    for _ in range(40):
        height, width = (int(v) for v in rng.integers(20, 300, 2))
        frame = (rng.random((height, width, 3)) * 255).astype(np.float32)
        if rng.random() < 0.5:  # a uint8 frame is read as float32 where the crops need it
            frame = rng.integers(0, 256, (height, width, 3)).astype(np.uint8)
        avg = frame.reshape(-1, 3).mean(axis=0, dtype=np.float64)
        pos = (float(rng.uniform(-20, height + 20)), float(rng.uniform(-20, width + 20)))  # windows inside and out
        sides = float(rng.uniform(10, 250)) * float(rng.choice([1.0355, 1.0575, 1.025])) ** np.arange(-1, 2)
        out_side = int(rng.choice([255, 127, 17]))
        side, model = int(rng.integers(5, 260)), int(rng.choice([127, 255, 31]))
        pyramid = (frame.astype(np.float32), pos, sides, out_side, avg)
        expected = sparse(matlab_ops.scale_pyramid, *pyramid)
        assert _same(matlab_ops.scale_pyramid(frame, *pyramid[1:]), expected), (height, width, pos, sides)
        for only in range(3):  # one scale: the first stage computes only the rows and columns under its window
            assert _same(matlab_ops.scale_pyramid(frame, *pyramid[1:], only=only), expected[only:only + 1]), only
        window = (frame, pos, model, side, avg)
        assert _same(matlab_ops.subwindow(*window), sparse(matlab_ops.subwindow, *window)), (height, width, pos)


def test_maps_upsampled_transposed(sparse: Callable[..., Any]) -> None:
    rng = np.random.default_rng(3)
    for shape, scale in [((3, 33, 33), 8.0), ((3, 17, 17), 16.0), ((2, 9, 14), 2.5), ((5, 25, 25), 8.0)]:
        maps = rng.standard_normal(shape).astype(np.float32)
        up_t = matlab_ops.imresize_maps_t(maps, scale)
        assert up_t.flags.c_contiguous and up_t.dtype == np.float32
        expected = np.stack([sparse(matlab_ops.imresize, m, scale).T for m in maps])
        assert _same(up_t, np.ascontiguousarray(expected)), shape
        assert _same(up_t, sparse(matlab_ops.imresize_maps_t, maps, scale))
        assert _same(up_t, matlab_ops.imresize_maps_t(maps.astype(np.float64), scale))  # float32 widens exactly
