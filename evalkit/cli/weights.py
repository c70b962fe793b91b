"""``evalkit weights``: the authors' released weight files: which exist, where evalkit finds them, fetching them.

    evalkit weights list                     # every network: source, licence, sha256, where found (or how to get it)
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
    from trackers.weights import CATALOG, fetch, resolve_weights

    if args.weights_action == "list":
        print(format_listing())
        return 0
    if args.weights_action == "where":
        print(resolve_weights(args.name))
        return 0
    names = list(CATALOG) if args.name == "all" else [args.name]
    for name in names:
        path = fetch(name, dest=args.to, base_url=args.url_base, force=args.force, timeout=args.timeout)
        print(f"{name}: {path} (sha256 verified)")
    return 0


def format_listing() -> str:
    """One block per network: name, licence, short sha256, where it was found (or how to get it), its source."""
    from trackers.weights import CATALOG, TRAIN_ONLY, shared_weights_folder, weights_status

    rows = [f"{'NETWORK':22s} {'LICENCE':8s} {'SHA256':12s}  PRESENT"]
    hint = None
    for name in CATALOG:
        st = weights_status(name)
        entry = st.entry
        if st.path is None:
            hint = hint or shared_weights_folder(entry.relpath)
            where = f"no: evalkit weights fetch {name} (looked in {', '.join(str(p) for p in st.looked)})"
        elif st.ok:
            where = f"yes: {st.path} ({st.place})"
        else:
            where = (f"REFUSED: {st.path} ({st.place}) has sha256 {(st.sha256 or '')[:12]}, not the published file; "
                     f"delete it, then evalkit weights fetch {name}")
        rows.append(f"{name:22s} {entry.licence:8s} {entry.sha256[:12]:12s}  {where}")
        rows.append(f"{'':22s} from {entry.source}")
    for name, t in TRAIN_ONLY.items():
        rows.append(f"{name:22s} {'-':8s} {'-':12s}  no file: {t.how}")
        rows.append(f"{'':22s} from {t.source}")
    if hint:
        rows.append(f"missing files are in a reference folder: export EVALKIT_WEIGHTS={hint}")
    return "\n".join(rows)
