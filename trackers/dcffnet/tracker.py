"""The DCFFNet tracker: SiamCAR-style box prediction from the stage-2 head, one search scale.

    evalkit run --trackers dcffnet --param dcffnet.weights=runs/dcffnet-stage2/final.pth --suite otb100
    evalkit run --trackers dcffnet --param dcffnet.variant=cf-1st --param dcffnet.weights=... ...   # ablation
    evalkit complexity --trackers dcffnet --param dcffnet.random_init=true                           # no weights

No weights are published: ``weights`` is a state dict from ``evalkit train dcffnet-stage2`` (its variant must match
``variant``), or ``random_init=true`` for speed/complexity measurements. The ablation variants of the paper's
Table III are the ``variant`` parameter: ``baseline``, ``cf-1st``, ``cf-2nd``, ``cf-double`` (the full DCFFNet).

Tracking step (SiamCAR's, without centerness): a 255 crop of ``x_sz = sqrt((w+p)(h+p)) * 255/127`` around the last
centre -> class probabilities and l,t,r,b distances on the 23x23 grid (stride 6, grid centre = crop centre) -> scale
and aspect-ratio change penalty ``exp(-(r_c s_c - 1) k)`` -> Hann window mixed in with ``window_influence`` -> best
cell -> centre moves to that cell's box centre, size moves towards its box with rate ``lr x penalty x score``.
The tracking hyper-parameters are pysot/SiamCAR's usual values, not tuned for DCFFNet (the paper gives none).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from evalkit.tracker import ParameterError, Prediction, Tracker
from trackers.common.crops import box_to_center, center_to_box, context_size, crop_and_resize, mean_colour
from trackers.common.windows import cosine_window

if TYPE_CHECKING:
    import torch

    from trackers.dcffnet.network import DCFFNet


@dataclass(frozen=True)
class DCFFNetParams:
    """DCFFNet tracking parameters, weights and the ablation variant."""

    weights: str | None = None  # a stage-2 state dict from `evalkit train dcffnet-stage2`
    random_init: bool = False  # untrained, seeded weights: for speed and complexity only
    variant: str = "cf-double"  # baseline | cf-1st | cf-2nd | cf-double
    exemplar_size: int = 127
    instance_size: int = 255
    context: float = 0.5
    penalty_k: float = 0.04
    window_influence: float = 0.44
    lr: float = 0.4
    min_size: float = 10.0
    amp: bool = True  # float16 autocast on CUDA
    channels_last: bool = True


class DCFFNetTracker(Tracker):
    """DCFFNet (Ma et al.): staged depthwise correlation and feature fusion, SiamCAR head without centerness."""

    name = "dcffnet"
    deterministic = True
    needs_device = True
    Params: ClassVar[type] = DCFFNetParams

    def __init__(self, params: Any | None = None, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        from trackers.dcffnet.network import variant

        try:
            variant(self.params.variant)
        except ValueError as exc:
            raise ParameterError(f"DCFFNetParams.variant: {exc}") from None
        self.net: DCFFNet | None = None
        self._sha: str | None = None

    def weights_sha256(self) -> str | None:
        """sha256 of the weight file ('random-init-seed0' for untrained networks)."""
        if self.params.random_init:
            return "random-init-seed0"
        if self._sha is None and self.params.weights:
            from trackers.weights import WeightsError, resolve_weights, sha256_of

            try:
                self._sha = sha256_of(resolve_weights("dcffnet", self.params.weights))
            except WeightsError:
                return None
        return self._sha

    def load(self, device: str | None = None) -> None:
        """Build the network of the chosen variant, load the weights strictly, move it to ``device``."""
        import torch

        from evalkit.harness import pick_device
        from trackers.dcffnet.network import DCFFNet
        from trackers.weights import WeightsError, load_into, load_state_dict, resolve_weights

        self.device = torch.device(pick_device(device))
        torch.manual_seed(0)
        net = DCFFNet(self.params.variant)
        if self.params.random_init:
            if self.params.weights:
                raise ParameterError("dcffnet: give either weights or random_init, not both")
        elif not self.params.weights:
            raise WeightsError("dcffnet: no weights are published; train them (`evalkit train --tracker dcffnet` "
                               "then `--tracker dcffnet-stage2`) and pass weights=PATH, or random_init=true for "
                               "speed measurements")
        else:
            path = resolve_weights("dcffnet", self.params.weights)
            load_into(net, load_state_dict(path), path)
        self._sha = self.weights_sha256()
        net.eval().to(self.device)
        if self.params.channels_last:
            net = net.to(memory_format=torch.channels_last)
        self.net = net
        self._amp = self.params.amp and self.device.type == "cuda"

    def _tensor(self, crop: NDArray[np.uint8]) -> torch.Tensor:
        import torch

        t = torch.from_numpy(crop[None]).to(self.device).permute(0, 3, 1, 2).float()
        return t if self.params.channels_last else t.contiguous()

    def initialize(self, frame: NDArray[np.uint8], box: NDArray[np.float64]) -> None:
        """Exemplar features and fusion kernels from the first frame."""
        import torch

        if self.net is None:
            raise RuntimeError("dcffnet: call load(device) before initialize")
        p = self.params
        self.center, self.size = box_to_center(box)
        if np.any(self.size <= 0):
            raise ValueError(f"dcffnet: the initial box must have a positive size, got {np.asarray(box).tolist()}")
        self.colour = mean_colour(frame)
        z_sz = context_size(self.size, p.context)
        z = crop_and_resize(frame, self.center, z_sz, p.exemplar_size, padding=self.colour)
        with torch.inference_mode(), torch.autocast("cuda", enabled=self._amp):
            self.template = self.net.template(self._tensor(z))
        self.window: NDArray[np.float64] | None = None

    def update(self, frame: NDArray[np.uint8]) -> Prediction:
        """One tracking step (see the module docstring)."""
        import torch

        p = self.params
        z_sz = context_size(self.size, p.context)
        scale = p.exemplar_size / z_sz  # crop pixels per image pixel
        x_sz = z_sz * p.instance_size / p.exemplar_size
        x = crop_and_resize(frame, self.center, x_sz, p.instance_size, padding=self.colour)
        with torch.inference_mode(), torch.autocast("cuda", enabled=self._amp):
            cls, reg = self.net.track(self.template, self._tensor(x))  # type: ignore[union-attr]
        score = torch.softmax(cls.float(), dim=1)[0, 1].cpu().numpy().astype(np.float64)
        ltrb = reg[0].float().cpu().numpy().astype(np.float64)
        n = score.shape[0]
        if self.window is None or self.window.shape[0] != n:
            self.window = cosine_window(n)
        stride = self.net.total_stride  # type: ignore[union-attr]
        grid = (np.arange(n) - (n - 1) / 2) * stride + (p.instance_size - 1) / 2
        px, py = np.meshgrid(grid, grid)
        x0, y0, x1, y1 = px - ltrb[0], py - ltrb[1], px + ltrb[2], py + ltrb[3]
        w, h = x1 - x0, y1 - y0
        tw, th = self.size * scale

        def change(r: NDArray[np.float64]) -> NDArray[np.float64]:
            return np.maximum(r, 1.0 / r)

        def sz(a: NDArray[np.float64] | float, b: NDArray[np.float64] | float) -> NDArray[np.float64]:
            pad = (a + b) * 0.5
            return np.sqrt((a + pad) * (b + pad))

        s_c = change(sz(w, h) / sz(tw, th))
        r_c = change((tw / th) / np.maximum(w / np.maximum(h, 1e-6), 1e-6))
        penalty = np.exp(-(r_c * s_c - 1) * p.penalty_k)
        pscore = (penalty * score) * (1 - p.window_influence) + self.window * p.window_influence
        i, j = np.unravel_index(int(np.argmax(pscore)), pscore.shape)
        cx, cy = (x0[i, j] + x1[i, j]) / 2, (y0[i, j] + y1[i, j]) / 2
        centre_in_crop = (p.instance_size - 1) / 2
        self.center = self.center + (np.array([cx, cy]) - centre_in_crop) / scale
        rate = penalty[i, j] * score[i, j] * p.lr
        new_size = self.size * (1 - rate) + np.array([w[i, j], h[i, j]]) / scale * rate
        self.center = np.clip(self.center, 0, [frame.shape[1], frame.shape[0]])
        self.size = np.clip(new_size, p.min_size, [frame.shape[1], frame.shape[0]])
        return Prediction(center_to_box(self.center, self.size), score=float(score[i, j]))
