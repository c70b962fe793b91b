"""Submission packs: the zip archives the GOT-10k and TrackingNet evaluation servers score (their test ground truth
is withheld, so these archives are the only way to a test-set number).

    >>> summary = write_pack("got10k-test", result_set, Path("siamfc_got10k.zip"))          # doctest: +SKIP
    >>> summary.n_sequences, summary.repetitions                                          # doctest: +SKIP
    (180, 3)

GOT-10k (``got10k-test``), as got10k-toolkit's ``ExperimentGOT10k(subset='test')`` writes and zips it
(got10k/experiments/got10k.py ``_record`` and ``report``: the tracker's result folder zipped from inside it):
``<seq>/<seq>_001.txt`` .. ``_003.txt``, one per repetition, boxes ``x,y,w,h`` with ``%.3f``; and
``<seq>/<seq>_time.txt``, seconds per frame with ``%.8f``, one comma-separated column per repetition. A
deterministic tracker stores one repetition; more than three is refused (the toolkit runs at most three).

TrackingNet (``trackingnet``), as the devkit's evaluation reads a submission (TrackingNet-devkit metrics.py: every
``.txt`` in the zip, matched to the test annotation by file name, read by ``pd.read_csv(sep=",")`` into four
columns) and pytracking's packer writes it (pytracking/util_scripts/pack_trackingnet_results.py, ``%.2f``):
``<seq>.txt`` at the archive root, one ``x,y,w,h`` line per frame. One run per sequence.

Every test sequence (``evalkit/datasets/data/got10k_test.json``, 180; ``trackingnet_test.json``, 511; or a
``list.txt`` given instead) must be present; a pack is refused with one message naming every missing sequence and
every bad file (wrong box count, a non-finite value, boxes that are not 4 values, times that do not match the
boxes). Row counts are checked against the sequences' frame counts when the test split's frames are at hand
(``frames``), and always between a sequence's repetitions and its time file. The archive is written through a
temporary file and renamed, so a failed pack leaves nothing under the target name.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from evalkit.datasets.base import package_data
from evalkit.datasets.names import canonical_key
from evalkit.errors import EvalkitError, InputProblem
from evalkit.io import atomic_target
from evalkit.results import ResultSet, Run
from evalkit.results import got10k as got10k_layout
from evalkit.results.speed import time_file as stored_time_file

PACK_SUITES = ("got10k-test", "trackingnet")
LIST_FILES = {"got10k-test": "got10k_test.json", "trackingnet": "trackingnet_test.json"}
GOT10K_MAX_REPETITIONS = 3  # ExperimentGOT10k.repetitions
BOX_FORMAT = {"got10k-test": "%.3f", "trackingnet": "%.2f"}  # got10k's _record; pytracking's TrackingNet packer
TIME_FORMAT = "%.8f"  # got10k's _record


class PackRefused(EvalkitError):
    """The results cannot make a complete, valid archive; ``problems`` lists every reason, one line each."""

    def __init__(self, suite: str, missing: list[str], problems: list[InputProblem]) -> None:
        self.missing = missing
        self.problems = problems
        lines = []
        if missing:
            lines.append(f"{len(missing)} {suite} sequence(s) have no result: {', '.join(missing)}")
        lines += [str(p) for p in problems]
        super().__init__(f"no {suite} pack written; " + "; ".join(lines))


@dataclass(frozen=True)
class PackSummary:
    """What went into an archive."""

    suite: str
    path: Path
    n_sequences: int
    repetitions: int  # the most repetitions any sequence has (GOT-10k); 1 for TrackingNet
    n_files: int


def sequence_list(suite: str, list_file: Path | None = None) -> list[str]:
    """The test split's sequence names: the versioned list shipped with evalkit, or ``list_file`` (one per line)."""
    if suite not in PACK_SUITES:
        raise EvalkitError(f"no submission format for {suite!r}; packs exist for {', '.join(PACK_SUITES)}")
    if list_file is not None:
        names = [ln.strip() for ln in Path(list_file).read_text().splitlines() if ln.strip()]
        if not names:
            raise EvalkitError(f"{list_file}: no sequence names")
        return names
    return list(package_data(LIST_FILES[suite])["names"])


def _format_rows(rows: NDArray[np.float64], fmt: str) -> str:
    """Comma-separated rows as ``np.savetxt(..., fmt=fmt, delimiter=',')`` writes them."""
    buffer = io.StringIO()
    np.savetxt(buffer, rows, fmt=fmt, delimiter=",")
    return buffer.getvalue()


def _check_boxes(run: Run, expected: int | None, problems: list[InputProblem]) -> bool:
    """True when a run has 4 finite values per row and (when known) one row per frame; else its problem noted."""
    boxes = np.asarray(run.boxes)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        problems.append(InputProblem(run.source, None, f"boxes must be 4 values per line, got shape {boxes.shape}"))
        return False
    if expected is not None and len(boxes) != expected:
        problems.append(InputProblem(run.source, min(len(boxes), expected) + run.line_offset + 1,
                                     f"has {len(boxes)} boxes, expected {expected} (one per frame)"))
        return False
    if len(boxes) == 0:
        problems.append(InputProblem(run.source, None, "has no boxes"))
        return False
    bad = np.flatnonzero(~np.isfinite(boxes).all(axis=1))
    if len(bad):
        problems.append(InputProblem(run.source, int(bad[0]) + run.line_offset + 1,
                                     f"box {boxes[bad[0]].tolist()} is not finite"))
        return False
    return True


def _run_times(runs: SequenceABC[Run], n_rows: int, problems: list[InputProblem]) -> NDArray[np.float64] | None:
    """Per-frame times, one column per repetition: got10k's ``<seq>_time.txt`` beside the first repetition, else
    each run's own time file (an evalkit store's ``.time.txt``); None (problem noted) when any is missing or off."""
    shared = got10k_layout.time_file(runs[0].source)
    if shared is not None:
        try:
            table = np.loadtxt(shared, delimiter=",", ndmin=2, dtype=np.float64)
        except ValueError as exc:
            problems.append(InputProblem(shared, None, f"cannot read times: {exc}"))
            return None
        if table.shape != (n_rows, len(runs)):
            problems.append(InputProblem(shared, None, f"holds {table.shape[0]} x {table.shape[1]} times, expected "
                                                       f"{n_rows} x {len(runs)} (frames x repetitions)"))
            return None
        return table
    columns = []
    for run in runs:
        path = stored_time_file(Path(run.source))
        if path is None:
            problems.append(InputProblem(run.source, None, "has no per-frame time file beside it (the GOT-10k server "
                                                           "reads <seq>_time.txt for the speed)"))
            return None
        try:
            times = np.loadtxt(path, ndmin=1, dtype=np.float64)
        except ValueError as exc:
            problems.append(InputProblem(path, None, f"cannot read times: {exc}"))
            return None
        if times.shape != (n_rows,):
            problems.append(InputProblem(path, None, f"holds {times.size} times, expected {n_rows} (one per frame)"))
            return None
        columns.append(times)
    return np.stack(columns, axis=1)


def pack_files(suite: str, rs: ResultSet, names: SequenceABC[str], frames: Mapping[str, int] | None = None
               ) -> dict[str, str]:
    """Archive member name -> text, for every test sequence; raises :class:`PackRefused` listing every problem."""
    if suite not in PACK_SUITES:
        raise EvalkitError(f"no submission format for {suite!r}; packs exist for {', '.join(PACK_SUITES)}")
    problems = list(rs.problems)
    missing: list[str] = []
    files: dict[str, str] = {}
    counts = {canonical_key(k): v for k, v in (frames or {}).items()}
    # a sequence whose file could not be read is named by that file's problem, not listed as missing too
    unreadable = {canonical_key(part) for p in problems if p.path is not None
                  for part in (Path(p.path).stem, Path(p.path).parent.name)}
    for name in names:
        runs = rs.runs_for(name, others=[n for n in names if n != name])
        if not runs:
            if canonical_key(name) not in unreadable:
                missing.append(name)
            continue
        expected = counts.get(canonical_key(name))
        if suite == "trackingnet":
            if _check_boxes(runs[0], expected, problems):
                files[f"{name}.txt"] = _format_rows(runs[0].boxes, BOX_FORMAT[suite])
            continue
        if len(runs) > GOT10K_MAX_REPETITIONS:
            problems.append(InputProblem(runs[0].source.parent, None, f"{len(runs)} repetitions of {name}; GOT-10k "
                                                                      f"takes at most {GOT10K_MAX_REPETITIONS}"))
            continue
        if not all([_check_boxes(r, expected, problems) for r in runs]):
            continue
        lengths = {len(r.boxes) for r in runs}
        if len(lengths) > 1:
            problems.append(InputProblem(runs[0].source.parent, None, f"the repetitions of {name} differ in length: "
                                                                      f"{sorted(lengths)} boxes"))
            continue
        times = _run_times(runs, len(runs[0].boxes), problems)
        if times is None:
            continue
        for k, run in enumerate(runs, 1):
            files[f"{name}/{name}_{k:03d}.txt"] = _format_rows(run.boxes, BOX_FORMAT[suite])
        files[f"{name}/{name}_time.txt"] = _format_rows(times, TIME_FORMAT)
    if missing or problems:
        raise PackRefused(suite, missing, problems)
    return files


def write_pack(suite: str, rs: ResultSet, out: Path, names: SequenceABC[str] | None = None,
               frames: Mapping[str, int] | None = None) -> PackSummary:
    """Write the submission archive of ``rs`` for ``suite`` to ``out`` (atomically; nothing is written on refusal)."""
    names = list(names) if names is not None else sequence_list(suite)
    files = pack_files(suite, rs, names, frames)
    with atomic_target(Path(out), suffix=".zip.tmp") as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for member, text in files.items():
            z.writestr(member, text)
    repetitions = max((sum(1 for m in files if m.startswith(f"{n}/{n}_") and not m.endswith("_time.txt"))
                       for n in names), default=1) if suite == "got10k-test" else 1
    return PackSummary(suite, Path(out), len(names), repetitions, len(files))


def count_frames(suite: str, root: Path, names: SequenceABC[str]) -> dict[str, int]:
    """Frames per test sequence from a data root: GOT-10k ``[test/]<seq>/*.jpg``; TrackingNet
    ``[TEST/]frames/<seq>/*.jpg``. Sequences whose folder is absent are left out (their count is not checked)."""
    root = Path(root)
    if suite == "got10k-test":
        base = root / "test" if (root / "test").is_dir() else root
        folders = {n: base / n for n in names}
    else:
        base = root / "TEST" if (root / "TEST").is_dir() else root
        folders = {n: base / "frames" / n for n in names}
    counts = {n: len(list(f.glob("*.jpg"))) for n, f in folders.items() if f.is_dir()}
    if not counts:
        raise EvalkitError(f"no {suite} frame folder under {root} (looked for {next(iter(folders.values()))})")
    return counts
