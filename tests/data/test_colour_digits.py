"""minigan.data.colour_digits: MNIST digits as colour PNGs, and examples/colour_digits.py that writes them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from minigan.data import ImageFolder, colour_digits

ROOT = Path(__file__).resolve().parents[2]
NEEDS_MNIST = pytest.mark.skipif(not os.environ.get("MINIGAN_DATA"), reason="MINIGAN_DATA is unset: reads real MNIST")


def strokes(n: int) -> np.ndarray:
    """``n`` 6x6 images in [0, 1]: ink (1) in the left half, background (0) in the right."""
    digits = np.zeros((n, 6, 6, 1), np.float32)
    digits[:, :, :3] = 1
    return digits


def test_ink_and_background_take_each_images_own_colours():
    images = colour_digits.colour_digits(strokes(50), np.random.default_rng(0))
    assert images.shape == (50, 6, 6, 3) and images.dtype == np.uint8
    ink, background = images[:, 0, 0].astype(int), images[:, 0, 5].astype(int)
    assert (images[:, :, :3] == ink[:, None, None]).all() and (images[:, :, 3:] == background[:, None, None]).all()
    assert (ink.max(axis=1) >= 191).all()  # the brightest channel of a wheel colour is >= 0.75
    assert (background.max(axis=1) <= 77).all()  # 0.3 of a wheel colour
    assert len({tuple(c) for c in ink}) > 40  # each image its own hue (a few may round alike)
    assert np.ptp(ink, axis=0).min() > 150  # the hues cover the wheel: each channel from dim to bright


def test_half_ink_is_the_mean_of_ink_and_background():
    digits = np.full((1, 2, 2, 1), 0.5, np.float32)
    rng = np.random.default_rng(3)
    ink = colour_digits.wheel(rng.random(1))[0]
    background = 0.3 * colour_digits.wheel(rng.random(1))[0]
    image = colour_digits.colour_digits(digits, np.random.default_rng(3))
    np.testing.assert_array_equal(image[0, 0, 0], np.round(255 * (ink + background) / 2).astype(np.uint8))


def test_folder_reads_back_as_the_same_colour_images(tmp_path):
    images = colour_digits.colour_digits(strokes(4), np.random.default_rng(0))
    colour_digits.write_folder(images, tmp_path / "digits")
    folder = ImageFolder(tmp_path / "digits", size=6, scale="uint8")
    assert folder.shape == (4, 6, 6, 3)
    np.testing.assert_array_equal(folder[:], images)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digits"]  # nothing left beside it


def test_an_existing_folder_is_refused_and_left_as_it_was(tmp_path):
    (tmp_path / "digits").mkdir()
    (tmp_path / "digits" / "mine.txt").write_text("keep")
    with pytest.raises(FileExistsError, match=r"digits exists; expected a new folder"):
        colour_digits.write_folder(np.zeros((1, 2, 2, 3), np.uint8), tmp_path / "digits")
    assert [p.name for p in (tmp_path / "digits").iterdir()] == ["mine.txt"]


def test_a_failed_write_leaves_no_folder_behind(tmp_path, monkeypatch):
    saved = []
    real_save = Image.Image.save

    def save(self, path, *args, **kwargs):
        if len(saved) == 2:
            raise OSError("disk full")
        saved.append(path)
        return real_save(self, path, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", save)
    with pytest.raises(OSError, match="disk full"):
        colour_digits.write_folder(np.zeros((5, 2, 2, 3), np.uint8), tmp_path / "digits")
    assert len(saved) == 2 and list(tmp_path.iterdir()) == []


@NEEDS_MNIST
def test_the_first_mnist_digits_are_written_in_colour(tmp_path):
    colour_digits.write_colour_digits(tmp_path / "digits", 3)
    folder = ImageFolder(tmp_path / "digits", size=28, scale="uint8")
    assert folder.shape == (3, 28, 28, 3)
    first = folder[0].astype(int)
    assert len(np.unique(first.reshape(-1, 3), axis=0)) > 10  # ink, background and the blends between them


@pytest.mark.parametrize("count", [0, 60_001])
def test_a_count_out_of_range_is_refused_before_anything_is_read(tmp_path, count):
    with pytest.raises(ValueError, match=f"expected a count of 1 to 60000, got {count}"):
        colour_digits.write_colour_digits(tmp_path / "digits", count, root=tmp_path / "no such folder")
    assert list(tmp_path.iterdir()) == []


def script(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "examples" / "colour_digits.py"), *argv], cwd=cwd,
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})


@NEEDS_MNIST
def test_the_script_writes_the_folder_and_says_so(tmp_path):
    result = script("digits", "--count", "2", "--seed", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "2 colour digits in digits\n"
    colour_digits.write_colour_digits(tmp_path / "same", 2, seed=1)
    for name in ("00000.png", "00001.png"):
        assert (tmp_path / "digits" / name).read_bytes() == (tmp_path / "same" / name).read_bytes()


def test_the_scripts_count_out_of_range_is_one_clear_error(tmp_path):
    result = script("digits", "--count", "0", cwd=tmp_path)
    assert result.returncode == 2
    assert "--count: expected 1 to 60000, got 0" in result.stderr
    assert list(tmp_path.iterdir()) == []
