"""DCFNet: released weights in both formats against the MatConvNet golden outputs, strict loading with clear errors,
the tracker on real frames, and the raw-pixel DCF on a translating texture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from evalkit.datasets.base import read_box_file
from evalkit.geometry import iou
from trackers.weights import WeightsError

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see conftest.one_torch_thread


@pytest.fixture(scope="module")
def golden(shared_dir: Path) -> dict[str, np.ndarray]:
    import scipy.io as sio

    mat = sio.loadmat(str(shared_dir / "weights" / "dcfnet" / "net_param.mat"), squeeze_me=True)
    res = [np.asarray(r, dtype=np.float32) for r in mat["res"]]
    return {"input": res[0], "conv1": res[1], "relu1": res[2], "conv2": res[3], "norm": res[4]}


@pytest.mark.parametrize("fname", ["param.pth", "DCFNet-net-7-125-2.mat", "net_param.mat"])
@pytest.mark.parametrize("fast_lrn", [True, False])
def test_released_weights_reproduce_matconvnet_golden(shared_dir: Path, golden: dict[str, np.ndarray], fname: str,
                                                      fast_lrn: bool) -> None:
    from trackers.dcfnet.network import DCFNetFeatures, load_dcfnet_weights

    net = DCFNetFeatures("released", fast_lrn=fast_lrn).eval()
    net.load_state_dict(load_dcfnet_weights(shared_dir / "weights" / "dcfnet" / fname))
    x = torch.from_numpy(golden["input"].transpose(2, 0, 1).copy())[None]
    outputs = {}
    with torch.no_grad():
        h = x
        for name, layer in net.named_children():
            h = layer(h.clone())
            outputs[name] = h[0].numpy().transpose(1, 2, 0)
    assert np.abs(outputs["conv1"] - golden["conv1"]).max() < 1e-5
    assert np.abs(outputs["conv2"] - golden["conv2"]).max() < 1e-5
    assert np.abs(outputs["norm"] - golden["norm"]).max() < 1e-5


def test_pytorch_release_conv1_is_bgr(shared_dir: Path) -> None:
    """The two files hold the same weights once param.pth's input channels are flipped (and only then)."""
    from trackers.dcfnet.network import load_dcfnet_weights
    from trackers.weights import load_state_dict

    pth = load_dcfnet_weights(shared_dir / "weights" / "dcfnet" / "param.pth")
    mat = load_dcfnet_weights(shared_dir / "weights" / "dcfnet" / "DCFNet-net-7-125-2.mat")
    assert torch.allclose(pth["conv1.weight"], mat["conv1.weight"], atol=1e-7)
    raw = load_state_dict(shared_dir / "weights" / "dcfnet" / "param.pth")
    assert not torch.allclose(raw["feature.0.weight"], mat["conv1.weight"], atol=1e-4)


def test_band_lrn_equals_torch_lrn() -> None:
    from trackers.dcfnet.network import BandLRN

    x = torch.randn(2, 32, 9, 7) * 30
    ref = torch.nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)(x)
    assert torch.allclose(BandLRN(32)(x), ref, rtol=1e-5, atol=1e-6)  # in-place path (no gradient): roots for 3/4
    other = torch.nn.LocalResponseNorm(5, alpha=1e-4, beta=0.5, k=2.0)(x)
    assert torch.allclose(BandLRN(32, beta=0.5, k=2.0)(x), other, rtol=1e-5, atol=1e-6)  # any other beta: pow
    xg = x.clone().requires_grad_()
    out = BandLRN(32)(xg)
    assert torch.allclose(out, ref, rtol=1e-5, atol=1e-6)
    out.sum().backward()
    xr = x.clone().requires_grad_()
    torch.nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)(xr).sum().backward()
    assert torch.allclose(xg.grad, xr.grad, rtol=1e-4, atol=1e-7)


def test_band_lrn_roots_are_correctly_rounded() -> None:
    """Tracking's LRN takes d^-3/4 as r sqrt(r), r = 1/sqrt(d), every step rounded once: the values numpy's float32
    operations give (torch's own CPU sqrt is MKL's, one ulp off in a good part of the elements, and would fail this),
    so the compiled kernel (fused.py) and torch take the same roots of the same denominators."""
    from trackers.dcfnet.network import BandLRN, sqrt_rn

    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 32, 41, 43, generator=g) * torch.logspace(-1, 3, 43)  # denominators from ~1 to ~1e2
    norm = BandLRN(32)
    with torch.inference_mode():
        got = norm(x.clone()).numpy()
        d = torch.nn.functional.conv2d(x * x, norm.band, norm.k).numpy()
    r = np.float32(1.0) / np.sqrt(d)
    assert np.array_equal(got, r * np.sqrt(r) * x.numpy())
    roots = np.random.default_rng(0).random(100_003, dtype=np.float32) * 1e3
    assert np.array_equal(sqrt_rn(torch.from_numpy(roots)).numpy(), np.sqrt(roots))


@pytest.mark.parametrize("arch", ["conv1", "conv2", "conv1-dilation"])
def test_paper_architectures_keep_size_and_32_channels(arch: str) -> None:
    from trackers.dcfnet.network import DCFNetFeatures

    net = DCFNetFeatures(arch)
    assert net(torch.zeros(1, 3, 25, 25)).shape == (1, 32, 25, 25)


def test_weight_errors_name_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trackers.dcfnet.network import DCFNetFeatures, load_dcfnet_weights
    from trackers.dcfnet.tracker import DCFNet, DCFNetConv2
    from trackers.weights import load_into

    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(WeightsError, match="bad.pth"):
        load_dcfnet_weights(bad)
    wrong = tmp_path / "wrong.pth"
    torch.save(DCFNetFeatures("conv1").state_dict(), wrong)
    with pytest.raises(WeightsError, match=r"wrong\.pth.*shape"):
        load_into(DCFNetFeatures("released"), load_dcfnet_weights(wrong), wrong)
    monkeypatch.delenv("EVALKIT_WEIGHTS", raising=False)
    monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "cache"))
    with pytest.raises(WeightsError, match=r"evalkit weights fetch dcfnet"):
        DCFNet().weights_sha256()
    with pytest.raises(WeightsError, match=r"evalkit train --tracker dcfnet-conv2"):
        DCFNetConv2().weights_sha256()
    with pytest.raises(WeightsError, match="missing.pth does not exist"):
        DCFNet(weights=str(tmp_path / "missing.pth")).weights_sha256()
    untrained = DCFNetConv2(random_init=True)  # no weights needed: seeded initialisation
    untrained.load("cpu")
    assert untrained.net.conv4.out_channels == 32 and len(untrained.weights_sha256() or "") == 64


def _otb_frames(shared_dir: Path, name: str, n: int) -> tuple[list[np.ndarray], np.ndarray]:
    import cv2

    folder = shared_dir / "data" / "sequences" / name
    gt = read_box_file(folder / "groundtruth_rect.txt")
    gt[:, :2] -= 1  # OTB is 1-based
    files = sorted((folder / "img").glob("*.jpg"))[:n]
    return [cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB) for f in files], gt[:n]


def test_dcfnet_tracks_real_frames_with_both_weight_files(shared_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trackers.dcfnet.tracker import DCFNet

    monkeypatch.setenv("EVALKIT_WEIGHTS", str(shared_dir / "weights"))
    frames, gt = _otb_frames(shared_dir, "Dog1", 12)
    boxes = {}
    for weights in (None, str(shared_dir / "weights" / "dcfnet" / "DCFNet-net-7-125-2.mat")):
        tracker = DCFNet(weights=weights)
        tracker.load("cpu")
        tracker.initialize(frames[0], gt[0])
        boxes[weights] = np.array([tracker.update(f).box for f in frames[1:]])
        assert np.all(iou(boxes[weights], gt[1:]) > 0.6)
    a, b = boxes.values()
    assert np.abs(a - b).max() < 1e-3  # same weights, same track
    assert DCFNet().weights_sha256() == "8a9c2ad0a25998d873152e67f2bc4ff83ed2cfed54f4f08cb8acd37810dfc0b8"


def test_pixel_dcf_follows_a_translating_texture() -> None:
    """The CF layer on raw pixels behaves as a MOSSE/DCF tracker: it follows a texture moving over a flat background."""
    from trackers.dcfnet.tracker import DCFPixels

    rng = np.random.default_rng(0)
    texture = (rng.random((40, 30, 3)) * 255).astype(np.uint8)
    tracker = DCFPixels()
    tracker.load("cpu")
    path = [(60.0 + 3 * t, 50.0 + 2 * np.sin(t / 3) * 4) for t in range(25)]
    for t, (x, y) in enumerate(path):
        frame = np.full((200, 240, 3), 90, np.uint8)
        frame[int(y):int(y) + 40, int(x):int(x) + 30] = texture
        box = np.array([int(x), int(y), 30.0, 40.0])
        if t == 0:
            tracker.initialize(frame, box)
            continue
        pred = tracker.update(frame).box
        centre_err = np.hypot(pred[0] + pred[2] / 2 - box[0] - 15, pred[1] + pred[3] / 2 - box[1] - 20)
        assert centre_err < 3.0, (t, pred, box)


@pytest.mark.parametrize(("name", "scales"), [("dcfnet-1s", 1), ("dcfnet-7s", 7)])
def test_scale_variants_track(shared_dir: Path, monkeypatch: pytest.MonkeyPatch, name: str, scales: int) -> None:
    from evalkit.registry import tracker_class

    monkeypatch.setenv("EVALKIT_WEIGHTS", str(shared_dir / "weights"))
    tracker = tracker_class(name)()
    assert tracker.params.num_scales == scales and tracker.params.scale_step == 1.0375
    tracker.load("cpu")
    frames, gt = _otb_frames(shared_dir, "Dog1", 5)
    tracker.initialize(frames[0], gt[0])
    assert np.all(iou(np.array([tracker.update(f).box for f in frames[1:]]), gt[1:]) > 0.6)
