"""The hot folder as a studio sees it: ``studiocut run`` in a subprocess, driven only through
folders, the journal, its status file and signals. Numbers refer to the test catalogue in
shared/RELIABILITY.md. The fast ``backdrop-key`` model stands in for a network."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import time
import unicodedata
from pathlib import Path

import pytest
from PIL import Image

from daemon_harness import Daemon, photo_bytes, shoot, valid_image


def names_of(paths: list[Path]) -> list[str]:
    return sorted(p.name for p in paths)


# --------------------------------------------------------------------------- arrival


def test_slow_chunked_writer_gives_one_job_started_after_the_last_byte(daemon: Daemon) -> None:
    daemon.write_profile("studio", {"settle": 1.0})  # far above the writer's 20 ms pauses
    daemon.start()
    data = photo_bytes((600, 400))
    target = daemon.inbox / "chunked.jpg"
    with open(target, "wb") as f:
        for i in range(0, len(data), 4096):
            f.write(data[i : i + 4096])
            f.flush()
            time.sleep(0.02)
    last_byte = time.time()
    daemon.wait_states({"chunked.jpg": "done"})
    (job,) = daemon.jobs()
    assert job["attempts"] == 1
    assert job["started"] >= last_byte
    assert valid_image(daemon.outbox / "chunked.png")


def test_writer_pausing_longer_than_settle_ends_in_one_done_job(daemon: Daemon) -> None:
    daemon.start()
    data = photo_bytes((600, 400))
    target = daemon.inbox / "paused.jpg"
    with open(target, "wb") as f:
        f.write(data[: len(data) // 2])
        f.flush()
        time.sleep(1.2)  # well past the 0.3 s settle: the half file is claimed and read
        f.write(data[len(data) // 2 :])
    daemon.wait_states({"paused.jpg": "done"})
    assert valid_image(daemon.outbox / "paused.png")
    assert names_of(daemon.outputs()) == ["paused.png"]


def test_temp_name_then_rename_processes_only_the_final_name(daemon: Daemon) -> None:
    daemon.start()
    for temp in ("x.jpg.tmp", ".x.jpg.Ab12Cd", "~x.jpg"):
        (daemon.inbox / temp).write_bytes(photo_bytes())
        time.sleep(0.5)
        os.replace(daemon.inbox / temp, daemon.inbox / "x.jpg")
    daemon.wait_states({"x.jpg": "done"})
    time.sleep(1.0)
    assert list(daemon.states()) == ["x.jpg"]
    assert names_of(daemon.outputs()) == ["x.png"]


def test_file_moved_in_from_outside_is_processed_once(daemon: Daemon, tmp_path: Path) -> None:
    outside = shoot(tmp_path / "elsewhere" / "moved.jpg")
    daemon.start()
    os.rename(outside, daemon.inbox / "moved.jpg")
    daemon.wait_states({"moved.jpg": "done"})
    time.sleep(0.5)
    assert [j["attempts"] for j in daemon.jobs()] == [1]


def test_folder_of_photos_moved_in_is_processed(daemon: Daemon, tmp_path: Path) -> None:
    for i in range(3):
        shoot(tmp_path / "session" / f"s{i}.jpg")
    daemon.start()
    os.rename(tmp_path / "session", daemon.inbox / "session")
    daemon.wait_states({f"s{i}.jpg": "done" for i in range(3)})
    assert (daemon.outbox / "session" / "s0.png").is_file()  # outputs mirror subfolders


def test_zero_byte_file_fails_as_empty_after_its_retries(daemon: Daemon) -> None:
    daemon.write_profile("studio", {"retries": 1})
    daemon.start()
    (daemon.inbox / "empty.jpg").write_bytes(b"")
    daemon.wait_states({"empty.jpg": "failed"}, timeout=20)
    (job,) = daemon.jobs()
    assert job["reason"] == "empty" and "empty" in job["message"]
    assert job["attempts"] == 2


def test_zero_byte_file_that_grows_is_processed(daemon: Daemon) -> None:
    daemon.write_profile("studio", {"retries": 3})
    daemon.start()
    target = daemon.inbox / "grows.jpg"
    target.write_bytes(b"")
    time.sleep(0.8)
    target.write_bytes(photo_bytes())
    daemon.wait_states({"grows.jpg": "done"}, timeout=20)


def test_file_deleted_before_processing_is_recorded_as_vanished(tmp_path: Path) -> None:
    daemon = Daemon(tmp_path, faults="after-claim:sleep=1.5:victim")
    daemon.start()
    try:
        shoot(daemon.inbox / "victim.jpg")
        daemon.wait_for(lambda: daemon.states().get("victim.jpg") == "processing", 10)
        (daemon.inbox / "victim.jpg").unlink()
        daemon.wait_states({"victim.jpg": "vanished"})
        assert "Traceback" not in daemon.text()
        assert daemon.outputs() == []
    finally:
        daemon.stop()


def test_reshot_file_with_same_name_is_processed_again_and_replaces_output(
        daemon: Daemon) -> None:
    daemon.start()
    shoot(daemon.inbox / "same.jpg", colour=(200, 30, 30))
    daemon.wait_states({"same.jpg": "done"})
    first = (daemon.outbox / "same.png").read_bytes()
    time.sleep(0.05)
    shoot(daemon.inbox / "same.jpg", size=(200, 150), colour=(30, 30, 200))
    daemon.wait_for(lambda: Image.open(daemon.outbox / "same.png").size == (200, 150), 20,
                    "the re-shot output")
    assert (daemon.outbox / "same.png").read_bytes() != first
    assert names_of(daemon.outputs()) == ["same.png"]


def test_a_photo_reshot_while_processing_is_never_processed_twice_at_once(
        tmp_path: Path) -> None:
    """Two workers must never hold one job: the old version's worker finishes, then the new
    version runs (before, a second worker took the new version at once, and whichever wrote
    last owned the output)."""
    daemon = Daemon(tmp_path, faults="after-inference:sleep=1.5:redo", args=["--workers", "2"])
    daemon.start()
    try:
        shoot(daemon.inbox / "redo.jpg", colour=(200, 30, 30))
        daemon.wait_for(lambda: daemon.states().get("redo.jpg") == "processing", 10)
        shoot(daemon.inbox / "redo.jpg", size=(200, 150), colour=(30, 30, 200))
        daemon.wait_for(lambda: (daemon.outbox / "redo.png").exists() and Image.open(
            daemon.outbox / "redo.png").size == (200, 150) and daemon.states().get(
            "redo.jpg") == "done", 30, "the re-shot output")
        with sqlite3.connect(daemon.state / "journal.db") as db:
            kinds = [k for (k,) in db.execute("SELECT kind FROM events ORDER BY id")]
        # the old version's worker ended (its result kept, the job queued again) before the
        # new version was claimed; the new version's run is the one that finished the job
        first = kinds.index("processing")
        second = kinds.index("processing", first + 1)
        assert kinds.index("revision") < second and kinds[-1] == "done", kinds
        assert (kinds.count("processing"), kinds.count("done")) == (2, 1), kinds
    finally:
        daemon.stop()


def test_files_with_mtime_in_2001_and_2099_are_processed(daemon: Daemon) -> None:
    daemon.start()
    for name, year in (("old.jpg", 2001), ("future.jpg", 2099)):
        temp = shoot(daemon.root / name)
        stamp = time.mktime((year, 6, 1, 12, 0, 0, 0, 0, -1))
        os.utime(temp, (stamp, stamp))
        os.rename(temp, daemon.inbox / name)
    daemon.wait_states({"old.jpg": "done", "future.jpg": "done"})


# --------------------------------------------------------------------------- watcher


def test_many_touches_of_one_file_within_settle_give_one_job(daemon: Daemon) -> None:
    daemon.write_profile("studio", {"settle": 1.0})
    daemon.start()
    target = shoot(daemon.inbox / "touched.jpg")
    for _ in range(20):
        os.utime(target)
        time.sleep(0.04)
    daemon.wait_states({"touched.jpg": "done"})
    time.sleep(1.5)
    assert [j["attempts"] for j in daemon.jobs()] == [1]


def test_files_present_before_start_are_all_processed_once(daemon: Daemon) -> None:
    for i in range(25):
        shoot(daemon.inbox / f"pre{i:02d}.jpg")
    daemon.start()
    daemon.wait_done(25)
    assert len(daemon.outputs()) == 25
    assert all(j["attempts"] == 1 for j in daemon.jobs())


def test_files_added_while_stopped_are_processed_and_done_ones_are_not_redone(
        daemon: Daemon) -> None:
    shoot(daemon.inbox / "first.jpg")
    daemon.start()
    daemon.wait_states({"first.jpg": "done"})
    assert daemon.stop() == 0
    output_mtime = (daemon.outbox / "first.png").stat().st_mtime_ns
    shoot(daemon.inbox / "second.jpg")
    daemon.start()
    daemon.wait_states({"second.jpg": "done"})
    time.sleep(0.5)
    assert (daemon.outbox / "first.png").stat().st_mtime_ns == output_mtime
    assert [j["attempts"] for j in daemon.jobs()] == [1, 1]


@pytest.mark.slow
def test_inotify_overflow_loses_no_photo(daemon: Daemon) -> None:
    daemon.start()
    daemon.signal(signal.SIGSTOP)
    try:
        noise = daemon.inbox / "noise"
        noise.mkdir()
        for i in range(17_000):  # more events than inotify queues (16,384 by default)
            (noise / f"n{i}.txt").write_bytes(b"")
        for i in range(20):
            shoot(daemon.inbox / f"burst{i:02d}.jpg")
    finally:
        daemon.signal(signal.SIGCONT)
    daemon.wait_done(20, timeout=60)
    assert len(daemon.outputs()) == 20


def test_dead_observer_is_rebuilt_and_backlog_rescanned(tmp_path: Path) -> None:
    daemon = Daemon(tmp_path, faults="observer-event:raise")
    daemon.start()
    try:
        shoot(daemon.inbox / "a.jpg")
        shoot(daemon.inbox / "b.jpg")
        daemon.wait_states({"a.jpg": "done", "b.jpg": "done"}, timeout=30)
        assert "observer died" in daemon.text()
    finally:
        daemon.stop()


def test_watched_folder_deleted_and_recreated_pauses_then_resumes(daemon: Daemon) -> None:
    daemon.start()
    shutil.rmtree(daemon.inbox)
    daemon.wait_for(lambda: daemon.status()["profiles"][0]["state"] == "paused", 15,
                    "the profile to pause")
    assert "missing" in daemon.status()["profiles"][0]["reason"]
    daemon.inbox.mkdir()
    shoot(daemon.inbox / "back.jpg")
    daemon.wait_states({"back.jpg": "done"}, timeout=20)
    assert daemon.status()["profiles"][0]["state"] == "active"


def test_links_loops_and_fifos_are_skipped_without_reading_them(
        daemon: Daemon, tmp_path: Path) -> None:
    outside = shoot(tmp_path / "secret" / "outside.jpg")
    os.symlink(outside, daemon.inbox / "link.jpg")
    os.symlink(daemon.inbox / "loop", daemon.inbox / "loop")
    os.symlink(daemon.inbox, daemon.inbox / "self")
    os.mkfifo(daemon.inbox / "pipe.jpg")
    shoot(daemon.inbox / "real.jpg")
    daemon.start()
    daemon.wait_states({"real.jpg": "done", "link.jpg": "ignored", "pipe.jpg": "ignored"})
    assert names_of(daemon.outputs()) == ["real.png"]
    assert daemon.stop() == 0


def test_unusual_file_names_are_processed_and_logged_safely(daemon: Daemon) -> None:
    names = [
        "spaces in name.jpg",
        "ünïcödé-产品.jpg",
        unicodedata.normalize("NFD", "café-nfd.jpg"),
        "x" * 200 + ".jpg",
        "ctrl\x1bname.jpg",
    ]
    for name in names:
        shoot(daemon.inbox / name)
    raw_name = os.fsdecode(b"latin1-\xe9t\xe9.jpg")  # not valid UTF-8
    shoot(daemon.inbox / raw_name)
    daemon.start()
    daemon.wait_done(len(names) + 1)
    assert len(daemon.outputs()) == len(names) + 1
    assert "\x1b" not in daemon.text()


def test_output_folder_inside_watched_folder_is_refused_at_start(daemon: Daemon) -> None:
    daemon.write_profile("studio", {"output": str(daemon.inbox / "done")})
    daemon.start(wait=False)
    assert daemon.wait_exit(20) == 2
    assert "inside the watched folder" in daemon.text()


# --------------------------------------------------------------------------- load


@pytest.mark.slow
def test_burst_of_1000_files_gives_1000_outputs_with_bounded_memory(daemon: Daemon) -> None:
    daemon.start()
    data = photo_bytes((64, 48), "PNG")
    for i in range(1000):
        (daemon.inbox / f"b{i:04d}.png").write_bytes(data)
    daemon.wait_done(1000, timeout=400)
    outputs = daemon.outputs()
    assert len(outputs) == 1000 and len({p.name for p in outputs}) == 1000
    assert all(j["attempts"] == 1 for j in daemon.jobs())
    rss_kb = _rss_kb(daemon)
    assert rss_kb < 400_000, f"daemon RSS {rss_kb} kB after a 1,000-file burst"


def _rss_kb(daemon: Daemon) -> int:
    assert daemon.proc is not None
    for line in Path(f"/proc/{daemon.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_burst_with_a_low_open_file_limit_has_no_fd_exhaustion(tmp_path: Path) -> None:
    import resource

    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    daemon = Daemon(tmp_path, preexec=low_limit)
    data = photo_bytes((64, 48), "PNG")
    for i in range(300):
        (daemon.inbox / f"f{i:03d}.png").write_bytes(data)
    daemon.start()
    try:
        daemon.wait_done(300, timeout=180)
        assert "Too many open files" not in daemon.text()
    finally:
        daemon.stop()


# --------------------------------------------------------------------------- crashes


@pytest.mark.parametrize("point", ["after-claim", "after-inference", "after-temp-write",
                                   "after-replace", "after-done"])
def test_kill_9_at_each_point_of_a_job_then_restart_gives_one_valid_output(
        tmp_path: Path, point: str) -> None:
    daemon = Daemon(tmp_path, faults=f"{point}:kill:crash")
    shoot(daemon.inbox / "crash.jpg")
    daemon.start(wait=False)
    code = daemon.wait_exit(30)
    assert code == -signal.SIGKILL, daemon.text()
    daemon.faults = ""
    daemon.start()
    try:
        daemon.wait_states({"crash.jpg": "done"})
        assert names_of(daemon.outputs()) == ["crash.png"]
        assert valid_image(daemon.outbox / "crash.png")
        assert not list(daemon.outbox.glob(".*"))  # orphan temp files cleaned
    finally:
        daemon.stop()


@pytest.mark.slow
def test_five_random_kill_9s_during_a_200_file_burst_lose_and_duplicate_nothing(
        tmp_path: Path) -> None:
    import random

    rng = random.Random(7)
    daemon = Daemon(tmp_path)
    data = photo_bytes((120, 90), "JPEG")
    for i in range(200):
        (daemon.inbox / f"k{i:03d}.jpg").write_bytes(data)
    for _ in range(5):
        daemon.start()
        time.sleep(rng.uniform(0.3, 1.5))
        daemon.kill9()
    daemon.start()
    try:
        daemon.wait_done(200, timeout=180)
        outputs = daemon.outputs()
        assert names_of(outputs) == sorted(f"k{i:03d}.png" for i in range(200))
        assert all(valid_image(p) for p in outputs)
    finally:
        daemon.stop()


def test_file_that_crashes_the_daemon_every_time_is_quarantined(tmp_path: Path) -> None:
    daemon = Daemon(tmp_path, faults="after-claim:kill:poison", args=["--max-crashes", "2"])
    shoot(daemon.inbox / "poison.jpg")
    for _ in range(2):
        daemon.start(wait=False)
        assert daemon.wait_exit(30) == -signal.SIGKILL
    daemon.start()
    try:
        shoot(daemon.inbox / "fine.jpg")
        daemon.wait_states({"poison.jpg": "failed", "fine.jpg": "done"})
        poison = next(j for j in daemon.jobs() if j["source"].endswith("poison.jpg"))
        assert poison["reason"] == "quarantined"
    finally:
        daemon.stop()


def test_second_instance_on_the_same_state_refuses(daemon: Daemon, tmp_path: Path) -> None:
    daemon.start()
    second = Daemon(tmp_path)
    second.log = tmp_path / "second.log"
    second.start(wait=False)
    assert second.wait_exit(20) == 2
    assert "already running" in second.text()


# --------------------------------------------------------------------------- environment


def _unshare_works() -> bool:
    return shutil.which("unshare") is not None and os.system(
        "unshare -Urm true >/dev/null 2>&1") == 0


@pytest.mark.skipif(not _unshare_works(), reason="needs unprivileged mount namespaces")
def test_disk_full_pauses_without_partials_and_resumes(tmp_path: Path) -> None:
    daemon = Daemon(tmp_path)
    mount = f"mount -t tmpfs -o size=1m tmpfs {daemon.outbox}"
    daemon.wrapper = ["unshare", "-Urm", "sh", "-c", f'{mount} && exec "$@"', "sh"]
    daemon.start()
    try:
        assert daemon.proc is not None
        seen_out = Path(f"/proc/{daemon.proc.pid}/root") / daemon.outbox.relative_to("/")
        (seen_out / "filler.bin").write_bytes(b"\0" * (1024 * 1024 - 8192))
        shoot(daemon.inbox / "big.png", size=(800, 600), fmt="PNG")
        daemon.wait_for(lambda: daemon.status()["profiles"][0]["state"] == "paused", 20,
                        "a pause for the full disk")
        assert "no space" in daemon.status()["profiles"][0]["reason"]
        assert daemon.states()["big.png"] == "pending"
        assert [p.name for p in seen_out.iterdir()] == ["filler.bin"]
        (seen_out / "filler.bin").unlink()
        daemon.wait_states({"big.png": "done"}, timeout=20)
        assert valid_image(seen_out / "big.png")
    finally:
        daemon.stop()


def test_output_folder_removed_at_runtime_pauses_and_resumes(daemon: Daemon) -> None:
    daemon.start()
    shutil.rmtree(daemon.outbox)
    shoot(daemon.inbox / "waiting.jpg")
    daemon.wait_for(lambda: daemon.status()["profiles"][0]["state"] == "paused", 15,
                    "a pause for the missing output folder")
    assert str(daemon.outbox) in daemon.status()["profiles"][0]["reason"]
    assert daemon.states().get("waiting.jpg") in (None, "pending")
    daemon.outbox.mkdir()
    daemon.wait_states({"waiting.jpg": "done"}, timeout=20)


@pytest.mark.skipif(not _unshare_works(), reason="needs unprivileged mount namespaces")
def test_unwritable_output_pauses_naming_the_folder_and_resumes(tmp_path: Path) -> None:
    daemon = Daemon(tmp_path)
    trigger = tmp_path / "make-writable"
    setup = (f"mount -t tmpfs tmpfs {daemon.outbox} && mount -o remount,ro {daemon.outbox} && "
             f"(while [ ! -e {trigger} ]; do sleep 0.1; done; "
             f"mount -o remount,rw {daemon.outbox}) & ")
    daemon.wrapper = ["unshare", "-Urm", "sh", "-c", setup + 'exec "$@"', "sh"]
    shoot(daemon.inbox / "fine.jpg")
    daemon.start()
    try:
        daemon.wait_for(lambda: daemon.status()["profiles"][0]["state"] == "paused", 20,
                        "a pause for the unwritable output")
        reason = daemon.status()["profiles"][0]["reason"]
        assert str(daemon.outbox) in reason and "not writable" in reason
        assert daemon.states().get("fine.jpg") in (None, "pending")
        trigger.touch()
        daemon.wait_states({"fine.jpg": "done"}, timeout=20)
    finally:
        daemon.stop()


def test_unreadable_input_fails_after_retries_and_others_flow(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process (as root nothing is unreadable): opening one input is refused by the OS."""
    import threading

    from studiocut import hotfolder

    real_open = os.open

    def refusing_open(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(path).endswith("secret.jpg"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    layout = Daemon(tmp_path)
    layout.write_profile("studio", {"retries": 1, "settle": 0.1})
    shoot(layout.inbox / "secret.jpg")
    shoot(layout.inbox / "fine.jpg")
    daemon = hotfolder.Daemon(hotfolder.Options(profiles_dir=layout.profiles,
                                                state_dir=layout.state, workers=1, rescan=60,
                                                shutdown_timeout=5))
    daemon.startup()
    serving = threading.Thread(target=daemon.serve)
    serving.start()
    try:
        layout.wait_states({"fine.jpg": "done", "secret.jpg": "failed"}, timeout=20)
    finally:
        daemon.stop.set()
        serving.join()
        daemon.shutdown()
    secret = next(j for j in layout.jobs() if j["source"].endswith("secret.jpg"))
    assert secret["reason"] == "unreadable" and secret["attempts"] == 2
    assert "input unreadable" in secret["message"]


# --------------------------------------------------------------------------- lifecycle


def test_sigterm_mid_job_exits_0_and_the_job_completes_once_after_restart(
        tmp_path: Path) -> None:
    daemon = Daemon(tmp_path, faults="after-claim:sleep=8:slow")
    daemon.args = ["--shutdown-timeout", "1"]
    daemon.start()
    shoot(daemon.inbox / "slow.jpg")
    daemon.wait_for(lambda: daemon.states().get("slow.jpg") == "processing", 10)
    started = time.monotonic()
    assert daemon.stop() == 0
    assert time.monotonic() - started < 6
    assert daemon.states()["slow.jpg"] == "pending"
    daemon.faults = ""
    daemon.start()
    try:
        daemon.wait_states({"slow.jpg": "done"})
        (job,) = daemon.jobs()
        assert job["attempts"] == 1
        assert names_of(daemon.outputs()) == ["slow.png"]
    finally:
        daemon.stop()


def test_profile_edit_applies_to_new_jobs_and_a_broken_edit_keeps_the_old(
        daemon: Daemon) -> None:
    daemon.write_profile("studio", {"format": "png"})
    daemon.start()
    shoot(daemon.inbox / "one.jpg")
    daemon.wait_states({"one.jpg": "done"})
    daemon.write_profile("studio", {"format": "webp"})
    time.sleep(2.0)
    shoot(daemon.inbox / "two.jpg")
    daemon.wait_states({"two.jpg": "done"})
    assert (daemon.outbox / "two.webp").is_file()
    (daemon.profiles / "studio.yaml").write_text("watch: [unclosed\n")
    daemon.signal(signal.SIGHUP)
    time.sleep(2.0)
    shoot(daemon.inbox / "three.jpg")
    daemon.wait_states({"three.jpg": "done"})
    assert (daemon.outbox / "three.webp").is_file()
    assert "keeping the previous good version" in daemon.text()
    assert "studio.yaml" in daemon.text()


def test_status_reports_counts_and_failures(daemon: Daemon) -> None:
    daemon.start()
    shoot(daemon.inbox / "ok.jpg")
    (daemon.inbox / "bad.jpg").write_text("<html>not a photo</html>")
    daemon.wait_states({"ok.jpg": "done", "bad.jpg": "failed"})
    report = daemon.status()
    (row,) = report["profiles"]
    assert (row["done"], row["failed"], row["state"]) == (1, 1, "active")
    assert row["last_failures"][0]["reason"] == "not-an-image"
    jobs = {Path(j["source"]).name: j for j in report["jobs"]}
    assert jobs["ok.jpg"]["output"].endswith("ok.png")
    assert set(jobs["bad.jpg"]) >= {"profile", "source", "state", "reason", "output"}


def test_failed_files_move_to_the_failed_folder_with_a_reason(daemon: Daemon) -> None:
    daemon.write_profile("studio", {"failed": str(daemon.root / "failed")})
    daemon.start()
    (daemon.inbox / "broken.jpg").write_bytes(b"PK\x03\x04 not really a zip")
    daemon.wait_states({"broken.jpg": "failed"})
    daemon.wait_for(lambda: (daemon.root / "failed" / "broken.jpg.error.txt").exists(), 5)
    note = (daemon.root / "failed" / "broken.jpg.error.txt").read_text()
    assert "ZIP" in note
    assert not (daemon.inbox / "broken.jpg").exists()


def test_raw_and_jpeg_of_one_stem_do_not_collide(daemon: Daemon) -> None:
    daemon.start()
    shoot(daemon.inbox / "IMG_0001.JPG")
    shoot(daemon.inbox / "IMG_0001.tif")
    daemon.wait_states({"IMG_0001.JPG": "done", "IMG_0001.tif": "done"})
    outputs = names_of(daemon.outputs())
    assert len(outputs) == 2 and "IMG_0001.png" in outputs


@pytest.mark.slow
def test_restart_with_2000_pending_jobs_is_ready_quickly_and_drains_in_order(
        tmp_path: Path) -> None:
    from studiocut.journal import Identity, Journal

    daemon = Daemon(tmp_path)
    data = photo_bytes((48, 36), "PNG")
    journal = Journal(daemon.state / "journal.db")
    for i in range(2000):
        path = daemon.inbox / f"p{i:04d}.png"
        path.write_bytes(data)
        journal.enqueue("studio", path, Identity.of(os.lstat(path)), "v1")
    journal.close()
    started = time.monotonic()
    daemon.start()
    try:
        assert time.monotonic() - started < 10
        daemon.wait_done(2000, timeout=300)
        jobs = daemon.jobs()
        by_start = sorted(jobs, key=lambda j: j["started"])
        first_ids = [j["id"] for j in by_start[:100]]
        assert max(first_ids) <= 110  # oldest first (two workers interleave a little)
        assert all(j["attempts"] == 1 for j in jobs)
    finally:
        daemon.stop()


@pytest.mark.realmodel
def test_daemon_with_the_embedded_u2netp_cuts_out_a_product_end_to_end(tmp_path: Path) -> None:
    import numpy as np

    daemon = Daemon(tmp_path, {"studio": {
        "model": "u2netp", "key": None, "backdrop": "#FFFFFF", "format": "jpeg",
        "square": {"size": 400, "margin": 0.1}}})
    shoot(daemon.inbox / "bottle.jpg", size=(640, 480))
    daemon.start()
    try:
        daemon.wait_states({"bottle.jpg": "done"}, timeout=60)
        with Image.open(daemon.outbox / "bottle.jpg") as image:
            pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
        assert pixels.shape == (400, 400, 3)
        assert (pixels[5, 5] >= 250).all()  # white margin
        centre = pixels[200, 200]
        assert centre[0] > 150 and centre[1] < 90  # the red product, not the grey backdrop
        status = daemon.status()["profiles"][0]
        assert status["model"] == "u2netp" and status["provider"] == "CPUExecutionProvider"
    finally:
        daemon.stop()


def test_a_pending_photo_outside_an_edited_watch_folder_is_ignored_with_a_reason(
        tmp_path: Path) -> None:
    from studiocut.journal import Identity, Journal

    daemon = Daemon(tmp_path)
    old_inbox = tmp_path / "old-inbox"
    stray = shoot(old_inbox / "left-behind.jpg")
    journal = Journal(daemon.state / "journal.db")  # queued while the profile watched old-inbox
    journal.enqueue("studio", stray, Identity.of(os.lstat(stray)), "v0")
    journal.close()
    daemon.start()
    try:
        daemon.wait_states({"left-behind.jpg": "ignored"})
        (job,) = daemon.jobs()
        assert job["reason"] == "not-watched" and str(daemon.inbox) in job["message"]
        assert daemon.outputs() == []
    finally:
        daemon.stop()
