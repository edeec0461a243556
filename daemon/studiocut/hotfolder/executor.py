"""executor: the seam between deciding what to do with a photo, doing it and publishing it.

The workers decide (which job, which profile, which subfolder) and hand a ``Work`` to an
Executor; its ``Result`` goes to the publisher. An executor only turns a Work into encoded
bytes and facts: it writes no output, reserves no name, touches no journal, holds and archives
nothing. So an executor that runs the pipeline elsewhere (workers on other machines) plugs in
by implementing ``run``, without touching intake, the workers' claims or publishing.

``LocalExecutor`` runs the pipeline here, in the calling worker's thread, with the model the
daemon opened for the profile and the framing slots that bound the memory of full-size photos.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from studiocut.errors import ModelError
from studiocut.imaging import pipeline
from studiocut.imaging.frame import Lineup
from studiocut.imaging.metadata import Own
from studiocut.imaging.naming import Product
from studiocut.imaging.triage import Signals
from studiocut.models.registry import MaskModel
from studiocut.profiles import Profile


@dataclass(frozen=True)
class Work:
    """One photo to process, as the workers decided it: the journal's ``job`` id, the
    ``source`` file, its ``subfolder`` relative to the watched folder (the output mirrors it)
    and the ``profile``: the recipe to follow, under its name. With ``keep`` the Result
    carries the framed layers (the review page keeps them to refine the result)."""

    job: int
    source: Path
    subfolder: Path
    profile: Profile
    keep: bool = False
    product: Product | None = None  # its SKU and view, for a profile with an sku key
    lineups: Mapping[str, Lineup] = field(default_factory=dict)  # its SKU's, by rendition
    revision: int | None = None  # the number the review page will keep the result as

    @property
    def own(self) -> Own:
        """studiocut's XMP fields the Work knows: SKU, view and revision."""
        product = self.product
        return Own(sku=product.sku if product else None,
                   view=str(product.view) if product else None,
                   revision=None if self.revision is None else str(self.revision))

    @property
    def profile_name(self) -> str:
        return self.profile.name


@dataclass(frozen=True)
class Result:
    """What became of a Work: the encoded output ``data``, with the ``flags`` asking a person
    to look and the ``signals`` they were measured from; or else a ``reason`` (a short code)
    and a ``message`` naming the file, ``retryable`` when the file may still be arriving and
    ``environment`` when the fault lies outside the photo (the profile pauses, the photo does
    not fail). ``seconds`` it took; ``framed`` the layers, when the Work asked to keep them.
    ``data``, ``framed`` are the first rendition's; ``renditions`` has each one's (empty: the
    profile has one, and ``data`` is its)."""

    source: Path
    seconds: float
    data: bytes | None = None
    flags: tuple[str, ...] = ()
    signals: Signals | None = None
    framed: pipeline.Framed | None = None
    reason: str | None = None
    message: str | None = None
    retryable: bool = False
    environment: bool = False
    renditions: tuple[pipeline.Rendered, ...] = ()  # every rendition, the first's as above

    @property
    def ok(self) -> bool:
        return self.data is not None


def failed(source: Path, error: Exception, seconds: float) -> Result:
    """The Result of a photo that ``error`` stopped, with the reason ``pipeline.failure``
    gives it; call it where the error is caught (a bug's traceback is logged)."""
    outcome = pipeline.failure(source, error, seconds)
    return Result(source, seconds, reason=outcome.reason, message=outcome.message,
                  retryable=outcome.retryable, environment=outcome.environment)


class Executor(Protocol):
    """Turns a Work into a Result; called from each worker thread, it blocks until done.
    Every failure is a Result with its reason: ``run`` raises nothing."""

    def run(self, work: Work) -> Result: ...


class Models(Protocol):
    """The models the daemon opened, one per running profile."""

    def running(self, name: str) -> tuple[Profile, MaskModel] | None: ...


class LocalExecutor:
    """The pipeline in this process, with the running profile's shared model. ``workers``
    threads call ``run``; half of them (at least one) may hold a full-size photo at once, or
    all of them for photos whose model leaves the cores to the decodes (see
    ``imaging.locate.Slots``)."""

    def __init__(self, models: Models, *, workers: int) -> None:
        self._models = models
        pipeline.set_framing_slots(workers)

    def run(self, work: Work) -> Result:
        started = time.perf_counter()
        try:
            made = pipeline.make(work.source, self._model(work), work.profile,
                                 product=work.product, lineups=work.lineups, keep=work.keep,
                                 own=work.own)
        except Exception as e:  # every failure is this photo's reason (a bug's: logged)
            return failed(work.source, e, time.perf_counter() - started)
        return Result(work.source, time.perf_counter() - started, made.data, made.flags,
                      made.framed.signals, made.framed if work.keep else None,
                      renditions=made.renditions)

    def _model(self, work: Work) -> MaskModel:
        """The model open for the Work's profile; raise ModelError (its photos wait) when
        the profile stopped running since the job was claimed."""
        running = self._models.running(work.profile_name)
        if running is None:
            raise ModelError(f"profile {work.profile_name} no longer runs; its photos wait "
                             "until it returns")
        return running[1]
