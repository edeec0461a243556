"""schema: the journal's tables, and bringing a journal written by an earlier version up to
them (a state folder written by 0.1 keeps opening)."""

from __future__ import annotations

import sqlite3

from studiocut.journal.records import JOB_COLUMNS

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    profile TEXT NOT NULL,
    source BLOB NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    message TEXT,
    output BLOB,
    profile_version TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    started REAL,
    seconds REAL,
    not_before REAL NOT NULL DEFAULT 0,
    crashes INTEGER NOT NULL DEFAULT 0,
    flags TEXT,
    review TEXT NOT NULL DEFAULT 'none',
    undo TEXT,
    published INTEGER,
    publishing INTEGER,
    publishing_review TEXT,
    original BLOB,
    reshot INTEGER NOT NULL DEFAULT 0,
    sku TEXT,
    view INTEGER,
    UNIQUE (profile, source)
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, id);
CREATE INDEX IF NOT EXISTS jobs_output ON jobs (profile, output);
-- an output file has one owner among every profile's jobs
CREATE INDEX IF NOT EXISTS jobs_output_owner ON jobs (output);
CREATE TABLE IF NOT EXISTS revisions (
    id INTEGER PRIMARY KEY,
    job INTEGER NOT NULL,
    number INTEGER NOT NULL,
    kind TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    created REAL NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    ext TEXT NOT NULL,
    folder TEXT NOT NULL,
    UNIQUE (job, number)
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    kind TEXT NOT NULL,
    job INTEGER,
    profile TEXT,
    data TEXT
);
CREATE TABLE IF NOT EXISTS remote (
    job INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    queue TEXT NOT NULL,
    input TEXT NOT NULL,
    sends INTEGER NOT NULL DEFAULT 0,
    sent_at REAL,
    worker TEXT,
    state TEXT NOT NULL,
    recorded REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS remote_state ON remote (state, queue);
-- each rendition's output of a job whose profile has several (jobs.output: the first's);
-- a group being published holds its staged temp files until every rename is done
CREATE TABLE IF NOT EXISTS outputs (
    job INTEGER NOT NULL,
    rendition TEXT NOT NULL,
    path BLOB NOT NULL,
    temp BLOB,
    state TEXT NOT NULL,
    PRIMARY KEY (job, rendition)
);
CREATE INDEX IF NOT EXISTS outputs_path ON outputs (path);
CREATE INDEX IF NOT EXISTS outputs_state ON outputs (state);
-- the products of profiles with an sku key: how many views each SKU has, and the framing
-- its first view set on each rendition's canvas
CREATE TABLE IF NOT EXISTS products (
    profile TEXT NOT NULL,
    sku TEXT NOT NULL,
    views INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (profile, sku)
);
-- the SKU the last barcode card shot into a folder names its later photos with
CREATE TABLE IF NOT EXISTS cards (
    profile TEXT NOT NULL,
    folder BLOB NOT NULL,
    sku TEXT NOT NULL,
    job INTEGER NOT NULL,
    time REAL NOT NULL,
    PRIMARY KEY (profile, folder)
);
CREATE TABLE IF NOT EXISTS lineups (
    profile TEXT NOT NULL,
    sku TEXT NOT NULL,
    rendition TEXT NOT NULL,
    scale REAL NOT NULL,
    floor INTEGER NOT NULL,
    job INTEGER NOT NULL,
    PRIMARY KEY (profile, sku, rendition)
);
"""


def create(db: sqlite3.Connection) -> None:
    """Create the tables a journal lacks and add the columns an older one lacks."""
    db.executescript(SCHEMA)
    add_missing_columns(db)
    db.execute("CREATE INDEX IF NOT EXISTS jobs_sku ON jobs (profile, sku)")


def add_missing_columns(db: sqlite3.Connection) -> None:
    """Bring a journal written by an earlier version up to this schema."""
    have = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
    for column, definition in (("not_before", "REAL NOT NULL DEFAULT 0"),
                               ("crashes", "INTEGER NOT NULL DEFAULT 0"),
                               ("flags", "TEXT"),
                               ("review", "TEXT NOT NULL DEFAULT 'none'"),
                               ("undo", "TEXT"), ("published", "INTEGER"),
                               ("publishing", "INTEGER"), ("publishing_review", "TEXT"),
                               ("original", "BLOB"),
                               ("reshot", "INTEGER NOT NULL DEFAULT 0"),
                               ("sku", "TEXT"), ("view", "INTEGER")):
        if column not in have:
            db.execute(f"ALTER TABLE jobs ADD COLUMN {column} {definition}")


def readable_columns(db: sqlite3.Connection) -> str:
    """The job columns to select from a journal that may predate this version (read
    only, so it cannot be upgraded here): defaults stand in for missing columns."""
    have = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
    defaults = {"not_before": "0", "crashes": "0", "review": "'none'"}
    return ", ".join(c if c in have else f"{defaults.get(c, 'NULL')} AS {c}"
                     for c in JOB_COLUMNS.split(", "))
