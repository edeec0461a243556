"""publisher: what becomes of a photo once it is decided and processed: its output name,
the written output, the review copy and revision, the original and the journal row."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from conftest import FakeModel, make_profile
from daemon_harness import Daemon, photo_bytes, shoot, valid_image
from studiocut.errors import InputError
from studiocut.hotfolder.executor import LocalExecutor, Work
from studiocut.hotfolder.intake import Intake
from studiocut.hotfolder.publisher import Publisher
from studiocut.hotfolder.roster import Loaded, Roster
from studiocut.hotfolder.status import JOURNAL_FILE
from studiocut.journal import DONE, FAILED, PENDING, VANISHED, Identity, Job, Journal
from studiocut.models.registry import MaskModel
from studiocut.profiles import Profile
from studiocut.review.artefacts import Store
from studiocut.review.desk import Desk


def test_a_name_the_template_cannot_render_fails_that_photo_as_bad_name(
        daemon: Daemon) -> None:
    """A backslash is an ordinary character of a Linux file name but not of an output name:
    the photo fails with the reason ``bad-name`` like any bad input (its original moves to
    the failed folder with a note), and the daemon goes on with the next one."""
    daemon.write_profile("studio", {"failed": str(daemon.root / "failed")})
    daemon.start()
    shoot(daemon.inbox / "odd\\name.jpg")
    daemon.wait_states({"odd\\name.jpg": "failed"}, timeout=20)
    shoot(daemon.inbox / "fine.jpg")
    daemon.wait_states({"fine.jpg": "done"}, timeout=20)

    (odd,) = [j for j in daemon.jobs() if j["source"].endswith("odd\\name.jpg")]
    assert odd["reason"] == "bad-name"
    assert "odd\\name.jpg" in odd["message"] and "not a plain file name" in odd["message"]
    assert odd["attempts"] == 1
    note = daemon.root / "failed" / "odd\\name.jpg.error.txt"
    daemon.wait_for(note.exists, 5, "the failed note")
    assert "not a plain file name" in note.read_text()
    assert [p.name for p in daemon.outputs()] == ["fine.png"]
    assert "internal error" not in daemon.text()
    assert daemon.stop() == 0


# --------------------------------------------------------------------------- in process


class Bench:
    """A publisher over a real journal and roster (profile ``test``), with photos claimed as
    a worker would claim them and made by the LocalExecutor with the fake model."""

    def __init__(self, root: Path, *, desk: bool = False, **keys: object) -> None:
        self.inbox, self.out = root / "in", root / "out"
        self.inbox.mkdir()
        self.out.mkdir()
        self.profile = make_profile(watch=str(self.inbox), output=str(self.out),
                                    model="backdrop-key", key={"assist": "none"},
                                    format="png", settle=0.1, **keys)
        self.journal = Journal(root / "state" / JOURNAL_FILE)
        self.roster = Roster(Loaded({"test": (self.profile, "v1")}), folder=root / "profiles",
                             journal=self.journal, intake=Intake(self.journal, lambda: None),
                             wake=threading.Event(), reviewing=desk, cache_dir=root / "cache")
        self.desk = Desk(self.journal, Store(root / "state" / "review"), self.roster) \
            if desk else None
        self.publisher = Publisher(self.journal, self.roster, desk=self.desk,
                                   wake=threading.Event())
        self.executor = LocalExecutor(Models(self.profile), workers=2)

    def claim(self, name: str) -> tuple[Job, int, Work]:
        source = self.inbox / name
        if not source.exists():
            shoot(source)
        self.journal.enqueue("test", source, Identity.of(os.lstat(source)), "v1")
        claimed = self.journal.claim_next(["test"])
        assert claimed is not None
        job, attempt = claimed
        return job, attempt, Work(job.id, source, Path(), self.profile,
                                  keep=self.publisher.keeps)

    def run(self, name: str) -> Job:
        """Claim, reserve, make and publish one photo; return its journal row."""
        job, attempt, work = self.claim(name)
        dest = self.publisher.reserve(job, work)
        self.publisher.publish(job, attempt, work, dest, self.executor.run(work))
        return self.row(job.id)

    def row(self, job_id: int) -> Job:
        found = self.journal.job(job_id)
        assert found is not None
        return found


class Models:
    def __init__(self, profile: Profile) -> None:
        self.profile = profile

    def running(self, name: str) -> tuple[Profile, MaskModel]:
        return self.profile, FakeModel()


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[Callable[..., Bench]]:
    made: list[Bench] = []

    def make(**keys: object) -> Bench:
        made.append(Bench(tmp_path, **keys))
        return made[-1]

    yield make
    for item in made:
        item.journal.close()


def test_a_made_result_is_written_under_its_reserved_name_and_the_job_is_done(
        bench: Callable[..., Bench]) -> None:
    b = bench(after="delete")

    job = b.run("IMG_0001.jpg")

    assert (job.state, job.output) == (DONE, b.out / "IMG_0001.png")
    with Image.open(b.out / "IMG_0001.png") as image:
        assert image.format == "PNG"
    assert not (b.inbox / "IMG_0001.jpg").exists()  # the profile's rule for originals
    assert b.roster.watched["test"].per_minute() == 1
    assert [o.output for o in b.publisher.recent] == [b.out / "IMG_0001.png"]
    assert b.publisher.recent[0].data is None  # the live view keeps no pixels


def test_the_second_source_of_one_stem_is_named_after_its_extension(
        bench: Callable[..., Bench]) -> None:
    b = bench()

    first, second = b.run("IMG_0001.jpg"), b.run("IMG_0001.tif")

    assert first.output == b.out / "IMG_0001.png"
    assert second.output == b.out / "IMG_0001-tif.png"


def test_reserve_refuses_a_name_the_template_cannot_render(bench: Callable[..., Bench]) -> None:
    b = bench()
    job, _, work = b.claim("odd\\name.jpg")

    with pytest.raises(InputError) as caught:
        b.publisher.reserve(job, work)

    assert caught.value.reason == "bad-name"
    assert b.row(job.id).output is None


def test_a_file_that_may_still_be_arriving_is_retried_with_backoff_then_failed(
        bench: Callable[..., Bench], tmp_path: Path) -> None:
    b = bench(retries=1, failed=str(tmp_path / "failed"))
    source = b.inbox / "half.jpg"
    source.write_bytes(photo_bytes((400, 300))[:2000])

    first = b.run("half.jpg")

    assert (first.state, first.reason, first.attempts) == (PENDING, "truncated", 1)
    b.journal.release(first.id, uncount=False)  # due now instead of after the backoff
    second = b.run("half.jpg")
    assert (second.state, second.reason, second.attempts) == (FAILED, "truncated", 2)
    assert (tmp_path / "failed" / "half.jpg.error.txt").exists()


def test_an_output_folder_that_is_gone_pauses_the_profile_and_fails_nothing(
        bench: Callable[..., Bench]) -> None:
    b = bench()
    job, attempt, work = b.claim("a.jpg")
    dest = b.publisher.reserve(job, work)
    result = b.executor.run(work)
    b.out.rmdir()

    b.publisher.publish(job, attempt, work, dest, result)

    row = b.row(job.id)
    assert (row.state, row.attempts) == (PENDING, 0)  # the attempt is not counted
    paused = b.roster.watched["test"].paused
    assert paused is not None and str(b.out) in paused


def test_a_photo_deleted_while_it_was_made_is_recorded_as_vanished(
        bench: Callable[..., Bench]) -> None:
    b = bench()
    job, attempt, work = b.claim("gone.jpg")
    work.source.unlink()

    b.publisher.publish(job, attempt, work, b.publisher.reserve(job, work),
                        b.executor.run(work))

    assert (b.row(job.id).state, b.row(job.id).reason) == (VANISHED, "vanished")


def test_a_held_result_is_kept_for_the_review_page_and_not_written(
        bench: Callable[..., Bench]) -> None:
    b = bench(desk=True, review={"hold": "all"})

    job = b.run("a.jpg")

    assert (job.state, job.review, job.published) == (DONE, "held", None)
    assert not (b.out / "a.png").exists()
    assert [r.number for r in b.journal.revisions(job.id)] == [1]


def test_a_held_result_whose_revision_cannot_be_kept_is_published_instead(
        bench: Callable[..., Bench], monkeypatch: pytest.MonkeyPatch) -> None:
    b = bench(desk=True, review={"hold": "all"})
    assert b.desk is not None

    def full(*args: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(b.desk, "keep", full)

    job = b.run("a.jpg")

    assert job.state == DONE and job.review == ("flagged" if job.flags else "none")
    assert (b.out / "a.png").exists()  # nothing is lost for want of the review page


# --------------------------------------------------------------------------- renditions

RENDITIONS = [{"name": "white", "square": {"size": 120}},
              {"name": "cutout", "backdrop": "transparent", "folder": "png"},
              {"name": "portrait", "canvas": {"width": 100, "height": 144}, "fill": 0.85,
               "suffix": "_p", "format": "jpeg"}]


def test_every_rendition_is_published_under_its_reserved_name_and_recorded(
        bench: Callable[..., Bench]) -> None:
    b = bench(renditions=RENDITIONS)

    job = b.run("IMG_0001.jpg")

    assert (job.state, job.output) == (DONE, b.out / "IMG_0001.png")
    assert b.journal.outputs_of(job.id) == [
        ("white", b.out / "IMG_0001.png"), ("cutout", b.out / "png" / "IMG_0001.png"),
        ("portrait", b.out / "IMG_0001_p.jpg")]
    assert sorted(p.relative_to(b.out).as_posix() for p in b.out.rglob("*") if p.is_file()) \
        == ["IMG_0001.png", "IMG_0001_p.jpg", "png/IMG_0001.png"]
    with Image.open(b.out / "IMG_0001_p.jpg") as image:
        assert image.size == (100, 144)
    assert b.journal.staged_outputs() == {}


def test_a_renditions_name_taken_by_another_photo_gets_the_fallback(
        bench: Callable[..., Bench]) -> None:
    b = bench(renditions=RENDITIONS)
    first, second = b.run("IMG_0001.jpg"), b.run("IMG_0001.tif")

    assert dict(b.journal.outputs_of(second.id)) == {
        "white": b.out / "IMG_0001-tif.png", "cutout": b.out / "png" / "IMG_0001-tif.png",
        "portrait": b.out / "IMG_0001-tif_p.jpg"}
    assert first.output != second.output


def test_a_held_photo_writes_none_of_its_renditions(bench: Callable[..., Bench]) -> None:
    b = bench(desk=True, review={"hold": "all"}, renditions=RENDITIONS)

    job = b.run("a.jpg")

    assert (job.state, job.review) == (DONE, "held")
    assert not [p for p in b.out.rglob("*") if p.is_file()]


def test_a_group_that_fails_half_way_leaves_no_rendition_and_no_temp(
        bench: Callable[..., Bench], monkeypatch: pytest.MonkeyPatch) -> None:
    from studiocut import atomic
    from studiocut.errors import OutputError

    b = bench(renditions=RENDITIONS)
    real = atomic.stage
    written: list[Path] = []

    def full_on_the_third(dest: Path, data: bytes, **kw: object) -> Path:
        if len(written) == 2:
            raise OutputError("disk-full", f"cannot write {dest}: no space left")
        written.append(dest)
        return real(dest, data, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(atomic, "stage", full_on_the_third)
    job = b.run("a.jpg")

    assert (job.state, job.attempts) == (PENDING, 0)  # paused: the disk, not the photo
    assert not [p for p in b.out.rglob("*") if p.is_file()], "all or none"


def test_a_daemon_killed_between_two_renames_finishes_the_group_at_restart(
        tmp_path: Path) -> None:
    """SIGKILL after the first rendition's rename: at restart, before any photo runs
    again, the group's staged temp files are renamed, so the photo is never left half
    published; its rerun then replaces them (one output per rendition, no temp left)."""
    daemon = Daemon(tmp_path, {"studio": {"renditions": [
        {"name": "a"}, {"name": "b", "suffix": "_b"}, {"name": "c", "folder": "c"}]}},
        faults="between-renames:kill:crash")
    shoot(daemon.inbox / "crash.jpg")
    daemon.start(wait=False)
    assert daemon.wait_exit(30) == -9, daemon.text()
    on_disk = sorted(p.name for p in daemon.outbox.rglob("*") if p.is_file())
    assert "crash.png" in on_disk and "crash_b.png" not in on_disk, on_disk  # half way
    assert len([n for n in on_disk if n.endswith(".studiocut.tmp")]) == 2

    daemon.faults = "after-claim:sleep=3:crash"  # the rerun waits: the restart did it
    daemon.start()
    try:
        finished = sorted(p.relative_to(daemon.outbox).as_posix()
                          for p in daemon.outbox.rglob("*") if p.is_file())
        assert finished == ["c/crash.png", "crash.png", "crash_b.png"]
        assert "finished publishing its renditions after an unclean stop" in daemon.text()
        daemon.wait_states({"crash.jpg": "done"})
        outputs = sorted(p.relative_to(daemon.outbox).as_posix() for p in daemon.outputs())
        assert outputs == ["c/crash.png", "crash.png", "crash_b.png"]  # no double, no temp
        assert all(valid_image(p) for p in daemon.outputs())
    finally:
        daemon.stop()


def test_approving_a_held_photo_publishes_every_rendition_together(
        bench: Callable[..., Bench]) -> None:
    b = bench(desk=True, review={"hold": "all"}, renditions=RENDITIONS)
    assert b.desk is not None
    job = b.run("a.jpg")
    (revision,) = b.journal.revisions(job.id)
    assert [(r["name"], r["output"]) for r in revision.params["renditions"]] == [
        ("white", "a.png"), ("cutout", "a.png"), ("portrait", "a_p.jpg")]

    b.desk.approve(job.id)

    outputs = dict(b.journal.outputs_of(job.id))
    for name, path in outputs.items():
        assert path.read_bytes() == b.desk.store.rendition(revision, name), name
    assert b.row(job.id).published == revision.number
    assert b.journal.staged_outputs() == {}

    b.desk.reject(job.id)
    assert not [p for p in b.out.rglob("*") if p.is_file()], "rejecting withdraws them all"


def test_the_review_page_lists_and_serves_every_rendition(bench: Callable[..., Bench]) -> None:
    from studiocut.review import api, artefacts

    b = bench(desk=True, renditions=RENDITIONS)
    assert b.desk is not None
    job = b.run("a.jpg")
    (revision,) = b.journal.revisions(job.id)

    listed = api.revision_json(revision)["renditions"]
    assert [(r["name"], r["output"]) for r in listed] == [
        ("white", "a.png"), ("cutout", "a.png"), ("portrait", "a_p.jpg")]
    data, kind = b.desk.media(revision, listed[2]["url"].rsplit("/", 1)[1], artefacts.View())
    assert (data, kind) == ((b.out / "a_p.jpg").read_bytes(), "image/jpeg")
    rerun = b.desk.rerun(job.id)
    assert [r["name"] for r in api.revision_json(rerun)["renditions"]] == [
        "white", "cutout", "portrait"]  # made again, every one, to be published together
