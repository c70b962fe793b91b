"""The scorer interface: one report model for every protocol, one registry of scorers keyed by protocol.

Every protocol (OPE / TRE / SRE, VOT supervised, VOT2020 multistart) is scored by a function registered in
:data:`evalkit.registry.SCORERS` with the signature ``score(suite, result_sets, options) -> Report``. A
:class:`Report` holds one :class:`TrackerResult` per result set and describes its own columns (:class:`Column`), so
that tables, reports, paper tables, JSON and the Python API read every kind of report the same way (TrackEval's
``_BaseMetric``: each metric declares its fields; the output is written once, in the base):

    >>> report = score("ope", suite, result_sets, ScoringOptions(profile=PROFILES.get("otb-toolkit")))  # doctest: +SKIP
    >>> report.to_pandas()                       # tracker x metric, best first               # doctest: +SKIP
    >>> report.per_sequence()                    # one row per (tracker, sequence)              # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from evalkit.errors import EvalkitError, InputProblem, PartialSuiteError

if TYPE_CHECKING:  # pandas is imported on first use: `evalkit score --format json` never needs it
    import pandas as pd

    from evalkit.datasets.base import Suite
    from evalkit.metrics.profiles import Profile
    from evalkit.results import ResultSet


@dataclass(frozen=True)
class Column:
    """One metric column as every output shows it: key (JSON / DataFrame name), label, decimals, which way is better.

    ``higher_is_better`` is None for columns that are not ranked (counts); ``kind`` "count" prints a whole number
    without decimals and a fraction (a mean over repetitions) with ``decimals``.
    """

    key: str
    label: str
    decimals: int = 3
    higher_is_better: bool | None = True
    kind: Literal["float", "int", "count"] = "float"
    description: str = ""

    def format(self, value: object) -> str:
        """The value as tables print it: "-" for missing or non-finite values."""
        if self.kind == "int" and _finite(value):
            return str(int(value))  # type: ignore[call-overload]
        if self.kind == "count" and _finite(value) and float(value).is_integer():  # type: ignore[arg-type]
            return str(int(value))  # type: ignore[call-overload]
        return format_value(value, self.decimals)


def count_column(key: str, label: str, description: str = "") -> Column:
    """A count every report carries (sequences, frames, runs): printed whole, never ranked."""
    return Column(key, label, higher_is_better=None, kind="int", description=description)


N_SEQUENCES = count_column("n_sequences", "Seqs", "sequences scored")
N_FRAMES = count_column("n_frames", "Frames", "frames in the denominator")


def format_value(value: object, decimals: int = 3) -> str:
    """How every table and figure prints a number: ints as they are, floats with ``decimals``, "-" when missing."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    return f"{v:.{decimals}f}" if math.isfinite(v) else "-"


def _finite(value: object) -> bool:
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def json_number(value: object, column: Column | None = None) -> float | int | None:
    """A JSON-safe number: None for NaN/inf, int for ints (and whole "count" values), float otherwise."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    v = float(value)  # type: ignore[arg-type]
    if not math.isfinite(v):
        return None
    return int(v) if column is not None and column.kind in ("count", "int") and v.is_integer() else v


@dataclass
class TrackerResult:
    """One tracker's part of a report: what could not be scored, what was scored only by a toolkit's tolerance
    (``notices``: e.g. rows matched by position as the OTB toolkit does; printed like problems, nothing dropped),
    and (in subclasses) its scores."""

    tracker: str
    problems: list[InputProblem] = field(default_factory=list, kw_only=True)
    unscored: list[str] = field(default_factory=list, kw_only=True)
    notices: list[InputProblem] = field(default_factory=list, kw_only=True)

    @property
    def complete(self) -> bool:
        """True when every sequence of the suite was scored for this tracker."""
        return not self.unscored

    @property
    def scored(self) -> bool:
        """True when at least one sequence was scored."""
        return bool(self.headline())

    def headline(self) -> Mapping[str, object]:
        """The report's column values for this tracker (empty when nothing was scored)."""
        raise NotImplementedError

    def sequence_values(self) -> Mapping[str, Mapping[str, object]]:
        """Per sequence: column key -> value (the columns that make sense for one sequence)."""
        return {}

    def attribute_values(self) -> Mapping[str, Mapping[str, object]]:
        """Per attribute or tag: column key -> value."""
        return {}

    def json_extra(self) -> dict[str, object]:
        """Fields beyond the headline columns that ``as_json`` carries (intervals, ...)."""
        return {}


PROTOCOL_NAMES = {"vot-supervised": "VOT supervised", "vot-multistart": "VOT multistart"}


@dataclass
class Report:
    """Scores of several trackers on one suite under one protocol; subclasses declare ``columns`` and ``rank_by``."""

    suite: str
    protocol: str
    partial: bool
    n_suite_sequences: int
    missing_data: list[str]
    trackers: dict[str, Any]  # name -> TrackerResult subclass

    kind: ClassVar[str] = ""
    columns: ClassVar[tuple[Column, ...]] = ()
    sequence_columns: ClassVar[tuple[Column, ...]] = ()
    attribute_columns: ClassVar[tuple[Column, ...]] = ()
    rank_by: ClassVar[str] = ""
    attribute_tables: ClassVar[tuple[str, ...]] = ()  # attribute columns a report shows as tables (else plots)
    json_columns: ClassVar[tuple[str, ...] | None] = None  # the documented JSON fields; None: every column

    # -- what every output reads ------------------------------------------------------------------------------
    def column(self, key: str) -> Column:
        """The column described by ``key``."""
        for c in (*self.columns, *self.sequence_columns, *self.attribute_columns):
            if c.key == key:
                return c
        raise KeyError(key)

    def ranked(self) -> list[str]:
        """Tracker names, best ``rank_by`` first; trackers with nothing scored (or NaN) last."""
        higher = self.column(self.rank_by).higher_is_better is not False

        def key(name: str) -> float:
            v = self.trackers[name].headline().get(self.rank_by)
            if v is None or not _finite(v):
                return math.inf
            return -float(v) if higher else float(v)
        return sorted(self.trackers, key=key)

    def settings(self) -> list[str]:
        """What the numbers depend on besides the suite and protocol (profile, convention, interval), for titles."""
        return []

    @property
    def protocol_name(self) -> str:
        """The protocol as headings print it (OPE, TRE, VOT supervised, ...)."""
        return PROTOCOL_NAMES.get(self.protocol, self.protocol.upper())

    def title(self) -> str:
        """One line naming suite, protocol, settings and sequences, and PARTIAL when it is not the full benchmark."""
        parts = [self.suite.upper(), self.protocol_name, *self.settings(), f"{self.n_suite_sequences} sequences"]
        if self.partial:
            missing = f", {len(self.missing_data)} missing" if self.missing_data else ""
            parts.append(f"PARTIAL (not the benchmark's headline numbers{missing})")
        return " | ".join(parts)

    def notes(self) -> list[str]:
        """Footnotes that explain marks and columns of the headline table."""
        out = []
        if any(not t.complete for t in self.trackers.values()):
            out.append("* some sequences could not be scored for this tracker (see the problems listed above)")
        return out

    def marks(self, name: str) -> str:
        """Marks after a tracker's name: `*` when some sequence could not be scored."""
        return "" if self.trackers[name].complete else " *"

    def extra_cells(self, name: str) -> dict[str, str]:
        """Columns a report kind adds to its headline table beyond its metrics (label -> text), e.g. a p-value."""
        return {}

    # -- pandas --------------------------------------------------------------------------------------------------
    def to_pandas(self) -> pd.DataFrame:
        """Tracker x metric, best first: one column per declared column, plus ``complete``."""
        import pandas as pd

        rows = {}
        for name in self.ranked():
            values = self.trackers[name].headline()
            rows[name] = {c.key: _cell(values.get(c.key)) for c in self.columns}
            rows[name]["complete"] = self.trackers[name].complete
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=[*(c.key for c in self.columns), "complete"])
        frame.index.name = "tracker"
        return frame

    def per_sequence(self) -> pd.DataFrame:
        """Long form: one row per (tracker, sequence), one column per sequence-level metric."""
        return self._long("sequence", self.sequence_columns, lambda t: t.sequence_values())

    def per_attribute(self) -> pd.DataFrame:
        """Long form: one row per (tracker, attribute or tag), one column per metric."""
        return self._long("attribute", self.attribute_columns, lambda t: t.attribute_values())

    def _long(self, what: str, columns: tuple[Column, ...],
              values: Callable[[Any], Mapping[str, Mapping[str, object]]]) -> pd.DataFrame:
        import pandas as pd

        records = [{"tracker": name, what: item, **{c.key: _cell(v.get(c.key)) for c in columns}}
                   for name in self.ranked() for item, v in values(self.trackers[name]).items()]
        return pd.DataFrame.from_records(records, columns=["tracker", what, *(c.key for c in columns)])

    # -- JSON ----------------------------------------------------------------------------------------------------
    def json_header(self) -> dict[str, object]:
        """The report-level fields of ``as_json`` before ``trackers``."""
        return {"suite": self.suite, "protocol": self.protocol, "partial": self.partial}

    def as_json(self) -> dict[str, object]:
        """The documented JSON object of ``evalkit score --format json``: header fields, then one object per
        tracker with its column values (NaN as null), extras, ``n_sequences`` (sequences scored) and ``complete``
        (all of the suite's sequences scored); null when nothing was scored."""
        keys = self.json_columns or tuple(c.key for c in self.columns)
        trackers: dict[str, object] = {}
        for name, t in self.trackers.items():
            values = t.headline()
            # how many sequences this tracker was scored on and whether that is all of the suite: the report's
            # "partial" says only whether the suite is whole, not whether every tracker was scored on all of it
            trackers[name] = ({k: json_number(values.get(k), self.column(k)) for k in keys} | t.json_extra()
                              | {"n_sequences": json_number(values.get("n_sequences", self.n_scored(name))),
                                 "complete": t.complete} if values else None)
        return {**self.json_header(), "trackers": trackers}

    def n_scored(self, name: str) -> int:
        """How many of the suite's sequences were scored for tracker ``name``."""
        return max(self.n_suite_sequences - len(self.trackers[name].unscored), 0)


def _cell(value: object) -> object:
    """A DataFrame cell: NaN for missing values so numeric columns stay numeric."""
    return float("nan") if value is None else value


@dataclass(frozen=True)
class ScoringOptions:
    """Everything a scorer may need besides the suite and the results; each scorer reads the fields it uses."""

    profile: Profile | None = None
    allow_partial: bool = False
    resamples: int = 0
    seed: int = 0
    convention: str = "matlab"
    interval: tuple[int, int] | None = None


Scorer = Callable[["Suite", SequenceABC["ResultSet"], ScoringOptions], Report]


def check_suite(suite: Suite, allow_partial: bool) -> None:
    """Refuse a suite that lacks sequences (unless ``allow_partial``), an empty one, and a withheld one."""
    if suite.missing and not allow_partial:
        raise PartialSuiteError(
            f"{suite.name}: {len(suite.missing)} of {len(suite.expected)} sequences are not in {suite.source} "
            f"(first missing: {', '.join(suite.missing[:5])}); scores on part of a benchmark are not its headline "
            f"numbers. Pass --allow-partial (or --sequences) to score the {len(suite)} present, labelled partial.")
    if len(suite) == 0:
        raise EvalkitError(f"{suite.name}: no sequence found in {suite.source}")
    withheld = getattr(suite, "withheld", None)
    if withheld:
        raise EvalkitError(f"{suite.name}: {withheld}")


def score(protocol: str, suite: Suite, result_sets: SequenceABC[ResultSet], options: ScoringOptions) -> Report:
    """The report of ``result_sets`` on ``suite`` under ``protocol``, by the scorer registered for it."""
    from evalkit.registry import SCORERS

    scorer: Scorer = SCORERS.get(protocol)
    return scorer(suite, result_sets, options)
