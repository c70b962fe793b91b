"""VOT supervised ("baseline") metrics of VOT2016-2019: accuracy, robustness and EAO from frame codes and overlaps.

    >>> from evalkit.geometry.region import VotCode
    >>> codes = [[VotCode.INIT] + [VotCode.REGION] * 3 + [VotCode.FAILURE]]
    >>> one = evaluate_sequence("seq", codes, [[np.nan, .5, .5, .5, np.nan]], [[np.nan, .5, .5, .5, np.nan]],
    ...                         rules=SupervisedRules(burn_in=2))
    >>> one.accuracy, one.failures
    (0.5, 1.0)

Facts are from the MATLAB VOT toolkit used for VOT2016-2018 (``estimate_accuracy.m``, ``estimate_failures.m``,
``estimate_expected_overlap.m``, ``analyze_accuracy_robustness.m``, ``analyze_average_expected_overlap.m``,
``create_tag_selectors.m`` and the trax ``region.c`` its ``region_overlap`` MEX wraps), checked against pysot's port
(``toolkit/evaluation/{ar,eao}_benchmark.py``, ``utils/statistics.py``, ``utils/region.pyx``). No code is taken from
either; the rules are:

- **overlap**: :func:`evalkit.geometry.region.region_overlap` rasterises both regions as the toolkit's ``region.c``
  does. The image bounds differ by analysis, as in both toolkits: accuracy passes [W, H], EAO passes [W - 1, H - 1].
- **accuracy**: per run, the overlap of frames holding a region, leaving out the ``burn_in`` (10) frames from each
  (re-)initialisation on (the initialisation frame included); per frame the mean over repetitions (NaN-aware); then
  the mean over every such frame of the suite, i.e. sequences weighted by their number of scored frames.
- **robustness**: failures (``2`` lines) of a run; per sequence the mean over its repetitions. ``failures`` is the
  sum over sequences (the MATLAB toolkit's average failures, pysot's "Lost Number"), ``robustness`` that sum divided
  by the number of sequences (mean failures per sequence), ``failures_per_100`` failures per 100 frames (pysot's
  "Robustness" column, the MATLAB toolkit's normalised robustness times 100).
- **EAO**: each run is cut at each re-initialisation, which comes ``skip_after_failure`` (5) frames after a failure.
  A fragment that ended in a failure keeps its overlaps up to the next initialisation (special frames as 0) and is
  padded with zeros to the longest sequence; the last fragment (no failure after it, or a failure too close to the
  end for a re-start) is padded with "unknown". A run without failure keeps its raw overlaps (a NaN overlap there
  makes the curve NaN where it counts, as in both toolkits). Phi(1) = 1; Phi(N) = weighted mean, over fragments known
  at N, of the mean overlap of their frames 2..N. EAO = mean of Phi(N) over N in [low, high] (NaN points left out);
  VOT2016 [108, 371], VOT2017/2018 [100, 356], VOT2019 [46, 291] (``data/vot.json``).
- **per tag** (camera_motion, illum_change, motion_change, size_change, occlusion, and ``empty`` = none of them):
  accuracy and failures over the tagged frames only, with the burn-in counted in tagged frames (the MATLAB toolkit
  filters the trajectory first); EAO with each fragment weighted by its fraction of tagged frames.

Conventions (``SupervisedRules.convention``):

- ``"matlab"`` (default): the VOT-legacy MATLAB toolkit. A fragment's weight is 1 / (the number of repetitions of
  its sequence), so every sequence carries the same total weight; a failure at frame f (0-based) starts a new
  fragment when f + skip <= n - 1; Phi(N) is undefined (left out of the mean) when no fragment is known at N.
- ``"pysot"``: pysot's ``EAOBenchmark``, which multiplies every fragment by 1 / (the repetition count of the *last*
  sequence it read), a constant that cancels: fragments of sequences with more repetitions weigh more; a failure
  starts a new fragment when f + skip <= n (one frame later than MATLAB allows; the empty fragment it can leave
  gets weight 0); Phi(N) is 0 when no fragment is known. Accuracy and robustness are the same in both.
  The current Python vot-toolkit reads the interval one step later (its curve index j is N = j + 1 and it averages
  indices low..high); that reading is not offered. vot-toolkit 0.9.0 also rasterises rectangles differently (x ..
  x + w - 1), weights sequences by length for accuracy and robustness, and ends EAO fragments at the failure frame;
  ``tests/test_vot_toolkit_compare.py`` runs its analysis on the same results and measures each effect.

Output fields (per tracker): ``eao``, ``accuracy``, ``robustness``, ``failures``, ``failures_per_100``,
``n_sequences``, ``n_frames``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evalkit.geometry.region import VotCode

FIELDS = ("eao", "accuracy", "robustness", "failures", "failures_per_100", "n_sequences", "n_frames")
CONVENTIONS = ("matlab", "pysot")
Convention = Literal["matlab", "pysot"]
ALL = "all"
EMPTY_TAG = "empty"


@dataclass(frozen=True)
class SupervisedRules:
    """Rules of the supervised analysis (defaults: VOT2016-2018 stacks, MATLAB toolkit)."""

    burn_in: int = 10
    skip_after_failure: int = 5
    convention: Convention = "matlab"

    def __post_init__(self) -> None:
        if self.convention not in CONVENTIONS:
            raise ValueError(f"unknown convention {self.convention!r}; one of {', '.join(CONVENTIONS)}")
        if self.burn_in < 0 or self.skip_after_failure < 1:
            raise ValueError("need burn_in >= 0 and skip_after_failure >= 1")


# ------------------------------------------------------------------------------------------------ per sequence


def burn_in_mask(codes: NDArray[np.int8], burn_in: int) -> NDArray[np.bool_]:
    """Frames within ``burn_in`` frames of the last initialisation (the initialisation frame included), per row."""
    codes = np.atleast_2d(codes)
    if burn_in <= 0:
        return np.zeros(codes.shape, dtype=bool)
    idx = np.broadcast_to(np.arange(codes.shape[1]), codes.shape)
    last_init = np.maximum.accumulate(np.where(codes == VotCode.INIT, idx, -burn_in - 1), axis=1)
    return idx - last_init < burn_in


@dataclass(frozen=True)
class Fragment:
    """A piece of a run from one (re-)initialisation on: its overlaps, whether it ended in a failure, tag shares."""

    overlaps: NDArray[np.float64]
    failed: bool
    shares: Mapping[str, float]


@dataclass(frozen=True)
class TagCounts:
    """Accuracy and failure sums of one sequence over the frames with one tag."""

    overlap_sum: float
    overlap_frames: int
    failures: float
    n_frames: int


@dataclass(frozen=True)
class SequenceSupervised:
    """One sequence's repetitions reduced to sums that aggregate exactly over sequences, and its EAO fragments."""

    name: str
    n_frames: int
    n_runs: int
    overlap_sum: float
    overlap_frames: int
    failures: float
    tags: Mapping[str, TagCounts] = field(default_factory=dict)
    fragments: tuple[Fragment, ...] = field(default=(), repr=False)

    @property
    def accuracy(self) -> float:
        """Mean overlap of the scored frames (NaN when none was scored)."""
        return self.overlap_sum / self.overlap_frames if self.overlap_frames else float("nan")


def evaluate_sequence(name: str, codes: ArrayLike, accuracy_overlaps: ArrayLike, eao_overlaps: ArrayLike,
                      tags: Mapping[str, NDArray[np.bool_]] | None = None,
                      rules: SupervisedRules = SupervisedRules()) -> SequenceSupervised:
    """Accuracy, failures and EAO fragments of one sequence's repetitions.

    ``codes``: R x N frame codes (:class:`~evalkit.geometry.region.VotCode`), one row
    per repetition; ``accuracy_overlaps`` / ``eao_overlaps``: R x N overlaps with the image bounds each analysis uses
    (NaN where no region); ``tags``: per-frame tag flags (the ``all`` and ``empty`` tags are added here).
    """
    codes = np.atleast_2d(np.asarray(codes))
    acc = np.atleast_2d(np.asarray(accuracy_overlaps, dtype=np.float64))
    eao = np.atleast_2d(np.asarray(eao_overlaps, dtype=np.float64))
    if not codes.shape == acc.shape == eao.shape:
        raise ValueError(f"{name}: codes and overlaps differ in shape: {codes.shape}, {acc.shape}, {eao.shape}")
    n_runs, n = codes.shape
    all_tags = with_derived_tags(tags or {}, n)
    scored = np.where((codes == VotCode.REGION) & ~burn_in_mask(codes, rules.burn_in), acc, np.nan)
    overlap_sum, overlap_frames = _repetition_mean_sums(scored)
    failures = float((codes == VotCode.FAILURE).sum(axis=1).mean())
    tag_counts = {tag: _tag_counts(codes[:, flags], acc[:, flags], rules) for tag, flags in all_tags.items()
                  if tag != ALL and flags.any()}
    fragments = tuple(f for r in range(n_runs) for f in run_fragments(codes[r], eao[r], all_tags, rules))
    return SequenceSupervised(name, n, n_runs, overlap_sum, overlap_frames, failures, tag_counts, fragments)


def with_derived_tags(tags: Mapping[str, NDArray[np.bool_]], n: int) -> dict[str, NDArray[np.bool_]]:
    """The tags plus ``all`` (every frame) and ``empty`` (frames with none of the tags)."""
    out = {ALL: np.ones(n, dtype=bool)}
    out.update({k: np.asarray(v, dtype=bool) for k, v in tags.items()})
    if tags and EMPTY_TAG not in tags:
        out[EMPTY_TAG] = ~np.any([np.asarray(v, dtype=bool) for v in tags.values()], axis=0)
    return out


def _repetition_mean_sums(scored: NDArray[np.float64]) -> tuple[float, int]:
    """Sum and count of the per-frame means over repetitions (frames no repetition scored are left out)."""
    known = ~np.isnan(scored)
    per_frame_count = known.sum(axis=0)
    frames = per_frame_count > 0
    means = np.where(known, scored, 0.0).sum(axis=0)[frames] / per_frame_count[frames]
    return float(means.sum()), int(frames.sum())


def _tag_counts(codes: NDArray[np.int8], overlaps: NDArray[np.float64], rules: SupervisedRules) -> TagCounts:
    """Accuracy and failures over the tagged frames only; the burn-in counts tagged frames (MATLAB's selector)."""
    scored = np.where((codes == VotCode.REGION) & ~burn_in_mask(codes, rules.burn_in), overlaps, np.nan)
    total, frames = _repetition_mean_sums(scored)
    return TagCounts(total, frames, float((codes == VotCode.FAILURE).sum(axis=1).mean()), int(codes.shape[1]))


def fragment_starts(codes: NDArray[np.int8], rules: SupervisedRules) -> tuple[NDArray[np.intp], bool]:
    """0-based first frames of a run's fragments (0, then each failure + skip that the convention keeps), and
    whether the run failed at all."""
    failures = np.flatnonzero(np.asarray(codes) == VotCode.FAILURE)
    n = len(codes)
    restarts = failures + rules.skip_after_failure
    limit = n - 1 if rules.convention == "matlab" else n
    return np.concatenate([[0], restarts[restarts <= limit]]).astype(np.intp), bool(len(failures))


def run_fragments(codes: NDArray[np.int8], overlaps: NDArray[np.float64], tags: Mapping[str, NDArray[np.bool_]],
                  rules: SupervisedRules = SupervisedRules()) -> list[Fragment]:
    """The EAO fragments of one run, each with the share of its frames that carry each tag."""
    n = len(codes)
    starts, failed_any = fragment_starts(codes, rules)
    if not failed_any:
        return [Fragment(np.asarray(overlaps, dtype=np.float64), False,
                         {t: float(f.sum()) / n for t, f in tags.items()})]
    zeroed = np.nan_to_num(np.asarray(overlaps, dtype=np.float64), nan=0.0)
    out = []
    for k, start in enumerate(starts):
        if k + 1 < len(starts):  # ended in a failure: up to and including the next initialisation
            stop = int(starts[k + 1])
            frames = slice(int(start), stop + 1)
            span = stop - int(start) + 1
            out.append(Fragment(zeroed[frames], True, {t: float(f[frames].sum()) / span for t, f in tags.items()}))
        elif start < n:  # the last fragment: to the end, unknown afterwards
            frames = slice(int(start), n)
            out.append(Fragment(zeroed[frames], False, {t: float(f[frames].sum()) / (n - int(start))
                                                        for t, f in tags.items()}))
    return out


# ------------------------------------------------------------------------------------------------ suite


@dataclass(frozen=True)
class TagScore:
    """One tag's numbers over a suite: accuracy, failures (sum over sequences of the repetition means), failures per
    100 tagged frames, EAO with fragments weighted by their share of tagged frames."""

    accuracy: float
    failures: float
    failures_per_100: float
    eao: float
    n_frames: int
    n_sequences: int


@dataclass(frozen=True)
class SupervisedScore:
    """A tracker's supervised-experiment numbers on a suite, the EAO curve and the per-tag numbers."""

    eao: float
    accuracy: float
    robustness: float
    failures: float
    failures_per_100: float
    n_sequences: int
    n_frames: int
    eao_curve: NDArray[np.float64] = field(repr=False)
    interval: tuple[int, int] = (0, 0)
    tags: Mapping[str, TagScore] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, float | int]:
        """The declared output fields."""
        return {k: getattr(self, k) for k in FIELDS}


def fragment_weights(sequences: SequenceABC[SequenceSupervised], tag: str, rules: SupervisedRules
                     ) -> NDArray[np.float64]:
    """Weight of every fragment (in sequence order) for ``tag``: its tagged share times, under the MATLAB
    convention, 1 / its sequence's repetitions (pysot's constant factor cancels and is left out)."""
    out = []
    for s in sequences:
        scale = 1.0 / s.n_runs if rules.convention == "matlab" else 1.0
        out.extend(scale * f.shares.get(tag, 0.0) for f in s.fragments)
    return np.asarray(out, dtype=np.float64)


def fragment_matrix(fragments: Iterable[Fragment], length: int) -> NDArray[np.float64]:
    """Fragments as rows of ``length`` columns: failed ones padded with 0, the others with NaN (unknown)."""
    frags = list(fragments)
    out = np.full((len(frags), length), np.nan)
    for k, f in enumerate(frags):
        m = min(len(f.overlaps), length)
        if f.failed:
            out[k] = 0.0
        out[k, :m] = f.overlaps[:m]
    return out


def expected_overlap_curves(matrix: NDArray[np.float64], weights: NDArray[np.float64],
                            convention: Convention = "matlab") -> NDArray[np.float64]:
    """Phi(N) for N = 1..length (index N - 1), one column per weight vector (``weights``: fragments x curves).

    Phi(1) = 1; Phi(N) = sum over fragments known at N (not NaN in column N) of weight * mean(frames 2..N) / sum of
    their weights. With no fragment known at N: NaN (MATLAB) or 0 (pysot).
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim == 1:
        weights = weights[:, None]
    if len(weights) != len(matrix):
        raise ValueError(f"{len(matrix)} fragments but {len(weights)} weight rows")
    n_frag, length = matrix.shape
    curves = np.full((length, weights.shape[1]), np.nan)
    curves[0] = 1.0
    if length < 2 or n_frag == 0:
        return curves
    known = ~np.isnan(matrix[:, 1:])
    partial = np.cumsum(matrix[:, 1:], axis=1) / np.arange(1, length)  # mean of frames 2..N (NaN propagates)
    means = np.where(known, partial, 0.0)
    num = means.T @ weights
    den = known.T.astype(np.float64) @ weights
    with np.errstate(invalid="ignore", divide="ignore"):
        curves[1:] = num / den
    if convention == "pysot":
        curves[1:][~known.any(axis=0)] = 0.0
    return curves


def expected_average_overlap(curve: NDArray[np.float64], interval: tuple[int, int]) -> float:
    """Mean of Phi(N) over N in [low, high] (1-based, inclusive; clipped to the curve), NaN points left out."""
    low, high = interval
    if not 1 <= low <= high:
        raise ValueError(f"EAO interval needs 1 <= low <= high, got {interval}")
    part = np.asarray(curve, dtype=np.float64)[low - 1: high]
    part = part[~np.isnan(part)]
    return float(part.mean()) if len(part) else float("nan")


def aggregate(sequences: SequenceABC[SequenceSupervised], interval: tuple[int, int], length: int | None = None,
              rules: SupervisedRules = SupervisedRules()) -> SupervisedScore:
    """Suite numbers from the evaluated sequences; ``length``: the longest sequence of the suite (EAO padding)."""
    seqs = list(sequences)
    n_frames = sum(s.n_frames for s in seqs)
    length = max([length or 0, *(s.n_frames for s in seqs)]) if seqs else (length or 1)
    failures = float(sum(s.failures for s in seqs))
    frames = sum(s.overlap_frames for s in seqs)
    accuracy = sum(s.overlap_sum for s in seqs) / frames if frames else float("nan")
    tags = sorted({t for s in seqs for t in s.tags})
    names = [ALL, *tags]
    matrix = fragment_matrix((f for s in seqs for f in s.fragments), length)
    weights = np.stack([fragment_weights(seqs, t, rules) for t in names], axis=1).reshape(len(matrix), len(names))
    curves = expected_overlap_curves(matrix, weights, rules.convention)
    tag_scores = {}
    for k, tag in enumerate(tags, start=1):
        members = [s.tags[tag] for s in seqs if tag in s.tags]
        t_frames = sum(m.overlap_frames for m in members)
        t_failures = float(sum(m.failures for m in members))
        t_length = sum(m.n_frames for m in members)
        tag_scores[tag] = TagScore(
            accuracy=sum(m.overlap_sum for m in members) / t_frames if t_frames else float("nan"),
            failures=t_failures, failures_per_100=100.0 * t_failures / t_length if t_length else float("nan"),
            eao=expected_average_overlap(curves[:, k], interval), n_frames=t_length, n_sequences=len(members))
    return SupervisedScore(
        eao=expected_average_overlap(curves[:, 0], interval), accuracy=accuracy,
        robustness=failures / len(seqs) if seqs else float("nan"), failures=failures,
        failures_per_100=100.0 * failures / n_frames if n_frames else float("nan"), n_sequences=len(seqs),
        n_frames=n_frames, eao_curve=curves[:, 0], interval=interval, tags=tag_scores)
