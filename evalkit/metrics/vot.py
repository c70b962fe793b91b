"""VOT supervised ("baseline") metrics of VOT2016-2019: region overlap, accuracy, robustness and EAO.

    >>> import numpy as np
    >>> box = np.array([[0, 0, 10, 10, np.nan, np.nan, np.nan, np.nan]])
    >>> shifted = np.array([[0, 0, 10, 10, np.nan, np.nan, np.nan, np.nan]]) + [5, 0, 0, 0, 0, 0, 0, 0]
    >>> float(region_overlap(box, shifted, (100, 100))[0])   # 11 x 11 pixels each, 6 x 11 shared: 66 / 176
    0.375

Facts are from the MATLAB VOT toolkit used for VOT2016-2018 (``estimate_accuracy.m``, ``estimate_failures.m``,
``estimate_expected_overlap.m``, ``analyze_accuracy_robustness.m``, ``analyze_average_expected_overlap.m``,
``create_tag_selectors.m`` and the trax ``region.c`` its ``region_overlap`` MEX wraps), checked against pysot's port
(``toolkit/evaluation/{ar,eao}_benchmark.py``, ``utils/statistics.py``, ``utils/region.pyx``). No code is taken from
either; the rules are:

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
- **accuracy**: per run, the overlap of frames holding a region, leaving out the ``burn_in`` (10) frames from each
  (re-)initialisation on (the initialisation frame included); per frame the mean over repetitions (NaN-aware); then
  the mean over every such frame of the suite, i.e. sequences weighted by their number of scored frames.
- **robustness**: failures (``2`` lines) of a run; per sequence the mean over its repetitions. ``failures`` is the
  sum over sequences (the MATLAB toolkit's average failures, pysot's "Lost Number"), ``robustness`` that sum divided
  by the number of sequences (mean failures per sequence), ``failures_per_100`` failures per 100 frames (pysot's
  "Robustness" column, the MATLAB toolkit's normalised robustness times 100).
- **EAO**: each run is cut at each re-initialisation, which comes ``skip_after_failure`` (5) frames after a failure.
  A fragment that ended in a failure keeps its overlaps up to the next initialisation (special frames as 0) and is
  padded with zeros to the longest sequence; the last fragment (no failure after it, or a failure too close to the
  end for a re-start) is padded with "unknown". A run without failure keeps its raw overlaps (a NaN overlap there
  makes the curve NaN where it counts, as in both toolkits). Phi(1) = 1; Phi(N) = weighted mean, over fragments known
  at N, of the mean overlap of their frames 2..N. EAO = mean of Phi(N) over N in [low, high] (NaN points left out);
  VOT2016 [108, 371], VOT2017/2018 [100, 356], VOT2019 [46, 291] (``data/vot.json``).
- **per tag** (camera_motion, illum_change, motion_change, size_change, occlusion, and ``empty`` = none of them):
  accuracy and failures over the tagged frames only, with the burn-in counted in tagged frames (the MATLAB toolkit
  filters the trajectory first); EAO with each fragment weighted by its fraction of tagged frames.

Conventions (``SupervisedRules.convention``):

- ``"matlab"`` (default): the VOT-legacy MATLAB toolkit. A fragment's weight is 1 / (the number of repetitions of
  its sequence), so every sequence carries the same total weight; a failure at frame f (0-based) starts a new
  fragment when f + skip <= n - 1; Phi(N) is undefined (left out of the mean) when no fragment is known at N.
- ``"pysot"``: pysot's ``EAOBenchmark``, which multiplies every fragment by 1 / (the repetition count of the *last*
  sequence it read), a constant that cancels: fragments of sequences with more repetitions weigh more; a failure
  starts a new fragment when f + skip <= n (one frame later than MATLAB allows; the empty fragment it can leave
  gets weight 0); Phi(N) is 0 when no fragment is known. Accuracy and robustness are the same in both.
  The current Python vot-toolkit reads the interval one step later (its curve index j is N = j + 1 and it averages
  indices low..high); that reading is not offered. vot-toolkit 0.9.0 also rasterises rectangles differently (x ..
  x + w - 1), weights sequences by length for accuracy and robustness, and ends EAO fragments at the failure frame;
  ``tests/test_vot_toolkit_compare.py`` runs its analysis on the same results and measures each effect.

Output fields (per tracker): ``eao``, ``accuracy``, ``robustness``, ``failures``, ``failures_per_100``,
``n_sequences``, ``n_frames``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

FIELDS = ("eao", "accuracy", "robustness", "failures", "failures_per_100", "n_sequences", "n_frames")
CONVENTIONS = ("matlab", "pysot")
Convention = Literal["matlab", "pysot"]
ALL = "all"
EMPTY_TAG = "empty"

# Frame codes of a run (evalkit.results.VotCode): -1 region, 0 skipped / unknown, 1 initialisation, 2 failure.
REGION, SKIPPED, INIT, FAILURE = -1, 0, 1, 2

_ROW_CHUNK = 400_000  # canvas rows rasterised per numpy pass (bounds memory to a few hundred MB at most)


@dataclass(frozen=True)
class SupervisedRules:
    """Rules of the supervised analysis (defaults: VOT2016-2018 stacks, MATLAB toolkit)."""

    burn_in: int = 10
    skip_after_failure: int = 5
    convention: Convention = "matlab"

    def __post_init__(self) -> None:
        if self.convention not in CONVENTIONS:
            raise ValueError(f"unknown convention {self.convention!r}; one of {', '.join(CONVENTIONS)}")
        if self.burn_in < 0 or self.skip_after_failure < 1:
            raise ValueError("need burn_in >= 0 and skip_after_failure >= 1")


# ------------------------------------------------------------------------------------------------ region overlap


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


# ------------------------------------------------------------------------------------------------ per sequence


def burn_in_mask(codes: NDArray[np.int8], burn_in: int) -> NDArray[np.bool_]:
    """Frames within ``burn_in`` frames of the last initialisation (the initialisation frame included), per row."""
    codes = np.atleast_2d(codes)
    if burn_in <= 0:
        return np.zeros(codes.shape, dtype=bool)
    idx = np.broadcast_to(np.arange(codes.shape[1]), codes.shape)
    last_init = np.maximum.accumulate(np.where(codes == INIT, idx, -burn_in - 1), axis=1)
    return idx - last_init < burn_in


@dataclass(frozen=True)
class Fragment:
    """A piece of a run from one (re-)initialisation on: its overlaps, whether it ended in a failure, tag shares."""

    overlaps: NDArray[np.float64]
    failed: bool
    shares: Mapping[str, float]


@dataclass(frozen=True)
class TagCounts:
    """Accuracy and failure sums of one sequence over the frames with one tag."""

    overlap_sum: float
    overlap_frames: int
    failures: float
    n_frames: int


@dataclass(frozen=True)
class SequenceSupervised:
    """One sequence's repetitions reduced to sums that aggregate exactly over sequences, and its EAO fragments."""

    name: str
    n_frames: int
    n_runs: int
    overlap_sum: float
    overlap_frames: int
    failures: float
    tags: Mapping[str, TagCounts] = field(default_factory=dict)
    fragments: tuple[Fragment, ...] = field(default=(), repr=False)

    @property
    def accuracy(self) -> float:
        """Mean overlap of the scored frames (NaN when none was scored)."""
        return self.overlap_sum / self.overlap_frames if self.overlap_frames else float("nan")


def evaluate_sequence(name: str, codes: ArrayLike, accuracy_overlaps: ArrayLike, eao_overlaps: ArrayLike,
                      tags: Mapping[str, NDArray[np.bool_]] | None = None,
                      rules: SupervisedRules = SupervisedRules()) -> SequenceSupervised:
    """Accuracy, failures and EAO fragments of one sequence's repetitions.

    ``codes``: R x N frame codes (:data:`REGION` -1, :data:`SKIPPED` 0, :data:`INIT` 1, :data:`FAILURE` 2), one row
    per repetition; ``accuracy_overlaps`` / ``eao_overlaps``: R x N overlaps with the image bounds each analysis uses
    (NaN where no region); ``tags``: per-frame tag flags (the ``all`` and ``empty`` tags are added here).
    """
    codes = np.atleast_2d(np.asarray(codes))
    acc = np.atleast_2d(np.asarray(accuracy_overlaps, dtype=np.float64))
    eao = np.atleast_2d(np.asarray(eao_overlaps, dtype=np.float64))
    if not codes.shape == acc.shape == eao.shape:
        raise ValueError(f"{name}: codes and overlaps differ in shape: {codes.shape}, {acc.shape}, {eao.shape}")
    n_runs, n = codes.shape
    all_tags = with_derived_tags(tags or {}, n)
    scored = np.where((codes == REGION) & ~burn_in_mask(codes, rules.burn_in), acc, np.nan)
    overlap_sum, overlap_frames = _repetition_mean_sums(scored)
    failures = float((codes == FAILURE).sum(axis=1).mean())
    tag_counts = {tag: _tag_counts(codes[:, flags], acc[:, flags], rules) for tag, flags in all_tags.items()
                  if tag != ALL and flags.any()}
    fragments = tuple(f for r in range(n_runs) for f in run_fragments(codes[r], eao[r], all_tags, rules))
    return SequenceSupervised(name, n, n_runs, overlap_sum, overlap_frames, failures, tag_counts, fragments)


def with_derived_tags(tags: Mapping[str, NDArray[np.bool_]], n: int) -> dict[str, NDArray[np.bool_]]:
    """The tags plus ``all`` (every frame) and ``empty`` (frames with none of the tags)."""
    out = {ALL: np.ones(n, dtype=bool)}
    out.update({k: np.asarray(v, dtype=bool) for k, v in tags.items()})
    if tags and EMPTY_TAG not in tags:
        out[EMPTY_TAG] = ~np.any([np.asarray(v, dtype=bool) for v in tags.values()], axis=0)
    return out


def _repetition_mean_sums(scored: NDArray[np.float64]) -> tuple[float, int]:
    """Sum and count of the per-frame means over repetitions (frames no repetition scored are left out)."""
    known = ~np.isnan(scored)
    per_frame_count = known.sum(axis=0)
    frames = per_frame_count > 0
    means = np.where(known, scored, 0.0).sum(axis=0)[frames] / per_frame_count[frames]
    return float(means.sum()), int(frames.sum())


def _tag_counts(codes: NDArray[np.int8], overlaps: NDArray[np.float64], rules: SupervisedRules) -> TagCounts:
    """Accuracy and failures over the tagged frames only; the burn-in counts tagged frames (MATLAB's selector)."""
    scored = np.where((codes == REGION) & ~burn_in_mask(codes, rules.burn_in), overlaps, np.nan)
    total, frames = _repetition_mean_sums(scored)
    return TagCounts(total, frames, float((codes == FAILURE).sum(axis=1).mean()), int(codes.shape[1]))


def fragment_starts(codes: NDArray[np.int8], rules: SupervisedRules) -> tuple[NDArray[np.intp], bool]:
    """0-based first frames of a run's fragments (0, then each failure + skip that the convention keeps), and
    whether the run failed at all."""
    failures = np.flatnonzero(np.asarray(codes) == FAILURE)
    n = len(codes)
    restarts = failures + rules.skip_after_failure
    limit = n - 1 if rules.convention == "matlab" else n
    return np.concatenate([[0], restarts[restarts <= limit]]).astype(np.intp), bool(len(failures))


def run_fragments(codes: NDArray[np.int8], overlaps: NDArray[np.float64], tags: Mapping[str, NDArray[np.bool_]],
                  rules: SupervisedRules = SupervisedRules()) -> list[Fragment]:
    """The EAO fragments of one run, each with the share of its frames that carry each tag."""
    n = len(codes)
    starts, failed_any = fragment_starts(codes, rules)
    if not failed_any:
        return [Fragment(np.asarray(overlaps, dtype=np.float64), False,
                         {t: float(f.sum()) / n for t, f in tags.items()})]
    zeroed = np.nan_to_num(np.asarray(overlaps, dtype=np.float64), nan=0.0)
    out = []
    for k, start in enumerate(starts):
        if k + 1 < len(starts):  # ended in a failure: up to and including the next initialisation
            stop = int(starts[k + 1])
            frames = slice(int(start), stop + 1)
            span = stop - int(start) + 1
            out.append(Fragment(zeroed[frames], True, {t: float(f[frames].sum()) / span for t, f in tags.items()}))
        elif start < n:  # the last fragment: to the end, unknown afterwards
            frames = slice(int(start), n)
            out.append(Fragment(zeroed[frames], False, {t: float(f[frames].sum()) / (n - int(start))
                                                        for t, f in tags.items()}))
    return out


# ------------------------------------------------------------------------------------------------ suite


@dataclass(frozen=True)
class TagScore:
    """One tag's numbers over a suite: accuracy, failures (sum over sequences of the repetition means), failures per
    100 tagged frames, EAO with fragments weighted by their share of tagged frames."""

    accuracy: float
    failures: float
    failures_per_100: float
    eao: float
    n_frames: int
    n_sequences: int


@dataclass(frozen=True)
class SupervisedScore:
    """A tracker's supervised-experiment numbers on a suite, the EAO curve and the per-tag numbers."""

    eao: float
    accuracy: float
    robustness: float
    failures: float
    failures_per_100: float
    n_sequences: int
    n_frames: int
    eao_curve: NDArray[np.float64] = field(repr=False)
    interval: tuple[int, int] = (0, 0)
    tags: Mapping[str, TagScore] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, float | int]:
        """The declared output fields."""
        return {k: getattr(self, k) for k in FIELDS}


def fragment_weights(sequences: SequenceABC[SequenceSupervised], tag: str, rules: SupervisedRules
                     ) -> NDArray[np.float64]:
    """Weight of every fragment (in sequence order) for ``tag``: its tagged share times, under the MATLAB
    convention, 1 / its sequence's repetitions (pysot's constant factor cancels and is left out)."""
    out = []
    for s in sequences:
        scale = 1.0 / s.n_runs if rules.convention == "matlab" else 1.0
        out.extend(scale * f.shares.get(tag, 0.0) for f in s.fragments)
    return np.asarray(out, dtype=np.float64)


def fragment_matrix(fragments: Iterable[Fragment], length: int) -> NDArray[np.float64]:
    """Fragments as rows of ``length`` columns: failed ones padded with 0, the others with NaN (unknown)."""
    frags = list(fragments)
    out = np.full((len(frags), length), np.nan)
    for k, f in enumerate(frags):
        m = min(len(f.overlaps), length)
        if f.failed:
            out[k] = 0.0
        out[k, :m] = f.overlaps[:m]
    return out


def expected_overlap_curves(matrix: NDArray[np.float64], weights: NDArray[np.float64],
                            convention: Convention = "matlab") -> NDArray[np.float64]:
    """Phi(N) for N = 1..length (index N - 1), one column per weight vector (``weights``: fragments x curves).

    Phi(1) = 1; Phi(N) = sum over fragments known at N (not NaN in column N) of weight * mean(frames 2..N) / sum of
    their weights. With no fragment known at N: NaN (MATLAB) or 0 (pysot).
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim == 1:
        weights = weights[:, None]
    if len(weights) != len(matrix):
        raise ValueError(f"{len(matrix)} fragments but {len(weights)} weight rows")
    n_frag, length = matrix.shape
    curves = np.full((length, weights.shape[1]), np.nan)
    curves[0] = 1.0
    if length < 2 or n_frag == 0:
        return curves
    known = ~np.isnan(matrix[:, 1:])
    partial = np.cumsum(matrix[:, 1:], axis=1) / np.arange(1, length)  # mean of frames 2..N (NaN propagates)
    means = np.where(known, partial, 0.0)
    num = means.T @ weights
    den = known.T.astype(np.float64) @ weights
    with np.errstate(invalid="ignore", divide="ignore"):
        curves[1:] = num / den
    if convention == "pysot":
        curves[1:][~known.any(axis=0)] = 0.0
    return curves


def expected_average_overlap(curve: NDArray[np.float64], interval: tuple[int, int]) -> float:
    """Mean of Phi(N) over N in [low, high] (1-based, inclusive; clipped to the curve), NaN points left out."""
    low, high = interval
    if not 1 <= low <= high:
        raise ValueError(f"EAO interval needs 1 <= low <= high, got {interval}")
    part = np.asarray(curve, dtype=np.float64)[low - 1: high]
    part = part[~np.isnan(part)]
    return float(part.mean()) if len(part) else float("nan")


def aggregate(sequences: SequenceABC[SequenceSupervised], interval: tuple[int, int], length: int | None = None,
              rules: SupervisedRules = SupervisedRules()) -> SupervisedScore:
    """Suite numbers from the evaluated sequences; ``length``: the longest sequence of the suite (EAO padding)."""
    seqs = list(sequences)
    n_frames = sum(s.n_frames for s in seqs)
    length = max([length or 0, *(s.n_frames for s in seqs)]) if seqs else (length or 1)
    failures = float(sum(s.failures for s in seqs))
    frames = sum(s.overlap_frames for s in seqs)
    accuracy = sum(s.overlap_sum for s in seqs) / frames if frames else float("nan")
    tags = sorted({t for s in seqs for t in s.tags})
    names = [ALL, *tags]
    matrix = fragment_matrix((f for s in seqs for f in s.fragments), length)
    weights = np.stack([fragment_weights(seqs, t, rules) for t in names], axis=1).reshape(len(matrix), len(names))
    curves = expected_overlap_curves(matrix, weights, rules.convention)
    tag_scores = {}
    for k, tag in enumerate(tags, start=1):
        members = [s.tags[tag] for s in seqs if tag in s.tags]
        t_frames = sum(m.overlap_frames for m in members)
        t_failures = float(sum(m.failures for m in members))
        t_length = sum(m.n_frames for m in members)
        tag_scores[tag] = TagScore(
            accuracy=sum(m.overlap_sum for m in members) / t_frames if t_frames else float("nan"),
            failures=t_failures, failures_per_100=100.0 * t_failures / t_length if t_length else float("nan"),
            eao=expected_average_overlap(curves[:, k], interval), n_frames=t_length, n_sequences=len(members))
    return SupervisedScore(
        eao=expected_average_overlap(curves[:, 0], interval), accuracy=accuracy,
        robustness=failures / len(seqs) if seqs else float("nan"), failures=failures,
        failures_per_100=100.0 * failures / n_frames if n_frames else float("nan"), n_sequences=len(seqs),
        n_frames=n_frames, eao_curve=curves[:, 0], interval=interval, tags=tag_scores)
