"""run: ``studiocut run``: the hot-folder daemon in the foreground, with its review page."""

from __future__ import annotations

import argparse
import sys

from studiocut.cli.options import error_lines, profiles_dir, setup_logging, state_dir
from studiocut.errors import EXIT_USAGE, ConfigError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    """Add ``run`` to the command line."""
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
    from studiocut import cluster

    route = cluster.route(options.profiles_dir)  # None: no profile runs on the cluster
    try:
        return hotfolder.run(options, route=route)
    except hotfolder.AlreadyRunning as e:
        error_lines([str(e)])
        return EXIT_USAGE


def server_port() -> int:
    from studiocut.review.server import DEFAULT_PORT

    return DEFAULT_PORT
