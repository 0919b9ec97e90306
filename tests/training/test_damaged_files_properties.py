"""Property tests: a real checkpoint and gzip IDX files cut at any byte or with any byte changed.

Whatever the damage, loading either raises the module's own error (CheckpointError, DataError:
one line naming the file) or returns exactly the original contents (a changed byte the format
does not read, such as a zip timestamp). Never another exception, never different numbers.
"""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minigan import models, optim
from minigan.data import DataError, read_idx
from minigan.training import checkpoint

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    """A real checkpoint of a small trained generator with its Adam state: (path, bytes, loaded)."""
    generator = models.dcgan_generator(latent_dim=4, width=1 / 32)
    opt = optim.Adam(generator, 1e-3)
    generator.backward(np.ones_like(generator.forward(np.ones((2, 4), np.float32))))
    opt.step()
    path = tmp_path_factory.mktemp("ckpt") / "checkpoint.npz"
    checkpoint.save(path, {"generator": generator}, {"generator": opt}, {"step": 1}, {"history": np.arange(8.0)})
    return path, path.read_bytes(), checkpoint.load(path)


def assert_refused_or_identical(path, data: bytes, original: checkpoint.Checkpoint) -> None:
    path.write_bytes(data)
    try:
        loaded = checkpoint.load(path)
    except checkpoint.CheckpointError as exc:
        assert str(exc).startswith(f"checkpoint {path}: ") and "\n" not in str(exc)
        return
    assert loaded.meta == original.meta
    assert loaded.arrays.keys() == original.arrays.keys()
    for name, array in original.arrays.items():
        assert loaded.arrays[name].dtype == array.dtype
        np.testing.assert_array_equal(loaded.arrays[name], array)


def position(size: int) -> st.SearchStrategy[int]:
    """Anywhere in the file, and often in its last 2 KB: the metadata and the zip's directory."""
    return st.one_of(st.integers(0, size - 1), st.integers(max(0, size - 2048), size - 1))


@SETTINGS
@given(data=st.data())
def test_a_checkpoint_cut_at_any_byte_is_refused(original, tmp_path, data):
    path, whole, _ = original
    cut = data.draw(position(len(whole)))
    (tmp_path / "cut.npz").write_bytes(whole[:cut])
    with pytest.raises(checkpoint.CheckpointError, match="cut.npz: "):
        checkpoint.load(tmp_path / "cut.npz")


@SETTINGS
@given(data=st.data())
def test_a_checkpoint_with_any_byte_changed_is_refused_or_loads_the_same(original, tmp_path, data):
    path, whole, loaded = original
    at = data.draw(position(len(whole)))
    mask = data.draw(st.integers(1, 255))
    damaged = whole[:at] + bytes([whole[at] ^ mask]) + whole[at + 1 :]
    assert_refused_or_identical(tmp_path / "flipped.npz", damaged, loaded)


def idx_gzip(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + array.tobytes())


IMAGES = np.random.default_rng(0).integers(0, 256, (6, 5, 4), dtype=np.uint8)
PACKED = idx_gzip(IMAGES)


@SETTINGS
@given(cut=st.integers(0, len(PACKED) - 1))
def test_a_gzip_idx_file_cut_at_any_byte_is_a_data_error(tmp_path, cut):
    path = tmp_path / "images-idx3-ubyte.gz"
    path.write_bytes(PACKED[:cut])
    with pytest.raises(DataError, match="images-idx3-ubyte.gz: "):
        read_idx(path)


@SETTINGS
@given(at=st.integers(0, len(PACKED) - 1), mask=st.integers(1, 255))
def test_a_gzip_idx_file_with_any_byte_changed_is_a_data_error_or_the_same_array(tmp_path, at, mask):
    path = tmp_path / "images-idx3-ubyte.gz"
    path.write_bytes(PACKED[:at] + bytes([PACKED[at] ^ mask]) + PACKED[at + 1 :])
    try:
        array = read_idx(path)
    except DataError as exc:
        assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)
        return
    assert array.dtype == IMAGES.dtype
    np.testing.assert_array_equal(array, IMAGES)
