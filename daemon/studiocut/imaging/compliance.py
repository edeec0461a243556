"""compliance: whether an encoded listing image meets a marketplace preset's rules.

It reads the file as the marketplace will (the encoded bytes, decoded again), so what
encoding changed is what is judged: format, colour (RGB pixels, an embedded profile that is
sRGB), size bounds and shape, file size, how much of the frame the subject fills and, where
the preset requires it, a backdrop of exactly 255, 255, 255.

Backdrop pixels are those further than ``GUARD`` pixels from any trace of the subject
(alpha above 0) in a lossy file, and every pixel outside the subject in a lossless one. A
JPEG's blocks that hold part of the subject ring around its edge, so their backdrop is
rarely exactly white, whatever the quality: with the encoder's 4:2:0 subsampling a block
(an MCU) is 16 x 16 pixels and the chroma upsampling reaches one pixel beyond it, so ringing
stays within 16 pixels of the subject. Measured on a noisy subject at every quality from 46
to 100, no backdrop pixel further than 16 pixels is below 255; nearer, thousands are (down to
201). Below 46 some qualities turn even flat white into 248-254. Lossy WebP does not keep white
(at quality 92 a 1000 px image kept 16,000 pixels at 253 far from the subject), so a preset
that requires white should not be encoded as WebP. A shadow laid on the backdrop is backdrop
here: it is not white.

Cost: one decode (libjpeg-turbo for a JPEG) and a few whole-image OpenCV passes, no Python
loop over pixels: 20-26 ms for a 2000 px JPEG of a noisy subject, all but 2 of them the
decode and the white check's passes (``bench/listing.py``).
"""

from __future__ import annotations

import io
import logging

import cv2
import numpy as np
import simplejpeg
from PIL import Image, UnidentifiedImageError

from studiocut.imaging import decode, frame
from studiocut.profiles.presets import Preset

log = logging.getLogger(__name__)

GUARD = 16  # px around the subject left out of the backdrop check in a lossy file
LOSSY = ("JPEG", "WEBP")
ASPECT_TOLERANCE = 0.01  # relative: 1801 x 2600 is Zalando's own best size for 1:1.44
NAMES = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp", "TIFF": "tiff", "GIF": "gif",
         "BMP": "bmp"}


def check(data: bytes, preset: Preset, *, subject: np.ndarray) -> tuple[str, ...]:
    """Return why the encoded image ``data`` breaks ``preset``'s rules, one short sentence
    each naming the preset, the rule and the measured value; empty when it complies.

    ``subject`` is the subject's alpha on the image's canvas (H x W, float in [0, 1], or a
    boolean mask), at the image's size or any size of the same shape (it is scaled). Raise
    ValueError if ``data`` is not an image or ``subject`` has another shape."""
    try:
        image = Image.open(io.BytesIO(data))  # reads the header only
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"not an image file ({e})") from e
    with image:
        width, height = image.size
        mask = _subject_at(subject, (width, height))
        found = [*_file(data, image, preset), *_size(width, height, preset)]
        found += _fill(subject, preset)
        if preset.white:
            found += _backdrop(_pixels(data, image), mask, preset,
                               guard=GUARD if image.format in LOSSY else 0)
    return tuple(found)


def _subject_at(subject: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Where the subject leaves a trace (alpha above 0), as a uint8 mask at ``size``."""
    mask = np.asarray(subject > 0, dtype=np.uint8)
    h, w = mask.shape
    if (w, h) == size:
        return mask
    if abs(w / h - size[0] / size[1]) > 2 / min(size):
        raise ValueError(f"subject is {w} x {h}, not the shape of the {size[0]} x {size[1]} "
                         "image")
    # area-averaged: a pixel of the image that any subject pixel reaches stays subject
    return np.asarray(cv2.resize(mask * 255, size, interpolation=cv2.INTER_AREA) > 0,
                      dtype=np.uint8)


def _file(data: bytes, image: Image.Image, preset: Preset) -> list[str]:
    found = []
    kind = NAMES.get(image.format or "", (image.format or "unknown").lower())
    if kind not in preset.accepts:
        found.append(f"{preset.name}: {kind} files are not accepted (accepted: "
                     f"{', '.join(preset.accepts)})")
    if image.mode not in ("RGB", "RGBA"):
        found.append(f"{preset.name}: colour mode {image.mode}, not RGB")
    icc = image.info.get("icc_profile")
    if preset.colour == "srgb" and icc and not decode.is_srgb(icc):
        found.append(f"{preset.name}: the embedded colour profile is not sRGB")
    if len(data) > preset.max_bytes:
        found.append(f"{preset.name}: the file is {len(data) / 1e6:.1f} MB (at most "
                     f"{preset.max_bytes / 1e6:g} MB)")
    return found


def _size(width: int, height: int, preset: Preset) -> list[str]:
    found = []
    short, long = sorted((width, height))
    size = f"{preset.name}: {width} x {height} px"
    if short < preset.min_short:
        found.append(f"{size}: the shorter side is under {preset.min_short} px")
    if long < preset.min_long:
        found.append(f"{size}: the longer side is under {preset.min_long} px")
    if preset.max_long is not None and long > preset.max_long:
        found.append(f"{size}: the longer side is over {preset.max_long} px")
    if preset.max_pixels is not None and width * height > preset.max_pixels:
        found.append(f"{size} is {width * height / 1e6:.1f} MP (at most "
                     f"{preset.max_pixels / 1e6:g} MP)")
    if preset.aspect is not None:
        aw, ah = preset.aspect
        if abs((height / width) / (ah / aw) - 1) > ASPECT_TOLERANCE:
            found.append(f"{size} is not {_ratio(aw, ah)} (width:height)")
    return found


def _ratio(width: int, height: int) -> str:
    return f"1:{height / width:.3g}"


def _fill(subject: np.ndarray, preset: Preset) -> list[str]:
    """The subject's box against the canvas's limiting side: the larger of its width share
    and its height share (alpha above ``frame.SUBJECT_THRESHOLD`` counts, as in framing;
    shares do not depend on the size ``subject`` is given at)."""
    if preset.min_fill is None:
        return []
    box = frame.subject_box(subject)
    if box is None:
        return [f"{preset.name}: no subject to measure how much of the frame it fills"]
    height, width = subject.shape
    fill = max((box[2] - box[0]) / width, (box[3] - box[1]) / height)
    if fill >= preset.min_fill:
        return []
    return [f"{preset.name}: the subject fills {fill:.1%} of the frame (at least "
            f"{preset.min_fill * 100:g}%)"]


def _pixels(data: bytes, image: Image.Image) -> np.ndarray:
    """The decoded pixels, H x W x 3 (or x 4 with transparency), uint8."""
    if image.format == "JPEG" and image.mode == "RGB":  # libjpeg-turbo, straight to numpy
        return np.asarray(simplejpeg.decode_jpeg(data, colorspace="RGB"))
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    return np.asarray(image.convert("RGBA" if has_alpha else "RGB"))


def _backdrop(pixels: np.ndarray, mask: np.ndarray, preset: Preset, *, guard: int) -> list[str]:
    """Backdrop pixels (further than ``guard`` px from the subject) that are not exactly
    white and opaque."""
    near = mask
    if guard:
        side = 2 * guard + 1
        near = cv2.dilate(cv2.dilate(mask, np.ones((1, side), np.uint8)),
                          np.ones((side, 1), np.uint8))
    channels = pixels.shape[2]
    white = cv2.inRange(pixels, (255,) * channels, (255,) * channels)
    failing = (white == 0) & (near == 0)
    if not failing.any():
        return []
    wrong = pixels[failing]
    details = []
    off_white = np.any(wrong[:, :3] < 255, axis=1)
    if channels == 4:  # a fully transparent pixel shows no colour of its own
        off_white &= wrong[:, 3] > 0
    if off_white.any():
        details.append(f"{_pixels_count(int(np.count_nonzero(off_white)))} below 255, "
                       f"lowest {int(wrong[off_white, :3].min())}")
    if channels == 4 and (see_through := int(np.count_nonzero(wrong[:, 3] < 255))):
        details.append(f"{_pixels_count(see_through)} transparent")
    return [f"{preset.name}: backdrop not pure white ({'; '.join(details)})"]


def _pixels_count(n: int) -> str:
    return f"{n} pixel" if n == 1 else f"{n} pixels"
