"""ImageFolder: PNG/JPEG trees resized and centre-cropped, decoded lazily or cached in a .npy file."""

import os

import numpy as np
import pytest
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


def test_decoding_is_lazy_and_a_broken_file_is_named_when_used(tree):
    (tree / "b" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    folder = ImageFolder(tree, size=8)  # constructing decodes nothing, so the broken file goes unnoticed
    assert folder[0].shape == (8, 8, 3)
    with pytest.raises(DataError, match=r"broken.png: cannot decode image"):
        folder[np.array([0, 3])]


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
