"""recipe: a profile's processing settings as the JSON a job carries, and back.

The station writes the profile's processing fields in the profile file's own words (the keys
a studio writes in YAML), its renditions each written whole; the worker reads them back with
the profiles' parser, so a recipe is checked exactly as a profile is. Folder keys (watch,
output, review folder, after) stay on the station: only it publishes. The pipeline's version
is part of the recipe, so a worker of another version makes another job key; so is the
profile's name, which studiocut's XMP fields in the output name.

What the station decided about this one photo travels beside the profile's keys: its SKU and
view (``product``: the station owns the folder order, the barcode cards and the view numbers),
the framing its SKU's first view set (``lineups``) and the revision the review page will keep
it as. All of them change the output, so all of them are part of the job key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from studiocut import __version__
from studiocut.errors import ConfigError
from studiocut.imaging.frame import Lineup
from studiocut.imaging.metadata import Own
from studiocut.imaging.naming import Product
from studiocut.profiles import Profile, parse
from studiocut.profiles.schema import Canvas, Rendition, Rgb

VERSION_KEY = "pipeline"
NAME_KEY = "profile"
PRODUCT_KEY = "product"  # {"sku": "AB-12", "view": 2}
LINEUPS_KEY = "lineups"  # {rendition: [scale, floor]}
REVISION_KEY = "revision"
JOB_KEYS = (VERSION_KEY, NAME_KEY, PRODUCT_KEY, LINEUPS_KEY, REVISION_KEY)


@dataclass(frozen=True)
class Job:
    """What a worker makes one photo with: the ``profile``, and what the station decided
    for the photo: its ``product`` (SKU and view), its SKU's ``lineups`` by rendition and
    its ``revision``."""

    profile: Profile
    product: Product | None = None
    lineups: Mapping[str, Lineup] = field(default_factory=dict)
    revision: int | None = None

    @property
    def own(self) -> Own:
        """studiocut's XMP fields the job knows, as the station's Work gives them."""
        product = self.product
        return Own(sku=product.sku if product else None,
                   view=str(product.view) if product else None,
                   revision=None if self.revision is None else str(self.revision))


def of(profile: Profile, *, product: Product | None = None,
       lineups: Mapping[str, Lineup] | None = None,
       revision: int | None = None) -> dict[str, Any]:
    """The recipe of ``profile`` for one photo (its ``product``, its SKU's ``lineups``, its
    ``revision``, where the station knows them): what a worker needs to make it as this
    station would."""
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
    if profile.renditions:
        data["renditions"] = [_rendition(r) for r in profile.renditions]
    if profile.sku is not None:  # the templates that name {sku} need it to parse
        data["sku"] = {"from": profile.sku.source, "consistent": profile.sku.consistent}
    if product is not None:
        data[PRODUCT_KEY] = {"sku": product.sku, "view": product.view}
    if lineups:
        data[LINEUPS_KEY] = {name: [lineup.scale, lineup.floor]
                             for name, lineup in sorted(lineups.items())}
    if revision is not None:
        data[REVISION_KEY] = revision
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
    does not); raise ConfigError as a profile file would (the version, name and the photo's
    own keys are the job's, not the profile file's)."""
    data = {k: v for k, v in recipe.items() if k not in JOB_KEYS}
    named = recipe.get(NAME_KEY)
    if isinstance(named, str) and named:
        name = named
    return parse(data, name=name, source=f"<recipe of {name}>")


def job_of(recipe: dict[str, Any], *, name: str) -> Job:
    """The Job a worker runs ``recipe`` as: its profile (``profile_of``) and the photo's
    product, lineups and revision; raise ConfigError naming each key that is not as a
    station writes it."""
    profile = profile_of(recipe, name=name)
    source = f"<recipe of {profile.name}>"
    problems = []
    product = recipe.get(PRODUCT_KEY)
    if product is not None:
        if not (isinstance(product, dict) and set(product) == {"sku", "view"}
                and isinstance(product["sku"], str) and product["sku"]
                and _whole(product["view"], 1)):
            problems.append(f"{source}: At '{PRODUCT_KEY}': must be {{sku: TEXT, view: N}} "
                            f"(got {product!r})")
            product = None
        else:
            product = Product(product["sku"], product["view"])
    lineups = recipe.get(LINEUPS_KEY) or {}
    named = {r.name for r in profile.all_renditions}
    if not (isinstance(lineups, dict) and all(
            name in named and isinstance(pair, list) and len(pair) == 2
            and isinstance(pair[0], (int, float)) and not isinstance(pair[0], bool)
            and pair[0] > 0 and _whole(pair[1], 0) for name, pair in lineups.items())):
        problems.append(f"{source}: At '{LINEUPS_KEY}': must map the profile's renditions "
                        f"to [scale, floor line] (got {lineups!r})")
        lineups = {}
    revision = recipe.get(REVISION_KEY)
    if revision is not None and not _whole(revision, 1):
        problems.append(f"{source}: At '{REVISION_KEY}': must be a revision number "
                        f"(got {revision!r})")
        revision = None
    if problems:
        raise ConfigError(problems)
    return Job(profile, product, {name: Lineup(float(scale), floor)
                                  for name, (scale, floor) in lineups.items()}, revision)


def _whole(value: object, lowest: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= lowest


def _rendition(rendition: Rendition) -> dict[str, Any]:
    """One rendition with every key written, so none falls back on the profile's own or its
    preset's defaults when the worker parses it: it comes back the same. Its folder and
    suffix name no file on the worker; they travel because the parser checks that no two
    renditions write the same files."""
    enc = rendition.encoding
    return {"name": rendition.name, "preset": rendition.preset or "none",
            "backdrop": _colour(rendition.backdrop), "canvas": _canvas(rendition.canvas),
            "format": enc.format, "quality": enc.quality, "png_level": enc.png_level,
            "tiff_compression": enc.tiff_compression, "dpi": enc.dpi, "file_name": enc.name,
            "folder": rendition.folder, "suffix": rendition.suffix}


def _shadow(profile: Profile) -> dict[str, Any]:
    """The shadow as the profile file writes it: its mode with the mode's settings."""
    shadow = profile.shadow
    settings: dict[str, Any] = {}
    if shadow.mode == "contact":
        settings = {"offset": shadow.offset, "blur": shadow.blur, "opacity": shadow.opacity}
    return {shadow.mode: settings, "transparent": shadow.transparent}


def _canvas(canvas: Canvas | None) -> dict[str, Any] | bool:
    """The canvas as the profile file writes it: a margin or a fill, not both."""
    if canvas is None:
        return False
    written = dataclasses.asdict(canvas)
    written.pop("margin" if canvas.fill is not None else "fill")
    return written


def _colour(rgb: Rgb | None) -> str:
    return "transparent" if rgb is None else "#{:02x}{:02x}{:02x}".format(*rgb)


def _lists(value: Any) -> Any:
    """Tuples as lists, as JSON and YAML have them: the parser takes lists."""
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_lists(v) for v in value]
    return value
