"""The IDX reader: round trips, gzip or raw, and a clear DataError for every malformed file."""

import gzip
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigan.data import DataError, load_idx, read_idx
from minigan.data.idx import parse_idx

TYPE_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, TYPE_CODES[array.dtype.type], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path, data: bytes, gz: bool):
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.fixture
def pair(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (5, 4, 3), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    img = write(tmp_path / "img-idx3-ubyte.gz", idx_bytes(images), gz=True)
    lab = write(tmp_path / "lab-idx1-ubyte", idx_bytes(labels), gz=False)
    return images, labels, img, lab


@settings(max_examples=40, deadline=None)
@given(
    dtype=st.sampled_from(list(TYPE_CODES)),
    shape=st.lists(st.integers(0, 4), min_size=1, max_size=4),
)
def test_parse_round_trips_every_type_and_shape(dtype, shape):
    array = (np.arange(int(np.prod(shape))) * 37 % 200 - (0 if dtype == np.uint8 else 100)).astype(dtype)
    array = array.reshape(shape)
    out = parse_idx(idx_bytes(array), "mem")
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative and out.flags.writeable
    np.testing.assert_array_equal(out, array)


@settings(max_examples=30, deadline=None)
@given(cut=st.integers(0, 4 + 12 + 60 - 1))
def test_any_truncation_is_an_error(cut):
    data = idx_bytes(np.arange(60, dtype=np.uint8).reshape(3, 4, 5))
    with pytest.raises(DataError, match="short.txt"):
        parse_idx(data[:cut], "short.txt")


def test_gzip_and_raw_give_the_same_array(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    raw = read_idx(write(tmp_path / "a", idx_bytes(array), gz=False))
    packed = read_idx(write(tmp_path / "b.gz", idx_bytes(array), gz=True))
    np.testing.assert_array_equal(raw, array)
    np.testing.assert_array_equal(packed, array)


def test_bad_magic_names_the_file_and_what_was_expected(tmp_path):
    data = bytearray(idx_bytes(np.zeros((2, 2), np.uint8)))
    data[2] = 0x07
    path = write(tmp_path / "weird-idx", bytes(data), gz=False)
    with pytest.raises(DataError, match=r"weird-idx: not an IDX file: magic number 0x00000702, expected 0x0000"):
        read_idx(path)


def test_trailing_bytes_are_an_error(tmp_path):
    path = write(tmp_path / "long", idx_bytes(np.zeros((2, 2), np.uint8)) + b"\0", gz=False)
    with pytest.raises(DataError, match=r"long: file length 17 bytes does not match .* needs 16 bytes"):
        read_idx(path)


def test_truncated_gzip_names_the_file(tmp_path):
    packed = gzip.compress(idx_bytes(np.arange(1000, dtype=np.uint8).reshape(10, 10, 10)))
    path = tmp_path / "cut.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(DataError, match=r"cut.gz: corrupt or truncated gzip"):
        read_idx(path)


def test_corrupt_gzip_payload_is_caught_by_its_crc(tmp_path):
    packed = bytearray(gzip.compress(idx_bytes(np.arange(1000, dtype=np.uint8).reshape(10, 10, 10))))
    packed[-8] ^= 0xFF  # the stored CRC-32
    path = tmp_path / "crc.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(DataError, match=r"crc.gz: corrupt or truncated gzip"):
        read_idx(path)


@pytest.mark.parametrize(
    ("scale", "dtype", "low", "high"),
    [("[-1,1]", np.float32, -1.0, 1.0), ("[0,1]", np.float32, 0.0, 1.0), ("uint8", np.uint8, 0, 255)],
)
def test_load_idx_scales_and_shapes(pair, scale, dtype, low, high):
    images, labels, img, lab = pair
    x, y = load_idx(img, lab, scale=scale)
    assert x.shape == (5, 4, 3, 1) and x.dtype == dtype
    assert x.min() == low and x.max() == high
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, labels)
    expected = images[..., None].astype(np.float64)
    expected = {"[-1,1]": expected / 127.5 - 1, "[0,1]": expected / 255, "uint8": expected}[scale]
    np.testing.assert_allclose(x, expected, atol=1e-6)


def test_load_idx_rejects_a_label_count_mismatch(pair, tmp_path):
    _, _, img, _ = pair
    lab = write(tmp_path / "six-labels", idx_bytes(np.zeros(6, np.uint8)), gz=False)
    with pytest.raises(DataError, match=r"six-labels: expected 5 labels \(one per image\), got 6"):
        load_idx(img, lab)


def test_load_idx_rejects_non_byte_images(pair, tmp_path):
    _, _, _, lab = pair
    img = write(tmp_path / "floats", idx_bytes(np.zeros((5, 2, 2), np.float32)), gz=False)
    with pytest.raises(DataError, match=r"floats: expected images of unsigned bytes .* got float32 shaped \(5, 2, 2\)"):
        load_idx(img, lab)


def test_unknown_scale_is_refused(pair):
    _, _, img, lab = pair
    with pytest.raises(ValueError, match=r"scale: expected one of '\[-1,1\]', '\[0,1\]', 'uint8', got '0-255'"):
        load_idx(img, lab, scale="0-255")
