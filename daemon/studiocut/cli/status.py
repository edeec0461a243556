"""status: ``studiocut status``: what the daemon is doing, per profile, from its journal."""

from __future__ import annotations

import argparse
import json

from studiocut.cli.options import profiles_dir, state_dir
from studiocut.errors import EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    """Add ``status`` to the command line."""
    s = sub.add_parser("status", parents=[common], help="what the daemon is doing",
                       description="Per profile: pending, done and failed counts, the age of "
                       "the oldest pending photo and the last failures.")
    s.add_argument("--json", action="store_true", help="print the status as JSON")
    s.add_argument("--jobs", type=int, default=50, metavar="N",
                   help="how many recent jobs to list with --json (default: 50; 0 for all)")
    s.set_defaults(handler=cmd_status)


def cmd_status(args: argparse.Namespace) -> int:
    from studiocut.hotfolder import status

    report = status.collect(state_dir(args), profiles_dir(args), jobs=args.jobs)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        status.render(report)
    return EXIT_OK
