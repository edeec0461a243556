"""sections: the nested parts of a profile (matting, square, model, prompt, key, cleanup,
review), each read into its dataclass with every problem at its dotted key.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import make_profile
from studiocut.errors import ConfigError
from studiocut.models import registry
from studiocut.models.registry import Prompt
from studiocut.profiles import Canvas, Cleanup, Matting, MetadataRules, Review, Shadow, load

LINE = re.compile(r"^(?P<file>.+?): At '(?P<key>[\w.()]+)': (?P<problem>.+)$")


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def _problem_at(problems: list[str], key: str) -> str:
    found = [p for p in problems if f"At '{key}':" in p]
    assert len(found) == 1, (key, problems)
    return found[0]


def _only_problem(tmp_path: Path, text: str) -> str:
    problems = _problems(_write(tmp_path, "gpu.yaml", text))
    assert len(problems) == 1, problems
    match = LINE.match(problems[0])
    assert match is not None and match["file"] == str(tmp_path / "gpu.yaml"), problems[0]
    return problems[0]


# --------------------------------------------------------------------------- matting and square


@pytest.mark.parametrize(("value", "expected"), [
    (True, Matting(enabled=True)),
    (False, Matting(enabled=False)),
    ({"band": 0.02}, Matting(enabled=True, band=0.02)),
    ({"enabled": False, "band": 0.02}, Matting(enabled=False, band=0.02)),
    ({"max_pixels": 800_000}, Matting(enabled=True, max_pixels=800_000)),
])
def test_matting_as_a_switch_or_a_mapping(value: object, expected: Matting) -> None:
    assert make_profile(matting=value).matting == expected


def test_square_mapping_sets_every_field() -> None:
    square = make_profile(square={"size": 1600, "margin": 40, "placement": "bottom",
                                  "floor": 0.08, "max_upscale": 2, "min_size": 500}).canvas

    assert square == Canvas(width=1600, height=1600, margin=40, placement="bottom", floor=0.08,
                            max_upscale=2, min_size=500)
    assert square.margins_px((1600, 1600)) == (40, 40)
    assert square.margins_px((800, 800)) == (20, 20), "pixel margins scale with the canvas"
    assert square.floor_px(1000) == pytest.approx(80)


@pytest.mark.parametrize(("value", "expected"), [
    (True, Canvas()), (False, None), (None, None), ({}, Canvas()),
])
def test_square_switch_forms(value: object, expected: Canvas | None) -> None:
    assert make_profile(square=value).canvas == expected


# --------------------------------------------------------------------------- model


def test_unknown_model_lists_every_known_name(tmp_path: Path) -> None:
    problem = _problem_at(_problems(_write(tmp_path, "p.yaml", "model: u3net\n")), "model")

    assert "(got 'u3net'" in problem
    for name in registry.MODELS:
        assert name in problem


@pytest.mark.parametrize("value", ["[]", "7", "''"])
def test_model_must_be_a_name_or_a_mapping(tmp_path: Path, value: str) -> None:
    problem = _only_problem(tmp_path, f"model: {value}\n")

    assert "At 'model': must be a model name or a mapping" in problem


def test_custom_model_mapping_becomes_a_spec_relative_to_the_profile(tmp_path: Path) -> None:
    path = _write(tmp_path, "studio.yaml", """\
model:
  path: exports/v3.onnx
  input_size: [64, 48]
  mean: [0.5, 0.5, 0.5]
  std: [1, 1, 1]
  output: Sigmoid
  sha256: %s
""" % ("AB" * 32))

    profile = load(path)

    spec = profile.custom_model
    assert spec is not None and profile.model == spec.name == "custom:v3"
    assert spec.family == "custom" and spec.path == tmp_path / "exports" / "v3.onnx"
    assert spec.input_size == (64, 48) and spec.output == "sigmoid"
    assert spec.mean == (0.5, 0.5, 0.5) and spec.std == (1.0, 1.0, 1.0)
    assert spec.sha256 == "ab" * 32
    assert profile.model_request().spec is spec


def test_custom_model_defaults_are_the_u2net_recipe(tmp_path: Path) -> None:
    spec = make_profile(model={"path": str(tmp_path / "m.onnx")}).custom_model

    assert spec is not None
    assert spec.input_size == (320, 320) and spec.output == "minmax"
    assert spec.mean == (0.485, 0.456, 0.406) and spec.std == (0.229, 0.224, 0.225)


def test_every_problem_of_a_custom_model_mapping_is_reported(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, "p.yaml", """\
model:
  input_size: [8, 320]
  mean: [0.5, 0.5]
  std: [0.2, 0, 0.2]
  output: softmax
  sha256: abc
  inputsize: [1, 2]
"""))

    keys = [LINE.match(p)["key"] for p in problems]  # type: ignore[index]
    assert sorted(keys) == sorted(["model.inputsize", "model.path", "model.input_size",
                                   "model.mean", "model.std", "model.output", "model.sha256"])
    assert "did you mean 'input_size'?" in _problem_at(problems, "model.inputsize")
    assert "must be [width, height] in pixels (got [8, 320]" in _problem_at(
        problems, "model.input_size")
    assert "cannot contain 0" in _problem_at(problems, "model.std")
    assert "expected minmax | sigmoid" in _problem_at(problems, "model.output")


# --------------------------------------------------------------------------- prompt


def test_prompt_forms_on_a_segment_anything_model() -> None:
    assert make_profile(model="sam-vit-b", prompt="auto").prompt == Prompt(auto=True)
    assert make_profile(model="sam-vit-b", prompt={"box": [0.1, 0.2, 0.9, 1]}).prompt == (
        Prompt(box=(0.1, 0.2, 0.9, 1)))
    assert make_profile(model="sam-vit-l", prompt={"points": [[0.5, 0.5, 1], [0, 1, 0]]}
                        ).prompt == Prompt(points=((0.5, 0.5, 1), (0.0, 1.0, 0)))
    assert make_profile(model="sam-vit-b-quant",
                        prompt={"auto": True, "first_pass": "isnet-general-use"}
                        ).prompt == Prompt(auto=True, first_pass="isnet-general-use")
    assert make_profile(model="sam-vit-b").prompt is None  # the model defaults to auto


@pytest.mark.parametrize("box", ["[0.1, 0.2, 0.9]", "[0.9, 0.2, 0.1, 0.8]", "[0.1, 0.8, 0.9, 0.2]",
                                 "[0, 0, 1.5, 1]", "[-0.1, 0, 1, 1]", "[a, b, c, d]",
                                 "0.5", "[true, 0, 1, 1]"])
def test_a_bad_prompt_box_is_reported_once_at_its_key(tmp_path: Path, box: str) -> None:
    problem = _only_problem(tmp_path, f"model: sam-vit-b\nprompt:\n  box: {box}\n")

    assert f"{tmp_path / 'gpu.yaml'}: At 'prompt.box': must be [x0, y0, x1, y1], fractions " \
           "of the frame with x0 < x1 and y0 < y1 (got " in problem


def test_bad_prompt_points_are_reported_each_at_its_index(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, "p.yaml", """\
model: sam-vit-b
prompt:
  points: [[0.5, 0.5, 1], [0.5, 0.5, 2], [1.2, 0.5, 1], [0.5, 0.5]]
"""))

    assert [LINE.match(p)["key"] for p in problems] == [  # type: ignore[index]
        "prompt.points.1", "prompt.points.2", "prompt.points.3"]
    assert "label 1 (keep) or 0 (remove)" in problems[0]


@pytest.mark.parametrize(("text", "key", "words"), [
    ("prompt: 7\n", "prompt", "must be auto or a mapping"),
    ("prompt: {}\n", "prompt", "needs a box, at least one point, or auto: true"),
    ("prompt: {points: []}\n", "prompt", "needs a box"),
    ("prompt: {points: 5}\n", "prompt.points", "must be a list of [x, y, label]"),
    ("prompt: {auto: sure}\n", "prompt.auto", "must be true or false"),
    ("prompt: {auto: true, box: [0, 0, 1, 1]}\n", "prompt.box", "cannot be combined with auto"),
    ("prompt: {auto: true, first_pass: u3net}\n", "prompt.first_pass",
     "must be a model that is not Segment Anything"),
    ("prompt: {auto: true, first_pass: sam-vit-l}\n", "prompt.first_pass",
     "must be a model that is not Segment Anything"),
    ("prompt: {box: [0, 0, 1, 1], first_pass: isnet-general-use}\n", "prompt.first_pass",
     "only used with auto: true"),
])
def test_prompt_problems(tmp_path: Path, text: str, key: str, words: str) -> None:
    problem = _only_problem(tmp_path, "model: sam-vit-b\n" + text)

    assert f"At '{key}': " in problem and words in problem


def test_a_misspelt_prompt_key_suggests_the_right_one(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, "p.yaml",
                                "model: sam-vit-b\nprompt: {boxes: [0, 0, 1, 1]}\n"))

    assert "did you mean 'box'?" in _problem_at(problems, "prompt.boxes")


# --------------------------------------------------------------------------- key


def test_key_mapping_becomes_the_backdrop_key_settings() -> None:
    profile = make_profile(model="backdrop-key", key={
        "colour": "#00B140", "tolerance": [8, 30.5], "spill": False, "assist": "none"})

    assert profile.key == registry.KeySettings(colour=(0, 177, 64), tolerance=(8.0, 30.5),
                                              spill=False, assist="none")
    assert profile.model_request().key == profile.key


def test_key_defaults_take_the_colour_from_the_frame_and_assist_on_neutral_backdrops() -> None:
    assert make_profile(model="backdrop-key", key={}).key == registry.KeySettings()
    assert make_profile(model="backdrop-key", key={"colour": "auto"}).key == (
        registry.KeySettings())
    assert make_profile(model="backdrop-key").key is None  # the model's own defaults


def test_every_problem_of_a_key_mapping_is_reported_at_its_key(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, "key.yaml", """\
model: backdrop-key
key:
  colour: greenish
  tolerance: [40, 12]
  spill: yes please
  assist: sam-vit-b
  tolerence: [1, 2]
"""))

    keys = sorted(LINE.match(p)["key"] for p in problems)  # type: ignore[index]
    assert keys == ["key.assist", "key.colour", "key.spill", "key.tolerance", "key.tolerence"]
    assert all(p.startswith(f"{tmp_path / 'key.yaml'}: At '") for p in problems)
    assert "not a colour (got 'greenish'" in _problem_at(problems, "key.colour")
    assert "two Lab distances, low first (got [40, 12]" in _problem_at(problems, "key.tolerance")
    assert "did you mean 'tolerance'?" in _problem_at(problems, "key.tolerence")


def test_a_bad_key_assist_lists_every_model_it_would_accept(tmp_path: Path) -> None:
    problem = _only_problem(tmp_path, "model: backdrop-key\nkey: {assist: sam-vit-b}\n")

    accepted = [name for name, spec in registry.MODELS.items()
                if spec.family in ("u2net", "isnet", "birefnet", "bria")]
    assert accepted and "not a saliency model" in problem
    for name in accepted:
        assert make_profile(model="backdrop-key", key={"assist": name}).key is not None
        assert name in problem.split("expected", 1)[1], name


# --------------------------------------------------------------------------- cleanup


def test_cleanup_mapping_sets_every_rule() -> None:
    profile = make_profile(cleanup={"min_island": 0.01, "max_hole": 0.002, "keep": "Largest",
                                    "min_subject": 0.2})

    assert profile.cleanup == Cleanup(min_island=0.01, max_hole=0.002, keep="largest",
                                      min_subject=0.2)


def test_cleanup_false_turns_every_rule_off_and_missing_keeps_the_defaults() -> None:
    off = make_profile(cleanup=False).cleanup

    assert (off.min_island, off.max_hole, off.keep, off.min_subject) == (0.0, 0.0, "all", 0.0)
    assert make_profile().cleanup == Cleanup()
    assert make_profile(cleanup={}).cleanup == Cleanup()


def test_every_problem_of_a_cleanup_mapping_is_reported(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, "c.yaml", """\
cleanup:
  min_island: 2
  max_hole: lots
  keep: biggest
  min_subjects: 0.1
"""))

    keys = sorted(LINE.match(p)["key"] for p in problems)  # type: ignore[index]
    assert keys == ["cleanup.keep", "cleanup.max_hole", "cleanup.min_island",
                    "cleanup.min_subjects"]
    assert "out of range (got 2; expected 0 to 1)" in _problem_at(problems, "cleanup.min_island")
    assert "expected all | largest" in _problem_at(problems, "cleanup.keep")
    assert "did you mean 'min_subject'?" in _problem_at(problems, "cleanup.min_subjects")


# --------------------------------------------------------------------------- review


def test_review_mapping_sets_every_rule_and_null_or_false_turns_one_off(tmp_path: Path) -> None:
    profile = load(_write(tmp_path, "r.yaml", """\
review:
  max_uncertain: 0.3
  touches_border: false
  min_area: null
  max_area: false
  several_subjects: false
  min_confidence: 0.5
  folder: to-check
"""))

    assert profile.review == Review(max_uncertain=0.3, touches_border=False, min_area=None,
                                    max_area=None, several_subjects=False,
                                    min_confidence=0.5, folder=tmp_path / "to-check")


def test_review_false_turns_flagging_off_and_missing_keeps_the_defaults() -> None:
    assert make_profile(review=False).review is None
    assert make_profile().review == Review()
    assert make_profile(review={}).review == Review()


def test_every_problem_of_a_review_mapping_is_reported(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, "r.yaml", """\
review:
  max_uncertain: 1.5
  touches_border: sometimes
  min_area: true
  folder: ''
  min_confidance: 0.5
"""))

    keys = sorted(LINE.match(p)["key"] for p in problems)  # type: ignore[index]
    assert keys == sorted(["review.max_uncertain", "review.touches_border", "review.min_area",
                           "review.folder", "review.min_confidance"])
    assert "did you mean 'min_confidence'?" in _problem_at(problems, "review.min_confidance")


def test_review_hold_is_read(tmp_path: Path) -> None:
    path = tmp_path / "held.yaml"
    path.write_text("review: {hold: flagged}\n")

    assert load(path).review.hold == "flagged"  # type: ignore[union-attr]


def test_an_unknown_review_hold_lists_the_choices(tmp_path: Path) -> None:
    problem = _only_problem(tmp_path, "review: {hold: maybe}\n")

    assert "At 'review.hold': not a valid choice (got 'maybe'; expected none | flagged | all)" in (
        problem)


# --------------------------------------------------------------------------- shadow


def test_shadow_is_none_by_default_and_a_mode_may_be_named_alone() -> None:
    assert make_profile().shadow == Shadow()
    assert make_profile().shadow.mode == "none"
    assert make_profile(shadow="keep").shadow.mode == "keep"
    assert make_profile(shadow="contact").shadow == Shadow(mode="contact")


def test_contact_shadow_keys_are_read() -> None:
    profile = make_profile(shadow={"contact": {"offset": 0.02, "blur": 0.05, "opacity": 0.3},
                                   "transparent": True})

    assert profile.shadow == Shadow(mode="contact", offset=0.02, blur=0.05, opacity=0.3,
                                    transparent=True)


def test_every_problem_of_a_shadow_mapping_is_reported_at_its_key_path(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, "s.yaml", """\
shadow:
  contact: {offset: 2, blur: -1, opacity: dark, blurr: 0.1}
  transparent: maybe
"""))

    keys = sorted(LINE.match(p)["key"] for p in problems)  # type: ignore[index]
    assert keys == sorted(["shadow.contact.offset", "shadow.contact.blur",
                           "shadow.contact.opacity", "shadow.contact.blurr",
                           "shadow.transparent"])
    assert "did you mean 'blur'?" in _problem_at(problems, "shadow.contact.blurr")


def test_an_unknown_shadow_mode_lists_the_choices(tmp_path: Path) -> None:
    problem = _only_problem(tmp_path, "shadow: drop\n")

    assert "At 'shadow':" in problem and "none | keep | contact" in problem


def test_a_shadow_mapping_must_name_one_mode(tmp_path: Path) -> None:
    problem = _only_problem(tmp_path, "shadow: {keep: {}, contact: {}}\n")

    assert "At 'shadow':" in problem and "exactly one mode" in problem


def test_review_max_disagreement_has_a_default_and_can_be_set_or_turned_off() -> None:
    assert Review().max_disagreement == 0.3
    assert make_profile(review={"max_disagreement": 0.1}).review.max_disagreement == 0.1
    assert make_profile(review={"max_disagreement": None}).review.max_disagreement is None


# --------------------------------------------------------------------------- metadata


@pytest.mark.parametrize(("value", "expected"), [
    (None, MetadataRules(keep=True, gps=False, studiocut=True)),
    (True, MetadataRules()),
    (False, MetadataRules(keep=False, gps=False, studiocut=False)),
    ({"gps": True}, MetadataRules(gps=True)),
    ({"keep": False}, MetadataRules(keep=False)),
    ({"studiocut": False}, MetadataRules(studiocut=False)),
], ids=["default", "true", "false", "gps", "no-keep", "no-studiocut"])
def test_metadata_keeps_the_source_s_without_gps_by_default(value: object,
                                                            expected: MetadataRules) -> None:
    profile = make_profile() if value is None else make_profile(metadata=value)

    assert profile.metadata == expected


def test_every_problem_of_a_metadata_mapping_is_reported_at_its_key_path(
        tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, "m.yaml", "metadata: {keep: yes please, gsp: true}\n"))

    keys = sorted(LINE.match(p)["key"] for p in problems)  # type: ignore[index]
    assert keys == ["metadata.gsp", "metadata.keep"]
    assert "did you mean 'gps'?" in _problem_at(problems, "metadata.gsp")
    assert "true | false" in _problem_at(problems, "metadata.keep")


def test_metadata_must_be_a_switch_or_a_mapping(tmp_path: Path) -> None:
    problem = _only_problem(tmp_path, "metadata: all\n")

    assert "At 'metadata':" in problem and "{keep: true, gps: false" in problem


def test_keeping_gps_while_dropping_the_source_s_metadata_is_refused(tmp_path: Path) -> None:
    problem = _only_problem(tmp_path, "metadata: {keep: false, gps: true}\n")

    assert "At 'metadata.gps':" in problem and "keep: true, or gps: false" in problem
