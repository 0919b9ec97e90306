"""A training run survives what happens to runs: SIGTERM, SIGKILL, a second run on its folder, a bad image,
a full disk. Each through the command line, as a user meets it."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from minigan.cli import train as cli_args
from minigan.cli.recipes import RECIPES
from minigan.training import checkpoint

ROOT = Path(__file__).resolve().parents[2]
DATA = os.environ.get("MINIGAN_DATA")
needs_mnist = pytest.mark.skipif(not DATA, reason="MINIGAN_DATA is unset: these tests train on real MNIST images")
TINY = ["--width", "0.0625", "--latent-dim", "8", "--batch-size", "16", "--limit", "256", "--no-progress"]


def start(out: Path, *extra: str) -> subprocess.Popen:
    """examples/mnist_dcgan.py in its own process, as a user starts it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "mnist_dcgan.py"), *TINY, "--data-dir", str(Path(DATA) / "mnist"),
         "--out", str(out), *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_for(path: Path, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


@needs_mnist
def test_sigterm_checkpoints_and_exits_143_and_a_second_run_on_the_folder_is_refused(tmp_path):
    out = tmp_path / "run"
    first = start(out, "--epochs", "500")
    wait_for(out / "samples" / "epoch_001.png", first)
    second = start(out, "--epochs", "1")
    _, err = second.communicate(timeout=60)
    assert second.returncode == 2
    assert err.count("\n") == 1 and f"process {first.pid}" in err and "Traceback" not in err

    first.send_signal(signal.SIGTERM)
    stdout, stderr = first.communicate(timeout=60)
    assert first.returncode == 143 and "Traceback" not in stderr
    step = checkpoint.load(out / "checkpoint.npz").meta["step"]
    assert step >= 16 and f"checkpoint of step {step}" in stdout
    assert not (out / "minigan.lock").exists()


def final_state(out: Path) -> dict[str, np.ndarray]:
    ckpt = checkpoint.load(out / "checkpoint.npz")
    state = {k: v for k, v in ckpt.arrays.items() if k != "array/history"}
    state["history"] = ckpt.array("history")[:, :6]  # images/s is a measurement, not state
    state["rng"] = np.asarray(repr(ckpt.meta["rng_state"]))
    state["step"] = np.asarray(ckpt.meta["step"])
    return state


def wait_for_a_new_checkpoint(ckpt: Path, after: int, process: subprocess.Popen) -> bool:
    """Wait until ``ckpt`` holds a step beyond ``after``; False if the process ended first."""
    seen = None
    while process.poll() is None:
        stamp = ckpt.stat().st_mtime_ns if ckpt.exists() else None
        if stamp != seen and stamp is not None:
            seen = stamp
            if checkpoint.load(ckpt).meta["step"] > after:
                return True
        time.sleep(0.01)
    return False


@needs_mnist
@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_ends_bit_identical_to_an_uninterrupted_run(tmp_path):
    budget = ["--epochs", "4", "--checkpoint-every", "5"]  # 16 steps an epoch, 64 in all
    straight = start(tmp_path / "straight", *budget)
    assert straight.wait(timeout=300) == 0

    out, chooser, kills = tmp_path / "killed", random.Random(17), []
    ckpt = out / "checkpoint.npz"
    while len(kills) < 4:  # each run is killed at a random moment after its first new checkpoint
        run = start(out, *budget, *(["--resume", str(ckpt)] if ckpt.exists() else []))
        if not wait_for_a_new_checkpoint(ckpt, kills[-1] if kills else 0, run):
            break
        time.sleep(chooser.uniform(0.0, 0.3))
        run.kill()
        run.wait()
        kills.append(checkpoint.load(ckpt).meta["step"])
    final = start(out, *budget, "--resume", str(ckpt))
    assert final.wait(timeout=300) == 0, final.communicate()
    assert len(kills) == 4 and kills[-1] < 64, f"the kills did not land mid-run: {kills}"
    print(f"SIGKILLs after the checkpoints of steps {kills}")
    a, b = final_state(tmp_path / "straight"), final_state(out)
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key], b[key]), key


def test_a_folder_with_an_image_that_cannot_be_decoded_trains_and_strict_refuses_it(tmp_path, capsys):
    folder = tmp_path / "faces"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    (folder / "3b.png").write_bytes(b"not an image at all")
    argv = ["--data", "folder", str(folder), "--size", "32", "--width", "0.0625", "--batch-size", "7",
            "--epochs", "2", "--no-progress"]  # one step an epoch reads all 7 files
    assert cli_args.main(RECIPES["dcgan_images"], [*argv, "--out", str(tmp_path / "run")]) == 0
    captured = capsys.readouterr()
    both = captured.out + captured.err
    assert "3b.png" in both and "epoch 1: 1 image(s) could not be decoded" in both and "Traceback" not in both
    assert checkpoint.load(tmp_path / "run" / "checkpoint.npz").meta["step"] == 2
    assert sum("3b.png" in line for line in both.splitlines()) == 2  # warned when first read, reported once

    assert cli_args.main(RECIPES["dcgan_images"], [*argv, "--strict", "--out", str(tmp_path / "strict")]) == 2
    err = capsys.readouterr().err
    assert "3b.png" in err and "Traceback" not in err and not (tmp_path / "strict" / "checkpoint.npz").exists()


def test_a_checkpoint_write_that_fails_keeps_the_previous_one_and_ends_in_one_line(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "faces"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(6):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    argv = ["--data", "folder", str(folder), "--size", "32", "--width", "0.0625", "--batch-size", "3",
            "--no-progress", "--out", str(tmp_path / "run")]
    assert cli_args.main(RECIPES["dcgan_images"], [*argv, "--epochs", "1"]) == 0
    before = (tmp_path / "run" / "checkpoint.npz").read_bytes()

    def disk_full(*args, **kwargs):
        raise checkpoint.CheckpointError(f"checkpoint {tmp_path}/run/checkpoint.npz: writing failed (No space left)")

    monkeypatch.setattr(checkpoint, "save", disk_full)
    capsys.readouterr()
    resume = ["--resume", str(tmp_path / "run" / "checkpoint.npz"), "--epochs", "2"]
    assert cli_args.main(RECIPES["dcgan_images"], [*argv, *resume]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left" in err
    assert (tmp_path / "run" / "checkpoint.npz").read_bytes() == before
