"""Windows and target responses for correlation filters (numpy, float64; callers cast).

    cosine_window(33, 33)                        # Hann x Hann, zero at the borders (MATLAB hann, np.hanning)
    gaussian_label((125, 125), sigma=4.17)       # peak at index (0, 0): circularly shifted, as a CF target
    gaussian_label((33, 33), sigma=2, centred=True)   # peak at the centre, for display or Siamese labels
    circular_offsets(6)                          # [0, 1, 2, -3, -2, -1]: a cell's signed circular offset

A correlation filter's desired response is a Gaussian on circular offsets, so its peak sits at the origin: the
response to an unshifted target then peaks at (0, 0) and a shift by (dy, dx) moves the peak to (dy mod H, dx mod W).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def _pair(size: int | tuple[int, int]) -> tuple[int, int]:
    h, w = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    if h < 1 or w < 1:
        raise ValueError(f"window size must be positive, got {h}x{w}")
    return h, w


def cosine_window(h: int, w: int | None = None) -> NDArray[np.float64]:
    """Outer product of two symmetric Hann windows (zero at both ends; a 1-cell window is 1)."""
    w = h if w is None else w
    hy = np.hanning(h) if h > 1 else np.ones(1)
    hx = np.hanning(w) if w > 1 else np.ones(1)
    return np.outer(hy, hx)


def circular_offsets(n: int) -> NDArray[np.float64]:
    """Signed offset of each index from 0 on a circle of ``n`` cells: 0, 1, ..., ceil(n/2)-1, -floor(n/2), ..., -1."""
    return np.fft.ifftshift(np.arange(n, dtype=np.float64) - n // 2)


def gaussian_label(size: int | tuple[int, int], sigma: float, centred: bool = False) -> NDArray[np.float64]:
    """exp(-d^2 / (2 sigma^2)) with d the distance to the origin (circular) or to the centre cell (``centred``)."""
    h, w = _pair(size)
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    if centred:
        ys = np.arange(h, dtype=np.float64) - (h - 1) / 2.0
        xs = np.arange(w, dtype=np.float64) - (w - 1) / 2.0
    else:
        ys, xs = circular_offsets(h), circular_offsets(w)
    d2 = ys[:, None] ** 2 + xs[None, :] ** 2
    return np.exp(-0.5 * d2 / sigma**2)


def peak_offset(response: NDArray[np.floating], circular: bool = True) -> tuple[float, float, float]:
    """(dy, dx, value) of the maximum: signed circular offsets from (0, 0), or offsets from the centre."""
    h, w = response.shape
    r, c = np.unravel_index(int(np.argmax(response)), response.shape)
    value = float(response[r, c])
    if circular:
        return float(circular_offsets(h)[r]), float(circular_offsets(w)[c]), value
    return float(r - (h - 1) / 2.0), float(c - (w - 1) / 2.0), value
