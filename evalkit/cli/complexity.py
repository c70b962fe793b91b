"""``evalkit complexity``: parameters, model size, GFLOPs per tracking step and FPS of deep trackers (T3 layout).

    evalkit complexity --trackers siamfc,fdsiamfc30,fdsiamfc15 --param siamfc.random_init=true
    evalkit complexity --trackers dcffnet --param dcffnet.random_init=true --frames 5 --format json > c.json
    evalkit table --layout fdsiamfc-compression --measured c.json ...      # the README's compression table

Trackers are columns, as in the FDSiamFC README's compression table. FLOPs are counted by torch's own counter
(2 per multiply-accumulate; see trackers.common.complexity for what is and is not counted); ``--gflops crop`` puts
the one-search-crop backbone count (the README's convention) into the JSON ``gflops`` field instead of the
per-step count. FPS is measured on synthetic frames on the device named in the output.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from evalkit.cli.options import param_overrides
from evalkit.errors import EvalkitError


def add_parser(sub: Any) -> None:
    """Add ``evalkit complexity``."""
    p = sub.add_parser("complexity", help="parameters, model size, GFLOPs per tracking step and FPS of deep trackers",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trackers", required=True, type=lambda s: [t for t in s.split(",") if t],
                   help="comma-separated registered deep trackers")
    p.add_argument("--param", action="append", default=[], metavar="TRACKER.KEY=VALUE",
                   help="tracker parameter (repeatable), e.g. siamfc.random_init=true")
    p.add_argument("--device", help="cuda, cuda:1 or cpu (default: cuda when available)")
    p.add_argument("--frames", type=int, default=30, help="timed update() calls per tracker (0: no FPS)")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's own choice)")
    p.add_argument("--gflops", choices=("step", "crop"), default="step",
                   help="which count the JSON 'gflops' field holds: per tracking step (default) or per search crop")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(handler=run)


def _overrides(params: list[str], names: list[str]) -> dict[str, dict[str, str]]:
    out = param_overrides(params)
    unknown = set(out) - {n.lower() for n in names}
    if unknown:
        raise EvalkitError(f"--param names trackers that are not measured: {', '.join(sorted(unknown))}")
    return out


def _fmt(v: float | None, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def format_table(records: list[Any], gflops_mode: str) -> str:
    """Trackers as columns: size, GFLOPs (step and crop), FPS, parameters; then the conventions and devices."""
    from trackers.common.complexity import FLOP_CONVENTION, SIZE_CONVENTION

    rows = [("Model size (MiB)", [_fmt(r.size_mib) for r in records]),
            ("Saved state dict (MiB)", [_fmt(r.file_mib) for r in records]),
            ("GFLOPs per tracking step", [_fmt(r.gflops_step) for r in records]),
            ("GFLOPs per search crop", [_fmt(r.gflops_crop) for r in records]),
            ("GFLOPs at initialisation", [_fmt(r.gflops_init) for r in records]),
            ("FPS", [_fmt(r.fps, 1) for r in records]),
            ("Parameters", [f"{r.params:,}" for r in records])]
    head = ["Tracker"] + [r.tracker for r in records]
    widths = [max(len(head[0]), *(len(name) for name, _ in rows))]
    widths += [max(len(head[i + 1]), *(len(vals[i]) for _, vals in rows)) for i in range(len(records))]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths, strict=True)))]
    lines.append("  ".join("-" * w for w in widths))
    for name, vals in rows:
        lines.append("  ".join([name.ljust(widths[0])] + [v.rjust(w) for v, w in zip(vals, widths[1:], strict=True)]))
    devices = sorted({r.device for r in records})
    lines += ["", f"FLOPs: {FLOP_CONVENTION}.", f"Size: {SIZE_CONVENTION}.",
              "GFLOPs per search crop: one instance-size crop through the backbone (the FDSiamFC README's convention).",
              f"FPS: update() calls per second on synthetic 480x640 frames "
              f"({records[0].frames if records else 0} timed), on {', '.join(devices)}."]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Measure every tracker named in ``--trackers``."""
    import torch
    from tqdm import tqdm

    from evalkit.harness import keep_freed_memory
    from evalkit.registry import tracker_class
    from trackers.common.complexity import measure_tracker

    if args.threads:
        torch.set_num_threads(args.threads)
    keep_freed_memory()  # FPS as evalkit run measures it: no per-frame page faults
    overrides = _overrides(args.param, args.trackers)
    records = []
    for name in tqdm(args.trackers, desc="complexity", unit="tracker", file=sys.stderr, disable=len(args.trackers) < 2):
        cls = tracker_class(name)
        if not getattr(cls, "needs_device", False):
            raise EvalkitError(f"{name} is not a deep tracker (no torch network): complexity measures deep trackers")
        tracker = cls.from_mapping(overrides.get(name.lower(), {}))
        try:
            records.append(measure_tracker(tracker, args.device, frames=args.frames))
        except TypeError as exc:
            raise EvalkitError(str(exc)) from None
    if args.format == "json":
        out = {}
        for r in records:
            rec = r.as_json()
            rec["gflops"] = r.gflops_crop if args.gflops == "crop" and r.gflops_crop is not None else r.gflops_step
            rec["gflops_field"] = "per search crop" if args.gflops == "crop" and r.gflops_crop is not None \
                else "per tracking step"
            out[r.tracker] = rec
        print(json.dumps({"trackers": out}, indent=2))
    else:
        print(format_table(records, args.gflops))
    return 0
