"""renditions: a profile's output keys (backdrop, framing, encoding, name), read for the
profile itself and for each entry of its ``renditions:`` list, which overrides them.

A rendition's keys default to the profile's own, so a studio writes only what differs; each
problem is reported at its key path (``renditions[1].format``). The profile's own keys make
its one rendition when it has no ``renditions:`` key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from studiocut.profiles import presets
from studiocut.profiles.fields import (
    MISSING,
    Problems,
    check_name_template,
    parse_bool,
    parse_choice,
    parse_colour,
    parse_number,
    unknown_keys,
)
from studiocut.profiles.schema import (
    FORMATS,
    NAME_FIELDS,
    SKU_SOURCES,
    TIFF_COMPRESSIONS,
    Canvas,
    Encoding,
    Rendition,
    Rgb,
    Sku,
)

FRAMING_KEYS = ("margin", "fill", "placement", "floor", "max_upscale", "min_size")
SQUARE_KEYS = ("size", *FRAMING_KEYS)
CANVAS_KEYS = ("width", "height", *FRAMING_KEYS)
# what a rendition may override; ``name`` is the rendition's own, ``file_name`` its template
RENDITION_KEYS = ("name", "backdrop", "square", "canvas", "fill", "margin", "placement",
                  "format", "quality", "png_level", "tiff_compression", "dpi", "file_name",
                  "folder", "suffix", "preset")
MAX_RENDITIONS = 16
_RENDITION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
_UNSAFE = ("/", "\\", ":", "\x00")


def parse_preset(value: object, key: str, p: Problems) -> str | None:
    """``preset: NAME``, a marketplace of ``profiles.presets`` (None, or ``none``: no
    preset)."""
    if value is MISSING or value is None or value == "none":
        return None
    if not isinstance(value, str) or value not in presets.PRESETS:
        p.add(key, "unknown marketplace preset", value, " | ".join(("none", *presets.NAMES)))
        return None
    return value


def with_preset(base: Rendition, name: str | None) -> Rendition:
    """``base`` with the output keys marketplace preset ``name`` sets (its canvas and fill,
    backdrop, format and quality), as the defaults the keys written over it override; the
    framing keys it does not set (placement, floor...) and the name template stay."""
    if name is None:
        return replace(base, preset=None)
    preset = presets.get(name)
    width, height = preset.canvas
    canvas = replace(base.canvas or Canvas(), width=width, height=height, fill=preset.fill)
    if canvas.min_size is not None and canvas.min_size > canvas.short:
        canvas = replace(canvas, min_size=None)
    encoding = replace(preset.encoding(base.encoding), icc=base.encoding.icc)
    return replace(base, backdrop=preset.backdrop, canvas=canvas, encoding=encoding,
                   preset=name)


def parse_backdrop(data: Mapping[str, Any], prefix: str, p: Problems,
                   default: Rgb | None) -> Rgb | None:
    """``backdrop``: ``"#RRGGBB"``, ``[r, g, b]`` or ``transparent`` (None)."""
    if "backdrop" not in data:
        return default
    try:
        return parse_colour(data["backdrop"])
    except ValueError:
        p.add(f"{prefix}backdrop", "not a colour", data["backdrop"], '"#RRGGBB" | transparent')
        return default


def parse_canvas(data: Mapping[str, Any], prefix: str, p: Problems,
                 base: Canvas | None) -> Canvas | None:
    """The framing of ``data``: ``square: {size, ...}`` or ``canvas: {width, height, ...}``
    (one of the two), keys not given taken from ``base``; False (or nothing, without a
    ``base``) keeps the input's pixel size."""
    if "square" in data and "canvas" in data:
        p.add(f"{prefix}canvas", "give square or canvas, not both", sorted(("square", "canvas")),
              "square: {size: 2000} | canvas: {width: 1000, height: 1440}")
    key = "canvas" if "canvas" in data else "square"
    value = data.get(key, MISSING)
    if value is MISSING:
        return base
    if value is False or value is None:
        return None
    if value is True and key == "square":
        return Canvas()
    if value is True:
        _canvas_required(prefix, value, p)
        return base
    if not isinstance(value, dict):
        expected = ("false | {size: 2000, margin: 0.05}" if key == "square" else
                    "false | {width: 1000, height: 1440, fill: 0.85}")
        p.add(f"{prefix}{key}", "must be false or a mapping", value, expected)
        return base
    where = f"{prefix}{key}."
    unknown_keys(value, SQUARE_KEYS if key == "square" else CANVAS_KEYS, where, p)
    d = base or Canvas()
    if key == "square":
        size = parse_number(value.get("size", MISSING), f"{where}size", p,
                            d.size if base else Canvas().size, lo=16, hi=20000, integer=True)
        width = height = size
    else:
        if base is None and not {"width", "height"} <= set(value):
            _canvas_required(prefix, value, p)
            return None
        width = parse_number(value.get("width", MISSING), f"{where}width", p, d.width,
                             lo=16, hi=20000, integer=True)
        height = parse_number(value.get("height", MISSING), f"{where}height", p, d.height,
                              lo=16, hi=20000, integer=True)
    sized = replace(d, width=width, height=height)
    if base is not None and base.min_size is not None and base.min_size > sized.short:
        sized = replace(sized, min_size=None)  # inherited, and too large for this canvas
    return framed(sized, value, where, p)


def _canvas_required(prefix: str, value: object, p: Problems) -> None:
    """Report a canvas given without its size."""
    p.add(f"{prefix}canvas", "needs its width and height in pixels", value,
          "{width: 1000, height: 1440}")
    return None


def framed(canvas: Canvas, value: Mapping[str, Any], where: str, p: Problems) -> Canvas:
    """``canvas`` with the framing keys of ``value`` (margin or fill, placement, floor,
    max_upscale, min_size) over its own; each problem at ``where`` + key."""
    if "margin" in value and "fill" in value:
        p.add(f"{where}fill", "margin and fill are alternatives: give one",
              {"margin": value["margin"], "fill": value["fill"]},
              "margin: 0.05 (a free border) | fill: 0.85 (the subject's share)")
    margin, fill = canvas.margin, canvas.fill
    short = canvas.short
    if "margin" in value:
        margin = parse_number(value["margin"], f"{where}margin", p, margin, lo=0, hi=short)
        fill = None
        if 0.5 <= margin < 1 or (margin >= 1 and margin * 2 >= short):
            p.add(f"{where}margin", "leaves no room for the subject", margin,
                  "a fraction below 0.5, or pixels below half the shorter side")
    elif "fill" in value:
        reported = len(p.items)
        fill = parse_number(value["fill"], f"{where}fill", p, 0.0, lo=0, hi=1)
        if fill == 0 and len(p.items) == reported:
            p.add(f"{where}fill", "must be above 0: the share of the canvas's limiting side "
                  "the subject takes", value["fill"], "0 < fill <= 1, e.g. 0.85")
        fill = fill or None
    min_size = value.get("min_size", MISSING)
    if min_size is MISSING:
        min_size = canvas.min_size
    elif min_size is not None:
        min_size = parse_number(min_size, f"{where}min_size", p, 0, lo=16, hi=short,
                                integer=True) or None
    return Canvas(
        width=canvas.width, height=canvas.height, margin=margin, fill=fill,
        placement=parse_choice(value.get("placement", MISSING), f"{where}placement", p,
                               canvas.placement, ("center", "bottom")),
        floor=parse_number(value.get("floor", MISSING), f"{where}floor", p, canvas.floor,
                           lo=0, hi=canvas.height / 2),
        max_upscale=parse_number(value.get("max_upscale", MISSING), f"{where}max_upscale", p,
                                 canvas.max_upscale, lo=0.01, hi=16),
        min_size=min_size,
    )


def parse_encoding(data: Mapping[str, Any], prefix: str, p: Problems, base: Encoding, *,
                   template_key: str = "name", default_format: str | None = None,
                   sku: bool = False) -> Encoding:
    """The encoding keys of ``data`` over ``base``: format (``default_format`` when not
    given, else the base's), quality, png_level, tiff_compression, dpi, and the name
    template under ``template_key``; ``icc`` too at the top (one decode serves every
    rendition, so a rendition cannot change it). ``sku``: the profile knows SKUs, so the
    template may name ``{sku}`` and ``{view}``."""
    get = data.get
    enc = Encoding(
        format=parse_choice(get("format", MISSING), f"{prefix}format", p,
                            default_format or base.format, FORMATS),
        quality=parse_number(get("quality", MISSING), f"{prefix}quality", p, base.quality,
                             lo=1, hi=100, integer=True),
        png_level=parse_number(get("png_level", MISSING), f"{prefix}png_level", p,
                               base.png_level, lo=0, hi=9, integer=True),
        tiff_compression=parse_choice(get("tiff_compression", MISSING),
                                      f"{prefix}tiff_compression", p, base.tiff_compression,
                                      TIFF_COMPRESSIONS),
        icc=base.icc if prefix else parse_choice(get("icc", MISSING), "icc", p, base.icc,
                                                 ("srgb", "original")),
        dpi=parse_number(get("dpi", MISSING), f"{prefix}dpi", p, base.dpi, lo=1, hi=10000,
                         integer=True),
        name=get(template_key, base.name),
    )
    key = f"{prefix}{template_key}"
    if not isinstance(enc.name, str):
        p.add(key, "must be a text template", enc.name, "e.g. '{stem}.{ext}'")
        return replace(enc, name=base.name)
    problem = check_name_template(enc.name)
    if problem is None and not sku and ("{sku}" in enc.name or "{view}" in enc.name):
        problem = "names {sku} or {view}, which need the profile's 'sku' key"
    if problem is not None:
        p.add(key, problem, enc.name,
              "a file name using " + ", ".join(f"{{{f}}}" for f in NAME_FIELDS))
        return replace(enc, name=base.name)
    return enc


def parse_renditions(value: object, p: Problems, own: Rendition, *,
                     format_given: bool, sku: bool) -> tuple[Rendition, ...]:
    """The ``renditions:`` list, each entry over the profile's own output keys (``own``;
    ``format_given``: the profile named its format). A rendition that sets a transparent
    backdrop over a JPEG gets PNG, and one that sets a colour over the PNG a transparent
    profile got by default gets JPEG, unless it names its format; () without the key."""
    if value is MISSING or value is None:
        return ()
    if not isinstance(value, list) or not value:
        p.add("renditions", "must be a list of renditions, each a mapping with a name", value,
              "[{name: white, format: jpeg}, {name: cutout, backdrop: transparent}]")
        return ()
    if len(value) > MAX_RENDITIONS:
        p.add("renditions", f"at most {MAX_RENDITIONS} renditions", len(value),
              f"{MAX_RENDITIONS} or fewer")
        value = value[:MAX_RENDITIONS]
    made = [_rendition(entry, f"renditions[{i}].", p, own, format_given=format_given, sku=sku)
            for i, entry in enumerate(value)]
    return tuple(r for r in made if r is not None)


def _rendition(entry: object, prefix: str, p: Problems, own: Rendition, *,
               format_given: bool, sku: bool) -> Rendition | None:
    if not isinstance(entry, dict):
        p.add(prefix.rstrip("."), "must be a mapping with a name", entry,
              "{name: zalando, canvas: {width: 1000, height: 1440}}")
        return None
    unknown_keys(entry, RENDITION_KEYS, prefix, p)
    if "preset" in entry:
        own = with_preset(own, parse_preset(entry["preset"], f"{prefix}preset", p))
        format_given = own.preset is not None or format_given
    name = entry.get("name")
    if not isinstance(name, str) or not _RENDITION_NAME.match(name):
        p.add(f"{prefix}name", "each rendition needs a name of letters, digits, '-' or '_'",
              name, "e.g. white, cutout, zalando")
        name = prefix.rstrip(".")
    backdrop = parse_backdrop(entry, prefix, p, own.backdrop)
    default_format = None  # the profile's, unless the backdrop the rendition sets needs another
    if "format" not in entry and "backdrop" in entry:
        if backdrop is None and own.encoding.format == "jpeg":
            default_format = "png"  # JPEG cannot hold the transparency
        elif backdrop is not None and not format_given and own.encoding.format == "png":
            default_format = "jpeg"  # the profile's PNG came from its own transparency
    encoding = parse_encoding(entry, prefix, p, own.encoding, template_key="file_name",
                              default_format=default_format, sku=sku)
    canvas = parse_canvas(entry, prefix, p, own.canvas)
    shortcuts = {k: entry[k] for k in ("fill", "margin", "placement") if k in entry}
    if shortcuts and canvas is None:
        p.add(f"{prefix}{next(iter(shortcuts))}", "frames the subject on a canvas, and this "
              "rendition has none", shortcuts, "square: {size: 2000} or canvas: {width, height}")
    elif shortcuts and canvas is not None:
        canvas = framed(canvas, shortcuts, prefix, p)
    return Rendition(name=name, backdrop=backdrop, canvas=canvas, encoding=encoding,
                     folder=_folder(entry.get("folder", MISSING), f"{prefix}folder", p),
                     suffix=_suffix(entry.get("suffix", MISSING), f"{prefix}suffix", p),
                     preset=own.preset)


def _folder(value: object, key: str, p: Problems) -> str:
    """A subfolder of the output folder, as a relative path of plain names."""
    if value is MISSING or value is None or value == "":
        return ""
    parts = value.replace("\\", "/").split("/") if isinstance(value, str) else []
    if not parts or any(part in ("", ".", "..") or any(c in part for c in ":\x00")
                        for part in parts) or str(value).startswith(("/", "\\", "~")):
        p.add(key, "must be a subfolder of the output folder: plain names, no '..'", value,
              "e.g. zalando or marketplaces/zalando")
        return ""
    return "/".join(parts)


def _suffix(value: object, key: str, p: Problems) -> str:
    if value is MISSING or value is None:
        return ""
    if not isinstance(value, str) or any(c in value for c in _UNSAFE):
        p.add(key, "must be text without path separators", value, "e.g. _white or -1440")
        return ""
    return value


def check(renditions: tuple[Rendition, ...], p: Problems) -> None:
    """Cross-checks of the renditions: unique names, each format able to hold its backdrop,
    and no two that write the same file."""
    seen: dict[str, int] = {}
    paths: dict[tuple[str, str], int] = {}
    for index, rendition in enumerate(renditions):
        prefix = f"renditions[{index}]."
        if rendition.name in seen:
            p.add(f"{prefix}name", "another rendition has this name", rendition.name,
                  f"a name not used by renditions[{seen[rendition.name]}]")
        seen.setdefault(rendition.name, index)
        if rendition.transparent and rendition.encoding.format == "jpeg":
            p.add(f"{prefix}format", "JPEG cannot hold transparency; with 'backdrop: "
                  "transparent'", "jpeg", "png | webp | tiff")
        sample = (rendition.folder, sample_name(rendition))
        if sample in paths:
            p.add(prefix.rstrip("."), f"writes the same files as renditions[{paths[sample]}]",
                  "/".join(filter(None, sample)),
                  "another folder, suffix, format or file_name")
        paths.setdefault(sample, index)


def sample_name(rendition: Rendition) -> str:
    """The file name ``rendition`` gives a photo named ``x.cr2`` (SKU ``s``, view 1)."""
    enc = rendition.encoding
    name = enc.name.format(stem="x", ext=enc.ext, source_ext="cr2", profile="p",
                           rendition=rendition.name, sku="s", view=1)
    return with_suffix(name, rendition.suffix)


def with_suffix(name: str, suffix: str) -> str:
    """``suffix`` added to the stem of ``name`` (before its extension)."""
    if not suffix:
        return name
    stem, dot, ext = name.rpartition(".")
    return f"{stem}{suffix}.{ext}" if dot and stem else name + suffix


def parse_sku(value: object, p: Problems) -> Sku | None:
    """``sku: folder | sidecar`` or ``{from: folder | sidecar, consistent: true}``."""
    if value is MISSING or value is None or value is False:
        return None
    if isinstance(value, str):
        return Sku(source=parse_choice(value, "sku", p, "folder", SKU_SOURCES))
    if not isinstance(value, dict):
        p.add("sku", "must name where the SKU comes from, or be a mapping", value,
              "folder | sidecar | {from: folder, consistent: true}")
        return None
    unknown_keys(value, ("from", "consistent"), "sku.", p)
    if "from" not in value:
        p.add("sku.from", "is required: where the SKU comes from", None, " | ".join(SKU_SOURCES))
    return Sku(source=parse_choice(value.get("from", MISSING), "sku.from", p, "folder",
                                   SKU_SOURCES),
               consistent=parse_bool(value.get("consistent", MISSING), "sku.consistent", p,
                                     True))
