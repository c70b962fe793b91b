"""A cache of parsed result folders, so scoring in a fresh process does not parse the same files again.

    >>> sets = cached_read(folder, "*.mat", read_mat_folder, OTB_MAT_PARSER)   # doctest: +SKIP

Parsing dominates a cold ``evalkit score``: the 600 OTB-toolkit .mat files of six trackers' TRE runs inflate to
120 MB and take seconds to parse whole (tenths for OPE's run 1 alone); reading and hashing them costs a few
hundredths. So what a reader made of a folder (its result sets: boxes, start frames, sequence names and the problems
found) is kept under ``<cache>/results/`` (the cache folder of ``evalkit.toml``'s ``[paths] cache``,
``$EVALKIT_CACHE``, default ``~/.cache/evalkit``):

- keyed by content, never stale: every source file's size, ``mtime_ns`` and SHA-256 must match, and so must the
  cache format and a digest of the reader's own source and data files (a parser change invalidates every entry);
- safe to read from a folder someone else could write: JSON and raw little-endian float64, never pickle; the index
  names its array file by size and ``mtime_ns``, so a replaced, truncated or rewritten one is a miss (the arrays are
  memory-mapped, not read: a file truncated in place *while* a command runs is the one thing that can still hurt);
- written atomically, best effort: any error reading an entry is a miss (the folder is parsed, the entry rewritten);
  an unwritable cache folder turns the cache off for the process; nothing here ever fails a command;
- bounded: at most :data:`MAX_ENTRIES` folders and :data:`MAX_BYTES`, the least recently used removed;
  ``python -m evalkit.results.cache`` prints where it is and how big, ``--clear`` empties it;
- off with ``EVALKIT_RESULTS_CACHE=0`` (or ``off``/``no``/``false``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import fields
from functools import cache
from importlib import resources
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.errors import InputProblem
from evalkit.results.model import ResultSet, Run

FORMAT = 1  # of the entries written here: bump when what is stored, or how, changes
MAX_ENTRIES = 512  # folders kept; the least recently used beyond this are removed when an entry is written
MAX_BYTES = 2 << 30  # and no more than this in all (six OTB-100 TRE folders take 120 MB)
ENV_SWITCH = "EVALKIT_RESULTS_CACHE"
# ResultSet fields an entry restores (``_refused`` only matters while a reader fills the set); a field added later
# would be lost through the cache, so a ResultSet with others turns the cache off rather than drop it
_STORED_FIELDS = {"tracker", "source", "runs", "names", "problems", "vot_runs"}
_TRANSIENT_FIELDS = {"_refused"}

# what the OTB .mat reader's output depends on: its code and the sequence names that split file names
OTB_MAT_PARSER = ("evalkit.results.otb_mat", "evalkit.results.mat_guard", "evalkit.results.model",
                  "data:otb.json", "data:uav.json", "data:tc128.json")

# what the text reader's output depends on: its code and the box-file parser
TEXT_PARSER = ("evalkit.results.text", "evalkit.results.discovery", "evalkit.datasets.base", "evalkit.results.model")

_disabled_for_process = False  # set when a write fails: the folder is unwritable, do not try 600 times


def cache_root() -> Path | None:
    """``<cache>/results``, or None when the cache is off (``$EVALKIT_RESULTS_CACHE``, or no usable config)."""
    if _disabled_for_process or os.environ.get(ENV_SWITCH, "").strip().lower() in {"0", "off", "no", "false"}:
        return None
    return _configured_root(os.environ.get("EVALKIT_CACHE"), os.environ.get("EVALKIT_CONFIG"), os.getcwd())


@cache
def _configured_root(env_cache: str | None, env_config: str | None, cwd: str) -> Path | None:
    """The configured cache (read once per process and place: a scan asks once per folder)."""
    try:
        from evalkit.config import load_config

        return load_config().cache / "results"
    except Exception:  # a broken evalkit.toml is reported by the command itself; the cache just stays out of it
        return None


def cached_read(folder: Path, pattern: str, read: Callable[[Path], list[ResultSet]], parser: Sequence[str],
                scope: str = "") -> list[ResultSet]:
    """``read(folder)``, from the cache when every ``folder/pattern`` file is the one it was parsed from.

    ``parser`` names what the reader's output depends on besides those files: modules (their source is hashed) and
    ``data:<name>`` package data files; ``scope`` tells apart readers of one folder that keep different parts of
    its files (the OTB reader's run 1 for OPE, all runs for TRE): each has its own entry. Errors raised by ``read``
    propagate and are not cached.
    """
    root = cache_root()
    if root is None or not _model_is_known():
        return read(folder)
    try:
        files = sorted(folder.glob(pattern))
        keys = _file_keys(folder, files)
        entry = root / f"v{FORMAT}" / _entry_name(folder, pattern, scope)
    except OSError:  # unreadable or vanishing files: the reader reports them as it always has
        return read(folder)
    if not files:
        return read(folder)
    key = {"format": FORMAT, "parser": _parser_digest(tuple(parser)), "pattern": pattern, "scope": scope,
           "files": keys}
    hit = _load(entry, key, folder)
    if hit is not None:
        return hit
    sets = read(folder)
    try:  # stored only if no file changed while it was parsed (else the key would not describe what was read)
        if [[f.name, *_stat_key(f)] for f in files] == [k[:3] for k in keys]:
            _store(entry, key, folder, sets)
    except Exception:
        _give_up()
    return sets


def prefetch(folders: Sequence[Path], pattern: str, read: Callable[[Path], list[ResultSet]], parser: Sequence[str],
             scope: str = "") -> None:
    """Fill the cache for those of ``folders`` that have no entry yet, in parallel worker processes.

    A first ``evalkit score`` of six tracker folders parses them one by one; parsed in a process each (forked, so
    nothing is imported again), they take about half the time on two cores, and the scan that follows reads them
    from the cache. Only folders without an entry are sent (telling a stale entry apart costs the hashing the scan
    does anyway: those are parsed there). Any failure here leaves the work to the scan.
    """
    root = cache_root()
    if root is None or (os.cpu_count() or 1) < 2 or not _model_is_known():
        return
    try:
        todo = [f for f in folders
                if not (root / f"v{FORMAT}" / _entry_name(f, pattern, scope)).with_suffix(".json").exists()
                and next(f.glob(pattern), None) is not None]
        if len(todo) < 2:
            return
        import multiprocessing  # here, not above: a warm run has nothing to prefetch and need not import it

        if "fork" not in multiprocessing.get_all_start_methods():
            return
        (root / f"v{FORMAT}").mkdir(parents=True, exist_ok=True)  # an unwritable cache: nothing to prefetch into
        from concurrent.futures import ProcessPoolExecutor

        workers = min(len(todo), os.cpu_count() or 1)
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            list(pool.map(_fill, todo, [pattern] * len(todo), [read] * len(todo), [tuple(parser)] * len(todo),
                          [scope] * len(todo)))
    except Exception:  # a crashed worker, no fork, no room: the scan parses what is missing, as without prefetch
        return


def _fill(folder: Path, pattern: str, read: Callable[[Path], list[ResultSet]], parser: tuple[str, ...],
          scope: str) -> None:
    cached_read(folder, pattern, read, parser, scope)  # the sets stay here: the scan reads them from the entry written


def _give_up() -> None:
    global _disabled_for_process
    _disabled_for_process = True


@cache
def _model_is_known() -> bool:
    names = {f.name for f in fields(ResultSet)}
    return names <= _STORED_FIELDS | _TRANSIENT_FIELDS


def _stat_key(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def _file_key(f: Path) -> list[Any]:
    """[name, size, mtime_ns, SHA-256 of the bytes]: size and time of the file read (one fstat of the open file), read
    with plain system calls (``Path.read_bytes`` cost 4x as much per file here); an OSError (a folder or FIFO named
    *.mat, a vanished file) means: not cached."""
    fd = os.open(f, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block the scan
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"{f} is not a regular file")
        digest = hashlib.sha256()
        while chunk := os.read(fd, 1 << 24):
            digest.update(chunk)
    finally:
        os.close(fd)
    return [f.name, st.st_size, st.st_mtime_ns, digest.hexdigest()[:32]]


def _file_keys(folder: Path, files: list[Path]) -> list[list[Any]]:
    """[name, size, mtime_ns, SHA-256 of the bytes] per file: hashing 60 MB costs far less than parsing it (SHA-256 is
    hardware-accelerated where blake2b is not: 10x faster here)."""
    if any(f.parent != folder for f in files):  # names are stored relative to the folder
        raise OSError(f"a file not directly in {folder}")
    return [_file_key(f) for f in files]


def _entry_name(folder: Path, pattern: str, scope: str = "") -> str:
    where = f"{folder.resolve()}\0{pattern}\0{scope}".encode("utf-8", "surrogateescape")
    return hashlib.sha256(where).hexdigest()[:32]


@cache
def _parser_digest(parser: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    for name in parser:
        if name.startswith("data:"):
            data = resources.files("evalkit.datasets").joinpath("data", name[5:]).read_bytes()
        else:
            spec = find_spec(name)
            if spec is None or spec.origin is None:
                raise RuntimeError(f"no source for {name}")
            data = Path(spec.origin).read_bytes()
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()


def _path_out(path: Path, folder: Path) -> list[str]:
    """A path as stored: relative to the folder when inside it (rebuilt with the caller's spelling of the folder)."""
    p = Path(path)
    try:
        return ["rel", str(p.relative_to(folder))]
    except ValueError:
        return ["abs", str(p)]


def _path_in(stored: list[str], folder: Path) -> Path:
    kind, value = stored
    if kind == "rel":
        return folder / value if value != "." else folder
    if kind == "abs":
        return Path(value)
    raise ValueError(f"path kind {kind!r}")


def _store(entry: Path, key: dict[str, Any], folder: Path, sets: list[ResultSet]) -> None:
    chunks: list[np.ndarray] = []
    offset = 0
    out_sets = []
    for rs in sets:
        if rs.vot_runs:  # not what the .mat / box readers make: such a folder is simply not cached
            return
        paths: dict[Path, int] = {}  # each set's paths once, runs and problems refer to them by index
        runs = []
        for k, seq_runs in rs.runs.items():
            stored = []
            for run in seq_runs:
                boxes = np.ascontiguousarray(run.boxes, dtype="<f8")
                if boxes.ndim != 2:
                    return
                chunks.append(boxes.ravel())
                source = paths.setdefault(Path(run.source), len(paths))
                stored.append([offset, boxes.shape[0], boxes.shape[1], run.start_frame, source,
                               run.line_offset])
                offset += boxes.size
            runs.append([k, stored])
        problems = [[paths.setdefault(Path(p.path), len(paths)), p.line, p.message] for p in rs.problems]
        out_sets.append({"tracker": rs.tracker, "source": _path_out(rs.source, folder), "names": rs.names,
                         "paths": [_path_out(p, folder) for p in paths], "runs": runs, "problems": problems})
    arrays = entry.with_suffix(".f8")
    _write(arrays, np.concatenate(chunks) if chunks else np.zeros(0, "<f8"))  # each chunk is "<f8" already
    # the index names the array file it was written with (size, mtime_ns): any other file there is a miss
    index = {"key": key, "arrays": list(_stat_key(arrays)), "n_values": offset, "sets": out_sets}
    _write(entry.with_suffix(".json"), json.dumps(index, separators=(",", ":")).encode())
    _prune(entry.parent)


def _write(path: Path, data: bytes | np.ndarray) -> None:
    """Atomically (a temporary file renamed over ``path``), without evalkit.io's fsync: a cache entry lost in a crash
    is parsed again, and syncing 20 MB per folder doubled the time of a first call. Arrays are written as they are
    in memory (no bytes copy of 20 MB)."""
    from evalkit.io import atomic_target

    with atomic_target(path) as tmp, open(tmp, "wb") as f:
        f.write(data if isinstance(data, bytes) else memoryview(np.ascontiguousarray(data)).cast("B"))


def _load(entry: Path, key: dict[str, Any], folder: Path) -> list[ResultSet] | None:
    """The cached sets, or None on any mismatch or damage (a miss: the folder is parsed and the entry rewritten)."""
    try:
        index = json.loads(entry.with_suffix(".json").read_text("utf-8"))
        if index["key"] != key:
            return None
        arrays = entry.with_suffix(".f8")
        if list(_stat_key(arrays)) != index["arrays"] or index["arrays"][0] != 8 * index["n_values"]:
            return None
        # mapped, not read: OPE scoring touches run 1 of a TRE file's 20, and reading all 120 MB of six trackers
        # cost more than everything else a warm `evalkit score` does; copy-on-write, so the boxes stay writable
        # (a plain ndarray view: slicing a np.memmap 2000 times per folder costs more than the mapping saves)
        values = np.memmap(arrays, dtype="<f8", mode="c").view(np.ndarray) if index["n_values"] else np.zeros(0)
        sets = []
        for s in index["sets"]:
            rs = ResultSet(str(s["tracker"]), _path_in(s["source"], folder))
            paths = [_path_in(p, folder) for p in s["paths"]]
            for k, stored in s["runs"]:
                runs = []
                for off, rows, cols, start, source, line_offset in stored:
                    if not (0 <= off and off + rows * cols <= len(values)):
                        return None
                    runs.append(Run(values[off:off + rows * cols].reshape(rows, cols),
                                    None if start is None else int(start), paths[source], int(line_offset)))
                rs.runs[str(k)] = runs
            rs.names = {str(k): str(v) for k, v in s["names"].items()}
            rs.problems = [InputProblem(paths[p], None if line is None else int(line), str(message))
                           for p, line, message in s["problems"]]
            sets.append(rs)
    except Exception:  # missing, corrupt, of another version, written by someone else: parse instead
        return None
    with contextlib.suppress(OSError):  # recently used: kept by the pruning (a read-only cache is still read)
        os.utime(entry.with_suffix(".json"))
    return sets


def _prune(folder: Path) -> None:
    """Keep the most recently used entries of ``folder``: at most :data:`MAX_ENTRIES`, :data:`MAX_BYTES` in all."""
    entries = []
    for index in folder.glob("*.json"):
        with contextlib.suppress(OSError):  # another process may be pruning too
            arrays = index.with_suffix(".f8")
            size = index.stat().st_size + (arrays.stat().st_size if arrays.exists() else 0)
            entries.append((index.stat().st_mtime_ns, size, index))
    entries.sort(reverse=True)  # newest first
    total = 0
    for i, (_, size, index) in enumerate(entries):
        total += size
        if i >= MAX_ENTRIES or (i > 0 and total > MAX_BYTES):
            index.unlink(missing_ok=True)
            index.with_suffix(".f8").unlink(missing_ok=True)


def describe() -> str:
    """Where parsed results are cached and how big that is (or why there is no cache), for ``evalkit`` to print."""
    root = cache_root()
    if root is None:
        return f"results cache: off ({ENV_SWITCH}=0, or no usable configuration)"
    entries = list(root.glob(f"v{FORMAT}/*.json"))
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if root.is_dir() else 0
    return (f"results cache: {root} ({len(entries)} folders, {size / 1e6:.1f} MB; python -m evalkit.results.cache "
            f"--clear empties it, {ENV_SWITCH}=0 turns it off)")


def clear() -> Path | None:
    """Remove every cached entry; returns the folder cleared (None when the cache is off)."""
    root = cache_root()
    if root is not None and root.is_dir():
        import shutil

        shutil.rmtree(root)
    return root


if __name__ == "__main__":  # python -m evalkit.results.cache [--clear]: where the cache is, how big; clear it
    import sys

    if sys.argv[1:] == ["--clear"]:
        print(f"cleared {clear()}")
    print(describe())
