"""Input files for the tests of decode, formats, raw and metadata, built in memory with Pillow
and numpy: nothing is copied from sample folders. Coloured quadrants tell every rotation and
flip apart. Metadata blocks (EXIF, IPTC, XMP) are built byte by byte, as cameras and photo
tools write them, and XMP read back with ElementTree (the outputs are ours: trusted)."""

from __future__ import annotations

import io
import struct
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

RED, GREEN, BLUE, YELLOW = (220, 0, 0), (0, 200, 0), (0, 0, 220), (240, 240, 0)


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def save(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def swap_icc_tags(icc: bytes, a: bytes, b: bytes) -> bytes:
    """The profile with tags ``a`` and ``b`` exchanged (swapping rXYZ and bXYZ of sRGB gives
    an RGB space whose red is sRGB's blue)."""
    data = bytearray(icc)
    (count,) = struct.unpack(">I", data[128:132])
    entries = {bytes(data[132 + 12 * i : 136 + 12 * i]): 132 + 12 * i for i in range(count)}
    ea, eb = entries[a], entries[b]
    data[ea + 4 : ea + 12], data[eb + 4 : eb + 12] = data[eb + 4 : eb + 12], data[ea + 4 : ea + 12]
    return bytes(data)


def quadrants(w: int = 60, h: int = 40) -> np.ndarray:
    """An image no rotation or flip maps onto itself: four coloured quadrants."""
    pixels = np.zeros((h, w, 3), dtype=np.uint8)
    pixels[: h // 2, : w // 2] = RED
    pixels[: h // 2, w // 2 :] = GREEN
    pixels[h // 2 :, : w // 2] = BLUE
    pixels[h // 2 :, w // 2 :] = YELLOW
    return pixels


def quadrant_colours(rgb: np.ndarray) -> list[tuple[int, ...]]:
    """The colour at the centre of each quadrant: top-left, top-right, bottom-left, bottom-right."""
    h, w = rgb.shape[:2]
    ys, xs = (h // 4, 3 * h // 4), (w // 4, 3 * w // 4)
    points = [(ys[0], xs[0]), (ys[0], xs[1]), (ys[1], xs[0]), (ys[1], xs[1])]
    return [tuple(int(v) for v in rgb[y, x]) for y, x in points]


def same_quadrants(rgb: np.ndarray, expected: np.ndarray, tolerance: int) -> bool:
    got, want = quadrant_colours(rgb), quadrant_colours(expected)
    assert np.abs(np.array(got) - np.array(want)).max() <= tolerance, (got, want)
    return True


def close(a: tuple[int, ...] | np.ndarray, b: tuple[int, ...], tolerance: int = 8) -> bool:
    return bool(np.abs(np.asarray(a, dtype=int) - np.asarray(b, dtype=int)).max() <= tolerance)


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photos/readme.txt", "not a photo")
    return buffer.getvalue()


def oriented_exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "TestCam"
    return exif.tobytes()


def jpeg(pixels: np.ndarray, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", **options)
    return buffer.getvalue()


def noise(h: int = 96, w: int = 128) -> np.ndarray:
    return np.random.default_rng(3).integers(0, 256, (h, w, 3), dtype=np.uint8)


# --------------------------------------------------------------------------- metadata

COPYRIGHT = "(c) 2024 Example Studio"
CREATOR = "Ann Example"
KEYWORDS = ("shoe", "red")
XMP_NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "tiff": "http://ns.adobe.com/tiff/1.0/",
    "studiocut": "https://studiocut.org/ns/1.0/",
}


def camera_exif(*, gps: bool = True, orientation: int = 1) -> bytes:
    """EXIF as a camera and a studio's tools leave it: maker, copyright, artist, and where
    the photo was taken."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "TestCam"
    exif[0x8298] = COPYRIGHT
    exif[0x013B] = CREATOR
    if gps:
        place = exif.get_ifd(0x8825)
        place.update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)})
    return exif.tobytes()


def iim(*records: tuple[int, int, bytes]) -> bytes:
    """IPTC-IIM records: each 0x1C, record, dataset, a 2-byte length and the data."""
    return b"".join(b"\x1c" + bytes([record, dataset]) + struct.pack(">H", len(data)) + data
                    for record, dataset, data in records)


def studio_iptc() -> bytes:
    """IPTC as Photo Mechanic writes it: UTF-8 declared, keywords, by-line, copyright."""
    return iim((1, 90, b"\x1b%G"), (2, 0, b"\x00\x04"),
               *((2, 25, k.encode()) for k in KEYWORDS),
               (2, 80, CREATOR.encode()), (2, 116, COPYRIGHT.encode()))


def studio_xmp(*, gps: bool = True, orientation: int | None = None, extra: str = "") -> bytes:
    """An XMP packet as Lightroom writes one: creator, rights, keywords, and the place as
    exif:GPS properties (one as an attribute, one as an element: XMP allows both)."""
    place = 'exif:GPSLatitude="52,31.2N"' if gps else ""
    turned = f'tiff:Orientation="{orientation}"' if orientation else ""
    longitude = "<exif:GPSLongitude>13,24.6E</exif:GPSLongitude>" if gps else ""
    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/"
    {place} {turned}>
   <dc:creator><rdf:Seq><rdf:li>{CREATOR}</rdf:li></rdf:Seq></dc:creator>
   <dc:rights><rdf:Alt><rdf:li xml:lang="x-default">{COPYRIGHT}</rdf:li></rdf:Alt></dc:rights>
   <dc:subject><rdf:Bag>{"".join(f"<rdf:li>{k}</rdf:li>" for k in KEYWORDS)}</rdf:Bag></dc:subject>
   {longitude}{extra}
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>""".encode()


def jpeg_segments(data: bytes, *, xmp: bytes | None = None, iptc: bytes | None = None) -> bytes:
    """A JPEG with an XMP (APP1) and an IPTC (APP13, Photoshop resource 0x0404) segment
    right after its SOI marker."""
    segments = b""
    if xmp is not None:
        body = b"http://ns.adobe.com/xap/1.0/\x00" + xmp
        segments += b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
    if iptc is not None:
        pad = b"\x00" if len(iptc) % 2 else b""
        body = (b"Photoshop 3.0\x008BIM" + struct.pack(">HHI", 0x0404, 0, len(iptc)) + iptc
                + pad)
        segments += b"\xff\xed" + struct.pack(">H", len(body) + 2) + body
    return data[:2] + segments + data[2:]


def xmp_properties(packet: bytes) -> dict[str, list[str]]:
    """Every property of an XMP packet as ``prefix:Name`` (the prefixes of XMP_NS) to its
    values: an array's items, a simple property's text, or an attribute's value."""
    names = {uri: prefix for prefix, uri in XMP_NS.items()}

    def short(name: str) -> str:
        uri, _, local = name[1:].partition("}")
        return f"{names.get(uri, uri)}:{local}"

    found: dict[str, list[str]] = {}
    root = ET.fromstring(packet)
    for description in root.iter(f"{{{XMP_NS['rdf']}}}Description"):
        for name, value in description.attrib.items():
            if short(name) != "rdf:about":
                found.setdefault(short(name), []).append(value)
        for child in description:
            items = [li.text or "" for li in child.iter(f"{{{XMP_NS['rdf']}}}li")]
            found.setdefault(short(child.tag), []).extend(items or [child.text or ""])
    return found
