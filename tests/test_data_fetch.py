"""``evalkit data fetch``: downloads from a local HTTP server (127.0.0.1, started here, Range-capable) serving small
archives built by the test, in the layouts of the OTB site, a single archive (TC128) and the VOT description.json."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from evalkit.cli import main
from evalkit.datasets import load_suite
from evalkit.datasets.fetch import DownloadError, download, extract_zip, fetch_suite, source
from evalkit.verify import verify_suite


class _Server:
    """Files by URL path; records each request's Range header; can cut the next response to a path short."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.ranges: list[tuple[str, str | None]] = []
        self.cut_next: dict[str, int] = {}  # path -> bytes to send before closing (Content-Length says all)
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server hook
                rng = self.headers.get("Range")
                server.ranges.append((self.path, rng))
                data = server.files.get(self.path)
                if data is None:
                    self.send_error(404, "Not Found")
                    return
                start = int(rng.removeprefix("bytes=").split("-")[0]) if rng else 0
                if start >= len(data):
                    self.send_error(416, "Range Not Satisfiable")
                    return
                body = data[start:]
                self.send_response(206 if rng else 200)
                if rng:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                cut = server.cut_next.pop(self.path, None)
                self.wfile.write(body if cut is None else body[:cut])
                if cut is not None:
                    self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.timeout = 5
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def server() -> Iterator[_Server]:
    s = _Server()
    thread = threading.Thread(target=s.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield s
    finally:
        s.httpd.shutdown()
        s.httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Partial downloads go to the cache: keep it in the test's folder, and no config or mirror from outside."""
    monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("EVALKIT_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    for var in ("EVALKIT_MIRROR", "EVALKIT_MIRROR_OTB100", "EVALKIT_DATA_OTB100"):
        monkeypatch.delenv(var, raising=False)


def _jpeg(size: tuple[int, int] = (16, 12), value: int = 0) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((size[1], size[0], 3), value, dtype=np.uint8)).save(buf, format="JPEG")
    return buf.getvalue()


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _deer_zip() -> tuple[bytes, bytes]:
    """OTB's Deer (71 frames) as the OTB site zips it: Deer/img/0001.jpg..., Deer/groundtruth_rect.txt."""
    gt = "".join(f"{i},{i + 1},5,6\n" for i in range(1, 72)).encode()
    files = {f"Deer/img/{i:04d}.jpg": _jpeg(value=i) for i in range(1, 72)}
    files["Deer/groundtruth_rect.txt"] = gt
    return _zip(files), gt


def test_fetch_then_verify(server: _Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive, gt = _deer_zip()
    server.files["/otb/Deer.zip"] = archive
    root = tmp_path / "otb"
    rc = main(["data", "fetch", "otb100", "--root", str(root), "--mirror", server.url + "/otb", "--sequences", "Deer"])
    assert rc == 0
    assert (root / "Deer" / "groundtruth_rect.txt").read_bytes() == gt
    assert len(list((root / "Deer" / "img").iterdir())) == 71
    assert sorted(p.name for p in root.iterdir()) == ["Deer"]  # no temporary folder left behind
    assert not list((tmp_path / "cache" / "downloads").rglob("*.zip*"))  # archive removed once extracted
    capsys.readouterr()
    assert main(["data", "verify", "otb100", "--root", str(root), "--sequences", "Deer"]) == 0
    assert capsys.readouterr().out.strip().endswith("OK")
    # a second fetch finds the sequence there and downloads nothing
    before = len(server.ranges)
    assert main(["data", "fetch", "otb100", "--root", str(root), "--mirror", server.url + "/otb",
                 "--sequences", "Deer"]) == 0
    assert len(server.ranges) == before


def test_fetch_without_root_fills_the_default_folder_run_then_uses(server: _Server, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from evalkit.cli.options import DataRoots
    from evalkit.config import load_config

    assert DataRoots.parse([], load_config()).get("otb50") is None  # nothing fetched, nothing configured
    server.files["/otb/Deer.zip"], _ = _deer_zip()
    assert main(["data", "fetch", "otb50", "--mirror", server.url + "/otb", "--sequences", "Deer"]) == 0
    default = tmp_path / "cache" / "data" / "otb100"
    assert f"export EVALKIT_DATA_OTB50={default}" in capsys.readouterr().out
    assert (default / "Deer" / "groundtruth_rect.txt").is_file()
    # otb100 and otb2013 share the download: every command finds it without --data-root
    for suite in ("otb50", "otb100", "otb2013"):
        assert DataRoots.parse([], load_config()).get(suite) == default


def test_interrupted_download_resumes_with_range(server: _Server, tmp_path: Path) -> None:
    archive, gt = _deer_zip()
    server.files["/otb/Deer.zip"] = archive
    server.cut_next["/otb/Deer.zip"] = len(archive) // 3
    root = tmp_path / "otb"
    with pytest.raises(DownloadError, match="run the same command again to resume"):
        fetch_suite("otb100", root, mirror=server.url + "/otb", sequences=["Deer"], report=lambda _: None)
    part = tmp_path / "cache" / "downloads" / "otb100" / "Deer.zip.part"
    assert part.stat().st_size == len(archive) // 3
    assert not root.exists()  # nothing extracted from a partial file
    assert fetch_suite("otb100", root, mirror=server.url + "/otb", sequences=["Deer"], report=lambda _: None) == \
        ["Deer"]
    assert server.ranges[-1] == ("/otb/Deer.zip", f"bytes={len(archive) // 3}-")
    assert (root / "Deer" / "groundtruth_rect.txt").read_bytes() == gt
    assert load_suite("otb100", root, sequences=["Deer"])["Deer"].n_frames == 71
    assert not part.exists()


def test_wrong_checksum_is_refused_and_leaves_nothing(server: _Server, tmp_path: Path) -> None:
    archive, _ = _deer_zip()
    server.files["/otb/Deer.zip"] = archive
    src = replace(source("otb100"), sha256={"Deer.zip": "0" * 64})
    root = tmp_path / "otb"
    with pytest.raises(DownloadError, match=r"sha256 [0-9a-f]{64} is not the published 0{64}"):
        fetch_suite("otb100", root, mirror=server.url + "/otb", sequences=["Deer"], src=src, report=lambda _: None)
    assert not root.exists()
    assert not list((tmp_path / "cache").rglob("Deer.zip*"))  # the bad download is deleted, not kept to resume
    # the right digest is accepted
    good = replace(src, sha256={"Deer.zip": hashlib.sha256(archive).hexdigest()})
    assert fetch_suite("otb100", root, mirror=server.url + "/otb", sequences=["Deer"], src=good,
                       report=lambda _: None) == ["Deer"]


def test_404_is_one_line(server: _Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["data", "fetch", "otb100", "--root", str(tmp_path / "otb"), "--mirror", server.url + "/otb",
               "--sequences", "Deer"])
    assert rc == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("evalkit: error")]
    assert err == [f"evalkit: error: {server.url}/otb/Deer.zip: HTTP 404 Not Found"]
    assert not (tmp_path / "otb").exists()


def test_download_restarts_when_server_ignores_range(tmp_path: Path) -> None:
    class NoRange(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", "10")
            self.end_headers()
            self.wfile.write(b"0123456789")

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NoRange)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        dest = tmp_path / "f.bin"
        dest.with_name("f.bin.part").write_bytes(b"01234")  # a stale partial file
        download(f"http://127.0.0.1:{httpd.server_address[1]}/f.bin", dest, timeout=5)
        assert dest.read_bytes() == b"0123456789"  # not 0123401234...: the 200 answer replaced the partial file
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_archive_with_top_folder_is_stripped_and_never_overwrites(tmp_path: Path) -> None:
    archive = tmp_path / "Temple-color-128.zip"
    archive.write_bytes(_zip({"Temple-color-128/Airport_ce/Airport_ce_gt.txt": b"1,2,3,4\n"}))
    root = tmp_path / "tc128"
    assert extract_zip(archive, root, strip="Temple-color-128") == [root / "Airport_ce"]
    assert (root / "Airport_ce" / "Airport_ce_gt.txt").is_file()
    with pytest.raises(DownloadError, match="Airport_ce already in"):
        extract_zip(archive, root, strip="Temple-color-128")
    evil = tmp_path / "evil.zip"
    evil.write_bytes(_zip({"../outside.txt": b"x"}))
    with pytest.raises(DownloadError, match="outside"):
        extract_zip(evil, root)
    assert not (tmp_path / "outside.txt").exists()
    assert sorted(p.name for p in root.iterdir()) == ["Airport_ce"]


def test_vot_description_json(server: _Server, tmp_path: Path) -> None:
    """The VOT toolkit's description.json: an annotations zip and a color zip per sequence, URLs relative to it."""
    n = 5
    regions = "".join(f"{10 + i},10,30,10,30,20,{10 + i},20\n" for i in range(n)).encode()
    server.files["/vot/ants1.zip"] = _zip({"groundtruth.txt": regions, "occlusion.tag": b"0\n1\n0\n0\n0\n"})
    server.files["/vot/ants1_color.zip"] = _zip({f"{i:08d}.jpg": _jpeg((40, 30)) for i in range(1, n + 1)})
    server.files["/vot/description.json"] = json.dumps({"name": "VOT2018", "sequences": [{
        "name": "ants1", "fps": 30, "annotations": {"url": "ants1.zip", "checksum": "x"},
        "channels": {"color": {"url": "ants1_color.zip", "pattern": "%08d.jpg", "checksum": "x"}}}]}).encode()
    root = tmp_path / "vot"
    assert fetch_suite("vot2018", root, mirror=server.url + "/vot", report=lambda _: None) == ["ants1"]
    assert (root / "list.txt").read_text() == "ants1\n"
    assert not list((tmp_path / "cache").rglob("*.json*"))  # description.json is not kept: read afresh each time
    assert "channels.color=color" in (root / "ants1" / "sequence").read_text()
    seq = load_suite("vot2018", root, sequences=["ants1"])["ants1"]
    assert seq.n_frames == n and seq.image_size == (40, 30) and int(seq.tags["occlusion"].sum()) == 1
    assert seq.frames is not None and seq.frames[0] == root / "ants1" / "color" / "00000001.jpg"
    assert verify_suite("vot2018", root, ["ants1"]).ok
    # a sequence file declaring another frame size than the images have is named
    props = root / "ants1" / "sequence"
    props.write_text(props.read_text() + "width=41\nheight=30\n")
    assert [f.message for f in verify_suite("vot2018", root, ["ants1"]).findings] == [
        "frames are 40x30 but the annotation declares 41x30"]


def test_single_archive_with_top_folder(server: _Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """TC128 as its site zips it (Temple-color-128/<Seq>/...): fetched from a mirror, stripped, then verified."""
    files = {f"Temple-color-128/Airport_ce/img/{i:04d}.jpg": _jpeg() for i in range(1, 149)}
    files["Temple-color-128/Airport_ce/Airport_ce_gt.txt"] = "".join(f"{i},2,5,6\n" for i in range(148)).encode()
    server.files["/tc/Temple-color-128.zip"] = _zip(files)
    root = tmp_path / "tc128"
    assert main(["data", "fetch", "tc128", "--root", str(root), "--mirror", server.url + "/tc"]) == 0
    assert sorted(p.name for p in root.iterdir()) == ["Airport_ce"]
    capsys.readouterr()
    assert main(["data", "verify", "tc128", "--root", str(root), "--sequences", "Airport_ce"]) == 0
    assert capsys.readouterr().out.strip().endswith("(148 frames) in " + str(root) + ": OK")


def test_manual_suites_say_what_to_download(capsys: pytest.CaptureFixture[str]) -> None:
    for suite, needle in (("lasot", "vision.cs.stonybrook.edu"), ("got10k-val", "val_data.zip")):
        assert main(["data", "fetch", suite]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"evalkit: error: {suite} cannot be fetched by evalkit") and needle in err
        assert len(err.splitlines()) == 1


def test_list_and_where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines() if line and not line.startswith(" ")}
    assert rows["otb100"] == "fetch" and rows["vot2018"] == "fetch" and rows["tc128"] == "fetch"
    assert rows["lasot"] == "manual" and rows["got10k-test"] == "manual" and rows["uav123"] == "manual"
    assert rows["nfs"] == "manual" and rows["demo"] == "auto"
    from evalkit.registry import SUITES

    assert set(SUITES.names()) <= set(rows)  # every suite is listed
    assert main(["data", "where", "otb50"]) == 0  # otb50 shares otb100's download folder
    assert capsys.readouterr().out.startswith(f"{tmp_path / 'cache' / 'data' / 'otb100'}\t(default")
    monkeypatch.setenv("EVALKIT_DATA_OTB100", str(tmp_path))
    assert main(["data", "where", "otb100"]) == 0
    assert capsys.readouterr().out == f"{tmp_path}\t($EVALKIT_DATA_OTB100; exists)\n"
    assert main(["data", "where", "otb100", "--root", "/nowhere"]) == 0
    assert capsys.readouterr().out == "/nowhere\t(--root; does not exist yet)\n"
    cfg = tmp_path / "e.toml"
    cfg.write_text('[datasets]\notb2013 = "data/otb"\n')
    assert main(["--config", str(cfg), "data", "where", "otb2013"]) == 0
    assert capsys.readouterr().out.startswith(f"{tmp_path / 'data' / 'otb'}\t([datasets] otb2013 in {cfg}")
