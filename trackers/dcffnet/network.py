"""DCFFNet (Ma et al., "Staged Depthwise Correlation and Feature Fusion for Siamese Object Tracking"): the network.

    from trackers.dcffnet.network import DCFFNet, VARIANTS

    net = DCFFNet("cf-double")                 # or "baseline", "cf-1st", "cf-2nd" (the paper's Table III ablation)
    zf = net.template(z)                       # z: N x 3 x 127 x 127, RGB 0..255 -> 18x18 features (+ fusion kernels)
    score = net.siamfc_response(zf, x)         # stage 1 (pre-training): N x 1 x 23 x 23 logistic-loss scores
    cls, reg = net.track(zf, x)                # stage 2: N x 2 x 23 x 23 class logits, N x 4 x 23 x 23 l,t,r,b (px)

No code or weights were published, so the layer sizes are this implementation's reading of the paper (section III,
Fig. 1): every choice below is made so that the paper's stated facts hold exactly:

- "first three conv-layers": conv 7x7/3 pad 2 (64, ResNet-50's stem width) -> conv 3x3 pad 2 (64) -> conv 3x3 pad 1
  (256, the input width of ResNet-50's block 2), each with BN + ReLU. A 255 search crop gives **87x87** maps, a 127
  exemplar 44x44. (ResNet-50's own 7x7/2 stem cannot give 87 from 255 without padding that is wider than the kernel.)
- correlation-fusion module 1 (CF-1st) on those maps: depthwise cross-correlation of the exemplar's 44x44 maps over
  the search's 87x87 maps (44x44 response per channel), divided by the kernel area, resized bilinearly (the paper's
  "trilinear" on a C x H x W volume whose depth is unchanged) to 87x87 and added to the search maps.
- ResNet-50 block 2 (``layer2``: 4 bottlenecks, 128 -> 512, stride 2): **44x44** search maps, 22x22 exemplar.
- ResNet-50 block 3 (``layer3``: 6 bottlenecks, 256 -> 1024) with stride 1 and dilation 2 (as SiamRPN++ adapts
  ResNet-50), so the search maps stay **44x44**; correlation-fusion module 2 (CF-2nd) there (23x23 -> 44x44).
- "last three conv-layers": 1x1 1024 -> 512 (BN, ReLU), 3x3 512 -> 256 (BN, ReLU), 3x3 256 -> 256: 40x40 search,
  18x18 exemplar features; total stride 6.
- stage-1 head: SiamFC cross-correlation (x 0.001 + bias) -> 23x23. Stage-2 head (SiamCAR without centerness):
  depthwise cross-correlation of the final features (23x23x256), then two towers of 4 x (conv 3x3, GroupNorm(32),
  ReLU), then conv 3x3 -> 2 class logits and conv 3x3 -> 4 distances (exp, in units of the stride, returned in px).

Module names of ``layer2`` / ``layer3`` follow torchvision's ResNet (``conv1``, ``bn1``, ..., ``downsample.0``), so
ImageNet weights of ResNet-50's blocks load into them by name (the paper trains from scratch). ``width`` scales every
channel count (1.0 is the paper's network; smaller values only for fast tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from trackers.common.cf_layer import cross_correlate


@dataclass(frozen=True)
class Variant:
    """Which correlation-fusion modules a network has (the paper's Table III ablation)."""

    name: str
    fuse_first: bool
    fuse_second: bool


VARIANTS: dict[str, Variant] = {v.name: v for v in (
    Variant("baseline", False, False),
    Variant("cf-1st", True, False),
    Variant("cf-2nd", False, True),
    Variant("cf-double", True, True),
)}


def variant(name: str) -> Variant:
    """The variant called ``name`` (case-insensitive); unknown names list the known ones."""
    key = name.lower()
    if key not in VARIANTS:
        raise ValueError(f"unknown DCFFNet variant {name!r}; known: {', '.join(VARIANTS)}")
    return VARIANTS[key]


def _ch(c: int, width: float) -> int:
    """Channels scaled by ``width``, kept a multiple of 8 (and of GroupNorm's 32 groups where used)."""
    return max(8, int(round(c * width / 8)) * 8)


class Bottleneck(nn.Module):
    """ResNet-50's bottleneck (1x1 -> 3x3 -> 1x1, expansion 4) with torchvision's module names."""

    def __init__(self, in_ch: int, mid: int, stride: int = 1, dilation: int = 1) -> None:
        super().__init__()
        out = mid * 4
        self.conv1 = nn.Conv2d(in_ch, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = (nn.Sequential(nn.Conv2d(in_ch, out, 1, stride, bias=False), nn.BatchNorm2d(out))
                           if stride != 1 or in_ch != out else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        return self.relu(self.bn3(self.conv3(y)) + identity)


def resnet_stage(in_ch: int, mid: int, blocks: int, stride: int, dilation: int = 1) -> nn.Sequential:
    """A ResNet-50 stage; dilated, its first block keeps dilation 1 (torchvision's replace_stride_with_dilation)."""
    first = Bottleneck(in_ch, mid, stride, 1)
    layers = [first] + [Bottleneck(mid * 4, mid, 1, dilation) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


def conv_bn_relu(cin: int, cout: int, k: int, stride: int = 1, padding: int = 0) -> nn.Sequential:
    """conv (no bias) + BN + ReLU."""
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, padding, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


def depthwise_correlation(kernel: torch.Tensor, x: torch.Tensor, method: str = "auto") -> torch.Tensor:
    """Per-channel cross-correlation of each search map with its own exemplar map: N x C x (H-h+1) x (W-w+1).

    ``method``: ``"direct"`` (a grouped convolution), ``"fft"`` (products of real FFTs of size H x W: the valid part
    of the circular correlation never wraps), or ``"auto"``: FFT for kernels of 8x8 and more, where CPU grouped
    convolutions with large kernels are slow (44x44 over 87x87: about 5x forward+backward here). FFTs run in float32.
    """
    n, c, hh, ww = x.shape
    if kernel.shape[:2] != (n, c):
        raise ValueError(f"depthwise correlation needs matching batch and channels: {tuple(kernel.shape)} vs "
                         f"{tuple(x.shape)}")
    h, w = kernel.shape[-2:]
    if method == "auto":
        method = "fft" if h * w >= 64 else "direct"
    if method == "fft":
        xf = torch.fft.rfft2(x.float(), s=(hh, ww))
        kf = torch.fft.rfft2(kernel.float(), s=(hh, ww))
        return torch.fft.irfft2(xf * kf.conj(), s=(hh, ww))[..., : hh - h + 1, : ww - w + 1].to(x.dtype)
    if method != "direct":
        raise ValueError(f"method must be 'auto', 'fft' or 'direct', got {method!r}")
    out = F.conv2d(x.reshape(1, n * c, hh, ww), kernel.reshape(n * c, 1, h, w), groups=n * c)
    return out.reshape(n, c, out.shape[-2], out.shape[-1])


def correlation_fusion(kernel: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The correlation-fusion module: x + resize(depthwise_xcorr(kernel, x) / kernel area) to x's size."""
    response = depthwise_correlation(kernel, x) / (kernel.shape[-1] * kernel.shape[-2])
    return x + F.interpolate(response, size=x.shape[-2:], mode="bilinear", align_corners=False)


@dataclass
class Template:
    """What the exemplar branch keeps for tracking: final features and the fusion kernels of the active modules."""

    features: torch.Tensor
    fuse1: torch.Tensor | None
    fuse2: torch.Tensor | None


class CARHead(nn.Module):
    """SiamCAR's classification/regression head without the centerness branch."""

    def __init__(self, channels: int, convs: int = 4, stride: int = 6) -> None:
        super().__init__()
        self.stride = stride
        groups = 32 if channels % 32 == 0 else 8

        def tower() -> nn.Sequential:
            mods: list[nn.Module] = []
            for _ in range(convs):
                mods += [nn.Conv2d(channels, channels, 3, padding=1), nn.GroupNorm(groups, channels), nn.ReLU()]
            return nn.Sequential(*mods)

        self.cls_tower, self.bbox_tower = tower(), tower()
        self.cls_logits = nn.Conv2d(channels, 2, 3, padding=1)
        self.bbox_pred = nn.Conv2d(channels, 4, 3, padding=1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, std=0.01)
                nn.init.zeros_(m.bias)
        nn.init.constant_(self.bbox_pred.bias, 1.0)  # distances start at e x stride, a plausible box

    def forward(self, corr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cls = self.cls_logits(self.cls_tower(corr))
        reg = torch.exp(self.bbox_pred(self.bbox_tower(corr)).float().clamp(max=10.0)) * self.stride
        return cls, reg


class DCFFNet(nn.Module):
    """DCFFNet backbone with its correlation-fusion modules, the stage-1 SiamFC head and the stage-2 CAR head."""

    total_stride = 6

    def __init__(self, variant_name: str = "cf-double", width: float = 1.0) -> None:
        super().__init__()
        self.variant = variant(variant_name)
        c64, c256 = _ch(64, width), _ch(256, width)
        self.conv1 = conv_bn_relu(3, c64, 7, 3, 2)
        self.conv2 = conv_bn_relu(c64, c64, 3, 1, 2)
        self.conv3 = conv_bn_relu(c64, c256, 3, 1, 1)
        self.layer2 = resnet_stage(c256, _ch(128, width), 4, stride=2)
        self.layer3 = resnet_stage(_ch(128, width) * 4, c256, 6, stride=1, dilation=2)
        self.conv4 = conv_bn_relu(c256 * 4, _ch(512, width), 1)
        self.conv5 = conv_bn_relu(_ch(512, width), c256, 3)
        self.conv6 = nn.Conv2d(c256, c256, 3)
        self.out_scale = 0.001
        self.siamfc_bias = nn.Parameter(torch.zeros(1))
        self.head = CARHead(c256, stride=self.total_stride)
        for m in self.modules():
            if isinstance(m, nn.Conv2d) and not any(m is h for h in self.head.modules()):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        for block in (*self.layer2, *self.layer3):  # zero-init the last BN of each residual branch (ResNet practice)
            nn.init.zeros_(block.bn3.weight)

    def stage_outputs(self, img: torch.Tensor, tmpl: Template | None = None) -> dict[str, torch.Tensor]:
        """Every stage's feature map (for shape checks); with ``tmpl`` the search branch applies the fusions."""
        out: dict[str, torch.Tensor] = {}
        x = self.conv3(self.conv2(self.conv1(img)))
        out["conv3"] = x
        if tmpl is not None and tmpl.fuse1 is not None:
            x = correlation_fusion(tmpl.fuse1, x)
            out["fusion1"] = x
        x = self.layer2(x)
        out["block2"] = x
        x = self.layer3(x)
        out["block3"] = x
        if tmpl is not None and tmpl.fuse2 is not None:
            x = correlation_fusion(tmpl.fuse2, x)
            out["fusion2"] = x
        x = self.conv6(self.conv5(self.conv4(x)))
        out["features"] = x
        return out

    def template(self, z: torch.Tensor) -> Template:
        """Exemplar branch: final features plus the fusion kernels (conv3 and block3 maps) of the active modules."""
        s = self.stage_outputs(z)
        return Template(s["features"], s["conv3"] if self.variant.fuse_first else None,
                        s["block3"] if self.variant.fuse_second else None)

    def search_features(self, tmpl: Template, x: torch.Tensor) -> torch.Tensor:
        """Search branch with the exemplar's fusions applied (one exemplar per search crop, or one for all)."""
        if tmpl.features.shape[0] == 1 and x.shape[0] > 1:
            tmpl = Template(*(t.expand(x.shape[0], *t.shape[1:]) if t is not None else None
                              for t in (tmpl.features, tmpl.fuse1, tmpl.fuse2)))
        return self.stage_outputs(x, tmpl)["features"]

    def siamfc_response(self, tmpl: Template, x: torch.Tensor) -> torch.Tensor:
        """Stage-1 output: SiamFC cross-correlation scores (N x 1 x 23 x 23)."""
        return cross_correlate(tmpl.features, self.search_features(tmpl, x)) * self.out_scale + self.siamfc_bias

    def track(self, tmpl: Template, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Stage-2 output: class logits (N x 2 x 23 x 23) and l, t, r, b distances in search-crop pixels."""
        xf = self.search_features(tmpl, x)
        kernel = tmpl.features.expand(xf.shape[0], *tmpl.features.shape[1:])
        return self.head(depthwise_correlation(kernel, xf))

    def stage2_trainable(self) -> list[nn.Module]:
        """What stage 2 trains: the last two conv layers and the CAR head (the rest stays frozen, as the paper)."""
        return [self.conv5, self.conv6, self.head]

    def freeze_for_stage2(self) -> None:
        """Freeze every parameter outside :meth:`stage2_trainable`; their BatchNorms stay in inference mode."""
        keep = {id(p) for m in self.stage2_trainable() for p in m.parameters()}
        for p in self.parameters():
            p.requires_grad_(id(p) in keep)
        self._frozen = [m for m in self.modules() if isinstance(m, nn.BatchNorm2d)
                        and not any(m is k for t in self.stage2_trainable() for k in t.modules())]
        self.train(self.training)

    def train(self, mode: bool = True) -> DCFFNet:
        """Train mode, except the BatchNorms frozen for stage 2 (their statistics must not drift)."""
        super().train(mode)
        for m in getattr(self, "_frozen", ()):
            m.eval()
        return self

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.track(self.template(z), x)
