"""Profiles: the YAML file a studio edits by hand, parsed once into frozen dataclasses.

Validation collects every problem of a file before raising, each reported as
``<file>: At '<dotted.key>': <problem> (got <value>; expected <choices>)``. Structural checks
(types, ranges, unknown keys) come first, cross-field checks second; both raise ConfigError.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml

from studiocut.errors import ConfigError

if TYPE_CHECKING:
    from studiocut.models.registry import KeySettings, ModelSpec, Prompt, Request

MAX_PROFILE_BYTES = 1_000_000
MAX_YAML_NODES = 10_000

FORMATS = ("jpeg", "png", "webp", "tiff")
EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "tiff": "tif"}
TIFF_COMPRESSIONS = ("none", "lzw", "deflate")
NAME_FIELDS = ("stem", "ext", "source_ext", "profile")

Rgb = tuple[int, int, int]


@dataclass(frozen=True)
class Limits:
    """Bounds on what one input may cost."""

    max_pixels: int = 120_000_000
    max_bytes: int = 2_000_000_000


@dataclass(frozen=True)
class Matting:
    """Soft alpha matting around the subject's edge. The unknown zone of the trimap is the
    mask's 0.5 contour widened by ``band``, plus wherever the mask itself is unsure (between
    the two ``uncertain`` thresholds) widened by ``grow``; both are fractions of the working
    image's long side. Alpha is solved on at most ``max_pixels`` pixels and upsampled along
    the image's edges. The defaults won on shared/eval/alphamatting (see bench/quality.py)."""

    enabled: bool = False
    band: float = 0.00625
    uncertain: tuple[float, float] = (0.3, 0.7)
    grow: float = 0.0125
    max_pixels: int = 500_000
    decontaminate: bool = True


@dataclass(frozen=True)
class Cleanup:
    """Mask clean-up, in fractions of the subject's area: drop specks (islands) smaller than
    ``min_island``, fill holes smaller than ``max_hole``; keep ``all`` subjects at least
    ``min_subject`` of the largest, or only the ``largest``."""

    min_island: float = 0.001
    max_hole: float = 0.0
    keep: Literal["all", "largest"] = "all"
    min_subject: float = 0.0


@dataclass(frozen=True)
class Review:
    """Which results get a human look: each signal's limit (None turns it off). Flagged
    results are copied to ``folder`` (default: beside the output folder, named
    ``<output>-review``) with the reasons in a sidecar; ``hold`` keeps them from the output
    until approved (the review page)."""

    max_uncertain: float | None = 0.25
    touches_border: bool = True
    min_area: float | None = 0.02
    max_area: float | None = 0.9
    several_subjects: bool = True
    min_confidence: float | None = 0.75
    folder: Path | None = None
    hold: Literal["none", "flagged", "all"] = "none"


@dataclass(frozen=True)
class Square:
    """Marketplace framing: the subject centred (or standing on a floor) in an N x N canvas."""

    size: int = 2000
    margin: float = 0.05
    placement: Literal["center", "bottom"] = "center"
    floor: float = 0.05
    max_upscale: float = 1.5
    min_size: int | None = None

    def margin_px(self, canvas: int) -> float:
        """Margin in pixels for a canvas of ``canvas`` px: a fraction below 1, else pixels."""
        return self.margin * canvas if self.margin < 1 else self.margin * canvas / self.size

    def floor_px(self, canvas: int) -> float:
        return self.floor * canvas if self.floor < 1 else self.floor * canvas / self.size


@dataclass(frozen=True)
class Encoding:
    """How the finished image is written."""

    format: str = "jpeg"
    quality: int = 92
    png_level: int = 1
    tiff_compression: str = "deflate"
    icc: Literal["srgb", "original"] = "srgb"
    dpi: int = 300
    name: str = "{stem}.{ext}"

    @property
    def ext(self) -> str:
        return EXTENSIONS[self.format]


@dataclass(frozen=True)
class Profile:
    """Everything that decides how one folder's photos are processed."""

    name: str
    path: Path | None = None
    watch: Path | None = None
    output: Path | None = None
    model: str = "u2netp"
    custom_model: ModelSpec | None = None
    device: str = "auto"
    require_gpu: bool = False
    provider_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    prompt: Prompt | None = None
    key: KeySettings | None = None
    cleanup: Cleanup = field(default_factory=Cleanup)
    review: Review | None = field(default_factory=Review)
    matting: Matting = field(default_factory=Matting)
    backdrop: Rgb | None = (255, 255, 255)
    square: Square | None = None
    encoding: Encoding = field(default_factory=Encoding)
    limits: Limits = field(default_factory=Limits)
    # hot-folder settings, used by the daemon
    recursive: bool = True
    include: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    settle: float = 1.0
    watch_mode: Literal["native", "polling"] = "native"
    poll_interval: float = 2.0
    after: Literal["keep", "delete", "move"] = "keep"
    move_to: Path | None = None
    failed: Path | None = None
    retries: int = 3

    @property
    def transparent(self) -> bool:
        return self.backdrop is None

    def model_request(self, *, threads: int = 0, cache_dir: Path | None = None) -> Request:
        """What to ask the model registry for: the model, where it runs, its prompt."""
        from studiocut.models.registry import Placement, Request, spec_for

        spec = self.custom_model or spec_for(self.model)
        placement = Placement(device=self.device, require_gpu=self.require_gpu,
                              threads=threads, options=self.provider_options,
                              cache_dir=cache_dir)
        return Request(spec, placement, self.prompt, self.key)


DEFAULT_INCLUDE = (
    "*.jpg", "*.jpeg", "*.png", "*.tif", "*.tiff", "*.webp", "*.bmp", "*.gif",
    "*.heic", "*.heif", "*.cr2", "*.cr3", "*.nef", "*.arw", "*.dng", "*.raf", "*.orf", "*.rw2",
)  # fmt: skip


# --------------------------------------------------------------------------- parsing helpers


class _Problems:
    """Collects findings of one file, formatted the one way every finding is formatted."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[str] = []

    def add(self, key: str, problem: str, got: object = None, expected: str | None = None) -> None:
        detail = []
        if got is not None:
            detail.append(f"got {_show(got)}")
        if expected:
            detail.append(f"expected {expected}")
        suffix = f" ({'; '.join(detail)})" if detail else ""
        self.items.append(f"{self.source}: At '{key}': {problem}{suffix}")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_MISSING = object()


def _unknown_keys(
    data: Mapping[str, Any], known: tuple[str, ...], prefix: str, p: _Problems
) -> None:
    for key in data:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"one of {', '.join(known)}"
        p.add(f"{prefix}{key}", "unknown key", expected=hint)


def _bool(value: object, key: str, p: _Problems, default: bool) -> bool:
    if value is _MISSING:
        return default
    if isinstance(value, bool):
        return value
    p.add(key, "must be true or false", value, "true | false")
    return default


def _number(
    value: object, key: str, p: _Problems, default: float, *, lo: float, hi: float,
    integer: bool = False,
) -> Any:
    if value is _MISSING:
        return default
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type:
        kind = "an integer" if integer else "a number"
        p.add(key, f"must be {kind}", value, f"{lo:g} to {hi:g}")
        return default
    assert isinstance(value, (int, float))
    if not lo <= value <= hi:
        p.add(key, "out of range", value, f"{lo:g} to {hi:g}")
        return default
    return value


def _choice(value: object, key: str, p: _Problems, default: str, choices: tuple[str, ...]) -> Any:
    if value is _MISSING:
        return default
    if isinstance(value, str) and value.lower() in choices:
        return value.lower()
    p.add(key, "not a valid choice", value, " | ".join(choices))
    return default


def _path(value: object, key: str, p: _Problems, base: Path | None) -> Path | None:
    if value is _MISSING or value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        p.add(key, "must be a folder path", value, "a path such as ~/studio/inbox")
        return None
    path = Path(value).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    return Path(_normpath(path))


def _normpath(path: Path) -> str:
    import os

    return os.path.normpath(os.path.abspath(path))


def _globs(value: object, key: str, p: _Problems) -> tuple[str, ...]:
    if value is _MISSING or value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    p.add(key, "must be a list of file patterns", value, "e.g. ['*.jpg', '*.tif']")
    return ()


_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


def parse_colour(value: object) -> Rgb | None:
    """Return (r, g, b) for ``"#RRGGBB"``, None for ``transparent``; raise ValueError otherwise."""
    if isinstance(value, str):
        if value.strip().lower() == "transparent":
            return None
        m = _HEX.match(value.strip())
        if m:
            h = m.group(1)
            return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))
    if (
        isinstance(value, list)
        and len(value) == 3
        and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value)
    ):
        return (value[0], value[1], value[2])
    raise ValueError(value)


def check_name_template(template: str) -> str | None:
    """Return a problem with an output-name template, or None when it is safe.

    Only the fields in NAME_FIELDS are allowed, with no attribute or index access and no
    conversion; the result may not name a folder (no separators, no ``..``)."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as e:
        return f"not a valid template: {e}"
    fields = []
    for literal, name, spec, conversion in parts:
        if "/" in literal or "\\" in literal or ":" in literal or "\x00" in literal:
            return "may not contain path separators"
        if name is None:
            continue
        if name not in NAME_FIELDS:
            return f"unknown field '{{{name}}}'"
        if spec or conversion:
            return f"field '{{{name}}}' may not have a format spec or conversion"
        fields.append(name)
    if "stem" not in fields:
        return "must contain {stem}, or every photo would get the same name"
    rendered = template.format(stem="x", ext="jpg", source_ext="cr2", profile="p")
    if rendered.startswith(".") or rendered in ("", ".", ".."):
        return "may not start with a dot"
    return None


# --------------------------------------------------------------------------- sections


def _matting(value: object, p: _Problems) -> Matting:
    if value is _MISSING:
        return Matting()
    if isinstance(value, bool):
        return Matting(enabled=value)
    if not isinstance(value, dict):
        p.add("matting", "must be true, false or a mapping", value, "true | false | {band: 0.01}")
        return Matting()
    known = ("enabled", "band", "uncertain", "grow", "max_pixels", "decontaminate")
    _unknown_keys(value, known, "matting.", p)
    d = Matting()
    uncertain = value.get("uncertain", list(d.uncertain))
    if not (isinstance(uncertain, list) and len(uncertain) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in uncertain)
            and 0 < uncertain[0] < uncertain[1] < 1):
        p.add("matting.uncertain", "must be two thresholds between 0 and 1, low first",
              uncertain, "[0.3, 0.7]")
        uncertain = list(d.uncertain)
    return Matting(
        enabled=_bool(value.get("enabled", True), "matting.enabled", p, True),
        band=_number(value.get("band", _MISSING), "matting.band", p, d.band, lo=0.001, hi=0.2),
        uncertain=(float(uncertain[0]), float(uncertain[1])),
        grow=_number(value.get("grow", _MISSING), "matting.grow", p, d.grow, lo=0, hi=0.2),
        max_pixels=_number(
            value.get("max_pixels", _MISSING), "matting.max_pixels", p, d.max_pixels,
            lo=10_000, hi=50_000_000, integer=True,
        ),
        decontaminate=_bool(value.get("decontaminate", _MISSING), "matting.decontaminate", p,
                            d.decontaminate),
    )


def _square(value: object, p: _Problems) -> Square | None:
    if value is _MISSING or value is False or value is None:
        return None
    if value is True:
        return Square()
    if not isinstance(value, dict):
        p.add("square", "must be false or a mapping", value, "false | {size: 2000, margin: 0.05}")
        return None
    known = ("size", "margin", "placement", "floor", "max_upscale", "min_size")
    _unknown_keys(value, known, "square.", p)
    d = Square()
    size = _number(value.get("size", _MISSING), "square.size", p, d.size,
                   lo=16, hi=20000, integer=True)
    margin = _number(value.get("margin", _MISSING), "square.margin", p, d.margin, lo=0, hi=size)
    if 0.5 <= margin < 1 or (margin >= 1 and margin * 2 >= size):
        p.add("square.margin", "leaves no room for the subject", margin,
              "a fraction below 0.5, or pixels below half the size")
    min_size = value.get("min_size", _MISSING)
    return Square(
        size=size,
        margin=margin,
        placement=_choice(value.get("placement", _MISSING), "square.placement", p,
                          d.placement, ("center", "bottom")),
        floor=_number(value.get("floor", _MISSING), "square.floor", p, d.floor, lo=0, hi=size / 2),
        max_upscale=_number(value.get("max_upscale", _MISSING), "square.max_upscale", p,
                            d.max_upscale, lo=0.01, hi=16),
        min_size=None if min_size in (_MISSING, None) else _number(
            min_size, "square.min_size", p, 0, lo=16, hi=size, integer=True) or None,
    )


def _limits(value: object, p: _Problems) -> Limits:
    if value is _MISSING:
        return Limits()
    if not isinstance(value, dict):
        p.add("limits", "must be a mapping", value, "{max_pixels: 120000000}")
        return Limits()
    _unknown_keys(value, ("max_pixels", "max_bytes"), "limits.", p)
    d = Limits()
    return Limits(
        max_pixels=_number(value.get("max_pixels", _MISSING), "limits.max_pixels", p,
                           d.max_pixels, lo=1, hi=2_000_000_000, integer=True),
        max_bytes=_number(value.get("max_bytes", _MISSING), "limits.max_bytes", p,
                          d.max_bytes, lo=1, hi=1 << 40, integer=True),
    )


def _registry() -> dict[str, ModelSpec]:
    from studiocut.models.registry import MODELS

    return MODELS


def _model(value: object, p: _Problems, base: Path | None) -> tuple[str, ModelSpec | None]:
    """A registry name, or a mapping describing a studio's own ONNX export."""
    if isinstance(value, str) and value:
        if value not in _registry():
            p.add("model", "unknown model", value, " | ".join(sorted(_registry())))
        return value, None
    if not isinstance(value, dict):
        p.add("model", "must be a model name or a mapping", value,
              "u2netp | {path: my.onnx, input_size: [320, 320]}")
        return "u2netp", None
    from studiocut.models.registry import ModelSpec

    known = ("path", "input_size", "mean", "std", "output", "sha256")
    _unknown_keys(value, known, "model.", p)
    path = _path(value.get("path", _MISSING), "model.path", p, base)
    if path is None:
        p.add("model.path", "a custom model needs the path of its .onnx file",
              expected="path: models/my-export.onnx")
    size = value.get("input_size", [320, 320])
    if not (isinstance(size, list) and len(size) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) and 16 <= v <= 8192 for v in size)):
        p.add("model.input_size", "must be [width, height] in pixels", size, "[320, 320]")
        size = [320, 320]
    triples = {}
    for key, default in (("mean", (0.485, 0.456, 0.406)), ("std", (0.229, 0.224, 0.225))):
        triple = value.get(key, list(default))
        if not (isinstance(triple, list) and len(triple) == 3 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in triple)):
            p.add(f"model.{key}", "must be three numbers (R, G, B)", triple, str(list(default)))
            triple = list(default)
        if key == "std" and any(v == 0 for v in triple):
            p.add("model.std", "cannot contain 0", triple, "[0.229, 0.224, 0.225]")
            triple = list(default)
        triples[key] = (float(triple[0]), float(triple[1]), float(triple[2]))
    output = _choice(value.get("output", _MISSING), "model.output", p, "minmax",
                     ("minmax", "sigmoid"))
    sha256 = value.get("sha256", "")
    if not isinstance(sha256, str) or (sha256 and not re.fullmatch(r"[0-9a-fA-F]{64}", sha256)):
        p.add("model.sha256", "must be a 64-digit hex sha256", sha256, "the file's sha256")
        sha256 = ""
    name = f"custom:{path.stem}" if path is not None else "custom"
    spec = ModelSpec(name, "custom", file=path.name if path else "", sha256=sha256.lower(),
                     input_size=(size[0], size[1]), mean=triples["mean"], std=triples["std"],
                     output=output, licence="the studio's own", path=path)
    return name, spec


def _prompt(value: object, p: _Problems) -> Prompt | None:
    """``auto``, ``{box: [x0, y0, x1, y1]}`` or ``{points: [[x, y, label], ...]}`` in fractions
    of the frame (label 1 keeps, 0 removes), or ``{auto: true, first_pass: MODEL}``: the box
    of that saliency model's mask (u2netp unless named)."""
    if value is _MISSING or value is None:
        return None
    from studiocut.models.registry import Prompt

    if value == "auto":
        return Prompt(auto=True)
    if not isinstance(value, dict):
        p.add("prompt", "must be auto or a mapping", value,
              "auto | {box: [0.1, 0.1, 0.9, 0.9]} | {points: [[0.5, 0.5, 1]]}")
        return None
    _unknown_keys(value, ("box", "points", "auto", "first_pass"), "prompt.", p)
    auto = _bool(value.get("auto", _MISSING), "prompt.auto", p, False)
    box = value.get("box")
    points = value.get("points", [])
    if box is not None and not (isinstance(box, list) and len(box) == 4 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1 for v in box)
            and box[0] < box[2] and box[1] < box[3]):
        p.add("prompt.box", "must be [x0, y0, x1, y1], fractions of the frame with x0 < x1 and "
              "y0 < y1", box, "[0.1, 0.1, 0.9, 0.9]")
        box = None
    good_points: list[tuple[float, float, int]] = []
    if not isinstance(points, list):
        p.add("prompt.points", "must be a list of [x, y, label]", points, "[[0.5, 0.5, 1]]")
        points = []
    for i, point in enumerate(points):
        if (isinstance(point, list) and len(point) == 3 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in point)
                and 0 <= point[0] <= 1 and 0 <= point[1] <= 1 and point[2] in (0, 1)):
            good_points.append((float(point[0]), float(point[1]), int(point[2])))
        else:
            p.add(f"prompt.points.{i}", "must be [x, y, label] with x, y fractions of the frame "
                  "and label 1 (keep) or 0 (remove)", point, "[0.5, 0.5, 1]")
    if auto and box is not None:
        p.add("prompt.box", "cannot be combined with auto: true, which makes the box", box,
              "a box, or auto: true")
        box = None
    if all(value.get(key) in (None, False, []) for key in ("box", "points", "auto")):
        p.add("prompt", "needs a box, at least one point, or auto: true", value,
              "{box: [...]} | auto")
    first_pass = value.get("first_pass", "u2netp")
    saliency = sorted(n for n, s in _registry().items() if s.family != "sam")
    if first_pass not in saliency:
        p.add("prompt.first_pass", "must be a model that is not Segment Anything", first_pass,
              " | ".join(saliency))
        first_pass = "u2netp"
    elif "first_pass" in value and not auto:
        p.add("prompt.first_pass", "is only used with auto: true", first_pass, "auto: true")
    return Prompt(box=tuple(box) if box else None, points=tuple(good_points), auto=auto,
                  first_pass=first_pass)


def _fraction_or_off(value: object, key: str, p: _Problems, default: float | None) -> Any:
    if value is _MISSING:
        return default
    if value is None or value is False:
        return None
    return _number(value, key, p, default or 0.0, lo=0.0, hi=1.0)


ASSIST_FAMILIES = ("u2net", "isnet", "birefnet", "bria")  # saliency: one image in, one map out


def _key(value: object, p: _Problems) -> KeySettings | None:
    if value is _MISSING or value is None:
        return None
    from studiocut.models.registry import KeySettings

    if not isinstance(value, dict):
        p.add("key", "must be a mapping", value, "{colour: auto, tolerance: [12, 40]}")
        return None
    _unknown_keys(value, ("colour", "tolerance", "spill", "assist"), "key.", p)
    colour = None
    raw = value.get("colour", "auto")
    if raw != "auto":
        try:
            colour = parse_colour(raw)
        except ValueError:
            colour = None
        if colour is None:
            p.add("key.colour", "not a colour", raw, 'auto | "#RRGGBB"')
    tolerance = value.get("tolerance", [12, 40])
    if not (isinstance(tolerance, list) and len(tolerance) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in tolerance)
            and 0 <= tolerance[0] < tolerance[1] <= 200):
        p.add("key.tolerance", "must be two Lab distances, low first", tolerance, "[12, 40]")
        tolerance = [12, 40]
    assist = value.get("assist", "auto")
    registry = _registry()
    if assist not in ("auto", "none") and not (
            isinstance(assist, str) and assist in registry
            and registry[assist].family in ASSIST_FAMILIES):
        p.add("key.assist", "not a saliency model", assist,
              "auto | none | " + " | ".join(n for n, s in sorted(registry.items())
                                             if s.family in ASSIST_FAMILIES))
        assist = "auto"
    return KeySettings(colour=colour, tolerance=(float(tolerance[0]), float(tolerance[1])),
                       spill=_bool(value.get("spill", _MISSING), "key.spill", p, True),
                       assist=assist)


def _cleanup(value: object, p: _Problems) -> Cleanup:
    if value is _MISSING or value is None:
        return Cleanup()
    if value is False:
        return Cleanup(min_island=0.0)
    if not isinstance(value, dict):
        p.add("cleanup", "must be a mapping or false", value, "{min_island: 0.01}")
        return Cleanup()
    _unknown_keys(value, ("min_island", "max_hole", "keep", "min_subject"), "cleanup.", p)
    d = Cleanup()
    return Cleanup(
        min_island=_number(value.get("min_island", _MISSING), "cleanup.min_island", p,
                           d.min_island, lo=0, hi=1),
        max_hole=_number(value.get("max_hole", _MISSING), "cleanup.max_hole", p, d.max_hole,
                         lo=0, hi=1),
        keep=_choice(value.get("keep", _MISSING), "cleanup.keep", p, d.keep,
                     ("all", "largest")),
        min_subject=_number(value.get("min_subject", _MISSING), "cleanup.min_subject", p,
                            d.min_subject, lo=0, hi=1),
    )


def _review(value: object, p: _Problems, base: Path | None) -> Review | None:
    if value is _MISSING:
        return Review()
    if value is None or value is False:
        return None
    if not isinstance(value, dict):
        p.add("review", "must be a mapping or false", value, "{max_uncertain: 0.2}")
        return Review()
    known = ("max_uncertain", "touches_border", "min_area", "max_area", "several_subjects",
             "min_confidence", "folder", "hold")
    _unknown_keys(value, known, "review.", p)
    d = Review()
    get = value.get
    return Review(
        max_uncertain=_fraction_or_off(get("max_uncertain", _MISSING), "review.max_uncertain",
                                       p, d.max_uncertain),
        touches_border=_bool(get("touches_border", _MISSING), "review.touches_border", p,
                             d.touches_border),
        min_area=_fraction_or_off(get("min_area", _MISSING), "review.min_area", p, d.min_area),
        max_area=_fraction_or_off(get("max_area", _MISSING), "review.max_area", p, d.max_area),
        several_subjects=_bool(get("several_subjects", _MISSING), "review.several_subjects",
                               p, d.several_subjects),
        min_confidence=_fraction_or_off(get("min_confidence", _MISSING),
                                        "review.min_confidence", p, d.min_confidence),
        folder=_path(get("folder", _MISSING), "review.folder", p, base),
        hold=_choice(get("hold", _MISSING), "review.hold", p, d.hold,
                     ("none", "flagged", "all")),
    )


TOP_KEYS = (
    "watch", "output", "model", "matting", "backdrop", "square", "format", "quality",
    "png_level", "tiff_compression", "icc", "dpi", "name", "limits", "recursive", "include",
    "ignore", "settle", "watch_mode", "poll_interval", "after", "failed", "retries",
    "device", "require_gpu", "provider_options", "prompt", "key", "cleanup", "review",
)  # fmt: skip


def parse(data: object, *, name: str, source: str, base: Path | None = None) -> Profile:
    """Given the loaded YAML of one profile, return the Profile; raise ConfigError listing
    every problem found. Relative folders are taken relative to ``base``."""
    p = _Problems(source)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        p.add("(top)", "a profile must be a mapping of keys", data, "key: value lines")
        raise ConfigError(p.items)
    _unknown_keys(data, TOP_KEYS, "", p)
    get = data.get

    backdrop: Rgb | None = (255, 255, 255)
    if "backdrop" in data:
        try:
            backdrop = parse_colour(data["backdrop"])
        except ValueError:
            p.add("backdrop", "not a colour", data["backdrop"], '"#RRGGBB" | transparent')
    default_format = "png" if backdrop is None else "jpeg"
    encoding = Encoding(
        format=_choice(get("format", _MISSING), "format", p, default_format, FORMATS),
        quality=_number(get("quality", _MISSING), "quality", p, 92, lo=1, hi=100, integer=True),
        png_level=_number(get("png_level", _MISSING), "png_level", p, 1, lo=0, hi=9,
                          integer=True),
        tiff_compression=_choice(get("tiff_compression", _MISSING), "tiff_compression", p,
                                 "deflate", TIFF_COMPRESSIONS),
        icc=_choice(get("icc", _MISSING), "icc", p, "srgb", ("srgb", "original")),
        dpi=_number(get("dpi", _MISSING), "dpi", p, 300, lo=1, hi=10000, integer=True),
        name=get("name", "{stem}.{ext}"),
    )
    if not isinstance(encoding.name, str):
        p.add("name", "must be a text template", encoding.name, "e.g. '{stem}.{ext}'")
        encoding = replace(encoding, name="{stem}.{ext}")
    elif (problem := check_name_template(encoding.name)) is not None:
        p.add("name", problem, encoding.name,
              "a file name using " + ", ".join(f"{{{f}}}" for f in NAME_FIELDS))

    model, custom_model = _model(get("model", "u2netp"), p, base)
    prompt = _prompt(get("prompt", _MISSING), p)
    if prompt is not None and (custom_model is not None or (
            model in _registry() and _registry()[model].family != "sam")):
        p.add("prompt", "only Segment Anything models take a prompt", model,
              " | ".join(n for n, s in sorted(_registry().items()) if s.family == "sam"))
    from studiocut.models.registry import CPU, DEVICE_CHOICES, DEVICES

    device = _choice(get("device", _MISSING), "device", p, "auto", DEVICE_CHOICES)
    provider_options = get("provider_options", {})
    if not isinstance(provider_options, dict) or not all(
            isinstance(k, str) and isinstance(v, dict) for k, v in provider_options.items()):
        p.add("provider_options", "must map provider names to option mappings",
              provider_options, "{CUDAExecutionProvider: {device_id: 1}}")
        provider_options = {}
    # only providers studiocut can choose; values onnxruntime takes (and a session key can hold)
    known = tuple(dict.fromkeys([*(n for names in DEVICES.values() for n in names), CPU]))
    _unknown_keys(provider_options, known, "provider_options.", p)
    for provider, options in provider_options.items():
        for key, option in options.items():
            if not isinstance(key, str) or not isinstance(option, (str, int, float)):
                p.add(f"provider_options.{provider}.{key}", "must be an option name with a "
                      "single value", option, "a string, a number, true or false")

    after_value = get("after", "keep")
    after, move_to = "keep", None
    if isinstance(after_value, dict) and set(after_value) == {"move"}:
        after, move_to = "move", _path(after_value["move"], "after.move", p, base)
    elif isinstance(after_value, str) and after_value in ("keep", "delete"):
        after = after_value
    else:
        p.add("after", "not a valid choice", after_value, "keep | delete | {move: FOLDER}")

    profile = Profile(
        name=name,
        path=Path(source) if source and not source.startswith("<") else None,
        watch=_path(get("watch", _MISSING), "watch", p, base),
        output=_path(get("output", _MISSING), "output", p, base),
        model=model,
        custom_model=custom_model,
        device=device,
        require_gpu=_bool(get("require_gpu", _MISSING), "require_gpu", p, False),
        provider_options=provider_options,
        prompt=prompt,
        key=_key(get("key", _MISSING), p),
        cleanup=_cleanup(get("cleanup", _MISSING), p),
        review=_review(get("review", _MISSING), p, base),
        matting=_matting(get("matting", _MISSING), p),
        backdrop=backdrop,
        square=_square(get("square", _MISSING), p),
        encoding=encoding,
        limits=_limits(get("limits", _MISSING), p),
        recursive=_bool(get("recursive", _MISSING), "recursive", p, True),
        include=_globs(get("include", _MISSING), "include", p) or DEFAULT_INCLUDE,
        ignore=_globs(get("ignore", _MISSING), "ignore", p),
        settle=_number(get("settle", _MISSING), "settle", p, 1.0, lo=0, hi=3600),
        watch_mode=_choice(get("watch_mode", _MISSING), "watch_mode", p, "native",
                           ("native", "polling")),
        poll_interval=_number(get("poll_interval", _MISSING), "poll_interval", p, 2.0,
                              lo=0.1, hi=3600),
        after=after,  # type: ignore[arg-type]
        move_to=move_to,
        failed=_path(get("failed", _MISSING), "failed", p, base),
        retries=_number(get("retries", _MISSING), "retries", p, 3, lo=0, hi=100, integer=True),
    )
    if not p.items:
        _cross_checks(profile, p)
    if p.items:
        raise ConfigError(p.items)
    return profile


def _cross_checks(profile: Profile, p: _Problems) -> None:
    if profile.key is not None and profile.model != "backdrop-key":
        p.add("key", "only the backdrop-key model uses key settings", profile.model,
              "model: backdrop-key, or remove 'key'")
    if profile.require_gpu and profile.device == "cpu":
        p.add("require_gpu", "cannot be met with device: cpu", True,
              "false, or a GPU device such as auto or cuda")
    enc = profile.encoding
    if profile.transparent and enc.format == "jpeg":
        p.add("format", "JPEG cannot hold transparency; with 'backdrop: transparent'",
              enc.format, "png | webp | tiff")
    watch, output = profile.watch, profile.output
    if watch is not None and output is not None:
        if inside(output, watch) and profile.recursive:
            p.add("output", "the output folder is inside the watched folder, so outputs would "
                  "be processed again", str(output), "a folder outside " + str(watch))
        if output == watch:
            p.add("output", "the output folder is the watched folder", str(output),
                  "a separate folder")
    review_folder = profile.review.folder if profile.review is not None else None
    for key, folder in (("after.move", profile.move_to), ("failed", profile.failed),
                        ("review.folder", review_folder)):
        within = folder is not None and watch is not None and inside(folder, watch)
        if within and profile.recursive:
            p.add(key, "this folder is inside the watched folder", str(folder),
                  "a folder outside " + str(watch))


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or below it (by name: neither needs to exist)."""
    return path == folder or folder in path.parents


# --------------------------------------------------------------------------- loading files


class _SafeLoader(yaml.SafeLoader):
    """safe_load with a bound on nodes, so alias bombs ("billion laughs") are refused."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._nodes = 0

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        self._nodes += 1
        if self._nodes > MAX_YAML_NODES:
            raise yaml.YAMLError(f"more than {MAX_YAML_NODES} values (an alias bomb?)")
        return super().construct_object(node, deep)


def _count_expanded(node: Any, seen: dict[int, int], depth: int = 0) -> int:
    """Count nodes as if aliases were expanded, without expanding them."""
    key = id(node)
    if key in seen:
        return seen[key]
    total = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            total += _count_expanded(child, seen, depth + 1)
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            total += _count_expanded(k, seen, depth + 1) + _count_expanded(v, seen, depth + 1)
    seen[key] = total
    return total


def read_yaml(path: Path) -> object:
    """Return the data of a YAML file, refusing big files, tags and alias bombs; raise
    ConfigError naming the file."""
    try:
        size = path.stat().st_size
        if size > MAX_PROFILE_BYTES:
            raise ConfigError([f"{path}: file is {size} bytes; profiles are limited to "
                               f"{MAX_PROFILE_BYTES} bytes"])
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError([f"{path}: cannot read: {e.strerror or e}"]) from e
    except UnicodeDecodeError as e:
        raise ConfigError([f"{path}: not UTF-8 text: {e}"]) from e
    return load_yaml_text(text, str(path))


def load_yaml_text(text: str, source: str) -> object:
    """Parse one YAML document safely; raise ConfigError with ``source`` in the message."""
    if len(text.encode("utf-8")) > MAX_PROFILE_BYTES:
        raise ConfigError([f"{source}: larger than {MAX_PROFILE_BYTES} bytes"])
    try:
        loader = _SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            if _count_expanded(node, {}) > MAX_YAML_NODES:
                raise yaml.YAMLError(f"more than {MAX_YAML_NODES} values once aliases are "
                                     "expanded (an alias bomb?)")
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.constructor.ConstructorError as e:
        raise ConfigError([f"{source}: refused: {e.problem} (only plain YAML is allowed, "
                           "no tags such as !!python/object)"]) from e
    except yaml.YAMLError as e:
        raise ConfigError([f"{source}: not valid YAML: {_yaml_message(e)}"]) from e
    except RecursionError as e:  # the composer recurses once per level of nesting
        raise ConfigError([f"{source}: refused: values nested too deeply"]) from e


def _yaml_message(e: yaml.YAMLError) -> str:
    mark = getattr(e, "problem_mark", None)
    problem = getattr(e, "problem", None) or str(e)
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark else problem


def load(path: Path, *, name: str | None = None) -> Profile:
    """Return the Profile in ``path``; raise ConfigError listing every problem."""
    data = read_yaml(path)
    return parse(data, name=name or path.stem, source=str(path), base=path.parent)


def files(folder: Path) -> list[Path]:
    """The profile files of a folder (``*.yaml``, ``*.yml``, not hidden), in name order; none
    when the folder does not exist."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.suffix in (".yaml", ".yml") and not p.name.startswith("."))


def load_dir(folder: Path) -> dict[str, Profile]:
    """Return every profile (``*.yaml``, ``*.yml``) in ``folder`` by name; raise ConfigError
    with the problems of all files together."""
    profiles: dict[str, Profile] = {}
    problems: list[str] = []
    for path in files(folder):
        try:
            profiles[path.stem] = load(path)
        except ConfigError as e:
            problems.extend(e.problems)
    if problems:
        raise ConfigError(problems)
    return profiles


def resolve(name_or_path: str, profiles_dir: Path | None) -> Profile:
    """Return the profile named ``name_or_path`` in ``profiles_dir``, or the file at that path,
    or the built-in ``default``; raise ConfigError if none exists."""
    candidate = Path(name_or_path).expanduser()
    if candidate.suffix in (".yaml", ".yml") or candidate.is_file():
        if not candidate.is_file():
            raise ConfigError([f"{candidate}: no such profile file"])
        return load(candidate)
    if profiles_dir is not None:
        for ext in (".yaml", ".yml"):
            path = profiles_dir / f"{name_or_path}{ext}"
            if path.is_file():
                return load(path)
    if name_or_path == "default":
        return builtin_default()
    where = f" in {profiles_dir}" if profiles_dir else ""
    raise ConfigError([f"{name_or_path}: no such profile{where} (give a profile name or a "
                       "path to a .yaml file)"])


def builtin_default(watch: Path | None = None, output: Path | None = None) -> Profile:
    """The profile a new user gets: u2netp, white backdrop, 2000 px square JPEG."""
    return Profile(
        name="default", watch=watch, output=output, model="u2netp",
        backdrop=(255, 255, 255), square=Square(), encoding=Encoding(format="jpeg"),
        include=DEFAULT_INCLUDE,
    )


