"""The SiamFC tracker as released (Bertinetto et al. 2016; the PyTorch port FDSiamFC builds on), over any backbone.

    from trackers.siamfc.tracker import SiamFC
    t = SiamFC()                                      # the authors' network (catalog 'siamfc', EVALKIT_WEIGHTS)
    t = SiamFC(weights="siamfc.pth")                  # or a trained state dict; random_init=True for speed only
    t.load("cpu"); t.initialize(frame, box); pred = t.update(next_frame)

    evalkit run --trackers siamfc --suite otb100                       # EVALKIT_WEIGHTS=../shared/weights
    evalkit run --trackers fdsiamfc30 --param fdsiamfc30.benchmark=uav123 --suite uav123   # the authors' UAV settings

Two tracking loops (``loop``). ``siamfc`` (the authors' network) runs ``"matlab"``, the authors' own
bertinetto/siamese-fc ``tracker.m``: 1-based centres ``x + w/2``, float frames, crops by the two-stage scale pyramid
with MATLAB rounding and bicubic ``imresize`` (``trackers.common.matlab_ops``, which the CFNet release inherited from
this code), responses upsampled by ``imresize`` x16, the first maximum in column-major order, displacement scaled
by ``round(s_x)`` (not the chosen scale's side), the target size damped without the ``s_x`` saturation. The
FDSiamFC trackers run ``"pytorch"``, the PyTorch port's step that follows.

PyTorch-port step: three search crops (sizes ``x_sz * step**{-1,0,1}``, 255 px, mean-colour padding) around the last
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
from trackers.common.upsample import scale_picker
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
    loop: str = "pytorch"  # "pytorch": the PyTorch port's tracking step (FDSiamFC's); "matlab": the authors' tracker.m
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
        if p.loop not in ("pytorch", "matlab"):
            raise ParameterError(f"{type(self).__name__}: loop must be 'pytorch' or 'matlab', got {p.loop!r}")
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
        from trackers.weights import sha256_of

        self.device = torch.device(pick_device(device))
        torch.manual_seed(0)
        net = self.build_net()
        if self.params.random_init:
            if self.params.weights:
                raise ParameterError(f"{self.name}: give either weights or random_init, not both")
            self._sha = "random-init-seed0"
        else:
            path = self._weights_path()
            self.load_weights(net, path)
            if self._sha is None:  # not yet hashed for the result fingerprint (weights_sha256)
                self._sha = sha256_of(path)
        net.eval().to(self.device)
        from trackers.common.inference import prepare_for_tracking
        from trackers.common.pool import fuse_pool_relu

        # BN folded (fuse_bn), exact separable max pools before the ReLUs, channels-last, each 3x3/2 pool and its
        # ReLU one compiled pass (trackers.common.pool): the same function, faster
        self.net = fuse_pool_relu(prepare_for_tracking(net, channels_last=self.params.channels_last,
                                                       fuse_bn=self.params.fuse_bn))
        self._amp = self.params.amp and self.device.type == "cuda"
        # the backbone's layers in one list, without the identities BN folding left (a module call each is ~10 us)
        self._layers = [m for stage in self.net.backbone.stages() for m in stage  # type: ignore[union-attr]
                        if not isinstance(m, torch.nn.Identity)]

    def load_weights(self, net: SiamNet, path: Path) -> None:
        """Load a state dict file into ``net`` strictly."""
        from trackers.weights import load_into, load_state_dict

        load_into(net, load_state_dict(path), path)

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

        if self.device.type == "cpu":  # numpy's vectorised cast of the contiguous crops: 1.5x torch's strided one
            t = torch.from_numpy(crops.astype(np.float32)).permute(0, 3, 1, 2)
        else:  # the uint8 crops cross the bus, the cast runs on the device
            t = torch.from_numpy(crops).to(self.device, non_blocking=True).permute(0, 3, 1, 2).float()
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
        if p.loop == "matlab":
            self._initialize_matlab(frame, box)
            return
        response_sz = self._response_size()
        self.upscale_sz = p.response_up * response_sz
        self.window = cosine_window(self.upscale_sz)
        self.window /= self.window.sum()
        self._weighted_window = p.window_influence * self.window  # the mix's window term, the same every frame
        # the upsampled maps and the mixed response, written in place each frame
        self._up = np.empty((p.scale_num, self.upscale_sz, self.upscale_sz), dtype=np.float32)
        self._mixed = np.empty((self.upscale_sz, self.upscale_sz), dtype=np.float64)
        self._picker = scale_picker(response_sz, self.upscale_sz)
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
            h = self._to_tensor(x)
            for layer in self._layers:  # the backbone's layers in order, as its forward runs them
                h = layer(h)
            r = self.net.head(self.kernel, h)  # type: ignore[union-attr]
        return r[:, 0].float().cpu().numpy()

    def update(self, frame: NDArray[np.uint8]) -> Prediction:
        """One tracking step: best scale and peak of the windowed, upsampled responses."""
        p = self.params
        if p.loop == "matlab":
            return self._update_matlab(frame)
        raw = self.responses(frame)
        # The side scales' penalty is a float32 product, monotone in the value, so the maximum of a penalised map is
        # its penalised maximum: only the peaks and the chosen map are multiplied (the same numbers as penalising
        # every map, as the port does); the picker upsamples only the maps that can be the best (upsample.py).
        mid = p.scale_num // 2
        best, peak = self._picker.pick(raw, mid, p.scale_penalty, self._up)
        response = self._up[best]
        if best != mid:
            response *= p.scale_penalty
        response -= response.min()
        response /= response.sum() + 1e-16
        response *= 1 - p.window_influence
        mixed = np.add(response, self._weighted_window, out=self._mixed)
        row, col = np.unravel_index(int(mixed.argmax()), mixed.shape)
        disp = (np.array([col, row], dtype=np.float64) - (self.upscale_sz - 1) / 2)
        disp *= self.net.total_stride / p.response_up * self.x_sz * self.factors[best] / p.instance_size  # type: ignore[union-attr]
        self.center = self.center + disp
        if p.clip_center:
            self.center = np.clip(self.center, 0, [frame.shape[1], frame.shape[0]])
        scale = (1 - p.scale_lr) + p.scale_lr * self.factors[best]
        lo, hi = self.limits
        scale = float(min(max(self.x_sz * scale, lo), hi) / self.x_sz)  # np.clip's value, without its ~10 us call
        self.target_sz = self.target_sz * scale
        self.z_sz *= scale
        self.x_sz *= scale
        return Prediction(center_to_box(self.center, self.target_sz), score=peak)


    # --- the authors' MATLAB loop (bertinetto/siamese-fc tracking/tracker.m, tracker_step.m, make_scale_pyramid.m,
    # get_subwindow_tracking.m), with the MATLAB image operations of trackers.common.matlab_ops (the CFNet release
    # inherited them from this code) ---

    def _search_responses(self, crops: NDArray[np.float32]) -> NDArray[np.float32]:
        """Raw S x 17 x 17 responses of float crops (S x 255 x 255 x 3) against the exemplar."""
        import torch

        x = torch.from_numpy(np.ascontiguousarray(crops)).to(self.device).permute(0, 3, 1, 2)
        x = x if self.params.channels_last else x.contiguous()
        with torch.inference_mode(), torch.autocast("cuda", enabled=self._amp):
            r = self.net.search(self.kernel, x)  # type: ignore[union-attr]
        return r[:, 0].float().cpu().numpy()

    def _initialize_matlab(self, frame: NDArray[np.uint8], box: NDArray[np.float64]) -> None:
        """tracker.m's set-up: 1-based centre ``x + w/2``, exemplar of ``round(s_z)`` pixels by bicubic imresize."""
        from trackers.common.matlab_ops import matlab_round, subwindow

        p = self.params
        x, y, w, h = (float(v) for v in np.asarray(box, dtype=np.float64).reshape(4))
        self.pos = np.array([y + 1 + h / 2, x + 1 + w / 2])  # (row, col), 1-based: load_video_info's centre
        self.size_hw = np.array([h, w])
        image = np.asarray(frame, dtype=np.float32)  # vl_imreadjpeg's single-precision frames, never rounded back
        self.colour = image.reshape(-1, image.shape[-1]).mean(axis=0, dtype=np.float64)
        s_z = context_size((w, h), p.context)
        z = subwindow(image, (float(self.pos[0]), float(self.pos[1])), p.exemplar_size, int(matlab_round(s_z)),
                      self.colour)
        self.kernel = self._float_features(z[None])
        self.x_sz = s_z * p.instance_size / p.exemplar_size
        self.limits = (p.min_scale * self.x_sz, p.max_scale * self.x_sz)
        self.upscale_sz = p.response_up * self._response_size()
        self.window = cosine_window(self.upscale_sz)  # MATLAB hann(): symmetric, as np.hanning
        self.window /= self.window.sum()
        self.factors = scale_factors(p.scale_num, p.scale_step)

    def _float_features(self, crops: NDArray[np.float32]) -> torch.Tensor:
        """Exemplar features of float crops."""
        import torch

        x = torch.from_numpy(np.ascontiguousarray(crops)).to(self.device).permute(0, 3, 1, 2)
        with torch.inference_mode(), torch.autocast("cuda", enabled=self._amp):
            return self.net.template(x if self.params.channels_last else x.contiguous())  # type: ignore[union-attr]

    def _update_matlab(self, frame: NDArray[np.uint8]) -> Prediction:
        """tracker.m + tracker_step.m: the two-stage scale pyramid, imresize x16, the first column-major maximum."""
        from trackers.common.matlab_ops import imresize, matlab_round, scale_pyramid

        p = self.params
        image = np.asarray(frame, dtype=np.float32)
        sizes = self.x_sz * self.factors
        crops = scale_pyramid(image, (float(self.pos[0]), float(self.pos[1])), sizes, p.instance_size, self.colour)
        up = np.stack([imresize(r, p.response_up) for r in self._search_responses(crops)]).astype(np.float64)
        peaks = up.reshape(len(up), -1).max(axis=1)
        mid = p.scale_num // 2
        penalised = np.where(np.arange(len(up)) == mid, peaks, peaks * p.scale_penalty)
        best = int(np.argmax(penalised))  # the first of equal peaks, as tracker_step's strict '>'
        response = up[best] - up[best].min()
        response /= response.sum()
        response = (1 - p.window_influence) * response + p.window_influence * self.window
        col, row = np.unravel_index(int(np.argmax(response.T)), response.T.shape)  # find(): first in column order
        # 1-based peak minus ceil(272 / 2); the search side is round(s_x), not the best scale's side (tracker.m
        # passes round(s_x) to tracker_step)
        disp = np.array([row + 1, col + 1], dtype=np.float64) - np.ceil(self.upscale_sz / 2)
        stride = self.net.total_stride  # type: ignore[union-attr]
        self.pos = self.pos + disp * stride / p.response_up * float(matlab_round(self.x_sz)) / p.instance_size
        if p.clip_center:
            self.pos = np.clip(self.pos, 1, [frame.shape[0], frame.shape[1]])
        scale = (1 - p.scale_lr) + p.scale_lr * self.factors[best]
        self.x_sz = float(np.clip(self.x_sz * scale, *self.limits))
        self.size_hw = self.size_hw * scale  # tracker.m damps the target size without the s_x saturation
        h, w = self.size_hw
        box = np.array([self.pos[1] - w / 2 - 1, self.pos[0] - h / 2 - 1, w, h])  # 1-based pos - size/2, to 0-based
        self.center, self.target_sz = box_to_center(box)
        return Prediction(box, score=float(peaks[best]))


@dataclass(frozen=True)
class SiamFCReleaseParams(SiamFCParams):
    """SiamFC-3s: the authors' MATLAB tracking loop, in float32 as the release (no float16 autocast on CUDA)."""

    loop: str = "matlab"
    amp: bool = False


class SiamFC(SiamFCFamily):
    """SiamFC-3s (Bertinetto et al. 2016): AlexNet backbone, cross-correlation head, the authors' network by default.

    The default weights are the catalog's ``siamfc`` file, the int8 TFLite export of the authors' 2016-08-17.net.mat
    (trackers.siamfc.tflite_import dequantizes it once into a cached float state dict); ``weights=`` also takes a
    state dict (.pth) from ``evalkit train siamfc``. The tracking defaults are the export's track_config.json.

    2016-08-17.net.mat is the authors' colour network, the one they ran on VOT. Their OTB results (the SiamFC-3s raw
    results of the CFNet release) come from the colour+grey network 2016-08-17_gray025.net.mat (25 % of the training
    pairs greyscale; bertinetto/siamese-fc issue #13), which is not available here, so boxes differ from that archive
    by more than the int8 rounding accounts for: on Football1, started from the authors' own state every frame,
    networks perturbed within the int8 rounding choose the same scale as this import in 98-100 % of frames, the
    authors' archive in 40 % (issue 12).
    """

    name = "siamfc"
    Params = SiamFCReleaseParams
    catalog_name = "siamfc"
    learned_bias = True

    def load_weights(self, net: SiamNet, path: Path) -> None:
        """A state dict, or the authors' TFLite export (dequantized, cached; its response scale replaces the net's)."""
        if path.suffix.lower() != ".tflite":
            super().load_weights(net, path)
            return
        from trackers.siamfc.tflite_import import imported_state_dict
        from trackers.weights import load_into

        imported = imported_state_dict(path)
        load_into(net, imported.tensors, path)
        net.head.out_scale = imported.out_scale

    @classmethod
    def layers(cls, params: Any) -> tuple[ConvLayer, ...]:
        """Full-width AlexNet."""
        from trackers.siamfc.network import alexnet_layers

        return alexnet_layers(1.0)
