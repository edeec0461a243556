"""products: which product a photo shows, for a profile with an ``sku`` key.

Its SKU comes from its folder (the first level under the watched folder), a sidecar
(``<stem>.json`` or the folder's ``sku.txt``: ``imaging.sku``), or the last barcode card shot
into its folder (``imaging.barcode``): a card photo is recognised here, before anything is
made of it, sets its folder's SKU for the photos after it and is archived, not published.
Its view is its number among the SKU's photos, kept in a ``Catalogue``: the journal for the
daemon, one run's memory for ``studiocut process`` (``cli.batch``). With ``consistent``
framing, the SKU's first view records its scale and floor line on each framed rendition,
and the later views follow them: a later view waits while an earlier one of its SKU is
still being processed (and with barcode cards, a photo waits while an earlier one of its
folder, maybe a card, has not been identified yet).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from studiocut.errors import InputError
from studiocut.hotfolder.executor import Work
from studiocut.imaging import barcode, decode, frame, naming, sku
from studiocut.imaging.pipeline import Rendered
from studiocut.journal import Journal

log = logging.getLogger(__name__)

CARD_PREVIEW = (750, 750)  # the size barcode cards are read at (imaging.barcode)


class Catalogue(Protocol):
    """What is kept of a profile's SKUs: the last card of each folder, each job's view, and
    the framing each SKU's first view set (the journal's ``Products`` is one)."""

    def folder_sku(self, profile: str, folder: Path) -> str | None: ...

    def view_of(self, job_id: int, profile: str, sku: str) -> int: ...

    def lineups(self, profile: str, sku: str) -> dict[str, tuple[float, int]]: ...

    def keep_lineup(self, profile: str, sku: str, rendition: str, scale: float, floor: int,
                    job_id: int) -> None: ...

    def earlier_view_in_progress(self, profile: str, sku: str, view: int) -> bool: ...


def card_of(work: Work) -> str | None:
    """The SKU a barcode card holds, when the profile takes SKUs from cards and the photo is
    one (read on a small preview); None otherwise. Raise InputError for a bad input."""
    profile = work.profile
    if profile.sku is None or profile.sku.source != "barcode":
        return None
    src = decode.open_source(work.source, profile.limits)
    try:
        rgb = src.load(CARD_PREVIEW).rgb
    finally:
        src.release()
    code = barcode.read_card(rgb)
    return sku.clean(code) if code else None


def sku_of(catalogue: Catalogue, work: Work) -> str | None:
    """The SKU of the photo as the profile's ``sku`` key says (cleaned for a file name);
    None when it has none. Raise InputError for a broken sidecar."""
    profile = work.profile
    if profile.sku is None:
        return None
    if profile.sku.source == "folder":
        return sku.from_subfolder(work.subfolder)
    if profile.sku.source == "sidecar":
        return sku.from_sidecar(work.source)
    return catalogue.folder_sku(profile.name, work.source.parent)


def identify(catalogue: Catalogue, work: Work, *, root: str = "the watched folder") -> Work:
    """``work`` with its product (SKU and view) and, with consistent framing, the lineups
    its SKU's first view set; unchanged for a profile without an ``sku`` key. Raise
    InputError (``no-sku``, retryable: a sidecar may still be on its way) when the photo
    has no SKU, saying what is missing (``root``: what its subfolder is relative to)."""
    profile = work.profile
    if profile.sku is None:
        return work
    found = sku_of(catalogue, work)
    if found is None:
        where = {"folder": f"it is not in a subfolder of {root} named after its SKU",
                 "sidecar": f"neither {work.source.stem}.json nor its folder's sku.txt names it",
                 "barcode": "no barcode card was shot into its folder before it"}
        raise InputError("no-sku", f"{work.source}: no SKU: {where[profile.sku.source]}",
                         retryable=profile.sku.source == "sidecar")
    view = catalogue.view_of(work.job, profile.name, found)
    return following(catalogue, dataclasses.replace(work, product=naming.Product(found, view)))


def following(catalogue: Catalogue, work: Work) -> Work:
    """``work`` (identified) with the lineups its SKU's views have set so far, when the
    profile frames them consistently; unchanged otherwise."""
    product, profile = work.product, work.profile
    if product is None or profile.sku is None or not profile.sku.consistent:
        return work
    lineups = {name: frame.Lineup(scale, floor)
               for name, (scale, floor) in catalogue.lineups(profile.name, product.sku).items()}
    return dataclasses.replace(work, lineups=lineups)


def waits_for_card(journal: Journal, work: Work) -> bool:
    """With barcode cards: whether an earlier photo of the same folder is being processed
    and not identified yet (it may be the card that names this one)."""
    profile = work.profile
    if profile.sku is None or profile.sku.source != "barcode":
        return False
    return any(source.parent == work.source.parent
               for source in journal.unidentified_before(profile.name, work.job))


def waits(catalogue: Catalogue, work: Work) -> bool:
    """Whether the photo should wait for an earlier view of its SKU, still in progress,
    to set the framing it is to follow."""
    product, profile = work.product, work.profile
    if product is None or profile.sku is None or not profile.sku.consistent:
        return False
    framed = {r.name for r in profile.all_renditions if r.canvas is not None}
    if not framed or framed <= set(work.lineups):
        return False
    return catalogue.earlier_view_in_progress(profile.name, product.sku, product.view)


def keep_lineups(catalogue: Catalogue, work: Work, renditions: Sequence[Rendered]) -> None:
    """Record the framing of each framed rendition the photo's SKU has none for yet (the
    first view's, or the first whose subject stands whole on the canvas)."""
    product, profile = work.product, work.profile
    if product is None or profile.sku is None or not profile.sku.consistent:
        return
    canvases = {r.name for r in profile.all_renditions if r.canvas is not None}
    for rendered in renditions:
        layout = rendered.layout
        if rendered.name in canvases and rendered.name not in work.lineups and not layout.cut:
            catalogue.keep_lineup(profile.name, product.sku, rendered.name, layout.scale,
                                  layout.floor, work.job)
