"""workers: claiming jobs, checking their files, handing them to the executor and the
publisher, and knowing which job each worker holds."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import make_profile
from daemon_harness import shoot
from studiocut.hotfolder.executor import Result, Work
from studiocut.hotfolder.intake import Intake
from studiocut.hotfolder.publisher import Publisher
from studiocut.hotfolder.roster import Loaded, Roster
from studiocut.hotfolder.workers import Workers
from studiocut.journal import DONE, FAILED, PENDING, Identity, Job, Journal


class Executor:
    """Records each Work; answers with ``answer`` (bytes by default)."""

    def __init__(self) -> None:
        self.works: list[Work] = []
        self.answer: Callable[[Work], Result] = lambda w: Result(w.source, 0.0, data=b"x")

    def run(self, work: Work) -> Result:
        self.works.append(work)
        return self.answer(work)


class Shop:
    """One worker thread over a real journal, roster (profile ``test``) and publisher."""

    def __init__(self, root: Path) -> None:
        self.inbox, self.out = root / "in", root / "out"
        self.inbox.mkdir()
        self.out.mkdir()
        profile = make_profile(watch=str(self.inbox), output=str(self.out),
                               model="backdrop-key", key={"assist": "none"}, format="png")
        self.journal = Journal(root / "journal.db")
        self.intake = Intake(self.journal, lambda: None)
        self.stop, self.wake = threading.Event(), threading.Event()
        self.roster = Roster(Loaded({"test": (profile, "v1")}), folder=root / "profiles",
                             journal=self.journal, intake=self.intake, wake=self.wake,
                             reviewing=False, cache_dir=root / "cache")
        self.executor = Executor()
        publisher = Publisher(self.journal, self.roster, desk=None, wake=self.wake)
        self.workers = Workers(self.journal, self.roster, self.intake, self.executor,
                               publisher, stop=self.stop, wake=self.wake)
        self.thread: threading.Thread | None = None

    def queue(self, name: str) -> Job:
        source = shoot(self.inbox / name)
        job = self.journal.enqueue("test", source, Identity.of(os.lstat(source)), "v1")
        assert job is not None
        return job

    def start(self) -> None:
        self.thread = threading.Thread(target=self.workers.work, args=(0,), name="worker-0")
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.wake.set()
        if self.thread is not None:
            self.thread.join(10)
        self.journal.close()

    def wait(self, job: Job, state: str) -> Job:
        deadline = time.monotonic() + 10
        while True:
            found = self.journal.job(job.id)
            assert found is not None
            if found.state == state:
                return found
            assert time.monotonic() < deadline, f"{job.source.name} never {state}"
            time.sleep(0.02)


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    instance = Shop(tmp_path)
    yield instance
    instance.close()


def test_the_oldest_job_goes_to_the_executor_and_its_result_is_published(shop: Shop) -> None:
    first, second = shop.queue("a.jpg"), shop.queue("b.jpg")
    shop.start()

    shop.wait(second, DONE)

    assert [w.job for w in shop.executor.works] == [first.id, second.id]
    assert (shop.out / "a.png").read_bytes() == b"x"


def test_a_file_written_again_since_it_settled_is_put_back_and_noticed_not_run(
        shop: Shop) -> None:
    job = shop.queue("a.jpg")
    with open(job.source, "ab") as f:
        f.write(b"more bytes")
    shop.start()

    time.sleep(0.5)

    found = shop.journal.job(job.id)
    assert found is not None and (found.state, found.attempts) == (PENDING, 0)
    assert shop.executor.works == []
    assert shop.intake.waiting == 1  # the intake settles the new version


def test_jobs_of_a_paused_profile_wait_unclaimed(shop: Shop) -> None:
    shop.roster.pause(shop.roster.watched["test"], "output folder is missing")
    job = shop.queue("a.jpg")
    shop.start()

    time.sleep(0.5)

    found = shop.journal.job(job.id)
    assert found is not None and (found.state, found.attempts) == (PENDING, 0)
    assert shop.executor.works == []


def test_a_bug_fails_only_its_job_and_the_worker_goes_on(
        shop: Shop, caplog: pytest.LogCaptureFixture) -> None:
    def broken(work: Work) -> Result:
        if work.source.name == "a.jpg":
            raise RuntimeError("boom")
        return Result(work.source, 0.0, data=b"x")

    shop.executor.answer = broken
    bad, good = shop.queue("a.jpg"), shop.queue("b.jpg")
    caplog.set_level(logging.ERROR, logger="studiocut.hotfolder.workers")
    shop.start()

    shop.wait(good, DONE)

    failed = shop.wait(bad, FAILED)
    assert failed.reason == "internal-error" and "see the log" in (failed.message or "")
    assert "RuntimeError: boom" in caplog.text


def test_the_job_a_worker_holds_is_in_flight_and_stuck_after_a_while(shop: Shop) -> None:
    release = threading.Event()

    def slow(work: Work) -> Result:
        release.wait(10)
        return Result(work.source, 0.0, data=b"x")

    shop.executor.answer = slow
    job = shop.queue("a.jpg")
    shop.start()
    deadline = time.monotonic() + 10
    while not shop.workers.in_flight() and time.monotonic() < deadline:
        time.sleep(0.02)

    try:
        assert shop.workers.in_flight() == [job.id]
        time.sleep(0.1)
        assert shop.workers.stuck(0.05) == ["worker-0 held by one photo for over 0.05 s"]
        assert shop.workers.stuck(60) == []
    finally:
        release.set()
    shop.wait(job, DONE)
    assert shop.workers.in_flight() == []
