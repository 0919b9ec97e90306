"""examples/mnist_dcgan.py: options and presets, one clear error per bad argument, a tiny real run."""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest

from minigan.cli import main as minigan_main
from minigan.cli import train as cli_args
from minigan.cli.recipes import RECIPES
from minigan.training import checkpoint

DATA = os.environ.get("MINIGAN_DATA")
needs_mnist = pytest.mark.skipif(not DATA, reason="MINIGAN_DATA is unset: this test trains on real MNIST images")


@pytest.fixture(scope="module")
def example():
    """What examples/mnist_dcgan.py runs: the recipe's command line."""
    recipe = RECIPES["mnist_dcgan"]
    return SimpleNamespace(
        main=lambda argv: cli_args.main(recipe, argv), build_parser=lambda: cli_args.build_parser(recipe),
        resolve=lambda args, stored: cli_args.resolve(recipe, args, stored), train_config=recipe.config,
        DEFAULTS=recipe.all_defaults(),
    )


def options(example, argv, stored=None):
    return example.resolve(example.build_parser().parse_args(argv), stored)


def test_no_arguments_is_the_tutorial(example):
    o = options(example, [])
    assert (o["epochs"], o["batch_size"], o["lr"], o["beta1"], o["latent_dim"]) == (50, 256, 1e-4, 0.9, 100)
    config = example.train_config(o)
    assert (config.lr_g, config.lr_d, config.loss) == (1e-4, 1e-4, "non-saturating")


def test_fast_preset_sets_radford_settings_and_explicit_flags_override_it(example):
    assert options(example, ["--preset", "fast"])["lr"] == 1e-3
    o = options(example, ["--preset", "fast", "--lr", "3e-4", "--lr-d", "5e-4"])
    assert (o["batch_size"], o["beta1"], o["lr"]) == (64, 0.5, 3e-4)
    assert (o["epochs"], o["lr_schedule"], o["ema"]) == (3, "linear", 0.99)
    config = example.train_config(o)
    assert (config.lr_g, config.lr_d) == (3e-4, 5e-4)


def test_resume_takes_the_checkpoints_settings_and_folder_and_flags_still_override(example):
    stored = dict(example.DEFAULTS, batch_size=64, width=0.5, epochs=2, out="elsewhere")
    o = options(example, ["--resume", "runs/a/checkpoint.npz", "--epochs", "5"], stored)
    assert (o["batch_size"], o["width"], o["epochs"], o["out"]) == (64, 0.5, 5, "runs/a")


def run_example(example, argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        example.main(argv)
    return exit_info.value.code, capsys.readouterr().err


def test_batch_size_zero_is_one_argparse_error(example, capsys):
    code, err = run_example(example, ["--batch-size", "0"], capsys)
    assert code == 2
    assert "argument --batch-size: expected a value >= 1, got '0'" in err and "Traceback" not in err


def test_missing_data_folder_is_one_error(example, tmp_path, capsys):
    code, err = run_example(example, ["--data-dir", str(tmp_path / "nowhere")], capsys)
    assert code == 2
    assert "argument --data-dir: no such folder" in err and "nowhere" in err


def test_resume_from_a_file_that_is_not_a_checkpoint_is_one_error(example, tmp_path, capsys):
    bogus = tmp_path / "model.npz"
    np.savez(bogus, w=np.zeros(2))
    assert example.main(["--resume", str(bogus)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "expected a minigan checkpoint" in err


@needs_mnist
def test_tiny_mnist_run_writes_outputs_samples_resumes_and_refuses_another_architecture(example, tmp_path, capsys):
    out = tmp_path / "run"
    tiny = ["--width", "0.0625", "--latent-dim", "8", "--batch-size", "32", "--limit", "128", "--no-progress"]
    assert example.main([*tiny, "--epochs", "1", "--out", str(out), "--data-dir", DATA]) == 0
    for name in ("samples/epoch_001.png", "samples.gif", "losses.png", "history.csv", "checkpoint.npz"):
        assert (out / name).is_file(), name
    ckpt = out / "checkpoint.npz"
    assert checkpoint.load(ckpt).meta["step"] == 4

    npy = tmp_path / "samples.npy"
    assert minigan_main(["sample", str(ckpt), "-n", "6", "--npy", str(npy)]) == 0
    samples = np.load(npy)
    assert samples.shape == (6, 28, 28, 1) and -1 <= samples.min() and samples.max() <= 1

    capsys.readouterr()
    assert example.main(["--resume", str(ckpt), "--width", "0.125", "--data-dir", DATA, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "another architecture" in err

    assert example.main(["--resume", str(ckpt), "--epochs", "2", "--data-dir", DATA, "--no-progress"]) == 0
    assert checkpoint.load(ckpt).meta["step"] == 8
    assert "resuming at step 4" in capsys.readouterr().out
