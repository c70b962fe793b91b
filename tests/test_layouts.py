"""Published-table layouts (``evalkit table``): cells from evalkit's scoring equal the papers' where shared/ holds the
inputs, inconsistent cells are flagged, marks follow the papers, and the formats are well formed.

The CFNet Table 1 values are parsed from ../shared/reference/TABLES.md, never copied here.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import PAPER_INCONSISTENT, RELEASE, cfnet_table1, parse_markdown_table, write_store_folder

from evalkit.cli import main
from evalkit.errors import EvalkitError
from evalkit.paper_tables import (
    Cell,
    FilledTable,
    Layout,
    Metric,
    TableInputs,
    fill_table,
    published_values,
    read_measured,
    render,
)
from evalkit.paper_tables.model import assign_marks
from evalkit.registry import LAYOUTS
from evalkit.results import load_result_sets

T1_KEYS = ["fps"] + [f"{s}/{p}/{m}" for s in ("otb2013", "otb50", "otb100") for p in ("ope", "tre")
                     for m in ("iou", "prec")]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def cfnet_table(shared_dir: Path) -> FilledTable:
    """cfnet-table1 filled once from the release (with the published values), rendered by the tests below."""
    inputs = TableInputs(load_result_sets([shared_dir.joinpath(*RELEASE)], []), {"*": shared_dir / "data" / "otb100"})
    return fill_table(LAYOUTS.get("cfnet-table1"), inputs, against_published=True)


@pytest.fixture(scope="module")
def cfnet_markdown(cfnet_table: FilledTable) -> str:
    """The Markdown the issue's command prints (`evalkit table --layout cfnet-table1 ... --format markdown`)."""
    return render(dataclasses.replace(cfnet_table, against_published=False), "markdown")


def _cell_number(text: str) -> float | None:
    m = re.search(r"-?\d+(\.\d+)?", text.replace("<u>", "").replace("**", ""))
    return float(m.group(0)) if m and text.strip() != "-" else None


def test_cfnet_table1_every_reproducible_cell_matches_the_paper(shared_dir: Path, cfnet_markdown: str) -> None:
    """All 6 x 12 IoU / prec. cells within +-0.1 of TABLES.md, except the known-inconsistent ones, which are flagged."""
    paper = cfnet_table1(shared_dir)
    rows = {r[0]: r for r in parse_markdown_table(cfnet_markdown, "**CFNet paper, Table 1")}
    assert list(rows) == ["CFNet-conv1", "CFNet-conv2", "Baseline+CF-conv3", "CFNet-conv5", "Baseline-conv5",
                          "SiamFC-3s"], "paper row order, names mapped from the release's cf1camera, xc5camera, ..."
    checked = flagged = 0
    for name, row in rows.items():
        assert len(row) == 14
        for col in range(2, 14):  # the 12 score columns (fps is hardware-bound: no times in the release)
            subset = T1_KEYS[col - 1].split("/")[0]
            ours, theirs = _cell_number(row[col]), float(paper[name][col])
            assert ours is not None
            if (name, subset) in PAPER_INCONSISTENT:
                assert "†" in row[col], f"{name} {T1_KEYS[col - 1]} must be flagged"
                assert abs(ours - theirs) > 0.5
                flagged += 1
            else:
                assert "†" not in row[col]
                assert ours == pytest.approx(theirs, abs=0.1 + 1e-9), f"{name} {T1_KEYS[col - 1]}"
                checked += 1
    assert (checked, flagged) == (68, 4)
    assert "† The paper prints 61.1 / 73.6" in cfnet_markdown
    assert "no stored per-frame times" in cfnet_markdown


def test_cfnet_table1_marks_best_bold_second_underlined(cfnet_markdown: str) -> None:
    """Per column the best printed value is bold and the second underlined; printed ties share the mark."""
    rows = parse_markdown_table(cfnet_markdown, "**CFNet paper, Table 1")
    for col in range(2, 14):
        values = [_cell_number(r[col]) for r in rows]
        distinct = sorted({v for v in values if v is not None}, reverse=True)
        for r, v in zip(rows, values, strict=True):
            assert r[col].startswith("**") == (v == distinct[0]), r[col]
            assert r[col].startswith("<u>") == (v == distinct[1]), r[col]
    two_best = [r[0] for r in rows if r[4].startswith("**")]  # 2013 TRE IoU: CFNet-conv2 and Baseline-conv5 tie
    assert two_best == ["CFNet-conv2", "Baseline-conv5"]


def test_cfnet_table1_against_published_csv(cfnet_table: FilledTable) -> None:
    """--against-published: each value column is followed by the paper's value and the difference."""
    out = render(cfnet_table, "csv")
    rows = list(csv.reader(io.StringIO(out)))
    header, body = rows[0], {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert header[:4] == ["Method", "fps", "fps published", "fps difference"]
    assert len(header) == 1 + 13 * 3 + 1
    conv5 = body["CFNet-conv5"]
    assert conv5["2013 OPE IoU published"] == "61.1" and conv5["2013 OPE IoU"] == "58.9"
    assert conv5["2013 OPE IoU difference"] == "-2.2"
    assert "2013 OPE IoU: inconsistent in the paper" in conv5["notes"]
    assert body["CFNet-conv1"]["fps published"] == "83" and body["CFNet-conv1"]["fps"] == ""
    for name, row in body.items():
        for key in header:
            if key.endswith(" difference") and row[key] and not key.startswith("fps"):
                if name == "CFNet-conv5" and key.startswith("2013"):
                    continue
                assert abs(float(row[key])) <= 0.1 + 1e-9, (name, key)
        assert "differs" not in row["notes"]


def test_rename_extends_the_name_map(shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--rename OLD=NEW renames a release's tracker; --trackers picks rows and their order."""
    out = _run(capsys, "table", "--layout", "cfnet-table1", "--data-root", str(shared_dir / "data" / "otb100"),
               "--results", str(shared_dir.joinpath(*RELEASE)), "--rename", "siamfc3s=SiamFC (release)",
               "--trackers", "SiamFC (release),CFNet-conv2", "--format", "markdown", "--sequences", "Bolt,Boy")
    rows = parse_markdown_table(out, "**CFNet paper, Table 1")
    assert [r[0] for r in rows] == ["SiamFC (release)", "CFNet-conv2"]
    assert all(_cell_number(c) is not None for c in rows[0][10:])  # OTB-100 OPE and TRE: both sequences


def test_latex_is_booktabs_with_grouped_header(shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """LaTeX: booktabs rules, one \\cmidrule per column group, marks as \\textbf / \\underline, dagger flags."""
    out = _run(capsys, "table", "--layout", "cfnet-table1", "--data-root", str(shared_dir / "data" / "otb100"),
               "--results", str(shared_dir.joinpath(*RELEASE)), "--format", "latex", "--sequences",
               "Basketball,Bolt,Boy,Car4,CarDark", "--trackers", "CFNet-conv1,CFNet-conv2")
    for token in (r"\toprule", r"\midrule", r"\bottomrule", r"\begin{tabular}{lccccccccccccc}"):
        assert token in out
    assert out.count(r"\cmidrule") == 6
    assert r"\multicolumn{2}{c}{OTB-100 TRE}" in out
    assert r"\textbf{" in out and r"\underline{" in out
    body = [ln for ln in out.splitlines() if ln.startswith("CFNet-conv")]
    assert len(body) == 2 and all(ln.count("&") == 13 and ln.endswith(r"\\") for ln in body)
    assert "$^{\\ast}$" in out and "(partial)" in out  # five sequences: every cell is a partial score


def test_vot2018_layout_red_blue(shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """dcffnet-vot2018: trackers as columns; EAO from evalkit's VOT scoring (LightTrack 0.418, NanoTrack 0.311);
    best red, second blue, R = failures per 100 frames (lower is better)."""
    out = _run(capsys, "table", "--layout", "dcffnet-vot2018", "--data-root",
               f"vot2018={shared_dir / 'data' / 'vot2018'}", "--results",
               str(shared_dir / "data" / "results" / "vot2018"), "--format", "latex")
    published = (shared_dir / "data" / "results" / "vot2018" / "PROVENANCE.md").read_text()
    for name in ("LightTrack", "NanoTrack"):
        eao = re.search(rf"{name} (\d\.\d+)", published)
        assert eao is not None
        assert f"{eao.group(1)}" in out
    assert r" & LightTrack & NanoTrack \\" in out
    assert r"EAO & \textcolor{red}{0.418} & \textcolor{blue}{0.311} \\" in out
    r_line = next(ln for ln in out.splitlines() if ln.startswith("R &"))
    assert r"\textcolor{red}{0.178}" in r_line  # LightTrack: 38 failures in 21356 frames, fewer is better
    assert r"\usepackage{xcolor}" in out


@pytest.fixture(scope="module")
def two_sequences(shared_dir: Path) -> dict[str, np.ndarray]:
    from evalkit.datasets import load_suite

    suite = load_suite("otb2013", shared_dir / "data" / "otb100")
    return {n: suite[n].ground_truth for n in ("Couple", "Crossing")}


def test_dcfnet_table2_partial_from_store(shared_dir: Path, tmp_path: Path, two_sequences: dict[str, np.ndarray],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """OP, DP, CLE and FPS from an evalkit store on part of OTB-2013: labelled partial, CLE in pixels."""
    write_store_folder(tmp_path / "runs" / "dcfnet", "dcfnet", two_sequences, 0.02, shift=3.0)
    out = _run(capsys, "table", "--layout", "dcfnet-table2", "--data-root", str(shared_dir / "data" / "otb100"),
               "--results", str(tmp_path / "runs"), "--sequences", "Couple,Crossing", "--format", "csv",
               "--against-published")
    rows = list(csv.reader(io.StringIO(out)))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Tracker"] == "DCFNet-conv1"  # the registered tracker name maps to the paper's row
    assert row["OP"] == "1.00" and row["DP"] == "1.00"
    assert float(row["CLE"]) == pytest.approx(3.0 * (1 - 1 / 2 * (1 / len(two_sequences["Couple"])
                                                                   + 1 / len(two_sequences["Crossing"]))), abs=0.01)
    assert row["FPS"] == "50.00" and row["FPS published"] == "65.94"
    assert "partial" in row["notes"]
    md = _run(capsys, "table", "--layout", "dcfnet-table2", "--data-root", str(shared_dir / "data" / "otb100"),
              "--results", str(tmp_path / "runs"), "--sequences", "Couple,Crossing")
    assert "PARTIAL" in md.splitlines()[0] and "50.00 on cuda" not in md and "50.0 fps on cuda" in md


def test_compression_layout_takes_measured_json(shared_dir: Path, tmp_path: Path,
                                                two_sequences: dict[str, np.ndarray],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """fdsiamfc-compression: model size and GFLOPs from --measured (evalkit complexity's JSON), FPS from the store."""
    write_store_folder(tmp_path / "runs" / "fdsiamfc30", "fdsiamfc30", two_sequences, 0.004)
    measured = tmp_path / "complexity.json"
    measured.write_text(json.dumps({"trackers": {"fdsiamfc30": {"params": 205_000, "gflops": 0.7}}}))
    out = _run(capsys, "table", "--layout", "fdsiamfc-compression", "--results", str(tmp_path / "runs"),
               "--measured", str(measured), "--format", "markdown", "--against-published")
    rows = parse_markdown_table(out, "**FDSiamFC: compression")
    assert out.splitlines()[2].startswith("| Tracker | FDSiamFC_30 |")
    cells = {r[0]: r[1] for r in rows}
    assert cells["Model size(MB)"] == "0.82 / 0.821 (-0.001)"  # the README's number format: no trailing zeros
    assert cells["Computional cost GFLOPs"] == "0.7 / 0.699 (+0.001)"
    assert cells["FPS"].startswith("250 / 306.5")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(EvalkitError, match="bad.json:1"):
        read_measured(bad)


def test_generic_ablation_layout(shared_dir: Path, tmp_path: Path, two_sequences: dict[str, np.ndarray],
                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Any variants of one tracker as columns, in --trackers order; the better variant bold."""
    write_store_folder(tmp_path / "runs" / "a", "Mine-A", two_sequences, 0.01, shift=6.0)
    write_store_folder(tmp_path / "runs" / "b", "Mine-B", two_sequences, 0.01, shift=0.0)
    out = _run(capsys, "table", "--layout", "ablation", "--suite", "otb2013", "--trackers", "Mine-A,Mine-B",
               "--data-root", str(shared_dir / "data" / "otb100"), "--results", str(tmp_path / "runs"),
               "--sequences", "Couple,Crossing")
    lines = out.splitlines()
    assert lines[2] == "|  | Mine-A | Mine-B |"
    auc = next(ln for ln in lines if ln.startswith("| AUC"))
    assert re.fullmatch(r"\| AUC \| <u>0\.\d{3}</u>\* \| \*\*0\.\d{3}\*\*\* \|", auc), auc
    assert main(["table", "--layout", "ablation", "--results", str(tmp_path / "runs")]) == 2
    assert "--trackers" in capsys.readouterr().err


def test_errors_name_the_problem(shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Unknown layouts get suggestions; unknown trackers list what was found."""
    assert main(["table", "--layout", "cfnet-tabel1", "--results", str(shared_dir.joinpath(*RELEASE))]) == 2
    assert "did you mean 'cfnet-table1'" in capsys.readouterr().err
    assert main(["table", "--layout", "cfnet-table1", "--results", str(shared_dir.joinpath(*RELEASE)),
                 "--trackers", "KCF"]) == 2
    assert "tracker 'KCF' not found in the results; found: Baseline+CF-conv3" in capsys.readouterr().err


def test_every_layout_is_registered_with_published_values() -> None:
    """Each published layout has its paper's values as package data (with the source), keyed by its metrics."""
    layouts = published_values()["layouts"]
    for name in ("cfnet-table1", "fdsiamfc-benchmarks", "fdsiamfc-compression", "dcfnet-table2", "dcffnet-ablation",
                 "dcffnet-vot2018", "dcffnet-lasot"):
        layout = LAYOUTS.get(name)
        entry = layouts[name]
        assert entry["source"]
        keys = {m.key for m in layout.metrics}
        assert {r.name for r in layout.rows} == set(entry["rows"])
        for values in entry["rows"].values():
            assert set(values) <= keys


def test_marks_use_printed_values_and_dense_ranks() -> None:
    """Values equal after rounding tie for first; the next distinct value is second; lower-is-better flips."""
    metric = Metric("x", "x", "ope", "success_auc", suite="otb100", scale=100, decimals=1, marked=True)
    low = Metric("r", "R", "vot", "failures_per_100", suite="vot2018", better="lower", marked=True)
    layout = Layout("t", "t", "t", (metric, low), marks="bold-underline")
    cells = {("a", "x"): Cell(0.6404), ("b", "x"): Cell(0.6396), ("c", "x"): Cell(0.631), ("d", "x"): Cell(0.5),
             ("a", "r"): Cell(0.3), ("b", "r"): Cell(0.1), ("c", "r"): Cell(0.2), ("d", "r"): Cell(None)}
    table = FilledTable(layout, ["a", "b", "c", "d"], cells)
    assign_marks(table)
    assert [table.cell(t, "x").rank for t in "abcd"] == [1, 1, 2, 0]
    assert [table.cell(t, "r").rank for t in "abcd"] == [0, 1, 2, 0]


def test_fdsiamfc_siamfc_row_reproduces_the_readme(shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """T2's reproducible cells: the SiamFC row's OTB50 / OTB100 AUC and DP from the CFNet release's SiamFC-3s,
    +-0.001; suites without data stay empty with a note instead of failing."""
    rows = parse_markdown_table((shared_dir / "reference" / "TABLES.md").read_text(), "## T2.")
    paper = next(r for r in rows if r[0] == "SiamFC")
    out = _run(capsys, "table", "--layout", "fdsiamfc-benchmarks", "--data-root", str(shared_dir / "data" / "otb100"),
               "--results", str(shared_dir.joinpath(*RELEASE)), "--format", "csv")
    table = list(csv.reader(io.StringIO(out)))
    row = dict(zip(table[0], table[1], strict=True))
    assert row["Tracker"] == "SiamFC" and len(table) == 2  # only the paper's rows found in the results
    for col, key in ((2, "OTB50 AUC"), (3, "OTB50 DP"), (4, "OTB100 AUC"), (5, "OTB100 DP")):
        assert float(row[key]) == pytest.approx(float(paper[col]), abs=0.001 + 1e-9), key
    assert row["UAV20L AUC"] == "" and row["TColor128 DP"] == ""


def test_measured_reads_evalkit_complexity_json(tmp_path: Path) -> None:
    """The record shape `evalkit complexity --format json` prints: model_size_mb, gflops, fps and device are read."""
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"trackers": {"fdsiamfc30": {
        "tracker": "fdsiamfc30", "params": 212618, "size_mib": 0.811, "model_size_mb": 0.811, "gflops_step": 2.08,
        "gflops_crop": 0.691, "gflops": 0.691, "fps": 3.4, "device": "cpu (2 torch threads)"}}}))
    assert read_measured(path) == {"fdsiamfc30": {"model_size_mb": 0.811, "gflops": 0.691, "fps": 3.4,
                                                  "device": "cpu (2 torch threads)"}}


def test_ablation_of_one_tracker_by_parameters(shared_dir: Path, tmp_path: Path,
                                               two_sequences: dict[str, np.ndarray],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """Stored runs of one tracker with different --param values are told apart by the parameter that differs, and
    --rename maps those labels to the names the table prints."""
    write_store_folder(tmp_path / "ope" / "mine@aaaa", "mine", two_sequences, 0.01, shift=5.0,
                       params={"cf": "none", "lr": 0.1})
    write_store_folder(tmp_path / "ope" / "mine@bbbb", "mine", two_sequences, 0.01, shift=1.0,
                       params={"cf": "first", "lr": 0.1})
    out = _run(capsys, "table", "--layout", "ablation", "--suite", "otb2013", "--data-root",
               str(shared_dir / "data" / "otb100"), "--sequences", "Couple,Crossing",
               "--results", str(tmp_path / "ope"), "--rename", "mine[cf=none]=Baseline",
               "--rename", "mine[cf=first]=CF-1st", "--trackers", "Baseline,CF-1st", "--format", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["metric", "Baseline", "CF-1st", "notes"]
    auc = dict(zip(rows[0], rows[1], strict=True))
    assert float(auc["CF-1st"]) > float(auc["Baseline"])
