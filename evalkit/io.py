"""Atomic file writes: every file evalkit writes appears under its final name complete, or not at all.

    >>> atomic_write_json(Path("out/run.json"), {"tracker": "kcf"})     # doctest: +SKIP
    >>> with atomic_target(Path("model.pth")) as tmp:                    # doctest: +SKIP
    ...     torch.save(state, tmp)

Used by the result store, reports, the weight cache, fetched weights and training checkpoints, so a crash or a kill
never leaves a half-written file that a later run would take for a finished one (the store resumes from what is on
disk, so this is what makes resuming safe).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _default_mode() -> int:
    """0o666 minus the process umask: what ``open(path, "w")`` would give (mkstemp's files are 0o600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_target(path: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside ``path``; renamed onto ``path`` when the block ends normally, removed otherwise.

    Everything evalkit writes (results, checkpoints, reports, fetched weights) goes through here, so a crash or a
    kill never leaves a half-written file under the final name, and files get the usual permissions.

        with atomic_target(out) as tmp:
            torch.save(state, tmp)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _default_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, fsync, rename)."""
    with atomic_target(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and an atomic rename."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, payload: Any) -> None:
    """Atomically write ``payload`` as indented JSON (keys sorted: the same payload always gives the same bytes)."""
    atomic_write_text(path, json.dumps(payload, indent=1, sort_keys=True) + "\n")
