"""Every command that reads a checkpoint, samples or a classifier: a damaged file is one line
on stderr and exit status 2, never a traceback (run as a user runs them, in a subprocess)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from minigan import models
from minigan.evaluate import SHIPPED
from minigan.training import checkpoint

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def truncated(tmp_path_factory) -> Path:
    """The first half of a real checkpoint of a small generator (a copy that stopped half-way)."""
    folder = tmp_path_factory.mktemp("damaged")
    spec = models.spec("dcgan_generator", latent_dim=8, width=1 / 32)
    whole = folder / "whole.npz"
    checkpoint.save(whole, {"generator": models.build(spec)}, {}, {"step": 1, "config": {"generator": spec}})
    half = folder / "checkpoint.npz"
    half.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    return half


def run(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", "MINIGAN_CACHE": str(cwd)}
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=120, cwd=cwd, env=env)


def assert_one_line_exit_2(result: subprocess.CompletedProcess, *expected: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "minigan", "sample"],
        ["-m", "minigan", "interpolate"],
        ["-m", "minigan", "evaluate"],
        [str(ROOT / "examples" / "mnist_dcgan.py"), "--resume"],
    ],
    ids=["sample", "interpolate", "evaluate", "mnist_dcgan --resume"],
)
def test_a_truncated_checkpoint_is_one_line_and_exit_status_2(truncated, command):
    result = run(*command, str(truncated), cwd=truncated.parent)
    assert_one_line_exit_2(result, f"checkpoint {truncated}: not a readable .npz file, truncated or corrupt")
    assert not list(truncated.parent.glob("*.png"))


def test_evaluate_of_a_truncated_npy_of_samples_is_one_line_without_numpys_pickle_advice(tmp_path):
    np.save(tmp_path / "whole.npy", np.zeros((10, 28, 28, 1), np.float32))
    cut = tmp_path / "samples.npy"
    cut.write_bytes((tmp_path / "whole.npy").read_bytes()[:1000])
    result = run("-m", "minigan", "evaluate", str(cut), cwd=tmp_path)
    assert_one_line_exit_2(result, f"{cut}: not a readable .npy array (truncated or corrupt)")
    assert "pickle" not in result.stderr


def test_a_truncated_evaluator_file_is_one_line_naming_the_command_that_rewrites_it(tmp_path):
    from minigan.evaluate.classifier import Classifier, build_model, save_classifier

    whole = save_classifier(Classifier(build_model()), tmp_path / "whole.npz")
    (tmp_path / "classifier.npz").write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    np.save(tmp_path / "samples.npy", np.zeros((10, 28, 28, 1), np.float32))
    result = run("-m", "minigan", "evaluate", str(tmp_path / "samples.npy"), "--evaluator",
                 str(tmp_path / "classifier.npz"), cwd=tmp_path)
    assert_one_line_exit_2(result, "classifier.npz: not a readable minigan classifier",
                           "train-classifier --force")


def test_a_changed_shipped_evaluator_is_one_line_from_the_hash_check(tmp_path):
    """A copy of the package whose MNIST weights have one bit flipped (still a readable archive or not)."""
    site = tmp_path / "site"
    shutil.copytree(ROOT / "minigan", site / "minigan", ignore=shutil.ignore_patterns("__pycache__"))
    weights = site / "minigan" / "evaluate" / "weights" / "mnist.npz"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 1
    weights.write_bytes(bytes(data))
    np.save(tmp_path / "samples.npy", np.zeros((10, 28, 28, 1), np.float32))
    env = {**os.environ, "PYTHONPATH": str(site), "MPLBACKEND": "Agg", "MINIGAN_CACHE": str(tmp_path)}

    result = subprocess.run([sys.executable, "-m", "minigan", "evaluate", "samples.npy"], capture_output=True,
                            text=True, timeout=120, cwd=tmp_path, env=env)

    pinned = SHIPPED["mnist"].sha256[:16]
    assert_one_line_exit_2(result, f"{weights}: SHA-256 ", f"is not the pinned {pinned}...",
                           "damaged or was changed; reinstall minigan")
