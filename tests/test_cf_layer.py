"""The correlation-filter layer: closed-form backward against autograd and gradcheck, the ridge-regression solution
against a direct solve, translation recovery (MOSSE behaviour), windows and CFNet's block."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trackers.common.cf_layer import (
    CorrelationFilterBlock,
    cf_blend,
    cf_blend_,
    cf_detect,
    cf_learn,
    correlation_filter,
    cross_correlate,
    dcf_response,
    fast_fft_size,
    label_spectrum,
    reference_correlation_filter,
    reference_dcf_response,
)
from trackers.common.windows import circular_offsets, cosine_window, gaussian_label, peak_offset

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see conftest.one_torch_thread


SHAPES = [(1, 1, 6, 5), (1, 3, 7, 7), (2, 1, 8, 6), (3, 4, 6, 9)]  # single/multi-channel, batches, odd/even sizes


def _inputs(shape: tuple[int, int, int, int], seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(*shape, dtype=torch.float64, generator=g, requires_grad=True)
    z = torch.randn(*shape, dtype=torch.float64, generator=g, requires_grad=True)
    y = torch.randn(shape[0], *shape[2:], dtype=torch.float64, generator=g, requires_grad=True)
    return x, z, y


@pytest.mark.parametrize("shape", SHAPES)
def test_template_backward_equals_autograd_through_fft(shape: tuple[int, int, int, int]) -> None:
    x, _, y = _inputs(shape, 1)
    w = correlation_filter(x, y, 0.3)
    w_ref = reference_correlation_filter(x, y, 0.3)
    assert torch.allclose(w, w_ref, atol=1e-12)
    upstream = torch.randn_like(w)
    ours = torch.autograd.grad(w, (x, y), upstream)
    ref = torch.autograd.grad(w_ref, (x, y), upstream)
    for a, b in zip(ours, ref, strict=True):
        assert torch.allclose(a, b, atol=1e-11), (a - b).abs().max()


@pytest.mark.parametrize("shape", SHAPES)
def test_dcf_response_backward_equals_autograd_through_fft(shape: tuple[int, int, int, int]) -> None:
    x, z, y = _inputs(shape, 2)
    g = dcf_response(x, z, y, 0.3)
    g_ref = reference_dcf_response(x, z, y, 0.3)
    assert torch.allclose(g, g_ref, atol=1e-12)
    upstream = torch.randn_like(g)
    ours = torch.autograd.grad(g, (x, z, y), upstream)
    ref = torch.autograd.grad(g_ref, (x, z, y), upstream)
    for a, b in zip(ours, ref, strict=True):
        assert torch.allclose(a, b, atol=1e-11), (a - b).abs().max()


@pytest.mark.parametrize("shape", SHAPES)
def test_gradcheck_float64(shape: tuple[int, int, int, int]) -> None:
    x, z, y = _inputs(shape, 3)
    assert torch.autograd.gradcheck(lambda a, b: correlation_filter(a, b, 0.5), (x, y))
    assert torch.autograd.gradcheck(lambda a, b, c: dcf_response(a, b, c, 0.5), (x, z, y))


def test_gradcheck_shared_target_and_broadcast_template() -> None:
    g = torch.Generator().manual_seed(4)
    x = torch.randn(1, 2, 6, 6, dtype=torch.float64, generator=g, requires_grad=True)
    z = torch.randn(3, 2, 6, 6, dtype=torch.float64, generator=g, requires_grad=True)
    y = torch.tensor(gaussian_label(6, 1.2), requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b, c: dcf_response(a, b, c, 0.2), (x, z, y))
    xb = torch.randn(3, 2, 6, 6, dtype=torch.float64, generator=g, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, c: correlation_filter(a, c, 0.2), (xb, y))


def test_template_solves_the_ridge_regression() -> None:
    """Direct least squares on the circulant system gives the same filter as the Fourier closed form."""
    rng = np.random.default_rng(5)
    c, h, w, lam = 2, 4, 5, 0.4
    x = rng.normal(size=(c, h, w))
    y = rng.normal(size=(h, w))
    # response g[u] = sum_c sum_t w_c[t] x_c[t + u]: one row per shift u, one column per filter coefficient
    rows = []
    for du in range(h):
        for dv in range(w):
            rows.append(np.roll(x, (-du, -dv), axis=(1, 2)).reshape(-1))
    a = np.asarray(rows)
    direct = np.linalg.solve(a.T @ a + lam * np.eye(a.shape[1]), a.T @ y.reshape(-1)).reshape(c, h, w)
    closed = correlation_filter(torch.tensor(x[None]), torch.tensor(y), lam)[0].numpy()
    assert np.allclose(closed, direct, atol=1e-10)


def test_learn_detect_recovers_translation_like_mosse() -> None:
    """A filter learnt on a textured patch finds the same patch shifted circularly, at the shift."""
    rng = np.random.default_rng(6)
    img = torch.tensor(rng.normal(size=(1, 1, 32, 32)))
    y = torch.tensor(gaussian_label(32, 2.0))
    num, den = cf_learn(img, y, 1e-2)
    for dy, dx in [(0, 0), (3, -5), (-7, 2)]:
        resp = cf_detect(num, den, torch.roll(img, (dy, dx), dims=(2, 3)))[0, 0].numpy()
        py, px, value = peak_offset(resp)
        assert (py, px) == (dy, dx)
        assert value > 0.9  # the filter reproduces the unit-peak target
    assert torch.allclose(cf_detect(num, den, img), dcf_response(img, img, y, 1e-2), atol=1e-12)


def test_running_average_is_a_convex_mix() -> None:
    y = torch.tensor(gaussian_label(8, 1.0))
    a = cf_learn(torch.randn(1, 2, 8, 8, dtype=torch.float64), y, 0.1)
    b = cf_learn(torch.randn(1, 2, 8, 8, dtype=torch.float64), y, 0.1)
    assert all(torch.equal(u, v) for u, v in zip(cf_blend(a, b, 0.0), a, strict=True))
    assert all(torch.equal(u, v) for u, v in zip(cf_blend(a, b, 1.0), b, strict=True))
    mid = cf_blend(a, b, 0.25)
    assert torch.allclose(mid[1], 0.75 * a[1] + 0.25 * b[1])


def test_tracking_shortcuts_give_the_same_bits() -> None:
    """A kept label spectrum and the in-place running average change no value."""
    y = torch.tensor(gaussian_label(9, 1.5), dtype=torch.float32)
    x, x2 = torch.randn(1, 3, 9, 9), torch.randn(1, 3, 9, 9)
    a = cf_learn(x, y, 0.1)
    assert all(torch.equal(u, v) for u, v in zip(cf_learn(x, y, 0.1, label_spectrum(y)), a, strict=True))
    b = cf_learn(x2, y, 0.1)
    mixed = cf_blend(a, b, 0.01)
    kept = tuple(t.clone() for t in a)
    assert cf_blend_(kept, tuple(t.clone() for t in b), 0.01) is kept
    assert all(torch.equal(u, v) for u, v in zip(kept, mixed, strict=True))


def test_cfnet_block_keeps_its_targets_spectrum() -> None:
    """The CF block transforms its fixed target once per dtype and device (not every frame) with the same bits as
    transforming it each call; a spectrum first asked for under inference_mode still serves training; a target that
    needs a gradient cannot be given as a spectrum."""
    block = CorrelationFilterBlock((33, 33), sigma=2.0, lam=10.0, margin=4)
    x = torch.randn(2, 8, 33, 33)
    expected = correlation_filter(x * block.window, block.target, block.lam)[..., 4:29, 4:29]
    with torch.inference_mode():
        assert torch.equal(block.template(x), expected)
        assert torch.equal(block.template(x), expected)  # the kept spectrum
    spectra = block.__dict__["_spectra"]
    assert len(spectra) == 1 and torch.equal(next(iter(spectra.values())), label_spectrum(block.target))
    xg = x.clone().requires_grad_(True)
    block.template(xg).sum().backward()  # the spectrum kept under inference_mode is saved for backward
    assert xg.grad is not None and torch.isfinite(xg.grad).all()
    assert block.template(x.double()).dtype == torch.float64 and len(spectra) == 2
    y = torch.tensor(gaussian_label(33, 2.0), dtype=torch.float32, requires_grad=True)
    with pytest.raises(ValueError, match="needs a gradient"):
        correlation_filter(x, y, 1.0, label_spectrum(y.detach()))


def test_bad_inputs_are_named() -> None:
    x = torch.randn(1, 2, 8, 8)
    with pytest.raises(ValueError, match="target response shape"):
        correlation_filter(x, torch.zeros(7, 8), 1.0)
    with pytest.raises(ValueError, match="lambda"):
        correlation_filter(x, torch.zeros(8, 8), 0.0)
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        correlation_filter(x[0], torch.zeros(8, 8), 1.0)


def test_windows_and_labels() -> None:
    assert list(circular_offsets(6)) == [0, 1, 2, -3, -2, -1]
    assert list(circular_offsets(5)) == [0, 1, 2, -2, -1]
    win = cosine_window(5, 7)
    assert win.shape == (5, 7) and win[0].max() == 0 and win[2, 3] == 1.0
    lab = gaussian_label((9, 8), 2.0)
    assert lab[0, 0] == 1.0 and np.isclose(lab[1, 0], np.exp(-1 / 8)) and np.isclose(lab[-1, 0], lab[1, 0])
    centred = gaussian_label(9, 2.0, centred=True)
    assert centred[4, 4] == 1.0
    with pytest.raises(ValueError):
        gaussian_label(4, 0.0)


def test_cfnet_block_shapes_and_autocast() -> None:
    block = CorrelationFilterBlock((57, 57), sigma=2.0, lam=10.0, margin=16)
    x = torch.randn(2, 32, 57, 57, requires_grad=True)
    z = torch.randn(2, 32, 57, 57)
    scores = block(x, z)
    assert scores.shape == (2, 1, 33, 33)  # 57 - 2*16 = 25-cell template, 33x33 response (CFNet-conv2)
    scores.sum().backward()
    assert x.grad is not None and block.scale.grad is not None and block.bias.grad is not None
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert block(x.detach(), z).dtype == torch.float32
    with pytest.raises(ValueError, match="built for"):
        block.template(torch.randn(1, 32, 49, 49))


def test_cross_correlation_fft_path_equals_convolution() -> None:
    """With gradients the correlation runs through FFTs; it must equal the convolution used for tracking."""
    t = torch.randn(3, 4, 5, 6, dtype=torch.float64, requires_grad=True)
    s = torch.randn(3, 4, 12, 11, dtype=torch.float64, requires_grad=True)
    with_grad = cross_correlate(t, s)
    with torch.no_grad():
        plain = cross_correlate(t, s)
    assert with_grad.shape == plain.shape == (3, 1, 8, 6)
    assert torch.allclose(with_grad, plain, atol=1e-10)
    with torch.no_grad():
        broadcast = cross_correlate(t[:1], s)
    assert torch.allclose(cross_correlate(t[:1], s), broadcast, atol=1e-10)
    assert torch.autograd.gradcheck(cross_correlate, (t[:, :, :3, :3].detach().requires_grad_(), s[:, :, :6, :5]))


def test_fourier_correlation_at_a_fast_length_equals_convolution() -> None:
    """CFNet's block correlates its large templates through zero-padded FFTs of a fast length: same values."""
    assert [fast_fft_size(n) for n in (1, 7, 17, 22, 57, 62, 97, 125)] == [1, 8, 18, 24, 60, 64, 100, 125]
    g = torch.Generator().manual_seed(3)
    t = torch.randn(1, 32, 30, 30, dtype=torch.float64, generator=g)
    s = torch.randn(3, 32, 62, 62, dtype=torch.float64, generator=g)
    with torch.no_grad():
        direct = cross_correlate(t, s)
        fourier = cross_correlate(t, s, fourier=True)
        assert fourier.shape == direct.shape == (3, 1, 33, 33)
        assert torch.allclose(fourier, direct, atol=1e-9)
        per_map = cross_correlate(t.expand(3, -1, -1, -1), s, fourier=True)
        assert torch.allclose(per_map, direct, atol=1e-9)
        block = CorrelationFilterBlock((62, 62), sigma=2.0, lam=10.0, margin=16)
        x, z = torch.randn(1, 32, 62, 62), torch.randn(3, 32, 62, 62)
        template = block.template(x)
        assert torch.allclose(block.correlate(template, z), cross_correlate(template, z), rtol=1e-4, atol=1e-4)
