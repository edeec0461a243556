"""presets: the marketplaces' published image rules, one row each, for ``preset: NAME``.

A row says how studiocut renders a listing image for that marketplace (``canvas``, ``fill``,
``backdrop``, ``format``, ``quality``) and what the marketplace itself requires of the file,
which ``imaging.compliance`` checks after encoding: accepted formats, sRGB, size bounds, file
size, a pure white backdrop, how much of the frame the product fills. Where a marketplace
only recommends a value (a canvas size, a fill) it is studiocut's rendering choice and is
not checked; ``notes`` says which is which, and the README's "Marketplace presets" table
gives the sources. Sizes are in pixels; byte caps are decimal megabytes (10 MB is
10,000,000 bytes), the stricter reading when a page does not say which it means.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from studiocut.errors import ConfigError
from studiocut.profiles.schema import Encoding, Rgb

WHITE: Rgb = (255, 255, 255)
MB = 1_000_000


@dataclass(frozen=True)
class Preset:
    """One marketplace's rules for its main listing image.

    Rendering (studiocut's choices, within the marketplace's recommendations): ``canvas``
    (width, height), ``fill`` (the share of the canvas's limiting side the subject takes),
    ``backdrop`` (None: transparent), ``format`` and ``quality``.

    Required by the marketplace (checked on the encoded file): ``accepts`` (formats),
    ``colour`` (the colour space), ``max_bytes``, ``min_short``/``min_long`` (the shorter
    and the longer side at least; 0: no minimum), ``max_long`` and ``max_pixels`` (None: no
    maximum), ``aspect`` (width, height; None: any shape), ``white`` (backdrop pixels exactly
    255, 255, 255) and ``min_fill`` (None: not required)."""

    name: str
    canvas: tuple[int, int]
    fill: float
    backdrop: Rgb | None
    format: str
    quality: int
    accepts: tuple[str, ...]
    max_bytes: int
    min_short: int = 0
    min_long: int = 0
    max_long: int | None = None
    max_pixels: int | None = None
    aspect: tuple[int, int] | None = None
    white: bool = False
    min_fill: float | None = None
    colour: Literal["srgb"] = "srgb"
    sources: tuple[str, ...] = ()
    notes: str = ""

    def encoding(self, base: Encoding | None = None) -> Encoding:
        """``base`` (default: the default Encoding) with this preset's format, quality and
        sRGB; its name template and the rest are kept."""
        return dataclasses.replace(base or Encoding(), format=self.format,
                                   quality=self.quality, icc=self.colour)


_ROWS = (
    Preset(
        "amazon", canvas=(2000, 2000), fill=0.90, backdrop=WHITE, format="jpeg", quality=95,
        accepts=("jpeg", "png", "tiff", "gif"), max_bytes=10 * MB, min_long=1000,
        max_long=10000, white=True, min_fill=0.85,
        sources=("https://sellercentral.amazon.com/help/hub/reference/external/G1881",
                 "https://sellercentral.amazon.com/gp/help/external/G9FUUH87RBNXGKB7"),
        notes="main image: pure white backdrop and the product filling 85 % of the frame are "
              "required; 1000 px on the longest side enables zoom (Amazon calls it the "
              "minimum), larger is recommended; JPEG at the highest quality is recommended; "
              "the 10 MB cap is the upload limit as commonly cited, not on the linked pages",
    ),
    Preset(
        "walmart", canvas=(2200, 2200), fill=0.85, backdrop=WHITE, format="jpeg", quality=92,
        accepts=("jpeg", "png", "bmp"), max_bytes=5 * MB, min_short=1500, aspect=(1, 1),
        white=True,
        sources=("https://marketplacelearn.walmart.com/guides/Item%20setup/"
                 "Item%20content,%20imagery,%20and%20media/"
                 "Product-detail-page:-Image-guidelines-&-requirements",),
        notes="2200 x 2200 px, square, seamless white (255, 255, 255), RGB, 8 bits, 5 MB or "
              "less are listed as requirements; 1500 x 1500 px is the minimum for zoom; the "
              "fill is studiocut's choice (Walmart states none)",
    ),
    Preset(
        "zalando", canvas=(1801, 2600), fill=0.85, backdrop=WHITE, format="jpeg", quality=92,
        accepts=("jpeg",), max_bytes=20 * MB, min_short=762, min_long=1100, aspect=(25, 36),
        sources=("https://partner.zalando.com/university/article/zalando-image-guidelines",
                 "https://partner.zalando.com/university/article/"
                 "visual-content-and-post-production-guide"),
        notes="upright 1:1.44 (width:height) is required, 1801 x 2600 px is best practice, "
              "762 x 1100 px the minimum, JPEG only, 20 MB at most; primary packshots have "
              "a white backdrop within Zalando's colour range (the exact range is not "
              "checked); the fill is studiocut's choice",
    ),
    Preset(
        "etsy", canvas=(3000, 2250), fill=0.80, backdrop=WHITE, format="jpeg", quality=92,
        accepts=("jpeg", "png", "gif"), max_bytes=10 * MB,
        sources=("https://help.etsy.com/hc/en-us/articles/115015663347",),
        notes="4:3 landscape at 3000 x 2250 px, at least 2000 px on the shortest side, is "
              "Etsy's recommendation, not a requirement (thumbnails crop to 4:3 or 5:4); "
              "the 10 MB cap and the formats are from Etsy's help as remembered (the page "
              "could not be fetched to confirm); backdrop and fill are studiocut's choice",
    ),
    Preset(
        "shopify", canvas=(2048, 2048), fill=0.85, backdrop=WHITE, format="jpeg",
        quality=92, accepts=("jpeg", "png", "webp", "gif"), max_bytes=20 * MB,
        max_long=5000, max_pixels=25_000_000,
        sources=("https://help.shopify.com/en/manual/products/product-media/"
                 "product-media-types",),
        notes="2048 x 2048 px square is Shopify's recommendation for product photos; up to "
              "5000 x 5000 px (25 MP) and under 20 MB are required (older pages say "
              "4472 x 4472 px, 20 MP); backdrop and fill are studiocut's choice",
    ),
    Preset(
        "ebay", canvas=(1600, 1600), fill=0.85, backdrop=WHITE, format="jpeg", quality=92,
        accepts=("jpeg", "png", "tiff", "bmp", "gif", "webp"), max_bytes=12 * MB,
        min_long=500,
        sources=("https://www.ebay.com/help/policies/listing-policies/picture-policy?id=4370",),
        notes="500 px on the longest side is required; 1600 px is recommended; no borders, "
              "added text or watermarks (not checked); the 12 MB cap is eBay's upload "
              "limit as commonly cited, not on the linked policy page; backdrop and fill "
              "are studiocut's choice",
    ),
    Preset(
        "google", canvas=(1500, 1500), fill=0.80, backdrop=WHITE, format="jpeg", quality=92,
        accepts=("jpeg", "webp", "png", "gif", "bmp", "tiff"), max_bytes=16 * MB,
        min_short=100, max_pixels=64_000_000,
        sources=("https://support.google.com/merchants/answer/6324350",),
        notes="Merchant Center image_link: at least 100 x 100 px (250 x 250 px for apparel), "
              "at most 64 MP and 16 MB are required; 1500 x 1500 px or more, a white or "
              "transparent backdrop and the product covering 75-90 % of the image are "
              "recommended; no watermarks, borders or promotional overlays (not checked)",
    ),
)

PRESETS: dict[str, Preset] = {row.name: row for row in _ROWS}
NAMES: tuple[str, ...] = tuple(PRESETS)


def get(name: str) -> Preset:
    """Return the preset called ``name``; raise ConfigError naming the valid ones."""
    preset = PRESETS.get(name)
    if preset is None:
        raise ConfigError([f"unknown marketplace preset {name!r} "
                           f"(expected one of {', '.join(NAMES)})"])
    return preset
