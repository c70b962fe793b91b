"""One registry for everything evalkit looks up by name: suites, profiles, result layouts, later trackers and tables.

Each item is registered here, once, as a lazy ``"module:attribute"`` reference, so importing evalkit stays cheap
and a typo gets a "did you mean" answer:

    >>> SUITES.get("otb100")          # doctest: +SKIP
    >>> SUITES.get("otb10")           # doctest: +SKIP
    evalkit.errors.EvalkitError: unknown suite 'otb10'; did you mean 'otb100', 'otb50'?
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterator
from typing import Any

from evalkit.errors import EvalkitError


class Registry:
    """Name -> lazily imported object; duplicate names are rejected."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._targets: dict[str, str | Any] = {}

    def register(self, name: str, target: str | Any) -> None:
        """Register ``target`` (an object or a ``"module:attr"`` string) under ``name``."""
        key = name.lower()
        if key in self._targets:
            raise EvalkitError(f"{self.kind} {name!r} is registered twice")
        self._targets[key] = target

    def get(self, name: str) -> Any:
        """The object registered as ``name`` (case-insensitive), importing it on first use."""
        key = name.lower()
        if key not in self._targets:
            close = difflib.get_close_matches(key, self._targets, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise EvalkitError(f"unknown {self.kind} {name!r}{hint} (known: {', '.join(sorted(self._targets))})")
        target = self._targets[key]
        if isinstance(target, str):
            module, _, attr = target.partition(":")
            target = getattr(importlib.import_module(module), attr)
            self._targets[key] = target
        return target

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._targets)

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._targets

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def _suite_loader(module: str, func: str, suite: str) -> Callable[..., Any]:
    def load(root: Any) -> Any:
        return getattr(importlib.import_module(module), func)(suite, root)

    load.__doc__ = f"Load {suite} from a data root."
    load.module = module  # type: ignore[attr-defined]  # where the loader's LAYOUT (what a root holds) is
    return load


SUITES = Registry("suite")
for _name in ("otb2013", "otb50", "otb100"):
    SUITES.register(_name, _suite_loader("evalkit.datasets.otb", "load_otb", _name))
for _name in ("uav123", "uav20l"):
    SUITES.register(_name, _suite_loader("evalkit.datasets.uav", "load_uav", _name))
SUITES.register("tc128", _suite_loader("evalkit.datasets.tc128", "load_tc128", "tc128"))
SUITES.register("lasot", _suite_loader("evalkit.datasets.lasot", "load_lasot", "lasot"))
VOT_SUITES = ("vot2016", "vot2018", "vot2019")  # scored with the VOT protocols, not OPE/TRE/SRE
for _name in VOT_SUITES:
    SUITES.register(_name, _suite_loader("evalkit.datasets.vot", "load_vot", _name))
for _name in ("got10k-val", "got10k-test"):
    SUITES.register(_name, _suite_loader("evalkit.datasets.got10k", "load_got10k", _name))
SUITES.register("demo", _suite_loader("evalkit.datasets.demo", "load_demo", "demo"))
SUITES.register("nfs", _suite_loader("evalkit.datasets.nfs", "load_nfs", "nfs"))

PROTOCOLS = Registry("protocol")
for _name, _target in {
    "ope": "evalkit.protocols.ope:ope_runs",
    "tre": "evalkit.protocols.tre:tre_runs",
    "sre": "evalkit.protocols.sre:sre_runs",
    "vot-supervised": "evalkit.protocols.supervised:vot_supervised_runs",
    "vot-multistart": "evalkit.protocols.multistart:multistart_runs",
}.items():
    PROTOCOLS.register(_name, _target)

# Protocol -> scorer ``(suite, result_sets, ScoringOptions) -> Report`` (evalkit.scoring.base).
SCORERS = Registry("protocol scorer")
for _name, _target in {
    "ope": "evalkit.scoring.ope:score",
    "tre": "evalkit.scoring.ope:score_tre",
    "sre": "evalkit.scoring.ope:score_sre",
    "vot-supervised": "evalkit.scoring.vot:score",
    "vot-multistart": "evalkit.scoring.multistart:score",
    "got10k": "evalkit.scoring.got10k:score",
}.items():
    SCORERS.register(_name, _target)

PROFILES = Registry("profile")
for _name in ("otb-toolkit", "lasot-toolkit", "got10k", "pysot", "pytracking"):
    PROFILES.register(_name, f"evalkit.metrics.profiles:{_name.upper().replace('-', '_')}")

TRACKERS = Registry("tracker")
for _name, _target in {
    "kcf": "trackers.classic:KCF",
    "csrt": "trackers.classic:CSRT",
    "mosse": "trackers.classic:MOSSE",
    "mil": "trackers.classic:MIL",
    "medianflow": "trackers.classic:MedianFlow",
    "siamfc": "trackers.siamfc:SiamFC",
    "fdsiamfc30": "trackers.fdsiamfc:FDSiamFC30",
    "fdsiamfc15": "trackers.fdsiamfc:FDSiamFC15",
    "fdsiamd": "trackers.fdsiamfc:FDSiamd",
    "dcffnet": "trackers.dcffnet.tracker:DCFFNetTracker",  # ablation variants: --param dcffnet.variant=cf-1st ...
}.items():
    TRACKERS.register(_name, _target)

# Tracker name -> zero-argument factory of its trackers.training.TrainTask (``evalkit train --tracker NAME``).
TRAINING_TASKS = Registry("training task")
# Siamese trackers (issue 6); fdsiamfc30/15 distil a trained SiamFC teacher (also `evalkit compress`).
for _name, _target in {
    "siamfc": "trackers.siamfc.train:SiamFCTask",
    "fdsiamfc30": "trackers.fdsiamfc.train:FDSiamFC30Task",
    "fdsiamfc15": "trackers.fdsiamfc.train:FDSiamFC15Task",
    "dcffnet": "trackers.dcffnet.train:DCFFNetStage1Task",
    "dcffnet-stage2": "trackers.dcffnet.train:DCFFNetStage2Task",
    **{f"dcffnet-{_v}{_s}": f"trackers.dcffnet.train:{_v.replace('-', '')}_stage{_n}"
       for _v in ("baseline", "cf-1st", "cf-2nd") for _s, _n in (("", 1), ("-stage2", 2))},
}.items():
    TRAINING_TASKS.register(_name, _target)

# Correlation-filter trackers (issue 5): DCFNet and its paper variants, the raw-pixel DCF, CFNet.
for _name, _target in {
    "dcfnet": "trackers.dcfnet.tracker:DCFNet",
    "dcfnet-conv1": "trackers.dcfnet.tracker:DCFNetConv1",
    "dcfnet-conv2": "trackers.dcfnet.tracker:DCFNetConv2",
    "dcfnet-conv1-dilation": "trackers.dcfnet.tracker:DCFNetConv1Dilation",
    "dcfnet-1s": "trackers.dcfnet.tracker:DCFNet1s",
    "dcfnet-5s": "trackers.dcfnet.tracker:DCFNet5s",
    "dcfnet-7s": "trackers.dcfnet.tracker:DCFNet7s",
    "dcf-pixels": "trackers.dcfnet.tracker:DCFPixels",
}.items():
    TRACKERS.register(_name, _target)
for _name, _target in {
    "cfnet-conv1": "trackers.cfnet.tracker:CFNetConv1",
    "cfnet-conv2": "trackers.cfnet.tracker:CFNetConv2",
    "cfnet": "trackers.cfnet.tracker:CFNetConv2",  # alias: the paper's headline real-time variant
    "cfnet-conv5": "trackers.cfnet.tracker:CFNetConv5",
    "baseline-conv5": "trackers.cfnet.tracker:BaselineConv5",
    "baseline-cf-conv3": "trackers.cfnet.tracker:BaselineCFConv3",
    "cfnet-conv1-gray": "trackers.cfnet.tracker:CFNetConv1Gray",  # the authors' grey-input networks
    "cfnet-conv2-gray": "trackers.cfnet.tracker:CFNetConv2Gray",
    "baseline-cf-conv3-gray": "trackers.cfnet.tracker:BaselineCFConv3Gray",
}.items():
    TRACKERS.register(_name, _target)
for _name, _target in {
    "dcfnet": "trackers.dcfnet.training:dcfnet_task",
    "dcfnet-conv1": "trackers.dcfnet.training:dcfnet_conv1_task",
    "dcfnet-conv2": "trackers.dcfnet.training:dcfnet_conv2_task",
    "dcfnet-conv1-dilation": "trackers.dcfnet.training:dcfnet_conv1_dilation_task",
    "cfnet-conv1": "trackers.cfnet.training:cfnet_conv1_task",
    "cfnet-conv2": "trackers.cfnet.training:cfnet_conv2_task",
    "cfnet": "trackers.cfnet.training:cfnet_conv2_task",
    "cfnet-conv5": "trackers.cfnet.training:cfnet_conv5_task",
    "baseline-conv5": "trackers.cfnet.training:baseline_conv5_task",
    "baseline-cf-conv3": "trackers.cfnet.training:baseline_cf_conv3_task",
}.items():
    TRAINING_TASKS.register(_name, _target)

LAYOUTS = Registry("table layout")
for _name in ("cfnet-table1", "fdsiamfc-benchmarks", "fdsiamfc-compression", "dcfnet-table2", "dcffnet-ablation",
              "dcffnet-vot2018", "dcffnet-lasot", "ablation"):
    LAYOUTS.register(_name, f"evalkit.paper_tables.definitions:{_name.upper().replace('-', '_')}")

# Hooks through which evalkit asks the trackers package what only it knows, without importing it.
HOOKS = Registry("hook")
HOOKS.register("weights", "trackers.weights:weights_problem")  # (message, fix) or None: preflight's weights check

TRACKER_ENTRY_POINT_GROUP = "evalkit.trackers"
_entry_points_loaded = False


def _load_entry_points() -> None:
    """Register third-party trackers declared in the ``evalkit.trackers`` entry-point group (once)."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    from importlib.metadata import entry_points

    for ep in entry_points(group=TRACKER_ENTRY_POINT_GROUP):
        if ep.name.lower() in TRACKERS._targets and TRACKERS._targets[ep.name.lower()] != ep.value:
            dist = getattr(getattr(ep, "dist", None), "name", "an installed package")
            raise EvalkitError(f"{dist} declares tracker {ep.name!r} ({ep.value}) in the {TRACKER_ENTRY_POINT_GROUP!r} "
                               f"entry-point group, but that name is already registered; rename the plugin's entry")
        if ep.name.lower() not in TRACKERS._targets:
            TRACKERS.register(ep.name, ep.value)
    _entry_points_loaded = True


def load_tracker_module(spec: str) -> Any:
    """The tracker class named by ``path/to/file.py:ClassName`` (``--tracker-module``), imported from that file."""
    import importlib.util
    from pathlib import Path

    path_text, sep, cls_name = spec.rpartition(":")
    if not sep or not path_text.endswith(".py") or not cls_name:
        raise EvalkitError(f"--tracker-module expects path/to/file.py:ClassName, got {spec!r}")
    path = Path(path_text)
    if not path.is_file():
        raise EvalkitError(f"--tracker-module: {path} does not exist")
    module_name = f"evalkit_user_tracker_{abs(hash(str(path.resolve())))}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise EvalkitError(f"--tracker-module: cannot import {path}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    if not hasattr(module, cls_name):
        raise EvalkitError(f"--tracker-module: {path} defines no {cls_name!r}")
    return getattr(module, cls_name)


def tracker_class(name: str) -> Any:
    """The tracker class registered as ``name`` (built-in or entry point) or given as ``file.py:ClassName``."""
    if ".py:" in name:
        return load_tracker_module(name)
    _load_entry_points()
    return TRACKERS.get(name)
