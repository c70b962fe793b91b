"""Where tracker weights come from, and how they are loaded safely.

A weight file is resolved, first found wins, from:

1. an explicit path (a tracker parameter ``weights=...`` or ``--param dcfnet.weights=PATH``);
2. ``$EVALKIT_WEIGHTS/<relpath>``, a folder laid out like ``../shared/weights`` (``dcfnet/param.pth``,
   ``fdsiamfc/FDSiamfc_30.pth``, ...);
3. the user cache ``<cache>/weights/<relpath>`` (``[paths] cache`` in evalkit.toml, ``$EVALKIT_CACHE``), which
   ``evalkit weights fetch NAME`` fills.

Nothing is downloaded implicitly. A missing file is an error that says which file, every place looked at, and the
command that fetches it. A catalog file found in ``$EVALKIT_WEIGHTS`` or the cache must have the published sha256,
else it is refused (the error names the file and both digests); a file named explicitly is used as given, and its
digest labels the run (:func:`weights_digest`, :func:`label_suffix`). Files are loaded with
``torch.load(..., weights_only=True)`` only (no pickled code runs).

    >>> path = resolve_weights("dcfnet")                       # doctest: +SKIP
    >>> state = load_state_dict(path)                          # doctest: +SKIP
    >>> weights_digest("dcfnet", "runs/d/final.pth").published  # doctest: +SKIP
    False
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from evalkit.errors import EvalkitError

_Entry = TypeVar("_Entry", "WeightFile", "TrainOnly")


@dataclass(frozen=True)
class WeightFile:
    """A published weight file: where it lives under a weights folder, where the authors publish it, its sha256."""

    name: str
    relpath: str
    sha256: str
    url: str
    source: str  # the authors' repository and path, for the error messages and `evalkit weights list`
    licence: str = "unknown"  # as the source's LICENSE / PROVENANCE.md states it; "unknown" only when nothing says


@dataclass(frozen=True)
class TrainOnly:
    """A network whose authors published no weight file evalkit can have: it must be trained (``evalkit train``)."""

    name: str  # the tracker name (``--trackers NAME``)
    source: str  # where the network is described, and why no file is catalogued
    train: str  # the command(s) that make the weights

    @property
    def how(self) -> str:
        """The one-line instruction shown wherever the missing weights are reported."""
        return (f"must be trained: {self.train}, then --param {self.name}.weights=DIR/final.pth "
                f"(or --param {self.name}.random_init=true for the untrained network)")


def _by_name(*entries: _Entry) -> dict[str, _Entry]:
    """Entries keyed by name; a name given twice is an error (a later entry never silently replaces one)."""
    out: dict[str, _Entry] = {}
    for e in entries:
        if e.name in out:
            raise ValueError(f"trackers.weights: catalog name {e.name!r} is defined twice")
        out[e.name] = e
    return out


# The authors' released files (sha256 of the published bytes; see ../shared/weights/*/PROVENANCE.md).
CATALOG: dict[str, WeightFile] = _by_name(
    WeightFile("dcfnet", "dcfnet/param.pth",
               "8a9c2ad0a25998d873152e67f2bc4ff83ed2cfed54f4f08cb8acd37810dfc0b8",
               "https://raw.githubusercontent.com/foolwood/DCFNet_pytorch/"
               "b8434baa2d136df8f55c1addb3e77f40b3c379fc/track/param.pth",
               "foolwood/DCFNet_pytorch track/param.pth", "MIT"),
    WeightFile("dcfnet-mat", "dcfnet/DCFNet-net-7-125-2.mat",
               "394e15a6b26594dbf2f36ffeeacc3b2cf3ec6bf9f29c5084d24f02830572120c",
               "https://raw.githubusercontent.com/foolwood/DCFNet/"
               "3b1b850f02bda2e107196f4a1e64c393cdfc0ce8/DCFNet/DCFNet-net-7-125-2.mat",
               "foolwood/DCFNet DCFNet/DCFNet-net-7-125-2.mat", "MIT"),
    WeightFile("dcfnet-golden", "dcfnet/net_param.mat",
               "0095109bdd7e343065920dd8d8e370fa3cfff51478492637dfb8fad83c43c0fa",
               "https://raw.githubusercontent.com/foolwood/DCFNet_pytorch/"
               "b8434baa2d136df8f55c1addb3e77f40b3c379fc/track/net_param.mat",
               "foolwood/DCFNet_pytorch track/net_param.mat", "MIT"),
    WeightFile("fdsiamfc30", "fdsiamfc/FDSiamfc_30.pth",
               "5d3a5c108d3a41971e24e73643d12bcf77108cb43853f66ef922da121d4fb02c",
               "https://raw.githubusercontent.com/conquerhuang/FDSiamFC/"
               "0a6ce599fb5c5ffbd9491ec2f69f2aadb1b93e30/pretrained/FDSiamfc_30.pth",
               "conquerhuang/FDSiamFC pretrained/FDSiamfc_30.pth", "MIT"),
    WeightFile("fdsiamfc15", "fdsiamfc/FDSiamfc_15.pth",
               "63c8ab0d183526115672c15e02a7471820c214821c1dd7d2f5cdc307b0073379",
               "https://raw.githubusercontent.com/conquerhuang/FDSiamFC/"
               "0a6ce599fb5c5ffbd9491ec2f69f2aadb1b93e30/pretrained/FDSiamfc_15.pth",
               "conquerhuang/FDSiamFC pretrained/FDSiamfc_15.pth", "MIT"),
    WeightFile("fdsiamd", "fdsiamfc/FDSiamd.pth",
               "1b90de8fc3075efb6086280e3f71a2d426a7fbc9302098b06ea4853e81b3a4c1",
               "https://raw.githubusercontent.com/conquerhuang/FDSiamFC/"
               "0a6ce599fb5c5ffbd9491ec2f69f2aadb1b93e30/pretrained/FDSiamd.pth",
               "conquerhuang/FDSiamFC pretrained/FDSiamd.pth", "MIT"),
    # SiamFC-3s: the authors' 2016-08-17.net.mat as an int8 TFLite export (no float copy could be had);
    # trackers.siamfc.tflite_import dequantizes it into a cached float state dict.
    WeightFile("siamfc", "siamfc/whole_model_full_quant_scale3.tflite",
               "1b96d47dde6d6ffcbb7ebc65a6d4afd3279be63611b181745eb37544f3a67fd0",
               "https://raw.githubusercontent.com/tongtybj/SiamFC-TensorFlow/b885c62132fb6203e820570a2263e6a401af5d26/"
               "Logs/SiamFC/track_model_checkpoints/SiamFC-3s-color-pretrained/models/whole_model_full_quant_scale3.tflite",
               "tongtybj/SiamFC-TensorFlow (int8 TFLite of the authors' bertinetto/siamese-fc 2016-08-17.net.mat) "
               "Logs/SiamFC/track_model_checkpoints/SiamFC-3s-color-pretrained/models/whole_model_full_quant_scale3.tflite",
               "MIT"),
    # CFNet (bertinetto/cfnet release networks, MatConvNet DagNN .mat read as data by trackers.cfnet.matconvnet);
    # byte-identical copies of the files the release downloads, kept in Alvaroia/tracker-tfm.
    WeightFile("cfnet-conv1", "cfnet/cfnet-conv1_e75.mat",
               "37c59d47a65ba02b443ded7a9a5b69ddb60072579667ea9d0cc468d88cddd7c4",
               "https://raw.githubusercontent.com/Alvaroia/tracker-tfm/"
               "05b9fe83b9fe7561b3f81ff702bf39128fc33e5e/pretrained/cfnet-conv1_e75.mat",
               "bertinetto/cfnet release: cfnet-conv1_e75.mat (copy: Alvaroia/tracker-tfm)",
               "MIT"),
    WeightFile("cfnet-conv1-gray", "cfnet/cfnet-conv1_gray_e55.mat",
               "4afb6fc03702f3cf5fbc4ed4ddb6817e92ee297c5a1271ba323dbce208aae719",
               "https://raw.githubusercontent.com/Alvaroia/tracker-tfm/"
               "05b9fe83b9fe7561b3f81ff702bf39128fc33e5e/pretrained/cfnet-conv1_gray_e55.mat",
               "bertinetto/cfnet release: cfnet-conv1_gray_e55.mat (copy: Alvaroia/tracker-tfm)",
               "MIT"),
    WeightFile("cfnet-conv2", "cfnet/cfnet-conv2_e80.mat",
               "72e9bf0911a5d2008cfc12d983b71cd80de2b33ea3b942be5f76849273515b51",
               "https://raw.githubusercontent.com/Alvaroia/tracker-tfm/"
               "05b9fe83b9fe7561b3f81ff702bf39128fc33e5e/pretrained/cfnet-conv2_e80.mat",
               "bertinetto/cfnet release: cfnet-conv2_e80.mat (copy: Alvaroia/tracker-tfm)",
               "MIT"),
    WeightFile("cfnet-conv2-gray", "cfnet/cfnet-conv2_gray_e40.mat",
               "e61093b35a122ec79a797f39f4c62cb5f70fa522f4a28aa14aff0873e5f75d24",
               "https://raw.githubusercontent.com/Alvaroia/tracker-tfm/"
               "05b9fe83b9fe7561b3f81ff702bf39128fc33e5e/pretrained/cfnet-conv2_gray_e40.mat",
               "bertinetto/cfnet release: cfnet-conv2_gray_e40.mat (copy: Alvaroia/tracker-tfm)",
               "MIT"),
    WeightFile("baseline-cf-conv3", "cfnet/baseline-conv3-on-cfnet-conv3_e100.mat",
               "d63e98722a03fcf8120f66d07f0be63359c7cc4e27f90e67d716c71115c0de65",
               "https://raw.githubusercontent.com/Alvaroia/tracker-tfm/"
               "05b9fe83b9fe7561b3f81ff702bf39128fc33e5e/pretrained/baseline-conv3-on-cfnet-conv3_e100.mat",
               "bertinetto/cfnet release: baseline-conv3-on-cfnet-conv3_e100.mat (copy: Alvaroia/tracker-tfm)",
               "MIT"),
    WeightFile("baseline-cf-conv3-gray", "cfnet/baseline-conv3-on-cfnet-conv3_gray_e70.mat",
               "104e1fc94645a5394d9bd04e8af9e2e85580b103acbff301c22bdbbc38d2a2a3",
               "https://raw.githubusercontent.com/Alvaroia/tracker-tfm/"
               "05b9fe83b9fe7561b3f81ff702bf39128fc33e5e/pretrained/baseline-conv3-on-cfnet-conv3_gray_e70.mat",
               "bertinetto/cfnet release: baseline-conv3-on-cfnet-conv3_gray_e70.mat (copy: Alvaroia/tracker-tfm)",
               "MIT"),
)

# Networks of seed trackers with no catalogued file: the only way to real weights is `evalkit train`.
TRAIN_ONLY: dict[str, TrainOnly] = _by_name(
    TrainOnly("cfnet-conv5", "bertinetto/cfnet release, cfnet-conv5_e80.mat: no copy with a known sha256 could be "
              "had (shared/weights/cfnet/PROVENANCE.md)", "evalkit train --tracker cfnet-conv5 --data DATA --out DIR"),
    TrainOnly("baseline-conv5", "bertinetto/cfnet release, baseline-conv5_e55.mat: no copy with a known sha256 could "
              "be had (shared/weights/cfnet/PROVENANCE.md)",
              "evalkit train --tracker baseline-conv5 --data DATA --out DIR"),
    TrainOnly("dcffnet", "DCFFNet paper (Ma et al.): no public code or weights",
              "evalkit train --tracker dcffnet --data DATA --out DIR1, copy DIR1/final.pth to "
              "$EVALKIT_WEIGHTS/dcffnet/stage1-cf-double.pth, evalkit train --tracker dcffnet-stage2 --data DATA "
              "--out DIR"),
    *(TrainOnly(f"dcfnet-{arch}", f"DCFNet paper Table 1 ({arch}): foolwood/DCFNet released only the default network",
                f"evalkit train --tracker dcfnet-{arch} --data DATA --out DIR")
      for arch in ("conv1", "conv2", "conv1-dilation")),
)


class WeightsError(EvalkitError):
    """A weight file is missing, corrupt or does not match the network."""


class MissingWeightsError(WeightsError):
    """No file for a catalog name (or relpath) in any place looked at."""

    def __init__(self, name: str, looked: list[Path], message: str) -> None:
        super().__init__(message)
        self.name = name
        self.looked = looked


class WeightsMismatchError(WeightsError):
    """A file found in ``$EVALKIT_WEIGHTS`` or the cache is not the published file (its sha256 differs)."""

    def __init__(self, name: str, path: Path, expected: str, actual: str) -> None:
        super().__init__(f"{path}: sha256 {actual} is not the published {name} ({expected}); refusing it. Delete it "
                         f"and run `evalkit weights fetch {name}`, or name the file explicitly "
                         f"(--param TRACKER.weights={path}) to run it as a labelled, non-published network")
        self.name = name
        self.path = path
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class ResolvedWeights:
    """A resolved weight file, its sha256, and whether it is the catalog's published file."""

    path: Path
    sha256: str
    explicit: bool  # named by path: used even when it is not the published file
    expected: str | None  # the catalog's sha256, None when the name is not in the catalog

    @property
    def published(self) -> bool:
        """True when the file is the catalog's published file."""
        return self.expected is not None and self.sha256 == self.expected


def catalog_entry(name_or_relpath: str) -> WeightFile | None:
    """The catalog entry with this name or relpath, or None."""
    entry = CATALOG.get(name_or_relpath)
    if entry is None:
        entry = next((e for e in CATALOG.values() if e.relpath == name_or_relpath), None)
    return entry


def cache_dir() -> Path:
    """The user cache's weights folder: ``<cache>/weights`` with the cache of evalkit.toml (``$EVALKIT_CACHE`` wins)."""
    from evalkit.config import load_config

    return Path(load_config().cache).expanduser() / "weights"


def candidates(name_or_relpath: str, explicit: str | os.PathLike[str] | None = None) -> list[Path]:
    """Every place a weight file is looked for, in order."""
    entry = catalog_entry(name_or_relpath)
    rel = entry.relpath if entry else name_or_relpath
    out: list[Path] = []
    if explicit:
        out.append(Path(explicit).expanduser())
    env = os.environ.get("EVALKIT_WEIGHTS")
    if env:
        out.append(Path(env).expanduser() / rel)
    out.append(cache_dir() / rel)
    return out


def shared_weights_folder(relpath: str) -> Path | None:
    """A reference folder laid out like shared/weights that holds ``relpath`` (``$EVALKIT_SHARED/weights`` or
    ``../shared/weights``, the Makefile's default), for a ready-made ``export EVALKIT_WEIGHTS=...`` hint."""
    roots = [Path(os.environ["EVALKIT_SHARED"]).expanduser()] if os.environ.get("EVALKIT_SHARED") else []
    roots.append(Path("..") / "shared")
    for root in roots:
        if (root / "weights" / relpath).is_file():
            return (root / "weights").resolve()
    return None


def resolve_weights(name_or_relpath: str, explicit: str | os.PathLike[str] | None = None) -> Path:
    """The first existing weight file for a catalog name (or a relpath under a weights folder).

    An explicit path that does not exist is an error by itself (never silently replaced by another file). A catalog
    file found in ``$EVALKIT_WEIGHTS`` or the cache whose sha256 differs from the catalog is refused
    (:class:`WeightsMismatchError`), never silently used nor skipped for the next place.
    """
    if explicit:
        p = Path(explicit).expanduser()
        if not p.is_file():
            raise WeightsError(f"weights file {p} does not exist (given explicitly for {name_or_relpath})")
        return p
    looked = candidates(name_or_relpath)
    entry = catalog_entry(name_or_relpath)
    for p in looked:
        if p.is_file():
            if entry is not None and (digest := sha256_of(p)) != entry.sha256:
                raise WeightsMismatchError(entry.name, p, entry.sha256, digest)
            return p
    how = (f"run `evalkit weights fetch {entry.name}` (downloads {entry.source}, checks its sha256), "
           if entry else "")
    shared = shared_weights_folder(entry.relpath if entry else name_or_relpath)
    env = (f"export EVALKIT_WEIGHTS={shared}" if shared else
           "set EVALKIT_WEIGHTS to a folder laid out like shared/weights")
    raise MissingWeightsError(
        entry.name if entry else name_or_relpath, looked,
        f"weights {name_or_relpath!r} not found; looked in: {', '.join(str(p) for p in looked)}"
        f"{'' if os.environ.get('EVALKIT_WEIGHTS') else ' (EVALKIT_WEIGHTS is not set)'}. "
        f"To get it: {how}{env}, or pass the path explicitly")


def weights_digest(name_or_relpath: str, explicit: str | os.PathLike[str] | None = None) -> ResolvedWeights:
    """The file :func:`resolve_weights` picks and its sha256, to label a run (explicit files may be unpublished)."""
    path = resolve_weights(name_or_relpath, explicit)
    entry = catalog_entry(name_or_relpath)
    return ResolvedWeights(path, sha256_of(path), bool(explicit), entry.sha256 if entry else None)


_DIGESTS: dict[tuple[str, int, int], str] = {}  # (path, size, mtime): resolution, listing and fingerprinting re-hash


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file (part of a tracker's result fingerprint); remembered while the file is unchanged."""
    st = os.stat(path)
    key = (str(Path(path).resolve()), st.st_size, st.st_mtime_ns)
    if key not in _DIGESTS:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _DIGESTS[key] = h.hexdigest()
    return _DIGESTS[key]


def is_untrained(params: Any) -> bool:
    """True when a tracker's parameters ask for the untrained (seeded random) network: ``random_init=true``.

    ``params`` is a parameter dataclass or a mapping (the ``params`` of a stored run.json, or ``--param`` strings).
    """
    value = params.get("random_init", False) if isinstance(params, Mapping) else getattr(params, "random_init", False)
    return value is True or (isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on"))


def label_suffix(params: Any, sha256: str | None, catalog_name: str | None = None) -> str:
    """What a result label must carry beyond the tracker name: `` [untrained]`` for ``random_init``,
    `` [weights <sha256[:12]>]`` for weights that are not a published catalog file, else ``""``.

    ``sha256`` is the tracker's ``weights_sha256()`` (None: no weights); ``catalog_name`` narrows "published" to
    that entry (a tracker's own file), otherwise any catalog file counts.
    """
    if is_untrained(params):
        return " [untrained]"
    if sha256 is None:
        return ""
    entry = CATALOG.get(catalog_name) if catalog_name else None
    published = {entry.sha256} if entry else {e.sha256 for e in CATALOG.values()}
    return "" if sha256 in published else f" [weights {sha256[:12]}]"


def tracker_label_suffix(tracker: Any) -> str:
    """:func:`label_suffix` of a constructed tracker: its params, ``weights_sha256()`` and catalog entry (if any)."""
    if is_untrained(tracker.params):
        return " [untrained]"
    catalog = getattr(type(tracker), "catalog_name", None) or getattr(type(tracker), "catalog", None)
    return label_suffix(tracker.params, tracker.weights_sha256(), catalog if isinstance(catalog, str) else None)


@dataclass(frozen=True)
class WeightsStatus:
    """Where a catalog file was found (if anywhere), its sha256 and every place looked at; never raises."""

    entry: WeightFile
    path: Path | None
    sha256: str | None
    looked: tuple[Path, ...]

    @property
    def ok(self) -> bool:
        """True when the published file was found."""
        return self.path is not None and self.sha256 == self.entry.sha256

    @property
    def place(self) -> str:
        """Which place holds the file: ``$EVALKIT_WEIGHTS`` or ``cache`` (empty when not found)."""
        if self.path is None:
            return ""
        env = os.environ.get("EVALKIT_WEIGHTS")
        return "$EVALKIT_WEIGHTS" if env and self.path == Path(env).expanduser() / self.entry.relpath else "cache"


def weights_status(name: str) -> WeightsStatus:
    """The state of catalog file ``name`` as a run would see it (for `evalkit weights list` and preflight)."""
    entry = CATALOG[name]
    looked = tuple(candidates(name))
    try:
        path = resolve_weights(name)
    except WeightsMismatchError as exc:
        return WeightsStatus(entry, exc.path, exc.actual, looked)
    except MissingWeightsError:
        return WeightsStatus(entry, None, None, looked)
    return WeightsStatus(entry, path, entry.sha256, looked)


def load_state_dict(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A torch state dict read with ``weights_only=True``; a corrupt file names the file."""
    import torch

    try:
        state = torch.load(Path(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for bad files; all mean "unreadable"
        raise WeightsError(f"{path}: cannot be read as PyTorch weights ({type(exc).__name__}: {exc})") from None
    if not isinstance(state, dict):
        raise WeightsError(f"{path}: expected a state dict, found {type(state).__name__}")
    return dict(state)


def load_into(module: Any, state: dict[str, Any], path: str | os.PathLike[str], strip_prefix: str = "") -> None:
    """``module.load_state_dict(state, strict=True)`` with an error that names the file and the mismatching keys."""
    if strip_prefix:
        state = {k[len(strip_prefix):]: v for k, v in state.items() if k.startswith(strip_prefix)}
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [f"{k}: file {tuple(state[k].shape)} vs network {tuple(own[k].shape)}"
              for k in sorted(set(own) & set(state)) if tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing keys {missing[:6]}{' ...' if len(missing) > 6 else ''}")
        if unexpected:
            parts.append(f"unexpected keys {unexpected[:6]}{' ...' if len(unexpected) > 6 else ''}")
        if shapes:
            parts.append("shape mismatches " + "; ".join(shapes[:4]))
        raise WeightsError(f"{path} does not match {type(module).__name__}: {', '.join(parts)}")
    module.load_state_dict(state, strict=True)


def fetch(name: str, dest: str | os.PathLike[str] | None = None, base_url: str | None = None,
          force: bool = False, progress: bool = True, timeout: float = 60.0) -> Path:
    """Download catalog file ``name`` into ``dest`` (default: the user cache) and check its sha256; returns the path.

    ``base_url`` (or ``$EVALKIT_WEIGHTS_URL``) replaces the authors' URL by ``<base_url>/<relpath>`` (a mirror, or a
    local server in tests). The download goes to a temporary file beside the target and is renamed into place only
    when its sha256 matches the catalog, so a failed or corrupt download never leaves a file that looks valid. An
    existing file with the right sha256 is kept unless ``force``.
    """
    import urllib.error
    import urllib.request

    if name in TRAIN_ONLY:
        raise WeightsError(f"{name} has no published weight file to fetch: {TRAIN_ONLY[name].how}")
    if name not in CATALOG:
        import difflib

        close = difflib.get_close_matches(name, CATALOG, n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise WeightsError(f"no weight file named {name!r} in the catalog{hint} (known: {', '.join(sorted(CATALOG))})")
    entry = CATALOG[name]
    target = (Path(dest).expanduser() if dest is not None else cache_dir()) / entry.relpath
    if target.is_file() and not force and sha256_of(target) == entry.sha256:
        return target
    base = base_url or os.environ.get("EVALKIT_WEIGHTS_URL")
    url = f"{base.rstrip('/')}/{entry.relpath}" if base else entry.url
    from evalkit.io import atomic_target

    h = hashlib.sha256()
    with atomic_target(target, suffix=".part") as tmp, open(tmp, "wb") as out:
        try:
            response = urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 - catalog or user-given URL
        except urllib.error.HTTPError as exc:
            raise WeightsError(f"cannot download {name} from {url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise WeightsError(f"cannot download {name} from {url}: {getattr(exc, 'reason', exc)}") from None
        total = int(response.headers.get("Content-Length") or 0) or None
        from tqdm import tqdm

        with response, tqdm(total=total, unit="B", unit_scale=True, desc=name, disable=not progress) as bar:
            for block in iter(lambda: response.read(1 << 16), b""):
                out.write(block)
                h.update(block)
                bar.update(len(block))
            out.flush()
            os.fsync(out.fileno())
        got = h.hexdigest()
        if got != entry.sha256:
            raise WeightsError(f"downloaded {name} from {url} but its sha256 is {got}, expected {entry.sha256} "
                               f"({entry.source}); the file was discarded")
    return target


def locate(name_or_relpath: str) -> Path | None:
    """The file that :func:`resolve_weights` would use, or None when there is none."""
    try:
        return resolve_weights(name_or_relpath)
    except WeightsError:
        return None


def weights_problem(ref: str, tracker: Any) -> tuple[str, str] | None:
    """(what is wrong, the command or flag that fixes it) when ``tracker``'s weights cannot be found or are not the
    published file; None when it is ready. Nothing is loaded: files are found and hashed. ``ref``: the name the user
    gave (for the flags). evalkit's preflight calls this through its registry (the ``weights`` hook)."""
    params = tracker.params
    explicit = getattr(params, "weights", None)
    name = getattr(tracker, "name", "") or ref
    if is_untrained(params):
        if explicit:
            return ("both weights and random_init=true are given",
                    f"drop --param {ref}.weights or --param {ref}.random_init")
        return None
    if explicit and not Path(explicit).expanduser().is_file():
        return (f"weights file {Path(explicit).expanduser()} does not exist",
                f"--param {ref}.weights=PATH of an existing file")
    if not explicit and name in TRAIN_ONLY:
        return (f"the authors published no weight file for {name}", TRAIN_ONLY[name].how)
    try:
        catalog = getattr(type(tracker), "catalog_name", None)
        if not explicit and catalog:
            resolve_weights(catalog)  # SiamFC-family trackers answer None for a missing file: resolve it here
        tracker.weights_sha256()  # the tracker's own resolution: every file it needs (CFNet: colour and grey)
    except WeightsMismatchError as exc:
        return (f"{exc.path} has sha256 {exc.actual}, not the published {exc.name} ({exc.expected})",
                f"rm {exc.path} && evalkit weights fetch {exc.name}  (or --param {ref}.weights={exc.path} to run it, "
                f"labelled with its sha256)")
    except MissingWeightsError as exc:
        entry = CATALOG.get(exc.name)
        shared = shared_weights_folder(entry.relpath if entry else exc.name)
        fetch = f"evalkit weights fetch {exc.name}" if entry else f"--param {ref}.weights=PATH"
        return (f"weights {exc.name!r} not found; looked in: {', '.join(str(p) for p in exc.looked)}",
                f"export EVALKIT_WEIGHTS={shared}  (or: {fetch})" if shared else
                f"{fetch}  (or: export EVALKIT_WEIGHTS=<a folder laid out like shared/weights>)")
    except (WeightsError, EvalkitError, ValueError) as exc:  # an architecture without released weights, ...
        return (str(exc), f"--param {ref}.weights=PATH (evalkit train --tracker {name} makes one) or "
                          f"--param {ref}.random_init=true")
    return None


