"""Checkpoint files: round trip, atomic writes, and clear errors for files that do not fit."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from minigan import checkpoint, models, optim


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


@pytest.mark.parametrize(
    "content, message",
    [(b"not a zip", "not a readable .npz"), (None, "no such file")],
)
def test_unreadable_or_missing_files_raise_checkpoint_errors(tmp_path, content, message):
    path = tmp_path / "x.npz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(checkpoint.CheckpointError, match=message):
        checkpoint.load(path)


def test_a_write_failing_halfway_leaves_the_previous_checkpoint_and_no_temporary_file(tmp_path, monkeypatch):
    generator, opt = trained_pair()
    path = tmp_path / "ckpt.npz"
    checkpoint.save(path, {"generator": generator}, {}, {"step": 1})

    def crash_halfway(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash_halfway)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.save(path, {"generator": generator}, {}, {"step": 2})
    monkeypatch.undo()
    assert checkpoint.load(path).meta["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]


def test_written_files_get_the_usual_permissions_not_the_temporary_files_0600(tmp_path):
    mask = os.umask(0o022)
    try:
        checkpoint.save(tmp_path / "ckpt.npz", {}, {}, {})
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "ckpt.npz").stat().st_mode) == 0o644
