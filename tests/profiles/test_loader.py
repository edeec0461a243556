"""loader: profile files read safely (RELIABILITY items 40 and 41), one file, a folder of
them, or a name resolved.

Every problem is reported as ``<file>: <problem>``, naming the file.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from studiocut.errors import ConfigError
from studiocut.profiles import (
    DEFAULT_INCLUDE,
    MAX_PROFILE_BYTES,
    Canvas,
    Matting,
    builtin_default,
    load,
    load_dir,
    resolve,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "profiles"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


# --------------------------------------------------------------------------- reading


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
    assert profile.canvas is None
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
    assert profiles["amazon"].canvas == Canvas()
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
    assert builtin.canvas == Canvas() and builtin.encoding.format == "jpeg"
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
