"""products: which product a photo shows, for a profile with an ``sku`` key.

Its SKU comes from the folder it was shot into (below the watched folder) or from a sidecar
beside it (``<stem>.sku`` or ``<stem>.txt``, the SKU on its first line); its view is its
number among the SKU's photos, kept in the journal. With ``consistent`` framing, the SKU's
first view records its scale and floor line on each framed rendition, and the later views
follow them: a later view waits while an earlier one of its SKU is still being processed.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path

from studiocut.errors import InputError
from studiocut.hotfolder.executor import Work
from studiocut.imaging import frame, naming
from studiocut.imaging.pipeline import Rendered
from studiocut.journal import Journal
from studiocut.profiles import Profile

log = logging.getLogger(__name__)

SIDECARS = (".sku", ".txt")
MAX_SIDECAR = 4096  # bytes read of a sidecar: a SKU is a line, not a document


def sku_of(profile: Profile, source: Path, subfolder: Path) -> str | None:
    """The SKU of ``source`` (in ``subfolder`` of the watched folder) as the profile's
    ``sku`` key says, made safe for a file name; None when it has none."""
    if profile.sku is None:
        return None
    if profile.sku.source == "folder":
        return naming.safe_sku(subfolder.name) if subfolder.parts else None
    for suffix in SIDECARS:
        sidecar = source.with_suffix(suffix)
        if sidecar.is_file() and not sidecar.is_symlink():
            with open(sidecar, "rb") as f:
                text = f.read(MAX_SIDECAR).decode("utf-8", "replace")
            line = next((ln for ln in text.splitlines() if ln.strip()), "")
            return naming.safe_sku(line)
    return None


def identify(journal: Journal, work: Work) -> Work:
    """``work`` with its product (SKU and view) and, with consistent framing, the lineups
    its SKU's first view set; unchanged for a profile without an ``sku`` key. Raise
    InputError (``no-sku``, retryable: a sidecar may still be on its way) when the photo
    has no SKU."""
    profile = work.profile
    if profile.sku is None:
        return work
    sku = sku_of(profile, work.source, work.subfolder)
    if sku is None:
        where = ("it is not in a subfolder of the watched folder named after its SKU"
                 if profile.sku.source == "folder" else
                 f"no sidecar {work.source.stem}.sku or {work.source.stem}.txt names it")
        raise InputError("no-sku", f"{work.source}: no SKU: {where}", retryable=True)
    view = journal.view_of(work.job, profile.name, sku)
    lineups = {}
    if profile.sku.consistent:
        lineups = {name: frame.Lineup(scale, floor)
                   for name, (scale, floor) in journal.lineups(profile.name, sku).items()}
    return dataclasses.replace(work, product=naming.Product(sku, view), lineups=lineups)


def waits(journal: Journal, work: Work) -> bool:
    """Whether the photo should wait for an earlier view of its SKU, still in progress,
    to set the framing it is to follow."""
    product, profile = work.product, work.profile
    if product is None or profile.sku is None or not profile.sku.consistent:
        return False
    framed = {r.name for r in profile.all_renditions if r.canvas is not None}
    if not framed or framed <= set(work.lineups):
        return False
    return journal.earlier_view_in_progress(profile.name, product.sku, product.view)


def keep_lineups(journal: Journal, work: Work, renditions: Sequence[Rendered]) -> None:
    """Record the framing of each framed rendition the photo's SKU has none for yet (the
    first view's, or the first whose subject stands whole on the canvas)."""
    product, profile = work.product, work.profile
    if product is None or profile.sku is None or not profile.sku.consistent:
        return
    canvases = {r.name for r in profile.all_renditions if r.canvas is not None}
    for rendered in renditions:
        layout = rendered.layout
        if rendered.name in canvases and rendered.name not in work.lineups and not layout.cut:
            journal.keep_lineup(profile.name, product.sku, rendered.name, layout.scale,
                                layout.floor, work.job)
