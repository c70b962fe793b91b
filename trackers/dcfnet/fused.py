"""DCFNet's per-frame element-wise work on CPU in a few compiled passes (numba), to the bit what torch computes.

    kernels = fused_kernels(scales=3, channels=32, size=125)   # None without numba, or where torch differs here
    kernels.band_lrn_window(norm, x, window)           # the LRN's roots, products and the window, NHWC in, NCHW out
    kernels.response_spectrum(num, den, zf, out)       # cf_detect's spectrum: channel sum of products, division
    kernels.learn_blend(xf, yf, lam, rate, num, den)   # cf_learn's numerator and denominator blended into the model

Torch computes each of these as several passes over memory (products, a channel sum, a division, a transpose, the
running average), each into its own temporary; here each is one pass (the channel sums accumulate in a few rows that
stay in cache). The results are the same floats, to the bit, because the kernels round as torch's CPU kernels do:

- one rounding per product and per sum, in torch's order, with no fused multiply-add -- except on the scalar tail of
  a vectorised complex product (the last ``len % 8`` elements of each contiguous run with AVX2), which torch's
  compiler fused into ``fma(a, c, -(b*d))`` and the kernels fuse the same way (LLVM's ``llvm.fma``);
- channel sums in the order of torch's cascade sum (``aten/src/ATen/native/cpu/SumKernel.cpp``: rows added in
  blocks of 16 with a carry ladder of four levels; past the last block of four vector registers, four interleaved
  partial sums), written out once by :func:`sum_plan` as a list of additions;
- the division of a complex by a real ``d`` as torch's (numpy's) complex division does it for ``d + 0i``;
- the LRN's roots are correctly rounded, as :class:`~trackers.dcfnet.network.BandLRN` takes them
  (:func:`~trackers.dcfnet.network.sqrt_rn`; torch's own CPU ``sqrt`` is MKL's, one ulp off in 13-32% of the
  elements), computed with the products in one pass per image while its arrays are in cache;

:func:`fused_kernels` compiles the kernels once (cached on disk) and checks them, for the shapes asked for, against
the torch ops they replace on random inputs; if any output differs in any bit (another torch version or CPU, whose
vector width or compiler changed the order), it returns None and the tracker runs torch's ops. Float32 on CPU only.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import torch
from numpy.typing import NDArray

try:
    import numba
except ImportError:  # optional: without it DCFNet runs torch's ops (the same values, slower)
    numba = None

# one step of a summation plan (what, slot, source): ADD_ROW adds row ``source``'s term into slot ``slot``, ADD_SLOT
# adds slot ``source`` into slot ``slot``, ZERO sets slot ``slot`` to 0; slots start at 0, the sum ends in slot 0
ADD_ROW, ADD_SLOT, ZERO = 0, 1, 2
_LEVELS = 4  # SumKernel.cpp: multi_row_sum's num_levels
_ILP = 4  # SumKernel.cpp: row_sum's ilp_factor, and the 4 registers of a block in vectorized_outer_sum


def _ceil_log2(x: int) -> int:
    return 1 if x <= 2 else (x - 1).bit_length()


def _multi_row_plan(rows: list[int], base: int) -> list[tuple[int, int, int]]:
    """torch's ``multi_row_sum`` of ``rows`` at one position, its level accumulators in slots ``base`` .. ``+3``."""
    size = len(rows)
    level_power = max(4, _ceil_log2(size) // _LEVELS)
    step, mask = 1 << level_power, (1 << level_power) - 1
    plan = []
    i = 0
    while i + step <= size:
        for _ in range(step):
            plan.append((ADD_ROW, base, rows[i]))
            i += 1
        for j in range(1, _LEVELS):
            plan += [(ADD_SLOT, base + j, base + j - 1), (ZERO, base + j - 1, 0)]
            if i & (mask << (j * level_power)):
                break
    plan += [(ADD_ROW, base, rows[k]) for k in range(i, size)]
    plan += [(ADD_SLOT, base, base + j) for j in range(1, _LEVELS)]
    return plan


def sum_plan(rows: int, tail: bool = False) -> NDArray[np.int64]:
    """The additions of torch's CPU sum over ``rows`` (a non-innermost dimension), (n, 3) steps: at the positions in
    full blocks of vectors (``vectorized_outer_sum``'s ``multi_row_sum``), or past them (``tail``: ``row_sum``, four
    partial sums of every fourth row, then the rows left over, then the partials in order)."""
    if not tail:
        return np.array(_multi_row_plan(list(range(rows)), 0), dtype=np.int64).reshape(-1, 3)
    per = rows // _ILP
    plan = []
    for k in range(_ILP):  # partial sum k in slots 4k .. 4k + 3
        plan += _multi_row_plan([_ILP * i + k for i in range(per)], _LEVELS * k)
    plan += [(ADD_ROW, 0, i) for i in range(per * _ILP, rows)]
    plan += [(ADD_SLOT, 0, _LEVELS * k) for k in range(1, _ILP)]
    return np.array(plan, dtype=np.int64).reshape(-1, 3)


def _vector_bytes() -> int:
    """Bytes in one of torch's CPU vector registers (its Vectorized<T>) on this machine."""
    return 64 if torch.backends.cpu.get_cpu_capability().startswith("AVX512") else 32


# --- kernels (numba-compiled on first use, cached on disk; as plain Python they would take minutes a frame) ---

def _jit(fn: Any = None, **options: Any) -> Any:
    if fn is None:
        return lambda f: _jit(f, **options)
    if numba is None:
        return fn
    return numba.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy", **options)(fn)


def _fma_py(a: Any, b: Any, c: Any) -> Any:
    return np.float32(float(a) * float(b) + float(c))  # the exact product, one double rounding (numba-less stand-in)


_fma = _fma_py
if numba is not None:
    from llvmlite import ir
    from numba.core import types
    from numba.extending import intrinsic

    @intrinsic
    def _fma(typingctx: Any, a: Any, b: Any, c: Any) -> Any:  # noqa: F811 - the compiled form of _fma_py
        """``a * b + c`` rounded once, in float32 (LLVM's fma)."""
        sig = types.float32(types.float32, types.float32, types.float32)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            f32 = ir.FloatType()
            fn = builder.module.declare_intrinsic("llvm.fma", [f32], ir.FunctionType(f32, [f32, f32, f32]))
            return builder.call(fn, args)

        return sig, codegen


@_jit
def _centred(patches: Any, mean_row: Any, out: Any) -> None:
    """``out = float32(patches) - mean`` of uint8 (..., W, C) patches, ``mean_row`` the colour repeated along a
    row (W C)."""
    n = mean_row.size
    src, dst = patches.reshape(-1, n), out.reshape(-1, n)
    for i in range(src.shape[0]):
        s, d = src[i], dst[i]
        for k in range(n):
            d[k] = np.float32(s[k]) - mean_row[k]


@_jit
def _lrn_window(d: Any, x: Any, window: Any, out: Any) -> None:
    """``out = r * sqrt(r) * x * window`` (left to right) with ``r = 1 / sqrt(d)``, every operation correctly
    rounded (no fast-math: ``vsqrtps`` and ``vdivps``), of one image's (H, W C) rows of NHWC memory."""
    h_, wc = d.shape
    w_ = window.shape[1]
    c_ = wc // w_
    one = np.float32(1.0)
    for i in range(h_):
        di, xi, oi, wi = d[i], x[i], out[i], window[i]
        for j in range(w_):
            wv = wi[j]
            for c in range(c_):
                k = j * c_ + c
                r = one / np.sqrt(di[k])
                oi[k] = r * np.sqrt(r) * xi[k] * wv


@_jit
def _rows_sum(acc: Any, plan: Any, terms: Any, weights: Any, start: int, stop: int, power: bool) -> None:
    """Run ``plan`` at positions ``start`` .. ``stop`` into ``acc``: row c's term is ``conj(weights[c]) * terms[c]``
    (slots x 2 (stop - start), complex as float pairs), or with ``power`` ``|terms[c]|^2`` as ``re * re + im * im``
    (slots x (stop - start); ``weights`` unused); ``terms`` and ``weights`` rows x 2 positions."""
    zero = np.float32(0.0)
    n = stop - start
    width = n if power else 2 * n
    for k in range(plan.shape[0]):
        what, slot, src = plan[k, 0], plan[k, 1], plan[k, 2]
        a = acc[slot]
        if what == ADD_ROW:
            t = terms[src, 2 * start:]
            if power:
                for q in range(n):
                    a[q] += t[2 * q] * t[2 * q] + t[2 * q + 1] * t[2 * q + 1]
            else:
                w = weights[src, 2 * start:]
                for q in range(n):
                    ar, ai, br, bi = w[2 * q], w[2 * q + 1], t[2 * q], t[2 * q + 1]
                    a[2 * q] += ar * br + ai * bi
                    a[2 * q + 1] += ar * bi - ai * br
        elif what == ADD_SLOT:
            b = acc[src]
            for q in range(width):
                a[q] += b[q]
        else:
            a[:] = zero


@_jit
def _response_spectrum(num: Any, den: Any, zf: Any, out: Any, plan: Any, tail_plan: Any, tail_from: int) -> None:
    """``out[s] = sum_c conj(num[c]) zf[s, c] / den`` (complex as float pairs: rows x 2 positions): torch's
    products, its summation order (``plan`` before position ``tail_from``, ``tail_plan`` from there) and its
    complex division by ``den + 0i``."""
    n_p = den.shape[0]
    zero = np.float32(0.0)
    one = np.float32(1.0)
    acc = np.empty((_LEVELS, 2 * tail_from), dtype=np.float32)
    tacc = np.empty((_LEVELS * _ILP, 2 * (n_p - tail_from)), dtype=np.float32)
    for s in range(zf.shape[0]):
        acc[...] = zero
        tacc[...] = zero
        _rows_sum(acc, plan, zf[s], num, 0, tail_from, False)
        _rows_sum(tacc, tail_plan, zf[s], num, tail_from, n_p, False)
        o, g, tg = out[s], acc[0], tacc[0]
        for p in range(n_p):
            if p < tail_from:
                gr, gi = g[2 * p], g[2 * p + 1]
            else:
                gr, gi = tg[2 * (p - tail_from)], tg[2 * (p - tail_from) + 1]
            d = den[p]
            rat = zero / d  # c10::complex's (numpy's) division by d + 0i, step by step
            scl = one / (d + zero * rat)
            o[2 * p] = (gr + gi * rat) * scl
            o[2 * p + 1] = (gi - gr * rat) * scl


@_jit(inline="always")
def _blend_product(nc: Any, xc: Any, yf: Any, p: int, rate: Any, keep: Any, fused: bool) -> None:
    """``nc[p] = keep nc[p] + rate conj(yf[p]) xc[p]`` (complex as float pairs), each product as torch computes it:
    times ``rate + 0i`` and ``keep + 0i``; the first product with fused multiply-adds where ``fused``."""
    zero = np.float32(0.0)
    ar, ai, br, bi = yf[2 * p], yf[2 * p + 1], xc[2 * p], xc[2 * p + 1]
    if fused:
        fr = _fma(ar, br, ai * bi)
        fi = _fma(ar, bi, -(ai * br))
    else:
        fr = ar * br + ai * bi
        fi = ar * bi - ai * br
    fr, fi = fr * rate - fi * zero, fr * zero + fi * rate
    kr, ki = nc[2 * p], nc[2 * p + 1]
    nc[2 * p] = (kr * keep - ki * zero) + fr
    nc[2 * p + 1] = (kr * zero + ki * keep) + fi


@_jit
def _learn_blend(xf: Any, yf: Any, lam: Any, rate: Any, keep: Any, num: Any, den: Any, plan: Any, tail_plan: Any,
                 tail_from: int, fma_from: int, fma_to: int) -> None:
    """The model ``(num, den)`` becomes ``keep (num, den) + rate (conj(yf) xf, sum_c |xf_c|^2 + lam)`` (complex as
    float pairs: rows x 2 positions), rounded as torch's ``cf_learn`` and ``cf_blend_`` round it (positions
    ``fma_from`` .. ``fma_to`` of each row: where torch's complex product fuses its multiply-adds)."""
    n_c, n_p = xf.shape[0], den.shape[0]
    for c in range(n_c):
        xc, nc = xf[c], num[c]
        for p in range(fma_from):
            _blend_product(nc, xc, yf, p, rate, keep, False)
        for p in range(fma_from, fma_to):
            _blend_product(nc, xc, yf, p, rate, keep, True)
        for p in range(fma_to, n_p):
            _blend_product(nc, xc, yf, p, rate, keep, False)
    acc = np.zeros((_LEVELS, tail_from), dtype=np.float32)
    tacc = np.zeros((_LEVELS * _ILP, n_p - tail_from), dtype=np.float32)
    _rows_sum(acc, plan, xf, xf, 0, tail_from, True)
    _rows_sum(tacc, tail_plan, xf, xf, tail_from, n_p, True)
    for p in range(tail_from):
        den[p] = den[p] * keep + (acc[0, p] + lam) * rate
    for p in range(tail_from, n_p):
        den[p] = den[p] * keep + (tacc[0, p - tail_from] + lam) * rate


@dataclass(frozen=True)
class FusedKernels:
    """The kernels with their summation plans for one shape (see the module docstring)."""

    detect_plans: tuple[NDArray[np.int64], NDArray[np.int64], int]  # plan, tail plan, first tail position
    learn_plans: tuple[NDArray[np.int64], NDArray[np.int64], int, int, int]  # ... and a row's fused positions

    def band_lrn_window(self, norm: torch.nn.Module, x: torch.Tensor, window: NDArray[np.float32],
                        squares: torch.Tensor | None = None) -> torch.Tensor:
        """``norm(x) * window`` in NCHW memory: ``norm`` a :class:`~trackers.dcfnet.network.BandLRN` with beta
        0.75, ``x`` (N, C, H, W) float32 in channels-last memory; ``squares``: scratch of x's shape and memory.

        The squares and their banded convolution for the whole batch (one convolution, as BandLRN), then per image,
        while its arrays are in cache: the roots and products in one compiled pass (correctly rounded, as BandLRN
        takes them) and the transpose to NCHW (OpenCV's, as :func:`~trackers.common.inference.channels_first`)."""
        squares = torch.mul(x, x, out=squares)
        denom = torch.nn.functional.conv2d(squares, norm.band, norm.k)
        n, c, h, w = x.shape
        out = np.empty((n, c, h * w), dtype=np.float32)
        rows = np.empty((h, w * c), dtype=np.float32)
        denoms, xs = (t.permute(0, 2, 3, 1).numpy().reshape(n, h, w * c) for t in (denom, x))  # NHWC memory
        for i in range(n):
            _lrn_window(denoms[i], xs[i], window, rows)
            cv2.transpose(rows.reshape(h * w, c), dst=out[i])
        return torch.from_numpy(out).reshape(n, c, h, w)

    def centred(self, patches: NDArray[np.uint8], mean: NDArray[np.float32]) -> torch.Tensor:
        """``float32(patches) - mean`` (N, C, H, W) in channels-last memory, of (N, H, W, C) uint8 patches."""
        out = np.empty(patches.shape, dtype=np.float32)
        _centred(np.ascontiguousarray(patches), np.tile(mean, patches.shape[-2]), out)
        return torch.from_numpy(out).permute(0, 3, 1, 2)

    def response_spectrum(self, num: torch.Tensor, den: torch.Tensor, zf: torch.Tensor) -> torch.Tensor:
        """``(conj(num) * zf).sum(dim=-3, keepdim=True) / den`` (S, 1, H, Wf): num (1, C, H, Wf), den (1, 1, H, Wf),
        zf (S, C, H, Wf), contiguous complex64 and float32 CPU tensors."""
        plan, tail_plan, tail_from = self.detect_plans
        s, c = zf.shape[:2]
        out = torch.empty((s, 1, *zf.shape[2:]), dtype=zf.dtype)
        _response_spectrum(_pairs(num, c), den.numpy().reshape(-1), _pairs(zf, s, c), _pairs(out, s),
                           plan, tail_plan, tail_from)
        return out

    def learn_blend(self, xf: torch.Tensor, yf: torch.Tensor, lam: float, rate: float,
                    model: tuple[torch.Tensor, torch.Tensor]) -> None:
        """``cf_blend_(model, cf_learn(x, y, lam, yf), rate)`` from ``xf`` = rfft2(x) (1, C, H, Wf), ``yf`` the
        label spectrum (H, Wf): the model's numerator and denominator updated in place."""
        plan, tail_plan, tail_from, fma_from, fma_to = self.learn_plans
        num, den = model
        c = xf.shape[1]
        _learn_blend(_pairs(xf, c), _pairs(yf, 1)[0], np.float32(lam), np.float32(rate), np.float32(1 - rate),
                     _pairs(num, c), den.numpy().reshape(-1), plan, tail_plan, tail_from, fma_from, fma_to)


def _pairs(t: torch.Tensor, *lead: int) -> NDArray[np.float32]:
    """A contiguous complex64 CPU tensor's memory as float32 (lead..., 2 positions): real and imaginary parts."""
    return torch.view_as_real(t).numpy().reshape(*lead, -1)


def _fused_tail(n: int, lanes: int) -> tuple[int, int]:
    """The positions of a contiguous complex product of ``n`` elements that torch computes with fused multiply-adds:
    its vectorised loop takes two registers (2 ``lanes``) a step; of the tail left over, the compiler vectorised the
    pairs (with FMA), the last odd element is plain."""
    tail = n % (2 * lanes)
    return n - tail, n - tail % 2


@functools.cache
def fused_kernels(scales: int, channels: int, size: int) -> FusedKernels | None:
    """The kernels for ``scales`` search crops of ``channels`` x ``size`` x ``size`` features, if numba is installed
    and they reproduce torch's ops here (checked once per shape on random inputs), else None."""
    if numba is None:
        return None
    cvec, fvec = _vector_bytes() // 8, _vector_bytes() // 4  # complex64 and float32 lanes of a torch vector
    n_p = size * (size // 2 + 1)
    kernels = FusedKernels(
        detect_plans=(sum_plan(channels), sum_plan(channels, tail=True), n_p - n_p % (_ILP * cvec)),
        learn_plans=(sum_plan(channels), sum_plan(channels, tail=True), n_p - n_p % (_ILP * fvec),
                     *_fused_tail(n_p, cvec)))
    return kernels if _agrees(kernels, scales, channels, size) else None


def _agrees(kernels: FusedKernels, scales: int, channels: int, size: int) -> bool:
    """Whether each kernel gives torch's values to the bit on random inputs of these shapes (the filter learnt at
    rate 1 too, where the new numerator and denominator are not shrunk by the running average)."""
    from trackers.common.cf_layer import cf_blend_, cf_detect, cf_learn, label_spectrum
    from trackers.common.windows import cosine_window, gaussian_label
    from trackers.dcfnet.network import BandLRN

    g = torch.Generator().manual_seed(0)
    n = size
    with torch.inference_mode():
        norm = BandLRN(channels)
        x = torch.randn(scales, channels, n, n, generator=g).contiguous(memory_format=torch.channels_last) * 20
        window = torch.as_tensor(cosine_window(n, n), dtype=torch.float32)
        same = [torch.equal(kernels.band_lrn_window(norm, x, window.numpy()), norm(x.clone()).mul_(window))]

        y = torch.as_tensor(gaussian_label(n, n / 30), dtype=torch.float32)
        yf = label_spectrum(y)
        model = cf_learn(torch.randn(1, channels, n, n, generator=g), y, 50.0, yf)
        z = torch.randn(scales, channels, n, n, generator=g)
        zf = torch.fft.rfft2(z)
        spectrum = kernels.response_spectrum(*model, zf)
        same.append(torch.equal(spectrum, (model[0].conj() * zf).sum(dim=-3, keepdim=True) / model[1]))
        same.append(torch.equal(torch.fft.irfft2(spectrum, s=(n, n)), cf_detect(*model, z)))

        for rate in (1.0, 0.01):
            update = torch.randn(1, channels, n, n, generator=g)
            fused = tuple(t.clone() for t in model)
            kernels.learn_blend(torch.fft.rfft2(update), yf, 50.0, rate, fused)
            cf_blend_(model, cf_learn(update, y, 50.0, yf), rate)
            same += [torch.equal(a, b) for a, b in zip(fused, model, strict=True)]
        return all(same)
