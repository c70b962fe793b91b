"""``evalkit data``: where each benchmark's data comes from, fetching it, checking a folder, and which root is used.

    evalkit data list                                   # every suite: source, size, root, fetchable or manual
    evalkit data where otb100                           # the root evalkit would use, and where that came from
    evalkit data fetch otb100 --root ~/data/otb100      # download (resumable, checked), extract into the layout
    evalkit data fetch otb100 --mirror http://mirror/otb --sequences Couple,Dog1
    evalkit data verify otb100 --root ../shared/data/sequences --sequences Couple,Dog1

verify prints one line per missing sequence, malformed annotation, missing frame or unreadable / odd-sized image, then
a summary; exit status 0 when everything is there, 2 otherwise. Nothing is downloaded except by ``fetch``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from evalkit.cli.options import csv_list


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``evalkit data``."""
    p = sub.add_parser("data", help="list, locate, fetch and verify benchmark data",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ds = p.add_subparsers(dest="data_action", required=True)
    ds.add_parser("list", help="every suite: where its data comes from, its size, its root, fetchable or not")
    w = ds.add_parser("where", help="the data root evalkit would use for SUITE and where that came from")
    w.add_argument("suite")
    w.add_argument("--root", type=Path, help="a root given on the command line (wins over everything)")
    f = ds.add_parser("fetch", help="download SUITE from its official location (or a mirror) into its root")
    f.add_argument("suite")
    f.add_argument("--root", type=Path, help="where to put it (default: evalkit data where SUITE)")
    f.add_argument("--mirror", metavar="URL",
                   help="base URL laid out like the official location (default: $EVALKIT_MIRROR_<SUITE>, "
                        "$EVALKIT_MIRROR/<suite>, else the official one)")
    f.add_argument("--sequences", type=csv_list, help="only these sequences (per-sequence and VOT sources)")
    f.add_argument("--timeout", type=float, default=60.0, help="network timeout in seconds (default 60)")
    v = ds.add_parser("verify", help="check a data folder: sequences, frames, images, annotations")
    v.add_argument("suite")
    v.add_argument("--root", type=Path, help="the folder to check (default: evalkit data where SUITE)")
    v.add_argument("--sequences", type=csv_list, help="check only these sequences")
    v.add_argument("--no-images", action="store_true", help="do not open the frame images (presence only)")
    p.set_defaults(handler=run_data)


def resolve_root(suite: str, flag: Path | None, config_path: Path | None = None) -> tuple[Path, str]:
    """The root of ``suite`` and where it came from: the flag, ``$EVALKIT_DATA_<SUITE>``, evalkit.toml's
    ``[datasets]``, else the default ``<cache>/data/<suite>`` (where ``fetch`` puts it)."""
    from evalkit.config import load_config

    if flag is not None:
        return flag.expanduser(), "--root"
    env = "EVALKIT_DATA_" + suite.upper().replace("-", "_")
    if os.environ.get(env):
        return Path(os.environ[env]).expanduser(), f"${env}"
    cfg = load_config(config_path)
    if suite in cfg.datasets:
        return cfg.datasets[suite], f"[datasets] {suite} in {cfg.source}"
    from evalkit.datasets.fetch import default_root

    return default_root(suite, cfg.cache), "default: the cache, where fetch puts it"


def run_data(args: argparse.Namespace) -> int:
    """Handler of ``evalkit data``."""
    from evalkit.registry import SUITES

    if args.data_action == "list":
        print(format_listing(getattr(args, "config", None)))
        return 0
    suite = args.suite.lower()
    SUITES.get(suite)  # an unknown name fails here, with suggestions
    root, origin = resolve_root(suite, args.root, getattr(args, "config", None))
    if args.data_action == "where":
        state = "exists" if root.exists() else "does not exist yet"
        print(f"{root}\t({origin}; {state})")
        return 0
    if args.data_action == "fetch":
        return _fetch(args, suite, root, origin)
    return _verify(args, suite, root)


def _fetch(args: argparse.Namespace, suite: str, root: Path, origin: str) -> int:
    from evalkit.datasets.fetch import fetch_suite

    added = fetch_suite(suite, root, mirror=args.mirror, sequences=args.sequences, timeout=args.timeout,
                        report=lambda line: print(line, file=sys.stderr))
    print(f"{suite}: {len(added)} added to {root}")
    if origin.startswith("default"):
        env = "EVALKIT_DATA_" + suite.upper().replace("-", "_")
        print(f"to use it: [datasets] {suite} = \"{root}\" in evalkit.toml, or export {env}={root}")
    print(f"check it: evalkit data verify {suite} --root {root}")
    return 0


def _verify(args: argparse.Namespace, suite: str, root: Path) -> int:
    from evalkit.verify import verify_suite

    result = verify_suite(suite, root, args.sequences, images=not args.no_images)
    for finding in result.findings:
        print(finding)
    print(result.summary())
    return 0 if result.ok else 2


def format_listing(config_path: Path | None = None) -> str:
    """Per suite: how it is obtained (fetch, manual, auto), its size, its root and whether it exists; then where
    it comes from, whether a sha256 is published, and for manual suites what to do."""
    from evalkit.datasets.fetch import mirror_url, sources
    from evalkit.registry import SUITES

    rows = [f"{'SUITE':12s} {'GET':7s} ROOT"]
    pad = " " * 21
    catalog = {src.suite: src for src in sources()}
    for suite in [*catalog, *(s for s in SUITES.names() if s not in catalog)]:
        root, origin = resolve_root(suite, None, config_path)
        found = "found" if root.exists() else "not found"
        src = catalog.get(suite)
        if src is None:  # a registered suite the catalog does not know yet
            rows.append(f"{suite:12s} {'?':7s} {root} ({origin.split(':')[0]}, {found})")
            rows.append(f"{pad}no entry in evalkit/datasets/data/sources.json")
            continue
        how = "auto" if src.kind == "generated" else \
            "fetch" if src.fetchable or mirror_url(src.suite, None) else "manual"
        rows.append(f"{src.suite:12s} {how:7s} {root} ({origin.split(':')[0].split(' in ')[0]}, {found})")
        rows.append(f"{pad}size: {src.size}")
        if src.kind != "generated":
            same = f" (the {src.origin} download)" if src.origin != src.suite else ""
            rows.append(f"{pad}from: {src.url or src.homepage}{same}")
            rows.append(f"{pad}sha256: {'published' if src.sha256 else src.digest.split(':')[0]}")
        if how != "fetch":
            rows.append(f"{pad}how: {src.how}")
    return "\n".join(rows)
