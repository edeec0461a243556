"""store: one durable connection (WAL, synchronous=FULL), any file name round-trips, and a
read-only journal reads what a writer wrote."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from journals import A, B, queue
from studiocut import journal
from studiocut.journal import Journal


def test_a_non_utf8_file_name_round_trips(db: Journal, tmp_path: Path) -> None:
    source = tmp_path / os.fsdecode(b"caf\xe9.jpg")
    output = tmp_path / os.fsdecode(b"out-caf\xe9.jpg")

    job = db.enqueue("p", source, A, "v1")
    assert job is not None
    assert db.claim_next(["p"]) is not None
    db.finish(job.id, journal.DONE, output=output)

    row = db.lookup("p", source)
    assert row is not None
    assert os.fsencode(row.source) == os.fsencode(tmp_path) + b"/caf\xe9.jpg"
    assert row.output == output
    assert db.enqueue("p", source, A, "v1") is None  # the same bytes find the same row


def test_the_database_is_wal_with_synchronous_full(db: Journal) -> None:
    queue(db, "a.jpg")

    # journal_mode is stored in the file: any connection sees it
    fresh = sqlite3.connect(db.path)
    try:
        assert fresh.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        fresh.close()
    # synchronous belongs to the connection the journal writes with
    assert db._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_a_readonly_journal_reads_an_existing_database_and_refuses_writes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.db"
    writer = Journal(path)
    writer.enqueue("p", Path("/in/a.jpg"), A, "v1")
    reader = Journal(path, readonly=True)
    try:
        assert reader.counts() == {"p": {journal.PENDING: 1}}  # while the writer is open
        writer.close()
        assert [j.source.name for j in reader.jobs()] == ["a.jpg"]
        with pytest.raises(sqlite3.OperationalError):
            reader.enqueue("p", Path("/in/b.jpg"), B, "v1")
    finally:
        reader.close()

    again = Journal(path, readonly=True)  # after the writer closed
    try:
        assert again.lookup("p", Path("/in/a.jpg")) is not None
    finally:
        again.close()


def test_flags_survive_reopening_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    writer = Journal(path)
    job_id = queue(writer, "a.jpg")
    assert writer.claim_next(["p"]) is not None
    writer.finish(job_id, journal.DONE, output=Path("/out/a.jpg"), flags=("low confidence",))
    writer.close()

    reader = Journal(path, readonly=True)
    try:
        assert reader.jobs()[0].flags == ("low confidence",)
        assert reader.flagged() == {"p": 1}
    finally:
        reader.close()
