"""desk: what a person does to results on the review page, carried out by the daemon.

The page only sends commands; this is the one place that changes review states, makes
revisions and publishes them. Publishing replaces the output atomically and is journalled
first (``begin_publish``), so a crash half-way is finished at the next start.

Review states: a result is ``none`` (nothing to look at), ``flagged`` (published, with reasons
to look), ``held`` (not published until approved), ``approved`` or ``rejected`` (its output
withdrawn). Undo returns a job to the state and revision it had before the last action.
"""

from __future__ import annotations

import json

from studiocut import journal
from studiocut.journal import Job, Revision
from studiocut.review.lookup import Refused, undo_record
from studiocut.review.publishing import Publishing
from studiocut.review.revisions import Revisions


class Desk(Revisions, Publishing):
    """The review page's actions on results. Made of the desk's parts: ``lookup`` (its state
    and look-ups), ``revisions`` (keep, refine, rerun, media, purge) and ``publishing``
    (publish, withdraw, recover)."""

    # ------------------------------------------------------------------ review states

    def approve(self, job_id: int) -> Job:
        """Mark a result good; a held (or withdrawn) one is published."""
        with self._lock:
            job = self._finished(job_id)
            if job.published is None:
                self._publish(job, self._to_approve(job), review="approved")
            self._withdraw_review_copy(job)
            self.journal.set_review(job_id, "approved", undo=undo_record(job))
            return self._get(job_id)

    def reject(self, job_id: int) -> Job:
        """Mark a result bad: its output is withdrawn from the output folder (its revisions
        stay, so undo or a publish brings it back)."""
        with self._lock:
            job = self._finished(job_id)
            self._latest(job)  # nothing to bring it back with: refuse rather than delete
            if job.published is not None or (job.output is not None and job.output.exists()):
                self._unpublish(job, review="rejected")
            self._withdraw_review_copy(job)
            self.journal.set_review(job_id, "rejected", published=None, undo=undo_record(job))
            return self._get(job_id)

    def unreview(self, job_id: int) -> Job:
        """Undo the last approve or reject: the earlier state and published revision."""
        with self._lock:
            job = self._finished(job_id)
            if job.undo is None:
                raise Refused(f"{job.source.name}: nothing to undo")
            earlier = json.loads(job.undo)
            wanted = earlier.get("published")
            if wanted != job.published:
                if wanted is None:
                    self._unpublish(job, review=earlier["review"])
                else:
                    self._publish(job, self._numbered(job, int(wanted)),
                                  review=earlier["review"])
            self.journal.set_review(job_id, earlier["review"], undo=None)
            return self._get(job_id)

    def retry(self, job_id: int) -> Job:
        job = self._get(job_id)
        if not self.journal.retry(job_id):
            raise Refused(f"{job.source.name}: only a failed photo can be retried "
                          f"(it is {job.state})")
        return self._get(job_id)

    def dismiss(self, job_id: int) -> Job:
        job = self._get(job_id)
        if job.state != journal.FAILED:
            raise Refused(f"{job.source.name}: only a failed photo can be dismissed")
        self.journal.set_review(job_id, "dismissed")
        return self._get(job_id)

    # ------------------------------------------------------------------ choosing a revision

    def publish(self, revision_id: int) -> Job:
        """Put a revision in the output folder (a candidate, or an earlier one: revert)."""
        with self._lock:
            revision = self.journal.revision(revision_id)
            if revision is None or revision.status == journal.DISCARDED:
                raise Refused(f"no revision {revision_id}", 404)
            job = self._finished(revision.job)
            self._publish(job, revision, review="approved")
            if job.review != "approved":  # a person chose this version
                self.journal.set_review(job.id, "approved", undo=undo_record(job))
            return self._get(job.id)

    def _to_approve(self, job: Job) -> Revision:
        """What approving an unpublished result publishes: for a rejected one, what it had
        before (not a candidate never applied); for a held one, the newest revision."""
        if job.review == "rejected" and job.undo:
            earlier = json.loads(job.undo).get("published")
            if earlier is not None:
                return self._numbered(job, int(earlier))
        return self._latest(job)
