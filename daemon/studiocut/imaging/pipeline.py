"""pipeline: the life of one photo, from its file to a finished listing image.

``cut`` returns the finished pixels; ``make`` also encodes them and says why a person should
look (the daemon's executor runs it; its publisher names and writes the result with
``write``); ``process`` does it all in one call (``studiocut process``): it names, makes and
writes, and turns every expected failure into an Outcome with a reason an operator can act on
(``failure``).
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from studiocut import atomic, clock, faults
from studiocut.errors import InputError, ModelError, OutputError
from studiocut.imaging import (
    composite,
    decode,
    encode,
    frame,
    matte,
    naming,
    reviewcopy,
    shadow,
    studio,
    triage,
)
from studiocut.models.registry import MaskModel
from studiocut.profiles import Profile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Framed:
    """The photo framed as the output will be, before its backdrop is replaced: ``before`` is
    the original's pixels on the output canvas (RGB uint8), ``alpha`` the subject's alpha on
    the same canvas (float32 in [0, 1]). The review page refines these and renders again."""

    before: np.ndarray
    alpha: np.ndarray
    icc: bytes | None
    exif: bytes | None
    signals: triage.Signals | None = None
    layout: frame.Layout | None = None  # where the subject went on the canvas
    shadow: np.ndarray | None = None  # the backdrop's light on the canvas (1: unshaded),
    # for ``shadow: keep``: the natural shadow the studio path measured


@dataclass(frozen=True)
class Cutout:
    """Finished pixels (RGB, or RGBA when transparent), the layers they were made of and the
    metadata to write with them."""

    image: np.ndarray
    framed: Framed

    @property
    def signals(self) -> triage.Signals | None:
        return self.framed.signals


@dataclass(frozen=True)
class Outcome:
    """How one photo ended: ``output`` when done, else ``reason`` (a short code) and
    ``message`` (what happened, naming the file). A ``held`` result was not written to
    ``output``: it waits for approval on the review page."""

    source: Path
    output: Path | None
    seconds: float
    reason: str | None = None
    message: str | None = None
    retryable: bool = False
    environment: bool = False
    flags: tuple[str, ...] = ()  # why a finished result should be looked at by a person
    held: bool = False
    framed: Framed | None = None  # the layers, kept for the review page when asked
    data: bytes | None = None  # the encoded result, with ``framed``

    @property
    def ok(self) -> bool:
        return self.output is not None


@dataclass(frozen=True)
class Located:
    """A photo whose subject the model has found: its checked ``source``, the model's
    ``mask`` of the whole frame, the ``region`` of the frame the output needs, and that
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


def locate(source: Path, model: MaskModel, profile: Profile) -> Located:
    """Open ``source``, let the model find its subject on a small preview and keep the
    pixels of the subject's region; raise InputError for a bad input.

    The photo is decoded once, at full size, and the model's preview derived from those
    pixels (a second, scaled decode would pay for the JPEG's entropy decoding twice). That
    is the photo at its largest: it happens in a framing slot, which it leaves holding only
    the subject's region. A RAW's own preview goes to the model first; its demosaic, in
    the slot, is sized to what the output needs."""
    with clock.stage("read"):
        src = decode.open_source(source, profile.limits)
    if src.format == "RAW":
        with clock.stage("preview"):
            preview = src.load(model.input_size).rgb
        mask, region = _find(src, preview, model, profile)
        with framing_slot() as scratch, clock.stage("decode"):
            picture = src.load(region.decode_size(src.size), colour=profile.encoding.icc)
            src.release()
            return _keep_region(src, mask, region, picture, scratch)
    with framing_slot() as scratch:
        with clock.stage("decode"):
            picture = src.load(colour=profile.encoding.icc, scratch=scratch)
            src.release()
        with clock.stage("preview"):
            preview = decode.shrink(picture.rgb, model.input_size)
            if picture.icc is not None:  # kept in its own colours: the model sees sRGB
                preview = decode.to_srgb(preview, picture.icc)
        mask, region = _find(src, preview, model, profile)
        return _keep_region(src, mask, region, picture, scratch)


def _find(src: decode.Source, preview: np.ndarray, model: MaskModel,
          profile: Profile) -> tuple[np.ndarray, frame.Region]:
    with clock.stage("model"):
        mask = model.predict(preview)
    return mask, frame.locate(mask, src.size, profile.square)


def _keep_region(src: decode.Source, mask: np.ndarray, region: frame.Region,
                 picture: decode.Picture, scratch: decode.Scratch) -> Located:
    """The region's pixels, to take out of the framing slot: a copy when the picture is in
    the slot's scratch buffer (the next photo decodes into it) or much larger."""
    box = region.box_at(src.size, picture.size)
    alpha = None if picture.alpha is None else _region(picture.alpha, box)
    rgb = _region(picture.rgb, box, always=scratch.holds(picture.rgb))
    return Located(src, mask, region, rgb, alpha, picture.icc, picture.size, box)


def frame_located(located: Located, profile: Profile) -> Framed:
    """Frame the subject of a ``locate``d photo on the output canvas."""
    src, mask, region = located.source, located.mask, located.region
    full, decoded, box, icc = src.size, located.decoded, located.box, located.icc
    rgb, source_alpha = located.rgb, located.alpha
    auto = profile.model == "auto" and profile.custom_model is None
    with clock.stage("matte"):
        # alpha at about the output's scale: a fraction of the decoded pixels to work on
        work = region.working_size(full, decoded, box)
        alpha = matte.upsample(mask, decoded, box, work)
        if source_alpha is not None:
            alpha *= _sized(source_alpha, work)
        matting_failed = path = reason = disagreement = light = None
        cut_out = None
        if auto:
            try:
                cut_out = studio.cut_at_most(_sized(rgb, work), alpha)
                path = "studio" if cut_out.decision.plain else "model"
                reason = cut_out.decision.reason
            except (ArithmeticError, ValueError, np.linalg.LinAlgError) as e:  # the model
                path, reason = "model", f"the backdrop could not be modelled ({e})"
            log.info("%s: %s path: %s", src.path, path, reason)
        if cut_out is not None and cut_out.decision.plain:  # its own matting, fused trimap
            disagreement = triage.disagreement(cut_out.alpha, alpha)
            alpha, light, matting_failed = cut_out.alpha, cut_out.shadow, cut_out.matting_failed
            if matting_failed is not None:
                log.warning("%s: alpha matting failed (%s); the fused key is used", src.path,
                            matting_failed)
            rgb = _despilled(rgb, cut_out.foreground)
        elif profile.matting.enabled:
            try:
                alpha = matte.refine(alpha, rgb, profile.matting)
            except matte.MattingFailed as e:  # this photo keeps the model's mask, flagged
                log.warning("%s: alpha matting failed (%s); the model's mask is used",
                            src.path, e)
                matting_failed = str(e)
        alpha = matte.cleanup(alpha, profile.cleanup)
        signals = triage.measure(matte.cleanup(mask, profile.cleanup), alpha,
                                 matting_failed=matting_failed, path=path, decision=reason,
                                 disagreement=disagreement)
    with clock.stage("framing"):
        per_source_pixel = work[0] / (box[2] - box[0]) * decoded[0] / full[0]
        layout = frame.layout(alpha, profile.square, decoded=per_source_pixel)
        rgb, alpha = frame.fit(rgb, alpha, layout)
        if profile.encoding.icc != "original" or not icc:
            icc = decode.srgb_icc()
        before = frame.place(rgb, layout, composite.canvas(layout.canvas,
                                                           profile.backdrop or BLACK))
        if light is not None:
            light = shadow.onto_canvas(light, layout)
        alpha = frame.place(alpha, layout, composite.blank(layout.canvas))
    return Framed(before, alpha, icc, src.exif, signals, layout, light)


def frame_photo(source: Path, model: MaskModel, profile: Profile) -> Framed:
    """Decode ``source``, find its subject and frame it on the output canvas; raise
    InputError for a bad input."""
    return frame_located(locate(source, model, profile), profile)


# How many photos may be at full size at once: decoded whole, waiting for or with the model,
# until only their subject's region is kept. That is where a photo's memory goes (a 24 MP
# JPEG is 72 MB decoded; its region is often a third of it); framing, rendering and encoding
# the region need a fraction of it, and run for every worker at once. Each slot keeps the
# buffer its JPEGs are decoded into.
_slots: queue.SimpleQueue[decode.Scratch] = queue.SimpleQueue()
_slots.put(decode.Scratch())


@contextmanager
def framing_slot() -> Iterator[decode.Scratch]:
    """Hold a framing slot while a photo is at full size; yield its scratch buffer."""
    slots = _slots  # the slot goes back where it came from, resized since or not
    scratch = slots.get()
    try:
        yield scratch
    finally:
        slots.put(scratch)


def free_framing_slots() -> int:
    """How many framing slots no photo holds now."""
    return _slots.qsize()


def set_framing_slots(workers: int) -> None:
    """Size the framing slots for ``workers`` threads running ``process``: half of them, at
    least one. With two workers on two cores one photo is decoded and with the model while
    the other one is framed and encoded: the peak memory is that of one full-size photo
    and one region, beside the model's (bench/memory.py)."""
    global _slots
    _slots = queue.SimpleQueue()
    for _ in range(max(1, workers // 2)):
        _slots.put(decode.Scratch())


def _region(pixels: np.ndarray, box: frame.Box, *, always: bool = False) -> np.ndarray:
    """The box of ``pixels``: a copy when asked ``always`` or when that is much smaller, so
    the rest can be freed."""
    x0, y0, x1, y1 = box
    part = pixels[y0:y1, x0:x1]
    small = part.shape[0] * part.shape[1] < 0.6 * pixels.shape[0] * pixels.shape[1]
    return part.copy() if always or small else part


BLACK = (0, 0, 0)


def _despilled(rgb: np.ndarray, foreground: np.ndarray) -> np.ndarray:
    """The studio path's despilled colours (at the working size) on the decoded pixels: the
    change it made, upsampled, added to ``rgb`` (unchanged pixels stay exact)."""
    if foreground.shape == rgb.shape:
        return foreground
    change = cv2.subtract(foreground, _sized(rgb, foreground.shape[1::-1]), dtype=cv2.CV_16S)
    if not change.any():
        return rgb
    change = cv2.resize(change, rgb.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    return np.asarray(np.clip(rgb.astype(np.int16) + change, 0, 255), dtype=np.uint8)


def _sized(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if image.shape[1::-1] == size:
        return image
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def render(before: np.ndarray, alpha: np.ndarray, model: MaskModel, profile: Profile, *,
           decontaminate: bool | None = None, light: np.ndarray | None = None) -> np.ndarray:
    """Put the framed subject on the profile's backdrop (or keep alpha when transparent),
    with the profile's shadow (``light``: the natural one, for ``shadow: keep``).
    Only the subject's box is blended, with a margin of old backdrop for decontamination to
    learn its colour from; the rest of the canvas is plain backdrop."""
    image = _render(before, alpha, model, profile, decontaminate)
    settings = profile.shadow
    if settings.mode == "contact":
        light = shadow.contact(alpha, settings)
    elif settings.mode != "keep":
        light = None
    if light is None or (profile.transparent and not settings.transparent):
        return image
    return shadow.lay(image, alpha, light, profile.backdrop, transparent=settings.transparent)


def _render(before: np.ndarray, alpha: np.ndarray, model: MaskModel, profile: Profile,
            decontaminate: bool | None) -> np.ndarray:
    if profile.backdrop is None:
        return composite.over(before, alpha, None)
    rgb = before
    despill = getattr(model, "despill", None)  # keying models take the screen's cast off
    if despill is not None:
        rgb = despill(rgb, alpha)
    if decontaminate is None:
        decontaminate = profile.matting.decontaminate
    with clock.stage("decontamination"):
        band = matte.edge_band(alpha)  # only the edge is blended
        colours = None
        if band is not None and decontaminate:
            # no fringe of the old backdrop on the new one
            side = max(alpha.shape)
            colours = matte.foreground_colours(rgb, alpha, band,
                                               radius=max(2, round(0.01 * side / 4)))
    return composite.over(rgb, alpha, profile.backdrop,
                          band=np.empty(0, np.intp) if band is None else band, colours=colours)


def cut(source: Path, model: MaskModel, profile: Profile) -> Cutout:
    """Return the finished image for ``source``; raise InputError for a bad input."""
    framed = frame_photo(source, model, profile)
    image = render(framed.before, framed.alpha, model, profile, light=framed.shadow)
    return Cutout(image, framed)


@dataclass(frozen=True)
class Made:
    """A finished result before it is written: the encoded ``data``, the ``framed`` layers it
    was rendered from and the ``flags`` asking a person to look at it."""

    data: bytes
    framed: Framed
    flags: tuple[str, ...]


def make(source: Path, model: MaskModel, profile: Profile) -> Made:
    """Cut out ``source`` and encode the result; nothing is written. Raise InputError for a
    bad input (and ModelError or MemoryError as the stages do)."""
    framed = frame_photo(source, model, profile)
    with clock.stage("composite"):
        image = render(framed.before, framed.alpha, model, profile, light=framed.shadow)
    with clock.stage("encode"):
        data = encode.encode(image, profile.encoding, icc=framed.icc, exif=framed.exif)
    del image
    faults.point("after-inference", source)
    flags = triage.reasons(framed.signals, profile.review) if framed.signals else ()
    return Made(data, framed, flags)


def write(dest: Path, data: bytes, profile: Profile, *, output_root: Path, source: Path,
          flags: tuple[str, ...], signals: triage.Signals | None, held: bool = False) -> None:
    """Write a finished result to ``dest`` (inside ``output_root``) unless it is ``held``,
    and its copy to the review folder when it is flagged (else withdraw an earlier copy of
    ``dest``: the photo was re-shot and needs no look now); raise OutputError."""
    if not held:
        with clock.stage("write"):
            atomic.write_atomic(dest, data, root=output_root)
    if flags and profile.review is not None and signals is not None:
        reviewcopy.file_copy(dest, data, output_root=output_root, rules=profile.review,
                             source=source, signals=signals, found=flags)
    elif profile.review is not None:
        reviewcopy.withdraw(dest, output_root=output_root, rules=profile.review)


def failure(source: Path, error: Exception, seconds: float) -> Outcome:
    """The Outcome of a photo that ``error`` stopped. Input faults fail only this photo;
    output faults are marked ``environment``; any other error is a bug that fails this
    photo only, with its traceback logged (so call this where the error is caught)."""
    if isinstance(error, InputError):
        message = str(error) if str(source) in str(error) else f"{source}: {error}"
        return Outcome(source, None, seconds, error.reason, message, retryable=error.retryable)
    if isinstance(error, OutputError):
        return Outcome(source, None, seconds, error.reason, str(error),
                       retryable=error.environment, environment=error.environment)
    if isinstance(error, ModelError):
        return Outcome(source, None, seconds, "model", str(error), environment=True)
    if isinstance(error, MemoryError):
        return Outcome(source, None, seconds, "too-large",
                       f"{source}: ran out of memory processing this image")
    log.error("internal error processing %s", source, exc_info=error)
    return Outcome(source, None, seconds, "internal-error",
                   f"{source}: internal error: {type(error).__name__}: {error}")


def process(
    source: Path, model: MaskModel, profile: Profile, *, output_root: Path,
    relative_dir: Path = Path(), dest: Path | None = None, holding: bool = False,
    keep: bool = False,
) -> Outcome:
    """Cut out ``source`` and write it under ``output_root``/``relative_dir`` (to ``dest``
    when given, a path inside ``output_root``); return the Outcome. Input faults fail only
    this photo; output faults are marked ``environment``. With ``holding`` (the review page
    runs) a result the profile's ``review.hold`` holds is not written; with ``keep`` the
    Outcome carries the framed layers and the encoded bytes."""
    started = time.perf_counter()
    held = False
    try:
        if dest is None:
            dest = naming.output_path(output_root, relative_dir, source, profile.encoding,
                                      profile.name)
        made = make(source, model, profile)
        held = holding and holds(profile, made.flags)
        write(dest, made.data, profile, output_root=output_root, source=source,
              flags=made.flags, signals=made.framed.signals, held=held)
    except Exception as e:  # a bug must fail this photo only, with the traceback in the log
        return failure(source, e, time.perf_counter() - started)
    seconds = time.perf_counter() - started
    log.info("%s -> %s (%.2f s)%s%s", source, dest, seconds,
             f"; flagged for review: {'; '.join(made.flags)}" if made.flags else "",
             "; held for approval on the review page" if held else "")
    return Outcome(source, dest, seconds, flags=made.flags, held=held,
                   framed=made.framed if keep else None, data=made.data if keep else None)


def holds(profile: Profile, flags: tuple[str, ...]) -> bool:
    """Whether the profile keeps this result from the output folder until approved."""
    hold = profile.review.hold if profile.review is not None else "none"
    return hold == "all" or (hold == "flagged" and bool(flags))
