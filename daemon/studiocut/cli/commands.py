"""cli: the ``studiocut`` command. Exit codes: 0 ok, 1 some work failed, 2 usage or config."""

from __future__ import annotations

import argparse
import ctypes
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ClassVar

from studiocut import __version__, places, profiles
from studiocut.errors import ConfigError, ModelError, StudiocutError
from studiocut.imaging.pipeline import Outcome

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    fewer_malloc_arenas()
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    setup_logging(args.verbose)
    try:
        result: int = args.handler(args)
        return result
    except ConfigError as e:
        _error_lines(e.problems)
        return EXIT_USAGE
    except ModelError as e:
        _error_lines([str(e)])
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def fewer_malloc_arenas() -> None:
    """Limit glibc to two malloc arenas, as MALLOC_ARENA_MAX=2 does. By default each thread
    that allocates gets an arena of its own (up to eight a core) that keeps its freed memory:
    with workers passing 24 MP images between them that held about 60 MB more at the peak and
    over 100 MB more at rest, for no speed (bench/memory.py). Elsewhere a no-op; an explicit
    MALLOC_ARENA_MAX wins."""
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(M_ARENA_MAX, 2)
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        pass


M_ARENA_MAX = -8  # glibc's malloc.h


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studiocut", description="Background removal for product photo studios.")
    parser.add_argument("--version", action="version", version=f"studiocut {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--profiles", type=Path, default=None, metavar="DIR",
                        help=f"profiles folder (default: {places.profiles_dir()})")
    common.add_argument("--state", type=Path, default=None, metavar="DIR",
                        help=f"state folder: journal, lock (default: {places.state_dir()})")
    common.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

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

    c = sub.add_parser("check", parents=[common], help="validate profiles",
                       description="Validate profiles (names or paths; default: all in "
                       "--profiles). Exit 0 when all are valid, 2 otherwise.")
    c.add_argument("names", nargs="*", metavar="PROFILE")
    c.add_argument("--json", action="store_true", help="print the result as JSON")
    c.set_defaults(handler=cmd_check)

    r = sub.add_parser("run", parents=[common], help="run the hot-folder daemon (foreground)",
                       description="Watch every profile's folder and process each new photo. "
                       "Runs in the foreground; service managers run it this way.")
    r.add_argument("--workers", type=int, default=0, metavar="N",
                   help="photos processed at once (default: one per CPU core)")
    r.add_argument("--rescan", type=float, default=30.0, metavar="SECONDS",
                   help="full rescan interval, the safety net under events (default: 30)")
    r.add_argument("--shutdown-timeout", type=float, default=20.0, metavar="SECONDS",
                   help="how long SIGTERM waits for photos in progress (default: 20)")
    r.add_argument("--max-crashes", type=int, default=3, metavar="N",
                   help="set a photo aside after it stopped the daemon N times (default: 3)")
    r.add_argument("--plain", action="store_true",
                   help="plain log lines even on a terminal (no live view)")
    r.add_argument("--no-review", action="store_true",
                   help="no review page: results are not kept as revisions nor held")
    r.add_argument("--review-bind", default="127.0.0.1", metavar="ADDRESS",
                   help="address the review page listens on (default: 127.0.0.1, this "
                   "computer only)")
    r.add_argument("--review-port", type=int, default=server_port(), metavar="PORT",
                   help=f"review page port (default: {server_port()}; 0 picks a free one)")
    r.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                   help="a host name or address other computers use to reach the review page "
                   "(repeatable; needed with a --review-bind other than loopback)")
    r.add_argument("--keep-revisions", type=float, default=30.0, metavar="DAYS",
                   help="days the review page keeps earlier revisions (default: 30)")
    r.add_argument("--refiner", default="auto", metavar="MODEL",
                   help="what keep/remove points run on: a SAM model, grabcut, or auto "
                   "(the first installed SAM, else grabcut)")
    r.set_defaults(handler=cmd_run)

    v = sub.add_parser("review", help="the review page",
                       description="The review page the running daemon serves.")
    vs = v.add_subparsers(dest="review_command", metavar="ACTION", required=True)
    u = vs.add_parser("url", parents=[common], help="print the page's address with its token",
                      description="Print the review page's address with its access token "
                      "(open it in a browser on this computer).")
    u.add_argument("--json", action="store_true",
                   help="print {url, address, token} as JSON")
    u.set_defaults(handler=cmd_review_url)

    s = sub.add_parser("status", parents=[common], help="what the daemon is doing",
                       description="Per profile: pending, done and failed counts, the age of "
                       "the oldest pending photo and the last failures.")
    s.add_argument("--json", action="store_true", help="print the status as JSON")
    s.add_argument("--jobs", type=int, default=50, metavar="N",
                   help="how many recent jobs to list with --json (default: 50; 0 for all)")
    s.set_defaults(handler=cmd_status)

    from studiocut.cli import catalog
    from studiocut.service import install as service

    catalog.register(sub, common)
    service.register(sub, common)
    return parser


def setup_logging(verbose: int) -> None:
    """Rich on a terminal, plain lines otherwise (what journald and launchd capture)."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    handler: logging.Handler
    if sys.stderr.isatty():
        from rich.logging import RichHandler

        handler = RichHandler(show_path=False, markup=False, rich_tracebacks=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    elif os.environ.get("JOURNAL_STREAM"):  # under systemd: journald adds the time itself
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_JournalFormatter("%(levelname)s %(name)s: %(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_escape_control_characters)
    root.addHandler(handler)
    root.setLevel(level)


class _JournalFormatter(logging.Formatter):
    """Prefix each line with its syslog priority (``<3>`` for errors...), which journald reads,
    so ``journalctl -p err`` filters studiocut's lines."""

    PRIORITIES: ClassVar[dict[int, int]] = {
        logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6,
        logging.DEBUG: 7,
    }

    def format(self, record: logging.LogRecord) -> str:
        priority = self.PRIORITIES.get(record.levelno, 6)
        return f"<{priority}>{super().format(record)}"


def _escape_control_characters(record: logging.LogRecord) -> bool:
    """Log lines never carry raw control characters (a file name could hold an escape
    sequence that rewrites the operator's terminal)."""
    message = record.getMessage()
    if not message.isprintable():
        record.msg = "".join(c if c.isprintable() or c == "\n" else repr(c)[1:-1]
                             for c in message)
        record.args = None
    return True


def _error_lines(lines: Sequence[str]) -> None:
    for line in lines:
        print(f"error: {line}", file=sys.stderr)


def profiles_dir(args: argparse.Namespace) -> Path:
    return Path(args.profiles).expanduser() if args.profiles else places.profiles_dir()


def state_dir(args: argparse.Namespace) -> Path:
    return Path(args.state).expanduser() if args.state else places.state_dir()


# --------------------------------------------------------------------------- process


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
        _error_lines(["no input images found in " + ", ".join(map(str, args.inputs))])
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


# --------------------------------------------------------------------------- check


def cmd_check(args: argparse.Namespace) -> int:
    folder = profiles_dir(args)
    problems: list[str] = []
    checked: list[str] = []
    targets: list[str] = list(args.names)
    if not targets:
        if not folder.is_dir():
            problems.append(f"{folder}: no such profiles folder")
        else:
            targets = [str(p) for p in profiles.files(folder)]
            if not targets:
                problems.append(f"{folder}: no profiles (*.yaml) in this folder")
    for target in targets:
        try:
            checked.append(profiles.resolve(target, folder).name)
        except StudiocutError as e:
            problems.extend(e.problems if isinstance(e, ConfigError) else [str(e)])
    if args.json:
        print(json.dumps({"ok": not problems, "profiles": checked, "problems": problems}))
    else:
        for name in checked:
            print(f"ok: {name}")
        _error_lines(problems)
    return EXIT_USAGE if problems else EXIT_OK


# --------------------------------------------------------------------------- run, status


def cmd_run(args: argparse.Namespace) -> int:
    from studiocut import hotfolder

    if args.verbose == 0:
        setup_logging(1)  # a service logs one INFO line per photo
    from studiocut.review import server

    page = None
    if not args.no_review:
        page = server.Settings(args.review_bind, args.review_port, tuple(args.allowed_host))
        if page.problems():
            raise ConfigError(page.problems())
    if args.keep_revisions <= 0:
        raise ConfigError([f"--keep-revisions must be above 0 days (got {args.keep_revisions})"])
    options = hotfolder.Options(
        profiles_dir=profiles_dir(args), state_dir=state_dir(args), workers=args.workers,
        rescan=args.rescan, shutdown_timeout=args.shutdown_timeout,
        max_crashes=args.max_crashes, live=sys.stderr.isatty() and not args.plain,
        review=page, keep_revisions=args.keep_revisions, refiner=args.refiner,
    )
    try:
        return hotfolder.run(options)
    except hotfolder.AlreadyRunning as e:
        _error_lines([str(e)])
        return EXIT_USAGE


def server_port() -> int:
    from studiocut.review.server import DEFAULT_PORT

    return DEFAULT_PORT


def cmd_review_url(args: argparse.Namespace) -> int:
    from studiocut import hotfolder
    from studiocut.review import server

    state = state_dir(args)
    try:
        published = json.loads((state / hotfolder.STATUS_FILE).read_text())
        secret = (state / server.TOKEN_FILE).read_text().strip()
    except (OSError, ValueError):
        published, secret = {}, ""
    address = published.get("review") if hotfolder.is_running(state) else None
    if not address or not secret:
        _error_lines([f"no review page is running for the state folder {state} (start the "
                      "daemon with `studiocut run`; `--no-review` turns the page off)"])
        return EXIT_FAILED
    link = f"{address}?token={secret}"
    print(json.dumps({"url": link, "address": address, "token": secret}) if args.json else link)
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from studiocut.hotfolder import status

    report = status.collect(state_dir(args), profiles_dir(args), jobs=args.jobs)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        status.render(report)
    return EXIT_OK
