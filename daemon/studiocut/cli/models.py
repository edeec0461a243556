"""models: ``studiocut models list | pull | verify``: what the registry knows and what is
installed, installing weights (from the release, another address or a local copy), and checking
installed weights against their checksums.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from studiocut.errors import EXIT_FAILED, EXIT_OK, ConfigError, ModelError
from studiocut.models import predict, registry
from studiocut.models.download import install


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    """Add ``models list | pull | verify`` to the command line."""
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


def model_rows() -> list[dict[str, Any]]:
    """One row per model the registry knows: its family, size, licence, and whether it is
    installed (or embedded)."""
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
    rows = model_rows()
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

