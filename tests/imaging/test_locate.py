"""locate: the framing slots a photo is decoded whole in."""

from __future__ import annotations

import pytest

from studiocut import heap
from studiocut.imaging import locate


def test_entering_a_framing_slot_gives_back_first(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(heap, "give_back", lambda: calls.append(1))

    with locate.framing_slot():
        assert calls == [1]
