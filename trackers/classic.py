"""OpenCV's classic trackers (contrib build) as evalkit adapters: KCF, CSRT, MOSSE, MIL, MedianFlow.

They need no weights, so every evalkit command is useful on a fresh machine:

    evalkit run --trackers kcf,csrt --suite demo

KCF, CSRT and MIL use OpenCV's current API, the one whose Python binding accepts parameters; it takes and returns
integer boxes (the initial box is rounded). MOSSE and MedianFlow exist only in the legacy API, which works in floats.
When OpenCV reports the target lost, the adapter keeps the last box and reports score 0.0 (got10k and pysot wrappers
do the same). Parameters left at ``None`` keep OpenCV's defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import cv2
import numpy as np
from numpy.typing import NDArray

from evalkit.tracker import Prediction, Tracker


class OpenCVTracker(Tracker):
    """Shared adapter logic: RGB -> BGR, legacy float boxes, lost -> last box with score 0."""

    factory: ClassVar[str] = ""
    params_class: ClassVar[str] = ""
    legacy: ClassVar[bool] = False

    def _create(self) -> Any:
        module = cv2.legacy if self.legacy else cv2
        if not self.params_class:
            return getattr(module, self.factory)()
        cv_params = getattr(cv2, self.params_class)()
        for key, value in vars(self.params).items():
            if value is not None:
                setattr(cv_params, key, value)
        return getattr(module, self.factory)(cv_params)

    def initialize(self, frame: NDArray[np.uint8], box: NDArray[np.float64]) -> None:
        """Create a fresh OpenCV tracker on ``box``."""
        self._tracker = self._create()
        self._last = np.asarray(box, dtype=np.float64).copy()
        rect = tuple(float(v) for v in self._last) if self.legacy else tuple(int(round(v)) for v in self._last)
        ok = self._tracker.init(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), rect)
        if ok is False:
            raise RuntimeError(f"{self.name}: OpenCV refused to initialise on box {self._last.tolist()}")

    def update(self, frame: NDArray[np.uint8]) -> Prediction:
        """Track into ``frame``; keep the last box when OpenCV reports a loss."""
        ok, box = self._tracker.update(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        if ok:
            self._last = np.asarray(box, dtype=np.float64)
            return Prediction(self._last.copy(), score=1.0)
        return Prediction(self._last.copy(), score=0.0)


@dataclass(frozen=True)
class KCFParams:
    """cv2.TrackerKCF_Params fields (None: OpenCV's default)."""

    detect_thresh: float | None = None
    sigma: float | None = None
    lambda_: float | None = None
    interp_factor: float | None = None
    output_sigma_factor: float | None = None
    resize: bool | None = None
    max_patch_size: int | None = None
    compress_feature: bool | None = None
    compressed_size: int | None = None


class KCF(OpenCVTracker):
    """Kernelized Correlation Filter (Henriques et al., TPAMI 2015), OpenCV contrib."""

    name = "kcf"
    deterministic = True
    Params = KCFParams
    factory = "TrackerKCF_create"
    params_class = "TrackerKCF_Params"


@dataclass(frozen=True)
class CSRTParams:
    """cv2.TrackerCSRT_Params fields (None: OpenCV's default)."""

    use_hog: bool | None = None
    use_color_names: bool | None = None
    use_gray: bool | None = None
    use_segmentation: bool | None = None
    padding: float | None = None
    template_size: float | None = None
    filter_lr: float | None = None
    number_of_scales: int | None = None
    scale_step: float | None = None
    psr_threshold: float | None = None


class CSRT(OpenCVTracker):
    """Discriminative correlation filter with channel and spatial reliability (Lukezic et al., CVPR 2017)."""

    name = "csrt"
    deterministic = True
    Params = CSRTParams
    factory = "TrackerCSRT_create"
    params_class = "TrackerCSRT_Params"


@dataclass(frozen=True)
class MOSSEParams:
    """MOSSE has no tunable parameters in OpenCV."""


class MOSSE(OpenCVTracker):
    """Minimum Output Sum of Squared Error filter (Bolme et al., CVPR 2010)."""

    name = "mosse"
    deterministic = True
    Params = MOSSEParams
    factory = "TrackerMOSSE_create"
    legacy = True


@dataclass(frozen=True)
class MILParams:
    """cv2.TrackerMIL_Params fields (None: OpenCV's default)."""

    samplerInitInRadius: float | None = None  # noqa: N815 - OpenCV's own field names
    samplerSearchWinSize: float | None = None  # noqa: N815
    samplerTrackInRadius: float | None = None  # noqa: N815
    featureSetNumFeatures: int | None = None  # noqa: N815


class MIL(OpenCVTracker):
    """Multiple Instance Learning tracker (Babenko et al., CVPR 2009); samples at random, so not deterministic."""

    name = "mil"
    deterministic = False
    Params = MILParams
    factory = "TrackerMIL_create"
    params_class = "TrackerMIL_Params"


@dataclass(frozen=True)
class MedianFlowParams:
    """OpenCV's Python binding exposes no MedianFlow parameters; its defaults are used."""


class MedianFlow(OpenCVTracker):
    """Median Flow (Kalal et al., ICPR 2010): forward-backward consistent Lucas-Kanade point tracking."""

    name = "medianflow"
    deterministic = True
    Params = MedianFlowParams
    factory = "TrackerMedianFlow_create"
    legacy = True
