"""parser: the loaded YAML of one profile into a Profile.

Validation collects every problem of a file before raising, each reported as
``<file>: At '<dotted.key>': <problem> (got <value>; expected <choices>)``. Structural checks
(types, ranges, unknown keys) come first, cross-field checks second; both raise ConfigError.
"""

from __future__ import annotations

from pathlib import Path

from studiocut.errors import ConfigError
from studiocut.models.registry import CPU, DEVICE_CHOICES, DEVICES, MODELS
from studiocut.profiles import folders
from studiocut.profiles.fields import (
    MISSING,
    Problems,
    parse_bool,
    parse_choice,
    parse_globs,
    parse_number,
    parse_path,
    unknown_keys,
)
from studiocut.profiles.renditions import check as check_renditions
from studiocut.profiles.renditions import (
    parse_backdrop,
    parse_canvas,
    parse_encoding,
    parse_preset,
    parse_renditions,
    parse_sku,
    with_preset,
)
from studiocut.profiles.schema import (
    DEFAULT_INCLUDE,
    ONE_RENDITION,
    Encoding,
    Profile,
    Rendition,
)
from studiocut.profiles.sections import (
    DISPATCH_KEYS,
    parse_cleanup,
    parse_dispatch,
    parse_key,
    parse_limits,
    parse_matting,
    parse_metadata,
    parse_model,
    parse_prompt,
    parse_review,
    parse_shadow,
)

TOP_KEYS = (
    "watch", "output", "model", "matting", "backdrop", "square", "canvas", "format", "quality",
    "png_level", "tiff_compression", "icc", "dpi", "name", "limits", "recursive", "include",
    "ignore", "settle", "watch_mode", "poll_interval", "after", "failed", "retries",
    "device", "require_gpu", "provider_options", "prompt", "key", "cleanup", "review",
    *DISPATCH_KEYS,
    "shadow", "renditions", "sku", "preset", "metadata",
)  # fmt: skip


def parse(data: object, *, name: str, source: str, base: Path | None = None) -> Profile:
    """Given the loaded YAML of one profile, return the Profile; raise ConfigError listing
    every problem found. Relative folders are taken relative to ``base``."""
    p = Problems(source)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        p.add("(top)", "a profile must be a mapping of keys", data, "key: value lines")
        raise ConfigError(p.items)
    unknown_keys(data, TOP_KEYS, "", p)
    get = data.get

    preset = parse_preset(get("preset", MISSING), "preset", p)
    start = with_preset(Rendition(ONE_RENDITION, encoding=Encoding(), canvas=None), preset)
    backdrop = parse_backdrop(data, "", p, start.backdrop)
    sku = parse_sku(get("sku", MISSING), p)
    default_format = start.encoding.format if preset else "png" if backdrop is None else "jpeg"
    if preset and "backdrop" in data and "format" not in data:  # as a rendition's would
        default_format = "png" if backdrop is None else default_format
    encoding = parse_encoding(data, "", p, start.encoding, default_format=default_format,
                              sku=sku is not None)
    canvas = parse_canvas(data, "", p, start.canvas)
    renditions = parse_renditions(get("renditions", MISSING), p,
                                  Rendition(ONE_RENDITION, backdrop, canvas, encoding,
                                            preset=preset),
                                  format_given="format" in data or preset is not None,
                                  sku=sku is not None)

    model, custom_model = parse_model(get("model", "u2netp"), p, base)
    prompt = parse_prompt(get("prompt", MISSING), p)
    if prompt is not None and (custom_model is not None or (
            model in MODELS and MODELS[model].family != "sam")):
        p.add("prompt", "only Segment Anything models take a prompt", model,
              " | ".join(n for n, s in sorted(MODELS.items()) if s.family == "sam"))
    device = parse_choice(get("device", MISSING), "device", p, "auto", DEVICE_CHOICES)
    provider_options = get("provider_options", {})
    if not isinstance(provider_options, dict) or not all(
            isinstance(k, str) and isinstance(v, dict) for k, v in provider_options.items()):
        p.add("provider_options", "must map provider names to option mappings",
              provider_options, "{CUDAExecutionProvider: {device_id: 1}}")
        provider_options = {}
    # only providers studiocut can choose; values onnxruntime takes (and a session key can hold)
    known = tuple(dict.fromkeys([*(n for names in DEVICES.values() for n in names), CPU]))
    unknown_keys(provider_options, known, "provider_options.", p)
    for provider, options in provider_options.items():
        for key, option in options.items():
            if not isinstance(key, str) or not isinstance(option, (str, int, float)):
                p.add(f"provider_options.{provider}.{key}", "must be an option name with a "
                      "single value", option, "a string, a number, true or false")

    after_value = get("after", "keep")
    after, move_to = "keep", None
    if isinstance(after_value, dict) and set(after_value) == {"move"}:
        after, move_to = "move", parse_path(after_value["move"], "after.move", p, base)
        if after_value["move"] is None:  # `move:` with nothing after it
            p.add("after.move", "needs the folder to move originals to", None,
                  "a folder path, such as ~/studio/done")
    elif isinstance(after_value, str) and after_value in ("keep", "delete"):
        after = after_value
    else:
        p.add("after", "not a valid choice", after_value, "keep | delete | {move: FOLDER}")

    profile = Profile(
        name=name,
        path=Path(source) if source and not source.startswith("<") else None,
        watch=parse_path(get("watch", MISSING), "watch", p, base),
        output=parse_path(get("output", MISSING), "output", p, base),
        model=model,
        custom_model=custom_model,
        device=device,
        require_gpu=parse_bool(get("require_gpu", MISSING), "require_gpu", p, False),
        provider_options=provider_options,
        prompt=prompt,
        key=parse_key(get("key", MISSING), p),
        cleanup=parse_cleanup(get("cleanup", MISSING), p),
        review=parse_review(get("review", MISSING), p, base),
        matting=parse_matting(get("matting", MISSING), p),
        shadow=parse_shadow(get("shadow", MISSING), p),
        backdrop=backdrop,
        canvas=canvas,
        encoding=encoding,
        renditions=renditions,
        sku=sku,
        preset=preset,
        metadata=parse_metadata(get("metadata", MISSING), p),
        limits=parse_limits(get("limits", MISSING), p),
        recursive=parse_bool(get("recursive", MISSING), "recursive", p, True),
        include=parse_globs(get("include", MISSING), "include", p) or DEFAULT_INCLUDE,
        ignore=parse_globs(get("ignore", MISSING), "ignore", p),
        settle=parse_number(get("settle", MISSING), "settle", p, 1.0, lo=0, hi=3600),
        watch_mode=parse_choice(get("watch_mode", MISSING), "watch_mode", p, "native",
                                ("native", "polling")),
        poll_interval=parse_number(get("poll_interval", MISSING), "poll_interval", p, 2.0,
                                   lo=0.1, hi=3600),
        after=after,  # type: ignore[arg-type]
        move_to=move_to,
        failed=parse_path(get("failed", MISSING), "failed", p, base),
        retries=parse_number(get("retries", MISSING), "retries", p, 3, lo=0, hi=100, integer=True),
        dispatch=parse_dispatch(data, p),
    )
    if not p.items:
        _cross_checks(profile, p)
    if p.items:
        raise ConfigError(p.items)
    return profile


def _cross_checks(profile: Profile, p: Problems) -> None:
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
    check_renditions(profile.renditions, p)
    for breach in folders.breaches([profile]):  # where it may write: one rule for all
        p.add(breach.key, breach.problem, breach.got, breach.expected)


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or below it (by name: neither needs to exist)."""
    return path == folder or folder in path.parents
