"""revisions: the versions of a result a person works with: the first, kept from the worker;
a refine of one with a person's marks; a re-run with another profile or model; the views of
a revision, framing the original again when it was not stored; and purging old ones."""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from studiocut import journal
from studiocut.errors import ModelError, StudiocutError
from studiocut.imaging import decode, encode, pipeline
from studiocut.imaging.metadata import Metadata
from studiocut.journal import Job, Revision
from studiocut.models import predict, registry
from studiocut.models.registry import MaskModel
from studiocut.models.sam import SamModel
from studiocut.profiles import Profile
from studiocut.review import artefacts, refine
from studiocut.review.lookup import Lookup, Refused
from studiocut.review.refine import Segmenter

log = logging.getLogger(__name__)


class Revisions(Lookup):
    """Making, viewing and purging revisions."""

    # ------------------------------------------------------------------ from the workers

    def keep(self, job: Job, outcome: pipeline.Outcome, profile: Profile) -> int:
        """Store a finished photo's first revision; return its number. The framed original
        (the costliest artefact) is stored at once only where a person will likely look or
        the original is about to be deleted; otherwise it is framed again when first asked
        for."""
        assert outcome.framed is not None and outcome.data is not None
        framed = outcome.framed
        ext = profile.all_renditions[0].encoding.ext
        eager = bool(outcome.flags) or outcome.held or profile.after == "delete"
        listed, extra = self._renditions(job, outcome, profile)
        folder = self.store.write(job.id, framed.before, framed.alpha, outcome.data, ext,
                                  with_before=eager,
                                  published=None if outcome.held else outcome.output,
                                  renditions=extra)
        h, w = framed.alpha.shape
        params = {"framing": framing(framed), **backdrop(framed)}
        if listed:
            params["renditions"] = listed
        revision = self.journal.add_revision(job.id, "auto", params, (w, h), ext, folder)
        return revision.number

    def _renditions(self, job: Job, outcome: pipeline.Outcome, profile: Profile,
                    ) -> tuple[list[dict[str, str]], list[tuple[str, bytes, Path | None]]]:
        """A photo's renditions as its revision lists them (name, ext, file in the
        revision's folder, output name), and the files to keep beside its result (every
        rendition but the first); nothing for a photo of one rendition."""
        if len(outcome.renditions) <= 1:
            return [], []
        outputs = dict(self.journal.outputs_of(job.id))
        exts = {r.name: r.encoding.ext for r in profile.all_renditions}
        listed, extra = [], []
        for index, rendered in enumerate(outcome.renditions):
            ext, output = exts[rendered.name], outputs[rendered.name]
            file = f"result.{ext}" if index == 0 else f"rendition-{index}.{ext}"
            listed.append({"name": rendered.name, "ext": ext, "file": file,
                           "output": output.name})
            if index:
                extra.append((file, rendered.data, None if outcome.held else output))
        return listed, extra

    # ------------------------------------------------------------------ made by a person

    def refine(self, job_id: int, body: object, base_number: int | None = None) -> Revision:
        """Apply a person's marks to a revision's alpha; return the new candidate, made with
        the settings the base was made with (a re-run's profile or model)."""
        job = self._finished(job_id)
        base = self._numbered(job, base_number) if base_number else self._current(job)
        edit = refine.parse(body, base.size)
        profile, model = self._settings(job, base.params.get("profile"),
                                        base.params.get("model"))
        before, alpha, framed = self._layers(job, base, profile, model)
        segmenter = self.segmenter() if edit.prompts else refine.GrabCutSegmenter()
        key = (job.id, job.identity.mtime_ns, profile.name, profile.model, before.shape)
        alpha = refine.apply(key, before, alpha, edit, segmenter)
        image = pipeline.render(before, alpha, model, profile, decontaminate=edit.decontaminate)
        params = {**edit.params, "base": base.number}
        params.update({k: base.params[k] for k in ("profile", "model", "framing")
                       if k in base.params})
        if edit.prompts:
            params["segmenter"] = segmenter.name
        return self._revision(job, "refine", params, before, alpha, image, profile,
                              framed=framed)

    def rerun(self, job_id: int, *, profile_name: str | None = None,
              model_name: str | None = None) -> Revision:
        """Cut the original again with another profile's settings or another model; return
        the candidate (published to this job's output when applied)."""
        job = self._finished(job_id)
        original = self._original(job)
        if original is None:
            raise Refused(f"{job.source.name}: the original is gone, so it cannot be re-run")
        profile, model = self._settings(job, profile_name, model_name)
        try:
            cutout = pipeline.cut(original, model, profile)
        except StudiocutError as e:
            raise Refused(f"{job.source.name}: {e}") from e
        framed = cutout.framed
        params = {"profile": profile.name, "model": profile.model, "framing": framing(framed),
                  **backdrop(framed)}
        return self._revision(job, "rerun", params, framed.before, framed.alpha, cutout.image,
                              profile, framed=framed)

    def _settings(self, job: Job, profile_name: str | None,
                  model_name: str | None) -> tuple[Profile, MaskModel]:
        """The job's profile and model, or another running profile's, or another model.
        A photo of several renditions is refused: a refine or re-run makes one image."""
        profile, model = self._running(job)
        if len(profile.all_renditions) > 1 or self.journal.outputs_of(job.id):
            raise Refused(f"{job.source.name}: a photo with several renditions cannot be "
                          "refined or re-run here yet: approve or reject it as it is, or "
                          "shoot it again", 400)
        if profile_name and profile_name != profile.name:
            other = self.profiles.running(profile_name)
            if other is None:
                raise Refused(f"no running profile named {profile_name!r}", 400)
            profile, model = other
        if model_name and model_name != profile.model:
            try:
                model = predict.open_model(dataclasses.replace(
                    profile.model_request(threads=self._threads),
                    spec=registry.spec_for(model_name)))
            except ModelError as e:
                raise Refused(str(e), 400) from e
            profile = dataclasses.replace(profile, model=model_name, custom_model=None)
        return profile, model

    # ------------------------------------------------------------------ upkeep

    def purge(self, keep_days: float) -> int:
        """Delete the artefacts of revisions older than ``keep_days`` (the published one too:
        its output stays in the output folder) unless a person still has to decide on them,
        and any folder no revision refers to; return how many folders went."""
        now = time.time()
        old = self.journal.discard_revisions(now - keep_days * 86400)
        self.store.remove({r.folder for r in old})
        unknown = self.store.remove_unknown(self.journal.folders(), older_than=now - 3600)
        return len(old) + unknown

    def segmenter(self) -> Segmenter:
        """Segment Anything when one is installed (or named), else GrabCut."""
        if self._segmenter is None:
            self._segmenter = self._open_segmenter()
        return self._segmenter

    def _open_segmenter(self) -> Segmenter:
        names = ([self._refiner_name] if self._refiner_name not in ("auto", "grabcut") else
                 [] if self._refiner_name == "grabcut" else
                 [n for n, s in registry.MODELS.items() if s.family == "sam"])
        for name in names:
            try:
                model = predict.load(name, threads=self._threads)
            except ModelError as e:
                if self._refiner_name != "auto":
                    log.error("refine model %s cannot be used: %s; using GrabCut", name, e)
                continue
            if isinstance(model, SamModel):
                log.info("refine: points and boxes use %s", name)
                return refine.SamSegmenter(model)
        return refine.GrabCutSegmenter()

    # ------------------------------------------------------------------ helpers

    def _revision(self, job: Job, kind: str, params: dict[str, Any], before: np.ndarray,
                  alpha: np.ndarray, image: np.ndarray, profile: Profile, *,
                  framed: pipeline.Framed | None = None) -> Revision:
        if framed is not None:
            icc, meta = framed.icc, framed.metadata
        else:  # made from the review copy: the original's metadata is not at hand
            icc, meta = decode.srgb_icc(), pipeline.output_metadata(Metadata(), profile)
        data = encode.encode(image, profile.encoding, icc=icc, metadata=meta)
        folder = self.store.write(job.id, before, alpha, data, profile.encoding.ext)
        h, w = alpha.shape
        with self._lock:
            now = self._get(job.id)
            if now.identity != job.identity or now.state != journal.DONE:
                self.store.remove({folder})
                raise Refused(f"{job.source.name} was shot again meanwhile: this {kind} was of "
                              "the earlier photo")
            return self.journal.add_revision(job.id, kind, params, (w, h),
                                             profile.encoding.ext, folder)

    def _layers(self, job: Job, base: Revision, profile: Profile, model: MaskModel,
                ) -> tuple[np.ndarray, np.ndarray, pipeline.Framed | None]:
        """The base revision's alpha over the original's exact pixels (framed again from the
        original), or over its review copy when the original is gone or no longer frames the
        same; and the framing, when the original gave it."""
        alpha = self.store.alpha(base)
        try:
            framed = self._reframed(job, profile, model)
        except StudiocutError as e:
            log.warning("%s: refining from the review copy: %s", job.source.name, e)
            framed = None
        if framed is not None and frames_like(framed, base):
            return framed.before, alpha, framed
        self.ensure_before(base)
        before, _ = self.store.layers(base)
        return before, alpha, None

    def _reframed(self, job: Job, profile: Profile,
                  model: MaskModel) -> pipeline.Framed | None:
        """The job's original framed again as ``profile`` frames it (None when the original
        is gone), cached for the next refine; raise StudiocutError when it cannot be. Runs
        the model outside the lock: other actions must not wait on it."""
        original = self._original(job)
        if original is None:
            return None
        key = (job.id, job.identity.mtime_ns, profile.name, profile.model)
        with self._lock:
            framed = self._framed.get(key)
        if framed is not None:
            return framed
        # the first rendition's canvas: the one a photo's revision holds
        framed = pipeline.frame_photo(original, model, profile.rendering(
            profile.all_renditions[0]))
        with self._lock:
            self._framed[key] = framed
            while len(self._framed) > 2:  # each holds a full canvas: keep few
                self._framed.popitem(last=False)
        return framed

    def media(self, revision: Revision, kind: str, view: artefacts.View) -> tuple[bytes, str]:
        """One view of a revision (see artefacts.Store.media), framing the original again
        for the views that need it when it was not stored."""
        if kind in ("before", "cutout", "overlay"):
            self.ensure_before(revision)
        return self.store.media(revision, kind, view)

    def ensure_before(self, revision: Revision) -> None:
        """Store a revision's framed original if it was not; raise FileNotFoundError when the
        original is gone or no longer frames the same."""
        if self.store.has_before(revision):
            return
        job = self._get(revision.job)
        try:
            framed = self._reframed(job, *self._running(job))
        except StudiocutError as e:
            raise FileNotFoundError(f"{job.source.name}: {e}") from e
        if framed is None:
            raise FileNotFoundError(f"{job.source.name}: the original is gone")
        if not frames_like(framed, revision):
            raise FileNotFoundError(f"{job.source.name}: the original no longer frames "
                                    "like this revision (the profile or studiocut changed "
                                    "since it was made; a rerun makes one that does)")
        with self._lock:
            if not self.store.has_before(revision):
                self.store.add_before(revision, framed.before)


def framing(framed: pipeline.Framed) -> list[int]:
    """Where the subject went on the canvas: a revision's original can be framed again only
    when this comes out the same (a profile edit may have moved it)."""
    layout = framed.layout
    if layout is None:
        return []
    return [*layout.crop, *layout.placed, *layout.canvas, *layout.offset]


def backdrop(framed: pipeline.Framed) -> dict[str, dict[str, str]]:
    """With ``model: auto``, which path the photo took and why (the inspector shows it)."""
    signals = framed.signals
    if signals is None or signals.path is None:
        return {}
    return {"backdrop": {"path": signals.path, "decision": signals.decision or ""}}


def frames_like(framed: pipeline.Framed, revision: Revision) -> bool:
    if framed.alpha.shape[::-1] != revision.size:
        return False
    recorded = revision.params.get("framing")
    return recorded is None or recorded == framing(framed)  # None: made before it was kept
