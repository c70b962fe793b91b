"""The authors' SiamFC-3s from its int8 TFLite export: dequantization, golden conv5 embedding, cache, defaults."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from trackers.siamfc import SiamFC, SiamNet, alexnet_layers
from trackers.weights import CATALOG, WeightsError

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see conftest.one_torch_thread

TFLITE = "whole_model_full_quant_scale3.tflite"


@pytest.fixture(scope="module")
def siamfc_dir(shared_dir: Path) -> Path:
    return shared_dir / "weights" / "siamfc"


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_dequantization_is_per_output_channel(siamfc_dir: Path) -> None:
    from trackers.siamfc.tflite_import import TFLiteGraph, dequantize

    graph = TFLiteGraph(siamfc_dir / TFLITE)
    convs = [graph.tensors[op.inputs[1]] for op in graph.ops if op.kind == "CONV_2D" and graph.constant(op.inputs[1])]
    w = convs[0]  # conv1: 96 x 11 x 11 x 3 int8, one scale per output channel
    assert w.data is not None and w.shape == (96, 11, 11, 3) and w.scale.size == 96 and w.axis == 0
    got = dequantize(w)
    np.testing.assert_array_equal(got, (w.data.astype(np.float64) * w.scale[:, None, None, None]).astype(np.float32))
    # symmetric per-channel quantization maps each output channel's largest weight to +-127: true for every channel
    # of every convolution only if the scales run along the output channels
    for t in convs:
        assert (np.abs(t.data.reshape(t.shape[0], -1).astype(int)).max(axis=1) == 127).all(), t.name
    # the response scale (one int8 with one scale) dequantizes to the export's adjust_response_config.scale
    config = json.loads((siamfc_dir / "model_config.json").read_text())
    mul = next(t for t in graph.tensors if t.data is not None and t.name == "detection/mul/x")
    assert dequantize(mul).item() == pytest.approx(config["adjust_response_config"]["scale"], rel=1e-6)
    # a zero point is subtracted: the int8 input image (zero point -128, scale 1) holds raw 0..255 pixels
    inp = next(t for t in graph.tensors if t.name == "input_image_int8")
    pixels = np.array([0, 17, 128, 255])
    as_int8 = type(inp)(inp.index, inp.name, (4,), (pixels - 128).astype(np.int8), inp.scale, inp.zero_point, 0)
    np.testing.assert_array_equal(dequantize(as_int8), pixels.astype(np.float32))
    with pytest.raises(ValueError, match="activation"):
        dequantize(inp)


def _golden_embedding(siamfc_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    import cv2
    import scipy.io

    from trackers.siamfc.tflite_import import read_siamfc_tflite

    imported = read_siamfc_tflite(siamfc_dir / TFLITE)
    net = SiamNet(alexnet_layers(1.0), out_scale=imported.out_scale, learned_bias=True)
    net.load_state_dict(imported.tensors)
    image = cv2.cvtColor(cv2.imread(str(siamfc_dir / "golden" / "01.jpg")), cv2.COLOR_BGR2RGB)
    with torch.no_grad():  # the whole image, raw 0..255 RGB, no padding: as golden/result.mat was made
        ours = net.eval().backbone(torch.from_numpy(image).permute(2, 0, 1)[None].float())[0].permute(1, 2, 0)
    ref = scipy.io.loadmat(siamfc_dir / "golden" / "result.mat", squeeze_me=True, struct_as_record=False)["r"]
    return ours.numpy(), np.asarray(ref.z_features, dtype=np.float32)


def test_import_reproduces_the_matconvnet_conv5_embedding(siamfc_dir: Path) -> None:
    ours, ref = _golden_embedding(siamfc_dir)
    assert ours.shape == ref.shape == (35, 50, 256)
    corr = float(np.corrcoef(ours.ravel(), ref.ravel())[0, 1])
    rel_rms = float(np.sqrt(np.mean((ours - ref) ** 2) / np.mean(ref ** 2)))
    # measured 0.99950 and 3.20 %: int8 batch-norm constants with one scale per tensor are most of the error
    assert corr >= 0.999
    assert rel_rms <= 0.033


def test_import_is_cached_with_the_source_digest(siamfc_dir: Path, empty_cache: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from trackers.siamfc import tflite_import

    source = siamfc_dir / TFLITE
    first = tflite_import.imported_state_dict(source)
    cached = tflite_import.import_cache_path(source)
    assert cached.is_file() and cached.is_relative_to(empty_cache)
    saved = torch.load(cached, map_location="cpu", weights_only=True)
    assert saved["source_sha256"] == CATALOG["siamfc"].sha256 == first.source_sha256
    assert not list(cached.parent.glob(".*"))  # no temporary file left beside it

    def no_import(*_: object) -> None:
        raise AssertionError("imported again although the cache matches")

    monkeypatch.setattr(tflite_import, "read_siamfc_tflite", no_import)
    again = tflite_import.imported_state_dict(source)
    assert again.out_scale == first.out_scale
    for k, v in first.tensors.items():
        torch.testing.assert_close(again.tensors[k], v, rtol=0, atol=0)
    # a different source under the same name is imported again (here: it is not a TFLite file at all)
    other = tmp_path / TFLITE
    other.write_bytes(b"not a flatbuffer")
    monkeypatch.undo()
    monkeypatch.setenv("EVALKIT_CACHE", str(empty_cache))
    with pytest.raises(WeightsError, match=f"{other}: not a readable TFLite model"):
        tflite_import.imported_state_dict(other)


def test_tracking_defaults_are_the_exports_track_config(siamfc_dir: Path) -> None:
    track = json.loads((siamfc_dir / "track_config.json").read_text())
    p = SiamFC().params
    assert (p.instance_size, p.scale_num, p.scale_step, p.scale_lr, p.scale_penalty, p.window_influence,
            p.response_up) == (track["x_image_size"], track["num_scales"], track["scale_step"], track["scale_damp"],
                               track["scale_penalty"], track["window_influence"], track["upsample_factor"])
    assert track["upsample_method"] == "bicubic"


def test_siamfc_runs_with_the_authors_network_and_no_weight_flag(shared_dir: Path, empty_cache: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import cv2

    monkeypatch.setenv("EVALKIT_WEIGHTS", str(shared_dir / "weights"))
    t = SiamFC()
    assert t.weights_sha256() == CATALOG["siamfc"].sha256
    t.load("cpu")
    seq = shared_dir / "data" / "sequences" / "Crossing"
    gt = np.loadtxt(seq / "groundtruth_rect.txt")
    frames = [cv2.cvtColor(cv2.imread(str(seq / "img" / f"{i:04d}.jpg")), cv2.COLOR_BGR2RGB) for i in (1, 2, 3, 4)]
    t.initialize(frames[0], gt[0] - [1, 1, 0, 0])
    for frame, truth in zip(frames[1:], gt[1:4], strict=True):
        box = t.update(frame).box + [1, 1, 0, 0]
        lo, hi = np.maximum(box[:2], truth[:2]), np.minimum(box[:2] + box[2:], truth[:2] + truth[2:])
        inter = np.prod(np.clip(hi - lo, 0, None))
        assert inter / (np.prod(box[2:]) + np.prod(truth[2:]) - inter) > 0.6, (box, truth)


def test_matlab_loop_steps_as_the_authors_tracker(shared_dir: Path, empty_cache: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Football1, frame 2 from the authors' frame 1: their step quantum and, within one quantum, their box."""
    import cv2

    from evalkit.results import read_otb_mat
    from trackers.common.crops import context_size

    monkeypatch.setenv("EVALKIT_WEIGHTS", str(shared_dir / "weights"))
    archive = shared_dir / "data" / "results" / "otb100_cfnet_release" / "results_SiamFC-3s_OTB-100"
    theirs = read_otb_mat(archive / "Football1_siamfc3s.mat")[0].boxes[:2]  # 1-based x, y, w, h
    seq = shared_dir / "data" / "sequences" / "Football1" / "img"
    frames = [cv2.cvtColor(cv2.imread(str(seq / f"{i:04d}.jpg")), cv2.COLOR_BGR2RGB) for i in (1, 2)]
    t = SiamFC()
    assert t.params.loop == "matlab"
    t.load("cpu")
    t.initialize(frames[0], theirs[0] - [1, 1, 0, 0])
    ours = t.update(frames[1]).box + [1, 1, 0, 0]
    # tracker_step.m moves the centre by whole steps of stride / upsampling * round(s_x) / 255 image pixels
    quantum = 8 / 16 * round(context_size(theirs[0, 2:]) * 255 / 127) / 255
    theirs_steps = (theirs[1, :2] - theirs[0, :2]) / quantum
    ours_steps = (ours[:2] - theirs[0, :2]) / quantum
    np.testing.assert_allclose(theirs_steps, np.round(theirs_steps), atol=1e-4)  # true of the authors' archive
    np.testing.assert_allclose(ours_steps, np.round(ours_steps), atol=1e-4)
    assert np.abs(ours_steps - theirs_steps).max() <= 1.0 + 1e-6, (ours, theirs[1])  # measured: 1 step per axis
    np.testing.assert_allclose(ours[2:], theirs[1, 2:])  # both kept the middle scale


def test_loop_must_be_pytorch_or_matlab() -> None:
    from evalkit.tracker import ParameterError

    with pytest.raises(ParameterError, match="loop must be"):
        SiamFC(loop="octave")
