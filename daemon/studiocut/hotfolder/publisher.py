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
from studiocut.hotfolder import archive, products
from studiocut.hotfolder.executor import Result, Work
from studiocut.hotfolder.roster import Roster
from studiocut.imaging import delivery, naming, pipeline
from studiocut.imaging.pipeline import Outcome
from studiocut.journal import Job, Journal
from studiocut.profiles import folders
from studiocut.profiles.renditions import with_suffix
from studiocut.review.desk import Desk

log = logging.getLogger(__name__)

# A file that reads as truncated may still be arriving (a writer that paused longer than the
# settle time): retry it with backoff before calling it truncated.
MAYBE_INCOMPLETE = ("truncated",)
RECENT = 20  # results remembered for the live view


def finish_groups(journal: Journal) -> int:
    """After an unclean stop: finish publishing the groups of renditions a crash left
    between their renames (every temp file was complete and fsynced before the first
    rename, so the rest are renamed now: a photo is never left half published); return how
    many groups. Call it before the output folders' orphan temp files are removed."""
    groups = journal.staged_outputs()
    for job_id, pairs in groups.items():
        renamed = 0
        for temp, dest in pairs:
            if not temp.is_file():
                continue
            try:
                atomic.commit(temp, dest)
                renamed += 1
            except OutputError as e:
                log.error("job %d: could not finish publishing %s: %s", job_id, dest, e)
        journal.end_outputs(job_id)
        log.warning("job %d: finished publishing its renditions after an unclean stop (%d of "
                    "%d renamed now)", job_id, renamed, len(pairs))
    return len(groups)


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
        """Reserve the output's name (each rendition's, for a profile with several: the
        first is returned, the others are in the journal): the template rendered for the
        source; when another photo owns that name, or a file studiocut did not write is in
        the way, ``{stem}-{source extension}``, then that with the job's number. Names too
        long for the file system are shortened (a hash keeps them apart). Raise InputError
        (``bad-name``, or ``no-sku``) when the template makes no plain file name, OutputError
        when every name is taken or would land in a folder a profile watches."""
        profile, source = work.profile, work.source
        assert profile.output is not None
        renditions = profile.all_renditions
        wanted = []
        for rendition in renditions:
            path = naming.rendition_path(profile.output, work.subfolder, source, profile,
                                         rendition, work.product)
            plain = f"{source.stem}-{source.suffix.lstrip('.').lower()}"
            ext = rendition.encoding.ext
            wanted.append((rendition.name, [path] + [path.with_name(naming.fit(
                with_suffix(name, rendition.suffix))) for name in (
                    f"{plain}.{ext}", f"{plain}-{job.id}.{ext}")]))
            watcher = folders.watcher_of(path, self._roster.profiles())
            if watcher is not None:
                raise OutputError("output-watched", f"{source}: its output {path} would land "
                                  f"in profile {watcher.name}'s watched folder "
                                  f"{watcher.watch}", environment=False)
        if len(renditions) == 1:
            return self._journal.reserve_output(job.id, wanted[0][1])
        return self._journal.reserve_outputs(job.id, wanted)[0]

    def publish(self, job: Job, attempt: int, work: Work, dest: Path | None,
                result: Result) -> None:
        """Write a made result to its reserved ``dest`` and finish the job as done, or act
        on the failure's reason; ``attempt`` counts this job's tries."""
        profile, source = work.profile, work.source
        if result.ok:
            assert dest is not None
            outcome = self._write(job, work, dest, result)
        else:
            outcome = Outcome(source, None, result.seconds, result.reason, result.message,
                              retryable=result.retryable, environment=result.environment)
        self.recent.append(dataclasses.replace(outcome, framed=None, data=None))
        if outcome.ok:
            faults.point("after-replace", source)
            products.keep_lineups(self._journal, work, result.renditions)
            number, held = self._keep(job, outcome, work)
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

    def _write(self, job: Job, work: Work, dest: Path, result: Result) -> Outcome:
        """Write the result's renditions together to their reserved names (unless the
        profile holds them for approval) with their review copies; return the Outcome. A
        write that fails is an environment fault."""
        profile, source = work.profile, work.source
        assert result.data is not None and profile.output is not None
        started = time.perf_counter()
        held = self.keeps and pipeline.holds(profile, result.flags)
        files = self._files(job, dest, result)
        try:
            self._write_files(job, files, work, result, held=held)
        except Exception as e:  # a bug must fail this photo only, with the traceback in the log
            return pipeline.failure(source, e, result.seconds + time.perf_counter() - started)
        seconds = result.seconds + time.perf_counter() - started
        log.info("%s -> %s (%.2f s)%s%s", source, ", ".join(str(f) for f, _ in files), seconds,
                 f"; flagged for review: {'; '.join(result.flags)}" if result.flags else "",
                 "; held for approval on the review page" if held else "")
        return Outcome(source, dest, seconds, flags=result.flags, held=held,
                       framed=result.framed, data=result.data, renditions=result.renditions)

    def _files(self, job: Job, dest: Path, result: Result) -> list[tuple[Path, bytes]]:
        """Each rendition's reserved output and bytes; one, ``dest``, for a profile with one."""
        assert result.data is not None
        if len(result.renditions) <= 1:
            return [(dest, result.data)]
        reserved = dict(self._journal.outputs_of(job.id))
        return [(reserved[r.name], r.data) for r in result.renditions]

    def _write_files(self, job: Job, files: list[tuple[Path, bytes]], work: Work,
                     result: Result | Outcome, *, held: bool) -> None:
        """Write a photo's files all or none, journalling the staged group of several."""
        profile = work.profile
        assert profile.output is not None
        staged = None
        if len(files) > 1:
            def staged(pairs: list[tuple[Path, Path]]) -> None:
                self._journal.stage_outputs(job.id, pairs)
        signals = result.signals if isinstance(result, Result) else (
            result.framed.signals if result.framed else None)
        delivery.write_all(files, profile, output_root=profile.output, source=work.source,
                           flags=result.flags, signals=signals, held=held, staged=staged)
        if staged is not None and not held:
            self._journal.end_outputs(job.id)

    def _keep(self, job: Job, outcome: Outcome, work: Work) -> tuple[int | None, bool]:
        """Store the result's first revision for the review page; return its number and
        whether it is held. A held result whose revision cannot be stored is published
        instead: nothing is lost for want of the review page."""
        profile = work.profile
        if self._desk is None or outcome.data is None or outcome.framed is None:
            return None, False
        try:
            return self._desk.keep(job, outcome, profile), outcome.held
        except (OSError, StudiocutError) as e:
            log.error("%s: could not keep its revision for the review page: %s", job.source, e)
            if outcome.held and outcome.output is not None:
                files = [(outcome.output, outcome.data)]
                if len(outcome.renditions) > 1:
                    reserved = dict(self._journal.outputs_of(job.id))
                    files = [(reserved[r.name], r.data) for r in outcome.renditions]
                self._write_files(job, files, work, outcome, held=False)
            return None, False

    # ------------------------------------------------------------------ jobs that did not run

    def card(self, job: Job, work: Work, sku: str) -> None:
        """A barcode card: its SKU names the photos shot into its folder after it; the card
        is archived by the profile's rule for originals, and not published."""
        folder = work.source.parent
        self._journal.set_folder_sku(work.profile.name, folder, sku, job.id)
        original = archive.after_done(work.profile, work.source, work.subfolder)
        self._journal.finish(job.id, journal.IGNORED, reason="barcode-card",
                             message=f"{work.source}: barcode card {sku}: names the photos "
                             f"shot into {folder} after it",
                             original=original if original != work.source else None)
        log.info("%s: barcode card %s for the photos after it in %s", work.source, sku, folder)

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
