"""A max pool and the ReLU after it in one pass over channels-last memory, for the SiamFC family's and CFNet's
backbones.

    net = fuse_pool_relu(prepare_for_tracking(net))    # (SeparableMaxPool2d, ReLU) pairs -> (PoolReLU, Identity)

:func:`trackers.common.inference.prepare_for_tracking` leaves each 3 x 3 / 2 pool as a separable max pool (strided
row maxima, then column maxima: four ``torch.maximum`` passes per map) followed by an in-place ReLU. On CFNet-conv2's
3 x 96 x 123 x 123 map that is 2.5-4.5 ms a frame here. :class:`PoolReLU` computes the same values for a 3 x 3 / 2
pool with numba in one pass per output row (about 1.1 ms for that map; 0.56 -> 0.34 ms for FDSiamFC-15's
3 x 14 x 123 x 123): the maxima of three input rows, then of three columns, then the ReLU. Maxima are exact, so the
values are the pool's (zeros may differ in sign where a window's maximum is a tie of +0 and -0; torch's own choice
there depends on its vector loop's tail). A NaN in the input, no numba, another pool, device or dtype, a tensor that
is not channels-last, or gradients: the two modules it replaced.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor, nn

from trackers.common.inference import SeparableMaxPool2d


def _pool3s2_relu(x: NDArray[np.float32], out: NDArray[np.float32]) -> bool:
    """``out`` (N, OH, OW, C) = relu(max over 3 x 3 windows, stride 2) of ``x`` (N, H, W, C): each output row from
    the maxima of its three input rows (the stride a constant: the loops vectorise, 2x faster than with a variable
    one). Returns whether ``x`` holds a NaN there (max() may drop it: the caller then recomputes with torch)."""
    n_images, height, width, channels = x.shape
    oh, ow = out.shape[1], out.shape[2]
    wc = width * channels
    rows = x.reshape(n_images, height, wc)
    tmp = np.empty(wc, dtype=np.float32)
    nan = False
    for n in range(n_images):
        for oy in range(oh):
            r0, r1, r2 = rows[n, 2 * oy], rows[n, 2 * oy + 1], rows[n, 2 * oy + 2]
            for j in range(wc):
                a, b, c = r0[j], r1[j], r2[j]
                nan |= (a != a) | (b != b) | (c != c)
                tmp[j] = max(max(a, b), c)
            for ox in range(ow):
                o = out[n, oy, ox]
                at = 2 * ox * channels
                for c in range(channels):
                    o[c] = max(max(max(tmp[at + c], tmp[at + channels + c]), tmp[at + 2 * channels + c]),
                               np.float32(0.0))
    return nan


_KERNEL: list[Any] = []  # [compiled kernel] or [None] without numba


def _compiled() -> Any:
    if not _KERNEL:
        try:
            import numba

            _KERNEL.append(numba.njit(cache=True, nogil=True, boundscheck=False)(_pool3s2_relu))
        except ImportError:
            _KERNEL.append(None)
    return _KERNEL[0]


class PoolReLU(nn.Module):
    """``relu(pool(x))`` for a :class:`SeparableMaxPool2d` ``pool``, in one compiled pass (module docstring)."""

    def __init__(self, pool: SeparableMaxPool2d, relu: nn.ReLU) -> None:
        super().__init__()
        self.pool, self.relu = pool, relu

    def forward(self, x: Tensor) -> Tensor:
        kernel = _compiled()
        fast = (kernel is not None and (self.pool.kernel, self.pool.stride) == (3, 2) and x.device.type == "cpu"
                and x.dtype == torch.float32 and x.dim() == 4 and x.shape[2] >= 3 and x.shape[3] >= 3
                and not (torch.is_grad_enabled() and x.requires_grad)
                and x.is_contiguous(memory_format=torch.channels_last))
        if not fast:
            return self.relu(self.pool(x))
        n, c, h, w = x.shape
        out = np.empty((n, (h - 3) // 2 + 1, (w - 3) // 2 + 1, c), dtype=np.float32)
        if kernel(x.detach().permute(0, 2, 3, 1).numpy(), out):  # a NaN: torch's propagation rule
            return self.relu(self.pool(x))
        return torch.from_numpy(out).permute(0, 3, 1, 2)  # channels-last, as the pool's output was


def fuse_pool_relu(net: nn.Module) -> nn.Module:
    """Replace, in place, each ``SeparableMaxPool2d`` directly followed by a ``ReLU`` in a ``Sequential`` with a
    :class:`PoolReLU` (the ReLU's place becomes ``nn.Identity``, so layer names stay); returns ``net``."""
    for seq in [m for m in net.modules() if isinstance(m, nn.Sequential)]:
        for i in range(len(seq) - 1):
            if isinstance(seq[i], SeparableMaxPool2d) and isinstance(seq[i + 1], nn.ReLU):
                seq[i], seq[i + 1] = PoolReLU(seq[i], seq[i + 1]), nn.Identity()
    return net
