"""status: what the daemon is doing, read from its journal and status file."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
from rich.console import Console

from studiocut import cli, journal
from studiocut.hotfolder import lock, status
from studiocut.journal import Identity, Journal


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


def ident(n: int) -> Identity:
    return Identity(size=1000 + n, mtime_ns=n, inode=n)


def fill(state: Path, *, age: float = 120.0) -> None:
    """A journal for profile ``studio``: two waiting (the oldest ``age`` s old), one done,
    one failed as truncated; and one done job of profile ``web``."""
    clock = Clock(time.time() - age)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(journal.store, "time", clock)
        record(state / status.JOURNAL_FILE, clock)


def record(path: Path, clock: Clock) -> None:
    db = Journal(path)
    try:
        waiting = db.enqueue("studio", Path("/in/IMG_0001.jpg"), ident(1), "v1")
        clock.now += 10
        done = db.enqueue("studio", Path("/in/IMG_0002.jpg"), ident(2), "v1")
        failed = db.enqueue("studio", Path("/in/IMG_0003.jpg"), ident(3), "v1")
        db.enqueue("studio", Path("/in/IMG_0004.jpg"), ident(4), "v1")
        web = db.enqueue("web", Path("/web/a.png"), ident(5), "v1")
        assert waiting and done and failed and web
        for _ in range(3):  # IMG_0001 is left processing; IMG_0004 stays pending
            db.claim_next(["studio"])
        db.claim_next(["web"])
        db.finish(done.id, journal.DONE, output=Path("/out/IMG_0002.jpg"))
        db.finish(failed.id, journal.FAILED, reason="truncated",
                  message="IMG_0003.jpg: the file ends early")
        db.finish(web.id, journal.DONE, output=Path("/out/a.png"))
    finally:
        db.close()


def write_daemon_json(state: Path) -> None:
    (state / status.STATUS_FILE).write_text(json.dumps({
        "pid": 1, "state": "running", "review": "http://127.0.0.1:8770/",
        "profiles": {"studio": {"state": "paused", "reason": "output folder /out is missing",
                                "watch": "/in", "output": "/out", "model": "u2netp",
                                "per_minute": 7}},
    }))


@pytest.fixture
def state(tmp_path: Path) -> Path:
    folder = tmp_path / "state"
    folder.mkdir()
    return folder



def by_name(report: dict[str, object]) -> dict[str, dict[str, object]]:
    rows = report["profiles"]
    assert isinstance(rows, list)
    return {row["name"]: row for row in rows}


def test_collect_reports_counts_oldest_age_and_last_failures_per_profile(
    state: Path, tmp_path: Path,
) -> None:
    fill(state, age=120.0)
    write_daemon_json(state)

    report = status.collect(state, tmp_path / "profiles")

    assert report["running"] is False
    studio = by_name(report)["studio"]
    assert (studio["pending"], studio["done"], studio["failed"]) == (2, 1, 1)
    assert 119.0 <= studio["oldest_pending_seconds"] <= 130.0  # type: ignore[operator]
    assert studio["last_failures"] == [{"source": "/in/IMG_0003.jpg", "reason": "truncated",
                                        "message": "IMG_0003.jpg: the file ends early"}]
    assert studio["state"] == "stopped"  # daemon.json is not believed without the lock
    web = by_name(report)["web"]
    assert (web["pending"], web["done"], web["oldest_pending_seconds"]) == (0, 1, None)


def test_collect_lists_recent_jobs_with_their_outcome(
    state: Path, tmp_path: Path,
) -> None:
    fill(state)

    report = status.collect(state, tmp_path / "profiles")

    jobs = report["jobs"]
    assert len(jobs) == 5
    for row in jobs:
        assert {"profile", "source", "state", "reason", "output"} <= set(row)
    rows = {row["source"]: row for row in jobs}
    assert rows["/in/IMG_0002.jpg"]["state"] == journal.DONE
    assert rows["/in/IMG_0002.jpg"]["output"] == "/out/IMG_0002.jpg"
    assert rows["/in/IMG_0002.jpg"]["outputs"] == [{"name": "default",
                                                   "path": "/out/IMG_0002.jpg"}]
    assert rows["/in/IMG_0003.jpg"]["reason"] == "truncated"
    assert rows["/in/IMG_0004.jpg"] | {"attempts": 0} == {
        "profile": "studio", "source": "/in/IMG_0004.jpg", "state": journal.PENDING,
        "reason": None, "output": None, "outputs": [], "attempts": 0, "flags": []}
    assert len(status.collect(state, tmp_path, jobs=2)["jobs"]) == 2


def test_collect_is_running_only_while_the_daemon_lock_is_held(
    state: Path, tmp_path: Path,
) -> None:
    fill(state)
    write_daemon_json(state)
    handle = lock.take_lock(state / lock.LOCK_FILE)
    try:
        report = status.collect(state, tmp_path / "profiles")
    finally:
        lock.release_lock(handle)

    assert report["running"] is True
    studio = by_name(report)["studio"]
    assert (studio["state"], studio["reason"]) == ("paused", "output folder /out is missing")
    assert studio["per_minute"] == 7
    assert report["review"] == "http://127.0.0.1:8770/"
    stopped = status.collect(state, tmp_path / "profiles")
    assert (stopped["running"], stopped["review"]) == (False, None)


def test_collect_reads_a_journal_that_the_daemon_holds_open(
    state: Path, tmp_path: Path,
) -> None:
    db = Journal(state / status.JOURNAL_FILE)
    try:
        db.enqueue("studio", Path("/in/IMG_0001.jpg"), ident(1), "v1")

        report = status.collect(state, tmp_path / "profiles")
    finally:
        db.close()

    assert by_name(report)["studio"]["pending"] == 1


def test_collect_on_an_empty_state_folder_reports_nothing(state: Path, tmp_path: Path) -> None:
    report = status.collect(state, tmp_path / "profiles")

    assert (report["running"], report["profiles"], report["jobs"]) == (False, [], [])
    assert not (state / status.JOURNAL_FILE).exists()  # status never creates the journal


def test_cli_status_json_prints_profiles_and_jobs(
    state: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], restore_logging: None,
) -> None:
    fill(state)

    code = cli.main(["status", "--state", str(state), "--profiles", str(tmp_path), "--json"])

    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert {"profiles", "jobs"} <= set(report)
    assert [row["name"] for row in report["profiles"]] == ["studio", "web"]
    assert len(report["jobs"]) == 5


def test_cli_status_names_each_profile_and_its_failure_reasons(
    state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], restore_logging: None,
) -> None:
    fill(state)
    monkeypatch.setenv("COLUMNS", "200")

    code = cli.main(["status", "--state", str(state), "--profiles", str(tmp_path)])

    assert code == 0
    out = capsys.readouterr().out
    assert "not running" in out
    assert "studio" in out and "web" in out
    assert "truncated" in out
    assert "IMG_0003.jpg: the file ends early" in out


# ===========================================================================================
# Review flags in the status report. (Appended section; the tests above are unchanged.)
# ===========================================================================================


def record_flagged(path: Path) -> None:
    """Profile ``studio``: two done and flagged, one done and fine; profile ``web``: one
    done and flagged, one failed (never counted as flagged)."""
    db = Journal(path)
    try:
        jobs = [db.enqueue(profile, Path(f"/in/{name}"), ident(n), "v1") for n, (profile, name)
                in enumerate([("studio", "edge.jpg"), ("studio", "two.jpg"),
                              ("studio", "fine.jpg"), ("web", "small.png"),
                              ("web", "broken.png")])]
        assert all(jobs)
        for _ in range(3):
            db.claim_next(["studio"])
        db.claim_next(["web"])
        db.claim_next(["web"])
        flags = [("the subject touches the edge of the frame (cropped product?)",),
                 ("2 separate subjects", "low model confidence: 0.50 (limit 0.75)"), (),
                 ("subject too small: 1.0% of the frame (limit 2%)",)]
        for job, job_flags in zip(jobs[:4], flags, strict=True):
            assert job is not None
            db.finish(job.id, journal.DONE, output=Path("/out") / job.source.name,
                      flags=job_flags)
        assert jobs[4] is not None
        db.finish(jobs[4].id, journal.FAILED, reason="truncated", message="broken.png: short",
                  flags=("ignored",))
    finally:
        db.close()


def test_collect_counts_flagged_results_per_profile(state: Path, tmp_path: Path) -> None:
    record_flagged(state / status.JOURNAL_FILE)

    rows = by_name(status.collect(state, tmp_path / "profiles"))

    assert (rows["studio"]["done"], rows["studio"]["flagged"]) == (3, 2)
    assert (rows["web"]["done"], rows["web"]["failed"], rows["web"]["flagged"]) == (1, 1, 1)


def test_collect_lists_each_jobs_flags(state: Path, tmp_path: Path) -> None:
    record_flagged(state / status.JOURNAL_FILE)

    report = status.collect(state, tmp_path / "profiles")

    flags = {Path(job["source"]).name: job["flags"] for job in report["jobs"]}
    assert flags["two.jpg"] == ["2 separate subjects", "low model confidence: 0.50 (limit 0.75)"]
    assert flags["edge.jpg"] == ["the subject touches the edge of the frame (cropped product?)"]
    assert flags["fine.jpg"] == []


def test_a_profile_known_only_to_the_running_daemon_has_nothing_flagged(
    state: Path, tmp_path: Path,
) -> None:
    fill(state)  # no flags anywhere
    write_daemon_json(state)

    rows = by_name(status.collect(state, tmp_path / "profiles"))

    assert rows["studio"]["flagged"] == 0 and rows["web"]["flagged"] == 0


def test_cli_status_shows_each_profiles_flagged_count(
    state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    record_flagged(state / status.JOURNAL_FILE)

    code = cli.main(["status", "--state", str(state), "--profiles", str(tmp_path)])

    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    studio = lines.index("studio: stopped")
    assert "flagged 2," in lines[studio + 1]
    web = lines.index("web: stopped")
    assert "flagged 1," in lines[web + 1]




@pytest.mark.parametrize("width", [80, 100])
def test_a_narrow_terminal_gets_whole_lines_not_cut_cells(
        state: Path, tmp_path: Path, width: int) -> None:
    fill(state)
    out = io.StringIO()

    status.render(status.collect(state, tmp_path),
                  Console(file=out, width=width, force_terminal=True, color_system=None))

    text = out.getvalue()
    assert "…" not in text and "┃" not in text
    assert "studio: stopped" in text and "web: stopped" in text
    assert "pending 2, done 1, flagged 0, failed 1, oldest pending 120 s" in text
    assert "IMG_0003.jpg: the file ends early" in text


def test_a_wide_terminal_gets_the_table(state: Path, tmp_path: Path) -> None:
    fill(state)
    out = io.StringIO()

    status.render(status.collect(state, tmp_path),
                  Console(file=out, width=160, force_terminal=True, color_system=None))

    header = next(line for line in out.getvalue().splitlines() if "oldest pending" in line)
    assert "flagged" in header and "runs on" in header and "…" not in out.getvalue()


# ===========================================================================================
# The status counted once: every view derived from one Status.
# ===========================================================================================


LIVE = {"studio": status.Live("paused", "output folder /out is missing", "/in", "/out",
                              "u2netp", "CPUExecutionProvider", 4, hold="flagged")}


def test_the_status_line_counts_queue_work_in_progress_throughput_and_pauses_with_why(
    state: Path,
) -> None:
    fill(state)
    db = Journal(state / status.JOURNAL_FILE)
    try:
        line = status.Status(db, LIVE, in_flight=[1]).line()
    finally:
        db.close()

    assert line == ("1 queued, 1 in progress, 4/min, 1 profile(s) paused (studio: output folder "
                    "/out is missing)")
    assert status.Status(None, {}).line() == "0 queued, 0 in progress, 0/min"


def test_the_status_file_carries_each_live_profile_to_collect(
    state: Path, tmp_path: Path,
) -> None:
    fill(state)
    db = Journal(state / status.JOURNAL_FILE)
    try:
        snapshot = status.Status(db, LIVE, started=123.0, review="http://127.0.0.1:8770/")
        status.write(state, snapshot)
    finally:
        db.close()
    written = json.loads((state / status.STATUS_FILE).read_text())
    assert set(written) == {"pid", "started", "updated", "state", "review", "profiles"}
    assert (written["started"], written["state"]) == (123.0, "running")
    assert written["profiles"]["studio"] == {
        "state": "paused", "reason": "output folder /out is missing", "watch": "/in",
        "output": "/out", "model": "u2netp", "provider": "CPUExecutionProvider",
        "per_minute": 4}  # the review page's hold stays in the daemon

    handle = lock.take_lock(state / lock.LOCK_FILE)
    try:
        report = status.collect(state, tmp_path / "profiles")
    finally:
        lock.release_lock(handle)

    studio = by_name(report)["studio"]
    assert (studio["state"], studio["provider"], studio["per_minute"]) == (
        "paused", "CPUExecutionProvider", 4)
    assert report["review"] == "http://127.0.0.1:8770/"
    status.write(state, snapshot, stopping=True)
    stopping = json.loads((state / status.STATUS_FILE).read_text())
    assert (stopping["state"], stopping["review"]) == ("stopping", None)


def test_monitor_rows_show_running_and_standby_profiles_with_todays_figures(
    state: Path,
) -> None:
    fill(state, age=60.0)
    db = Journal(state / status.JOURNAL_FILE)
    try:
        in_progress = [j.id for j in db.jobs(states=(journal.PROCESSING,))]
        rows = {row["name"]: row for row in status.Status(db, LIVE,
                                                          in_flight=in_progress).monitor()}
    finally:
        db.close()

    studio, web = rows["studio"], rows["web"]
    assert list(studio) == [
        "name", "state", "reason", "watch", "output", "model", "provider", "hold", "queued",
        "processing", "done_today", "failed_today", "flagged_today", "per_minute",
        "oldest_pending_s", "last_error"]
    assert (studio["state"], studio["hold"], studio["queued"]) == ("paused", "flagged", 1)
    assert studio["processing"] == ["IMG_0001.jpg"]
    assert (studio["done_today"], studio["failed_today"], studio["flagged_today"]) == (1, 1, 0)
    assert studio["last_error"] == "IMG_0003.jpg: the file ends early"
    assert 59.0 <= studio["oldest_pending_s"] <= 70.0
    assert (web["state"], web["reason"]) == ("standby", status.STANDBY)
    assert (web["hold"], web["per_minute"], web["provider"], web["done_today"]) == (
        "none", 0, None, 1)


# ===========================================================================================
# Every rendition's output, in --json and in the plain status.
# ===========================================================================================


def record_renditions(path: Path) -> None:
    """Profile ``listing`` with two renditions: ``shoe.jpg`` done, ``bag.jpg`` waiting;
    profile ``studio`` with one: ``IMG_0009.jpg`` done."""
    db = Journal(path)
    try:
        shoe = db.enqueue("listing", Path("/in/A1/shoe.jpg"), ident(1), "v1")
        bag = db.enqueue("listing", Path("/in/A1/bag.jpg"), ident(2), "v1")
        one = db.enqueue("studio", Path("/in/IMG_0009.jpg"), ident(3), "v1")
        assert shoe and bag and one
        db.claim_next(["listing"])
        db.claim_next(["studio"])
        db.reserve_outputs(shoe.id, [("web", [Path("/out/web/A1_1.jpg")]),
                                     ("zalando", [Path("/out/zalando/A1_1.jpg")])])
        db.finish(shoe.id, journal.DONE, output=Path("/out/web/A1_1.jpg"))
        db.finish(one.id, journal.DONE, output=Path("/out/IMG_0009.png"))
    finally:
        db.close()


def test_collect_lists_every_renditions_output_of_each_job(state: Path, tmp_path: Path) -> None:
    record_renditions(state / status.JOURNAL_FILE)

    rows = {row["source"]: row for row in status.collect(state, tmp_path)["jobs"]}

    assert rows["/in/A1/shoe.jpg"]["outputs"] == [
        {"name": "web", "path": "/out/web/A1_1.jpg"},
        {"name": "zalando", "path": "/out/zalando/A1_1.jpg"}]
    assert rows["/in/A1/shoe.jpg"]["output"] == "/out/web/A1_1.jpg"
    assert rows["/in/IMG_0009.jpg"]["outputs"] == [{"name": "default",
                                                   "path": "/out/IMG_0009.png"}]
    assert rows["/in/A1/bag.jpg"]["outputs"] == []


def test_cli_status_shows_every_renditions_output_of_the_recent_done_jobs(
    state: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], restore_logging: None,
) -> None:
    record_renditions(state / status.JOURNAL_FILE)

    assert cli.main(["status", "--state", str(state), "--profiles", str(tmp_path)]) == 0

    lines = capsys.readouterr().out.splitlines()
    shoe = lines.index("  listing: /in/A1/shoe.jpg")
    assert lines[shoe + 1:shoe + 3] == ["    web: /out/web/A1_1.jpg",
                                        "    zalando: /out/zalando/A1_1.jpg"]
    assert "    default: /out/IMG_0009.png" in lines
    assert not any("bag.jpg" in line for line in lines), "a waiting job has no output yet"

    assert cli.main(["status", "--state", str(state), "--profiles", str(tmp_path),
                     "--jobs", "1"]) == 0
    assert "shoe.jpg" not in capsys.readouterr().out, "--jobs bounds the listing"
