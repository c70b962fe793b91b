"""Reading evalkit's result store: a tracker@fingerprint folder as a ResultSet, and what its ``run.json`` records.

    >>> rs = read_store_set(Path("results/otb100/ope/kcf@3f1c0a9e2b7d"))   # doctest: +SKIP
    >>> store_protocol(rs), stored_run_meta(rs).device                     # doctest: +SKIP
    ('ope', 'cpu')

The layout is the writer's (:mod:`evalkit.store.writer`). The result model lives in :mod:`evalkit.results`, whose
discovery calls :func:`read_store_set` for every folder with a ``run.json``; this module imports the model inside
the functions that build result sets so that ``evalkit.store`` stays importable on its own (the runner needs only
the writer) and the two packages do not import each other while loading.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import InputFileError
from evalkit.store.meta import FORMAT_BOXES, FORMAT_VOT, RUN_META_FILE, RunMeta, RunRecord

if TYPE_CHECKING:
    from evalkit.results.model import ResultSet

BOXES_FOLDER = "boxes"  # hand-made store folders may keep their <seq>.txt files in boxes/


def is_store_folder(folder: Path) -> bool:
    """True when ``folder`` is an evalkit store folder (it holds a ``run.json``)."""
    return (Path(folder) / RUN_META_FILE).is_file()


def read_run_meta(folder: Path) -> RunMeta | None:
    """The ``run.json`` of a store folder; None when the folder has none (another layout), an InputFileError naming
    the file when it cannot be read."""
    path = Path(folder) / RUN_META_FILE
    return RunMeta.read(path) if path.is_file() else None


def stored_run_meta(rs: ResultSet) -> RunMeta | None:
    """The ``run.json`` of the store folder a result set was read from; None for other layouts."""
    return read_run_meta(Path(rs.source))


def store_protocol(rs: ResultSet) -> str | None:
    """The protocol a result set's store ``run.json`` records (None for other layouts, or when it records none)."""
    meta = stored_run_meta(rs)
    return None if meta is None else meta.protocol


def store_params(rs: ResultSet) -> dict[str, Any]:
    """The tracker parameters a result set's store ``run.json`` records (empty for other layouts)."""
    meta = stored_run_meta(rs)
    return {} if meta is None else dict(meta.params)


def read_store_set(folder: Path) -> ResultSet:
    """A result set from evalkit's own store folder (tracker name from its run.json, else the folder's name).

    Store layout (see :mod:`evalkit.store.writer`): ``<Sequence>/<label>.txt`` boxes with ``<label>.json`` metadata,
    of which only runs whose status is ``ok`` are read, ordered by label (``tre-00`` .. ``tre-19``); runs whose
    format is ``vot`` are read as VOT supervised runs. Flat ``<seq>.txt`` files beside ``run.json`` (or in
    ``boxes/``), with the run.json's optional ``start_frames`` map, are read too.
    """
    from evalkit.results.model import Run
    from evalkit.results.text import read_text_set

    folder = Path(folder)
    meta = RunMeta.read(folder / RUN_META_FILE)
    boxes_dir = folder / BOXES_FOLDER if (folder / BOXES_FOLDER).is_dir() else folder
    suffix = meta.extra.get("label_suffix")  # " [untrained]", " [weights <sha256>]": recorded by the runner
    rs = read_text_set(boxes_dir, (meta.tracker or folder.name) + (suffix if isinstance(suffix, str) else ""))
    for key, runs in rs.runs.items():
        name = rs.names[key]
        if name in meta.start_frames:
            rs.runs[key] = [Run(r.boxes, meta.start_frames[name], r.source) for r in runs]
    for seq_dir in sorted(d for d in folder.iterdir() if d.is_dir() and d.name != BOXES_FOLDER):
        _read_sequence_folder(rs, seq_dir)
    rs.source = folder
    return rs


def _read_sequence_folder(rs: ResultSet, seq_dir: Path) -> None:
    """Add the finished runs of one ``<Sequence>/`` folder (box runs and VOT-format runs) to ``rs``."""
    from evalkit.datasets.base import check_sequence_name, read_box_file
    from evalkit.results.model import Run, VotRun
    from evalkit.results.vot import read_vot_run

    runs: list[Run] = []
    vot_runs: list[VotRun] = []
    name = seq_dir.name
    for i, record_path in enumerate(sorted(seq_dir.glob("*.json"))):
        try:
            record = RunRecord.read(record_path)
        except InputFileError as exc:
            rs.problems.append(exc.problem)
            continue
        if i == 0 and record.sequence:  # the runs' own record of the name (the folder's is made file-system safe)
            try:  # a name that is no path component ("..", "a/b") would lead outside the store when written back
                name = check_sequence_name(record.sequence, record_path)
            except InputFileError as exc:
                rs.problems.append(exc.problem)
                return
        if not record.finished:
            continue
        data_path = record_path.with_suffix(".txt")
        try:
            if record.data_format == FORMAT_VOT:
                digits = re.search(r"(\d+)$", record.label or record_path.stem)  # rep-003 -> repetition 3
                vot_runs.append(read_vot_run(data_path, int(digits.group(1)) if digits else 1))
            elif record.data_format == FORMAT_BOXES:
                runs.append(Run(read_box_file(data_path), record.start_frame, data_path))
        except InputFileError as exc:
            rs.problems.append(exc.problem)
    if runs:
        rs.add_runs(name, runs)
    if vot_runs:
        rs.add_vot_runs(name, vot_runs)
