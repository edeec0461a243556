"""check: ``studiocut check``: every problem of every profile, and of profiles together."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studiocut import cli


def check(folder: Path, capsys: pytest.CaptureFixture[str], *names: str) -> tuple[int, dict]:
    code = cli.main(["check", "--profiles", str(folder), "--json", *names])
    return code, json.loads(capsys.readouterr().out)


def test_good_profiles_are_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "shop.yaml").write_text("watch: in\noutput: out\n")

    assert check(tmp_path, capsys) == (0, {"ok": True, "profiles": ["shop"], "problems": []})


def test_an_empty_profile_file_is_not_ok(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty.yaml").write_text("")

    code, result = check(tmp_path, capsys)

    assert code == 2 and result["profiles"] == []
    assert [p.split(": At ")[1].split(":")[0] for p in result["problems"]] == ["'watch'",
                                                                              "'output'"]


def test_move_with_no_folder_is_not_ok(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "mv.yaml").write_text("watch: in\noutput: out\nafter: {move: }\n")

    code, result = check(tmp_path, capsys)

    assert code == 2
    (problem,) = result["problems"]
    assert "At 'after.move': needs the folder to move originals to" in problem


def test_profiles_sharing_an_output_folder_are_not_ok_and_both_are_named(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.yaml").write_text("watch: in-a\noutput: out\n")
    (tmp_path / "b.yaml").write_text("watch: in-b\noutput: out\n")
    (tmp_path / "c.yaml").write_text("watch: in-c\noutput: out-c\n")

    code, result = check(tmp_path, capsys)

    assert code == 2 and result["profiles"] == ["c"]
    (problem,) = result["problems"]
    assert problem.startswith(f"{tmp_path / 'a.yaml'}: At 'output': profile b writes")


def test_a_profile_named_outside_the_folder_need_not_be_a_hot_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "web.yaml").write_text("format: png\n")  # for `studiocut process`

    assert check(tmp_path / "profiles", capsys, str(tmp_path / "web.yaml"))[0] == 0


def test_a_cluster_profile_is_checked_against_cluster_yaml(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "shop.yaml").write_text("watch: ../in\noutput: ../out\nexecutor: cluster\n"
                                      "queue: gpu\n")

    code, result = check(folder, capsys)
    assert code == 2 and result["profiles"] == []
    assert result["problems"][0].startswith(f"{tmp_path / 'cluster.yaml'}: missing")

    (tmp_path / "cluster.yaml").write_text(
        "broker: redis://127.0.0.1:6379/0\nspool: {'*': /srv/spool}\nqueues: {cutout: {}}\n")
    code, result = check(folder, capsys)
    assert code == 2 and "At 'queue': not a queue of" in result["problems"][0]

    (tmp_path / "cluster.yaml").write_text(
        "broker: redis://127.0.0.1:6379/0\nspool: {'*': /srv/spool}\nqueues: {gpu: {}}\n")
    assert check(folder, capsys) == (0, {"ok": True, "profiles": ["shop"], "problems": []})
