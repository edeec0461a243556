"""pipeline: the life of one photo, from its file to a finished listing image.

``cut`` returns the finished pixels; ``make`` also encodes them and says why a person should
look (the daemon's executor runs it; its publisher names and writes the result with
``write``); ``process`` does it all in one call (``studiocut process``): it names, makes and
writes, and turns every expected failure into an Outcome with a reason an operator can act on
(``failure``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from studiocut import clock, faults
from studiocut.errors import InputError, ModelError, OutputError
from studiocut.imaging import (
    cleanup,
    compliance,
    composite,
    decode,
    delivery,
    encode,
    frame,
    matte,
    metadata,
    naming,
    shadow,
    studio,
    triage,
)
from studiocut.imaging.locate import Located, locate
from studiocut.imaging.locate import free_framing_slots as free_framing_slots
from studiocut.imaging.locate import set_framing_slots as set_framing_slots
from studiocut.imaging.metadata import Metadata, Own
from studiocut.imaging.render import render as render  # pipeline.render, as before
from studiocut.models.registry import MaskModel
from studiocut.profiles import Profile, presets

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Framed:
    """The photo framed as the output will be, before its backdrop is replaced: ``before`` is
    the original's pixels on the output canvas (RGB uint8), ``alpha`` the subject's alpha on
    the same canvas (float32 in [0, 1]). The review page refines these and renders again.
    ``metadata`` is prepared for the output (``output_metadata``): encode writes it as is."""

    before: np.ndarray
    alpha: np.ndarray
    icc: bytes | None
    metadata: Metadata
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
class Rendered:
    """One rendition of a made photo: its ``name``, encoded ``data``, ``layout`` on its
    canvas, the ``flags`` of this rendition alone, and the ``framed`` layers it was rendered
    from (when kept)."""

    name: str
    data: bytes
    layout: frame.Layout
    flags: tuple[str, ...] = ()
    framed: Framed | None = None


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
    renditions: tuple[Rendered, ...] = ()  # each rendition, with ``framed``: the first's above

    @property
    def ok(self) -> bool:
        return self.output is not None


@dataclass(frozen=True)
class Subject:
    """A photo's subject, cut out once for every rendition: the decoded ``rgb`` of its
    region and the final ``alpha`` at the working size, with ``light`` (the natural shadow,
    for ``shadow: keep``), the colour profile and EXIF to write, the ``signals`` triage
    measured, the working pixels per source pixel (``decoded``) and the sides where the
    photo's edge ``cut`` the subject."""

    rgb: np.ndarray
    alpha: np.ndarray
    light: np.ndarray | None
    icc: bytes | None
    metadata: Metadata  # the source's, prepared per rendition (output_metadata)
    signals: triage.Signals
    decoded: float
    cut: frame.Edges


def frame_located(located: Located, profile: Profile, *, own: Own | None = None) -> Framed:
    """Frame the subject of a ``locate``d photo on the output canvas. ``own`` gives the SKU,
    view and revision for studiocut's XMP fields, where known."""
    return frame_subject(cut_located(located, profile), profile, own=own)


def cut_located(located: Located, profile: Profile) -> Subject:
    """Cut the subject of a ``locate``d photo out (matting, clean-up, triage): what every
    rendition is framed from."""
    src, mask, region = located.source, located.mask, located.region
    full, decoded, box, icc = src.size, located.decoded, located.box, located.icc
    rgb, source_alpha = located.rgb, located.alpha
    with clock.stage("matte"):
        # alpha at about the output's scale: a fraction of the decoded pixels to work on
        work = region.working_size(full, decoded, box)
        alpha = matte.upsample(mask, decoded, box, work)
        if source_alpha is not None:
            alpha *= _sized(source_alpha, work)
        matting_failed = path = reason = disagreement = light = None
        cut_out = None
        if profile.model == "auto" and profile.custom_model is None:
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
        alpha = cleanup.clean(alpha, profile.cleanup)
        signals = triage.measure(cleanup.clean(mask, profile.cleanup), alpha,
                                 matting_failed=matting_failed, path=path, decision=reason,
                                 disagreement=disagreement)
    per_source_pixel = work[0] / (box[2] - box[0]) * decoded[0] / full[0]
    if profile.encoding.icc != "original" or not icc:
        icc = decode.srgb_icc()
    at_edge = frozenset(side for side, edge in (("left", box[0] <= 0), ("top", box[1] <= 0),
                                               ("right", box[2] >= decoded[0]),
                                               ("bottom", box[3] >= decoded[1])) if edge)
    return Subject(rgb, alpha, light, icc, src.metadata, signals, per_source_pixel,
                   frame.cut_sides(alpha, at_edge))


def frame_subject(subject: Subject, profile: Profile, *, lineup: frame.Lineup | None = None,
                  own: Own | None = None) -> Framed:
    """Frame the subject on the canvas of ``profile`` (one rendition's view of it: see
    ``Profile.rendering``), at the set's ``lineup`` when it has one and the subject fits,
    with the metadata its output carries (``own`` as for ``frame_located``)."""
    with clock.stage("framing"):
        layout = frame.layout(subject.alpha, profile.canvas, decoded=subject.decoded,
                              cut=subject.cut, lineup=lineup)
        if layout.placed == layout.canvas and layout.offset == (0, 0):  # no margin to fill
            before, alpha = frame.fit(subject.rgb, subject.alpha, layout)
        else:
            before, alpha = frame.fit_onto(
                subject.rgb, subject.alpha, layout,
                composite.canvas(layout.canvas, profile.backdrop or BLACK),
                composite.blank(layout.canvas))
        light = None if subject.light is None else shadow.onto_canvas(subject.light, layout)
    return Framed(before, alpha, subject.icc, output_metadata(subject.metadata, profile, own),
                  subject.signals, layout, light)


def output_metadata(source: Metadata, profile: Profile, own: Own | None = None) -> Metadata:
    """The metadata an output of ``profile`` carries: the ``source``'s, as the profile's
    ``metadata`` rules say, and studiocut's XMP fields: the profile's name and model, and
    ``own``'s SKU, view and revision."""
    rules = profile.metadata
    fields = Own()
    if rules.studiocut:
        fields = replace(own or Own(), profile=profile.name, model=profile.model)
    return metadata.prepare(source if rules.keep else Metadata(), gps=rules.gps, own=fields)


def frame_photo(source: Path, model: MaskModel, profile: Profile, *,
                own: Own | None = None) -> Framed:
    """Decode ``source``, find its subject and frame it on the output canvas (``own`` as for
    ``frame_located``); raise InputError for a bad input."""
    return frame_located(locate(source, model, profile), profile, own=own)


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


def cut(source: Path, model: MaskModel, profile: Profile, *, own: Own | None = None) -> Cutout:
    """Return the finished image for ``source``; raise InputError for a bad input. ``own``
    gives the SKU, view and revision for studiocut's XMP fields, where known."""
    framed = frame_photo(source, model, profile, own=own)
    image = render(framed.before, framed.alpha, model, profile, light=framed.shadow)
    return Cutout(image, framed)


@dataclass(frozen=True)
class Made:
    """A finished result before it is written: the encoded ``data``, the ``framed`` layers it
    was rendered from and the ``flags`` asking a person to look at it (the photo's, then
    each rendition's); ``renditions`` every rendition, the first's ``data`` and ``framed``
    being those above."""

    data: bytes
    framed: Framed
    flags: tuple[str, ...]
    renditions: tuple[Rendered, ...] = ()


def make(source: Path, model: MaskModel, profile: Profile, *,
         product: naming.Product | None = None,
         lineups: Mapping[str, frame.Lineup] | None = None, keep: bool = True,
         own: Own | None = None) -> Made:
    """Cut out ``source`` once and render and encode each of the profile's renditions from
    that cut-out (each at its set's ``lineups`` framing, when it has one); nothing is
    written. ``keep``: every rendition keeps its framed layers (else the first only).
    ``own`` gives the SKU, view and revision for studiocut's XMP fields, where known. Raise
    InputError for a bad input (and ModelError or MemoryError as the stages do)."""
    lineups = lineups or {}
    subject = cut_located(locate(source, model, profile, lineups), profile)
    flags = triage.reasons(subject.signals, profile.review)
    renditions = profile.all_renditions
    several = len(renditions) > 1
    made: list[Rendered] = []
    for index, rendition in enumerate(renditions):
        view = profile.rendering(rendition)
        lineup = lineups.get(rendition.name)
        framed = frame_subject(subject, view, lineup=lineup, own=own)
        if index == len(renditions) - 1:
            del subject  # framed for the last time: its region's pixels go before rendering
        made.append(_rendition(framed, model, view, lineup, product, several=several,
                               keep=keep or index == 0))
    faults.point("after-inference", source)
    flags += tuple(flag for rendered in made for flag in rendered.flags)
    assert made[0].framed is not None
    return Made(made[0].data, made[0].framed, flags, tuple(made))


def _rendition(framed: Framed, model: MaskModel, view: Profile, lineup: frame.Lineup | None,
               product: naming.Product | None, *, several: bool, keep: bool) -> Rendered:
    """One rendition (``view``: the profile as it renders it) rendered from its ``framed``
    layers, encoded, and flagged where it does not follow its set's lineup or breaks its
    preset's rules."""
    (rendition,) = view.renditions
    with clock.stage("composite"):
        image = render(framed.before, framed.alpha, model, view, light=framed.shadow)
    with clock.stage("encode"):
        data = encode.encode(image, view.encoding, icc=framed.icc, metadata=framed.metadata)
    del image
    found: list[str] = []
    if lineup is not None and framed.layout is not None and framed.layout.lineup is None:
        found.append(triage.misfit(product.sku if product else None))
    if rendition.preset is not None:
        found.extend(compliance.check(data, presets.get(rendition.preset),
                                      subject=framed.alpha))
    flags = triage.breaches(tuple(found), view.review)
    if several:
        flags = tuple(triage.of_rendition(rendition.name, flag) for flag in flags)
    assert framed.layout is not None
    return Rendered(rendition.name, data, framed.layout, flags, framed if keep else None)


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
    keep: bool = False, own: Own | None = None,
) -> Outcome:
    """Cut out ``source`` and write each rendition under ``output_root`` (its folder, then
    ``relative_dir``; a profile of one rendition to ``dest`` when given, a path inside
    ``output_root``); return the Outcome, whose ``output`` is the first rendition's. Input
    faults fail only this photo; output faults are marked ``environment``. With ``holding``
    (the review page runs) a result the profile's ``review.hold`` holds is not written; with
    ``keep`` the Outcome carries the framed layers and the encoded bytes; ``own`` as for
    ``make``."""
    started = time.perf_counter()
    held = False
    try:
        dests = [dest] if dest is not None else [
            naming.rendition_path(output_root, relative_dir, source, profile, r)
            for r in profile.all_renditions]
        dest = dests[0]
        made = make(source, model, profile, keep=keep, own=own)
        held = holding and holds(profile, made.flags)
        files = [(path, r.data) for path, r in zip(dests, made.renditions, strict=True)]
        delivery.write_all(files, profile, output_root=output_root, source=source,
                           flags=made.flags, signals=made.framed.signals, held=held)
    except Exception as e:  # a bug must fail this photo only, with the traceback in the log
        return failure(source, e, time.perf_counter() - started)
    seconds = time.perf_counter() - started
    log.info("%s -> %s (%.2f s)%s%s", source, dest, seconds,
             f"; flagged for review: {'; '.join(made.flags)}" if made.flags else "",
             "; held for approval on the review page" if held else "")
    return Outcome(source, dest, seconds, flags=made.flags, held=held,
                   framed=made.framed if keep else None, data=made.data if keep else None,
                   renditions=made.renditions if keep else ())


def holds(profile: Profile, flags: tuple[str, ...]) -> bool:
    """Whether the profile keeps this result from the output folder until approved."""
    hold = profile.review.hold if profile.review is not None else "none"
    return hold == "all" or (hold == "flagged" and bool(flags))
