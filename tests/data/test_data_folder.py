"""ImageFolder: PNG/JPEG trees resized and centre-cropped, decoded lazily or cached in a .npy file."""

import io
import os
import struct
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from minigan.data import DataError, ImageFolder

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def banded(width: int, height: int, centre, sides) -> Image.Image:
    """A wide image: ``sides`` at both ends, ``centre`` over the middle ``height + 10`` columns
    (a margin beyond the centre square, so resampling near the crop edges sees ``centre`` only)."""
    image = Image.new("RGB", (width, height), sides)
    image.paste(Image.new("RGB", (height + 10, height), centre), ((width - height - 10) // 2, 0))
    return image


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "images"
    (root / "b" / "deep").mkdir(parents=True)
    (root / "a").mkdir()
    banded(60, 20, GREEN, RED).save(root / "a" / "wide.png")  # a 3:1 image: the crop keeps the green middle
    Image.new("RGB", (16, 16), BLUE).save(root / "a" / "blue.JPG", quality=95)
    Image.new("RGBA", (8, 12), (255, 255, 255, 128)).save(root / "b" / "alpha.png")
    Image.new("L", (30, 30), 0).save(root / "b" / "deep" / "black.jpeg")
    (root / "b" / "notes.txt").write_text("not an image")
    return root


def test_finds_every_image_in_sorted_order_and_ignores_other_files(tree):
    folder = ImageFolder(tree, size=8)
    assert [p.relative_to(tree).as_posix() for p in folder.paths] == [
        "a/blue.JPG",
        "a/wide.png",
        "b/alpha.png",
        "b/deep/black.jpeg",
    ]
    assert len(folder) == 4 and folder.shape == (4, 8, 8, 3)


def test_images_are_resized_centre_cropped_and_scaled(tree):
    images = ImageFolder(tree, size=8)[np.arange(4)]
    assert images.shape == (4, 8, 8, 3) and images.dtype == np.float32
    np.testing.assert_allclose(images[1], np.broadcast_to([-1, 1, -1], (8, 8, 3)), atol=0.02)  # green only
    np.testing.assert_allclose(images[0], np.broadcast_to([-1, -1, 1], (8, 8, 3)), atol=0.05)  # JPEG blue
    np.testing.assert_allclose(images[2], 1.0)  # alpha dropped: white
    np.testing.assert_allclose(images[3], -1.0)  # grayscale black as RGB


def test_grayscale_int_and_slice_indexing(tree):
    folder = ImageFolder(tree, size=6, grayscale=True, scale="uint8")
    one = folder[3]
    assert one.shape == (6, 6, 1) and one.dtype == np.uint8 and one.max() == 0
    assert folder[1:3].shape == (2, 6, 6, 1)
    assert folder[-1].shape == (6, 6, 1)
    green = folder[1][..., 0]
    assert abs(int(green.mean()) - 150) < 5  # ITU-R 601 luma of pure green


def test_decoding_is_lazy_and_a_broken_file_is_skipped_once_with_one_line_and_the_next_image_in_its_place(tree):
    (tree / "b" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    lines = []
    folder = ImageFolder(tree, size=8, log=lines.append)  # constructing decodes nothing
    assert folder[0].shape == (8, 8, 3) and lines == [] and folder.bad_files == {}
    broken = folder.paths.index(tree / "b" / "broken.png")

    batch = folder[np.array([0, broken, broken])]

    np.testing.assert_array_equal(batch[1], folder[broken + 1])  # b/deep/black.jpeg, the next in path order
    np.testing.assert_array_equal(batch[2], batch[1])
    assert list(folder.bad_files) == [tree / "b" / "broken.png"]
    assert len(lines) == 1 and lines[0].startswith(f"warning: {tree / 'b' / 'broken.png'}: cannot decode image (")
    assert lines[0].endswith("; skipped, the next image takes its place")
    folder[np.array([broken])]
    assert len(lines) == 1  # once per file


def test_the_last_image_broken_takes_the_first_in_its_place_and_the_default_warning_is_one_line_on_stderr(
    tree, capsys
):
    (tree / "z.jpg").write_bytes(b"\xff\xd8\xff truncated jpeg")
    folder = ImageFolder(tree, size=8)
    np.testing.assert_array_equal(folder[-1], folder[0])
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "z.jpg: cannot decode image" in err


def test_a_folder_where_nothing_decodes_is_one_error(tmp_path):
    for name in ("a.png", "b.jpg"):
        (tmp_path / name).write_bytes(b"junk")
    folder = ImageFolder(tmp_path, size=8, log=lambda line: None)
    with pytest.raises(DataError, match=r"none of its 2 images can be decoded"):
        folder[0]


def test_verify_lists_every_undecodable_file_in_one_error(tree):
    (tree / "b" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (tree / "a" / "empty.jpg").write_bytes(b"")
    folder = ImageFolder(tree, size=8)
    with pytest.raises(DataError) as error:
        folder.verify(progress=False)
    message = str(error.value)
    assert message.startswith(f"{tree}: 2 of 6 images cannot be decoded: {tree / 'a' / 'empty.jpg'}: cannot decode")
    assert f"; {tree / 'b' / 'broken.png'}: cannot decode image" in message and "\n" not in message
    assert set(folder.bad_files) == {tree / "a" / "empty.jpg", tree / "b" / "broken.png"}


def test_verify_of_a_sound_folder_passes_and_records_nothing(tree):
    folder = ImageFolder(tree, size=8)
    folder.verify(progress=False)
    assert folder.bad_files == {}


def test_a_cache_built_over_a_broken_file_holds_the_next_image_in_its_place(tree, tmp_path):
    (tree / "a" / "c_broken.png").write_bytes(b"not an image")
    lines = []
    folder = ImageFolder(tree, size=8, scale="uint8", cache=tmp_path / "c.npy", log=lines.append)
    assert [p.name for p in folder.bad_files] == ["c_broken.png"] and len(lines) == 1
    np.testing.assert_array_equal(folder[2], folder.decode(tree / "a" / "wide.png"))


def test_cache_is_written_once_and_then_memory_mapped(tree, tmp_path):
    cache = tmp_path / "cache" / "images8.npy"
    lazy = ImageFolder(tree, size=8, scale="uint8")[np.arange(4)]
    cached = ImageFolder(tree, size=8, scale="uint8", cache=cache)
    np.testing.assert_array_equal(cached[np.arange(4)], lazy)
    assert os.listdir(cache.parent) == ["images8.npy"]  # no temporary file left
    # Overwrite the images: a second folder reads the cache, not the files.
    for path in cached.paths:
        Image.new("RGB", (8, 8), (7, 7, 7)).save(path, format="PNG")
    again = ImageFolder(tree, size=8, scale="uint8", cache=cache)
    assert isinstance(again._pixels, np.memmap)
    np.testing.assert_array_equal(again[np.array([3, 0])], lazy[[3, 0]])


def test_a_cache_of_another_shape_is_rebuilt(tree, tmp_path):
    cache = tmp_path / "images.npy"
    ImageFolder(tree, size=8, cache=cache)
    with pytest.warns(RuntimeWarning, match=r"images.npy: image cache holds uint8 shaped \(4, 8, 8, 3\), expected"):
        folder = ImageFolder(tree, size=4, cache=cache)
    assert np.load(cache).shape == (4, 4, 4, 3) and folder[0].shape == (4, 4, 3)


def test_an_unreadable_cache_is_rebuilt(tree, tmp_path):
    cache = tmp_path / "images.npy"
    cache.write_bytes(b"junk")
    with pytest.warns(RuntimeWarning, match="image cache cannot be read"):
        folder = ImageFolder(tree, size=8, cache=cache)
    assert folder[2].shape == (8, 8, 3)


def test_an_empty_folder_is_an_error(tmp_path):
    with pytest.raises(DataError, match=r"no images found \(expected files ending in .png, .jpg, .jpeg\)"):
        ImageFolder(tmp_path)


# -- images of other modes, converted as Pillow documents ---------------------------------


def png_16_bit_gray(path, values: np.ndarray) -> None:
    """A 16-bit grayscale PNG written chunk by chunk (Pillow opens it as mode "I;16")."""
    height, width = values.shape
    rows = b"".join(b"\x00" + values[y].astype(">u2").tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 16, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
                     + chunk(b"IEND", b""))


def test_a_16_bit_grayscale_png_is_scaled_to_8_bits_not_clipped(tmp_path):
    png_16_bit_gray(tmp_path / "deep.png", np.full((4, 4), 32896, np.uint16))  # 0x8080: mid-gray
    with Image.open(tmp_path / "deep.png") as image:
        assert image.mode == "I;16"
    gray = ImageFolder(tmp_path, size=4, grayscale=True, scale="uint8")[0]
    colour = ImageFolder(tmp_path, size=4, scale="uint8")[0]
    assert (gray == 128).all() and (colour == 128).all()  # 32896 / 257 = 128; a plain convert gives 255


def test_palette_images_with_and_without_transparency_give_their_colours_without_pillows_warning(tmp_path):
    image = Image.new("P", (4, 4), 1)
    image.putpalette([255, 0, 0, 0, 0, 255])
    image.save(tmp_path / "a.png")
    image.save(tmp_path / "b.png", transparency=0)  # one transparent index
    image.save(tmp_path / "c.png", transparency=bytes([0, 128]))  # an alpha per index: Pillow asks for RGBA first
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pixels = ImageFolder(tmp_path, size=4, scale="uint8")[0:3]
    assert (pixels == [0, 0, 255]).all()


def test_colour_images_in_a_grayscale_folder_become_their_luma(tmp_path):
    Image.new("RGB", (4, 4), RED).save(tmp_path / "red.png")
    Image.new("RGBA", (4, 4), (*BLUE, 255)).save(tmp_path / "blue.png")
    blue, red = ImageFolder(tmp_path, size=4, grayscale=True, scale="uint8")[0:2]
    assert (red == 76).all() and (blue == 29).all()  # ITU-R 601-2: 0.299 R, 0.114 B


def test_an_exif_rotated_jpeg_is_turned_upright(tmp_path):
    stored = Image.new("RGB", (40, 20), RED)
    stored.paste(Image.new("RGB", (20, 20), BLUE), (20, 0))  # red left half, blue right half as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation 6: shown rotated 90 degrees clockwise, so the left half is on top
    stored.save(tmp_path / "rotated.jpg", exif=exif, quality=95)
    upright = ImageFolder(tmp_path, size=8, scale="uint8")[0].astype(int)
    np.testing.assert_allclose(upright[:3].mean(axis=(0, 1)), RED, atol=12)
    np.testing.assert_allclose(upright[-3:].mean(axis=(0, 1)), BLUE, atol=12)


@pytest.fixture(scope="module")
def encoded():
    """A small PNG and JPEG, as bytes."""
    picture = Image.fromarray(np.random.default_rng(0).integers(0, 256, (12, 10, 3), dtype=np.uint8))
    files = {}
    for suffix, fmt in ((".png", "PNG"), (".jpg", "JPEG")):
        buffer = io.BytesIO()
        picture.save(buffer, format=fmt)
        files[suffix] = buffer.getvalue()
    return files


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_png_or_jpeg_cut_or_changed_anywhere_decodes_or_is_a_data_error(encoded, tmp_path, data):
    suffix = data.draw(st.sampled_from(sorted(encoded)))
    whole = encoded[suffix]
    at = data.draw(st.integers(0, len(whole) - 1))
    damaged = whole[:at] if data.draw(st.booleans()) else whole[:at] + bytes([whole[at] ^ 0x5A]) + whole[at + 1 :]
    path = tmp_path / f"image{suffix}"
    path.write_bytes(damaged)
    folder = ImageFolder(tmp_path, size=6, scale="uint8")
    try:
        pixels = folder.decode(path)
    except DataError as exc:
        assert str(exc).startswith(f"{path}: cannot decode image (") and "\n" not in str(exc)
    else:
        assert pixels.shape == (6, 6, 3) and pixels.dtype == np.uint8
