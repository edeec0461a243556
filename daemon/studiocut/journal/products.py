"""products: the SKUs of profiles with an ``sku`` key: each photo's view number within its
SKU, and the framing (scale and floor line) the SKU's first view set on each rendition's
canvas, which its other views keep so that they line up in a gallery.

A job keeps its SKU and view (``jobs.sku``, ``jobs.view``) across retries, crashes and
re-shoots: a view is numbered once. The tables are created when missing, so a journal written
by 0.1 keeps opening.
"""

from __future__ import annotations

import os
from pathlib import Path

from studiocut.journal.records import PROCESSING
from studiocut.journal.store import Store, clock


class Products(Store):
    """SKUs, views and lineups in the journal."""

    def view_of(self, job_id: int, profile: str, sku: str) -> int:
        """The job's view number within ``sku``: the one it has when its SKU is this one,
        else the SKU's next (from 1), recorded atomically."""
        with self._write() as db:
            row = db.execute("SELECT sku, view FROM jobs WHERE id=?", (job_id,)).fetchone()
            if row is not None and row[0] == sku and row[1] is not None:
                return int(row[1])
            db.execute("INSERT INTO products (profile, sku, views) VALUES (?,?,1) "
                       "ON CONFLICT (profile, sku) DO UPDATE SET views=views+1",
                       (profile, sku))
            (view,) = db.execute("SELECT views FROM products WHERE profile=? AND sku=?",
                                 (profile, sku)).fetchone()
            db.execute("UPDATE jobs SET sku=?, view=? WHERE id=?", (sku, view, job_id))
        return int(view)

    def product_of(self, job_id: int) -> tuple[str, int] | None:
        """The job's SKU and view, once ``view_of`` numbered it; None for a photo of a
        profile without an ``sku`` key."""
        with self._lock:
            row = self._db.execute("SELECT sku, view FROM jobs WHERE id=?",
                                   (job_id,)).fetchone()
        if row is None or row[0] is None or row[1] is None:
            return None
        return str(row[0]), int(row[1])

    def lineups(self, profile: str, sku: str) -> dict[str, tuple[float, int]]:
        """{rendition: (scale, floor line)} the SKU's first framed view set."""
        with self._lock:
            rows = self._db.execute("SELECT rendition, scale, floor FROM lineups WHERE "
                                    "profile=? AND sku=?", (profile, sku)).fetchall()
        return {str(rendition): (float(scale), int(floor)) for rendition, scale, floor in rows}

    def keep_lineup(self, profile: str, sku: str, rendition: str, scale: float, floor: int,
                    job_id: int) -> None:
        """Record the framing of a rendition of the SKU, unless one is recorded already."""
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO lineups (profile, sku, rendition, scale, floor, "
                       "job) VALUES (?,?,?,?,?,?)", (profile, sku, rendition, scale, floor,
                                                     job_id))

    def earlier_view_in_progress(self, profile: str, sku: str, view: int) -> bool:
        """Whether an earlier view of the SKU is being processed now: it may set the SKU's
        framing, which a later view should follow (the first view never waits)."""
        with self._lock:
            row = self._db.execute("SELECT 1 FROM jobs WHERE profile=? AND sku=? AND view<? "
                                   "AND state=? LIMIT 1",
                                   (profile, sku, view, PROCESSING)).fetchone()
        return row is not None

    def set_folder_sku(self, profile: str, folder: Path, sku: str, job_id: int) -> None:
        """Record that a barcode card (job ``job_id``) names the photos shot into ``folder``
        after it, until the next card."""
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO cards (profile, folder, sku, job, time) "
                       "VALUES (?,?,?,?,?)", (profile, os.fsencode(folder), sku, job_id,
                                              clock()))

    def folder_sku(self, profile: str, folder: Path) -> str | None:
        """The SKU the last barcode card shot into ``folder`` holds, if any."""
        with self._lock:
            row = self._db.execute("SELECT sku FROM cards WHERE profile=? AND folder=?",
                                   (profile, os.fsencode(folder))).fetchone()
        return None if row is None else str(row[0])

    def unidentified_before(self, profile: str, job_id: int) -> list[Path]:
        """The sources of the profile's jobs older than ``job_id`` being processed and not
        given a SKU yet."""
        with self._lock:
            rows = self._db.execute("SELECT source FROM jobs WHERE profile=? AND id<? AND "
                                    "state=? AND sku IS NULL", (profile, job_id, PROCESSING)
                                    ).fetchall()
        return [Path(os.fsdecode(source)) for (source,) in rows]
