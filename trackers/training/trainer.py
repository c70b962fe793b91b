"""The Trainer: runs any :class:`~trackers.training.task.TrainTask` on pairs from a :class:`PairSampler`.

    trainer = Trainer(task, open_pairs("demo"), TrainConfig(out_dir=Path("runs/cfnet2"), max_minutes=5))
    result = trainer.run()          # resumes from the newest checkpoint in out_dir if there is one
    result.final_weights            # runs/cfnet2/final.pth: --param cfnet-conv2.weights=runs/cfnet2/final.pth

Output folder: ``train.json`` (task, data, seed, device, schedule; a resume with different settings is refused),
``loss.csv`` (step, lr, loss, seconds, pairs per second: the loss curve), ``checkpoints/step_NNNNNNN.pt`` (model,
optimiser, scaler and step; the newest ``keep_checkpoints`` kept) and ``final.pth`` (the exported tracker weights).
Every file is written to a temporary name and renamed, so a killed run never leaves a half-written file.

Determinism: sample ``k`` (over the whole run) is drawn with ``numpy.random.default_rng([seed, k])``, so a resumed run
sees exactly the pairs the uninterrupted run would have seen, whatever the number of DataLoader workers. On CUDA the
loss runs under ``torch.autocast`` (float16) with a ``GradScaler``; on CPU in float32. With several GPUs each batch is
split over them by ``torch.nn.DataParallel`` around the task's loss (``--gpus N``; any task works, since each replica
runs ``task.loss`` on its slice); BatchNorm statistics are then per replica, as DataParallel does.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.errors import EvalkitError
from evalkit.io import atomic_write_bytes
from trackers.training.samplers import PairSampler
from trackers.training.task import TrainDefaults, TrainTask

LOG_FIELDS = ("step", "lr", "loss", "seconds", "pairs_per_s")


@dataclass(frozen=True)
class TrainConfig:
    """How long and where to train; ``None`` fields take the task's released defaults."""

    out_dir: Path
    max_steps: int | None = None  # stop after this many optimiser steps in total (None: the full schedule)
    max_minutes: float | None = None  # stop (with a checkpoint and final weights) after this much wall time
    seed: int = 0
    device: str | None = None  # None: cuda when available, else cpu
    amp: bool = True  # mixed precision, used on CUDA only
    checkpoint_every: int = 500
    keep_checkpoints: int = 3
    batch_size: int | None = None
    lr_start: float | None = None
    lr_end: float | None = None
    schedule_steps: int | None = None  # length of the lr decay (None: the task's planned steps)
    max_frame_gap: int | None = None
    num_workers: int = 0
    threads: int | None = None  # torch CPU threads (None: leave torch's default)
    gpus: int | None = None  # CUDA devices for data parallelism (None: every visible one; 1: no replication)
    resume: bool = True
    data: str = ""  # the --data spec, recorded in train.json

    def schedule(self, defaults: TrainDefaults) -> TrainDefaults:
        """The task's defaults with this config's overrides applied."""
        over = {k: v for k, v in (("batch_size", self.batch_size), ("lr_start", self.lr_start),
                                  ("lr_end", self.lr_end), ("max_frame_gap", self.max_frame_gap)) if v is not None}
        return replace(defaults, **over)


@dataclass
class TrainResult:
    """What a run produced: steps done, why it stopped, the exported weights and the loss log."""

    steps: int
    stopped: str
    final_weights: Path
    log: Path
    losses: list[float] = field(default_factory=list)


def learning_rate(step: int, total: int, lr_start: float, lr_end: float) -> float:
    """Geometric decay from ``lr_start`` (step 0) to ``lr_end`` (step ``total - 1``), as SiamFC/CFNet's releases do."""
    if total <= 1:
        return lr_start
    t = min(step, total - 1) / (total - 1)
    return float(lr_start * (lr_end / lr_start) ** t)


def atomic_torch_save(obj: Any, path: Path) -> None:
    """``torch.save`` through a temporary file and a rename (:func:`evalkit.io.atomic_write_bytes`)."""
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


def read_loss_log(path: Path) -> list[dict[str, float]]:
    """The rows of a ``loss.csv`` as floats (for curves and reports)."""
    with open(path, newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def task_loss_module(task: TrainTask, model: Any) -> Any:
    """A module whose forward is the task's loss, so ``torch.nn.DataParallel`` can replicate any task: each replica
    runs ``task.loss`` on its slice of the batch, whatever submodules of the network the task calls."""
    import torch

    class TaskLoss(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, batch: dict[str, Any]) -> Any:
            return task.loss(self.model, batch).reshape(1)

    return TaskLoss()


def data_parallel_loss(task: TrainTask, model: Any, device: str, gpus: int | None = None) -> Any:
    """``batch -> loss``: the task's loss, split over ``gpus`` CUDA devices with ``torch.nn.DataParallel`` when more
    than one is used (None: all visible ones), else computed directly."""
    import torch

    available = torch.cuda.device_count() if torch.device(device).type == "cuda" else 0
    n = available if gpus is None else min(gpus, available)
    if n <= 1:
        return lambda batch: task.loss(model, batch)
    parallel = torch.nn.DataParallel(task_loss_module(task, model), device_ids=list(range(n)))
    return lambda batch: parallel(batch).mean()


class _PairDataset:
    """Sample ``k`` of the run: a pair drawn with rng ``(seed, k)`` and transformed by the task."""

    def __init__(self, task: TrainTask, sampler: PairSampler, seed: int, max_gap: int) -> None:
        self.task, self.sampler, self.seed, self.max_gap = task, sampler, seed, max_gap

    def __getitem__(self, k: int) -> dict[str, Any]:
        rng = np.random.default_rng([self.seed, int(k)])
        pair = self.sampler.sample(rng, self.max_gap)
        return self.task.transform(pair, rng)


class Trainer:
    """Trains ``task`` on pairs from ``sampler`` (see the module docstring)."""

    def __init__(self, task: TrainTask, sampler: PairSampler, config: TrainConfig) -> None:
        self.task, self.sampler, self.config = task, sampler, config
        self.sched = config.schedule(task.defaults)
        self.total = config.schedule_steps or self.sched.planned_steps()
        self.out = Path(config.out_dir)
        self.ckpt_dir = self.out / "checkpoints"
        self.log_path = self.out / "loss.csv"

    def _run_info(self, device: str) -> dict[str, Any]:
        return {"task": self.task.name, "data": self.config.data, "seed": self.config.seed,
                "schedule": asdict(self.sched), "schedule_steps": self.total, "device": device,
                "weights_param": self.task.weights_param}

    def _check_resume(self, info: dict[str, Any]) -> None:
        path = self.out / "train.json"
        if not path.is_file():
            return
        old = json.loads(path.read_text())
        keys = ("task", "data", "seed", "schedule", "schedule_steps")
        diff = [k for k in keys if old.get(k) != info.get(k)]
        if diff and self.config.resume and self.checkpoints():
            raise EvalkitError(f"{path}: this folder holds a run with different {', '.join(diff)} "
                               f"({', '.join(f'{k}={old.get(k)!r}' for k in diff)}); use another --out or --no-resume")

    def checkpoints(self) -> list[Path]:
        """Checkpoint files in step order."""
        return sorted(self.ckpt_dir.glob("step_*.pt")) if self.ckpt_dir.is_dir() else []

    def _save_checkpoint(self, step: int, model: Any, opt: Any, scaler: Any) -> None:
        atomic_torch_save({"step": step, "model": model.state_dict(), "optimizer": opt.state_dict(),
                           "scaler": scaler.state_dict(), "task": self.task.name},
                          self.ckpt_dir / f"step_{step:07d}.pt")
        for old in self.checkpoints()[:-max(1, self.config.keep_checkpoints)]:
            old.unlink(missing_ok=True)

    def _truncate_log(self, step: int) -> None:
        """Drop log rows past the resumed checkpoint (a killed run may have logged steps it never saved)."""
        if not self.log_path.is_file():
            return
        rows = [r for r in read_loss_log(self.log_path) if r["step"] <= step]
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=LOG_FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({k: int(r[k]) if k == "step" else r[k] for k in LOG_FIELDS})
        atomic_write_bytes(self.log_path, buf.getvalue().encode())

    def run(self) -> TrainResult:
        """Train until the step or time budget or the schedule ends; write checkpoints, the log and final weights."""
        import torch
        from tqdm import tqdm

        from evalkit.harness import pick_device

        cfg = self.config
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        device = pick_device(cfg.device)
        dev_type = torch.device(device).type
        use_amp = bool(cfg.amp and dev_type == "cuda")
        info = self._run_info(device)
        self._check_resume(info)
        self.out.mkdir(parents=True, exist_ok=True)

        torch.manual_seed(cfg.seed)
        np.random.seed(cfg.seed % (2**32))
        model = self.task.build_model().to(device)
        loss_of = data_parallel_loss(self.task, model, device, cfg.gpus)
        groups = getattr(self.task, "param_groups", None)
        params = groups(model) if callable(groups) else model.parameters()
        opt = torch.optim.SGD(params, lr=self.sched.lr_start, momentum=self.sched.momentum,
                              weight_decay=self.sched.weight_decay)
        scaler = torch.amp.GradScaler("cuda", enabled=use_amp)

        start = 0
        existing = self.checkpoints() if cfg.resume else []
        if existing:
            ckpt = torch.load(existing[-1], map_location=device, weights_only=True)
            model.load_state_dict(ckpt["model"])
            opt.load_state_dict(ckpt["optimizer"])
            scaler.load_state_dict(ckpt["scaler"])
            start = int(ckpt["step"])
            self._truncate_log(start)
        elif self.log_path.exists():
            self.log_path.unlink()
        atomic_write_bytes(self.out / "train.json", json.dumps({**info, "resumed_from": start}, indent=2).encode())

        end = min(cfg.max_steps, self.total) if cfg.max_steps is not None else self.total
        bs = self.sched.batch_size
        dataset = _PairDataset(self.task, self.sampler, cfg.seed, self.sched.max_frame_gap)
        loader = torch.utils.data.DataLoader(dataset, batch_size=bs, sampler=range(start * bs, end * bs),
                                             num_workers=cfg.num_workers, pin_memory=dev_type == "cuda",
                                             drop_last=True, persistent_workers=False)
        new_log = not self.log_path.is_file()
        log_file = open(self.log_path, "a", newline="")  # noqa: SIM115 - closed in the finally below
        writer = csv.DictWriter(log_file, fieldnames=LOG_FIELDS)
        if new_log:
            writer.writeheader()
        model.train()
        t0 = time.perf_counter()
        step, losses = start, []
        stopped = "schedule complete" if start < end else f"nothing to do: the run is already at step {start}"
        bar = tqdm(total=end, initial=start, desc=f"train {self.task.name}", unit="step", dynamic_ncols=True)
        try:
            for batch in loader:
                lr = learning_rate(step, self.total, self.sched.lr_start, self.sched.lr_end)
                for g in opt.param_groups:
                    g["lr"] = lr * g.get("lr_mult", 1.0)
                batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
                opt.zero_grad(set_to_none=True)
                with torch.autocast(device_type=dev_type, dtype=torch.float16, enabled=use_amp):
                    loss = loss_of(batch)
                value = float(loss.detach())
                if not math.isfinite(value):
                    raise EvalkitError(f"training {self.task.name}: the loss became {value} at step {step + 1} "
                                       f"(lr {lr:.3g}); lower --lr or check the data ({self.sampler.description})")
                scaler.scale(loss).backward()
                if self.sched.grad_clip:
                    scaler.unscale_(opt)
                    torch.nn.utils.clip_grad_norm_(model.parameters(), self.sched.grad_clip)
                scaler.step(opt)
                scaler.update()
                step += 1
                losses.append(value)
                elapsed = time.perf_counter() - t0
                writer.writerow({"step": step, "lr": f"{lr:.6g}", "loss": f"{value:.6g}", "seconds": f"{elapsed:.3f}",
                                 "pairs_per_s": f"{(step - start) * bs / max(elapsed, 1e-9):.2f}"})
                log_file.flush()
                bar.update(1)
                bar.set_postfix(loss=f"{value:.4f}", lr=f"{lr:.2g}")
                if cfg.checkpoint_every and step % cfg.checkpoint_every == 0:
                    self._save_checkpoint(step, model, opt, scaler)
                if cfg.max_minutes is not None and elapsed >= cfg.max_minutes * 60:
                    stopped = f"time budget ({cfg.max_minutes:g} min)"
                    break
            else:
                if cfg.max_steps is not None and end < self.total and start < end:
                    stopped = f"step budget ({cfg.max_steps} steps)"
        finally:
            bar.close()
            log_file.close()
        if step > start:
            self._save_checkpoint(step, model, opt, scaler)
        final = self.out / "final.pth"
        model.eval()
        atomic_torch_save({k: v.detach().cpu() for k, v in self.task.export(model).items()}, final)
        return TrainResult(step, stopped, final, self.log_path, losses)
