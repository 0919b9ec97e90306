"""The verified, atomic download path and the search for local files, without any network.

Mirrors are a local HTTP server on 127.0.0.1 and file:// folders. Tests that serve the real
MNIST test files read them from $MINIGAN_DATA (.ci/run sets it) and skip without them.
"""

import gzip
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from minigan.atomic import atomic_path
from minigan.data import DataError, load_mnist
from minigan.data.storage import search_dirs

TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


@pytest.fixture(scope="module")
def real_mnist() -> Path:
    """The folder holding the real MNIST test files, or a skip saying why there is none."""
    base = os.environ.get("MINIGAN_DATA")
    if not base:
        pytest.skip("MINIGAN_DATA is not set (point it at the folder holding mnist/)")
    folder = Path(base) / "mnist"
    missing = [n for n in TEST_FILES if not (folder / n).is_file()]
    if missing:
        pytest.skip(f"MNIST test files {missing} not found in {folder}")
    return folder


@pytest.fixture(scope="module")
def real_test_split(real_mnist):
    return load_mnist("test", root=real_mnist, download=False)


@pytest.fixture
def server():
    """A local HTTP server: ``routes[path] = (body, declared Content-Length)``; ``requests`` logs the paths."""
    routes: dict[str, tuple[bytes, int]] = {}
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            if self.path not in routes:
                self.send_error(404)
                return
            body, declared = routes[self.path]
            self.send_response(200)
            self.send_header("Content-Length", str(declared))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield routes, requests, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def serve_mirrors(routes, url, real_mnist):
    """Four bad mirrors (missing, corrupt, truncated, lying about its length) then a good one."""
    for name in TEST_FILES:
        good = (real_mnist / name).read_bytes()
        corrupt = bytearray(gzip.decompress(good))
        corrupt[-1] ^= 0x01  # still a well-formed IDX file, with the wrong content
        corrupt = gzip.compress(bytes(corrupt), compresslevel=1)
        routes[f"/corrupt/{name}"] = (corrupt, len(corrupt))
        routes[f"/truncated/{name}"] = (good[: len(good) // 2], len(good) // 2)
        routes[f"/lying/{name}"] = (good[: len(good) // 2], len(good))
        routes[f"/good/{name}"] = (good, len(good))
    return [f"{url}/{m}/" for m in ("missing", "corrupt", "truncated", "lying", "good")]


def test_mirrors_are_tried_in_order_until_one_delivers_a_verified_copy(server, real_mnist, real_test_split, tmp_path):
    routes, requests, url = server
    mirrors = serve_mirrors(routes, url, real_mnist)
    images, labels = load_mnist("test", root=tmp_path, mirrors=mirrors)
    np.testing.assert_array_equal(images, real_test_split[0])
    np.testing.assert_array_equal(labels, real_test_split[1])
    assert requests == [f"/{m}/{n}" for n in TEST_FILES for m in ("missing", "corrupt", "truncated", "lying", "good")]
    # Downloads land in <root>/mnist/, byte-identical to the good copy, with no temporary files left.
    assert sorted(os.listdir(tmp_path / "mnist")) == sorted(TEST_FILES)
    for name in TEST_FILES:
        assert (tmp_path / "mnist" / name).read_bytes() == (real_mnist / name).read_bytes()
    # A second load finds the files and asks no mirror.
    load_mnist("test", root=tmp_path, mirrors=mirrors)
    assert len(requests) == 10


def test_when_every_mirror_fails_nothing_is_written_and_each_failure_is_reported(server, real_mnist, tmp_path):
    routes, _, url = server
    mirrors = serve_mirrors(routes, url, real_mnist)[:4]
    with pytest.raises(DataError) as info:
        load_mnist("test", root=tmp_path, mirrors=mirrors)
    message = str(info.value)
    assert "MNIST: could not download t10k-images-idx3-ubyte.gz; tried:" in message
    assert f"{url}/missing/t10k-images-idx3-ubyte.gz: HTTP Error 404" in message
    assert f"{url}/corrupt/t10k-images-idx3-ubyte.gz: " in message and "checksum mismatch" in message
    assert f"{url}/truncated/t10k-images-idx3-ubyte.gz: " in message and "truncated gzip" in message
    assert f"{url}/lying/t10k-images-idx3-ubyte.gz: " in message
    assert "Offline? Put the MNIST files" in message
    assert os.listdir(tmp_path / "mnist") == []


def test_a_file_url_mirror_works(real_mnist, real_test_split, tmp_path):
    images, labels = load_mnist("test", root=tmp_path, mirrors=[real_mnist.as_uri()])
    np.testing.assert_array_equal(labels, real_test_split[1])
    assert sorted(os.listdir(tmp_path / "mnist")) == sorted(TEST_FILES)


def test_a_flipped_byte_in_a_cached_file_is_reported_and_never_used(real_mnist, tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    (folder / TEST_FILES[0]).write_bytes((real_mnist / TEST_FILES[0]).read_bytes())
    raw = bytearray(gzip.decompress((real_mnist / TEST_FILES[1]).read_bytes()))
    raw[8 + 17] = (raw[8 + 17] + 1) % 10  # one label changed: the structure stays valid
    (folder / "t10k-labels-idx1-ubyte").write_bytes(bytes(raw))
    with pytest.raises(DataError) as info:
        load_mnist("test", root=tmp_path, download=False)
    message = str(info.value)
    assert str(folder / "t10k-labels-idx1-ubyte") in message
    assert "checksum mismatch: SHA-256 of the decompressed content is " in message
    assert "expected ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2" in message


def test_a_bad_cached_file_is_fetched_again_when_download_is_allowed(real_mnist, real_test_split, tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    (folder / TEST_FILES[0]).write_bytes((real_mnist / TEST_FILES[0]).read_bytes())
    raw = bytearray(gzip.decompress((real_mnist / TEST_FILES[1]).read_bytes()))
    raw[-1] ^= 0x01
    (folder / "t10k-labels-idx1-ubyte").write_bytes(bytes(raw))
    with pytest.warns(RuntimeWarning, match=r"t10k-labels-idx1-ubyte: checksum mismatch.*fetching it again"):
        _, labels = load_mnist("test", root=tmp_path, mirrors=[real_mnist.as_uri()])
    np.testing.assert_array_equal(labels, real_test_split[1])
    assert sorted(os.listdir(folder)) == sorted(TEST_FILES)  # the rejected raw copy is gone


def test_recompressed_and_raw_copies_are_accepted(real_mnist, real_test_split, tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    images = gzip.decompress((real_mnist / TEST_FILES[0]).read_bytes())
    recompressed = gzip.compress(images, compresslevel=1, mtime=0)
    assert recompressed != (real_mnist / TEST_FILES[0]).read_bytes()
    (folder / TEST_FILES[0]).write_bytes(recompressed)
    (folder / "t10k-labels-idx1-ubyte").write_bytes(gzip.decompress((real_mnist / TEST_FILES[1]).read_bytes()))
    x, y = load_mnist("test", root=tmp_path, download=False)
    np.testing.assert_array_equal(x, real_test_split[0])
    np.testing.assert_array_equal(y, real_test_split[1])


def test_offline_without_files_says_where_to_put_them(tmp_path):
    with pytest.raises(DataError) as info:
        load_mnist("train", root=tmp_path, download=False)
    message = str(info.value)
    assert message.startswith("MNIST: train-images-idx3-ubyte.gz not found.")
    assert "Put the MNIST files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, " in message
    assert f"t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) in {tmp_path / 'mnist'}" in message
    assert "or set MINIGAN_DATA to a folder whose 'mnist/' subfolder holds them" in message


def test_offline_with_download_allowed_reports_the_mirrors_and_where_to_put_files(tmp_path):
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    with pytest.raises(DataError) as info:
        load_mnist("train", root=tmp_path / "data", mirrors=[empty.as_uri()])
    message = str(info.value)
    assert f"{empty.as_uri()}/train-images-idx3-ubyte.gz: " in message
    assert "Put the MNIST files" in message and "MINIGAN_DATA" in message


def test_a_leftover_partial_download_is_never_loaded(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    (folder / ".train-images-idx3-ubyte.gz.k1ll3d.part").write_bytes(b"\x1f\x8b half a file")
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz not found"):
        load_mnist("train", root=tmp_path, download=False)


def test_atomic_path_leaves_nothing_when_the_writer_fails(tmp_path):
    final = tmp_path / "sub" / "file.bin"
    with pytest.raises(RuntimeError), atomic_path(final) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed")
    assert os.listdir(tmp_path / "sub") == []
    with atomic_path(final) as tmp:
        tmp.write_bytes(b"whole")
    assert final.read_bytes() == b"whole" and os.listdir(tmp_path / "sub") == ["file.bin"]


def test_search_order_root_then_environment_then_user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "env"))
    assert search_dirs("mnist", tmp_path / "root") == [tmp_path / "root" / "mnist", tmp_path / "root"]
    assert search_dirs("mnist") == [tmp_path / "env" / "mnist", tmp_path / "env"]
    monkeypatch.delenv("MINIGAN_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert search_dirs("mnist") == [tmp_path / "xdg" / "minigan" / "mnist"]
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert search_dirs("mnist") == [tmp_path / "home" / ".cache" / "minigan" / "mnist"]


def test_files_directly_in_the_environment_folder_are_found(real_mnist, real_test_split, tmp_path, monkeypatch):
    for name in TEST_FILES:
        (tmp_path / name).write_bytes((real_mnist / name).read_bytes())
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path))
    _, labels = load_mnist("test", download=False)
    np.testing.assert_array_equal(labels, real_test_split[1])
