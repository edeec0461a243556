"""revisions: keeping a worker's result, refining and re-running it, the views of a revision
and purging old ones, on real journal rows, artefacts and output files.

Each photo goes through the worker's steps (enqueue, claim, ``pipeline.process`` with
``holding`` and ``keep``, ``Desk.keep``, finish) with the fake model, in tmp folders
(tests/desk_bench.py). Also here: the pipeline's holding and keeping that ``keep`` relies on."""

from __future__ import annotations

import dataclasses
import io
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image

from conftest import FakeModel, make_profile
from desk_bench import REMOVE_MIDDLE, WHOLE_FRAME, Bench, jpeg_rgb, make_bench
from image_files import xmp_properties
from studiocut import journal
from studiocut.imaging import encode, pipeline
from studiocut.imaging.metadata import Metadata
from studiocut.journal import Identity, Revision
from studiocut.review.artefacts import View
from studiocut.review.lookup import Refused

# --------------------------------------------------------------------------- keep


def test_keep_stores_the_first_revision_with_its_artefacts(bench: Bench) -> None:
    job_id = bench.shoot()

    [rev] = bench.journal.revisions(job_id)
    assert (rev.number, rev.kind, rev.params, rev.status, rev.size, rev.ext) == (
        1, "auto", {"framing": WHOLE_FRAME}, journal.PUBLISHED, (400, 300), "jpg")
    assert rev.folder.startswith(f"{job_id}/")
    assert bench.store.result(rev) == bench.output()  # the bytes published are the revision
    assert not bench.store.has_before(rev)  # unflagged: framed again when first asked for
    job = bench.job(job_id)
    assert (job.review, job.published, job.output) == ("none", 1, bench.out / "shot.jpg")


def test_a_published_first_revision_shares_the_output_file_until_it_is_replaced(
    bench: Bench,
) -> None:
    job_id = bench.shoot()
    first = bench.revision(job_id, 1)
    kept = bench.store.folder(first) / "result.jpg"
    assert kept.stat().st_ino == (bench.out / "shot.jpg").stat().st_ino  # no second copy
    original = bench.output()

    bench.desk.publish(bench.desk.refine(job_id, REMOVE_MIDDLE).id)

    assert bench.output() != original
    assert kept.read_bytes() == original  # the replace made a new file; this one stayed


def test_a_held_result_is_kept_but_not_published(held: Bench) -> None:
    job_id = held.shoot()

    job = held.job(job_id)
    assert (job.review, job.published) == ("held", None)
    assert held.output() is None and list(held.out.iterdir()) == []
    assert held.revision(job_id, 1).status == journal.READY
    assert held.store.has_before(held.revision(job_id, 1))  # stored at once: it will be seen


@pytest.mark.parametrize("keys", [{"review": {"min_area": 0.5}}, {"after": "delete"}],
                         ids=["flagged", "original-to-be-deleted"])
def test_keep_stores_the_framed_original_at_once_where_it_will_be_needed(
    tmp_path: Path, keys: dict[str, object]
) -> None:
    bench = make_bench(tmp_path, "none", **keys)
    try:
        job_id = bench.shoot()

        assert bench.store.has_before(bench.revision(job_id, 1))
        assert bench.job(job_id).flags == (("subject too small: 22.2% of the frame (limit 50%)",)
                                           if "review" in keys else ())
    finally:
        bench.journal.close()


# --------------------------------------------------------------------------- refine


def test_refine_makes_a_candidate_and_publish_of_an_earlier_revision_reverts(
    bench: Bench,
) -> None:
    job_id = bench.shoot()
    first = bench.output()

    candidate = bench.desk.refine(job_id, REMOVE_MIDDLE)

    assert (candidate.number, candidate.kind, candidate.status) == (2, "refine", journal.READY)
    assert candidate.params == {**REMOVE_MIDDLE, "base": 1, "framing": WHOLE_FRAME}
    assert bench.output() == first  # a candidate is not published by itself
    _, alpha = bench.store.layers(candidate)
    assert alpha[160, 200] == 0.0 and alpha[100, 140] == 1.0
    assert jpeg_rgb(bench.store.result(candidate))[160, 200].min() > 240  # white backdrop

    job = bench.desk.publish(candidate.id)
    assert (job.published, job.review) == (2, "approved")
    assert bench.output() == bench.store.result(candidate)

    job = bench.desk.publish(bench.revision(job_id, 1).id)
    assert job.published == 1
    assert bench.output() == first
    assert [r.status for r in bench.journal.revisions(job_id)] == [journal.PUBLISHED,
                                                                   journal.READY]


def test_refine_builds_on_the_revision_it_is_given(bench: Bench) -> None:
    job_id = bench.shoot()
    bench.desk.refine(job_id, REMOVE_MIDDLE)

    again = bench.desk.refine(job_id, {"strokes": [
        {"mode": "remove", "radius": 5, "points": [[130, 90]]}]}, base_number=2)
    fresh = bench.desk.refine(job_id, {}, base_number=1)

    _, alpha = bench.store.layers(again)
    assert again.params["base"] == 2 and alpha[160, 200] == 0.0 and alpha[90, 130] == 0.0
    _, alpha = bench.store.layers(fresh)
    assert fresh.params["base"] == 1 and alpha[160, 200] == 1.0


def test_refine_with_a_point_runs_the_segmenter_and_records_which(bench: Bench) -> None:
    job_id = bench.shoot()

    candidate = bench.desk.refine(job_id, {"points": [{"x": 30, "y": 30, "label": 0}]})

    assert candidate.params["segmenter"] == "grabcut"
    _, alpha = bench.store.layers(candidate)
    assert alpha[160, 200] == 1.0 and alpha[30, 30] == 0.0


def mark_review_copy_blue(bench: Bench, revision: Revision) -> None:
    """Paint the revision's review copy (before.jpg) blue, so its use shows."""
    folder = bench.store.folder(revision)
    w, h = revision.size
    blue = np.zeros((h, w, 3), np.uint8)
    blue[..., 0] = 255  # BGR
    cv2.imwrite(str(folder / "before.jpg"), blue)


def test_refine_uses_the_originals_own_pixels_while_it_is_there(held: Bench) -> None:
    job_id = held.shoot()
    mark_review_copy_blue(held, held.revision(job_id, 1))

    candidate = held.desk.refine(job_id, REMOVE_MIDDLE)

    before, _ = held.store.layers(candidate)
    assert np.abs(before[100, 140].astype(int) - (200, 30, 30)).max() < 12  # the red subject
    assert np.abs(before[10, 10].astype(int) - (235, 235, 235)).max() < 8


def test_refine_falls_back_to_the_review_copy_when_the_original_is_gone(held: Bench) -> None:
    job_id = held.shoot()
    mark_review_copy_blue(held, held.revision(job_id, 1))
    (held.watch / "shot.jpg").unlink()

    candidate = held.new_desk().refine(job_id, REMOVE_MIDDLE)

    before, alpha = held.store.layers(candidate)
    assert np.abs(before[100, 140].astype(int) - (0, 0, 255)).max() < 8
    assert alpha[160, 200] == 0.0


def test_a_revision_s_file_names_the_profile_and_model_that_made_it(held: Bench) -> None:
    """studiocut's XMP fields: for a rerun with another profile, and for a refine made from
    the review copy, where the original (and its own metadata) is gone."""
    job_id = held.shoot()
    rerun = held.desk.rerun(job_id, profile_name="web")
    (held.watch / "shot.jpg").unlink()
    refined = held.new_desk().refine(job_id, REMOVE_MIDDLE, base_number=1)

    for revision, profile in ((rerun, "web"), (refined, "test")):
        result = held.store.folder(revision) / f"result.{revision.ext}"
        with Image.open(result) as image:
            properties = xmp_properties(image.info["xmp"])
        assert properties["studiocut:Profile"] == [profile]
        assert properties["studiocut:Model"] == ["u2netp"]


def test_refine_without_the_original_or_a_review_copy_cannot_be_done(bench: Bench) -> None:
    job_id = bench.shoot()  # unflagged: no review copy stored
    (bench.watch / "shot.jpg").unlink()

    with pytest.raises(FileNotFoundError, match=r"shot\.jpg: the original is gone"):
        bench.new_desk().refine(job_id, REMOVE_MIDDLE)
    assert len(bench.journal.revisions(job_id)) == 1


def test_a_refine_of_a_photo_shot_again_meanwhile_is_refused(bench: Bench) -> None:
    job_id = bench.shoot()
    source = bench.watch / "shot.jpg"
    original_identity = bench.job(job_id).identity
    real_render = pipeline.render

    def reshoot_during_render(*args: object, **kwargs: object) -> np.ndarray:
        source.write_bytes(source.read_bytes() + b"\0")  # the photographer shoots again
        bench.journal.enqueue("test", source, Identity.of(source.stat()), "v1")
        return real_render(*args, **kwargs)  # type: ignore[arg-type]

    pipeline.render = reshoot_during_render  # type: ignore[assignment]
    try:
        with pytest.raises(Refused, match="shot again meanwhile"):
            bench.desk.refine(job_id, REMOVE_MIDDLE)
    finally:
        pipeline.render = real_render  # type: ignore[assignment]

    assert bench.job(job_id).identity != original_identity
    assert all(r.status == journal.DISCARDED for r in bench.journal.revisions(job_id))
    assert {p.name for p in (bench.store.root / str(job_id)).iterdir()} == {
        r.folder.split("/")[1] for r in bench.journal.revisions(job_id)}  # no stray folder


# --------------------------------------------------------------------------- media


def test_media_frames_the_original_again_for_a_revision_stored_without_it(
    bench: Bench,
) -> None:
    job_id = bench.shoot()
    rev = bench.revision(job_id, 1)

    data, content_type = bench.desk.media(rev, "before", View())

    assert content_type == "image/jpeg" and bench.store.has_before(rev)
    shown = jpeg_rgb(data)
    assert shown.shape == (300, 400, 3)
    assert np.abs(shown[100, 140].astype(int) - (200, 30, 30)).max() < 12
    assert bench.desk.media(rev, "mask", View())[1] == "image/png"
    cutout, _ = bench.desk.media(rev, "cutout", View())
    with Image.open(io.BytesIO(cutout)) as image:
        assert (image.mode, image.size) == ("RGBA", (400, 300))


def test_media_needing_the_original_fails_once_it_is_gone_or_frames_differently(
    bench: Bench,
) -> None:
    job_id = bench.shoot()
    rev = bench.revision(job_id, 1)
    square = dataclasses.replace(make_profile(square={"size": 500}), name="test",
                                 watch=bench.watch, output=bench.out)
    bench.profiles.table["test"] = (square, FakeModel())

    with pytest.raises(FileNotFoundError, match="no longer frames like this revision"):
        bench.desk.media(rev, "overlay", View())
    (bench.watch / "shot.jpg").unlink()
    with pytest.raises(FileNotFoundError, match="the original is gone"):
        bench.desk.media(rev, "before", View())
    assert not bench.store.has_before(rev)


# --------------------------------------------------------------------------- rerun


def test_rerun_cuts_the_original_again_with_another_profile(bench: Bench) -> None:
    job_id = bench.shoot()
    first = bench.output()

    candidate = bench.desk.rerun(job_id, profile_name="web")

    assert (candidate.number, candidate.kind, candidate.ext) == (2, "rerun", "png")
    assert {k: candidate.params[k] for k in ("profile", "model")} == {"profile": "web",
                                                                       "model": "u2netp"}
    with Image.open(bench.store.folder(candidate) / "result.png") as image:
        assert (image.mode, image.size) == ("RGBA", (400, 300))

    bench.desk.publish(candidate.id)  # another format: the old file goes
    assert bench.output("shot.png") == bench.store.result(candidate)
    assert bench.output("shot.jpg") is None

    bench.desk.publish(bench.revision(job_id, 1).id)  # and back
    assert bench.output("shot.jpg") == first
    assert bench.output("shot.png") is None
    assert sorted(p.name for p in bench.out.iterdir()) == ["shot.jpg"]


def test_rerun_uses_the_original_where_after_moved_it(bench: Bench) -> None:
    moved = bench.tmp / "done" / "shot.jpg"
    job_id = bench.shoot(original=moved)
    assert not (bench.watch / "shot.jpg").exists()

    candidate = bench.desk.rerun(job_id)

    assert candidate.kind == "rerun" and candidate.params["profile"] == "test"


def test_rerun_is_refused_once_the_original_is_gone(bench: Bench) -> None:
    job_id = bench.shoot()
    (bench.watch / "shot.jpg").unlink()

    with pytest.raises(Refused, match="the original is gone") as refused:
        bench.desk.rerun(job_id)

    assert refused.value.status == 409
    assert len(bench.journal.revisions(job_id)) == 1


def test_rerun_with_an_unknown_profile_is_a_bad_request(bench: Bench) -> None:
    job_id = bench.shoot()

    with pytest.raises(Refused, match="no running profile named 'nope'") as refused:
        bench.desk.rerun(job_id, profile_name="nope")

    assert refused.value.status == 400


# --------------------------------------------------------------------------- purge


def test_purge_removes_old_revisions_but_not_the_output(bench: Bench) -> None:
    job_id = bench.shoot()
    output = bench.output()
    candidate = bench.desk.refine(job_id, REMOVE_MIDDLE)
    published = bench.revision(job_id, 1)
    stray = bench.store.root / "99" / "leftover"
    stray.mkdir(parents=True)
    os.utime(stray, (time.time() - 7200, time.time() - 7200))  # left by a crash, long ago

    removed = bench.desk.purge(keep_days=-1)  # everything counts as old

    assert removed == 3  # both revisions and the stray folder
    assert not bench.store.folder(candidate).exists() and not stray.parent.exists()
    assert not bench.store.folder(published).exists()
    assert [r.status for r in bench.journal.revisions(job_id)] == [journal.DISCARDED] * 2
    assert bench.output() == output  # the published result stays in the output folder
    assert bench.job(job_id).published == 1
    with pytest.raises(Refused) as refused:
        bench.desk.publish(candidate.id)
    assert refused.value.status == 404
    assert bench.desk.purge(keep_days=-1) == 0


def test_purge_keeps_recent_revisions(bench: Bench) -> None:
    job_id = bench.shoot()
    candidate = bench.desk.refine(job_id, REMOVE_MIDDLE)

    assert bench.desk.purge(keep_days=30) == 0
    assert bench.store.folder(candidate).is_dir()


def test_purge_keeps_what_a_person_still_has_to_decide(held: Bench) -> None:
    job_id = held.shoot()  # held: its only copy is the revision

    assert held.desk.purge(keep_days=-1) == 0

    assert held.store.folder(held.revision(job_id, 1)).is_dir()
    held.desk.approve(job_id)
    assert held.output() is not None


# --------------------------------------------------------------------------- pipeline


def test_process_holding_a_result_writes_nothing_and_keeps_its_bytes(
    photo: Path, out: Path, fake_model: FakeModel
) -> None:
    profile = make_profile(review={"hold": "all"})

    outcome = pipeline.process(photo, fake_model, profile, output_root=out, holding=True,
                               keep=True)

    assert outcome.ok and outcome.held
    assert outcome.output == out / "shot.jpg" and list(out.iterdir()) == []
    assert outcome.framed is not None and outcome.data is not None
    framed = outcome.framed
    assert framed.before.shape == (300, 400, 3) and framed.before.dtype == np.uint8
    assert framed.alpha.shape == (300, 400) and framed.alpha.dtype == np.float32
    image = pipeline.render(framed.before, framed.alpha, fake_model, profile)
    assert outcome.data == encode.encode(image, profile.encoding, icc=framed.icc,
                                         metadata=framed.metadata)
    with Image.open(photo) as original:  # framed.before is the original's own pixels
        assert np.abs(framed.before.astype(int) - np.asarray(original, int)).max() == 0


def test_process_without_holding_writes_the_result_as_before(
    photo: Path, out: Path, fake_model: FakeModel
) -> None:
    profile = make_profile(review={"hold": "all"})

    outcome = pipeline.process(photo, fake_model, profile, output_root=out, keep=True)
    plain = pipeline.process(photo, fake_model, profile, output_root=out,
                             dest=out / "plain.jpg")

    assert outcome.ok and not outcome.held
    assert outcome.output is not None and outcome.output.read_bytes() == outcome.data
    assert (plain.framed, plain.data, plain.held) == (None, None, False)
    assert (out / "plain.jpg").read_bytes() == outcome.data


def test_process_holding_only_what_the_profile_holds(
    photo: Path, out: Path, fake_model: FakeModel
) -> None:
    profile = make_profile(review={"hold": "flagged"})  # this photo raises no flag

    outcome = pipeline.process(photo, fake_model, profile, output_root=out, holding=True)

    assert outcome.flags == () and not outcome.held
    assert (out / "shot.jpg").is_file()
    assert pipeline.holds(profile, ("too small",))
    assert not pipeline.holds(make_profile(review=False), ("too small",))


def test_render_of_the_framed_layers_is_the_cut_image(
    photo: Path, fake_model: FakeModel
) -> None:
    profile = make_profile(matting={"decontaminate": False})

    cut = pipeline.cut(photo, fake_model, profile)
    again = pipeline.render(cut.framed.before, cut.framed.alpha, fake_model, profile)
    cleaned = pipeline.render(cut.framed.before, cut.framed.alpha, fake_model, profile,
                              decontaminate=True)

    assert np.array_equal(again, cut.image)
    assert not np.array_equal(cleaned, cut.image)  # the override reaches the edge pixels


def test_a_revision_records_which_path_model_auto_took_and_why() -> None:
    from studiocut.imaging.triage import Signals
    from studiocut.review.revisions import backdrop

    layers = np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.float32)
    signals = Signals(uncertain=0.0, touches_border=False, area=0.3, subjects=1,
                      confidence=1.0, path="studio", decision="64% of the border ...")
    auto = pipeline.Framed(*layers, None, Metadata(), signals)
    explicit = pipeline.Framed(*layers, None, Metadata(), dataclasses.replace(
        signals, path=None, decision=None))

    assert backdrop(auto) == {"backdrop": {"path": "studio",
                                           "decision": "64% of the border ..."}}
    assert backdrop(explicit) == {}


# --------------------------------------------------------------------------- renditions

THREE = [{"name": "white"},
         {"name": "cutout", "backdrop": "transparent", "format": "png", "folder": "png"},
         {"name": "portrait", "canvas": {"width": 100, "height": 144}, "fill": 0.85,
          "suffix": "_p"}]


@pytest.fixture
def listing(tmp_path: Path) -> Iterator[Bench]:
    """Every photo is held, and delivered as three renditions."""
    made = make_bench(tmp_path, "all", renditions=THREE)
    yield made
    made.journal.close()


def rendition_alpha(bench: Bench, revision: Revision, name: str) -> np.ndarray:
    with Image.open(io.BytesIO(bench.store.rendition(revision, name))) as image:
        return np.asarray(image.getchannel("A") if image.mode == "RGBA" else
                          image.convert("L"), dtype=int)


def portrait_middle(bench: Bench, revision: Revision) -> np.ndarray:
    """The colour at the middle of the portrait rendition's subject."""
    with Image.open(io.BytesIO(bench.store.rendition(revision, "portrait"))) as image:
        rgb = np.asarray(image.convert("RGB"), dtype=int)
    rows, cols = np.nonzero(np.abs(rgb - 255).max(axis=2) > 60)
    return rgb[(rows.min() + rows.max()) // 2, (cols.min() + cols.max()) // 2]


def test_refine_renders_every_rendition_again_from_the_refined_alpha(listing: Bench) -> None:
    job_id = listing.shoot(sku="SKU-7")
    first = listing.revision(job_id, 1)

    candidate = listing.desk.refine(job_id, REMOVE_MIDDLE)

    listed = candidate.params["renditions"]
    assert [(r["name"], r["ext"], r["output"], r["size"]) for r in listed] == [
        ("white", "jpg", "shot.jpg", [400, 300]), ("cutout", "png", "shot.png", [400, 300]),
        ("portrait", "jpg", "shot_p.jpg", [100, 144])]
    assert jpeg_rgb(listing.store.rendition(candidate, "white"))[160, 200].min() > 240
    assert rendition_alpha(listing, first, "cutout")[160, 200] == 255
    assert rendition_alpha(listing, candidate, "cutout")[160, 200] == 0
    assert rendition_alpha(listing, candidate, "cutout")[100, 140] == 255
    assert portrait_middle(listing, first)[0] > 150 and portrait_middle(listing, first)[1] < 80
    assert portrait_middle(listing, candidate).min() > 230  # the backdrop, through the hole


def test_approving_a_refined_photo_publishes_all_its_renditions_together(
        listing: Bench) -> None:
    job_id = listing.shoot()
    candidate = listing.desk.refine(job_id, REMOVE_MIDDLE)
    assert not [p for p in listing.out.rglob("*") if p.is_file()]  # held

    listing.desk.approve(job_id)

    job = listing.job(job_id)
    assert (job.review, job.published) == ("approved", candidate.number)
    outputs = dict(listing.journal.outputs_of(job_id))
    assert sorted(p.relative_to(listing.out).as_posix() for p in outputs.values()) == [
        "png/shot.png", "shot.jpg", "shot_p.jpg"]
    for name, path in outputs.items():
        assert path.read_bytes() == listing.store.rendition(candidate, name), name
    assert listing.journal.staged_outputs() == {}

    listing.desk.publish(listing.revision(job_id, 1).id)  # back to the worker's, all three
    for name, path in outputs.items():
        assert path.read_bytes() == listing.store.rendition(listing.revision(job_id, 1),
                                                            name), name


def test_rerun_makes_every_rendition_with_one_model_run(listing: Bench) -> None:
    job_id = listing.shoot()
    counting = FakeModel()
    listing.profiles.table["test"] = (listing.profile, counting)

    candidate = listing.desk.rerun(job_id)

    assert counting.calls == 1
    assert [r["name"] for r in candidate.params["renditions"]] == [
        "white", "cutout", "portrait"]
    for name in ("white", "cutout", "portrait"):  # the same cut: the same pixels
        made, kept = (listing.store.rendition(r, name)
                      for r in (candidate, listing.revision(job_id, 1)))
        assert made != kept  # their XMP says which revision each is
        with Image.open(io.BytesIO(made)) as a, Image.open(io.BytesIO(kept)) as b:
            assert np.array_equal(np.asarray(a), np.asarray(b)), name
    listing.desk.publish(candidate.id)
    assert listing.job(job_id).published == candidate.number


def test_rerun_with_a_profile_of_other_renditions_is_refused(listing: Bench) -> None:
    job_id = listing.shoot()

    with pytest.raises(Refused, match=r"profile web makes default \(\.png\), but this photo "
                                      r"was delivered as white \(shot\.jpg\)") as refused:
        listing.desk.rerun(job_id, profile_name="web")

    assert refused.value.status == 400
    assert len(listing.journal.revisions(job_id)) == 1


def test_refine_of_several_renditions_needs_the_original(listing: Bench) -> None:
    job_id = listing.shoot()
    (listing.watch / "shot.jpg").unlink()

    with pytest.raises(Refused, match="its other renditions cannot be made again"):
        listing.new_desk().refine(job_id, REMOVE_MIDDLE)
    assert len(listing.journal.revisions(job_id)) == 1


def test_every_output_of_a_refine_and_a_rerun_names_its_sku_view_and_revision(
        listing: Bench) -> None:
    listing.shoot("front.jpg", sku="SKU-7")
    job_id = listing.shoot("back.jpg", sku="SKU-7")

    refined = listing.desk.refine(job_id, REMOVE_MIDDLE)
    rerun = listing.desk.rerun(job_id)

    for revision, number in ((listing.revision(job_id, 1), "1"), (refined, "2"),
                             (rerun, "3")):
        for rendition in revision.params["renditions"]:
            data = listing.store.rendition(revision, rendition["name"])
            with Image.open(io.BytesIO(data)) as image:
                properties = xmp_properties(image.info["xmp"])
            assert {k: properties.get(f"studiocut:{k}") for k in (
                "SKU", "View", "Revision", "Profile", "Model")} == {
                "SKU": ["SKU-7"], "View": ["2"], "Revision": [number], "Profile": ["test"],
                "Model": ["u2netp"]}, (number, rendition["name"])


def test_a_refine_from_the_review_copy_names_its_revision(held: Bench) -> None:
    job_id = held.shoot(sku="SKU-9")
    (held.watch / "shot.jpg").unlink()

    refined = held.new_desk().refine(job_id, REMOVE_MIDDLE)

    with Image.open(held.store.folder(refined) / "result.jpg") as image:
        properties = xmp_properties(image.info["xmp"])
    assert (properties["studiocut:SKU"], properties["studiocut:View"],
            properties["studiocut:Revision"]) == (["SKU-9"], ["1"], ["2"])


def test_a_revision_numbered_by_another_meanwhile_is_made_again_with_its_number(
        listing: Bench, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two refines of one photo at once: the one recorded second is numbered after the
    first, and its outputs must say so."""
    job_id = listing.shoot()
    real_write = listing.store.write
    writes: list[str] = []

    def another_refine_meanwhile(*args: Any, **kwargs: Any) -> str:
        folder = real_write(*args, **kwargs)
        writes.append(folder)
        if len(writes) == 1:
            listing.journal.add_revision(job_id, "refine", {}, (400, 300), "jpg",
                                         real_write(*args, **kwargs))
        return folder

    monkeypatch.setattr(listing.store, "write", another_refine_meanwhile)
    candidate = listing.desk.refine(job_id, REMOVE_MIDDLE)

    assert candidate.number == 3 and len(writes) == 2
    assert not (listing.store.root / writes[0]).exists()  # the one numbered 2: gone
    with Image.open(io.BytesIO(listing.store.rendition(candidate, "cutout"))) as image:
        assert xmp_properties(image.info["xmp"])["studiocut:Revision"] == ["3"]
