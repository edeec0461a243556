"""locate: a photo opened, decoded once, and its subject found by the model, while it holds
one of the framing slots that bound how many photos are at full size at once; what leaves
the slot is the region of the photo the renditions need (``Located``), for ``pipeline`` to
cut out and frame."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from studiocut import clock, heap
from studiocut.imaging import decode, frame
from studiocut.models import providers
from studiocut.models.registry import MaskModel
from studiocut.profiles import Profile


@dataclass(frozen=True)
class Located:
    """A photo whose subject the model has found: its checked ``source``, the model's
    ``mask`` of the whole frame, the ``region`` of the frame the renditions need, and that
    region's pixels as decoded: ``rgb`` (and ``alpha`` when the file has transparency) from
    a picture of ``decoded`` size, where they are the ``box``."""

    source: decode.Source
    mask: np.ndarray
    region: frame.Region
    rgb: np.ndarray
    alpha: np.ndarray | None
    icc: bytes | None
    decoded: frame.Size
    box: frame.Box


def locate(source: Path, model: MaskModel, profile: Profile,
           lineups: Mapping[str, frame.Lineup] | None = None) -> Located:
    """Open ``source``, let the model find its subject on a small preview and keep the
    pixels of the subject's region (at each rendition's ``lineups`` scale where its set has
    one); raise InputError for a bad input.

    The photo is decoded once, at full size, and the model's preview derived from those
    pixels (a second, scaled decode would pay for the JPEG's entropy decoding twice). That
    is the photo at its largest: it happens in a framing slot, which it leaves holding only
    the subject's region. A RAW's own preview goes to the model first; its demosaic, in
    the slot, is sized to what the renditions need."""
    with clock.stage("read"):
        src = decode.open_source(source, profile.limits)
    if src.format == "RAW":
        with clock.stage("preview"):
            preview = src.load(model.input_size).rgb
        mask, region = _find(src, preview, model, profile, lineups)
        with framing_slot(model) as scratch, clock.stage("decode"):
            picture = src.load(region.decode_size(src.size), colour=profile.encoding.icc)
            src.release()
            return _keep_region(src, mask, region, picture, scratch)
    with framing_slot(model) as scratch:
        started = time.perf_counter()
        with clock.stage("decode"):
            picture = src.load(colour=profile.encoding.icc, scratch=scratch)
            src.release()
        decoded = time.perf_counter() - started
        with clock.stage("preview"):
            preview = decode.shrink(picture.rgb, model.input_size)
            if picture.icc is not None:  # kept in its own colours: the model sees sRGB
                preview = decode.to_srgb(preview, picture.icc)
        ran = providers.inference_seconds()
        mask, region = _find(src, preview, model, profile, lineups)
        _pace(model, inference=providers.inference_seconds() - ran, decode=decoded)
        return _keep_region(src, mask, region, picture, scratch)


def _find(src: decode.Source, preview: np.ndarray, model: MaskModel, profile: Profile,
          lineups: Mapping[str, frame.Lineup] | None) -> tuple[np.ndarray, frame.Region]:
    with clock.stage("model"):
        mask = model.predict(preview)
    return mask, region_for(mask, src.size, profile, lineups)


def _keep_region(src: decode.Source, mask: np.ndarray, region: frame.Region,
                 picture: decode.Picture, scratch: decode.Scratch) -> Located:
    """The region's pixels, to take out of the framing slot: a copy when the picture is in
    the slot's scratch buffer (the next photo decodes into it) or much larger."""
    box = region.box_at(src.size, picture.size)
    alpha = None if picture.alpha is None else _region(picture.alpha, box)
    rgb = _region(picture.rgb, box, always=scratch.holds(picture.rgb))
    return Located(src, mask, region, rgb, alpha, picture.icc, picture.size, box)


def region_for(mask: np.ndarray, full: frame.Size, profile: Profile,
               lineups: Mapping[str, frame.Lineup] | None = None) -> frame.Region:
    """The region of the frame (and the scale) every rendition of the profile needs,
    at each one's ``lineups`` scale where its set has one."""
    lineups = lineups or {}
    return frame.covering([frame.locate(mask, full, r.canvas, lineup=lineups.get(r.name))
                           for r in profile.all_renditions])


class Slots:
    """How many photos may be at full size at once: decoded whole, waiting for or with the
    model, until only their subject's region is kept. That is where a photo's memory goes
    (a 24 MP JPEG is 72 MB decoded; its region is often a third of it); framing, rendering
    and encoding the region need a fraction of it, and run for every worker at once.

    There is a slot for each worker, each with the buffer its JPEGs are decoded into (made
    at its first use, kept from then on). A photo whose model holds the cores
    (``holds_cores``) may take one of half of them: with two workers on two cores one photo
    is decoded and with the model while the other one is framed and encoded, and a second
    photo at full size would cost its memory for no speed (u2netp: 712 against 629 MB at
    the peak, bench/memory.py). A photo whose model leaves the cores to the decodes (one on
    a GPU, a backdrop key on a green screen) may take any: its decode, not the model, is
    what its slot waits on, and memory grows with the workers, a photo at full size each."""

    def __init__(self, workers: int) -> None:
        self.for_busy = max(1, workers // 2)  # what photos of models holding the cores may hold
        self._free = [decode.Scratch() for _ in range(max(1, workers))]  # the last freed on top
        self._busy = 0  # slots held by photos whose model holds the cores
        self._changed = threading.Condition()

    @contextmanager
    def hold(self, *, busy: bool) -> Iterator[decode.Scratch]:
        """Hold a slot while a photo is at full size, ``busy`` when its model holds the
        cores; yield the slot's scratch buffer."""
        with self._changed:
            self._changed.wait_for(
                lambda: bool(self._free) and (not busy or self._busy < self.for_busy))
            scratch = self._free.pop()  # the warmest buffer: a slot never needed makes none
            self._busy += busy
        try:
            yield scratch
        finally:
            with self._changed:
                self._free.append(scratch)
                self._busy -= busy
                self._changed.notify_all()

    def free(self) -> int:
        """How many slots no photo holds now."""
        return len(self._free)


_slots = Slots(1)

QUICK_STREAK = 3  # photos in a row whose inference took less than their decode
_quick_streak: weakref.WeakKeyDictionary[MaskModel, int] = weakref.WeakKeyDictionary()


def holds_cores(model: MaskModel | None) -> bool:
    """Whether a photo of ``model`` is to be taken as one whose model holds the cores: until
    its last QUICK_STREAK photos each found its inference runs on the CPU shorter than its
    decode (a model on a GPU runs none on the CPU). One photo the other way makes it so
    again: a backdrop key that runs its assisting network on a white sweep, not on a
    green screen, or a photo whose decode outlasted the network's run."""
    try:
        return model is None or _quick_streak.get(model, 0) < QUICK_STREAK
    except TypeError:  # a model that cannot be referred to weakly is never remembered
        return True


def _pace(model: MaskModel, *, inference: float, decode: float) -> None:
    """Remember what a photo of ``model`` showed: its inference runs on the CPU and its
    decode took these wall seconds."""
    with suppress(TypeError):  # as in holds_cores
        _quick_streak[model] = _quick_streak.get(model, 0) + 1 if inference < decode else 0


@contextmanager
def framing_slot(model: MaskModel | None = None) -> Iterator[decode.Scratch]:
    """Hold a framing slot while a photo of ``model`` is at full size (see ``Slots``); yield
    its scratch buffer. The photo about to be decoded first gives back what earlier photos
    freed (``heap.give_back``)."""
    slots = _slots  # the slot goes back where it came from, resized since or not
    with slots.hold(busy=holds_cores(model)) as scratch:
        heap.give_back()
        yield scratch


def free_framing_slots() -> int:
    """How many framing slots no photo holds now."""
    return _slots.free()


def set_framing_slots(workers: int) -> None:
    """Size the framing slots for ``workers`` threads running ``process`` (see ``Slots``)."""
    global _slots
    _slots = Slots(workers)


def _region(pixels: np.ndarray, box: frame.Box, *, always: bool = False) -> np.ndarray:
    """The box of ``pixels``: a copy when asked ``always`` or when that is much smaller, so
    the rest can be freed."""
    x0, y0, x1, y1 = box
    part = pixels[y0:y1, x0:x1]
    small = part.shape[0] * part.shape[1] < 0.6 * pixels.shape[0] * pixels.shape[1]
    return part.copy() if always or small else part
