"""The result sets a command works on: every set under some folders, named as the tables print them.

    >>> renames = [("mine[cf=none]", "Baseline")]
    >>> sets = load_result_sets([Path("runs/otb100/ope")], renames, protocol="ope")   # doctest: +SKIP
    >>> [rs.tracker for rs in sets]                                                    # doctest: +SKIP
    ['Baseline', 'mine[cf=first]']

Names go through the built-in archive-name map (:func:`evalkit.results.default_renames`), then the user's renames.
Several stored runs of one tracker (the ``<tracker>@<fingerprint>`` folders of an ablation by ``--param``, or a run
before and after a parameter change) are told apart by the parameters in which their ``run.json`` differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evalkit.errors import EvalkitError
from evalkit.results.discovery import DuplicateTrackerError, discover_results, store_folders
from evalkit.results.model import ResultSet
from evalkit.store.reader import store_params, store_protocol, stored_run_meta


def discover_variants(path: Path, renames: dict[str, str], protocol: str | None = None) -> list[ResultSet]:
    """Result sets under ``path`` (store folders of ``protocol`` only, when given); a folder holding several store
    folders whose tracker names collide (one tracker's variants) is read store folder by store folder instead of
    being refused."""
    try:
        return discover_results(path, renames, protocol)
    except DuplicateTrackerError:
        children = store_folders(path)  # the store root (<suite>/<protocol>/<tracker>@<fp>), a protocol folder, ...
        if len(children) < 2:
            raise
        return [rs for child in children for rs in discover_results(child, renames, protocol)]


def variant_label(rs: ResultSet, mine: dict[str, Any], theirs: list[dict[str, Any]]) -> str:
    """``name[key=value,...]`` from the run.json parameters (``mine``) in which this set differs from the others of
    its name (``theirs``), else ``name@<fingerprint>`` (the store folder's suffix)."""
    keys = sorted({k for p in theirs for k, v in p.items() if mine.get(k) != v}
                  | {k for k in mine if any(p.get(k) != mine[k] for p in theirs)})
    if keys:
        return f"{rs.tracker}[{','.join(f'{k}={mine.get(k)}' for k in keys)}]"
    return f"{rs.tracker}@{Path(rs.source).name.rpartition('@')[2] or Path(rs.source).name}"


def load_result_sets(paths: Sequence[Path], renames: Sequence[tuple[str, str]], protocol: str | None = None
                     ) -> list[ResultSet]:
    """Every result set under the ``--results`` folders, the built-in name map applied, then ``renames``.

    Several stored runs of one tracker with different parameters (an ablation by ``--param``) are told apart as
    ``name[key=value]`` (the parameters in which they differ), which ``renames`` can map to the printed names.
    With ``protocol``, store folders recorded under another protocol are left out, unread. Example:
    ``--rename "dcffnet[variant=cf-1st]=CF-1st"``. One tracker name may appear once.
    """
    user = dict(renames)
    # archive names mapped, then renames; store folders of other protocols are not these results: never read
    sets = [rs for path in paths for rs in discover_variants(Path(path), user, protocol)]
    by_name: dict[str, list[ResultSet]] = {}
    for rs in sets:
        by_name.setdefault(rs.tracker.lower(), []).append(rs)
    for group in by_name.values():
        if len(group) > 1:
            if any(stored_run_meta(rs) is None for rs in group):  # not one tracker's runs: two sources, one name
                places = [str(rs.source) for rs in group]
                where = f"both {places[0]} and {places[1]}" if len(places) == 2 else ", ".join(places)
                raise EvalkitError(f"tracker name {group[0].tracker!r} is in {where}; tell them apart with --rename, "
                                   f"e.g. --rename {_rename_example(group)}")
            protocols = {store_protocol(rs) for rs in group}
            if len(protocols) > 1:  # one tracker's runs under several protocols: not variants to tell apart
                folders = sorted({str(Path(rs.source).parent) for rs in group})
                raise EvalkitError(f"tracker {group[0].tracker!r} has results of several protocols "
                                   f"({', '.join(sorted(p or '?' for p in protocols))}) under the --results folder; "
                                   f"point --results at one protocol's folder: {' or '.join(folders)}")
            params = [store_params(rs) for rs in group]
            labels = [variant_label(rs, mine, params[:i] + params[i + 1:]) for i, (rs, mine)
                      in enumerate(zip(group, params, strict=True))]
            for rs, label in zip(group, labels, strict=True):
                rs.tracker = user.get(label, label)
    seen: dict[str, Path] = {}
    for rs in sets:
        if rs.tracker.lower() in seen:
            raise EvalkitError(f"tracker {rs.tracker!r} is in both {seen[rs.tracker.lower()]} and {rs.source}; "
                               f"rename one with --rename")
        seen[rs.tracker.lower()] = rs.source
    return sets


def _rename_example(group: Sequence[ResultSet]) -> str:
    """A ``--rename`` of the set that is not an evalkit store folder (an archive's), e.g. ``CFNet-conv2=authors``."""
    other = next(rs for rs in group if stored_run_meta(rs) is None)
    return f"{other.tracker}=authors"
