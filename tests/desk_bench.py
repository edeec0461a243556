"""A review desk on a bench: real journal rows, artefacts and output folders in tmp folders,
and photos put through the worker's steps (enqueue, claim, ``pipeline.process`` with
``holding`` and ``keep``, ``Desk.keep``, finish) with the fake model."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import cv2
import numpy as np

from conftest import FakeModel, make_profile, product_photo
from studiocut import journal
from studiocut.imaging import naming, pipeline
from studiocut.imaging.metadata import Own
from studiocut.journal import Identity, Job, Journal, Revision
from studiocut.models.registry import MaskModel
from studiocut.profiles import Profile
from studiocut.review.artefacts import Store
from studiocut.review.desk import Desk

SUBJECT = (120, 80, 280, 240)  # product_photo's red box on the 400 x 300 canvas
REMOVE_MIDDLE = {"strokes": [{"mode": "remove", "radius": 20, "points": [[200, 160]]}]}
# where the subject goes on a canvas without framing: crop, placed size, canvas, offset
WHOLE_FRAME = [0, 0, 400, 300, 400, 300, 400, 300, 0, 0]


class Running:
    """The daemon's running profiles, as the desk sees them."""

    def __init__(self, *profiles: Profile) -> None:
        self.table: dict[str, tuple[Profile, MaskModel]] = {
            p.name: (p, FakeModel()) for p in profiles}

    def running(self, name: str) -> tuple[Profile, MaskModel] | None:
        return self.table.get(name)

    def names(self) -> list[str]:
        return sorted(self.table)


@dataclasses.dataclass
class Bench:
    tmp: Path
    journal: Journal
    store: Store
    profiles: Running
    desk: Desk

    @property
    def profile(self) -> Profile:
        return self.profiles.table["test"][0]

    @property
    def watch(self) -> Path:
        assert self.profile.watch is not None
        return self.profile.watch

    @property
    def out(self) -> Path:
        assert self.profile.output is not None
        return self.profile.output

    def new_desk(self) -> Desk:
        """The desk of a restarted daemon: nothing cached."""
        return Desk(self.journal, self.store, self.profiles, refiner="grabcut")

    def shoot(self, name: str = "shot.jpg", *, original: Path | None = None,
              sku: str | None = None) -> int:
        """Process one photo as the worker does (each rendition's output reserved, for a
        profile with several; numbered as a view of ``sku`` when given); return its job
        id."""
        source = self.watch / name
        product_photo().save(source, quality=95)
        queued = self.journal.enqueue("test", source, Identity.of(source.stat()), "v1")
        assert queued is not None
        claimed = self.journal.claim_next(["test"])
        assert claimed is not None
        job = claimed[0]
        own = Own(revision="1")
        if sku is not None:
            view = self.journal.view_of(job.id, "test", sku)
            own = Own(sku=sku, view=str(view), revision="1")
        dest: Path | None
        if len(self.profile.all_renditions) > 1:
            self.journal.reserve_outputs(job.id, [
                (r.name, [naming.rendition_path(self.out, Path(), source, self.profile, r)])
                for r in self.profile.all_renditions])
            dest = None
        else:
            dest = self.journal.reserve_output(job.id, [self.out / f"{source.stem}.jpg",
                                                        self.out / f"{source.stem}-jpg.jpg"])
        outcome = pipeline.process(source, FakeModel(), self.profile, output_root=self.out,
                                   dest=dest, holding=True, keep=True, own=own)
        assert outcome.ok, outcome.message
        number = self.desk.keep(job, outcome, self.profile)
        if original is not None:
            original.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(source, original)
        self.journal.finish(job.id, journal.DONE, output=outcome.output,
                            seconds=outcome.seconds, flags=outcome.flags,
                            review="held" if outcome.held else "none",
                            published=None if outcome.held else number, original=original)
        return job.id

    def job(self, job_id: int) -> Job:
        found = self.journal.job(job_id)
        assert found is not None
        return found

    def revision(self, job_id: int, number: int) -> Revision:
        [found] = [r for r in self.journal.revisions(job_id) if r.number == number]
        return found

    def output(self, name: str = "shot.jpg") -> bytes | None:
        path = self.out / name
        return path.read_bytes() if path.exists() else None


def make_bench(tmp_path: Path, hold: str, **keys: object) -> Bench:
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    review = {"hold": hold, **keys.pop("review", {})}  # type: ignore[dict-item]
    profile = make_profile(watch=str(tmp_path / "in"), output=str(tmp_path / "out"),
                           review=review, **keys)
    web = dataclasses.replace(make_profile(backdrop="transparent", format="png"), name="web")
    profiles = Running(profile, web)
    db = Journal(tmp_path / "state" / "journal.db")
    store = Store(tmp_path / "state" / "review")
    return Bench(tmp_path, db, store, profiles, Desk(db, store, profiles, refiner="grabcut"))


def jpeg_rgb(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return np.asarray(image[..., ::-1])
