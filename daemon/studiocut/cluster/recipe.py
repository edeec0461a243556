"""recipe: a profile's processing settings as the JSON a job carries, and back.

The station writes the profile's processing fields in the profile file's own words (the keys
a studio writes in YAML); the worker reads them back with the profiles' parser, so a recipe is
checked exactly as a profile is. Folder keys (watch, output, review folder, after) stay on
the station: only it publishes. The pipeline's version is part of the recipe, so a worker of
another version makes another job key; so is the profile's name, which studiocut's XMP
fields in the output name.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from studiocut import __version__
from studiocut.profiles import Profile, parse
from studiocut.profiles.schema import Canvas, Rgb

VERSION_KEY = "pipeline"
NAME_KEY = "profile"


def of(profile: Profile) -> dict[str, Any]:
    """The recipe of ``profile``: what a worker needs to make its photos as this station
    would."""
    enc = profile.encoding
    data: dict[str, Any] = {
        VERSION_KEY: __version__,
        NAME_KEY: profile.name,
        "model": profile.model,
        "device": profile.device,
        "require_gpu": profile.require_gpu,
        "provider_options": profile.provider_options,
        "backdrop": _colour(profile.backdrop),
        "format": enc.format, "quality": enc.quality, "png_level": enc.png_level,
        "tiff_compression": enc.tiff_compression, "icc": enc.icc, "dpi": enc.dpi,
        "name": enc.name,
        "matting": dataclasses.asdict(profile.matting),
        "cleanup": dataclasses.asdict(profile.cleanup),
        "limits": dataclasses.asdict(profile.limits),
        "metadata": dataclasses.asdict(profile.metadata),
        "canvas": _canvas(profile.canvas),
        "shadow": _shadow(profile),
        "review": False,
    }
    if profile.preset is not None:  # the worker checks its output against the preset too
        data["preset"] = profile.preset
    if profile.custom_model is not None:
        spec = profile.custom_model
        data["model"] = {"path": str(spec.path), "input_size": list(spec.input_size),
                         "mean": list(spec.mean), "std": list(spec.std), "output": spec.output,
                         "sha256": spec.sha256}
    if profile.review is not None:
        rules = dataclasses.asdict(profile.review)
        rules.pop("folder")  # the review copy is the station's
        data["review"] = rules
    if profile.key is not None:
        key = profile.key
        data["key"] = {"colour": "auto" if key.colour is None else _colour(key.colour),
                       "tolerance": list(key.tolerance), "spill": key.spill,
                       "assist": key.assist}
    if profile.prompt is not None:
        prompt = profile.prompt
        made: dict[str, Any] = {}
        if prompt.auto:
            made.update(auto=True, first_pass=prompt.first_pass)
        if prompt.box is not None:
            made["box"] = list(prompt.box)
        if prompt.points:
            made["points"] = [list(point) for point in prompt.points]
        data["prompt"] = made
    made_data: dict[str, Any] = _lists(data)
    return made_data


def profile_of(recipe: dict[str, Any], *, name: str) -> Profile:
    """The Profile a worker runs ``recipe`` with, named as the recipe says (``name`` when it
    does not); raise ConfigError as a profile file would (the version and name keys are the
    job's, not the profile file's)."""
    data = {k: v for k, v in recipe.items() if k not in (VERSION_KEY, NAME_KEY)}
    named = recipe.get(NAME_KEY)
    if isinstance(named, str) and named:
        name = named
    return parse(data, name=name, source=f"<recipe of {name}>")


def _canvas(canvas: Canvas | None) -> dict[str, Any] | bool:
    """The canvas as the profile file writes it: a margin or a fill, not both."""
    if canvas is None:
        return False
    written = dataclasses.asdict(canvas)
    written.pop("margin" if canvas.fill is not None else "fill")
    return written


def _shadow(profile: Profile) -> dict[str, Any]:
    """The shadow as the profile file writes it: its mode with the mode's settings."""
    shadow = profile.shadow
    settings: dict[str, Any] = {}
    if shadow.mode == "contact":
        settings = {"offset": shadow.offset, "blur": shadow.blur, "opacity": shadow.opacity}
    return {shadow.mode: settings, "transparent": shadow.transparent}


def _colour(rgb: Rgb | None) -> str:
    return "transparent" if rgb is None else "#{:02x}{:02x}{:02x}".format(*rgb)


def _lists(value: Any) -> Any:
    """Tuples as lists, as JSON and YAML have them: the parser takes lists."""
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_lists(v) for v in value]
    return value
