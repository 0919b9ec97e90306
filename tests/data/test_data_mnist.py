"""MNIST from the real files (in $MINIGAN_DATA, else skipped) and Fashion-MNIST's structural checks."""

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from minigan.data import DataError, load_fashion_mnist, load_mnist

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def _real_mnist_root() -> Path:
    base = os.environ.get("MINIGAN_DATA")
    if not base:
        pytest.skip("MINIGAN_DATA is not set (point it at the folder holding mnist/)")
    folder = Path(base) / "mnist"
    if not folder.is_dir():
        pytest.skip(f"no MNIST folder at {folder}")
    return Path(base)


@pytest.fixture(scope="module")
def train():
    return load_mnist("train", root=_real_mnist_root(), download=False)


@pytest.fixture(scope="module")
def test_split():
    return load_mnist("test", root=_real_mnist_root(), download=False)


def test_train_split_shape_range_and_label_counts(train):
    images, labels = train
    assert images.shape == (60000, 28, 28, 1) and images.dtype == np.float32
    assert images.min() == -1.0 and images.max() == 1.0
    assert labels.shape == (60000,) and labels.dtype == np.int64
    assert np.bincount(labels).tolist() == MNIST_TRAIN_COUNTS


def test_test_split(test_split):
    images, labels = test_split
    assert images.shape == (10000, 28, 28, 1) and images.dtype == np.float32
    assert labels.shape == (10000,) and labels.dtype == np.int64
    assert np.bincount(labels, minlength=10).sum() == 10000


def test_scale_options_are_the_same_pixels(test_split):
    raw, labels = load_mnist("test", root=_real_mnist_root(), download=False, scale="uint8")
    unit, _ = load_mnist("test", root=_real_mnist_root(), download=False, scale="[0,1]")
    assert raw.dtype == np.uint8 and unit.dtype == np.float32
    assert 0 < raw.mean() < 255
    np.testing.assert_allclose(unit, raw / 255.0, atol=1e-7)
    np.testing.assert_allclose(test_split[0], raw / 127.5 - 1.0, atol=1e-6)
    np.testing.assert_array_equal(labels, test_split[1])


def test_the_default_search_reads_minigan_data(test_split, monkeypatch):
    monkeypatch.setenv("MINIGAN_DATA", str(_real_mnist_root()))
    _, labels = load_mnist("test", download=False)
    np.testing.assert_array_equal(labels, test_split[1])


def test_bad_split_is_refused_before_any_file_is_touched(tmp_path):
    with pytest.raises(ValueError, match=r"split: expected 'train' or 'test', got 'valid'"):
        load_mnist("valid", root=tmp_path)


def _write_fashion(folder: Path, count: int, labels: np.ndarray | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    images = np.zeros((count, 28, 28), np.uint8)
    images[:, 14, 14] = 255
    labels = (np.arange(count) % 10).astype(np.uint8) if labels is None else labels
    for name, array in (("t10k-images-idx3-ubyte", images), ("t10k-labels-idx1-ubyte", labels)):
        header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
        (folder / f"{name}.gz").write_bytes(gzip.compress(header + array.tobytes(), compresslevel=1))


def test_fashion_mnist_loads_files_of_the_right_structure(tmp_path):
    _write_fashion(tmp_path / "fashion_mnist", 10000)
    images, labels = load_fashion_mnist("test", root=tmp_path, download=False)
    assert images.shape == (10000, 28, 28, 1) and images.dtype == np.float32
    assert images[0, 14, 14, 0] == 1.0 and images[0, 0, 0, 0] == -1.0
    np.testing.assert_array_equal(labels, np.arange(10000) % 10)


def test_fashion_mnist_rejects_a_file_of_the_wrong_size(tmp_path):
    _write_fashion(tmp_path / "fashion_mnist", 9999)
    expected = r"t10k-images-idx3-ubyte.gz: expected .* shaped \(10000, 28, 28\), got uint8 shaped \(9999, 28, 28\)"
    with pytest.raises(DataError, match=expected):
        load_fashion_mnist("test", root=tmp_path, download=False)


def test_fashion_mnist_rejects_labels_out_of_range(tmp_path):
    labels = np.zeros(10000, np.uint8)
    labels[5] = 12
    _write_fashion(tmp_path / "fashion_mnist", 10000, labels)
    expected = r"t10k-labels-idx1-ubyte.gz: expected labels in \[0, 9\], got values from 0 to 12"
    with pytest.raises(DataError, match=expected):
        load_fashion_mnist("test", root=tmp_path, download=False)


def test_fashion_mnist_offline_message_names_its_folder(tmp_path):
    with pytest.raises(DataError, match=r"(?s)Fashion-MNIST: .* in \S*fashion_mnist, .* 'fashion_mnist/' subfolder"):
        load_fashion_mnist("train", root=tmp_path, download=False)
