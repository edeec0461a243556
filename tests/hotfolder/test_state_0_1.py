"""A state folder written by studiocut 0.1 keeps working.

tests/data/state-0.1.tar.gz was made by studiocut 0.1 (commit 8106280) through the daemon
harness, with the ``backdrop-key`` model and a profile that holds flagged results: ``good.jpg``
done and published, ``edge.jpg`` done but held for review (its subject touches the border),
``broken.jpg`` failed (not an image), and ``late.jpg`` claimed when the daemon was killed
(``STUDIOCUT_FAULTS=after-inference:kill:late``), so the journal's WAL was never checkpointed.
It held the folders in/, out/, profiles/ and state/ under /tmp/studiocut-0.1; the test moves
them to its own folder, as a studio restoring a backup elsewhere would.
"""

from __future__ import annotations

import json
import sqlite3
import tarfile
from pathlib import Path

import httpx
import pytest

from daemon_harness import Daemon
from studiocut.cli import main

ARCHIVE = Path(__file__).resolve().parents[1] / "data" / "state-0.1.tar.gz"
MADE_IN = "/tmp/studiocut-0.1"


def restore(root: Path) -> None:
    """Unpack the 0.1 folders into ``root`` and point their paths there."""
    with tarfile.open(ARCHIVE) as tar:
        tar.extractall(root, filter="data")
    profile = root / "profiles" / "studio.yaml"
    profile.write_text(profile.read_text().replace(MADE_IN, str(root)))
    db = sqlite3.connect(root / "state" / "journal.db")
    with db:
        for column in ("source", "output", "original"):
            rows = db.execute(f"SELECT id, {column} FROM jobs WHERE {column} IS NOT NULL")
            for job_id, value in list(rows):
                moved = bytes(value).replace(MADE_IN.encode(), str(root).encode())
                db.execute(f"UPDATE jobs SET {column} = ? WHERE id = ?", (moved, job_id))
        db.execute("UPDATE jobs SET message = replace(message, ?, ?)", (MADE_IN, str(root)))
    db.close()


@pytest.fixture
def studio(tmp_path: Path) -> Path:
    restore(tmp_path)
    return tmp_path


def test_status_reads_a_0_1_state_folder(studio: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["status", "--json", "--state", str(studio / "state"),
                 "--profiles", str(studio / "profiles")])

    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["running"] is False
    states = {Path(job["source"]).name: job["state"] for job in report["jobs"]}
    assert states == {"good.jpg": "done", "edge.jpg": "done", "broken.jpg": "failed",
                      "late.jpg": "processing"}


def test_the_daemon_recovers_a_0_1_state_folder_and_its_review_page_works(studio: Path) -> None:
    daemon = Daemon(studio, profiles={})  # the profile comes from the archive
    daemon.start()
    try:
        # the job the 0.1 daemon died on runs again and finishes; nothing else runs twice
        daemon.wait_states({"good.jpg": "done", "edge.jpg": "done", "broken.jpg": "failed",
                            "late.jpg": "done"})
        assert sorted(p.name for p in daemon.outputs()) == ["good.png", "late.png"]
        rows = {Path(job["source"]).name: job for job in daemon.jobs()}
        assert rows["good.jpg"]["attempts"] == 1 and rows["broken.jpg"]["attempts"] == 1

        # the result 0.1 held for review is still there and approving it publishes it
        with httpx.Client(base_url=daemon.review_url(), timeout=30,
                          headers={"Authorization": f"Bearer {daemon.token()}"}) as page:
            held = rows["edge.jpg"]
            assert held["review"] == "held"
            job = page.get(f"/api/v1/jobs/{held['id']}")
            assert job.status_code == 200, job.text
            (revision,) = page.get(f"/api/v1/jobs/{held['id']}/revisions").json()["revisions"]
            media = page.get(f"/api/v1/media/{revision['id']}/result")
            assert media.status_code == 200 and media.content.startswith(b"\x89PNG")
            approved = page.post(f"/api/v1/jobs/{held['id']}/approve", json={})
            assert approved.status_code == 200, approved.text
        assert (studio / "out" / "edge.png").is_file()
        assert daemon.stop() == 0
    finally:
        daemon.stop()
