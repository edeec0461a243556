"""workers: the threads that run the jobs.

Each worker claims the oldest due job of an active profile from the journal (a claim counts an
attempt; at start, jobs an unclean stop left in progress run again, and one that was in
progress during too many crashes is set aside), checks that its file is still the one that
settled, reserves the output's name, hands the Work to the executor and its Result to the
publisher. The in-flight set says which job each worker holds and since when: the status shows
it, shutdown puts unfinished jobs back, and a worker held too long makes the daemon unhealthy.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from studiocut import faults
from studiocut.errors import InputError, OutputError
from studiocut.hotfolder import products
from studiocut.hotfolder.executor import Executor, Work, failed
from studiocut.hotfolder.intake import Intake
from studiocut.hotfolder.publisher import Publisher
from studiocut.hotfolder.roster import Roster
from studiocut.journal import Identity, Job, Journal

log = logging.getLogger(__name__)

SET_WAIT = 0.5  # seconds a photo waits for an earlier one that names it or sets its framing


def recover(journal: Journal, max_crashes: int) -> None:
    """After an unclean stop: put the jobs left in progress back to pending, and set aside
    (quarantine) those in progress during ``max_crashes`` crashes."""
    requeued, quarantined = journal.recover(max_crashes)
    if requeued or quarantined:
        log.warning("recovered after an unclean stop: %d jobs requeued, %d quarantined",
                    requeued, quarantined)


class Workers:
    """What the worker threads share; each thread runs ``work`` with its index until
    ``stop`` is set, waiting on ``wake`` while there is nothing to do."""

    def __init__(self, journal: Journal, roster: Roster, intake: Intake, executor: Executor,
                 publisher: Publisher, *, stop: threading.Event,
                 wake: threading.Event) -> None:
        self._journal = journal
        self._roster = roster
        self._intake = intake
        self._executor = executor
        self._publisher = publisher
        self._stop = stop
        self._wake = wake
        self._lock = threading.Lock()
        self._in_flight: dict[int, int] = {}  # worker index -> job id
        self._busy_since: dict[int, float] = {}  # worker index -> monotonic time of its claim

    def in_flight(self) -> list[int]:
        """The ids of the jobs the workers hold now."""
        with self._lock:
            return list(self._in_flight.values())

    def stuck(self, after: float) -> list[str]:
        """A problem for each worker held by one photo longer than ``after`` seconds."""
        now = time.monotonic()
        with self._lock:
            busy = sorted(self._busy_since.items())
        return [f"worker-{index} held by one photo for over {after:g} s"
                for index, since in busy if now - since > after]

    def work(self, index: int) -> None:
        """The worker thread's loop."""
        while not self._stop.is_set():
            claimed = self._journal.claim_next(self._roster.active())
            if claimed is None:
                self._wake.wait(0.5)
                self._wake.clear()
                continue
            job, attempt = claimed
            with self._lock:
                self._in_flight[index] = job.id
                self._busy_since[index] = time.monotonic()
            try:
                self._handle(job, attempt)
            except Exception:  # a bug must not kill the worker; the job fails with a reason
                log.exception("internal error on %s", job.source)
                self._publisher.broken(job)
            finally:
                with self._lock:
                    self._in_flight.pop(index, None)
                    self._busy_since.pop(index, None)

    def _handle(self, job: Job, attempt: int) -> None:
        item = self._roster.get(job.profile)
        if item is None or item.paused is not None:
            self._publisher.put_back(job.id)
            return
        profile = item.profile
        source = job.source
        faults.point("after-claim", source)
        try:
            st = os.lstat(source)
        except FileNotFoundError:
            self._publisher.vanished(job)
            return
        if Identity.of(st) != job.identity:
            # written again since it settled: the intake will queue the new version
            self._publisher.put_back(job.id, delay=profile.settle)
            self._intake.notice(profile.name, source)
            return
        assert profile.watch is not None and profile.output is not None
        if profile.watch not in source.parents:  # the profile was edited to watch elsewhere
            self._publisher.ignored(job, "not-watched", f"{source}: no longer in "
                                    f"{profile.name}'s watched folder {profile.watch}")
            return
        keeps = self._publisher.keeps
        work = Work(job.id, source, source.parent.relative_to(profile.watch), profile,
                    keep=keeps, revision=self._journal.next_revision(job.id) if keeps else None)
        try:
            if products.waits_for_card(self._journal, work):  # it may name this photo
                self._publisher.put_back(job.id, delay=SET_WAIT)
                return
            card = products.card_of(work)
            if card is not None:
                self._publisher.card(job, work, card)
                return
            work = products.identify(self._journal, work)
            if products.waits(self._journal, work):  # an earlier view sets the framing
                self._publisher.put_back(job.id, delay=SET_WAIT)
                return
            dest = self._publisher.reserve(job, work)
        except (InputError, OutputError) as e:  # unreadable, no SKU, or no name free
            self._publisher.publish(job, attempt, work, None, failed(source, e, 0.0))
            return
        self._publisher.publish(job, attempt, work, dest, self._executor.run(work))
