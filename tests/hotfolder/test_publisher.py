"""publisher: what becomes of a photo once it is decided and processed: its output name,
the written output, the review copy and revision, the original and the journal row."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon_harness import Daemon, shoot


@pytest.fixture
def daemon(tmp_path: Path):
    instance = Daemon(tmp_path)
    yield instance
    if instance.proc is not None and instance.proc.poll() is None:
        instance.kill9()


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
