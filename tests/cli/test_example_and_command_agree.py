"""``python -m minigan train mnist_dcgan`` and ``python examples/mnist_dcgan.py`` train the same run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--preset", "fast", "--epochs", "1", "--limit", "256", "--width", "0.25", "--no-progress"]


def train(*argv: str, cwd: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, *argv, *TINY, "--out", "run"], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(not os.environ.get("MINIGAN_DATA"), reason="MINIGAN_DATA is unset: this test trains on real MNIST")
def test_the_command_and_the_example_script_draw_the_same_sample_grid(tmp_path):
    (tmp_path / "command").mkdir()
    (tmp_path / "example").mkdir()
    train("-m", "minigan", "train", "mnist_dcgan", cwd=tmp_path / "command")
    train(str(ROOT / "examples" / "mnist_dcgan.py"), cwd=tmp_path / "example")
    command, example = tmp_path / "command" / "run" / "samples", tmp_path / "example" / "run" / "samples"
    grids = sorted(p.name for p in command.glob("*.png"))
    assert grids == sorted(p.name for p in example.glob("*.png")) and "epoch_001.png" in grids
    for name in grids:
        assert (command / name).read_bytes() == (example / name).read_bytes(), name
    assert np.ptp(np.asarray(Image.open(command / "epoch_001.png"))) > 0  # a drawn grid, not a blank image
