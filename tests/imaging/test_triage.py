"""review: the signals measured on each result, the rules that turn them into reasons, and
the flagged copy (with its sidecar) that a person looks at."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import FakeModel, make_profile, product_photo
from studiocut import cli
from studiocut.imaging import pipeline, reviewcopy, triage
from studiocut.imaging.triage import Signals
from studiocut.models import predict
from studiocut.profiles import Review

CENTRED = (120, 80, 280, 240)  # product_photo's own box: a product well inside the frame
AT_EDGE = (0, 80, 200, 240)  # a product cut off by the frame's left edge
FINE = Signals(uncertain=0.05, touches_border=False, area=0.3, subjects=1, confidence=0.95)


def disc(h: int = 120, w: int = 160, *, centre: tuple[int, int] = (80, 60), radius: int = 30,
         edge: float = 1.0) -> np.ndarray:
    """A disc whose edge ramps from 1 to 0 over ``edge`` pixels."""
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot(xx - centre[0], yy - centre[1])
    return np.asarray(np.clip((radius - r) / edge + 0.5, 0, 1), dtype=np.float32)


# --------------------------------------------------------------------------- signals


def test_uncertain_is_the_share_of_the_subject_that_is_partly_transparent() -> None:
    crisp, soft = disc(edge=1.0), disc(edge=24.0)

    assert triage.measure(crisp, crisp).uncertain < 0.05
    assert triage.measure(soft, soft).uncertain > 0.5


def test_uncertain_is_measured_on_the_final_alpha_not_the_mask() -> None:
    mask, alpha = disc(edge=1.0), disc(edge=24.0)

    assert triage.measure(mask, alpha).uncertain == triage.measure(alpha, alpha).uncertain


def test_touches_border_is_true_only_when_the_mask_reaches_an_edge_of_the_frame() -> None:
    inside = disc(centre=(80, 60))
    left, bottom = disc(centre=(10, 60)), disc(centre=(80, 110))

    assert not triage.measure(inside, inside).touches_border
    assert triage.measure(left, left).touches_border
    assert triage.measure(bottom, bottom).touches_border


def test_area_is_the_share_of_the_frame_the_subject_covers() -> None:
    mask = np.zeros((100, 200), np.float32)
    mask[20:70, 40:140] = 1.0  # 5000 of 20000 px

    assert triage.measure(mask, mask).area == 0.25


def test_subjects_counts_separate_blobs_but_not_specks_under_5_percent_of_the_largest() -> None:
    one = disc(centre=(50, 60), radius=25)
    two = np.maximum(one, disc(centre=(125, 60), radius=15))  # 36 % of the first
    speck = one.copy()
    speck[10:14, 140:144] = 1.0  # 16 px, under 1 % of the first
    dust = one.copy()
    dust[5:15, 135:150] = 1.0  # 150 px: 7.6 % of the first, so it counts

    assert triage.measure(one, one).subjects == 1
    assert triage.measure(two, two).subjects == 2
    assert triage.measure(speck, speck).subjects == 1
    assert triage.measure(dust, dust).subjects == 2


def test_an_empty_mask_has_no_subject_area_or_confidence() -> None:
    empty = np.zeros((40, 40), np.float32)

    signals = triage.measure(empty, empty)

    assert (signals.subjects, signals.area, signals.confidence, signals.uncertain) == (
        0, 0.0, 0.0, 0.0)
    assert not signals.touches_border


def test_confidence_is_high_for_a_decisive_mask_and_low_for_a_mushy_one() -> None:
    crisp = disc(edge=1.0)
    mushy = 0.35 + 0.3 * disc(edge=12.0)  # 0.65 on the subject, 0.35 around it

    assert triage.measure(crisp, crisp).confidence > 0.95
    assert triage.measure(mushy, crisp).confidence < 0.5


# --------------------------------------------------------------------------- rules


@pytest.mark.parametrize(("change", "words"), [
    ({"uncertain": 0.4}, "unsure edges: 40.0% of the subject is partly transparent (limit 25%)"),
    ({"touches_border": True}, "touches the edge of the frame"),
    ({"area": 0.01}, "subject too small: 1.0% of the frame (limit 2%)"),
    ({"area": 0.95}, "subject too large: 95.0% of the frame (limit 90%"),
    ({"subjects": 3}, "3 separate subjects"),
    ({"confidence": 0.5}, "low model confidence: 0.50 (limit 0.75)"),
])
def test_each_default_rule_gives_its_own_reason(change: dict[str, object], words: str) -> None:
    assert triage.reasons(FINE, Review()) == ()

    found = triage.reasons(dataclasses.replace(FINE, **change), Review())

    assert len(found) == 1 and words in found[0], found


@pytest.mark.parametrize(("change", "off"), [
    ({"uncertain": 0.9}, {"max_uncertain": None}),
    ({"touches_border": True}, {"touches_border": False}),
    ({"area": 0.001}, {"min_area": None}),
    ({"area": 0.99}, {"max_area": None}),
    ({"subjects": 4}, {"several_subjects": False}),
    ({"confidence": 0.1}, {"min_confidence": None}),
])
def test_a_rule_set_to_none_or_false_is_off(change: dict[str, object],
                                            off: dict[str, object]) -> None:
    signals = dataclasses.replace(FINE, **change)
    assert triage.reasons(signals, Review()) != ()

    assert triage.reasons(signals, dataclasses.replace(Review(), **off)) == ()


def test_limits_are_shown_as_the_profile_gave_them() -> None:
    rules = Review(min_area=0.005, max_uncertain=0.125)
    signals = dataclasses.replace(FINE, area=0.003, uncertain=0.13)

    found = triage.reasons(signals, rules)

    assert any("(limit 0.5%)" in reason for reason in found), found
    assert any("(limit 12.5%)" in reason for reason in found), found


def test_every_broken_rule_is_listed() -> None:
    signals = Signals(uncertain=0.6, touches_border=True, area=0.005, subjects=2,
                      confidence=0.3)

    assert len(triage.reasons(signals, Review())) == 5  # all but "too large"


def test_review_off_gives_no_reasons() -> None:
    worst = Signals(uncertain=1.0, touches_border=True, area=1.0, subjects=9, confidence=0.0)

    assert triage.reasons(worst, None) == ()
    assert make_profile(review=False).review is None


# --------------------------------------------------------------------------- the flagged copy


def shot(tmp_path: Path, box: tuple[int, int, int, int], name: str = "shot.jpg") -> Path:
    source = tmp_path / "in" / name
    source.parent.mkdir(parents=True, exist_ok=True)
    product_photo(box=box).save(source, quality=95)
    return source


def files_under(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def test_a_flagged_result_is_written_and_copied_to_the_review_folder_with_a_sidecar(
    tmp_path: Path, out: Path, fake_model: FakeModel,
) -> None:
    source = shot(tmp_path, AT_EDGE)

    outcome = pipeline.process(source, fake_model, make_profile(), output_root=out,
                               relative_dir=Path("day1"))

    assert outcome.ok and outcome.output == out / "day1" / "shot.jpg"
    assert outcome.flags == ("the subject touches the edge of the frame (cropped product?)",)
    folder = tmp_path / "out-review"
    assert files_under(folder) == [Path("day1/shot.jpg"), Path("day1/shot.jpg.review.json")]
    assert (folder / "day1" / "shot.jpg").read_bytes() == outcome.output.read_bytes()
    note = json.loads((folder / "day1" / "shot.jpg.review.json").read_text())
    assert note["source"] == str(source) and note["output"] == str(outcome.output)
    assert note["reasons"] == list(outcome.flags)
    assert set(note["signals"]) == {f.name for f in dataclasses.fields(Signals)}
    assert note["signals"]["touches_border"] is True and note["signals"]["subjects"] == 1


def test_a_flagged_result_goes_to_the_profiles_review_folder_when_it_names_one(
    tmp_path: Path, out: Path, fake_model: FakeModel,
) -> None:
    profile = make_profile(review={"folder": str(tmp_path / "look-at-these")})

    outcome = pipeline.process(shot(tmp_path, AT_EDGE), fake_model, profile, output_root=out)

    assert outcome.flags
    assert files_under(tmp_path / "look-at-these") == [Path("shot.jpg"),
                                                       Path("shot.jpg.review.json")]
    assert not (tmp_path / "out-review").exists()


def test_a_result_that_breaks_no_rule_is_not_flagged_or_copied(
    tmp_path: Path, out: Path, fake_model: FakeModel,
) -> None:
    outcome = pipeline.process(shot(tmp_path, CENTRED), fake_model, make_profile(),
                               output_root=out)

    assert outcome.ok and outcome.flags == ()
    assert files_under(out) == [Path("shot.jpg")]
    assert not (tmp_path / "out-review").exists()


def test_with_review_off_nothing_is_flagged(
    tmp_path: Path, out: Path, fake_model: FakeModel,
) -> None:
    outcome = pipeline.process(shot(tmp_path, AT_EDGE), fake_model, make_profile(review=False),
                               output_root=out)

    assert outcome.ok and outcome.flags == ()
    assert not (tmp_path / "out-review").exists()


def test_process_json_prints_the_flags_of_each_photo(
    tmp_path: Path, out: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    flagged, fine = shot(tmp_path, AT_EDGE, "edge.jpg"), shot(tmp_path, CENTRED, "fine.jpg")
    profile = tmp_path / "studio.yaml"
    profile.write_text("review: {min_area: 0.05}\n", encoding="utf-8")
    monkeypatch.setattr(predict, "open_model", lambda request: FakeModel())

    code = cli.main(["process", str(flagged), str(fine), "--profile", str(profile),
                     "--profiles", str(tmp_path), "--out", str(out), "--json", "--jobs", "1"])

    assert code == 0
    rows = {Path(row["source"]).name: row
            for row in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows["edge.jpg"]["ok"] is True
    assert rows["edge.jpg"]["flags"] == [
        "the subject touches the edge of the frame (cropped product?)"]
    assert rows["fine.jpg"]["flags"] == []
    assert (tmp_path / "out-review" / "edge.jpg.review.json").is_file()


def test_a_review_folder_that_cannot_be_made_is_an_environment_fault_naming_it(
    tmp_path: Path, out: Path, fake_model: FakeModel,
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the review folder's parent should be")
    profile = make_profile(review={"folder": str(blocker / "review")})

    outcome = pipeline.process(shot(tmp_path, AT_EDGE), fake_model, profile, output_root=out)

    assert not outcome.ok and outcome.environment and outcome.retryable
    assert outcome.reason == "review-folder"
    assert outcome.message is not None and str(blocker / "review") in outcome.message


def test_a_speck_that_cleanup_removes_at_the_frame_edge_does_not_flag_the_result(
    tmp_path: Path, out: Path, fake_model: FakeModel,
) -> None:
    pixels = np.array(product_photo(box=CENTRED))
    pixels[0:12, 390:400] = (60, 60, 60)  # a light stand's foot in the frame's corner
    source = tmp_path / "stand.png"
    Image.fromarray(pixels).save(source)
    profile = make_profile(format="png", cleanup={"min_island": 0.05})

    outcome = pipeline.process(source, fake_model, profile, output_root=out)

    assert outcome.ok and outcome.output is not None
    with Image.open(outcome.output) as written:
        assert np.asarray(written)[5, 395].tolist() == [255, 255, 255]  # cleaned away
    assert outcome.flags == ()


def test_a_reshot_photo_that_needs_no_look_withdraws_its_old_review_copy(tmp_path: Path) -> None:
    from studiocut.profiles import Review

    out = tmp_path / "out"
    dest = out / "sub" / "shot.jpg"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"new")
    rules = Review()
    copy = tmp_path / "out-review" / "sub" / "shot.jpg"
    copy.parent.mkdir(parents=True)
    copy.write_bytes(b"old")
    sidecar = copy.with_name("shot.jpg.review.json")
    sidecar.write_text("{}")

    reviewcopy.withdraw(dest, output_root=out, rules=rules)

    assert not copy.exists() and not sidecar.exists()
    reviewcopy.withdraw(dest, output_root=out, rules=rules)  # nothing left: no error
