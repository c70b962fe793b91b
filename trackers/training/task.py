"""What a tracker supplies to be trained by :class:`trackers.training.Trainer`: the ``TrainTask`` protocol.

    class MyTask:                                    # any object with these members is a TrainTask
        name = "mytracker"
        defaults = TrainDefaults(batch_size=8, epochs=50, pairs_per_epoch=53_200, lr_start=1e-2, lr_end=1e-5)
        def build_model(self) -> torch.nn.Module: ...                    # fresh, randomly initialised network
        def transform(self, pair: Pair, rng: np.random.Generator) -> dict[str, np.ndarray]: ...   # one sample
        def loss(self, model, batch: dict[str, torch.Tensor]) -> torch.Tensor: ...               # scalar, mean
        def export(self, model) -> dict[str, torch.Tensor]: ...          # the state dict the tracker loads
        weights_param = "weights"                                        # the tracker parameter that takes it

``transform`` runs in DataLoader workers on numpy arrays (crops, labels, augmentation); its outputs are collated into
float tensors. ``loss`` runs on the training device, inside ``torch.autocast`` on CUDA. The exported state dict is
saved as ``<out>/final.pth`` and loads with ``--param <tracker>.<weights_param>=<out>/final.pth``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import torch

    from trackers.training.samplers import Pair


@dataclass(frozen=True)
class TrainDefaults:
    """A task's training schedule as the authors released it (the Trainer's defaults; CLI flags override)."""

    batch_size: int = 8
    epochs: int = 50
    pairs_per_epoch: int = 53_200
    lr_start: float = 1e-2
    lr_end: float = 1e-5  # learning rate decays geometrically from lr_start to lr_end over the planned steps
    momentum: float = 0.9
    weight_decay: float = 5e-4
    max_frame_gap: int = 100  # pairs are sampled at most this many frames apart
    grad_clip: float | None = None

    def planned_steps(self) -> int:
        """Optimiser steps of the full schedule (epochs x pairs per epoch / batch size)."""
        return max(1, self.epochs * self.pairs_per_epoch // self.batch_size)


@runtime_checkable
class TrainTask(Protocol):
    """A trainable tracker: its network, per-pair sample transform, loss and export (see the module docstring)."""

    name: str
    defaults: TrainDefaults
    weights_param: str

    def build_model(self) -> torch.nn.Module:
        """A fresh network (random initialisation; the Trainer seeds torch before calling this)."""
        ...

    def transform(self, pair: Pair, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Network inputs and labels for one pair (numpy, collated into tensors by the DataLoader)."""
        ...

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The scalar training loss of a batch (already on the training device)."""
        ...

    def export(self, model: torch.nn.Module) -> dict[str, torch.Tensor]:
        """The state dict the tracker loads through its ``weights_param`` parameter."""
        ...
