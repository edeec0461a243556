"""publisher: what becomes of a photo once the workers decided it and the executor ran it.

The one place the daemon reserves an output's name (in the journal, atomically, so the RAW and
the JPEG of one stem never collide), writes it (atomically, with its copy in the review folder
when flagged), keeps its revision for the review page (holding it there when the profile says
so), applies the profile's rule to the original, and ends the journal row: done, failed with a
reason, vanished, ignored, or put back to run again: a retry with backoff for a file that may
still be arriving, or an environment fault, which pauses the profile instead of failing the
photo.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from pathlib import Path

from studiocut import atomic, faults, journal
from studiocut.errors import OutputError, StudiocutError
from studiocut.hotfolder import archive
from studiocut.hotfolder.executor import Result, Work
from studiocut.hotfolder.roster import Roster
from studiocut.imaging import naming, pipeline
from studiocut.imaging.pipeline import Outcome
from studiocut.journal import Job, Journal
from studiocut.profiles import Profile, folders
from studiocut.review.desk import Desk

log = logging.getLogger(__name__)

# A file that reads as truncated may still be arriving (a writer that paused longer than the
# settle time): retry it with backoff before calling it truncated.
MAYBE_INCOMPLETE = ("truncated",)
RECENT = 20  # results remembered for the live view


class Publisher:
    """Publishes Results and ends journal rows; called from the worker threads. With a
    ``desk`` (the review page runs) every result's first revision is kept for the page."""

    def __init__(self, journal: Journal, roster: Roster, *, desk: Desk | None,
                 wake: threading.Event) -> None:
        self._journal = journal
        self._roster = roster
        self._desk = desk
        self._wake = wake
        self.recent: deque[Outcome] = deque(maxlen=RECENT)  # without their pixels

    @property
    def keeps(self) -> bool:
        """Whether results are kept for the review page (and may be held there)."""
        return self._desk is not None

    def reserve(self, job: Job, work: Work) -> Path:
        """Reserve the output's name: the profile's template rendered for the source; when
        another photo owns that name, or a file studiocut did not write is in the way,
        ``{stem}-{source extension}``, then that with the job's number. Names too long for
        the file system are shortened (a hash keeps them apart). Raise InputError
        (``bad-name``) when the template makes no plain file name, OutputError when every
        name is taken or would land in a folder a profile watches."""
        profile, source = work.profile, work.source
        assert profile.output is not None
        wanted = naming.output_path(profile.output, work.subfolder, source, profile.encoding,
                                    profile.name)
        plain = f"{source.stem}-{source.suffix.lstrip('.').lower()}"
        ext = profile.encoding.ext
        candidates = [wanted, wanted.with_name(naming.fit(f"{plain}.{ext}")),
                      wanted.with_name(naming.fit(f"{plain}-{job.id}.{ext}"))]
        watcher = folders.watcher_of(wanted, self._roster.profiles())
        if watcher is not None:
            raise OutputError("output-watched", f"{source}: its output {wanted} would land in "
                              f"profile {watcher.name}'s watched folder {watcher.watch}",
                              environment=False)
        return self._journal.reserve_output(job.id, candidates)

    def publish(self, job: Job, attempt: int, work: Work, dest: Path | None,
                result: Result) -> None:
        """Write a made result to its reserved ``dest`` and finish the job as done, or act
        on the failure's reason; ``attempt`` counts this job's tries."""
        profile, source = work.profile, work.source
        if result.ok:
            assert dest is not None
            outcome = self._write(work, dest, result)
        else:
            outcome = Outcome(source, None, result.seconds, result.reason, result.message,
                              retryable=result.retryable, environment=result.environment)
        self.recent.append(dataclasses.replace(outcome, framed=None, data=None))
        if outcome.ok:
            faults.point("after-replace", source)
            number, held = self._keep(job, outcome, profile)
            original = archive.after_done(profile, source, work.subfolder)
            review = "held" if held else "flagged" if outcome.flags else "none"
            self._journal.finish(job.id, journal.DONE, output=outcome.output,
                                 seconds=outcome.seconds, flags=outcome.flags, review=review,
                                 published=None if held else number,
                                 original=original if original != source else None)
            self._roster.finished(profile.name)
            faults.point("after-done", source)
        elif outcome.reason == "vanished":
            self._journal.finish(job.id, journal.VANISHED, reason="vanished",
                                 message=outcome.message)
        elif outcome.environment:
            self._journal.release(job.id, uncount=True, reason=outcome.reason,
                                  message=outcome.message)
            item = self._roster.get(profile.name)
            if item is not None:
                self._roster.pause(item, outcome.message or str(outcome.reason))
        elif (outcome.retryable or outcome.reason in MAYBE_INCOMPLETE) and (
                attempt <= profile.retries):
            delay = max(profile.settle, 0.5) * 2 ** (attempt - 1)
            log.info("%s not ready (%s); retry %d of %d in %.1f s", source, outcome.reason,
                     attempt, profile.retries, delay)
            self._journal.release(job.id, uncount=False, reason=outcome.reason,
                                  message=outcome.message, delay=delay)
            self._wake.set()
        else:
            log.error("failed: %s [%s]", outcome.message, outcome.reason)
            self._journal.finish(job.id, journal.FAILED, reason=outcome.reason,
                                 message=outcome.message, seconds=outcome.seconds)
            archive.after_failed(profile, source, work.subfolder, outcome.message or "")

    def _write(self, work: Work, dest: Path, result: Result) -> Outcome:
        """Write the result to ``dest`` (unless the profile holds it for approval) and its
        review copy; return the Outcome. A write that fails is an environment fault."""
        profile, source = work.profile, work.source
        assert result.data is not None and profile.output is not None
        started = time.perf_counter()
        held = self.keeps and pipeline.holds(profile, result.flags)
        try:
            pipeline.write(dest, result.data, profile, output_root=profile.output,
                           source=source, flags=result.flags, signals=result.signals, held=held)
        except Exception as e:  # a bug must fail this photo only, with the traceback in the log
            return pipeline.failure(source, e, result.seconds + time.perf_counter() - started)
        seconds = result.seconds + time.perf_counter() - started
        log.info("%s -> %s (%.2f s)%s%s", source, dest, seconds,
                 f"; flagged for review: {'; '.join(result.flags)}" if result.flags else "",
                 "; held for approval on the review page" if held else "")
        return Outcome(source, dest, seconds, flags=result.flags, held=held,
                       framed=result.framed, data=result.data)

    def _keep(self, job: Job, outcome: Outcome, profile: Profile) -> tuple[int | None, bool]:
        """Store the result's first revision for the review page; return its number and
        whether it is held. A held result whose revision cannot be stored is published
        instead: nothing is lost for want of the review page."""
        if self._desk is None or outcome.data is None or outcome.framed is None:
            return None, False
        try:
            return self._desk.keep(job, outcome, profile), outcome.held
        except (OSError, StudiocutError) as e:
            log.error("%s: could not keep its revision for the review page: %s", job.source, e)
            if outcome.held and outcome.output is not None:
                assert profile.output is not None
                atomic.write_atomic(outcome.output, outcome.data, root=profile.output)
            return None, False

    # ------------------------------------------------------------------ jobs that did not run

    def put_back(self, job_id: int, *, delay: float = 0.0, reason: str | None = None,
                 message: str | None = None) -> None:
        """Return a claimed job to pending without counting the attempt: its profile is
        paused or gone, its file changed, or the daemon stopped before it finished."""
        self._journal.release(job_id, uncount=True, reason=reason, message=message,
                              delay=delay)

    def vanished(self, job: Job) -> None:
        """Record a job whose file was deleted before it was processed (not a failure)."""
        self._journal.finish(job.id, journal.VANISHED, reason="vanished",
                             message=f"{job.source}: deleted before it was processed")
        log.info("%s vanished before processing", job.source)

    def ignored(self, job: Job, reason: str, message: str) -> None:
        """End a job by a stated rule (its file is no longer in the profile's folder)."""
        self._journal.finish(job.id, journal.IGNORED, reason=reason, message=message)

    def broken(self, job: Job) -> None:
        """Fail a job whose handling hit a bug (the caller logged the traceback)."""
        self._journal.finish(job.id, journal.FAILED, reason="internal-error",
                             message=f"{job.source}: internal error (see the log)")
