"""executor: the seam between deciding, doing and publishing. LocalExecutor returns bytes and
facts and writes nothing; another executor plugged into the daemon receives the workers' Work
and its Result is published by the real publisher."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from PIL import Image

from conftest import FakeModel, make_profile
from daemon_harness import shoot
from studiocut import hotfolder, journal
from studiocut.hotfolder.executor import LocalExecutor, Result, Work
from studiocut.imaging import pipeline
from studiocut.imaging.triage import Signals
from studiocut.models.registry import MaskModel
from studiocut.profiles import Profile

# --------------------------------------------------------------------------- LocalExecutor


class Models:
    """The daemon's open models, as LocalExecutor sees them."""

    def __init__(self, profile: Profile | None, model: MaskModel) -> None:
        self.profile = profile
        self.model = model

    def running(self, name: str) -> tuple[Profile, MaskModel] | None:
        if self.profile is None or name != self.profile.name:
            return None
        return self.profile, self.model


def local(profile: Profile | None, model: MaskModel) -> LocalExecutor:
    return LocalExecutor(Models(profile, model), workers=2)  # one framing slot


def test_local_executor_returns_the_encoded_result_and_writes_nothing(
        photo: Path, fake_model: FakeModel, tmp_path: Path) -> None:
    profile = make_profile(format="png", output=str(tmp_path / "out"))
    before = sorted(tmp_path.rglob("*"))

    result = local(profile, fake_model).run(Work(7, photo, Path(), profile))

    assert result.ok and result.reason is None and result.data is not None
    with Image.open(io.BytesIO(result.data)) as image:
        assert image.format == "PNG"
    assert result.signals is not None and result.framed is None  # nothing kept unasked
    assert result.source == photo and result.seconds > 0
    assert sorted(tmp_path.rglob("*")) == before  # no output, no review copy, no folder


def test_local_executor_keeps_the_framed_layers_when_the_work_asks(
        photo: Path, fake_model: FakeModel) -> None:
    profile = make_profile()

    result = local(profile, fake_model).run(Work(1, photo, Path(), profile, keep=True))

    assert result.framed is not None and result.framed.signals == result.signals
    plain = pipeline.process(photo, fake_model, profile, output_root=photo.parent.parent,
                             relative_dir=Path("out"), keep=True)
    assert plain.flags == result.flags  # the same recipe gives the same facts


def test_local_executor_turns_a_bad_input_into_a_reason(
        tmp_path: Path, fake_model: FakeModel) -> None:
    source = tmp_path / "notes.jpg"
    source.write_text("not a photo")
    profile = make_profile()

    result = local(profile, fake_model).run(Work(1, source, Path(), profile))

    assert not result.ok and result.data is None
    assert result.reason == "not-an-image" and str(source) in (result.message or "")
    assert not result.environment


def test_local_executor_turns_a_bug_into_an_internal_error_of_that_photo(
        photo: Path, caplog: pytest.LogCaptureFixture) -> None:
    class Broken(FakeModel):
        def predict(self, rgb):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

    profile = make_profile()

    result = local(profile, Broken()).run(Work(1, photo, Path(), profile))

    assert result.reason == "internal-error" and "RuntimeError: boom" in (result.message or "")
    assert "internal error processing" in caplog.text  # with its traceback


def test_a_work_of_a_profile_no_longer_running_waits_as_an_environment_fault(
        photo: Path, fake_model: FakeModel) -> None:
    profile = make_profile()

    result = local(None, fake_model).run(Work(1, photo, Path(), profile))

    assert (result.reason, result.environment) == ("model", True)


# --------------------------------------------------------------------------- another executor


class Recording:
    """An executor that runs no pipeline: it records each Work and answers ``answer(work)``
    (as an executor on other machines would, with bytes and facts)."""

    def __init__(self, answer: Callable[[Work], Result]) -> None:
        self.works: list[Work] = []
        self._answer = answer
        self._lock = threading.Lock()

    def run(self, work: Work) -> Result:
        with self._lock:
            self.works.append(work)
        return self._answer(work)


@pytest.fixture
def studio(tmp_path: Path) -> Path:
    for folder in ("in", "out", "profiles"):
        (tmp_path / folder).mkdir()
    write_profile(tmp_path, {})
    return tmp_path


def write_profile(root: Path, keys: dict[str, object]) -> None:
    data = {"watch": str(root / "in"), "output": str(root / "out"), "model": "backdrop-key",
            "key": {"assist": "none"}, "format": "png", "settle": 0.1, "retries": 1}
    (root / "profiles" / "studio.yaml").write_text(yaml.safe_dump(data | keys))


@contextmanager
def running(root: Path, executor: Recording) -> Iterator[hotfolder.Daemon]:
    daemon = hotfolder.Daemon(hotfolder.Options(profiles_dir=root / "profiles",
                                                state_dir=root / "state", workers=1,
                                                rescan=60, shutdown_timeout=5),
                              executor=executor)
    daemon.startup()
    serving = threading.Thread(target=daemon.serve, name="serve")
    serving.start()
    try:
        yield daemon
    finally:
        daemon.stop.set()
        serving.join()
        daemon.shutdown()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def state_of(daemon: hotfolder.Daemon, name: str) -> journal.Job | None:
    return next((j for j in daemon.journal.jobs() if j.source.name == name), None)


def test_another_executor_plugs_in_and_the_publisher_writes_its_result(studio: Path) -> None:
    signals = Signals(uncertain=0.0, touches_border=True, area=0.3, subjects=1, confidence=1.0)

    def made(work: Work) -> Result:
        return Result(work.source, 0.25, data=b"bytes made elsewhere", flags=("at the edge",),
                      signals=signals)

    executor = Recording(made)
    shoot(studio / "in" / "shelf" / "IMG_0001.jpg")
    with running(studio, executor) as daemon:
        wait_for(lambda: getattr(state_of(daemon, "IMG_0001.jpg"), "state", None) == "done",
                 "the job to be done")
        job = state_of(daemon, "IMG_0001.jpg")

    (work,) = executor.works
    assert job is not None and work.job == job.id
    assert work.source == studio / "in" / "shelf" / "IMG_0001.jpg"
    assert (work.subfolder, work.profile_name, work.keep) == (Path("shelf"), "studio", False)
    output = studio / "out" / "shelf" / "IMG_0001.png"
    assert job.output == output and output.read_bytes() == b"bytes made elsewhere"
    assert job.flags == ("at the edge",) and job.review == "flagged"
    copy = studio / "out-review" / "shelf" / "IMG_0001.png"  # the flagged result's copy
    assert copy.read_bytes() == b"bytes made elsewhere"
    assert copy.with_name("IMG_0001.png.review.json").exists()


def test_a_failed_result_from_another_executor_fails_the_photo_with_its_reason(
        studio: Path) -> None:
    write_profile(studio, {"failed": str(studio / "failed")})

    def refused(work: Work) -> Result:
        return Result(work.source, 0.1, reason="no-subject",
                      message=f"{work.source}: no subject found")

    shoot(studio / "in" / "empty.jpg")
    with running(studio, Recording(refused)) as daemon:
        wait_for(lambda: getattr(state_of(daemon, "empty.jpg"), "state", None) == "failed",
                 "the job to fail")
        job = state_of(daemon, "empty.jpg")

    assert job is not None and (job.reason, job.attempts) == ("no-subject", 1)
    assert list((studio / "out").iterdir()) == []
    assert "no subject found" in (studio / "failed" / "empty.jpg.error.txt").read_text()


def test_an_environment_fault_from_another_executor_pauses_the_profile_until_it_heals(
        studio: Path) -> None:
    def flaky(work: Work) -> Result:
        if len(executor.works) == 1:
            return Result(work.source, 0.0, reason="disk-full", environment=True,
                          message="cannot write: no space left on the device")
        return Result(work.source, 0.1, data=b"done at last")

    executor = Recording(flaky)
    shoot(studio / "in" / "a.jpg")
    with running(studio, executor) as daemon:
        wait_for(lambda: getattr(state_of(daemon, "a.jpg"), "state", None) == "done",
                 "the paused profile to resume and finish the photo")
        job = state_of(daemon, "a.jpg")
        events = [e.data for e in daemon.journal.events(0) if e.kind == "status"]

    assert len(executor.works) == 2 and job is not None
    assert job.attempts == 1  # the environment's fault is not counted against the photo
    assert (studio / "out" / "a.png").read_bytes() == b"done at last"
    assert events[0] == {"state": "paused",
                         "reason": "cannot write: no space left on the device"}
    assert events[1] == {"state": "active"}
