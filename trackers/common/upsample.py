"""The best scale of a SiamFC-style search, upsampling with OpenCV only the maps that can decide it.

    picker = ScalePicker(17, 272)                        # raw map side, upsampled side (bicubic, cv2.INTER_CUBIC)
    best, peak = picker.pick(raw, mid, penalty, up)      # raw: S x 17 x 17 float32; up[best] is then cv2's map

The SiamFC trackers upsample each scale's response map 16x with OpenCV's bicubic resize, penalise the side scales'
maxima and keep the scale with the highest. Three OpenCV resizes are about 0.7 ms a frame; only the chosen map is
read afterwards. :meth:`ScalePicker.pick` gives the same scale and the same peak without the others when it can
prove them out: a compiled separable bicubic upsampling (float32, OpenCV's sample positions, 4 taps with A = -0.75,
replicated borders; ~0.03 ms a map) bounds each map's maximum to within ``tolerance`` x the map's largest magnitude
(the two agree to ~3e-7 of it here), and a map whose upper bound, penalised, is below another's lower bound cannot be
the best. The maps left (one, unless two scales are within that margin) are resized by OpenCV and decided exactly as
before, first index on ties. The result is the same scale, the same peak and the same chosen map, to the bit; the
paired per-frame saving measured here is 0.36 ms for FDSiamFC-15 (of ~16 ms).

The bound is checked, not assumed: at construction the compiled upsampling is compared with ``cv2.resize`` on random
maps of these sizes; if it differs anywhere by more than a tenth of the margin (another OpenCV whose bicubic is not
this one), or numba is missing, every map goes through OpenCV as before; so does a frame whose maps hold a NaN, an
infinity or magnitudes near float32's overflow.
"""

from __future__ import annotations

import threading
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from trackers.common.matlab_ops import keys_cubic

TOLERANCE = 1e-4  # the margin, relative to a map's largest magnitude (the two upsamplings agree to ~3e-7 here)


def cubic_taps(n_in: int, n_out: int, a: float = -0.75) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Source indices (n_out, 4), replicated at the borders, and weights (n_out, 4) of OpenCV's bicubic resize
    from ``n_in`` to ``n_out`` samples: position ``(d + 0.5) n_in / n_out - 0.5``, Keys' kernel with ``a``."""
    fx = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
    sx = np.floor(fx)
    offsets = np.arange(-1, 3)
    w = keys_cubic((fx - sx)[:, None] - offsets[None, :], a)
    idx = np.clip(sx.astype(np.int64)[:, None] + offsets[None, :], 0, n_in - 1)
    return idx, w


def _upsample(maps: Any, idx: Any, w: Any, rows: Any, out: Any, scale: Any) -> bool:
    """``out[s]`` = map ``s`` upsampled with ``(idx, w)`` (float32 weights) along both axes, in float32 and any
    summation order (within ~1e-6 of the map's magnitude); ``scale[s]`` its largest magnitude; ``rows``: (n_in, n_out)
    float32 scratch. False if a map is not finite (then nothing is computed)."""
    n_maps, n_in = maps.shape[0], maps.shape[1]
    n_out = idx.shape[0]
    for s in range(n_maps):
        m = maps[s]
        big = 0.0
        for r in range(n_in):
            for c in range(n_in):
                v = abs(np.float64(m[r, c]))
                if not v < np.inf:  # NaN or infinite
                    return False
                big = max(big, v)
        scale[s] = big
        for r in range(n_in):
            for d in range(n_out):
                v = np.float32(0.0)
                for j in range(4):
                    v += w[d, j] * m[r, idx[d, j]]
                rows[r, d] = v
        o = out[s]
        for d in range(n_out):
            r0, r1, r2, r3 = rows[idx[d, 0]], rows[idx[d, 1]], rows[idx[d, 2]], rows[idx[d, 3]]
            b0, b1, b2, b3 = w[d, 0], w[d, 1], w[d, 2], w[d, 3]
            od = o[d]
            for x in range(n_out):  # vectorised (a running maximum here was not: numpy's max follows)
                od[x] = b0 * r0[x] + b1 * r1[x] + b2 * r2[x] + b3 * r3[x]
    return True


_KERNEL: list[Any] = []


def _compiled() -> Any:
    if not _KERNEL:
        try:
            import numba

            # sums may be reordered and contracted (the margin and the check against OpenCV at construction cover
            # it); NaN and infinities keep their meaning, so the finite check stays
            flags = {"contract", "reassoc", "nsz", "arcp"}
            _KERNEL.append(numba.njit(cache=True, nogil=True, boundscheck=False, fastmath=flags)(_upsample))
        except ImportError:
            _KERNEL.append(None)
    return _KERNEL[0]


class ScalePicker:
    """Best scale of S raw response maps upsampled ``n_in`` -> ``n_out`` by ``cv2.INTER_CUBIC`` (module docstring)."""

    def __init__(self, n_in: int, n_out: int, tolerance: float = TOLERANCE) -> None:
        self.n_in, self.n_out, self.tolerance = n_in, n_out, tolerance
        self.idx, w = cubic_taps(n_in, n_out)
        self.w = w.astype(np.float32)  # the kernel computes in float32: converted once, not every frame
        self._scratch = threading.local()
        self.kernel = _compiled()
        self.bounded = self.kernel is not None and self._agrees()

    def _agrees(self, trials: int = 20) -> bool:
        """Whether the compiled maxima are within a tenth of the margin of OpenCV's, on random maps."""
        rng = np.random.default_rng(0)
        for t in range(trials):
            raw = (rng.standard_normal((2, self.n_in, self.n_in)) * 10.0 ** (t % 7 - 3)).astype(np.float32)
            if t % 2:  # smooth maps, like responses, as well as noise
                raw = np.cumsum(np.cumsum(raw, axis=1), axis=2).astype(np.float32)
            got = self._bounds(raw)
            if got is None:
                return False
            for s in range(len(raw)):
                exact = float(cv2.resize(raw[s], (self.n_out, self.n_out), interpolation=cv2.INTER_CUBIC).max())
                if not (got[1][s] == np.abs(raw[s]).max()
                        and abs(got[0][s] - exact) <= 0.1 * self.tolerance * got[1][s]):
                    return False
        return True

    def _bounds(self, raw: NDArray[np.float32]) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
        """Each map's approximate upsampled maximum and largest magnitude; None if a map is not finite."""
        # scratch of this thread's own: one picker serves every tracker of a process, threads included
        scratch = self._scratch.__dict__
        if scratch.get("n") != len(raw):
            scratch.update(n=len(raw), rows=np.empty((self.n_in, self.n_out), dtype=np.float32),
                           maps=np.empty((len(raw), self.n_out, self.n_out), dtype=np.float32))
        rows, maps = scratch["rows"], scratch["maps"]
        scale = np.empty(len(raw))
        if not self.kernel(raw, self.idx, self.w, rows, maps, scale):
            return None
        return maps.reshape(len(raw), -1).max(axis=1).astype(np.float64), scale

    def pick(self, raw: NDArray[np.float32], mid: int, penalty: float, up: NDArray[np.float32]) -> tuple[int, float]:
        """``(best, peak)`` of ``raw`` (S x n_in x n_in float32): the scale whose OpenCV-upsampled maximum, times
        ``penalty`` (float32) unless it is scale ``mid``, is highest (first on ties), and that penalised maximum;
        ``up[best]`` holds its upsampled map. Other maps of ``up`` are left as they were."""
        s = len(raw)
        candidates: Any = range(s)
        bounds = (self._bounds(raw) if self.bounded and penalty > 0 and raw.shape[1:] == (self.n_in, self.n_in)
                  else None)
        if bounds is not None and bounds[1].max() < 1e30:  # finite maps, far from float32's overflow
            # three numbers a frame: Python floats, not numpy calls of ~5 us each
            approx, scale = bounds[0].tolist(), bounds[1].tolist()
            factor = [1.0 if i == mid else float(penalty) for i in range(s)]
            low = [(a - self.tolerance * m) * f for a, m, f in zip(approx, scale, factor, strict=True)]
            high = [(a + self.tolerance * m) * f for a, m, f in zip(approx, scale, factor, strict=True)]
            floor = max(low)
            candidates = [i for i in range(s) if high[i] >= floor]  # the others are below a map's lower bound
        best, best_peak = -1, np.float32(-np.inf)
        for i in candidates:
            cv2.resize(raw[i], (self.n_out, self.n_out), dst=up[i], interpolation=cv2.INTER_CUBIC)
            peak = up[i].max()
            if i != mid:  # the side scales' penalty as the trackers apply it: a float32 product, monotone
                peak = peak * np.float32(penalty)
            # np.argmax's choice among the penalised maxima: the first largest, or the first NaN
            if best < 0 or peak > best_peak or (peak != peak and best_peak == best_peak):
                best, best_peak = i, peak
        return best, float(best_peak)


_PICKERS: dict[tuple[int, int], ScalePicker] = {}


def scale_picker(n_in: int, n_out: int) -> ScalePicker:
    """The :class:`ScalePicker` for these sizes, built (and checked against OpenCV) once per process; it keeps no
    state between calls, so trackers in several threads share it."""
    if (n_in, n_out) not in _PICKERS:
        _PICKERS[n_in, n_out] = ScalePicker(n_in, n_out)
    return _PICKERS[n_in, n_out]
