"""Crops around a target centre: the SiamFC release's corner rounding, mean-colour padding, and one-read pyramids."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from trackers.common.crops import (
    box_to_center,
    center_to_box,
    context_size,
    crop_and_resize,
    crop_corners,
    crop_pyramid,
    mean_colour,
    scale_factors,
)


def _reference_crop(img: np.ndarray, center_yx: np.ndarray, size: float, out: int, colour: np.ndarray) -> np.ndarray:
    """The release's algorithm written out independently: pad the whole image by the largest overflow, then cut."""
    size = round(size)
    start = np.round(center_yx - (size - 1) / 2)
    corners = np.concatenate((start, start + size)).astype(int)
    pads = np.concatenate((-corners[:2], corners[2:] - np.array(img.shape[:2])))
    npad = max(0, int(pads.max()))
    if npad > 0:
        img = cv2.copyMakeBorder(img, npad, npad, npad, npad, cv2.BORDER_CONSTANT, value=tuple(colour.tolist()))
    corners = corners + npad
    patch = img[corners[0]:corners[2], corners[1]:corners[3]]
    return cv2.resize(patch, (out, out), interpolation=cv2.INTER_LINEAR)


@pytest.fixture()
def image() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(90, 120, 3), dtype=np.uint8)


@pytest.mark.parametrize("center,size", [((60.0, 45.0), 30.4), ((2.5, 3.0), 41.0), ((119.0, 89.5), 77.7),
                                         ((-10.0, 40.0), 50.0), ((60.2, 44.7), 255.0)])
def test_matches_release_algorithm(image: np.ndarray, center: tuple[float, float], size: float) -> None:
    colour = np.round(mean_colour(image))
    ours = crop_and_resize(image, center, size, 63, padding="mean")
    ref = _reference_crop(image, np.array(center[::-1]), size, 63, colour)
    np.testing.assert_array_equal(ours, ref)


def test_inside_crop_is_exact_pixels(image: np.ndarray) -> None:
    patch = crop_and_resize(image, (20.0, 30.0), 11, 11)
    np.testing.assert_array_equal(patch, image[25:36, 15:26])  # x0 = round(20 - 5) = 15, y0 = 25


def test_outside_is_mean_colour_or_given(image: np.ndarray) -> None:
    colour = mean_colour(image)
    patch = crop_and_resize(image, (0.0, 0.0), 21, 21)
    np.testing.assert_array_equal(patch[0, 0], np.round(colour).astype(np.uint8))
    np.testing.assert_array_equal(patch[10:, 10:], image[:11, :11])
    patch = crop_and_resize(image, (0.0, 0.0), 21, 21, padding=(1, 2, 3))
    np.testing.assert_array_equal(patch[0, 0], [1, 2, 3])
    patch = crop_and_resize(image, (0.0, 0.0), 21, 21, padding="edge")
    np.testing.assert_array_equal(patch[0, 0], image[0, 0])


def test_pyramid_equals_separate_crops(image: np.ndarray) -> None:
    sizes = 70.0 * scale_factors(5, 1.0375)
    pyr = crop_pyramid(image, (100.3, 10.6), sizes, 47)
    assert pyr.shape == (5, 47, 47, 3) and pyr.dtype == np.uint8
    for s, p in zip(sizes, pyr, strict=True):
        np.testing.assert_array_equal(p, crop_and_resize(image, (100.3, 10.6), s, 47))


def test_rectangular_crop_and_output(image: np.ndarray) -> None:
    patch = crop_and_resize(image, (60.0, 45.0), (40.0, 20.0), (40, 20))
    assert patch.shape == (20, 40, 3)
    np.testing.assert_array_equal(patch, image[36:56, 40:80])  # x0 = round(40.5) = 40, y0 = round(35.5) = 36 (to even)
    assert crop_pyramid(image, (60, 45), [[40, 20], [80, 40]], (16, 8)).shape == (2, 8, 16, 3)


def test_grey_and_float_images() -> None:
    grey = np.arange(100, dtype=np.float32).reshape(10, 10)
    patch = crop_and_resize(grey, (4.5, 4.5), 10, 10)
    np.testing.assert_array_equal(patch, grey)
    assert crop_and_resize(grey, (0, 0), 6, 3).dtype == np.float32


def test_scale_factors_and_context() -> None:
    np.testing.assert_allclose(scale_factors(3, 1.0375), [1 / 1.0375, 1.0, 1.0375])
    assert scale_factors(1, 1.1).tolist() == [1.0]
    assert context_size((40, 10), 0.5) == pytest.approx(np.sqrt(65 * 35))
    corners = crop_corners((10.0, 10.0), [4.0, 5.0])  # two squares
    np.testing.assert_array_equal(corners, [[8, 8, 12, 12], [8, 8, 13, 13]])


def test_box_center_roundtrip() -> None:
    box = np.array([10.0, 20.0, 31.0, 15.0])
    c, s = box_to_center(box)
    np.testing.assert_allclose(c, [25.0, 27.0])
    np.testing.assert_allclose(center_to_box(c, s), box)


def test_bad_input_is_named(image: np.ndarray) -> None:
    with pytest.raises(ValueError, match="padding colour has 2 values"):
        crop_and_resize(image, (5, 5), 10, 10, padding=(1, 2))
    with pytest.raises(ValueError, match="finite"):
        crop_and_resize(image, (np.nan, 5), 10, 10)
    with pytest.raises(ValueError, match="at least half a pixel"):
        crop_and_resize(image, (5, 5), 0.0, 10)
    with pytest.raises(ValueError, match="padding must be"):
        crop_and_resize(image, (5, 5), 10, 10, padding="zero")
    with pytest.raises(ValueError, match="image"):
        crop_and_resize(np.zeros((0, 3, 3), np.uint8), (5, 5), 10, 10)
