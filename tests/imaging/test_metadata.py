"""metadata: a photo's EXIF, IPTC and XMP prepared for an output: GPS dropped unless asked
for, studiocut's own XMP fields, and XMP parsed without trusting it."""

from __future__ import annotations

import pytest
from PIL import Image

from image_files import (
    COPYRIGHT,
    CREATOR,
    KEYWORDS,
    camera_exif,
    studio_iptc,
    studio_xmp,
    xmp_properties,
)
from studiocut.imaging import metadata
from studiocut.imaging.metadata import Metadata, Own

OWN = Own(sku="SKU-1042", view="front", profile="white-square", model="u2netp", revision="2")


def gps_properties(properties: dict[str, list[str]]) -> list[str]:
    return [name for name in properties if name.split(":")[1].lower().startswith("gps")]


# --------------------------------------------------------------------------- XMP safety


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE x:xmpmeta [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:format>&c;</dc:format></rdf:Description></rdf:RDF></x:xmpmeta>"""
EXTERNAL_ENTITY = b"""<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/hostname">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">&secret;</rdf:RDF>"""


@pytest.mark.parametrize("packet", [BILLION_LAUGHS, EXTERNAL_ENTITY,
                                    b'<!DOCTYPE r SYSTEM "http://example.com/r.dtd"><r/>'],
                         ids=["entity-expansion", "external-entity", "external-dtd"])
def test_an_xmp_packet_with_a_dtd_or_an_entity_is_refused(packet: bytes) -> None:
    with pytest.raises(metadata.XmpError, match="DTD or an entity"):
        metadata.parse_xmp(packet)


def test_an_xmp_packet_nested_deeper_than_any_real_one_is_refused() -> None:
    depth = metadata.MAX_DEPTH + 1
    packet = ("<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
              + "<a>" * depth + "</a>" * depth + "</rdf:RDF>").encode()

    with pytest.raises(metadata.XmpError, match="nested"):
        metadata.parse_xmp(packet)


def test_an_oversized_xmp_packet_is_refused_before_it_is_parsed() -> None:
    packet = studio_xmp(extra=" " * metadata.MAX_XMP)

    with pytest.raises(metadata.XmpError, match="bytes"):
        metadata.parse_xmp(packet)


# --------------------------------------------------------------------------- preparing


def test_gps_is_dropped_by_default_from_exif_and_xmp_and_the_rest_stays() -> None:
    source = Metadata(exif=camera_exif(), iptc=studio_iptc(), xmp=studio_xmp())

    prepared = metadata.prepare(source, gps=False, own=Own())

    exif = Image.Exif()
    assert prepared.exif is not None and prepared.xmp is not None
    exif.load(prepared.exif)
    assert 0x8825 not in exif and exif[0x8298] == COPYRIGHT
    properties = xmp_properties(prepared.xmp)
    assert gps_properties(properties) == []
    assert properties["dc:rights"] == [COPYRIGHT] and properties["dc:creator"] == [CREATOR]
    assert prepared.iptc == studio_iptc()


def test_gps_is_kept_when_the_profile_asks_for_it() -> None:
    source = Metadata(exif=camera_exif(), xmp=studio_xmp())

    prepared = metadata.prepare(source, gps=True, own=Own())

    exif = Image.Exif()
    assert prepared.exif is not None and prepared.xmp is not None
    exif.load(prepared.exif)
    assert exif.get_ifd(0x8825)[2] == (52.0, 31.0, 12.0)
    assert sorted(gps_properties(xmp_properties(prepared.xmp))) == ["exif:GPSLatitude",
                                                                     "exif:GPSLongitude"]


def test_gps_inside_a_structure_is_dropped_too() -> None:
    """IPTC Extension's LocationShown holds exif:GPSLatitude as a field of a structure."""
    shown = ('<Iptc4xmpExt:LocationShown xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/'
             '2008-02-29/"><rdf:Bag><rdf:li rdf:parseType="Resource"><Iptc4xmpExt:City>Berlin'
             '</Iptc4xmpExt:City><exif:GPSLatitude>52,31.2N</exif:GPSLatitude></rdf:li>'
             '</rdf:Bag></Iptc4xmpExt:LocationShown>')

    prepared = metadata.prepare(Metadata(xmp=studio_xmp(extra=shown)), gps=False, own=Own())

    assert prepared.xmp is not None
    assert b"GPS" not in prepared.xmp and b"Berlin" in prepared.xmp


def test_studiocut_fields_are_written_in_their_namespace_and_empty_ones_left_out() -> None:
    prepared = metadata.prepare(Metadata(xmp=studio_xmp()), gps=False,
                                own=Own(sku="SKU-1042", view="", profile="white-square",
                                        model="u2netp"))

    assert prepared.xmp is not None
    properties = xmp_properties(prepared.xmp)
    ours = {k: v for k, v in properties.items() if k.startswith("studiocut:")}
    assert ours == {"studiocut:SKU": ["SKU-1042"], "studiocut:Profile": ["white-square"],
                    "studiocut:Model": ["u2netp"]}
    assert b'xmlns:studiocut="https://studiocut.org/ns/1.0/"' in prepared.xmp
    assert b"<dc:creator>" in prepared.xmp, "the source's prefixes are kept"


def test_studiocut_fields_a_source_already_has_are_replaced_not_repeated() -> None:
    once = metadata.prepare(Metadata(xmp=studio_xmp()), gps=False, own=OWN)

    again = metadata.prepare(once, gps=False, own=Own(sku="SKU-2000", profile="grey"))

    assert again.xmp is not None
    properties = xmp_properties(again.xmp)
    assert properties["studiocut:SKU"] == ["SKU-2000"]
    assert properties["studiocut:Profile"] == ["grey"]
    assert "studiocut:View" not in properties and "studiocut:Revision" not in properties
    assert properties["dc:subject"] == list(KEYWORDS)


def test_a_new_packet_is_made_when_the_source_has_none() -> None:
    prepared = metadata.prepare(Metadata(exif=camera_exif()), gps=False, own=OWN)

    assert prepared.xmp is not None
    assert xmp_properties(prepared.xmp) == {
        "studiocut:SKU": ["SKU-1042"], "studiocut:View": ["front"],
        "studiocut:Profile": ["white-square"], "studiocut:Model": ["u2netp"],
        "studiocut:Revision": ["2"]}
    assert prepared.xmp.startswith(b"<?xpacket begin=")
    assert b"<x:xmpmeta" in prepared.xmp and b"<rdf:RDF" in prepared.xmp


def test_no_packet_is_invented_when_there_is_nothing_to_say() -> None:
    only_gps = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
                b'02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:exif="http://ns.'
                b'adobe.com/exif/1.0/" exif:GPSLatitude="52,31.2N"/></rdf:RDF></x:xmpmeta>')

    assert metadata.prepare(Metadata(), gps=False, own=Own()).xmp is None
    assert metadata.prepare(Metadata(xmp=only_gps), gps=False, own=Own()).xmp is None
    assert metadata.prepare(Metadata(xmp=only_gps), gps=True, own=Own()).xmp is not None


def test_a_field_from_an_undecodable_file_name_is_still_valid_xml() -> None:
    """A file name that is not UTF-8 comes back from the OS with lone surrogates, which
    UTF-8 cannot hold; control characters are not allowed in XML at all."""
    prepared = metadata.prepare(Metadata(), gps=False, own=Own(sku="caf\udce9\x07-1"))

    assert prepared.xmp is not None
    assert xmp_properties(prepared.xmp)["studiocut:SKU"] == ["caf\ufffd-1"]


def test_the_source_s_orientation_and_size_in_its_xmp_are_not_carried() -> None:
    """Pillow turns a photo by XMP's tiff:Orientation when its EXIF has none: carried into
    an output whose pixels are already upright, it would turn them a second time."""
    extra = "<exif:PixelXDimension>6000</exif:PixelXDimension>"

    prepared = metadata.prepare(Metadata(xmp=studio_xmp(orientation=6, extra=extra)),
                                gps=True, own=Own())

    assert prepared.xmp is not None
    properties = xmp_properties(prepared.xmp)
    assert "tiff:Orientation" not in properties and "exif:PixelXDimension" not in properties
    assert "exif:GPSLatitude" in properties
