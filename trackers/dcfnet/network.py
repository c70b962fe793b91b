"""DCFNet's feature networks and the loaders of the authors' released weights (PyTorch and MatConvNet).

    net = DCFNetFeatures("released")              # conv3x3 3->32, ReLU, conv3x3 32->32, LRN (the released model)
    net.load_state_dict(load_dcfnet_weights(resolve_weights("dcfnet")))      # param.pth, conv1 flipped BGR -> RGB
    net.load_state_dict(load_dcfnet_weights(Path(".../DCFNet-net-7-125-2.mat")))   # same weights from MatConvNet
    feats = net(rgb_patches - RGB_MEAN)           # (B, 3, 125, 125) float, raw 0..255 minus the mean colour

Architectures (DCFNet paper, Table 1; every conv 3x3 with "same" padding):

- ``released``: 32-ReLU, 32, LRN (the authors' released model, "DCFNet 2.0", OTB-2013 AUC 0.665);
- ``conv1``: 64-ReLU, 32, LRN;  ``conv1-dilation``: 64-ReLU, 32 with dilation 2, LRN;
- ``conv2``: 64-ReLU, 64-ReLU, 128-ReLU, 32, LRN (VGG's conv1 and conv2 blocks without pooling, last forced to 32).

Networks take RGB. The PyTorch release (``param.pth``, keys ``feature.0.*``/``feature.2.*``) has conv1's input
channels in BGR order; the loader flips them, so both files give the same RGB network. Weights written by
``evalkit train`` use this module's own keys (``conv1.weight``, ...) and load as they are.

LRN: ``x / (k + alpha/n * sum of x^2 over n neighbouring channels)^beta`` with n = 5, alpha = 1e-4, beta = 0.75,
k = 1 (MatConvNet's [5 1 2e-5 0.75] with per-element alpha). :class:`BandLRN` computes the same thing as torch's
``nn.LocalResponseNorm`` with a 1x1 convolution over the squares, several times faster on CPU.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from trackers.weights import WeightsError

RGB_MEAN = (123.0, 117.0, 104.0)  # the release's average image (RGB), subtracted from raw 0..255 pixels

# (out_channels, dilation, relu) per conv layer
ARCHITECTURES: dict[str, tuple[tuple[int, int, bool], ...]] = {
    "released": ((32, 1, True), (32, 1, False)),
    "conv1": ((64, 1, True), (32, 1, False)),
    "conv1-dilation": ((64, 1, True), (32, 2, False)),
    "conv2": ((64, 1, True), (64, 1, True), (128, 1, True), (32, 1, False)),
}


class BandLRN(nn.Module):
    """Cross-channel LRN as a banded 1x1 convolution of the squares (equal to ``nn.LocalResponseNorm``)."""

    def __init__(self, channels: int, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        idx = torch.arange(channels)
        d = idx[None, :] - idx[:, None]  # input channel minus output channel
        band = ((d >= -(size // 2)) & (d <= (size - 1) // 2)).float()  # torch: size//2 before, (size-1)//2 after
        self.register_buffer("band", (band * (alpha / size)).reshape(channels, channels, 1, 1), persistent=False)
        self.register_buffer("k", torch.full((channels,), float(k)), persistent=False)  # added as the conv's bias
        self.size, self.alpha, self.beta = size, alpha, beta

    def forward(self, x: Tensor) -> Tensor:
        """Normalised ``x`` (B, C, H, W): three passes over the data (square, banded conv + k, power and product)."""
        squares = x * x
        denom = nn.functional.conv2d(squares, self.band.to(x.dtype), self.k.to(x.dtype))
        if torch.is_grad_enabled() and x.requires_grad:
            return x * denom.pow(-self.beta)
        # in place when no gradient is needed (tracking), the squares' memory reused for the roots
        if self.beta == 0.75:  # d^-3/4 = d^-1/2 (d^-1/2)^1/2: two vectorised roots, 9x faster than pow on CPU here
            denom.rsqrt_()  # on CPU exactly 1 / sqrt(d), each step correctly rounded (CUDA: its rsqrtf)
            return denom.mul_(sqrt_rn(denom, out=squares)).mul_(x)
        return denom.pow_(-self.beta).mul_(x)


def sqrt_rn(t: Tensor, out: Tensor | None = None) -> Tensor:
    """The correctly rounded square root of a float32 tensor (IEEE's, what numpy, numba and CUDA's ``sqrtf`` give).

    torch's own float32 ``sqrt`` on CPU is MKL's, which is one ulp off in 13-32% of the elements (measured on
    this project's CPU); the float64 root rounded to float32 is the correctly rounded one (53 >= 2 x 24 + 2 bits),
    so torch's LRN on CPU or CUDA and DCFNet's compiled kernel (fused.py) take the same roots of the same
    denominators. On a device without float64 (Apple's MPS) it is that device's own float32 root."""
    if t.device.type == "mps":
        return torch.sqrt(t) if out is None else torch.sqrt(t, out=out)
    root = torch.sqrt(t.to(torch.float64))
    return root.to(torch.float32) if out is None else out.copy_(root)


class DCFNetFeatures(nn.Sequential):
    """DCFNet's feature extractor for one of :data:`ARCHITECTURES` (RGB in, 32 channels out, same spatial size)."""

    def __init__(self, arch: str = "released", fast_lrn: bool = True) -> None:
        if arch not in ARCHITECTURES:
            raise ValueError(f"unknown DCFNet architecture {arch!r}; known: {', '.join(ARCHITECTURES)}")
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        c_in = 3
        for i, (c_out, dilation, relu) in enumerate(ARCHITECTURES[arch], 1):
            layers[f"conv{i}"] = nn.Conv2d(c_in, c_out, 3, padding=dilation, dilation=dilation)
            if relu:
                layers[f"relu{i}"] = nn.ReLU(inplace=True)
            c_in = c_out
        layers["norm"] = BandLRN(c_in) if fast_lrn else nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)
        super().__init__(layers)
        self.arch = arch
        self.out_channels = c_in


def _tensor(a: Any, what: str, path: Path) -> Tensor:
    arr = np.asarray(a, dtype=np.float32)
    if arr.dtype == object or arr.size == 0:
        raise WeightsError(f"{path}: {what} is not a numeric array")
    return torch.from_numpy(np.ascontiguousarray(arr))


def _from_mat(path: Path) -> dict[str, Tensor]:
    """conv weights of a MatConvNet export: ``conv*_w``/``conv*_b`` variables or a simplenn ``net`` struct (HWIO)."""
    import scipy.io as sio

    try:
        mat = sio.loadmat(str(path), squeeze_me=True, struct_as_record=False)
    except Exception as exc:  # noqa: BLE001 - scipy raises several types for unreadable files
        raise WeightsError(f"{path}: cannot be read as a MATLAB .mat file ({type(exc).__name__}: {exc})") from None
    pairs: list[tuple[Any, Any]] = []
    if "net" in mat:
        convs = [layer for layer in np.atleast_1d(mat["net"].layers) if getattr(layer, "type", "") == "conv"]
        pairs = [tuple(layer.weights) for layer in convs]
    else:
        i = 1
        while f"conv{i}_w" in mat:
            pairs.append((mat[f"conv{i}_w"], mat[f"conv{i}_b"]))
            i += 1
    if not pairs:
        raise WeightsError(f"{path}: no convolution weights found "
                           "(expected a MatConvNet 'net' struct or conv1_w, conv1_b, ... variables)")
    state = {}
    for i, (w, b) in enumerate(pairs, 1):
        w_t = _tensor(w, f"conv{i} weights", path)
        if w_t.dim() != 4:
            raise WeightsError(f"{path}: conv{i} weights have shape {tuple(w_t.shape)}, expected H x W x in x out")
        state[f"conv{i}.weight"] = w_t.permute(3, 2, 0, 1).contiguous()  # HWIO -> OIHW
        state[f"conv{i}.bias"] = _tensor(b, f"conv{i} bias", path).reshape(-1)
    return state


def load_dcfnet_weights(path: str | Path) -> dict[str, Tensor]:
    """State dict for :class:`DCFNetFeatures` (RGB) from a release file (.pth or .mat) or an evalkit-trained one."""
    from trackers.weights import load_state_dict

    path = Path(path)
    if path.suffix.lower() == ".mat":
        return _from_mat(path)
    state = load_state_dict(path)
    if "state_dict" in state and isinstance(state["state_dict"], dict):
        state = dict(state["state_dict"])
    if any(k.startswith("feature.") for k in state):  # the PyTorch release: nn.Sequential indices, BGR conv1
        convs = sorted({int(k.split(".")[1]) for k in state if k.startswith("feature.") and k.endswith(".weight")})
        out = {}
        for i, idx in enumerate(convs, 1):
            out[f"conv{i}.weight"] = state[f"feature.{idx}.weight"]
            out[f"conv{i}.bias"] = state[f"feature.{idx}.bias"]
        if "conv1.weight" in out:
            out["conv1.weight"] = out["conv1.weight"].flip(1).contiguous()  # BGR -> RGB input channels
        return out
    return state
