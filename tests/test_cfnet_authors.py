"""CFNet with the authors' MatConvNet networks (../shared/weights/cfnet, read in place): the CF block and adjust layer
are read with the file's values; evalkit's forward pass equals a plain walk of the file's DagNN layer list; the grey
networks load and are picked the way the release picks them; the release's image operations; clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch
import torch.nn.functional as F

from trackers.weights import WeightsError

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see conftest.one_torch_thread

FILES = {  # network: (evalkit variant, file)
    "cfnet-conv1": ("cfnet-conv1", "cfnet-conv1_e75.mat"),
    "cfnet-conv2": ("cfnet-conv2", "cfnet-conv2_e80.mat"),
    "baseline-conv3": ("baseline-conv3", "baseline-conv3-on-cfnet-conv3_e100.mat"),
    "cfnet-conv1-gray": ("cfnet-conv1", "cfnet-conv1_gray_e55.mat"),
    "cfnet-conv2-gray": ("cfnet-conv2", "cfnet-conv2_gray_e40.mat"),
    "baseline-conv3-gray": ("baseline-conv3", "baseline-conv3-on-cfnet-conv3_gray_e70.mat"),
}


@pytest.fixture(scope="module")
def cfnet_dir(shared_dir: Path) -> Path:
    return shared_dir / "weights" / "cfnet"


def _raw(path: Path) -> tuple[list[object], dict[str, np.ndarray]]:
    """The file's layer list and parameters, straight from scipy (independent of evalkit's reader)."""
    net = scipy.io.loadmat(path, squeeze_me=True, struct_as_record=False)["net"]
    return list(np.atleast_1d(net.layers)), {p.name: np.asarray(p.value) for p in np.atleast_1d(net.params)}


def _names(v: object) -> list[str]:
    return [v] if isinstance(v, str) else [str(x) for x in np.atleast_1d(v)]


def _dagnn_forward(path: Path, exemplar: np.ndarray, instance: np.ndarray) -> np.ndarray:
    """A direct walk of the DagNN graph in file order (float64): conv, batch norm, ReLU, pooling, window, CF,
    margin crop, cross-correlation, adjust; the CF as ``corr_filter.m`` writes it (1/n on both terms)."""
    layers, params = _raw(path)
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))  # noqa: E731
    var: dict[str, torch.Tensor] = {"exemplar": t(exemplar), "instance": t(instance)}
    for layer in layers:
        ins, outs, ps = _names(layer.inputs), _names(layer.outputs), _names(layer.params)
        x = var.get(ins[0])
        b = layer.block
        if layer.type == "dagnn.Conv":
            f = np.asarray(params[ps[0]], dtype=np.float64).reshape(np.atleast_1d(b.size).astype(int))
            w = t(f.transpose(3, 2, 0, 1))
            y = F.conv2d(x, w, t(np.atleast_1d(params[ps[1]])), stride=tuple(np.atleast_1d(b.stride).astype(int)),
                         groups=x.shape[1] // w.shape[1])
        elif layer.type == "dagnn.BatchNorm":
            g, beta, mom = (np.asarray(params[p], dtype=np.float64) for p in ps)
            y = (x - t(mom[:, 0])[:, None, None]) / t(mom[:, 1])[:, None, None] * t(g)[:, None, None] \
                + t(beta)[:, None, None]
        elif layer.type == "dagnn.ReLU":
            y = torch.relu(x)
        elif layer.type == "dagnn.Pooling":
            assert b.method == "max"
            size, stride = (tuple(np.atleast_1d(v).astype(int)) for v in (b.poolSize, b.stride))
            y = F.max_pool2d(x, size, stride)
        elif layer.type == "MulConst":
            y = x * t(params[ps[0]])
        elif layer.type == "CorrFilter":
            n = x.shape[-2] * x.shape[-1]
            xf, yf = torch.fft.fft2(x), torch.fft.fft2(t(params[ps[0]]))
            kf = (xf.conj() * xf).sum(1, keepdim=True) / n + float(b.__dict__["lambda"])
            af = yf / kf / n
            y = torch.fft.ifft2(af.conj() * xf).real
        elif layer.type == "CropMargin":
            m = int(b.margin)
            y = x[..., m:x.shape[-2] - m, m:x.shape[-1] - m]
        elif layer.type == "XCorr":
            z, s = var[ins[0]], var[ins[1]]
            y = torch.cat([F.conv2d(s[i:i + 1], z[i:i + 1]) for i in range(s.shape[0])])
        else:
            continue  # the loss and error-display layers need labels; they are not part of the forward pass
        var[outs[0]] = y
    return var["score"].numpy()


@pytest.mark.parametrize("key", list(FILES))
def test_cf_block_and_adjust_are_the_files_values(cfnet_dir: Path, key: str) -> None:
    from trackers.cfnet.matconvnet import cfnet_from_dagnn, read_dagnn

    variant, fname = FILES[key]
    path = cfnet_dir / fname
    net = cfnet_from_dagnn(read_dagnn(path), variant)
    layers, params = _raw(path)
    by_name = {x.name: x for x in layers}
    np.testing.assert_array_equal(net.cf.window.numpy(), params["join_window"])
    np.testing.assert_array_equal(net.cf.target.numpy(), params["join_cf_target"])
    side = params["join_window"].shape[0]
    assert net.cf.size == (side, side)
    assert net.cf.lam == pytest.approx(float(by_name["join_cf"].block.__dict__["lambda"]) * side * side)
    assert net.cf.margin == int(by_name["join_crop_z"].block.margin)
    assert float(net.cf.scale.detach()) == pytest.approx(float(params["fin_adjustf"]), rel=1e-6)
    assert float(net.cf.bias.detach()) == pytest.approx(float(params["fin_adjustb"]), rel=1e-6)
    assert float(params["fin_adjustf"]) > 1  # trained away from the initial scale 1 and bias -0.5
    conv1 = params["br_conv1f"]
    np.testing.assert_array_equal(net.backbone.conv1.weight.detach().numpy(), conv1.transpose(3, 2, 0, 1))


@pytest.mark.parametrize("key", list(FILES))
def test_forward_matches_a_walk_of_the_dagnn_graph(cfnet_dir: Path, key: str) -> None:
    from trackers.cfnet.matconvnet import cfnet_from_dagnn, read_dagnn

    variant, fname = FILES[key]
    path = cfnet_dir / fname
    net = cfnet_from_dagnn(read_dagnn(path), variant).eval()
    frame = _frame(cfnet_dir.parent.parent)
    z = frame[None, :255, :255].transpose(0, 3, 1, 2).astype(np.float32)
    x = frame[None, -255:, -255:].transpose(0, 3, 1, 2).astype(np.float32)
    if key.endswith("-gray"):
        z, x = (np.repeat(a.mean(1, keepdims=True), 3, axis=1) for a in (z, x))
    want = _dagnn_forward(path, z, x)
    with torch.no_grad():
        got = net(torch.from_numpy(z), torch.from_numpy(x)).double().numpy()
    assert got.shape == want.shape == (1, 1, 33, 33)
    assert np.abs(got - want).max() <= 2e-3 * np.abs(want).max()
    assert np.unravel_index(np.argmax(got), got.shape) == np.unravel_index(np.argmax(want), want.shape)


def _frame(shared: Path) -> np.ndarray:
    """A real OTB frame (Jogging 0001, 288 x 352), RGB: 255-px crops at two corners are exemplar and instance."""
    import cv2

    image = cv2.imread(str(shared / "data" / "sequences" / "Jogging" / "img" / "0001.jpg"), cv2.IMREAD_COLOR)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def test_trackers_load_the_authors_networks_without_a_weight_flag(shared_dir: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from trackers.cfnet.tracker import BaselineCFConv3, CFNetConv1, CFNetConv2, CFNetConv2Gray
    from trackers.weights import CATALOG, sha256_of

    monkeypatch.setenv("EVALKIT_WEIGHTS", str(shared_dir / "weights"))
    colour = np.zeros((120, 160, 3), np.uint8)
    colour[..., 0] = 200
    colour[40:80, 60:100] = (30, 160, 90)
    grey = np.repeat(colour.mean(2, keepdims=True).astype(np.uint8), 3, axis=2)
    box = np.array([60.0, 40.0, 40.0, 40.0])
    for cls in (CFNetConv1, CFNetConv2, BaselineCFConv3):
        tracker = cls()
        tracker.load("cpu")
        assert set(tracker.nets) == {"colour", "grey"}
        assert tracker.weights_sha256() == CATALOG[cls.catalog].sha256
        tracker.initialize(colour, box)
        assert tracker.net is tracker.nets["colour"] and not tracker.to_grey
        tracker.initialize(grey, box)  # a greyscale sequence: the release's net_gray
        assert tracker.net is tracker.nets["grey"] and not tracker.to_grey
        pred = tracker.update(grey)
        assert np.abs(pred.box - box).max() < 4
    gray = CFNetConv2Gray()
    gray.load("cpu")
    assert set(gray.nets) == {"grey"}
    assert gray.weights_sha256() == sha256_of(shared_dir / "weights" / "cfnet" / "cfnet-conv2_gray_e40.mat")
    gray.initialize(colour, box)
    assert gray.to_grey  # colour frames are converted with rgb2gray for the grey network
    assert np.abs(gray.update(colour).box - box).max() < 4


def test_grey_trackers_are_registered() -> None:
    from evalkit.registry import TRACKERS

    for name in ("cfnet-conv1-gray", "cfnet-conv2-gray", "baseline-cf-conv3-gray"):
        cls = TRACKERS.get(name)
        assert cls.name == name and cls().params.gray_net == "always"


def test_trainable_only_variants_say_so(monkeypatch: pytest.MonkeyPatch, shared_dir: Path) -> None:
    from trackers.cfnet.tracker import BaselineConv5, CFNetConv5

    monkeypatch.setenv("EVALKIT_WEIGHTS", str(shared_dir / "weights"))
    for cls in (CFNetConv5, BaselineConv5):
        with pytest.raises(WeightsError, match=rf"never published.*trainable only.*evalkit train --tracker {cls.name}"):
            cls().weights_sha256()


def test_reader_rejects_what_is_not_a_cfnet(tmp_path: Path, cfnet_dir: Path) -> None:
    from trackers.cfnet.matconvnet import cfnet_from_dagnn, read_dagnn

    bad = tmp_path / "notes.mat"
    bad.write_bytes(b"not a mat file")
    with pytest.raises(WeightsError, match=r"notes\.mat: cannot be read"):
        read_dagnn(bad)
    other = tmp_path / "other.mat"
    scipy.io.savemat(other, {"x": np.zeros(3)})
    with pytest.raises(WeightsError, match=r"other\.mat: no DagNN struct"):
        read_dagnn(other)
    with pytest.raises(WeightsError, match=r"cfnet-conv2_e80\.mat: holds cfnet-conv2, not cfnet-conv1"):
        cfnet_from_dagnn(read_dagnn(cfnet_dir / "cfnet-conv2_e80.mat"), "cfnet-conv1")


def test_matlab_imresize_and_rounding() -> None:
    from trackers.common.matlab_ops import imresize, imresize_matrix, matlab_round, scale_pyramid, subwindow

    assert matlab_round(2.5) == 3 and matlab_round(-2.5) == -3 and matlab_round(0.5) == 1
    np.testing.assert_allclose(imresize_matrix(7, 7, 1.0), np.eye(7), atol=1e-12)
    up = imresize_matrix(4, 8, 2.0)  # MATLAB imresize x2, first output: cubic taps at 1.75, 0.75, 0.25, 1.25 ...
    np.testing.assert_allclose(up.sum(1), 1.0)
    np.testing.assert_allclose(up[0], [1.09375, -0.09375, 0, 0], atol=1e-12)  # ... the two left ones mirrored
    ramp = np.tile(np.arange(40, dtype=np.float64), (40, 1))
    half = imresize(ramp, 0.5)  # antialiased shrink of a linear ramp stays linear inside
    assert half.shape == (20, 20)
    np.testing.assert_allclose(np.diff(half[10, 4:16]), 2.0, atol=1e-4)
    frame = np.random.default_rng(0).random((60, 80, 3)).astype(np.float32) * 255
    pyr = scale_pyramid(frame, (30.5, 40.5), np.array([20.0, 21.0, 22.0]), 17, np.zeros(3))
    assert pyr.shape == (3, 17, 17, 3)
    # a centred sub-window of a region's own size is shifted by one pixel, first row and column padded: the
    # release's largest pyramid scale (1-based centre (1 + n) / 2, corner round(0) = 0)
    region = frame[:19, :19]
    same = subwindow(region, (10.0, 10.0), 19, 19, np.full(3, 7.0))
    np.testing.assert_array_equal(same[1:, 1:], region[:-1, :-1])
    assert (same[0] == 7).all() and (same[:, 0] == 7).all()
    assert not np.shares_memory(subwindow(frame, (30.0, 40.0), 21, 21, np.zeros(3)), frame)  # never a view
    maps = np.random.default_rng(1).random((17, 17, 3))  # a stack of maps resizes as each map alone, to the bit
    stacked = imresize(maps, 16)
    assert stacked.shape == (272, 272, 3) and stacked.dtype == np.float32
    for i in range(3):
        np.testing.assert_array_equal(stacked[..., i], imresize(maps[..., i], 16))


def _authors_boxes(shared: Path, folder: str, stem: str) -> np.ndarray:
    """The authors' released OPE boxes (1-based x, y, w, h) of one OTB-100 sequence."""
    path = shared / "data" / "results" / "otb100_cfnet_release" / folder / f"{stem}.mat"
    results = scipy.io.loadmat(path, squeeze_me=True, struct_as_record=False)["results"]
    return np.asarray(np.atleast_1d(results)[0].res, dtype=np.float64)


def _track(shared: Path, tracker_name: str, sequence: str, frames: int) -> np.ndarray:
    """Run a tracker on the first ``frames`` frames of a shared OTB sequence; 1-based boxes like the release's."""
    import cv2

    from evalkit.registry import TRACKERS

    root = shared / "data" / "sequences" / sequence
    paths = sorted((root / "img").glob("*.jpg"))[:frames]
    rows = (root / "groundtruth_rect.txt").read_text().replace(",", " ").replace("\t", " ").split("\n")
    gt = np.array([[float(v) for v in r.split()] for r in rows if r.strip()])
    tracker = TRACKERS.get(tracker_name)()
    tracker.load("cpu")
    read = lambda p: cv2.cvtColor(cv2.imread(str(p), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)  # noqa: E731
    tracker.initialize(read(paths[0]), gt[0] - [1, 1, 0, 0])
    boxes = [gt[0]] + [tracker.update(read(p)).box + [1, 1, 0, 0] for p in paths[1:]]
    return np.array(boxes)


@pytest.mark.parametrize(("tracker_name", "folder", "suffix", "frames"), [
    ("cfnet-conv1", "results_cfnet-conv1_OTB-100", "cf1camera", 12),
    pytest.param("cfnet-conv2", "results_cfnet-conv2_OTB-100", "cf2camera", 15, marks=pytest.mark.slow),
    pytest.param("baseline-cf-conv3", "results_baseline-on-cfnet-conv3_OTB-100", "xc3incf3camera", 10,
                 marks=pytest.mark.slow),
])
def test_boxes_equal_the_authors_released_boxes(shared_dir: Path, monkeypatch: pytest.MonkeyPatch, tracker_name: str,
                                                folder: str, suffix: str, frames: int) -> None:
    """The port reproduces the authors' own OTB results frame by frame on Couple (to JPEG-decoding noise)."""
    monkeypatch.setenv("EVALKIT_WEIGHTS", str(shared_dir / "weights"))
    ours = _track(shared_dir, tracker_name, "Couple", frames)
    theirs = _authors_boxes(shared_dir, folder, f"Couple_{suffix}")[:frames]
    assert np.abs(ours - theirs).max() < 0.05, np.abs(ours - theirs).max(1)
