"""publishing: putting a revision in a job's output folder, and taking the output out again,
atomically and journalled first (``begin_publish``), so a crash half-way is finished at the
next start (``recover``)."""

from __future__ import annotations

import contextlib
import logging
import time

from studiocut import atomic, faults, journal
from studiocut.errors import StudiocutError
from studiocut.imaging import delivery, reviewcopy
from studiocut.journal import Job, Revision
from studiocut.profiles import inside
from studiocut.review import artefacts
from studiocut.review.lookup import Lookup, Refused, undo_record

log = logging.getLogger(__name__)

RETRY_REPLACE = 5  # a reader holding the output open on Windows blocks os.replace briefly
WITHDRAW = 0  # the "revision" a withdrawal publishes (revisions count from 1)


class Publishing(Lookup):
    """The desk's writes to the output folder."""

    def recover(self) -> int:
        """Finish publishes a crash interrupted; return how many."""
        jobs = self.journal.interrupted_publishes()
        for job in jobs:
            assert job.publishing is not None
            try:
                if job.publishing == WITHDRAW:
                    self._unpublish(job)
                    if job.publishing_review and job.publishing_review != job.review:
                        self.journal.set_review(job.id, job.publishing_review, published=None,
                                                undo=undo_record(job))
                    log.warning("%s: finished withdrawing its output after an unclean stop",
                                job.source.name)
                    continue
                revision = self._numbered(job, job.publishing)
                self._publish(job, revision)
                if job.publishing_review and job.publishing_review != job.review:
                    self.journal.set_review(job.id, job.publishing_review, undo=undo_record(job))
                log.warning("%s: finished publishing revision %d after an unclean stop",
                            job.source.name, revision.number)
            except (Refused, OSError, StudiocutError) as e:
                log.error("%s: could not finish publishing revision %d: %s", job.source.name,
                          job.publishing, e)
                self.journal.end_publish(job.id, job.published)
        return len(jobs)

    def _publish(self, job: Job, revision: Revision, *, review: str | None = None) -> Revision:
        """Write ``revision`` to the job's output atomically, journalled before and after;
        ``review`` is the state the action publishing it leaves the job in (for recovery).
        A revision in another format takes a new name, reserved like any output name."""
        profile = self._profile_of(job)
        assert job.output is not None and profile.output is not None
        if not inside(job.output, profile.output):
            raise Refused(f"{job.source.name}: profile {profile.name} writes to "
                          f"{profile.output} now, not where this photo's output went")
        current = self.journal.revision(revision.id)
        if current is None or current.status == journal.DISCARDED:
            raise Refused(f"{job.source.name}: revision {revision.number} is gone (the photo "
                          "was shot again, or the revision purged)")
        if artefacts.renditions_of(revision):
            return self._publish_group(job, revision, review)
        data = self.store.result(revision)
        dest = job.output
        if dest.suffix.lower() != "." + revision.ext:
            wanted = dest.with_suffix("." + revision.ext)
            dest = self.journal.reserve_output(
                job.id, [wanted, wanted.with_name(f"{wanted.stem}-{job.id}{wanted.suffix}")])
        self.journal.begin_publish(job.id, revision.number, review)
        for attempt in range(RETRY_REPLACE):
            try:
                atomic.write_atomic(dest, data, root=profile.output)
                break
            except StudiocutError:
                if attempt == RETRY_REPLACE - 1:
                    if dest != job.output:  # keep the name it has
                        self.journal.reserve_output(job.id, [job.output])
                    self.journal.end_publish(job.id, job.published)
                    raise
                time.sleep(0.2 * (attempt + 1))
        faults.point("after-publish-write", dest)
        if dest != job.output:
            with contextlib.suppress(OSError):
                job.output.unlink()  # the version it replaces, in another format
        self.journal.end_publish(job.id, revision.number)
        log.info("%s: revision %d published to %s", job.source.name, revision.number, dest)
        return revision

    def _publish_group(self, job: Job, revision: Revision, review: str | None) -> Revision:
        """Write every rendition of ``revision`` to its reserved output, all or none (the
        group staged in the journal first), journalled before and after like a publish."""
        profile = self._profile_of(job)
        assert profile.output is not None
        reserved = dict(self.journal.outputs_of(job.id))
        listed = artefacts.renditions_of(revision)
        if any(r["name"] not in reserved or not reserved[r["name"]].name.endswith(
                "." + r["ext"]) for r in listed):
            raise Refused(f"{job.source.name}: its profile's renditions changed since revision "
                          f"{revision.number} was made; shoot it again to make them anew")
        files = [(reserved[r["name"]], self.store.rendition(revision, r["name"]))
                 for r in listed]
        self.journal.begin_publish(job.id, revision.number, review)
        try:
            delivery.write_all(files, profile, output_root=profile.output, source=job.source,
                               flags=(), signals=None,
                               staged=lambda pairs: self.journal.stage_outputs(job.id, pairs))
        except StudiocutError:
            self.journal.end_publish(job.id, job.published)
            raise
        self.journal.end_outputs(job.id)
        faults.point("after-publish-write", files[0][0])
        self.journal.end_publish(job.id, revision.number)
        log.info("%s: revision %d published to %s", job.source.name, revision.number,
                 ", ".join(str(dest) for dest, _ in files))
        return revision

    def _unpublish(self, job: Job, *, review: str | None = None) -> None:
        """Take the job's outputs (every rendition's) out of the output folder, journalled
        like a publish."""
        assert job.output is not None
        self.journal.begin_publish(job.id, WITHDRAW, review)
        outputs = [path for _, path in self.journal.outputs_of(job.id)] or [job.output]
        for output in outputs:
            with contextlib.suppress(FileNotFoundError):
                output.unlink()
            atomic.fsync_dir(output.parent)
        self.journal.end_publish(job.id, None)

    def _withdraw_review_copy(self, job: Job) -> None:
        profile = self._profile_of(job)
        if profile.review is None or job.output is None or profile.output is None:
            return
        for output in [path for _, path in self.journal.outputs_of(job.id)] or [job.output]:
            with contextlib.suppress(ValueError, OSError):
                reviewcopy.withdraw(output, output_root=profile.output, rules=profile.review)
