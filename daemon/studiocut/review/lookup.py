"""lookup: the review desk's state, and how each of its actions finds what it works on: the
job, its revisions, its original and its running profile, refusing with the reason (the page
shows it) when one is not there."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

from studiocut import journal
from studiocut.errors import StudiocutError
from studiocut.journal import Job, Journal, Revision
from studiocut.models.registry import MaskModel
from studiocut.profiles import Profile
from studiocut.review.artefacts import Store
from studiocut.review.refine import Segmenter
from studiocut.review.renditions import Recut


class Refused(StudiocutError):
    """An action that cannot be done now, with the reason (the page shows it)."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


class Profiles(Protocol):
    """What the desk needs from the daemon: its running profiles and their models."""

    def running(self, name: str) -> tuple[Profile, MaskModel] | None: ...

    def names(self) -> list[str]: ...


class Lookup:
    """The desk's state, shared by its parts, and the look-ups every action starts with."""

    def __init__(self, journal: Journal, store: Store, profiles: Profiles, *,
                 refiner: str = "auto", threads: int = 1) -> None:
        self.journal = journal
        self.store = store
        self.profiles = profiles
        self._lock = threading.RLock()  # one action at a time changes a job
        self._refiner_name = refiner
        self._segmenter: Segmenter | None = None
        self._threads = threads
        self._recuts: OrderedDict[tuple[int, int, str, str], Recut] = OrderedDict()

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


def undo_record(job: Job) -> str:
    """What undo returns the job to: its review state and published revision now."""
    return json.dumps({"review": job.review, "published": job.published})
