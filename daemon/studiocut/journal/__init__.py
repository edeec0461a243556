"""journal: the daemon's memory, one SQLite row per (profile, source file).

Every file that enters a watched folder ends in one recorded state: done, failed (with a
reason), vanished or ignored. SQLite in WAL mode with synchronous=FULL: a row said done is done
after a power cut. Paths are stored as bytes (os.fsencode) so any file name round-trips.

A job's identity is its path, size, mtime and inode: a re-shot file with the same name is a
new job; touching a finished file without changing it is not.

The parts: ``records`` (the values and states), ``schema`` (the tables and upgrades of older
journals), ``store`` (the connection), ``queue`` (intake and workers), ``review`` (revisions,
review states, publishing), ``events`` (the event feed), ``reports`` (counts and listings),
``outbox`` (the jobs a station sent to the cluster), ``outputs`` (each rendition's output and
the groups being published) and ``products`` (SKUs, views and their framing).
"""

from __future__ import annotations

from studiocut.journal.events import Events
from studiocut.journal.outbox import Outbox, Remote
from studiocut.journal.outputs import Outputs
from studiocut.journal.products import Products
from studiocut.journal.queue import Queue
from studiocut.journal.records import (
    DISCARDED,
    DONE,
    FAILED,
    IGNORED,
    PENDING,
    PROCESSING,
    PUBLISHED,
    READY,
    REVIEW_STATES,
    TERMINAL,
    VANISHED,
    Event,
    Identity,
    Job,
    Revision,
)
from studiocut.journal.reports import Reports
from studiocut.journal.review import VIEWS, Reviews

__all__ = [
    "DISCARDED", "DONE", "FAILED", "IGNORED", "PENDING", "PROCESSING", "PUBLISHED", "READY",
    "REVIEW_STATES", "TERMINAL", "VANISHED", "VIEWS", "Event", "Identity", "Job", "Journal",
    "Outbox", "Remote", "Revision",
]


class Journal(Queue, Reviews, Events, Reports, Outbox, Outputs, Products):
    """Thread-safe access to the jobs table. One connection, guarded by a lock: SQLite
    serialises writers anyway, and the daemon's write rate is a few rows a second."""
