"""The few error types studiocut raises, each carrying a reason an operator can act on.

Input faults belong to one file and fail only that file. Environment faults belong to a
folder or a disk: the daemon pauses the profile instead of failing photos for them. The
command line's exit codes are named here too, next to the errors that decide them.
"""

from __future__ import annotations

# The command line's exit codes: 0 all went well, 1 some work failed (a photo, a model file, a
# step of a service install), 2 a usage or configuration error that a retry will not fix.
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class StudiocutError(Exception):
    """Base of every error studiocut raises on purpose."""


class ConfigError(StudiocutError):
    """A profile (or another configuration file) is invalid; ``problems`` lists every finding."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class InputError(StudiocutError):
    """The input file itself is bad: not an image, truncated, too large, unreadable.

    ``reason`` is a short stable code (``"truncated"``, ``"not-an-image"``...) for journals and
    status tables; the message says what is wrong in words. ``retryable`` marks faults that may
    go away (a file still being written, a read that failed for a moment).
    """

    def __init__(self, reason: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.reason = reason
        self.retryable = retryable


class OutputError(StudiocutError):
    """The output cannot be written. Mostly for a reason outside the photo (disk full, folder
    gone, permission denied): the daemon pauses the profile on these and retries later. With
    ``environment`` false the fault is this output's name alone (too long for the file system,
    a folder in the way): that photo fails, the profile goes on."""

    def __init__(self, reason: str, message: str, *, environment: bool = True) -> None:
        super().__init__(message)
        self.reason = reason
        self.environment = environment


class ModelError(StudiocutError):
    """A model cannot be loaded: unknown name, missing file, wrong checksum."""
