"""DCFFNet: stage shapes (87x87 and 44x44 search maps), the ablation variants, losses, two-stage training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from trackers.dcffnet.network import VARIANTS, DCFFNet, correlation_fusion, depthwise_correlation
from trackers.dcffnet.train import car_targets, iou_loss

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see conftest.one_torch_thread


def test_stage_shapes_match_the_paper() -> None:
    net = DCFFNet("cf-double").eval()
    with torch.no_grad():
        tmpl = net.template(torch.rand(1, 3, 127, 127) * 255)
        s = net.stage_outputs(torch.rand(1, 3, 255, 255) * 255, tmpl)
        cls, reg = net.track(tmpl, torch.rand(1, 3, 255, 255) * 255)
    shapes = {k: tuple(v.shape[1:]) for k, v in s.items()}
    assert shapes["conv3"] == shapes["fusion1"] == (256, 87, 87)  # correlation-fusion 1 on 87x87 search maps
    assert shapes["block2"] == (512, 44, 44)
    assert shapes["block3"] == shapes["fusion2"] == (1024, 44, 44)  # correlation-fusion 2 on 44x44 search maps
    assert shapes["features"] == (256, 40, 40) and tuple(tmpl.features.shape[1:]) == (256, 18, 18)
    assert cls.shape == (1, 2, 23, 23) and reg.shape == (1, 4, 23, 23) and bool((reg > 0).all())


@pytest.mark.parametrize("name", list(VARIANTS))
def test_every_variant_runs_forward_and_backward(name: str) -> None:
    torch.manual_seed(0)
    net = DCFFNet(name, width=0.125).train()
    z, x = torch.rand(2, 3, 127, 127) * 255, torch.rand(2, 3, 255, 255) * 255
    tmpl = net.template(z)
    assert (tmpl.fuse1 is not None, tmpl.fuse2 is not None) == (VARIANTS[name].fuse_first, VARIANTS[name].fuse_second)
    cls, reg = net(z, x)
    (cls.square().mean() + reg.mean() + net.siamfc_response(tmpl, x).mean()).backward()
    grads = [p.grad for p in net.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert net.conv1[0].weight.grad.abs().sum() > 0


def test_variants_share_one_parameter_set() -> None:
    counts = {n: sum(p.numel() for p in DCFFNet(n, width=0.125).parameters()) for n in VARIANTS}
    assert len(set(counts.values())) == 1  # the fusion modules add no parameters


def test_fft_and_direct_correlation_agree() -> None:
    gen = torch.Generator().manual_seed(0)
    x, k = torch.randn(2, 5, 30, 27, generator=gen), torch.randn(2, 5, 12, 9, generator=gen)
    a, b = depthwise_correlation(k, x, "direct"), depthwise_correlation(k, x, "fft")
    assert a.shape == (2, 5, 19, 19)
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
    fused = correlation_fusion(k, x)
    assert fused.shape == x.shape
    with pytest.raises(ValueError, match="matching batch"):
        depthwise_correlation(k[:1], x)


def test_car_targets_and_iou_loss_by_hand() -> None:
    labels, ltrb = car_targets(np.array([97.0, 97.0, 61.0, 61.0]))  # crop centre 127 +- 30
    assert labels.shape == (23, 23) and labels[11, 11] == 1 and labels[0, 0] == 0
    assert labels.sum() == 9 * 9  # points 127 + 6k with |6k| < 30 inside the box: k = -4..4
    np.testing.assert_allclose(ltrb[:, 11, 11], [30, 30, 30, 30])
    same = torch.tensor([[10.0, 5.0, 10.0, 5.0]])
    assert float(iou_loss(same, same)) == pytest.approx(0.0)
    half = torch.tensor([[10.0, 5.0, 0.0, 5.0]])  # 10x10 inside 20x10: IoU (100 + 1) / (200 + 1)
    assert float(iou_loss(half, same)) == pytest.approx(-np.log(101 / 201), rel=1e-6)


def test_stage2_freezes_all_but_the_last_two_layers_and_the_head() -> None:
    from trackers.dcffnet.train import DCFFNetStage2Task

    task = DCFFNetStage2Task(width=0.125, allow_scratch=True)
    net = task.build_model().train()
    trainable = {n.split(".")[0] for n, p in net.named_parameters() if p.requires_grad}
    assert trainable == {"conv5", "conv6", "head"}
    assert not net.layer3[0].bn1.training and net.conv5[1].training
    before = net.layer2[0].bn1.running_mean.clone()
    net(torch.rand(2, 3, 127, 127) * 255, torch.rand(2, 3, 255, 255) * 255)
    torch.testing.assert_close(net.layer2[0].bn1.running_mean, before)


def test_training_smoke_loss_decreases(tmp_path: Path) -> None:
    """Stage 1 of DCFFNet (small width) on the generated demo suite: the loss falls within 24 steps (~10 s)."""
    from trackers.training import TrainConfig, Trainer, open_pairs, task_for

    task = task_for("dcffnet", variant="cf-double", width=0.125)
    result = Trainer(task, open_pairs("demo"), TrainConfig(tmp_path / "s1", max_steps=24, batch_size=4, seed=0,
                                                           checkpoint_every=0)).run()
    losses = np.array(result.losses)
    assert losses[-6:].mean() < 0.8 * losses[:6].mean(), losses
    state = torch.load(result.final_weights, weights_only=True)
    assert set(state) == set(DCFFNet("cf-double", width=0.125).state_dict())


def test_tracker_parameters_and_one_step() -> None:
    from evalkit.tracker import ParameterError
    from trackers.dcffnet.tracker import DCFFNetTracker
    from trackers.weights import WeightsError

    with pytest.raises(ParameterError, match="unknown DCFFNet variant"):
        DCFFNetTracker(variant="cf-3rd")
    with pytest.raises(WeightsError, match="no weights are published"):
        DCFFNetTracker().load("cpu")
    t = DCFFNetTracker(random_init=True, variant="baseline")
    t.load("cpu")
    frame = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    t.initialize(frame, np.array([150.0, 100.0, 40.0, 30.0]))
    pred = t.update(frame)
    assert np.isfinite(pred.box).all() and pred.box[2] >= 10 and 0 <= pred.score <= 1
