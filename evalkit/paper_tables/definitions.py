"""The published tables evalkit emits (``evalkit table --layout NAME``), each in its source's layout.

    evalkit table --layout cfnet-table1 --data-root ../shared/data/otb100 \\
                  --results ../shared/data/results/otb100_cfnet_release --format markdown

- ``cfnet-table1``: CFNet paper, Table 1. OTB-2013/50/100, OPE and TRE; IoU (success AUC) and prec. (area under
  the precision curve) in %, fps. Trackers as rows; best bold, second underlined, per column.
- ``fdsiamfc-benchmarks``: FDSiamFC README. AUC and DP (precision at 20 px) on OTB50/100, UAV20L, UAV123,
  TColor128; FPS. Trackers as rows; no marks.
- ``fdsiamfc-compression``: FDSiamFC README. Model size (MB), GFLOPs, FPS. Trackers as columns; no marks.
- ``dcfnet-table2``: DCFNet paper, Table 2 (OTB-2013). OP at 0.5, DP at 20 px, CLE (px), FPS. Trackers as rows.
- ``dcffnet-ablation``: DCFFNet paper, Table III (OTB-100). AUC, precision at 20 px, FPS. Variants as columns.
- ``dcffnet-vot2018``: DCFFNet paper, Table I (VOT2018). EAO, A, R (failures per 100 frames). Trackers as columns;
  best red, second blue, per row.
- ``dcffnet-lasot``: DCFFNet paper, Table II (LaSOT test). AUC, FPS. Trackers as columns; red / blue on AUC.
- ``ablation``: generic. Any variants of one tracker as columns (``--trackers``); AUC, precision, FPS on
  ``--suite``; best bold, second underlined.

Each layout is registered once in :data:`evalkit.registry.LAYOUTS` as ``evalkit.paper_tables.definitions:<NAME>``.
The published values live in ``published.json`` beside this module (read only for ``--against-published``).
"""

from __future__ import annotations

from evalkit.paper_tables.model import Layout, Metric, PaperRow

_OTB_SUBSETS = (("otb2013", "2013"), ("otb50", "OTB-50"), ("otb100", "OTB-100"))


def _cfnet_metrics() -> tuple[Metric, ...]:
    metrics = [Metric("fps", "fps", "speed", better="higher", decimals=0, hardware_bound=True)]
    for suite, label in _OTB_SUBSETS:
        for protocol in ("ope", "tre"):
            group = f"{label} {protocol.upper()}"
            metrics.append(Metric(f"{suite}/{protocol}/iou", "IoU", "ope", "success_auc", group, suite, protocol,
                                  scale=100, decimals=1, marked=True))
            metrics.append(Metric(f"{suite}/{protocol}/prec", "prec.", "ope", "precision_auc", group, suite,
                                  protocol, scale=100, decimals=1, marked=True))
    return tuple(metrics)


CFNET_TABLE1 = Layout(
    name="cfnet-table1",
    title="CFNet paper, Table 1: OTB-2013 / OTB-50 / OTB-100, OPE and TRE (IoU and prec. in %, speed in fps)",
    source="Valmadre et al., CVPR 2017, Table 1",
    metrics=_cfnet_metrics(),
    rows=(
        PaperRow("CFNet-conv1", ("cf1camera",)),
        PaperRow("CFNet-conv2", ("cf2camera",)),
        PaperRow("Baseline+CF-conv3", ("xc3incf3camera",)),
        PaperRow("CFNet-conv5", ("cf5camera",)),
        PaperRow("Baseline-conv5", ("xc5camera",)),
        PaperRow("SiamFC-3s", ("siamfc3s",)),
    ),
    corner="Method",
    marks="bold-underline",
    notes=("IoU: success AUC (mean success rate over IoU thresholds 0:0.05:1); prec.: area under the precision curve "
           "(mean precision over 0..50 px), not the precision at 20 px. OPE = run 1, TRE = all 20 runs pooled per "
           "sequence (OTB toolkit).",),
)


def _fdsiamfc_metrics() -> tuple[Metric, ...]:
    # the README prints numbers without trailing zeros (0.53, 0.69, Sq 1 / 0.3 / 0.15)
    metrics = [Metric("sq", "Sq", "static", better=None, decimals=2, strip_zeros=True)]
    for suite, label in (("otb50", "OTB50"), ("otb100", "OTB100"), ("uav20l", "UAV20L"), ("uav123", "UAV123"),
                         ("tc128", "TColor128")):
        metrics.append(Metric(f"{suite}/auc", "AUC", "ope", "success_auc", label, suite, strip_zeros=True))
        metrics.append(Metric(f"{suite}/dp", "DP", "ope", "precision_20", label, suite, strip_zeros=True))
    metrics.append(Metric("fps", "FPS", "speed", decimals=1, hardware_bound=True, strip_zeros=True))
    return tuple(metrics)


_FDSIAMFC_ROWS = (
    PaperRow("SiamFC", ("SiamFC-3s", "siamfc3s"), static=(("sq", 1.0),)),
    PaperRow("FDSiamFC_30", ("fdsiamfc30", "FDSiamFC-30"), static=(("sq", 0.3),)),
    PaperRow("FDSiamFC_15", ("fdsiamfc15", "FDSiamFC-15"), static=(("sq", 0.15),)),
)

FDSIAMFC_BENCHMARKS = Layout(
    name="fdsiamfc-benchmarks",
    title="FDSiamFC: tracking performance on multiple benchmarks (AUC, DP = precision at 20 px, FPS)",
    source="FDSiamFC README, 'Tracking performance on multiple benchmark'",
    metrics=_fdsiamfc_metrics(),
    rows=_FDSIAMFC_ROWS,
    notes=("Sq: the width ratio of the compressed network (a property of the variant, not a measurement).",),
)

FDSIAMFC_COMPRESSION = Layout(
    name="fdsiamfc-compression",
    title="FDSiamFC: compression results",
    source="FDSiamFC README, 'Compression results'",
    metrics=(
        Metric("model_size_mb", "Model size(MB)", "complexity", "model_size_mb", better="lower", strip_zeros=True),
        Metric("gflops", "Computional cost GFLOPs", "complexity", "gflops", better="lower", strip_zeros=True),
        Metric("fps", "FPS", "speed", decimals=1, hardware_bound=True, strip_zeros=True),
    ),
    rows=_FDSIAMFC_ROWS,
    trackers_as_columns=True,
    notes=("Model size and GFLOPs are measured by evalkit from the networks (`evalkit complexity --format json`, "
           "passed with --measured FILE); FPS is evalkit's own measurement on the device named.",),
)

DCFNET_TABLE2 = Layout(
    name="dcfnet-table2",
    title="DCFNet paper, Table 2: ablation on OTB-2013 (OP at 0.5, DP at 20 px, CLE in px, FPS)",
    source="Wang et al., DCFNet, arXiv:1704.04057, Table 2",
    metrics=(
        Metric("op", "OP", "ope", "op_50", suite="otb2013", decimals=2),
        Metric("dp", "DP", "ope", "precision_20", suite="otb2013", decimals=2),
        Metric("cle", "CLE", "centre-error", "mean_centre_error", suite="otb2013", decimals=2, better="lower"),
        Metric("fps", "FPS", "speed", decimals=2, hardware_bound=True),
    ),
    rows=(
        PaperRow("DCFNet-conv1", ("dcfnet", "dcfnet_conv1")),
        PaperRow("DCFNet-conv2", ("dcfnet_conv2",)),
        PaperRow("DCFNet-conv1-dilation", ("dcfnet_conv1_dilation", "dcfnet-dilation")),
        PaperRow("DCFNet-conv1-1s", ("dcfnet_1s",)),
        PaperRow("DCFNet-conv1-5s", ("dcfnet_5s",)),
        PaperRow("DCFNet-conv1-7s", ("dcfnet_7s",)),
    ),
    notes=("OP: mean over sequences of the fraction of frames with IoU > 0.5; DP: precision at 20 px; CLE: mean "
           "over sequences of the mean centre location error over frames with ground truth.",),
)

DCFFNET_ABLATION = Layout(
    name="dcffnet-ablation",
    title="DCFFNet paper, Table III: ablation on OTB-100 (AUC, precision, FPS)",
    source="DCFFNet paper, Table III",
    metrics=(
        Metric("auc", "AUC", "ope", "success_auc", suite="otb100"),
        Metric("precision", "Precision", "ope", "precision_20", suite="otb100"),
        Metric("fps", "FPS", "speed", decimals=0, hardware_bound=True),
    ),
    rows=(PaperRow("Baseline"), PaperRow("CF-1st"), PaperRow("CF-2nd"), PaperRow("CF-double")),
    trackers_as_columns=True,
    corner="",
)

DCFFNET_VOT2018 = Layout(
    name="dcffnet-vot2018",
    title="DCFFNet paper, Table I: VOT2018 (EAO, accuracy A, robustness R)",
    source="DCFFNet paper, Table I",
    metrics=(
        Metric("eao", "EAO", "vot", "eao", suite="vot2018", protocol="vot-supervised", marked=True),
        Metric("accuracy", "A", "vot", "accuracy", suite="vot2018", protocol="vot-supervised", marked=True),
        Metric("robustness", "R", "vot", "failures_per_100", suite="vot2018", protocol="vot-supervised",
               better="lower", marked=True),
    ),
    rows=tuple(PaperRow(n) for n in ("UPDT", "LADCF", "RCO", "SiamFC", "SPM", "SiamRPN", "SiamFC++", "ATOM",
                                      "SiamRPN++")) + (PaperRow("DCFFNet", ("Ours",)),),
    trackers_as_columns=True,
    corner="",
    marks="red-blue",
    notes=("R: failures per 100 frames (pysot's robustness, the figure VOT2018 tables print).",),
)

DCFFNET_LASOT = Layout(
    name="dcffnet-lasot",
    title="DCFFNet paper, Table II: LaSOT test split (success AUC, FPS)",
    source="DCFFNet paper, Table II",
    metrics=(
        Metric("auc", "AUC", "ope", "success_auc", suite="lasot", marked=True),
        Metric("fps", "FPS", "speed", decimals=0, hardware_bound=True),
    ),
    rows=tuple(PaperRow(n) for n in ("CSRDCF", "CFNet", "Staple", "ECO-hc", "ECO", "SiamFC", "VITAL", "MDNet",
                                      "SiamRPN", "SPM")) + (PaperRow("DCFFNet", ("Ours",)),),
    trackers_as_columns=True,
    corner="",
    marks="red-blue",
)


def ablation(suite: str = "otb100") -> Layout:
    """A generic ablation table: the variants given with ``--trackers`` as columns; AUC, precision, FPS on ``suite``."""
    return Layout(
        name="ablation",
        title=f"Ablation on {suite.upper()} (success AUC, precision at 20 px, FPS)",
        source="generic layout (DCFFNet Table III style)",
        metrics=(
            Metric("auc", "AUC", "ope", "success_auc", suite=suite, marked=True),
            Metric("precision", "Precision", "ope", "precision_20", suite=suite, marked=True),
            Metric("fps", "FPS", "speed", decimals=0, hardware_bound=True),
        ),
        trackers_as_columns=True,
        corner="",
        marks="bold-underline",
        generic=True,
    )


ABLATION = ablation()
