"""FDSiamFC trackers with the authors' released weights: FDSiamFC_30, FDSiamFC_15 (AlexNet at width 0.3 / 0.15) and
FDSiamd (eight 3x3 layers at width 0.5). The tracking logic is SiamFC's (trackers.siamfc.tracker).

    evalkit run --trackers fdsiamfc30,fdsiamfc15 --suite otb100 --data-root DATA
    evalkit run --trackers fdsiamfc30 --param fdsiamfc30.benchmark=uav20l --suite uav20l --data-root DATA
    evalkit run --trackers fdsiamfc30 --param fdsiamfc30.weights=compressed/final.pth ...   # `evalkit compress` output

Weights resolve through trackers.weights (``weights=PATH``, ``$EVALKIT_WEIGHTS/fdsiamfc/...``, the user cache) and
load strictly. Per-benchmark settings, from the authors' ``experiments/config_*`` files (conquerhuang/FDSiamFC):
``BENCHMARK_OVERRIDES`` below; ``benchmark=<suite>`` applies them. Like the authors' tracker, the centre is clipped to
the image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from trackers.siamfc.network import ConvLayer, alexnet8_layers, alexnet_layers
from trackers.siamfc.tracker import SiamFCFamily, SiamFCParams

# The authors' per-benchmark tracking settings (conquerhuang/FDSiamFC experiments/config_fdsiamfc_30,
# cinfig_fdsiamfc_15 and config_fdsiamd). Benchmarks not listed use the SiamFC defaults.
_FD30 = {"uav123": {"scale_step": 1.05, "scale_lr": 0.6},
         "uav20l": {"scale_step": 1.21, "scale_lr": 0.59}}
_FD15 = {"uav123": {"scale_step": 1.04, "scale_lr": 0.8},
         "uav20l": {"scale_step": 1.19, "scale_lr": 0.59, "window_influence": 0.1766}}
_FDD = {"otb100": {"scale_step": 1.049, "scale_lr": 0.2, "scale_penalty": 0.998, "window_influence": 0.228},
        "uav123": {"scale_step": 1.052, "scale_lr": 0.71, "window_influence": 0.252},
        "uav20l": {"scale_step": 1.074, "scale_lr": 0.59, "window_influence": 0.1766},
        "tc128": {"scale_step": 1.0375, "scale_lr": 0.585, "window_influence": 0.17625},
        "lasot": {"scale_step": 1.087, "scale_lr": 0.26, "scale_penalty": 0.978, "window_influence": 0.25}}


@dataclass(frozen=True)
class FDSiamFCParams(SiamFCParams):
    """SiamFC parameters with the FDSiamFC tracker's one difference: the centre is clipped to the image."""

    clip_center: bool = True


class _FDTracker(SiamFCFamily):
    """An FDSiamFC tracker: SiamFC logic, centre clipped to the image, released weights from the catalog."""

    Params = FDSiamFCParams
    backbone: ClassVar[tuple[ConvLayer, ...]]  # the released network's layers

    @classmethod
    def layers(cls, params: Any) -> tuple[ConvLayer, ...]:
        """The released backbone (the same for every parameter setting)."""
        return cls.backbone


class FDSiamFC30(_FDTracker):
    """FDSiamFC_30: SiamFC compressed to width 0.3 by Feature Distilling (released weights)."""

    name = "fdsiamfc30"
    catalog_name = "fdsiamfc30"
    BENCHMARK_OVERRIDES = _FD30
    backbone = alexnet_layers(0.3)  # AlexNet at width 0.3: 28, 76, 114, 114, 76 channels


class FDSiamFC15(_FDTracker):
    """FDSiamFC_15: SiamFC compressed to width 0.15 by Feature Distilling (released weights)."""

    name = "fdsiamfc15"
    catalog_name = "fdsiamfc15"
    BENCHMARK_OVERRIDES = _FD15
    backbone = alexnet_layers(0.15)  # AlexNet at width 0.15: 14, 38, 56, 56, 38 channels


class FDSiamd(_FDTracker):
    """FDSiamd: an eight-layer 3x3 AlexNet at width 0.5 compressed by Feature Distilling (released weights)."""

    name = "fdsiamd"
    catalog_name = "fdsiamd"
    BENCHMARK_OVERRIDES = _FDD
    backbone = alexnet8_layers(0.5)  # eight 3x3 layers: 12, 24, 48, 64, 128, 192, 192, 128 channels
