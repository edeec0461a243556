"""sections: the nested parts of a profile (matting, limits, model, prompt, key, cleanup,
review, shadow, dispatch, metadata), each parsed from its YAML value into its dataclass, every
problem recorded. The output keys (backdrop, framing, encoding, renditions) are
``renditions``'.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from studiocut.models.registry import MODELS, KeySettings, ModelSpec, Prompt
from studiocut.profiles.fields import (
    MISSING,
    Problems,
    parse_bool,
    parse_choice,
    parse_colour,
    parse_fraction_or_off,
    parse_number,
    parse_path,
    unknown_keys,
)
from studiocut.profiles.schema import (
    Cleanup,
    Dispatch,
    Limits,
    Matting,
    MetadataRules,
    Review,
    Shadow,
)


def parse_matting(value: object, p: Problems) -> Matting:
    if value is MISSING:
        return Matting()
    if isinstance(value, bool):
        return Matting(enabled=value)
    if not isinstance(value, dict):
        p.add("matting", "must be true, false or a mapping", value, "true | false | {band: 0.01}")
        return Matting()
    known = ("enabled", "band", "uncertain", "grow", "max_pixels", "decontaminate")
    unknown_keys(value, known, "matting.", p)
    d = Matting()
    uncertain = value.get("uncertain", list(d.uncertain))
    if not (isinstance(uncertain, list) and len(uncertain) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in uncertain)
            and 0 < uncertain[0] < uncertain[1] < 1):
        p.add("matting.uncertain", "must be two thresholds between 0 and 1, low first",
              uncertain, "[0.3, 0.7]")
        uncertain = list(d.uncertain)
    return Matting(
        enabled=parse_bool(value.get("enabled", True), "matting.enabled", p, True),
        band=parse_number(value.get("band", MISSING), "matting.band", p, d.band, lo=0.001, hi=0.2),
        uncertain=(float(uncertain[0]), float(uncertain[1])),
        grow=parse_number(value.get("grow", MISSING), "matting.grow", p, d.grow, lo=0, hi=0.2),
        max_pixels=parse_number(
            value.get("max_pixels", MISSING), "matting.max_pixels", p, d.max_pixels,
            lo=10_000, hi=50_000_000, integer=True,
        ),
        decontaminate=parse_bool(value.get("decontaminate", MISSING), "matting.decontaminate", p,
                                 d.decontaminate),
    )


def parse_limits(value: object, p: Problems) -> Limits:
    if value is MISSING:
        return Limits()
    if not isinstance(value, dict):
        p.add("limits", "must be a mapping", value, "{max_pixels: 120000000}")
        return Limits()
    unknown_keys(value, ("max_pixels", "max_bytes"), "limits.", p)
    d = Limits()
    return Limits(
        max_pixels=parse_number(value.get("max_pixels", MISSING), "limits.max_pixels", p,
                                d.max_pixels, lo=1, hi=2_000_000_000, integer=True),
        max_bytes=parse_number(value.get("max_bytes", MISSING), "limits.max_bytes", p,
                               d.max_bytes, lo=1, hi=1 << 40, integer=True),
    )


def parse_model(value: object, p: Problems, base: Path | None) -> tuple[str, ModelSpec | None]:
    """A registry name, or a mapping describing a studio's own ONNX export."""
    if isinstance(value, str) and value:
        if value not in MODELS:
            p.add("model", "unknown model", value, " | ".join(sorted(MODELS)))
        return value, None
    if not isinstance(value, dict):
        p.add("model", "must be a model name or a mapping", value,
              "u2netp | {path: my.onnx, input_size: [320, 320]}")
        return "u2netp", None
    known = ("path", "input_size", "mean", "std", "output", "sha256")
    unknown_keys(value, known, "model.", p)
    path = parse_path(value.get("path", MISSING), "model.path", p, base)
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
    output = parse_choice(value.get("output", MISSING), "model.output", p, "minmax",
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


def parse_prompt(value: object, p: Problems) -> Prompt | None:
    """``auto``, ``{box: [x0, y0, x1, y1]}`` or ``{points: [[x, y, label], ...]}`` in fractions
    of the frame (label 1 keeps, 0 removes), or ``{auto: true, first_pass: MODEL}``: the box
    of that saliency model's mask (u2netp unless named)."""
    if value is MISSING or value is None:
        return None
    if value == "auto":
        return Prompt(auto=True)
    if not isinstance(value, dict):
        p.add("prompt", "must be auto or a mapping", value,
              "auto | {box: [0.1, 0.1, 0.9, 0.9]} | {points: [[0.5, 0.5, 1]]}")
        return None
    unknown_keys(value, ("box", "points", "auto", "first_pass"), "prompt.", p)
    auto = parse_bool(value.get("auto", MISSING), "prompt.auto", p, False)
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
    saliency = sorted(n for n, s in MODELS.items() if s.family != "sam")
    if first_pass not in saliency:
        p.add("prompt.first_pass", "must be a model that is not Segment Anything", first_pass,
              " | ".join(saliency))
        first_pass = "u2netp"
    elif "first_pass" in value and not auto:
        p.add("prompt.first_pass", "is only used with auto: true", first_pass, "auto: true")
    return Prompt(box=tuple(box) if box else None, points=tuple(good_points), auto=auto,
                  first_pass=first_pass)


ASSIST_FAMILIES = ("u2net", "isnet", "birefnet", "bria")  # saliency: one image in, one map out


def parse_key(value: object, p: Problems) -> KeySettings | None:
    if value is MISSING or value is None:
        return None
    if not isinstance(value, dict):
        p.add("key", "must be a mapping", value, "{colour: auto, tolerance: [12, 40]}")
        return None
    unknown_keys(value, ("colour", "tolerance", "spill", "assist"), "key.", p)
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
    if assist not in ("auto", "none") and not (
            isinstance(assist, str) and assist in MODELS
            and MODELS[assist].family in ASSIST_FAMILIES):
        p.add("key.assist", "not a saliency model", assist,
              "auto | none | " + " | ".join(n for n, s in sorted(MODELS.items())
                                             if s.family in ASSIST_FAMILIES))
        assist = "auto"
    return KeySettings(colour=colour, tolerance=(float(tolerance[0]), float(tolerance[1])),
                       spill=parse_bool(value.get("spill", MISSING), "key.spill", p, True),
                       assist=assist)


def parse_cleanup(value: object, p: Problems) -> Cleanup:
    if value is MISSING or value is None:
        return Cleanup()
    if value is False:
        return Cleanup(min_island=0.0)
    if not isinstance(value, dict):
        p.add("cleanup", "must be a mapping or false", value, "{min_island: 0.01}")
        return Cleanup()
    unknown_keys(value, ("min_island", "max_hole", "keep", "min_subject"), "cleanup.", p)
    d = Cleanup()
    return Cleanup(
        min_island=parse_number(value.get("min_island", MISSING), "cleanup.min_island", p,
                                d.min_island, lo=0, hi=1),
        max_hole=parse_number(value.get("max_hole", MISSING), "cleanup.max_hole", p, d.max_hole,
                              lo=0, hi=1),
        keep=parse_choice(value.get("keep", MISSING), "cleanup.keep", p, d.keep,
                          ("all", "largest")),
        min_subject=parse_number(value.get("min_subject", MISSING), "cleanup.min_subject", p,
                                 d.min_subject, lo=0, hi=1),
    )


def parse_review(value: object, p: Problems, base: Path | None) -> Review | None:
    if value is MISSING:
        return Review()
    if value is None or value is False:
        return None
    if not isinstance(value, dict):
        p.add("review", "must be a mapping or false", value, "{max_uncertain: 0.2}")
        return Review()
    known = ("max_uncertain", "touches_border", "min_area", "max_area", "several_subjects",
             "min_confidence", "max_disagreement", "folder", "hold")
    unknown_keys(value, known, "review.", p)
    d = Review()
    get = value.get
    return Review(
        max_uncertain=parse_fraction_or_off(get("max_uncertain", MISSING), "review.max_uncertain",
                                            p, d.max_uncertain),
        touches_border=parse_bool(get("touches_border", MISSING), "review.touches_border", p,
                                  d.touches_border),
        min_area=parse_fraction_or_off(get("min_area", MISSING), "review.min_area", p, d.min_area),
        max_area=parse_fraction_or_off(get("max_area", MISSING), "review.max_area", p, d.max_area),
        several_subjects=parse_bool(get("several_subjects", MISSING), "review.several_subjects",
                                    p, d.several_subjects),
        min_confidence=parse_fraction_or_off(get("min_confidence", MISSING),
                                             "review.min_confidence", p, d.min_confidence),
        max_disagreement=parse_fraction_or_off(get("max_disagreement", MISSING),
                                               "review.max_disagreement", p, d.max_disagreement),
        folder=parse_path(get("folder", MISSING), "review.folder", p, base),
        hold=parse_choice(get("hold", MISSING), "review.hold", p, d.hold,
                          ("none", "flagged", "all")),
    )


DISPATCH_KEYS = ("executor", "queue", "on_broker_down")
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def parse_dispatch(data: Mapping[str, Any], p: Problems) -> Dispatch:
    """The top-level ``executor``, ``queue`` and ``on_broker_down`` keys. A cluster profile
    needs a queue and the ``cluster`` extra (Celery); whether cluster.yaml knows the queue is
    checked where cluster.yaml is read."""
    d = Dispatch()
    executor = parse_choice(data.get("executor", MISSING), "executor", p, d.executor,
                            ("local", "cluster"))
    queue = data.get("queue")
    if queue is not None and not (isinstance(queue, str) and _QUEUE_NAME.match(queue)):
        p.add("queue", "must be a queue name of cluster.yaml", queue,
              "letters, digits, '-', '_' or '.', e.g. cutout")
        queue = None
    on_down = parse_choice(data.get("on_broker_down", MISSING), "on_broker_down", p,
                           d.on_broker_down, ("local", "wait"))
    if executor == "cluster":
        if queue is None and "queue" not in data:
            p.add("queue", "a profile with executor: cluster needs the queue its photos go to",
                  expected="queue: cutout (a queue of cluster.yaml)")
        if importlib.util.find_spec("celery") is None:
            p.add("executor", "the cluster executor needs the cluster extra, which is not "
                  "installed", executor, "pip install 'studiocut[cluster]', or executor: local")
    elif queue is not None or "on_broker_down" in data:
        key = "queue" if queue is not None else "on_broker_down"
        p.add(key, "only a profile with executor: cluster uses it", data[key],
              "executor: cluster, or remove it")
    return Dispatch(executor=executor, queue=queue, on_broker_down=on_down)


SHADOW_MODES = ("none", "keep", "contact")


def parse_shadow(value: object, p: Problems) -> Shadow:
    """``shadow: none | keep | contact``, or a mapping naming one mode with its keys:
    ``{contact: {offset: 0.01, blur: 0.03, opacity: 0.5}, transparent: false}``."""
    if value is MISSING or value is None or value is False:
        return Shadow()
    if isinstance(value, str):
        return Shadow(mode=parse_choice(value, "shadow", p, "none", SHADOW_MODES))
    if not isinstance(value, dict):
        p.add("shadow", "must be a mode or a mapping", value,
              "none | keep | contact | {contact: {offset: 0.01, blur: 0.03, opacity: 0.5}}")
        return Shadow()
    unknown_keys(value, (*SHADOW_MODES, "transparent"), "shadow.", p)
    modes = [m for m in SHADOW_MODES if m in value]
    if len(modes) != 1:
        p.add("shadow", "must name exactly one mode", sorted(value), " | ".join(SHADOW_MODES))
        return Shadow()
    mode, d = modes[0], Shadow()
    settings = value[mode]
    if settings is None or settings is True:
        settings = {}
    if not isinstance(settings, dict) or (mode != "contact" and settings):
        expected = "{offset: 0.01, blur: 0.03, opacity: 0.5}" if mode == "contact" else "{}"
        p.add(f"shadow.{mode}", "must be a mapping of its settings", settings, expected)
        settings = {}
    unknown_keys(settings, ("offset", "blur", "opacity"), f"shadow.{mode}.", p)
    get = settings.get
    return Shadow(
        mode=mode,  # type: ignore[arg-type]
        offset=parse_number(get("offset", MISSING), f"shadow.{mode}.offset", p, d.offset,
                            lo=-0.5, hi=0.5),
        blur=parse_number(get("blur", MISSING), f"shadow.{mode}.blur", p, d.blur, lo=0, hi=0.5),
        opacity=parse_number(get("opacity", MISSING), f"shadow.{mode}.opacity", p, d.opacity,
                             lo=0, hi=1),
        transparent=parse_bool(value.get("transparent", MISSING), "shadow.transparent", p,
                               d.transparent),
    )


def parse_metadata(value: object, p: Problems) -> MetadataRules:
    """``metadata: true`` (the defaults), ``false`` (nothing: neither the source's metadata
    nor studiocut's fields), or a mapping of ``keep``, ``gps`` and ``studiocut``."""
    if value is MISSING or value is None or value is True:
        return MetadataRules()
    if value is False:
        return MetadataRules(keep=False, gps=False, studiocut=False)
    if not isinstance(value, dict):
        p.add("metadata", "must be true, false or a mapping", value,
              "true | false | {keep: true, gps: false, studiocut: true}")
        return MetadataRules()
    unknown_keys(value, ("keep", "gps", "studiocut"), "metadata.", p)
    d = MetadataRules()
    rules = MetadataRules(
        keep=parse_bool(value.get("keep", MISSING), "metadata.keep", p, d.keep),
        gps=parse_bool(value.get("gps", MISSING), "metadata.gps", p, d.gps),
        studiocut=parse_bool(value.get("studiocut", MISSING), "metadata.studiocut", p,
                             d.studiocut),
    )
    if rules.gps and not rules.keep:
        p.add("metadata.gps", "keeps the source's GPS, but keep: false leaves out all of the "
              "source's metadata", True, "keep: true, or gps: false")
    return rules
