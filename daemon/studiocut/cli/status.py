"""status: ``studiocut status``: what the daemon is doing, per profile, from its journal."""

from __future__ import annotations

import argparse
import json

from studiocut.cli.options import profiles_dir, state_dir
from studiocut.errors import EXIT_OK

JSON_JOBS = 50  # recent jobs --json lists by default
HUMAN_JOBS = 10  # recent jobs whose outputs the plain status shows by default


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    """Add ``status`` to the command line."""
    s = sub.add_parser("status", parents=[common], help="what the daemon is doing",
                       description="Per profile: pending, done and failed counts, the age of "
                       "the oldest pending photo and the last failures; the recent jobs and "
                       "each rendition's output.")
    s.add_argument("--json", action="store_true", help="print the status as JSON")
    s.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="how many recent jobs to report: --json lists them, the plain status "
                   f"the outputs of the done ones (default: {JSON_JOBS} with --json, "
                   f"{HUMAN_JOBS} without; 0 for all)")
    s.set_defaults(handler=cmd_status)


def cmd_status(args: argparse.Namespace) -> int:
    from studiocut.hotfolder import status

    jobs = args.jobs if args.jobs is not None else JSON_JOBS if args.json else HUMAN_JOBS
    report = status.collect(state_dir(args), profiles_dir(args), jobs=jobs)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        status.render(report)
    return EXIT_OK
