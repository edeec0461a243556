"""pipeline with renditions: the model, matting and clean-up run once per photo; each
rendition is framed, rendered and encoded from that one cut-out."""

from __future__ import annotations

import io
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from conftest import FakeModel, make_profile, product_photo
from studiocut.imaging import frame, naming, pipeline

THREE = [
    {"name": "white", "square": {"size": 200}, "format": "jpeg"},
    {"name": "cutout", "backdrop": "transparent", "square": {"size": 160}, "folder": "png"},
    {"name": "zalando", "canvas": {"width": 100, "height": 144}, "fill": 0.85,
     "suffix": "_z"},
]


# review rules that the fake model's soft edges and small subjects do not break
QUIET = {"max_uncertain": None, "min_confidence": None, "min_area": None,
         "touches_border": False}


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_one_model_run_makes_three_renditions(photo: Path, fake_model: FakeModel) -> None:
    profile = make_profile(renditions=THREE)

    made = pipeline.make(photo, fake_model, profile)

    assert fake_model.calls == 1, "the model runs once for every rendition"
    white, cutout, zalando = (opened(r.data) for r in made.renditions)
    assert [r.name for r in made.renditions] == ["white", "cutout", "zalando"]
    assert (white.format, white.mode, white.size) == ("JPEG", "RGB", (200, 200))
    assert (cutout.format, cutout.mode, cutout.size) == ("PNG", "RGBA", (160, 160))
    assert (zalando.format, zalando.size) == ("JPEG", (100, 144))
    assert made.data is made.renditions[0].data and made.framed is made.renditions[0].framed


def test_the_matting_and_clean_up_run_once_too(photo: Path, fake_model: FakeModel,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from studiocut.imaging import matte

    calls = {"refine": 0}
    real = matte.refine

    def counted(*args: object, **kwargs: object) -> np.ndarray:
        calls["refine"] += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(matte, "refine", counted)
    pipeline.make(photo, fake_model, make_profile(matting=True, renditions=THREE))
    assert calls["refine"] == 1


@pytest.mark.parametrize("renditions", [None, THREE])
def test_the_cut_outs_pixels_are_let_go_before_the_last_rendition_is_rendered(
        photo: Path, fake_model: FakeModel, monkeypatch: pytest.MonkeyPatch,
        renditions: list[dict[str, object]] | None) -> None:
    """The cut-out (the region's colour and alpha) is the largest thing a photo holds while
    it is rendered; once the last rendition is framed on a canvas of its own it is not
    needed (the peak RSS). (Framing that only crops keeps views of it: nothing to free.)"""
    kept: list[weakref.ref[np.ndarray]] = []
    alive: list[bool] = []
    cut_located, render = pipeline.cut_located, pipeline.render

    def cut(*args: Any, **kwargs: Any) -> pipeline.Subject:
        subject = cut_located(*args, **kwargs)
        kept.extend((weakref.ref(subject.rgb), weakref.ref(subject.alpha)))
        return subject

    def rendered(*args: Any, **kwargs: Any) -> np.ndarray:
        alive.append(any(ref() is not None for ref in kept))
        return render(*args, **kwargs)

    monkeypatch.setattr(pipeline, "cut_located", cut)
    monkeypatch.setattr(pipeline, "render", rendered)
    pipeline.make(photo, fake_model, make_profile(square={"size": 200}, renditions=renditions))

    assert alive == ([True, True, False] if renditions else [False])


def test_a_profile_without_renditions_makes_what_it_made_before(
        photo: Path, fake_model: FakeModel) -> None:
    profile = make_profile(square={"size": 200})
    made = pipeline.make(photo, fake_model, profile)
    (only,) = made.renditions
    assert only.name == "default" and only.data == made.data
    assert opened(made.data).size == (200, 200)


def test_process_writes_every_rendition_into_its_folder_with_its_name(
        photo: Path, out: Path, fake_model: FakeModel) -> None:
    outcome = pipeline.process(photo, fake_model, make_profile(renditions=THREE),
                               output_root=out, relative_dir=Path("shoes"))

    assert outcome.ok, outcome.message
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "png/shoes/shot.png", "shoes/shot.jpg", "shoes/shot_z.jpg"]
    assert outcome.output == out / "shoes" / "shot.jpg"
    assert fake_model.calls == 1


def test_a_set_lineup_is_followed_and_a_misfit_is_flagged(tmp_path: Path) -> None:
    small = tmp_path / "small.jpg"
    product_photo((400, 300), (170, 130, 230, 190)).save(small, quality=95)  # 60 x 60
    profile = make_profile(square={"size": 200, "margin": 0.1, "max_upscale": 8},
                           review=QUIET)
    own = pipeline.make(small, FakeModel(), profile)
    assert own.framed.layout is not None and own.framed.layout.placed[0] > 150

    lineup = frame.Lineup(1.0, 190)  # one canvas pixel per source pixel: 60 px, not 160
    lined = pipeline.make(small, FakeModel(), profile, lineups={"default": lineup},
                          product=naming.Product("SKU1", 2))
    assert lined.framed.layout is not None and lined.framed.layout.lineup == lineup
    assert lined.framed.layout.scale == pytest.approx(1.0)
    assert lined.framed.layout.placed[0] < 100  # the subject's own size, not fitted to 160
    rows = np.flatnonzero((lined.framed.alpha > frame.SUBJECT_THRESHOLD).any(axis=1))
    assert lined.framed.layout.floor == 190 and abs(rows[-1] + 1 - 190) <= 1
    assert lined.flags == ()

    too_big = frame.Lineup(5.0, 190)
    misfit = pipeline.make(small, FakeModel(), profile, lineups={"default": too_big},
                           product=naming.Product("SKU1", 3))
    assert misfit.framed.layout is not None and misfit.framed.layout.lineup is None
    (flag,) = misfit.flags
    assert "SKU1" in flag and "framed on its own" in flag


def test_a_misfit_of_one_rendition_says_which(photo: Path, fake_model: FakeModel) -> None:
    profile = make_profile(renditions=THREE, review=QUIET)
    made = pipeline.make(photo, fake_model, profile,
                         lineups={"zalando": frame.Lineup(50.0, 100)},
                         product=naming.Product("A-1", 2))
    (flag,) = made.flags
    assert flag.startswith("rendition zalando: ")
    assert made.renditions[2].flags == (flag,) and made.renditions[0].flags == ()


def test_no_flags_at_all_with_review_off(photo: Path, fake_model: FakeModel) -> None:
    profile = make_profile(renditions=THREE, review=False)
    made = pipeline.make(photo, fake_model, profile,
                         lineups={"zalando": frame.Lineup(50.0, 100)},
                         product=naming.Product("A-1", 2))
    assert made.flags == ()


def test_a_rendition_that_breaks_its_presets_rules_is_flagged_with_the_reason(
        photo: Path, fake_model: FakeModel) -> None:
    # the presets set the canvas, fill, format and quality; the profile's own framing keys
    # they do not set (max_upscale here: the test photo is small) stay
    profile = make_profile(review=QUIET, square={"max_upscale": 16}, renditions=[
        {"name": "amazon", "preset": "amazon"},
        {"name": "amazon-png", "preset": "amazon", "format": "webp"},
        {"name": "free", "folder": "free"}])
    made = pipeline.make(photo, fake_model, profile)

    amazon, webp, free = made.renditions
    assert opened(amazon.data).size == (2000, 2000) and amazon.flags == ()
    assert webp.flags and all(f.startswith("rendition amazon-png: amazon: ") for f in webp.flags)
    assert any("webp" in f.lower() for f in webp.flags), webp.flags
    assert free.flags == ()
    assert made.flags == webp.flags
