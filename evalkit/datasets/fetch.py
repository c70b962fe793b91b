"""Downloading a benchmark's data from its official location into the layout evalkit's loaders read.

    >>> src = source("otb100")                                    # doctest: +SKIP
    >>> fetch_suite("otb100", Path("~/data/otb100"))              # doctest: +SKIP
    >>> fetch_suite("otb100", root, mirror="http://127.0.0.1:8000/otb")    # doctest: +SKIP

Where each suite comes from is versioned data (``data/sources.json``): one zip per OTB sequence, one archive for
UAV123 / TC128, the VOT toolkit's ``description.json`` for VOT, and written instructions for LaSOT and GOT-10k
(registration, hundreds of GB). Nothing is downloaded unless a command asks for it.

A download goes to ``<cache>/downloads/<suite>/<file>.part`` first and resumes from there with an HTTP Range request
when it was cut off; its length (and sha256, where the catalog knows one) is checked before it is used; an archive
is extracted into a temporary folder inside the root and then renamed into place, so the root only ever holds
complete sequences. A file that fails its check is deleted and nothing reaches the root.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.datasets.base import package_data
from evalkit.errors import EvalkitError
from evalkit.io import atomic_write_text

_CHUNK = 1 << 16
USER_AGENT = "evalkit-data-fetch"


class DownloadError(EvalkitError):
    """A download failed (HTTP error, cut off, wrong length or digest); the message is one line."""


@dataclass(frozen=True)
class Source:
    """One suite's entry of ``data/sources.json`` (``same_as`` entries resolved)."""

    suite: str
    kind: str  # per-sequence | archive | vot | manual | generated
    homepage: str
    url: str | None
    size: str
    digest: str  # where no sha256 is published, why
    sha256: dict[str, str] = field(default_factory=dict)
    file: str | None = None
    strip: str | None = None
    how: str | None = None
    origin: str = ""  # the catalog entry this one is (otb50 -> otb100)

    @property
    def fetchable(self) -> bool:
        """True when ``evalkit data fetch`` can download it without a mirror."""
        return self.kind in ("per-sequence", "vot") or (self.kind == "archive" and self.url is not None)


def source(suite: str) -> Source:
    """The catalog entry of ``suite`` (an error listing the known suites when it has none)."""
    entries: dict[str, dict[str, Any]] = package_data("sources.json")["suites"]
    key = suite.lower()
    if key not in entries:
        raise EvalkitError(f"no download source for suite {suite!r} (known: {', '.join(sorted(entries))})")
    entry, origin = entries[key], key
    while "same_as" in entry:
        origin = entry["same_as"]
        entry = entries[origin]
    fields = {k: v for k, v in entry.items() if k in Source.__dataclass_fields__}
    return Source(suite=key, origin=origin, **fields)


def default_root(suite: str, cache: Path) -> Path:
    """Where ``fetch`` puts ``suite`` when no root is given or configured: ``<cache>/data/<download>``, one folder per
    download (otb50 and otb2013 share otb100's); the demo suite is generated into the cache itself."""
    key = suite.lower()
    if key == "demo":
        return Path(cache).expanduser()
    try:
        folder = source(key).origin or key
    except EvalkitError:  # a suite the catalog does not know yet
        folder = key
    return Path(cache).expanduser() / "data" / folder


def sources() -> list[Source]:
    """Every catalog entry, in the catalog's order."""
    return [source(name) for name in package_data("sources.json")["suites"]]


# -- downloading -----------------------------------------------------------------------------------------------------
def _progress(total: int | None, initial: int, name: str) -> Any:
    from tqdm import tqdm

    # disable=None: a bar on a terminal, silence in logs and tests
    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024, desc=name, leave=False,
                file=sys.stderr, disable=None)


def download(url: str, dest: Path, *, sha256: str | None = None, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest``, resuming ``dest.part`` with a Range request; check length and sha256.

    A transfer that stops early keeps the ``.part`` file and raises (the next call resumes it); a file with the
    wrong length or digest is deleted and raises. ``dest`` appears only when complete and checked.
    """
    dest = Path(dest)
    if dest.is_file():
        if sha256 is None or _sha256(dest) == sha256:
            return dest
        dest.unlink()
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - http(s) URLs from the catalog
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing after what we have: the .part file is the whole file
            return _finish(part, dest, url, sha256, None)
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(f"{url}: cannot connect ({reason})") from None
    with response:
        if have and response.status != 206:  # the server ignored the Range header: start over
            have = 0
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        got = have
        try:
            with open(part, "ab" if have else "wb") as out, _progress(total, have, dest.name) as bar:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    got += len(chunk)
                    bar.update(len(chunk))
        except (http.client.IncompleteRead, OSError) as exc:
            raise DownloadError(f"{url}: cut off after {part.stat().st_size} of {total or '?'} bytes ({exc!r}); "
                                f"run the same command again to resume from {part}") from None
    if total is not None and got < total:
        raise DownloadError(f"{url}: cut off after {got} of {total} bytes; run the same command again to resume "
                            f"from {part}")
    return _finish(part, dest, url, sha256, total)


def _finish(part: Path, dest: Path, url: str, sha256: str | None, total: int | None) -> Path:
    size = part.stat().st_size
    if total is not None and size != total:
        part.unlink()
        raise DownloadError(f"{url}: received {size} bytes, the server announced {total}; deleted, try again")
    if sha256 is not None:
        actual = _sha256(part)
        if actual != sha256:
            part.unlink()
            raise DownloadError(f"{url}: sha256 {actual} is not the published {sha256}; the download was deleted "
                                f"and nothing was extracted")
    os.replace(part, dest)
    return dest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# -- extracting ------------------------------------------------------------------------------------------------------
def extract_zip(archive: Path, into: Path, strip: str | None = None) -> list[Path]:
    """Extract ``archive`` into ``into`` atomically: into a temporary folder inside ``into``, then each top-level
    entry is renamed into place. ``strip``: a top folder of the archive to drop. Entries already in ``into`` are an
    error (nothing is overwritten). Returns the paths created."""
    into.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".evalkit-extract-", dir=into))
    try:
        try:
            with zipfile.ZipFile(archive) as zf:
                for member in zf.namelist():  # a member that would land outside the folder is refused
                    target = (tmp / member).resolve()
                    if not target.is_relative_to(tmp.resolve()):
                        raise DownloadError(f"{archive.name}: member {member!r} would be written outside {into}")
                zf.extractall(tmp)
        except zipfile.BadZipFile as exc:
            raise DownloadError(f"{archive.name}: not a readable zip archive ({exc})") from None
        top = tmp / strip if strip and (tmp / strip).is_dir() else tmp
        entries = [p for p in top.iterdir() if p.name != "__MACOSX"]
        clash = [p.name for p in entries if (into / p.name).exists()]
        if clash:
            raise DownloadError(f"{archive.name}: {', '.join(clash[:5])} already in {into}; move it away or choose "
                                f"another --root")
        for p in entries:
            os.replace(p, into / p.name)
        return [into / p.name for p in entries]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# -- suites ----------------------------------------------------------------------------------------------------------
def downloads_dir(suite: str) -> Path:
    """Where partial downloads of ``suite`` wait to be resumed: ``<cache>/downloads/<suite>``."""
    from evalkit.config import load_config

    return Path(load_config().cache).expanduser() / "downloads" / suite


def mirror_url(suite: str, mirror: str | None) -> str | None:
    """The base URL to use in place of the official one: ``--mirror``, else ``$EVALKIT_MIRROR_<SUITE>``, else
    ``$EVALKIT_MIRROR`` (a folder per suite under it), else None (the official location)."""
    if mirror:
        return mirror.rstrip("/")
    env = os.environ.get("EVALKIT_MIRROR_" + suite.upper().replace("-", "_"))
    if env:
        return env.rstrip("/")
    common = os.environ.get("EVALKIT_MIRROR")
    return f"{common.rstrip('/')}/{suite}" if common else None


Report = Callable[[str], None]


def fetch_suite(suite: str, root: Path, *, mirror: str | None = None, sequences: list[str] | None = None,
                src: Source | None = None, timeout: float = 60.0, report: Report = print) -> list[str]:
    """Download ``suite`` into ``root`` in the layout its loader reads; returns the names of what was added.

    ``mirror``: a base URL laid out like the official location (``<mirror>/<Seq>.zip``, ``<mirror>/<archive>``,
    ``<mirror>/description.json``); ``sequences``: only these (per-sequence and VOT sources); ``src``: a catalog entry
    to use instead of ``data/sources.json``'s (tests, private catalogs with digests). Suites the user must download
    raise an error that says what to download and where to put it.
    """
    src = src or source(suite)
    base = mirror_url(suite, mirror)
    root = Path(root).expanduser()
    if src.kind in ("manual", "generated") or (src.kind == "archive" and src.url is None and base is None):
        raise EvalkitError(f"{suite} cannot be fetched by evalkit: {src.how}")
    staging = downloads_dir(src.origin or suite)
    if src.kind == "per-sequence":
        return _fetch_per_sequence(suite, src, root, base, sequences, staging, timeout, report)
    if src.kind == "archive":
        name = src.file or Path(urllib.parse.urlparse(src.url or "").path).name
        url = f"{base}/{name}" if base else str(src.url)
        report(f"{suite}: downloading {url}")
        archive = download(url, staging / name, sha256=src.sha256.get(name), timeout=timeout)
        added = extract_zip(archive, root, src.strip)
        archive.unlink()  # extracted: the archive would only double the disk use
        return [p.name for p in added]
    if src.kind == "vot":
        return _fetch_vot(suite, src, root, base, sequences, staging, timeout, report)
    raise EvalkitError(f"sources.json: unknown kind {src.kind!r} for {suite}")


def _otb_folders(suite: str) -> list[str]:
    """The image folders (one zip each) of an OTB subset, in catalog order (Jogging once for Jogging-1 and -2)."""
    from evalkit.datasets.names import canonical_key

    meta = package_data("otb.json")
    wanted = {canonical_key(n) for n in meta["subsets"][suite]}
    return list(dict.fromkeys(e["folder"] for e in meta["sequences"] if canonical_key(e["name"]) in wanted))


def _select(names: list[str], sequences: list[str] | None, suite: str) -> list[str]:
    if not sequences:
        return names
    from evalkit.datasets.names import canonical_key

    by_key = {canonical_key(n): n for n in names}
    # Jogging-1 asks for the Jogging archive: try the name as given, then without a -N target suffix
    picked = []
    for s in sequences:
        hit = by_key.get(canonical_key(s)) or by_key.get(canonical_key(s.rsplit("-", 1)[0]))
        if hit is None:
            raise EvalkitError(f"no sequence {s!r} in {suite}'s download list")
        picked.append(hit)
    return list(dict.fromkeys(picked))


def _fetch_per_sequence(suite: str, src: Source, root: Path, base: str | None, sequences: list[str] | None,
                        staging: Path, timeout: float, report: Report) -> list[str]:
    names = _select(_otb_folders(suite if suite.startswith("otb") else "otb100"), sequences, suite)
    added = []
    for i, name in enumerate(names, start=1):
        if (root / name).is_dir():  # extracted earlier (extraction is atomic: a folder there is complete)
            report(f"[{i}/{len(names)}] {name}: already in {root}")
            continue
        url = f"{base}/{name}.zip" if base else str(src.url).format(name=name)
        report(f"[{i}/{len(names)}] {name}: {url}")
        archive = download(url, staging / f"{name}.zip", sha256=src.sha256.get(f"{name}.zip"), timeout=timeout)
        extract_zip(archive, root)
        archive.unlink()
        added.append(name)
    return added


def _fetch_vot(suite: str, src: Source, root: Path, base: str | None, sequences: list[str] | None,
               staging: Path, timeout: float, report: Report) -> list[str]:
    """The VOT toolkit's download (vot/dataset/vot.py ``VOTDataset.download``): per sequence, its annotations zip
    into ``<seq>/`` and each channel's zip into ``<seq>/<channel>/``, a ``sequence`` properties file, ``list.txt``."""
    url = f"{base}/description.json" if base else str(src.url)
    desc_path = download(url, staging / "description.json", timeout=timeout)
    try:
        meta = json.loads(desc_path.read_text())
        entries = meta["sequences"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        desc_path.unlink()
        raise DownloadError(f"{url}: not a VOT description.json ({exc!r})") from None
    base_url = url.rsplit("/", 1)[0] + "/"
    names = _select([e["name"] for e in entries], sequences, suite)
    added = []
    for i, entry in enumerate((e for e in entries if e["name"] in names), start=1):
        name = entry["name"]
        if (root / name).is_dir():
            report(f"[{i}/{len(names)}] {name}: already in {root}")
            continue
        report(f"[{i}/{len(names)}] {name}")
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".evalkit-{name}-", dir=root))
        try:
            seq_dir = tmp / name
            props = {"name": name, "fps": str(entry.get("fps", 30)), "format": "default"}
            bundles = [("annotations", entry["annotations"], seq_dir)]
            bundles += [(cname, ch, seq_dir / cname) for cname, ch in entry["channels"].items()]
            for label, bundle, into in bundles:
                bundle_url = urllib.parse.urljoin(base_url, bundle["url"])
                file = staging / f"{name}.{label}.zip"
                extract_zip(download(bundle_url, file, timeout=timeout), into)
                file.unlink()
                if label != "annotations":
                    props[f"channels.{label}"] = f"{label}{os.sep}{bundle.get('pattern', '')}"
            atomic_write_text(seq_dir / "sequence", "".join(f"{k}={v}\n" for k, v in props.items()))
            os.replace(seq_dir, root / name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        added.append(name)
    if not sequences:
        atomic_write_text(root / "list.txt", "".join(f"{e['name']}\n" for e in entries))
    desc_path.unlink()  # read again next time: a later fetch may use another mirror or an updated list
    return added
