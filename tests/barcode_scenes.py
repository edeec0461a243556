"""Synthetic photos for the barcode-card tests and bench/listing.py: codes written by
zxing-cpp itself, put on a white card on a plain backdrop (tilted, blurred and noisy as a
camera sees them), on the printed box of a product, or left out."""

from __future__ import annotations

import cv2
import numpy as np
import zxingcpp

SIZE = (1000, 750)  # a camera photo's preview (w, h), before it is reduced to ~750 px
BACKDROP = (200, 198, 195)  # a light grey paper sweep


def code(text: str, fmt: zxingcpp.BarcodeFormat, module: int = 3) -> np.ndarray:
    """The barcode as a grey uint8 image, ``module`` px per module, with its quiet zones and
    (for linear codes) the digits under the bars."""
    linear = fmt not in (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.DataMatrix)
    image = zxingcpp.create_barcode(text, fmt).to_image(scale=module, add_hrt=linear)
    return np.asarray(image, dtype=np.uint8)


def card(codes: list[np.ndarray], *, size: tuple[int, int] = SIZE, angle: float = 3.0,
         backdrop: tuple[int, int, int] = BACKDROP, label: str | None = None,
         seed: int = 0) -> np.ndarray:
    """A white card holding ``codes`` side by side (and ``label`` written under them) in the
    middle of a plain backdrop, turned by ``angle`` degrees, as an RGB photo."""
    gap = 40
    height = max(c.shape[0] for c in codes)
    width = sum(c.shape[1] for c in codes) + gap * (len(codes) - 1)
    below = 60 if label else 0
    face = np.full((height + below + 80, width + 80), 248, dtype=np.uint8)
    x = 40
    for c in codes:
        face[40 : 40 + c.shape[0], x : x + c.shape[1]] = c
        x += c.shape[1] + gap
    if label:
        cv2.putText(face, label, (40, 40 + height + 45), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 40, 2,
                    cv2.LINE_AA)
    w, h = size
    photo = np.empty((h, w, 3), dtype=np.uint8)
    photo[:] = backdrop
    y0, x0 = (h - face.shape[0]) // 2, (w - face.shape[1]) // 2
    photo[y0 : y0 + face.shape[0], x0 : x0 + face.shape[1]] = face[..., None]
    return camera(turned(photo, angle), seed)


def product(*, size: tuple[int, int] = SIZE, barcode: np.ndarray | None = None,
            seed: int = 0) -> np.ndarray:
    """A printed box on the plain backdrop: a brand name, a photo-like panel, stripes and
    small print, with ``barcode`` (if any) on a white label in its lower right corner."""
    rng = np.random.default_rng(seed)
    w, h = size
    photo = np.empty((h, w, 3), dtype=np.uint8)
    photo[:] = BACKDROP
    x0, y0, x1, y1 = int(0.25 * w), int(0.12 * h), int(0.75 * w), int(0.88 * h)
    photo[y0:y1, x0:x1] = (40, 90, 170)
    cv2.putText(photo, "BRAND SUPER", (x0 + 30, y0 + 70), cv2.FONT_HERSHEY_SIMPLEX, 1.5,
                (255, 255, 255), 4, cv2.LINE_AA)
    for row in range(4):
        cv2.putText(photo, "premium quality 500 g - keep dry", (x0 + 30, y0 + 120 + 30 * row),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.7, (250, 220, 0), 2, cv2.LINE_AA)
    panel = photo[y0 + 260 : y0 + 420, x0 + 30 : x0 + 260]
    yy, xx = np.mgrid[: panel.shape[0], : panel.shape[1]]
    for c, weight in enumerate((0.8, 0.5, 0.2)):
        panel[..., c] = (127 + 100 * np.sin(xx / 9.0 + c) * np.cos(yy / 13.0) * weight
                         ).astype(np.uint8)
    for i in range(12):
        cv2.line(photo, (x0, y1 - 10 - 6 * i), (x1 - 1, y1 - 10 - 6 * i),
                 tuple(int(v) for v in rng.integers(0, 255, 3)), 2)
    if barcode is not None:
        bh, bw = barcode.shape
        ly, lx = y1 - bh - 120, x1 - bw - 40
        photo[ly - 10 : ly + bh + 10, lx - 10 : lx + bw + 10] = 255
        photo[ly : ly + bh, lx : lx + bw] = barcode[..., None]
    return camera(turned(photo, 2.0), seed)


def turned(photo: np.ndarray, angle: float) -> np.ndarray:
    h, w = photo.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(photo, matrix, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def camera(photo: np.ndarray, seed: int) -> np.ndarray:
    """A lens's slight blur and a sensor's noise."""
    rng = np.random.default_rng(seed)
    soft = cv2.GaussianBlur(photo, (3, 3), 0.8).astype(np.float32)
    return np.clip(soft + rng.normal(0, 3, photo.shape), 0, 255).astype(np.uint8)


def preview(photo: np.ndarray, long_side: int = 750) -> np.ndarray:
    """The photo at the model's preview size."""
    h, w = photo.shape[:2]
    scale = long_side / max(h, w)
    return cv2.resize(photo, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
