"""encode: a listing image's bytes (JPEG, PNG, WebP, TIFF) with its ICC profile and EXIF."""

from __future__ import annotations

import io
import logging
import struct
import zlib

import cv2
import numpy as np
from PIL import Image

from studiocut.profiles import Encoding

log = logging.getLogger(__name__)




def encode(image: np.ndarray, enc: Encoding, *, icc: bytes | None, exif: bytes | None) -> bytes:
    """Return the encoded file for an H x W x 3 (RGB) or H x W x 4 (RGBA) uint8 image."""
    if exif:
        exif = _upright_exif(exif, enc.dpi, sub_ifds=enc.format != "tiff")
    if enc.format == "png":
        return _png(image, enc.png_level, dpi=enc.dpi, icc=icc, exif=exif)
    picture = Image.fromarray(image, mode="RGBA" if image.shape[2] == 4 else "RGB")
    options: dict[str, object] = {"dpi": (enc.dpi, enc.dpi)}
    if icc:
        options["icc_profile"] = icc
    if exif:
        options["exif"] = exif
    if enc.format == "jpeg":
        options.update(quality=enc.quality, optimize=False)
        fmt = "JPEG"
    elif enc.format == "webp":
        options.update(quality=enc.quality, method=4)
        del options["dpi"]
        fmt = "WEBP"
    else:
        compression = {"none": None, "lzw": "tiff_lzw", "deflate": "tiff_adobe_deflate"}
        options.update(compression=compression[enc.tiff_compression])
        fmt = "TIFF"
    buffer = io.BytesIO()
    picture.save(buffer, fmt, **options)
    return buffer.getvalue()


def _png(image: np.ndarray, level: int, *, dpi: int, icc: bytes | None,
         exif: bytes | None) -> bytes:
    """PNG by libpng through OpenCV with every row "up"-filtered: Pillow tries each filter on
    each row, twice the time for a 2000 px RGBA cut-out and a larger file (measured at
    level 1: 101 against 206 ms, 3994 against 4066 KB). The chunks Pillow would add (pHYs,
    iCCP, eXIf) go between IHDR and the image data."""
    order = cv2.COLOR_RGBA2BGRA if image.shape[2] == 4 else cv2.COLOR_RGB2BGR
    params = [cv2.IMWRITE_PNG_COMPRESSION, level]
    if hasattr(cv2, "IMWRITE_PNG_FILTER"):  # OpenCV 4.10 and later
        params += [cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_UP]
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(image, order), params)
    if not ok:
        raise ValueError("OpenCV could not encode the PNG")
    data = encoded.tobytes()
    per_metre = round(dpi / 0.0254)
    chunks = [_chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1))]
    if icc:
        chunks.append(_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(icc)))
    if exif:
        chunks.append(_chunk(b"eXIf", exif.removeprefix(b"Exif\x00\x00")))
    ihdr_end = 8 + 4 + 4 + 13 + 4  # signature; IHDR's length, type, data and CRC
    return data[:ihdr_end] + b"".join(chunks) + data[ihdr_end:]


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _upright_exif(exif: bytes, dpi: int, *, sub_ifds: bool) -> bytes:
    """The source's EXIF for pixels that are already upright, at the profile's resolution:
    orientation 1 (else viewers turn the photo again) and XResolution/YResolution set to
    ``dpi`` (cameras write 72, which would contradict the dpi written beside it). Without
    ``sub_ifds``, the Exif, GPS and Interop directories are left out: libtiff cannot write
    them into a TIFF ("Error setting from dictionary")."""
    tags = Image.Exif()
    tags.load(exif)
    tags[0x0112] = 1
    tags[0x011A] = tags[0x011B] = float(dpi)
    tags[0x0128] = 2  # inches
    if not sub_ifds:
        for pointer in (0x8769, 0x8825, 0xA005):
            tags.pop(pointer, None)
    return tags.tobytes()


