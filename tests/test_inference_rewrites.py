"""trackers.common.inference: the rewritten network computes the same function (max pools bit-identical)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from trackers.common.inference import (
    SeparableMaxPool2d,
    channels_first,
    pool_before_relu,
    prepare_for_tracking,
    separable_pools,
)


@pytest.mark.parametrize(("kernel", "stride"), [(3, 2), (3, 1), (2, 2), (1, 1), (5, 3)])
@pytest.mark.parametrize("channels_last", [False, True])
def test_separable_max_pool_is_bit_identical(kernel: int, stride: int, channels_last: bool) -> None:
    torch.manual_seed(0)
    for shape in ((3, 14, 123, 123), (1, 5, 7, 9), (2, 3, kernel, kernel + 4)):
        x = torch.randn(*shape)
        if channels_last:
            x = x.to(memory_format=torch.channels_last)
        out = SeparableMaxPool2d(kernel, stride)(x)
        assert torch.equal(out, nn.functional.max_pool2d(x, kernel, stride)), shape
        assert out.is_contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    with pytest.raises(ValueError, match="smaller than the pooling window"):
        SeparableMaxPool2d(3, 2)(torch.zeros(1, 1, 2, 5))


def test_only_plain_pools_are_replaced_and_the_network_keeps_its_function() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 5, 2), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(3, 2),
                        nn.Sequential(nn.Conv2d(8, 8, 3), nn.MaxPool2d(2, 2, padding=1)), nn.MaxPool2d((3, 2), 1))
    net[1].running_mean.uniform_(-1, 1)
    net[1].running_var.uniform_(0.5, 2)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        ref = net.eval()(x)
        fast = prepare_for_tracking(separable_pools(net))
        assert isinstance(fast[2], SeparableMaxPool2d) and isinstance(fast[3], nn.ReLU)  # pooled, then ReLU
        assert isinstance(fast[1], nn.Identity)
        assert isinstance(fast[4][1], nn.MaxPool2d) and isinstance(fast[5], nn.MaxPool2d)  # padded / rectangular
        out = fast(x.to(memory_format=torch.channels_last))
    assert torch.allclose(out, ref, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="eval mode"):
        prepare_for_tracking(nn.Sequential(nn.Conv2d(1, 1, 1)).train())


def test_pool_before_relu_is_bit_identical() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2), nn.ReLU(), nn.Conv2d(4, 2, 1))
    x = torch.randn(2, 3, 33, 31)
    with torch.no_grad():
        ref = net(x)
        swapped = pool_before_relu(net)
        assert isinstance(swapped[1], nn.MaxPool2d) and isinstance(swapped[2], nn.ReLU)
        assert torch.equal(swapped(x), ref)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int32])
def test_channels_first_copies_the_values_into_nchw_memory(dtype: torch.dtype) -> None:
    x = (torch.randn(3, 32, 25, 17) * 100).to(dtype).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        y = channels_first(x)
    assert y.is_contiguous() and y.dtype == dtype and torch.equal(y, x)
    plain = torch.randn(2, 3, 4, 5)
    assert channels_first(plain) is plain
    odd = torch.randn(2, 5, 6, 3).permute(0, 3, 1, 2)[:, :, 1:]  # neither layout: torch's copy
    assert channels_first(odd).is_contiguous() and torch.equal(channels_first(odd), odd)
