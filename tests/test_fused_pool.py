"""trackers.common.pool: the compiled max pool + ReLU gives the separable pool's and ReLU's values (ties, NaN) in the
same channels-last layout, falls back to the two modules where it does not apply, and replaces only pool-ReLU pairs."""

from __future__ import annotations

import numpy as np
import torch
from conftest import require_module
from torch import nn

from trackers.common.inference import SeparableMaxPool2d
from trackers.common.pool import PoolReLU, fuse_pool_relu


def test_pool_relu_values_and_layout() -> None:
    require_module("numba")
    rng = np.random.default_rng(0)
    for i, (k, s) in enumerate([(3, 2), (3, 1), (2, 2), (3, 2), (1, 1), (3, 2)] * 4):
        n, c, h, w = (int(v) for v in rng.integers([1, 1, 3, 3], [4, 100, 80, 80]))
        x = torch.from_numpy(rng.standard_normal((n, c, h, w)).astype(np.float32))
        if i % 3 == 0:
            x = torch.round(x * 2)  # ties
        if i % 5 == 0:
            x.view(-1)[::97] = float("nan")
        x = x.contiguous(memory_format=torch.channels_last)
        pool = SeparableMaxPool2d(k, s)
        expected = torch.relu(pool(x))
        got = PoolReLU(pool, nn.ReLU(inplace=True))(x)
        assert got.shape == expected.shape and got.is_contiguous(memory_format=torch.channels_last)
        np.testing.assert_array_equal(got.numpy(), expected.numpy())  # NaN where NaN; +-0 compare equal


def test_pool_relu_falls_back_and_fuses_pairs() -> None:
    pool = SeparableMaxPool2d(3, 2)
    fused = PoolReLU(pool, nn.ReLU())
    x = torch.randn(2, 5, 9, 11)  # NCHW contiguous: the torch modules
    np.testing.assert_array_equal(fused(x).numpy(), torch.relu(pool(x)).numpy())
    y = torch.randn(1, 4, 7, 7, dtype=torch.float64).contiguous(memory_format=torch.channels_last)  # float64: torch's
    np.testing.assert_array_equal(fused(y).numpy(), torch.relu(pool(y)).numpy())
    net = nn.Sequential(nn.Conv2d(3, 4, 3), SeparableMaxPool2d(3, 2), nn.ReLU(), nn.Conv2d(4, 4, 1), nn.ReLU())
    fuse_pool_relu(net)
    assert [type(m).__name__ for m in net] == ["Conv2d", "PoolReLU", "Identity", "Conv2d", "ReLU"]
