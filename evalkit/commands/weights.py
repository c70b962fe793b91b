"""``evalkit weights``: the authors' released weight files: which exist, where evalkit finds them, fetching them.

    evalkit weights list                     # every catalog file, and where it was found (or how to get it)
    evalkit weights where dcfnet             # the path a tracker would load (explicit > EVALKIT_WEIGHTS > cache)
    evalkit weights fetch dcfnet             # download into the user cache with a progress bar, check the sha256
    evalkit weights fetch all --url-base http://mirror/weights    # from a mirror laid out like shared/weights

Nothing is downloaded implicitly by any other command.
"""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``evalkit weights``."""
    p = sub.add_parser("weights", help="list, locate and fetch the authors' released weight files",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ws = p.add_subparsers(dest="weights_action", required=True)
    ws.add_parser("list", help="catalog files and where they were found")
    w = ws.add_parser("where", help="the path a tracker would load for NAME")
    w.add_argument("name")
    f = ws.add_parser("fetch", help="download NAME (or all) into the user cache and check its sha256")
    f.add_argument("name", help="a catalog name (evalkit weights list) or 'all'")
    f.add_argument("--to", help="weights folder to fill instead of the user cache")
    f.add_argument("--url-base", help="download <URL>/<relpath> instead of the authors' URL (a mirror)")
    f.add_argument("--force", action="store_true", help="download even if a valid file is already there")
    f.add_argument("--timeout", type=float, default=60.0, help="network timeout in seconds (default 60)")
    p.set_defaults(handler=run_weights)


def run_weights(args: argparse.Namespace) -> int:
    """Handler of ``evalkit weights``."""
    from trackers.weights import CATALOG, fetch, locate, resolve_weights, sha256_of

    if args.weights_action == "list":
        for entry in CATALOG.values():
            path = locate(entry.name)
            if path is None:
                where = f"not found (evalkit weights fetch {entry.name})"
            else:
                ok = sha256_of(path) == entry.sha256
                where = f"{path}{'' if ok else '  [sha256 MISMATCH: not the published file]'}"
            print(f"{entry.name:14s} {entry.relpath:32s} {where}")
            print(f"{'':14s} from {entry.source}")
        return 0
    if args.weights_action == "where":
        print(resolve_weights(args.name))
        return 0
    names = list(CATALOG) if args.name == "all" else [args.name]
    for name in names:
        path = fetch(name, dest=args.to, base_url=args.url_base, force=args.force, timeout=args.timeout)
        print(f"{name}: {path} (sha256 verified)")
    return 0
