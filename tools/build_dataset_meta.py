"""Build the versioned sequence-metadata files in ``evalkit/datasets/data/`` from the facts in ``../shared``.

Only metadata is written (names, folders, frame ranges, initOmit, subset membership, attributes); ground-truth
boxes stay in the user's dataset folders. Re-run after the shared facts change, then review the diff:

    python tools/build_dataset_meta.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "evalkit" / "datasets" / "data"

OTB_ATTRIBUTES = {
    "IV": "Illumination Variation",
    "SV": "Scale Variation",
    "OCC": "Occlusion",
    "DEF": "Deformation",
    "MB": "Motion Blur",
    "FM": "Fast Motion",
    "IPR": "In-Plane Rotation",
    "OPR": "Out-of-Plane Rotation",
    "OV": "Out-of-View",
    "BC": "Background Clutters",
    "LR": "Low Resolution",
}


def _write(name: str, payload: dict) -> None:
    path = OUT / name
    path.write_text(json.dumps(payload, indent=1, sort_keys=False) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes)")


def build_otb(shared: Path) -> None:
    """OTB-2013 / OTB-50 / OTB-100 entries from the toolkit configSeqs facts and pysot's attribute lists."""
    meta = json.loads((shared / "data/otb100/otb100_sequences_meta.json").read_text())
    alt = {r["sequence"]: r for r in csv.DictReader(open(shared / "data/otb100/otb100_attributes_by_source.csv"))}
    sequences = []
    for s in meta:
        gt_rel = s["dataset_gt_file"]
        anno = Path(s["toolkit_anno_file"]).stem
        sequences.append({
            "name": s["name"],
            "folder": s["dataset_folder"],
            "gt_file": Path(gt_rel).name,
            "toolkit_anno": anno,
            "start_frame": s["startFrame"],
            "end_frame": s["endFrame"],
            "digits": s["nz"],
            "ext": s["ext"],
            "init_omit": s["initOmit"],
            "attributes": sorted(s["attr_pysot"]),
            "attributes_otb_toolkit": sorted(alt[s["name"]]["otbtoolkit_HonglinChu_att"].split())
            if alt[s["name"]]["otbtoolkit_HonglinChu_att"] not in ("", "(missing)") else None,
        })
    subsets = {
        "otb2013": [s["name"] for s in meta if s["in_cvpr13"]],
        "otb50": [s["name"] for s in meta if s["in_tb50"]],
        "otb100": [s["name"] for s in meta if s["in_tb100"]],
    }
    _write("otb.json", {
        "format_version": 1,
        "about": "OTB benchmark entries (Wu, Lim, Yang). Frame numbers are the video's 1-based numbers; "
                 "init_omit ranges may not be used as start frames (OTB toolkit). attributes: pysot OTB100.json, "
                 "which matches the OTB-2015 paper totals; attributes_otb_toolkit: the toolkit's att files.",
        "attribute_names": OTB_ATTRIBUTES,
        "subsets": subsets,
        "sequences": sequences,
    })


def build_uav(shared: Path) -> None:
    """UAV123 and UAV20L entries (frame ranges and the 12 attribute flags)."""
    meta = json.loads((shared / "data/uav123/uav_sequences_meta.json").read_text())
    names = dict(zip(meta["attribute_order"], meta["attribute_names"], strict=True))
    out = {"format_version": 1,
           "about": "UAV123 / UAV20L (Mueller et al., ECCV 2016). Sub-sequences such as bird1_2 are frame ranges "
                    "of one image folder; NaN ground-truth rows mark frames where the target is absent.",
           "attribute_names": names, "suites": {}}
    for suite in ("UAV123", "UAV20L"):
        out["suites"][suite.lower()] = [{
            "name": s["name"], "folder": s["img_folder"], "start_frame": s["startFrame"],
            "end_frame": s["endFrame"], "digits": s["nz"], "ext": s["ext"],
            "attributes": s["attributes"],
        } for s in meta[suite]]
    _write("uav.json", out)


def build_tc128(shared: Path) -> None:
    """TColor-128 entries (frame ranges only)."""
    meta = json.loads((shared / "data/tc128/tc128_sequences_meta.json").read_text())
    _write("tc128.json", {
        "format_version": 1,
        "about": "Temple Color 128 (Liang et al., TIP 2015): folder and frame ranges from the benchmark's configSeqs.",
        "sequences": [{"name": s["name"], "folder": s["path"], "start_frame": s["startFrame"],
                       "end_frame": s["endFrame"], "digits": s["nz"], "ext": s["ext"]} for s in meta["TC128"]],
    })


# The LaSOT toolkit's 14 attributes, in the column order of its annos/att/<seq>.txt files
# (run_tracker_performance_evaluation.m: att_name / att_fig_name).
LASOT_ATTRIBUTES = {
    "IV": "illumination variation", "POC": "partial occlusion", "DEF": "deformation", "MB": "motion blur",
    "CM": "camera motion", "ROT": "rotation", "BC": "background clutter", "VC": "viewpoint change",
    "SV": "scale variation", "FOC": "full occlusion", "FM": "fast motion", "OV": "out-of-view",
    "LR": "low resolution", "ARC": "aspect ratio change",
}


def build_lasot(shared: Path) -> None:
    """LaSOT train/test split lists, the toolkit's attribute columns and the suite's default profile."""
    splits = json.loads((shared / "data/lasot/lasot_splits.json").read_text())
    testing = (shared / "data/lasot/lasot_toolkit/sequence_evaluation_config/testing_set.txt").read_text().split()
    if testing != splits["test"]:
        raise SystemExit("lasot_splits.json's test list differs from the LaSOT toolkit's testing_set.txt")
    _write("lasot.json", {"format_version": 1,
                          "about": "LaSOT (Fan et al., CVPR 2019) protocol II split: 1120 train / 280 test sequences. "
                                   "attributes: the LaSOT toolkit's 14 attribute columns (annos/att/<seq>.txt), in "
                                   "order. default_profile: the profile `evalkit score --suite lasot` uses when "
                                   "--profile is not given (the LaSOT toolkit's own rules).",
                          "default_profile": "lasot-toolkit",
                          "attributes": LASOT_ATTRIBUTES,
                          "splits": splits})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path,
                    default=Path(os.environ.get("EVALKIT_SHARED", Path(__file__).resolve().parents[2] / "shared")))
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for build in (build_otb, build_uav, build_tc128, build_lasot):
        build(args.shared)


if __name__ == "__main__":
    main()
