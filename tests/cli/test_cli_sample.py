"""``python -m minigan sample``: a grid and an array from a training checkpoint."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from minigan import backend, models
from minigan.cli import main
from minigan.training import TrainConfig, Trainer, build_gan, default_callbacks


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny DCGAN trained for one epoch on noise images, checkpointed."""
    out = tmp_path_factory.mktemp("run")
    config = TrainConfig(
        generator=models.spec("dcgan_generator", latent_dim=8, width=1 / 32),
        discriminator=models.spec("dcgan_discriminator", width=1 / 16),
        epochs=1, batch_size=16, latent_dim=8, seed=1,
    )
    images = np.tanh(np.random.default_rng(0).standard_normal((32, 28, 28, 1))).astype(np.float32)
    trainer = Trainer(build_gan(config), images, config, out_dir=out, log=lambda line: None,
                      callbacks=default_callbacks(config, out, images, progress=False))
    trainer.fit()
    return trainer, out / "checkpoint.npz"


def test_sample_writes_the_trained_generators_images_as_npy_and_grid(trained, tmp_path, capsys):
    trainer, ckpt = trained
    grid, npy = tmp_path / "grid.png", tmp_path / "samples.npy"
    assert main(["sample", str(ckpt), "-n", "10", "--out", str(grid), "--npy", str(npy), "--seed", "7"]) == 0

    samples = np.load(npy)
    assert samples.shape == (10, 28, 28, 1) and samples.dtype == np.float32
    assert samples.min() >= -1 and samples.max() <= 1
    backend.seed(7)
    z = backend.rng().standard_normal((10, 8), dtype=np.float32)
    np.testing.assert_array_equal(samples, backend.as_numpy(trainer.gan.generate(z)))
    with Image.open(grid) as picture:
        assert picture.size == (4 * 30 + 2, 3 * 30 + 2)  # 10 samples: 4 columns, 3 rows of 28 + 2 px
    assert "wrote a grid of 10 samples" in capsys.readouterr().out


def test_sample_of_a_file_that_is_not_a_checkpoint_is_one_error_with_exit_code_2(tmp_path, capsys):
    bogus = tmp_path / "weights.npz"
    np.savez(bogus, kernel=np.zeros(3))
    assert main(["sample", str(bogus), "--out", str(tmp_path / "g.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "expected a minigan checkpoint" in err and "Traceback" not in err
    assert not (tmp_path / "g.png").exists()


def test_sample_refuses_zero_samples_with_an_argparse_error(trained, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", str(trained[1]), "-n", "0"])
    assert exit_info.value.code == 2
    assert "argument -n: expected a value >= 1, got '0'" in capsys.readouterr().err


def test_python_dash_m_minigan_runs_the_dispatcher():
    result = subprocess.run([sys.executable, "-m", "minigan", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "sample" in result.stdout
