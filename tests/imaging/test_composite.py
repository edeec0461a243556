"""composite: the cut-out over its new backdrop, or kept with its alpha."""

from __future__ import annotations

import numpy as np

from studiocut.imaging import composite


def random_cutout(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    alpha = rng.random((37, 53), dtype=np.float32)
    alpha[0, :10] = 0.0  # the exact ends too
    alpha[1, :10] = 1.0
    return rgb, alpha


def test_over_a_colour_equals_alpha_blend_within_rounding() -> None:
    rgb, alpha = random_cutout()
    backdrop = (250, 128, 3)

    out = composite.over(rgb, alpha, backdrop)

    a = alpha[..., np.newaxis].astype(np.float64)
    exact = a * rgb + (1.0 - a) * np.asarray(backdrop, dtype=np.float64)
    assert out.dtype == np.uint8 and out.shape == rgb.shape
    assert np.abs(out - exact).max() <= 0.5 + 2e-3  # rounded (in float32), not truncated
    assert (out[0, :10] == backdrop).all()  # alpha 0: the backdrop alone
    assert (out[1, :10] == rgb[1, :10]).all()  # alpha 1: the subject alone


def test_over_a_canvas_taller_than_a_strip_blends_every_row() -> None:
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (composite.STRIP * 2 + 37, 50, 3), dtype=np.uint8)
    alpha = rng.random(rgb.shape[:2], dtype=np.float32)

    out = composite.over(rgb, alpha, (10, 250, 90))

    a = alpha[..., np.newaxis].astype(np.float64)
    exact = a * rgb + (1.0 - a) * np.asarray((10, 250, 90), dtype=np.float64)
    assert np.abs(out - exact).max() <= 0.5 + 5e-3  # float32 weights


def test_over_does_not_change_its_inputs() -> None:
    rgb, alpha = random_cutout(1)
    rgb_before, alpha_before = rgb.copy(), alpha.copy()
    composite.over(rgb, alpha, (255, 255, 255))
    assert np.array_equal(rgb, rgb_before) and np.array_equal(alpha, alpha_before)


def test_over_transparent_gives_rgba_with_alpha_from_alpha() -> None:
    rgb, alpha = random_cutout(2)

    out = composite.over(rgb, alpha, None)

    assert out.dtype == np.uint8 and out.shape == (37, 53, 4)
    seen = out[..., 3] > 0
    assert np.array_equal(out[seen, :3], rgb[seen])  # colour kept (not premultiplied)
    assert not out[~seen].any()  # and none where alpha is 0: no hidden old backdrop
    assert np.abs(out[..., 3] - alpha * 255.0).max() <= 0.5 + 1e-3
    assert (out[0, :10, 3] == 0).all() and (out[1, :10, 3] == 255).all()


def test_canvas_of_a_colour_is_filled_with_it() -> None:
    out = composite.canvas((30, 20), (12, 34, 56))
    assert out.shape == (20, 30, 3) and out.dtype == np.uint8
    assert (out == (12, 34, 56)).all()


def test_canvas_transparent_is_empty_rgba() -> None:
    out = composite.canvas((30, 20), None)
    assert out.shape == (20, 30, 4) and out.dtype == np.uint8
    assert not out.any()
