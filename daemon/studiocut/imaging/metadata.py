"""metadata: what a photo says about itself (EXIF, IPTC, XMP), read once from the source and
prepared for each output.

``read`` takes it from the Pillow image decode opened; ``prepare`` makes the copy an output
carries: GPS dropped unless asked for, properties that describe the source's pixels rather
than the output's dropped, and studiocut's own XMP fields (SKU, view, profile, model,
revision) written in a namespace of its own. Copyright, creator and keywords (EXIF Copyright
and Artist; IPTC 2:116, 2:80, 2:25; XMP dc:rights, dc:creator, dc:subject) pass unchanged.
``encode`` writes the result into each format.

XMP is parsed with expat directly: a packet with a DTD or an entity declaration is refused
(the billion-laughs and external-entity attacks need one), as is one nested deeper than any
real packet; a packet that is refused or not well-formed is dropped with a log line, never
an error for the photo.
"""

from __future__ import annotations

import logging
import re
import struct
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import NoReturn
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

from PIL import Image

log = logging.getLogger(__name__)

NAMESPACE = "https://studiocut.org/ns/1.0/"
PREFIX = "studiocut"

MAX_XMP = 1 << 20  # a real packet is a few KB, Photoshop's some hundreds; larger is dropped
MAX_DEPTH = 64  # a real packet nests about ten elements deep

_X = "adobe:ns:meta/"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_XML = "http://www.w3.org/XML/1998/namespace"
_TIFF = "http://ns.adobe.com/tiff/1.0/"
_EXIF = "http://ns.adobe.com/exif/1.0/"
_DESCRIPTION = f"{{{_RDF}}}Description"
_ABOUT = f"{{{_RDF}}}about"

# XMP properties that describe the source's pixels, not the output's: an orientation other
# than 1 would turn the upright output again (Pillow honours tiff:Orientation where EXIF has
# none), and the size and resolution are the source's.
_STALE_XMP = frozenset(f"{{{uri}}}{name}" for uri, name in (
    (_TIFF, "Orientation"), (_TIFF, "ImageWidth"), (_TIFF, "ImageLength"),
    (_TIFF, "XResolution"), (_TIFF, "YResolution"), (_TIFF, "ResolutionUnit"),
    (_EXIF, "PixelXDimension"), (_EXIF, "PixelYDimension"),
))

_GPS_IFD = 0x8825
_EXIF_IFD = 0x8769
# TIFF tags that describe the source file's own pixel layout (sizes, strips, tiles, sample
# format, its ICC): copied into an output they are stale, and libtiff refuses to write them.
_LAYOUT_TAGS = (254, 256, 257, 258, 259, 262, 266, 273, 277, 278, 279, 284, 292, 293, 317, 320,
                322, 323, 324, 325, 330, 338, 339, 513, 514, 530, 34675)
# TIFF tags a TIFF source's EXIF brings along that are containers of their own: XMP (700) and
# IPTC (33723) are read separately; Photoshop's resources (34377) and layers (37724) are not
# carried (the latter can be most of the file).
_CONTAINER_TAGS = (700, 33723, 34377, 37724)
_PIXEL_DIMENSIONS = (0xA002, 0xA003)  # Exif IFD: the source's size
_IPTC_TAG = 33723
_PHOTOSHOP_IPTC = 0x0404  # the Photoshop image resource holding the IPTC-IIM records
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML 1.0
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Metadata:
    """A photo's metadata as bytes, each None when absent: ``exif`` as Pillow writes it
    (``Exif\\0\\0`` and a TIFF structure), ``iptc`` the IPTC-IIM records (the data of
    Photoshop's resource 0x0404, or of TIFF tag 33723), ``xmp`` an XMP packet (UTF-8)."""

    exif: bytes | None = None
    iptc: bytes | None = None
    xmp: bytes | None = None


@dataclass(frozen=True)
class Own:
    """studiocut's own fields for an output's XMP; each one None or empty is left out."""

    sku: str | None = None
    view: str | None = None
    profile: str | None = None
    model: str | None = None
    revision: str | None = None


# the XMP property name of each field of Own
_OWN_PROPERTIES = {"sku": "SKU", "view": "View", "profile": "Profile", "model": "Model",
                   "revision": "Revision"}


class XmpError(ValueError):
    """An XMP packet that is not well-formed or that this module refuses to parse."""


def read(image: Image.Image, *, source: object) -> Metadata:
    """Given an opened image, return its metadata: EXIF with the orientation reset to 1 (the
    output's pixels are upright) and the tags of the source's pixel layout left out; IPTC
    from a JPEG's Photoshop resource or a TIFF's tag 33723; the XMP packet of a JPEG, PNG,
    TIFF, WebP or HEIF. A part that cannot be read is left out with a log line naming
    ``source``; nothing here raises for a photo's metadata."""
    return Metadata(exif=_read_exif(image, source), iptc=_read_iptc(image, source),
                    xmp=_read_xmp(image, source))


def prepare(meta: Metadata, *, gps: bool, own: Own) -> Metadata:
    """Return the metadata for an output of the photo ``meta`` came from: without GPS (the
    EXIF GPS directory and every XMP property whose name starts with GPS) unless ``gps``;
    without the XMP properties that describe the source's pixels; with studiocut's XMP fields
    replaced by ``own``'s (merged into the source's packet, or a new one). A packet that is
    not well-formed is dropped with a log line."""
    exif = meta.exif if gps or not meta.exif else _without_gps(meta.exif)
    root: ET.Element | None = None
    prefixes: dict[str, str] = {}
    if meta.xmp:
        try:
            root, prefixes = parse_xmp(meta.xmp)
        except XmpError as e:
            log.warning("dropping an XMP packet that cannot be used: %s", e)
    if root is None:
        root = ET.Element(f"{{{_X}}}xmpmeta")
        ET.SubElement(root, f"{{{_RDF}}}RDF")
    rdf = root if root.tag == f"{{{_RDF}}}RDF" else root.find(f".//{{{_RDF}}}RDF")
    assert rdf is not None  # parse_xmp refuses a packet without one
    _drop(root, lambda name: name in _STALE_XMP or _namespace(name) == NAMESPACE
          or (not gps and _local(name).lower().startswith("gps")))
    values = [(_OWN_PROPERTIES[f.name], _xml_text(value)) for f in fields(own)
              if (value := getattr(own, f.name))]
    if values:
        about = next((d.get(_ABOUT) for d in rdf if d.tag == _DESCRIPTION), "")
        description = ET.SubElement(rdf, _DESCRIPTION, {_ABOUT: about or ""})
        for name, value in values:
            ET.SubElement(description, f"{{{NAMESPACE}}}{name}").text = value
    if not _has_properties(rdf):
        return Metadata(exif=exif, iptc=meta.iptc)
    xmp = _serialise_xmp(root, {_X: "x", _RDF: "rdf", **prefixes, NAMESPACE: PREFIX})
    return Metadata(exif=exif, iptc=meta.iptc, xmp=xmp)


def photoshop_iptc(iptc: bytes) -> bytes:
    """The Photoshop image resource block holding ``iptc`` (resource 0x0404, unnamed): the
    body of a JPEG's ``Photoshop 3.0`` APP13 segment after its signature."""
    pad = b"\x00" if len(iptc) % 2 else b""
    return b"8BIM" + struct.pack(">HHI", _PHOTOSHOP_IPTC, 0, len(iptc)) + iptc + pad


# ---------------------------------------------------------------------------------- XMP


def parse_xmp(packet: bytes) -> tuple[ET.Element, dict[str, str]]:
    """Return the root element of an XMP packet and the prefix its namespaces were declared
    with (by namespace); raise XmpError if it is not well-formed XML, declares a DTD or an
    entity, nests deeper than MAX_DEPTH, is larger than MAX_XMP or holds no rdf:RDF."""
    if len(packet) > MAX_XMP:
        raise XmpError(f"{len(packet)} bytes is over the {MAX_XMP} bytes kept")
    builder = ET.TreeBuilder()
    prefixes: dict[str, str] = {}
    depth = 0

    def refuse(*_: object) -> NoReturn:
        raise XmpError("declares a DTD or an entity, which XMP never needs")

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal depth
        depth += 1
        if depth > MAX_DEPTH:
            raise XmpError(f"nested more than {MAX_DEPTH} elements deep")
        builder.start(_clark(name), {_clark(k): v for k, v in attributes.items()})

    def end(name: str) -> None:
        nonlocal depth
        depth -= 1
        builder.end(_clark(name))

    def declare(prefix: str | None, uri: str) -> None:
        if prefix:
            prefixes.setdefault(uri, prefix)

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    parser.StartNamespaceDeclHandler = declare
    parser.buffer_text = True
    try:
        parser.Parse(packet.rstrip(b"\x00"), True)
    except expat.ExpatError as e:
        raise XmpError(f"not well-formed XML: {e}") from e
    root = builder.close()
    if root.tag != f"{{{_RDF}}}RDF" and root.find(f".//{{{_RDF}}}RDF") is None:
        raise XmpError("no rdf:RDF element: not an XMP packet")
    return root, prefixes


def _serialise_xmp(root: ET.Element, prefixes: dict[str, str]) -> bytes:
    """The XMP packet (UTF-8, in its xpacket wrapper) of the tree ``root``, each namespace
    written with its prefix in ``prefixes`` where that is free, all declared on the root."""
    chosen = _choose_prefixes(root, prefixes)
    declarations = "".join(f" xmlns:{prefix}={quoteattr(uri)}" for uri, prefix in chosen.items())
    out = ['<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n']
    _write(root, out, chosen, declarations)
    out.append('\n<?xpacket end="w"?>')
    return "".join(out).encode("utf-8")


def _clark(name: str) -> str:
    """expat's ``uri local`` as ElementTree's ``{uri}local``."""
    uri, _, local = name.rpartition(" ")
    return f"{{{uri}}}{local}" if uri else local


def _namespace(name: str) -> str | None:
    return name[1:].partition("}")[0] if name.startswith("{") else None


def _local(name: str) -> str:
    return name.rpartition("}")[2]


def _drop(root: ET.Element, unwanted: Callable[[str], bool]) -> None:
    """Remove every element and attribute whose name is ``unwanted``."""
    for element in list(root.iter()):
        for child in [child for child in element if unwanted(child.tag)]:
            element.remove(child)
        for name in [name for name in element.attrib if unwanted(name)]:
            del element.attrib[name]


def _has_properties(rdf: ET.Element) -> bool:
    return any(node.tag != _DESCRIPTION or len(node) or any(k != _ABOUT for k in node.attrib)
               for node in rdf)


def _xml_text(value: str) -> str:
    """``value`` as text XML can hold: lone surrogates (from undecodable file names) become
    U+FFFD, control characters are left out."""
    return _NOT_XML.sub("", _SURROGATE.sub("\ufffd", value))


def _choose_prefixes(root: ET.Element, wanted: dict[str, str]) -> dict[str, str]:
    chosen: dict[str, str] = {}
    taken = {"xml", "xmlns"}
    for element in root.iter():
        for name in (element.tag, *element.attrib):
            uri = _namespace(name)
            if uri is None or uri == _XML or uri in chosen:
                continue
            prefix = wanted.get(uri, "")
            if not prefix or prefix in taken:
                prefix = next(f"ns{n}" for n in range(1, len(taken) + 2)
                              if f"ns{n}" not in taken)
            chosen[uri] = prefix
            taken.add(prefix)
    return chosen


def _write(element: ET.Element, out: list[str], prefixes: dict[str, str],
           declarations: str = "") -> None:
    tag = _qualified(element.tag, prefixes)
    attributes = "".join(f" {_qualified(name, prefixes)}={quoteattr(value)}"
                         for name, value in element.attrib.items())
    out.append(f"<{tag}{declarations}{attributes}")
    if not len(element) and not element.text:
        out.append("/>")
        return
    out.append(">")
    if element.text:
        out.append(escape(element.text, {"\r": "&#13;"}))
    for child in element:
        _write(child, out, prefixes)
        if child.tail:
            out.append(escape(child.tail, {"\r": "&#13;"}))
    out.append(f"</{tag}>")


def _qualified(name: str, prefixes: dict[str, str]) -> str:
    uri = _namespace(name)
    if uri is None:
        return name
    return f"{'xml' if uri == _XML else prefixes[uri]}:{_local(name)}"


# ------------------------------------------------------------------------------ reading


def _read_exif(image: Image.Image, source: object) -> bytes | None:
    try:
        if not image.getexif():
            return None
        exif = Image.Exif()  # a copy: the image's own EXIF still orients its pixels later
        exif.load(image.getexif().tobytes())
        exif[0x0112] = 1
        for tag in (*_LAYOUT_TAGS, *_CONTAINER_TAGS):
            exif.pop(tag, None)
        if _EXIF_IFD in exif:  # get_ifd would add an empty one
            sub = exif.get_ifd(_EXIF_IFD)
            for tag in _PIXEL_DIMENSIONS:
                sub.pop(tag, None)
        return exif.tobytes()
    except Exception as e:  # Pillow's EXIF parser raises many kinds on a damaged block
        log.warning("%s: dropping its EXIF, which cannot be read (%s)", source, e)
        return None


def _without_gps(exif: bytes) -> bytes:
    tags = Image.Exif()
    tags.load(exif)
    if _GPS_IFD not in tags:
        return exif
    del tags[_GPS_IFD]
    return tags.tobytes()


def _read_iptc(image: Image.Image, source: object) -> bytes | None:
    photoshop = image.info.get("photoshop")
    data: object = photoshop.get(_PHOTOSHOP_IPTC) if isinstance(photoshop, dict) else None
    tags = getattr(image, "tag_v2", None)
    if data is None and tags is not None and _IPTC_TAG in tags:
        # the tag's bytes as stored: Photoshop types them as LONGs, and Pillow decodes a tag
        # of declared count 1 to its first number only (its getiptcinfo reads them so too)
        data = getattr(tags, "_tagdata", {}).get(_IPTC_TAG)
    if not data:
        return None
    if not isinstance(data, bytes) or (end := _iim_end(data)) is None:
        log.warning("%s: dropping its IPTC block, which is not a list of IIM records", source)
        return None
    return data[:end]


def _iim_end(data: bytes) -> int | None:
    """Where the IIM records of ``data`` end (padding may follow); None if they are not
    records: each is 0x1C, record and dataset numbers, and a length its data fills."""
    pos = 0
    while pos < len(data) and data[pos] == 0x1C:
        if pos + 5 > len(data):
            return None
        size = int.from_bytes(data[pos + 3:pos + 5], "big")
        head = 5
        if size & 0x8000:  # extended: the length's own length, then the length
            count = size & 0x7FFF
            if count > 4 or pos + 5 + count > len(data):
                return None
            size = int.from_bytes(data[pos + 5:pos + 5 + count], "big")
            head += count
        if pos + head + size > len(data):
            return None
        pos += head + size
    if pos == 0 or data[pos:].strip(b"\x00"):
        return None
    return pos


def _read_xmp(image: Image.Image, source: object) -> bytes | None:
    packet = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    if isinstance(packet, tuple) and len(packet) == 1:  # a TIFF tag of one value
        packet = packet[0]
    if isinstance(packet, str):
        packet = packet.encode("utf-8", "surrogatepass")
    if not packet:
        return None
    if not isinstance(packet, bytes):
        log.warning("%s: dropping its XMP, which is not text", source)
        return None
    try:
        parse_xmp(packet)
    except XmpError as e:
        log.warning("%s: dropping its XMP packet: %s", source, e)
        return None
    return packet
