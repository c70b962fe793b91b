"""``evalkit train``: train a deep tracker's network with the shared trainer (trackers/training).

    evalkit train --tracker cfnet-conv2 --data demo --out runs/c2 --max-minutes 5
    evalkit train --tracker dcfnet --data got10k:/data/GOT-10k --out runs/dcfnet          # the release's schedule
    evalkit train --tracker cfnet-conv2 --data vid:/data/ILSVRC2015 --out runs/c2          # resumes if runs/c2 exists
    evalkit train --list                                                                  # trainable trackers
    evalkit run --trackers cfnet-conv2 --param cfnet-conv2.weights=runs/c2/final.pth ...  # use the result

``--data``: ``demo`` (evalkit's generated suite), ``got10k:PATH``, ``vid:PATH`` (ILSVRC-VID), ``lasot:PATH`` or
``suite:NAME[:PATH]`` (any evalkit suite with frames). The run writes ``train.json``, ``loss.csv`` (the loss curve),
``checkpoints/`` (atomic, every ``--checkpoint-every`` steps) and ``final.pth``; a second run with the same ``--out``
resumes from the newest checkpoint. CUDA is used when present (mixed precision; ``--no-amp`` turns it off).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``evalkit train``."""
    p = sub.add_parser("train", help="train a tracker's network (CFNet, DCFNet, SiamFC, ...) on a video dataset",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tracker", help="tracker name with a training task (evalkit train --list)")
    p.add_argument("--data", help="demo, got10k:PATH, vid:PATH, lasot:PATH or suite:NAME[:PATH]")
    p.add_argument("--out", type=Path, help="output folder (checkpoints, loss.csv, final.pth)")
    p.add_argument("--list", action="store_true", help="list the trainable trackers and their schedules, then exit")
    p.add_argument("--max-steps", type=int, help="stop after this many optimiser steps in total")
    p.add_argument("--max-minutes", type=float, help="stop after this much wall time (checkpoint + final weights)")
    p.add_argument("--batch-size", type=int, help="override the release's batch size")
    p.add_argument("--lr", type=float, help="override the initial learning rate")
    p.add_argument("--lr-end", type=float, help="override the final learning rate")
    p.add_argument("--schedule-steps", type=int,
                   help="length of the learning-rate decay in steps (default: the release's epochs x pairs / batch)")
    p.add_argument("--max-frame-gap", type=int, help="pairs at most this many frames apart")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", help="cuda, cuda:1, cpu (default: cuda when available)")
    p.add_argument("--no-amp", action="store_true", help="no mixed precision on CUDA")
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes (default 0)")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--gpus", type=int, help="CUDA devices to split each batch over (torch DataParallel; default: all "
                                            "visible ones)")
    p.add_argument("--checkpoint-every", type=int, default=500, metavar="STEPS")
    p.add_argument("--no-resume", action="store_true", help="start afresh even if --out holds checkpoints")
    p.set_defaults(handler=run_train)


def run_train(args: argparse.Namespace) -> int:
    """Handler of ``evalkit train``."""
    from evalkit.errors import EvalkitError
    from trackers.training import TrainConfig, Trainer, open_pairs, read_loss_log, task_for, trainable

    if args.list:
        for name in trainable():
            d = task_for(name).defaults
            print(f"{name:26s} batch {d.batch_size:3d}  {d.epochs:3d} epochs x {d.pairs_per_epoch} pairs  "
                  f"lr {d.lr_start:.0e} -> {d.lr_end:.1e}  wd {d.weight_decay:g}  gap {d.max_frame_gap}")
        return 0
    missing = [f"--{k}" for k in ("tracker", "data", "out") if getattr(args, k) is None]
    if missing:
        raise EvalkitError(f"evalkit train needs {', '.join(missing)} (or --list)")
    for flag in ("max_steps", "batch_size", "workers", "checkpoint_every", "schedule_steps"):
        value = getattr(args, flag)
        if value is not None and value < (0 if flag == "workers" else 1):
            raise EvalkitError(f"--{flag.replace('_', '-')} must be positive, got {value}")
    task = task_for(args.tracker)
    sampler = open_pairs(args.data)
    config = TrainConfig(out_dir=args.out, max_steps=args.max_steps, max_minutes=args.max_minutes, seed=args.seed,
                         device=args.device, amp=not args.no_amp, checkpoint_every=args.checkpoint_every,
                         batch_size=args.batch_size, lr_start=args.lr, lr_end=args.lr_end,
                         schedule_steps=args.schedule_steps, max_frame_gap=args.max_frame_gap,
                         num_workers=args.workers, threads=args.threads, gpus=args.gpus, resume=not args.no_resume,
                         data=args.data)
    print(f"training {task.name} on {sampler.description}: {len(sampler)} tracks, {sampler.n_frames()} frames")
    result = Trainer(task, sampler, config).run()
    rows = read_loss_log(result.log)
    if rows:
        k = max(1, min(20, len(rows) // 5))
        first = sum(r["loss"] for r in rows[:k]) / k
        last = sum(r["loss"] for r in rows[-k:]) / k
        print(f"{result.steps} steps ({result.stopped}); loss, mean of {k} steps: first {first:.4f}, last {last:.4f}")
    print(f"weights: {result.final_weights}  (use --param {task.name}.{task.weights_param}={result.final_weights})")
    print(f"loss log: {result.log}")
    return 0
