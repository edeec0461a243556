"""locate: the framing slots a photo is decoded whole in."""

from __future__ import annotations

import threading

import pytest

from conftest import FakeModel
from studiocut import heap
from studiocut.imaging import locate


def test_entering_a_framing_slot_gives_back_first(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(heap, "give_back", lambda: calls.append(1))

    with locate.framing_slot():
        assert calls == [1]


def photo(slots: locate.Slots, *, busy: bool, release: threading.Event) -> threading.Event:
    """Start a photo (``busy``: of a model holding the cores) asking for a slot; it keeps
    the slot until ``release`` is set. Return the event set once it has the slot."""
    taken = threading.Event()

    def hold() -> None:
        with slots.hold(busy=busy):
            taken.set()
            release.wait(5)

    threading.Thread(target=hold, daemon=True).start()
    return taken


def taken_within(slots: locate.Slots, *, busy: bool, seconds: float,
                 release: threading.Event) -> bool:
    """Whether a photo as ``photo`` starts gets a slot within ``seconds``."""
    return photo(slots, busy=busy, release=release).wait(seconds)


def test_photos_of_models_holding_the_cores_take_half_the_slots_quick_ones_any() -> None:
    slots = locate.Slots(4)
    release = threading.Event()
    try:
        assert taken_within(slots, busy=True, seconds=1, release=release)
        assert taken_within(slots, busy=True, seconds=1, release=release)
        assert not taken_within(slots, busy=True, seconds=0.2, release=release)  # waits
        assert taken_within(slots, busy=False, seconds=1, release=release)
        assert slots.free() == 1  # the waiting busy photo leaves the last one to a quick one
        assert taken_within(slots, busy=False, seconds=1, release=release)
        assert slots.free() == 0
    finally:
        release.set()


def test_a_busy_photo_waiting_for_a_slot_takes_the_first_one_freed() -> None:
    slots = locate.Slots(2)  # one for photos of a model holding the cores
    first, second = threading.Event(), threading.Event()
    assert taken_within(slots, busy=True, seconds=1, release=first)
    waiting = photo(slots, busy=True, release=second)
    assert not waiting.wait(0.2)
    first.set()
    assert waiting.wait(2)
    second.set()


def test_slots_no_photo_needs_make_no_decode_buffer() -> None:
    """On a station whose model holds the cores, a slot for each worker costs no memory:
    photos take the buffer freed last, so the slots beyond half stay empty."""
    slots = locate.Slots(4)
    for _ in range(5):
        with slots.hold(busy=True) as scratch:
            scratch.take(1_000_000)

    with slots.hold(busy=False) as a, slots.hold(busy=False) as b, \
            slots.hold(busy=False) as c, slots.hold(busy=False) as d:
        sizes = sorted(s.buffer.size for s in (a, b, c, d))
    assert sizes == [0, 0, 0, 1_000_000]


def test_a_model_is_taken_to_hold_the_cores_until_photos_in_a_row_show_otherwise() -> None:
    model = FakeModel(64)
    assert locate.holds_cores(model)
    assert locate.holds_cores(None)

    for _ in range(locate.QUICK_STREAK - 1):
        locate._pace(model, inference=0.01, decode=0.09)
        assert locate.holds_cores(model)
    locate._pace(model, inference=0.01, decode=0.09)
    assert not locate.holds_cores(model)

    locate._pace(model, inference=0.2, decode=0.09)  # e.g. a key's assist on a white sweep
    assert locate.holds_cores(model)
    locate._pace(model, inference=0.0, decode=0.09)
    assert locate.holds_cores(model)  # one quick photo is not enough again


def test_a_freed_slot_wakes_the_photo_that_may_take_it() -> None:
    """A busy photo and a quick one wait together; the quick one's slot frees up, which
    only the quick one may take: it must not sleep on while the busy one waits on."""
    slots = locate.Slots(2)  # one for photos of a model holding the cores
    busy_held, quick_held = threading.Event(), threading.Event()
    assert taken_within(slots, busy=True, seconds=1, release=busy_held)
    assert taken_within(slots, busy=False, seconds=1, release=quick_held)
    done = threading.Event()
    try:
        assert not taken_within(slots, busy=True, seconds=0.2, release=done)  # waits first
        waiting_quick = photo(slots, busy=False, release=done)
        assert not waiting_quick.wait(0.2)
        quick_held.set()  # frees a slot: the busy photo still may not take it
        assert waiting_quick.wait(2)
    finally:
        busy_held.set()
        done.set()
