"""cli: the `studiocut` command: shared options, logging set-up, one module per command."""

from studiocut.cli.commands import main

__all__ = ["main"]
