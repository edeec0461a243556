"""review: ``studiocut review url``: the address of the review page the running daemon serves."""

from __future__ import annotations

import argparse
import json

from studiocut.cli.options import error_lines, state_dir
from studiocut.errors import EXIT_FAILED, EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    """Add ``review url`` to the command line."""
    v = sub.add_parser("review", help="the review page",
                       description="The review page the running daemon serves.")
    vs = v.add_subparsers(dest="review_command", metavar="ACTION", required=True)
    u = vs.add_parser("url", parents=[common], help="print the page's address with its token",
                      description="Print the review page's address with its access token "
                      "(open it in a browser on this computer).")
    u.add_argument("--json", action="store_true",
                   help="print {url, address, token} as JSON")
    u.set_defaults(handler=cmd_review_url)


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
        error_lines([f"no review page is running for the state folder {state} (start the "
                     "daemon with `studiocut run`; `--no-review` turns the page off)"])
        return EXIT_FAILED
    link = f"{address}?token={secret}"
    print(json.dumps({"url": link, "address": address, "token": secret}) if args.json else link)
    return EXIT_OK
