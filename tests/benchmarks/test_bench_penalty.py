"""benchmarks/bench_penalty.py runs end to end: one row per critic with the plain step, the penalized
step, the penalty alone and their ratio (no timing is asserted: speed is measured by the benchmark)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_penalty_prints_one_row_per_critic_with_its_parameter_count() -> None:
    command = [sys.executable, "benchmarks/bench_penalty.py", "--batch", "2", "--steps", "1", "--warmup", "0",
               "--threads", "1", "--clock", "cpu"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[2:] if line.split()}
    # Gulrajani et al.'s MNIST critic: 5x5 convolutions 1 -> 64 -> 128 -> 256 (with biases), Dense 4*4*256 -> 1.
    wgan_gp = (25 * 1 * 64 + 64) + (25 * 64 * 128 + 128) + (25 * 128 * 256 + 256) + (4 * 4 * 256 + 1)
    assert set(rows) == {"wgan_gp", "sngan", "dcgan"}
    assert rows["wgan_gp"][1] == rows["sngan"][1] == f"{wgan_gp:,}"
    for row in rows.values():
        plain, penalized, penalty, ratio = map(float, row[2:])
        assert min(plain, penalized, penalty, ratio) > 0


def test_bench_penalty_refuses_an_unknown_critic() -> None:
    command = [sys.executable, "benchmarks/bench_penalty.py", "--critics", "wgan_gp,resnet", "--steps", "1"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0 and "unknown critics ['resnet']" in result.stderr
