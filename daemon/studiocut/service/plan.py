"""plan: the steps of an install or uninstall (write a file, run a command...), and doing
them: ``execute`` carries them out one by one, or with ``dry_run`` only prints them.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from studiocut.errors import EXIT_FAILED, EXIT_OK
from studiocut.service.spec import Spec


@dataclass(frozen=True)
class Write:
    path: Path
    text: str


@dataclass(frozen=True)
class Remove:
    path: Path


@dataclass(frozen=True)
class MakeDir:
    path: Path


@dataclass(frozen=True)
class Run:
    argv: tuple[str, ...]
    may_fail: bool = False  # e.g. unloading a service that is not loaded


@dataclass(frozen=True)
class Call:
    """A step done through an API rather than a command (the Windows service manager)."""

    what: str
    action: Callable[[], None]


Step = Write | Remove | MakeDir | Run | Call


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()


def kept(spec: Spec) -> tuple[str, ...]:
    """The note every uninstall ends with: what it leaves in place."""
    return (f"kept: profiles in {spec.profiles} and the journal in {spec.state}",)


def execute(plan: Plan, *, dry_run: bool, out: TextIO | None = None) -> int:
    """Carry out (or with ``dry_run`` only print) each step, saying what was done; stop at
    the first failure. Return an exit code."""
    out = out or sys.stdout
    for step in plan.steps:
        if dry_run:
            print(_describe(step, dry_run=True), file=out)
            continue
        try:
            _apply(step)
        except (OSError, subprocess.CalledProcessError, ImportError) as e:
            print(f"error: {_describe(step, dry_run=False)}: {_reason(e)}", file=sys.stderr)
            return EXIT_FAILED
        except Exception as e:  # the pywin32 API raises pywintypes.error, not OSError
            if not isinstance(step, Call):
                raise
            print(f"error: {step.what}: {e}", file=sys.stderr)
            return EXIT_FAILED
        print(_describe(step, dry_run=False), file=out)
    for note in plan.notes:
        print(note, file=out)
    return EXIT_OK


def _describe(step: Step, *, dry_run: bool) -> str:
    if isinstance(step, Write):
        if dry_run:
            return f"# would write {step.path}:\n{step.text}# end of {step.path.name}"
        return f"wrote {step.path}"
    if isinstance(step, Remove):
        return f"{'would remove' if dry_run else 'removed'} {step.path}"
    if isinstance(step, MakeDir):
        return f"{'would create' if dry_run else 'created'} {step.path}"
    if isinstance(step, Run):
        return f"{'would run' if dry_run else 'ran'}: {_command_line(step.argv)}"
    return f"{'would ' if dry_run else 'done: '}{step.what}"


def _apply(step: Step) -> None:
    if isinstance(step, Write):
        step.path.parent.mkdir(parents=True, exist_ok=True)
        step.path.write_text(step.text, encoding="utf-8")
    elif isinstance(step, Remove):
        step.path.unlink(missing_ok=True)
    elif isinstance(step, MakeDir):
        step.path.mkdir(parents=True, exist_ok=True)
    elif isinstance(step, Run):
        if shutil.which(step.argv[0]) is None:
            raise OSError(f"{step.argv[0]} not found: this system does not run the service "
                          "manager it needs")
        result = subprocess.run(step.argv, check=False)
        if result.returncode != 0 and not step.may_fail:
            raise subprocess.CalledProcessError(result.returncode, step.argv)
    else:
        step.action()


def _reason(error: BaseException) -> str:
    if isinstance(error, subprocess.CalledProcessError):
        return f"exit status {error.returncode}"
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}" + (f" ({error.filename})" if error.filename else "")
    return str(error)


def _command_line(argv: Sequence[str]) -> str:
    if sys.platform == "win32":
        return subprocess.list2cmdline(list(argv))
    return shlex.join(argv)

