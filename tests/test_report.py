"""`evalkit report`: the PDF of the six CFNet-release trackers on OTB-2013/50/100, OPE and TRE, rendered to PNG and
read back with a PDF text extractor; vector figures and selectable text; the HTML page; a VOT report; provenance.

Rendering uses pypdfium2 and text extraction pypdf (both pip packages in the `test` extra): no system tools.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from conftest import RELEASE, require_module, write_store_folder

from evalkit.cli import main


def _pdf_text(path: Path) -> list[str]:
    pypdf = require_module("pypdf")
    return [page.extract_text() for page in pypdf.PdfReader(path).pages]


@pytest.fixture(scope="module")
def cfnet_pdf(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The issue's command: same --data-root and --results as `evalkit table`, plus --out FILE.pdf."""
    out = tmp_path_factory.mktemp("report") / "cfnet.pdf"
    rc = main(["report", "--data-root", str(shared_dir / "data" / "otb100"), "--results",
               str(shared_dir.joinpath(*RELEASE)), "--out", str(out), "--layout", "cfnet-table1",
               "--bootstrap", "500", "--no-progress", "--figures", str(out.parent / "figures")])
    assert rc == 0 and out.is_file()
    return out


def test_cfnet_pdf_pages_render(cfnet_pdf: Path, tmp_path: Path) -> None:
    """Every page renders to a non-blank PNG."""
    pdfium = require_module("pypdfium2")
    doc = pdfium.PdfDocument(cfnet_pdf)
    assert len(doc) >= 12
    for i in range(len(doc)):
        image = doc[i].render(scale=0.6).to_pil()
        path = tmp_path / f"page-{i + 1:02d}.png"
        image.save(path)
        pixels = np.asarray(image.convert("L"), dtype=np.float64)
        assert pixels.std() > 5.0 and pixels.min() < 100, f"page {i + 1} looks blank"
        assert path.stat().st_size > 2000
    doc.close()


def test_cfnet_pdf_content(cfnet_pdf: Path) -> None:
    """Provenance first page, OPE and TRE sections for the three subsets, sorted legends, the paper table with the
    inconsistent cells flagged, and the per-sequence appendix: all as extractable text."""
    pages = _pdf_text(cfnet_pdf)
    first = pages[0]
    for text in ("What was run", "Trackers", "Baseline+CF-conv3", "SiamFC-3s", "Protocols", "OPE, TRE",
                 "otb-toolkit", "evalkit version", "Git commit", "Date", "Results and weights", "OTB-toolkit .mat",
                 "500 bootstrap resamples"):
        assert text in first, text
    whole = "\n".join(pages)
    for suite in ("OTB2013", "OTB50", "OTB100"):
        for protocol in ("OPE", "TRE"):
            assert f"{suite} — {protocol}" in whole
            assert f"Success plots of {protocol} on {suite}" in whole  # figure text stays text
    section = next(p for p in pages if "OTB100 — OPE" in p)
    assert re.search(r"SiamFC-3s\s*=?\s*0\.582", section)
    legend = re.findall(r"(\S+) \[(0\.\d{3})\]", next(p for p in pages if "Success plots of OPE on OTB100" in p))
    aucs = [float(v) for _, v in legend[:6]]
    assert len(aucs) == 6 and aucs == sorted(aucs, reverse=True), "legend sorted by AUC"
    assert "Per-attribute success plots of OPE on OTB100" in whole and "Out-of-View (14)" in whole
    assert "95% CI" in whole and "p vs best" in whole and "not significantly different" in whole
    table_page = next(p for p in pages if "Published tables" in p)
    assert "58.9†" in table_page and "The paper prints 61.1 / 73.6" in table_page.replace("\n", " ")
    assert "Appendix: per-sequence scores" in whole and "Basketball" in whole
    assert "no speed is shown" in whole
    assert len(re.findall(r"^Speed$", whole, re.M)) == 1, "the Speed heading once (a table caption repeated it)"
    assert "Leaderboard" not in whole  # OTB-2013/50/100 are parts of one data set: no cross-suite leaderboard


def test_cfnet_appendix_keeps_one_column_order(cfnet_pdf: Path) -> None:
    """Every per-sequence table of the appendix lists the trackers in one order (OTB-2013, -50 and -100 rank them
    differently: a tracker's column used to move from table to table)."""
    appendix = "\n".join(_pdf_text(cfnet_pdf)).split("Appendix: per-sequence scores")[1]
    tables = re.split(r"OTB\d+ (?:OPE|TRE): per sequence", appendix)[1:]
    orders = [re.findall(r"(\S+) AUC/P20", t)[:6] for t in tables]
    assert len(orders) == 6 and all(len(o) == 6 for o in orders), orders
    assert all(o == orders[0] for o in orders), orders


def test_cfnet_pdf_provenance_is_one_table(cfnet_pdf: Path) -> None:
    """Result provenance: one table row per tracker (source, kind, weights, device, version, params) on the first
    page, the archive's PROVENANCE.md note printed once, not once per tracker over two pages."""
    pages = _pdf_text(cfnet_pdf)
    first = pages[0]
    for header in ("Tracker", "Source", "Kind", "Weights sha256", "Device", "evalkit", "Params"):
        assert header in first, header
    for name in ("Baseline+CF-conv3", "CFNet-conv1", "SiamFC-3s"):
        assert re.search(rf"{re.escape(name)}\s+otb100_cfnet_release/\S+ \[1\]\s+OTB-toolkit \.mat", first), name
    whole = "\n".join(pages).replace("\n", " ")
    assert whole.count("Official raw results released with CFNet") == 1
    assert "Results and weights" not in pages[1]


def test_cfnet_figures_exported_and_legible(cfnet_pdf: Path) -> None:
    """--figures: every figure as suite_protocol_kind.pdf and .svg (PGF needs a TeX program to save, so only with
    one); the per-attribute grid's smallest text is at least 6 pt as printed (drawn at the page width), and its
    attribute names are the suite's, in the table's order."""
    from evalkit.report.figures import tex_available

    folder = cfnet_pdf.parent / "figures"
    names = {p.name for p in folder.iterdir()}
    for suite in ("otb2013", "otb50", "otb100"):
        for stem in (f"{suite}_ope_success", f"{suite}_ope_precision", f"{suite}_ope_attributes",
                     f"{suite}_tre_success"):
            assert {f"{stem}.pdf", f"{stem}.svg"} <= names, stem
            assert (f"{stem}.pgf" in names) == (tex_available() is not None)
    assert (folder / "otb100_ope_success.pdf").read_bytes().startswith(b"%PDF")
    svg = (folder / "otb100_ope_attributes.svg").read_text()
    width = float(re.search(r'<svg[^>]*width="([\d.]+)pt"', svg).group(1))
    printed = (595.28 - 2 * 45.35) / width  # A4 less the 1.6 cm margins: the grid is drawn full width
    sizes = [float(v) for v in re.findall(r"font-size: ([\d.]+)px", svg)]
    assert sizes and min(sizes) * printed >= 6.0, (min(sizes), printed)
    pages = _pdf_text(cfnet_pdf)
    whole = "\n".join(pages)
    grid = svg  # axes in drawing order (the PDF text of the page puts the figure's title after its axes)
    table = whole.split("OTB100: Success AUC per attribute")[1][:3000]
    order = ["Illumination", "Scale", "Occlusion", "Deformation", "Motion"]  # the suite's attribute_names order
    for text in (grid, table):
        at = [text.find(n) for n in order]
        assert all(i >= 0 for i in at) and at == sorted(at), (order, at)


def test_styles_differ_in_greyscale() -> None:
    """Every tracker of a report gets its own (dash, marker) pair, so curves differ without colour."""
    from evalkit.report.figures import _style

    pairs = [(_style(i)["linestyle"], _style(i)["marker"]) for i in range(20)]
    assert len(set(pairs)) == 20
    assert all(_style(i)["linestyle"] != _style(i + 1)["linestyle"] for i in range(19))


def test_nothing_scored_is_refused() -> None:
    """Reports in which no tracker has a scored sequence: an error, not a report of empty plots."""
    from types import SimpleNamespace

    from evalkit.errors import EvalkitError
    from evalkit.report.document import build_report

    empty = SimpleNamespace(trackers={"a": SimpleNamespace(per_sequence={})}, suite="otb100", protocol_name="OPE")
    with pytest.raises(EvalkitError, match="nothing was scored"):
        build_report([empty], [])


def test_cfnet_pdf_figures_are_vector_and_fonts_embedded(cfnet_pdf: Path) -> None:
    """No raster image anywhere (figures are drawn as paths and text), and the text font is embedded."""
    pypdf = require_module("pypdf")
    reader = pypdf.PdfReader(cfnet_pdf)
    assert all(len(page.images) == 0 for page in reader.pages)
    raw = cfnet_pdf.read_bytes()
    assert b"/FontFile2" in raw and b"DejaVuSans" in raw


def test_html_is_self_contained(shared_dir: Path, tmp_path: Path) -> None:
    """--format html: one file, inline SVG figures, no external resources, the same sections as the PDF."""
    out = tmp_path / "otb50.html"
    assert main(["report", "--data-root", str(shared_dir / "data" / "otb100"), "--results",
                 str(shared_dir.joinpath(*RELEASE)), "--suite", "otb50", "--protocol", "ope", "--out", str(out),
                 "--bootstrap", "200", "--no-progress"]) == 0
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert html.count("<svg") == 3  # success, precision, per-attribute grid
    assert "<img" not in html and "<script" not in html and "<link" not in html  # one suite: no leaderboard
    assert not re.search(r'(src|href)="https?:', html)
    for text in ("What was run", "OTB50 — OPE", "Success plots of OPE on OTB50", "Appendix: per-sequence scores",
                 "Results and weights"):
        assert text in html, text


def test_vot2018_report(shared_dir: Path, tmp_path: Path) -> None:
    """A VOT report from the VOT2018 results: EAO table (published EAO), AR plot, EAO curve and ranking."""
    out = tmp_path / "vot.pdf"
    assert main(["report", "--data-root", str(shared_dir / "data" / "vot2018"), "--results",
                 str(shared_dir / "data" / "results" / "vot2018"), "--out", str(out), "--no-progress"]) == 0
    whole = "\n".join(_pdf_text(out))
    published = (shared_dir / "data" / "results" / "vot2018" / "PROVENANCE.md").read_text()
    for name in ("LightTrack", "NanoTrack"):
        eao = re.search(rf"{name} (\d\.\d+)", published)
        assert eao is not None and re.search(rf"{name}\s+{eao.group(1)}", whole), name
    for text in ("VOT2018 — VOT supervised", "Accuracy-robustness on VOT2018", "EAO curve on VOT2018",
                 "EAO ranking on VOT2018", "Failures / 100 frames", "EAO per attribute on VOT2018"):
        assert text in whole, text
    # one attribute naming (the suite's) in the radar and the tables; never the raw tag beside it
    flat = re.sub(r"\s+", " ", whole)  # table headers break names into lines
    assert "camera_motion" not in flat and flat.count("camera motion") >= 4  # radar spoke + three tables


def test_store_provenance_and_speed(shared_dir: Path, tmp_path: Path) -> None:
    """run.json provenance (weights sha256, device, parameters) on the first page; FPS with the device."""
    from evalkit.datasets import load_suite

    suite = load_suite("otb100", shared_dir / "data" / "otb100")
    seqs = {n: suite[n].ground_truth for n in ("Couple", "Crossing")}
    write_store_folder(tmp_path / "runs" / "mine", "mine", seqs, 0.01, device="cuda", shift=2.0)
    out = tmp_path / "mine.pdf"
    assert main(["report", "--data-root", str(shared_dir / "data" / "otb100"), "--suite", "otb100", "--sequences",
                 "Couple,Crossing", "--results", str(tmp_path / "runs"), "--out", str(out), "--no-progress"]) == 0
    pages = _pdf_text(out)
    first = pages[0].replace("\n", " ")
    assert re.search(r"mine\s+runs/mine\s+evalkit store\s+" + "ab" * 6 + r"\s+cuda\s", first), first
    assert "scale_step=1.0375" in first
    # a --sequences subset: counted against the benchmark, not against itself ("2 of 2")
    assert "otb100 (2 of 100 sequences scored) PARTIAL: scored on the 2 sequences present" in first
    whole = "\n".join(pages)
    assert re.search(r"mine\s+100\.0\s+cuda\s+2", whole), "FPS 100 on cuda over 2 sequences"


def test_report_errors(shared_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Bad output names and roots without any suite are clear one-line errors."""
    assert main(["report", "--data-root", str(shared_dir / "data" / "otb100"), "--results",
                 str(shared_dir.joinpath(*RELEASE)), "--out", str(tmp_path / "x.docx")]) == 2
    assert "pass --format pdf or html" in capsys.readouterr().err
    assert main(["report", "--data-root", str(tmp_path), "--results", str(shared_dir.joinpath(*RELEASE)),
                 "--out", str(tmp_path / "x.pdf")]) == 2
    assert "no complete suite found" in capsys.readouterr().err


def test_run_ends_with_the_pdf_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """`evalkit run` writes its report as PDF and names it in the JSON output."""
    import json

    monkeypatch.chdir(tmp_path)
    rc = main(["run", "--trackers", "kcf", "--suite", "demo", "--sequences", "Glide", "--results-dir",
               str(tmp_path / "res"), "--format", "json", "--no-progress", "--bootstrap", "0"])
    assert rc == 0
    obj = json.loads(capsys.readouterr().out)
    path = Path(obj["report"])
    assert path.suffix == ".pdf" and path.is_file() and obj["runs"][0]["suite"] == "demo"
    whole = "\n".join(_pdf_text(path))
    for text in ("evalkit run", "DEMO — OPE (partial)", "Success plots of OPE on DEMO", "evalkit store",
                 "cpu", "Speed", "Appendix: per-sequence scores", "Glide"):
        assert text in whole, text


def test_pdf_and_html_hold_the_same_blocks(tmp_path: Path) -> None:
    """One report, two writers: every heading, table caption and figure of the PDF is in the HTML page."""
    pypdf = require_module("pypdf")
    from evalkit.report.document import FigureBlock, Heading, KeyValues, Report, TableBlock, Text, write_report
    from evalkit.report.figures import _figure, _svg

    fig = _figure(3, 2)
    fig.add_subplot().plot([0, 1], [1, 0], label="a [0.500]")
    blocks = [Heading("A title", 0), KeyValues([("Key", "value ≠ other †")]), Heading("Section one"),
              TableBlock([["Tracker", "AUC"]], [["x", "0.512"], ["y", "0.498"]], {(0, 1): "best", (1, 1): "second"},
                         ["a note"], "Caption one"),
              FigureBlock([_svg(fig)], "Figure caption"), Text("closing words")]
    report = Report("A title", blocks, {"evalkit": "0", "date": "today"})
    pdf = write_report(report, tmp_path / "r.pdf")
    html = write_report(report, tmp_path / "r.html").read_text()
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages)
    for needle in ("A title", "value ≠ other †", "Section one", "Caption one", "0.512", "a note", "Figure caption",
                   "closing words"):
        assert needle in text and needle in html, needle
    assert "<b>0.512</b>" in html and "<u>0.498</u>" in html
    assert oct(pdf.stat().st_mode & 0o777) != oct(0o600)


def test_a_table_too_wide_at_the_smallest_font_wraps_its_widest_column() -> None:
    """The provenance table of a classic tracker lists every parameter: at 4 pt it was still wider than the page, and
    its columns were scaled as if the font had shrunk further, so the texts ran into each other (seen on the demo
    report's page 1). Now every column keeps the width its 4 pt text needs and the widest one wraps in what is left."""
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import Paragraph

    from evalkit.report.document import TableBlock
    from evalkit.report.pdf import FONT, MIN_TABLE_FONT, _table

    params = ", ".join(f"parameter_{i}=None" for i in range(40))
    block = TableBlock([["Tracker", "Source", "Params"]], [["csrt", "ope/csrt@2f07a188c167", params]], small=True)
    avail = 480.0
    table = _table(block, avail)[-1]
    widths = table._colWidths
    assert sum(widths) <= avail + 1e-6
    for c, text in enumerate(["csrt", "ope/csrt@2f07a188c167"]):  # the narrow columns still hold their 4 pt text
        assert widths[c] >= stringWidth(text, FONT, MIN_TABLE_FONT)
    cell = table._cellvalues[1][2]
    assert isinstance(cell, Paragraph)
    _, height = cell.wrap(widths[2], 1000)
    assert height > 2 * MIN_TABLE_FONT  # wrapped onto several lines inside its column
    narrow = _table(TableBlock([["A", "B"]], [["1", "2"]], small=True), avail)[-1]
    assert not any(isinstance(v, Paragraph) for row in narrow._cellvalues for v in row)  # what fits is untouched


def test_provenance_lists_the_parameters_that_were_set() -> None:
    """The provenance table shows the parameters a run set; those left at None (the tracker's own default) are said
    to be in run.json instead of filling a classic tracker's row with 'x=None'."""
    from evalkit.report.document import provenance_table
    from evalkit.report.provenance import ResultProvenance
    from evalkit.store import RunMeta

    kcf = RunMeta(params={"detect_thresh": None, "sigma": 0.2})
    rows = [ResultProvenance("kcf", "/r/ope/kcf", "evalkit store", kcf),
            ResultProvenance("mine", "/r/ope/mine", "evalkit store", RunMeta(params={"lr": 0.01}))]
    (table,) = provenance_table(rows)
    params = [row[-1] for row in table.rows]
    assert params == ["sigma=0.2", "lr=0.01"]
    assert any("left at the tracker's default (None)" in n for n in table.notes)
    (table,) = provenance_table(rows[1:])
    assert not any("None" in n for n in table.notes)
