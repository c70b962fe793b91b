"""Import layers of evalkit: every module is parsed (never imported) and each import must point down the layers.

Layers, lowest first (ARCHITECTURE.md, "Arrows point down this list only"); a module belongs to the layer of the
first component of its name after ``evalkit.``, so packages that replace modules (``scoring/``, ``cli/``,
``results/``) land in the same place:

    0  errors, io, registry, config, geometry, tracker (the contract), version, vot_codes, core, the package itself
    1  datasets, results, store, protocols, frames
    2  metrics (arrays in, arrays out: layer 0 and numpy/scipy only)
    3  scoring
    4  tables, present, report, paper_tables
    5  harness, runner, interop, preflight (checks a run's inputs before it starts), verify (checks a data root)
    6  cli, commands, api (the Python face of the commands)

Two more rules: only the commands that train, compress, measure or fetch weights for trackers may import
``trackers`` (evalkit finds trackers through the registry otherwise), and torch / OpenCV are imported at module level
only by the modules that run trackers, so ``pip install evalkit`` without them can score, table and report.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "evalkit"

LAYERS: dict[str, int] = {
    "": 0, "errors": 0, "io": 0, "registry": 0, "config": 0, "geometry": 0, "tracker": 0, "version": 0,
    "vot_codes": 0, "core": 0,
    "datasets": 1, "results": 1, "store": 1, "protocols": 1, "frames": 1,
    "metrics": 2,
    "scoring": 3,
    "tables": 4, "present": 4, "report": 4, "paper_tables": 4,
    "harness": 5, "runner": 5, "interop": 5, "preflight": 5, "verify": 5,
    "cli": 6, "commands": 6, "api": 6,
}
# metrics may import only layer 0 of evalkit; everything else may import any lower layer
METRICS_MAY_IMPORT = 0
TRACKER_COMMANDS = {"train", "compress", "complexity", "weights"}  # commands that work on trackers/ directly
HEAVY = {"torch", "cv2"}  # not installed by `pip install evalkit` (core): only the `trackers` extra brings them


@dataclass(frozen=True)
class Import:
    """One import statement of a module: what it imports, where, and whether it runs at import time."""

    module: str  # importing module, dotted
    target: str  # imported module, dotted (``from evalkit import geometry`` -> ``evalkit.geometry``)
    line: int
    top_level: bool  # executed when the module is imported (not inside a function)

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.target}"


def module_name(path: Path) -> str:
    """Dotted module name of a file under ``evalkit/``."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """Absolute module of a ``from`` import (relative imports resolved against ``module``)."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(path: Path, module: str | None = None) -> list[Import]:
    """Every import in one file (named ``module``, default: from its path), function-level ones included (a lazy
    import is still a dependency)."""
    module = module or module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []

    def visit(node: ast.AST, top_level: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = top_level and not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                found.extend(Import(module, a.name, child.lineno, top_level) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = _resolve(module, path.name == "__init__.py", child)
                # ``from evalkit import geometry`` imports the module evalkit.geometry; ``from evalkit.x import a, b``
                # imports evalkit.x (once)
                targets = {f"{base}.{a.name}" if base == "evalkit" and a.name in LAYERS else base for a in child.names}
                found.extend(Import(module, t, child.lineno, top_level) for t in sorted(targets))
            visit(child, nested)

    visit(tree, True)
    return found


def layer_key(module: str) -> str:
    """The first component after ``evalkit.`` ('' for the package itself); ``scoring_vot`` counts as ``scoring``."""
    parts = module.split(".")
    first = parts[1] if len(parts) > 1 else ""
    return "scoring" if first.startswith("scoring_") else first


def is_tracker_command(module: str) -> bool:
    """True for the CLI modules of ``train``, ``compress``, ``complexity`` and ``weights`` (commands/ or cli/)."""
    parts = module.split(".")
    return len(parts) >= 3 and layer_key(module) in ("cli", "commands") and parts[-1] in TRACKER_COMMANDS


def runs_trackers(module: str) -> bool:
    """True for the modules that decode frames or drive trackers: they may import torch and OpenCV at import time."""
    return layer_key(module) in ("harness", "runner", "frames", "interop") or is_tracker_command(module)


def layer_violations(imports: list[Import]) -> list[str]:
    """Imports from a lower layer into a higher one, and metrics importing anything above layer 0."""
    problems = []
    for imp in imports:
        if imp.target != "evalkit" and not imp.target.startswith("evalkit."):
            continue
        own, other = LAYERS[layer_key(imp.module)], LAYERS[layer_key(imp.target)]
        limit = METRICS_MAY_IMPORT if layer_key(imp.module) == "metrics" and layer_key(imp.target) != "metrics" else own
        if other > limit:
            problems.append(f"{imp} (layer {own} -> layer {other})")
    return problems


def tracker_violations(imports: list[Import]) -> list[str]:
    """Imports of ``trackers`` outside the commands that work on trackers directly."""
    return [str(imp) for imp in imports
            if (imp.target == "trackers" or imp.target.startswith("trackers.")) and not is_tracker_command(imp.module)]


def heavy_violations(imports: list[Import]) -> list[str]:
    """torch / cv2 imported at module level outside the modules that run trackers."""
    return [str(imp) for imp in imports
            if imp.top_level and imp.target.split(".")[0] in HEAVY and not runs_trackers(imp.module)]


def all_imports() -> list[Import]:
    """The imports of every module of evalkit."""
    return [imp for path in sorted(PACKAGE.rglob("*.py")) for imp in imports_of(path)]


def test_every_module_has_a_layer() -> None:
    """A new top-level module or package must be placed in a layer before the other checks can judge it."""
    unplaced = sorted({module_name(p) for p in PACKAGE.rglob("*.py") if layer_key(module_name(p)) not in LAYERS})
    assert not unplaced, f"modules without a layer (add them to LAYERS in {Path(__file__).name}): {unplaced}"


def test_imports_point_down_the_layers() -> None:
    """No module imports a higher layer; metrics imports only the bottom layer (arrays in, arrays out)."""
    problems = layer_violations(all_imports())
    assert not problems, "imports against the layers:\n  " + "\n  ".join(problems)


def test_only_tracker_commands_import_trackers() -> None:
    """evalkit finds trackers through evalkit.registry and entry points; harness and runner never import them."""
    problems = tracker_violations(all_imports())
    assert not problems, "imports of trackers/ from evalkit:\n  " + "\n  ".join(problems)


def test_torch_and_opencv_only_where_trackers_run() -> None:
    """Scoring, tables and reports work without torch and OpenCV: they are imported lazily elsewhere."""
    problems = heavy_violations(all_imports())
    assert not problems, "module-level torch / cv2 imports outside the running modules:\n  " + "\n  ".join(problems)


def _checked(source: str, name: str, tmp_path: Path) -> list[Import]:
    """The imports of ``source`` as if it were the evalkit module ``name`` (for the checks' own tests)."""
    path = tmp_path / "module.py"
    path.write_text(source, encoding="utf-8")
    return imports_of(path, name)


@pytest.mark.parametrize(("name", "source", "bad"), [
    ("evalkit.metrics.ope", "from evalkit.scoring import score_ope\n", True),
    ("evalkit.metrics.ope", "def f():\n    from evalkit.results import ResultSet\n", True),  # lazy still counts
    ("evalkit.metrics.ope", "from evalkit import geometry\n", False),
    ("evalkit.metrics.ope", "from . import vot\n", False),
    ("evalkit.metrics.ope", "from ..datasets import base\n", True),
    ("evalkit.geometry.region", "from evalkit.vot_codes import INIT\n", False),
    ("evalkit.datasets.otb", "from evalkit.harness import run_spec\n", True),
    ("evalkit.scoring.ope", "from evalkit.tables import ranked\n", True),
    ("evalkit.scoring_vot", "from evalkit.results import VotRun\n", False),
    ("evalkit.report.document", "from evalkit.scoring import score_suite\n", False),
    ("evalkit.cli.score", "from evalkit.runner import execute\n", False),
])
def test_layer_check_catches_upward_imports(name: str, source: str, bad: bool, tmp_path: Path) -> None:
    """The layer check names an import that points up, lazy or relative, and passes one that points down."""
    assert bool(layer_violations(_checked(source, name, tmp_path))) == bad


@pytest.mark.parametrize(("name", "source", "bad"), [
    ("evalkit.harness", "from trackers.base import Tracker\n", True),
    ("evalkit.runner", "def f():\n    import trackers.weights\n", True),
    ("evalkit.cli.train", "def f():\n    from trackers.training import Trainer\n", False),
    ("evalkit.cli.weights", "from trackers.weights import CATALOG\n", False),
    ("evalkit.cli.score", "from trackers import classic\n", True),
])
def test_tracker_check(name: str, source: str, bad: bool, tmp_path: Path) -> None:
    """Only the tracker commands may import trackers/."""
    assert bool(tracker_violations(_checked(source, name, tmp_path))) == bad


@pytest.mark.parametrize(("name", "source", "bad"), [
    ("evalkit.datasets.demo", "import cv2\n", True),
    ("evalkit.datasets.demo", "def f():\n    import cv2\n", False),
    ("evalkit.scoring", "import torch.nn\n", True),
    ("evalkit.report.pdf", "class A:\n    import cv2\n", True),  # a class body runs at import time
    ("evalkit.frames", "import cv2\n", False),
    ("evalkit.cli.complexity", "import torch\n", False),
    ("evalkit.cli.table", "import torch\n", True),
])
def test_heavy_import_check(name: str, source: str, bad: bool, tmp_path: Path) -> None:
    """torch / cv2 at import time are caught outside the running modules, and function-level imports pass."""
    assert bool(heavy_violations(_checked(source, name, tmp_path))) == bad
