"""Errors that name the file, line and problem, so a user can fix bad input without reading a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class EvalkitError(Exception):
    """Base class for errors evalkit reports to users (the CLI prints them without a traceback)."""


@dataclass(frozen=True)
class InputProblem:
    """One problem found in an input file: where it is and what is wrong."""

    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else f"{self.path}"
        return f"{where}: {self.message}"


class InputFileError(EvalkitError):
    """A file evalkit reads is malformed; carries the file, line (1-based, or None) and problem."""

    def __init__(self, path: str | Path, line: int | None, message: str) -> None:
        self.problem = InputProblem(Path(path), line, message)
        super().__init__(str(self.problem))


class MissingExtraError(EvalkitError, ImportError):
    """An optional dependency is missing; the message names the extra that installs it (an ImportError too, so code
    that guards optional imports still catches it)."""


class PartialSuiteError(EvalkitError):
    """A suite is missing sequences and the caller did not ask for a partial (labelled) score."""


def read_input_text(path: str | Path) -> str:
    """The text of an input file; an unreadable file, or one that is not UTF-8 text (a binary file in a results
    folder), is an :class:`InputFileError` naming the file and the line of the first bad byte, never a traceback."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputFileError(path, None, f"cannot read: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")  # a byte-order mark (Windows editors) is not content
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputFileError(path, line, f"not a UTF-8 text file (byte 0x{data[exc.start]:02x} at offset "
                                         f"{exc.start})") from None
