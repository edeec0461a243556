"""What a careless or hostile studio configures or drops in must not destroy a photo or stall a
profile. Catalogue 32-37 (after shared/RELIABILITY.md's 1-31), each found by trying the daemon
as such a user would: checksums of originals and finished outputs before and after, the
journal's ownership of outputs, and a profile left running with a bad file in its inbox."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from daemon_harness import Daemon, shoot


def checksums(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def studiocut(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "studiocut", *map(str, args)],
                          capture_output=True, text=True, timeout=60)


def outputs_owned_twice(daemon: Daemon) -> list[tuple[str, int]]:
    db = sqlite3.connect(f"file:{daemon.state / 'journal.db'}?mode=ro", uri=True)
    try:
        return db.execute("SELECT output, count(*) FROM jobs WHERE output IS NOT NULL "
                          "GROUP BY output HAVING count(*) > 1").fetchall()
    finally:
        db.close()


# 32
def test_an_output_folder_linked_into_the_watched_folder_is_refused(daemon: Daemon) -> None:
    shoot(daemon.inbox / "photo.jpg")
    before = checksums(daemon.inbox)
    linked = daemon.root / "linked-out"
    linked.symlink_to(daemon.inbox)
    daemon.write_profile("studio", {"output": str(linked), "format": "jpeg",
                                    "backdrop": "#FFFFFF"})

    checked = studiocut("check", "--profiles", daemon.profiles)
    assert checked.returncode == 2, checked.stdout + checked.stderr
    assert "through a link" in checked.stdout + checked.stderr

    daemon.start(wait=False)
    assert daemon.wait_exit(20) == 2
    assert "through a link" in daemon.text()
    assert checksums(daemon.inbox) == before


# 33
def test_two_profiles_writing_into_each_others_watched_folder_are_refused(
        daemon: Daemon) -> None:
    x, y = daemon.root / "x", daemon.root / "y"
    shoot(x / "photo.jpg")
    before = checksums(x)
    daemon.write_profile("studio", {"watch": str(x), "output": str(y)})
    daemon.write_profile("back", {"watch": str(y), "output": str(x)})

    checked = studiocut("check", "--profiles", daemon.profiles)
    assert checked.returncode == 2
    assert "profile back's watched folder" in checked.stdout + checked.stderr

    daemon.start(wait=False)
    assert daemon.wait_exit(20) == 2
    assert checksums(x) == before and not (y / "photo.png").exists()


# 34
def test_a_profile_added_on_reload_that_would_share_outputs_is_refused(daemon: Daemon) -> None:
    daemon.start()
    for index in range(5):
        shoot(daemon.inbox / f"p{index}.jpg")
    daemon.wait_done(5)
    finished = checksums(daemon.outbox)

    daemon.write_profile("twin", {})  # the same watched and output folders
    daemon.wait_for(lambda: "twin" in daemon.text(), 15, "the reload to mention twin")
    time.sleep(1.5)
    shoot(daemon.inbox / "later.jpg")
    daemon.wait_states({"later.jpg": "done"})
    time.sleep(1.0)

    assert "profile not reloaded" in daemon.text() and "profile twin" in daemon.text()
    assert {Path(j["source"]).name for j in daemon.jobs() if j["profile"] == "twin"} == set()
    now = checksums(daemon.outbox)
    assert {name: now[name] for name in finished} == finished
    assert outputs_owned_twice(daemon) == []


# 35
def test_process_refuses_to_write_over_its_own_input(tmp_path: Path) -> None:
    photo = shoot(tmp_path / "photo.jpg")
    profile = tmp_path / "web.yaml"
    profile.write_text("model: backdrop-key\nkey: {assist: none}\nformat: jpeg\n")
    before = checksums(tmp_path)

    result = studiocut("process", "--profile", profile, "--out", tmp_path, photo)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "photo.jpg: its cut-out would be written over it" in result.stderr
    assert checksums(tmp_path) == before

    inside = studiocut("process", "--profile", profile, "--out", tmp_path / "cut", tmp_path)
    assert inside.returncode == 2 and "inside the input folder" in inside.stderr
    assert checksums(tmp_path) == before


# 36
@pytest.mark.parametrize("trouble", ["long-name", "folder-in-the-way"])
def test_one_photo_whose_output_cannot_be_written_fails_alone(daemon: Daemon,
                                                              trouble: str) -> None:
    if trouble == "long-name":
        bad = "x" * 236 + ".jpg"  # its output and temp names exceed NAME_MAX
    else:
        bad = "clash.jpg"
        (daemon.outbox / "clash.png").mkdir()  # a folder where its output would go
    daemon.start()
    shoot(daemon.inbox / bad)
    daemon.wait_for(lambda: daemon.states().get(bad) in ("done", "failed"), 20,
                    f"{bad} to finish")
    for index in range(3):
        shoot(daemon.inbox / f"after{index}.jpg")
    daemon.wait_states({f"after{index}.jpg": "done" for index in range(3)}, timeout=20)

    assert "paused" not in daemon.text()
    (row,) = daemon.status()["profiles"]
    assert row["state"] == "active"
    if daemon.states()[bad] == "done":  # a fallback name: still unique, still readable
        job = next(j for j in daemon.jobs() if Path(j["source"]).name == bad)
        assert Path(job["output"]).is_file() and len(Path(job["output"]).name) <= 255


# 37
def test_a_newline_in_a_file_name_cannot_forge_a_log_line(daemon: Daemon) -> None:
    daemon.start()
    shoot(daemon.inbox / "evil\nERROR forged line.jpg")
    daemon.wait_done(1)
    daemon.stop()

    lines = daemon.text().splitlines()
    assert not any(line.startswith("ERROR forged") for line in lines)
    assert any("evil\\nERROR forged line.jpg" in line for line in lines)
