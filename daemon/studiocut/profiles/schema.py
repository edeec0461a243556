"""schema: what a profile holds, as frozen dataclasses, and the values it may take.

A profile is parsed once, at the edge (``parser``, ``loader``); everything inside passes these
typed values. Models are named through the models registry (``studiocut.models.registry``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from studiocut.models.registry import KeySettings, ModelSpec, Placement, Prompt, Request, spec_for

FORMATS = ("jpeg", "png", "webp", "tiff")
EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "tiff": "tif"}
TIFF_COMPRESSIONS = ("none", "lzw", "deflate")
NAME_FIELDS = ("stem", "ext", "source_ext", "profile", "rendition", "sku", "view")
SKU_SOURCES = ("folder", "sidecar", "barcode")
ONE_RENDITION = "default"  # the name of the one output of a profile without `renditions`

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
    max_disagreement: float | None = 0.3  # studio path vs the model (share of the subject)
    folder: Path | None = None
    hold: Literal["none", "flagged", "all"] = "none"


@dataclass(frozen=True)
class Shadow:
    """The shadow under the subject on the new backdrop: ``none``; ``keep`` the natural one
    the studio path measured (a multiply layer cut to the frame; only with ``model: auto``
    on a plain backdrop); ``contact`` a soft synthetic one under the subject's footprint,
    ``offset`` down and ``blur`` wide (fractions of the subject's height), at ``opacity``.
    A transparent output gets one only with ``transparent: true`` (as partial alpha)."""

    mode: Literal["none", "keep", "contact"] = "none"
    offset: float = 0.01
    blur: float = 0.03
    opacity: float = 0.5
    transparent: bool = False


@dataclass(frozen=True)
class Canvas:
    """Marketplace framing: the subject's box scaled into a ``width`` x ``height`` canvas, less
    a ``margin`` all round (a fraction of the shorter side below 1, else pixels) or taking
    ``fill`` of the canvas's limiting side, centred or standing on a ``floor`` (a fraction of
    the height below 1, else pixels). A subject cut by the photo's edge is flush with that
    edge of the canvas. ``square: {size: N}`` is the N x N canvas."""

    width: int = 2000
    height: int = 2000
    margin: float = 0.05
    fill: float | None = None  # 0 < fill <= 1; instead of the margin when given
    placement: Literal["center", "bottom"] = "center"
    floor: float = 0.05
    max_upscale: float = 1.5
    min_size: int | None = None  # the shorter side a small subject may shrink the canvas to

    @property
    def size(self) -> int:
        """The longer side: a square canvas's side."""
        return max(self.width, self.height)

    @property
    def short(self) -> int:
        return min(self.width, self.height)

    def margins_px(self, canvas: tuple[int, int]) -> tuple[float, float]:
        """The (horizontal, vertical) free border in pixels on a canvas of ``canvas`` (width,
        height) pixels: from ``fill`` when given, else the margin (pixels scale with a canvas
        shrunk by ``min_size``)."""
        w, h = canvas
        if self.fill is not None:
            return ((1.0 - self.fill) * w / 2, (1.0 - self.fill) * h / 2)
        side = min(w, h)
        margin = self.margin * side if self.margin < 1 else self.margin * side / self.short
        return (margin, margin)

    def floor_px(self, height: int) -> float:
        """The space under the subject with ``placement: bottom`` on a canvas ``height`` px
        high (pixels scale with a canvas shrunk by ``min_size``)."""
        return self.floor * height if self.floor < 1 else self.floor * height / self.height


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
class Rendition:
    """One output of every photo: its ``name`` (unique in the profile), backdrop (None:
    transparent), ``canvas`` (None: the input's pixel size) and encoding (with the output
    name's template), written into ``folder`` below the output folder (empty: the output
    folder itself) with ``suffix`` added to the name's stem, and checked after encoding
    against marketplace ``preset``'s rules when it names one. A profile without
    ``renditions:`` has one, made of its own output keys."""

    name: str
    backdrop: Rgb | None = (255, 255, 255)
    canvas: Canvas | None = None
    encoding: Encoding = field(default_factory=Encoding)
    folder: str = ""
    suffix: str = ""
    preset: str | None = None  # the marketplace whose rules the output is checked against

    @property
    def transparent(self) -> bool:
        return self.backdrop is None


@dataclass(frozen=True)
class Sku:
    """Where a photo's product number (SKU) comes from: the ``folder`` it was shot into (the
    first level under the watched folder), a ``sidecar`` (``<stem>.json`` with an ``"sku"``,
    else its folder's ``sku.txt``), or the last ``barcode`` card shot into its folder (a
    card photo names the photos after it and is archived, not published). With
    ``consistent``, the views of one SKU share the first view's scale and floor line on each
    framed canvas."""

    source: Literal["folder", "sidecar", "barcode"] = "folder"
    consistent: bool = True


@dataclass(frozen=True)
class MetadataRules:
    """What an output carries of the source's metadata: with ``keep`` its EXIF, IPTC and XMP
    (copyright, creator, keywords, camera settings); with ``gps`` its location too (left out
    by default: a shoot's location can be a studio's or a photographer's home address); with
    ``studiocut`` studiocut's own XMP fields (SKU, view, profile, model, revision)."""

    keep: bool = True
    gps: bool = False
    studiocut: bool = True


@dataclass(frozen=True)
class Dispatch:
    """Where the profile's photos are processed: ``local`` (this machine) or ``cluster`` (the
    GPU workers of cluster.yaml, through its ``queue``); ``on_broker_down`` says what a
    cluster profile does while the broker is unreachable: run the photos here, or wait."""

    executor: Literal["local", "cluster"] = "local"
    queue: str | None = None
    on_broker_down: Literal["local", "wait"] = "local"

    @property
    def remote(self) -> bool:
        return self.executor == "cluster"


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
    shadow: Shadow = field(default_factory=Shadow)
    backdrop: Rgb | None = (255, 255, 255)
    canvas: Canvas | None = None
    encoding: Encoding = field(default_factory=Encoding)
    renditions: tuple[Rendition, ...] = ()  # the `renditions:` key; empty: one, of the above
    sku: Sku | None = None
    preset: str | None = None  # the marketplace preset its own output keys start from
    metadata: MetadataRules = field(default_factory=MetadataRules)
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
    dispatch: Dispatch = field(default_factory=Dispatch)

    @property
    def transparent(self) -> bool:
        return self.backdrop is None

    @property
    def square(self) -> Canvas | None:
        """The canvas under its name in 0.1, for tools written before canvases of any aspect
        (bench/throughput.py); ``canvas`` is the name to use."""
        return self.canvas

    @property
    def all_renditions(self) -> tuple[Rendition, ...]:
        """Every output a photo gets, in order: the ``renditions`` key's, or one named
        ``default`` made of the profile's own output keys."""
        if self.renditions:
            return self.renditions
        return (Rendition(ONE_RENDITION, self.backdrop, self.canvas, self.encoding,
                          preset=self.preset),)

    def rendering(self, rendition: Rendition) -> Profile:
        """This profile as ``rendition`` renders it: its backdrop, canvas and encoding in
        place of the profile's own (every photo-wide key, the model's and the clean-up's
        among them, unchanged)."""
        return replace(self, backdrop=rendition.backdrop, canvas=rendition.canvas,
                       encoding=rendition.encoding, renditions=(rendition,))

    def model_request(self, *, threads: int = 0, cache_dir: Path | None = None) -> Request:
        """What to ask the model registry for: the model, where it runs, its prompt."""
        spec = self.custom_model or spec_for(self.model)
        placement = Placement(device=self.device, require_gpu=self.require_gpu,
                              threads=threads, options=self.provider_options,
                              cache_dir=cache_dir)
        return Request(spec, placement, self.prompt, self.key)


DEFAULT_INCLUDE = (
    "*.jpg", "*.jpeg", "*.png", "*.tif", "*.tiff", "*.webp", "*.bmp", "*.gif",
    "*.heic", "*.heif", "*.cr2", "*.cr3", "*.nef", "*.arw", "*.dng", "*.raf", "*.orf", "*.rw2",
)  # fmt: skip
