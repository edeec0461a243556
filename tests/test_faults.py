"""faults: named crash points, inert unless STUDIOCUT_FAULTS configures them."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from studiocut import faults


def test_parse_reads_point_action_and_match() -> None:
    table = faults._parse("after-claim:kill:IMG_7, observer-event:raise,,after-done")

    assert table == {
        "after-claim": [("kill", "IMG_7")],
        "observer-event": [("raise", "")],
        "after-done": [("kill", "")],  # kill is the default action
    }
    assert faults._parse("") == {}


def test_a_raise_fault_fires_only_at_its_point_for_a_matching_file_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(faults, "_TABLE", faults._parse("after-claim:raise:IMG_7"))

    faults.point("after-claim", Path("/in/IMG_0001.jpg"))
    faults.point("after-claim", Path("/IMG_7/IMG_0001.jpg"))  # the folder does not count
    faults.point("after-inference", Path("/in/IMG_7001.jpg"))
    faults.point("after-claim")  # no file: a match cannot apply
    with pytest.raises(RuntimeError, match="after-claim"):
        faults.point("after-claim", Path("/in/IMG_7001.jpg"))


def test_a_fault_without_a_match_fires_for_every_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faults, "_TABLE", faults._parse("observer-event:raise"))

    with pytest.raises(RuntimeError):
        faults.point("observer-event", Path("/in/anything.jpg"))


def test_the_kill_action_sends_sigkill_to_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(faults, "_TABLE", faults._parse("after-replace:kill:IMG_7"))
    monkeypatch.setattr(os, "kill", lambda pid, sig: sent.append((pid, sig)))

    faults.point("after-replace", Path("/in/IMG_0001.jpg"))
    assert sent == []
    faults.point("after-replace", Path("/in/IMG_7001.jpg"))

    assert sent == [(os.getpid(), signal.SIGKILL)]


def test_the_exit_action_exits_at_once_with_code_3(monkeypatch: pytest.MonkeyPatch) -> None:
    codes: list[int] = []
    monkeypatch.setattr(faults, "_TABLE", faults._parse("after-done:exit"))
    monkeypatch.setattr(os, "_exit", codes.append)

    faults.point("after-done", Path("/in/IMG_0001.jpg"))

    assert codes == [3]


def test_points_do_nothing_when_no_fault_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(faults, "_TABLE", {})
    monkeypatch.setattr(os, "kill", lambda pid, sig: sent.append((pid, sig)))

    for name in faults.POINTS:
        faults.point(name, Path("/in/IMG_7001.jpg"))

    assert sent == []
