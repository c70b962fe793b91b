"""``evalkit pack``: the zip archive the GOT-10k or TrackingNet evaluation server scores, from one tracker's results.

    evalkit pack --suite got10k-test --results results/GOT-10k/SiamFC --out siamfc_got10k_test.zip
    evalkit pack --suite trackingnet --results results/TrackingNet/SiamFC --out siamfc_trackingnet.zip \\
                 --data-root /data/TrackingNet

Results in any layout evalkit reads (got10k's ``<seq>/<seq>_001.txt`` with ``<seq>_time.txt``, ``<seq>.txt`` files,
an evalkit store folder). Every test sequence must be there (the lists ship with evalkit; ``--list FILE`` takes
another one name per line); otherwise nothing is written and every missing sequence and bad file is named.
``--data-root`` (the test split: GOT-10k ``test/<seq>/*.jpg``, TrackingNet ``TEST/frames/<seq>/*.jpg``) also checks
one box per frame. The format of each archive is described in :mod:`evalkit.interop.submission`.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``evalkit pack``."""
    p = sub.add_parser("pack", help="write the GOT-10k / TrackingNet evaluation-server archive of one tracker",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--suite", required=True, choices=["got10k-test", "trackingnet"])
    p.add_argument("--results", required=True, type=Path, help="one tracker's results (or a folder of trackers, "
                                                                "with --tracker)")
    p.add_argument("--out", required=True, type=Path, help="the .zip to write")
    p.add_argument("--tracker", help="the tracker to pack when --results holds several")
    p.add_argument("--list", type=Path, dest="list_file", help="test sequence names, one per line (default: the "
                                                                 "list shipped with evalkit)")
    p.add_argument("--data-root", type=Path, help="the test split's frames, to check one box per frame")
    p.set_defaults(handler=run_pack)


def run_pack(args: argparse.Namespace) -> int:
    """Handler of ``evalkit pack``."""
    from evalkit.errors import EvalkitError
    from evalkit.interop.submission import count_frames, sequence_list, write_pack
    from evalkit.results import discover_results

    if args.out.suffix.lower() != ".zip":
        raise EvalkitError(f"--out {args.out}: the servers take a .zip archive")
    sets = discover_results(args.results)
    if args.tracker:
        sets = [rs for rs in sets if rs.tracker.lower() == args.tracker.lower()]
        if not sets:
            raise EvalkitError(f"no tracker {args.tracker!r} under {args.results}")
    if len(sets) != 1:
        raise EvalkitError(f"{args.results} holds {len(sets)} trackers ({', '.join(rs.tracker for rs in sets)}); "
                           f"name one with --tracker")
    names = sequence_list(args.suite, args.list_file)
    frames = count_frames(args.suite, args.data_root, names) if args.data_root else None
    summary = write_pack(args.suite, sets[0], args.out, names, frames)
    reps = f", {summary.repetitions} repetition(s)" if args.suite == "got10k-test" else ""
    print(f"{summary.path}: {sets[0].tracker} on {summary.n_sequences} {args.suite} sequences{reps}, "
          f"{summary.n_files} files")
    return 0
