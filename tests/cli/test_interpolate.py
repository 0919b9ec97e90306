"""Latent interpolation: lerp and slerp, and ``python -m minigan interpolate``."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from minigan import models
from minigan.cli import main as minigan_main
from minigan.cli.latent import lerp, slerp
from minigan.training import TrainConfig, Trainer, build_gan, default_callbacks


def test_lerp_runs_from_z1_to_z2_in_a_straight_line():
    z1, z2 = np.array([[0.0, 2.0]]), np.array([[4.0, -2.0]])
    path = lerp(z1, z2, np.array([0.0, 0.25, 1.0]))
    np.testing.assert_allclose(path[0], [[0, 2], [1, 1], [4, -2]])


def test_slerp_keeps_the_norm_between_orthogonal_unit_vectors_and_hits_both_ends():
    z1, z2 = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    path = slerp(z1, z2, np.linspace(0, 1, 5))
    np.testing.assert_allclose(path[0, [0, -1]], [[1, 0], [0, 1]], atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(path[0], axis=1), 1.0)
    np.testing.assert_allclose(path[0, 2], [np.sqrt(0.5), np.sqrt(0.5)])  # lerp's midpoint would have norm 0.71


def test_slerp_of_parallel_vectors_falls_back_to_lerp():
    z1 = np.array([[1.0, 2.0]], np.float32)
    path = slerp(z1, 3 * z1, np.array([0.5]))
    assert path.dtype == np.float32
    np.testing.assert_allclose(path[0, 0], [2.0, 4.0])


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    config = TrainConfig(generator=models.spec("dcgan_generator", latent_dim=8, width=1 / 32),
                         discriminator=models.spec("dcgan_discriminator", width=1 / 16),
                         latent_dim=8, epochs=1, batch_size=16)
    images = np.tanh(np.random.default_rng(0).standard_normal((16, 28, 28, 1))).astype(np.float32)
    Trainer(build_gan(config), images, config, out_dir=out, log=lambda line: None,
            callbacks=default_callbacks(config, out, images, progress=False)).fit()
    return out / "checkpoint.npz"


def tiles(path, rows, steps):
    grid = np.asarray(Image.open(path))
    assert grid.shape == (rows * 30 + 2, steps * 30 + 2)
    return [[grid[2 + r * 30:r * 30 + 30, 2 + c * 30:c * 30 + 30] for c in range(steps)] for r in range(rows)]


def test_interpolate_rows_share_their_ends_between_lerp_and_slerp_and_differ_inside(ckpt, tmp_path):
    for kind in ("lerp", "slerp"):
        argv = ["interpolate", str(ckpt), "--rows", "3", "--steps", "5", "--seed", "4", "--out", str(tmp_path / kind)]
        assert minigan_main([*argv, "--slerp"] if kind == "slerp" else argv) == 0
    straight, spherical = tiles(tmp_path / "lerp", 3, 5), tiles(tmp_path / "slerp", 3, 5)
    for row in range(3):
        np.testing.assert_array_equal(straight[row][0], spherical[row][0])
        np.testing.assert_array_equal(straight[row][4], spherical[row][4])
        assert not np.array_equal(straight[row][2], spherical[row][2])
    assert not np.array_equal(straight[0][0], straight[0][4])


def test_interpolate_with_a_label_on_an_unconditional_checkpoint_is_one_error(ckpt, tmp_path, capsys):
    assert minigan_main(["interpolate", str(ckpt), "--label", "3", "--out", str(tmp_path / "x.png")]) == 2
    assert "unconditional" in capsys.readouterr().err
