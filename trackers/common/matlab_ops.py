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


def _cubic(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Keys' cubic kernel with a = -0.5 (MATLAB's 'bicubic')."""
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    return ((1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1)
            + (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2)))


@lru_cache(maxsize=256)
def imresize_matrix(in_len: int, out_len: int, scale: float, antialias: bool = True) -> NDArray[np.float64]:
    """The (out_len, in_len) matrix of MATLAB ``imresize``'s bicubic resampling along one dimension."""
    width = 4.0
    if scale < 1 and antialias:
        def kernel(x: NDArray[np.float64]) -> NDArray[np.float64]:
            return scale * _cubic(scale * x)
        width = width / scale
    else:
        kernel = _cubic
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


def imresize(image: NDArray[np.floating], scale: float) -> NDArray[np.float32]:
    """MATLAB ``imresize(image, scale)`` (bicubic, antialiased): output side ``ceil(scale * side)``, float32.

    ``image``: H x W, or H x W x C (each channel resampled alike: a stack of maps resizes in one call). Computed in
    float64, rows first then columns as MATLAB orders equal scales, each pass one sparse product over all channels.
    """
    h, w = image.shape[:2]
    oh, ow = math.ceil(scale * h), math.ceil(scale * w)
    rows = _sparse_matrix(h, oh, float(scale))
    cols = _sparse_matrix(w, ow, float(scale))
    img = np.asarray(image, dtype=np.float64)
    c = 1 if img.ndim == 2 else img.shape[2]
    tmp = (rows @ img.reshape(h, w * c)).reshape(oh, w, c)  # rows first
    out = cols @ _swap_axes01(tmp).reshape(w, oh * c)  # then columns: (ow, oh x c)
    out = _swap_axes01(out.astype(np.float32).reshape(ow, oh, c))  # cast first: a transpose moves no rounding
    return out.reshape(oh, ow) if img.ndim == 2 else out


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


def _resized_window(image: NDArray[np.floating], pos: tuple[float, float], model_side: int, original_side: int,
                    avg: NDArray[np.float64]) -> NDArray[np.float32]:
    """:func:`subwindow`, possibly a view of ``image`` (when no resize is needed and the window lies inside)."""
    c = (original_side + 1) / 2
    ymin = int(matlab_round(pos[0] - c))
    xmin = int(matlab_round(pos[1] - c))
    # 1-based [ymin, ymin + side - 1] -> 0-based [ymin - 1, ymin - 1 + side)
    patch = _window(image, ymin - 1, xmin - 1, original_side, avg)
    if model_side == original_side:
        return patch
    out = imresize(patch, model_side / original_side)
    if out.shape[0] != model_side:  # the release's fallback when the ratio's ceil is one pixel off
        out = mex_resize(patch, model_side)
    return out


def subwindow(image: NDArray[np.float32], pos: tuple[float, float], model_side: int, original_side: int,
              avg: NDArray[np.float64]) -> NDArray[np.float32]:
    """``get_subwindow_tracking``: the ``original_side`` square around 1-based ``pos`` (row, col), padded with
    ``avg`` outside the image, resized to ``model_side``: a new float32 array."""
    out = _resized_window(image, pos, model_side, original_side, avg)
    return out.copy() if np.may_share_memory(out, image) else out


def scale_pyramid(image: NDArray[np.float32], pos: tuple[float, float], sides: NDArray[np.float64], out_side: int,
                  avg: NDArray[np.float64], only: int | None = None) -> NDArray[np.float32]:
    """``make_scale_pyramid``: (n, out_side, out_side, C) crops of ``sides`` around 1-based ``pos``, in two stages;
    ``only``: just that scale, (1, out_side, out_side, C) (tracker.m keeps only the middle one of an exemplar's)."""
    rounded = np.asarray(matlab_round(np.asarray(sides, dtype=np.float64)), dtype=np.float64).reshape(-1)
    max_side, min_side = int(rounded[-1]), int(rounded[0])
    search_side = int(matlab_round(out_side * max_side / min_side))
    region = _resized_window(image, pos, search_side, max_side, avg)  # read only: a view will do
    centre = ((1 + search_side) / 2, (1 + search_side) / 2)
    chosen = range(len(rounded)) if only is None else [only]
    out = np.empty((len(chosen), out_side, out_side, image.shape[2]), dtype=np.float32)
    for i, s in enumerate(chosen):
        target_side = int(matlab_round(out_side * rounded[s] / min_side))
        out[i] = _resized_window(region, centre, out_side, target_side, avg)
    return out


def as_grey(frame: NDArray[np.floating]) -> NDArray[np.float32]:
    """MATLAB ``rgb2gray`` of an RGB frame, repeated to three channels (the grey networks' input)."""
    grey = np.asarray(frame, dtype=np.float64) @ RGB2GRAY
    return np.repeat(grey[..., None], 3, axis=2).astype(np.float32)


def is_grey(frame: NDArray[np.generic]) -> bool:
    """True for a frame whose three channels are identical: a greyscale file expanded to RGB by the reader."""
    return frame.ndim == 2 or frame.shape[2] == 1 or bool(
        np.array_equal(frame[..., 0], frame[..., 1]) and np.array_equal(frame[..., 1], frame[..., 2]))
