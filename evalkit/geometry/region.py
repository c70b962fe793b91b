"""VOT regions and their overlap, as the VOT2016-2018 toolkit rasterises them, and the frame codes of a VOT run.

    >>> import numpy as np
    >>> box = np.array([[0, 0, 10, 10, np.nan, np.nan, np.nan, np.nan]])
    >>> shifted = box + [5, 0, 0, 0, 0, 0, 0, 0]
    >>> float(region_overlap(box, shifted, (100, 100))[0])   # 11 x 11 pixels each, 6 x 11 shared: 66 / 176
    0.375

Regions are rows of 8 values: x,y,w,h rectangles padded with NaN, triangles (6 values) or quadrilaterals. Facts are
from the MATLAB VOT toolkit (the trax ``region.c`` its ``region_overlap`` MEX wraps), checked against pysot's
``utils/region.pyx``; no code is taken from either:

- **overlap** (:func:`region_overlap`): both regions are rasterised, the toolkit way, on the smallest canvas that
  holds both: a rectangle x,y,w,h becomes the polygon (x,y), (x+w,y), (x+w,y+h), (x,y+h); each polygon's bounds are
  rounded outwards (floor / ceil) and clipped to the image bounds [0, W] x [0, H]; vertices are shifted to the
  canvas (in float32, as the C code stores them) and rounded half away from zero; each canvas row gets one crossing
  per non-horizontal edge whose closed y-range holds it (x truncated towards zero), and pixels between crossing
  pairs are filled **inclusively** (equal neighbouring crossings are skipped, clipped to the canvas). Overlap =
  shared pixels / pixels in either. Short cuts kept as the toolkit has them: 0 when the rounded bounds do not overlap
  with positive area, when one bound's area is below 1e-10 of the other's, or when the canvas is empty; NaN when
  either region is a special code (and 0 / 0). Computed exactly (no polygon-IoU approximation): rows of all frames
  are rasterised at once with numpy, two crossing intervals per polygon and row, intersected by inclusion-exclusion.
  The image bounds differ by analysis, as in both toolkits: accuracy passes [W, H], EAO passes [W - 1, H - 1].

Geometry, not a metric: the harness uses it to detect failures while running, the VOT metrics to score.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray


class VotCode(IntEnum):
    """What a frame of a VOT run holds: a region, or one of the codes the toolkit writes alone on a result line
    (``1`` initialisation, ``2`` failure, ``0`` skipped or unknown)."""

    REGION = -1  # a reported region; never written as a code
    SKIPPED = 0
    INIT = 1
    FAILURE = 2


_ROW_CHUNK = 400_000  # canvas rows rasterised per numpy pass (bounds memory to a few hundred MB at most)


def region_polygons(regions: ArrayLike) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """N x 8 NaN-padded regions as float32 quadrilaterals (N x 4 x 2) and which rows hold a region.

    x,y,w,h rectangles (4 values) become (x,y), (x+w,y), (x+w,y+h), (x,y+h) (the sums in float64, then stored as
    float32, as the MEX and pysot do); triangles (6 values) repeat their last vertex, which adds no crossing.
    """
    r = np.asarray(regions, dtype=np.float64)
    if r.ndim != 2 or r.shape[1] != 8:
        raise ValueError(f"regions must be N x 8, got {r.shape}")
    count = np.isfinite(r).sum(axis=1)
    leading = np.isfinite(r[:, :4]).all(axis=1)
    rect = (count == 4) & leading
    tri = (count == 6) & np.isfinite(r[:, :6]).all(axis=1)
    quad = count == 8
    poly = np.zeros((len(r), 4, 2))
    x, y, w, h = (r[rect, k] for k in range(4))
    poly[rect] = np.stack([np.stack([x, y], 1), np.stack([x + w, y], 1), np.stack([x + w, y + h], 1),
                           np.stack([x, y + h], 1)], axis=1)
    poly[quad] = r[quad].reshape(-1, 4, 2)
    poly[tri, :3] = r[tri, :6].reshape(-1, 3, 2)
    poly[tri, 3] = poly[tri, 2]
    return poly.astype(np.float32), rect | tri | quad


def _image_bounds(bounds: ArrayLike | None, n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Right and bottom image bounds per row (the toolkit's [width, height] argument); +inf when unbounded."""
    if bounds is None:
        return np.full(n, np.inf), np.full(n, np.inf)
    b = np.asarray(bounds, dtype=np.float64)
    if b.ndim == 1:
        b = np.broadcast_to(b, (n, 2))
    if b.shape != (n, 2):
        raise ValueError(f"bounds must be (W, H) or N x 2, got {np.shape(bounds)}")
    return b[:, 0], b[:, 1]


def _rounded_bounds(poly: NDArray[np.float32], right: NDArray[np.float64], bottom: NDArray[np.float64]
                    ) -> tuple[NDArray[np.float64], ...]:
    """left, top, right, bottom: the polygon's bounds rounded outwards, intersected with [0, right] x [0, bottom]
    (with no image bounds, right = bottom = +inf and the left and top are not clipped either)."""
    xs, ys = poly[:, :, 0].astype(np.float64), poly[:, :, 1].astype(np.float64)
    origin = np.where(np.isinf(right), -np.inf, 0.0)
    return (np.maximum(np.floor(xs.min(1)), origin), np.maximum(np.floor(ys.min(1)), origin),
            np.minimum(np.ceil(xs.max(1)), right), np.minimum(np.ceil(ys.max(1)), bottom))


def _round_half_away(v: NDArray[np.float64]) -> NDArray[np.float64]:
    """C ``round``: halves go away from zero (numpy's ``round`` goes to even)."""
    return np.where(v >= 0, np.floor(v + 0.5), -np.floor(-v + 0.5))


def region_overlap(a: ArrayLike, b: ArrayLike, bounds: ArrayLike | None = None) -> NDArray[np.float64]:
    """VOT overlap of paired N x 8 regions (see the module docstring), as the VOT2016-2018 toolkit computes it.

    ``bounds``: the image's (W, H) for every row, or N x 2 per row, or None (unbounded). Rows where either region is
    missing (NaN: a special frame) give NaN.
    """
    pa, va = region_polygons(a)
    pb, vb = region_polygons(b)
    if len(pa) != len(pb):
        raise ValueError(f"region_overlap needs paired regions, got {len(pa)} and {len(pb)}")
    n = len(pa)
    out = np.full(n, np.nan)
    right, bottom = _image_bounds(bounds, n)
    ok = np.flatnonzero(va & vb)
    if not len(ok):
        return out
    pa, pb, right, bottom = pa[ok], pb[ok], right[ok], bottom[ok]
    l1, t1, r1, b1 = _rounded_bounds(pa, right, bottom)
    l2, t2, r2, b2 = _rounded_bounds(pb, right, bottom)
    x0, y0 = np.minimum(l1, l2), np.minimum(t1, t2)
    width = np.trunc(np.maximum(r1, r2) - x0) + 1
    height = np.trunc(np.maximum(b1, b2) - y0) + 1
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        a1, a2 = (r1 - l1) * (b1 - t1), (r2 - l2) * (b2 - t2)
        zero = (a1 / a2 < 1e-10) | (a2 / a1 < 1e-10) | (width < 1) | (height < 1)
        inter = (np.minimum(r1, r2) - np.maximum(l1, l2)) * (np.minimum(b1, b2) - np.maximum(t1, t2))
        zero |= inter / (a1 + a2 - inter) <= 0  # bounds_overlap() == 0; NaN goes on to the raster, as in C
        zero |= ~np.isfinite(width * height)
    out[ok[zero]] = 0.0
    todo = np.flatnonzero(~zero)
    if len(todo):
        shared, either = _raster_counts(pa[todo], pb[todo], x0[todo], y0[todo], width[todo].astype(np.int64),
                                        height[todo].astype(np.int64))
        with np.errstate(invalid="ignore", divide="ignore"):  # the C code divides in float: 0 / 0 is NaN
            out[ok[todo]] = (shared.astype(np.float32) / either.astype(np.float32)).astype(np.float64)
    return out


def _canvas_vertices(poly: NDArray[np.float32], x0: NDArray[np.float64], y0: NDArray[np.float64]
                     ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Vertices shifted to the canvas origin in float32 (offset_polygon) and rounded (round_polygon)."""
    vx = poly[:, :, 0] - x0.astype(np.float32)[:, None]
    vy = poly[:, :, 1] - y0.astype(np.float32)[:, None]
    return _round_half_away(vx.astype(np.float64)), _round_half_away(vy.astype(np.float64))


def _is_axis_aligned(vx: NDArray[np.float64], vy: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Rounded quadrilaterals laid out as a rectangle (x0,y0), (x1,y0), (x1,y1), (x0,y1), as rectangles become."""
    return ((vx[:, 0] == vx[:, 3]) & (vx[:, 1] == vx[:, 2]) & (vy[:, 0] == vy[:, 1]) & (vy[:, 2] == vy[:, 3]))


def _raster_counts(pa: NDArray[np.float32], pb: NDArray[np.float32], x0: NDArray[np.float64],
                   y0: NDArray[np.float64], width: NDArray[np.int64], height: NDArray[np.int64]
                   ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Pixels in both rasterised polygons and in either, per frame, scanning every canvas row of every frame."""
    shapes = [(*_canvas_vertices(p, x0, y0),) for p in (pa, pb)]
    shapes = [(vx, vy, _is_axis_aligned(vx, vy)) for vx, vy in shapes]
    shared = np.zeros(len(pa), dtype=np.int64)
    either = np.zeros(len(pa), dtype=np.int64)
    ends = np.cumsum(height)
    start = 0
    while start < len(pa):  # chunks of whole frames, about _ROW_CHUNK rows each
        base = int(ends[start - 1]) if start else 0
        stop = max(int(np.searchsorted(ends, base + _ROW_CHUNK, side="right")), start + 1)
        h = height[start:stop]
        rows_frame = np.repeat(np.arange(start, stop), h)
        y = (np.arange(int(h.sum())) - np.repeat(np.cumsum(h) - h, h)).astype(np.float64)
        w = width[rows_frame]
        (lo_a, hi_a), (lo_b, hi_b) = (_row_intervals(vx, vy, rect, rows_frame, y, w) for vx, vy, rect in shapes)
        both, union = _interval_counts(lo_a, hi_a, lo_b, hi_b)
        local = rows_frame - start
        shared[start:stop] = np.bincount(local, both, minlength=stop - start).astype(np.int64)
        either[start:stop] = np.bincount(local, union, minlength=stop - start).astype(np.int64)
        start = stop
    return shared, either


def _fill(first: NDArray[np.float64], second: NDArray[np.float64], width: NDArray[np.int64]
          ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The pixels a crossing pair (first < second) fills: [max(first, 0), min(second, width - 1)], or none when
    the pair starts at or right of the canvas or ends left of it."""
    keep = (first < width) & (second >= 0)
    lo = np.where(keep, np.maximum(first, 0), 1).astype(np.int64)
    hi = np.where(keep, np.minimum(second, width - 1), 0).astype(np.int64)
    return lo, hi


def _row_intervals(vx: NDArray[np.float64], vy: NDArray[np.float64], rect: NDArray[np.bool_],
                   rows_frame: NDArray[np.intp], y: NDArray[np.float64], width: NDArray[np.int64]
                   ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The filled pixel intervals [lo, hi] (up to two; empty when lo > hi) of a rounded quadrilateral per canvas row.

    Crossings: one per edge (v_j, v_i), j = i - 1, whose rounded y-range [min, max] holds the row y and whose ends
    differ in y, at x = trunc(x_i + (y - y_i) / (y_j - y_i) * (x_j - x_i)); sorted; then scanned in pairs: equal
    neighbours skip one crossing, a pair starting at or right of the canvas ends the row, a pair ending left of it
    is dropped, others fill [max(lo, 0), min(hi, width - 1)]. A rectangle's crossings are its two vertical sides
    on rows y0..y1, so its rows are filled in closed form; rows with exactly two crossings (most rows of any convex
    region) need no scan either.
    """
    n_rows = len(y)
    lo = np.ones((n_rows, 2), dtype=np.int64)
    hi = np.zeros((n_rows, 2), dtype=np.int64)
    is_rect = rect[rows_frame]
    r = np.flatnonzero(is_rect)
    if len(r):
        f = rows_frame[r]
        xa, xb = vx[f, 0], vx[f, 1]
        ya, yb = vy[f, 0], vy[f, 2]
        inside = (ya != yb) & (xa != xb) & (y[r] >= np.minimum(ya, yb)) & (y[r] <= np.maximum(ya, yb))
        r, xa, xb = r[inside], xa[inside], xb[inside]
        lo[r, 0], hi[r, 0] = _fill(np.minimum(xa, xb), np.maximum(xa, xb), width[r])
    g = np.flatnonzero(~is_rect)
    if not len(g):
        return lo, hi
    f = rows_frame[g]
    xi, yi = vx[f], vy[f]
    xj, yj = np.roll(vx, 1, axis=1)[f], np.roll(vy, 1, axis=1)[f]
    yy = y[g, None]
    has = (yi != yj) & (yy >= np.minimum(yi, yj)) & (yy <= np.maximum(yi, yj))
    with np.errstate(invalid="ignore", divide="ignore"):
        cross = np.where(has, np.trunc(xi + (yy - yi) / (yj - yi) * (xj - xi)), np.inf)
    count = has.sum(axis=1)
    two = count == 2
    first = cross.min(axis=1)
    second = np.where(has, cross, -np.inf).max(axis=1)
    pair = np.flatnonzero(two & (first != second))
    lo[g[pair], 0], hi[g[pair], 0] = _fill(first[pair], second[pair], width[g[pair]])
    more = np.flatnonzero(count > 2)
    if len(more):
        lo[g[more]], hi[g[more]] = _scan_pairs(np.sort(cross[more], axis=1), count[more], width[g[more]])
    return lo, hi


def _scan_pairs(nodes: NDArray[np.float64], count: NDArray[np.int64], width: NDArray[np.int64]
                ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The toolkit's pair scan over sorted crossings (3 or 4 per row), giving up to two intervals per row."""
    rows = len(nodes)
    lo = np.ones((rows, 2), dtype=np.int64)
    hi = np.zeros((rows, 2), dtype=np.int64)
    i = np.zeros(rows, dtype=np.int64)
    slot = np.zeros(rows, dtype=np.int64)
    active = np.ones(rows, dtype=bool)
    index = np.arange(rows)
    for _ in range(4):  # at most 4 crossings: at most 3 steps
        step = active & (i < count - 1)
        if not step.any():
            break
        first = nodes[index, np.minimum(i, 3)]
        second = nodes[index, np.minimum(i + 1, 3)]
        equal = step & (first == second)
        pair = step & ~equal
        ends_row = pair & (first >= width)
        fill = np.flatnonzero(pair & ~ends_row & (second >= 0))
        lo[fill, slot[fill]] = np.maximum(first[fill], 0).astype(np.int64)
        hi[fill, slot[fill]] = np.minimum(second[fill], width[fill] - 1).astype(np.int64)
        slot[fill] += 1
        i = np.where(equal, i + 1, np.where(pair, i + 2, i))
        active = step & ~ends_row
    return lo, hi


def _span(lo: NDArray[np.int64], hi: NDArray[np.int64]) -> NDArray[np.int64]:
    return np.maximum(hi - lo + 1, 0)


def _meet(*parts: tuple[NDArray[np.int64], NDArray[np.int64]]) -> NDArray[np.int64]:
    """Pixels in every one of the intervals."""
    lo, hi = parts[0]
    for p_lo, p_hi in parts[1:]:
        lo, hi = np.maximum(lo, p_lo), np.minimum(hi, p_hi)
    return _span(lo, hi)


def _interval_counts(lo_a: NDArray[np.int64], hi_a: NDArray[np.int64], lo_b: NDArray[np.int64],
                     hi_b: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """|A n B| and |A u B| per row, A and B each the union of up to two pixel intervals (inclusion-exclusion)."""
    a1, b1 = (lo_a[:, 0], hi_a[:, 0]), (lo_b[:, 0], hi_b[:, 0])
    both = _meet(a1, b1)
    size_a, size_b = _span(*a1), _span(*b1)
    second_a = np.flatnonzero(lo_a[:, 1] <= hi_a[:, 1])
    second_b = np.flatnonzero(lo_b[:, 1] <= hi_b[:, 1])
    rows = np.union1d(second_a, second_b)
    if len(rows):  # rarely: a row with two filled intervals (a vertex row of a concave or self-crossing region)
        a1, a2 = (lo_a[rows, 0], hi_a[rows, 0]), (lo_a[rows, 1], hi_a[rows, 1])
        b1, b2 = (lo_b[rows, 0], hi_b[rows, 0]), (lo_b[rows, 1], hi_b[rows, 1])
        size_a[rows] = _span(*a1) + _span(*a2) - _meet(a1, a2)
        size_b[rows] = _span(*b1) + _span(*b2) - _meet(b1, b2)
        both[rows] = (_meet(a1, b1) + _meet(a1, b2) + _meet(a2, b1) + _meet(a2, b2) - _meet(a1, a2, b1)
                      - _meet(a1, a2, b2) - _meet(a1, b1, b2) - _meet(a2, b1, b2) + _meet(a1, a2, b1, b2))
    return both, size_a + size_b - both


def overlaps_beyond(a: ArrayLike, b: ArrayLike, size: ArrayLike) -> NDArray[np.bool_]:
    """Rows whose overlap may change when the bounds shrink from (W, H) to (W - 1, H - 1) (accuracy vs EAO)."""
    pa, va = region_polygons(a)
    pb, vb = region_polygons(b)
    right, bottom = _image_bounds(size, len(pa))
    out = np.zeros(len(pa), dtype=bool)
    for poly, valid in ((pa, va), (pb, vb)):
        xs, ys = poly[:, :, 0].astype(np.float64), poly[:, :, 1].astype(np.float64)
        out |= valid & ((np.ceil(xs.max(1)) > right - 1) | (np.ceil(ys.max(1)) > bottom - 1))
    return out & va & vb
