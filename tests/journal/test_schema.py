"""schema: a journal written by an earlier version opens, upgraded, and reads read-only
without an upgrade."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from journals import the_job
from studiocut import journal
from studiocut.journal import Journal


def _old_journal(path: Path, later_columns: str, row: str) -> None:
    """A journal as an earlier version wrote it: the first jobs table, plus ``later_columns``
    (SQL column definitions), holding one ``row`` (an INSERT)."""
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE jobs (id INTEGER PRIMARY KEY, profile TEXT NOT NULL, source BLOB NOT NULL,"
        " size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, inode INTEGER NOT NULL,"
        " state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, reason TEXT, message TEXT,"
        " output BLOB, profile_version TEXT, created REAL NOT NULL, updated REAL NOT NULL,"
        f" started REAL, seconds REAL,{later_columns} UNIQUE (profile, source));{row};")
    old.close()


def test_a_journal_from_before_the_flags_and_crash_columns_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _old_journal(path, "", "INSERT INTO jobs (profile, source, size, mtime_ns, inode, state, "
                 "created, updated) VALUES ('p', X'2F696E2F612E6A7067', 1, 1, 1, 'pending', 0, 0)")

    db = Journal(path)
    claimed = db.claim_next(["p"])
    assert claimed is not None and claimed[0].source == Path("/in/a.jpg")
    db.finish(claimed[0].id, journal.DONE, flags=("looks odd",))
    assert db.jobs()[0].flags == ("looks odd",)
    db.close()


def _journal_before_the_review_page(path: Path) -> None:
    _old_journal(path, " not_before REAL NOT NULL DEFAULT 0, crashes INTEGER NOT NULL DEFAULT 0,"
                 " flags TEXT,",
                 "INSERT INTO jobs (profile, source, size, mtime_ns, inode, state, output, flags,"
                 " created, updated) VALUES ('p', X'2F696E2F612E6A7067', 1, 1, 1, 'done',"
                 " X'2F6F75742F612E6A7067', 'too small', 0, 0)")


def test_a_journal_from_before_the_review_page_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _journal_before_the_review_page(path)

    db = Journal(path)
    try:
        [job] = db.jobs()
        assert (job.source, job.output, job.flags) == (Path("/in/a.jpg"), Path("/out/a.jpg"),
                                                       ("too small",))
        assert (job.review, job.published, job.publishing, job.original, job.undo) == (
            "none", None, None, None, None)
        assert db.view("all") == [job] and db.events(0) == []
        rev = db.add_revision(job.id, "auto", {}, (4, 3), "jpg", "1/x")
        db.set_review(job.id, "approved", published=rev.number)
        db.end_publish(job.id, rev.number)
        assert the_job(db, job.id).published == 1
        assert [e.kind for e in db.events(0)] == ["revision", "review", "published"]
    finally:
        db.close()
    columns = {row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(jobs)")}
    assert {"review", "undo", "published", "publishing", "original"} <= columns


def test_a_journal_from_before_the_review_page_reads_without_an_upgrade(tmp_path: Path) -> None:
    """``studiocut status`` opens the journal read-only, so between an upgrade of the
    package and the daemon's next start it reads the old schema as it is."""
    path = tmp_path / "old.db"
    _journal_before_the_review_page(path)

    db = Journal(path, readonly=True)
    try:
        [job] = db.jobs()
        assert (job.state, job.review, job.published, job.flags) == (
            "done", "none", None, ("too small",))
    finally:
        db.close()
    columns = {row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(jobs)")}
    assert "review" not in columns
