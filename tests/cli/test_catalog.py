"""catalog: ``studiocut models list | verify`` and ``studiocut doctor``.

A copy of the embedded u2netp weights is registered as a model of its own and installed in a
models folder under tmp_path (STUDIOCUT_MODELS); doctor reads profiles from tmp_path too."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import onnxruntime as ort
import pytest

from studiocut.cli import catalog
from studiocut.cli import commands as cli
from studiocut.models import predict, providers
from studiocut.models.registry import MODELS, ModelSpec

NAME = "test-u2netp"
FILE = "test-u2netp.onnx"
U2NETP = MODELS["u2netp"]


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A models folder holding a copy of u2netp, registered as NAME."""
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copyfile(predict.weights_path(U2NETP), folder / FILE)
    monkeypatch.setenv("STUDIOCUT_MODELS", str(folder))
    monkeypatch.setitem(MODELS, NAME, ModelSpec(NAME, "u2net", FILE, U2NETP.md5, U2NETP.sha256))
    monkeypatch.setattr(predict, "_loaded", {})
    monkeypatch.setattr(catalog, "_onnxruntime_packages", lambda: ["onnxruntime"])
    return folder



def damage(path: Path) -> None:
    with path.open("r+b") as f:
        f.seek(2_000_000)
        byte = f.read(1)
        f.seek(2_000_000)
        f.write(bytes([byte[0] ^ 0x01]))


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = cli.main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def profiles(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "profiles"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folder


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


# --------------------------------------------------------------------------- doctor


def test_doctor_reports_onnxruntime_and_where_each_profile_runs(
    tmp_path: Path, models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = profiles(tmp_path, shop=f"model: {NAME}\ndevice: cpu\n", key="model: backdrop-key\n")

    code, report = run_json(capsys, "doctor", "--json", "--profiles", str(folder))

    assert code == 0, report["problems"]
    assert report["problems"] == []
    assert report["onnxruntime"]["version"] == ort.__version__
    assert report["onnxruntime"]["providers"] == ort.get_available_providers()
    assert report["onnxruntime"]["packages"] == ["onnxruntime"]
    assert report["profiles"] == [
        {"profile": "key", "model": "backdrop-key", "device": "auto",
         "runs_on": "none (no network)"},
        {"profile": "shop", "model": NAME, "device": "cpu", "runs_on": "CPUExecutionProvider"},
    ]
    assert {"name": NAME, "installed": True} in report["models"]


def test_doctor_gives_the_pull_command_for_a_model_that_is_not_installed(
    tmp_path: Path, models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = profiles(tmp_path, shop=f"model: {NAME}\n", big="model: birefnet-general\n")

    code, report = run_json(capsys, "doctor", "--json", "--profiles", str(folder))

    assert code == 1
    rows = {row["profile"]: row for row in report["profiles"]}
    assert rows["big"]["runs_on"] is None
    assert rows["shop"]["runs_on"] == "CPUExecutionProvider"
    [problem] = report["problems"]
    assert problem["problem"].startswith(
        "profile big: model 'birefnet-general' is not installed")
    assert problem["fix"] == "studiocut models pull birefnet-general"


def test_doctor_text_names_each_problem_and_its_fix(
    tmp_path: Path, models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = profiles(tmp_path, big="model: u2net\n")

    code = cli.main(["doctor", "--profiles", str(folder)])

    assert code == 1
    out = capsys.readouterr().out
    assert f"onnxruntime {ort.__version__} (onnxruntime): providers " in out
    assert "profile big: model u2net, device auto, runs on nothing (see below)" in out
    assert "problem: profile big: model 'u2net' is not installed" in out
    assert "    fix: studiocut models pull u2net" in out


def test_doctor_flags_a_damaged_model_with_the_fix(
    tmp_path: Path, models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damage(models / FILE)
    folder = profiles(tmp_path, shop=f"model: {NAME}\n")

    code, report = run_json(capsys, "doctor", "--json", "--profiles", str(folder))

    assert code == 1
    [problem] = report["problems"]
    assert "checksum mismatch" in problem["problem"]
    assert "studiocut models pull" in problem["fix"]


def test_doctor_flags_require_gpu_on_a_build_without_one(
    tmp_path: Path, models: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(providers, "available", lambda: ["CPUExecutionProvider"])
    folder = profiles(tmp_path, fast=f"model: {NAME}\nrequire_gpu: true\n")

    code, report = run_json(capsys, "doctor", "--json", "--profiles", str(folder))

    assert code == 1
    [problem] = report["problems"]
    assert "require_gpu is set but the model runs on the CPU" in problem["problem"]
    assert "onnxruntime build for your GPU" in problem["fix"]


def test_doctor_flags_a_device_missing_from_the_build(
    tmp_path: Path, models: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(providers, "available", lambda: ["CPUExecutionProvider"])
    folder = profiles(tmp_path, win=f"model: {NAME}\ndevice: directml\n")

    code, report = run_json(capsys, "doctor", "--json", "--profiles", str(folder))

    assert code == 1
    [problem] = report["problems"]
    assert "device 'directml' needs DmlExecutionProvider" in problem["problem"]
    assert "onnxruntime-directml" in problem["problem"]


def test_doctor_reports_several_onnxruntime_packages_installed_at_once(
    tmp_path: Path, models: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(catalog, "_onnxruntime_packages",
                        lambda: ["onnxruntime", "onnxruntime-gpu"])
    folder = profiles(tmp_path, shop=f"model: {NAME}\n")

    code, report = run_json(capsys, "doctor", "--json", "--profiles", str(folder))

    assert code == 1
    assert report["onnxruntime"]["packages"] == ["onnxruntime", "onnxruntime-gpu"]
    [problem] = report["problems"]
    assert problem["problem"].startswith("several onnxruntime packages are installed at once: "
                                         "onnxruntime, onnxruntime-gpu")
    assert problem["fix"] == ("pip uninstall onnxruntime onnxruntime-gpu, then install one")


def test_doctor_reports_every_problem_of_an_invalid_profile(
    tmp_path: Path, models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = profiles(tmp_path, bad="device: gpu\nrequire_gpu: maybe\n")

    code, report = run_json(capsys, "doctor", "--json", "--profiles", str(folder))

    assert code == 1
    keys = [p["problem"].split("At '")[1].split("'")[0] for p in report["problems"]]
    assert keys == ["device", "require_gpu"]
    assert all("studiocut check" in p["fix"] for p in report["problems"])


def test_doctor_with_no_profiles_checks_the_builtin_default(
    tmp_path: Path, models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = run_json(capsys, "doctor", "--json", "--profiles", str(tmp_path / "none"))

    assert code == 0
    assert report["profiles"] == [{"profile": "default", "model": "u2netp", "device": "auto",
                                   "runs_on": report["profiles"][0]["runs_on"]}]
    assert report["profiles"][0]["runs_on"] in ort.get_available_providers()


def test_the_installed_onnxruntime_distribution_is_found() -> None:
    packages = catalog._onnxruntime_packages()

    assert packages and all(name.startswith("onnxruntime") for name in packages)
