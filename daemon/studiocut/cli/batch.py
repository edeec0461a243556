"""batch: one run of ``studiocut process``: its photos in the run's order, each one's product
(SKU and view) decided as the daemon decides it (``hotfolder.products``), and each photo
made once and written with every rendition, all or none.

``process`` keeps no journal, so the run is its own memory (a ``RunCatalogue``): views are
numbered from 1 in the order the run takes the photos (the inputs as given, each folder's
photos sorted by path, so by name within a folder); a barcode card names the photos after it
in its folder within this run, and is neither made nor written; with ``consistent`` framing
a SKU's first view in the run sets the scale and floor line its later views follow, a later
view waiting while an earlier one of its SKU is still being made. What an earlier run knew
(its cards, its view numbers) is not known here: a photo that needs it fails with the reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

from studiocut.errors import InputError
from studiocut.hotfolder import products
from studiocut.hotfolder.executor import Work
from studiocut.imaging import delivery, naming, pipeline
from studiocut.imaging.pipeline import Outcome
from studiocut.models.registry import MaskModel
from studiocut.profiles import Profile

log = logging.getLogger(__name__)

WAIT = 0.5  # seconds between looks while a view waits for its SKU's framing

# what a run cannot know that the daemon's journal would, said where a photo has no SKU
_NO_MEMORY = {
    "folder": "; a photo given by itself or directly in an input folder has none: give the "
              "folder that holds its SKU folders",
    "sidecar": "",
    "barcode": "; process keeps nothing between runs: give the card in the same run, before "
               "the photos it names (by name, in the same folder)",
}


@dataclass(frozen=True)
class Planned:
    """A photo of the run as planned: its ``work`` (with its product, once identified), the
    ``outputs`` each rendition is written to (name, path), or else the ``card``'s SKU (a
    barcode card: not made) or the ``failure`` that stops it before it is made."""

    work: Work
    outputs: tuple[tuple[str, Path], ...] = ()
    card: str | None = None
    failure: Outcome | None = None

    @property
    def source(self) -> Path:
        return self.work.source


class RunCatalogue:
    """``products.Catalogue`` for one run: the last card of each folder, the views numbered
    so far and the lineups set, in memory; thread-safe. ``ready`` waits, as the daemon's
    workers do, while an earlier view of the photo's SKU may still set its framing."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._cards: dict[tuple[str, Path], str] = {}
        self._views: dict[tuple[str, str], int] = {}
        self._jobs: dict[int, tuple[str, int]] = {}
        self._lineups: dict[tuple[str, str], dict[str, tuple[float, int]]] = {}
        self._unfinished: dict[tuple[str, str], set[int]] = {}

    def set_folder_sku(self, profile: str, folder: Path, sku: str) -> None:
        """A barcode card names the photos after it in ``folder``, until the next card."""
        with self._changed:
            self._cards[(profile, folder)] = sku

    def folder_sku(self, profile: str, folder: Path) -> str | None:
        with self._changed:
            return self._cards.get((profile, folder))

    def view_of(self, job_id: int, profile: str, sku: str) -> int:
        """The job's view of ``sku``: the SKU's next, from 1 (the one it has, when asked
        again); unfinished until ``finished``."""
        with self._changed:
            known = self._jobs.get(job_id)
            if known is not None and known[0] == sku:
                return known[1]
            view = self._views[(profile, sku)] = self._views.get((profile, sku), 0) + 1
            self._jobs[job_id] = (sku, view)
            self._unfinished.setdefault((profile, sku), set()).add(view)
            return view

    def lineups(self, profile: str, sku: str) -> dict[str, tuple[float, int]]:
        with self._changed:
            return dict(self._lineups.get((profile, sku), {}))

    def keep_lineup(self, profile: str, sku: str, rendition: str, scale: float, floor: int,
                    job_id: int) -> None:
        with self._changed:
            self._lineups.setdefault((profile, sku), {}).setdefault(rendition, (scale, floor))
            self._changed.notify_all()

    def earlier_view_in_progress(self, profile: str, sku: str, view: int) -> bool:
        """Whether a view of ``sku`` before ``view`` has not finished (made, or failed)."""
        with self._changed:
            return any(v < view for v in self._unfinished.get((profile, sku), ()))

    def finished(self, work: Work) -> None:
        """The photo is written or failed: the views after it need not wait for it."""
        if work.product is None:
            return
        with self._changed:
            self._unfinished.get((work.profile.name, work.product.sku), set()).discard(
                work.product.view)
            self._changed.notify_all()

    def ready(self, work: Work) -> Work:
        """``work`` with the lineups its SKU has, once no earlier view that may set them is
        still being made. The run takes its photos in order, so an earlier view is being
        made, or done, whenever a later one asks."""
        while True:
            work = products.following(self, work)
            if not products.waits(self, work):
                return work
            with self._changed:
                self._changed.wait(WAIT)


def plan(photos: Sequence[tuple[Path, Path]], profile: Profile, catalogue: RunCatalogue, *,
         output_root: Path, reading: Executor) -> list[Planned]:
    """Plan each of ``photos`` (a file and its subfolder under its input folder, in the run's
    order): tell barcode cards apart (``reading`` reads them, a few at once), give every
    other photo its SKU and view in order, and name its outputs. A photo that cannot be
    made (no SKU, a broken sidecar, an unreadable card, a name that is not a plain file
    name) is planned with its failure."""
    works = [Work(number, source, subfolder, profile)
             for number, (source, subfolder) in enumerate(photos, start=1)]
    cards: Iterable[str | Outcome | None] = [None] * len(works)
    if profile.sku is not None and profile.sku.source == "barcode":
        cards = reading.map(_card, works)
    planned = []
    for work, card in zip(works, cards, strict=True):
        if isinstance(card, Outcome):
            planned.append(Planned(work, failure=card))
        elif card is not None:
            catalogue.set_folder_sku(profile.name, work.source.parent, card)
            planned.append(Planned(work, card=card))
        else:
            planned.append(_identified(work, catalogue, output_root))
    return planned


def _card(work: Work) -> str | Outcome | None:
    """The SKU on the photo when it is a barcode card; its failure when it cannot be read."""
    try:
        return products.card_of(work)
    except Exception as e:  # a bug must fail this photo only, with the traceback in the log
        return pipeline.failure(work.source, e, 0.0)


def _identified(work: Work, catalogue: RunCatalogue, output_root: Path) -> Planned:
    profile = work.profile
    try:
        work = products.identify(catalogue, work, root="the input folder")
        outputs = tuple((r.name, naming.rendition_path(output_root, work.subfolder,
                                                       work.source, profile, r, work.product))
                        for r in profile.all_renditions)
    except InputError as e:
        catalogue.finished(work)  # a view that will not be made sets no framing
        if e.reason == "no-sku" and profile.sku is not None:
            e = InputError(e.reason, str(e) + _NO_MEMORY[profile.sku.source])
        return Planned(work, failure=pipeline.failure(work.source, e, 0.0))
    return Planned(work, outputs)


def run(planned: Planned, model: MaskModel, catalogue: RunCatalogue, *,
        output_root: Path) -> Outcome:
    """Make the planned photo once (after the earlier views its framing follows) and write
    every rendition to its output, all or none; return the Outcome (``output``: the first
    rendition's). A card or a photo planned to fail returns at once; every failure is an
    Outcome with its reason."""
    if planned.failure is not None:
        return planned.failure
    work = planned.work
    if planned.card is not None:
        return Outcome(work.source, None, 0.0, "barcode-card",
                       f"{work.source}: barcode card {planned.card}: names the photos after "
                       f"it in {work.source.parent}")
    started = time.perf_counter()
    try:
        work = catalogue.ready(work)
        made = pipeline.make(work.source, model, work.profile, product=work.product,
                             lineups=work.lineups, keep=False, own=work.own)
        files = [(path, rendered.data)
                 for (_, path), rendered in zip(planned.outputs, made.renditions, strict=True)]
        delivery.write_all(files, work.profile, output_root=output_root, source=work.source,
                           flags=made.flags, signals=made.framed.signals)
        products.keep_lineups(catalogue, work, made.renditions)
    except Exception as e:  # a bug must fail this photo only, with the traceback in the log
        return pipeline.failure(work.source, e, time.perf_counter() - started)
    finally:
        catalogue.finished(work)
    seconds = time.perf_counter() - started
    log.info("%s -> %s (%.2f s)%s", work.source, ", ".join(str(p) for p, _ in files), seconds,
             f"; flagged for review: {'; '.join(made.flags)}" if made.flags else "")
    return Outcome(work.source, files[0][0], seconds, flags=made.flags)


def clashes(planned: Iterable[Planned], place: Callable[[Path], object]) -> list[str]:
    """A problem for each output two photos of the run (or two renditions of one) would be
    written to (``place``: a path as the file system sees it): the later would replace the
    earlier without a word."""
    owners: dict[object, tuple[int, str, Path]] = {}
    problems = []
    for item, name, path in outputs_in(planned):
        job = item.work.job
        first = owners.setdefault(place(path), (job, name, item.source))
        if first[:2] != (job, name):
            problems.append(f"{item.source}: its output {path} (rendition {name}) is also "
                            f"that of {first[2]} (rendition {first[1]}): the profile's name "
                            "template gives them one name")
    return problems


def outputs_in(planned: Iterable[Planned]) -> Iterator[tuple[Planned, str, Path]]:
    """Every (photo, rendition, output) the run plans to write."""
    for item in planned:
        for name, path in item.outputs:
            yield item, name, path
