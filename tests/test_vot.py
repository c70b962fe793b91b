"""VOT supervised (VOT2016-2019 "baseline") evaluation: loader, result import, overlap, A / R / EAO, conventions.

- Reproduction: the published VOT2018 EAO of LightTrack and NanoTrack (parsed from the results' PROVENANCE.md) from
  their raw baseline results and the pysot json ground truth in ../shared, to +-0.001.
- Hand-computed cases for the raster overlap, burn-in, failures, the EAO curve, per-tag numbers and the MATLAB vs
  pysot conventions; the arithmetic is in the comments.
"""

from __future__ import annotations

import functools
import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import require_module, write_run, write_vot_layout

from evalkit.datasets import load_suite
from evalkit.datasets.base import Suite
from evalkit.errors import EvalkitError, PartialSuiteError
from evalkit.geometry.region import VotCode, region_overlap
from evalkit.metrics.vot import SupervisedRules, aggregate, burn_in_mask, evaluate_sequence, fragment_starts
from evalkit.results import ResultSet, discover_results
from evalkit.scoring.vot import VotReport, score_vot

NAN4 = [np.nan] * 4
REGION, SKIPPED, INIT, FAILURE = VotCode.REGION, VotCode.SKIPPED, VotCode.INIT, VotCode.FAILURE


def rect(x: float, y: float, w: float, h: float) -> list[float]:
    """A rectangle as an N x 8 region row (x,y,w,h padded with NaN)."""
    return [x, y, w, h, *NAN4]


# ---------------------------------------------------------------- reproduction on the real VOT2018 results


def published_eao(shared: Path) -> dict[str, float]:
    """Tracker -> EAO from the 'Published VOT2018 EAO' line of the results' PROVENANCE.md."""
    text = (shared / "data" / "results" / "vot2018" / "PROVENANCE.md").read_text()
    line = next(ln for ln in text.splitlines() if ln.startswith("Published VOT2018 EAO"))
    found = dict(re.findall(r"(\w+) (\d\.\d+)", line.split(":", 1)[1]))
    return {k: float(v) for k, v in found.items()}


@functools.cache
def _vot2018(shared: Path) -> Suite:
    return load_suite("vot2018", shared / "data" / "vot2018")


@functools.cache
def _vot2018_results(shared: Path) -> tuple[ResultSet, ...]:
    return tuple(discover_results(shared / "data" / "results" / "vot2018"))


@functools.cache
def _scored(shared: Path, convention: str) -> tuple[VotReport, float]:
    t0 = time.perf_counter()
    report = score_vot(_vot2018(shared), _vot2018_results(shared), convention=convention)  # type: ignore[arg-type]
    return report, time.perf_counter() - t0


def test_vot2018_published_eao(shared_dir: Path) -> None:
    """LightTrack 0.418 and NanoTrack 0.311 (NanoTrack README) from the raw results, default (MATLAB) convention."""
    published = published_eao(shared_dir)
    assert set(published) == {"LightTrack", "NanoTrack"}
    report, seconds = _scored(shared_dir, "matlab")
    assert report.interval == (100, 356) and not report.partial
    for name, eao in published.items():
        t = report.trackers[name]
        s = t.score
        print(f"{name}: EAO {s.eao:.4f} (published {eao}), A {s.accuracy:.4f}, R {s.robustness:.4f} failures/seq, "
              f"{s.failures:g} failures, {s.failures_per_100:.3f} per 100 frames; scored in {seconds:.1f} s")
        assert t.complete and not t.problems
        assert s.n_sequences == 60 and s.n_frames == 21356
        assert s.eao == pytest.approx(eao, abs=0.001), name


def test_vot2018_accuracy_and_failures_are_plausible(shared_dir: Path) -> None:
    """Failures equal the '2' lines of the files; accuracy is near the continuous polygon IoU of the same frames."""
    shapely = require_module("shapely")
    report, _ = _scored(shared_dir, "matlab")
    suite = _vot2018(shared_dir)
    for rs in _vot2018_results(shared_dir):
        s = report.trackers[rs.tracker].score
        files = [p for p in (rs.source / "baseline").glob("*/*_001.txt")]
        twos = sum(ln.strip() == "2" for p in files for ln in p.read_text().splitlines())
        assert len(files) == 60 and s.failures == twos
        assert s.robustness == pytest.approx(twos / 60)
        assert s.failures_per_100 == pytest.approx(100 * twos / 21356)
        ious, raster = [], []
        for seq in suite:
            run = rs.vot_runs_for(seq.name)[0]  # type: ignore[index]
            scored = (run.codes == VotCode.REGION) & ~burn_in_mask(run.codes, 10)[0]
            a = shapely.make_valid(shapely.polygons(_quads(run.regions[scored])))
            b = shapely.make_valid(shapely.polygons(_quads(seq.regions[scored])))  # type: ignore[index]
            ious.append(shapely.area(shapely.intersection(a, b)) / shapely.area(shapely.union(a, b)))
            raster.append(region_overlap(run.regions[scored], seq.regions[scored], seq.image_size))  # type: ignore
        assert 0.45 < s.accuracy < 0.65
        assert s.accuracy == pytest.approx(np.nanmean(np.concatenate(raster)))
        # the raster is pixel-inclusive and clipped: about 0.001-0.004 above the continuous IoU, never far from it
        assert abs(s.accuracy - np.mean(np.concatenate(ious))) < 0.01


def _quads(regions: np.ndarray) -> np.ndarray:
    """N x 4 x 2 vertex arrays of N x 8 regions (rectangles expanded), for shapely."""
    out = np.array(regions, dtype=np.float64)
    r = np.isnan(out[:, 4])
    x, y, w, h = (out[r, k].copy() for k in range(4))
    out[r] = np.stack([x, y, x + w, y, x + w, y + h, x, y + h], axis=1)
    return out.reshape(-1, 4, 2)


def test_vot2018_conventions_agree_on_single_runs(shared_dir: Path) -> None:
    """With one repetition per sequence and no failure exactly 5 frames before an end, pysot's EAO port gives the
    MATLAB numbers (its weight and restart rules only differ elsewhere: see the synthetic cases below)."""
    matlab, _ = _scored(shared_dir, "matlab")
    pysot, _ = _scored(shared_dir, "pysot")
    for name in matlab.trackers:
        assert pysot.trackers[name].score.eao == pytest.approx(matlab.trackers[name].score.eao, abs=1e-12)
        assert pysot.trackers[name].score.accuracy == matlab.trackers[name].score.accuracy


def test_vot2018_json_and_report_objects(shared_dir: Path) -> None:
    """as_json() has exactly the documented fields; the curve and per-tag numbers are on the report object."""
    report, _ = _scored(shared_dir, "matlab")
    out = report.as_json()
    assert set(out) == {"suite", "protocol", "partial", "trackers"}
    assert out["suite"] == "vot2018" and out["protocol"] == "vot-supervised" and out["partial"] is False
    for fields in out["trackers"].values():  # type: ignore[union-attr]
        assert set(fields) == {"eao", "accuracy", "robustness", "failures", "failures_per_100", "n_sequences",
                               "complete"}
        assert fields["n_sequences"] == 60 and fields["complete"] is True
        assert isinstance(fields["failures"], int)
    json.dumps(out)
    t = report.trackers["LightTrack"]
    curve = t.eao_curve
    assert len(curve) == 1500 and curve[0] == 1.0  # Phi(1) = 1; index N - 1
    assert t.score.eao == pytest.approx(float(np.nanmean(curve[99:356])))
    suite = _vot2018(shared_dir)
    for tag, score in t.score.tags.items():
        if tag != "empty":
            assert score.n_frames == sum(int(seq.tags[tag].sum()) for seq in suite)
        assert 0.0 <= score.accuracy <= 1.0 and 0.0 <= score.eao <= 1.0
    assert set(t.score.tags) == {"camera_motion", "illum_change", "motion_change", "size_change", "occlusion",
                                 "empty"}
    assert sum(s.failures for s in t.per_sequence.values()) == t.score.failures


# ---------------------------------------------------------------- overlap, by hand


def test_overlap_boxes_are_pixel_inclusive() -> None:
    """x,y,w,h = 0,0,10,10 fills columns and rows 0..10 (11 x 11 = 121 pixels); shifted by 5: 6 x 11 = 66 shared,
    union 121 + 121 - 66 = 176, overlap 66 / 176 = 0.375 (the continuous IoU would be 50 / 150)."""
    a = np.array([rect(0, 0, 10, 10)] * 2)
    b = np.array([rect(0, 0, 10, 10), rect(5, 0, 10, 10)])
    assert region_overlap(a, b, (100, 100)).tolist() == [1.0, 0.375]


def test_overlap_polygon_vs_box() -> None:
    """The diamond (5,0), (10,5), (5,10), (0,5) fills rows 1..9 with 3, 5, 7, 9, 11, 9, 7, 5, 3 pixels (row 1
    crosses at x = 4 and 6; rows 0 and 10 meet only the apex, whose two equal crossings are skipped): 59 pixels,
    all inside the box 0,0,10,10 (121 pixels): overlap 59 / 121. The same box given as a polygon scores 1."""
    diamond = [5, 0, 10, 5, 5, 10, 0, 5]
    square = [0, 0, 10, 0, 10, 10, 0, 10]
    got = region_overlap(np.array([diamond, square]), np.array([rect(0, 0, 10, 10)] * 2), (100, 100))
    assert got[0] == pytest.approx(59 / 121, abs=1e-7)
    assert got[1] == 1.0


def test_overlap_clipped_at_image_bounds() -> None:
    """Boxes x 90..110 and 95..115 (rows 0..10) in a 100-pixel-wide image.

    Accuracy bounds [W, H] = [100, 100] keep columns up to 100: 11 and 6 columns, 6 shared: 66 / 121 = 6 / 11.
    EAO bounds [W - 1, H - 1] keep columns up to 99: 10 and 5 columns: 5 / 10. Unbounded: 21 and 21 columns,
    16 shared: 16 / 26.
    """
    a, b = np.array([rect(90, 0, 20, 10)]), np.array([rect(95, 0, 20, 10)])
    assert region_overlap(a, b, (100, 100))[0] == pytest.approx(6 / 11, abs=1e-7)
    assert region_overlap(a, b, (99, 99))[0] == pytest.approx(0.5)
    assert region_overlap(a, b, None)[0] == pytest.approx(16 / 26, abs=1e-7)


def test_overlap_disjoint_touching_outside_and_special() -> None:
    """Disjoint: 0. Touching (rounded bounds share only the line x = 10): 0, the toolkit's bounds short cut, although
    both rasters hold column 10. Entirely outside the image: 0. A special frame (NaN region): NaN."""
    a = np.array([rect(0, 0, 10, 10)] * 4)
    b = np.array([rect(20, 0, 10, 10), rect(10, 0, 10, 10), rect(200, 200, 10, 10), [np.nan] * 8])
    got = region_overlap(a, b, (100, 100))
    assert got[:3].tolist() == [0.0, 0.0, 0.0] and np.isnan(got[3])


def test_overlap_rounds_half_away_from_zero() -> None:
    """Vertices are rounded half away from zero (C round), not to even: 0.5,0.5,9,9 spans 0.5..9.5 -> pixels 1..10
    (10 x 10), overlapping 0,0,10,10 (pixels 0..10) in 100 of 121 pixels."""
    got = region_overlap(np.array([rect(0.5, 0.5, 9, 9)]), np.array([rect(0, 0, 10, 10)]), (100, 100))
    assert got[0] == pytest.approx(100 / 121, abs=1e-7)


# ---------------------------------------------------------------- accuracy, failures, EAO, by hand


def test_burn_in_mask_covers_init_and_next_frames() -> None:
    """Burn-in 3: the initialisation frame and the 2 after it."""
    codes = np.array([INIT, REGION, REGION, REGION, FAILURE, SKIPPED, INIT, REGION, REGION, REGION])
    assert burn_in_mask(codes, 3)[0].astype(int).tolist() == [1, 1, 1, 0, 0, 0, 1, 1, 1, 0]


def test_accuracy_with_burn_in_and_failures() -> None:
    """20 frames: init at 0, regions 1..11, failure at 12, skipped 13..16, re-init at 17, regions 18, 19.
    Overlap of frame i = i / 100. Burn-in 10 leaves out frames 0..9 and 17..26: only frames 10 and 11 count,
    accuracy (0.10 + 0.11) / 2 = 0.105; one failure."""
    codes = [INIT] + [REGION] * 11 + [FAILURE] + [SKIPPED] * 4 + [INIT, REGION, REGION]
    overlaps = np.arange(20) / 100
    seq = evaluate_sequence("s", [codes], [overlaps], [overlaps])
    assert seq.accuracy == pytest.approx(0.105) and seq.overlap_frames == 2
    assert seq.failures == 1


def test_failures_are_averaged_over_repetitions() -> None:
    """Repetitions with 1 and 2 failures: 1.5 per sequence; the per-frame accuracy is the mean over repetitions."""
    one = [INIT] + [REGION] * 11 + [FAILURE] + [SKIPPED] * 4 + [INIT] + [REGION] * 2
    two = [INIT] + [REGION] * 10 + [FAILURE, FAILURE] + [SKIPPED] * 4 + [INIT] + [REGION] * 2
    ov = np.full((2, 20), 0.5)
    ov[0, 10] = 0.7  # frame 10: repetitions 0.7 and 0.5 -> 0.6; frame 11 only in the first: 0.5
    seq = evaluate_sequence("s", [one, two], ov, ov)
    assert seq.failures == 1.5
    assert seq.accuracy == pytest.approx((0.6 + 0.5) / 2)
    score = aggregate([seq], (2, 5), rules=SupervisedRules())
    assert score.failures == 1.5 and score.robustness == 1.5 and score.failures_per_100 == pytest.approx(7.5)


def _eao_case() -> list:
    """Sequence A (6 frames): no failure, overlaps 0.5 after the init frame. Sequence B (8 frames): init, one frame
    at 1.0, failure at frame 2, skipped 3..6, re-init at frame 7 (2 + 5)."""
    a = evaluate_sequence("A", [[INIT] + [REGION] * 5], [[np.nan] + [0.5] * 5], [[np.nan] + [0.5] * 5])
    codes_b = [INIT, REGION, FAILURE] + [SKIPPED] * 4 + [INIT]
    ov_b = [np.nan, 1.0] + [np.nan] * 6
    b = evaluate_sequence("B", [codes_b], [ov_b], [ov_b])
    return [a, b]


def test_eao_by_hand() -> None:
    """Fragments (length 8, the longest sequence): A = [-, .5, .5, .5, .5, .5] then unknown; B1 (failed) = frames
    0..7 as [0, 1, 0, 0, 0, 0, 0, 0] then zeros; B2 = the re-init frame alone, then unknown (never counted).
    Phi(N) = mean over fragments known at N of the mean of their frames 2..N:
      Phi(2) = (0.5 + 1) / 2 = 0.75;  Phi(3) = (0.5 + 1/2) / 2 = 0.5;  Phi(4) = (0.5 + 1/3) / 2 = 5/12;
      Phi(5) = (0.5 + 1/4) / 2 = 0.375;  Phi(6) = (0.5 + 1/5) / 2 = 0.35;  Phi(7) = 1/6 (A is over);  Phi(8) = 1/7.
    EAO over [2, 5] = (0.75 + 0.5 + 5/12 + 0.375) / 4 = 0.5104166...
    """
    score = aggregate(_eao_case(), (2, 5))
    expected_curve = [1, 0.75, 0.5, 5 / 12, 0.375, 0.35, 1 / 6, 1 / 7]
    assert score.eao_curve.tolist() == pytest.approx(expected_curve)
    assert score.eao == pytest.approx((0.75 + 0.5 + 5 / 12 + 0.375) / 4)
    assert score.failures == 1 and score.n_frames == 14
    # accuracy: burn-in 10 hides every frame of both (no frame 10 frames past an init): nothing scored
    assert np.isnan(score.accuracy)


def test_pysot_convention_weighs_fragments_not_sequences() -> None:
    """B run twice (identical). MATLAB weighs each of B's fragments 1/2 (sequences weigh equally): the curve is
    unchanged, Phi(2) = 0.75. pysot weighs every fragment 1: Phi(2) = (0.5 + 1 + 1) / 3 = 5/6, and
    EAO [2, 5] = (5/6 + (0.5 + 2 * 1/2) / 3 + (0.5 + 2/3) / 3 + (0.5 + 2/4) / 3) / 4."""
    a, _ = _eao_case()
    codes_b = [INIT, REGION, FAILURE] + [SKIPPED] * 4 + [INIT]
    ov_b = [np.nan, 1.0] + [np.nan] * 6
    b2 = evaluate_sequence("B", [codes_b, codes_b], [ov_b, ov_b], [ov_b, ov_b])
    matlab = aggregate([a, b2], (2, 5), rules=SupervisedRules(convention="matlab"))
    pysot = aggregate([a, b2], (2, 5), rules=SupervisedRules(convention="pysot"))
    assert matlab.eao_curve[1] == pytest.approx(0.75)
    assert matlab.eao == pytest.approx(aggregate(_eao_case(), (2, 5)).eao)
    assert pysot.eao_curve[1] == pytest.approx(5 / 6)
    assert pysot.eao == pytest.approx((5 / 6 + 1.5 / 3 + (0.5 + 2 / 3) / 3 + 1.0 / 3) / 4)


def test_pysot_convention_restarts_one_frame_later() -> None:
    """7 frames, failure at frame 2: the re-init would be at 2 + 5 = 7, past the last frame (6). MATLAB keeps
    restarts <= n - 1, so the run is one fragment that did not end in a failure: known to N = 7, unknown after.
    pysot keeps restarts <= n, so the fragment ends in the failure and is zero-padded: known at every N.
    Overlaps [-, 1, 0, 0, 0, 0, 0] (the failure and skipped frames count 0): Phi(N) = 1 / (N - 1) where known.
    Longest sequence 10, EAO over [2, 10]: MATLAB (1 + 1/2 + ... + 1/6) / 6 (N = 8..10 undefined, left out);
    pysot (1 + 1/2 + ... + 1/9) / 9."""
    codes = [INIT, REGION, FAILURE] + [SKIPPED] * 4
    ov = [np.nan, 1.0] + [np.nan] * 5
    assert fragment_starts(np.array(codes), SupervisedRules())[0].tolist() == [0]
    assert fragment_starts(np.array(codes), SupervisedRules(convention="pysot"))[0].tolist() == [0, 7]
    results = {}
    for convention in ("matlab", "pysot"):
        rules = SupervisedRules(convention=convention)  # type: ignore[arg-type]
        seq = evaluate_sequence("C", [codes], [ov], [ov], rules=rules)
        results[convention] = aggregate([seq], (2, 10), length=10, rules=rules)
    harmonic = np.cumsum(1 / np.arange(1, 10))
    assert results["matlab"].eao == pytest.approx(harmonic[5] / 6)
    assert np.isnan(results["matlab"].eao_curve[7:]).all()
    assert results["pysot"].eao == pytest.approx(harmonic[8] / 9)


def test_pysot_convention_counts_unknown_lengths_as_zero() -> None:
    """One 3-frame run without failure, overlaps 0.6, longest sequence 5: Phi(2) = Phi(3) = 0.6 and no fragment is
    known at N = 4, 5. MATLAB leaves those out: EAO [2, 5] = 0.6; pysot counts them as 0: (0.6 + 0.6) / 4 = 0.3."""
    seq = evaluate_sequence("D", [[INIT, REGION, REGION]], [[np.nan, 0.6, 0.6]], [[np.nan, 0.6, 0.6]])
    assert aggregate([seq], (2, 5), length=5).eao == pytest.approx(0.6)
    assert aggregate([seq], (2, 5), length=5, rules=SupervisedRules(convention="pysot")).eao == pytest.approx(0.3)


def test_per_tag_accuracy_counts_burn_in_in_tagged_frames() -> None:
    """14 frames, init at 0, overlap of frame i = i / 100, occlusion on frames 3, 12, 13, a failure at frame 12.
    The MATLAB toolkit keeps the tagged frames first, then applies the burn-in: no initialisation among them, so
    frames 3 and 13 count (12 is the failure): (0.03 + 0.13) / 2 = 0.08; 1 failure in 3 tagged frames. (Without
    tags the burn-in hides frames 0..9: accuracy over 10, 11, 13.) 'empty' = the 11 frames with no tag."""
    codes = [INIT] + [REGION] * 11 + [FAILURE, REGION]
    ov = np.arange(14) / 100
    occlusion = np.zeros(14, dtype=bool)
    occlusion[[3, 12, 13]] = True
    seq = evaluate_sequence("s", [codes], [ov], [ov], tags={"occlusion": occlusion})
    tag = seq.tags["occlusion"]
    assert tag.overlap_sum / tag.overlap_frames == pytest.approx(0.08)
    assert tag.failures == 1 and tag.n_frames == 3
    assert seq.accuracy == pytest.approx((0.10 + 0.11 + 0.13) / 3)
    empty = seq.tags["empty"]
    assert empty.n_frames == 11 and empty.failures == 0
    score = aggregate([seq], (2, 5))
    assert score.tags["occlusion"].accuracy == pytest.approx(0.08)
    assert score.tags["occlusion"].failures_per_100 == pytest.approx(100 / 3)


def test_rules_are_checked() -> None:
    """Unknown conventions and impossible parameters are refused."""
    with pytest.raises(ValueError, match="convention"):
        SupervisedRules(convention="vot-toolkit")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        SupervisedRules(skip_after_failure=0)


# ---------------------------------------------------------------- scoring with problems in the input


def test_bad_result_file_is_reported_and_the_rest_scored(tmp_path: Path) -> None:
    """Tracker folder with baseline/: ants1's file has a bad line 2, bag's is fine. discover_results finds the
    tracker under a results root; scoring names ants1's file and line, leaves ants1 unscored and scores bag."""
    data = tmp_path / "vot2018"
    write_vot_layout(data)
    suite = load_suite("vot2018", data).subset(["ants1", "bag"])
    base = tmp_path / "results" / "MyTracker" / "baseline"
    bad = write_run(base / "ants1" / "ants1_001.txt", ["1", "10,10,20", "10,10,20,10"])
    write_run(base / "bag" / "bag_001.txt", ["1", "2,3,4,5"])
    write_run(base / "bag" / "bag_002.txt", ["1", "2,3,4,5"])
    write_run(base / "bag" / "bag_time.txt", ["0.01", "0.01"])  # not a run
    sets = discover_results(tmp_path / "results")
    assert [s.tracker for s in sets] == ["MyTracker"]
    rs = sets[0]
    assert not rs.runs and len(rs.vot_runs_for("bag") or []) == 2
    assert [(p.path, p.line) for p in rs.problems] == [(bad, 2)]
    with pytest.raises(PartialSuiteError):
        score_vot(suite, sets)
    report = score_vot(suite, sets, interval=(2, 2), allow_partial=True)
    t = report.trackers["MyTracker"]
    assert report.partial and report.as_json()["partial"] is True
    assert t.unscored == ["ants1"] and list(t.per_sequence) == ["bag"]
    assert any(p.path == bad and p.line == 2 for p in t.problems)
    # bag: the region 2,3,4,5 against the ground truth 2,3,4,5 -> overlap 1 (burn-in hides it from accuracy)
    assert t.eao_curve[1] == 1.0 and t.score.failures == 0


def test_run_of_wrong_length_is_a_problem(tmp_path: Path) -> None:
    """A run with fewer lines than frames is reported (file, first missing line) and left out."""
    data = tmp_path / "vot2018"
    write_vot_layout(data)
    suite = load_suite("vot2018", data).subset(["bag"])
    short = write_run(tmp_path / "r" / "T" / "baseline" / "bag" / "bag_001.txt", ["1"])
    report = score_vot(suite, discover_results(tmp_path / "r"), interval=(2, 2), allow_partial=True)
    t = report.trackers["T"]
    assert t.unscored == ["bag"] and (short, 2) in [(p.path, p.line) for p in t.problems]


def test_non_vot_suite_is_refused(shared_dir: Path) -> None:
    """The supervised experiment is scored on VOT suites only."""
    suite = load_suite("otb100", shared_dir / "data" / "otb100")
    with pytest.raises(EvalkitError, match="not a VOT suite"):
        score_vot(suite, [])
