"""The pipeline with ``model: auto``: the studio path on a plain backdrop, the model alone
elsewhere, the decision in the log and the signals, the disagreement flag, and the profile's
``shadow:`` on the new backdrop. (Tests of pipeline.py, split off to keep files short.)"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import studio_scenes as scenes
from conftest import FakeModel, make_profile
from studiocut.imaging import pipeline, triage

TRANSPARENT = {"backdrop": "transparent", "format": "png", "square": False}


def saved(tmp_path: Path, scene: scenes.Scene, name: str = "shot.png") -> Path:
    path = tmp_path / name
    Image.fromarray(scene.rgb).save(path)
    return path


class SceneModel(FakeModel):
    """Says what the scene's model-like mask says (at its own input size)."""

    def __init__(self, mask: np.ndarray) -> None:
        super().__init__(size=256)
        self.mask = mask

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        self.calls += 1
        return np.asarray(Image.fromarray(self.mask).resize((self.size, self.size)),
                          dtype=np.float32)


def test_auto_takes_the_studio_path_on_a_plain_backdrop_and_says_why(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    scene = scenes.contact_shadow()
    profile = make_profile(model="auto", **TRANSPARENT)

    with caplog.at_level(logging.INFO, logger="studiocut.imaging.pipeline"):
        cutout = pipeline.cut(saved(tmp_path, scene), SceneModel(scene.mask), profile)

    signals = cutout.signals
    assert signals is not None and signals.path == "studio"
    assert signals.decision is not None and "plain backdrop" in signals.decision
    assert signals.disagreement is not None and signals.disagreement < 0.3
    lines = [r.getMessage() for r in caplog.records if "studio path:" in r.getMessage()]
    assert len(lines) == 1 and "shot.png" in lines[0]
    alpha = cutout.image[..., 3]
    assert scene.shadow is not None
    clear = scene.shadow & (scenes.soft(scene.subject, 4) < 0.01)
    assert alpha[clear].mean() < 5  # the shadow is not subject


def test_auto_leaves_a_natural_background_to_the_model(tmp_path: Path) -> None:
    scene = scenes.natural()
    profile = make_profile(model="auto", **TRANSPARENT)
    model = SceneModel(scene.mask)

    auto = pipeline.cut(saved(tmp_path, scene), model, profile)
    plain = pipeline.cut(saved(tmp_path, scene), model, make_profile(**TRANSPARENT))

    assert auto.signals is not None and auto.signals.path == "model"
    assert auto.signals.decision is not None and "not a plain backdrop" in auto.signals.decision
    assert auto.signals.disagreement is None
    assert np.array_equal(auto.image, plain.image)  # exactly the model's cut-out


def test_an_explicit_model_keeps_todays_behaviour_and_records_no_decision(
        tmp_path: Path) -> None:
    scene = scenes.uneven_white()

    cutout = pipeline.cut(saved(tmp_path, scene), SceneModel(scene.mask),
                          make_profile(model="u2netp", **TRANSPARENT))

    assert cutout.signals is not None
    assert cutout.signals.path is None and cutout.signals.decision is None


def test_a_large_disagreement_between_key_and_model_is_flagged(tmp_path: Path) -> None:
    """The model calls half the sweep subject; the key does not."""
    scene = scenes.uneven_white()
    wrong = scene.mask.copy()
    wrong[:, scenes.W // 2:] = np.maximum(wrong[:, scenes.W // 2:], 0.7)
    wrong[:, -20:] = 0.0  # the border stays backdrop to the model
    profile = make_profile(model="auto", **TRANSPARENT)

    made = pipeline.make(saved(tmp_path, scene), SceneModel(wrong), profile)

    assert made.framed.signals is not None and made.framed.signals.path == "studio"
    assert any(f.startswith("the backdrop key and the model disagree on") for f in made.flags)
    calm = pipeline.make(saved(tmp_path, scene), SceneModel(scene.mask), profile)
    assert not any("disagree" in f for f in calm.flags)


def test_disagreement_is_the_share_of_the_subject_either_side_calls_alone() -> None:
    a = np.zeros((10, 10), np.float32)
    b = np.zeros((10, 10), np.float32)
    a[:, :4] = 1.0
    b[:, 2:6] = 1.0

    assert triage.disagreement(a, b) == pytest.approx(40 / 60)
    assert triage.disagreement(a, a) == 0.0
    assert triage.disagreement(np.zeros((3, 3)), np.zeros((3, 3))) == 0.0


# --------------------------------------------------------------------------- shadow


def render_on_white(tmp_path: Path, scene: scenes.Scene, **shadow: object) -> np.ndarray:
    profile = make_profile(model="auto", backdrop="#FFFFFF", format="png", square=False,
                           **shadow)
    return pipeline.cut(saved(tmp_path, scene), SceneModel(scene.mask), profile).image


def test_shadow_keep_lays_the_natural_shadow_on_the_new_backdrop(tmp_path: Path) -> None:
    scene = scenes.contact_shadow()
    assert scene.shadow is not None
    shade = scene.shadow & (scenes.soft(scene.subject, 4) < 0.01)

    none = render_on_white(tmp_path, scene)
    keep = render_on_white(tmp_path, scene, shadow="keep")

    assert none[shade].mean() > 250  # clean white where the old shadow was
    assert keep[shade].mean() < none[shade].mean() - 20  # the shadow, carried over
    assert (keep[:15] >= 254).all()  # nothing laid far from it
    inside = scene.mask > 0.99
    assert np.abs(keep[inside].astype(int) - none[inside]).max() <= 1  # subject untouched


def test_shadow_contact_draws_a_soft_shadow_under_the_footprint_only(tmp_path: Path) -> None:
    scene = scenes.uneven_white()
    rows = np.flatnonzero(scene.subject.any(axis=1))
    below = slice(rows[-1] + 3, rows[-1] + 8)
    centre = slice(110, 131)

    none = render_on_white(tmp_path, scene)
    contact = render_on_white(tmp_path, scene,
                              shadow={"contact": {"offset": 0.0, "blur": 0.03, "opacity": 0.6}})

    assert none[below, centre].mean() >= 250
    assert contact[below, centre].mean() < 220  # dark under the subject
    assert (contact[: rows[0] - 5] >= 254).all()  # nothing above it


def test_a_transparent_output_gets_no_shadow_unless_asked(tmp_path: Path) -> None:
    scene = scenes.contact_shadow()
    assert scene.shadow is not None
    shade = scene.shadow & (scenes.soft(scene.subject, 4) < 0.01)
    model = SceneModel(scene.mask)

    def alpha(**shadow: object) -> np.ndarray:
        profile = make_profile(model="auto", **TRANSPARENT, **shadow)
        return pipeline.cut(saved(tmp_path, scene), model, profile).image[..., 3]

    assert alpha()[shade].mean() < 5
    assert np.array_equal(alpha(shadow="keep"), alpha())
    asked = alpha(shadow={"keep": {}, "transparent": True})
    assert asked[shade].mean() > 20  # a partly opaque black shadow


def test_a_kept_shadow_moves_and_scales_with_a_framed_subject(tmp_path: Path) -> None:
    scene = scenes.contact_shadow()
    model = SceneModel(scene.mask)

    def framed(**shadow: object) -> np.ndarray:
        profile = make_profile(model="auto", square={"size": 300}, format="png", **shadow)
        return pipeline.cut(saved(tmp_path, scene), model, profile).image

    none, keep = framed(), framed(shadow="keep")

    darker = (none.astype(int) - keep).max(axis=2) > 10
    rows = np.flatnonzero(darker.any(axis=1))
    subject_rows = np.flatnonzero((none < 200).any(axis=(1, 2)))
    assert rows.size > 0 and subject_rows.size > 0
    assert rows.mean() > subject_rows.mean()  # under the subject, where it was cast
    assert keep.shape == (300, 300, 3)
