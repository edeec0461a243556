"""renditions: every rendition of a photo made again for a revision a person asked for.

The original is cut out once (``recut``), as the worker cut it: the subject every rendition
is framed from, and its framing on the first rendition's canvas, the one a revision's
artefacts hold and a person marks. A refined alpha on that canvas is carried back onto the
cut-out (``refined``), and each rendition is framed, rendered and encoded from it
(``render_all``), with studiocut's XMP fields (``own``): SKU, view, profile, model and the
revision's number.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from studiocut.imaging import encode, frame, pipeline
from studiocut.imaging.locate import locate
from studiocut.imaging.metadata import Own
from studiocut.journal import Journal
from studiocut.models.registry import MaskModel
from studiocut.profiles import Profile

log = logging.getLogger(__name__)

UNCHANGED = 1.0 / 255  # an alpha change below this is the 8-bit store's rounding, not a mark


@dataclass(frozen=True)
class Recut:
    """A photo cut out again from its original: the ``subject`` every rendition is framed
    from, and ``framed``, the first rendition's layers (what a revision's artefacts hold)."""

    subject: pipeline.Subject
    framed: pipeline.Framed


@dataclass(frozen=True)
class Encoded:
    """One rendition of a revision: its ``name``, file extension, canvas ``size`` (w, h)
    and encoded ``data``."""

    name: str
    ext: str
    size: tuple[int, int]
    data: bytes


def own(journal: Journal, job_id: int, revision: int) -> Own:
    """studiocut's XMP fields of a job's revision number ``revision``: the SKU and view the
    journal gave the job (none for a profile without an ``sku`` key) and that number; the
    profile and model are filled in per output (``pipeline.output_metadata``)."""
    product = journal.product_of(job_id)
    return Own(sku=product[0] if product else None,
               view=str(product[1]) if product else None, revision=str(revision))


def lineups(journal: Journal, job_id: int, profile: Profile) -> dict[str, frame.Lineup]:
    """The framing the job's SKU keeps on each rendition's canvas (``sku: {consistent:
    true}``), as the worker framed it; empty when the profile keeps none."""
    product = journal.product_of(job_id)
    if product is None or profile.sku is None or not profile.sku.consistent:
        return {}
    return {name: frame.Lineup(scale, floor)
            for name, (scale, floor) in journal.lineups(profile.name, product[0]).items()}


def recut(source: Path, model: MaskModel, profile: Profile,
          lineups: Mapping[str, frame.Lineup]) -> Recut:
    """Cut ``source`` out as ``pipeline.make`` does for ``profile`` (one model run for every
    rendition) and frame it on the first rendition's canvas; raise InputError for a bad
    input (and ModelError or MemoryError as the stages do)."""
    first = profile.all_renditions[0]
    subject = pipeline.cut_located(locate(source, model, profile, lineups), profile)
    framed = pipeline.frame_subject(subject, profile.rendering(first),
                                    lineup=lineups.get(first.name))
    return Recut(subject, framed)


def refined(cut: Recut, alpha: np.ndarray) -> pipeline.Subject:
    """The cut-out with ``alpha`` (a refine of ``cut.framed``'s alpha, on the first
    rendition's canvas) carried back onto it: the change, mapped from the canvas to the
    cut-out's pixels and added to its alpha, so what a person did not touch keeps the
    cut-out's own resolution in every rendition."""
    subject, layout = cut.subject, cut.framed.layout
    change = alpha - cut.framed.alpha
    change[np.abs(change) < UNCHANGED] = 0.0
    if layout is None or not change.any():
        return subject
    x0, y0, x1, y1 = layout.crop
    kx, ky = (x1 - x0) / layout.placed[0], (y1 - y0) / layout.placed[1]
    ox, oy = layout.offset
    # a cut-out pixel s lies at canvas pixel (s + 0.5 - x0) / kx + ox - 0.5 (pixel centres)
    to_canvas = np.array([[1 / kx, 0.0, (0.5 - x0) / kx + ox - 0.5],
                          [0.0, 1 / ky, (0.5 - y0) / ky + oy - 0.5]], dtype=np.float64)
    h, w = subject.alpha.shape
    back = cv2.warpAffine(change.astype(np.float32), to_canvas, (w, h),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    return replace(subject, alpha=np.clip(subject.alpha + back, 0.0, 1.0).astype(np.float32))


def render_all(subject: pipeline.Subject, model: MaskModel, profile: Profile, *,
               lineups: Mapping[str, frame.Lineup], own: Own, first: pipeline.Framed,
               decontaminate: bool | None = None) -> list[Encoded]:
    """Frame (at the set's ``lineups``), render and encode each of the profile's renditions
    from ``subject``, the first from its layers as given (``first``: a refine's exact
    pixels), each with its own metadata and studiocut's fields (``own``)."""
    made = []
    for index, rendition in enumerate(profile.all_renditions):
        view = profile.rendering(rendition)
        framed = first if index == 0 else pipeline.frame_subject(
            subject, view, lineup=lineups.get(rendition.name))
        image = pipeline.render(framed.before, framed.alpha, model, view,
                                decontaminate=decontaminate, light=framed.shadow)
        metadata = pipeline.output_metadata(subject.metadata, view, own)
        data = encode.encode(image, view.encoding, icc=subject.icc, metadata=metadata)
        height, width = framed.alpha.shape
        made.append(Encoded(rendition.name, view.encoding.ext, (width, height), data))
    return made
