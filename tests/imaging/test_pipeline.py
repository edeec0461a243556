"""pipeline: one photo from its file to a finished listing image, with the fake model."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import FakeModel, make_profile, product_photo
from image_files import (
    COPYRIGHT,
    CREATOR,
    camera_exif,
    jpeg_segments,
    save,
    studio_iptc,
    studio_xmp,
    xmp_properties,
)
from studiocut.imaging import decode, frame, locate, pipeline
from studiocut.imaging.metadata import Own
from studiocut.models import providers

RED = (200, 30, 30)
BOX = (120, 80, 280, 240)  # the subject of product_photo() in a 400 x 300 frame


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def read(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


def box_of(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def near(pixels: np.ndarray, colour: tuple[int, ...], tolerance: int) -> bool:
    return bool((np.abs(pixels.astype(int) - colour) <= tolerance).all())


def test_process_writes_one_output_into_the_relative_dir_with_the_template_name(
    photo: Path, out: Path, fake_model: FakeModel
) -> None:
    profile = make_profile(name="{stem}-{profile}.{ext}")

    outcome = pipeline.process(photo, fake_model, profile, output_root=out,
                               relative_dir=Path("shoes/red"))

    assert outcome.ok, outcome.message
    assert outcome.output == out / "shoes" / "red" / "shot-test.jpg"
    assert outcome.source == photo and outcome.reason is None
    assert files_under(out) == [outcome.output]  # and nothing else, no temp files
    assert fake_model.calls == 1


@pytest.mark.parametrize(
    ("keys", "name", "image_format", "mode", "backdrop"),
    [
        ({}, "shot.jpg", "JPEG", "RGB", (255, 255, 255)),
        ({"backdrop": "transparent"}, "shot.png", "PNG", "RGBA", None),
        ({"backdrop": "#808080", "format": "webp"}, "shot.webp", "WEBP", "RGB", (128, 128, 128)),
        ({"format": "tiff"}, "shot.tif", "TIFF", "RGB", (255, 255, 255)),
    ],
    ids=["white-jpeg", "transparent-png", "grey-webp", "white-tiff"],
)
def test_process_writes_the_backdrop_and_format_of_the_profile(
    photo: Path, out: Path, fake_model: FakeModel, keys: dict[str, object], name: str,
    image_format: str, mode: str, backdrop: tuple[int, int, int] | None,
) -> None:
    outcome = pipeline.process(photo, fake_model, make_profile(**keys), output_root=out)

    assert outcome.ok, outcome.message
    assert outcome.output == out / name
    with Image.open(out / name) as image:
        assert (image.format, image.mode, image.size) == (image_format, mode, (400, 300))
        pixels = np.asarray(image)
    corners = pixels[[0, 0, -1, -1], [0, -1, 0, -1]]
    centre = pixels[150, 200]
    if backdrop is None:
        assert (corners[:, 3] == 0).all()
        assert centre[3] == 255
    else:
        assert near(corners, backdrop, 3)
    assert near(centre[:3], RED, 8)


def test_square_output_is_size_by_size_with_the_subject_centred(
    photo: Path, out: Path, fake_model: FakeModel
) -> None:
    profile = make_profile(square={"size": 200, "margin": 0.1}, backdrop="#102030",
                           format="png")

    outcome = pipeline.process(photo, fake_model, profile, output_root=out)

    assert outcome.ok, outcome.message
    pixels = read(outcome.output)  # type: ignore[arg-type]
    assert pixels.shape == (200, 200, 3)
    assert near(pixels[[0, 0, -1, -1], [0, -1, 0, -1]], (16, 32, 48), 0)
    x0, y0, x1, y1 = box_of(np.abs(pixels.astype(int) - RED).sum(axis=2) < 40)
    assert abs((x0 + x1) / 2 - 100) <= 1.5 and abs((y0 + y1) / 2 - 100) <= 1.5
    # a square subject filling the 160 px left by the margins (the fake mask's soft edge
    # makes the subject box a few pixels larger than the red square)
    assert 145 <= x1 - x0 <= 161 and 145 <= y1 - y0 <= 161
    assert x0 >= 19 and y0 >= 19 and x1 <= 181 and y1 <= 181


def test_square_transparent_output_has_clear_corners(
    photo: Path, out: Path, fake_model: FakeModel
) -> None:
    profile = make_profile(square={"size": 120}, backdrop="transparent")

    outcome = pipeline.process(photo, fake_model, profile, output_root=out)

    pixels = read(outcome.output)  # type: ignore[arg-type]
    assert pixels.shape == (120, 120, 4)
    assert (pixels[[0, 0, -1, -1], [0, -1, 0, -1], 3] == 0).all()
    assert pixels[60, 60, 3] == 255


def test_no_square_output_has_the_input_pixel_size(
    tmp_path: Path, out: Path, fake_model: FakeModel
) -> None:
    source = tmp_path / "odd.png"
    product_photo((321, 237), (100, 60, 200, 180)).save(source)

    outcome = pipeline.process(source, fake_model, make_profile(), output_root=out)

    with Image.open(outcome.output) as image:  # type: ignore[arg-type]
        assert image.size == (321, 237)


def test_max_upscale_counts_source_pixels_even_when_a_jpeg_is_decoded_smaller(
    tmp_path: Path, out: Path
) -> None:
    # 600 px subject, 400 px canvas, cap 0.4: 240 px, whether or not the decoder shrinks
    widths = {}
    for suffix in ("png", "jpg"):
        source = tmp_path / f"big.{suffix}"
        product_photo((1000, 1000), (200, 200, 800, 800)).save(source)
        profile = make_profile(square={"size": 400, "margin": 0, "max_upscale": 0.4},
                               backdrop="transparent")
        outcome = pipeline.process(source, FakeModel(256), profile, output_root=out,
                                   relative_dir=Path(suffix))
        assert outcome.ok, outcome.message
        x0, _, x1, _ = box_of(read(outcome.output)[..., 3] > 128)  # type: ignore[arg-type]
        widths[suffix] = x1 - x0
    assert 234 <= widths["png"] <= 246
    assert 234 <= widths["jpg"] <= 246


def test_exif_rotated_jpeg_gives_an_upright_output_with_the_mask_aligned(
    tmp_path: Path, out: Path, fake_model: FakeModel
) -> None:
    box = (40, 30, 160, 130)  # off-centre, so a mask turned the wrong way would miss it
    upright = product_photo((400, 300), box)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    source = tmp_path / "turned.jpg"
    upright.transpose(Image.Transpose.ROTATE_90).save(source, quality=95, exif=exif.tobytes())

    outcome = pipeline.process(source, fake_model, make_profile(backdrop="transparent"),
                               output_root=out)

    assert outcome.ok, outcome.message
    with Image.open(outcome.output) as image:  # type: ignore[arg-type]
        assert image.size == (400, 300)
        assert image.getexif().get(0x0112, 1) == 1  # not rotated a second time by viewers
        pixels = np.asarray(image)
    red = np.abs(pixels[..., :3].astype(int) - RED).sum(axis=2) < 40
    assert box_of(red) == pytest.approx(box, abs=2)
    solid = pixels[..., 3] > 128
    x0, y0, x1, y1 = box_of(solid)
    assert abs(x0 - 40) <= 7 and abs(y0 - 30) <= 7 and abs(x1 - 160) <= 7 and abs(y1 - 130) <= 7
    assert solid[35:125, 45:155].all()  # the subject, opaque where it stands
    assert not solid[200:, 250:].any()


@pytest.fixture
def tagged(tmp_path: Path) -> Path:
    """The product photo with its studio's EXIF, IPTC and XMP, GPS in both."""
    path = tmp_path / "tagged.jpg"
    data = save(product_photo(), "JPEG", quality=95, exif=camera_exif())
    path.write_bytes(jpeg_segments(data, xmp=studio_xmp(), iptc=studio_iptc()))
    return path


def test_an_output_carries_the_photo_s_metadata_without_gps_and_names_what_made_it(
    tagged: Path, out: Path, fake_model: FakeModel
) -> None:
    profile = make_profile(model="u2netp")

    outcome = pipeline.process(tagged, fake_model, profile, output_root=out,
                               own=Own(sku="SKU-1042", view="front", profile="ignored"))

    assert outcome.ok, outcome.message
    with Image.open(outcome.output) as image:  # type: ignore[arg-type]
        exif = image.getexif()
        properties = xmp_properties(image.info["xmp"])
        iptc = image.info["photoshop"][0x0404]
    assert exif[0x8298] == COPYRIGHT and not exif.get_ifd(0x8825)
    assert properties["dc:creator"] == [CREATOR]
    assert {k: v for k, v in properties.items() if k.startswith("studiocut:")} == {
        "studiocut:SKU": ["SKU-1042"], "studiocut:View": ["front"],
        "studiocut:Profile": ["test"], "studiocut:Model": ["u2netp"]}
    assert not [k for k in properties if "GPS" in k]
    assert iptc == studio_iptc()


@pytest.mark.parametrize(("rules", "copyright", "gps", "ours"), [
    ({"gps": True}, True, True, True),
    ({"keep": False}, False, False, True),
    ({"studiocut": False}, True, False, False),
    (False, False, False, False),
], ids=["gps-kept", "source-dropped", "no-studiocut-fields", "nothing"])
def test_the_profile_s_metadata_rules_decide_what_an_output_carries(
    tagged: Path, out: Path, fake_model: FakeModel, rules: object, copyright: bool, gps: bool,
    ours: bool,
) -> None:
    outcome = pipeline.process(tagged, fake_model, make_profile(metadata=rules),
                               output_root=out)

    assert outcome.ok, outcome.message
    with Image.open(outcome.output) as image:  # type: ignore[arg-type]
        exif = image.getexif()
        properties = xmp_properties(image.info["xmp"]) if "xmp" in image.info else {}
        has_iptc = 0x0404 in image.info.get("photoshop", {})
    assert (exif.get(0x8298) == COPYRIGHT) is copyright
    assert ("dc:creator" in properties) is copyright and has_iptc is copyright
    assert bool(exif.get_ifd(0x8825)) is gps and ("exif:GPSLatitude" in properties) is gps
    assert ("studiocut:Profile" in properties) is ours


def test_bad_input_fails_with_a_reason_naming_the_file_and_writes_nothing(
    tmp_path: Path, out: Path, fake_model: FakeModel
) -> None:
    source = tmp_path / "notes.jpg"
    source.write_text("this is not a photo\n")

    outcome = pipeline.process(source, fake_model, make_profile(), output_root=out)

    assert not outcome.ok
    assert outcome.output is None
    assert outcome.reason == "not-an-image"
    assert str(source) in (outcome.message or "")
    assert not outcome.environment
    assert files_under(out) == []
    assert fake_model.calls == 0


def test_truncated_input_fails_as_truncated(
    photo: Path, tmp_path: Path, out: Path, fake_model: FakeModel
) -> None:
    source = tmp_path / "half.jpg"
    data = photo.read_bytes()
    source.write_bytes(data[: len(data) // 2])

    outcome = pipeline.process(source, fake_model, make_profile(), output_root=out)

    assert (outcome.ok, outcome.reason) == (False, "truncated")
    assert str(source) in (outcome.message or "")
    assert files_under(out) == []


def test_framing_a_photo_without_a_subject_fails_naming_the_file(
    tmp_path: Path, out: Path, fake_model: FakeModel
) -> None:
    source = tmp_path / "empty-table.png"
    Image.new("RGB", (120, 90), (230, 230, 230)).save(source)

    outcome = pipeline.process(source, fake_model, make_profile(square={"size": 100}),
                               output_root=out)

    assert (outcome.ok, outcome.reason) == (False, "no-subject")
    assert str(source) in (outcome.message or "")
    assert files_under(out) == []


def test_missing_output_root_is_an_environment_fault(
    photo: Path, tmp_path: Path, fake_model: FakeModel
) -> None:
    root = tmp_path / "unmounted-share"

    outcome = pipeline.process(photo, fake_model, make_profile(), output_root=root)

    assert not outcome.ok
    assert outcome.environment and outcome.retryable
    assert outcome.reason == "output-missing"
    assert not root.exists()  # not ours to create


def test_transparency_of_an_rgba_source_stays_transparent(
    tmp_path: Path, out: Path, fake_model: FakeModel
) -> None:
    pixels = np.zeros((100, 120, 4), dtype=np.uint8)
    pixels[..., :3] = 235
    pixels[..., 3] = 255
    pixels[20:80, 30:90, :3] = (30, 30, 200)  # the model sees all of this block as subject
    pixels[20:80, 60:90, 3] = 0  # but its right half was already cut away
    source = tmp_path / "cutout.png"
    Image.fromarray(pixels).save(source)

    transparent = pipeline.process(source, fake_model, make_profile(backdrop="transparent"),
                                   output_root=out)
    white = pipeline.process(source, fake_model, make_profile(format="png"),
                             output_root=out, relative_dir=Path("white"))

    alpha = read(transparent.output)[..., 3]  # type: ignore[arg-type]
    assert (alpha[25:75, 35:55] == 255).all()
    assert (alpha[20:80, 62:90] == 0).all()
    rgb = read(white.output)  # type: ignore[arg-type]
    assert near(rgb[25:75, 35:55], (30, 30, 200), 2)
    assert near(rgb[20:80, 62:90], (255, 255, 255), 0)


def test_16_bit_greyscale_png_is_cut_out(tmp_path: Path, out: Path, fake_model: FakeModel) -> None:
    grey = np.full((90, 110), 50_000, dtype=np.uint16)
    grey[20:70, 30:80] = 8_000
    source = tmp_path / "scan.png"
    Image.fromarray(grey).save(source)
    with Image.open(source) as check:
        assert check.mode == "I;16"

    outcome = pipeline.process(source, fake_model, make_profile(backdrop="transparent"),
                               output_root=out)

    assert outcome.ok, outcome.message
    pixels = read(outcome.output)  # type: ignore[arg-type]
    assert pixels.shape == (90, 110, 4)
    assert near(pixels[45, 55], (31, 31, 31, 255), 1)  # 8000 / 65535, scaled, not clipped
    assert (pixels[[0, 0, -1, -1], [0, -1, 0, -1], 3] == 0).all()


# --------------------------------------------------------------------------- decoding order


def test_a_jpeg_is_decoded_once_at_full_size_and_the_model_sees_a_halved_copy(
    tmp_path: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "big.jpg"
    product_photo((2000, 1600), (600, 400, 1400, 1200)).save(source, quality=95)
    sizes: list[tuple[int, int]] = []
    real = decode.Source.load

    def load(self: decode.Source, at_least: tuple[int, int] | None = None,
             **kwargs: object) -> decode.Picture:
        picture = real(self, at_least, **kwargs)  # type: ignore[arg-type]
        sizes.append(picture.size)
        return picture

    monkeypatch.setattr(decode.Source, "load", load)
    seen: list[tuple[int, int]] = []

    class Watching(FakeModel):
        def predict(self, rgb: np.ndarray) -> np.ndarray:
            seen.append((rgb.shape[1], rgb.shape[0]))
            return super().predict(rgb)

    profile = make_profile(square={"size": 160, "margin": 0}, backdrop="transparent")

    outcome = pipeline.process(source, Watching(64), profile, output_root=out)

    assert outcome.ok, outcome.message
    # a JPEG's entropy decoding is most of its cost at any DCT scale: decoded once, not
    # once small for the model and again for the output
    assert sizes == [(2000, 1600)]
    assert seen == [(125, 100)]  # halved while both sides still hold the model's 64


def test_a_png_is_decoded_and_converted_once_for_the_model_and_the_output(
    tmp_path: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "shot.png"
    product_photo((800, 600), (240, 160, 560, 480)).save(source)
    converted = []
    real = decode._to_picture

    def to_picture(image: Image.Image, colour: decode.Colour) -> decode.Picture:
        converted.append(image.size)
        return real(image, colour)

    monkeypatch.setattr(decode, "_to_picture", to_picture)

    outcome = pipeline.process(source, FakeModel(64), make_profile(square={"size": 300}),
                               output_root=out)

    assert outcome.ok, outcome.message
    assert converted == [(800, 600)]


class CoreHoldingModel(FakeModel):
    """A network whose inference runs on the CPU (through studiocut's Session, as ONNX
    Runtime's do) take longer than a test photo's decode: it holds the cores, as u2netp
    does on this machine's CPU."""

    class Runs:
        def run(self, *args: object) -> None:
            time.sleep(0.5)  # longer than a decode here, with its wait below

        def get_providers(self) -> list[str]:
            return [providers.CPU]

    def __init__(self, size: int = 64) -> None:
        super().__init__(size)
        self.session = providers.Session(self.Runs())

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        self.session.run(None, {})
        return super().predict(rgb)


def most_at_full_size(photos: list[Path], out: Path, monkeypatch: pytest.MonkeyPatch,
                      model: FakeModel, workers: int, *, expected: int) -> int:
    """How many of ``photos`` were decoded whole at once, ``workers`` at a time. Each decode
    waits (up to 0.3 s) for ``expected`` photos to be decoding with it, and a moment more:
    time for any other to join, were it allowed, however slowly a loaded machine starts the
    threads."""
    inside, most = 0, 0
    changed = threading.Condition()
    real = decode.Source.load

    def load(self: decode.Source, at_least: tuple[int, int] | None = None,
             **kwargs: object) -> decode.Picture:
        nonlocal inside, most
        with changed:
            inside += 1
            most = max(most, inside)
            changed.notify_all()
            changed.wait_for(lambda: inside >= expected, timeout=0.3)
            changed.wait(0.05)  # and a moment more for one more, were it allowed
            inside -= 1
        return real(self, at_least, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(decode.Source, "load", load)
    pipeline.set_framing_slots(workers)
    try:
        profile = make_profile(square={"size": 200})
        with ThreadPoolExecutor(workers) as pool:
            outcomes = list(pool.map(
                lambda p: pipeline.process(p, model, profile, output_root=out,
                                           relative_dir=Path(p.stem)), photos))
    finally:
        pipeline.set_framing_slots(1)  # back to one slot
    assert all(o.ok for o in outcomes), [o.message for o in outcomes]
    return most


def shots(folder: Path, count: int) -> list[Path]:
    photos = []
    for i in range(count):
        photos.append(folder / f"shot{i}.jpg")
        product_photo().save(photos[-1], quality=95)
    return photos


@pytest.mark.parametrize(("workers", "slots"), [(1, 1), (2, 1), (4, 2)])
def test_workers_take_turns_at_full_resolution_half_of_them_at_once(
    tmp_path: Path, out: Path, monkeypatch: pytest.MonkeyPatch, workers: int, slots: int
) -> None:
    model = CoreHoldingModel(64)
    photos = shots(tmp_path, 5)
    assert most_at_full_size(photos, out, monkeypatch, model, workers, expected=slots) == slots
    assert locate.holds_cores(model)


@pytest.mark.parametrize("workers", [2, 4])
def test_every_worker_decodes_at_once_when_the_model_leaves_the_cores_to_the_decodes(
    tmp_path: Path, out: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """A model on a GPU, or a key: the decode is what a slot waits on, so each worker has
    one, once the model has shown it for a few photos in a row."""
    model = FakeModel(64)  # its predict runs no inference: nothing holds the cores
    photos = shots(tmp_path, locate.QUICK_STREAK + workers)
    seen, rest = photos[:locate.QUICK_STREAK], photos[locate.QUICK_STREAK:]
    assert most_at_full_size(seen, out, monkeypatch, model, 1, expected=1) == 1
    assert not locate.holds_cores(model)

    assert most_at_full_size(rest, out, monkeypatch, model, workers, expected=workers) == workers


def test_every_worker_frames_at_once_once_only_the_subjects_region_is_left(
    tmp_path: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos = []
    for i in range(4):
        photos.append(tmp_path / f"shot{i}.jpg")
        product_photo().save(photos[-1], quality=95)
    inside, most = 0, 0
    lock = threading.Lock()
    real = frame.layout

    def layout(*args: object, **kwargs: object) -> frame.Layout:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        time.sleep(0.1)  # long enough for both workers to be here at once, as they may
        with lock:
            inside -= 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(frame, "layout", layout)
    pipeline.set_framing_slots(2)  # one slot for the photos at full size
    profile = make_profile(square={"size": 200})
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(
            lambda p: pipeline.process(p, FakeModel(64), profile, output_root=out,
                                       relative_dir=Path(p.stem)), photos))

    assert all(o.ok for o in outcomes)
    assert most == 2


@pytest.mark.parametrize("name", ["shot.jpg", "shot.png"])
def test_a_photo_is_decoded_only_while_it_holds_a_framing_slot(
    tmp_path: Path, out: Path, monkeypatch: pytest.MonkeyPatch, name: str,
) -> None:
    source = tmp_path / name
    product_photo((800, 600), (240, 160, 560, 480)).save(source)
    held = []
    real = decode.Source.load

    def load(self: decode.Source, at_least: tuple[int, int] | None = None,
             **kwargs: object) -> decode.Picture:
        held.append(pipeline.free_framing_slots() == 0)
        return real(self, at_least, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(decode.Source, "load", load)
    pipeline.set_framing_slots(1)  # one slot

    outcome = pipeline.process(source, FakeModel(64), make_profile(square={"size": 300}),
                               output_root=out)

    assert outcome.ok, outcome.message
    assert held == [True]  # one decode, in the slot: the preview is made from it


class HalfSureModel(FakeModel):
    """Finds the subject but is never more than 55 % sure of it."""

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        return np.minimum(super().predict(rgb), 0.55)


def test_a_photo_whose_matting_fails_keeps_the_mask_and_is_flagged(tmp_path: Path) -> None:
    photo = tmp_path / "in" / "shoe.jpg"
    photo.parent.mkdir()
    (tmp_path / "out").mkdir()
    product_photo().save(photo)
    profile = make_profile(matting={"enabled": True}, format="png", backdrop="transparent")

    outcome = pipeline.process(photo, HalfSureModel(), profile, output_root=tmp_path / "out")

    assert outcome.ok and outcome.output is not None and outcome.output.is_file()
    assert any(flag.startswith("alpha matting failed (Trimap did not contain foreground")
               for flag in outcome.flags)
    alpha = np.asarray(Image.open(outcome.output))[..., 3]
    assert alpha.max() > 0  # the model's mask, not an empty cut-out


def test_a_located_photo_keeps_its_pixels_when_the_next_is_decoded_into_its_slot_buffer(
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "first.jpg", tmp_path / "second.jpg"
    product_photo((800, 600), (200, 150, 600, 450)).save(first, quality=95)
    Image.new("RGB", (800, 600), (10, 200, 30)).save(second, quality=95)
    profile = make_profile(square=False)
    pipeline.set_framing_slots(1)  # one slot: one scratch buffer for both

    alone = pipeline.frame_photo(first, FakeModel(64), profile).before.copy()
    located = pipeline.locate(first, FakeModel(64), profile)
    pipeline.locate(second, FakeModel(64), profile)  # decoded into the same buffer
    framed = pipeline.frame_located(located, profile)

    assert np.array_equal(framed.before, alone)


def test_a_photo_framed_without_a_margin_is_not_pasted_onto_a_canvas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    photo = tmp_path / "shot.jpg"
    product_photo((800, 600), (200, 150, 600, 450)).save(photo, quality=95)
    canvases: list[tuple[int, int]] = []
    real = pipeline.composite.canvas

    def counted(size: tuple[int, int], backdrop: object) -> np.ndarray:
        canvases.append(size)
        return real(size, backdrop)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline.composite, "canvas", counted)
    framed = pipeline.frame_photo(photo, FakeModel(64), make_profile(square=False))
    assert framed.layout is not None and framed.layout.offset == (0, 0)
    assert framed.before.shape[1::-1] == framed.layout.canvas
    assert canvases == []  # the output is the subject's own pixels: no backdrop to fill first

    squared = pipeline.frame_photo(photo, FakeModel(64), make_profile(square={"size": 1000}))
    assert squared.layout is not None and canvases == [squared.layout.canvas]
