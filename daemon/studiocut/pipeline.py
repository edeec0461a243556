"""pipeline: the life of one photo, from its file to a finished listing image.

``cut`` returns the finished pixels; ``process`` also names and writes them and turns every
expected failure into an Outcome with a reason an operator can act on.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from studiocut import composite, decode, encode, faults, frame, matte, review
from studiocut.errors import InputError, ModelError, OutputError
from studiocut.predict import MaskModel
from studiocut.profile import Profile

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
    signals: review.Signals | None = None
    layout: frame.Layout | None = None  # where the subject went on the canvas


@dataclass(frozen=True)
class Cutout:
    """Finished pixels (RGB, or RGBA when transparent), the layers they were made of and the
    metadata to write with them."""

    image: np.ndarray
    framed: Framed

    @property
    def signals(self) -> review.Signals | None:
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
    cutout: Cutout | None = None  # kept for the review page when asked
    data: bytes | None = None  # the encoded result, with ``cutout``

    @property
    def ok(self) -> bool:
        return self.output is not None


def frame_photo(source: Path, model: MaskModel, profile: Profile) -> Framed:
    """Decode ``source``, find its subject and frame it on the output canvas; raise
    InputError for a bad input."""
    src = decode.open_source(source, profile.limits)
    picture: decode.Picture | None = None
    if frame.needs_full_decode(src.size, profile.square):  # the preview comes from it
        picture = src.load(None, colour=profile.encoding.icc)
    if picture is not None and picture.icc is None:
        preview = decode.shrink(picture.rgb, model.input_size)
    else:
        preview = src.load(model.input_size).rgb
    mask = model.predict(preview)
    region = frame.locate(mask, src.size, profile.square)
    if picture is None:
        picture = src.load(region.decode_size(src.size), colour=profile.encoding.icc)
    x0, y0, x1, y1 = box = region.box_at(src.size, picture.size)
    rgb = picture.rgb[y0:y1, x0:x1]
    alpha = matte.upsample(mask, picture.size, box)
    if picture.alpha is not None:
        alpha *= picture.alpha[y0:y1, x0:x1]
    alpha = matte.refine(alpha, rgb, profile.matting)
    alpha = matte.cleanup(alpha, profile.cleanup)
    signals = review.measure(matte.cleanup(mask, profile.cleanup), alpha)
    layout = frame.layout(alpha, profile.square, decoded=picture.size[0] / src.size[0])
    icc = picture.icc if profile.encoding.icc == "original" and picture.icc else decode.srgb_icc()
    exif = src.exif
    rgb, alpha = frame.fit(rgb, alpha, layout)
    del picture, src  # the decoded photo (72 MB at 24 MP) is not needed past the resize
    width, height = layout.canvas
    before = frame.place(rgb, layout, composite.canvas(layout.canvas, profile.backdrop or BLACK))
    alpha = frame.place(alpha, layout, np.zeros((height, width), dtype=np.float32))
    return Framed(before, alpha, icc, exif, signals, layout)


BLACK = (0, 0, 0)


def render(before: np.ndarray, alpha: np.ndarray, model: MaskModel, profile: Profile, *,
           decontaminate: bool | None = None) -> np.ndarray:
    """Put the framed subject on the profile's backdrop (or keep alpha when transparent).
    Only the subject's box is blended, with a margin of old backdrop for decontamination to
    learn its colour from; the rest of the canvas is plain backdrop."""
    height, width = alpha.shape
    image = composite.canvas((width, height), profile.backdrop)
    box = frame.subject_box(alpha, threshold=0.0)
    if box is None:
        return image
    side = max(width, height)
    pad = round(0.03 * side) + 8  # three times decontamination's reach
    x0, y0 = max(0, box[0] - pad), max(0, box[1] - pad)
    x1, y1 = min(width, box[2] + pad), min(height, box[3] + pad)
    rgb, alpha = before[y0:y1, x0:x1], alpha[y0:y1, x0:x1]
    despill = getattr(model, "despill", None)  # keying models take the screen's cast off
    if despill is not None:
        rgb = despill(rgb, alpha)
    if decontaminate is None:
        decontaminate = profile.matting.decontaminate
    if profile.backdrop is not None and decontaminate:
        # no fringe of the old backdrop on the new one; reach as on the whole canvas
        rgb = matte.foreground(rgb, alpha, radius=max(2, round(0.01 * side / 4)))
    image[y0:y1, x0:x1] = composite.over(rgb, alpha, profile.backdrop)
    return image


def cut(source: Path, model: MaskModel, profile: Profile) -> Cutout:
    """Return the finished image for ``source``; raise InputError for a bad input."""
    framed = frame_photo(source, model, profile)
    return Cutout(render(framed.before, framed.alpha, model, profile), framed)


def process(
    source: Path, model: MaskModel, profile: Profile, *, output_root: Path,
    relative_dir: Path = Path(), dest: Path | None = None, holding: bool = False,
    keep: bool = False,
) -> Outcome:
    """Cut out ``source`` and write it under ``output_root``/``relative_dir`` (to ``dest``
    when given, a path inside ``output_root``); return the Outcome. Input faults fail only
    this photo; output faults are marked ``environment``. With ``holding`` (the review page
    runs) a result the profile's ``review.hold`` holds is not written; with ``keep`` the
    Outcome carries the cut-out and its encoded bytes."""
    started = time.perf_counter()
    held = False
    try:
        if dest is None:
            dest = encode.output_path(output_root, relative_dir, source, profile.encoding,
                                      profile.name)
        result = cut(source, model, profile)
        faults.point("after-inference", source)
        framed = result.framed
        data = encode.encode(result.image, profile.encoding, icc=framed.icc, exif=framed.exif)
        flags = review.reasons(framed.signals, profile.review) if framed.signals else ()
        held = holding and holds(profile, flags)
        if not held:
            encode.write_atomic(dest, data, root=output_root)
        if flags and profile.review is not None and framed.signals is not None:
            review.file_copy(dest, data, output_root=output_root, rules=profile.review,
                             source=source, signals=framed.signals, found=flags)
        elif profile.review is not None:
            review.withdraw(dest, output_root=output_root, rules=profile.review)
    except InputError as e:
        message = str(e) if str(source) in str(e) else f"{source}: {e}"
        return Outcome(source, None, time.perf_counter() - started, e.reason, message,
                       retryable=e.retryable)
    except OutputError as e:
        return Outcome(source, None, time.perf_counter() - started, e.reason, str(e),
                       retryable=True, environment=True)
    except ModelError as e:
        return Outcome(source, None, time.perf_counter() - started, "model", str(e),
                       environment=True)
    except MemoryError:
        return Outcome(source, None, time.perf_counter() - started, "too-large",
                       f"{source}: ran out of memory processing this image")
    except Exception as e:  # a bug must fail this photo only, with the traceback in the log
        log.exception("internal error processing %s", source)
        return Outcome(source, None, time.perf_counter() - started, "internal-error",
                       f"{source}: internal error: {type(e).__name__}: {e}")
    seconds = time.perf_counter() - started
    log.info("%s -> %s (%.2f s)%s%s", source, dest, seconds,
             f"; flagged for review: {'; '.join(flags)}" if flags else "",
             "; held for approval on the review page" if held else "")
    return Outcome(source, dest, seconds, flags=flags, held=held,
                   cutout=result if keep else None, data=data if keep else None)


def holds(profile: Profile, flags: tuple[str, ...]) -> bool:
    """Whether the profile keeps this result from the output folder until approved."""
    hold = profile.review.hold if profile.review is not None else "none"
    return hold == "all" or (hold == "flagged" and bool(flags))
