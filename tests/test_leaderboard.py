"""The leaderboard of an HTML report over several suites: OTB-100 (CFNet release), UAV20L (DCF results) and VOT2018
(LightTrack / NanoTrack) in one page: every tracker a row, every suite a column, each number linking to its suite's
section in the same page with its provenance as the tooltip; and the suites' result sets kept apart (UAV20L's bird1
and car1 did not make the DCF trackers OTB-100 entries).
"""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import RELEASE

from evalkit.cli import main

CFNET = ["Baseline+CF-conv3", "Baseline-conv5", "CFNet-conv1", "CFNet-conv2", "CFNet-conv5", "SiamFC-3s"]
DCF = ["DSST", "ECO_HC", "KCF", "SRDCF", "Staple"]
VOT = ["LightTrack", "NanoTrack"]


def build_board_page(shared_dir: Path, out: Path) -> Path:
    """The three-suite HTML report (bootstrap off: the leaderboard shows headline values only)."""
    data = shared_dir / "data"
    rc = main(["report", "--data-root", f"otb100={data / 'otb100'}", "--data-root", f"uav20l={data / 'uav123'}",
               "--data-root", f"vot2018={data / 'vot2018' / 'VOT2018.json'}",
               "--results", str(shared_dir.joinpath(*RELEASE)), "--results", str(data / "results" / "uav20l_dcf"),
               "--results", str(data / "results" / "vot2018"), "--protocol", "ope", "--bootstrap", "0",
               "--out", str(out), "--no-progress"])
    assert rc == 0 and out.is_file()
    return out


class _Board(HTMLParser):
    """Ids in the page, and the leaderboard's header cells and rows (cell text, href, title)."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.header: list[str] = []
        self.rows: list[list[dict[str, str]]] = []
        self._in_board = self._in_head = False
        self._cell: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "table" and "board" in a.get("class", ""):
            self._in_board = True
        if not self._in_board:
            return
        if tag == "thead":
            self._in_head = True
        elif tag == "tr" and not self._in_head:
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = {"text": "", "title": a.get("title", ""), "value": a.get("data-value", "")}
        elif tag == "a" and self._cell is not None:
            self._cell["href"] = a.get("href", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_board = False
        elif tag == "thead":
            self._in_head = False
        elif tag in ("td", "th") and self._cell is not None and self._in_board:
            (self.header.append(self._cell["text"]) if self._in_head else self.rows[-1].append(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell["text"] += data


@pytest.fixture(scope="module")
def board_page(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_board_page(shared_dir, tmp_path_factory.mktemp("board") / "board.html")


def test_leaderboard_rows_columns_and_links(board_page: Path) -> None:
    """Every tracker of the three archives a row, every suite a column, each number linking to an id in the page
    (its suite's section), with the source, profile and full/partial state in its tooltip."""
    page = board_page.read_text()
    board = _Board()
    board.feed(page)
    assert [h.split("Success")[0].split("EAO")[0].strip() for h in board.header] == \
        ["Tracker", "OTB100 OPE", "UAV20L OPE", "VOT2018 VOT supervised"]
    names = [r[0]["text"] for r in board.rows]
    assert sorted(names) == sorted(CFNET + DCF + VOT)
    links = 0
    for row in board.rows:
        name = row[0]["text"]
        scored = [i for i, cell in enumerate(row[1:]) if cell["text"] != "-"]
        # each archive is scored on its own suite only
        expected = 0 if name in CFNET else (1 if name in DCF else 2)
        assert scored == [expected], (name, [c["text"] for c in row])
        cell = row[1 + expected]
        assert re.fullmatch(r"0\.\d{3}", cell["text"]) and math.isfinite(float(cell["value"]))
        href = cell["href"]
        assert href.startswith("#") and href[1:] in board.ids, href
        links += 1
        source = {0: "otb100_cfnet_release", 1: "uav20l_dcf", 2: "vot2018"}[expected]
        assert source in cell["title"] and "full" in cell["title"], cell["title"]
        assert ("profile otb-toolkit" if expected < 2 else "matlab convention") in cell["title"]
    assert links == len(CFNET + DCF + VOT)
    # the OTB-100 column holds the release's numbers
    otb = {r[0]["text"]: r[1]["text"] for r in board.rows}
    assert otb["SiamFC-3s"] == "0.582"
    # the DCF trackers are not OTB-100 entries: no "no result for sequence Biker" problems for them
    assert "DSST: " not in page.split("OTB100 — OPE")[1].split("UAV20L — OPE")[0]


def test_leaderboard_order_is_mean_rank() -> None:
    """Rows by mean rank over the suites a tracker was scored on; unscored cells are NaN and do not count."""
    from evalkit.report.leaderboard import BoardCell, BoardColumn, _by_mean_rank

    cols = [BoardColumn("A", "AUC", True, "a", ""), BoardColumn("B", "EAO", True, "b", "")]
    nan = math.nan
    cells = {"x": [BoardCell("", 0.5, ""), BoardCell("", nan, "")],
             "y": [BoardCell("", 0.6, ""), BoardCell("", 0.1, "")],
             "z": [BoardCell("", nan, ""), BoardCell("", 0.3, "")]}
    # y: ranks 1 and 2 (mean 1.5); x: 2; z: 1 -> z, y, x
    assert _by_mean_rank(["x", "y", "z"], cells, cols) == ["z", "y", "x"]
