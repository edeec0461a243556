"""process: ``studiocut process``: cut out files or folders once, with one profile, outside the
daemon (no journal, no hot folder). SKUs, views, barcode cards and a set's framing are
decided within the run (``cli.batch``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from studiocut import profiles
from studiocut.cli import batch
from studiocut.cli.options import error_lines, profiles_dir
from studiocut.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, ConfigError
from studiocut.imaging.pipeline import Outcome
from studiocut.profiles import folders

T = TypeVar("T")


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
    p.add_argument("--replace", action="store_true",
                   help="write over outputs named by {view} that are already there (views are "
                   "numbered within one run, so they may be other photos' views)")
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
    photos = list(_expand_inputs(args.inputs, profile))
    if not photos:
        error_lines(["no input images found in " + ", ".join(map(str, args.inputs))])
        return EXIT_USAGE
    workers = args.jobs if args.jobs > 0 else max(1, min(len(photos), os.cpu_count() or 1))
    catalogue = batch.RunCatalogue()
    # with --json, stdout is the JSON lines a script reads: whatever a library prints while
    # the photos are worked (pymatting warns there) goes to stderr instead
    results = sys.stdout
    quiet = contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext()
    with quiet, ThreadPoolExecutor(max_workers=workers, thread_name_prefix="studiocut") as pool:
        planned = batch.plan(photos, profile, catalogue, output_root=out, reading=pool)
        refused = _writes_over_inputs(args.inputs, planned, out)
        refused += batch.clashes(planned, folders.Place.of)
        if not args.replace:
            refused += _earlier_views(planned)
        if refused:
            error_lines(refused)
            return EXIT_USAGE
        pipeline.set_framing_slots(workers)
        # one inference at a time on every core; the other workers decode and encode meanwhile
        model = predict.open_model(profile.model_request(threads=os.cpu_count() or 1))

        def run(item: batch.Planned) -> tuple[batch.Planned, Outcome]:
            return item, batch.run(item, model, catalogue, output_root=out)

        failed = cards = 0
        for item, outcome in _with_progress(pool.map(run, planned), len(planned),
                                            enabled=not args.json):
            if item.card is not None:
                cards += 1
            elif not outcome.ok:
                failed += 1
            if args.json:
                print(json.dumps(_outcome_json(item, outcome)), file=results, flush=True)
            elif item.card is not None:
                print(f"card: {outcome.message}", file=sys.stderr)
            elif not outcome.ok:
                print(f"failed: {outcome.message} [{outcome.reason}]", file=sys.stderr)
            elif outcome.flags:
                print(f"review: {outcome.source}: {'; '.join(outcome.flags)}", file=sys.stderr)
    if not args.json:
        done = len(planned) - failed - cards
        print(f"{done} done, {failed} failed" + (f", {cards} barcode card(s)" if cards else "")
              + f" -> {out}", file=sys.stderr)
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


def _writes_over_inputs(inputs: Sequence[Path], planned: Sequence[batch.Planned],
                        out: Path) -> list[str]:
    """Why writing to ``out`` would touch the inputs: an output that would replace an input
    file, or an output folder inside a folder being read (by the file system's view of the
    folders: links resolved, case folded where it is ignored)."""
    problems: list[str] = []
    sources = {folders.Place.of(item.source): item.source for item in planned}
    for _, _, dest in batch.outputs_in(planned):
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


def _earlier_views(planned: Sequence[batch.Planned]) -> list[str]:
    """A problem for each output named by ``{view}`` that is already there: this run numbers
    its views from 1, and without a journal it cannot tell an earlier run's output of the
    same photo from another photo's view."""
    return [f"{path}: already there, and this run would write {item.source} over it as view "
            f"{item.work.product.view if item.work.product else '?'} of its SKU (process "
            "numbers views within one run); give --out an empty folder, or --replace"
            for item, name, path in batch.outputs_in(planned)
            if "{view}" in _template(item, name) and os.path.lexists(path)]


def _template(item: batch.Planned, rendition: str) -> str:
    return next(r.encoding.name for r in item.work.profile.all_renditions
                if r.name == rendition)


def _with_progress(outcomes: Iterator[T], total: int, *, enabled: bool) -> Iterator[T]:
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


def _outcome_json(item: batch.Planned, outcome: Outcome) -> dict[str, object]:
    product = item.work.product
    return {
        "source": os.fsdecode(outcome.source),
        "ok": outcome.ok or item.card is not None,
        "output": os.fsdecode(outcome.output) if outcome.output else None,
        "outputs": [{"name": name, "path": os.fsdecode(path)} for name, path in item.outputs]
                   if outcome.ok else [],
        "sku": item.card or (product.sku if product else None),
        "view": product.view if product else None,
        "card": item.card is not None,
        "reason": outcome.reason,
        "message": outcome.message,
        "seconds": round(outcome.seconds, 3),
        "flags": list(outcome.flags),
    }
