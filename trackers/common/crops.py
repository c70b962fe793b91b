"""Image crops around a target centre, resized to a network's input size: the convention of the SiamFC release.

    from trackers.common.crops import crop_and_resize, crop_pyramid, mean_colour, scale_factors

    colour = mean_colour(frame)                                      # padding colour, once per sequence
    z = crop_and_resize(frame, (cx, cy), 80.5, 127, padding=colour)  # 127x127x3 exemplar patch
    sizes = 160.0 * scale_factors(3, 1.0375)                         # three scales: 160/1.0375, 160, 160*1.0375
    x = crop_pyramid(frame, (cx, cy), sizes, 255, padding=colour)    # 3x255x255x3, one read of the image

Conventions (those of the SiamFC PyTorch release, which FDSiamFC inherits; the MATLAB release differs by at most one
pixel in the corner rounding):

- Coordinates are 0-based pixels, the centre of pixel (i, j) at (j, i); the centre is (cx, cy), sizes are (w, h) or
  one number for a square.
- A crop of size ``s`` around centre ``c`` covers the integer pixel range ``[x0, x0 + round(s))`` with
  ``x0 = round(c - (s - 1) / 2)`` (numpy rounding, half to even), i.e. corners are rounded, never interpolated.
- Pixels outside the image take the padding: the image's mean colour (``"mean"``, SiamFC/CFNet), a given colour
  (a number or one value per channel), or the nearest edge pixel (``"edge"``, OpenCV's BORDER_REPLICATE).
- The crop is then resized with ``cv2.resize`` (bilinear by default, area-weighted sampling is not used), so a large
  crop downsampled to 255 px aliases exactly as the release's does.
- Output keeps the input dtype (uint8 in, uint8 out). A constant padding colour is rounded to the image dtype,
  as ``cv2.copyMakeBorder`` does in the release.

:func:`crop_pyramid` crops several sizes around one centre at once: it reads the image region of the largest crop
once, pads it once and slices every scale from it, so each scale's pixels are identical to a separate
:func:`crop_and_resize`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

Padding = Literal["mean", "edge"] | float | Sequence[float] | NDArray[np.floating]


def mean_colour(image: NDArray[np.generic]) -> NDArray[np.float64]:
    """Per-channel mean of ``image`` (H x W x C or H x W), the padding colour of SiamFC crops."""
    image = np.asarray(image)
    if image.ndim == 2:
        return np.array([image.mean(dtype=np.float64)])
    return image.reshape(-1, image.shape[-1]).mean(axis=0, dtype=np.float64)


def scale_factors(num_scales: int, step: float) -> NDArray[np.float64]:
    """``step ** k`` for k = -(n//2) .. n//2: the search scales of SiamFC (n odd keeps scale 1 in the middle)."""
    if num_scales < 1:
        raise ValueError(f"num_scales must be at least 1, got {num_scales}")
    if step <= 0:
        raise ValueError(f"the scale step must be positive, got {step}")
    half = num_scales // 2
    return float(step) ** np.linspace(-half, half, num_scales)


def context_size(target_wh: ArrayLike, context: float = 0.5) -> float:
    """Side of the square exemplar region: ``sqrt((w + p)(h + p))`` with ``p = context * (w + h)`` (SiamFC)."""
    w, h = (float(v) for v in np.asarray(target_wh, dtype=np.float64).reshape(2))
    p = context * (w + h)
    return float(np.sqrt((w + p) * (h + p)))


def _as_wh(sizes: ArrayLike) -> NDArray[np.float64]:
    """Sizes as an N x 2 array of (w, h): a scalar or an N vector means N squares, N x 2 means rectangles."""
    s = np.asarray(sizes, dtype=np.float64)
    if s.ndim == 0:
        s = s.reshape(1, 1).repeat(2, axis=1)
    elif s.ndim == 1:
        s = np.stack([s, s], axis=1)
    if s.ndim != 2 or s.shape[1] != 2 or s.shape[0] == 0:
        raise ValueError(f"crop sizes must be a number, N numbers (squares) or N x 2 (w, h), got shape {s.shape}")
    if not np.all(np.isfinite(s)) or np.any(s < 0.5):
        raise ValueError(f"crop sizes must be finite and at least half a pixel, got {s.tolist()}")
    return s


def crop_corners(center: ArrayLike, sizes: ArrayLike) -> NDArray[np.int64]:
    """Integer corners ``x0, y0, x1, y1`` (x1, y1 exclusive) of each crop, N x 4, by the release's rounding.

    ``sizes``: a number or N numbers (squares), or N x 2 (w, h).
    """
    c = np.asarray(center, dtype=np.float64).reshape(2)
    if not np.all(np.isfinite(c)):
        raise ValueError(f"the crop centre must be finite, got {c.tolist()}")
    wh = _as_wh(sizes)
    rounded = np.round(wh)
    start = np.round(c[None, :] - (rounded - 1) / 2)
    return np.concatenate([start, start + rounded], axis=1).astype(np.int64)


def _padding_value(image: NDArray[np.generic], padding: Padding) -> NDArray[np.generic] | None:
    """The constant padding colour in the image dtype, or None for edge replication."""
    if isinstance(padding, str):
        if padding == "edge":
            return None
        if padding != "mean":
            raise ValueError(f"padding must be 'mean', 'edge', a number or a colour, got {padding!r}")
        colour = mean_colour(image)
    else:
        colour = np.asarray(padding, dtype=np.float64).reshape(-1)
    channels = 1 if image.ndim == 2 else image.shape[2]
    if colour.size == 1:
        colour = np.repeat(colour, channels)
    if colour.size != channels:
        raise ValueError(f"padding colour has {colour.size} values, the image has {channels} channel(s)")
    if np.issubdtype(image.dtype, np.integer):
        info = np.iinfo(image.dtype)
        colour = np.clip(np.round(colour), info.min, info.max)
    return colour.astype(image.dtype)


_CV_BORDER_DTYPES = {np.dtype(t) for t in (np.uint8, np.uint16, np.int16, np.float32, np.float64)}


def _region(image: NDArray[np.generic], x0: int, y0: int, x1: int, y1: int,
            colour: NDArray[np.generic] | None) -> NDArray[np.generic]:
    """Pixels ``[y0, y1) x [x0, x1)`` of ``image``, the outside filled with ``colour`` (None: the nearest edge pixel);
    a view of the image when the region lies inside it."""
    height, width = image.shape[:2]
    if x0 >= 0 and y0 >= 0 and x1 <= width and y1 <= height:
        return image[y0:y1, x0:x1]
    if colour is None:  # edge replication: clipped indices
        rows = np.clip(np.arange(y0, y1), 0, height - 1)
        cols = np.clip(np.arange(x0, x1), 0, width - 1)
        return image[rows[:, None], cols[None, :]]
    ix0, iy0, ix1, iy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    inside = image[iy0:iy1, ix0:ix1]
    if ix1 > ix0 and iy1 > iy0 and colour.size <= 4 and image.dtype in _CV_BORDER_DTYPES:  # one OpenCV pass
        out = cv2.copyMakeBorder(inside, iy0 - y0, y1 - iy1, ix0 - x0, x1 - ix1, cv2.BORDER_CONSTANT,
                                 value=colour.tolist())
        return out.reshape(y1 - y0, x1 - x0, *image.shape[2:])
    out = np.empty((y1 - y0, x1 - x0, *image.shape[2:]), dtype=image.dtype)
    out[...] = colour if image.ndim == 3 else colour[0]
    if ix1 > ix0 and iy1 > iy0:
        out[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0] = inside
    return out


def _out_hw(out_size: int | tuple[int, int]) -> tuple[int, int]:
    """Output (height, width) from an int (square) or (w, h)."""
    if isinstance(out_size, int | np.integer):
        ow = oh = int(out_size)
    else:
        ow, oh = (int(v) for v in out_size)
    if ow < 1 or oh < 1:
        raise ValueError(f"output size must be positive, got {out_size}")
    return oh, ow


def _check_image(image: NDArray[np.generic]) -> NDArray[np.generic]:
    image = np.asarray(image)
    if image.ndim not in (2, 3) or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"expected an H x W or H x W x C image, got shape {image.shape}")
    return image


def crop_and_resize(image: NDArray[np.generic], center: ArrayLike, size: ArrayLike, out_size: int | tuple[int, int],
                    padding: Padding = "mean", interpolation: int = cv2.INTER_LINEAR) -> NDArray[np.generic]:
    """The patch of ``size`` (a number, or (w, h)) around ``center`` (cx, cy), padded and resized to ``out_size``."""
    image = _check_image(image)
    wh = np.asarray(size, dtype=np.float64)
    if wh.ndim > 1 or wh.size not in (1, 2):
        raise ValueError(f"a crop size is one number (square) or (w, h), got shape {wh.shape}")
    return crop_pyramid(image, center, np.broadcast_to(wh.reshape(-1), (2,)).reshape(1, 2), out_size, padding,
                        interpolation)[0]


def crop_pyramid(image: NDArray[np.generic], center: ArrayLike, sizes: ArrayLike, out_size: int | tuple[int, int],
                 padding: Padding = "mean", interpolation: int = cv2.INTER_LINEAR) -> NDArray[np.generic]:
    """N patches of ``sizes`` (N numbers: squares, or N x 2 (w, h)) around one centre, resized: N x H x W (x C).

    The union of the crops is read and padded once (not copied at all when it lies inside the image); each scale is
    then a view of it, resized on its own straight into the output.
    """
    image = _check_image(image)
    colour = _padding_value(image, padding)  # checked (and the mean computed) once for every scale
    corners = crop_corners(center, sizes)
    oh, ow = _out_hw(out_size)
    ux0, uy0 = corners[:, 0].min(), corners[:, 1].min()
    ux1, uy1 = corners[:, 2].max(), corners[:, 3].max()
    union = _region(image, int(ux0), int(uy0), int(ux1), int(uy1), colour)
    out = np.empty((len(corners), oh, ow, *image.shape[2:]), dtype=image.dtype)
    for i, (x0, y0, x1, y1) in enumerate(corners):
        patch = union[y0 - uy0:y1 - uy0, x0 - ux0:x1 - ux0]
        if patch.shape[0] == oh and patch.shape[1] == ow:
            out[i] = patch
        else:
            dst = out[i]
            resized = cv2.resize(patch, (ow, oh), dst=dst, interpolation=interpolation)
            if not np.shares_memory(resized, dst):  # OpenCV allocated its own (e.g. an H x W x 1 output)
                dst[...] = resized.reshape(dst.shape)
    return out


def box_to_center(box: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Centre (cx, cy) and size (w, h) of an x, y, w, h box (0-based): ``cx = x + (w - 1) / 2`` as in the release."""
    b = np.asarray(box, dtype=np.float64).reshape(4)
    return np.array([b[0] + (b[2] - 1) / 2, b[1] + (b[3] - 1) / 2]), b[2:4].copy()


def center_to_box(center: ArrayLike, size: ArrayLike) -> NDArray[np.float64]:
    """The x, y, w, h box (0-based) of a centre and size; the inverse of :func:`box_to_center`."""
    c = np.asarray(center, dtype=np.float64).reshape(2)
    s = np.asarray(size, dtype=np.float64).reshape(2)
    return np.array([c[0] - (s[0] - 1) / 2, c[1] - (s[1] - 1) / 2, s[0], s[1]])
