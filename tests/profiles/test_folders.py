"""The one rule for where profiles may write: links resolved, every profile against every other."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from studiocut.errors import ConfigError
from studiocut.profiles import Profile, folders, parse


def profile(title: str, watch: Path, output: Path, **keys: object) -> Profile:
    return parse({"watch": str(watch), "output": str(output), **keys}, name=title,
                 source=f"{title}.yaml")


def test_separate_folders_break_no_rule(tmp_path: Path) -> None:
    shop = profile("shop", tmp_path / "in", tmp_path / "out")
    web = profile("web", tmp_path / "in-web", tmp_path / "out-web")

    assert folders.problems([shop, web]) == []


def test_an_output_folder_that_links_into_the_watched_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "out").symlink_to(tmp_path / "in")

    with pytest.raises(ConfigError) as refused:
        profile("shop", tmp_path / "in", tmp_path / "out")

    (problem,) = [p for p in refused.value.problems if "At 'output'" in p]
    assert problem.startswith("shop.yaml: At 'output': this folder is the watched folder")
    assert "through a link" in problem


def test_a_link_above_the_output_folder_is_resolved_too(tmp_path: Path) -> None:
    (tmp_path / "in" / "done").mkdir(parents=True)
    (tmp_path / "studio").symlink_to(tmp_path / "in")

    with pytest.raises(ConfigError) as refused:
        profile("shop", tmp_path / "in", tmp_path / "studio" / "done")

    assert any("At 'output': this folder is inside the watched folder" in p
               for p in refused.value.problems)


def test_two_profiles_writing_into_each_others_watched_folder_are_both_refused(
        tmp_path: Path) -> None:
    a = profile("a", tmp_path / "x", tmp_path / "y")
    b = profile("b", tmp_path / "y", tmp_path / "x")

    problems = folders.problems([a, b])

    assert any(p.startswith("a.yaml: At 'output'") and "profile b's watched" in p
               for p in problems)
    assert any(p.startswith("b.yaml: At 'output'") and "profile a's watched" in p
               for p in problems)


def test_a_failed_folder_inside_another_profiles_watched_folder_is_refused(tmp_path: Path) -> None:
    a = profile("a", tmp_path / "a-in", tmp_path / "a-out", failed=str(tmp_path / "b-in" / "bad"))
    b = profile("b", tmp_path / "b-in", tmp_path / "b-out")

    (problem,) = folders.problems([a, b])

    assert problem.startswith("a.yaml: At 'failed'") and "profile b's watched" in problem
    assert folders.problems([a, b], between=True) == [problem]


def test_an_output_below_a_folder_watched_without_subfolders_is_allowed(tmp_path: Path) -> None:
    flat = profile("flat", tmp_path / "in", tmp_path / "in" / "done", recursive=False)

    assert folders.problems([flat]) == []
    assert folders.problems([dataclasses.replace(flat, recursive=True)]) != []
    with pytest.raises(ConfigError):
        profile("deep", tmp_path / "in", tmp_path / "in" / "done")


def test_two_profiles_with_one_output_folder_and_the_same_names_are_refused(
        tmp_path: Path) -> None:
    first = profile("first", tmp_path / "in", tmp_path / "out")
    second = profile("second", tmp_path / "in2", tmp_path / "out")

    (problem,) = folders.problems([first, second])

    assert problem.startswith("first.yaml: At 'output'") and "profile second" in problem


def test_a_nested_output_folder_counts_as_shared(tmp_path: Path) -> None:
    first = profile("first", tmp_path / "in", tmp_path / "out")
    second = profile("second", tmp_path / "in2", tmp_path / "out" / "second")

    assert len(folders.problems([first, second])) == 1


@pytest.mark.parametrize(("first_keys", "second_keys"), [
    ({"format": "png", "backdrop": "transparent"}, {"format": "jpeg"}),
    ({"name": "{stem}-{profile}.{ext}"}, {"name": "{stem}-{profile}.{ext}"}),
    ({"name": "web-{stem}.{ext}"}, {"name": "print-{stem}.{ext}"}),
], ids=["formats", "profile-in-name", "prefixes"])
def test_one_output_folder_is_fine_where_names_cannot_collide(
        tmp_path: Path, first_keys: dict[str, object], second_keys: dict[str, object]) -> None:
    first = profile("first", tmp_path / "in", tmp_path / "out", **first_keys)
    second = profile("second", tmp_path / "in", tmp_path / "out", **second_keys)

    assert folders.problems([first, second]) == []


def test_a_suffix_that_one_stem_can_end_with_may_still_collide(tmp_path: Path) -> None:
    # "shoe-b.jpg" from the first and "shoe.jpg" -> "shoe-b.jpg" from the second
    first = profile("first", tmp_path / "in", tmp_path / "out", name="{stem}.{ext}")
    second = profile("second", tmp_path / "in2", tmp_path / "out", name="{stem}-b.{ext}")

    assert len(folders.problems([first, second])) == 1


def test_case_is_folded_only_where_the_file_system_ignores_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not folders.ignores_case(tmp_path)  # Linux file systems keep case
    shop = profile("shop", tmp_path / "In", tmp_path / "in" / "out")
    assert folders.problems([shop]) == []

    monkeypatch.setattr(folders, "ignores_case", lambda path: True)  # as on macOS or Windows
    problems = folders.problems([shop])
    assert problems and all("inside the watched folder" in p for p in problems)
    with pytest.raises(ConfigError):
        profile("shop", tmp_path / "In", tmp_path / "in" / "out")


def test_watcher_of_names_the_profile_that_would_take_a_file_as_a_new_photo(
        tmp_path: Path) -> None:
    shop = profile("shop", tmp_path / "in", tmp_path / "out")

    assert folders.watcher_of(tmp_path / "in" / "sub" / "a.jpg", [shop]) is shop
    assert folders.watcher_of(tmp_path / "out" / "a.jpg", [shop]) is None


def test_check_runnable_refuses_a_profile_without_folders_naming_each_key() -> None:
    with pytest.raises(ConfigError) as caught:
        folders.check_runnable(parse({}, name="test", source="<test>"))

    assert caught.value.problems == [
        "test: At 'watch': required to run as a hot folder (got nothing; expected a folder "
        "path)",
        "test: At 'output': required to run as a hot folder (got nothing; expected a folder "
        "path)",
    ]


def test_check_runnable_names_only_the_missing_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        folders.check_runnable(parse({"watch": str(tmp_path / "in")}, name="test",
                                     source="<test>"))

    assert [p.split(":")[1].strip() for p in caught.value.problems] == ["At 'output'"]
    folders.check_runnable(profile("shop", tmp_path / "in", tmp_path / "out"))  # accepted
