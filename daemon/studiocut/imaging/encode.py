"""encode: a listing image's bytes (JPEG, PNG, WebP, TIFF) with its ICC profile and metadata.

Metadata goes where each format holds it: EXIF and XMP in all four; IPTC in JPEG (an APP13
Photoshop resource) and TIFF (tag 33723) only. PNG and WebP have no standard place for IPTC,
so it is left out of them; their XMP carries copyright, creator and keywords where the
source's XMP has them (tools that follow the Metadata Working Group's guidance, Lightroom's
export among them, write both). Segments and chunks are spliced into the encoded bytes;
nothing is decoded again.
"""

from __future__ import annotations

import io
import logging
import struct
import zlib

import cv2
import numpy as np
from isal import isal_zlib
from PIL import Image

from studiocut.imaging.metadata import Metadata, photoshop_iptc
from studiocut.profiles import Encoding

log = logging.getLogger(__name__)

_SEGMENT_MAX = 65533  # the most a JPEG segment holds after its length
_XMP_SIGNATURE = b"http://ns.adobe.com/xap/1.0/\x00"
_PHOTOSHOP_SIGNATURE = b"Photoshop 3.0\x00"


def encode(image: np.ndarray, enc: Encoding, *, icc: bytes | None,
           metadata: Metadata | None) -> bytes:
    """Return the encoded file for an H x W x 3 (RGB) or H x W x 4 (RGBA) uint8 image, with
    ``icc`` and ``metadata`` (prepared for this output: ``metadata.prepare``) in it where the
    format holds them. The EXIF is written upright and at the profile's dpi."""
    meta = metadata or Metadata()
    exif = _upright_exif(meta.exif, enc.dpi, sub_ifds=enc.format != "tiff") if meta.exif else None
    if enc.format == "png":
        return _png(image, enc.png_level, dpi=enc.dpi, icc=icc, exif=exif, xmp=meta.xmp)
    if enc.format == "jpeg":
        return _jpeg(image, enc.quality, dpi=enc.dpi, icc=icc, exif=exif, meta=meta)
    picture = Image.fromarray(image, mode="RGBA" if image.shape[2] == 4 else "RGB")
    options: dict[str, object] = {"dpi": (enc.dpi, enc.dpi)}
    if icc:
        options["icc_profile"] = icc
    if exif:
        options["exif"] = exif
    if enc.format == "webp":
        options.update(quality=enc.quality, method=4)
        if meta.xmp:
            options["xmp"] = meta.xmp
        del options["dpi"]
        fmt = "WEBP"
    else:
        compression = {"none": None, "lzw": "tiff_lzw", "deflate": "tiff_adobe_deflate"}
        options.update(compression=compression[enc.tiff_compression])
        if meta.xmp or meta.iptc:
            options["exif"] = _tiff_tags(exif, xmp=meta.xmp, iptc=meta.iptc)
        fmt = "TIFF"
    buffer = io.BytesIO()
    picture.save(buffer, fmt, **options)
    return buffer.getvalue()


def _jpeg(image: np.ndarray, quality: int, *, dpi: int, icc: bytes | None,
          exif: bytes | None, meta: Metadata) -> bytes:
    """JPEG by libjpeg-turbo through OpenCV: the same scan Pillow writes (baseline, 4:2:0,
    the accurate DCT, no Huffman optimisation) without Pillow's copy of the pixels into an
    image of its own, four bytes a pixel (2000 px: 8.5-11.5 against 9.5-15.5 ms, and none of
    its page faults). simplejpeg, used to decode, would be a little faster, but TurboJPEG
    switches to the fast DCT below quality 96 (0.2 dB less at 92). The segments follow SOI
    in the order Pillow and cameras write them: JFIF at the profile's dpi, EXIF, XMP, IPTC,
    then the ICC profile (split as the ICC specification says)."""
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"a JPEG holds RGB pixels only, not an array of shape {image.shape}")
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_JPEG_QUALITY, quality])
    data = encoded.tobytes() if ok else b""
    if data[2:4] != b"\xff\xe0":
        raise ValueError("libjpeg-turbo wrote no JPEG with a JFIF segment first")
    rest = 4 + int.from_bytes(data[4:6], "big")  # after the encoder's own JFIF segment
    jfif = b"JFIF\x00\x01\x01\x01" + struct.pack(">HH", dpi, dpi) + b"\x00\x00"
    segments = _segment(b"\xe0", jfif) + _jpeg_segments(exif, meta)
    if icc:
        parts = [icc[i:i + _ICC_PART] for i in range(0, len(icc), _ICC_PART)]
        for number, part in enumerate(parts, start=1):
            segments += _segment(b"\xe2", b"ICC_PROFILE\x00" + bytes((number, len(parts))) + part)
    return data[:2] + segments + data[rest:]


_ICC_PART = 65519  # the profile's bytes in one APP2 segment, after its 14-byte header


def _segment(marker: bytes, body: bytes) -> bytes:
    return b"\xff" + marker + struct.pack(">H", len(body) + 2) + body


def _jpeg_segments(exif: bytes | None, meta: Metadata) -> bytes:
    """The EXIF and XMP (APP1) and IPTC (APP13) segments; one too large for a segment is
    left out with a log line (XMP's extended form, split over several, is not written)."""
    segments = b""
    for kind, marker, body in (
            ("EXIF block", b"\xe1", exif or b""),
            ("XMP packet", b"\xe1", _XMP_SIGNATURE + meta.xmp if meta.xmp else b""),
            ("IPTC block", b"\xed",
             _PHOTOSHOP_SIGNATURE + photoshop_iptc(meta.iptc) if meta.iptc else b"")):
        if len(body) > _SEGMENT_MAX:
            log.warning("an %s of %d bytes does not fit a JPEG segment (64 KB): the JPEG is "
                        "written without it", kind, len(body))
        elif body:
            segments += _segment(marker, body)
    return segments


def _tiff_tags(exif: bytes | None, *, xmp: bytes | None, iptc: bytes | None) -> bytes:
    """A TIFF's tags beyond the pixels: ``exif``'s, XMP (700) and IPTC (33723)."""
    tags = Image.Exif()
    if exif:
        tags.load(exif)
    if xmp:
        tags[700] = xmp
    if iptc:
        tags[33723] = iptc
    return tags.tobytes()


def _png(image: np.ndarray, level: int, *, dpi: int, icc: bytes | None,
         exif: bytes | None, xmp: bytes | None) -> bytes:
    """PNG written here, every row "up"-filtered and deflated at zlib's ``level``: by ISA-L
    at levels 1 and 2, by zlib at the others. ISA-L's deflate makes smaller files than
    zlib's at those levels in a quarter of the time (2000 px RGBA cut-outs: 28.5 against
    124 ms with libpng at level 1, 3.6 % smaller); it has no levels above 3, and its 3 is
    larger than zlib's. libpng (OpenCV) and Pillow deflate with zlib only, and Pillow tries
    each filter on each row, twice libpng's time. The chunks a listing needs (pHYs, iCCP,
    eXIf, and the XMP's iTXt ``XML:com.adobe.xmp``, uncompressed as the XMP specification
    asks) go between IHDR and the image data, which is cut into chunks of 1 MiB (a chunk
    holds at most 2 GiB; libpng cuts at 8 KiB, Pillow at 64 KiB)."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError("a PNG here holds 8-bit RGB or RGBA pixels, not an array of shape "
                         f"{image.shape} and type {image.dtype}")
    h, w, channels = image.shape
    rows = image.reshape(h, w * channels)
    filtered = np.empty((h, 1 + w * channels), np.uint8)
    filtered[:, 0] = 2  # "up": each byte less the one above it (zero above the first row)
    filtered[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])
    pixels = (isal_zlib if level in (1, 2) else zlib).compress(filtered, level)
    per_metre = round(dpi / 0.0254)
    colour_type = 6 if channels == 4 else 2  # RGBA or RGB, 8 bits a sample
    chunks = [_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour_type, 0, 0, 0)),
              _chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1))]
    if icc:
        chunks.append(_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(icc)))
    if exif:
        chunks.append(_chunk(b"eXIf", exif.removeprefix(b"Exif\x00\x00")))
    if xmp:  # keyword, no compression, no language, no translated keyword
        chunks.append(_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + xmp))
    view = memoryview(pixels)
    chunks += [_chunk(b"IDAT", view[i:i + _IDAT_MAX]) for i in range(0, len(view), _IDAT_MAX)]
    chunks.append(_chunk(b"IEND", b""))
    return _PNG_SIGNATURE + b"".join(chunks)


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_IDAT_MAX = 1 << 20


def _chunk(kind: bytes, body: bytes | memoryview) -> bytes:
    crc = isal_zlib.crc32(body, isal_zlib.crc32(kind))  # a quarter of zlib's time
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


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
