"""models: ``studiocut models list | verify`` (pull: tests/models/test_download.py).

A copy of the embedded u2netp weights is registered as a model of its own and installed in a
models folder under tmp_path (the models fixture, conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from studiocut import cli
from studiocut.models.registry import MODELS

NAME = "test-u2netp"  # what the models fixture (conftest.py) installs
FILE = "test-u2netp.onnx"


def damage(path: Path) -> None:
    with path.open("r+b") as f:
        f.seek(2_000_000)
        byte = f.read(1)
        f.seek(2_000_000)
        f.write(bytes([byte[0] ^ 0x01]))


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = cli.main(list(argv))
    return code, json.loads(capsys.readouterr().out)


# --------------------------------------------------------------------------- verify


def test_verify_reports_ok_for_intact_weights(
    models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["models", "verify", NAME])

    assert code == 0
    assert capsys.readouterr().out == f"ok     {NAME}: {models / FILE}\n"


def test_verify_reports_failed_for_a_damaged_file_and_exits_1(
    models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damage(models / FILE)

    code = cli.main(["models", "verify", NAME])

    assert code == 1
    out = capsys.readouterr().out
    assert out.startswith(f"FAILED {NAME}: {models / FILE}\n")
    assert "sha256 checksum mismatch" in out
    assert f"studiocut models pull {NAME}" in out


def test_verify_json_lists_each_file_with_its_problem(
    models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damage(models / FILE)

    code, report = run_json(capsys, "models", "verify", NAME, "u2netp", "u2net", "--json")

    assert code == 1
    by_model = {r["model"]: r for r in report["results"]}
    assert by_model["u2netp"]["ok"] is True and by_model["u2netp"]["problem"] is None
    assert by_model[NAME]["ok"] is False
    assert "checksum mismatch" in by_model[NAME]["problem"]
    assert by_model["u2net"] == {"model": "u2net", "file": str(models / "u2net.onnx"),
                                 "ok": False,
                                 "problem": "not installed: run `studiocut models pull u2net`"}


def test_verify_without_names_checks_every_installed_model(
    models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = run_json(capsys, "models", "verify", "--json")

    assert code == 0
    assert sorted(r["model"] for r in report["results"]) == sorted([NAME, "u2netp"])


# --------------------------------------------------------------------------- list


def test_list_json_shows_what_is_installed_and_what_is_embedded(
    models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = run_json(capsys, "models", "list", "--json")

    assert code == 0
    assert report["models_dir"] == str(models)
    rows = {row["name"]: row for row in report["models"]}
    assert set(rows) == set(MODELS)
    assert rows["u2netp"]["installed"] is True and rows["u2netp"]["embedded"] is True
    assert rows[NAME]["installed"] is True and rows[NAME]["embedded"] is False
    assert rows["u2net"]["installed"] is False and rows["u2net"]["embedded"] is False
    assert rows["backdrop-key"]["installed"] is True  # needs no weights
    assert rows["sam-vit-b"]["family"] == "sam" and rows["sam-vit-b"]["input_size"] == "1024x684"
    assert rows["bria-rmbg-2.0"]["commercial"] is False


def test_list_counts_a_two_file_model_as_installed_only_with_both_files(
    models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (models / "sam_vit_b_01ec64.encoder.onnx").write_bytes(b"half of it")

    _, report = run_json(capsys, "models", "list", "--json")

    assert {r["name"]: r["installed"] for r in report["models"]}["sam-vit-b"] is False


def test_list_prints_a_table(models: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["models", "list"]) == 0

    out = capsys.readouterr().out
    assert "u2netp" in out and "embedded" in out and NAME in out
