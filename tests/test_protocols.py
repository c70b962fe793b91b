"""Protocols: OPE / TRE / SRE run specs against the OTB toolkit's rules and the real CFNet release, VOT run specs.

- TRE: the start frames of all 20 runs of every OTB-100 sequence equal the ``startFrame`` stored in the CFNet
  release's .mat files (six trackers), and each stored run's first box is the spec's initial box.
- TRE edge cases by hand: initOmit at the start (Tiger1), short sequences (fewer than 19 candidates, exactly 20
  frames, too short), invalid boxes removed from the candidates, the exact step when E is a multiple of 19.
- SRE: the 12 shiftInitBB boxes computed by hand, MATLAB rounding of halves, clipping at the image border.
- OPE start, VOT-supervised repetitions, multistart anchors and directions, the PROTOCOLS registry.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from evalkit.datasets import Suite, load_suite
from evalkit.datasets.base import Sequence
from evalkit.errors import EvalkitError, InputFileError
from evalkit.protocols import (
    SRE_SHIFTS,
    RunSpec,
    anchors_every,
    anchors_from_values,
    expand,
    multistart_runs,
    ope_runs,
    read_anchor_values,
    shift_initial_box,
    sre_runs,
    tre_runs,
    tre_start_indices,
    vot_supervised_runs,
)
from evalkit.protocols.sre import matlab_round
from evalkit.registry import PROTOCOLS
from evalkit.results import ResultSet, discover_results


def synthetic(n: int, init_omit: tuple[tuple[int, int], ...] = (), invalid: tuple[int, ...] = (),
              start_frame: int = 1) -> Sequence:
    """A sequence of n frames with boxes (10 + row, 20, 30, 40); ``invalid`` rows get NaN."""
    gt = np.tile([10.0, 20.0, 30.0, 40.0], (n, 1))
    gt[:, 0] += np.arange(n)
    gt[list(invalid)] = np.nan
    return Sequence("synthetic", gt, start_frame=start_frame, init_omit=init_omit)


@cache
def _otb100(shared: Path) -> Suite:
    return load_suite("otb100", shared / "data" / "otb100")


@cache
def _cfnet_release(shared: Path) -> list[ResultSet]:
    return discover_results(shared / "data" / "results" / "otb100_cfnet_release")


# --- TRE against the real release ---------------------------------------------------------------------------------

def test_tre_start_frames_equal_the_cfnet_release_for_all_100_sequences(shared_dir: Path) -> None:
    suite = _otb100(shared_dir)
    sets = _cfnet_release(shared_dir)
    assert len(suite) == 100 and not suite.missing
    assert len(sets) == 6
    disagreements = []
    for seq in suite:
        specs = tre_runs(seq)
        mine = [s.start_frame for s in specs]
        assert len(specs) == 20, seq.name
        for rs in sets:
            runs = rs.runs_for(seq.name, seq.aliases)
            assert runs is not None, f"{rs.tracker} has no {seq.name}"
            stored = [r.start_frame for r in runs]
            if stored != mine:
                disagreements.append(f"{rs.tracker}/{seq.name}: stored {stored}, evalkit {mine}")
                continue
            for spec, run in zip(specs, runs, strict=True):  # each run goes to the end, from the spec's box
                assert len(run.boxes) == seq.n_frames - spec.start, (rs.tracker, seq.name, spec.label)
                np.testing.assert_allclose(run.boxes[0], spec.init_box, err_msg=f"{rs.tracker} {spec.label}")
    assert not disagreements, "\n".join(disagreements[:10])


def test_tre_tiger1_respects_init_omit_at_the_start(shared_dir: Path) -> None:
    tiger1 = _otb100(shared_dir)["Tiger1"]
    starts = [s.start_frame for s in tre_runs(tiger1)]
    # initOmit 1-5 (and 14 more ranges): the first segment starts at frame 6, none starts inside an omitted range
    assert starts[0] == 6
    assert all(not lo <= f <= hi for f in starts for lo, hi in tiger1.init_omit)
    assert ope_runs(tiger1)[0].start_frame == 6


def test_tre_david_counts_frames_from_its_start_frame(shared_dir: Path) -> None:
    david = _otb100(shared_dir)["David"]  # annotated frames 300..770, row 0 = frame 300
    specs = tre_runs(david)
    assert specs[0].start == 0 and specs[0].start_frame == 300
    assert all(s.start_frame == 300 + s.start for s in specs)
    assert specs[-1].start_frame == 770 - 20 + 1  # the last start with 20 frames to the end (751..770)


# --- TRE edge cases by hand ---------------------------------------------------------------------------------------

def test_tre_exact_step_when_e_is_a_multiple_of_19() -> None:
    # 57 frames, all valid: the last start with >= 20 frames to the end is row 37 (57 - 37 = 20), so E = 38.
    # Step E/19 = 2 exactly: positions 1, 3, .., 37 (19 of them), then E = 38; rows are positions - 1.
    assert tre_start_indices(synthetic(57)) == [*range(0, 37, 2), 37]


def test_tre_general_step_is_floored() -> None:
    # 40 frames, all valid: last start row 20 (40 - 20 = 20), E = 21, step 21/19 = 1.105...
    # positions floor(1 + 21k/19), k = 0..18 (k = 18: 1 + 378/19 = 20.89 -> 20): 1..10, then k = 10: 1 + 210/19 =
    # 12.05 -> 12 (11 is skipped), 13..20; then E = 21. Rows = positions - 1.
    assert tre_start_indices(synthetic(40)) == [*range(0, 10), *range(11, 20), 20]


def test_tre_short_candidate_list_gives_fewer_runs_as_the_toolkit_does() -> None:
    # 25 frames: last start row 5 (25 - 5 = 20), E = 6; the colon 1 : 6/19 : 6 has 16 points (k*6 <= 19*5 -> k <= 15):
    # 1, 1.32, 1.63, 1.95, 2.26, 2.58, 2.89, 3.21, 3.53, 3.84, 4.16, 4.47, 4.79, 5.11, 5.42, 5.74 -> floored
    # 1,1,1,1,2,2,2,3,3,3,4,4,4,5,5,5; then E = 6: 17 runs, repeated starts kept.
    rows = tre_start_indices(synthetic(25))
    assert rows == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5]
    assert [s.label for s in tre_runs(synthetic(25))][-1] == "tre-16"


def test_tre_exactly_20_frames_and_too_short() -> None:
    # 20 frames: only row 0 has 20 frames to the end, E = 1: the colon 1 : 1/19 : 1 is [1], then E: two runs at row 0
    assert tre_start_indices(synthetic(20)) == [0, 0]
    with pytest.raises(EvalkitError, match="no valid start frame has 20 frames after it"):
        tre_start_indices(synthetic(19))


def test_tre_removes_init_omit_and_invalid_boxes_from_the_candidates() -> None:
    # 45 frames numbered 101..145; initOmit 101-103 removes rows 0-2, NaN boxes remove rows 10 and 11.
    # Candidates: rows 3..9, 12..44 (40 of them). Last with >= 20 frames to the end: row 25 (45 - 25 = 20), which is
    # candidate number 7 + (25 - 12 + 1) = 21, so E = 21: positions as in the 40-frame case,
    # 1..10, 12..20, 21 -> candidate rows: positions 1..7 -> rows 3..9; positions 8, 9, 10 -> rows 12, 13, 14;
    # positions 12..21 -> rows 16..25.
    seq = synthetic(45, init_omit=((101, 103),), invalid=(10, 11), start_frame=101)
    rows = tre_start_indices(seq)
    assert rows == [*range(3, 10), 12, 13, 14, *range(16, 26)]
    assert tre_runs(seq)[0].start_frame == 104
    assert len(rows) == 20


# --- OPE ----------------------------------------------------------------------------------------------------------

def test_ope_starts_at_the_first_usable_frame() -> None:
    seq = synthetic(30, init_omit=((1, 5),), invalid=(5,))  # frames 1-5 omitted, frame 6 (row 5) has no box
    (spec,) = ope_runs(seq)
    assert (spec.start, spec.end, spec.start_frame, spec.label, spec.protocol) == (6, 30, 7, "ope", "ope")
    assert spec.init_box == (16.0, 20.0, 30.0, 40.0)
    assert ope_runs(seq, honour_init_omit=False)[0].start == 0
    assert not spec.supervised and spec.direction == 1 and spec.n_frames == 24


# --- SRE ----------------------------------------------------------------------------------------------------------

# box (101, 51, 40, 30) in a 320 x 240 image: ceil(0.1 * 40) = 4, ceil(0.1 * 30) = 3; inclusive bottom-right corner
# (101 + 40 - 1, 51 + 30 - 1) = (140, 80); centre (101 + 40/2, 51 + 30/2) = (121, 66).
SRE_CASES = {
    "left": (97, 51, 40, 30),  # x = 101 - 4
    "right": (105, 51, 40, 30),  # x = 101 + 4
    "up": (101, 48, 40, 30),  # y = 51 - 3
    "down": (101, 54, 40, 30),  # y = 51 + 3
    "topLeft": (97, 48, 44, 33),  # x = round(101 - 4) = 97, y = round(51 - 3) = 48, w = 140 - 97 + 1, h = 80 - 48 + 1
    "topRight": (101, 48, 44, 33),  # right edge round(140 + 4) = 144: w = 144 - 101 + 1 = 44; y = 48, h = 33
    "bottomLeft": (97, 51, 44, 33),  # x = 97, w = 44; bottom edge round(80 + 3) = 83: h = 83 - 51 + 1 = 33
    "bottomRight": (101, 51, 44, 33),  # w = 144 - 101 + 1, h = 83 - 51 + 1
    "scale_8": (105, 54, 32, 24),  # w, h = 32, 24; x = round(121 - 16), y = round(66 - 12)
    "scale_9": (103, 53, 36, 27),  # w, h = 36, 27; x = round(121 - 18) = 103, y = round(66 - 13.5) = round(52.5) = 53
    "scale_11": (99, 50, 44, 33),  # w, h = 44, 33; x = round(121 - 22) = 99, y = round(66 - 16.5) = round(49.5) = 50
    "scale_12": (97, 48, 48, 36),  # w, h = 48, 36; x = round(121 - 24) = 97, y = round(66 - 18) = 48
}


@pytest.mark.parametrize("shift", SRE_SHIFTS)
def test_sre_boxes_by_hand(shift: str) -> None:
    assert shift_initial_box((101, 51, 40, 30), shift, (320, 240)) == SRE_CASES[shift]


def test_sre_rounds_halves_away_from_zero_as_matlab() -> None:
    # scale_9 above needs round(52.5) = 53 (numpy's round-half-even would give 52).
    # topLeft of (10, 10, 15, 15): 0.1 * 15 = 1.5, x = y = round(10 - 1.5) = round(8.5) = 9 (numpy: 8);
    # bottom-right corner (24, 24) kept: w = h = 24 - 9 + 1 = 16.
    assert shift_initial_box((10, 10, 15, 15), "topLeft", (320, 240)) == (9, 9, 16, 16)
    assert [matlab_round(v) for v in (8.5, 52.5, -2.5, 2.4999999999999996, 0.49999999999999994, -0.4)] == \
        [9, 53, -3, 2, 0, 0]


def test_sre_clips_to_the_image_as_the_toolkit_does() -> None:
    # left of (2, 3, 40, 30): x = 2 - 4 = -2 -> 1; the width is kept (the box moves right, it is not cut)
    assert shift_initial_box((2, 3, 40, 30), "left", (320, 240)) == (1, 3, 40, 30)
    # up: y = 3 - 3 = 0 -> 1
    assert shift_initial_box((2, 3, 40, 30), "up", (320, 240)) == (2, 1, 40, 30)
    # topLeft: x = round(2 - 4) = -2, y = round(3 - 3) = 0, w = 41 - (-2) + 1 = 44, h = 32 - 0 + 1 = 33;
    # then x, y -> 1 with w, h unchanged
    assert shift_initial_box((2, 3, 40, 30), "topLeft", (320, 240)) == (1, 1, 44, 33)
    # right of (290, 200, 40, 30): x = 294, right edge 294 + 40 - 1 = 333 > 320 -> w = 320 - 294 + 1 = 27
    assert shift_initial_box((290, 200, 40, 30), "right", (320, 240)) == (294, 200, 27, 30)
    # bottomRight: corner (round(329 + 4), round(229 + 3)) = (333, 232): w = 44, h = 33; 290 + 44 - 1 = 333 > 320
    # -> w = 320 - 290 + 1 = 31; 200 + 33 - 1 = 232 <= 240 stays
    assert shift_initial_box((290, 200, 40, 30), "bottomRight", (320, 240)) == (290, 200, 31, 33)
    # scale_12 of (290, 220, 40, 30): w, h = 48, 36, centre (310, 235): x = 286, y = 217; 286 + 47 = 333 > 320
    # -> w = 35; 217 + 35 = 252 > 240 -> h = 240 - 217 + 1 = 24
    assert shift_initial_box((290, 220, 40, 30), "scale_12", (320, 240)) == (286, 217, 35, 24)


def test_sre_rejects_an_unknown_shift() -> None:
    with pytest.raises(EvalkitError, match="unknown SRE shift 'diagonal'"):
        shift_initial_box((1, 1, 10, 10), "diagonal", (100, 100))


def test_sre_runs_start_at_the_first_segment_with_toolkit_labels() -> None:
    seq = synthetic(30, init_omit=((1, 2),))  # first start row 2, box (12, 20, 30, 40)
    specs = sre_runs(seq, image_size=(320, 240))
    assert [s.label for s in specs] == [f"sre-{s}" for s in SRE_SHIFTS]
    assert {(s.start, s.end, s.start_frame) for s in specs} == {(2, 30, 3)}
    assert specs[0].init_box == (9.0, 20.0, 30.0, 40.0)  # left: 12 - ceil(3.0)


def test_sre_reads_the_image_size_from_the_first_frame(shared_dir: Path) -> None:
    couple = load_suite("otb100", shared_dir / "data" / "sequences", ["Couple"])["Couple"]  # 320 x 240 frames
    assert couple.has_frames
    box = tuple(float(v) for v in couple.ground_truth[0])  # (51, 47, 25, 62)
    assert [s.init_box for s in sre_runs(couple)] == [shift_initial_box(box, s, (320, 240)) for s in SRE_SHIFTS]
    with pytest.raises(EvalkitError, match="pass image_size"):
        sre_runs(synthetic(30))


# --- VOT supervised -----------------------------------------------------------------------------------------------

def test_vot_supervised_repetitions_and_parameters() -> None:
    seq = synthetic(50)
    specs = vot_supervised_runs(seq)
    assert [s.label for s in specs] == [f"vot-{i:03d}" for i in range(1, 16)]
    assert [s.repetition for s in specs] == list(range(1, 16))
    assert {(s.start, s.end, s.direction, s.init_box) for s in specs} == {(0, 50, 1, (10.0, 20.0, 30.0, 40.0))}
    assert {(s.skip_after_failure, s.burn_in, s.failure_overlap, s.protocol) for s in specs} == \
        {(5, 10, 0.0, "vot-supervised")}
    assert all(s.supervised for s in specs)
    assert len(vot_supervised_runs(seq, deterministic=True)) == 3
    assert len(vot_supervised_runs(seq, repetitions=1, deterministic=True)) == 1


def test_vot_supervised_needs_a_box_at_frame_0() -> None:
    with pytest.raises(EvalkitError, match="frame 1 has no usable ground-truth box"):
        vot_supervised_runs(synthetic(50, invalid=(0,)))


# --- VOT2020 multistart -------------------------------------------------------------------------------------------

def test_anchors_from_values_orders_forward_then_backward() -> None:
    # vot-toolkit: value > 0 forward, < 0 backward, 0 none; forward anchors first, each group by frame
    assert anchors_from_values([-1, 0, 1, 0, -1, 1, 0]) == [(2, 1), (5, 1), (0, -1), (4, -1)]
    assert anchors_from_values([0, 0]) == []


def test_anchors_every_runs_towards_the_longer_side() -> None:
    # 120 frames, spacing 50: anchors 0, 50, 100. Forward lengths 120, 70, 20; backward lengths 1, 51, 101:
    # 0 and 50 run forward (70 >= 51), 100 runs backward.
    assert anchors_every(120) == [(0, 1), (50, 1), (100, -1)]
    # tie: 101 frames, anchor 50 has 51 frames either way -> forward
    assert anchors_every(101) == [(0, 1), (50, 1), (100, -1)]
    assert anchors_every(5, spacing=2) == [(0, 1), (2, 1), (4, -1)]  # anchor 2: 3 forward vs 3 backward


def test_multistart_runs_directions_rows_and_labels() -> None:
    seq = synthetic(120)
    specs = multistart_runs(seq)
    assert [s.label for s in specs] == ["anchor-00000-forward", "anchor-00050-forward", "anchor-00100-backward"]
    back = specs[2]
    assert (back.start, back.end, back.direction, back.n_frames) == (100, -1, -1, 101)
    assert list(back.rows)[:3] == [100, 99, 98] and list(back.rows)[-1] == 0
    assert back.init_box == (110.0, 20.0, 30.0, 40.0)  # the ground truth of row 100
    assert list(specs[1].rows) == list(range(50, 120))
    assert {s.protocol for s in specs} == {"vot-multistart"}


def test_multistart_runs_from_values_or_pairs() -> None:
    seq = synthetic(10)
    values = np.zeros(10)
    values[[7, 2]] = [-1, 1]
    by_values = multistart_runs(seq, values)
    by_pairs = multistart_runs(seq, [(7, -1), (2, 1)])  # pairs are reordered forward-first as the toolkit does
    assert [s.label for s in by_values] == [s.label for s in by_pairs] == \
        ["anchor-00002-forward", "anchor-00007-backward"]
    with pytest.raises(EvalkitError, match="no anchors"):
        multistart_runs(seq, np.zeros(10))
    with pytest.raises(EvalkitError, match="3 anchor values for 10 frames"):
        multistart_runs(seq, [0.0, 1.0, 0.0])
    with pytest.raises(EvalkitError, match="not a row"):
        multistart_runs(seq, [(10, 1)])


def test_read_anchor_values_pads_like_the_toolkit(tmp_path: Path) -> None:
    path = tmp_path / "anchor.value"
    path.write_text("1\n0\n-1\n")
    np.testing.assert_array_equal(read_anchor_values(path, 5), [1, 0, -1, 0, 0])
    with pytest.raises(InputFileError, match="has 3 values for a sequence of 2 frames"):
        read_anchor_values(path, 2)
    path.write_text("1\nx\n")
    with pytest.raises(InputFileError, match=":2: expected one number per frame"):
        read_anchor_values(path, 5)


# --- RunSpec and the registry -------------------------------------------------------------------------------------

def test_runspec_validates_and_serialises() -> None:
    spec = RunSpec("s", 3, 10, (1, 2, 3, 4), "ope", "ope", 4)
    assert spec.init_box == (1.0, 2.0, 3.0, 4.0) and spec.as_dict()["init_box"] == [1.0, 2.0, 3.0, 4.0]
    with pytest.raises(ValueError, match="empty"):
        RunSpec("s", 3, 3, (1, 2, 3, 4), "ope", "ope", 4)
    with pytest.raises(ValueError, match="direction"):
        RunSpec("s", 3, 10, (1, 2, 3, 4), "ope", "ope", 4, direction=0)
    with pytest.raises(AttributeError):
        spec.start = 0  # type: ignore[misc]


def test_protocols_registry() -> None:
    assert PROTOCOLS.names() == ["ope", "sre", "tre", "vot-multistart", "vot-supervised"]
    seq = synthetic(57)
    assert [s.start for s in expand("tre", seq)] == tre_start_indices(seq)
    assert len(expand("vot-supervised", seq, deterministic=True)) == 3
    assert len(expand("SRE", seq, image_size=(320, 240))) == 12
    with pytest.raises(EvalkitError, match="did you mean 'tre'"):
        expand("tr", seq)
