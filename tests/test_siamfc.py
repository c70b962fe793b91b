"""SiamFC: network shapes, the cross-correlation head, parameters and per-benchmark overrides, and the tracking step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from evalkit.tracker import ParameterError
from trackers.common.cf_layer import cross_correlate
from trackers.siamfc import SiamFC, SiamNet, alexnet8_layers, alexnet_layers, scaled_width
from trackers.weights import WeightsError

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see conftest.one_torch_thread


def test_widths_follow_the_fdsiamfc_rule() -> None:
    assert [s.out_channels for s in alexnet_layers(1.0)] == [96, 256, 384, 384, 256]
    assert [s.out_channels for s in alexnet_layers(0.3)] == [28, 76, 114, 114, 76]
    assert [s.out_channels for s in alexnet_layers(0.15)] == [14, 38, 56, 56, 38]
    assert [s.out_channels for s in alexnet8_layers(0.5)] == [12, 24, 48, 64, 128, 192, 192, 128]
    with pytest.raises(ValueError, match="width ratio"):
        scaled_width(96, 0.01)


@pytest.mark.parametrize("layers", [alexnet_layers(1.0), alexnet_layers(0.15), alexnet8_layers(0.5)])
def test_feature_and_response_sizes(layers: tuple) -> None:
    net = SiamNet(layers).eval()
    with torch.no_grad():
        z = net.template(torch.zeros(1, 3, 127, 127))
        x = net.backbone(torch.zeros(3, 3, 255, 255))
        r = net.head(z, x)
    assert z.shape[-2:] == (6, 6) and x.shape[-2:] == (22, 22) and r.shape == (3, 1, 17, 17)


def test_siamfc_parameter_count() -> None:
    # conv weights + biases + BN affine, counted by hand from the layer table in TRACKERS.md, + the head bias
    convs = [(3, 96, 11, 1), (96, 256, 5, 2), (256, 384, 3, 1), (384, 384, 3, 2), (384, 256, 3, 2)]
    expected = sum(o * (i // g) * k * k + o for i, o, k, g in convs) + 2 * (96 + 256 + 384 + 384) + 1
    assert sum(p.numel() for p in SiamNet(alexnet_layers(1.0), learned_bias=True).parameters()) == expected


def test_batched_cross_correlation_equals_per_pair() -> None:
    gen = torch.Generator().manual_seed(0)
    k, x = torch.randn(4, 8, 6, 6, generator=gen), torch.randn(4, 8, 22, 22, generator=gen)
    batched = cross_correlate(k, x)
    single = torch.cat([torch.nn.functional.conv2d(x[i:i + 1], k[i:i + 1]) for i in range(4)])
    torch.testing.assert_close(batched, single, rtol=1e-5, atol=1e-5)
    assert cross_correlate(k[:1], x).shape == (4, 1, 17, 17)
    with pytest.raises(ValueError, match="3 templates for 4"):
        cross_correlate(k[:3], x)


def test_head_gives_the_same_response_for_training_and_tracking() -> None:
    """The head correlates through cf_layer.cross_correlate: FFTs with gradients, a convolution without."""
    gen = torch.Generator().manual_seed(1)
    net = SiamNet(alexnet_layers(0.15), learned_bias=True).eval()
    z, x = torch.rand(2, 3, 127, 127, generator=gen) * 255, torch.rand(2, 3, 255, 255, generator=gen) * 255
    training = net(z, x)
    assert training.requires_grad
    with torch.no_grad():
        tracking = net(z, x)
    torch.testing.assert_close(training.detach(), tracking, rtol=1e-4, atol=1e-4 * float(tracking.abs().max()))


def test_params_are_typed_and_checked() -> None:
    t = SiamFC.from_mapping({"scale_num": "5", "random_init": "true"})
    assert t.params.scale_num == 5 and t.params.random_init is True
    with pytest.raises(ParameterError, match="unknown parameter"):
        SiamFC(scale_stpe=1.1)
    with pytest.raises(ParameterError, match="odd"):
        SiamFC(scale_num=2)


def test_siamfc_without_weights_says_how_to_get_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVALKIT_WEIGHTS", raising=False)
    monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path))
    with pytest.raises(WeightsError, match="evalkit weights fetch siamfc"):
        SiamFC().load("cpu")


def _textured_frame(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(60, 80, 3), dtype=np.uint8)
    return np.kron(small, np.ones((4, 4, 1), dtype=np.uint8))  # 240 x 320, blocky texture


@pytest.mark.parametrize("loop", ["pytorch", "matlab"])
def test_tracking_step_is_deterministic_and_keeps_size_limits(loop: str) -> None:
    frame = _textured_frame()
    box = np.array([140.0, 100.0, 40.0, 30.0])
    outs = []
    for _ in range(2):
        t = SiamFC(random_init=True, channels_last=False, loop=loop)
        t.load("cpu")
        t.initialize(frame, box)
        outs.append([t.update(frame).box for _ in range(3)])
    np.testing.assert_array_equal(np.array(outs[0]), np.array(outs[1]))
    t = SiamFC(random_init=True, scale_step=2.0, scale_lr=1.0, scale_penalty=1.0, max_scale=1.5, min_scale=0.7,
               loop=loop)
    t.load("cpu")
    t.initialize(frame, box)
    x_sz = t.x_sz
    widths = [t.update(frame).box[2] for _ in range(6)]
    assert 0.7 * x_sz - 1e-6 <= t.x_sz <= 1.5 * x_sz + 1e-6
    if loop == "pytorch":  # the port limits the target size too
        assert all(0.7 * 40 - 1e-6 <= w <= 1.5 * 40 + 1e-6 for w in widths)
    else:  # tracker.m saturates s_x only; with step 2 and no damping the target size doubles or halves freely
        assert any(w > 1.5 * 40 or w < 0.7 * 40 for w in widths)


def test_released_weights_follow_a_translation(shared_dir: Path) -> None:
    """FDSiamFC_15 (released weights): shifting the image by (dx, dy) moves the predicted centre by (dx, dy)."""
    import cv2

    from trackers.fdsiamfc import FDSiamFC15

    seq = shared_dir / "data" / "sequences" / "Crossing"
    frame = cv2.cvtColor(cv2.imread(str(seq / "img" / "0001.jpg")), cv2.COLOR_BGR2RGB)
    box = np.loadtxt(seq / "groundtruth_rect.txt", delimiter=None, max_rows=1).astype(np.float64)
    t = FDSiamFC15(weights=str(shared_dir / "weights" / "fdsiamfc" / "FDSiamfc_15.pth"))
    t.load("cpu")
    t.initialize(frame, box)
    shifted = np.roll(frame, shift=(6, -9), axis=(0, 1))
    pred = t.update(shifted).box
    centre = pred[:2] + (pred[2:] - 1) / 2
    expected = box[:2] + (box[2:] - 1) / 2 + np.array([-9.0, 6.0])
    assert np.abs(centre - expected).max() <= 2.0, (centre, expected)


def test_batchnorm_fusion_keeps_the_function() -> None:
    from trackers.siamfc.network import fuse_batchnorm

    torch.manual_seed(0)
    net = SiamNet(alexnet_layers(0.3))
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2.0)
    net.eval()
    z, x = torch.rand(1, 3, 127, 127) * 255, torch.rand(2, 3, 255, 255) * 255
    with torch.no_grad():
        before = net(z, x)
        fuse_batchnorm(net)
        after = net(z, x)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())
    torch.testing.assert_close(after, before, rtol=1e-4, atol=1e-5 * float(before.abs().max()))
    with pytest.raises(ValueError, match="eval mode"):
        fuse_batchnorm(SiamNet(alexnet_layers(0.3)).train())
