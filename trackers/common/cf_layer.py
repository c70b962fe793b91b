"""The correlation-filter layer shared by DCFNet, CFNet and the raw-pixel DCF tracker: multi-channel ridge regression
in the Fourier domain, differentiable with the papers' closed-form backward pass.

    w = correlation_filter(x, y, lam)          # CFNet's CF block (eq. 6-7): template w, same shape as x (B, C, H, W)
    g = dcf_response(x, z, y, lam)             # DCFNet's layer (eq. 2-3): response of search z to the filter of x
    num, den = cf_learn(x, y, lam)             # tracker side: the filter as numerator / denominator spectra ...
    num, den = cf_blend((num, den), cf_learn(x2, y, lam), rate=0.01)   # ... updated by a running average (eq. 13)
    g = cf_detect(num, den, z)                 # response maps (B, 1, H, W), peak at (0, 0) for an unmoved target

The filter of features ``x`` (B, C, H, W) for the desired response ``y`` (H, W) or (B, H, W) minimises
``|| sum_c w_c * x_c - y ||^2 + lam * sum_c || w_c ||^2`` (``*`` circular correlation), solved per frequency:

    w^_c = conj(y^) x^_c / (sum_k |x^_k|^2 + lam)

This one formula is both papers' solution. CFNet (eq. 5-7) writes it with ``1/n`` on both terms (n = H W): its
lambda is ``lam / (H W)``. The DCFNet release divides both terms by the number of feature elements C H W, so its
``lambda0`` is ``lam / (C H W)``. Callers convert (``cfnet_lambda``, ``dcfnet_lambda``); the layer itself is the
paper's eq. 2 form. ``y`` peaks at index (0, 0) (``windows.gaussian_label``), so the template stays aligned with x.

Backward passes are closed forms in the Fourier domain (:class:`CorrelationFilterFn`: CFNet eq. 10 and its
multi-channel extension; :class:`DCFResponseFn`: DCFNet eq. 5-11), computed with real FFTs. They are checked against
autograd through ``torch.fft`` (``reference_correlation_filter``, ``reference_dcf_response``) and with
``torch.autograd.gradcheck`` in tests/test_cf_layer.py. Both run in float32 or float64; under CUDA autocast the layer
computes in float32 (cuFFT half precision needs power-of-two sizes and loses the small denominators).

:class:`CorrelationFilterBlock` is CFNet's whole block as an ``nn.Module``: cosine window on the exemplar features,
the filter with a fixed Gaussian target, the template cropped by a margin, cross-correlation with the search
features, and a learned scale and bias.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from trackers.common.windows import cosine_window, gaussian_label


def cfnet_lambda(lam: float, height: int, width: int) -> float:
    """The layer's lambda for CFNet's normalised objective (eq. 5: ``1/(2n)`` on the data term, n = H W)."""
    return float(lam) * height * width


def dcfnet_lambda(lambda0: float, channels: int, height: int, width: int) -> float:
    """The layer's lambda for the DCFNet release, which divides both kernel terms by C H W."""
    return float(lambda0) * channels * height * width


def _fft(x: Tensor) -> Tensor:
    return torch.fft.rfft2(x)


def _ifft(xf: Tensor, size: tuple[int, int]) -> Tensor:
    return torch.fft.irfft2(xf, s=size)


def _label_f(y: Tensor) -> Tensor:
    """Spectrum of the target shaped to broadcast over (B, C, H, W//2+1)."""
    yf = _fft(y)
    return yf.unsqueeze(-3) if yf.dim() >= 3 else yf  # (B, H, Wf) -> (B, 1, H, Wf); (H, Wf) broadcasts as is


def _spectra(x: Tensor, y: Tensor, lam: float, yf: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """x^ (B, C, H, Wf), the target's y^ shaped to broadcast (``yf`` if given), and the denominator
    k^ = sum_c |x^_c|^2 + lam."""
    xf = _fft(x)
    kf = (xf.real.square() + xf.imag.square()).sum(dim=-3, keepdim=True) + lam
    return xf, _label_f(y.to(x.dtype)) if yf is None else yf, kf


def _check(x: Tensor, y: Tensor, lam: float, z: Tensor | None = None) -> None:
    if x.dim() != 4:
        raise ValueError(f"correlation filter features must be (B, C, H, W), got shape {tuple(x.shape)}")
    if y.shape[-2:] != x.shape[-2:] or y.dim() not in (2, 3) or (y.dim() == 3 and y.shape[0] not in (1, x.shape[0])):
        raise ValueError(f"target response shape {tuple(y.shape)} does not fit features {tuple(x.shape)} "
                         "(expected (H, W) or (B, H, W))")
    if z is not None:
        batches_broadcast = z.shape[0] == x.shape[0] or 1 in (x.shape[0], z.shape[0])
        if z.shape[1:] != x.shape[1:] or not batches_broadcast:
            raise ValueError(f"search features {tuple(z.shape)} do not match template features {tuple(x.shape)}")
    if not lam > 0:
        raise ValueError(f"the regulariser lambda must be positive, got {lam}")


def _sum_y_grad(der_yf: Tensor, y: Tensor, size: tuple[int, int]) -> Tensor:
    """Gradient w.r.t. y from its (B, 1, H, Wf) spectrum, summed over the batch when y is shared."""
    der_y = _ifft(der_yf, size).squeeze(-3)  # (B, H, W)
    if y.dim() == 2:
        return der_y.sum(0)
    return der_y if y.shape[0] == der_y.shape[0] else der_y.sum(0, keepdim=True)


def _template_backward(xf: Tensor, yf: Tensor, kf: Tensor, der_wf: Tensor) -> tuple[Tensor, Tensor]:
    """Closed-form back-propagation through w^_c = conj(a^) x^_c, a^ = y^ / k^, k^ = sum |x^|^2 + lam (CFNet eq. 10).

    Returns the spectra of dL/dx (B, C, H, Wf) and of dL/dy (B, 1, H, Wf).
    """
    af = yf / kf
    der_af = (xf * der_wf.conj()).sum(dim=-3, keepdim=True)  # through w_c = a (corr) x_c, w.r.t. a
    der_xf = af * der_wf  # ... and w.r.t. x_c
    der_yf = der_af / kf  # through k * a = y (kf is real)
    der_kf = -der_af * (af / kf).conj()
    der_xf = der_xf + 2.0 * der_kf.real * xf  # through k = sum_c x_c (corr) x_c + lam delta
    return der_xf, der_yf


class CorrelationFilterFn(torch.autograd.Function):
    """w = CF(x, y): the filter template in the spatial domain (CFNet's CF block), closed-form backward."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, y: Tensor, lam: float, yf: Tensor | None = None) -> Tensor:  # noqa: D102
        size = (x.shape[-2], x.shape[-1])
        xf, yf, kf = _spectra(x, y, lam, yf)
        wf = yf.conj() / kf * xf
        ctx.save_for_backward(xf, yf, kf, y)
        ctx.size = size
        return _ifft(wf, size)

    @staticmethod
    def backward(ctx: Any, der_w: Tensor) -> tuple[Tensor | None, Tensor | None, None, None]:  # noqa: D102
        xf, yf, kf, y = ctx.saved_tensors
        der_xf, der_yf = _template_backward(xf, yf, kf, _fft(der_w))
        der_x = _ifft(der_xf, ctx.size) if ctx.needs_input_grad[0] else None
        der_y = _sum_y_grad(der_yf, y, ctx.size) if ctx.needs_input_grad[1] else None
        return der_x, der_y, None, None


class DCFResponseFn(torch.autograd.Function):
    """g = F^-1(sum_c conj(w^_c) z^_c) with w^ the filter of (x, y): DCFNet's layer, closed-form backward."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, z: Tensor, y: Tensor, lam: float) -> Tensor:  # noqa: D102
        size = (x.shape[-2], x.shape[-1])
        xf, yf, kf = _spectra(x, y, lam)
        zf = _fft(z)
        wf = yf.conj() / kf * xf
        gf = (wf.conj() * zf).sum(dim=-3, keepdim=True)
        ctx.save_for_backward(xf, zf, yf, kf, wf, y)
        ctx.size = size
        ctx.batch = (x.shape[0], z.shape[0])
        return _ifft(gf, size)

    @staticmethod
    def backward(ctx: Any, der_g: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None, None]:  # noqa: D102
        xf, zf, yf, kf, wf, y = ctx.saved_tensors
        der_gf = _fft(der_g)  # dL/dg^* = F(dL/dg)   (DCFNet eq. 5-6)
        der_x = der_z = der_y = None
        if ctx.needs_input_grad[1]:  # detection branch (eq. 7-8)
            der_zf = der_gf * wf
            if ctx.batch[1] == 1 and ctx.batch[0] > 1:
                der_zf = der_zf.sum(0, keepdim=True)
            der_z = _ifft(der_zf, ctx.size)
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[2]:  # learning branch (eq. 9-11)
            der_wf = der_gf.conj() * zf  # g = w (corr) z, w.r.t. w
            der_xf, der_yf = _template_backward(xf, yf, kf, der_wf)
            if ctx.needs_input_grad[0]:
                if ctx.batch[0] == 1 and ctx.batch[1] > 1:
                    der_xf = der_xf.sum(0, keepdim=True)
                der_x = _ifft(der_xf, ctx.size)
            if ctx.needs_input_grad[2]:
                der_y = _sum_y_grad(der_yf, y, ctx.size)
        return der_x, der_z, der_y, None


def _float_inputs(*ts: Tensor) -> tuple[Tensor, ...]:
    """Half-precision inputs (autocast) are computed in float32."""
    return tuple(t.float() if t.dtype in (torch.float16, torch.bfloat16) else t for t in ts)


def correlation_filter(x: Tensor, y: Tensor, lam: float, y_spectrum: Tensor | None = None) -> Tensor:
    """CF template of features ``x`` (B, C, H, W) for target ``y`` ((H, W) or (B, H, W)), closed-form backward.

    ``y_spectrum``: :func:`label_spectrum` of ``y`` in the features' (float) dtype, when the caller keeps it (a fixed
    target: CFNet's block); only for a target that needs no gradient."""
    _check(x, y, lam)
    if y_spectrum is not None and y.requires_grad and torch.is_grad_enabled():
        raise ValueError("a target that needs a gradient must be transformed here: pass no y_spectrum")
    with torch.autocast(x.device.type, enabled=False):
        x, y = _float_inputs(x, y)
        return CorrelationFilterFn.apply(x, y, float(lam), y_spectrum)


def dcf_response(x: Tensor, z: Tensor, y: Tensor, lam: float) -> Tensor:
    """Response (B, 1, H, W) of search features ``z`` to the filter learnt on ``x`` (DCFNet), closed-form backward.

    ``x`` or ``z`` may have batch 1 and broadcast against the other (one template, several scales).
    """
    _check(x, y, lam, z)
    with torch.autocast(x.device.type, enabled=False):
        x, z, y = _float_inputs(x, z, y)
        return DCFResponseFn.apply(x, z, y, float(lam))


def reference_correlation_filter(x: Tensor, y: Tensor, lam: float) -> Tensor:
    """The same template by plain ``torch.fft`` ops (autograd derives its backward; for tests)."""
    xf = torch.fft.fft2(x)
    yf = torch.fft.fft2(y)
    yf = yf.unsqueeze(-3) if yf.dim() >= 3 else yf
    kf = (xf * xf.conj()).real.sum(dim=-3, keepdim=True) + lam
    return torch.fft.ifft2(yf.conj() / kf * xf).real


def reference_dcf_response(x: Tensor, z: Tensor, y: Tensor, lam: float) -> Tensor:
    """The same response by plain ``torch.fft`` ops (autograd derives its backward; for tests)."""
    wf = torch.fft.fft2(reference_correlation_filter(x, y, lam))
    return torch.fft.ifft2((wf.conj() * torch.fft.fft2(z)).sum(dim=-3, keepdim=True)).real


# --- tracking side: the filter as numerator and denominator, updated online (DCFNet eq. 13) ---

def label_spectrum(y: Tensor) -> Tensor:
    """The target's spectrum as :func:`cf_learn` uses it: computed once, for a tracker that learns every frame."""
    return _label_f(y)


def cf_learn(x: Tensor, y: Tensor, lam: float, y_spectrum: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Numerator ``conj(y^) x^`` (B, C, H, Wf, complex) and denominator ``sum |x^|^2 + lam`` (B, 1, H, Wf, real).

    ``y_spectrum``: :func:`label_spectrum` of ``y`` (in the features' dtype) when the caller keeps it.
    """
    _check(x, y, lam)
    x, y = _float_inputs(x, y)
    xf, yf, den = _spectra(x, y, lam, y_spectrum)
    return yf.conj() * xf, den


def cf_blend(old: tuple[Tensor, Tensor], new: tuple[Tensor, Tensor], rate: float) -> tuple[Tensor, Tensor]:
    """Running average of numerator and denominator: ``(1 - rate) old + rate new`` (DCFNet eq. 13, MOSSE)."""
    return (1 - rate) * old[0] + rate * new[0], (1 - rate) * old[1] + rate * new[1]


def cf_blend_(model: tuple[Tensor, Tensor], new: tuple[Tensor, Tensor], rate: float) -> tuple[Tensor, Tensor]:
    """:func:`cf_blend` in place: ``model`` becomes the running average (the same values, no new tensors);
    ``new`` is overwritten too. Returns ``model``."""
    for kept, fresh in zip(model, new, strict=True):
        kept.mul_(1 - rate).add_(fresh.mul_(rate))
    return model


def cf_detect(num: Tensor, den: Tensor, z: Tensor) -> Tensor:
    """Response (B, 1, H, W) of search features ``z`` (B, C, H, W) to the filter ``num / den``."""
    (z,) = _float_inputs(z)
    zf = _fft(z)
    gf = (num.conj() * zf).sum(dim=-3, keepdim=True) / den
    return _ifft(gf, (z.shape[-2], z.shape[-1]))


def fast_fft_size(n: int) -> int:
    """The smallest length ``>= n`` with no prime factor above 5, whose FFT is fast (CFNet's 62-point maps transform
    ~4x slower than 64-point ones on CPU)."""
    m = max(n, 1)
    while True:
        k = m
        for p in (2, 3, 5):
            while k % p == 0:
                k //= p
        if k == 1:
            return m
        m += 1


def _fourier_correlate(template: Tensor, search: Tensor, size: tuple[int, int]) -> Tensor:
    """Valid cross-correlation through real FFTs of ``size`` (at least the search map's: no wrap-around)."""
    template, search = _float_inputs(template, search)  # cuFFT in half precision takes only powers of two
    gf = (torch.fft.rfft2(template, s=size).conj() * torch.fft.rfft2(search, s=size)).sum(dim=-3, keepdim=True)
    g = torch.fft.irfft2(gf, s=size)
    return g[..., :search.shape[-2] - template.shape[-2] + 1, :search.shape[-1] - template.shape[-1] + 1]


def cross_correlate(template: Tensor, search: Tensor, fourier: bool = False) -> Tensor:
    """Valid cross-correlation of templates (B or 1, C, h, w) with search maps (B, C, H, W): (B, 1, H-h+1, W-w+1).

    When gradients are needed it is computed through FFTs: the backward pass of a grouped convolution with a large
    kernel (25x25 templates) is pathologically slow on CPU (2.7 s against 0.1 s for a batch of 2 here); without
    gradients (tracking) it is a plain convolution, or, with ``fourier``, FFTs of a fast length at least the search
    map's (zero padding leaves a valid correlation unchanged): for CFNet's 25x25 and 30x30 CF templates 10x faster
    than the direct convolution on CPU. The ways agree to float32 precision (the FFTs are the closer to float64).
    SiamFC's head, CFNet's block and DCFFNet's SiamFC branch all correlate through here.
    """
    b = search.shape[0]
    if template.shape[0] not in (1, b):
        raise ValueError(f"{template.shape[0]} templates for {b} search maps")
    if torch.is_grad_enabled() and (template.requires_grad or search.requires_grad):
        return _fourier_correlate(template, search, (search.shape[-2], search.shape[-1]))
    if fourier:
        return _fourier_correlate(template, search, (fast_fft_size(search.shape[-2]), fast_fft_size(search.shape[-1])))
    if template.shape[0] == 1 and b > 1:
        return F.conv2d(search, template)
    out = F.conv2d(search.reshape(1, -1, *search.shape[-2:]), template, groups=b)
    return out.reshape(b, 1, *out.shape[-2:])


class CorrelationFilterBlock(nn.Module):
    """CFNet's block: window, CF with a fixed Gaussian target, template crop, cross-correlation, scale and bias.

    ``size``: exemplar feature map (H, W); ``sigma``: target width in feature cells (CFNet: 8 px / stride 4);
    ``lam``: CFNet's normalised lambda (10 in the release); ``margin``: cells cropped from each side of the template
    (16 in the release); ``scale``/``bias``: initial calibration (1, -0.5 in the release).
    """

    def __init__(self, size: tuple[int, int], sigma: float, lam: float = 10.0, margin: int = 16,
                 scale: float = 1.0, bias: float = -0.5) -> None:
        super().__init__()
        h, w = size
        if h <= 2 * margin or w <= 2 * margin:
            raise ValueError(f"exemplar features {h}x{w} are too small for a crop margin of {margin}")
        self.size, self.margin = (h, w), margin
        self.lam = cfnet_lambda(lam, h, w)
        self.register_buffer("window", torch.as_tensor(cosine_window(h, w), dtype=torch.float32), persistent=False)
        self.register_buffer("target", torch.as_tensor(gaussian_label((h, w), sigma), dtype=torch.float32),
                             persistent=False)
        self.scale = nn.Parameter(torch.tensor(float(scale)))
        self.bias = nn.Parameter(torch.tensor(float(bias)))

    def template(self, x: Tensor) -> Tensor:
        """Cropped CF template (B, C, H - 2m, W - 2m) of exemplar features ``x`` (B, C, H, W)."""
        if tuple(x.shape[-2:]) != self.size:
            raise ValueError(f"exemplar features are {tuple(x.shape[-2:])}, this block was built for {self.size}")
        w = correlation_filter(x * self.window, self.target, self.lam, self._target_spectrum(x))
        m = self.margin
        return w[..., m:w.shape[-2] - m, m:w.shape[-1] - m]

    def _target_spectrum(self, x: Tensor) -> Tensor:
        """The fixed target's spectrum in the dtype the filter is solved in (float32 under autocast), computed once
        per dtype and device instead of every call (a tracker solves the filter every frame)."""
        dtype = torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype
        key = (dtype, self.target.device)
        cache = self.__dict__.setdefault("_spectra", {})
        if key not in cache:
            # a normal tensor even when first asked for under inference_mode: training saves it for backward
            with torch.inference_mode(False), torch.no_grad(), torch.autocast(x.device.type, enabled=False):
                cache[key] = label_spectrum(self.target.to(dtype))
        return cache[key]

    def correlate(self, template: Tensor, z: Tensor) -> Tensor:
        """Raw (uncalibrated) response of search features ``z`` to ``template`` (float32, also under autocast),
        through FFTs: the cropped CF templates are large (25x25, 30x30), where FFTs beat a direct convolution."""
        with torch.autocast(z.device.type, enabled=False):
            return cross_correlate(template.float(), z.float(), fourier=True)

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        """Calibrated scores ``scale * (CF(x) (corr) z) + bias`` (B, 1, h, w), logits for the logistic loss."""
        return self.scale * self.correlate(self.template(x), z) + self.bias
