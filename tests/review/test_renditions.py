"""renditions: a photo cut out again for a revision, a refined alpha carried back onto the
cut-out, every rendition rendered from it, and studiocut's fields of a revision's outputs."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from conftest import FakeModel, make_profile, product_photo
from journals import queue
from studiocut.imaging import pipeline
from studiocut.imaging.metadata import Own
from studiocut.journal import Journal
from studiocut.profiles import Profile
from studiocut.review import renditions

# a white square, a transparent cut-out at the photo's size, a portrait with a floor
THREE = [{"name": "white", "square": {"size": 200}},
         {"name": "cutout", "backdrop": "transparent", "format": "png", "folder": "png"},
         {"name": "portrait", "canvas": {"width": 100, "height": 144}, "fill": 0.85,
          "suffix": "_p"}]


@pytest.fixture
def profile() -> Profile:
    return make_profile(renditions=THREE)


@pytest.fixture
def cut(tmp_path: Path, profile: Profile) -> renditions.Recut:
    source = tmp_path / "shot.jpg"
    product_photo().save(source, quality=95)
    return renditions.recut(source, FakeModel(), profile, {})


def hole(alpha: np.ndarray) -> np.ndarray:
    """``alpha`` with the middle of the subject removed, as a brush would."""
    marked = alpha.copy()
    rows, cols = np.nonzero(alpha > 0.5)
    cy, cx = int(rows.mean()), int(cols.mean())
    marked[cy - 10 : cy + 10, cx - 10 : cx + 10] = 0.0
    return marked


def test_recut_frames_the_first_rendition_as_the_worker_did(
        tmp_path: Path, profile: Profile, cut: renditions.Recut) -> None:
    made = pipeline.make(tmp_path / "shot.jpg", FakeModel(), profile)

    assert cut.framed.layout == made.framed.layout
    np.testing.assert_array_equal(cut.framed.alpha, made.framed.alpha)
    assert cut.framed.alpha.shape == (200, 200)


def test_a_refined_alpha_is_carried_back_onto_the_cut_out(profile: Profile,
                                                          cut: renditions.Recut) -> None:
    marked = hole(cut.framed.alpha)

    subject = renditions.refined(cut, marked)

    again = pipeline.frame_subject(subject, profile.rendering(profile.all_renditions[0]))
    assert again.layout == cut.framed.layout  # the subject's box did not move
    error = np.abs(again.alpha - marked)
    kernel = np.ones((5, 5), np.uint8)
    edge = cv2.dilate(marked, kernel) != cv2.erode(marked, kernel)  # within 2 px of a step
    assert error[~edge].max() < 0.02  # the hole is where it was marked, not shifted
    assert error[edge].max() < 0.5  # resampled twice across a hard step
    untouched = np.abs(subject.alpha - cut.subject.alpha) == 0
    assert untouched.mean() > 0.9  # what was not marked keeps the cut-out's own pixels
    assert (subject.alpha <= cut.subject.alpha + 1e-6).all()  # a removal only removes


def test_the_8_bit_rounding_of_a_stored_alpha_is_no_change(cut: renditions.Recut) -> None:
    stored = np.round(cut.framed.alpha * 255) / 255

    assert renditions.refined(cut, stored.astype(np.float32)) is cut.subject


def test_render_all_renders_every_rendition_from_the_refined_subject(
        profile: Profile, cut: renditions.Recut) -> None:
    marked = hole(cut.framed.alpha)
    subject = renditions.refined(cut, marked)
    first = pipeline.Framed(cut.framed.before, marked, cut.framed.icc, cut.framed.metadata,
                            layout=cut.framed.layout)

    made = renditions.render_all(subject, FakeModel(), profile, lineups={},
                                 own=Own(revision="2"), first=first)

    assert [(m.name, m.ext, m.size) for m in made] == [
        ("white", "jpg", (200, 200)), ("cutout", "png", (400, 300)),
        ("portrait", "jpg", (100, 144))]
    with Image.open(io.BytesIO(made[1].data)) as image:
        alpha = np.asarray(image.getchannel("A"))
    assert alpha[160, 200] == 0 and alpha[100, 140] == 255  # the hole, in another canvas
    with Image.open(io.BytesIO(made[2].data)) as image:
        portrait = np.asarray(image.convert("RGB"), dtype=int)
    rows, cols = np.nonzero(np.abs(portrait - 255).max(axis=2) > 60)  # the red subject
    middle = portrait[(rows.min() + rows.max()) // 2, (cols.min() + cols.max()) // 2]
    assert middle.min() > 230, middle  # white backdrop through the hole


def test_own_names_the_job_s_sku_view_and_revision(tmp_path: Path) -> None:
    db = Journal(tmp_path / "j.db")
    try:
        first, second, plain = queue(db, "a.jpg"), queue(db, "b.jpg"), queue(db, "c.jpg")
        db.view_of(first, "test", "SKU-1")
        db.view_of(second, "test", "SKU-1")

        assert renditions.own(db, second, 3) == Own(sku="SKU-1", view="2", revision="3")
        assert renditions.own(db, plain, 2) == Own(revision="2")
    finally:
        db.close()


def test_lineups_are_the_sku_s_only_where_the_profile_keeps_them(tmp_path: Path) -> None:
    db = Journal(tmp_path / "j.db")
    try:
        job = queue(db, "a.jpg")
        db.view_of(job, "test", "SKU-1")
        db.keep_lineup("test", "SKU-1", "portrait", 0.25, 130, job)
        keeping = make_profile(renditions=THREE, sku={"from": "folder", "consistent": True})
        loose = make_profile(renditions=THREE, sku={"from": "folder", "consistent": False})

        (found,) = renditions.lineups(db, job, keeping).items()
        assert found[0] == "portrait" and (found[1].scale, found[1].floor) == (0.25, 130)
        assert renditions.lineups(db, job, loose) == {}
        assert renditions.lineups(db, queue(db, "b.jpg"), keeping) == {}  # no SKU
    finally:
        db.close()
