"""Cold-process ``evalkit score`` against a naive numpy/scipy script, with and without the parsed-results cache.

    .venv/bin/python benchmarks/cold_score.py                # median of 5
    .venv/bin/python benchmarks/cold_score.py --repeats 3 --keep-env-bytecode

Each timing is a fresh ``subprocess`` (perf_counter around it), scoring the six CFNet-release trackers on OTB-100
(``evalkit score --suite otb100 ... --bootstrap 0 --format json``):

- naive: ``benchmarks/naive_score.py`` (loadmat of the 600 files, IoU, 21-threshold success curve, mean): the baseline;
- cache off: evalkit with ``EVALKIT_RESULTS_CACHE=0`` (every file parsed, nothing written: evalkit without its parse
  caches, of results and of ground truth);
- first call: evalkit with both caches empty (it parses every file, ground truth included, and writes the caches);
- warm: evalkit again, the caches filled by the call before.

The rounds interleave the four (naive, off, first, warm), so load on the machine hits them alike; medians and ratios to
the naive median are printed. An untimed round first warms the OS file cache for all and gives the reference: evalkit's
JSON with the cache off (``EVALKIT_RESULTS_CACHE=0``), which every timed call's output must equal byte for byte, and
whose success AUCs the naive script's must equal (it is a real baseline, not a strawman).

Bytecode: children run with ``PYTHONPYCACHEPREFIX`` set to a temporary folder and ``PYTHONDONTWRITEBYTECODE`` unset,
so after the warm-up round every module of both commands is loaded from bytecode, as in an installed package (an
editable install with PYTHONDONTWRITEBYTECODE=1 compiles evalkit's modules on every start; ``--keep-env-bytecode``
times that instead). Reference data: ``$EVALKIT_SHARED``, else ``<repository root>/../shared``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
WARM_TARGET, FIRST_TARGET = 0.35, 0.8  # of the naive script's time


def shared_dir() -> Path:
    env = os.environ.get("EVALKIT_SHARED")
    return Path(env).expanduser().resolve() if env else (REPO_ROOT.parent / "shared").resolve()


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Seconds the fresh process took, and its stdout; a failure stops the benchmark with its stderr."""
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO_ROOT, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
    return seconds, done.stdout


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5, help="timed rounds (median reported)")
    ap.add_argument("--keep-env-bytecode", action="store_true", help="do not give the children a bytecode cache")
    args = ap.parse_args(argv)

    shared = shared_dir()
    data, results = shared / "data" / "otb100", shared / "data" / "results" / "otb100_cfnet_release"
    if not results.is_dir():
        sys.exit(f"reference data not found: {results} (set EVALKIT_SHARED)")
    evalkit = [sys.executable, "-m", "evalkit.cli", "score", "--suite", "otb100", "--data-root", str(data),
               "--results", str(results), "--bootstrap", "0", "--format", "json"]
    naive = [sys.executable, str(REPO_ROOT / "benchmarks" / "naive_score.py"), str(data / "anno"), str(results)]

    with tempfile.TemporaryDirectory(prefix="evalkit-cold-") as tmp:
        env = dict(os.environ, EVALKIT_CACHE=str(Path(tmp) / "cache"))
        env.pop("EVALKIT_RESULTS_CACHE", None)
        if not args.keep_env_bytecode:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        parse_caches = [Path(tmp) / "cache" / "results", Path(tmp) / "cache" / "boxes"]  # results, ground truth

        # warm-up (untimed): OS file cache, bytecode, and the references
        _, naive_out = timed(naive, env)
        _, reference = timed(evalkit, dict(env, EVALKIT_RESULTS_CACHE="0"))
        ours = sorted(t["success_auc"] for t in json.loads(reference)["trackers"].values())
        theirs = sorted(json.loads(naive_out).values())
        if len(ours) != len(theirs) or any(abs(a - b) > 1e-12 for a, b in zip(ours, theirs, strict=True)):
            sys.exit(f"the naive script's success AUCs {theirs} differ from evalkit's {ours}")

        times: dict[str, list[float]] = {"naive": [], "off": [], "first": [], "warm": []}
        for _ in range(args.repeats):
            times["naive"].append(timed(naive, env)[0])
            times["off"].append(timed(evalkit, dict(env, EVALKIT_RESULTS_CACHE="0"))[0])
            for folder in parse_caches:
                shutil.rmtree(folder, ignore_errors=True)
            for label in ("first", "warm"):
                seconds, out = timed(evalkit, env)
                if out != reference:
                    sys.exit(f"evalkit score ({label} call) printed other numbers than with the cache off")
                times[label].append(seconds)

    base = statistics.median(times["naive"])
    print(f"cold `evalkit score` of 6 CFNet-release trackers on OTB-100 (600 .mat files), median of {args.repeats} "
          f"fresh processes; bytecode {'as the environment has it' if args.keep_env_bytecode else 'cached'}")
    rows = [("naive script (baseline)", "naive", None), ("evalkit, cache off (parses every file)", "off", None),
            ("evalkit, first call (empty cache)", "first", FIRST_TARGET),
            ("evalkit, warm cache", "warm", WARM_TARGET)]
    for title, key, target in rows:
        med = statistics.median(times[key])
        each = " ".join(f"{t:.2f}" for t in times[key])
        verdict = "" if target is None else f"  target <= {target:.2f}x: {'met' if med / base <= target else 'MISSED'}"
        print(f"  {title:<40} {med:6.2f} s  {med / base:5.2f}x  [{each}]{verdict}")
    print("  output identical to the uncached run: yes; naive AUCs equal evalkit's: yes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
