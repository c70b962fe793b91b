"""Box geometry for tracking evaluation: formats, overlaps and centre errors.

Every function is vectorised over rows, works in float64 and never mutates its inputs.

    >>> import numpy as np
    >>> from evalkit.geometry import iou, center_error
    >>> a = np.array([[0, 0, 10, 10]]); b = np.array([[5, 0, 10, 10]])
    >>> float(iou(a, b)[0])
    0.3333333333333333
    >>> float(center_error(a, b)[0])
    5.0

Box formats:
- ``xywh``: left, top, width, height (the OTB/GOT-10k/LaSOT convention).
- ``corners``: x1, y1, x2, y2 with x2 = x1 + w (continuous extent).
- polygons: N x 2K vertex lists x1, y1, x2, y2, ... (VOT rotated boxes).

Centres follow the OTB convention shared by every toolkit: ``x + (w - 1) / 2``.

VOT regions, their rasterised overlap and the frame codes of a VOT run are :mod:`evalkit.geometry.region`. The
geometry layer is the bottom of evalkit: it imports nothing of evalkit above it (``tests/test_layers.py``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

Boxes = NDArray[np.float64]

__all__ = [
    "as_boxes",
    "xywh_to_corners",
    "corners_to_xywh",
    "polygon_to_xywh",
    "box_centers",
    "valid_boxes",
    "iou",
    "center_error",
    "normalized_center_error",
]


def as_boxes(boxes: ArrayLike, width: int = 4) -> Boxes:
    """Return a new float64 N x width array (a single box becomes one row); raise on the wrong width."""
    arr = np.array(boxes, dtype=np.float64, copy=True, ndmin=2)
    if arr.ndim != 2 or arr.shape[1] != width:
        raise ValueError(f"expected boxes of shape (N, {width}), got {np.shape(boxes)}")
    return arr


def view_boxes(boxes: ArrayLike, width: int = 4) -> Boxes:
    """Read-only float64 N x width view (no copy when already float64), for functions that never write."""
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != width:
        raise ValueError(f"expected boxes of shape (N, {width}), got {np.shape(boxes)}")
    return arr


def xywh_to_corners(boxes: ArrayLike) -> Boxes:
    """Convert x,y,w,h boxes to x1,y1,x2,y2 corners (x2 = x + w)."""
    b = as_boxes(boxes)
    b[:, 2:] += b[:, :2]
    return b


def corners_to_xywh(boxes: ArrayLike) -> Boxes:
    """Convert x1,y1,x2,y2 corners to x,y,w,h boxes (w = x2 - x1)."""
    b = as_boxes(boxes)
    b[:, 2:] -= b[:, :2]
    return b


def polygon_to_xywh(polygons: ArrayLike) -> Boxes:
    """Axis-aligned bounding x,y,w,h box of each polygon row (x1,y1,x2,y2,...); 4-value rows pass through."""
    p = np.array(polygons, dtype=np.float64, copy=True, ndmin=2)
    if p.shape[1] == 4:
        return p
    if p.shape[1] % 2 or p.shape[1] < 6:
        raise ValueError(f"polygons need an even number (>= 6) of coordinates per row, got {p.shape[1]}")
    xs, ys = p[:, 0::2], p[:, 1::2]
    x1, y1 = xs.min(axis=1), ys.min(axis=1)
    return np.stack([x1, y1, xs.max(axis=1) - x1, ys.max(axis=1) - y1], axis=1)


def box_centers(boxes: ArrayLike) -> Boxes:
    """Centre of each x,y,w,h box in the OTB convention ``x + (w - 1) / 2``."""
    b = view_boxes(boxes)
    return b[:, :2] + (b[:, 2:] - 1.0) / 2.0


def valid_boxes(boxes: ArrayLike) -> NDArray[np.bool_]:
    """True where a box is finite with positive width and height (the toolkits' notion of a usable box)."""
    b = view_boxes(boxes)
    with np.errstate(invalid="ignore"):
        return np.isfinite(b).all(axis=1) & (b[:, 2] > 0) & (b[:, 3] > 0)


def iou(pred: ArrayLike, gt: ArrayLike, pixel_inclusive: bool = False, union_eps: float = 0.0
        ) -> NDArray[np.float64]:
    """Intersection over union of paired x,y,w,h boxes.

    ``pixel_inclusive`` uses the OTB/pytracking form (right edge x + w - 1, +1 on extents); for x,y,w,h boxes it
    equals the continuous IoU, but both are offered so each toolkit's arithmetic is reproduced exactly.
    ``union_eps`` is added to the union (got10k adds machine epsilon). Rows with a NaN give NaN; disjoint boxes 0.
    """
    a, b = view_boxes(pred), view_boxes(gt)
    if a.shape != b.shape:
        raise ValueError(f"iou needs paired boxes, got {a.shape} and {b.shape}")
    one = 1.0 if pixel_inclusive else 0.0
    ax2, ay2 = a[:, 0] + a[:, 2] - one, a[:, 1] + a[:, 3] - one
    bx2, by2 = b[:, 0] + b[:, 2] - one, b[:, 1] + b[:, 3] - one
    with np.errstate(invalid="ignore", divide="ignore"):
        iw = np.minimum(ax2, bx2) - np.maximum(a[:, 0], b[:, 0]) + one
        ih = np.minimum(ay2, by2) - np.maximum(a[:, 1], b[:, 1]) + one
        inter = np.where(np.isnan(iw) | np.isnan(ih), np.nan, np.clip(iw, 0, None) * np.clip(ih, 0, None))
        union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
        return inter / (union + union_eps)


def center_error(pred: ArrayLike, gt: ArrayLike) -> NDArray[np.float64]:
    """Euclidean distance in pixels between the centres of paired x,y,w,h boxes."""
    d = box_centers(pred) - box_centers(gt)
    return np.hypot(d[:, 0], d[:, 1])


def normalized_center_error(pred: ArrayLike, gt: ArrayLike, eps: float = 0.0) -> NDArray[np.float64]:
    """Centre distance with each axis divided by the ground-truth width / height (LaSOT's normalized precision).

    ``eps`` is added to the ground-truth size, as pysot does (1e-16) to avoid dividing by zero.
    """
    g = view_boxes(gt)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = (box_centers(pred) - box_centers(g)) / (g[:, 2:] + eps)
        return np.hypot(d[:, 0], d[:, 1])
