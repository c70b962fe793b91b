"""The DCFNet tracker (Wang et al. 2017) and a raw-pixel DCF tracker on the same correlation-filter layer.

    evalkit run --trackers dcfnet,kcf --suite otb100 --data-root DATA --sequences Couple,Dog1
    evalkit run --trackers dcfnet --param dcfnet.weights=../shared/weights/dcfnet/DCFNet-net-7-125-2.mat ...
    evalkit run --trackers dcfnet-conv2 --param dcfnet-conv2.weights=runs/dcfnet2/final.pth ...   # trained here
    evalkit run --trackers dcf-pixels --suite demo                  # the same filter on grey pixels: a MOSSE/DCF

Per frame (the PyTorch release's loop): crop ``S`` scales of ``target size x (1 + padding)`` around the last centre
(each resized to ``crop_size``, outside pixels zero as in the release), compute features times a cosine window, get
each scale's response to the filter, pick the best scale by its penalised peak, move by the peak's circular offset,
take that scale's size, then learn a filter on a crop at the new box and blend its numerator and denominator into the
model with rate ``interp_factor`` (paper eq. 13).

Defaults are the PyTorch release's TrackerConfig (the "AUC 0.665 on OTB-2013" configuration): padding 2,
lambda 1e-4 (on features normalised by C H W, as the release does), sigma 0.1 x 125 / 3, interp 0.01, 3 scales with
step 1.0275 and penalty 0.9925, size clamped to 0.2x-5x of the first. The MatConvNet release's meta values
(interp 0.011, step 1.015, penalty 1) and the paper's (interp 0.008, step 1.0375) are parameters away.

Variants (paper Table 2): ``dcfnet-conv1``, ``dcfnet-conv2``, ``dcfnet-conv1-dilation`` (architectures the authors did
not release: train them with ``evalkit train`` and pass ``weights=``; ``random_init=true`` runs them untrained), and
``dcfnet-1s``/``-5s``/``-7s``: the released features with 1, 5 or 7 scales at the paper's step 1.0375.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from numpy.typing import NDArray

from evalkit.harness import pick_device
from evalkit.tracker import Prediction, Tracker
from trackers.common.cf_layer import cf_blend_, cf_detect, cf_learn, dcfnet_lambda, label_spectrum
from trackers.common.crops import box_to_center, center_to_box, crop_pyramid, scale_factors
from trackers.common.inference import channels_first
from trackers.common.windows import circular_offsets, cosine_window, gaussian_label
from trackers.weights import WeightsError, resolve_weights, sha256_of


@dataclass(frozen=True)
class DCFParams:
    """Parameters shared by the DCF trackers (defaults: the DCFNet PyTorch release)."""

    crop_size: int = 125
    padding: float = 2.0  # crop = target size x (1 + padding)
    lambda0: float = 1e-4
    output_sigma_factor: float = 0.1  # sigma = crop_size / (1 + padding) x factor
    interp_factor: float = 0.01
    num_scales: int = 3
    scale_step: float = 1.0275
    scale_penalty: float = 0.9925
    min_scale_factor: float = 0.2
    max_scale_factor: float = 5.0
    pad_value: float = 0.0  # colour outside the image (0 as in the release)


@dataclass(frozen=True)
class DCFNetParams(DCFParams):
    """DCFNet: the shared parameters plus the network and where its weights come from."""

    arch: str = "released"
    weights: str | None = None  # a file (.pth or .mat); None: the catalog's dcfnet file via EVALKIT_WEIGHTS / cache
    random_init: bool = False  # the untrained network (seeded by init_seed): a baseline, and for speed measurements
    init_seed: int = 0


class DCFTrackerBase(Tracker):
    """Scale-pyramid DCF tracking on any feature function (see the module docstring)."""

    deterministic = True
    needs_device = True
    Params: ClassVar[type] = DCFParams

    def load(self, device: str | None = None) -> None:
        """Build windows and targets on ``device`` (CUDA when available)."""
        p = self.params
        if p.num_scales < 1 or p.crop_size < 8:
            raise ValueError(f"{self.name}: need num_scales >= 1 and crop_size >= 8, got {p.num_scales}, {p.crop_size}")
        self.device = torch.device(pick_device(device))
        n = p.crop_size
        self.window = torch.as_tensor(cosine_window(n, n), dtype=torch.float32, device=self.device)
        sigma = n / (1 + p.padding) * p.output_sigma_factor
        self.y = torch.as_tensor(gaussian_label(n, sigma), dtype=torch.float32, device=self.device)
        self.y_spectrum = label_spectrum(self.y)  # the filter is learnt every frame against this one target
        self.scales = scale_factors(p.num_scales, p.scale_step)
        self.penalties = p.scale_penalty ** np.abs(np.arange(p.num_scales) - p.num_scales // 2)
        self.offsets = circular_offsets(n)

    def features(self, patches: NDArray[np.uint8]) -> torch.Tensor:
        """Windowed features (N, C, n, n) of N RGB patches (N, n, n, 3)."""
        raise NotImplementedError

    def _crops(self, frame: NDArray[np.uint8], sizes: NDArray[np.float64]) -> NDArray[np.uint8]:
        return crop_pyramid(frame, self.center, sizes, self.params.crop_size, padding=self.params.pad_value)

    def _target_features(self, frame: NDArray[np.uint8]) -> tuple[torch.Tensor, float]:
        """Features of the padded crop at the current box, and the regularisation for their shape."""
        window = self.size * (1 + self.params.padding)
        feats = self.features(self._crops(frame, window[None, :]))
        return feats, dcfnet_lambda(self.params.lambda0, *feats.shape[1:])

    def _learn(self, frame: NDArray[np.uint8]) -> tuple[torch.Tensor, torch.Tensor]:
        feats, lam = self._target_features(frame)
        return cf_learn(feats, self.y, lam, self.y_spectrum)

    @torch.inference_mode()
    def initialize(self, frame: NDArray[np.uint8], box: NDArray[np.float64]) -> None:
        """Learn the first filter on the target at ``box``."""
        self.center, size = box_to_center(box)
        self.size = np.maximum(size, 1.0)
        img_wh = np.array([frame.shape[1], frame.shape[0]], dtype=np.float64)
        self.min_size = np.maximum(self.params.min_scale_factor * self.size, 4.0)
        self.max_size = np.maximum(np.minimum(img_wh, self.params.max_scale_factor * self.size), self.min_size)
        self.model = self._learn(frame)

    @torch.inference_mode()
    def update(self, frame: NDArray[np.uint8]) -> Prediction:
        """Locate the target over the scale pyramid, then update the filter."""
        p = self.params
        windows = self.size[None, :] * self.scales[:, None] * (1 + p.padding)
        feats = self.features(self._crops(frame, windows))
        response = self._response(feats)  # (S, n, n)
        flat = response.reshape(len(self.scales), -1)
        peaks, idx = flat.max(dim=1)
        peaks = peaks.cpu().numpy() * self.penalties
        best = int(np.argmax(peaks))
        r, c = np.unravel_index(int(idx[best]), response.shape[-2:])
        shift = np.array([self.offsets[c], self.offsets[r]])
        self.center = self.center + shift * windows[best] / p.crop_size
        self.size = np.clip(windows[best] / (1 + p.padding), self.min_size, self.max_size)
        self._relearn(frame)
        return Prediction(center_to_box(self.center, self.size), score=float(peaks[best]))

    def _response(self, feats: torch.Tensor) -> torch.Tensor:
        """Response maps (S, n, n) of the search features to the filter."""
        return cf_detect(*self.model, feats)[:, 0]

    def _relearn(self, frame: NDArray[np.uint8]) -> None:
        """Learn a filter on a crop at the new box and blend it into the model."""
        cf_blend_(self.model, self._learn(frame), self.params.interp_factor)


class DCFNet(DCFTrackerBase):
    """DCFNet: learnt conv features (released weights by default) with the DCF layer."""

    name = "dcfnet"
    Params = DCFNetParams
    catalog_name: ClassVar[str | None] = "dcfnet"

    def weights_path(self) -> Path:
        """The weight file: ``weights`` if given, else the catalog file for the released architecture."""
        if self.params.weights is None:
            if self.params.arch != "released" or self.catalog_name is None:
                raise WeightsError(f"{self.name}: the authors released no weights for architecture "
                                   f"{self.params.arch!r}; train it (evalkit train --tracker {self.name} --data ... "
                                   f"--out DIR) and pass --param {self.name}.weights=DIR/final.pth")
            return resolve_weights(self.catalog_name)
        return resolve_weights(self.catalog_name or self.name, self.params.weights)

    def weights_sha256(self) -> str | None:
        """sha256 of the weight file (resolved, not loaded); for ``random_init`` a digest of the seed."""
        if self.params.random_init:
            if self.params.weights is not None:
                raise WeightsError(f"{self.name}: give either weights or random_init, not both")
            import hashlib

            return hashlib.sha256(f"dcfnet-{self.params.arch}:init:{self.params.init_seed}".encode()).hexdigest()
        if not hasattr(self, "_sha"):
            self._sha = sha256_of(self.weights_path())
        return self._sha

    def load(self, device: str | None = None) -> None:
        """Build the network, load its weights (strict; BGR release conv1 flipped to RGB) and move it to ``device``."""
        from trackers.dcfnet.network import RGB_MEAN, BandLRN, DCFNetFeatures, load_dcfnet_weights
        from trackers.weights import load_into

        super().load(device)
        self.weights_sha256()  # checks weights / random_init
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.params.init_seed)
            self.net = DCFNetFeatures(self.params.arch)
        if not self.params.random_init:
            path = self.weights_path()
            load_into(self.net, load_dcfnet_weights(path), path)
        self.net.eval().to(self.device)
        self.mean = torch.tensor(RGB_MEAN, device=self.device).reshape(1, 3, 1, 1)
        self.fused = None
        norm = self.net.norm
        if self.device.type == "cpu" and isinstance(norm, BandLRN) and norm.beta == 0.75:
            from trackers.dcfnet.fused import fused_kernels

            self.fused = fused_kernels(self.params.num_scales, self.net.out_channels, self.params.crop_size)
        self._layers = list(self.net.children())[:-1]  # the convolutions and ReLUs before the LRN
        self._mean_np = np.asarray(RGB_MEAN, dtype=np.float32)
        self._window_np = self.window.cpu().numpy()

    def features(self, patches: NDArray[np.uint8]) -> torch.Tensor:
        """Network features of mean-subtracted RGB patches, times the cosine window."""
        if self.fused is not None:  # the same values (fused.py), fewer passes over memory
            x = self.fused.centred(patches, self._mean_np)
            for layer in self._layers:
                x = layer(x)  # channels-last memory (the patches' own), which the convolutions prefer
            return self.fused.band_lrn_window(self.net.norm, x, self._window_np)  # NCHW, for the FFTs
        x = torch.from_numpy(np.ascontiguousarray(patches)).to(self.device).permute(0, 3, 1, 2).float()
        feats = self.net(x.sub_(self.mean))  # channels-last memory (the patches' own), which the convolutions prefer
        return channels_first(feats.mul_(self.window))  # ... and NCHW for the FFTs that follow

    def _response(self, feats: torch.Tensor) -> torch.Tensor:
        """Response maps (S, n, n): cf_detect's, its spectrum from the fused kernel when there is one."""
        if self.fused is None:
            return super()._response(feats)
        spectrum = self.fused.response_spectrum(*self.model, torch.fft.rfft2(feats))
        return torch.fft.irfft2(spectrum, s=feats.shape[-2:])[:, 0]

    def _relearn(self, frame: NDArray[np.uint8]) -> None:
        """cf_blend_ of cf_learn's filter into the model, in one pass of the fused kernel when there is one."""
        if self.fused is None:
            super()._relearn(frame)
            return
        feats, lam = self._target_features(frame)
        self.fused.learn_blend(torch.fft.rfft2(feats), self.y_spectrum, lam, self.params.interp_factor, self.model)


@dataclass(frozen=True)
class DCFNetConv1Params(DCFNetParams):
    """DCFNet-conv1 (paper Table 1): 64-ReLU, 32, LRN."""

    arch: str = "conv1"


@dataclass(frozen=True)
class DCFNetConv2Params(DCFNetParams):
    """DCFNet-conv2 (paper Table 1): 64-ReLU, 64-ReLU, 128-ReLU, 32, LRN."""

    arch: str = "conv2"


@dataclass(frozen=True)
class DCFNetConv1DilationParams(DCFNetParams):
    """DCFNet-conv1-dilation (paper Table 1): 64-ReLU, 32 with dilation 2, LRN."""

    arch: str = "conv1-dilation"


@dataclass(frozen=True)
class DCFNet1sParams(DCFNetParams):
    """Released features, one scale (paper Table 2, -1s)."""

    num_scales: int = 1
    scale_step: float = 1.0375


@dataclass(frozen=True)
class DCFNet5sParams(DCFNetParams):
    """Released features, five scales at the paper's step (Table 2, -5s)."""

    num_scales: int = 5
    scale_step: float = 1.0375


@dataclass(frozen=True)
class DCFNet7sParams(DCFNetParams):
    """Released features, seven scales at the paper's step (Table 2, -7s)."""

    num_scales: int = 7
    scale_step: float = 1.0375


class DCFNetConv1(DCFNet):
    """DCFNet-conv1 (needs trained weights)."""

    name = "dcfnet-conv1"
    Params = DCFNetConv1Params


class DCFNetConv2(DCFNet):
    """DCFNet-conv2 (needs trained weights)."""

    name = "dcfnet-conv2"
    Params = DCFNetConv2Params


class DCFNetConv1Dilation(DCFNet):
    """DCFNet-conv1-dilation (needs trained weights)."""

    name = "dcfnet-conv1-dilation"
    Params = DCFNetConv1DilationParams


class DCFNet1s(DCFNet):
    """DCFNet with one scale."""

    name = "dcfnet-1s"
    Params = DCFNet1sParams


class DCFNet5s(DCFNet):
    """DCFNet with five scales."""

    name = "dcfnet-5s"
    Params = DCFNet5sParams


class DCFNet7s(DCFNet):
    """DCFNet with seven scales."""

    name = "dcfnet-7s"
    Params = DCFNet7sParams


@dataclass(frozen=True)
class DCFPixelsParams(DCFParams):
    """The DCF layer on grey pixels: MOSSE's features with DCFNet's loop (smaller context, faster learning)."""

    crop_size: int = 64
    padding: float = 1.5
    interp_factor: float = 0.025
    scale_step: float = 1.02


class DCFPixels(DCFTrackerBase):
    """Raw-pixel DCF tracker: grey values in [-0.5, 0.5] as the single feature channel (MOSSE / DCF on pixels)."""

    name = "dcf-pixels"
    Params = DCFPixelsParams
    needs_device = False

    def load(self, device: str | None = None) -> None:
        """CPU is fastest for a 1-channel filter; ``device`` is honoured if given."""
        super().load(device or "cpu")

    def features(self, patches: NDArray[np.uint8]) -> torch.Tensor:
        """Grey pixels (ITU-R 601 weights) scaled to [-0.5, 0.5], times the cosine window."""
        grey = patches.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        x = torch.from_numpy(grey / 255.0 - 0.5).to(self.device).unsqueeze(1)
        return x * self.window
