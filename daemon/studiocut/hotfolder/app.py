"""app: the hot-folder daemon's lifecycle, top to bottom: startup() -> serve() -> shutdown().

Threads: one observer per profile (notices paths), one intake thread (settles files into
journal rows), N workers (take the oldest due job from the journal and run the pipeline), and
the main thread, which handles signals, rescans, health checks, pauses and profile reloads.
Signal handlers only set flags.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import secrets
import signal
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from watchdog.observers.api import BaseObserver

from studiocut import atomic, faults, journal, profiles
from studiocut.errors import ConfigError, InputError, ModelError, StudiocutError
from studiocut.hotfolder import archive, intake, notify, watcher
from studiocut.imaging import naming, pipeline
from studiocut.journal import Job, Journal
from studiocut.models import predict
from studiocut.profiles import Profile
from studiocut.review import server
from studiocut.review.artefacts import Store
from studiocut.review.desk import Desk

log = logging.getLogger(__name__)

STATUS_FILE = "daemon.json"
JOURNAL_FILE = "journal.db"
LOCK_FILE = "daemon.lock"
# A file that reads as truncated may still be arriving (a writer that paused longer than the
# settle time): retry it with backoff before calling it truncated.
MAYBE_INCOMPLETE = ("truncated",)


class AlreadyRunning(StudiocutError):
    """Another daemon holds the state folder's lock."""


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


@dataclass
class Watched:
    """A profile as the daemon runs it."""

    profile: Profile
    version: str
    model: predict.MaskModel
    observer: BaseObserver | None = None
    paused: str | None = None
    done_recent: deque[float] = field(default_factory=lambda: deque(maxlen=200))

    def per_minute(self, now: float | None = None) -> int:
        """Photos finished in the last minute (a copy: workers append meanwhile)."""
        now = time.monotonic() if now is None else now
        return sum(1 for t in list(self.done_recent) if now - t < 60)


class Daemon:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.stop = threading.Event()
        self.reload_requested = threading.Event()
        self.wake = threading.Event()
        self.watched: dict[str, Watched] = {}
        self._lock_handle: Any = None
        self._journal: Journal | None = None
        self._intake: intake.Intake | None = None
        self._threads: list[threading.Thread] = []
        self._in_flight: dict[int, int] = {}  # worker index -> job id
        self._in_flight_lock = threading.Lock()
        self._profiles_snapshot: dict[Path, tuple[int, int]] = {}
        self._using_builtin = False
        self.last_results: deque[pipeline.Outcome] = deque(maxlen=20)
        self.started = time.time()
        self.ready = False
        self.notifier = notify.Notifier.from_environment()
        self._busy_since: dict[int, float] = {}  # worker index -> monotonic time of its claim
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

    # ------------------------------------------------------------------ lifecycle

    def startup(self) -> None:
        """Take the lock, open the journal, recover from a crash, load every profile (raise
        ConfigError naming each problem), then start workers, intake and observers."""
        state = self.options.state_dir
        state.mkdir(parents=True, exist_ok=True)
        self._lock_handle = take_lock(state / LOCK_FILE)
        loaded = self._load_profiles_or_default()
        self._journal = Journal(state / JOURNAL_FILE)
        requeued, quarantined = self.journal.recover(self.options.max_crashes)
        if requeued or quarantined:
            log.warning("recovered after an unclean stop: %d jobs requeued, %d quarantined",
                        requeued, quarantined)
        self._intake = intake.Intake(self.journal, self.wake.set)
        self._desk = Desk(self.journal, Store(state / "review"), self,
                          refiner=self.options.refiner, threads=self._threads_per_model())
        for name, (profile, version) in loaded.items():
            self.watched[name] = self._activate(profile, version)
        if self.reviewing:  # after the profiles load: a publish writes to their outputs
            self.desk.recover()
        self._sync_intake()
        workers = self.options.workers or os.cpu_count() or 1
        pipeline.set_framing_slots(workers)
        for index in range(workers):
            self._spawn(f"worker-{index}", self._work, index)
        self._spawn("intake", self._intake.run)
        for item in self.watched.values():
            self._start_watching(item)
        self._start_page()
        self.ready = True
        self.write_status()
        log.info("studiocut ready: %d profile(s), %d worker(s), state in %s",
                 len(self.watched), workers, state)
        self.notifier.ready(self.status_line())

    def _start_page(self) -> None:
        """Serve the review page. A page that cannot start (its port taken) is logged and
        left out: tethering must not stop for it."""
        settings = self.options.review
        if settings is None:
            return
        secret = server.token(self.options.state_dir)
        try:
            self.page = server.Server(self, settings, secret, watch_of=self._watch_of)
            self.page.start()
        except OSError as e:
            log.error("review page unavailable: cannot listen on %s:%d: %s", settings.bind,
                      settings.port, e.strerror or e)
            self.page = None
            return
        log.info("review page at %s (run `studiocut review url` for the address with its "
                 "token)", self.page.url)

    def _watch_of(self, name: str) -> Path | None:
        item = self.watched.get(name)
        return item.profile.watch if item is not None else None

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

        with Live(console.render(self), refresh_per_second=2, transient=False,
                  get_renderable=lambda: console.render(self), redirect_stderr=False):
            self._loop()

    def _loop(self) -> None:
        next_rescan = time.monotonic() + self.options.rescan
        while not self.stop.wait(1.0):
            problems = self.health_problems()  # before the repairs below: see _notify
            if self.reload_requested.is_set() or self._profiles_changed():
                self.reload_requested.clear()
                self.reload()
            for item in list(self.watched.values()):
                self._check_health(item)
            if time.monotonic() >= next_rescan:
                next_rescan = time.monotonic() + self.options.rescan
                for item in self.watched.values():
                    if item.paused is None and self._intake is not None:
                        self._intake.scan(item.profile)
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
        for item in self.watched.values():
            if item.observer is not None:
                watcher.stop(item.observer)
        if self._intake is not None:
            self._intake.stopped.set()
        deadline = time.monotonic() + self.options.shutdown_timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._journal is not None:
            with self._in_flight_lock:
                unfinished = list(self._in_flight.values())
            for job_id in unfinished:
                self.journal.release(job_id, uncount=True, reason="interrupted",
                                     message="the daemon stopped while processing")
            if unfinished:
                log.warning("stopped with %d photo(s) unfinished; they run again at the next "
                            "start", len(unfinished))
            self.write_status(stopping=True)
            self.journal.close()
        release_lock(self._lock_handle)
        log.info("studiocut stopped")

    # ------------------------------------------------------------------ profiles

    def _load_profiles_or_default(self) -> dict[str, tuple[Profile, str]]:
        folder = self.options.profiles_dir
        files = profiles.files(folder)
        if not files:
            from studiocut import places

            inbox, outbox = places.default_inbox(), places.default_outbox()
            for path in (inbox, outbox):
                path.mkdir(parents=True, exist_ok=True)
            default = profiles.builtin_default(watch=inbox, output=outbox)
            self._using_builtin = True
            print(f"No profiles in {folder}: using the built-in default profile.\n"
                  f"  Drop photos into: {inbox}\n  Finished images appear in: {outbox}",
                  file=sys.stderr, flush=True)
            return {"default": (default, "builtin")}
        self._profiles_snapshot = snapshot(files)
        loaded: dict[str, tuple[Profile, str]] = {}
        problems: list[str] = []
        for path in files:
            try:
                profile = profiles.load(path)
                check_runnable(profile)
                loaded[profile.name] = (profile, version_of(path))
            except ConfigError as e:
                problems.extend(e.problems)
        if problems:
            raise ConfigError(problems)
        for profile, _ in loaded.values():
            prepare_folders(profile)
        return loaded

    def reload(self) -> None:
        """Re-read the profiles folder. A broken file is reported and its previous good
        version stays active; new profiles start, removed ones stop."""
        if self._using_builtin:
            return
        files = profiles.files(self.options.profiles_dir)
        self._profiles_snapshot = snapshot(files)
        seen: set[str] = set()
        for path in files:
            name = path.stem
            seen.add(name)
            version = version_of(path)
            current = self.watched.get(name)
            if current is not None and current.version == version:
                continue
            try:
                profile = profiles.load(path)
                check_runnable(profile)
                prepare_folders(profile)
                replacement = self._activate(profile, version)
            except (ConfigError, ModelError, OSError) as e:
                lines = e.problems if isinstance(e, ConfigError) else [f"{path}: {e}"]
                for line in lines:
                    log.error("profile not reloaded: %s", line)
                if current is not None:
                    log.error("profile %s: keeping the previous good version", name)
                continue
            if current is not None and current.observer is not None:
                watcher.stop(current.observer)
            self.watched[name] = replacement
            self._sync_intake()
            self._start_watching(replacement)
            log.info("profile %s %s", name, "reloaded" if current else "added")
        for name in [n for n in self.watched if n not in seen]:
            item = self.watched.pop(name)
            if item.observer is not None:
                watcher.stop(item.observer)
            log.info("profile %s removed; its pending photos wait until it returns", name)
        self._sync_intake()

    def _profiles_changed(self) -> bool:
        if self._using_builtin:
            return False
        return snapshot(profiles.files(self.options.profiles_dir)) != self._profiles_snapshot

    def _threads_per_model(self) -> int:
        """Every core: a model runs one inference at a time (see providers.Session)."""
        return os.cpu_count() or 1

    def _activate(self, profile: Profile, version: str) -> Watched:
        if profile.review is not None and profile.review.hold != "none" and not self.reviewing:
            raise ConfigError([f"{profile.path or profile.name}: At 'review.hold': holding "
                               "results needs the review page, which is turned off "
                               f"(--no-review) (got {profile.review.hold!r}; expected none)"])
        request = profile.model_request(threads=self._threads_per_model(),
                                        cache_dir=self.options.state_dir / "engine-cache")
        return Watched(profile, version, predict.open_model(request))

    # the desk's and the page's view of the profiles

    def running(self, name: str) -> tuple[Profile, predict.MaskModel] | None:
        item = self.watched.get(name)
        return (item.profile, item.model) if item is not None else None

    def names(self) -> list[str]:
        return sorted(dict(self.watched))

    def _sync_intake(self) -> None:
        if self._intake is not None:
            self._intake.set_profiles(
                {name: (w.profile, w.version) for name, w in self.watched.items()
                 if w.paused is None})

    # ------------------------------------------------------------------ watching

    def _start_watching(self, item: Watched) -> None:
        profile = item.profile
        assert profile.watch is not None and self._intake is not None
        if not profile.watch.is_dir():
            self._pause(item, f"watched folder {profile.watch} is missing")
            return
        try:
            item.observer = watcher.start(self._intake, profile)
        except OSError as e:
            log.warning("profile %s: native events unavailable (%s); relying on rescans",
                        profile.name, e)
            item.observer = None
        removed = atomic.remove_orphans(profile.output) if profile.output else 0
        if removed:
            log.info("removed %d temp file(s) left by an unclean stop in %s", removed,
                     profile.output)
        seen = self._intake.scan(profile)
        log.info("profile %s watching %s (%d file(s) present)", profile.name, profile.watch,
                 seen)

    def _check_health(self, item: Watched) -> None:
        profile = item.profile
        assert profile.watch is not None
        if item.paused is not None:
            problem = environment_problem(profile, probe=True)
            if problem is None:
                self._resume(item)
            else:
                item.paused = problem
            return
        problem = environment_problem(profile, probe=False)
        if problem is not None:
            self._pause(item, problem)
            return
        if item.observer is not None and not watcher.healthy(item.observer):
            log.error("profile %s: the folder observer died; rebuilding it and rescanning",
                      profile.name)
            watcher.stop(item.observer, timeout=1.0)
            item.observer = None
            self._start_watching(item)

    def _pause(self, item: Watched, reason: str) -> None:
        if item.paused is None:
            log.error("profile %s paused: %s (it resumes on its own when this is fixed)",
                      item.profile.name, reason)
            self.journal.event("status", profile=item.profile.name,
                               data={"state": "paused", "reason": reason})
        item.paused = reason
        if item.observer is not None:
            watcher.stop(item.observer, timeout=1.0)
            item.observer = None
        self._sync_intake()

    def _resume(self, item: Watched) -> None:
        log.warning("profile %s resumed", item.profile.name)
        item.paused = None
        self.journal.event("status", profile=item.profile.name, data={"state": "active"})
        self._sync_intake()
        self._start_watching(item)
        self.wake.set()

    # ------------------------------------------------------------------ workers

    def _spawn(self, name: str, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _work(self, index: int) -> None:
        while not self.stop.is_set():
            # a copy: the main thread replaces entries when profiles reload
            active = [n for n, w in list(self.watched.items()) if w.paused is None]
            claimed = self.journal.claim_next(active)
            if claimed is None:
                self.wake.wait(0.5)
                self.wake.clear()
                continue
            job, attempt = claimed
            with self._in_flight_lock:
                self._in_flight[index] = job.id
                self._busy_since[index] = time.monotonic()
            try:
                self._handle(job, attempt)
            except Exception:  # a bug must not kill the worker; the job fails with a reason
                log.exception("internal error on %s", job.source)
                self.journal.finish(job.id, journal.FAILED, reason="internal-error",
                                    message=f"{job.source}: internal error (see the log)")
            finally:
                with self._in_flight_lock:
                    self._in_flight.pop(index, None)
                    self._busy_since.pop(index, None)

    def _handle(self, job: Job, attempt: int) -> None:
        item = self.watched.get(job.profile)
        if item is None or item.paused is not None:
            self.journal.release(job.id, uncount=True)
            return
        profile = item.profile
        source = job.source
        faults.point("after-claim", source)
        try:
            st = os.lstat(source)
        except FileNotFoundError:
            self.journal.finish(job.id, journal.VANISHED, reason="vanished",
                                message=f"{source}: deleted before it was processed")
            log.info("%s vanished before processing", source)
            return
        if journal.Identity.of(st) != job.identity:
            # written again since it settled: the intake will queue the new version
            self.journal.release(job.id, uncount=True, delay=profile.settle)
            assert self._intake is not None
            self._intake.notice(profile.name, source)
            return
        assert profile.watch is not None and profile.output is not None
        if profile.watch not in source.parents:  # the profile was edited to watch elsewhere
            self.journal.finish(job.id, journal.IGNORED, reason="not-watched",
                                message=f"{source}: no longer in {profile.name}'s watched "
                                f"folder {profile.watch}")
            return
        relative = source.parent.relative_to(profile.watch)
        try:
            wanted = naming.output_path(profile.output, relative, source, profile.encoding,
                                        profile.name)
        except InputError as e:  # an odd file name the template makes no plain name of
            outcome = pipeline.Outcome(source, None, 0.0, e.reason, str(e),
                                       retryable=e.retryable)
        else:
            fallback = wanted.with_name(
                f"{source.stem}-{source.suffix.lstrip('.').lower()}.{profile.encoding.ext}")
            dest = self.journal.reserve_output(job.id, profile.name, wanted, fallback)
            outcome = pipeline.process(source, item.model, profile,
                                       output_root=profile.output, dest=dest,
                                       holding=self.reviewing, keep=self.reviewing)
        self.last_results.append(dataclasses.replace(outcome, framed=None, data=None))
        if outcome.ok:
            faults.point("after-replace", source)
            number, held = self._keep(job, outcome, profile)
            original = archive.after_done(profile, source, relative)
            review = "held" if held else "flagged" if outcome.flags else "none"
            self.journal.finish(job.id, journal.DONE, output=outcome.output,
                                seconds=outcome.seconds, flags=outcome.flags, review=review,
                                published=None if held else number,
                                original=original if original != source else None)
            item.done_recent.append(time.monotonic())
            faults.point("after-done", source)
        elif outcome.reason == "vanished":
            self.journal.finish(job.id, journal.VANISHED, reason="vanished",
                                message=outcome.message)
        elif outcome.environment:
            self.journal.release(job.id, uncount=True, reason=outcome.reason,
                                 message=outcome.message)
            self._pause(item, outcome.message or str(outcome.reason))
        elif (outcome.retryable or outcome.reason in MAYBE_INCOMPLETE) and (
                attempt <= profile.retries):
            delay = max(profile.settle, 0.5) * 2 ** (attempt - 1)
            log.info("%s not ready (%s); retry %d of %d in %.1f s", source, outcome.reason,
                     attempt, profile.retries, delay)
            self.journal.release(job.id, uncount=False, reason=outcome.reason,
                                 message=outcome.message, delay=delay)
            self.wake.set()
        else:
            log.error("failed: %s [%s]", outcome.message, outcome.reason)
            self.journal.finish(job.id, journal.FAILED, reason=outcome.reason,
                                message=outcome.message, seconds=outcome.seconds)
            archive.after_failed(profile, source, relative, outcome.message or "")

    def _keep(self, job: Job, outcome: pipeline.Outcome,
              profile: Profile) -> tuple[int | None, bool]:
        """Store the result's first revision for the review page; return its number and
        whether it is held. A held result whose revision cannot be stored is published
        instead: nothing is lost for want of the review page."""
        if not self.reviewing or outcome.data is None:
            return None, False
        try:
            return self.desk.keep(job, outcome, profile), outcome.held
        except (OSError, StudiocutError) as e:
            log.error("%s: could not keep its revision for the review page: %s", job.source, e)
            if outcome.held and outcome.output is not None:
                assert profile.output is not None
                atomic.write_atomic(outcome.output, outcome.data, root=profile.output)
            return None, False

    # ------------------------------------------------------------------ status

    def review_status(self) -> list[dict[str, Any]]:
        """One entry per profile for the review page's monitor."""
        counts = self.journal.counts()
        midnight = time.mktime((*time.localtime()[:3], 0, 0, 0, 0, 0, -1))
        today = self.journal.counts_since(midnight)
        oldest = self.journal.oldest_pending()
        errors = self.journal.last_error()
        with self._in_flight_lock:
            busy = list(self._in_flight.values())
        processing: dict[str, list[str]] = {}
        for job_id in busy:
            found = self.journal.job(job_id)
            if found is not None:
                processing.setdefault(found.profile, []).append(found.source.name)
        now, wall = time.monotonic(), time.time()
        watched = dict(self.watched)  # a copy: the main thread reloads profiles meanwhile
        rows = []
        for name in sorted(set(watched) | set(counts)):
            item = watched.get(name)
            profile = item.profile if item else None
            state = "standby" if item is None else "paused" if item.paused else "active"
            done = today.get(name, {})
            rows.append({
                "name": name, "state": state,
                "reason": item.paused if item else "no profile file loaded by this name",
                "watch": os.fsdecode(profile.watch or "") if profile else None,
                "output": os.fsdecode(profile.output or "") if profile else None,
                "model": profile.model if profile else None,
                "provider": getattr(item.model, "provider", "unknown") if item else None,
                "hold": profile.review.hold if profile and profile.review else "none",
                "queued": counts.get(name, {}).get(journal.PENDING, 0),
                "processing": processing.get(name, []),
                "done_today": done.get("done", 0), "failed_today": done.get("failed", 0),
                "flagged_today": done.get("flagged", 0),
                "per_minute": item.per_minute(now) if item else 0,
                "oldest_pending_s": round(wall - oldest[name], 1) if name in oldest else None,
                "last_error": errors.get(name),
            })
        return rows

    def write_status(self, *, stopping: bool = False) -> None:
        """Publish what only the running daemon knows (pauses, throughput) for ``status``."""
        now = time.monotonic()
        data = {
            "pid": os.getpid(),
            "started": self.started,
            "updated": time.time(),
            "state": "stopping" if stopping else "running",
            "review": self.page.url if self.page is not None and not stopping else None,
            "profiles": {
                name: {
                    "state": "paused" if w.paused else "active",
                    "reason": w.paused,
                    "watch": os.fsdecode(w.profile.watch or ""),
                    "output": os.fsdecode(w.profile.output or ""),
                    "model": w.profile.model,
                    "provider": getattr(w.model, "provider", "unknown"),
                    "per_minute": w.per_minute(now),
                } for name, w in self.watched.items()
            },
        }
        path = self.options.state_dir / STATUS_FILE
        try:
            atomic.write_atomic(path, json.dumps(data, indent=1).encode())
        except StudiocutError as e:
            log.debug("cannot write %s: %s", path, e)

    # ------------------------------------------------------------------ service manager

    def health_problems(self) -> list[str]:
        """What makes the daemon unhealthy right now; empty when healthy. A worker or intake
        thread that died, a folder observer that died (the main loop rebuilds it, but the tick
        that finds it is unhealthy), a worker held by one photo longer than ``stuck_after``."""
        now = time.monotonic()
        problems = [f"{t.name} thread died" for t in self._threads if not t.is_alive()]
        problems += [f"profile {name}: folder observer died" for name, w in self.watched.items()
                     if w.observer is not None and not watcher.healthy(w.observer)]
        with self._in_flight_lock:
            busy = sorted(self._busy_since.items())
        problems += [f"worker-{index} held by one photo for over {self.options.stuck_after:g} s"
                     for index, since in busy if now - since > self.options.stuck_after]
        return problems

    def status_line(self) -> str:
        """One line for the service manager: queue depth, photos in progress, throughput."""
        counts = self.journal.counts() if self._journal is not None else {}
        queued = sum(c.get(journal.PENDING, 0) for c in counts.values())
        with self._in_flight_lock:
            busy = len(self._in_flight)
        now = time.monotonic()
        done = sum(w.per_minute(now) for w in list(self.watched.values()))
        line = f"{queued} queued, {busy} in progress, {done}/min"
        paused = sum(1 for w in self.watched.values() if w.paused is not None)
        return line + (f", {paused} profile(s) paused" if paused else "")

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


# --------------------------------------------------------------------------- helpers


def snapshot(files: list[Path]) -> dict[Path, tuple[int, int]]:
    result = {}
    for path in files:
        try:
            st = path.stat()
            result[path] = (st.st_mtime_ns, st.st_size)
        except OSError:
            continue
    return result


def version_of(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return secrets.token_hex(8)


def check_runnable(profile: Profile) -> None:
    """A profile the daemon runs needs folders, which ``process`` does not."""
    missing = [key for key in ("watch", "output") if getattr(profile, key) is None]
    if missing:
        source = profile.path or profile.name
        raise ConfigError([f"{source}: At '{key}': required to run as a hot folder "
                           "(got nothing; expected a folder path)" for key in missing])


def prepare_folders(profile: Profile) -> None:
    """Create a profile's watch and output folders at load (not at run time: a folder that
    disappears later pauses the profile instead)."""
    for folder in (profile.watch, profile.output):
        if folder is None:
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            log.warning("cannot create %s: %s", folder, e.strerror)


def environment_problem(profile: Profile, *, probe: bool) -> str | None:
    """Why the profile cannot work right now (watched or output folder missing, output not
    writable, disk full), or None. With ``probe`` the output folder is tested by writing,
    syncing and deleting a small file, which is how a paused profile knows it can resume."""
    assert profile.watch is not None and profile.output is not None
    if not profile.watch.is_dir():
        return f"watched folder {profile.watch} is missing"
    if not profile.output.is_dir():
        return f"output folder {profile.output} is missing"
    if not probe:
        return None
    probe_file = profile.output / f".probe-{secrets.token_hex(4)}{atomic.TEMP_SUFFIX}"
    try:
        atomic.write_atomic(probe_file, b"\0" * 65536)
    except StudiocutError as e:
        return str(e)
    finally:
        with contextlib.suppress(OSError):
            probe_file.unlink()
    return None


def take_lock(path: Path) -> Any:
    """Hold an exclusive lock on ``path`` for the life of the process; raise AlreadyRunning.
    The OS drops the lock when the process dies, so a kill -9 never leaves a stale lock."""
    handle = _try_lock(path)
    if handle is None:
        raise AlreadyRunning(f"studiocut is already running on the state folder {path.parent} "
                             "(another daemon holds its lock)")
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def _try_lock(path: Path) -> Any:
    """The locked file handle, or None when another process holds the lock."""
    handle = open(path, "a+")  # noqa: SIM115 - held open until release_lock
    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def release_lock(handle: Any) -> None:
    if handle is not None:
        handle.close()


def is_running(state_dir: Path) -> bool:
    """True when a daemon holds the state folder's lock (the lock file is left as it is)."""
    path = state_dir / LOCK_FILE
    if not path.exists():
        return False
    handle = _try_lock(path)
    release_lock(handle)
    return handle is None


def run(options: Options) -> int:
    """Run the daemon until SIGTERM or SIGINT; return the exit code. A second Ctrl+C quits
    at once."""
    daemon = Daemon(options)
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
