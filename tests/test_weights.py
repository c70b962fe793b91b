"""Weight fetching against a local HTTP server serving ../shared/weights: progress, sha256 check, atomic write,
mismatch and missing-file errors; resolution order explicit > EVALKIT_WEIGHTS > cache; the CLI."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trackers.weights import CATALOG, WeightsError, fetch, resolve_weights, sha256_of


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass


def _serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture()
def shared_server(shared_dir: Path) -> Iterator[str]:
    server, url = _serve(shared_dir / "weights")
    yield url
    server.shutdown()
    server.server_close()


def test_fetch_downloads_checks_and_resolves(shared_server: str, isolated: Path) -> None:
    with pytest.raises(WeightsError, match="evalkit weights fetch dcfnet"):
        resolve_weights("dcfnet")
    path = fetch("dcfnet", base_url=shared_server, progress=False)
    assert path == isolated / "cache" / "weights" / "dcfnet" / "param.pth"
    assert sha256_of(path) == CATALOG["dcfnet"].sha256
    assert resolve_weights("dcfnet") == path
    assert not list(path.parent.glob(".*.part"))  # no temporary file left behind
    mtime = path.stat().st_mtime_ns
    assert fetch("dcfnet", base_url=shared_server, progress=False) == path  # valid file kept, not re-downloaded
    assert path.stat().st_mtime_ns == mtime


def test_fetch_rejects_a_mismatching_file(tmp_path: Path, isolated: Path, shared_dir: Path) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "dcfnet").mkdir(parents=True)
    data = bytearray((shared_dir / "weights" / "dcfnet" / "param.pth").read_bytes())
    data[-1] ^= 0xFF  # one flipped byte
    (mirror / "dcfnet" / "param.pth").write_bytes(bytes(data))
    server, url = _serve(mirror)
    try:
        with pytest.raises(WeightsError, match=r"sha256 is [0-9a-f]{64}, expected 8a9c2ad0.*discarded"):
            fetch("dcfnet", base_url=url, progress=False)
    finally:
        server.shutdown()
        server.server_close()
    folder = isolated / "cache" / "weights" / "dcfnet"
    assert not (folder / "param.pth").exists() and not list(folder.glob(".*"))


def test_fetch_missing_file_and_unknown_name(shared_server: str, isolated: Path, tmp_path: Path) -> None:
    server, url = _serve(tmp_path)  # an empty mirror
    try:
        with pytest.raises(WeightsError, match=r"cannot download dcfnet from http://127\.0\.0\.1:\d+/dcfnet/param\.pth"
                                               r": HTTP 404"):
            fetch("dcfnet", base_url=url, progress=False)
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(WeightsError, match="did you mean 'dcfnet'"):
        fetch("dcfnt", base_url=shared_server)


def test_resolution_order(isolated: Path, shared_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache_copy = isolated / "cache" / "weights" / "dcfnet" / "param.pth"
    cache_copy.parent.mkdir(parents=True)
    shutil.copy(shared_dir / "weights" / "dcfnet" / "param.pth", cache_copy)
    assert resolve_weights("dcfnet") == cache_copy
    monkeypatch.setenv("EVALKIT_WEIGHTS", str(shared_dir / "weights"))
    assert resolve_weights("dcfnet") == shared_dir / "weights" / "dcfnet" / "param.pth"
    explicit = shared_dir / "weights" / "dcfnet" / "DCFNet-net-7-125-2.mat"
    assert resolve_weights("dcfnet", explicit) == explicit
    with pytest.raises(WeightsError, match="nope.pth does not exist"):
        resolve_weights("dcfnet", isolated / "nope.pth")


def test_cli_fetch_where_list(shared_server: str, isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from evalkit.cli import main

    assert main(["weights", "fetch", "dcfnet-golden", "--url-base", shared_server]) == 0
    assert "sha256 verified" in capsys.readouterr().out
    assert main(["weights", "where", "dcfnet-golden"]) == 0
    assert capsys.readouterr().out.strip().endswith("dcfnet/net_param.mat")
    assert main(["weights", "list"]) == 0
    listing = capsys.readouterr().out
    assert "no: evalkit weights fetch dcfnet " in listing and "net_param.mat (cache)" in listing
    assert main(["weights", "where", "dcfnet"]) == 2
    assert "evalkit weights fetch dcfnet" in capsys.readouterr().err
