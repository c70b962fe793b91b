"""The built-in demo suite: short generated sequences with exact ground truth, so ``evalkit run`` works on a fresh
machine with nothing downloaded.

    >>> suite = load_demo("demo", None)     # doctest: +SKIP  (first use generates <cache>/demo/v1: about 2 s)
    >>> [(s.name, s.n_frames, sorted(s.attributes)) for s in suite][:2]                       # doctest: +SKIP
    [('Glide', 90, []), ('Zoom', 100, ['SV'])]

    evalkit run --trackers kcf,csrt --suite demo

Each sequence is a textured target (smoothed colour noise, checkerboard, stripes, blobs, rings) moving along a smooth
path over a background of multi-scale noise, gradients and static shapes. Every sequence translates; that is the
baseline, not an attribute. Further challenges are its attributes, with OTB's codes and thresholds: SV scale change
(beyond 2x or 0.5x of the first box), FM fast motion (> 20 px per frame), MB motion blur along the motion, OCC an
occluder passing in front, IV global brightness and contrast ramps, OV leaving the frame, BC distractors with the
target's own texture, LR a small target (< 400 pixels). The definition (paths, sizes, challenges, seed, version) is
the versioned ``data/demo.json``; ``version`` is bumped whenever the output changes.

On disk, the OTB dataset layout under ``<cache>/demo/v<version>/`` (``Config.cache``, or an explicit root):
``<Seq>/img/0001.jpg ...`` (320 x 240 RGB, fixed JPEG quality), ``<Seq>/groundtruth_rect.txt`` and
``manifest.json`` (version, seed, attributes, frame ranges, sha256 of each ground-truth file, checked on load).

Ground truth: x, y, w, h in 1-based pixels (OTB), 4 decimals. The box is the target's whole extent, also while an
occluder hides it. While the target is partly outside the image the box is clipped to the image (the visible part);
while less than one pixel of it (in width or height) is inside, the row is ``NaN,NaN,NaN,NaN``. OTB-family profiles
count such frames as failures, so the ground truth scored as a result gets 20/21 success AUC on the sequences that
stay in view and 20/21 of the visible fraction on Exit.

Generation is deterministic (seeded per sequence from the suite seed and the sequence name: the same version and seed
give byte-identical ground truth and, with the same OpenCV build, identical JPEG files), atomic (written into a
temporary folder beside the final one, then renamed: an interrupted generation never leaves a folder that looks
complete) and safe when several processes generate at once (the first rename wins; the others use its folder).
"""

from __future__ import annotations

import colorsys
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from evalkit.datasets.base import Sequence, Suite, frame_paths, package_data, per_sequence, read_box_file
from evalkit.errors import EvalkitError, InputFileError, MissingExtraError

LAYOUT = (  # what a data root holds (preflight and verify name it in their fixes)
    "the generated demo suite (leave --data-root out: it is generated into the cache)"
)


MANIFEST = "manifest.json"
GT_FILE = "groundtruth_rect.txt"
GENERATOR = "evalkit.datasets.demo"
_STALE_PARTIAL_S = 3600.0  # a partial folder this old belongs to a crashed generation, never to a running one
_SHADOW = (3.0, 4.0, 2.5, 0.35)  # offset x, y (px), blur sigma, darkening of the soft shadow under objects

# Boxes lie on a 1/16-pixel grid: exact in binary and in 4 decimals, so the written ground truth is exactly the
# rendered box and a box compared with itself has IoU exactly 1 in every toolkit's arithmetic (OTB's inclusive
# x + w - 1 form included; with arbitrary decimals it can come out a hair above 1 and pass the 1.0 threshold)
GRID = 16

# OTB's attribute thresholds (Wu, Lim, Yang, TPAMI 2015), used to check that each sequence exhibits what it declares
SV_RATIO = 2.0
FM_PIXELS = 20.0
LR_PIXELS = 400.0
MB_PIXELS = 3.0  # OTB gives no number for motion blur: a streak of 3 px or more is visibly blurred at this size

Image = NDArray[np.float32]


def _opencv() -> ModuleType:
    """OpenCV, imported on first use: only rendering the demo frames needs it, and scoring installs go without it."""
    try:
        import cv2
    except ImportError:
        raise MissingExtraError("generating the demo suite needs OpenCV, which the core install leaves out: "
                                "pip install 'evalkit[trackers]'") from None
    return cv2


def definition() -> dict[str, Any]:
    """The shipped definition of the demo suite (``data/demo.json``)."""
    return package_data("demo.json")


def definition_sha256(defn: Mapping[str, Any]) -> str:
    """sha256 of a definition's canonical JSON: a cached suite must come from exactly this definition."""
    return hashlib.sha256(json.dumps(defn, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _rng(seed: int, name: str, purpose: int) -> np.random.Generator:
    """Independent stream per (suite seed, sequence, purpose): the plan's stream does not move when rendering does."""
    return np.random.default_rng([seed, zlib.crc32(name.encode()), purpose])


# ----------------------------------------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class SequencePlan:
    """One sequence frame by frame: what the ground truth and the renderer share (boxes 0-based x, y, w, h)."""

    name: str
    image_size: tuple[int, int]
    boxes: NDArray[np.float64]  # n x 4: the target's whole extent, possibly past the image border
    ground_truth: NDArray[np.float64]  # n x 4 as written: 1-based, clipped to the image, NaN while out of view
    velocity: NDArray[np.float64]  # n x 2, pixels per frame
    blur: NDArray[np.float64]  # n x 2: motion-blur streak (exposure x velocity)
    occluder: NDArray[np.float64] | None  # n x 4
    occluded: NDArray[np.float64]  # n: fraction of the target's area behind the occluder
    gain: NDArray[np.float64]  # n: global brightness factor
    contrast: NDArray[np.float64]  # n: global contrast factor (around the frame's mean)
    distractors: NDArray[np.float64]  # n x m x 4: objects with the target's texture, drawn behind it

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.boxes.shape[0])


def _curve(t: list[float], values: list[float], n: int) -> NDArray[np.float64]:
    """Keyframes at normalised times joined by monotone cubic (PCHIP) interpolation, sampled at n frames."""
    if len(t) == 1:
        return np.full(n, float(values[0]))
    from scipy.interpolate import PchipInterpolator  # 0.8 s to import: only when generating

    return PchipInterpolator(np.asarray(t, float), np.asarray(values, float))(np.linspace(0.0, 1.0, n))


def _wobble(rng: np.random.Generator, n: int, amplitude: float) -> NDArray[np.float64]:
    """A smooth seeded n x 2 perturbation (three sinusoids per axis), so paths do not look drawn with a ruler."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    freq = rng.uniform(0.7, 2.6, size=(3, 2))
    phase = rng.uniform(0.0, 2 * np.pi, size=(3, 2))
    weight = rng.uniform(0.5, 1.0, size=(3, 2))
    weight = weight / weight.sum(axis=0)
    return amplitude * sum(weight[k] * np.sin(2 * np.pi * freq[k] * t + phase[k]) for k in range(3))


def _path_boxes(spec: Mapping[str, Any], size: tuple[float, float], scale: NDArray[np.float64],
                rng: np.random.Generator | None, n: int) -> NDArray[np.float64]:
    cx = _curve(spec["t"], spec["x"], n)
    cy = _curve(spec["t"], spec["y"], n)
    if rng is not None and spec.get("wobble", 0):
        w = _wobble(rng, n, float(spec["wobble"]))
        cx, cy = cx + w[:, 0], cy + w[:, 1]
    w, h = size[0] * scale, size[1] * scale
    return np.round(np.stack([cx - w / 2, cy - h / 2, w, h], axis=1) * GRID) / GRID


def _overlap(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Intersection areas of row-aligned x, y, w, h boxes."""
    iw = np.minimum(a[..., 0] + a[..., 2], b[..., 0] + b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
    ih = np.minimum(a[..., 1] + a[..., 3], b[..., 1] + b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    return np.clip(iw, 0, None) * np.clip(ih, 0, None)


def visible_ground_truth(boxes: NDArray[np.float64], image_size: tuple[int, int]) -> NDArray[np.float64]:
    """OTB ground truth of whole-target boxes: clipped to the image, 1-based; NaN where < 1 px of it is inside."""
    width, height = image_size
    x1 = np.clip(boxes[:, 0], 0, width)
    y1 = np.clip(boxes[:, 1], 0, height)
    x2 = np.clip(boxes[:, 0] + boxes[:, 2], 0, width)
    y2 = np.clip(boxes[:, 1] + boxes[:, 3], 0, height)
    gt = np.stack([x1 + 1, y1 + 1, x2 - x1, y2 - y1], axis=1)
    gt[(gt[:, 2] < 1) | (gt[:, 3] < 1)] = np.nan
    return gt


def _static_distractors(rng: np.random.Generator, count: int, size: tuple[float, float], first: NDArray[np.float64],
                        image_size: tuple[int, int]) -> list[list[float]]:
    """Boxes for static copies of the target, inside the image, apart from each other and from the first box."""
    width, height = image_size
    placed: list[list[float]] = []
    for _ in range(200 * max(count, 1)):
        if len(placed) == count:
            break
        s = rng.uniform(0.85, 1.15)
        w, h = size[0] * s, size[1] * s
        box = [rng.uniform(4, width - w - 4), rng.uniform(4, height - h - 4), w, h]
        grown = np.array(box) + [-12, -12, 24, 24]
        others = np.array([first, *placed])
        if not _overlap(np.broadcast_to(grown, others.shape), others).any():
            placed.append(box)
    return placed


def plan_sequence(entry: Mapping[str, Any], seed: int, image_size: tuple[int, int]) -> SequencePlan:
    """Boxes, occlusion, illumination and blur of one sequence of the definition, frame by frame (no rendering)."""
    n = int(entry["frames"])
    rng = _rng(seed, entry["name"], 0)
    size = (float(entry["target"]["size"][0]), float(entry["target"]["size"][1]))
    scale_spec = entry.get("scale", {"t": [0], "s": [1.0]})
    scale = _curve(scale_spec["t"], scale_spec["s"], n)
    boxes = _path_boxes(entry["path"], size, scale, rng, n)
    centres = boxes[:, :2] + boxes[:, 2:] / 2
    velocity = np.gradient(centres, axis=0) if n > 1 else np.zeros((n, 2))
    blur = float(entry.get("motion_blur", 0.0)) * velocity
    occ_spec = entry.get("occluder")
    occluder = None
    occluded = np.zeros(n)
    if occ_spec is not None:
        occluder = _path_boxes(occ_spec, (float(occ_spec["size"][0]), float(occ_spec["size"][1])), np.ones(n),
                               None, n)
        occluded = _overlap(boxes, occluder) / (boxes[:, 2] * boxes[:, 3])
    light = entry.get("illumination", {"t": [0], "gain": [1.0], "contrast": [1.0]})
    gain = _curve(light["t"], light["gain"], n)
    contrast = _curve(light["t"], light["contrast"], n)
    dis_spec = entry.get("distractors", {})
    static = _static_distractors(rng, int(dis_spec.get("static", 0)), size, boxes[0], image_size)
    tracks = [np.broadcast_to(np.array(b), (n, 4)) for b in static]
    tracks += [_path_boxes(m, size, np.ones(n), None, n) for m in dis_spec.get("moving", [])]
    distractors = np.stack(tracks, axis=1) if tracks else np.zeros((n, 0, 4))
    return SequencePlan(entry["name"], image_size, boxes, visible_ground_truth(boxes, image_size), velocity, blur,
                        occluder, occluded, gain, contrast, distractors)


def exhibited_attributes(plan: SequencePlan) -> set[str]:
    """The OTB attributes a plan exhibits by OTB's rules (BC: distractors with the target's texture present)."""
    out = set()
    side = np.sqrt(plan.boxes[:, 2] * plan.boxes[:, 3])
    if (side / side[0]).max() > SV_RATIO or (side / side[0]).min() < 1 / SV_RATIO:
        out.add("SV")
    centres = plan.boxes[:, :2] + plan.boxes[:, 2:] / 2
    if plan.n_frames > 1 and np.hypot(*np.diff(centres, axis=0).T).max() > FM_PIXELS:
        out.add("FM")
    if np.hypot(*plan.blur.T).max() >= MB_PIXELS:
        out.add("MB")
    if plan.occluded.max() > 0:
        out.add("OCC")
    if np.abs(plan.gain - 1).max() > 0.3 or np.abs(plan.contrast - 1).max() > 0.2:
        out.add("IV")
    clipped = ~(np.abs(plan.ground_truth[:, 2:] - plan.boxes[:, 2:]) < 1e-9).all(axis=1)  # NaN rows included
    if clipped.any():
        out.add("OV")
    if plan.distractors.shape[1] > 0:
        out.add("BC")
    if (plan.boxes[:, 2] * plan.boxes[:, 3]).max() < LR_PIXELS:
        out.add("LR")
    return out


# -------------------------------------------------------------------------------------------------------- texture


def _fractal(rng: np.random.Generator, height: int, width: int, cells: float, octaves: int = 4,
             persistence: float = 0.55, stretch: tuple[float, float] = (1.0, 1.0)) -> Image:
    """Multi-scale smoothed noise (sum of upsampled random grids), zero mean and unit deviation."""
    cv2 = _opencv()
    acc = np.zeros((height, width), np.float32)
    amp = 1.0
    for o in range(octaves):
        gw = max(2, int(round(cells * 2**o * stretch[0])) + 1)
        gh = max(2, int(round(cells * 2**o * stretch[1] * height / width)) + 1)
        grid = rng.standard_normal((gh, gw)).astype(np.float32)
        acc += amp * cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
        amp *= persistence
    return (acc - acc.mean()) / (acc.std() + 1e-6)


def _hue_colour(rng: np.random.Generator, hue: float | None = None, sat: tuple[float, float] = (0.55, 0.95),
                val: tuple[float, float] = (0.45, 0.95)) -> NDArray[np.float32]:
    h = rng.uniform(0, 1) if hue is None else hue % 1.0
    return np.array(colorsys.hsv_to_rgb(h, rng.uniform(*sat), rng.uniform(*val)), np.float32) * 255


def _ellipse_mask(height: int, width: int, centre: tuple[float, float], axes: tuple[float, float],
                  angle: float) -> Image:
    """Anti-aliased filled ellipse as a 0..1 mask (OpenCV anti-aliases 8-bit images only)."""
    cv2 = _opencv()
    mask = np.zeros((height, width), np.uint8)
    cv2.ellipse(mask, (centre, (2 * axes[0], 2 * axes[1]), angle), 255, -1, cv2.LINE_AA)
    return mask.astype(np.float32) / 255


def _polygon_mask(height: int, width: int, corners: NDArray[np.float32]) -> Image:
    """Anti-aliased filled polygon (sub-pixel corners) as a 0..1 mask."""
    cv2 = _opencv()
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [np.round(corners * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    return mask.astype(np.float32) / 255


def _shifted(mask: Image, dx: float, dy: float) -> Image:
    """A mask moved by (dx, dy) pixels, zero where it moved in from outside."""
    cv2 = _opencv()
    return cv2.warpAffine(mask, np.array([[1, 0, dx], [0, 1, dy]], np.float64), mask.shape[::-1])


def _mix(a: NDArray[np.float32], b: NDArray[np.float32], w: Image) -> Image:
    return a * (1 - w[..., None]) + b * w[..., None]


def _sigmoid(x: Image, k: float) -> Image:
    return (1.0 / (1.0 + np.exp(-k * x))).astype(np.float32)


def make_texture(kind: str, width: int, height: int, rng: np.random.Generator) -> Image:
    """An object texture (H x W x 3 RGB float, 0..255): noise, checker, stripes, blobs, rings or bark."""
    cv2 = _opencv()
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    u, v = (xx + 0.5) / width, (yy + 0.5) / height
    hue = rng.uniform(0, 1)
    c1, c2, c3 = _hue_colour(rng, hue), _hue_colour(rng, hue + 0.5), _hue_colour(rng, hue + 0.2, val=(0.15, 0.35))
    if kind == "noise":
        img = _mix(_mix(c1, c2, _sigmoid(_fractal(rng, height, width, 3), 3)), c3,
                   _sigmoid(_fractal(rng, height, width, 4) - 0.8, 4))
    elif kind == "checker":
        cells = rng.integers(4, 7)
        edge = max(width, height) / cells
        board = ((np.floor(xx / edge) + np.floor(yy / edge)) % 2).astype(np.float32)
        img = _mix(c1, c2, cv2.GaussianBlur(board, (0, 0), 0.6))
        img *= (1 + 0.12 * _fractal(rng, height, width, 4))[..., None]
    elif kind == "stripes":
        angle = rng.uniform(0, np.pi)
        period = rng.uniform(0.18, 0.3)
        phase = (u * np.cos(angle) + v * np.sin(angle)) / period
        band = np.floor(phase) % 3
        img = np.where((band == 0)[..., None], c1, np.where((band == 1)[..., None], c2, c3)).astype(np.float32)
        img *= (1 + 0.1 * _fractal(rng, height, width, 3))[..., None]
    elif kind == "blobs":
        img = np.broadcast_to(_hue_colour(rng, hue, val=(0.3, 0.5)), (height, width, 3)).astype(np.float32).copy()
        for _ in range(18):
            centre = (float(rng.uniform(0, width)), float(rng.uniform(0, height)))
            axes = (float(rng.uniform(0.08, 0.22) * width), float(rng.uniform(0.08, 0.22) * height))
            mask = _ellipse_mask(height, width, centre, axes, float(rng.uniform(0, 180)))
            img = _mix(img, _hue_colour(rng, hue + rng.choice([0.0, 0.33, 0.5])), mask)
    elif kind == "rings":
        r = np.hypot(u - 0.5, (v - 0.5) * height / width) * rng.uniform(5, 7)
        img = _mix(_mix(c1, c2, _sigmoid(np.sin(2 * np.pi * r).astype(np.float32), 6)), c3,
                   _sigmoid(np.cos(2 * np.pi * u * 2).astype(np.float32) - 0.6, 6))
    elif kind == "bark":
        streaks = _fractal(rng, height, width, 4, octaves=4, stretch=(3.0, 0.15))
        img = _mix(np.array([70, 52, 38], np.float32), np.array([128, 104, 80], np.float32), _sigmoid(streaks, 2))
        img *= (1 + 0.15 * _fractal(rng, height, width, 8))[..., None]
    else:
        raise EvalkitError(f"unknown demo texture {kind!r}")
    bump = 0.82 + 0.18 * np.cos(np.pi * (u - 0.5)) * np.cos(np.pi * (v - 0.5))  # gentle shading: a solid, not a decal
    return np.clip(img * bump[..., None], 0, 255).astype(np.float32)


_STYLES: dict[str, dict[str, Any]] = {
    "meadow": {"sky": ((150, 188, 232), (222, 232, 240)), "skyline": "trees", "shapes": "organic",
               "ground": ((74, 112, 50), (122, 142, 72), (112, 92, 62))},
    "urban": {"sky": ((168, 180, 198), (214, 214, 216)), "skyline": "buildings", "shapes": "boxes",
              "ground": ((92, 92, 96), (128, 126, 122), (78, 76, 80))},
    "sand": {"sky": None, "skyline": None, "shapes": "organic",
             "ground": ((204, 178, 132), (178, 148, 104), (226, 206, 162))},
    "aerial": {"sky": None, "skyline": None, "shapes": "boxes",
               "ground": ((68, 98, 58), (122, 116, 90), (150, 150, 146))},
    "indoor": {"sky": ((196, 186, 170), (170, 162, 152)), "skyline": None, "shapes": "boxes",
               "ground": ((118, 84, 54), (150, 110, 70), (92, 64, 40))},
}


def _ground(rng: np.random.Generator, height: int, width: int, palette: tuple[tuple[int, ...], ...]) -> Image:
    c0, c1, c2 = (np.array(c, np.float32) * rng.uniform(0.9, 1.1) for c in palette)
    img = _mix(c0, c1, _sigmoid(_fractal(rng, height, width, 2.5, octaves=5), 2.5))
    img = _mix(img, c2, 0.7 * _sigmoid(_fractal(rng, height, width, 4, octaves=4) - 0.7, 3))
    detail = _fractal(rng, height, width, 24, octaves=3, persistence=0.6)
    return img * (1 + 0.09 * detail)[..., None]


def _skyline(img: Image, rng: np.random.Generator, horizon: int, kind: str | None) -> None:
    height, width = img.shape[:2]
    if kind == "trees":
        profile = horizon - (10 + 9 * _fractal(rng, 1, width, 6, octaves=3)[0] ** 2)
        yy = np.arange(height, dtype=np.float32)[:, None]
        mask = _sigmoid((yy - profile[None, :]) * 1.0, 1.5) * (yy < horizon + 2)
        leaves = _mix(np.array([36, 62, 34], np.float32), np.array([62, 92, 48], np.float32),
                      _sigmoid(_fractal(rng, height, width, 18, octaves=3), 2))
        img[:] = _mix(img, leaves, mask)
    elif kind == "buildings":
        x = 0.0
        while x < width:
            w = float(rng.uniform(24, 60))
            top = int(horizon - rng.uniform(15, horizon - 4))
            shade = np.array(colorsys.hsv_to_rgb(rng.uniform(0.05, 0.6), rng.uniform(0.05, 0.25),
                                                 rng.uniform(0.45, 0.8)), np.float32) * 255
            x0, x1 = int(x), min(int(x + w), width)
            img[top:horizon, x0:x1] = shade
            for wy in range(top + 4, horizon - 6, 9):  # rows of windows
                for wx in range(x0 + 4, x1 - 6, 8):
                    img[wy:wy + 4, wx:wx + 4] = shade * rng.uniform(0.35, 0.6)
            x += w + float(rng.uniform(0, 8))


def _shapes(img: Image, rng: np.random.Generator, kind: str, count: int) -> None:
    """Static distractor shapes (rocks, bushes, boxes, signs) with their own textures and soft shadows."""
    cv2 = _opencv()
    height, width = img.shape[:2]
    for _ in range(count):
        cx, cy = float(rng.uniform(0, width)), float(rng.uniform(height * 0.3, height))
        sx, sy = float(rng.uniform(10, 34)), float(rng.uniform(8, 26))
        if kind == "organic":
            mask = _ellipse_mask(height, width, (cx, cy), (sx, sy), float(rng.uniform(-30, 30)))
        else:
            tilt = float(rng.choice([0.0, rng.uniform(-25, 25)]))
            mask = _polygon_mask(height, width, cv2.boxPoints(((cx, cy), (2 * sx, 2 * sy), tilt)))
        colour = _hue_colour(rng, sat=(0.1, 0.6), val=(0.25, 0.8))
        surface = colour * (1 + 0.2 * _fractal(rng, height, width, 10, octaves=3))[..., None]
        shadow = cv2.GaussianBlur(_shifted(mask, 3, 4), (0, 0), 3.0)
        img *= (1 - 0.35 * shadow)[..., None]
        img[:] = _mix(img, surface, mask)


def make_background(style: str, image_size: tuple[int, int], rng: np.random.Generator, shapes: int = 6) -> Image:
    """A static "natural" background (H x W x 3 RGB float): noise terrain, sky or wall, skyline, shapes, lighting."""
    if style not in _STYLES:
        raise EvalkitError(f"unknown demo background {style!r}; known: {', '.join(_STYLES)}")
    st = _STYLES[style]
    width, height = image_size
    img = _ground(rng, height, width, st["ground"])
    if st["sky"] is not None:
        horizon = int(height * rng.uniform(0.24, 0.36))
        top, bottom = (np.array(c, np.float32) for c in st["sky"])
        ramp = np.clip(np.arange(height, dtype=np.float32) / max(horizon, 1), 0, 1)[:, None]
        sky = np.broadcast_to(_mix(top, bottom, ramp), (height, width, 3)).copy()
        clouds = _sigmoid(_fractal(rng, height, width, 3, octaves=4, stretch=(1.0, 0.5)) - 0.4, 2.5)
        sky = _mix(sky, np.full(3, 240, np.float32), 0.5 * clouds)
        img[:horizon] = sky[:horizon]
        img[horizon:horizon + 2] *= 0.8  # the seam between sky (or wall) and ground
        _skyline(img, rng, horizon, st["skyline"])
    _shapes(img, rng, st["shapes"], shapes)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    light = 1 + 0.14 * ((xx / width - 0.5) * np.cos(angle) + (yy / height - 0.5) * np.sin(angle))
    vignette = 1 - 0.18 * (((xx / width - 0.5) ** 2 + (yy / height - 0.5) ** 2) / 0.5)
    return np.clip(img * (light * vignette)[..., None], 0, 255).astype(np.float32)


# ------------------------------------------------------------------------------------------------------ rendering


@dataclass(frozen=True)
class Scene:
    """What a sequence's frames are drawn from: static background, textures and a bank of sensor noise."""

    background: Image
    target: Image
    occluder: Image | None
    noise: Image
    noise_offsets: NDArray[np.int64]


def build_scene(entry: Mapping[str, Any], seed: int, plan: SequencePlan) -> Scene:
    """Background, target texture (at 1.5x its largest size in the sequence), occluder texture and sensor noise."""
    rng = _rng(seed, entry["name"], 1)
    width, height = plan.image_size
    background = make_background(entry["background"], plan.image_size, rng)
    top = float(plan.boxes[:, 2].max() / plan.boxes[0, 2])
    tw, th = (max(8, math.ceil(s * top * 1.5)) for s in entry["target"]["size"])
    target = make_texture(entry["target"]["texture"], tw, th, rng)
    occluder = None
    if entry.get("occluder"):
        ow, oh = entry["occluder"]["size"]
        occluder = make_texture(entry["occluder"]["texture"], int(ow), int(oh), rng)
    noise_rng = _rng(seed, entry["name"], 2)
    noise = (noise_rng.standard_normal((height + 16, width + 16, 3)) * 2.0).astype(np.float32)
    offsets = noise_rng.integers(0, 16, size=(plan.n_frames, 2))
    return Scene(background, target, occluder, noise, offsets)


def _coverage(start: float, length: float, n: int) -> NDArray[np.float32]:
    """Fraction of each of n pixels [j, j+1) covered by the interval [start, start + length)."""
    j = np.arange(n, dtype=np.float64)
    return np.clip(np.minimum(j + 1, start + length) - np.maximum(j, start), 0, 1).astype(np.float32)


def _line_kernel(streak: NDArray[np.float64]) -> NDArray[np.float32]:
    """Normalised blur kernel: a line of the streak's length and direction, centred (motion blur)."""
    length = float(np.hypot(*streak))
    k = 2 * math.ceil(length / 2) + 3
    kernel = np.zeros((k, k), np.float64)
    t = np.linspace(-0.5, 0.5, max(2, math.ceil(length * 4)))
    px, py = k // 2 + t * streak[0], k // 2 + t * streak[1]
    x0, y0 = np.floor(px).astype(int), np.floor(py).astype(int)
    fx, fy = px - x0, py - y0
    for dx, dy, wgt in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        np.add.at(kernel, (y0 + dy, x0 + dx), wgt)
    return (kernel / kernel.sum()).astype(np.float32)


def _composite(frame: Image, texture: Image, box: NDArray[np.float64], streak: NDArray[np.float64] | None) -> None:
    """Draw ``texture`` stretched over ``box`` (0-based, sub-pixel, exact edge coverage) onto ``frame`` in place,
    with a soft shadow and, for a streak of a pixel or more, motion blur of the object (not the background)."""
    cv2 = _opencv()
    height, width = frame.shape[:2]
    x, y, w, h = (float(v) for v in box)
    length = 0.0 if streak is None else float(np.hypot(*streak))
    pad = math.ceil(length / 2) + 12
    x0, y0 = max(math.floor(x) - pad, 0), max(math.floor(y) - pad, 0)
    x1, y1 = min(math.ceil(x + w) + pad, width), min(math.ceil(y + h) + pad, height)
    if x1 <= x0 or y1 <= y0:
        return
    th, tw = texture.shape[:2]
    sx, sy = w / tw, h / th
    if min(sx, sy) < 1:  # low-pass before shrinking, so fine textures do not alias
        sigma_x, sigma_y = (0.5 * math.sqrt(max(1 / s**2 - 1, 0.0)) for s in (sx, sy))
        texture = cv2.GaussianBlur(texture, (0, 0), sigmaX=max(sigma_x, 1e-3), sigmaY=max(sigma_y, 1e-3))
    m = np.array([[sx, 0, x - x0 + 0.5 * sx - 0.5], [0, sy, y - y0 + 0.5 * sy - 0.5]], np.float64)
    colour = cv2.warpAffine(texture, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    alpha = np.outer(_coverage(y - y0, h, y1 - y0), _coverage(x - x0, w, x1 - x0))
    premultiplied = colour * alpha[..., None]
    if streak is not None and length >= 1.0:
        kernel = _line_kernel(streak)
        premultiplied = cv2.filter2D(premultiplied, -1, kernel, borderType=cv2.BORDER_CONSTANT)
        alpha = cv2.filter2D(alpha, -1, kernel, borderType=cv2.BORDER_CONSTANT)
    ox, oy, sigma, strength = _SHADOW
    shadow = cv2.GaussianBlur(_shifted(alpha, ox, oy), (0, 0), sigma)
    roi = frame[y0:y1, x0:x1]
    roi *= (1 - strength * shadow)[..., None]
    roi *= (1 - alpha)[..., None]
    roi += premultiplied


def render_frame(scene: Scene, plan: SequencePlan, k: int) -> NDArray[np.uint8]:
    """Frame k of a sequence as RGB uint8: distractors, target, occluder, illumination, sensor noise."""
    frame = scene.background.copy()
    for box in plan.distractors[k]:
        _composite(frame, scene.target, box, None)
    _composite(frame, scene.target, plan.boxes[k], plan.blur[k])
    if scene.occluder is not None and plan.occluder is not None:
        _composite(frame, scene.occluder, plan.occluder[k], None)
    gain, contrast = float(plan.gain[k]), float(plan.contrast[k])
    if gain != 1.0 or contrast != 1.0:
        mean = float(frame.mean())
        frame = ((frame - mean) * contrast + mean) * gain
    ox, oy = (int(v) for v in scene.noise_offsets[k])
    height, width = frame.shape[:2]
    frame += scene.noise[oy:oy + height, ox:ox + width]
    return np.clip(frame + 0.5, 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------------------------------- generation


def _write_frame(path: Path, rgb: NDArray[np.uint8], quality: int) -> None:
    """Encode one frame as JPEG at a fixed quality (deterministic for a given OpenCV build)."""
    cv2 = _opencv()
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)]):
        raise EvalkitError(f"cannot write frame {path}")


def format_ground_truth(gt: NDArray[np.float64]) -> str:
    """OTB ground-truth text: x,y,w,h per line, 4 decimals, ``NaN,NaN,NaN,NaN`` where the target is absent."""
    return "".join("NaN,NaN,NaN,NaN\n" if np.isnan(row).any() else ",".join(f"{v:.4f}" for v in row) + "\n"
                   for row in gt)


def _generate_sequence(folder: Path, entry: Mapping[str, Any], defn: Mapping[str, Any],
                       tick: Callable[[], None]) -> dict[str, Any]:
    seed, size = int(defn["seed"]), (int(defn["image_size"][0]), int(defn["image_size"][1]))
    plan = plan_sequence(entry, seed, size)
    scene = build_scene(entry, seed, plan)
    seq_dir = folder / entry["name"]
    (seq_dir / "img").mkdir(parents=True)
    for k in range(plan.n_frames):
        _write_frame(seq_dir / "img" / f"{k + 1:04d}.jpg", render_frame(scene, plan, k), defn["jpeg_quality"])
        tick()
    text = format_ground_truth(plan.ground_truth).encode()
    (seq_dir / GT_FILE).write_bytes(text)
    return {"name": entry["name"], "start_frame": 1, "end_frame": plan.n_frames,
            "attributes": list(entry["attributes"]), "groundtruth": f"{entry['name']}/{GT_FILE}",
            "groundtruth_sha256": hashlib.sha256(text).hexdigest(),
            "absent_frames": int(np.isnan(plan.ground_truth).any(axis=1).sum())}


def _render_all(folder: Path, defn: Mapping[str, Any], progress: bool) -> list[dict[str, Any]]:
    """Write every sequence into ``folder``, one thread per sequence (OpenCV and numpy release the GIL); the
    progress bar appears on a terminal, after the first second."""
    from tqdm import tqdm

    entries = defn["sequences"]
    lock = threading.Lock()
    with tqdm(total=sum(int(e["frames"]) for e in entries), desc="generating the demo suite", unit="frame",
              disable=None if progress else True, delay=1.0, file=sys.stderr, leave=False) as bar:
        def tick() -> None:
            with lock:
                bar.update(1)

        workers = max(1, min(len(entries), os.cpu_count() or 1, 8))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_generate_sequence, folder, e, defn, tick) for e in entries]
            try:
                return [f.result() for f in futures]
            except BaseException:
                for f in futures:
                    f.cancel()
                raise


def _remove_stale_partials(parent: Path, name: str) -> None:
    """Delete partial folders left by crashed generations (old enough that no running generation owns them)."""
    now = time.time()
    for p in parent.glob(f".{name}.partial-*"):
        try:
            if now - p.stat().st_mtime > _STALE_PARTIAL_S:
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            pass


def generate(folder: Path, defn: Mapping[str, Any] | None = None, progress: bool = True) -> Path:
    """Generate the suite into ``folder`` atomically (temporary sibling, then rename); returns ``folder``.

    When another process finishes first, its folder is kept and this generation is discarded.
    """
    cv2 = _opencv()
    defn = definition() if defn is None else defn
    folder = Path(folder)
    parent = folder.parent
    parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials(parent, folder.name)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.partial-", dir=parent))
    try:
        entries = _render_all(tmp, defn, progress)
        manifest = {
            "generator": GENERATOR, "version": defn["version"], "seed": defn["seed"],
            "definition_sha256": definition_sha256(defn), "image_size": list(defn["image_size"]),
            "jpeg_quality": defn["jpeg_quality"], "opencv": cv2.__version__, "layout": "otb-dataset",
            "attribute_names": dict(defn["attribute_names"]), "sequences": entries,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")  # written last: a complete folder has it
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; the cache is the user's, readable like any other folder
        try:
            os.rename(tmp, folder)
        except OSError:
            if not (folder / MANIFEST).is_file():
                raise EvalkitError(f"{folder} exists but is not a complete demo suite (no {MANIFEST}); delete it "
                                   f"and run again") from None
            shutil.rmtree(tmp, ignore_errors=True)  # another process finished first: use its folder
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def suite_folder(root: str | Path | None, defn: Mapping[str, Any] | None = None) -> Path:
    """Where the suite lives: ``<root>/demo/v<version>`` (root None: the configured cache), or ``root`` itself
    when it already holds a generated suite's manifest."""
    defn = definition() if defn is None else defn
    if root is None:
        from evalkit.config import load_config

        base = load_config().cache
    else:
        base = Path(root).expanduser()
    if (base / MANIFEST).is_file():
        return base
    return base / "demo" / f"v{defn['version']}"


def ensure_demo(root: str | Path | None = None, defn: Mapping[str, Any] | None = None, progress: bool = True) -> Path:
    """The generated suite's folder under ``root`` (None: the configured cache), generating it on first use."""
    defn = definition() if defn is None else defn
    folder = suite_folder(root, defn)
    if not (folder / MANIFEST).is_file():
        generate(folder, defn, progress)
    return folder


def read_manifest(folder: Path, defn: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The manifest of a generated suite, refused when it was generated from another definition."""
    defn = definition() if defn is None else defn
    path = folder / MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputFileError(path, exc.lineno, f"invalid json: {exc.msg}") from None
    if manifest.get("generator") != GENERATOR:
        raise InputFileError(path, None, f"not a demo-suite manifest (generator {manifest.get('generator')!r})")
    if manifest.get("version") != defn["version"]:
        raise InputFileError(path, None, f"demo suite v{manifest.get('version')}, but this evalkit generates "
                                         f"v{defn['version']}; load it from its own folder demo/v{defn['version']}")
    if manifest.get("definition_sha256") != definition_sha256(defn):
        raise InputFileError(path, None, f"generated from another definition of v{defn['version']} (data/demo.json "
                                         f"changed without a version bump?); delete {folder} to regenerate it")
    return manifest


def load_demo(suite: str, root: str | Path | None = None) -> Suite:
    """Load the demo suite from ``root`` (None: the configured cache), generating it there on first use.

    The sequence list, attributes and frame ranges come from the manifest; each ground-truth file is checked
    against its sha256 there. Family ``otb``, so the OTB profiles apply.
    """
    if suite.lower() != "demo":
        raise EvalkitError(f"load_demo loads the suite 'demo', not {suite!r}")
    defn = definition()
    folder = ensure_demo(root, defn)
    manifest = read_manifest(folder, defn)
    sequences = []
    for e in manifest["sequences"]:
        with per_sequence(e["name"]):
            path = folder / e["groundtruth"]
            try:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError as exc:
                raise InputFileError(path, None, f"cannot read: {exc.strerror}") from exc
            if digest != e["groundtruth_sha256"]:
                raise InputFileError(path, None, f"sha256 differs from {MANIFEST} (file changed since generation); "
                                                 f"delete {folder} to regenerate the demo suite")
            gt = read_box_file(path, expected_rows=e["end_frame"] - e["start_frame"] + 1, cached=True)
            frames = frame_paths(folder / e["name"] / "img", e["start_frame"], e["end_frame"], 4, "jpg")
            sequences.append(Sequence(name=e["name"], ground_truth=gt, frames=frames,
                                      attributes=frozenset(e["attributes"]), start_frame=e["start_frame"]))
    return Suite("demo", sequences, [e["name"] for e in defn["sequences"]], family="otb",
                 attribute_names=dict(manifest["attribute_names"]),
                 source=f"{folder} (generated demo suite v{manifest['version']}, seed {manifest['seed']})")
