"""GOT-10k's own evaluation (AO, SR0.50, SR0.75, FPS) of result sets on ``got10k-val``, as got10k-toolkit's
``ExperimentGOT10k(subset='val').report`` computes it (got10k/experiments/got10k.py; the rules are listed in
:mod:`evalkit.metrics.got10k`).

    evalkit score --suite got10k-val --data-root /data/GOT-10k --results results/GOT-10k        # protocol got10k
    evalkit score --suite got10k-val --data-root /data/GOT-10k --results results/GOT-10k --protocol ope  # OTB-style

    >>> report = score(suite, sets, ScoringOptions())                          # doctest: +SKIP
    >>> report.to_pandas()[["ao", "sr50", "sr75"]]                               # doctest: +SKIP

Results are read in got10k's layout (``<tracker>/<seq>/<seq>_001.txt`` .. ``_003``, :mod:`evalkit.results.got10k`),
or any layout evalkit reads (an evalkit store's one run per sequence, ``<tracker>/<seq>.txt``). Where got10k would
stop on the first bad file, evalkit names it (file and line) and scores the other sequences, marking the tracker
``*``; a result with a NaN box is refused (got10k would print NaN for the whole tracker).
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from evalkit.datasets.base import Sequence, Suite
from evalkit.datasets.got10k import VISIBLE_TAG
from evalkit.errors import EvalkitError, InputFileError, InputProblem
from evalkit.metrics.got10k import Got10kScore, sequence_ious, summarize
from evalkit.results import ResultSet
from evalkit.results.got10k import read_times, time_file
from evalkit.results.speed import time_file as stored_time_file
from evalkit.scoring.base import N_SEQUENCES, Column, Report, ScoringOptions, TrackerResult, check_suite, count_column

GOT10K_COLUMNS = (
    Column("ao", "AO", description="average overlap over every scored frame of every repetition (frame 1 and "
                                   "frames with cover 0 left out)"),
    Column("sr50", "SR0.50", description="share of scored frames with IoU > 0.50"),
    Column("sr75", "SR0.75", description="share of scored frames with IoU > 0.75"),
    Column("speed_fps", "FPS", decimals=1, higher_is_better=None,
           description="mean of 1 / t over the per-frame times in <seq>_time.txt"),
    N_SEQUENCES,
    count_column("n_frames", "Frames", "scored frames, all repetitions together"),
)


@dataclass
class Got10kTrackerScore(TrackerResult):
    """One tracker's AO / SR over the suite and per sequence, with how many repetitions each sequence had."""

    score: Got10kScore | None
    per_sequence: dict[str, Got10kScore]
    repetitions: dict[str, int] = field(default_factory=dict, kw_only=True)

    def headline(self) -> Mapping[str, object]:
        """AO, SR0.50, SR0.75, FPS and counts (empty when nothing was scored)."""
        return self.score.as_dict() if self.score is not None else {}

    def sequence_values(self) -> dict[str, dict[str, object]]:
        """The same fields per sequence (its repetitions pooled)."""
        return {name: s.as_dict() for name, s in self.per_sequence.items()}

    def json_extra(self) -> dict[str, object]:
        """Repetitions scored per sequence, when any sequence had more than one."""
        return {"repetitions": dict(self.repetitions)} if any(n > 1 for n in self.repetitions.values()) else {}


@dataclass
class Got10kReport(Report):
    """GOT-10k AO / SR of several trackers on one suite."""

    without_cover: list[str] = field(default_factory=list, kw_only=True)

    kind: ClassVar[str] = "got10k"
    columns: ClassVar[tuple[Column, ...]] = GOT10K_COLUMNS
    sequence_columns: ClassVar[tuple[Column, ...]] = tuple(c for c in GOT10K_COLUMNS if c.key != "n_sequences")
    rank_by: ClassVar[str] = "ao"

    def settings(self) -> list[str]:
        """The toolkit the numbers follow."""
        return ["got10k-toolkit AO/SR"]

    def notes(self) -> list[str]:
        """Which sequences lacked cover.label (every frame after the first counted there)."""
        out = super().notes()
        if self.without_cover:
            out.append(f"{len(self.without_cover)} sequence(s) have no cover.label, so every frame after the first "
                       f"was scored there (first: {', '.join(self.without_cover[:3])})")
        return out


class _SequenceProblem(EvalkitError):
    def __init__(self, problem: InputProblem) -> None:
        self.problem = problem
        super().__init__(str(problem))


def _repetitions(rs: ResultSet, seq: Sequence, others: SequenceABC[str]) -> list[NDArray[np.float64]]:
    """The stored repetitions of one sequence, each checked: one finite box per frame."""
    runs = rs.runs_for(seq.name, seq.aliases, others)
    if not runs:
        raise _SequenceProblem(InputProblem(rs.source, None, f"no result for sequence {seq.name}"))
    out = []
    for run in runs:
        if run.start_frame not in (None, seq.start_frame):
            raise _SequenceProblem(InputProblem(run.source, None, f"starts at frame {run.start_frame}; GOT-10k "
                                                                  f"results start at the sequence's first frame"))
        if len(run.boxes) != seq.n_frames:
            raise _SequenceProblem(InputProblem(run.source, min(len(run.boxes), seq.n_frames) + run.line_offset + 1,
                                                f"has {len(run.boxes)} boxes, expected {seq.n_frames} for "
                                                f"{seq.name}"))
        bad = np.flatnonzero(~np.isfinite(run.boxes).all(axis=1))
        if len(bad):
            raise _SequenceProblem(InputProblem(run.source, int(bad[0]) + run.line_offset + 1,
                                                f"box {run.boxes[bad[0]].tolist()} is not finite"))
        out.append(run.boxes)
    return out


def _times(rs: ResultSet, seq: Sequence, others: SequenceABC[str]) -> NDArray[np.float64] | None:
    """The sequence's per-frame times: got10k's ``<seq>_time.txt`` (every repetition's column), else each run's own
    time file (an evalkit store's ``<label>.time.txt``); None when there is none."""
    runs = rs.runs_for(seq.name, seq.aliases, others) or []
    paths = [time_file(runs[0].source)] if runs else []
    if not paths or paths[0] is None:
        paths = [p for run in runs if (p := stored_time_file(Path(run.source))) is not None]
    if not paths or paths[0] is None:
        return None
    try:
        return np.concatenate([read_times(p) for p in paths])  # type: ignore[arg-type]
    except InputFileError as exc:
        raise _SequenceProblem(exc.problem) from None


def score_got10k(suite: Suite, result_sets: SequenceABC[ResultSet], allow_partial: bool = False) -> Got10kReport:
    """AO / SR0.50 / SR0.75 / FPS of every result set on ``suite``, pooled over frames as got10k's report does."""
    check_suite(suite, allow_partial)
    names = [s.name for s in suite]
    trackers: dict[str, Got10kTrackerScore] = {}
    for rs in result_sets:
        problems = list(rs.problems)
        unscored: list[str] = []
        per_seq: dict[str, Got10kScore] = {}
        pooled_ious: list[NDArray[np.float64]] = []
        pooled_times: list[NDArray[np.float64]] = []
        repetitions: dict[str, int] = {}
        for seq in suite:
            others = [n for n in names if n != seq.name]
            try:
                reps = _repetitions(rs, seq, others)
                times = _times(rs, seq, others)
            except _SequenceProblem as exc:
                problems.append(exc.problem)
                unscored.append(seq.name)
                continue
            ious = sequence_ious(reps, seq.ground_truth, seq.tags.get(VISIBLE_TAG), seq.image_size)
            per_seq[seq.name] = summarize(ious, times)
            repetitions[seq.name] = len(reps)
            pooled_ious.append(ious)
            if times is not None:
                pooled_times.append(times)
        total = None
        if per_seq:
            all_times = np.concatenate(pooled_times) if pooled_times else None
            total = summarize(np.concatenate(pooled_ious), all_times, n_sequences=len(per_seq))
        trackers[rs.tracker] = Got10kTrackerScore(rs.tracker, total, per_seq, repetitions=repetitions,
                                                  problems=problems, unscored=unscored)
    without_cover = [s.name for s in suite if VISIBLE_TAG not in s.tags]
    return Got10kReport(suite.name, "got10k", suite.is_partial, len(suite), suite.missing, trackers,
                        without_cover=without_cover)


def score(suite: Suite, result_sets: SequenceABC[ResultSet], options: ScoringOptions) -> Got10kReport:
    """The registered scorer of ``got10k`` (profile, statistics and VOT options do not apply)."""
    if suite.family != "got10k":
        raise EvalkitError(f"--protocol got10k scores GOT-10k suites (got10k-val), not {suite.name}")
    return score_got10k(suite, result_sets, allow_partial=options.allow_partial)
