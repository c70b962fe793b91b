"""CFNet: the five networks' shapes (stride 4, 32 channels, 33x33 scores), per-variant tracking parameters from the
release, loading trained weights into the tracker with one flag, the untrained (random_init) network, clear errors.
The authors' released networks: tests/test_cfnet_authors.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from trackers.weights import WeightsError

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see conftest.one_torch_thread


@pytest.mark.parametrize(("variant", "template"), [("cfnet-conv1", 30), ("cfnet-conv2", 25), ("cfnet-conv5", 17),
                                                   ("baseline-conv5", 17), ("baseline-conv3", 21)])
def test_networks_give_33x33_scores(variant: str, template: int) -> None:
    from trackers.cfnet.network import CFNetModel

    net = CFNetModel(variant).eval()
    ex = torch.rand(1, 3, net.exemplar_size, net.exemplar_size) * 255
    with torch.no_grad():
        tmpl = net.template(ex)
        scores = net(ex, torch.rand(1, 3, 255, 255) * 255)
    assert tmpl.shape == (1, 32, template, template)
    assert scores.shape == (1, 1, 33, 33)
    assert net.exemplar_size == (127 if variant.startswith("baseline") else 255)
    last_conv = [m for m in net.backbone.modules() if isinstance(m, torch.nn.Conv2d)][-1]
    assert last_conv.out_channels == 32


def test_baseline_cf_conv3_tracks_with_a_cf_on_255_crops() -> None:
    from trackers.cfnet.network import CFNetModel

    net = CFNetModel("baseline-conv3", join="cf")
    assert net.exemplar_size == 255 and hasattr(net, "cf")
    assert net.template(torch.zeros(1, 3, 255, 255)).shape == (1, 32, 21, 21)


def test_release_tracking_parameters() -> None:
    from trackers.cfnet.tracker import BaselineCFConv3, BaselineConv5, CFNetConv1, CFNetConv2

    expected = {  # scale step / penalty / scale lr / window influence / template lr (run_*_evaluation.m)
        CFNetConv1: (1.0355, 0.9825, 0.70, 0.2375, 0.0058),
        CFNetConv2: (1.0575, 0.978, 0.52, 0.2625, 0.005),
        BaselineConv5: (1.047, 0.9825, 0.68, 0.175, 0.0102),
        BaselineCFConv3: (1.034, 0.982, 0.66, 0.27, 0.008),
    }
    for cls, values in expected.items():
        p = cls(random_init=True).params
        assert (p.scale_step, p.scale_penalty, p.scale_lr, p.window_influence, p.template_lr) == values


def _scene(t: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    frame = (rng.random((240, 320, 3)) * 80).astype(np.uint8)
    tex = (np.random.default_rng(2).random((36, 30, 3)) * 255).astype(np.uint8)
    x, y = 140 + 2 * t, 100 + t
    frame[y:y + 36, x:x + 30] = tex
    return frame, np.array([x, y, 30.0, 36.0])


def test_trained_weights_load_with_one_flag(tmp_path: Path) -> None:
    from trackers.cfnet.tracker import CFNetConv2
    from trackers.training import task_for

    task = task_for("cfnet-conv2")
    torch.manual_seed(3)
    state = task.export(task.build_model())
    path = tmp_path / "final.pth"
    torch.save(state, path)
    tracker = CFNetConv2.from_mapping({"weights": str(path)})  # what --param cfnet-conv2.weights=PATH builds
    tracker.load("cpu")
    from torch.nn.utils.fusion import fuse_conv_bn_weights

    bn = {k: state[f"backbone.bn1.{k}"] for k in ("running_mean", "running_var", "weight", "bias")}
    folded, _ = fuse_conv_bn_weights(state["backbone.conv1.weight"], state["backbone.conv1.bias"], bn["running_mean"],
                                     bn["running_var"], 1e-5, bn["weight"], bn["bias"])  # BN folded for tracking
    assert torch.allclose(tracker.net.backbone.conv1.weight, folded)
    frame, box = _scene(0)
    tracker.initialize(frame, box)
    pred = tracker.update(_scene(1)[0])
    assert pred.box.shape == (4,) and np.isfinite(pred.box).all() and pred.score is not None
    assert len(tracker.weights_sha256() or "") == 64


def test_untrained_network_is_seeded_and_fingerprinted() -> None:
    from trackers.cfnet.tracker import CFNetConv1

    runs = []
    for seed in (0, 0, 1):
        tracker = CFNetConv1(random_init=True, init_seed=seed)
        tracker.load("cpu")
        frame, box = _scene(0)
        tracker.initialize(frame, box)
        runs.append(np.array([tracker.update(_scene(t)[0]).box for t in range(1, 4)]))
    assert np.array_equal(runs[0], runs[1]) and not np.array_equal(runs[0], runs[2])
    assert CFNetConv1(random_init=True).weights_sha256() != CFNetConv1(random_init=True, init_seed=1).weights_sha256()


def test_weight_errors(tmp_path: Path, shared_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trackers.cfnet.tracker import CFNetConv2, CFNetConv5

    monkeypatch.delenv("EVALKIT_WEIGHTS", raising=False)
    monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "cache"))
    with pytest.raises(WeightsError, match=r"cfnet-conv2_e80\.mat.*evalkit weights fetch cfnet-conv2"):
        CFNetConv2().weights_sha256()  # the authors' network, not found: how to get it
    with pytest.raises(WeightsError, match=r"trainable only.*evalkit train --tracker cfnet-conv5.*random_init=true"):
        CFNetConv5().weights_sha256()
    with pytest.raises(WeightsError, match="either weights or random_init"):
        CFNetConv2(weights="x.pth", random_init=True).weights_sha256()
    tracker = CFNetConv2(weights=str(shared_dir / "weights" / "dcfnet" / "param.pth"))
    with pytest.raises(WeightsError, match=r"param\.pth: no 'backbone\.\*' keys"):
        tracker.load("cpu")
