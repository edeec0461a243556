"""doctor: onnxruntime, its packages and providers, where each profile's model runs, and a
fix for every problem. Models come from the models fixture (conftest.py), profiles from
tmp_path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import onnxruntime as ort
import pytest

from studiocut import cli
from studiocut.cli import doctor
from studiocut.models import providers

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


@pytest.fixture
def models(models: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The models folder, with one onnxruntime package installed as far as doctor can tell."""
    monkeypatch.setattr(doctor, "_onnxruntime_packages", lambda: ["onnxruntime"])
    return models


def profiles(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "profiles"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folder


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
    monkeypatch.setattr(doctor, "_onnxruntime_packages",
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
    assert report["profiles"] == [{"profile": "default", "model": "auto", "device": "auto",
                                   "runs_on": report["profiles"][0]["runs_on"]}]
    assert report["profiles"][0]["runs_on"] in ort.get_available_providers()


def test_the_installed_onnxruntime_distribution_is_found() -> None:
    packages = doctor._onnxruntime_packages()

    assert packages and all(name.startswith("onnxruntime") for name in packages)
