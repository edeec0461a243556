"""metadata: a photo's EXIF, IPTC and XMP read from each source format, prepared for an output
(GPS dropped unless asked for, studiocut's own XMP fields) and written into each output format,
read back by Pillow and, where it is installed, by exiftool."""

from __future__ import annotations

import io
import json
import logging
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, IptcImagePlugin, PngImagePlugin, TiffImagePlugin

from conftest import make_profile
from image_files import (
    COPYRIGHT,
    CREATOR,
    KEYWORDS,
    camera_exif,
    jpeg_segments,
    quadrants,
    save,
    studio_iptc,
    studio_xmp,
    write,
    xmp_properties,
)
from studiocut.imaging import decode, encode, metadata
from studiocut.imaging.metadata import Metadata, Own
from studiocut.profiles import Encoding

LIMITS = make_profile().limits
FORMATS = ("jpeg", "png", "webp", "tiff")
OWN = Own(sku="SKU-1042", view="front", profile="white-square", model="u2netp", revision="2")
LOGGER = "studiocut.imaging.metadata"


def studio_jpeg(folder: Path, *, xmp: bytes | None = None, iptc: bytes | None = None,
                exif: bytes | None = None, name: str = "shot.jpg") -> Path:
    """A photo as it leaves a studio's tools: EXIF, IPTC and XMP, each with GPS where the
    format has a place for it."""
    data = save(Image.fromarray(quadrants()), "JPEG", quality=95,
                exif=camera_exif() if exif is None else exif)
    return write(folder, name, jpeg_segments(data, xmp=studio_xmp() if xmp is None else xmp,
                                             iptc=studio_iptc() if iptc is None else iptc))


def source_metadata(path: Path) -> Metadata:
    source = decode.open_source(path, LIMITS)
    found = source.metadata
    source.release()
    return found


def written(fmt: str, meta: Metadata) -> Image.Image:
    """The output of ``fmt`` with ``meta``, opened again with Pillow."""
    data = encode.encode(quadrants(), Encoding(format=fmt), icc=None, metadata=meta)
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def keywords_of(image: Image.Image) -> list[bytes]:
    info = IptcImagePlugin.getiptcinfo(image)  # type: ignore[arg-type]
    assert info is not None, "no IPTC"
    found = info[(2, 25)]
    return found if isinstance(found, list) else [found]


def gps_properties(properties: dict[str, list[str]]) -> list[str]:
    return [name for name in properties if name.split(":")[1].lower().startswith("gps")]


# --------------------------------------------------------------------------- reading


def test_a_jpeg_s_exif_iptc_and_xmp_are_read_once_with_the_orientation_reset(
        tmp_path: Path) -> None:
    path = studio_jpeg(tmp_path, exif=camera_exif(orientation=6))

    found = source_metadata(path)

    exif = Image.Exif()
    assert found.exif is not None
    exif.load(found.exif)
    assert (exif[0x0112], exif[0x8298], exif[0x013B]) == (1, COPYRIGHT, CREATOR)
    assert found.iptc == studio_iptc()
    assert found.xmp is not None
    assert xmp_properties(found.xmp)["dc:subject"] == list(KEYWORDS)


def test_png_webp_and_tiff_sources_give_their_xmp_and_exif(tmp_path: Path) -> None:
    picture = Image.fromarray(quadrants())
    text = PngImagePlugin.PngInfo()
    text.add_itxt("XML:com.adobe.xmp", studio_xmp().decode())
    tags = TiffImagePlugin.ImageFileDirectory_v2()
    tags[700] = studio_xmp()
    tags[33723] = studio_iptc()
    files = {
        "shot.png": save(picture, "PNG", pnginfo=text, exif=camera_exif()),
        "shot.webp": save(picture, "WEBP", xmp=studio_xmp(), exif=camera_exif()),
        "shot.tif": save(picture, "TIFF", tiffinfo=tags),
    }
    for name, data in files.items():
        found = source_metadata(write(tmp_path, name, data))

        assert found.xmp is not None, name
        assert xmp_properties(found.xmp)["dc:creator"] == [CREATOR], name
        if name != "shot.tif":
            assert found.exif is not None and b"TestCam" in found.exif, name
    assert source_metadata(tmp_path / "shot.tif").iptc == studio_iptc()


def test_tiff_iptc_stored_as_longs_as_photoshop_writes_it_is_read_as_its_bytes(
        tmp_path: Path) -> None:
    records = studio_iptc()
    records += b"\x00" * (-len(records) % 4)  # Photoshop pads to whole LONGs
    tags = TiffImagePlugin.ImageFileDirectory_v2()
    tags[33723] = records
    data = bytearray(save(Image.fromarray(quadrants()), "TIFF", tiffinfo=tags))
    # Pillow writes the tag as UNDEFINED bytes; retype its entry as Photoshop does: LONGs
    assert data[:4] == b"II*\x00"
    first = struct.unpack_from("<I", data, 4)[0]
    for entry in range(struct.unpack_from("<H", data, first)[0]):
        at = first + 2 + 12 * entry
        if struct.unpack_from("<H", data, at)[0] == 33723:
            struct.pack_into("<HI", data, at + 2, 4, len(records) // 4)
    path = write(tmp_path, "ps.tif", bytes(data))
    with Image.open(path) as check:
        assert check.tag_v2.tagtype[33723] == 4, "typed as LONGs"

    assert source_metadata(path).iptc == studio_iptc()


def test_a_tiff_s_exif_does_not_carry_its_xmp_iptc_or_photoshop_blocks(tmp_path: Path) -> None:
    """A TIFF's EXIF is its first directory, which holds the XMP, IPTC and Photoshop tags too:
    copied, they would travel twice (and a JPEG's EXIF segment has 64 KB)."""
    tags = TiffImagePlugin.ImageFileDirectory_v2()
    tags[700] = studio_xmp()
    tags[33723] = studio_iptc()
    tags[34377] = b"8BIM" + bytes(200)
    tags[0x8298] = COPYRIGHT
    path = write(tmp_path, "layers.tif", save(Image.fromarray(quadrants()), "TIFF",
                                               tiffinfo=tags))

    found = source_metadata(path)

    exif = Image.Exif()
    assert found.exif is not None
    exif.load(found.exif)
    assert exif[0x8298] == COPYRIGHT
    assert not {700, 33723, 34377} & set(exif)


def test_damaged_iptc_is_dropped_with_a_log_line_and_the_photo_still_opens(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    damaged = studio_iptc()[:-4]  # the last record's data ends early
    path = studio_jpeg(tmp_path, iptc=damaged)

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        found = source_metadata(path)

    assert found.iptc is None and found.xmp is not None
    assert any(str(path) in r.getMessage() and "IPTC" in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------- XMP safety


@pytest.mark.parametrize("packet", [
    b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF",
    b"not xml at all",
    b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='urn:other'/></x:xmpmeta>",
], ids=["cut-short", "not-xml", "no-rdf"])
def test_a_malformed_xmp_packet_is_dropped_with_a_log_line_never_failing_the_photo(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, packet: bytes) -> None:
    path = studio_jpeg(tmp_path, xmp=packet)

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        source = decode.open_source(path, LIMITS)
        prepared = metadata.prepare(source.metadata, gps=False, own=OWN)
        source.load()

    assert source.metadata.xmp is None
    assert source.metadata.iptc == studio_iptc(), "the rest of the metadata stays"
    assert any(str(path) in r.getMessage() and "XMP" in r.getMessage() for r in caplog.records)
    assert prepared.xmp is not None
    assert xmp_properties(prepared.xmp)["studiocut:SKU"] == ["SKU-1042"]


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


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("fmt", FORMATS)
def test_copyright_creator_keywords_and_studiocut_fields_survive_into_each_format(
        tmp_path: Path, fmt: str) -> None:
    prepared = metadata.prepare(source_metadata(studio_jpeg(tmp_path)), gps=False, own=OWN)

    image = written(fmt, prepared)

    exif = image.getexif()
    assert (exif.get(0x8298), exif.get(0x013B)) == (COPYRIGHT, CREATOR)
    properties = xmp_properties(image.info["xmp"])
    assert properties["dc:creator"] == [CREATOR]
    assert properties["dc:rights"] == [COPYRIGHT]
    assert properties["dc:subject"] == list(KEYWORDS)
    assert properties["studiocut:SKU"] == ["SKU-1042"]
    assert properties["studiocut:Revision"] == ["2"]
    assert gps_properties(properties) == [] and not exif.get_ifd(0x8825)
    if fmt in ("jpeg", "tiff"):
        assert keywords_of(image) == [k.encode() for k in KEYWORDS]
    else:  # no standard place for IPTC: the XMP above carries its fields
        assert IptcImagePlugin.getiptcinfo(image) is None  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", FORMATS)
def test_gps_reaches_each_format_when_kept(tmp_path: Path, fmt: str) -> None:
    prepared = metadata.prepare(source_metadata(studio_jpeg(tmp_path)), gps=True, own=OWN)

    image = written(fmt, prepared)

    assert gps_properties(xmp_properties(image.info["xmp"])) != []
    if fmt != "tiff":  # a TIFF's EXIF keeps no sub-directories (encode)
        assert image.getexif().get_ifd(0x8825)[1] == "N"


def test_jpeg_metadata_segments_come_in_the_usual_order(tmp_path: Path) -> None:
    """JFIF, EXIF, XMP, then IPTC, then the ICC profile: the order cameras and Adobe's tools
    write, which readers that look only at the first segments expect."""
    prepared = metadata.prepare(source_metadata(studio_jpeg(tmp_path)), gps=False, own=OWN)
    data = encode.encode(quadrants(), Encoding(format="jpeg"), icc=decode.srgb_icc(),
                         metadata=prepared)

    kinds, pos = [], 2
    while data[pos + 1] != 0xDA:
        size = int.from_bytes(data[pos + 2:pos + 4], "big")
        kinds.append((data[pos + 1], data[pos + 4:pos + 8]))
        pos += 2 + size
    apps = [kind for kind in kinds if 0xE0 <= kind[0] <= 0xEF]
    assert apps == [(0xE0, b"JFIF"), (0xE1, b"Exif"), (0xE1, b"http"), (0xED, b"Phot"),
                    (0xE2, b"ICC_")]


def test_an_xmp_packet_too_large_for_a_jpeg_segment_is_left_out_with_a_log_line(
        caplog: pytest.LogCaptureFixture) -> None:
    history = "".join(f"<rdf:li>step {n}</rdf:li>" for n in range(6000))
    packet = studio_xmp(extra=f"<dc:description><rdf:Seq>{history}</rdf:Seq></dc:description>")
    prepared = metadata.prepare(Metadata(exif=camera_exif(), xmp=packet), gps=False, own=OWN)
    assert prepared.xmp is not None and len(prepared.xmp) > 65533

    with caplog.at_level(logging.WARNING, logger="studiocut.imaging.encode"):
        image = written("jpeg", prepared)

    assert "xmp" not in image.info and image.getexif().get(0x8298) == COPYRIGHT
    assert any("XMP packet" in r.getMessage() for r in caplog.records)
    assert "xmp" in written("png", prepared).info, "other formats have no such limit"


def test_a_png_output_of_a_photo_turned_by_its_xmp_is_not_turned_again(tmp_path: Path) -> None:
    stored = quadrants(60, 40)
    text = PngImagePlugin.PngInfo()
    text.add_itxt("XML:com.adobe.xmp", studio_xmp(orientation=6).decode())
    path = write(tmp_path, "turned.png", save(Image.fromarray(stored), "PNG", pnginfo=text))
    source = decode.open_source(path, LIMITS)
    upright = source.load().rgb
    assert upright.shape[:2] == (60, 40), "decode turned it by the XMP"

    data = encode.encode(upright, Encoding(format="png"), icc=None,
                         metadata=metadata.prepare(source.metadata, gps=False, own=OWN))

    with Image.open(io.BytesIO(data)) as image:
        assert image.getexif().get(0x0112, 1) == 1
        assert xmp_properties(image.info["xmp"])["dc:creator"] == [CREATOR]


# --------------------------------------------------------------------------- exiftool

EXIFTOOL = shutil.which("exiftool")
needs_exiftool = pytest.mark.skipif(EXIFTOOL is None,
                                    reason="exiftool is not installed (Debian: "
                                           "libimage-exiftool-perl; .ci/run installs it)")


def exiftool(path: Path) -> dict[str, object]:
    """Every tag exiftool finds in ``path``, as ``group:name`` (lower case: exiftool names
    a tag of a namespace it does not know after the XML name, as it likes)."""
    assert EXIFTOOL is not None
    done = subprocess.run([EXIFTOOL, "-j", "-G1", "-a", "-struct", str(path)],
                          capture_output=True, check=True, timeout=60)
    found: list[dict[str, object]] = json.loads(done.stdout)
    return {name.lower(): value for name, value in found[0].items()}


def exiftool_warnings(path: Path) -> list[str]:
    """What ``exiftool -validate`` finds wrong with ``path``."""
    assert EXIFTOOL is not None
    done = subprocess.run([EXIFTOOL, "-validate", "-warning", "-error", "-a", "-s", str(path)],
                          capture_output=True, check=True, timeout=60, text=True)
    return [line.split(":", 1)[1].strip() for line in done.stdout.splitlines()
            if line.split(":", 1)[0].strip() in ("Warning", "Error")]


def as_list(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def exiftool_photo(folder: Path) -> Path:
    """A plain JPEG tagged by exiftool the way a studio's tools tag one."""
    assert EXIFTOOL is not None
    path = write(folder, "tagged.jpg", save(Image.fromarray(quadrants()), "JPEG", quality=95))
    subprocess.run([
        EXIFTOOL, "-q", "-overwrite_original", "-codedcharacterset=utf8",
        f"-EXIF:Copyright={COPYRIGHT}", f"-EXIF:Artist={CREATOR}", "-EXIF:Make=TestCam",
        f"-IPTC:CopyrightNotice={COPYRIGHT}", f"-IPTC:By-line={CREATOR}",
        *(f"-IPTC:Keywords={k}" for k in KEYWORDS),
        f"-XMP-dc:Rights={COPYRIGHT}", f"-XMP-dc:Creator={CREATOR}",
        *(f"-XMP-dc:Subject={k}" for k in KEYWORDS),
        "-GPSLatitude=52.52", "-GPSLatitudeRef=N", "-GPSLongitude=13.41", "-GPSLongitudeRef=E",
        "-XMP-exif:GPSLatitude=52.52 N", "-XMP-exif:GPSLongitude=13.41 E", str(path),
    ], check=True, capture_output=True, timeout=60)
    return path


@needs_exiftool
@pytest.mark.parametrize("fmt", FORMATS)
def test_exiftool_reads_back_what_exiftool_wrote_without_the_gps(tmp_path: Path,
                                                                  fmt: str) -> None:
    source = exiftool_photo(tmp_path)
    assert "gps:gpslatitude" in exiftool(source), "the source has GPS"
    prepared = metadata.prepare(source_metadata(source), gps=False, own=OWN)
    data = encode.encode(quadrants(), Encoding(format=fmt), icc=decode.srgb_icc(),
                         metadata=prepared)
    output = write(tmp_path, f"out.{fmt}", data)

    tags = exiftool(output)

    assert tags["ifd0:copyright"] == COPYRIGHT and tags["ifd0:artist"] == CREATOR
    assert tags["xmp-dc:rights"] == COPYRIGHT
    assert as_list(tags["xmp-dc:creator"]) == [CREATOR]
    assert as_list(tags["xmp-dc:subject"]) == list(KEYWORDS)
    assert tags["xmp-studiocut:sku"] == "SKU-1042"
    assert tags["xmp-studiocut:view"] == "front"
    assert tags["xmp-studiocut:profile"] == "white-square"
    assert tags["xmp-studiocut:model"] == "u2netp"
    assert str(tags["xmp-studiocut:revision"]) == "2"
    assert [k for k in tags if "gps" in k] == []
    if fmt in ("jpeg", "tiff"):
        assert as_list(tags["iptc:keywords"]) == list(KEYWORDS)
        assert tags["iptc:copyrightnotice"] == COPYRIGHT and tags["iptc:by-line"] == CREATOR


@needs_exiftool
@pytest.mark.parametrize("fmt", FORMATS)
def test_exiftool_finds_nothing_wrong_in_an_output_and_sees_its_gps_when_kept(
        tmp_path: Path, fmt: str) -> None:
    prepared = metadata.prepare(source_metadata(exiftool_photo(tmp_path)), gps=True, own=OWN)
    # LZW: the default, Adobe's Deflate (8), is past the TIFF 6.0 list exiftool checks against
    enc = Encoding(format=fmt, tiff_compression="lzw")
    data = encode.encode(quadrants(), enc, icc=decode.srgb_icc(), metadata=prepared)
    output = write(tmp_path, f"out.{fmt}", data)

    warnings = exiftool_warnings(output)
    tags = exiftool(output)

    # IPTC in a TIFF is written as the TIFF/EP and IPTC specifications type it (UNDEFINED);
    # exiftool notes that Photoshop writes LONGs, which libtiff refuses for this tag
    assert [w for w in warnings if "IPTC-NAA" not in w] == []
    assert tags["xmp-exif:gpslatitude"]
    if fmt != "tiff":
        assert tags["gps:gpslatituderef"] == "North"


@needs_exiftool
def test_pixels_survive_the_metadata_splice(tmp_path: Path) -> None:
    """exiftool rewrites the file's metadata; the pixels it decodes after are ours."""
    prepared = metadata.prepare(source_metadata(exiftool_photo(tmp_path)), gps=False, own=OWN)
    for fmt in ("png", "tiff"):
        output = write(tmp_path, f"out.{fmt}", encode.encode(
            quadrants(), Encoding(format=fmt), icc=None, metadata=prepared))
        assert EXIFTOOL is not None
        subprocess.run([EXIFTOOL, "-q", "-overwrite_original", "-XMP-dc:Title=edited",
                        str(output)], check=True, capture_output=True, timeout=60)
        with Image.open(output) as image:
            assert np.array_equal(np.asarray(image), quadrants())
            assert xmp_properties(image.info["xmp"])["studiocut:SKU"] == ["SKU-1042"]
