"""cli: the ``studiocut`` command. Exit codes: 0 ok, 1 some work failed, 2 usage or config.

``options`` holds what every command shares (the --profiles, --state and -v options, logging
set-up); each command is a module of its own whose ``register`` adds its parser and handler.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from studiocut import __version__, heap
from studiocut.cli import (
    check,
    doctor,
    models,
    options,
    process,
    review,
    run,
    service,
    status,
    worker,
)
from studiocut.errors import EXIT_USAGE, ConfigError, ModelError

__all__ = ["main"]

# in the order ``studiocut --help`` lists them
COMMANDS = (process, check, run, review, status, models, doctor, service, worker)


def main(argv: Sequence[str] | None = None) -> int:
    heap.fewer_arenas()
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    options.setup_logging(args.verbose)
    try:
        result: int = args.handler(args)
        return result
    except ConfigError as e:
        options.error_lines(e.problems)
        return EXIT_USAGE
    except ModelError as e:
        options.error_lines([str(e)])
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studiocut", description="Background removal for product photo studios.")
    parser.add_argument("--version", action="version", version=f"studiocut {__version__}")
    common = options.common()
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub, common)
    return parser

