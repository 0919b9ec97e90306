"""Checkpoint files: round trip, atomic writes, integrity checks, and clear errors for files that do not fit."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import zipfile

import numpy as np
import pytest

from minigan import models, optim
from minigan.training import checkpoint


def trained_pair(width: float = 1 / 32):
    generator = models.dcgan_generator(latent_dim=4, width=width)
    opt = optim.Adam(generator, 1e-3)
    z = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    generator.backward(np.ones_like(generator.forward(z)))
    opt.step()
    return generator, opt


def test_round_trip_restores_params_state_optimizer_meta_and_arrays(tmp_path):
    generator, opt = trained_pair()
    path = tmp_path / "ckpt.npz"
    checkpoint.save(path, {"generator": generator}, {"generator": opt}, {"step": 7}, {"history": np.arange(6.0)})

    fresh = models.dcgan_generator(latent_dim=4, width=1 / 32)
    fresh_opt = optim.Adam(fresh, 1e-3)
    loaded = checkpoint.load(path)
    loaded.restore_model("generator", fresh)
    loaded.restore_optimizer("generator", fresh_opt)

    for kind in ("params", "state"):
        for key, value in getattr(generator, kind).items():
            np.testing.assert_array_equal(getattr(fresh, kind)[key], value)
    assert fresh.state["batch_normalization/moving_mean"].any()  # the moving statistics moved and came back
    assert fresh_opt.t == 1
    for slot in ("m", "v"):
        for key, value in opt.slots[slot].items():
            np.testing.assert_array_equal(fresh_opt.slots[slot][key], value)
    assert loaded.meta["step"] == 7
    np.testing.assert_array_equal(loaded.array("history"), np.arange(6.0))


def test_another_architecture_is_refused_naming_the_parameter_and_shapes(tmp_path):
    generator, opt = trained_pair(width=1 / 32)
    path = tmp_path / "ckpt.npz"
    checkpoint.save(path, {"generator": generator}, {"generator": opt}, {})
    wider = models.dcgan_generator(latent_dim=4, width=1 / 16)
    with pytest.raises(checkpoint.CheckpointError, match=r"'dense/kernel' has shape \(4, 392\) in the file, "
                                                           r"the model expects \(4, 784\)"):
        checkpoint.load(path).restore_model("generator", wider)


def test_a_model_with_other_layers_is_refused_naming_missing_keys(tmp_path):
    generator, opt = trained_pair()
    path = tmp_path / "ckpt.npz"
    checkpoint.save(path, {"generator": generator}, {}, {})
    with pytest.raises(checkpoint.CheckpointError, match="another architecture.*missing in the file"):
        checkpoint.load(path).restore_model("generator", models.dcgan_discriminator(width=1 / 16))


def npy(array) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array))
    return buffer.getvalue()


def members_of(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename.removesuffix(".npy"): archive.read(info) for info in archive.infolist()}


def rewrite(path, members: dict[str, bytes]) -> None:
    """Write ``members`` as a well-formed zip (fresh CRC-32s): only minigan's own checks can object."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(f"{name}.npy", data)


def with_meta(members: dict[str, bytes], value) -> dict[str, bytes]:
    """``members`` with the metadata replaced by ``value`` (a JSON text) and its digest made to match."""
    meta = npy(np.asarray(value))
    return {**members, "meta": meta, "meta.sha256": npy(np.asarray(hashlib.sha256(meta).hexdigest()))}


KERNEL = "model/generator/params/dense/kernel"


def with_broken_entry(members: dict[str, bytes]) -> dict[str, bytes]:
    """``members`` whose metadata gives the kernel's checksum entry no dtype (digests made to match)."""
    meta = json.loads(str(np.load(io.BytesIO(members["meta"]))))
    del meta["checksums"][KERNEL]["dtype"]
    return with_meta(members, json.dumps(meta))


@pytest.fixture
def saved(tmp_path):
    generator, opt = trained_pair()
    path = tmp_path / "ckpt.npz"
    checkpoint.save(path, {"generator": generator}, {"generator": opt}, {"step": 7}, {"history": np.arange(6.0)})
    return path


DAMAGE = {
    "truncated": (lambda path, m: path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2]),
                  r"not a readable .npz file, truncated or corrupt \(File is not a zip file\)"),
    "a byte flipped": (lambda path, m: path.write_bytes(flip(path.read_bytes(), len(path.read_bytes()) // 3)),
                       r"not a readable .npz file, truncated or corrupt \(Bad CRC-32"),
    "an array changed, zip CRC intact": (
        lambda path, m: rewrite(path, {**m, KERNEL: flip(m[KERNEL], len(m[KERNEL]) - 1)}),
        rf"array '{KERNEL}' fails its SHA-256 check \(the file is corrupt\)"),
    "a member missing": (lambda path, m: rewrite(path, {k: v for k, v in m.items() if k != KERNEL}),
                         rf"member '{KERNEL}' is missing \(1 missing in all\)"),
    "an unlisted member": (lambda path, m: rewrite(path, {**m, "array/extra": npy(np.zeros(2))}),
                           r"member 'array/extra' is not listed in the metadata"),
    "an array of another shape": (lambda path, m: rewrite(path, {**m, KERNEL: npy(np.zeros((2, 3), np.float32))}),
                                  rf"array '{KERNEL}' is float32 shaped \(2, 3\), the metadata says float32 "
                                  r"shaped \(4, 392\)"),
    "an array of another dtype": (lambda path, m: rewrite(path, {**m, KERNEL: npy(np.zeros((4, 392)))}),
                                  rf"array '{KERNEL}' is float64 shaped \(4, 392\), the metadata says float32"),
    "an array that is not .npy": (lambda path, m: rewrite(path, {**m, KERNEL: b"\x93NUMPY junk"}),
                                  rf"member '{KERNEL}' is not a readable array"),
    "metadata changed": (lambda path, m: rewrite(path, {**m, "meta": npy(np.asarray('{"step": 8}'))}),
                         r"the metadata fails its SHA-256 check \(the file is corrupt\)"),
    "metadata not JSON": (lambda path, m: rewrite(path, with_meta(m, "{step: 7")),
                          r"the metadata is not valid JSON \(Expecting property name"),
    "metadata not text": (lambda path, m: rewrite(path, with_meta(m, np.zeros(3))),
                          r"member 'meta' holds float64 shaped \(3,\), not text"),
    "a checksum entry malformed": (lambda path, m: rewrite(path, with_broken_entry(m)),
                                   rf"the metadata's entry for '{KERNEL}' is malformed"),
    "metadata digest missing": (lambda path, m: rewrite(path, {k: v for k, v in m.items() if k != "meta.sha256"}),
                                r"member 'meta.sha256' is missing"),
    "a newer format version": (
        lambda path, m: rewrite(path, with_meta(m, json.dumps({"format": "minigan-checkpoint", "version": 3}))),
        r"written by a newer minigan \(format version 3\); this one reads versions 1 to 2: upgrade minigan"),
    "another program's .npz": (lambda path, m: np.savez(path, kernel=np.zeros(3)),
                               r"expected a minigan checkpoint, found no minigan metadata"),
    "random bytes": (lambda path, m: path.write_bytes(np.random.default_rng(0).bytes(3000)),
                     r"not a readable .npz file, truncated or corrupt \(File is not a zip file\)"),
    "a pickle": (lambda path, m: path.write_bytes(b"\x80\x04\x95" + bytes(40)),
                 r"not a readable .npz file, truncated or corrupt \(File is not a zip file\)"),
}


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_every_kind_of_damage_is_one_checkpoint_error_naming_the_file_and_the_fault(saved, damage):
    spoil, message = DAMAGE[damage]
    spoil(saved, members_of(saved))
    with pytest.raises(checkpoint.CheckpointError) as error:
        checkpoint.load(saved)
    text = str(error.value)
    assert text.startswith(f"checkpoint {saved}: ") and "\n" not in text
    assert "allow_pickle" not in text
    assert re.search(message, text), text


def test_a_missing_file_is_a_checkpoint_error(tmp_path):
    with pytest.raises(checkpoint.CheckpointError, match=r"x.npz: no such file"):
        checkpoint.load(tmp_path / "x.npz")


def save_version_1(path, model, step: int) -> None:
    """What ``checkpoint.save`` wrote before checksums (format version 1): plain ``np.savez``."""
    content = {f"model/generator/params/{key}": value for key, value in model.params.items()}
    content |= {f"model/generator/state/{key}": value for key, value in model.state.items()}
    meta = json.dumps({"format": "minigan-checkpoint", "version": 1, "step": step})
    np.savez(path, meta=np.asarray(meta), **content)


def test_a_version_1_checkpoint_without_checksums_still_loads(tmp_path):
    generator, _ = trained_pair()
    save_version_1(tmp_path / "old.npz", generator, step=5)
    loaded = checkpoint.load(tmp_path / "old.npz")
    fresh = models.dcgan_generator(latent_dim=4, width=1 / 32)
    loaded.restore_model("generator", fresh)
    assert loaded.meta["step"] == 5
    for key, value in generator.params.items():
        np.testing.assert_array_equal(fresh.params[key], value)


def test_the_checksums_are_kept_out_of_the_loaded_metadata(saved):
    meta = checkpoint.load(saved).meta
    assert meta == {"step": 7, "format": "minigan-checkpoint", "version": 2}


class DiskFull(io.FileIO):
    """A file that accepts ``limit`` bytes, then fails as a full disk does."""

    def __init__(self, path, mode, limit: int):
        super().__init__(path, mode)
        self.room = limit

    def write(self, data) -> int:
        if len(data) > self.room:
            super().write(bytes(data)[: self.room])
            self.room = 0
            raise OSError(28, "No space left on device")
        self.room -= len(data)
        return super().write(data)


@pytest.mark.parametrize("fraction", [0.0, 0.01, 0.5, 0.999])
def test_a_write_failing_halfway_leaves_the_previous_checkpoint_and_no_temporary_file(saved, monkeypatch, fraction):
    size = saved.stat().st_size
    generator, opt = trained_pair()
    room = int(fraction * size)
    monkeypatch.setattr(checkpoint, "open", lambda path, mode: io.BufferedWriter(DiskFull(path, mode, room)),
                        raising=False)
    with pytest.raises(checkpoint.CheckpointError, match=r"ckpt.npz: writing failed \(No space left on device\); "
                                                         r"the file on disk is unchanged"):
        checkpoint.save(saved, {"generator": generator}, {"generator": opt}, {"step": 8})
    monkeypatch.undo()
    assert checkpoint.load(saved).meta["step"] == 7
    assert [p.name for p in saved.parent.iterdir()] == ["ckpt.npz"]


def test_written_files_get_the_usual_permissions_not_the_temporary_files_0600(tmp_path):
    mask = os.umask(0o022)
    try:
        checkpoint.save(tmp_path / "ckpt.npz", {}, {}, {})
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "ckpt.npz").stat().st_mode) == 0o644
