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
from studiocut import predict
from studiocut.errors import ConfigError, ModelError
from studiocut.profile import (
    DEFAULT_INCLUDE,
    MAX_PROFILE_BYTES,
    Matting,
    Square,
    builtin_default,
    load,
    load_dir,
    resolve,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "profiles"
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
    for name in predict.MODELS:
        assert name in problem


def test_model_file_with_a_wrong_checksum_is_refused(tmp_path: Path) -> None:
    spec = predict.MODELS["u2net"]
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
    from studiocut.encode import output_name

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
