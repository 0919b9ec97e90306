"""SVHN from small .mat files written with scipy.io.savemat, and the message when SciPy is missing."""

import hashlib
import sys

import numpy as np
import pytest

from minigan.data import DataError, load_svhn, svhn

savemat = pytest.importorskip("scipy.io").savemat


def write_mat(path, images_nhwc, labels, monkeypatch):
    savemat(path, {"X": images_nhwc.transpose(1, 2, 3, 0), "y": labels.reshape(-1, 1)})
    monkeypatch.setitem(svhn.SVHN_MD5, path.name, hashlib.md5(path.read_bytes()).hexdigest())


@pytest.fixture
def sample():
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    labels = np.array([10, 1, 9, 10], dtype=np.float64)  # as the real files: doubles, 10 for the digit 0
    return images, labels


def test_loads_nhwc_and_maps_label_ten_to_zero(sample, tmp_path, monkeypatch):
    (tmp_path / "svhn").mkdir()
    write_mat(tmp_path / "svhn" / "test_32x32.mat", *sample, monkeypatch)
    images, labels = load_svhn("test", root=tmp_path, download=False)
    assert images.shape == (4, 32, 32, 3) and images.dtype == np.float32
    np.testing.assert_allclose(images, sample[0] / 127.5 - 1, atol=1e-6)
    assert labels.dtype == np.int64 and labels.tolist() == [0, 1, 9, 0]


def test_download_goes_through_the_verified_path(sample, tmp_path, monkeypatch):
    (tmp_path / "mirror").mkdir()
    write_mat(tmp_path / "mirror" / "train_32x32.mat", *sample, monkeypatch)
    images, _ = load_svhn("train", root=tmp_path / "data", mirrors=[(tmp_path / "mirror").as_uri()], scale="uint8")
    np.testing.assert_array_equal(images, sample[0])
    assert (tmp_path / "data" / "svhn" / "train_32x32.mat").is_file()


def test_a_modified_file_fails_its_checksum(sample, tmp_path, monkeypatch):
    path = tmp_path / "test_32x32.mat"
    write_mat(path, *sample, monkeypatch)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"test_32x32.mat: checksum mismatch: MD5 is [0-9a-f]{32}, expected"):
        load_svhn("test", root=tmp_path, download=False)


def test_images_of_the_wrong_shape_are_refused(tmp_path, monkeypatch):
    write_mat(tmp_path / "test_32x32.mat", np.zeros((2, 28, 28, 3), np.uint8), np.ones(2), monkeypatch)
    expected = r"expected X of uint8 shaped \(32, 32, 3, N\), got uint8 shaped \(28, 28, 3, 2\)"
    with pytest.raises(DataError, match=expected):
        load_svhn("test", root=tmp_path, download=False)


def test_missing_scipy_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.io", None)  # makes "from scipy.io import ..." fail
    with pytest.raises(ImportError, match=r'loading SVHN needs SciPy.*pip install "minigan\[svhn\]"'):
        load_svhn("test", root=tmp_path)


def test_unknown_split_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"split: expected 'train', 'test' or 'extra', got 'val'"):
        load_svhn("val", root=tmp_path)


def test_a_truncated_file_fails_its_checksum(sample, tmp_path, monkeypatch):
    path = tmp_path / "test_32x32.mat"
    write_mat(path, *sample, monkeypatch)
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(DataError, match=r"test_32x32.mat: checksum mismatch: MD5 is [0-9a-f]{32}, expected"):
        load_svhn("test", root=tmp_path, download=False)


@pytest.mark.parametrize("keep", [0, 10, 128, 2000, 0.9])
def test_a_file_cut_short_that_passed_its_checksum_is_still_a_data_error(sample, tmp_path, monkeypatch, keep):
    path = tmp_path / "test_32x32.mat"
    write_mat(path, *sample, monkeypatch)
    whole = path.read_bytes()
    path.write_bytes(whole[: int(keep * len(whole)) if isinstance(keep, float) else keep])
    monkeypatch.setitem(svhn.SVHN_MD5, path.name, hashlib.md5(path.read_bytes()).hexdigest())
    with pytest.raises(DataError, match=r"test_32x32.mat: not an SVHN .mat file"):
        load_svhn("test", root=tmp_path, download=False)
