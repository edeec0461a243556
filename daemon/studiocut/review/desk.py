"""desk: what a person does to results on the review page, carried out by the daemon.

The page only sends commands; this is the one place that changes review states, makes
revisions and publishes them. Publishing replaces the output atomically and is journalled
first (``begin_publish``), so a crash half-way is finished at the next start.

Review states: a result is ``none`` (nothing to look at), ``flagged`` (published, with reasons
to look), ``held`` (not published until approved), ``approved`` or ``rejected`` (its output
withdrawn). Undo returns a job to the state and revision it had before the last action.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from studiocut import atomic, faults, journal
from studiocut.errors import ModelError, StudiocutError
from studiocut.imaging import decode, encode, pipeline, reviewcopy
from studiocut.journal import Job, Journal, Revision
from studiocut.models import predict, registry
from studiocut.models.registry import MaskModel
from studiocut.models.sam import SamModel
from studiocut.profiles import Profile, inside
from studiocut.review import artefacts, refine
from studiocut.review.artefacts import Store
from studiocut.review.refine import Segmenter

log = logging.getLogger(__name__)

RETRY_REPLACE = 5  # a reader holding the output open on Windows blocks os.replace briefly


class Refused(StudiocutError):
    """An action that cannot be done now, with the reason (the page shows it)."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


class Profiles(Protocol):
    """What the desk needs from the daemon: its running profiles and their models."""

    def running(self, name: str) -> tuple[Profile, MaskModel] | None: ...

    def names(self) -> list[str]: ...


class Desk:
    def __init__(self, journal: Journal, store: Store, profiles: Profiles, *,
                 refiner: str = "auto", threads: int = 1) -> None:
        self.journal = journal
        self.store = store
        self.profiles = profiles
        self._lock = threading.RLock()  # one action at a time changes a job
        self._refiner_name = refiner
        self._segmenter: Segmenter | None = None
        self._threads = threads
        self._framed: OrderedDict[tuple[int, int, str, str], pipeline.Framed] = OrderedDict()

    # ------------------------------------------------------------------ from the workers

    def keep(self, job: Job, outcome: pipeline.Outcome, profile: Profile) -> int:
        """Store a finished photo's first revision; return its number. The framed original
        (the costliest artefact) is stored at once only where a person will likely look or
        the original is about to be deleted; otherwise it is framed again when first asked
        for."""
        assert outcome.framed is not None and outcome.data is not None
        framed = outcome.framed
        ext = profile.encoding.ext
        eager = bool(outcome.flags) or outcome.held or profile.after == "delete"
        folder = self.store.write(job.id, framed.before, framed.alpha, outcome.data, ext,
                                  with_before=eager,
                                  published=None if outcome.held else outcome.output)
        h, w = framed.alpha.shape
        revision = self.journal.add_revision(job.id, "auto", {"framing": framing(framed)},
                                             (w, h), ext, folder)
        return revision.number

    # ------------------------------------------------------------------ review states

    def approve(self, job_id: int) -> Job:
        """Mark a result good; a held (or withdrawn) one is published."""
        with self._lock:
            job = self._finished(job_id)
            if job.published is None:
                self._publish(job, self._to_approve(job), review="approved")
            self._withdraw_review_copy(job)
            self.journal.set_review(job_id, "approved", undo=_undo(job))
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
            self.journal.set_review(job_id, "rejected", published=None, undo=_undo(job))
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

    # ------------------------------------------------------------------ revisions

    def publish(self, revision_id: int) -> Job:
        """Put a revision in the output folder (a candidate, or an earlier one: revert)."""
        with self._lock:
            revision = self.journal.revision(revision_id)
            if revision is None or revision.status == journal.DISCARDED:
                raise Refused(f"no revision {revision_id}", 404)
            job = self._finished(revision.job)
            self._publish(job, revision, review="approved")
            if job.review != "approved":  # a person chose this version
                self.journal.set_review(job.id, "approved", undo=_undo(job))
            return self._get(job.id)

    def refine(self, job_id: int, body: object, base_number: int | None = None) -> Revision:
        """Apply a person's marks to a revision's alpha; return the new candidate, made with
        the settings the base was made with (a re-run's profile or model)."""
        job = self._finished(job_id)
        base = self._numbered(job, base_number) if base_number else self._current(job)
        edit = refine.parse(body, base.size)
        profile, model = self._settings(job, base.params.get("profile"),
                                        base.params.get("model"))
        before, alpha, framed = self._layers(job, base, profile, model)
        segmenter = self.segmenter() if edit.prompts else refine.GrabCutSegmenter()
        key = (job.id, job.identity.mtime_ns, profile.name, profile.model, before.shape)
        alpha = refine.apply(key, before, alpha, edit, segmenter)
        image = pipeline.render(before, alpha, model, profile, decontaminate=edit.decontaminate)
        params = {**edit.params, "base": base.number}
        params.update({k: base.params[k] for k in ("profile", "model", "framing")
                       if k in base.params})
        if edit.prompts:
            params["segmenter"] = segmenter.name
        return self._revision(job, "refine", params, before, alpha, image, profile,
                              framed=framed)

    def rerun(self, job_id: int, *, profile_name: str | None = None,
              model_name: str | None = None) -> Revision:
        """Cut the original again with another profile's settings or another model; return
        the candidate (published to this job's output when applied)."""
        job = self._finished(job_id)
        original = self._original(job)
        if original is None:
            raise Refused(f"{job.source.name}: the original is gone, so it cannot be re-run")
        profile, model = self._settings(job, profile_name, model_name)
        try:
            cutout = pipeline.cut(original, model, profile)
        except StudiocutError as e:
            raise Refused(f"{job.source.name}: {e}") from e
        framed = cutout.framed
        params = {"profile": profile.name, "model": profile.model, "framing": framing(framed)}
        return self._revision(job, "rerun", params, framed.before, framed.alpha, cutout.image,
                              profile, framed=framed)

    def _settings(self, job: Job, profile_name: str | None,
                  model_name: str | None) -> tuple[Profile, MaskModel]:
        """The job's profile and model, or another running profile's, or another model."""
        profile, model = self._running(job)
        if profile_name and profile_name != profile.name:
            other = self.profiles.running(profile_name)
            if other is None:
                raise Refused(f"no running profile named {profile_name!r}", 400)
            profile, model = other
        if model_name and model_name != profile.model:
            try:
                model = predict.open_model(dataclasses.replace(
                    profile.model_request(threads=self._threads),
                    spec=registry.spec_for(model_name)))
            except ModelError as e:
                raise Refused(str(e), 400) from e
            profile = dataclasses.replace(profile, model=model_name, custom_model=None)
        return profile, model

    # ------------------------------------------------------------------ upkeep

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
                                                undo=_undo(job))
                    log.warning("%s: finished withdrawing its output after an unclean stop",
                                job.source.name)
                    continue
                revision = self._numbered(job, job.publishing)
                self._publish(job, revision)
                if job.publishing_review and job.publishing_review != job.review:
                    self.journal.set_review(job.id, job.publishing_review, undo=_undo(job))
                log.warning("%s: finished publishing revision %d after an unclean stop",
                            job.source.name, revision.number)
            except (Refused, OSError, StudiocutError) as e:
                log.error("%s: could not finish publishing revision %d: %s", job.source.name,
                          job.publishing, e)
                self.journal.end_publish(job.id, job.published)
        return len(jobs)

    def purge(self, keep_days: float) -> int:
        """Delete the artefacts of revisions older than ``keep_days`` (the published one too:
        its output stays in the output folder) unless a person still has to decide on them,
        and any folder no revision refers to; return how many folders went."""
        now = time.time()
        old = self.journal.discard_revisions(now - keep_days * 86400)
        self.store.remove({r.folder for r in old})
        unknown = self.store.remove_unknown(self.journal.folders(), older_than=now - 3600)
        return len(old) + unknown

    def segmenter(self) -> Segmenter:
        """Segment Anything when one is installed (or named), else GrabCut."""
        if self._segmenter is None:
            self._segmenter = self._open_segmenter()
        return self._segmenter

    def _open_segmenter(self) -> Segmenter:
        names = ([self._refiner_name] if self._refiner_name not in ("auto", "grabcut") else
                 [] if self._refiner_name == "grabcut" else
                 [n for n, s in registry.MODELS.items() if s.family == "sam"])
        for name in names:
            try:
                model = predict.load(name, threads=self._threads)
            except ModelError as e:
                if self._refiner_name != "auto":
                    log.error("refine model %s cannot be used: %s; using GrabCut", name, e)
                continue
            if isinstance(model, SamModel):
                log.info("refine: points and boxes use %s", name)
                return refine.SamSegmenter(model)
        return refine.GrabCutSegmenter()

    # ------------------------------------------------------------------ helpers

    def _revision(self, job: Job, kind: str, params: dict[str, Any], before: np.ndarray,
                  alpha: np.ndarray, image: np.ndarray, profile: Profile, *,
                  framed: pipeline.Framed | None = None) -> Revision:
        icc, exif = (framed.icc, framed.exif) if framed else (decode.srgb_icc(), None)
        data = encode.encode(image, profile.encoding, icc=icc, exif=exif)
        folder = self.store.write(job.id, before, alpha, data, profile.encoding.ext)
        h, w = alpha.shape
        with self._lock:
            now = self._get(job.id)
            if now.identity != job.identity or now.state != journal.DONE:
                self.store.remove({folder})
                raise Refused(f"{job.source.name} was shot again meanwhile: this {kind} was of "
                              "the earlier photo")
            return self.journal.add_revision(job.id, kind, params, (w, h),
                                             profile.encoding.ext, folder)

    def _layers(self, job: Job, base: Revision, profile: Profile, model: MaskModel,
                ) -> tuple[np.ndarray, np.ndarray, pipeline.Framed | None]:
        """The base revision's alpha over the original's exact pixels (framed again from the
        original), or over its review copy when the original is gone or no longer frames the
        same; and the framing, when the original gave it."""
        alpha = self.store.alpha(base)
        try:
            framed = self._reframed(job, profile, model)
        except StudiocutError as e:
            log.warning("%s: refining from the review copy: %s", job.source.name, e)
            framed = None
        if framed is not None and frames_like(framed, base):
            return framed.before, alpha, framed
        self.ensure_before(base)
        before, _ = self.store.layers(base)
        return before, alpha, None

    def _reframed(self, job: Job, profile: Profile,
                  model: MaskModel) -> pipeline.Framed | None:
        """The job's original framed again as ``profile`` frames it (None when the original
        is gone), cached for the next refine; raise StudiocutError when it cannot be. Runs
        the model outside the lock: other actions must not wait on it."""
        original = self._original(job)
        if original is None:
            return None
        key = (job.id, job.identity.mtime_ns, profile.name, profile.model)
        with self._lock:
            framed = self._framed.get(key)
        if framed is not None:
            return framed
        framed = pipeline.frame_photo(original, model, profile)
        with self._lock:
            self._framed[key] = framed
            while len(self._framed) > 2:  # each holds a full canvas: keep few
                self._framed.popitem(last=False)
        return framed

    def media(self, revision: Revision, kind: str, view: artefacts.View) -> tuple[bytes, str]:
        """One view of a revision (see artefacts.Store.media), framing the original again
        for the views that need it when it was not stored."""
        if kind in ("before", "cutout", "overlay"):
            self.ensure_before(revision)
        return self.store.media(revision, kind, view)

    def ensure_before(self, revision: Revision) -> None:
        """Store a revision's framed original if it was not; raise FileNotFoundError when the
        original is gone or no longer frames the same."""
        if self.store.has_before(revision):
            return
        job = self._get(revision.job)
        try:
            framed = self._reframed(job, *self._running(job))
        except StudiocutError as e:
            raise FileNotFoundError(f"{job.source.name}: {e}") from e
        if framed is None:
            raise FileNotFoundError(f"{job.source.name}: the original is gone")
        if not frames_like(framed, revision):
            raise FileNotFoundError(f"{job.source.name}: the original no longer frames "
                                    "like this revision (the profile or studiocut changed "
                                    "since it was made; a rerun makes one that does)")
        with self._lock:
            if not self.store.has_before(revision):
                self.store.add_before(revision, framed.before)

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
        data = self.store.result(revision)
        dest = job.output
        if dest.suffix.lower() != "." + revision.ext:
            wanted = dest.with_suffix("." + revision.ext)
            dest = self.journal.reserve_output(
                job.id, profile.name, wanted, wanted.with_name(f"{wanted.stem}-{job.id}"
                                                               f"{wanted.suffix}"))
        self.journal.begin_publish(job.id, revision.number, review)
        for attempt in range(RETRY_REPLACE):
            try:
                atomic.write_atomic(dest, data, root=profile.output)
                break
            except StudiocutError:
                if attempt == RETRY_REPLACE - 1:
                    if dest != job.output:  # keep the name it has
                        self.journal.reserve_output(job.id, profile.name, job.output,
                                                    job.output)
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

    def _unpublish(self, job: Job, *, review: str | None = None) -> None:
        """Take the job's output out of the output folder, journalled like a publish."""
        assert job.output is not None
        self.journal.begin_publish(job.id, WITHDRAW, review)
        with contextlib.suppress(FileNotFoundError):
            job.output.unlink()
        atomic.fsync_dir(job.output.parent)
        self.journal.end_publish(job.id, None)

    def _to_approve(self, job: Job) -> Revision:
        """What approving an unpublished result publishes: for a rejected one, what it had
        before (not a candidate never applied); for a held one, the newest revision."""
        if job.review == "rejected" and job.undo:
            earlier = json.loads(job.undo).get("published")
            if earlier is not None:
                return self._numbered(job, int(earlier))
        return self._latest(job)

    def _withdraw_review_copy(self, job: Job) -> None:
        profile = self._profile_of(job)
        if profile.review is None or job.output is None or profile.output is None:
            return
        with contextlib.suppress(ValueError, OSError):
            reviewcopy.withdraw(job.output, output_root=profile.output, rules=profile.review)

    def _original(self, job: Job) -> Path | None:
        for path in (job.original, job.source):
            if path is not None and path.is_file():
                return path
        return None

    def _running(self, job: Job) -> tuple[Profile, MaskModel]:
        found = self.profiles.running(job.profile)
        if found is None:
            raise Refused(f"profile {job.profile} is not running (removed or paused)")
        return found

    def _profile_of(self, job: Job) -> Profile:
        return self._running(job)[0]

    def _get(self, job_id: int) -> Job:
        job = self.journal.job(job_id)
        if job is None:
            raise Refused(f"no job {job_id}", 404)
        return job

    def _finished(self, job_id: int) -> Job:
        job = self._get(job_id)
        if job.state != journal.DONE or job.output is None:
            raise Refused(f"{job.source.name} has no finished result (it is {job.state})")
        return job

    def _current(self, job: Job) -> Revision:
        if job.published is not None:
            return self._numbered(job, job.published)
        return self._latest(job)

    def _latest(self, job: Job) -> Revision:
        live = [r for r in self.journal.revisions(job.id) if r.status != journal.DISCARDED]
        if not live:
            raise Refused(f"{job.source.name}: its revisions are gone (purged or re-shot)")
        return live[-1]

    def _numbered(self, job: Job, number: int) -> Revision:
        for revision in self.journal.revisions(job.id):
            if revision.number == number and revision.status != journal.DISCARDED:
                return revision
        raise Refused(f"{job.source.name} has no revision {number}", 404)


WITHDRAW = 0  # the "revision" a withdrawal publishes (revisions count from 1)


def _undo(job: Job) -> str:
    return json.dumps({"review": job.review, "published": job.published})


def framing(framed: pipeline.Framed) -> list[int]:
    """Where the subject went on the canvas: a revision's original can be framed again only
    when this comes out the same (a profile edit may have moved it)."""
    layout = framed.layout
    if layout is None:
        return []
    return [*layout.crop, *layout.placed, *layout.canvas, *layout.offset]


def frames_like(framed: pipeline.Framed, revision: Revision) -> bool:
    if framed.alpha.shape[::-1] != revision.size:
        return False
    recorded = revision.params.get("framing")
    return recorded is None or recorded == framing(framed)  # None: made before it was kept
