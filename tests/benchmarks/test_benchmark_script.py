"""benchmarks/bench_step.py runs end to end and counts the step's FLOPs from the layer shapes.

No timing is asserted (speed is measured by the benchmark, never by tests); this proves the
script still runs against the current layers, prints every section the performance report
quotes, and that its multiply-add count matches the DCGAN's shapes worked out by hand.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The tutorial DCGAN's forward multiply-adds per image, from its shapes:
G_MACS = 100 * 7 * 7 * 256 + 7 * 7 * 25 * 256 * 128 + 7 * 7 * 25 * 128 * 64 + 14 * 14 * 25 * 64 * 1
D_MACS = 14 * 14 * 25 * 1 * 64 + 7 * 7 * 25 * 64 * 128 + 7 * 7 * 128 * 1


def test_bench_step_prints_every_section_with_the_hand_counted_flops() -> None:
    command = [
        sys.executable, "benchmarks/bench_step.py", "--batches", "4", "--steps", "1", "--min-seconds", "0",
        "--warmup", "0", "--layer-repeats", "1", "--no-torch", "--gemm-size", "128",
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"forward multiply-adds per image: G {G_MACS / 1e6:.2f} M, D {D_MACS / 1e6:.2f} M" in out
    for section in ("float32 GEMM peak", "per-layer times at batch 4", "generator/conv2d_transpose ",
                    "discriminator/conv2d_1", "training step", "step / ideal", "peak memory"):
        assert section in out, section


# Radford et al.'s DCGAN on 32x32x3, from its shapes: Dense(4*4*512), then 4x4 stride-2 transposed
# convolutions 512 -> 256 -> 128 -> 3 on 4x4, 8x8 and 16x16 inputs; D the mirror, 3 -> 128 -> 256 -> 512.
RADFORD32_MACS = (100 * 4 * 4 * 512 + 4 * 4 * 16 * 512 * 256 + 8 * 8 * 16 * 256 * 128 + 16 * 16 * 16 * 128 * 3
                  + 16 * 16 * 16 * 3 * 128 + 8 * 8 * 16 * 128 * 256 + 4 * 4 * 16 * 256 * 512 + 4 * 4 * 512)


def test_bench_step_zoo_prints_one_row_per_model_with_the_hand_counted_radford_flops() -> None:
    command = [sys.executable, "benchmarks/bench_step.py", "--zoo", "--batches", "2", "--steps", "1",
               "--min-seconds", "0", "--warmup", "0", "--no-torch"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.split()}
    for model in ("dcgan", "mlp", "cgan", "cdcgan", "radford32", "radford64"):
        assert model in rows and rows[model][2] == "2", model  # model, G+D MMAC, batch, ...
    assert rows["radford32"][1] == f"{RADFORD32_MACS / 1e6:.2f}"
    assert rows["dcgan"][1] == f"{(G_MACS + D_MACS) / 1e6:.2f}"


def test_bench_step_zoo_pairs_adam_with_flat_adam_for_the_models_asked() -> None:
    command = [sys.executable, "benchmarks/bench_step.py", "--zoo", "--batches", "2", "--steps", "1",
               "--min-seconds", "0", "--warmup", "0", "--against", "flat-adam", "--models", "dcgan,cgan"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines() if line.split()]
    assert "FlatAdam ms" in result.stdout and "paired with FlatAdam" in result.stdout
    rows = {words[0]: words for words in lines if words[0] in ("dcgan", "mlp", "cgan", "cdcgan")}
    assert set(rows) == {"dcgan", "cgan"}
    assert all(len(words) == 8 and float(words[5]) > 0 for words in rows.values())  # ..., FlatAdam ms, ratio, MiB


def test_bench_conv_times_every_convolution_of_a_model_and_marks_the_one_auto_takes() -> None:
    command = [sys.executable, "benchmarks/bench_conv.py", "--model", "cdcgan", "--batch", "2", "--repeats", "1",
               "--algorithms", "reference,im2col,subpixel,winograd,whole_image"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()[1:]
    # G: the z and y branches (1x1 -> 7x7, whole image), 7x7 -> 14x14 and 14x14 -> 28x28; D: two convolutions,
    # the first on the image's one channel (LabelMapConv2D adds the ten label maps' part as y R).
    assert [row.split()[1:4] for row in rows] == [
        ["7x7x128", "<->", "1x1x100"], ["7x7x128", "<->", "1x1x10"], ["14x14x128", "<->", "7x7x256"],
        ["28x28x1", "<->", "14x14x128"], ["28x28x1", "<->", "14x14x64"], ["14x14x64", "<->", "7x7x128"]]
    marked = [row.split("*")[1].split()[0] for row in rows]
    assert marked == ["whole_image", "whole_image", "winograd", "im2col", "im2col", "winograd"]
    assert all(row.count("*") == 1 and "reference" in row for row in rows)
    assert "whole_image" not in rows[2]  # left out where it does not apply


def test_bench_step_puts_pytorchs_time_of_the_same_layer_beside_each_layer_that_has_one() -> None:
    pytest.importorskip("torch")
    command = [sys.executable, "benchmarks/bench_step.py", "--model", "cdcgan", "--batches", "2", "--steps", "1",
               "--min-seconds", "0", "--warmup", "0", "--layer-repeats", "1", "--gemm-size", "128"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.startswith(("generator/",
                                                                                                      "discriminator/"))}
    # words: layer, output shape ("(2, H, W, C)": 4, "(2, 1)": 2), fwd, bwd, GFLOP/s (layers with products),
    # then PyTorch's fwd and bwd where PyTorch has the same layer: not G's branches (z and y each through
    # their own stack there), nor Flatten
    words = {"generator/join_z_y": 8, "generator/conv2d_transpose": 10, "generator/batch_normalization": 9,
             "generator/tanh": 9, "discriminator/conv2d": 10, "discriminator/conv2d_1": 10,
             "discriminator/leaky_re_lu_1": 9, "discriminator/flatten": 5, "discriminator/dense": 8}
    assert {name: len(rows[name]) for name in words} == words
    assert all(float(word) >= 0 for name in words for word in rows[name][-2:])
