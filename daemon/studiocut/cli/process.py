"""process: ``studiocut process``: cut out files or folders once, with one profile, outside the
daemon (no journal, no hot folder).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from studiocut import profiles
from studiocut.cli.options import error_lines, profiles_dir
from studiocut.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, ConfigError, InputError
from studiocut.imaging.pipeline import Outcome
from studiocut.profiles import folders


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    """Add ``process`` to the command line."""
    p = sub.add_parser("process", parents=[common], help="cut out files or folders once",
                       description="Cut out INPUT files (or every image in INPUT folders) with "
                       "a profile and write the results.")
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT")
    p.add_argument("--profile", default="default", metavar="NAME_OR_PATH",
                   help="profile name in --profiles, or a .yaml path (default: built-in)")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="output folder (default: the profile's output)")
    p.add_argument("--jobs", type=int, default=0, metavar="N",
                   help="photos processed at once (default: one per CPU core)")
    p.add_argument("--json", action="store_true", help="print one JSON object per photo")
    p.set_defaults(handler=cmd_process)


def cmd_process(args: argparse.Namespace) -> int:
    from studiocut.imaging import pipeline
    from studiocut.models import predict

    profile = profiles.resolve(args.profile, profiles_dir(args))
    out = args.out or profile.output
    if out is None:
        raise ConfigError([f"{args.profile}: the profile has no 'output' folder; give --out DIR"])
    out = Path(out).expanduser().absolute()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError([f"{out}: cannot create the output folder: {e.strerror}"]) from e
    jobs = list(_expand_inputs(args.inputs, profile))
    if not jobs:
        error_lines(["no input images found in " + ", ".join(map(str, args.inputs))])
        return EXIT_USAGE
    refused = _writes_over_inputs(args.inputs, jobs, out, profile)
    if refused:
        error_lines(refused)
        return EXIT_USAGE
    workers = args.jobs if args.jobs > 0 else max(1, min(len(jobs), os.cpu_count() or 1))
    pipeline.set_framing_slots(workers)
    # one inference at a time on every core; the other workers decode and encode meanwhile
    model = predict.open_model(profile.model_request(threads=os.cpu_count() or 1))

    def run(job: tuple[Path, Path]) -> Outcome:
        source, relative = job
        return pipeline.process(source, model, profile, output_root=out, relative_dir=relative)

    failed = 0
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="studiocut") as pool:
        for outcome in _with_progress(pool.map(run, jobs), len(jobs), enabled=not args.json):
            if not outcome.ok:
                failed += 1
            if args.json:
                print(json.dumps(_outcome_json(outcome)), flush=True)
            elif not outcome.ok:
                print(f"failed: {outcome.message} [{outcome.reason}]", file=sys.stderr)
            elif outcome.flags:
                print(f"review: {outcome.source}: {'; '.join(outcome.flags)}", file=sys.stderr)
    if not args.json:
        done = len(jobs) - failed
        print(f"{done} done, {failed} failed -> {out}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def _expand_inputs(
    inputs: Sequence[Path], profile: profiles.Profile
) -> Iterator[tuple[Path, Path]]:
    """Yield (file, output subfolder) for files given directly and, inside folders, the files
    the daemon would take (the same walk and name rules: no links, no temp or hidden names)."""
    from studiocut.hotfolder import intake

    for item in inputs:
        item = item.expanduser()
        if item.is_dir():
            for path in sorted(intake.walk(item, profile.recursive)):
                if path.is_file() and not path.is_symlink() and intake.accepts(profile, path.name):
                    yield path, path.parent.relative_to(item)
        else:
            yield item, Path()


def _writes_over_inputs(inputs: Sequence[Path], jobs: Sequence[tuple[Path, Path]], out: Path,
                        profile: profiles.Profile) -> list[str]:
    """Why writing to ``out`` would touch the inputs: an output that would replace an input
    file, or an output folder inside a folder being read (by the file system's view of the
    folders: links resolved, case folded where it is ignored)."""
    from studiocut.imaging import naming

    problems: list[str] = []
    sources = {folders.Place.of(source): source for source, _ in jobs}
    for source, relative in jobs:
        try:
            dest = naming.output_path(out, relative, source, profile.encoding, profile.name)
        except InputError:
            continue  # an odd name: that photo fails on its own, with its reason
        replaced = sources.get(folders.Place.of(dest))
        if replaced is not None:
            problems.append(f"{replaced}: its cut-out would be written over it ({dest}); give "
                            "--out a folder of its own")
    target = folders.Place.of(out)
    for item in inputs:
        if item.is_dir() and target.within(folders.Place.of(item)):
            problems.append(f"{out}: the output folder is inside the input folder {item}; give "
                            "--out a folder outside it")
    return problems


def _with_progress(outcomes: Iterator[Outcome], total: int, *, enabled: bool) -> Iterator[Outcome]:
    if not (enabled and sys.stderr.isatty()):
        yield from outcomes
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("cutting out", total=total)
        for outcome in outcomes:
            progress.advance(task)
            yield outcome


def _outcome_json(outcome: Outcome) -> dict[str, object]:
    return {
        "source": os.fsdecode(outcome.source),
        "ok": outcome.ok,
        "output": os.fsdecode(outcome.output) if outcome.output else None,
        "reason": outcome.reason,
        "message": outcome.message,
        "seconds": round(outcome.seconds, 3),
        "flags": list(outcome.flags),
    }
