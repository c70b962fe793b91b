"""Training tasks for CFNet and its baselines (``evalkit train --tracker cfnet-conv2 ...``).

Pairs: the exemplar and the instance are cropped around the target in two frames at most 100 apart, centred on it,
with the context the trackers use (exemplar 255 px of ``s_z x 255/127`` for CF variants, 127 px of ``s_z`` for the
baseline; instance 255 px of ``s_z x 255/127``), padded with the frame's mean colour, raw 0..255 RGB. Augmentation
as in the release: a colour offset along the frame's principal colour axes (``augment.color``), plus a random
stretch of the crop region by up to 5% (our addition; the release had it switched off).

Loss: the balanced logistic loss on the 33x33 score map, positives within 8 px (2 cells) of the centre.
Schedule (``run_experiment_*.m``, ``experiment.m``): batch 8, SGD momentum 0.9, weight decay 5e-4 on conv weights
only, learning rate 1e-2 decaying geometrically by 1e-2 per 49 epochs (``logspace_len(-2, -4, 50, 100)``) over 100
epochs of 96,550 pairs (25 per ILSVRC-VID training video), here per step instead of per epoch. Per-parameter rates as
in the release: conv biases x2 (no decay), batch-norm gains x2 and biases x1, the CF scale x1 and bias x2.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from trackers.common.crops import box_to_center, context_size, crop_and_resize, mean_colour
from trackers.training.losses import balanced_logistic_loss, logistic_labels
from trackers.training.samplers import Pair
from trackers.training.task import TrainDefaults

RELEASE_SCHEDULE = TrainDefaults(batch_size=8, epochs=100, pairs_per_epoch=96_550, lr_start=1e-2,
                                 lr_end=1e-2 * (1e-2) ** (99 / 49), momentum=0.9, weight_decay=5e-4,
                                 max_frame_gap=100)


def colour_offset(image: NDArray[np.uint8], rng: np.random.Generator, strength: float = 0.1) -> NDArray[np.float32]:
    """An RGB offset along the image's principal colour axes (AlexNet/SiamFC 'color' augmentation)."""
    pixels = image.reshape(-1, 3)[:: max(1, image.size // 3 // 4096)].astype(np.float64)
    cov = np.cov(pixels, rowvar=False) + 1e-6 * np.eye(3)
    vals, vecs = np.linalg.eigh(cov)
    return (vecs @ (strength * np.sqrt(np.maximum(vals, 0)) * rng.standard_normal(3))).astype(np.float32)


class CFNetTask:
    """Logistic-loss training of a CFNet / Baseline network (a ``trackers.training.TrainTask``)."""

    weights_param = "weights"
    defaults = RELEASE_SCHEDULE

    def __init__(self, name: str, variant: str, stretch: float = 0.05, colour: bool = True) -> None:
        from trackers.cfnet.network import INSTANCE_SIZE, TOTAL_STRIDE, VARIANTS

        self.name, self.variant, self.stretch, self.colour = name, variant, stretch, colour
        spec = VARIANTS[variant]
        self.join = spec.join
        self.exemplar_size = INSTANCE_SIZE if spec.join == "cf" else spec.exemplar_size
        self.instance_size = INSTANCE_SIZE
        self.stride = TOTAL_STRIDE
        self._labels: dict[tuple[int, int], tuple[torch.Tensor, torch.Tensor]] = {}

    def build_model(self) -> torch.nn.Module:
        """A freshly initialised network."""
        from trackers.cfnet.network import CFNetModel

        return CFNetModel(self.variant)

    def _crop(self, image: NDArray[np.uint8], box: NDArray[np.float64], region: float, out: int,
              rng: np.random.Generator) -> NDArray[np.float32]:
        if self.stretch:
            region *= 1 + self.stretch * rng.uniform(-1, 1)
        centre, _ = box_to_center(box)
        patch = crop_and_resize(image, centre, region, out, padding=mean_colour(image)).astype(np.float32)
        if self.colour:
            patch = np.clip(patch - colour_offset(image, rng), 0, 255)
        return np.ascontiguousarray(patch.transpose(2, 0, 1))

    def transform(self, pair: Pair, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Exemplar and instance crops of a pair, centred on the target."""
        s_z = context_size(pair.box_a[2:4])
        region_z = s_z * (255 / 127 if self.join == "cf" else 1.0)
        region_x = context_size(pair.box_b[2:4]) * 255 / 127
        return {"exemplar": self._crop(pair.image_a, pair.box_a, region_z, self.exemplar_size, rng),
                "instance": self._crop(pair.image_b, pair.box_b, region_x, self.instance_size, rng)}

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Balanced logistic loss of the calibrated scores."""
        scores = model(batch["exemplar"], batch["instance"])
        size = (int(scores.shape[-2]), int(scores.shape[-1]))
        if size not in self._labels:  # 33x33 for every variant; computed once from the network's output
            labels, weights = logistic_labels(size, stride=self.stride, radius=8.0)
            self._labels[size] = (torch.from_numpy(labels)[None, None], torch.from_numpy(weights)[None, None])
        labels_t, weights_t = self._labels[size]
        return balanced_logistic_loss(scores, labels_t.to(scores.device), weights_t.to(scores.device))

    def param_groups(self, model: torch.nn.Module) -> list[dict[str, Any]]:
        """SGD groups with the release's per-parameter learning-rate multipliers and weight decay."""
        groups: dict[tuple[float, float], list[torch.nn.Parameter]] = {}
        for module_name, module in model.named_modules():
            for pname, param in module.named_parameters(recurse=False):
                if isinstance(module, torch.nn.Conv2d):
                    key = (1.0, 1.0) if pname == "weight" else (2.0, 0.0)
                elif isinstance(module, torch.nn.BatchNorm2d):
                    key = (2.0, 0.0) if pname == "weight" else (1.0, 0.0)
                elif module_name.endswith("cf") and pname in ("scale", "bias"):
                    key = (1.0, 0.0) if pname == "scale" else (2.0, 0.0)
                else:
                    key = (1.0, 1.0)
                groups.setdefault(key, []).append(param)
        return [{"params": ps, "lr_mult": lr, "weight_decay": self.defaults.weight_decay * wd}
                for (lr, wd), ps in groups.items()]

    def export(self, model: torch.nn.Module) -> dict[str, torch.Tensor]:
        """The whole state dict (the tracker loads ``backbone.*``)."""
        return dict(model.state_dict())


def cfnet_conv1_task() -> CFNetTask:
    """CFNet-conv1."""
    return CFNetTask("cfnet-conv1", "cfnet-conv1")


def cfnet_conv2_task() -> CFNetTask:
    """CFNet-conv2."""
    return CFNetTask("cfnet-conv2", "cfnet-conv2")


def cfnet_conv5_task() -> CFNetTask:
    """CFNet-conv5."""
    return CFNetTask("cfnet-conv5", "cfnet-conv5")


def baseline_conv5_task() -> CFNetTask:
    """Baseline-conv5 (cross-correlation, 127-px exemplars)."""
    return CFNetTask("baseline-conv5", "baseline-conv5")


def baseline_cf_conv3_task() -> CFNetTask:
    """The three-layer baseline that Baseline+CF-conv3 tracks with (trained without the CF)."""
    return CFNetTask("baseline-cf-conv3", "baseline-conv3")
