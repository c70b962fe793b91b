"""The CFNet trackers: CFNet-conv1/conv2/conv5, Baseline-conv5 and Baseline+CF-conv3, each with its own parameters.

    evalkit train --tracker cfnet-conv2 --data demo --out runs/c2 --max-minutes 5
    evalkit run --trackers cfnet-conv2 --param cfnet-conv2.weights=runs/c2/final.pth --suite otb100 --data-root DATA
    evalkit run --trackers cfnet-conv2 --param cfnet-conv2.random_init=true ...      # the same network, untrained

The tracking loop of the release (``tracker.m``, ``tracker_step.m``): the exemplar region is the target with context
(``s_z = sqrt((w + p)(h + p))``, p = (w + h) / 2), padded with the first frame's mean colour; every frame crops
``num_scales`` search regions around the last position, computes each response map (33x33, stride 4), upsamples it
x8 (bicubic), penalises the non-central scales, takes the best scale, normalises that map, mixes it with a Hann window
(``window_influence``), and moves the target by the peak's offset from the centre. Scale changes are damped by
``scale_lr``; the template is a running average (``template_lr``) of templates computed at each new position.

Crop regions: CF variants crop exemplar and search regions of the same size (both 255 px). Here that region is
``s_z x 255/127``, the context the networks are trained with (the release's curated 255-px crops), so training and
tracking see targets at the same scale; ``region_scale`` changes it (``1.0`` is the literal ``s_x = s_z`` of
``tracker.m``). The baseline crops 127-px exemplars of ``s_z`` and 255-px search regions of ``s_z x 255/127``.

Per-variant parameters (scale step / penalty / scale lr / window influence / template lr) are the release's
``run_*_evaluation.m`` values: conv1 1.0355 / 0.9825 / 0.70 / 0.2375 / 0.0058; conv2 1.0575 / 0.978 / 0.52 / 0.2625 /
0.005; Baseline+CF-conv3 1.034 / 0.982 / 0.66 / 0.27 / 0.008; Baseline-conv5 1.047 / 0.9825 / 0.68 / 0.175 / 0.0102.
CFNet-conv5 has no released evaluation script: it uses ``tracker.m``'s defaults (1.04 / 0.97 / 0.59 / 0.25 / 0.01).

Weights: the authors' CFNet networks are MatConvNet DAG files, not in evalkit's catalog; train them with
``evalkit train`` and pass ``weights=PATH``, or ``random_init=true`` (seed ``init_seed``) for the untrained network
initialised as training starts it (the baseline a trained network is compared with; also for speed measurements).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np
import torch
from numpy.typing import NDArray

from evalkit.harness import pick_device
from evalkit.tracker import Prediction, Tracker
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
from trackers.weights import WeightsError, resolve_weights, sha256_of


@dataclass(frozen=True)
class CFNetParams:
    """Tracking parameters of a CFNet variant (defaults here: CFNet-conv2)."""

    weights: str | None = None  # a trained state dict (evalkit train's final.pth)
    random_init: bool = False  # the untrained network, initialised as training starts it (seeded by init_seed)
    init_seed: int = 0
    num_scales: int = 3
    scale_step: float = 1.0575
    scale_penalty: float = 0.978
    scale_lr: float = 0.52
    window_influence: float = 0.2625
    template_lr: float = 0.005
    response_up: int = 8
    context: float = 0.5
    region_scale: float = 255 / 127  # CF variants: crop side = s_z x region_scale (see the module docstring)
    min_scale_factor: float = 0.2
    max_scale_factor: float = 5.0
    lam: float = 10.0
    sigma_px: float = 8.0
    margin: int = 16


@dataclass(frozen=True)
class CFNetConv1Params(CFNetParams):
    """CFNet-conv1 (run_cfnet1_evaluation.m)."""

    scale_step: float = 1.0355
    scale_penalty: float = 0.9825
    scale_lr: float = 0.70
    window_influence: float = 0.2375
    template_lr: float = 0.0058


@dataclass(frozen=True)
class CFNetConv5Params(CFNetParams):
    """CFNet-conv5 (no release script: tracker.m defaults)."""

    scale_step: float = 1.04
    scale_penalty: float = 0.97
    scale_lr: float = 0.59
    window_influence: float = 0.25
    template_lr: float = 0.01


@dataclass(frozen=True)
class BaselineConv5Params(CFNetParams):
    """Baseline-conv5 (run_baseline5_evaluation.m values in TRACKERS.md)."""

    scale_step: float = 1.047
    scale_penalty: float = 0.9825
    scale_lr: float = 0.68
    window_influence: float = 0.175
    template_lr: float = 0.0102


@dataclass(frozen=True)
class BaselineCFConv3Params(CFNetParams):
    """Baseline+CF-conv3 (run_cfnet3_evaluation.m)."""

    scale_step: float = 1.034
    scale_penalty: float = 0.982
    scale_lr: float = 0.66
    window_influence: float = 0.27
    template_lr: float = 0.008


class CFNetTracker(Tracker):
    """SiamFC-style tracking with a CFNet network (see the module docstring)."""

    name = "cfnet-conv2"
    deterministic = True
    needs_device = True
    Params: ClassVar[type] = CFNetParams
    variant: ClassVar[str] = "cfnet-conv2"
    join: ClassVar[str] = "cf"

    def _init_seed(self) -> int | None:
        if not self.params.random_init:
            return None
        if self.params.weights is not None:
            raise WeightsError(f"{self.name}: give either weights or random_init, not both")
        return self.params.init_seed

    def weights_path(self) -> Path:
        """The trained weight file (an explicit path; CFNet has no catalog entry)."""
        if self.params.weights is None:
            raise WeightsError(f"{self.name}: no weights given. The authors' CFNet networks are MatConvNet files "
                               f"evalkit does not load; train one (evalkit train --tracker {self.name} --data ... "
                               f"--out DIR) and pass --param {self.name}.weights=DIR/final.pth, or use "
                               f"--param {self.name}.random_init=true for the untrained network")
        return resolve_weights(self.name, self.params.weights)

    def weights_sha256(self) -> str | None:
        """sha256 of the weight file; for ``random_init`` a digest of the seed (it fixes the weights)."""
        seed = self._init_seed()
        if seed is not None:
            import hashlib

            return hashlib.sha256(f"{self.variant}:init:{seed}".encode()).hexdigest()
        if not hasattr(self, "_sha"):
            self._sha = sha256_of(self.weights_path())
        return self._sha

    def load(self, device: str | None = None) -> None:
        """Build the network, load trained branch weights (strict) or seed a random one, move it to ``device``."""
        from trackers.cfnet.network import INSTANCE_SIZE, CFNetModel
        from trackers.weights import load_into, load_state_dict

        p = self.params
        self.device = torch.device(pick_device(device))
        seed = self._init_seed()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed or 0)
            self.net = CFNetModel(self.variant, join=self.join, lam=p.lam, sigma_px=p.sigma_px, margin=p.margin)
        if seed is None:
            path = self.weights_path()
            state = load_state_dict(path)
            branch = {k: v for k, v in state.items() if k.startswith("backbone.")}
            if not branch:
                raise WeightsError(f"{path}: no 'backbone.*' keys; expected a CFNet state dict from evalkit train")
            load_into(self.net.backbone, branch, path, strip_prefix="backbone.")
        self.net.eval().to(self.device)
        self.instance_size = INSTANCE_SIZE
        self.scales = scale_factors(p.num_scales, p.scale_step)
        up = self._score_size() * p.response_up
        hann = cosine_window(up)
        self.hann = hann / hann.sum()

    def _score_size(self) -> int:
        with torch.no_grad():
            z = torch.zeros(1, 3, self.net.exemplar_size, self.net.exemplar_size, device=self.device)
            x = torch.zeros(1, 3, self.instance_size, self.instance_size, device=self.device)
            return int(self.net.response(self.net.template(z), x).shape[-1])

    def _tensor(self, patches: NDArray[np.uint8]) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(patches)).to(self.device).permute(0, 3, 1, 2).float()

    def _exemplar_region(self) -> float:
        return self.s_z * (self.params.region_scale if self.net.join == "cf" else 1.0)

    def _template(self, frame: NDArray[np.uint8]) -> torch.Tensor:
        z = crop_and_resize(frame, self.center, self._exemplar_region(), self.net.exemplar_size, padding=self.colour)
        return self.net.template(self._tensor(z[None]))

    @torch.no_grad()
    def initialize(self, frame: NDArray[np.uint8], box: NDArray[np.float64]) -> None:
        """Compute the first template around ``box``."""
        self.center, size = box_to_center(box)
        self.size = np.maximum(size, 1.0)
        self.colour = mean_colour(frame)
        self.s_z = context_size(self.size, self.params.context)
        self.s_x = self.s_z * self.params.region_scale
        p = self.params
        self.limits_z = (p.min_scale_factor * self.s_z, p.max_scale_factor * self.s_z)
        self.limits_x = (p.min_scale_factor * self.s_x, p.max_scale_factor * self.s_x)
        self.template = self._template(frame)

    @torch.no_grad()
    def update(self, frame: NDArray[np.uint8]) -> Prediction:
        """Search the scale pyramid, move, update scale and the running-average template."""
        p = self.params
        regions = self.s_x * self.scales
        x = crop_pyramid(frame, self.center, regions, self.instance_size, padding=self.colour)
        maps = self.net.response(self.template, self._tensor(x))[:, 0].float().cpu().numpy()
        centre = len(self.scales) // 2
        best, best_peak, best_map = centre, -np.inf, None
        for s, m in enumerate(maps):
            up = cv2.resize(m, None, fx=p.response_up, fy=p.response_up, interpolation=cv2.INTER_CUBIC)
            peak = float(up.max()) * (1.0 if s == centre else p.scale_penalty)
            if peak > best_peak:
                best, best_peak, best_map = s, peak, up
        assert best_map is not None
        resp = best_map - best_map.min()
        total = resp.sum()
        resp = resp / total if total > 0 else np.full_like(resp, 1.0 / resp.size)
        resp = (1 - p.window_influence) * resp + p.window_influence * self.hann
        r, c = np.unravel_index(int(np.argmax(resp)), resp.shape)
        half = (resp.shape[0] - 1) / 2
        disp = np.array([c - half, r - half]) * 4 / p.response_up * self.s_x / self.instance_size
        self.center = self.center + disp
        scale = self.scales[best]
        self.s_x = float(np.clip((1 - p.scale_lr) * self.s_x + p.scale_lr * self.s_x * scale, *self.limits_x))
        if p.template_lr > 0:
            new = self._template(frame)
            self.template = (1 - p.template_lr) * self.template + p.template_lr * new
            self.s_z = float(np.clip((1 - p.scale_lr) * self.s_z + p.scale_lr * self.s_z * scale, *self.limits_z))
        self.size = (1 - p.scale_lr) * self.size + p.scale_lr * self.size * scale
        return Prediction(center_to_box(self.center, self.size), score=float(best_peak))


class CFNetConv1(CFNetTracker):
    """CFNet-conv1: one conv layer (stride 4) and the CF."""

    name = "cfnet-conv1"
    variant = "cfnet-conv1"
    Params = CFNetConv1Params


class CFNetConv2(CFNetTracker):
    """CFNet-conv2: two conv layers and the CF."""

    name = "cfnet-conv2"
    variant = "cfnet-conv2"
    Params = CFNetParams


class CFNetConv5(CFNetTracker):
    """CFNet-conv5: five conv layers and the CF."""

    name = "cfnet-conv5"
    variant = "cfnet-conv5"
    Params = CFNetConv5Params


class BaselineConv5(CFNetTracker):
    """Baseline-conv5: the Siamese baseline (stride 4, 32 channels), plain cross-correlation."""

    name = "baseline-conv5"
    variant = "baseline-conv5"
    join = "xcorr"
    Params = BaselineConv5Params


class BaselineCFConv3(CFNetTracker):
    """Baseline+CF-conv3: a three-layer baseline network trained without the CF, tracked with it."""

    name = "baseline-cf-conv3"
    variant = "baseline-conv3"
    join = "cf"
    Params = BaselineCFConv3Params
