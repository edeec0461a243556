"""catalog: ``studiocut models list | pull | verify`` and ``studiocut doctor``.

What is installed, what each profile's model will run on, and a fix for every problem found.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from studiocut.errors import ConfigError, ModelError, StudiocutError
from studiocut.models import predict, providers, registry
from studiocut.models.download import install

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``models`` and ``doctor`` to the command line."""
    models = sub.add_parser("models", parents=[common], help="list, install and verify models")
    actions = models.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", parents=[common], help="every model the registry knows")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_list)
    pull = actions.add_parser("pull", parents=[common], help="download and install a model")
    pull.add_argument("name")
    pull.add_argument("--from", dest="source", metavar="URL_OR_FILE",
                      help="another address, or a local file (air-gapped studios)")
    pull.set_defaults(handler=cmd_pull)
    verify = actions.add_parser("verify", parents=[common], help="check installed weights")
    verify.add_argument("names", nargs="*", metavar="NAME")
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(handler=cmd_verify)
    doctor = sub.add_parser("doctor", parents=[common], help="check this installation",
                            description="onnxruntime, its providers, where each profile's model "
                            "runs, installed models, and a fix for each problem.")
    doctor.add_argument("--json", action="store_true")
    doctor.set_defaults(handler=cmd_doctor)


def _rows() -> list[dict[str, Any]]:
    rows = []
    for name, spec in sorted(registry.MODELS.items()):
        rows.append({
            "name": name,
            "family": spec.family,
            "input_size": f"{spec.input_size[0]}x{spec.input_size[1]}",
            "size_mb": spec.size_mb,
            "licence": spec.licence,
            "commercial": spec.commercial,
            "installed": predict.installed(spec),
            "embedded": spec.embedded,
        })
    return rows


def cmd_list(args: argparse.Namespace) -> int:
    rows = _rows()
    if args.json:
        print(json.dumps({"models_dir": os.fsdecode(predict.models_dir()), "models": rows}))
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table

    table = Table("model", "family", "input", "size", "licence", "installed",
                  title=f"models folder: {predict.models_dir()}", title_justify="left")
    for row in rows:
        size = f"{row['size_mb']:g} MB" if row["size_mb"] else "-"
        state = "embedded" if row["embedded"] else "yes" if row["installed"] else "no"
        table.add_row(row["name"], row["family"], row["input_size"], size, row["licence"], state,
                      style=None if row["commercial"] else "yellow")
    Console().print(table)
    return EXIT_OK


def cmd_pull(args: argparse.Namespace) -> int:
    spec = registry.spec_for(args.name)
    if not spec.needs_files or spec.embedded:
        print(f"{spec.name} needs no download (it ships with studiocut)")
        return EXIT_OK
    if not spec.commercial:
        print(f"note: {spec.name} is licensed {spec.licence}", file=sys.stderr)
    artifacts = spec.artifacts
    base = args.source and (Path(args.source).expanduser().is_dir() or args.source.endswith("/"))
    if args.source and len(artifacts) > 1 and not base:
        raise ConfigError([f"{spec.name} has {len(artifacts)} files; give --from a folder "
                           "(local copies) or an address ending in /, or leave it out"])
    for artifact in artifacts:
        source = args.source or registry.RELEASES + artifact.file
        if args.source and Path(args.source).expanduser().is_dir():
            source = str(Path(args.source).expanduser() / artifact.file)
        elif args.source and args.source.endswith("/"):
            source = args.source + artifact.file
        path = _install_with_progress(artifact, source)
        print(f"installed {path}")
    return EXIT_OK


def _install_with_progress(artifact: Any, source: str) -> Path:
    folder = predict.models_dir()
    if not sys.stderr.isatty():
        return install(artifact, source, folder)
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                  TransferSpeedColumn(), TimeRemainingColumn(), transient=True) as progress:
        task = progress.add_task(artifact.file, total=None)

        def report(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        return install(artifact, source, folder, progress=report)


def cmd_verify(args: argparse.Namespace) -> int:
    names = args.names or [n for n, s in registry.MODELS.items()
                           if s.needs_files and predict.installed(s)]
    results = []
    for name in names:
        spec = registry.spec_for(name)
        for artifact in spec.artifacts:
            path = predict.weights_path(spec, artifact)
            if not path.is_file():
                results.append({"model": name, "file": os.fsdecode(path), "ok": False,
                                "problem": f"not installed: run `{predict.pull_command(spec)}`"})
                continue
            try:
                predict.verify(spec, path, artifact)
                results.append({"model": name, "file": os.fsdecode(path), "ok": True,
                                "problem": None})
            except ModelError as e:
                results.append({"model": name, "file": os.fsdecode(path), "ok": False,
                                "problem": str(e)})
    if args.json:
        print(json.dumps({"results": results}))
    else:
        for r in results:
            print(("ok     " if r["ok"] else "FAILED ") + f"{r['model']}: {r['file']}"
                  + ("" if r["ok"] else f"\n       {r['problem']}"))
    return EXIT_OK if all(r["ok"] for r in results) else EXIT_FAILED


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
        {"name": r["name"], "installed": r["installed"]} for r in _rows() if r["installed"]]
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
    from studiocut.cli.commands import profiles_dir

    report = diagnose(profiles_dir(args))
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
