"""barcode: whether a photo is a barcode card, and the code it holds.

A studio photographs a card holding a product's barcode before the product's photos; the
code names the photos that follow it. A card is a photo that holds only a barcode, which
is read here by zxing-cpp:

1. exactly one code decodes (EAN-13, EAN-8, UPC-A, UPC-E, Code 128, QR Code or Data
   Matrix) on the photo reduced by a power of two to no less than ``MIN_SIDE`` px;
2. an EAN or UPC code's bars are at least ``MIN_MODULE`` px wide: their one check digit
   lets misreads through on bars narrower than that (measured: of 251 codes read on 400
   synthetic cards, 3 were wrong, all with bars of 1.2-1.3 px; none from 1.4 px up), and
3. the frame around the code is nearly plain: outside the code's zone (its outline, made at
   least ``LINEAR_DEPTH`` as deep as it is long for a linear code, then grown by ``GROW``
   for its quiet zone and the digits under it), edge pixels are at most ``MAX_EDGES`` of the
   frame and at most ``MAX_EDGE_RATIO`` of the edge pixels inside the zone.

The last rule keeps a product whose packaging shows a barcode from being taken for a
card: print, shapes and the product's outline are texture outside the code, and there is
far more of it than the code's own bars. A card's outline on a plain backdrop, a line of
text beside the code, sensor noise and a slight tilt stay well inside the limits (measured
on the test scenes at 750 px: cards 0-0.9 % of the frame and 0-0.14 of the code's own
edges, the most with a written line; a printed box with a barcode label 8.3 % and 2.2).
Shoot the card on the plain backdrop the products stand on; a plain, unprinted box whose
only marking is one large barcode reads as a card too.

UPC-A codes come back in their 13-digit GTIN form, with a leading 0: zxing-cpp reports them
so, and their bars are those of the EAN-13 that starts with 0. Code 39 is not read: it has
no check digit at all.

It is meant to run on the model's preview (about 750 px for a DCT-scaled camera JPEG): there
an EAN-13 a third of the frame wide has bars 2.6 px wide, and a photo without a code costs
about 2 ms (bench/listing.py).
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
import zxingcpp

log = logging.getLogger(__name__)

MIN_SIDE = 768  # px: photos are halved while their long side stays at least this
MIN_MODULE = 1.5  # px: the narrowest bar of an EAN or UPC code
GROW = 1.5  # the zone: the code's outline scaled about its centre
LINEAR_DEPTH = 0.6  # a linear code's zone at least this deep, as a share of its length
EDGE_CONTRAST = 48  # grey levels across 3 x 3 pixels (at half size) that make an edge
MAX_EDGES = 0.03  # edge pixels outside the zone, as a share of the frame
MAX_EDGE_RATIO = 0.5  # ... and as a share of the edge pixels inside the zone

_F = zxingcpp.BarcodeFormat
FORMATS = zxingcpp.BarcodeFormats([_F.EAN13, _F.EAN8, _F.UPCA, _F.UPCE, _F.Code128, _F.QRCode,
                                   _F.DataMatrix])
MODULES = {_F.EAN13: 95, _F.UPCA: 95, _F.EAN8: 67, _F.UPCE: 51}  # from first bar to last
MATRIX = (_F.QRCode, _F.DataMatrix)


def read_card(rgb: np.ndarray) -> str | None:
    """Return the text of the barcode when the H x W x 3 uint8 photo ``rgb`` is a barcode
    card (see the module's rule); None for any other photo, one with no code, several
    codes, or a code amid a textured frame."""
    grey = _reduced(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    # zxing-cpp's own smaller copies are off: on them it read a second, wrong EAN beside the
    # right one on cards with 4 px bars
    codes = zxingcpp.read_barcodes(grey, formats=FORMATS, try_invert=False,
                                   try_downscale=False)
    if len(codes) != 1:
        if codes:
            log.debug("%d barcodes in one photo: not a card", len(codes))
        return None
    code = codes[0]
    text = code.text.strip()
    if not text:
        return None
    corners = _corners(code)
    modules = MODULES.get(code.format)
    if modules is not None:
        module = float(np.hypot(*(corners[1] - corners[0]))) / modules
        if module < MIN_MODULE:
            log.debug("barcode %r has %.1f px bars: too fine to trust its check digit", text,
                      module)
            return None
    inside, outside, pixels = _edges(grey, _zone(corners, code.format, grey.shape))
    frame_share = outside / pixels
    if frame_share > MAX_EDGES or outside > MAX_EDGE_RATIO * inside:
        log.debug("barcode %r amid texture (%.1f%% of the frame, %.2f of its own edges): "
                  "not a card", text, 100 * frame_share, outside / max(inside, 1))
        return None
    return text


def _reduced(grey: np.ndarray) -> np.ndarray:
    """``grey`` halved while its long side stays at least MIN_SIDE: a power of two bins
    whole pixels, and an odd factor's aliasing made zxing-cpp read two codes from one."""
    h, w = grey.shape
    factor = 1
    while max(h, w) // (factor * 2) >= MIN_SIDE:
        factor *= 2
    if factor == 1:
        return grey
    return cv2.resize(grey, (w // factor, h // factor), interpolation=cv2.INTER_AREA)


def _corners(code: zxingcpp.Barcode) -> np.ndarray:
    """The code's outline: top left, top right, bottom right, bottom left, as the code reads
    (for a linear code, the first and last bar on the rows it was read on)."""
    p = code.position
    return np.array([(p.top_left.x, p.top_left.y), (p.top_right.x, p.top_right.y),
                     (p.bottom_right.x, p.bottom_right.y), (p.bottom_left.x, p.bottom_left.y)],
                    dtype=np.float64)


def _zone(corners: np.ndarray, fmt: zxingcpp.BarcodeFormat,
          shape: tuple[int, ...]) -> np.ndarray:
    """The code's zone as a uint8 mask of ``shape`` (1 inside)."""
    centre = corners.mean(axis=0)
    if fmt not in MATRIX:  # the bars may have been read on a few rows only
        along = (corners[1] + corners[2] - corners[0] - corners[3]) / 2
        length = float(np.hypot(*along))
        if length > 0:
            across = np.array([-along[1], along[0]]) / length
            depth = max(float(abs((corners[3] + corners[2] - corners[0] - corners[1])
                                  @ across)) / 2, LINEAR_DEPTH * length)
            half_along, half_across = along / 2, across * depth / 2
            corners = np.array([centre - half_along - half_across,
                                centre + half_along - half_across,
                                centre + half_along + half_across,
                                centre - half_along + half_across])
    grown = centre + (corners - centre) * GROW
    zone = np.zeros(shape[:2], dtype=np.uint8)
    cv2.fillConvexPoly(zone, np.round(grown).astype(np.int32), 1)
    return zone


def _edges(grey: np.ndarray, zone: np.ndarray) -> tuple[int, int, int]:
    """Edge pixels inside and outside the zone, and the pixels they were counted among (at
    half size, where sensor noise averages out)."""
    h, w = grey.shape
    size = (max(1, w // 2), max(1, h // 2))
    small = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    zone = cv2.resize(zone, size, interpolation=cv2.INTER_NEAREST)
    contrast = cv2.morphologyEx(small, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    edges = contrast > EDGE_CONTRAST
    inside = int(np.count_nonzero(edges & (zone > 0)))
    return inside, int(np.count_nonzero(edges)) - inside, edges.size
