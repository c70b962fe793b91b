"""CFNet's networks (Valmadre et al., CVPR 2017): AlexNet-style branches of depth 1, 2, 3 or 5 with total stride 4
and a 32-channel last layer, joined by the correlation-filter block or by plain cross-correlation (the baseline).

    net = CFNetModel("cfnet-conv2")                   # branch conv1-pool1-conv2 (+BN, ReLU), CF join
    scores = net(exemplar, instance)                   # (B, 3, 255, 255) each, raw 0..255 RGB -> (B, 1, 33, 33) logits
    tmpl = net.template(exemplar)                      # tracking: the cropped CF template (or the exemplar features)
    raw = net.response(tmpl, instances)                # uncalibrated response maps

Layer layout from the release's training scripts (``make_branch_alexnet.m``, ``run_experiment_*.m``): conv1 11x11
(stride 2; stride 4 for the one-layer net), pool1 3x3/2, conv2 5x5 in 2 groups, pool2 3x3/1, conv3 3x3, conv4 3x3 in
2 groups, conv5 3x3 in 2 groups; batch norm and a ReLU after every conv, the last one included (``add_block`` adds
both to each conv; the authors' Baseline+CF-conv3 file ends with ``br1_bn3``, ``br1_relu3``). CF variants take
255x255 exemplars; their CF block windows the exemplar features, solves the filter (lambda 10, Gaussian target sigma
8 px / stride 4), crops 16 cells off each side and correlates; a learned scale and bias (initially 1 and -0.5)
calibrate the scores for the logistic loss. The baseline takes 127x127 exemplars and calibrates the
cross-correlation with a one-channel batch norm. The authors' trained networks load with
:func:`trackers.cfnet.matconvnet.cfnet_from_dagnn`.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from trackers.common.cf_layer import CorrelationFilterBlock, cross_correlate


@dataclass(frozen=True)
class Variant:
    """One network of the paper: branch depth, conv1 stride, join, exemplar crop size."""

    depth: int
    join: str  # "cf" or "xcorr"
    exemplar_size: int
    conv1_stride: int = 2


VARIANTS: dict[str, Variant] = {
    "cfnet-conv1": Variant(1, "cf", 255, conv1_stride=4),
    "cfnet-conv2": Variant(2, "cf", 255),
    "cfnet-conv5": Variant(5, "cf", 255),
    "baseline-conv5": Variant(5, "xcorr", 127),
    "baseline-conv3": Variant(3, "xcorr", 127),  # trained as a baseline, tracked with a CF (Baseline+CF-conv3)
}
INSTANCE_SIZE = 255
TOTAL_STRIDE = 4


def make_branch(depth: int, conv1_stride: int = 2) -> nn.Sequential:
    """The feature branch of the given depth (see the module docstring)."""
    if depth not in (1, 2, 3, 5):
        raise ValueError(f"CFNet branches have depth 1, 2, 3 or 5, got {depth}")
    layers: OrderedDict[str, nn.Module] = OrderedDict()

    def block(i: int, c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1) -> None:
        layers[f"conv{i}"] = nn.Conv2d(c_in, c_out, k, stride=stride, groups=groups)
        layers[f"bn{i}"] = nn.BatchNorm2d(c_out)
        layers[f"relu{i}"] = nn.ReLU(inplace=True)

    if depth == 1:
        block(1, 3, 32, 11, stride=conv1_stride)
        return nn.Sequential(layers)
    block(1, 3, 96, 11, stride=conv1_stride)
    layers["pool1"] = nn.MaxPool2d(3, 2)
    if depth == 2:
        block(2, 96, 32, 5, groups=2)
        return nn.Sequential(layers)
    block(2, 96, 256, 5, groups=2)
    layers["pool2"] = nn.MaxPool2d(3, 1)
    if depth == 3:
        block(3, 256, 32, 3)
        return nn.Sequential(layers)
    block(3, 256, 384, 3)
    block(4, 384, 384, 3, groups=2)
    block(5, 384, 32, 3, groups=2)
    return nn.Sequential(layers)


def feature_size(branch: nn.Module, input_size: int) -> int:
    """Side of the branch's output for a square input (by a dry run on the meta device)."""
    with torch.no_grad():
        out = branch.to("meta")(torch.empty(1, 3, input_size, input_size, device="meta"))
    return int(out.shape[-1])


def init_weights(module: nn.Module) -> None:
    """The release's initialisation: 'xavierimproved' (He normal, fan-in) conv weights, biases 0.1, BN at identity."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            if m.bias is not None:
                nn.init.constant_(m.bias, 0.1)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class CFNetModel(nn.Module):
    """A CFNet / Baseline network: shared branch plus the CF or cross-correlation join (``join`` overrides)."""

    def __init__(self, variant: str, join: str | None = None, lam: float = 10.0, sigma_px: float = 8.0,
                 margin: int = 16) -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"unknown CFNet variant {variant!r}; known: {', '.join(VARIANTS)}")
        spec = VARIANTS[variant]
        self.variant, self.join = variant, join or spec.join
        self.exemplar_size = INSTANCE_SIZE if self.join == "cf" else spec.exemplar_size
        self.backbone = make_branch(spec.depth, spec.conv1_stride)
        size = feature_size(make_branch(spec.depth, spec.conv1_stride), self.exemplar_size)
        if self.join == "cf":
            self.cf = CorrelationFilterBlock((size, size), sigma=sigma_px / TOTAL_STRIDE, lam=lam, margin=margin)
        elif self.join == "xcorr":
            self.adjust = nn.BatchNorm2d(1)
        else:
            raise ValueError(f"join must be 'cf' or 'xcorr', got {self.join!r}")
        init_weights(self.backbone)

    def template(self, exemplar: Tensor) -> Tensor:
        """What the exemplar branch hands to the join: the cropped CF template, or the exemplar features."""
        feats = self.backbone(exemplar)
        return self.cf.template(feats) if self.join == "cf" else feats

    def response(self, template: Tensor, instance: Tensor) -> Tensor:
        """Uncalibrated response maps (B, 1, h, w) of instance crops to the template(s)."""
        feats = self.backbone(instance)
        return self.cf.correlate(template, feats) if self.join == "cf" else cross_correlate(template, feats)

    def tracking_response(self, template: Tensor, instance: Tensor) -> Tensor:
        """The maps the release's tracker reads: ``join_out`` (before the adjust layer) for the CF, ``score`` (after
        the adjust batch norm) for the baseline (``tracker.m``: ``p.id_score``)."""
        raw = self.response(template, instance)
        return raw if self.join == "cf" else self.adjust(raw)

    def forward(self, exemplar: Tensor, instance: Tensor) -> Tensor:
        """Calibrated scores (logits) for training with the logistic loss."""
        raw = self.response(self.template(exemplar), instance)
        if self.join == "cf":
            return self.cf.scale * raw + self.cf.bias
        return self.adjust(raw)
