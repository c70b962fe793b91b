"""The result model: a tracker's runs per sequence, as boxes (OPE, TRE, SRE) or as VOT supervised runs.

    >>> rs = ResultSet("KCF", Path("results/KCF"))
    >>> rs.add_runs("Couple", [Run(np.zeros((140, 4)), None, Path("results/KCF/Couple.txt"))])
    >>> rs.runs_for("couple")[0].boxes.shape
    (140, 4)

Every reader (:mod:`evalkit.results.otb_mat`, :mod:`evalkit.results.text`, :mod:`evalkit.results.vot`, the store's
:mod:`evalkit.store.reader`) produces these; scoring reads only these, never a file format.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from evalkit.datasets.names import canonical_key, compact_key
from evalkit.errors import InputProblem


@dataclass(frozen=True)
class Run:
    """One run of a tracker on one sequence: boxes from ``start_frame`` (video numbering) to the sequence end."""

    boxes: NDArray[np.float64]
    start_frame: int | None
    source: Path
    line_offset: int = 0


@dataclass(frozen=True, eq=False)
class VotRun:
    """One repetition of the VOT supervised experiment on one sequence, as the result file stores it.

    ``codes[i]`` is a :class:`~evalkit.geometry.region.VotCode` (region, skipped, initialisation, failure);
    ``regions`` is N x 8 with the reported region where ``codes == REGION`` (x,y,w,h rectangles padded with NaN, or
    polygons) and NaN elsewhere.
    A region line with a NaN is read as skipped (unknown), as the VOT toolkit's region parser does.
    """

    codes: NDArray[np.int8]
    regions: NDArray[np.float64]
    source: Path
    repetition: int = 1

    def __post_init__(self) -> None:
        codes = np.array(self.codes, dtype=np.int8)
        regions = np.array(self.regions, dtype=np.float64)
        if codes.ndim != 1 or regions.shape != (len(codes), 8):
            raise ValueError(f"{self.source}: codes must be (N,) and regions N x 8, got {codes.shape} and "
                             f"{regions.shape}")
        codes.setflags(write=False)
        regions.setflags(write=False)
        object.__setattr__(self, "codes", codes)
        object.__setattr__(self, "regions", regions)

    @property
    def n_frames(self) -> int:
        """Number of frames (lines) in the run."""
        return int(len(self.codes))


@dataclass
class ResultSet:
    """All runs of one tracker found under one results location."""

    tracker: str
    source: Path
    runs: dict[str, list[Run]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    problems: list[InputProblem] = field(default_factory=list)
    vot_runs: dict[str, list[VotRun]] = field(default_factory=dict)
    # sequences refused because two files claim them (key -> the first file), so a third cannot win either
    _refused: dict[str, Path | None] = field(default_factory=dict, repr=False, compare=False)

    def vot_runs_for(self, sequence_name: str, aliases: Iterable[str] = ()) -> list[VotRun] | None:
        """The VOT supervised runs stored for a sequence (case and separators ignored), ordered by repetition."""
        for n in (sequence_name, *aliases):
            if (key := canonical_key(n)) in self.vot_runs:
                return self.vot_runs[key]
        return None

    def runs_for(self, sequence_name: str, aliases: Iterable[str] = (), others: Iterable[str] = ()
                 ) -> list[Run] | None:
        """The runs stored for a sequence, matched case-insensitively across name aliases.

        Exact (separator-insensitive) names win; a separator-free match (``jogging1.txt`` for ``Jogging-1``) is used
        only when one stored file has that key and that file is not named after one of ``others`` (the suite's other
        sequences: UAV123's ``car1_1`` must never take ``car11``'s results).
        """
        names = (sequence_name, *aliases)
        for n in names:
            if (key := canonical_key(n)) in self.runs:
                return self.runs[key]
        loose: dict[str, list[str]] = defaultdict(list)
        for key in self.runs:  # a few hundred keys: cheap next to reading the files
            loose[compact_key(key)].append(key)
        taken = {canonical_key(o) for o in others}
        for n in names:
            stored = loose.get(compact_key(n), [])
            if len(stored) == 1 and stored[0] not in taken:
                return self.runs[stored[0]]
        return None

    def add_runs(self, name: str, runs: list[Run]) -> None:
        """Store ``runs`` as the box runs of sequence ``name`` (keyed case- and separator-insensitively).

        A second set of runs for the same key (``Couple.txt`` beside ``couple.txt``) is refused: neither is scored and
        a problem names both files (before, the later file silently won).
        """
        key = canonical_key(name)
        if self._duplicate(key, name, self.runs.get(key), runs):
            self.runs.pop(key, None)
            return
        self.runs[key] = runs
        self.names[key] = name

    def add_vot_runs(self, name: str, runs: list[VotRun]) -> None:
        """Store ``runs`` as the VOT supervised runs of sequence ``name``, ordered by repetition (a second set for
        the same key is refused as :meth:`add_runs` refuses it)."""
        key = canonical_key(name)
        if self._duplicate(key, name, self.vot_runs.get(key), runs):
            self.vot_runs.pop(key, None)
            return
        self.vot_runs[key] = sorted(runs, key=lambda r: r.repetition)
        self.names.setdefault(key, name)

    def _duplicate(self, key: str, name: str, stored: list[Run] | list[VotRun] | None,
                   new: list[Run] | list[VotRun]) -> bool:
        """True (and a problem recorded) when ``key`` already has runs, or had them and was refused."""
        refused = key in self._refused
        if stored is None and not refused:
            return False
        first = Path(stored[0].source) if stored else self._refused.get(key)
        second = Path(new[0].source) if new else Path(name)
        self.problems.append(InputProblem(second, None, f"a second result for sequence {name!r} (also {first}); "
                                                        f"neither is scored: remove or rename one"))
        self._refused[key] = first if first is not None else second
        return True
