"""The HTML report in a real headless browser (Chromium): the page loads without console errors, figures have their
intended size (the per-attribute grid was a 300 px thumbnail), and a header click sorts the leaderboard. A
screenshot is kept under the test's tmp folder (its path is printed).

How: a copy of the page gets a probe script that records errors from the first moment, and after load measures
every figure's box, clicks leaderboard headers and writes what it saw as JSON into a <pre id="probe"> element;
``chromium --dump-dom`` prints the DOM after load, with the JSON in it. Console errors are also read from
Chromium's own log (``--enable-logging=stderr``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from conftest import missing_requirement
from test_leaderboard import build_board_page

_PROBE_HEAD = """<script>
window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });
console.error = (function (orig) {
  return function () {
    window.__errors.push(Array.prototype.join.call(arguments, ' ')); orig.apply(console, arguments);
  };
})(console.error);
</script>"""

_PROBE_BODY = """<script>
window.addEventListener('load', function () {
  var out = {errors: window.__errors, figures: [], sorts: []};
  document.querySelectorAll('.figures svg').forEach(function (svg) {
    var r = svg.getBoundingClientRect();
    out.figures.push({width: r.width, height: r.height, attr: svg.getAttribute('width'),
                      title: (svg.querySelector('text') || {}).textContent || '',
                      full: svg.parentElement.className.indexOf('fig-full') >= 0});
  });
  var table = document.getElementById('leaderboard-table');
  function names() { return Array.prototype.map.call(table.tBodies[0].rows, function (r) {
    return r.cells[0].textContent; }); }
  if (table) {
    out.sorts.push(names());
    var heads = table.tHead.rows[0].cells;
    for (var c = 0; c < heads.length; c++) { heads[c].click(); out.sorts.push(names()); }
    heads[1].click(); out.sorts.push(names());  // a fresh click: best first
    heads[1].click(); out.sorts.push(names());  // the same header again: the other way
  }
  out.body_width = document.body.getBoundingClientRect().width;
  var pre = document.createElement('pre'); pre.id = 'probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def chromium() -> str:
    """The Chromium binary (.ci/run installs Debian's chromium when it is missing)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    missing_requirement("no chromium on PATH (apt-get install -y chromium)")


def _flags() -> list[str]:
    return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
            "--window-size=1400,2000"]


def probe(page: Path, tmp: Path) -> tuple[dict[str, Any], str]:
    """Load a probed copy of ``page`` in Chromium: what the probe saw, and Chromium's log."""
    html = page.read_text()
    probed = tmp / f"probed-{page.name}"
    probed.write_text(html.replace("<head>", "<head>" + _PROBE_HEAD, 1).replace("</body>", _PROBE_BODY + "</body>"))
    run = subprocess.run([chromium(), *_flags(), "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
                          "--dump-dom", probed.as_uri()], capture_output=True, text=True, timeout=180)
    found = re.search(r'<pre id="probe">(.*?)</pre>', run.stdout, re.S)
    assert found, f"the probe wrote nothing (chromium rc {run.returncode}): {run.stderr[-2000:]}"
    return json.loads(unescape(found.group(1))), run.stderr


def console_errors(log: str) -> list[str]:
    """Console messages and uncaught exceptions of the page in Chromium's log (not its own dbus/gpu noise)."""
    return [line for line in log.splitlines() if "CONSOLE" in line and ("Uncaught" in line or "rror" in line)]


def screenshot(page: Path, out: Path) -> Path:
    subprocess.run([chromium(), *_flags(), f"--screenshot={out}", page.as_uri()], capture_output=True,
                   timeout=180, check=False)
    assert out.is_file() and out.stat().st_size > 10_000, "no screenshot"
    return out


@pytest.fixture(scope="module")
def page(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    chromium()  # skip (fail under CI) before spending a minute on the report
    return build_board_page(shared_dir, tmp_path_factory.mktemp("html") / "report.html")


def test_page_in_browser(page: Path, tmp_path: Path) -> None:
    seen, log = probe(page, tmp_path)
    assert seen["errors"] == [] and console_errors(log) == [], (seen["errors"], console_errors(log))
    figures = seen["figures"]
    assert len(figures) >= 5
    for fig in figures:
        # the SVG's own width (pt) is its intended size: drawn at it (1 pt = 4/3 px), or at the page width if wider
        intended = float(fig["attr"].removesuffix("pt")) * 4 / 3
        assert abs(fig["width"] - min(intended, seen["body_width"])) < 2, fig
        assert fig["height"] > 0.3 * fig["width"], fig
    grid = [f for f in figures if f["full"]]
    assert grid and all(f["width"] > 800 for f in grid), grid  # the 9.2 in attribute grid, not a 300 px thumbnail
    half = [f for f in figures if not f["full"]]
    assert all(400 < f["width"] < 700 for f in half), half
    sorts = seen["sorts"]
    initial, by_name, by_otb, _by_uav, _by_vot, otb_best_first, by_otb_again = sorts
    assert otb_best_first[:6] == by_otb[:6]  # the unscored (NaN) rows keep their previous order, last
    # by name, A to Z (the browser's localeCompare orders "-" and "+" its own way: only the ends are checked)
    assert sorted(by_name) == sorted(initial) and by_name != initial
    assert by_name[0].startswith("Baseline") and by_name[-1] == "Staple", by_name
    assert by_otb != initial and by_otb[0] == "Baseline+CF-conv3"  # best OTB-100 success AUC first
    assert by_otb_again != by_otb and by_otb_again[:6] == by_otb[:6][::-1]  # second click: ascending
    shot = screenshot(page, tmp_path / "report.png")
    print(f"screenshot: {shot}")


def test_probe_sees_a_broken_page(tmp_path: Path) -> None:
    """The check above can fail: a page whose script throws is reported."""
    chromium()
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><html><head><title>x</title></head><body><p>x</p>"
                      "<script>undefinedFunction();</script></body></html>")
    seen, log = probe(broken, tmp_path)
    assert any("undefinedFunction" in e for e in seen["errors"])
    assert console_errors(log), log[-2000:]
