"""The CFNet trackers with the authors' networks and tracking settings: CFNet-conv1/conv2, Baseline+CF-conv3 (colour,
switching to the grey network on grey sequences as the release does), their grey-input versions, and the
trainable-only CFNet-conv5 and Baseline-conv5.

    EVALKIT_WEIGHTS=../shared/weights evalkit run --trackers cfnet-conv1,cfnet,baseline-cf-conv3 --suite otb100 ...
    evalkit run --trackers cfnet-conv2-gray ...                        # always the grey network (frames -> rgb2gray)
    evalkit run --trackers cfnet-conv2 --param cfnet-conv2.weights=runs/c2/final.pth ...   # an evalkit-trained net
    evalkit run --trackers cfnet-conv2 --param cfnet-conv2.random_init=true ...            # the untrained network

Networks: the catalog files ``cfnet/cfnet-conv2_e80.mat`` etc. (MatConvNet DagNN, read as data by
:mod:`trackers.cfnet.matconvnet`), found through ``$EVALKIT_WEIGHTS`` or the cache (``evalkit weights fetch``);
``weights=PATH`` takes an explicit ``.mat`` or an ``evalkit train`` state dict (``.pth``). ``gray_net`` decides which
network sees a sequence: ``auto`` (the release: the grey network when the first frame is greyscale, i.e. its three
channels are equal, else the colour one), ``never`` or ``always`` (the ``*-gray`` trackers; colour frames are then
converted with MATLAB's ``rgb2gray``). With an explicit ``weights`` and no ``weights_gray`` there is one network.

The tracking loop is the release's (``tracker.m``, ``tracker_step.m``, ``make_scale_pyramid.m``,
``get_subwindow_tracking.m`` of bertinetto/cfnet), including its details: 1-based centres ``x + w/2``; crops cut by
the two-stage scale pyramid with MATLAB rounding and bicubic ``imresize`` on float frames
(:mod:`trackers.common.matlab_ops`); the exemplar also cut through the pyramid (its middle scale); the raw CF
response (``join_out``, before the adjust layer) upsampled x8 with MATLAB's bicubic; the scale penalty on the
non-central peaks; the best map shifted to zero, normalised and mixed with a normalised Hann window
(``window_influence``); the first maximum in column-major order; displacement ``(peak - (264 + 1)/2) 4 / 8 s_x /
255``; ``s_x``, ``s_z`` and the target size damped by ``scale_lr`` and clamped to [0.2, 5] times their first value;
the cropped CF template averaged with rate ``template_lr`` (a new exemplar cut at the new position and the old
``s_z``).

Crop regions: the CF variants crop exemplar and search regions of one side, ``s_z x region_scale`` with
``s_z = sqrt((w + p)(h + p))``, p = (w + h) / 2. The default ``region_scale = 255/127`` (the context of the release's
255-px training crops) reproduces the authors' released OTB boxes frame for frame (Couple: centres within 0.01 px
over the first 25 / 15 / 10 frames of conv1 / conv2 / Baseline+CF-conv3, the frames checked); ``region_scale = 1``
is the literal ``s_x = 255/255 s_z`` of the public ``tracker.m``, which does not (mean IoU 0.88 with the released
boxes over the first 25 frames of Couple, CFNet-conv1). The baseline crops 127 px of ``s_z`` and searches
``255/127 s_z``. CFNet-conv2's released boxes part from this port at close scale choices (Football1 frame 3:
penalised peaks 0.6788 against 0.6773 with run_cfnet2_evaluation.m's penalty 0.978), which the release's own
settings do not explain; conv1 and Baseline+CF-conv3 agree on whole sequences.

Per-variant settings (scale step / penalty / scale lr / window influence / template lr) are the release's
``run_*_evaluation.m`` values: conv1 1.0355 / 0.9825 / 0.70 / 0.2375 / 0.0058; conv2 1.0575 / 0.978 / 0.52 / 0.2625 /
0.005; Baseline+CF-conv3 1.034 / 0.982 / 0.66 / 0.27 / 0.008; Baseline-conv5 1.047 / 0.9825 / 0.68 / 0.175 / 0.0102.
CFNet-conv5 has no released evaluation script: it uses ``tracker.m``'s defaults (1.04 / 0.97 / 0.59 / 0.25 / 0.01).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np
import torch
from numpy.typing import NDArray

from evalkit.harness import pick_device
from evalkit.tracker import Prediction, Tracker
from trackers.common.crops import context_size, scale_factors
from trackers.common.inference import prepare_for_tracking
from trackers.common.matlab_ops import as_grey, imresize_maps_t, is_grey, scale_pyramid
from trackers.common.pool import fuse_pool_relu
from trackers.common.windows import cosine_window
from trackers.weights import WeightsError, resolve_weights, sha256_of

GRAY_NET_CHOICES = ("auto", "never", "always")


@dataclass(frozen=True)
class CFNetParams:
    """Tracking parameters of a CFNet variant (defaults here: CFNet-conv2, from run_cfnet2_evaluation.m)."""

    weights: str | None = None  # explicit network: the authors' .mat or an evalkit-trained state dict (.pth)
    weights_gray: str | None = None  # explicit grey-input network for grey sequences (gray_net auto/always)
    gray_net: str = "auto"  # auto: grey network on grey sequences (the release); never; always (the *-gray trackers)
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
    region_scale: float = 255 / 127  # CF variants: exemplar and search regions of s_z x this (see the module doc)
    min_scale_factor: float = 0.2
    max_scale_factor: float = 5.0
    lam: float = 10.0  # CF block of trained / untrained networks (a .mat file brings its own)
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
    """Baseline-conv5 (run_baseline5_evaluation.m)."""

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


@dataclass(frozen=True)
class CFNetConv1GrayParams(CFNetConv1Params):
    """CFNet-conv1, grey-input network on every sequence."""

    gray_net: str = "always"


@dataclass(frozen=True)
class CFNetConv2GrayParams(CFNetParams):
    """CFNet-conv2, grey-input network on every sequence."""

    gray_net: str = "always"


@dataclass(frozen=True)
class BaselineCFConv3GrayParams(BaselineCFConv3Params):
    """Baseline+CF-conv3, grey-input network on every sequence."""

    gray_net: str = "always"


class CFNetTracker(Tracker):
    """The release's CFNet tracking loop (see the module docstring)."""

    name = "cfnet-conv2"
    deterministic = True
    needs_device = True
    Params: ClassVar[type] = CFNetParams
    variant: ClassVar[str] = "cfnet-conv2"
    join: ClassVar[str] = "cf"
    catalog: ClassVar[str | None] = "cfnet-conv2"  # the authors' colour network in trackers.weights.CATALOG
    catalog_gray: ClassVar[str | None] = "cfnet-conv2-gray"  # ... and their grey-input network

    def __init__(self, params: object | None = None, **overrides: object) -> None:
        super().__init__(params, **overrides)
        if self.params.gray_net not in GRAY_NET_CHOICES:
            raise WeightsError(f"{self.name}: gray_net must be one of {', '.join(GRAY_NET_CHOICES)}, "
                               f"got {self.params.gray_net!r}")

    def _init_seed(self) -> int | None:
        if not self.params.random_init:
            return None
        if self.params.weights is not None or self.params.weights_gray is not None:
            raise WeightsError(f"{self.name}: give either weights or random_init, not both")
        return self.params.init_seed

    def _resolve(self, catalog: str | None, explicit: str | None, what: str) -> Path:
        if explicit is not None:
            return resolve_weights(catalog or self.name, explicit)
        if catalog is None:
            from trackers.weights import TRAIN_ONLY

            how = (TRAIN_ONLY[self.name].how if self.name in TRAIN_ONLY else
                   f"must be trained: evalkit train --tracker {self.name} --data DATA --out DIR, then "
                   f"--param {self.name}.weights=DIR/final.pth (or --param {self.name}.random_init=true)")
            raise WeightsError(f"{self.name}: the authors' {what} network was never published (only CFNet-conv1, "
                               f"CFNet-conv2 and Baseline+CF-conv3 are); {self.name} is trainable only and {how}")
        return resolve_weights(catalog)

    def weight_paths(self) -> dict[str, Path]:
        """The network file of each input kind this tracker may use: ``colour`` and/or ``grey``."""
        p = self.params
        colour = lambda: self._resolve(self.catalog, p.weights, "colour")  # noqa: E731 - resolved lazily
        grey = lambda: self._resolve(self.catalog_gray, p.weights_gray, "grey-input")  # noqa: E731
        if p.gray_net == "always":
            if p.weights is not None and p.weights_gray is None:
                return {"grey": colour()}  # one explicit network, given for grey input
            return {"grey": grey()}
        if p.gray_net == "never" or (p.weights is not None and p.weights_gray is None):
            return {"colour": colour()}
        return {"colour": colour(), "grey": grey()}

    def weights_path(self) -> Path:
        """The (first) network file; see :meth:`weight_paths`."""
        return next(iter(self.weight_paths().values()))

    def weights_sha256(self) -> str | None:
        """sha256 of the network file (the colour one when both are used; with an explicit grey file, the sha256 of
        both digests); for ``random_init`` a digest of the seed (it fixes the weights)."""
        seed = self._init_seed()
        if seed is not None:
            return hashlib.sha256(f"{self.variant}:init:{seed}".encode()).hexdigest()
        if not hasattr(self, "_sha"):
            digests = [sha256_of(path) for path in self.weight_paths().values()]
            # A catalog grey file is pinned by the catalog's sha256 (resolve_weights refuses any other), so the
            # colour file's digest identifies the pair; an explicit grey file joins the digest.
            pinned = len(digests) == 1 or self.params.weights_gray is None
            self._sha = digests[0] if pinned else hashlib.sha256("+".join(digests).encode()).hexdigest()
        return self._sha

    def _network(self, path: Path) -> torch.nn.Module:
        """A network from a DagNN .mat (the authors') or an evalkit state dict (.pth), strictly checked."""
        from trackers.cfnet.network import CFNetModel
        from trackers.weights import load_into, load_state_dict

        p = self.params
        if path.suffix.lower() == ".mat":
            if self.join != "cf":
                raise WeightsError(f"{path}: {self.name} is a cross-correlation baseline; .mat networks are CFNets")
            from trackers.cfnet.matconvnet import cfnet_from_dagnn, read_dagnn

            return cfnet_from_dagnn(read_dagnn(path), self.variant)
        net = CFNetModel(self.variant, join=self.join, lam=p.lam, sigma_px=p.sigma_px, margin=p.margin)
        state = load_state_dict(path)
        branch = {k: v for k, v in state.items() if k.startswith("backbone.")}
        if not branch:
            raise WeightsError(f"{path}: no 'backbone.*' keys; expected a CFNet state dict from evalkit train "
                               "or the authors' .mat")
        load_into(net.backbone, branch, path, strip_prefix="backbone.")
        return net

    def load(self, device: str | None = None) -> None:
        """Build the network(s) (the authors' files, trained weights or a seeded random one) on ``device``."""
        from trackers.cfnet.network import CFNetModel

        p = self.params
        self.device = torch.device(pick_device(device))
        seed = self._init_seed()
        if seed is not None:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                nets = {"colour": CFNetModel(self.variant, join=self.join, lam=p.lam, sigma_px=p.sigma_px,
                                             margin=p.margin)}
        else:
            nets = {kind: self._network(path) for kind, path in self.weight_paths().items()}
            self.weights_sha256()
        # channels_last: the 11x11 conv1 runs about 1.4x faster on CPU (oneDNN) in this layout; BN folded into the
        # convs and exact separable max pools before the ReLUs (trackers.common.inference), each pool and its ReLU
        # then one compiled pass (trackers.common.pool): the same function, faster
        self.nets = {kind: fuse_pool_relu(prepare_for_tracking(net.eval().to(self.device)))
                     for kind, net in nets.items()}
        self.net = next(iter(self.nets.values()))
        self.scales = scale_factors(p.num_scales, p.scale_step)
        with torch.no_grad():
            z = torch.zeros(1, 3, self.net.exemplar_size, self.net.exemplar_size, device=self.device)
            x = torch.zeros(1, 3, 255, 255, device=self.device)
            score_size = int(self.net.tracking_response(self.net.template(z), x).shape[-1])
        up = score_size * p.response_up
        hann = cosine_window(up)
        self.hann = hann / hann.sum()
        # the window's term of the mix, transposed as the upsampled maps are (the same values every frame)
        self._window_term_t = np.ascontiguousarray((p.window_influence * self.hann).T)

    def _pick_network(self, frame: NDArray[np.uint8]) -> tuple[torch.nn.Module, bool]:
        """(network, convert frames to grey) for a sequence starting with ``frame`` (tracker.m's net_gray rule)."""
        if "grey" in self.nets and ("colour" not in self.nets or is_grey(frame)):
            return self.nets["grey"], not is_grey(frame)
        return self.nets["colour"], False

    def _image(self, frame: NDArray[np.uint8]) -> NDArray[np.generic]:
        # the crops read a uint8 frame as float32 (exactly) where they need it: no float copy of the whole frame
        return as_grey(frame) if self.to_grey else frame

    def _tensor(self, patches: NDArray[np.float32]) -> torch.Tensor:
        # N x H x W x C memory is already channels_last: the permuted view needs no copy
        return torch.from_numpy(np.ascontiguousarray(patches)).to(self.device).permute(0, 3, 1, 2)

    def _template(self, image: NDArray[np.float32]) -> torch.Tensor:
        """The exemplar's template: the middle scale of a pyramid of ``s_z``, as tracker.m cuts it."""
        middle = len(self.scales) // 2
        z = scale_pyramid(image, self.pos, self.s_z * self.scales, self.net.exemplar_size, self.avg, only=middle)
        return self.net.template(self._tensor(z))

    @torch.no_grad()
    def initialize(self, frame: NDArray[np.uint8], box: NDArray[np.float64]) -> None:
        """Compute the first template around ``box`` (0-based x, y, w, h)."""
        if not hasattr(self, "nets"):
            raise WeightsError(f"{self.name}: load() was not called")
        self.net, self.to_grey = self._pick_network(frame)
        image = self._image(frame)
        self.avg = np.asarray(image, dtype=np.float32).reshape(-1, image.shape[2]).mean(axis=0, dtype=np.float64)
        x, y, w, h = (float(v) for v in np.asarray(box, dtype=np.float64).reshape(4))
        w, h = max(w, 1.0), max(h, 1.0)
        self.pos = (y + 1 + h / 2, x + 1 + w / 2)  # 1-based (row, col), get_axis_aligned_BB
        self.size = np.array([h, w])  # (rows, cols) as tracker.m keeps targetSize
        p = self.params
        # CF: exemplar and search regions of one side, s_z x region_scale; baseline: 127 px of s_z, 255 of 255/127 s_z
        self.s_z = context_size((w, h), p.context) * (p.region_scale if self.net.join == "cf" else 1.0)
        self.s_x = 255 / self.net.exemplar_size * self.s_z
        self.limits_x = (p.min_scale_factor * self.s_x, p.max_scale_factor * self.s_x)
        self.limits_z = (p.min_scale_factor * self.s_z, p.max_scale_factor * self.s_z)
        self.template = self._template(image)

    @torch.no_grad()
    def update(self, frame: NDArray[np.uint8]) -> Prediction:
        """Search the scale pyramid, move, then update scale, template and size (tracker.m's order)."""
        p = self.params
        image = self._image(frame)
        crops = scale_pyramid(image, self.pos, self.s_x * self.scales, 255, self.avg)
        # float32 maps: imresize widens them to float64 exactly
        maps = self.net.tracking_response(self.template, self._tensor(crops))[:, 0].cpu().numpy()
        centre = len(self.scales) // 2
        ups_t = imresize_maps_t(maps, p.response_up)  # each map upsampled, transposed: MATLAB's column order
        peaks = ups_t.reshape(len(ups_t), -1).max(axis=1)
        best, best_peak = centre, -np.inf
        for s in range(len(maps)):
            # the penalty is positive, so the penalised map's maximum is the penalised maximum, to the last bit
            peak = float(peaks[s]) * (1.0 if s == centre else p.scale_penalty)
            if peak > best_peak:
                best, best_peak = s, peak
        if best_peak == -np.inf:  # every map NaN: stay, as avoid_empty_position does
            best_t = np.zeros(self._window_term_t.shape, dtype=np.float32)
        else:
            best_t = ups_t[best]
        # (map - min) / sum, mixed with the window: element-wise in the transposed layout, except the sum, which is
        # numpy's over the map in row order (its pairwise order decides the last bit)
        resp_t = np.subtract(best_t, float(best_t.min()), dtype=np.float64)
        total = cv2.transpose(resp_t).sum()  # the same values in row order: numpy's sum adds them as before
        if total > 0:
            resp_t /= total
        else:
            resp_t[...] = 1.0 / resp_t.size
        resp_t *= 1 - p.window_influence
        resp_t += self._window_term_t
        c, r = np.unravel_index(int(np.argmax(resp_t)), resp_t.shape)  # MATLAB find(): first in column-major order
        half = (resp_t.shape[1] + 1) / 2
        stride = 4
        disp = (np.array([r + 1, c + 1]) - half) * stride / p.response_up * self.s_x / 255
        scale = float(self.scales[best])
        self.s_x = float(np.clip((1 - p.scale_lr) * self.s_x + p.scale_lr * self.s_x * scale, *self.limits_x))
        self.pos = (self.pos[0] + float(disp[0]), self.pos[1] + float(disp[1]))
        if p.template_lr > 0:
            new = self._template(image)
            self.template = (1 - p.template_lr) * self.template + p.template_lr * new
            self.s_z = float(np.clip((1 - p.scale_lr) * self.s_z + p.scale_lr * self.s_z * scale, *self.limits_z))
        self.size = (1 - p.scale_lr) * self.size + p.scale_lr * self.size * scale
        h, w = self.size
        box = np.array([self.pos[1] - w / 2 - 1, self.pos[0] - h / 2 - 1, w, h])
        return Prediction(box, score=float(best_peak))


class CFNetConv1(CFNetTracker):
    """CFNet-conv1: one conv layer (stride 4) and the CF."""

    name = "cfnet-conv1"
    variant = "cfnet-conv1"
    Params = CFNetConv1Params
    catalog = "cfnet-conv1"
    catalog_gray = "cfnet-conv1-gray"


class CFNetConv2(CFNetTracker):
    """CFNet-conv2: two conv layers and the CF."""

    name = "cfnet-conv2"
    variant = "cfnet-conv2"
    Params = CFNetParams


class CFNetConv5(CFNetTracker):
    """CFNet-conv5: five conv layers and the CF (trainable only: the authors' file was never published)."""

    name = "cfnet-conv5"
    variant = "cfnet-conv5"
    Params = CFNetConv5Params
    catalog = None
    catalog_gray = None


class BaselineConv5(CFNetTracker):
    """Baseline-conv5: the Siamese baseline (stride 4, 32 channels), plain cross-correlation (trainable only)."""

    name = "baseline-conv5"
    variant = "baseline-conv5"
    join = "xcorr"
    Params = BaselineConv5Params
    catalog = None
    catalog_gray = None


class BaselineCFConv3(CFNetTracker):
    """Baseline+CF-conv3: a three-layer baseline network trained without the CF, tracked with it."""

    name = "baseline-cf-conv3"
    variant = "baseline-conv3"
    join = "cf"
    Params = BaselineCFConv3Params
    catalog = "baseline-cf-conv3"
    catalog_gray = "baseline-cf-conv3-gray"


class CFNetConv1Gray(CFNetConv1):
    """CFNet-conv1 with the authors' grey-input network (frames converted to grey)."""

    name = "cfnet-conv1-gray"
    Params = CFNetConv1GrayParams


class CFNetConv2Gray(CFNetConv2):
    """CFNet-conv2 with the authors' grey-input network (frames converted to grey)."""

    name = "cfnet-conv2-gray"
    Params = CFNetConv2GrayParams


class BaselineCFConv3Gray(BaselineCFConv3):
    """Baseline+CF-conv3 with the authors' grey-input network (frames converted to grey)."""

    name = "baseline-cf-conv3-gray"
    Params = BaselineCFConv3GrayParams
