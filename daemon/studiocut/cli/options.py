"""options: what every command shares: the --profiles, --state and -v options and the folders
they name, error lines and the logging set-up."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from studiocut import places


def common() -> argparse.ArgumentParser:
    """The options every command takes (a parent parser): --profiles, --state and -v. The
    folders default to ``studiocut.places`` (STUDIOCUT_PROFILES, STUDIOCUT_STATE)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--profiles", type=Path, default=None, metavar="DIR",
                        help=f"profiles folder (default: {places.profiles_dir()})")
    parser.add_argument("--state", type=Path, default=None, metavar="DIR",
                        help=f"state folder: journal, lock (default: {places.state_dir()})")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-vv for debug)")
    return parser


def profiles_dir(args: argparse.Namespace) -> Path:
    """The --profiles folder given, else the default one."""
    return Path(args.profiles).expanduser() if args.profiles else places.profiles_dir()


def state_dir(args: argparse.Namespace) -> Path:
    """The --state folder given, else the default one."""
    return Path(args.state).expanduser() if args.state else places.state_dir()


def error_lines(lines: Sequence[str]) -> None:
    """Print each line to stderr as ``error: ...``."""
    for line in lines:
        print(f"error: {line}", file=sys.stderr)


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
    """Log lines never carry raw control characters: a file name could hold an escape
    sequence that rewrites the operator's terminal, or a newline that forges a log line. The
    values put into a message are escaped whole (newlines too); the message's own text keeps
    its line breaks."""
    if isinstance(record.args, tuple):
        record.args = tuple(_escaped(value) for value in record.args)
    elif isinstance(record.args, dict):
        record.args = {key: _escaped(value) for key, value in record.args.items()}
    message = record.getMessage()
    if not message.isprintable():
        record.msg = "".join(c if c.isprintable() or c == "\n" else _escape(c)
                             for c in message)
        record.args = None
    return True


def _escaped(value: object) -> object:
    """``value`` as it may appear in a log line: itself, or its text with control characters
    escaped when it has any."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = os.fsdecode(value) if isinstance(value, os.PathLike) else str(value)
    return value if text.isprintable() else "".join(map(_escape, text))


def _escape(c: str) -> str:
    return c if c.isprintable() else repr(c)[1:-1]
