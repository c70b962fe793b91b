"""FDSiamFC: strict loading of the released weights, per-benchmark settings, and the Feature Distilling fold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from trackers.fdsiamfc import FDSiamd, FDSiamFC15, FDSiamFC30
from trackers.fdsiamfc.distill import DistillNet, fold, fold_error, parameter_count
from trackers.siamfc import SiamNet, alexnet8_layers, alexnet_layers
from trackers.weights import CATALOG, WeightsError, load_into, load_state_dict

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see conftest.one_torch_thread


@pytest.mark.parametrize("cls,file", [(FDSiamFC30, "FDSiamfc_30.pth"), (FDSiamFC15, "FDSiamfc_15.pth"),
                                      (FDSiamd, "FDSiamd.pth")])
def test_released_weights_load_strictly(shared_dir: Path, cls: type, file: str) -> None:
    path = shared_dir / "weights" / "fdsiamfc" / file
    t = cls(weights=str(path))
    assert t.weights_sha256() == CATALOG[cls.catalog_name].sha256  # known before load (the planner needs it)
    t.load("cpu")
    assert t.net is not None and t.weights_sha256() == CATALOG[cls.catalog_name].sha256


def test_wrong_file_names_the_mismatch(shared_dir: Path) -> None:
    path = shared_dir / "weights" / "fdsiamfc" / "FDSiamfc_15.pth"
    with pytest.raises(WeightsError, match=r"FDSiamfc_15\.pth.*conv1\.0\.weight: file \(14, 3, 11, 11\)"):
        FDSiamFC30(weights=str(path)).load("cpu")


def test_benchmark_overrides() -> None:
    t = FDSiamFC30(benchmark="uav123")
    assert (t.params.scale_step, t.params.scale_lr) == (1.05, 0.6)
    assert FDSiamFC15(benchmark="uav20l").params.scale_step == 1.19
    assert FDSiamFC30(benchmark="uav20l", scale_step=1.1).params.scale_step == 1.1  # explicit wins
    assert FDSiamFC30(benchmark="otb100").params.scale_step == 1.0375  # no row: the defaults
    assert FDSiamd(benchmark="otb100").params.window_influence == 0.228
    assert FDSiamFC30().params.clip_center is True
    with pytest.raises(Exception, match="unknown suite"):
        FDSiamFC30(benchmark="uav12")


def _teacher(seed: int = 0) -> SiamNet:
    torch.manual_seed(seed)
    net = SiamNet(alexnet_layers(1.0), learned_bias=True)
    for m in net.modules():  # non-trivial BN statistics so that folding BN is exercised
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    return net.eval()


@pytest.mark.parametrize("ratio", [0.3, 0.15])
def test_fold_equals_unfolded_and_is_smaller(ratio: float) -> None:
    student = DistillNet.from_teacher(_teacher(), ratio)
    for p in student.parameters():  # hourglasses away from any special structure
        p.data.add_(0.01 * torch.randn_like(p))
    folded = fold(student)
    err = fold_error(student, folded)
    assert err["response"] <= 1e-5 * err["response_scale"]
    assert err["features"] <= 1e-5 * err["feature_scale"]
    assert parameter_count(folded) < parameter_count(student)
    assert [s.out_channels for s in folded.backbone.layers] == [s.out_channels for s in alexnet_layers(ratio)]


def test_fold_of_the_eight_layer_backbone_is_exact_in_float64() -> None:
    torch.manual_seed(1)
    student = DistillNet(alexnet8_layers(1.0), 0.5).eval()
    folded = fold(student)
    z, x = torch.rand(1, 3, 127, 127, dtype=torch.float64) * 255, torch.rand(1, 3, 255, 255, dtype=torch.float64) * 255
    with torch.no_grad():
        a, b = student.double()(z, x), folded.double()(z, x)
    assert float((a - b).abs().max()) <= 1e-6 * float(a.abs().max())


def test_folded_weights_load_into_the_fdsiamfc_tracker(tmp_path: Path) -> None:
    folded = fold(DistillNet.from_teacher(_teacher(), 0.3))
    path = tmp_path / "folded.pth"
    torch.save({k: v for k, v in folded.state_dict().items() if not k.startswith("head.")}, path)
    t = FDSiamFC30(weights=str(path))
    t.load("cpu")
    frame = np.random.default_rng(0).integers(0, 256, (200, 240, 3), dtype=np.uint8)
    t.initialize(frame, np.array([100.0, 80.0, 30.0, 40.0]))
    assert np.isfinite(t.update(frame).box).all()


def test_activation_start_is_close_to_the_teacher(shared_dir: Path) -> None:
    """Starting hourglasses from the teacher's activations on real crops beats a random start by far."""
    import cv2

    from trackers.common.crops import crop_and_resize

    path = shared_dir / "weights" / "fdsiamfc" / "FDSiamfc_30.pth"
    teacher = SiamNet(alexnet_layers(0.3))
    load_into(teacher, load_state_dict(path), path)
    teacher.eval()
    frames = [cv2.imread(str(shared_dir / "data" / "sequences" / s / "img" / f)) for s, f in
              (("Crossing", "0001.jpg"), ("Couple", "0001.jpg"), ("Dog1", "0001.jpg"), ("David", "0300.jpg"))]
    frames = [cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in frames]

    def crops(size: float, out: int) -> torch.Tensor:
        return torch.stack([torch.from_numpy(crop_and_resize(f, (f.shape[1] / 2, f.shape[0] / 2), size, out))
                            .permute(2, 0, 1).float() for f in frames])

    z, x = crops(120, 127), crops(240, 255)
    with torch.no_grad():
        ref = teacher(z, x).flatten()

    def corr(student: DistillNet) -> float:
        with torch.no_grad():
            out = student.eval()(z, x).flatten()
        return float(torch.corrcoef(torch.stack([ref, out]))[0, 1])

    torch.manual_seed(0)
    random_start = DistillNet.from_teacher(teacher, 0.6)
    informed = DistillNet.from_teacher(teacher, 0.6)
    informed.init_from_activations(z)
    assert corr(informed) > 0.8 and corr(informed) > corr(random_start) + 0.3


def test_released_state_dicts_have_the_documented_layout(shared_dir: Path) -> None:
    path = shared_dir / "weights" / "fdsiamfc" / "FDSiamfc_30.pth"
    net = SiamNet(alexnet_layers(0.3))
    load_into(net, load_state_dict(path), path)
    assert net.backbone.conv4[0].groups == 2 and net.backbone.conv4[0].weight.shape == (114, 57, 3, 3)
