"""daemon: the hot-folder daemon's lifecycle, top to bottom: startup() -> serve() -> shutdown().

Threads: one observer per profile (notices paths), one intake thread (settles files into
journal rows), N workers (take the oldest due job from the journal, hand it to the executor
and its result to the publisher), and the main thread, which handles signals, rescans, health
checks, pauses and profile reloads. Signal handlers only set flags.

The parts: ``roster`` (the profiles and their models), ``intake`` and ``watcher``
(noticing and settling files), ``workers``, ``executor`` (the seam where the pipeline runs),
``publisher`` (outputs, originals and journal rows) and ``status``.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from studiocut.errors import StudiocutError
from studiocut.hotfolder import intake, lock, notify, roster, status, workers
from studiocut.hotfolder.executor import Executor, LocalExecutor
from studiocut.hotfolder.publisher import Publisher, finish_groups
from studiocut.hotfolder.roster import Roster
from studiocut.hotfolder.status import JOURNAL_FILE, Status
from studiocut.hotfolder.workers import Workers
from studiocut.journal import Journal
from studiocut.models.registry import MaskModel
from studiocut.profiles import Profile
from studiocut.review import server
from studiocut.review.artefacts import Store
from studiocut.review.desk import Desk

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Options:
    """How the daemon runs (not what it does to photos: that is the profiles' business)."""

    profiles_dir: Path
    state_dir: Path
    workers: int = 0
    rescan: float = 30.0
    shutdown_timeout: float = 20.0
    max_crashes: int = 3
    live: bool = False
    stuck_after: float = 600.0  # seconds one photo may hold a worker before it is unhealthy
    review: server.Settings | None = None  # where the review page listens; None: no page
    keep_revisions: float = 30.0  # days a revision's artefacts are kept (published: always)
    refiner: str = "auto"  # what points and boxes run on the review page: a SAM, or grabcut


# Given the daemon's LocalExecutor and journal, the executor the workers use instead (the
# cluster's routing executor, which runs some profiles elsewhere).
Route = Callable[[LocalExecutor, Journal], Executor]


class Daemon:
    """The daemon's parts, assembled. ``executor`` runs the pipeline for the workers; by
    default a LocalExecutor, in this process, or what ``route`` makes of it. An executor
    with a ``close`` method is told when the daemon stops (before the workers are joined),
    one with ``report`` adds it to the status as ``cluster``."""

    def __init__(self, options: Options, *, executor: Executor | None = None,
                 route: Route | None = None) -> None:
        self.options = options
        self._route = route
        self.stop = threading.Event()
        self.reload_requested = threading.Event()
        self.wake = threading.Event()
        self._executor = executor
        self._lock_handle: Any = None
        self._journal: Journal | None = None
        self._intake: intake.Intake | None = None
        self._roster: Roster | None = None
        self._workers: Workers | None = None
        self._publisher: Publisher | None = None
        self._threads: list[threading.Thread] = []
        self.started = time.time()
        self.ready = False
        self.notifier = notify.Notifier.from_environment()
        self._unhealthy: list[str] = []
        self._desk: Desk | None = None
        self.page: server.Server | None = None
        self._next_purge = 0.0

    @property
    def desk(self) -> Desk:
        assert self._desk is not None
        return self._desk

    @property
    def reviewing(self) -> bool:
        """Whether results are kept for the review page (and may be held there)."""
        return self.options.review is not None

    @property
    def journal(self) -> Journal:
        assert self._journal is not None
        return self._journal

    @property
    def roster(self) -> Roster:
        assert self._roster is not None
        return self._roster

    # ------------------------------------------------------------------ lifecycle

    def startup(self) -> None:
        """Take the lock, open the journal, recover from a crash, load every profile (raise
        ConfigError naming each problem), then start workers, intake and observers."""
        state = self.options.state_dir
        state.mkdir(parents=True, exist_ok=True)
        self._lock_handle = lock.take_lock(state / lock.LOCK_FILE)
        found = roster.load(self.options.profiles_dir)
        self._journal = Journal(state / JOURNAL_FILE)
        workers.recover(self.journal, self.options.max_crashes)
        finish_groups(self.journal)  # before the outputs' orphan temps are removed
        self._intake = intake.Intake(self.journal, self.wake.set)
        self._desk = Desk(self.journal, Store(state / "review"), self,
                          refiner=self.options.refiner, threads=roster.threads_per_model())
        self._roster = Roster(found, folder=self.options.profiles_dir, journal=self.journal,
                              intake=self._intake, wake=self.wake, reviewing=self.reviewing,
                              cache_dir=state / "engine-cache")
        if self.reviewing:  # after the profiles load: a publish writes to their outputs
            self.desk.recover()
        count = self.options.workers or os.cpu_count() or 1
        if self._executor is None:
            self._executor = LocalExecutor(self.roster, workers=count)
            if self._route is not None:
                self._executor = self._route(self._executor, self.journal)
        self._publisher = Publisher(self.journal, self.roster,
                                    desk=self.desk if self.reviewing else None, wake=self.wake)
        self._workers = Workers(self.journal, self.roster, self._intake, self._executor,
                                self._publisher, stop=self.stop, wake=self.wake)
        for index in range(count):
            self._spawn(f"worker-{index}", self._workers.work, index)
        self._spawn("intake", self._intake.run)
        self.roster.watch_all()
        self._start_page()
        self.ready = True
        self.write_status()
        log.info("studiocut ready: %d profile(s), %d worker(s), state in %s",
                 len(self.roster.watched), count, state)
        self.notifier.ready(self.status_line())

    def _start_page(self) -> None:
        """Serve the review page. A page that cannot start (its port taken) is logged and
        left out: tethering must not stop for it."""
        settings = self.options.review
        if settings is None:
            return
        secret = server.token(self.options.state_dir)
        try:
            self.page = server.Server(self, settings, secret, watch_of=self.roster.watch_of)
            self.page.start()
        except OSError as e:
            log.error("review page unavailable: cannot listen on %s:%d: %s", settings.bind,
                      settings.port, e.strerror or e)
            self.page = None
            return
        log.info("review page at %s (run `studiocut review url` for the address with its "
                 "token)", self.page.url)

    def _spawn(self, name: str, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def run(self) -> None:
        """The whole life: startup(), serve() until ``stop`` is set, shutdown() always."""
        try:
            self.startup()
        except BaseException:
            self.shutdown()
            raise
        try:
            self.serve()
        finally:
            self.shutdown()

    def serve(self) -> None:
        """The main loop: until asked to stop, keep observers healthy, rescan, resume paused
        profiles, reload changed profiles and publish status (and the live view on a
        terminal)."""
        if not self.options.live:
            self._loop()
            return
        from rich.live import Live

        from studiocut.hotfolder import console

        with Live(console.render(self.status()), refresh_per_second=2, transient=False,
                  get_renderable=lambda: console.render(self.status()),
                  redirect_stderr=False):
            self._loop()

    def _loop(self) -> None:
        next_rescan = time.monotonic() + self.options.rescan
        while not self.stop.wait(1.0):
            problems = self.health_problems()  # before the repairs below: see _notify
            if self.reload_requested.is_set() or self.roster.changed():
                self.reload_requested.clear()
                self.roster.reload()
            self.roster.check_all()
            if time.monotonic() >= next_rescan:
                next_rescan = time.monotonic() + self.options.rescan
                self.roster.rescan()
            self._upkeep()
            self.write_status()
            self._notify(problems)

    def _upkeep(self) -> None:
        """Once a day (and at start): purge old revisions' artefacts and old events."""
        if not self.reviewing or time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + 86400
        try:
            removed = self.desk.purge(self.options.keep_revisions)
            self.journal.prune_events(time.time() - 7 * 86400)
        except (OSError, StudiocutError) as e:
            log.warning("could not purge old revisions: %s", e)
            return
        if removed:
            log.info("purged %d revision(s) older than %g days", removed,
                     self.options.keep_revisions)

    def shutdown(self) -> None:
        """Close the review page (its live streams first), stop intake, let in-flight photos
        finish within ``shutdown_timeout``, put any that did not back to pending, and
        release the lock."""
        self.notifier.stopping("stopping: finishing the photos in progress")
        self.stop.set()
        self.wake.set()
        if self.page is not None:
            self.page.stop(min(3.0, self.options.shutdown_timeout))
        if self._roster is not None:
            self._roster.stop_watching()
        if self._intake is not None:
            self._intake.stopped.set()
        _call(self._executor, "close")  # photos out on the cluster stop waiting
        deadline = time.monotonic() + self.options.shutdown_timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._journal is not None:
            if self._workers is not None and self._publisher is not None:
                unfinished = self._workers.in_flight()
                for job_id in unfinished:
                    self._publisher.put_back(job_id, reason="interrupted",
                                             message="the daemon stopped while processing")
                if unfinished:
                    log.warning("stopped with %d photo(s) unfinished; they run again at the "
                                "next start", len(unfinished))
            self.write_status(stopping=True)
            _call(self._executor, "release")
            self.journal.close()
        lock.release_lock(self._lock_handle)
        log.info("studiocut stopped")

    # ------------------------------------------------------------------ the page's view

    def running(self, name: str) -> tuple[Profile, MaskModel] | None:
        return self._roster.running(name) if self._roster is not None else None

    def names(self) -> list[str]:
        return self._roster.names() if self._roster is not None else []

    # ------------------------------------------------------------------ status

    def status(self) -> Status:
        """The daemon's status now; every view of it below is derived from this."""
        return Status(
            self._journal,
            status.live(self._roster.watched) if self._roster is not None else {},
            in_flight=self._workers.in_flight() if self._workers is not None else (),
            started=self.started, review=self.page.url if self.page is not None else None,
            recent=list(self._publisher.recent) if self._publisher is not None else (),
            cluster=_call(self._executor, "report"))

    def review_status(self) -> list[dict[str, Any]]:
        """One entry per profile for the review page's monitor."""
        return self.status().monitor()

    def write_status(self, *, stopping: bool = False) -> None:
        """Publish what only the running daemon knows (pauses, throughput) for ``status``."""
        status.write(self.options.state_dir, self.status(), stopping=stopping)

    def status_line(self) -> str:
        """One line for the service manager: queue depth, photos in progress, throughput."""
        return self.status().line()

    # ------------------------------------------------------------------ service manager

    def health_problems(self) -> list[str]:
        """What makes the daemon unhealthy right now; empty when healthy. A worker or intake
        thread that died, a folder observer that died (the main loop rebuilds it, but the tick
        that finds it is unhealthy), a worker held by one photo longer than ``stuck_after``."""
        problems = [f"{t.name} thread died" for t in self._threads if not t.is_alive()]
        if self._roster is not None:
            problems += [f"profile {name}: folder observer died"
                         for name in self._roster.dead_observers()]
        if self._workers is not None:
            problems += self._workers.stuck(self.options.stuck_after)
        return problems

    def _notify(self, problems: list[str]) -> None:
        """Ping the watchdog only from a healthy tick: problems found at the start of the tick
        withhold this tick's ping even when the loop repaired them, and a problem that lasts
        (a dead worker, a stuck photo, an observer that dies again) stops the pings until the
        service manager restarts the daemon."""
        if problems != self._unhealthy:
            for problem in problems:
                log.error("unhealthy (no watchdog ping): %s", problem)
            self._unhealthy = problems
        if problems:
            self.notifier.status("unhealthy: " + "; ".join(problems))
        else:
            self.notifier.watchdog(self.status_line())


def _call(executor: Executor | None, method: str) -> Any:
    """Call the executor's optional ``method`` (close, release, report) when it has one."""
    found = getattr(executor, method, None)
    return found() if found is not None else None


def run(options: Options, *, route: Route | None = None) -> int:
    """Run the daemon until SIGTERM or SIGINT; return the exit code. A second Ctrl+C quits
    at once. ``route``: see Daemon."""
    daemon = Daemon(options, route=route)
    previous: dict[int, Any] = {}
    interrupts = 0

    def on_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts > 1:
            os._exit(130)
        log.warning("stopping (signal %d): finishing photos in progress; again to force",
                    signum)
        daemon.stop.set()

    def on_reload(signum: int, frame: FrameType | None) -> None:
        daemon.reload_requested.set()

    handlers: dict[int, Any] = {signal.SIGTERM: on_stop, signal.SIGINT: on_stop}
    if hasattr(signal, "SIGHUP"):
        handlers[signal.SIGHUP] = on_reload
    for signum, handler in handlers.items():
        previous[signum] = signal.signal(signum, handler)
    try:
        daemon.run()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0
