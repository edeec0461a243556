"""profile: strict, safe loading of the YAML a studio edits (RELIABILITY items 39-43).

Every problem is reported at once as
``<file>: At '<dotted.key>': <problem> (got <value>; expected <choices>)``.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import make_profile
from studiocut.errors import ConfigError, ModelError
from studiocut.models import predict, registry
from studiocut.profiles import (
    DEFAULT_INCLUDE,
    MAX_PROFILE_BYTES,
    Cleanup,
    Matting,
    Review,
    Square,
    builtin_default,
    load,
    load_dir,
    resolve,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "profiles"
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


@pytest.mark.parametrize(("text", "line"), [
    ("quality: 90\nbackdrop: [255, 255\nformat: png\n", 3),
    ("quality: 90\nformat: png\n  dpi: 300\n", 3),
    ("watch: ~/in\noutput: ~/out\n\tformat: png\n", 3),
    ("quality: 90\nname: '{stem}.{ext}\n", 3),
])
def test_malformed_yaml_is_reported_with_its_line(tmp_path: Path, text: str, line: int) -> None:
    path = _write(tmp_path, "broken.yaml", text)

    problems = _problems(path)

    assert len(problems) == 1
    assert problems[0].startswith(f"{path}: not valid YAML: ")
    assert f"line {line}," in problems[0]


@pytest.mark.parametrize("text", ["- watch: ~/in\n- output: ~/out\n", "just some words\n"])
def test_profile_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str) -> None:
    problem = _problem_at(_problems(_write(tmp_path, "p.yaml", text)), "(top)")

    assert "must be a mapping" in problem


def test_file_that_is_not_utf8_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: '{stem}-caf\u00e9.{ext}'\n".encode("latin-1"))

    problems = _problems(path)

    assert problems[0].startswith(f"{path}: not UTF-8")


def test_empty_profile_gets_the_defaults(tmp_path: Path) -> None:
    profile = load(_write(tmp_path, "empty.yaml", "# nothing set yet\n"))

    assert profile.name == "empty"
    assert profile.model == "u2netp"
    assert profile.backdrop == (255, 255, 255)
    assert profile.encoding.format == "jpeg"
    assert profile.encoding.quality == 92
    assert profile.encoding.name == "{stem}.{ext}"
    assert profile.square is None
    assert profile.matting == Matting()
    assert profile.after == "keep"
    assert profile.include == DEFAULT_INCLUDE


# --------------------------------------------------------------------------- 40 tags


@pytest.fixture
def nothing_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        pytest.fail(f"something was executed: {args!r}")

    monkeypatch.setattr(os, "system", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)


@pytest.mark.parametrize("tagged", [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/apply:subprocess.call [['touch', '{marker}']]",
    "!!python/object/new:subprocess.Popen [['touch', '{marker}']]",
    "!!python/name:os.system",
    "!!python/module:os",
    "!include {marker}",
])
@pytest.mark.usefixtures("nothing_runs")
def test_python_tags_are_refused_and_nothing_is_executed(tmp_path: Path, tagged: str) -> None:
    marker = tmp_path / "pwned"
    path = _write(tmp_path, "evil.yaml", "watch: " + tagged.format(marker=marker) + "\n")

    problems = _problems(path)

    assert len(problems) == 1
    assert problems[0].startswith(f"{path}: refused: ")
    assert not marker.exists()


# --------------------------------------------------------------------------- 41 bombs


def test_billion_laughs_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["a: &a [" + ", ".join(["lol"] * 10) + "]"]
    for i in range(1, 9):
        name, previous = chr(ord("a") + i), chr(ord("a") + i - 1)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    lines.append("include: *i")  # 10**9 strings once expanded
    path = _write(tmp_path, "laughs.yaml", "\n".join(lines) + "\n")
    started = time.perf_counter()

    problems = _problems(path)

    assert time.perf_counter() - started < 1.0
    assert "alias bomb" in problems[0]


def test_many_values_within_the_size_limit_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "long.yaml", "ignore:\n" + "- '*.x'\n" * 20_000)
    assert path.stat().st_size < MAX_PROFILE_BYTES

    problems = _problems(path)

    assert "more than" in problems[0]


def test_deeply_nested_yaml_is_refused_not_a_crash(tmp_path: Path) -> None:
    """The composer recurses once per level: 5000 levels used to escape as RecursionError."""
    path = _write(tmp_path, "deep.yaml", "watch: " + "[" * 5000 + "]" * 5000 + "\n")
    started = time.perf_counter()

    problems = _problems(path)

    assert time.perf_counter() - started < 2.0
    assert problems[0].startswith(f"{path}: refused: ")


@pytest.mark.parametrize("size", [MAX_PROFILE_BYTES + 1, 2_000_000])
def test_oversized_profile_is_refused_before_it_is_parsed(tmp_path: Path, size: int) -> None:
    body = "# padding\n" * (size // 10 + 1)
    path = _write(tmp_path, "big.yaml", ("quality: 90\n" + body)[:size])
    started = time.perf_counter()

    problems = _problems(path)

    assert time.perf_counter() - started < 0.5
    assert problems == [f"{path}: file is {size} bytes; profiles are limited to "
                        f"{MAX_PROFILE_BYTES} bytes"]


# --------------------------------------------------------------------------- 42 models


def test_unknown_model_lists_every_known_name(tmp_path: Path) -> None:
    problem = _problem_at(_problems(_write(tmp_path, "p.yaml", "model: u3net\n")), "model")

    assert "(got 'u3net'" in problem
    for name in registry.MODELS:
        assert name in problem


def test_model_file_with_a_wrong_checksum_is_refused(tmp_path: Path) -> None:
    spec = registry.MODELS["u2net"]
    path = tmp_path / spec.file
    path.write_bytes(b"not the weights")

    with pytest.raises(ModelError) as caught:
        predict.verify(spec, path)

    assert "checksum mismatch" in str(caught.value)
    assert spec.md5 in str(caught.value)


# --------------------------------------------------------------------------- 43 name templates


@pytest.mark.parametrize("template", [
    "../{stem}.{ext}",
    "{stem}/../../etc/passwd",
    "/var/www/{stem}.{ext}",
    "sub/{stem}.{ext}",
    "C:\\Windows\\{stem}",
    "{stem}:{ext}",
    ".{stem}.{ext}",
    "{stem.__class__}",
    "{stem}-{stem.__class__.__init__.__globals__}",
    "{stem}-{ext.__len__}",
    "{stem[0]}.{ext}",
    "{stem!r}.{ext}",
    "{stem:>300}.{ext}",
    "{0}.{ext}",
    "{stem}-{0}.{ext}",
    "{stem}-{}.{ext}",
    "{stem}-{path}.{ext}",
    "{profile}.{ext}",
    "{stem.{ext}",
    "{stem}\x00.{ext}",
])
def test_unsafe_output_name_template_is_refused_at_load(template: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_profile(name=template)

    assert len(caught.value.problems) == 1
    assert "At 'name':" in caught.value.problems[0]


@pytest.mark.parametrize(("template", "rendered"), [
    ("{stem}.{ext}", "IMG_1.jpg"),
    ("{stem}-cutout.{ext}", "IMG_1-cutout.jpg"),
    ("{profile}_{stem}_{source_ext}.{ext}", "test_IMG_1_cr2.jpg"),
])
def test_plain_output_name_template_is_accepted(template: str, rendered: str) -> None:
    from studiocut.imaging.naming import output_name

    profile = make_profile(name=template)

    assert output_name(Path("IMG_1.CR2"), profile.encoding, profile.name) == rendered


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


@pytest.mark.parametrize(("value", "colour"), [
    ("#F5F5F5", (245, 245, 245)), ("00ff80", (0, 255, 128)), ([10, 20, 30], (10, 20, 30)),
])
def test_backdrop_colour_forms(value: object, colour: tuple[int, int, int]) -> None:
    profile = make_profile(backdrop=value)

    assert profile.backdrop == colour
    assert profile.encoding.format == "jpeg"


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
                                  "floor": 0.08, "max_upscale": 2, "min_size": 500}).square

    assert square == Square(size=1600, margin=40, placement="bottom", floor=0.08,
                            max_upscale=2, min_size=500)
    assert square.margin_px(1600) == 40
    assert square.margin_px(800) == 20, "pixel margins scale with the canvas"
    assert square.floor_px(1000) == pytest.approx(80)


@pytest.mark.parametrize(("value", "expected"), [
    (True, Square()), (False, None), (None, None), ({}, Square()),
])
def test_square_switch_forms(value: object, expected: Square | None) -> None:
    assert make_profile(square=value).square == expected


def test_choices_are_case_insensitive() -> None:
    profile = make_profile(format="PNG", icc="Original", watch_mode="Polling")

    assert (profile.encoding.format, profile.encoding.icc, profile.watch_mode) == (
        "png", "original", "polling")


def test_after_delete_and_keep() -> None:
    assert make_profile(after="delete").after == "delete"
    assert make_profile().after == "keep"


# --------------------------------------------------------------------------- folders of files


def test_load_dir_reports_the_problems_of_every_file_together(tmp_path: Path) -> None:
    bad_a = _write(tmp_path, "amazon.yaml", "qualty: 90\n")
    bad_b = _write(tmp_path, "etsy.yml", "format: gif\n")
    _write(tmp_path, "ebay.yaml", "format: png\n")
    _write(tmp_path, ".editor-backup.yaml", "this: [is, broken\n")  # hidden: not a profile

    with pytest.raises(ConfigError) as caught:
        load_dir(tmp_path)

    assert len(caught.value.problems) == 2
    assert caught.value.problems[0].startswith(f"{bad_a}: At 'qualty':")
    assert caught.value.problems[1].startswith(f"{bad_b}: At 'format':")


def test_load_dir_returns_profiles_by_name(tmp_path: Path) -> None:
    _write(tmp_path, "amazon.yaml", "square: true\n")
    _write(tmp_path, "catalogue.yml", "backdrop: transparent\nformat: tiff\n")
    _write(tmp_path, "notes.txt", "not a profile")

    profiles = load_dir(tmp_path)

    assert sorted(profiles) == ["amazon", "catalogue"]
    assert profiles["amazon"].square == Square()
    assert profiles["catalogue"].encoding.format == "tiff"
    assert profiles["catalogue"].path == tmp_path / "catalogue.yml"


def test_resolve_by_name_in_the_profiles_folder(tmp_path: Path) -> None:
    _write(tmp_path, "amazon.yaml", "quality: 85\n")

    assert resolve("amazon", tmp_path).encoding.quality == 85


def test_resolve_by_path(tmp_path: Path) -> None:
    path = _write(tmp_path, "elsewhere.yaml", "quality: 80\n")

    profile = resolve(str(path), None)

    assert profile.name == "elsewhere"
    assert profile.encoding.quality == 80


def test_resolve_default_is_the_builtin_unless_a_file_overrides_it(tmp_path: Path) -> None:
    builtin = resolve("default", tmp_path)
    _write(tmp_path, "default.yaml", "quality: 70\n")
    overridden = resolve("default", tmp_path)

    assert builtin == builtin_default()
    assert builtin.square == Square() and builtin.encoding.format == "jpeg"
    assert overridden.encoding.quality == 70


@pytest.mark.parametrize("name", ["amazn", "missing.yaml"])
def test_resolve_unknown_profile_says_where_it_looked(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(name, tmp_path)

    assert name in str(caught.value)


# --------------------------------------------------------------------------- shipped examples


def test_example_profiles_exist_and_all_load() -> None:
    examples = sorted(EXAMPLES.glob("*.yaml"))

    assert len(examples) >= 3, f"expected at least 3 example profiles in {EXAMPLES}"
    for path in examples:
        load(path)


# ===========================================================================================
# Any GPU, any model: the keys model (custom mapping), device, require_gpu, provider_options
# and prompt, and Profile.model_request. (Appended section; the tests above are unchanged.)
# ===========================================================================================


def _only_problem(tmp_path: Path, text: str) -> str:
    problems = _problems(_write(tmp_path, "gpu.yaml", text))
    assert len(problems) == 1, problems
    match = LINE.match(problems[0])
    assert match is not None and match["file"] == str(tmp_path / "gpu.yaml"), problems[0]
    return problems[0]


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


def test_provider_options_reach_the_model_request(tmp_path: Path) -> None:
    profile = make_profile(device="tensorrt", require_gpu=True, provider_options={
        "TensorrtExecutionProvider": {"trt_fp16_enable": False, "trt_max_workspace_size": 1}})

    request = profile.model_request(threads=3, cache_dir=tmp_path / "trt")

    assert request.spec is registry.MODELS["u2netp"]
    assert request.placement.device == "tensorrt" and request.placement.require_gpu is True
    assert request.placement.threads == 3 and request.placement.cache_dir == tmp_path / "trt"
    assert request.placement.options == {
        "TensorrtExecutionProvider": {"trt_fp16_enable": False, "trt_max_workspace_size": 1}}
    assert request.prompt is None


# --------------------------------------------------------------------------- prompt


def test_prompt_forms_on_a_segment_anything_model() -> None:
    from studiocut.models.registry import Prompt

    assert make_profile(model="sam-vit-b", prompt="auto").prompt == Prompt(auto=True)
    assert make_profile(model="sam-vit-b", prompt={"box": [0.1, 0.2, 0.9, 1]}).prompt == (
        Prompt(box=(0.1, 0.2, 0.9, 1)))
    assert make_profile(model="sam-vit-l", prompt={"points": [[0.5, 0.5, 1], [0, 1, 0]]}
                        ).prompt == Prompt(points=((0.5, 0.5, 1), (0.0, 1.0, 0)))
    assert make_profile(model="sam-vit-b-quant",
                        prompt={"auto": True, "first_pass": "isnet-general-use"}
                        ).prompt == Prompt(auto=True, first_pass="isnet-general-use")
    assert make_profile(model="sam-vit-b").prompt is None  # the model defaults to auto


def test_prompt_reaches_the_model_request() -> None:
    profile = make_profile(model="sam-vit-b", prompt={"box": [0.1, 0.2, 0.9, 0.8]})

    request = profile.model_request()

    assert request.spec is registry.MODELS["sam-vit-b"]
    assert request.prompt is not None and request.prompt.box == (0.1, 0.2, 0.9, 0.8)


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


def test_a_prompt_on_a_model_that_takes_none_is_refused(tmp_path: Path) -> None:
    problem = _only_problem(tmp_path, "model: birefnet-general\nprompt: auto\n")

    assert "At 'prompt': only Segment Anything models take a prompt (got 'birefnet-general'; " \
           "expected sam-vit-b | sam-vit-b-quant | sam-vit-l)" in problem


def test_a_prompt_on_a_custom_model_is_refused(tmp_path: Path) -> None:
    problem = _only_problem(tmp_path, "model: {path: mine.onnx}\nprompt: {box: [0, 0, 1, 1]}\n")

    assert "At 'prompt': only Segment Anything models take a prompt (got 'custom:mine'" in problem


# --------------------------------------------------------------------------- custom model


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


@pytest.mark.parametrize("value", ["[]", "7", "''"])
def test_model_must_be_a_name_or_a_mapping(tmp_path: Path, value: str) -> None:
    problem = _only_problem(tmp_path, f"model: {value}\n")

    assert "At 'model': must be a model name or a mapping" in problem



# ===========================================================================================
# Edge quality: the keys key (backdrop-key settings), cleanup and review. (Appended section;
# the tests above are unchanged.)
# ===========================================================================================


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


def test_key_settings_on_a_model_that_is_not_the_key_are_refused(tmp_path: Path) -> None:
    problem = _only_problem(tmp_path, "model: u2netp\nkey: {colour: '#00B140'}\n")

    assert "At 'key': only the backdrop-key model uses key settings" in problem


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


def test_a_review_folder_inside_the_watched_folder_is_refused(tmp_path: Path) -> None:
    text = "watch: inbox\noutput: outbox\nreview: {folder: inbox/check}\n"

    problem = _only_problem(tmp_path, text)

    assert "At 'review.folder': this folder is inside the watched folder" in problem
    flat = load(_write(tmp_path, "flat.yaml", text + "recursive: false\n"))
    assert flat.review is not None and flat.review.folder == tmp_path / "inbox" / "check"
