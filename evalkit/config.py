"""evalkit.toml: where data, results and caches live, the default profile and worker count.

    >>> cfg = load_config()             # --config, then $EVALKIT_CONFIG, then ./evalkit.toml, else defaults
    >>> cfg.profile
    'otb-toolkit'

Unknown sections or keys are errors that name the file, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from evalkit.errors import EvalkitError, InputFileError, read_input_text

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


BACKENDS = ("loky", "threading", "dask", "ray", "sequential")  # joblib backends the runner accepts


class _Where:
    """The line of a section or key in the config text, so a semantic error names it as tomllib's own errors do."""

    def __init__(self, file: Path, text: str) -> None:
        self.file = file
        self.lines = text.splitlines()

    def line(self, section: str, key: str | None = None) -> int | None:
        """1-based line of ``[section]`` / ``section = ...`` (key None), else of ``key = `` inside that section or
        of ``section.key = ``; None when it cannot be told (an inline table, say)."""
        current = None
        header = re.compile(r"^\s*\[\s*([^\]\s]+)\s*\]")
        for lineno, raw in enumerate(self.lines, 1):
            m = header.match(raw)
            if m:
                current = m.group(1).strip('"\'')
                if key is None and current == section:
                    return lineno
                continue
            name = raw.split("=", 1)[0].strip().strip('"\'') if "=" in raw else None
            if name is None:
                continue
            if key is None and current is None and name == section:
                return lineno
            if key is not None and ((current == section and name == key)
                                    or (current is None and name.replace(" ", "") == f"{section}.{key}")):
                return lineno
        return self.line(section) if key is not None else None

    def error(self, message: str, section: str, key: str | None = None) -> InputFileError:
        return InputFileError(self.file, self.line(section, key), message)


def _path(value: object, base: Path, where: _Where, section: str, key: str) -> Path:
    if not isinstance(value, str):
        raise where.error(f"{section}.{key} must be a string path, got {value!r}", section, key)
    p = Path(value).expanduser()
    return p if p.is_absolute() else (base / p)


def load_config(path: str | Path | None = None) -> Config:
    """Read the configuration file (see module docstring for the lookup order); defaults when there is none.

    Every problem is an :class:`InputFileError` naming the file and, where it can be told, the line: TOML syntax, a
    non-UTF-8 file, an unknown section or key, a section that is not a table, a value of the wrong type, an unknown
    backend (reported even by commands that run nothing, so a typo never waits for the first run).
    """
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
    text = read_input_text(file)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's TOMLDecodeError has no lineno attribute (3.14 adds it); its message ends "(at line N, ...)"
        found = re.search(r"at line (\d+)", str(exc))
        line = getattr(exc, "lineno", None) or (int(found.group(1)) if found else None)
        raise InputFileError(file, line, f"invalid TOML: {exc}") from None
    where = _Where(file, text)
    for section, value in data.items():
        if section not in _KNOWN:
            raise where.error(f"unknown section [{section}]; known: {', '.join(_KNOWN)}", section)
        if not isinstance(value, dict):
            raise where.error(f"[{section}] must be a table of keys, got {value!r}", section)
        allowed = _KNOWN[section]
        if allowed is not None:
            for key in value:
                if key not in allowed:
                    known = ", ".join(sorted(allowed))
                    raise where.error(f"unknown key {section}.{key}; known: {known}", section, key)
    base = file.parent
    paths = data.get("paths", {})
    run = data.get("run", {})
    workers = run.get("workers", 1)
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise where.error(f"run.workers must be a positive integer, got {workers!r}", "run", "workers")
    profile = data.get("scoring", {}).get("profile", "otb-toolkit")
    if not isinstance(profile, str):
        raise where.error(f"scoring.profile must be a profile name, got {profile!r}", "scoring", "profile")
    backend = run.get("backend", "loky")
    if backend not in BACKENDS:
        raise where.error(f"run.backend must be one of {', '.join(BACKENDS)}, got {backend!r}", "run", "backend")
    address = run.get("address")
    if address is not None and not isinstance(address, str):
        raise where.error(f"run.address must be a string, got {address!r}", "run", "address")
    timeout = run.get("timeout")
    if timeout is not None and (not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0):
        raise where.error(f"run.timeout must be a positive number of seconds, got {timeout!r}", "run", "timeout")
    # the file's cache key is checked even when $EVALKIT_CACHE overrides it: a bad file is an error either way
    configured_cache = _path(paths.get("cache", "~/.cache/evalkit"), base, where, "paths", "cache")
    return Config(
        results=_path(paths.get("results", "results"), base, where, "paths", "results"),
        reports=_path(paths.get("reports", "reports"), base, where, "paths", "reports"),
        cache=Path(cache_env).expanduser() if cache_env else configured_cache,
        datasets={k.lower(): _path(v, base, where, "datasets", k) for k, v in data.get("datasets", {}).items()},
        profile=profile,
        workers=workers,
        backend=backend,
        address=address,
        timeout=None if timeout is None else float(timeout),
        source=file,
    )
