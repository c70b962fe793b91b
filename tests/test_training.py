"""The shared trainer: schedule, labels, samplers of every layout, checkpoints, exact resume, and smoke runs of the
CFNet and DCFNet tasks whose loss must go down."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import torch

from evalkit.errors import EvalkitError, InputFileError
from trackers.training import Pair, PairSampler, TrainConfig, TrainDefaults, Trainer, learning_rate, read_loss_log
from trackers.training.losses import balanced_logistic_loss, logistic_labels, response_regression_loss
from trackers.training.samplers import open_pairs

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see conftest.one_torch_thread


def test_learning_rate_is_geometric() -> None:
    assert learning_rate(0, 100, 1e-2, 1e-5) == pytest.approx(1e-2)
    assert learning_rate(99, 100, 1e-2, 1e-5) == pytest.approx(1e-5)
    assert learning_rate(33, 100, 1e-2, 1e-5) == pytest.approx(1e-3)
    assert learning_rate(500, 100, 1e-2, 1e-5) == pytest.approx(1e-5)  # clamped past the end


def test_logistic_labels_and_losses() -> None:
    labels, weights = logistic_labels(33, stride=4, radius=8.0)
    assert labels.sum() == 13  # cells within 2 cells of the centre: 1 + 4 + 4 + 4
    assert labels[16, 16] == 1 and labels[16, 18] == 1 and labels[16, 19] == 0 and labels[17, 18] == 0
    assert weights.sum() == pytest.approx(1.0) and weights[labels > 0].sum() == pytest.approx(0.5)
    lab, w = torch.from_numpy(labels)[None, None], torch.from_numpy(weights)[None, None]
    zero = balanced_logistic_loss(torch.zeros(2, 1, 33, 33), lab, w)
    assert zero.item() == pytest.approx(np.log(2))
    perfect = balanced_logistic_loss(torch.from_numpy((labels * 2 - 1) * 20)[None, None], lab, w)
    assert perfect.item() < 1e-6
    target = torch.rand(5, 5)
    assert response_regression_loss(target[None].repeat(3, 1, 1), target).item() == 0.0
    assert response_regression_loss(target[None] + 1, target).item() == pytest.approx(25.0)
    with pytest.raises(ValueError, match="no positives"):
        logistic_labels(4, stride=4, radius=1.0)


# --- samplers on tiny datasets in each layout ---

def _frames(folder: Path, n: int, name: str = "{:08d}.jpg") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        cv2.imwrite(str(folder / name.format(i + 1)), np.full((40, 60, 3), 30 * i, np.uint8))


def test_got10k_layout(tmp_path: Path) -> None:
    seq = tmp_path / "train" / "GOT-10k_Train_000001"
    _frames(seq, 4)
    (seq / "groundtruth.txt").write_text("1,2,10,12\n2,3,10,12\n3,4,10,12\n4,5,10,12\n")
    (seq / "absence.label").write_text("0\n1\n0\n0\n")
    (tmp_path / "train" / "list.txt").write_text("GOT-10k_Train_000001\n")
    sampler = open_pairs(f"got10k:{tmp_path}")
    assert len(sampler) == 1 and sampler.n_frames() == 3
    rng = np.random.default_rng(0)
    for _ in range(10):
        track, i, j = sampler.sample_indices(rng, max_gap=100)
        assert i != 1 and j != 1 and i != j
    pair = sampler.sample(rng)
    assert pair.image_a.shape == (40, 60, 3) and pair.box_a[2:].tolist() == [10, 12]
    (seq / "groundtruth.txt").write_text("1,2,10,12\n2,3,x,12\n3,4,10,12\n4,5,10,12\n")
    with pytest.raises(InputFileError, match=r"groundtruth.txt:2"):
        open_pairs(f"got10k:{tmp_path}")


def test_lasot_layout_is_one_based_and_skips_occlusion(tmp_path: Path) -> None:
    seq = tmp_path / "airplane" / "airplane-1"
    _frames(seq / "img", 3)
    (seq / "groundtruth.txt").write_text("11,21,5,6\n12,22,5,6\n13,23,5,6\n")
    (seq / "full_occlusion.txt").write_text("0,0,1")
    (seq / "out_of_view.txt").write_text("0,0,0")
    sampler = open_pairs(f"lasot:{tmp_path}")
    assert sampler.tracks[0].boxes[0].tolist() == [10, 20, 5, 6]
    assert sampler.tracks[0].valid.tolist() == [True, True, False]


def test_vid_layout_indexes_xml_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "cache"))
    snip = "ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000000"
    _frames(tmp_path / "vid" / "Data" / "VID" / "train" / snip, 3, "{:06d}.JPEG")
    ann = tmp_path / "vid" / "Annotations" / "VID" / "train" / snip
    ann.mkdir(parents=True)
    for k in range(3):
        objs = "".join(f"<object><trackid>{t}</trackid><bndbox><xmin>{5 + k}</xmin><xmax>{20 + k}</xmax>"
                       f"<ymin>6</ymin><ymax>25</ymax></bndbox></object>" for t in ((0, 1) if k < 2 else (0,)))
        (ann / f"{k:06d}.xml").write_text(f"<annotation>{objs}</annotation>")
    sampler = open_pairs(f"vid:{tmp_path / 'vid'}")
    assert len(sampler) == 2  # track 1 has two frames: still usable
    t0 = next(t for t in sampler.tracks if t.name.endswith("#0"))
    assert t0.boxes[2].tolist() == [7, 6, 16, 20]
    assert list((tmp_path / "cache" / "training-index").glob("vid-*.json"))
    with pytest.raises(EvalkitError, match="not an ILSVRC-VID folder"):
        open_pairs(f"vid:{tmp_path}")


def test_bad_data_specs() -> None:
    with pytest.raises(EvalkitError, match="expected demo, got10k:PATH"):
        open_pairs("imagenet:/x")
    with pytest.raises(EvalkitError, match="is not a folder"):
        open_pairs("got10k:/nonexistent/folder")


# --- the Trainer on a toy task: determinism, checkpoints, resume ---

class _ToyTask:
    name = "toy"
    weights_param = "weights"
    defaults = TrainDefaults(batch_size=4, epochs=1, pairs_per_epoch=160, lr_start=0.1, lr_end=0.01)

    def build_model(self) -> torch.nn.Module:
        return torch.nn.Linear(3, 1)

    def transform(self, pair: Any, rng: np.random.Generator) -> dict[str, np.ndarray]:
        x = rng.normal(size=3).astype(np.float32)
        return {"x": x, "y": np.array([x @ np.array([1.0, -2.0, 0.5])], dtype=np.float32)}

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return ((model(batch["x"]) - batch["y"]) ** 2).mean()

    def export(self, model: torch.nn.Module) -> dict[str, torch.Tensor]:
        return model.state_dict()


class _NoPairs(PairSampler):
    def __init__(self) -> None:
        self.tracks, self.description = [], "no pairs"

    def sample(self, rng: np.random.Generator, max_gap: int = 100) -> Pair:  # the toy task ignores the pair
        return None  # type: ignore[return-value]


def test_trainer_checkpoints_and_resumes_exactly(tmp_path: Path) -> None:
    straight = Trainer(_ToyTask(), _NoPairs(), TrainConfig(tmp_path / "a", max_steps=30, checkpoint_every=10)).run()
    assert straight.steps == 30 and "step budget" in straight.stopped
    losses = [r["loss"] for r in read_loss_log(straight.log)]
    assert np.mean(losses[-5:]) < 0.2 * np.mean(losses[:5])
    assert sorted(p.name for p in (tmp_path / "a" / "checkpoints").iterdir()) == \
        ["step_0000010.pt", "step_0000020.pt", "step_0000030.pt"]
    part = Trainer(_ToyTask(), _NoPairs(), TrainConfig(tmp_path / "b", max_steps=12, checkpoint_every=5)).run()
    assert part.steps == 12
    (tmp_path / "b" / "checkpoints" / "step_0000012.pt").unlink()  # as if killed after step 12, last save at 10
    resumed = Trainer(_ToyTask(), _NoPairs(), TrainConfig(tmp_path / "b", max_steps=30, checkpoint_every=5)).run()
    assert json.loads((tmp_path / "b" / "train.json").read_text())["resumed_from"] == 10
    assert [r["step"] for r in read_loss_log(resumed.log)] == list(range(1, 31))
    a = torch.load(straight.final_weights, weights_only=True)
    b = torch.load(resumed.final_weights, weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)  # same samples, same steps: identical weights
    assert not list((tmp_path / "b").rglob("*.tmp"))
    with pytest.raises(EvalkitError, match="different seed"):
        Trainer(_ToyTask(), _NoPairs(), TrainConfig(tmp_path / "b", max_steps=31, seed=1)).run()


def test_data_parallel_loss_plumbing() -> None:
    """Multi-GPU: the task's loss wrapped as a module (what DataParallel replicates) equals the task's loss and its
    gradient; on a machine without several GPUs the trainer computes the loss directly."""
    from trackers.training.trainer import data_parallel_loss, task_loss_module

    task = _ToyTask()
    torch.manual_seed(0)
    model = task.build_model()
    rng = np.random.default_rng(0)
    samples = [task.transform(None, rng) for _ in range(8)]
    batch = {k: torch.from_numpy(np.stack([s[k] for s in samples])) for k in samples[0]}
    direct = task.loss(model, batch)
    (g_direct,) = torch.autograd.grad(direct, model.weight)
    wrapped = torch.nn.DataParallel(task_loss_module(task, model), device_ids=[])(batch).mean()  # no GPU: pass-through
    (g_wrapped,) = torch.autograd.grad(wrapped, model.weight)
    assert torch.allclose(direct, wrapped) and torch.allclose(g_direct, g_wrapped)
    # the replicas' losses are means over equal slices, so their mean is the batch mean
    halves = [task.loss(model, {k: v[i:i + 4] for k, v in batch.items()}) for i in (0, 4)]
    assert torch.allclose(torch.stack(halves).mean(), direct)
    assert torch.equal(data_parallel_loss(task, model, "cpu", gpus=4)(batch), direct)  # CPU: never replicated


# --- smoke runs of the real tasks: a fixed pair, so the loss must fall ---

class _FixedPair(PairSampler):
    """One textured target on a noisy background, seen twice with a small motion."""

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        bg = (rng.random((260, 300, 3)) * 120).astype(np.uint8)
        tex = cv2.resize((rng.random((8, 8, 3)) * 255).astype(np.uint8), (40, 48), interpolation=cv2.INTER_NEAREST)
        a, b = bg.copy(), bg.copy()
        a[100:148, 120:160] = tex
        b[104:152, 126:166] = tex
        self.pair = Pair(a, np.array([120.0, 100.0, 40.0, 48.0]), b, np.array([126.0, 104.0, 40.0, 48.0]))
        self.tracks, self.description = [], "fixed pair"

    def sample(self, rng: np.random.Generator, max_gap: int = 100) -> Pair:
        return self.pair


@pytest.mark.parametrize(("tracker", "lr"), [("cfnet-conv1", 1e-2), ("dcfnet", 1e-3)])
def test_training_smoke_loss_decreases(tmp_path: Path, tracker: str, lr: float) -> None:
    from trackers.training import task_for

    task = task_for(tracker)
    if hasattr(task, "colour"):
        task.colour, task.stretch = False, 0.0  # identical batches: the loss must fall step after step
    config = TrainConfig(tmp_path, max_steps=4, batch_size=2, lr_start=lr, lr_end=lr, checkpoint_every=100)
    result = Trainer(task, _FixedPair(), config).run()
    steps = np.diff(result.losses)
    assert (steps < 0).all(), result.losses  # the loss falls at every step
    state = torch.load(result.final_weights, weights_only=True)
    assert state and all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())


def test_train_cli_list_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    from evalkit.cli import main

    assert main(["train", "--list"]) == 0
    listing = capsys.readouterr().out
    assert "cfnet-conv2" in listing and "dcfnet" in listing and "baseline-conv5" in listing
    assert main(["train", "--tracker", "cfnet-conv2"]) == 2
    assert "--data, --out" in capsys.readouterr().err
    assert main(["train", "--tracker", "cfnet-conv9", "--data", "demo", "--out", "/tmp/x"]) == 2
    assert "did you mean" in capsys.readouterr().err
