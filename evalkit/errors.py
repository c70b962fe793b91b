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
