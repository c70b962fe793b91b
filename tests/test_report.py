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
               "--bootstrap", "500", "--no-progress"])
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
    assert "<img" not in html and "<script" not in html and "<link" not in html
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
                 "EAO ranking on VOT2018", "Failures / 100 frames"):
        assert text in whole, text


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
    assert "evalkit store" in first and "weights sha256 " + "ab" * 32 in first.replace(" ", " ")
    assert "device cuda" in first and "scale_step=1.0375" in first
    assert "PARTIAL" in first
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
                 "device cpu", "Speed", "Appendix: per-sequence scores", "Glide"):
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
