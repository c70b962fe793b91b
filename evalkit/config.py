"""evalkit.toml: where data, results and caches live, the default profile and worker count.

    >>> cfg = load_config()             # --config, then $EVALKIT_CONFIG, then ./evalkit.toml, else defaults
    >>> cfg.profile
    'otb-toolkit'

Unknown sections or keys are errors that name the file, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from evalkit.errors import EvalkitError, InputFileError

_KNOWN = {
    "paths": {"results", "reports", "cache"},
    "datasets": None,  # any suite name
    "scoring": {"profile"},
    "run": {"workers", "backend", "address", "timeout"},
}


@dataclass(frozen=True)
class Config:
    """Resolved configuration values (paths are absolute)."""

    results: Path = Path("results")
    reports: Path = Path("reports")
    cache: Path = Path("~/.cache/evalkit").expanduser()
    datasets: dict[str, Path] = field(default_factory=dict)
    profile: str = "otb-toolkit"
    workers: int = 1
    backend: str = "loky"
    address: str | None = None
    timeout: float | None = None  # seconds per tracker call (frame) before a run is stopped as hung; None: no limit
    source: Path | None = None

    def data_root(self, suite: str) -> Path | None:
        """Data root for a suite: $EVALKIT_DATA_<SUITE>, then the [datasets] table."""
        env = os.environ.get("EVALKIT_DATA_" + suite.upper().replace("-", "_"))
        if env:
            return Path(env).expanduser()
        return self.datasets.get(suite.lower())


def _path(value: object, base: Path, where: Path, key: str) -> Path:
    if not isinstance(value, str):
        raise InputFileError(where, None, f"{key} must be a string path, got {value!r}")
    p = Path(value).expanduser()
    return p if p.is_absolute() else (base / p)


def load_config(path: str | Path | None = None) -> Config:
    """Read the configuration file (see module docstring for the lookup order); defaults when there is none."""
    candidate = path or os.environ.get("EVALKIT_CONFIG")
    if candidate is None and Path("evalkit.toml").is_file():
        candidate = "evalkit.toml"
    cache_env = os.environ.get("EVALKIT_CACHE")
    if candidate is None:
        cfg = Config()
        return Config(cache=Path(cache_env).expanduser()) if cache_env else cfg
    file = Path(candidate).expanduser().resolve()
    if not file.is_file():
        raise EvalkitError(f"configuration file {file} does not exist")
    try:
        data = tomllib.loads(file.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(file, getattr(exc, "lineno", None), f"invalid TOML: {exc}") from None
    for section, value in data.items():
        if section not in _KNOWN:
            raise InputFileError(file, None, f"unknown section [{section}]; known: {', '.join(_KNOWN)}")
        allowed = _KNOWN[section]
        if allowed is not None:
            for key in value:
                if key not in allowed:
                    known = ", ".join(sorted(allowed))
                    raise InputFileError(file, None, f"unknown key {section}.{key}; known: {known}")
    base = file.parent
    paths = data.get("paths", {})
    workers = data.get("run", {}).get("workers", 1)
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise InputFileError(file, None, f"run.workers must be a positive integer, got {workers!r}")
    profile = data.get("scoring", {}).get("profile", "otb-toolkit")
    timeout = data.get("run", {}).get("timeout")
    if timeout is not None and (not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0):
        raise InputFileError(file, None, f"run.timeout must be a positive number of seconds, got {timeout!r}")
    return Config(
        results=_path(paths.get("results", "results"), base, file, "paths.results"),
        reports=_path(paths.get("reports", "reports"), base, file, "paths.reports"),
        cache=Path(cache_env).expanduser() if cache_env else _path(paths.get("cache", "~/.cache/evalkit"), base,
                                                                   file, "paths.cache"),
        datasets={k.lower(): _path(v, base, file, f"datasets.{k}") for k, v in data.get("datasets", {}).items()},
        profile=str(profile),
        workers=workers,
        backend=str(data.get("run", {}).get("backend", "loky")),
        address=data.get("run", {}).get("address"),
        timeout=None if timeout is None else float(timeout),
        source=file,
    )
