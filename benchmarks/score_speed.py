"""Scoring speed of evalkit against the got10k package: six CFNet-release trackers on OTB-100, got10k profile.

    .venv/bin/python benchmarks/score_speed.py                 # best of 3
    .venv/bin/python benchmarks/score_speed.py --repeats 5 --cprofile

Timed (best of ``--repeats``, after imports):
- evalkit, full pipeline: ``load_suite`` (OTB toolkit ground truth) + ``discover_results`` (the released .mat files,
  20 TRE runs each) + ``score_ope``;
- evalkit, full pipeline reading the same text files got10k reads (``run.json`` beside them gives Tiger1's start frame);
- evalkit, ``score_ope`` alone (suite and results already loaded), for all six trackers and for one;
- got10k, ``ExperimentOTB.report`` on the rows evalkit scores, written once beforehand (untimed) as got10k result files
  (``%.17g``) with the aligned ground truth as ``<seq>/groundtruth_rect.txt``, read the way got10k's OTB dataset
  reads it (on every access, inside ``report``). Its ``plot_curves`` is replaced by a no-op, so evaluation is timed,
  not matplotlib; there are no images, so got10k's per-sequence image glob is not part of its time either.

Then checks that both give identical numbers (max abs difference of success / precision scores and curves).
Reference data: ``$EVALKIT_SHARED``, else ``<repository root>/../shared``.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

from evalkit.datasets import load_suite  # noqa: E402
from evalkit.datasets.base import Suite  # noqa: E402
from evalkit.metrics.profiles import Profile  # noqa: E402
from evalkit.registry import PROFILES  # noqa: E402
from evalkit.results import ResultSet, discover_results  # noqa: E402
from evalkit.scoring.ope import ScoreReport, align_run, score_ope  # noqa: E402

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parent.parent
ONE_TRACKER = "SiamFC-3s"
GOT10K_VERSION = "OTB2015"


def shared_dir() -> Path:
    """The reference-data folder: ``$EVALKIT_SHARED``, else ``<repository root>/../shared``."""
    env = os.environ.get("EVALKIT_SHARED")
    return Path(env).expanduser().resolve() if env else (REPO_ROOT.parent / "shared").resolve()


def best_of(repeats: int, fn: Callable[[], T]) -> tuple[float, T]:
    """Smallest wall time of ``repeats`` calls of ``fn`` (the least disturbed run), and the last result."""
    times = []
    result: T
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def evalkit_pipeline(gt_root: Path, results_root: Path, profile: Profile) -> ScoreReport:
    """What ``evalkit score`` does: load ground truth and raw results, then score every tracker."""
    return score_ope(load_suite("otb100", gt_root), discover_results(results_root), profile, resamples=0)


class AnnoFileDataset:
    """got10k OTB-dataset stand-in: reads ``<seq>/groundtruth_rect.txt`` on each access as got10k's OTB class does."""

    def __init__(self, root: Path, seq_names: Sequence[str], n_frames: Sequence[int]) -> None:
        self.seq_names = list(seq_names)
        self.anno_files = [str(root / name / "groundtruth_rect.txt") for name in self.seq_names]
        # no images: fixed dummy names, built once so they cost got10k's timed report nothing
        self._img_files = [[f"{name}/img/{i + 1:04d}.jpg" for i in range(n)]
                           for name, n in zip(self.seq_names, n_frames, strict=True)]

    def __len__(self) -> int:
        return len(self.seq_names)

    def __getitem__(self, index: int | str) -> tuple[list[str], NDArray[np.float64]]:
        if isinstance(index, str):
            index = self.seq_names.index(index)
        img_files = self._img_files[index]
        with open(self.anno_files[index]) as f:  # got10k.datasets.OTB.__getitem__, delimiters and all
            anno = np.loadtxt(io.StringIO(f.read().replace(",", " ")))
        assert len(img_files) == len(anno) and anno.shape[1] == 4
        return img_files, anno

    def __iter__(self) -> Iterator[tuple[list[str], NDArray[np.float64]]]:
        return (self[i] for i in range(len(self)))


def write_got10k_inputs(suite: Suite, result_sets: Sequence[ResultSet], profile: Profile, workdir: Path
                        ) -> AnnoFileDataset:
    """Write the aligned rows evalkit scores as got10k result files and ground-truth files; return the dataset."""
    offsets: dict[str, int] = {}
    for rs in result_sets:
        store = workdir / "results" / GOT10K_VERSION / rs.tracker
        store.mkdir(parents=True)
        starts = {}
        for seq in suite:
            boxes, offset = align_run(rs.runs_for(seq.name, seq.aliases)[0], seq,
                                      seq.first_start_index(profile.honour_init_omit))
            if offsets.setdefault(seq.name, offset) != offset:
                raise SystemExit(f"{rs.tracker} starts {seq.name} at another row; got10k needs one dataset per start")
            np.savetxt(store / f"{seq.name}.txt", boxes, fmt="%.17g", delimiter=",")
            starts[seq.name] = seq.frame_number(offset)
        # evalkit's own store marker, so evalkit can read these same text files (got10k ignores it)
        (store / "run.json").write_text(json.dumps({"tracker": rs.tracker, "start_frames": starts}))
    for seq in suite:
        gt_dir = workdir / "data" / seq.name
        gt_dir.mkdir(parents=True)
        np.savetxt(gt_dir / "groundtruth_rect.txt", seq.ground_truth[offsets[seq.name]:], fmt="%.17g", delimiter=",")
    return AnnoFileDataset(workdir / "data", [s.name for s in suite], [s.n_frames - offsets[s.name] for s in suite])


def got10k_experiment(dataset: AnnoFileDataset, workdir: Path) -> Any:
    """An ExperimentOTB over ``dataset`` and the written result files, with plotting switched off."""
    from got10k.experiments import ExperimentOTB

    experiment = object.__new__(ExperimentOTB)
    experiment.dataset = dataset
    experiment.result_dir = str(workdir / "results" / GOT10K_VERSION)
    experiment.report_dir = str(workdir / "reports" / GOT10K_VERSION)
    experiment.nbins_iou = 21
    experiment.nbins_ce = 51
    experiment.plot_curves = lambda tracker_names: None  # time the evaluation, not matplotlib
    return experiment


def quiet_report(experiment: Any, trackers: list[str]) -> dict[str, Any]:
    """got10k's ``report`` with its progress prints swallowed."""
    with contextlib.redirect_stdout(io.StringIO()):
        return experiment.report(trackers)


def max_differences(report: ScoreReport, performance: dict[str, Any]) -> dict[str, float]:
    """Largest absolute differences between evalkit's and got10k's scores and curves, over all trackers."""
    diffs = {"success score": 0.0, "precision score": 0.0, "per-sequence curves": 0.0}
    for name, theirs in performance.items():
        ours = report.trackers[name]
        diffs["success score"] = max(diffs["success score"],
                                     abs(ours.score.success_auc - theirs["overall"]["success_score"]))
        diffs["precision score"] = max(diffs["precision score"],
                                       abs(ours.score.precision_20 - theirs["overall"]["precision_score"]))
        for seq_name, counts in ours.per_sequence.items():
            seq_wise = theirs["seq_wise"][seq_name]
            for a, b in ((counts.success_curve(), seq_wise["success_curve"]),
                         (counts.precision_curve(), seq_wise["precision_curve"])):
                diffs["per-sequence curves"] = max(diffs["per-sequence curves"], float(np.max(np.abs(a - b))))
    return diffs


def print_profile(fn: Callable[[], object], title: str, limit: int) -> None:
    """cProfile ``fn`` once and print its top entries by cumulative and by own time."""
    profiler = cProfile.Profile()
    profiler.runcall(fn)
    print(f"\ncProfile of {title}:")
    for key in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(key).print_stats(limit)
        text = out.getvalue()
        print(text[text.index("   ncalls"):].rstrip() if "   ncalls" in text else text)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the timings and the equality check, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions per measurement (best is kept)")
    parser.add_argument("--cprofile", action="store_true", help="also print a cProfile of evalkit's full pipeline")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    shared = shared_dir()
    gt_root = shared / "data" / "otb100"
    results_root = shared / "data" / "results" / "otb100_cfnet_release"
    if not gt_root.is_dir() or not results_root.is_dir():
        print(f"reference data not found under {shared} (set EVALKIT_SHARED)", file=sys.stderr)
        return 2
    try:
        import got10k.experiments  # noqa: F401
    except ImportError as exc:
        print(f"the got10k package cannot be imported ({exc}); install it with: make install-test", file=sys.stderr)
        return 2
    profile = PROFILES.get("got10k")
    suite = load_suite("otb100", gt_root)
    result_sets = discover_results(results_root)
    trackers = [rs.tracker for rs in result_sets]

    with tempfile.TemporaryDirectory(prefix="evalkit-bench-") as tmp:
        workdir = Path(tmp)
        dataset = write_got10k_inputs(suite, result_sets, profile, workdir)  # untimed preparation
        text_root = workdir / "results" / GOT10K_VERSION
        experiment = got10k_experiment(dataset, workdir)
        one = [rs for rs in result_sets if rs.tracker == ONE_TRACKER]

        t_full, report = best_of(args.repeats, lambda: evalkit_pipeline(gt_root, results_root, profile))
        t_text, report_text = best_of(args.repeats, lambda: evalkit_pipeline(gt_root, text_root, profile))
        t_load_gt, _ = best_of(args.repeats, lambda: load_suite("otb100", gt_root))
        t_load_mat, _ = best_of(args.repeats, lambda: discover_results(results_root))
        t_load_text, _ = best_of(args.repeats, lambda: discover_results(text_root))
        t_score, _ = best_of(args.repeats, lambda: score_ope(suite, result_sets, profile, resamples=0))
        t_one, _ = best_of(args.repeats, lambda: score_ope(suite, one, profile, resamples=0))
        t_got, performance = best_of(args.repeats, lambda: quiet_report(experiment, trackers))
        t_got_one, _ = best_of(args.repeats, lambda: quiet_report(experiment, [ONE_TRACKER]))

        print(f"OTB-100 ({len(suite)} sequences), {len(trackers)} trackers ({', '.join(trackers)}), "
              f"profile got10k; best of {args.repeats}; imports not timed")
        print("got10k: ExperimentOTB.report with plot_curves replaced by a no-op (evaluation only, no plotting)")
        print("evalkit: score_ope with resamples=0 (no bootstrap intervals, which got10k does not compute)\n")
        rows: list[tuple[str, float, float | None]] = [  # label, seconds, got10k seconds to compare with
            ("evalkit full pipeline (.mat results): load_suite + discover_results + score_ope", t_full, t_got),
            ("evalkit full pipeline (got10k's text files): load_suite + discover_results + score_ope", t_text, t_got),
            ("evalkit score_ope only (suite and results loaded)", t_score, t_got),
            ("got10k ExperimentOTB.report (text files, no plots)", t_got, None),
            (f"evalkit score_ope only, one tracker ({ONE_TRACKER})", t_one, t_got_one),
            (f"got10k ExperimentOTB.report, one tracker ({ONE_TRACKER})", t_got_one, None),
        ]
        width = max(len(r[0]) for r in rows)
        print(f"{'pipeline':<{width}}  {'seconds':>8}  {'got10k/evalkit':>14}")
        for label, seconds, reference in rows:
            ratio = "" if reference is None else f"{reference / seconds:.2f}x"
            print(f"{label:<{width}}  {seconds:8.3f}  {ratio:>14}")

        print(f"\nevalkit pipeline parts: load_suite {t_load_gt:.3f} s, discover_results {t_load_mat:.3f} s (.mat) / "
              f"{t_load_text:.3f} s (text), score_ope {t_score:.3f} s")
        diffs = max_differences(report, performance)
        text_diffs = max_differences(report_text, performance)
        identical = all(v == 0.0 for v in (*diffs.values(), *text_diffs.values()))
        print("numbers identical to got10k: " + ("yes" if identical else "NO") + " (max abs difference over "
              "trackers: " + ", ".join(f"{k} {v:.3g}" for k, v in diffs.items()) + "; from the text files: "
              + ", ".join(f"{k} {v:.3g}" for k, v in text_diffs.items()) + ")")
        print(f"evalkit scoring one tracker on OTB-100: {t_one:.3f} s (target: well under 1 s)")
        print(f"evalkit speed-up over got10k (target >= 10x): full pipeline {t_got / t_full:.2f}x, "
              f"from the same text files {t_got / t_text:.2f}x, scoring only {t_got / t_score:.2f}x, "
              f"scoring one tracker {t_got_one / t_one:.2f}x")

        if args.cprofile:
            print_profile(lambda: evalkit_pipeline(gt_root, results_root, profile),
                          "evalkit full pipeline (.mat results)", 25)
            print_profile(lambda: score_ope(suite, result_sets, profile, resamples=0), "evalkit score_ope only", 25)
            print_profile(lambda: quiet_report(experiment, trackers), "got10k report", 15)
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
