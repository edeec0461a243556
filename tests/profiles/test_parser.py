"""parser: every problem of a profile reported at once (RELIABILITY item 39), then the
checks across keys.

Every problem is reported as
``<file>: At '<dotted.key>': <problem> (got <value>; expected <choices>)``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import make_profile
from studiocut.errors import ConfigError
from studiocut.profiles import load

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


# --------------------------------------------------------------------------- 39 every problem


def test_every_problem_of_a_file_is_reported_at_once_with_file_and_key(tmp_path: Path) -> None:
    path = _write(tmp_path, "amazon.yaml", """\
backdorp: white
quality: high
format: gif
square:
  size: 5
  placement: top
limits:
  max_pixel: 100
model: u3net
name: "../{stem}.{ext}"
""")

    problems = _problems(path)

    keys = sorted(LINE.match(p).group("key") for p in problems)  # type: ignore[union-attr]
    assert keys == sorted(["backdorp", "quality", "format", "square.size", "square.placement",
                           "limits.max_pixel", "model", "name"])
    assert all(LINE.match(p).group("file") == str(path) for p in problems)  # type: ignore[union-attr]


def test_problem_names_the_bad_value_and_the_valid_choices(tmp_path: Path) -> None:
    path = _write(tmp_path, "p.yaml", "format: gif\nquality: 101\n")

    problems = _problems(path)

    assert (f"{path}: At 'format': not a valid choice "
            "(got 'gif'; expected jpeg | png | webp | tiff)") in problems
    assert f"{path}: At 'quality': out of range (got 101; expected 1 to 100)" in problems


@pytest.mark.parametrize(("text", "key", "suggestion"), [
    ("backdorp: white\n", "backdorp", "did you mean 'backdrop'?"),
    ("qualty: 90\n", "qualty", "did you mean 'quality'?"),
    ("square: {sise: 1600}\n", "square.sise", "did you mean 'size'?"),
    ("matting: {bnad: 0.02}\n", "matting.bnad", "did you mean 'band'?"),
    ("limits: {max_pixel: 5}\n", "limits.max_pixel", "did you mean 'max_pixels'?"),
])
def test_unknown_key_suggests_the_closest_known_one(
    tmp_path: Path, text: str, key: str, suggestion: str,
) -> None:
    problem = _problem_at(_problems(_write(tmp_path, "p.yaml", text)), key)

    assert "unknown key" in problem
    assert suggestion in problem


def test_unknown_key_with_no_close_match_lists_the_known_ones(tmp_path: Path) -> None:
    problem = _problem_at(_problems(_write(tmp_path, "p.yaml", "xyzzy: 1\n")), "xyzzy")

    assert "did you mean" not in problem
    assert "backdrop" in problem and "watch" in problem


@pytest.mark.parametrize(("key", "yaml_value", "fragment"), [
    ("quality", "high", "must be an integer"),
    ("quality", "true", "must be an integer"),
    ("dpi", "300.5", "must be an integer"),
    ("settle", "slow", "must be a number"),
    ("recursive", "yes please", "must be true or false"),
    ("include", "5", "must be a list of file patterns"),
    ("matting", "maybe", "must be true, false or a mapping"),
    ("matting.band", "wide", "must be a number"),
    ("square", "5", "must be false or a mapping"),
    ("square.size", "big", "must be an integer"),
    ("limits", "[1, 2]", "must be a mapping"),
    ("backdrop", "'#GGHHII'", "not a colour"),
    ("backdrop", "[255, 255]", "not a colour"),
    ("watch", "5", "must be a folder path"),
    ("name", "42", "must be a text template"),
    ("after", "archive", "not a valid choice"),
    ("after", "{move: done, delete: true}", "not a valid choice"),
    ("model", "7", "must be a model name"),
    ("watch_mode", "inotify", "not a valid choice"),
])
def test_wrong_type_is_reported_at_its_dotted_key(
    tmp_path: Path, key: str, yaml_value: str, fragment: str,
) -> None:
    *parents, leaf = key.split(".")
    text = f"{leaf}: {yaml_value}\n"
    for parent in reversed(parents):
        text = f"{parent}:\n" + "".join(f"  {line}\n" for line in text.splitlines())

    problem = _problem_at(_problems(_write(tmp_path, "p.yaml", text)), key)

    assert fragment in problem
    assert "(got " in problem


@pytest.mark.parametrize(("text", "key"), [
    ("quality: 0\n", "quality"),
    ("retries: -1\n", "retries"),
    ("png_level: 10\n", "png_level"),
    ("square: {size: 8}\n", "square.size"),
    ("square: {margin: 0.6}\n", "square.margin"),
    ("square: {size: 1000, margin: 500}\n", "square.margin"),
    ("matting: {band: 0.5}\n", "matting.band"),
    ("limits: {max_pixels: 0}\n", "limits.max_pixels"),
])
def test_value_out_of_range_is_reported(tmp_path: Path, text: str, key: str) -> None:
    _problem_at(_problems(_write(tmp_path, "p.yaml", text)), key)


@pytest.mark.parametrize("text", ["- watch: ~/in\n- output: ~/out\n", "just some words\n"])
def test_profile_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str) -> None:
    problem = _problem_at(_problems(_write(tmp_path, "p.yaml", text)), "(top)")

    assert "must be a mapping" in problem


# --------------------------------------------------------------------------- folders


def test_output_folder_inside_the_watched_folder_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "p.yaml", "watch: inbox\noutput: inbox/done\n")

    problem = _problem_at(_problems(path), "output")

    assert "inside the watched folder" in problem
    assert f"expected a folder outside {tmp_path / 'inbox'}" in problem


def test_output_folder_equal_to_the_watched_folder_is_refused_even_flat(tmp_path: Path) -> None:
    path = _write(tmp_path, "p.yaml", "watch: inbox\noutput: ./inbox/\nrecursive: false\n")

    assert "is the watched folder" in _problem_at(_problems(path), "output")


def test_output_subfolder_of_a_flat_watched_folder_is_allowed(tmp_path: Path) -> None:
    profile = load(_write(tmp_path, "p.yaml", "watch: inbox\noutput: inbox/done\n"
                                              "recursive: false\n"))

    assert profile.output == tmp_path / "inbox" / "done"


@pytest.mark.parametrize(("text", "key"), [
    ("after: {move: inbox/processed}\n", "after.move"),
    ("failed: inbox/failed\n", "failed"),
])
def test_move_and_failed_folders_inside_the_watched_folder_are_refused(
    tmp_path: Path, text: str, key: str,
) -> None:
    path = _write(tmp_path, "p.yaml", "watch: inbox\noutput: outbox\n" + text)

    assert "inside the watched folder" in _problem_at(_problems(path), key)


def test_a_review_folder_inside_the_watched_folder_is_refused(tmp_path: Path) -> None:
    text = "watch: inbox\noutput: outbox\nreview: {folder: inbox/check}\n"

    problem = _only_problem(tmp_path, text)

    assert "At 'review.folder': this folder is inside the watched folder" in problem
    flat = load(_write(tmp_path, "flat.yaml", text + "recursive: false\n"))
    assert flat.review is not None and flat.review.folder == tmp_path / "inbox" / "check"


def test_relative_folders_are_taken_from_the_profile_folder(tmp_path: Path) -> None:
    profile = load(_write(tmp_path, "p.yaml", "watch: inbox\noutput: ../outbox\n"
                                              "failed: failed\nafter: {move: done}\n"))

    assert profile.watch == tmp_path / "inbox"
    assert profile.output == tmp_path.parent / "outbox"
    assert profile.failed == tmp_path / "failed"
    assert profile.after == "move"
    assert profile.move_to == tmp_path / "done"


# --------------------------------------------------------------------------- rules of keys


def test_transparent_backdrop_with_jpeg_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        make_profile(backdrop="transparent", format="jpeg")

    assert "JPEG cannot hold transparency" in _problem_at(caught.value.problems, "format")


def test_transparent_backdrop_defaults_to_png() -> None:
    profile = make_profile(backdrop="transparent")

    assert profile.transparent
    assert profile.backdrop is None
    assert profile.encoding.format == "png"
    assert profile.encoding.ext == "png"


def test_after_delete_and_keep() -> None:
    assert make_profile(after="delete").after == "delete"
    assert make_profile().after == "keep"


def test_a_prompt_on_a_model_that_takes_none_is_refused(tmp_path: Path) -> None:
    problem = _only_problem(tmp_path, "model: birefnet-general\nprompt: auto\n")

    assert "At 'prompt': only Segment Anything models take a prompt (got 'birefnet-general'; " \
           "expected sam-vit-b | sam-vit-b-quant | sam-vit-l)" in problem


def test_a_prompt_on_a_custom_model_is_refused(tmp_path: Path) -> None:
    problem = _only_problem(tmp_path, "model: {path: mine.onnx}\nprompt: {box: [0, 0, 1, 1]}\n")

    assert "At 'prompt': only Segment Anything models take a prompt (got 'custom:mine'" in problem


def test_key_settings_on_a_model_that_is_not_the_key_are_refused(tmp_path: Path) -> None:
    problem = _only_problem(tmp_path, "model: u2netp\nkey: {colour: '#00B140'}\n")

    assert "At 'key': only the backdrop-key model uses key settings" in problem


# --------------------------------------------------------------------------- device and providers


@pytest.mark.parametrize("device", ["auto", "cpu", "cuda", "tensorrt", "directml", "coreml",
                                    "rocm", "openvino"])
def test_every_device_choice_is_accepted(device: str) -> None:
    assert make_profile(device=device).device == device


def test_device_is_case_insensitive_and_defaults_to_auto() -> None:
    assert make_profile(device="DirectML").device == "directml"
    assert make_profile().device == "auto" and make_profile().require_gpu is False


def test_unknown_device_lists_the_choices(tmp_path: Path) -> None:
    problem = _only_problem(tmp_path, "device: gpu\n")

    assert "At 'device': not a valid choice (got 'gpu'; expected auto | cpu | cuda | " in problem
    assert "directml" in problem and "openvino" in problem


def test_require_gpu_must_be_a_boolean(tmp_path: Path) -> None:
    problem = _only_problem(tmp_path, "require_gpu: yes please\n")

    assert "At 'require_gpu': must be true or false (got 'yes please'" in problem


def test_require_gpu_with_device_cpu_can_never_be_met(tmp_path: Path) -> None:
    problem = _only_problem(tmp_path, "device: cpu\nrequire_gpu: true\n")

    assert "At 'require_gpu': cannot be met with device: cpu" in problem


@pytest.mark.parametrize(("text", "key"), [
    ("provider_options: [CUDAExecutionProvider]\n", "provider_options"),
    ("provider_options: {CUDAExecutionProvider: 1}\n", "provider_options"),
    ("provider_options: {CUDAExecutionProvidr: {device_id: 1}}\n",
     "provider_options.CUDAExecutionProvidr"),
    ("provider_options: {CUDAExecutionProvider: {device_id: [1, 2]}}\n",
     "provider_options.CUDAExecutionProvider.device_id"),
])
def test_provider_options_must_map_known_providers_to_plain_options(
    tmp_path: Path, text: str, key: str
) -> None:
    problem = _only_problem(tmp_path, text)

    assert f"At '{key}': " in problem


def test_a_misspelt_provider_name_suggests_the_right_one(tmp_path: Path) -> None:
    problem = _only_problem(tmp_path,
                            "provider_options: {CUDAExecutionProvidr: {device_id: 1}}\n")

    assert "did you mean 'CUDAExecutionProvider'?" in problem
