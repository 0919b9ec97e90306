"""CIFAR-10 from small python batches and archives the tests write themselves."""

import hashlib
import io
import os
import pickle
import tarfile

import numpy as np
import pytest

from minigan.data import DataError, cifar, load_cifar10

NAMES = tuple(cifar.CIFAR10_MD5)


def make_batch(seed: int, n: int = 3) -> tuple[bytes, np.ndarray, np.ndarray]:
    """A batch as the real files store it: bytes keys, rows of 1024 R, 1024 G, 1024 B values."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, n)
    data = images.transpose(0, 3, 1, 2).reshape(n, 3072)
    payload = {b"batch_label": b"synthetic", b"labels": labels.tolist(), b"data": data, b"filenames": [b"x.png"] * n}
    return pickle.dumps(payload, protocol=2), images, labels


@pytest.fixture
def batches(monkeypatch):
    """Synthetic contents for every batch, with their MD5s standing in for the published ones."""
    made = {name: make_batch(seed) for seed, name in enumerate(NAMES)}
    for name, (blob, _, _) in made.items():
        monkeypatch.setitem(cifar.CIFAR10_MD5, name, hashlib.md5(blob).hexdigest())
    return made


def write_batches(folder, made):
    folder.mkdir(parents=True)
    for name, (blob, _, _) in made.items():
        (folder / name).write_bytes(blob)


def make_archive(path, made, monkeypatch, skip=()):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, (blob, _, _) in made.items():
            if name in skip:
                continue
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    monkeypatch.setattr(cifar, "ARCHIVE_MD5", hashlib.md5(buffer.getvalue()).hexdigest())


def test_train_split_concatenates_the_five_batches_in_nhwc_rgb(batches, tmp_path):
    write_batches(tmp_path / "cifar10" / "cifar-10-batches-py", batches)
    images, labels = load_cifar10("train", root=tmp_path, download=False, scale="uint8")
    expected = np.concatenate([batches[f"data_batch_{i}"][1] for i in range(1, 6)])
    assert images.shape == (15, 32, 32, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, expected)
    np.testing.assert_array_equal(labels, np.concatenate([batches[f"data_batch_{i}"][2] for i in range(1, 6)]))
    assert labels.dtype == np.int64


def test_default_scale_is_float32_in_minus_one_one(batches, tmp_path):
    write_batches(tmp_path / "cifar-10-batches-py", batches)  # directly in root is accepted too
    images, labels = load_cifar10("test", root=tmp_path, download=False)
    assert images.shape == (3, 32, 32, 3) and images.dtype == np.float32
    np.testing.assert_allclose(images, batches["test_batch"][1] / 127.5 - 1, atol=1e-6)
    np.testing.assert_array_equal(labels, batches["test_batch"][2])


def test_a_flipped_byte_in_a_batch_is_reported_and_never_used(batches, tmp_path):
    folder = tmp_path / "cifar10" / "cifar-10-batches-py"
    write_batches(folder, batches)
    blob = bytearray((folder / "test_batch").read_bytes())
    blob[-40] ^= 0x01
    (folder / "test_batch").write_bytes(bytes(blob))
    with pytest.warns(RuntimeWarning, match=r"test_batch: checksum mismatch: MD5 is [0-9a-f]{32}, expected"):
        with pytest.raises(DataError, match=r"CIFAR-10: cifar-10-python.tar.gz not found"):
            load_cifar10("test", root=tmp_path, download=False)


def test_bad_batches_are_extracted_again_from_the_archive(batches, tmp_path, monkeypatch):
    folder = tmp_path / "cifar10" / "cifar-10-batches-py"
    write_batches(folder, batches)
    (folder / "test_batch").write_bytes(b"garbage")
    make_archive(tmp_path / "cifar10" / "cifar-10-python.tar.gz", batches, monkeypatch)
    with pytest.warns(RuntimeWarning, match="extracting the batches again"):
        images, _ = load_cifar10("test", root=tmp_path, download=False, scale="uint8")
    np.testing.assert_array_equal(images, batches["test_batch"][1])
    assert (folder / "test_batch").read_bytes() == batches["test_batch"][0]


def test_download_verifies_and_extracts_the_archive(batches, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    make_archive(mirror / "cifar-10-python.tar.gz", batches, monkeypatch)
    images, labels = load_cifar10("test", root=tmp_path / "data", mirrors=[mirror.as_uri()], scale="uint8")
    np.testing.assert_array_equal(images, batches["test_batch"][1])
    assert sorted(os.listdir(tmp_path / "data" / "cifar10")) == ["cifar-10-batches-py", "cifar-10-python.tar.gz"]
    assert sorted(os.listdir(tmp_path / "data" / "cifar10" / "cifar-10-batches-py")) == sorted(NAMES)


def test_a_corrupt_archive_from_a_mirror_is_refused(batches, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    make_archive(mirror / "cifar-10-python.tar.gz", batches, monkeypatch)
    monkeypatch.setattr(cifar, "ARCHIVE_MD5", "0" * 32)
    with pytest.raises(DataError, match=r"(?s)could not download cifar-10-python.tar.gz.*checksum mismatch"):
        load_cifar10("test", root=tmp_path / "data", mirrors=[mirror.as_uri()])
    assert os.listdir(tmp_path / "data" / "cifar10") == []


def test_an_archive_without_a_batch_is_refused(batches, tmp_path, monkeypatch):
    make_archive(tmp_path / "cifar10" / "cifar-10-python.tar.gz", batches, monkeypatch, skip={"test_batch"})
    with pytest.raises(DataError, match=r"cifar-10-python.tar.gz: not a usable CIFAR-10 archive"):
        load_cifar10("test", root=tmp_path, download=False)


def test_a_pickle_that_would_run_code_is_refused(tmp_path, monkeypatch):
    class Exploit:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    blob = pickle.dumps({b"data": Exploit(), b"labels": []}, protocol=2)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    (folder / "test_batch").write_bytes(blob)
    monkeypatch.setitem(cifar.CIFAR10_MD5, "test_batch", hashlib.md5(blob).hexdigest())
    with pytest.raises(DataError, match=r"test_batch: not a CIFAR-10 python batch .*refusing to load posix.system"):
        cifar.read_batch(folder / "test_batch")


def test_a_batch_with_the_wrong_row_length_is_refused(tmp_path, monkeypatch):
    blob = pickle.dumps({b"data": np.zeros((2, 3000), np.uint8), b"labels": [0, 1]}, protocol=2)
    path = tmp_path / "test_batch"
    path.write_bytes(blob)
    monkeypatch.setitem(cifar.CIFAR10_MD5, "test_batch", hashlib.md5(blob).hexdigest())
    with pytest.raises(DataError, match=r"expected data of uint8 shaped \(n, 3072\), got uint8 shaped \(2, 3000\)"):
        cifar.read_batch(path)


def test_a_truncated_batch_is_reported_by_its_checksum_and_never_used(batches, tmp_path):
    folder = tmp_path / "cifar10" / "cifar-10-batches-py"
    write_batches(folder, batches)
    (folder / "test_batch").write_bytes(batches["test_batch"][0][:5000])
    with pytest.warns(RuntimeWarning, match=r"test_batch: checksum mismatch: MD5 is [0-9a-f]{32}, expected"):
        with pytest.raises(DataError, match=r"CIFAR-10: cifar-10-python.tar.gz not found"):
            load_cifar10("test", root=tmp_path, download=False)


@pytest.mark.parametrize("keep", [0, 1, 2, 100, 3000, 0.5, -1])
def test_a_batch_cut_short_that_passed_its_checksum_is_still_a_data_error(tmp_path, monkeypatch, keep):
    blob = make_batch(0)[0]
    cut = blob[: int(keep * len(blob)) if isinstance(keep, float) else keep]
    path = tmp_path / "test_batch"
    path.write_bytes(cut)
    monkeypatch.setitem(cifar.CIFAR10_MD5, "test_batch", hashlib.md5(cut).hexdigest())
    with pytest.raises(DataError, match=r"test_batch: not a CIFAR-10 python batch \((UnpicklingError|EOFError)"):
        cifar.read_batch(path)


def test_a_truncated_archive_is_refused_by_its_checksum(batches, tmp_path, monkeypatch):
    archive = tmp_path / "cifar10" / "cifar-10-python.tar.gz"
    make_archive(archive, batches, monkeypatch)
    archive.write_bytes(archive.read_bytes()[:4000])
    with pytest.raises(DataError, match=r"cifar-10-python.tar.gz: checksum mismatch: MD5"):
        load_cifar10("test", root=tmp_path, download=False)


def test_a_truncated_archive_that_passed_its_checksum_is_still_a_data_error(batches, tmp_path, monkeypatch):
    archive = tmp_path / "cifar10" / "cifar-10-python.tar.gz"
    make_archive(archive, batches, monkeypatch)
    archive.write_bytes(archive.read_bytes()[:4000])
    monkeypatch.setattr(cifar, "ARCHIVE_MD5", hashlib.md5(archive.read_bytes()).hexdigest())
    with pytest.raises(DataError, match=r"cifar-10-python.tar.gz: not a usable CIFAR-10 archive"):
        load_cifar10("test", root=tmp_path, download=False)
