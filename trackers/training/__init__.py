"""Shared training for evalkit's deep trackers: one Trainer, pluggable tasks, pair samplers, losses.

A tracker becomes trainable by providing a :class:`TrainTask` (``trackers/training/task.py``) and registering a
zero-argument factory for it under the tracker's name in ``evalkit.registry.TRAINING_TASKS``
(``"cfnet-conv2": "trackers.cfnet.training:CFNetConv2Task"``). Then::

    evalkit train --tracker cfnet-conv2 --data demo --out runs/cfnet2 --max-minutes 5
    evalkit run --trackers cfnet-conv2 --param cfnet-conv2.weights=runs/cfnet2/final.pth --suite demo

or from Python::

    from trackers.training import TrainConfig, Trainer, open_pairs, task_for
    result = Trainer(task_for("cfnet-conv2"), open_pairs("demo"), TrainConfig(Path("runs/c2"), max_steps=200)).run()

The pieces:

- ``TrainTask`` / ``TrainDefaults`` (task.py): ``build_model()``, ``transform(pair, rng)`` (numpy, runs in DataLoader
  workers), ``loss(model, batch)``, ``export(model)`` (the tracker's state dict), ``weights_param`` (the tracker
  parameter that loads it), ``defaults`` (batch size, epochs, pairs per epoch, lr start/end, momentum, weight decay,
  max frame gap). Optional ``param_groups(model)`` returns SGD parameter groups (a group may carry ``lr_mult``).
- ``Trainer`` / ``TrainConfig`` / ``TrainResult`` (trainer.py): device choice (CUDA with autocast + GradScaler, else
  CPU), seeded per-sample randomness, tqdm progress, atomic checkpoints every N steps, resume from the newest one,
  ``loss.csv`` for loss curves, ``--max-steps`` / ``--max-minutes`` bounds, ``final.pth`` export.
- ``open_pairs(spec)`` / ``PairSampler`` / ``Pair`` (samplers.py): GOT-10k, ILSVRC-VID, LaSOT layouts and any evalkit
  suite with frames (``demo``).
- losses.py: the balanced logistic loss (SiamFC / CFNet) and the response regression loss (DCFNet), with their labels.
"""

from __future__ import annotations

from typing import Any

from trackers.training.samplers import Pair, PairSampler, Track, open_pairs
from trackers.training.task import TrainDefaults, TrainTask
from trackers.training.trainer import TrainConfig, Trainer, TrainResult, learning_rate, read_loss_log

__all__ = ["Pair", "PairSampler", "Track", "TrainConfig", "TrainDefaults", "TrainResult", "TrainTask", "Trainer",
           "learning_rate", "open_pairs", "read_loss_log", "task_for", "trainable"]


def task_for(tracker: str, **options: Any) -> TrainTask:
    """The training task registered for ``tracker`` (``evalkit.registry.TRAINING_TASKS``), built with ``options``."""
    from evalkit.errors import EvalkitError
    from evalkit.registry import TRAINING_TASKS

    task = TRAINING_TASKS.get(tracker)(**options)
    if not isinstance(task, TrainTask):
        raise EvalkitError(f"training task for {tracker!r} does not implement TrainTask "
                           "(see trackers/training/task.py)")
    return task


def trainable() -> list[str]:
    """Tracker names that have a training task."""
    from evalkit.registry import TRAINING_TASKS

    return TRAINING_TASKS.names()
