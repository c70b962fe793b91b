"""``evalkit list``: the trackers, suites, profiles and protocols evalkit knows.

    evalkit list trackers
    evalkit list profiles
"""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``evalkit list``."""
    p = sub.add_parser("list", help="list known trackers, suites, profiles or protocols", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["trackers", "suites", "profiles", "protocols"])
    p.set_defaults(handler=run_list)


def run_list(args: argparse.Namespace) -> int:
    """Handler of ``evalkit list``."""
    from evalkit.registry import PROFILES, SCORERS, SUITES, TRACKERS, _load_entry_points, tracker_class

    if args.what == "trackers":
        _load_entry_points()
        width = max(len(n) for n in TRACKERS.names())
        for name in TRACKERS.names():
            cls = tracker_class(name)
            doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
            alias = f" (alias of {cls.name})" if getattr(cls, "name", name) != name else ""
            print(f"{name:{width}s}  {doc}{alias}")
    elif args.what == "suites":
        print("\n".join(SUITES.names()))
    elif args.what == "protocols":
        print("\n".join(SCORERS.names()))
    else:
        for name in PROFILES.names():
            print(f"{name:12s} {PROFILES.get(name).description}")
    return 0
