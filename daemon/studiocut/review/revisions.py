"""revisions: the versions of a result a person works with: the first, kept from the worker;
a refine of one with a person's marks; a re-run with another profile or model; the views of
a revision, framing the original again when it was not stored; and purging old ones.

A refine or re-run of a photo of several renditions makes every rendition again from the one
cut-out (``review.renditions``), so its revision is published as the worker's was: all of
them together. Each output carries studiocut's XMP fields with the revision's number."""

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
from studiocut.imaging.metadata import Metadata, Own
from studiocut.journal import Job, Revision
from studiocut.models import predict, registry
from studiocut.models.registry import MaskModel
from studiocut.models.sam import SamModel
from studiocut.profiles import Profile
from studiocut.review import artefacts, refine, renditions
from studiocut.review.lookup import Lookup, Refused
from studiocut.review.refine import Segmenter
from studiocut.review.renditions import Encoded, Recut

log = logging.getLogger(__name__)

NUMBERING_TRIES = 3  # a revision made while another of the same photo was recorded: again


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
                    ) -> tuple[list[dict[str, Any]], list[tuple[str, bytes, Path | None]]]:
        """A photo's renditions as its revision lists them (name, ext, file in the
        revision's folder, output name), and the files to keep beside its result (every
        rendition but the first); nothing for a photo of one rendition."""
        if len(outcome.renditions) <= 1:
            return [], []
        outputs = dict(self.journal.outputs_of(job.id))
        exts = {r.name: r.encoding.ext for r in profile.all_renditions}
        listed: list[dict[str, Any]] = []
        extra: list[tuple[str, bytes, Path | None]] = []
        for index, rendered in enumerate(outcome.renditions):
            ext, output = exts[rendered.name], outputs[rendered.name]
            file = f"result.{ext}" if index == 0 else f"rendition-{index}.{ext}"
            listed.append({"name": rendered.name, "ext": ext, "file": file,
                           "output": output.name, "size": list(rendered.layout.canvas)})
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
        outputs = self._outputs(job, profile)
        before, alpha, cut = self._layers(job, base, profile, model)
        if cut is None and outputs:
            raise Refused(f"{job.source.name}: the original is gone or no longer frames like "
                          f"revision {base.number}, so its other renditions cannot be made "
                          "again: approve or reject it as it is, or shoot it again")
        segmenter = self.segmenter() if edit.prompts else refine.GrabCutSegmenter()
        key = (job.id, job.identity.mtime_ns, profile.name, profile.model, before.shape)
        alpha = refine.apply(key, before, alpha, edit, segmenter)
        params = {**edit.params, "base": base.number}
        params.update({k: base.params[k] for k in ("profile", "model", "framing")
                       if k in base.params})
        if edit.prompts:
            params["segmenter"] = segmenter.name
        return self._revision(job, "refine", params, profile, model, outputs, before, alpha,
                              cut, decontaminate=edit.decontaminate)

    def rerun(self, job_id: int, *, profile_name: str | None = None,
              model_name: str | None = None) -> Revision:
        """Cut the original again with another profile's settings or another model; return
        the candidate (published to this job's output when applied)."""
        job = self._finished(job_id)
        original = self._original(job)
        if original is None:
            raise Refused(f"{job.source.name}: the original is gone, so it cannot be re-run")
        profile, model = self._settings(job, profile_name, model_name)
        outputs = self._outputs(job, profile)
        try:
            cut = self._recut(job, profile, model)
        except StudiocutError as e:
            raise Refused(f"{job.source.name}: {e}") from e
        assert cut is not None  # the original is there: checked above
        framed = cut.framed
        params = {"profile": profile.name, "model": profile.model, "framing": framing(framed),
                  **backdrop(framed)}
        return self._revision(job, "rerun", params, profile, model, outputs, framed.before,
                              framed.alpha, cut)

    def _settings(self, job: Job, profile_name: str | None,
                  model_name: str | None) -> tuple[Profile, MaskModel]:
        """The job's profile and model, or another running profile's, or another model."""
        profile, model = self._running(job)
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

    def _outputs(self, job: Job, profile: Profile) -> dict[str, Path] | None:
        """Each rendition's reserved output, for a photo delivered as several renditions
        (None for one output); refused when ``profile`` renders other renditions than the
        photo was delivered as (its revision could not be published in their place)."""
        reserved = dict(self.journal.outputs_of(job.id))
        wanted = profile.all_renditions
        if not reserved and len(wanted) == 1:
            return None
        if [r.name for r in wanted] != list(reserved) or any(
                reserved[r.name].suffix.lower() != "." + r.encoding.ext for r in wanted):
            delivered = ", ".join(f"{n} ({p.name})" for n, p in reserved.items()) or \
                "one output"
            made = ", ".join(f"{r.name} (.{r.encoding.ext})" for r in wanted)
            raise Refused(f"{job.source.name}: profile {profile.name} makes {made}, but this "
                          f"photo was delivered as {delivered}: shoot it again to deliver it "
                          "anew", 400)
        return reserved

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

    def _revision(self, job: Job, kind: str, params: dict[str, Any], profile: Profile,
                  model: MaskModel, outputs: dict[str, Path] | None, before: np.ndarray,
                  alpha: np.ndarray, cut: Recut | None, *,
                  decontaminate: bool | None = None) -> Revision:
        """Render, encode and record a revision made of ``before`` and ``alpha`` on the first
        rendition's canvas: every rendition when the photo has several (``outputs``), each
        with studiocut's XMP fields and the number it is recorded as."""
        for _ in range(NUMBERING_TRIES):
            number = self.journal.next_revision(job.id)
            own = renditions.own(self.journal, job.id, number)
            made = self._encoded(job, profile, model, before, alpha, cut, own, decontaminate)
            listed: list[dict[str, Any]] = [] if outputs is None else [
                {"name": m.name, "ext": m.ext, "output": outputs[m.name].name,
                 "file": f"result.{m.ext}" if index == 0 else f"rendition-{index}.{m.ext}",
                 "size": list(m.size)} for index, m in enumerate(made)]
            if listed:
                params = {**params, "renditions": listed}
            ext = made[0].ext
            folder = self.store.write(job.id, before, alpha, made[0].data, ext, renditions=[
                (str(r["file"]), m.data, None)
                for r, m in zip(listed[1:], made[1:], strict=True)])
            h, w = alpha.shape
            with self._lock:
                now = self._get(job.id)
                if now.identity != job.identity or now.state != journal.DONE:
                    self.store.remove({folder})
                    raise Refused(f"{job.source.name} was shot again meanwhile: this {kind} "
                                  "was of the earlier photo")
                if self.journal.next_revision(job.id) == number:
                    return self.journal.add_revision(job.id, kind, params, (w, h), ext, folder)
            self.store.remove({folder})  # numbered in its XMP as another revision now is
        raise Refused(f"{job.source.name}: other revisions of it were being made at the same "
                      "time; try again")

    def _encoded(self, job: Job, profile: Profile, model: MaskModel, before: np.ndarray,
                 alpha: np.ndarray, cut: Recut | None, own: Own,
                 decontaminate: bool | None) -> list[Encoded]:
        """Every rendition of the revision, the first of ``before`` and ``alpha`` as they
        are; the others framed from the cut-out with ``alpha``'s changes carried onto it."""
        if cut is not None:
            several = len(profile.all_renditions) > 1
            subject = renditions.refined(cut, alpha) if several else cut.subject
            first = dataclasses.replace(cut.framed, before=before, alpha=alpha)
            return renditions.render_all(
                subject, model, profile, lineups=renditions.lineups(self.journal, job.id,
                                                                    profile),
                own=own, first=first, decontaminate=decontaminate)
        # made from the review copy: the original's metadata is not at hand
        image = pipeline.render(before, alpha, model, profile, decontaminate=decontaminate)
        data = encode.encode(image, profile.encoding, icc=decode.srgb_icc(),
                             metadata=pipeline.output_metadata(Metadata(), profile, own))
        h, w = alpha.shape
        return [Encoded(profile.all_renditions[0].name, profile.encoding.ext, (w, h), data)]

    def _layers(self, job: Job, base: Revision, profile: Profile, model: MaskModel,
                ) -> tuple[np.ndarray, np.ndarray, Recut | None]:
        """The base revision's alpha over the original's exact pixels (framed again from the
        original), or over its review copy when the original is gone or no longer frames the
        same; and the cut-out, when the original gave it."""
        alpha = self.store.alpha(base)
        try:
            cut = self._recut(job, profile, model)
        except StudiocutError as e:
            log.warning("%s: refining from the review copy: %s", job.source.name, e)
            cut = None
        if cut is not None and frames_like(cut.framed, base):
            return cut.framed.before, alpha, cut
        self.ensure_before(base)
        before, _ = self.store.layers(base)
        return before, alpha, None

    def _recut(self, job: Job, profile: Profile, model: MaskModel) -> Recut | None:
        """The job's original cut out again as ``profile`` cuts it and framed on its first
        rendition's canvas (None when the original is gone), cached for the next refine;
        raise StudiocutError when it cannot be. Runs the model outside the lock: other
        actions must not wait on it."""
        original = self._original(job)
        if original is None:
            return None
        key = (job.id, job.identity.mtime_ns, profile.name, profile.model)
        with self._lock:
            cut = self._recuts.get(key)
        if cut is not None:
            return cut
        cut = renditions.recut(original, model, profile,
                               renditions.lineups(self.journal, job.id, profile))
        with self._lock:
            self._recuts[key] = cut
            while len(self._recuts) > 2:  # each holds a full canvas: keep few
                self._recuts.popitem(last=False)
        return cut

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
            cut = self._recut(job, *self._running(job))
        except StudiocutError as e:
            raise FileNotFoundError(f"{job.source.name}: {e}") from e
        if cut is None:
            raise FileNotFoundError(f"{job.source.name}: the original is gone")
        framed = cut.framed
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
