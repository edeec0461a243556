"""The studio path on small synthetic studio photos: the decision, the key against an
unevenly lit backdrop, shadows that are not subject, spill taken off, pale products kept by
the model's mask, and a natural background left to the model."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

import studio_scenes as scenes
from studiocut.imaging import studio, surface
from studiocut.imaging.matte import MattingFailed


def inner(mask: np.ndarray, px: int = 3) -> np.ndarray:
    """The mask without its outer ``px`` pixels (the soft edge both ways)."""
    kernel = np.ones((2 * px + 1, 2 * px + 1), np.uint8)
    return np.asarray(cv2.erode(mask.astype(np.uint8), kernel), dtype=bool)


def outer(mask: np.ndarray, px: int = 3) -> np.ndarray:
    kernel = np.ones((2 * px + 1, 2 * px + 1), np.uint8)
    return ~np.asarray(cv2.dilate(mask.astype(np.uint8), kernel), dtype=bool)


def test_an_unevenly_lit_white_sweep_is_plain_and_keyed_cleanly_on_its_dark_side() -> None:
    scene = scenes.uneven_white()

    result = studio.cut(scene.rgb, scene.mask)

    assert result.decision.plain
    assert "plain backdrop" in result.decision.reason
    assert result.alpha[inner(scene.subject)].min() > 0.9
    dark_side = outer(scene.subject).copy()
    dark_side[:, : scenes.W * 3 // 4] = False  # the far right lost 25-30 % of its light
    assert result.alpha[dark_side].max() < 0.05
    assert np.abs(result.alpha - scene.subject).mean() < np.abs(scene.mask - scene.subject).mean()


def test_a_contact_shadow_is_not_subject_but_is_kept_as_a_shadow_map() -> None:
    scene = scenes.contact_shadow()
    assert scene.shadow is not None
    shade = scene.shadow & outer(scene.subject, 6)

    result = studio.cut(scene.rgb, scene.mask)

    assert result.decision.plain
    assert scene.mask[shade].max() >= 0.5  # the model took the shadow for subject
    assert result.alpha[shade].mean() < 0.01  # the key did not
    assert np.percentile(result.alpha[shade], 99) < 0.1
    assert result.alpha[inner(scene.subject)].min() > 0.9
    assert result.shadow[shade].min() < 0.8  # the backdrop's light, darker there
    assert result.shadow[:20].min() > 0.97  # and unshaded far from it


def test_a_green_screens_spill_is_taken_off_the_subjects_rim() -> None:
    scene = scenes.green_spill()
    rim = scene.subject & ~inner(scene.subject, 3)

    result = studio.cut(scene.rgb, scene.mask)

    def green_excess(rgb: np.ndarray) -> float:
        pixels = rgb[rim].astype(np.float32)
        return float((pixels[:, 1] - pixels[:, [0, 2]].max(axis=1)).mean())

    assert result.decision.plain
    assert green_excess(scene.rgb) > 30
    assert green_excess(result.foreground) < 3
    centre = inner(scene.subject, 10)
    assert np.array_equal(result.foreground[centre], scene.rgb[centre])  # only the edge
    far = outer(scene.subject, 8)
    assert result.alpha[far].max() < 0.05  # the screen's dark side is not partial alpha


def test_a_pale_product_on_white_keeps_its_body_where_the_key_is_unsure() -> None:
    scene = scenes.pale_on_white()

    result = studio.cut(scene.rgb, scene.mask)

    assert result.decision.plain
    assert result.alpha[inner(scene.subject)].mean() > 0.95
    backdrop = result.alpha[outer(scene.subject)]
    assert backdrop.mean() < 0.005 and (backdrop > 0.1).mean() < 0.001


def test_a_natural_textured_background_goes_to_the_model_alone() -> None:
    scene = scenes.natural()

    result = studio.cut(scene.rgb, scene.mask)

    assert not result.decision.plain
    assert "not a plain backdrop" in result.decision.reason
    assert np.array_equal(result.alpha, scene.mask)
    assert (result.shadow == 1.0).all()


@pytest.mark.parametrize("scene", [scenes.natural, scenes.bokeh])
def test_a_natural_or_out_of_focus_background_is_not_a_plain_backdrop(
        scene: Callable[[], scenes.Scene]) -> None:
    photo = scene()

    result = studio.cut(photo.rgb, photo.mask)

    assert not result.decision.plain
    assert result.decision.statistic < surface.Params().plain_share
    assert np.array_equal(result.alpha, photo.mask)


def test_matting_that_cannot_solve_keeps_the_fused_alpha_and_says_why() -> None:
    trimap = np.full((20, 20), 0.5)
    trimap[:5] = 0.0  # no sure subject anywhere
    fallback = np.full((20, 20), 0.3, dtype=np.float32)
    rgb = np.zeros((20, 20, 3), np.uint8)

    alpha, failed = studio.solve_alpha(rgb, trimap, fallback, surface.Params())

    assert failed is not None and "no sure subject" in failed
    assert np.allclose(alpha[5:], 0.3) and (alpha[:5] == 0).all()
    with pytest.raises(MattingFailed):
        studio.closed_form(rgb, trimap)


def test_a_large_photo_is_cut_at_the_working_size_and_brought_back() -> None:
    scene = scenes.contact_shadow()

    big = studio.cut_at_most(scene.rgb, scene.mask, max_pixels=scene.rgb.size // 3 // 4)
    full = studio.cut(scene.rgb, scene.mask)

    assert big.alpha.shape == full.alpha.shape == scene.mask.shape
    assert big.shadow.shape == scene.mask.shape and big.foreground.shape == scene.rgb.shape
    assert np.abs(big.alpha - full.alpha).mean() < 0.02
    assert big.decision.plain
