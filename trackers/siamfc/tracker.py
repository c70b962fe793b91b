"""The SiamFC tracker as released (Bertinetto et al. 2016; the PyTorch port FDSiamFC builds on), over any backbone.

    from trackers.siamfc.tracker import SiamFC
    t = SiamFC(weights="siamfc.pth")                  # or random_init=True for speed measurements only
    t.load("cpu"); t.initialize(frame, box); pred = t.update(next_frame)

    evalkit run --trackers siamfc --param siamfc.weights=/path/siamfc.pth --suite otb100
    evalkit run --trackers fdsiamfc30 --param fdsiamfc30.benchmark=uav123 --suite uav123   # the authors' UAV settings

Tracking step: three search crops (sizes ``x_sz * step**{-1,0,1}``, 255 px, mean-colour padding) around the last
centre -> 17x17 responses -> x16 bicubic upsampling (cv2) -> side scales multiplied by ``scale_penalty`` -> best scale
-> response shifted to >= 0, normalised to sum 1, mixed with a normalised Hann window (``window_influence``) -> peak
displacement x stride / upsampling -> image pixels; target size, exemplar and search sizes follow the damped scale
``1 - scale_lr + scale_lr * step**k``, limited to [min_scale, max_scale] x the initial size (the MATLAB release's
limits). The exemplar is the 127 crop of ``sqrt((w+p)(h+p))``, ``p = context * (w + h)``, from the first frame only.

Per-benchmark overrides: a tracker class lists the settings its authors used on particular benchmarks in
``BENCHMARK_OVERRIDES`` (FDSiamFC: UAV123 and UAV20L). ``benchmark=<suite>`` applies that row; parameters given
explicitly still win. The row used is part of the parameters, hence of the result fingerprint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import cv2
import numpy as np
from numpy.typing import NDArray

from evalkit.tracker import ParameterError, Prediction, Tracker
from trackers.common.crops import (
    box_to_center,
    center_to_box,
    context_size,
    crop_and_resize,
    crop_pyramid,
    mean_colour,
    scale_factors,
)
from trackers.common.windows import cosine_window

if TYPE_CHECKING:
    import torch

    from trackers.siamfc.network import ConvLayer, SiamNet


@dataclass(frozen=True)
class SiamFCParams:
    """SiamFC tracking hyper-parameters (the release's values) plus weights and run options."""

    weights: str | None = None  # a state dict of the network; None: the tracker's catalog entry (if any)
    random_init: bool = False  # untrained, seeded weights: for speed and complexity measurements only
    benchmark: str | None = None  # apply the authors' per-benchmark overrides (see BENCHMARK_OVERRIDES)
    exemplar_size: int = 127
    instance_size: int = 255
    context: float = 0.5
    scale_num: int = 3
    scale_step: float = 1.0375
    scale_penalty: float = 0.9745
    scale_lr: float = 0.59
    window_influence: float = 0.176
    response_up: int = 16
    min_scale: float = 0.2  # target size limits relative to the initial size
    max_scale: float = 5.0
    clip_center: bool = False  # keep the centre inside the image (FDSiamFC's tracker does, SiamFC's does not)
    amp: bool = True  # float16 autocast on CUDA (ignored on CPU)
    channels_last: bool = True  # NHWC activations: faster convolutions on CPU (oneDNN) and CUDA
    fuse_bn: bool = True  # fold inference-mode BatchNorm into the preceding conv after loading (same function)


class SiamFCFamily(Tracker):
    """Shared SiamFC tracking logic; subclasses name the backbone, the weights and the per-benchmark table."""

    deterministic = True
    needs_device = True
    Params: ClassVar[type] = SiamFCParams
    catalog_name: ClassVar[str | None] = None  # trackers.weights CATALOG entry of the released weights
    learned_bias: ClassVar[bool] = False
    BENCHMARK_OVERRIDES: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    def __init__(self, params: Any | None = None, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        bench = self.params.benchmark
        if bench:
            from evalkit.registry import SUITES

            SUITES.get(bench)  # a typo fails here with suggestions
            row = self.BENCHMARK_OVERRIDES.get(bench.lower(), {})
            explicit = set(overrides) | ({f.name for f in fields(params) if getattr(params, f.name) !=
                                          getattr(self.Params(), f.name)} if params is not None else set())
            self.params = replace(self.params, **{k: v for k, v in row.items() if k not in explicit})
        p = self.params
        if p.scale_num < 1 or p.scale_num % 2 == 0:
            raise ParameterError(f"{type(self).__name__}: scale_num must be odd and positive, got {p.scale_num}")
        if not 0 <= p.window_influence <= 1 or not 0 <= p.scale_lr <= 1:
            raise ParameterError(f"{type(self).__name__}: window_influence and scale_lr must lie in [0, 1]")
        self.net: SiamNet | None = None
        self._sha: str | None = None

    @classmethod
    def layers(cls, params: Any) -> tuple[ConvLayer, ...]:
        """The backbone layers of this tracker."""
        raise NotImplementedError

    def build_net(self) -> SiamNet:
        """A fresh network with this tracker's backbone (random initialisation)."""
        from trackers.siamfc.network import SiamNet

        return SiamNet(self.layers(self.params), learned_bias=self.learned_bias)

    def load(self, device: str | None = None) -> None:
        """Build the network, load the weights strictly (or seed a random one), move it to ``device``."""
        import torch

        from evalkit.harness import pick_device
        from trackers.weights import load_into, load_state_dict, sha256_of

        self.device = torch.device(pick_device(device))
        torch.manual_seed(0)
        net = self.build_net()
        if self.params.random_init:
            if self.params.weights:
                raise ParameterError(f"{self.name}: give either weights or random_init, not both")
            self._sha = "random-init-seed0"
        else:
            path = self._weights_path()
            load_into(net, load_state_dict(path), path)
            if self._sha is None:  # not yet hashed for the result fingerprint (weights_sha256)
                self._sha = sha256_of(path)
        net.eval().to(self.device)
        if self.params.fuse_bn:
            from trackers.siamfc.network import fuse_batchnorm

            fuse_batchnorm(net)
        if self.params.channels_last:
            net = net.to(memory_format=torch.channels_last)
        self.net = net
        self._amp = self.params.amp and self.device.type == "cuda"

    def _weights_path(self) -> Path:
        """The weight file: ``weights`` if given, else this tracker's catalog file (trackers.weights resolves it)."""
        from trackers.weights import WeightsError, resolve_weights

        if self.params.weights is None and self.catalog_name is None:
            raise WeightsError(f"{self.name}: no released weights exist; pass weights=PATH (a state dict from "
                               f"`evalkit train {self.name}`) or random_init=true for speed measurements")
        return resolve_weights(self.catalog_name or self.name, self.params.weights)

    def weights_sha256(self) -> str | None:
        """sha256 of the weight file ('random-init-seed0' for untrained networks); resolved without loading.

        The run planner fingerprints results before any tracker is loaded, so the file is resolved here too; a
        missing file gives None (``load`` then reports it).
        """
        if self._sha is None:
            if self.params.random_init:
                return "random-init-seed0"
            from trackers.weights import WeightsError, sha256_of

            try:
                self._sha = sha256_of(self._weights_path())
            except WeightsError:
                return None
        return self._sha

    def _to_tensor(self, crops: NDArray[np.uint8]) -> torch.Tensor:
        """N x H x W x 3 uint8 crops -> N x 3 x H x W float on the device (NHWC memory, no copy before the cast)."""
        import torch

        t = torch.from_numpy(crops).to(self.device, non_blocking=True).permute(0, 3, 1, 2)
        t = t.float()
        return t if self.params.channels_last else t.contiguous()

    def _features(self, crops: NDArray[np.uint8]) -> torch.Tensor:
        import torch

        with torch.inference_mode(), torch.autocast("cuda", enabled=self._amp):
            return self.net.template(self._to_tensor(crops))  # type: ignore[union-attr]

    def initialize(self, frame: NDArray[np.uint8], box: NDArray[np.float64]) -> None:
        """Exemplar features of the first frame; sizes and the Hann window of the search."""
        if self.net is None:
            raise RuntimeError(f"{self.name}: call load(device) before initialize")
        p = self.params
        self.center, self.target_sz = box_to_center(box)
        if np.any(self.target_sz <= 0):
            raise ValueError(f"{self.name}: the initial box must have a positive size, got {np.asarray(box).tolist()}")
        response_sz = self._response_size()
        self.upscale_sz = p.response_up * response_sz
        self.window = cosine_window(self.upscale_sz)
        self.window /= self.window.sum()
        self.factors = scale_factors(p.scale_num, p.scale_step)
        self.z_sz = context_size(self.target_sz, p.context)
        self.x_sz = self.z_sz * p.instance_size / p.exemplar_size
        self.limits = (p.min_scale * self.x_sz, p.max_scale * self.x_sz)
        self.colour = mean_colour(frame)
        z = crop_and_resize(frame, self.center, self.z_sz, p.exemplar_size, padding=self.colour)
        self.kernel = self._features(z[None])

    def _response_size(self) -> int:
        """Side of the response map: (instance - exemplar) / stride + 1 (17 for 255 / 127 / 8)."""
        p = self.params
        return (p.instance_size - p.exemplar_size) // self.net.total_stride + 1  # type: ignore[union-attr]

    def responses(self, frame: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Raw response maps of the search scales around the current centre: S x 17 x 17."""
        import torch

        p = self.params
        x = crop_pyramid(frame, self.center, self.x_sz * self.factors, p.instance_size, padding=self.colour)
        with torch.inference_mode(), torch.autocast("cuda", enabled=self._amp):
            r = self.net.search(self.kernel, self._to_tensor(x))  # type: ignore[union-attr]
        return r[:, 0].float().cpu().numpy()

    def update(self, frame: NDArray[np.uint8]) -> Prediction:
        """One tracking step: best scale and peak of the windowed, upsampled responses."""
        p = self.params
        raw = self.responses(frame)
        up = np.stack([cv2.resize(r, (self.upscale_sz, self.upscale_sz), interpolation=cv2.INTER_CUBIC) for r in raw])
        mid = p.scale_num // 2
        up[:mid] *= p.scale_penalty
        up[mid + 1:] *= p.scale_penalty
        best = int(np.argmax(up.reshape(len(up), -1).max(axis=1)))
        peak = float(up[best].max())
        response = up[best] - up[best].min()
        response /= response.sum() + 1e-16
        response = (1 - p.window_influence) * response + p.window_influence * self.window
        row, col = np.unravel_index(int(response.argmax()), response.shape)
        disp = (np.array([col, row], dtype=np.float64) - (self.upscale_sz - 1) / 2)
        disp *= self.net.total_stride / p.response_up * self.x_sz * self.factors[best] / p.instance_size  # type: ignore[union-attr]
        self.center = self.center + disp
        if p.clip_center:
            self.center = np.clip(self.center, 0, [frame.shape[1], frame.shape[0]])
        scale = (1 - p.scale_lr) + p.scale_lr * self.factors[best]
        scale = float(np.clip(self.x_sz * scale, *self.limits) / self.x_sz)
        self.target_sz = self.target_sz * scale
        self.z_sz *= scale
        self.x_sz *= scale
        return Prediction(center_to_box(self.center, self.target_sz), score=peak)


class SiamFC(SiamFCFamily):
    """SiamFC-3s (Bertinetto et al. 2016): AlexNet backbone, cross-correlation head; no weights are released here."""

    name = "siamfc"
    learned_bias = True

    @classmethod
    def layers(cls, params: Any) -> tuple[ConvLayer, ...]:
        """Full-width AlexNet."""
        from trackers.siamfc.network import alexnet_layers

        return alexnet_layers(1.0)
