"""doctor: ``studiocut doctor``: check this installation: onnxruntime and its providers, what
each profile's model will run on, installed models, and a fix for every problem found.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from studiocut.cli import options
from studiocut.cli.models import model_rows
from studiocut.errors import EXIT_FAILED, EXIT_OK, ConfigError, StudiocutError
from studiocut.models import predict, providers


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    """Add ``doctor`` to the command line."""
    doctor = sub.add_parser("doctor", parents=[common], help="check this installation",
                            description="onnxruntime, its providers, where each profile's model "
                            "runs, installed models, and a fix for each problem.")
    doctor.add_argument("--json", action="store_true")
    doctor.set_defaults(handler=cmd_doctor)


def diagnose(profiles_dir: Path) -> dict[str, Any]:
    """Everything ``doctor`` reports, with a fix for each problem."""
    from studiocut import profiles

    problems: list[dict[str, str]] = []
    report: dict[str, Any] = {"python": sys.version.split()[0], "problems": problems}
    try:
        import onnxruntime as ort

        report["onnxruntime"] = {"version": ort.__version__,
                                 "providers": providers.available()}
    except ImportError:
        report["onnxruntime"] = None
        problems.append({"problem": "onnxruntime is not installed",
                         "fix": "pip install onnxruntime (onnxruntime-directml on Windows)"})
        return report
    packages = _onnxruntime_packages()
    report["onnxruntime"]["packages"] = packages
    if len(packages) > 1:
        problems.append({"problem": "several onnxruntime packages are installed at once: "
                         + ", ".join(packages) + "; they overwrite each other's files",
                         "fix": "pip uninstall " + " ".join(packages) + ", then install one"})
    report["models"] = [
        {"name": r["name"], "installed": r["installed"]} for r in model_rows() if r["installed"]]
    rows = []
    try:
        loaded = profiles.load_dir(profiles_dir) if profiles_dir.is_dir() else {}
    except ConfigError as e:
        loaded = {}
        problems.extend({"problem": line, "fix": "edit the profile; `studiocut check` lists "
                         "every problem"} for line in e.problems)
    if not loaded:
        loaded = {"default": profiles.builtin_default()}
    for name, profile in sorted(loaded.items()):
        row: dict[str, Any] = {"profile": name, "model": profile.model,
                               "device": profile.device}
        try:
            model = predict.open_model(profile.model_request())
            row["runs_on"] = getattr(model, "provider", "unknown")
        except StudiocutError as e:
            row["runs_on"] = None
            problems.append({"problem": f"profile {name}: {e}",
                             "fix": _fix_for(str(e))})
        rows.append(row)
    report["profiles"] = rows
    return report


def _fix_for(message: str) -> str:
    if "not installed" in message:
        return message.split("run `")[-1].split("`")[0] if "run `" in message else message
    if "checksum" in message:
        return "delete the file and run `studiocut models pull` for it again"
    if "require_gpu" in message or "device" in message:
        return "install the onnxruntime build for your GPU (see README, 'Which onnxruntime')"
    return "see the README's troubleshooting section"


def _onnxruntime_packages() -> list[str]:
    from importlib.metadata import distributions

    names = set()
    for dist in distributions():
        name = (dist.metadata["Name"] or "").lower()
        if name.startswith("onnxruntime") and name != "onnxruntime-extensions":
            names.add(name)
    return sorted(names)



def cmd_doctor(args: argparse.Namespace) -> int:
    report = diagnose(options.profiles_dir(args))
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        ort = report.get("onnxruntime")
        print(f"python {report['python']}")
        if ort:
            print(f"onnxruntime {ort['version']} ({', '.join(ort.get('packages', []))}): "
                  f"providers {', '.join(ort['providers'])}")
        for row in report.get("profiles", []):
            print(f"profile {row['profile']}: model {row['model']}, device {row['device']}, "
                  f"runs on {row['runs_on'] or 'nothing (see below)'}")
        for model in report.get("models", []):
            print(f"model installed: {model['name']}")
        for item in report["problems"]:
            print(f"problem: {item['problem']}\n    fix: {item['fix']}")
        if not report["problems"]:
            print("no problems found")
    return EXIT_FAILED if report["problems"] else EXIT_OK

