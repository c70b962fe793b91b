"""Which reader reads which folder: every tracker's result set under a path, whatever its layout.

    >>> sets = discover_results(Path("../shared/data/results/uav20l_dcf"))   # doctest: +SKIP
    >>> [s.tracker for s in sets]                                           # doctest: +SKIP
    ['DSST', 'ECO_HC', 'KCF', 'SRDCF', 'Staple']

A folder is told apart by what it holds, in this order: a ``run.json`` (an evalkit store folder,
:func:`evalkit.store.read_store_set`), a ``baseline/`` folder of ``<seq>_NNN.txt`` files (VOT,
:mod:`evalkit.results.vot`), ``<seq>_<tracker>.mat`` files (OTB toolkit, :mod:`evalkit.results.otb_mat`), ``<seq>.txt``
files (got10k / pysot, :mod:`evalkit.results.text`), ``<seq>/<seq>_NNN.txt`` folders (got10k's GOT-10k layout,
:mod:`evalkit.results.got10k`); a folder with none of these is looked into, three levels deep.
Problems in one file (wrong row count, non-numeric field, a corners-format first line) are collected with file and
line in ``ResultSet.problems``; the rest of the set is still scored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import cache, partial
from pathlib import Path

from evalkit.datasets.base import package_data
from evalkit.errors import EvalkitError
from evalkit.results.got10k import is_got10k_tracker_dir, read_got10k_set
from evalkit.results.model import ResultSet
from evalkit.results.otb_mat import read_mat_folder
from evalkit.results.text import TIMES_FOLDER, has_box_files, read_text_set
from evalkit.results.vot import read_vot_set, vot_experiment_dir
from evalkit.store.meta import RUN_META_FILE
from evalkit.store.reader import is_store_folder, read_run_meta, read_store_set

SCAN_DEPTH = 3


class DuplicateTrackerError(EvalkitError):
    """One tracker name found in several result sets under one path (``sources``: where each was read)."""

    def __init__(self, tracker: str, sources: list[Path]) -> None:
        super().__init__(f"tracker name {tracker!r} found in several places: {', '.join(str(s) for s in sources)}; "
                         f"point --results at one of them, or rename one folder")
        self.tracker = tracker
        self.sources = sources


def read_text_folder(folder: Path) -> list[ResultSet]:
    """The text result set of ``folder`` (``<seq>.txt`` files), named after the folder, as the cache's readers give."""
    return [read_text_set(folder, folder.name)]


def _mat_reader(protocol: str | None) -> tuple[Callable[[Path], list[ResultSet]], str]:
    """The .mat folder reader for ``protocol`` and its cache scope: OPE reads each file's run 1 only (the toolkit's
    ``results{1}``), inflating nothing after it; TRE, SRE and no stated protocol read every run."""
    if protocol == "ope":
        return partial(read_mat_folder, first_only=True), "run 1"
    return read_mat_folder, "all runs"


def _scan(folder: Path, depth: int, protocol: str | None, skipped: list[Path]) -> list[ResultSet]:
    """Result sets in ``folder``: a store, VOT ``baseline/`` results, .mat files, or box .txt files; else look one
    level further down. Store folders recorded under a protocol other than ``protocol`` are not read (``skipped``)."""
    if is_store_folder(folder):
        meta = read_run_meta(folder)
        if protocol is not None and meta is not None and meta.protocol not in (None, protocol):
            skipped.append(folder)
            return []
        return [read_store_set(folder)]
    if vot_experiment_dir(folder) is not None:
        return [read_vot_set(folder)]
    # parsing .mat files is most of a cold `evalkit score`: a folder's parse is reused while its files are unchanged
    # (imported here, not above: `python -m evalkit.results.cache` runs that module, which the package must not load)
    from evalkit.results.cache import OTB_MAT_PARSER, cached_read

    read, scope = _mat_reader(protocol)
    mats = cached_read(folder, "*.mat", read, OTB_MAT_PARSER, scope)
    if mats:
        return mats
    if has_box_files(folder):  # LaSOT's 280 files per tracker: parsing them is most of a cold score, as .mat's
        from evalkit.results.cache import TEXT_PARSER

        return cached_read(folder, "*.txt", read_text_folder, TEXT_PARSER, "boxes")
    if is_got10k_tracker_dir(folder):  # <tracker>/<seq>/<seq>_001.txt: not one tracker per sequence folder
        return [read_got10k_set(folder)]
    if depth == 0:
        return []
    subfolders = [d for d in sorted(folder.iterdir()) if d.is_dir() and d.name != TIMES_FOLDER]  # times: no tracker
    # the .mat and text folders among them (as the checks above tell) parsed in parallel into the cache, read below
    from evalkit.results.cache import OTB_MAT_PARSER, TEXT_PARSER, prefetch

    read, scope = _mat_reader(protocol)
    plain = [d for d in subfolders if not is_store_folder(d) and vot_experiment_dir(d) is None]
    prefetch(plain, "*.mat", read, OTB_MAT_PARSER, scope)
    prefetch([d for d in plain if next(d.glob("*.mat"), None) is None and has_box_files(d)], "*.txt",
             read_text_folder, TEXT_PARSER, "boxes")
    return [rs for d in subfolders for rs in _scan(d, depth - 1, protocol, skipped)]


def store_folders(path: Path, depth: int = SCAN_DEPTH) -> list[Path]:
    """The evalkit store folders at most ``depth`` levels below ``path`` (a store root, a protocol folder, ...)."""
    root = Path(path)
    return sorted({marker.parent for level in range(1, depth + 1)
                   for marker in root.glob("/".join(["*"] * level) + "/" + RUN_META_FILE)
                   if marker.is_file()})


def discover_results(path: Path, renames: dict[str, str] | None = None, protocol: str | None = None
                     ) -> list[ResultSet]:
    """Every tracker's result set under ``path`` (a tracker folder, a folder of them, or a folder of .mat files).

    Tracker names are mapped by :func:`default_renames`, then ``renames``; a name found twice raises
    :class:`DuplicateTrackerError`. With ``protocol``, evalkit store folders whose run.json records another protocol
    are not read (other layouts do not record one and are always read); a path holding only those gives no sets.
    """
    path = Path(path)
    if not path.is_dir():
        raise EvalkitError(f"results folder {path} does not exist")
    skipped: list[Path] = []
    found = _scan(path, SCAN_DEPTH, protocol, skipped)
    if not found and skipped:
        return []
    if not found:
        raise EvalkitError(f"no tracking results found under {path} (looked for <seq>_<tracker>.mat, "
                           f"<tracker>/<seq>.txt, <tracker>/baseline/<seq>/<seq>_001.txt and evalkit store "
                           f"folders)")
    built_in, user = default_renames(), renames or {}
    for rs in found:  # the archive's name mapped to the printed one, then the user's rename of either
        mapped = built_in.get(rs.tracker, built_in.get(rs.tracker.lower(), rs.tracker))
        rs.tracker = user.get(rs.tracker, user.get(rs.tracker.lower(), user.get(mapped, mapped)))
    by_name: dict[str, list[ResultSet]] = defaultdict(list)
    for rs in found:
        by_name[rs.tracker].append(rs)
    for name, sets in by_name.items():
        if len(sets) > 1:
            raise DuplicateTrackerError(name, [rs.source for rs in sets])
    return sorted(found, key=lambda r: r.tracker.lower())


@cache
def default_renames() -> dict[str, str]:
    """Built-in map from result-archive tracker names to the names papers print (extend with --rename)."""
    return dict(package_data("tracker_names.json")["names"])
