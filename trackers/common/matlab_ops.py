"""The image operations of the SiamFC / CFNet MATLAB releases (CFNet inherited them from siamese-fc), reproduced
exactly, for both trackers: MATLAB rounding, ``imresize`` (bicubic,
antialiased when shrinking), ``mexResize`` (OpenCV, 'auto'), the padded sub-window and the two-stage scale pyramid.

    pyr = scale_pyramid(frame_f32, pos, s_x * scales, 255, avg)     # pos: 1-based (row, col), as tracker.m keeps it
    up = imresize(response, scale=8)                                # the x8 bicubic upsampling of a response map

Why a copy of the shared crop helpers (``trackers.common.crops``): the release's results depend on details that the
SiamFC PyTorch convention does not share, and a faithful port has to follow them (``make_scale_pyramid.m``,
``get_subwindow_tracking.m``, ``tracker_step.m`` of bertinetto/cfnet):

- MATLAB ``round`` rounds halves away from zero (numpy rounds them to even); centres are 1-based.
- Frames are single-precision floats (``vl_imreadjpeg``); padding is the unrounded mean colour; crops are never
  rounded back to integers.
- The search pyramid is cut in two stages: the largest scale's region is resized to ``round(255 max/min)`` pixels,
  then each scale is a centred sub-window of that, resized to 255 (so the largest scale gets a one-pixel shift and a
  padded first row and column, as in the release).
- ``imresize(patch, ratio)`` is MATLAB's bicubic (a = -0.5) with antialiasing when shrinking; when rounding makes its
  output one pixel off, the camera-ready code fell back to ``mexResize`` (OpenCV: INTER_AREA to shrink, INTER_LINEAR
  to enlarge).

Speed: with numba installed, the two resampling passes run compiled (:func:`_resize_into`: each output row
accumulated in place, windows read where they lie in the frame, no float64 copy of the input), with the same
additions in the same order as scipy's sparse products, which are used without numba; the results are the same to
the bit (tests/test_matlab_ops.py compares both).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

# MATLAB rgb2gray weights (ITU-R BT.601 as MATLAB rounds them), used by the grey networks' training pairs.
RGB2GRAY = np.array([0.298936021293775, 0.587043074451121, 0.114020904255103])


def matlab_round(x: float | NDArray[np.float64]) -> NDArray[np.float64] | float:
    """MATLAB ``round``: halves away from zero."""
    if isinstance(x, float | int) and math.isfinite(x):  # a scalar (every crop corner): the same arithmetic
        return math.copysign(float(math.floor(abs(x) + 0.5)), x) if x else 0.0
    a = np.asarray(x, dtype=np.float64)
    out = np.sign(a) * np.floor(np.abs(a) + 0.5)
    return float(out) if out.ndim == 0 else out


def keys_cubic(x: NDArray[np.float64], a: float = -0.5) -> NDArray[np.float64]:
    """Keys' cubic convolution kernel: a = -0.5 is MATLAB's 'bicubic', a = -0.75 OpenCV's ``INTER_CUBIC``. (With
    a = -0.5 the constants are those MATLAB's ``cubic`` writes, 1.5, 2.5, -0.5, 2.5, -4 and 2, so the weights
    are its to the bit.)"""
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    return (((a + 2) * ax3 - (a + 3) * ax2 + 1) * (ax <= 1)
            + (a * ax3 - 5 * a * ax2 + 8 * a * ax - 4 * a) * ((ax > 1) & (ax <= 2)))


@lru_cache(maxsize=256)
def imresize_matrix(in_len: int, out_len: int, scale: float, antialias: bool = True) -> NDArray[np.float64]:
    """The (out_len, in_len) matrix of MATLAB ``imresize``'s bicubic resampling along one dimension."""
    width = 4.0
    if scale < 1 and antialias:
        def kernel(x: NDArray[np.float64]) -> NDArray[np.float64]:
            return scale * keys_cubic(scale * x)
        width = width / scale
    else:
        kernel = keys_cubic
    x = np.arange(1, out_len + 1, dtype=np.float64)[:, None]
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    taps = int(math.ceil(width)) + 2
    idx = left + np.arange(taps, dtype=np.float64)[None, :]
    w = kernel(u - idx)
    w = w / w.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(in_len), np.arange(in_len - 1, -1, -1)])  # MATLAB's symmetric boundary
    src = mirror[np.mod(idx.astype(np.int64) - 1, 2 * in_len)]
    out = np.zeros((out_len, in_len))
    np.add.at(out, (np.repeat(np.arange(out_len), taps), src.ravel()), w.ravel())
    return out


@lru_cache(maxsize=256)
def _sparse_matrix(in_len: int, out_len: int, scale: float) -> Any:
    """:func:`imresize_matrix` as a CSR matrix (a handful of taps per row: far cheaper to apply than a dense one)."""
    from scipy.sparse import csr_matrix

    return csr_matrix(imresize_matrix(in_len, out_len, scale))


def _swap_axes01(a: NDArray[np.floating]) -> NDArray[np.floating]:
    """``a.transpose(1, 0, 2)`` of an H x W x C array, contiguous: OpenCV's blocked transpose for up to 4 channels
    (numpy's copy of a transpose with 3 contiguous values per element runs several times slower)."""
    if a.shape[2] <= 4:
        return cv2.transpose(a).reshape(a.shape[1], a.shape[0], a.shape[2])
    return np.ascontiguousarray(a.transpose(1, 0, 2))


def _tap_rows(x: NDArray[np.floating], x_row: int, x_col: int, indptr: NDArray[np.int32], indices: NDArray[np.int32],
              data: NDArray[np.float64], out: NDArray[np.float64]) -> None:
    """``out[i] = 0.0 + sum data[p] * x[x_row + indices[p], x_col:x_col + n]`` over row i's taps in CSR order,
    in float64 (float32 input widens exactly): scipy's ``csr_matvecs`` arithmetic, one addition at a time."""
    n = out.shape[1]
    for i in range(out.shape[0]):
        o = out[i]
        for j in range(n):
            o[j] = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            a = data[p]
            xr = x[x_row + indices[p], x_col:x_col + n]  # a unit-step slice: the loop below vectorises
            for j in range(n):
                o[j] += a * xr[j]


def _tap_rows_f32(t: NDArray[np.float64], c: int, indptr: NDArray[np.int32], indices: NDArray[np.int32],
                  data: NDArray[np.float64], out: NDArray[np.float32]) -> None:
    """The column pass on transposed rows ``t`` (W*C x H, float64): row ``jo*c + ch`` of ``out`` (float32) is
    ``0.0 + sum data[p] * t[indices[p]*c + ch]`` over row jo's taps in CSR order, rounded to float32 once."""
    n = out.shape[1]
    acc = np.empty(n)
    for r in range(out.shape[0]):
        jo = r // c
        ch = r - jo * c
        for j in range(n):
            acc[j] = 0.0
        for p in range(indptr[jo], indptr[jo + 1]):
            a = data[p]
            tr = t[indices[p] * c + ch]
            for j in range(n):
                acc[j] += a * tr[j]
        o = out[r]
        for j in range(n):
            o[j] = np.float32(acc[j])


# Output rows per strip: a strip's float64 rows are still in cache when its column pass and transposes read them
# (96 rows measured fastest on this project's 255-286 px crops: 10-15% less time per pyramid than whole images)
_STRIP = 96
_KERNELS: list[Any] = []  # [(rows pass, column pass)] once compiled, [None] where numba is missing


def _compiled() -> tuple[Any, Any] | None:
    """The two passes compiled by numba (cached on disk), or None without numba: scipy's sparse products then."""
    if not _KERNELS:
        try:
            import numba

            jit = numba.njit(cache=True, nogil=True, boundscheck=False)
            _KERNELS.append((jit(_tap_rows), jit(_tap_rows_f32)))
        except ImportError:
            _KERNELS.append(None)
    return _KERNELS[0]


def _resize_into(src: NDArray[Any], y0: int, x0: int, h: int, w: int, scale: float, dst: NDArray[np.float32],
                 out_y0: int = 0, out_x0: int = 0, transposed: bool = False) -> None:
    """``dst[:] = imresize(src[y0:y0 + h, x0:x0 + w], scale)[out_y0:, out_x0:]`` cut to ``dst``'s size (its transpose
    when ``transposed``, for a 2-D ``src``): ``src`` a C-contiguous H x W or H x W x C array (float32, float64 or
    uint8, widened exactly), ``dst`` float32 with contiguous rows. The same products, to the bit, as :func:`imresize`'s
    sparse ones (taps summed left to right from 0.0, no fused multiply-add; an output row or column left out is
    simply not computed), without their float64 copy of the window: each output row is accumulated in place, the
    passes joined by OpenCV transposes, in strips of :data:`_STRIP` output rows."""
    kernels = _compiled()
    oh, ow = dst.shape[1::-1] if transposed else dst.shape[:2]
    c = 1 if src.ndim == 2 else src.shape[2]
    rows = _sparse_matrix(h, math.ceil(scale * h), float(scale))
    cols = _sparse_matrix(w, math.ceil(scale * w), float(scale))
    if kernels is None:
        out = imresize(src[y0:y0 + h, x0:x0 + w], scale)[out_y0:out_y0 + oh, out_x0:out_x0 + ow]
        dst[...] = out.T if transposed else out
        return
    tap_rows, tap_rows_f32 = kernels
    x = src.reshape(src.shape[0], -1)
    col_ptr = cols.indptr[out_x0:out_x0 + ow + 1]
    flat = None if transposed else dst.reshape(oh, ow * c)  # a view (a window's rows may be strided)
    strip = oh if transposed else _STRIP
    for i0 in range(0, oh, strip):
        n = min(strip, oh - i0)
        tmp = np.empty((n, w * c))
        tap_rows(x, y0, x0 * c, rows.indptr[out_y0 + i0:out_y0 + i0 + n + 1], rows.indices, rows.data, tmp)
        out_t = dst if flat is None else np.empty((ow * c, n), dtype=np.float32)
        tap_rows_f32(cv2.transpose(tmp), c, col_ptr, cols.indices, cols.data, out_t)  # then columns, transposed
        if flat is not None:
            cv2.transpose(out_t, dst=flat[i0:i0 + n])


def imresize(image: NDArray[np.floating], scale: float) -> NDArray[np.float32]:
    """MATLAB ``imresize(image, scale)`` (bicubic, antialiased): output side ``ceil(scale * side)``, float32.

    ``image``: H x W, or H x W x C (each channel resampled alike: a stack of maps resizes in one call). Computed in
    float64, rows first then columns as MATLAB orders equal scales, each pass one sparse product over all channels
    (with numba, :func:`_resize_into`'s compiled passes: the same sums).
    """
    h, w = image.shape[:2]
    oh, ow = math.ceil(scale * h), math.ceil(scale * w)
    if _compiled() is not None:
        src = image if image.dtype in (np.float32, np.float64, np.uint8) else np.asarray(image, dtype=np.float64)
        out = np.empty((oh, ow, *image.shape[2:]), dtype=np.float32)
        _resize_into(np.ascontiguousarray(src), 0, 0, h, w, scale, out)
        return out
    rows = _sparse_matrix(h, oh, float(scale))
    cols = _sparse_matrix(w, ow, float(scale))
    img = np.asarray(image, dtype=np.float64)
    c = 1 if img.ndim == 2 else img.shape[2]
    tmp = (rows @ img.reshape(h, w * c)).reshape(oh, w, c)  # rows first
    out = cols @ _swap_axes01(tmp).reshape(w, oh * c)  # then columns: (ow, oh x c)
    out = _swap_axes01(out.astype(np.float32).reshape(ow, oh, c))  # cast first: a transpose moves no rounding
    return out.reshape(oh, ow) if img.ndim == 2 else out


def imresize_maps_t(maps: NDArray[np.floating], scale: float) -> NDArray[np.float32]:
    """``out[i] = imresize(maps[i], scale).T`` of N x H x W maps, as one C-contiguous N x W' x H' float32 array: each
    map's upsampling transposed, which saves its last transpose (a maximum, or MATLAB's column-major ``find``, reads
    the transposed map as well)."""
    n, h, w = maps.shape
    out = np.empty((n, math.ceil(scale * w), math.ceil(scale * h)), dtype=np.float32)
    src = maps if maps.dtype in (np.float32, np.float64) else np.asarray(maps, dtype=np.float64)
    src = np.ascontiguousarray(src)
    for i in range(n):
        _resize_into(src[i], 0, 0, h, w, scale, out[i], transposed=True)
    return out


def mex_resize(image: NDArray[np.floating], side: int) -> NDArray[np.float32]:
    """``mexResize(image, [side side], 'auto')``: OpenCV INTER_LINEAR to enlarge, INTER_AREA otherwise."""
    img = np.ascontiguousarray(image, dtype=np.float32)
    interp = cv2.INTER_LINEAR if side > img.shape[1] else cv2.INTER_AREA
    out = cv2.resize(img, (side, side), interpolation=interp)
    return out.reshape(side, side, *img.shape[2:])


def _window(image: NDArray[np.floating], y0: int, x0: int, side: int,
            avg: NDArray[np.float64]) -> NDArray[np.float32]:
    """Rows ``[y0, y0 + side)`` x columns ``[x0, x0 + side)`` (0-based) of ``image`` as float32, ``avg`` outside it;
    a view of the image when the window lies inside a float32 image."""
    h, w, channels = image.shape
    y1, x1 = y0 + side, x0 + side
    if y0 >= 0 and x0 >= 0 and y1 <= h and x1 <= w:
        return np.asarray(image[y0:y1, x0:x1], dtype=np.float32)
    colour = np.asarray(avg, dtype=np.float32).reshape(-1)
    iy0, ix0, iy1, ix1 = max(y0, 0), max(x0, 0), min(y1, h), min(x1, w)
    inside = np.asarray(image[iy0:iy1, ix0:ix1], dtype=np.float32)
    if iy1 > iy0 and ix1 > ix0 and channels <= 4:  # one OpenCV pass (its scalar is cast to float32 as numpy does)
        out = cv2.copyMakeBorder(inside, iy0 - y0, y1 - iy1, ix0 - x0, x1 - ix1, cv2.BORDER_CONSTANT,
                                 value=np.broadcast_to(colour, (channels,)).tolist())
        return out.reshape(side, side, channels)
    patch = np.empty((side, side, channels), dtype=np.float32)
    patch[...] = colour
    if iy1 > iy0 and ix1 > ix0:
        patch[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0] = inside
    return patch


# An H x W x C image as (array, row, col, height, width): array[row:row + height, col:col + width], with ``array``
# C-contiguous float32 or uint8 (read as float32: exactly), so the compiled passes read a window of it in place (a
# view's rows are not contiguous).
_Placed = tuple[NDArray[Any], int, int, int, int]


def _placed(image: NDArray[Any]) -> _Placed:
    src = image if image.dtype in (np.float32, np.uint8) else np.asarray(image, dtype=np.float32)
    src = np.ascontiguousarray(src)
    return src, 0, 0, src.shape[0], src.shape[1]


def _corner(centre: float, side: int) -> int:
    """0-based first row (column) of get_subwindow_tracking's ``side`` square around 1-based ``centre``."""
    return int(matlab_round(centre - (side + 1) / 2)) - 1  # 1-based [min, min + side - 1] -> 0-based [min - 1, ...)


def _placed_window(image: _Placed, pos: tuple[float, float], side: int, avg: NDArray[np.float64]) -> _Placed:
    """The ``side`` square around 1-based ``pos`` (row, col) of ``image``, ``avg`` outside it, in place when it lies
    inside."""
    array, row, col, h, w = image
    y0, x0 = _corner(pos[0], side), _corner(pos[1], side)
    if y0 >= 0 and x0 >= 0 and y0 + side <= h and x0 + side <= w:
        return array, row + y0, col + x0, side, side
    patch = _window(array[row:row + h, col:col + w], y0, x0, side, avg)
    return np.ascontiguousarray(patch), 0, 0, side, side


def _by_imresize(model_side: int, side: int) -> bool:
    """Whether the release resizes ``side`` to ``model_side`` with imresize (not when equal, nor when the ratio's
    ceil is one pixel off: mexResize then)."""
    return model_side != side and math.ceil(model_side / side * side) == model_side


def _resize_placed(window: _Placed, model_side: int, dst: NDArray[np.float32]) -> None:
    """``dst`` (model_side x model_side x C, C-contiguous) = the square ``window`` resized as the release does:
    ``imresize``, or ``mexResize`` when the ratio's ceil is one pixel off, or a copy when the sides are equal."""
    array, row, col, side, _ = window
    if _by_imresize(model_side, side):
        _resize_into(array, row, col, side, side, model_side / side, dst)
    elif model_side == side:
        dst[...] = array[row:row + side, col:col + side]
    else:  # the release's fallback (imresize's side is off)
        dst[...] = mex_resize(array[row:row + side, col:col + side], model_side)


def subwindow(image: NDArray[Any], pos: tuple[float, float], model_side: int, original_side: int,
              avg: NDArray[np.float64]) -> NDArray[np.float32]:
    """``get_subwindow_tracking``: the ``original_side`` square around 1-based ``pos`` (row, col), padded with
    ``avg`` outside the image, resized to ``model_side``: a new float32 array. ``image``: float32, or uint8 (read as
    float32)."""
    out = np.empty((model_side, model_side, image.shape[2]), dtype=np.float32)
    _resize_placed(_placed_window(_placed(image), pos, original_side, avg), model_side, out)
    return out


def scale_pyramid(image: NDArray[Any], pos: tuple[float, float], sides: NDArray[np.float64], out_side: int,
                  avg: NDArray[np.float64], only: int | None = None) -> NDArray[np.float32]:
    """``make_scale_pyramid``: (n, out_side, out_side, C) crops of ``sides`` around 1-based ``pos``, in two stages;
    ``only``: just that scale, (1, out_side, out_side, C) (tracker.m keeps only the middle one of an exemplar's).
    ``image``: float32, or uint8 (read as float32)."""
    rounded = np.asarray(matlab_round(np.asarray(sides, dtype=np.float64)), dtype=np.float64).reshape(-1)
    max_side, min_side = int(rounded[-1]), int(rounded[0])
    search_side = int(matlab_round(out_side * max_side / min_side))
    channels = image.shape[2]
    chosen = range(len(rounded)) if only is None else [only]
    targets = [int(matlab_round(out_side * rounded[s] / min_side)) for s in chosen]
    centre = (1 + search_side) / 2
    out = np.empty((len(chosen), out_side, out_side, channels), dtype=np.float32)
    window = _placed_window(_placed(image), pos, max_side, avg)
    if _by_imresize(search_side, max_side) and only is not None:
        # one scale: only the first stage's rows and columns under its window are computed (the same values)
        side = targets[0]
        corner = _corner(centre, side)
        if corner >= 0 and corner + side <= search_side:
            part = np.empty((side, side, channels), dtype=np.float32)
            _resize_into(window[0], window[1], window[2], max_side, max_side, search_side / max_side, part,
                         out_y0=corner, out_x0=corner)
            _resize_placed((part, 0, 0, side, side), out_side, out[0])
            return out
    if search_side == max_side:
        region = window  # read only: the window in place will do
    else:
        resized = np.empty((search_side, search_side, channels), dtype=np.float32)
        _resize_placed(window, search_side, resized)
        region = (resized, 0, 0, search_side, search_side)
    for i, side in enumerate(targets):
        _resize_placed(_placed_window(region, (centre, centre), side, avg), out_side, out[i])
    return out


def as_grey(frame: NDArray[np.floating]) -> NDArray[np.float32]:
    """MATLAB ``rgb2gray`` of an RGB frame, repeated to three channels (the grey networks' input)."""
    grey = np.asarray(frame, dtype=np.float64) @ RGB2GRAY
    return np.repeat(grey[..., None], 3, axis=2).astype(np.float32)


def is_grey(frame: NDArray[np.generic]) -> bool:
    """True for a frame whose three channels are identical: a greyscale file expanded to RGB by the reader."""
    return frame.ndim == 2 or frame.shape[2] == 1 or bool(
        np.array_equal(frame[..., 0], frame[..., 1]) and np.array_equal(frame[..., 1], frame[..., 2]))
