"""Profiles: each existing toolkit's metric conventions, as data, so evalkit reproduces that toolkit's numbers.

A metric never branches on a dataset or toolkit name; it reads the profile's rules, and a suite's ``family``
(``otb``, ``uav``, ``lasot``, ``got10k``) selects the per-family ground-truth rule where a toolkit has one.

    >>> from evalkit.registry import PROFILES
    >>> PROFILES.get("pysot").first_frame
    'stored'

The facts are from each toolkit's code (OTB: genPerfMat.m / calcSeqErrRobust.m / plotDrawSave.m; got10k:
experiments/otb.py, uav123.py; pysot: toolkit/evaluation/ope_benchmark.py; pytracking: analysis/extract_results.py;
LaSOT: LaSOT_Evaluation_Toolkit utils/eval_tracker.m, calc_seq_err_robust.m, plot_draw_save.m); the README lays them
side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

Validity = Literal["all-positive", "size-positive", "finite", "center-positive", "norm-center-positive"]
Treatment = Literal["fail", "hit", "drop"]


@dataclass(frozen=True)
class GroundTruthRule:
    """How frames with unusable ground truth (and frames where the target is not visible) are counted."""

    success_valid: Validity
    success_invalid: Treatment
    precision_valid: Validity
    precision_invalid: Treatment
    norm_valid: Validity
    norm_invalid: Treatment
    # as-invalid: an invisible frame is treated like invalid ground truth; fail: a failure where the ground truth is
    # valid; removed: taken out of every numerator but kept in the denominator, whatever its ground truth (the LaSOT
    # toolkit deletes absent frames before scoring and still divides by the full length); ignore: scored as usual.
    invisible: Literal["as-invalid", "fail", "removed", "ignore"] = "as-invalid"


@dataclass(frozen=True)
class Profile:
    """The conventions of one toolkit's one-pass evaluation."""

    name: str
    description: str
    iou_pixel_inclusive: bool
    iou_clip: bool
    iou_union_eps: float
    success_thresholds: NDArray[np.float64]
    precision_thresholds: NDArray[np.float64]
    norm_precision_thresholds: NDArray[np.float64]
    precision_at: float
    norm_precision_readoff: Literal["value", "area"]
    norm_precision_at: float
    first_frame: Literal["stored", "ground-truth"]
    invalid_prediction: Literal["keep", "previous-if-gt", "previous-any-nan", "previous-zero-size"]
    honour_init_omit: bool
    drop_all_zero_sequences: bool
    normalized_eps: float
    rules: dict[str, GroundTruthRule] = field(default_factory=dict)
    # How an OPE result that records its own start frame is matched to the ground truth. "by-position": row k is
    # the k-th frame the protocol scores, whatever start frame the file records (the OTB toolkit's genPerfMat.m
    # scores OPE against `anno = subAnno{1}` and never reads startFrame); a recorded start frame that disagrees is
    # a notice. "start-frame": the recorded start frame decides, and a file whose rows do not fit it is refused.
    ope_alignment: Literal["by-position", "start-frame"] = "start-frame"
    # Rows after the last annotated frame: "refuse" (a problem), or "cut" with a notice (LaSOT's
    # calc_seq_err_robust.m: `results = results(1:size(rect_anno, 1), :)`, which monkey-17 needs).
    extra_rows: Literal["refuse", "cut"] = "refuse"

    def rule_for(self, family: str) -> GroundTruthRule:
        """The ground-truth rule for a dataset family (falling back to the profile's default)."""
        return self.rules.get(family, self.rules["default"])

    def index_of(self, thresholds: NDArray[np.float64], value: float) -> int:
        """Index of the threshold closest to ``value`` (the read-off point of a curve)."""
        return int(np.argmin(np.abs(thresholds - value)))


def _frozen(a: NDArray[np.float64]) -> NDArray[np.float64]:
    a = np.asarray(a, dtype=np.float64)
    a.setflags(write=False)
    return a


_PIXELS_0_50 = _frozen(np.arange(0, 51, dtype=np.float64))

OTB_TOOLKIT = Profile(
    name="otb-toolkit",
    description="OTB MATLAB toolkit (and the UAV123 / LaSOT MATLAB toolkits built on it)",
    iou_pixel_inclusive=True,
    iou_clip=False,
    iou_union_eps=0.0,
    success_thresholds=_frozen(np.linspace(0, 1, 21)),  # MATLAB 0:0.05:1
    precision_thresholds=_PIXELS_0_50,
    norm_precision_thresholds=_frozen(np.linspace(0, 0.5, 51)),  # LaSOT toolkit 0:0.01:0.5
    precision_at=20.0,
    norm_precision_readoff="value",
    norm_precision_at=0.20,
    first_frame="ground-truth",  # calcSeqErrRobust: rectMat(1,:) = rect_anno(1,:)
    invalid_prediction="previous-if-gt",
    honour_init_omit=True,
    drop_all_zero_sequences=True,  # plotDrawSave: aa = aa(sum(aa,2) > eps, :)
    normalized_eps=0.0,
    rules={
        "default": GroundTruthRule("all-positive", "fail", "all-positive", "hit", "all-positive", "hit"),
    },
    ope_alignment="by-position",  # genPerfMat.m: OPE uses anno = subAnno{1}, rows by position
)

LASOT_TOOLKIT = Profile(
    name="lasot-toolkit",
    description="LaSOT MATLAB evaluation toolkit (eval_tracker.m, calc_seq_err_robust.m, plot_draw_save.m)",
    iou_pixel_inclusive=True,  # calc_rect_int.m: the OTB toolkit's pixel-inclusive arithmetic
    iou_clip=False,
    iou_union_eps=0.0,
    success_thresholds=_frozen(np.linspace(0, 1, 21)),  # eval_tracker.m: 0:0.05:1, IoU > t
    precision_thresholds=_PIXELS_0_50,  # 0:50, error <= t
    norm_precision_thresholds=_frozen(np.linspace(0, 0.5, 51)),  # (0:50) / 100
    precision_at=20.0,
    norm_precision_readoff="value",  # run_tracker_performance_evaluation.m ranks it by "threshold" at 0.20
    norm_precision_at=0.20,
    first_frame="ground-truth",  # calc_seq_err_robust.m: rect_mat(1,:) = rect_anno(1,:)
    # `(sum(isnan(r)) | ~isreal(r) | r(3)<=0 | r(4)<=0) & ~isnan(r_anno)`: one NaN is enough (OTB needs all four)
    invalid_prediction="previous-any-nan",
    honour_init_omit=False,  # LaSOT has no initOmit
    drop_all_zero_sequences=True,  # plot_draw_save.m: aa = aa(sum(aa,2)>eps, :)
    normalized_eps=0.0,  # the centres are divided by the GT width and height, no epsilon
    rules={
        # absent frames are deleted before scoring, the denominator stays size(anno, 1); other frames whose GT is not
        # all-positive: IoU -1 (failure), centre errors -1 (hits), as in the OTB toolkit.
        "default": GroundTruthRule("all-positive", "fail", "all-positive", "hit", "all-positive", "hit",
                                   invisible="removed"),
    },
    ope_alignment="by-position",  # eval_tracker.m reads the result rows in order
    extra_rows="cut",
)

GOT10K = Profile(
    name="got10k",
    description="got10k-toolkit (ExperimentOTB / ExperimentUAV123 / ExperimentLaSOT)",
    iou_pixel_inclusive=False,
    iou_clip=True,
    iou_union_eps=float(np.finfo(float).eps),
    success_thresholds=_frozen(np.linspace(0, 1, 21)),
    precision_thresholds=_PIXELS_0_50,
    norm_precision_thresholds=_frozen(np.linspace(0, 0.5, 51)),
    precision_at=20.0,
    norm_precision_readoff="area",
    norm_precision_at=0.20,
    first_frame="ground-truth",
    invalid_prediction="keep",
    honour_init_omit=False,
    drop_all_zero_sequences=False,
    normalized_eps=0.0,
    rules={
        # OTB: no special case, so a NaN ground truth fails every comparison.
        "default": GroundTruthRule("finite", "fail", "finite", "fail", "finite", "fail", invisible="ignore"),
        # UAV123 / LaSOT: rows with NaN ground truth leave numerator and denominator.
        "uav": GroundTruthRule("finite", "drop", "finite", "drop", "finite", "drop", invisible="ignore"),
        "lasot": GroundTruthRule("finite", "drop", "finite", "drop", "finite", "drop", invisible="ignore"),
    },
)

PYSOT = Profile(
    name="pysot",
    description="pysot / pysot-toolkit OPEBenchmark",
    iou_pixel_inclusive=False,
    iou_clip=True,
    iou_union_eps=0.0,
    success_thresholds=_frozen(np.arange(0, 1.05, 0.05)),
    precision_thresholds=_PIXELS_0_50,
    norm_precision_thresholds=_frozen(np.arange(0, 51, 1) / 100),
    precision_at=20.0,
    norm_precision_readoff="value",
    norm_precision_at=0.20,
    first_frame="stored",
    invalid_prediction="keep",
    honour_init_omit=True,  # pysot's OTB100.json starts Tiger1 at frame 6
    drop_all_zero_sequences=False,
    normalized_eps=1e-16,
    rules={
        # success: IoU only where w, h > 0, else -1; precision: distance only where the GT centre is > 0, else -1.
        "default": GroundTruthRule("size-positive", "fail", "center-positive", "hit", "norm-center-positive", "hit",
                                   invisible="fail"),
    },
)

PYTRACKING = Profile(
    name="pytracking",
    description="pytracking analysis (extract_results.py)",
    iou_pixel_inclusive=True,
    iou_clip=False,
    iou_union_eps=0.0,
    success_thresholds=_frozen(np.arange(0.0, 1.05, 0.05)),
    precision_thresholds=_PIXELS_0_50,
    norm_precision_thresholds=_frozen(np.arange(0, 51, dtype=np.float64) / 100.0),
    precision_at=20.0,
    norm_precision_readoff="value",
    norm_precision_at=0.20,
    first_frame="ground-truth",
    invalid_prediction="previous-zero-size",
    honour_init_omit=False,
    drop_all_zero_sequences=False,
    normalized_eps=0.0,
    rules={
        # invalid GT: overlap -1 (fail), centre error inf (fail), normalized centre error -1 (hit).
        "default": GroundTruthRule("size-positive", "fail", "size-positive", "fail", "size-positive", "hit"),
        "uav": GroundTruthRule("size-positive", "fail", "size-positive", "hit", "size-positive", "hit"),
        "lasot": GroundTruthRule("size-positive", "fail", "size-positive", "fail", "size-positive", "hit",
                                 invisible="fail"),
    },
)

DEFAULT_PROFILE = "otb-toolkit"
