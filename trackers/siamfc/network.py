"""SiamFC networks: an AlexNet-style fully convolutional backbone (any width) and the cross-correlation head.

    from trackers.siamfc.network import SiamNet, alexnet_layers

    net = SiamNet(alexnet_layers(width_ratio=1.0), learned_bias=True)   # SiamFC (Bertinetto et al. 2016)
    net = SiamNet(alexnet_layers(width_ratio=0.3))                       # FDSiamFC_30 (the released layout)
    kernel = net.template(z)                # z: N x 3 x 127 x 127 float, RGB 0..255 (no normalisation) -> N x C x 6 x 6
    response = net.search(kernel, x)        # x: N x 3 x 255 x 255 -> N x 1 x 17 x 17

The backbone is described by a tuple of :class:`ConvLayer` records, so the FDSiamFC widths, FDSiamd's eight layers
and the narrowed networks that ``evalkit compress`` folds are all the same module. Modules are named ``conv1`` ...
``convN``, each ``Sequential(conv, [BatchNorm, ReLU], [MaxPool])``, which is exactly the state-dict layout of the
released FDSiamFC weights (``backbone.conv1.0.weight`` ...). Convolutions have no padding (total stride 8: a 127
exemplar gives 6x6 features, a 255 instance 22x22, the response is 17x17). BatchNorm uses eps 1e-6 and momentum 0.05
as the SiamFC PyTorch release.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from trackers.common.cf_layer import cross_correlate

BN_EPS = 1e-6
BN_MOMENTUM = 0.05


@dataclass(frozen=True)
class ConvLayer:
    """One backbone layer: conv (no padding), then BN + ReLU unless it is the output layer, then optional max-pool."""

    out_channels: int
    kernel: int
    stride: int = 1
    groups: int = 1
    norm_relu: bool = True
    pool: bool = False  # MaxPool 3/2 after the ReLU


def scaled_width(channels: int, ratio: float) -> int:
    """The FDSiamFC width rule ``int(int(ratio * C / 2) * 2)``: even, so grouped convolutions still split in two."""
    width = int(int(ratio * channels / 2) * 2)
    if width < 2:
        raise ValueError(f"width ratio {ratio} leaves {width} channels of {channels}; use a larger ratio")
    return width


ALEXNET_WIDTHS = (96, 256, 384, 384, 256)


def alexnet_layers(width_ratio: float | Sequence[float] = 1.0) -> tuple[ConvLayer, ...]:
    """SiamFC's AlexNet (conv 11/2 - pool - conv 5 g2 - pool - conv 3 - conv 3 g2 - conv 3 g2), widths scaled."""
    ratios = [float(width_ratio)] * 5 if isinstance(width_ratio, int | float) else [float(r) for r in width_ratio]
    if len(ratios) != 5:
        raise ValueError(f"AlexNet has 5 layers; got {len(ratios)} width ratios")
    w = [scaled_width(c, r) for c, r in zip(ALEXNET_WIDTHS, ratios, strict=True)]
    return (ConvLayer(w[0], 11, 2, 1, True, True), ConvLayer(w[1], 5, 1, 2, True, True), ConvLayer(w[2], 3, 1, 1),
            ConvLayer(w[3], 3, 1, 2), ConvLayer(w[4], 3, 1, 2, norm_relu=False))


ALEXNET8_WIDTHS = (24, 48, 96, 128, 256, 384, 384, 256)


def alexnet8_layers(width_ratio: float = 0.5) -> tuple[ConvLayer, ...]:
    """The eight 3x3-layer AlexNet of FDSiamd (released at width ratio 0.5: 12, 24, 48, 64, 128, 192, 192, 128)."""
    w = [scaled_width(c, width_ratio) for c in ALEXNET8_WIDTHS]
    return (ConvLayer(w[0], 3, 2), ConvLayer(w[1], 3), ConvLayer(w[2], 3, pool=True), ConvLayer(w[3], 3, groups=2),
            ConvLayer(w[4], 3, groups=2, pool=True), ConvLayer(w[5], 3), ConvLayer(w[6], 3, groups=2),
            ConvLayer(w[7], 3, groups=2, norm_relu=False))


def make_layer(in_channels: int, spec: ConvLayer) -> nn.Sequential:
    """``Sequential(conv, [BN, ReLU], [MaxPool])`` for one :class:`ConvLayer`."""
    if in_channels % spec.groups or spec.out_channels % spec.groups:
        raise ValueError(f"{in_channels} -> {spec.out_channels} channels do not split into {spec.groups} groups")
    mods: list[nn.Module] = [nn.Conv2d(in_channels, spec.out_channels, spec.kernel, spec.stride, groups=spec.groups)]
    if spec.norm_relu:
        mods += [nn.BatchNorm2d(spec.out_channels, eps=BN_EPS, momentum=BN_MOMENTUM), nn.ReLU(inplace=True)]
    if spec.pool:
        mods.append(nn.MaxPool2d(3, 2))
    return nn.Sequential(*mods)


class Backbone(nn.Module):
    """A plain chain of :class:`ConvLayer` layers named ``conv1`` ... ``convN``."""

    def __init__(self, layers: Sequence[ConvLayer], in_channels: int = 3) -> None:
        super().__init__()
        self.layers = tuple(layers)
        channels = in_channels
        for i, spec in enumerate(self.layers, start=1):
            self.add_module(f"conv{i}", make_layer(channels, spec))
            channels = spec.out_channels
        self.out_channels = channels
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Kaiming-normal convolutions (fan-out, ReLU), BN at identity: the SiamFC PyTorch release's initialisation."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def stages(self) -> list[nn.Sequential]:
        """The layers in order."""
        return [getattr(self, f"conv{i}") for i in range(1, len(self.layers) + 1)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for stage in self.stages():
            x = stage(x)
        return x


@torch.no_grad()
def fuse_batchnorm(net: nn.Module) -> nn.Module:
    """Fold every BatchNorm that directly follows a conv in a ``Sequential`` into that conv (inference only).

    The BN is replaced by ``nn.Identity``, so the network computes the same function (up to float rounding) with one
    element-wise pass less per layer; the state dict layout changes, so fuse after loading weights, never before.
    """
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    if net.training:
        raise ValueError("fuse_batchnorm folds running statistics: put the network in eval mode first")
    for seq in [m for m in net.modules() if isinstance(m, nn.Sequential)]:
        for i in range(len(seq) - 1):
            if isinstance(seq[i], nn.Conv2d) and isinstance(seq[i + 1], nn.BatchNorm2d):
                seq[i] = fuse_conv_bn_eval(seq[i], seq[i + 1])
                seq[i + 1] = nn.Identity()
    return net


class XCorrHead(nn.Module):
    """``out_scale * (kernel * x)`` plus an optional learned bias (SiamFC's 'adjust' layer; FDSiamFC has none)."""

    def __init__(self, out_scale: float = 0.001, learned_bias: bool = False) -> None:
        super().__init__()
        self.out_scale = out_scale
        self.bias = nn.Parameter(torch.zeros(1)) if learned_bias else None

    def forward(self, kernel: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        out = cross_correlate(kernel, x) * self.out_scale
        return out + self.bias if self.bias is not None else out


class SiamNet(nn.Module):
    """Backbone + cross-correlation head; ``forward(z, x)`` is the training pass, template/search the tracking one."""

    total_stride = 8

    def __init__(self, layers: Sequence[ConvLayer], out_scale: float = 0.001, learned_bias: bool = False) -> None:
        super().__init__()
        self.backbone = Backbone(layers)
        self.head = XCorrHead(out_scale, learned_bias)

    def template(self, z: torch.Tensor) -> torch.Tensor:
        """Exemplar features (the correlation kernel)."""
        return self.backbone(z)

    def search(self, kernel: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Response maps of the search crops ``x`` against ``kernel``."""
        return self.head(kernel, self.backbone(x))

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(z), self.backbone(x))
