"""``evalkit compress``: Feature Distilling of a trained SiamFC into a narrower FDSiamFC, folded and checked.

    evalkit compress --tracker siamfc --ratio 0.3 --teacher runs/siamfc/final.pth --data got10k:/data/GOT-10k \
        --out runs/fd30
    evalkit run --trackers fdsiamfc30 --param fdsiamfc30.weights=runs/fd30/final.pth --suite otb100 ...
    evalkit compress --tracker siamfc --ratio 0.3 --teacher random --data demo --out /tmp/fd --max-steps 20   # smoke

Steps: (1) the student = the teacher with an FD hourglass after every conv layer, each starting from the teacher's
activations on ``--calibration-pairs`` exemplar crops; (2) end-to-end distillation with the shared trainer (SiamFC
logistic loss + ``--distill-weight`` x response matching; CUDA + mixed precision when present, resumable, loss.csv);
(3) the hourglasses are folded into plain convolutions (``final.pth``, the released FDSiamFC layout); (4) the fold
is checked (max |folded - unfolded| on random crops) and parameter counts are written to ``compress.json``.
Without ``--teacher`` the teacher is looked up as siamfc/siamfc.pth under $EVALKIT_WEIGHTS and the user cache.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from evalkit.errors import EvalkitError


def add_parser(sub: Any) -> None:
    """Add ``evalkit compress``."""
    p = sub.add_parser("compress", help="Feature Distilling: compress a trained SiamFC into FDSiamFC (fold + check)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tracker", default="siamfc", help="the tracker to compress (siamfc)")
    p.add_argument("--ratio", type=float, required=True, help="width ratio, e.g. 0.3 (FDSiamFC_30) or 0.15")
    p.add_argument("--teacher", help="trained SiamFC weights (evalkit train --tracker siamfc); 'random': smoke test")
    p.add_argument("--data", required=True, help="demo, got10k:PATH, vid:PATH, lasot:PATH or suite:NAME[:PATH]")
    p.add_argument("--out", type=Path, required=True, help="output folder (checkpoints, loss.csv, final.pth)")
    p.add_argument("--distill-weight", type=float, default=1.0, help="weight of the response-matching term")
    p.add_argument("--calibration-pairs", type=int, default=16,
                   help="pairs whose exemplars start the hourglasses from the teacher's activations (0: random start)")
    p.add_argument("--max-steps", type=int)
    p.add_argument("--max-minutes", type=float)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float, help="initial learning rate (default 1e-3)")
    p.add_argument("--lr-end", type=float, help="final learning rate (default 1e-5)")
    p.add_argument("--device", help="cuda, cuda:1 or cpu (default: cuda when available)")
    p.add_argument("--no-amp", action="store_true")
    p.add_argument("--threads", type=int)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-resume", action="store_true")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Distil, fold, check, report."""
    import torch

    from evalkit.io import atomic_write_text
    from trackers.fdsiamfc.distill import fold, fold_error, parameter_count
    from trackers.fdsiamfc.train import FDSiamFCTask
    from trackers.training import TrainConfig, Trainer, open_pairs

    if args.tracker.lower() != "siamfc":
        raise EvalkitError(f"evalkit compress distils SiamFC (AlexNet) teachers; got --tracker {args.tracker}")
    random_teacher = (args.teacher or "").lower() == "random"
    task = FDSiamFCTask(teacher=None if random_teacher else args.teacher, ratio=args.ratio,
                        distill_weight=args.distill_weight, random_teacher=random_teacher)
    sampler = open_pairs(args.data)
    if args.calibration_pairs > 0:
        task.calibrate(sampler, args.calibration_pairs, seed=args.seed)
    config = TrainConfig(out_dir=args.out, max_steps=args.max_steps, max_minutes=args.max_minutes, seed=args.seed,
                         device=args.device, amp=not args.no_amp, batch_size=args.batch_size, lr_start=args.lr,
                         lr_end=args.lr_end, num_workers=args.workers, threads=args.threads,
                         resume=not args.no_resume, data=args.data)
    print(f"distilling {args.tracker} -> width {args.ratio} on {sampler.description}")
    trainer = Trainer(task, sampler, config)
    result = trainer.run()

    student = task.build_model()
    checkpoints = trainer.checkpoints()
    if checkpoints:
        student.load_state_dict(torch.load(checkpoints[-1], map_location="cpu", weights_only=True)["model"])
    student.eval()
    folded = fold(student)
    err = fold_error(student, folded)
    teacher = task.teacher
    report = {
        "tracker": task.name, "ratio": args.ratio, "teacher": args.teacher, "data": args.data,
        "steps": result.steps, "stopped": result.stopped, "weights": str(result.final_weights),
        "widths": [s.out_channels for s in folded.backbone.layers],
        "params_teacher": parameter_count(teacher), "params_student_with_fd": parameter_count(student),
        "params_folded": parameter_count(folded),
        "fold_max_abs_diff_response": err["response"], "fold_max_abs_diff_features": err["features"],
        "response_scale": err["response_scale"], "feature_scale": err["feature_scale"],
        "losses_first_last": [result.losses[0], result.losses[-1]] if result.losses else None,
    }
    atomic_write_text(args.out / "compress.json", json.dumps(report, indent=2) + "\n")
    print(f"{result.steps} steps ({result.stopped}); widths {report['widths']}")
    print(f"parameters: teacher {report['params_teacher']:,}, student with FD {report['params_student_with_fd']:,}, "
          f"folded {report['params_folded']:,}")
    print(f"fold check: max |folded - unfolded| response {err['response']:.3g} (scale {err['response_scale']:.3g}), "
          f"features {err['features']:.3g} (scale {err['feature_scale']:.3g})")
    if task.name in ("fdsiamfc30", "fdsiamfc15"):
        print(f"use: evalkit run --trackers {task.name} --param {task.name}.weights={result.final_weights} ...")
    else:
        print(f"weights: {result.final_weights} (widths {report['widths']}; the fdsiamfc30/15 trackers take 0.3/0.15)")
    return 0
