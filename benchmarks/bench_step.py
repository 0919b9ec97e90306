"""Time one DCGAN training step of minigan, layer by layer, against the GEMM peak and PyTorch.

Usage::

    python benchmarks/bench_step.py                      # NumPy backend, all figures
    python benchmarks/bench_step.py --backend cupy       # the same on a GPU
    python benchmarks/bench_step.py --steps 20 --no-torch

The model is the default MNIST DCGAN (TensorFlow's DCGAN tutorial, z of 100, float32).
One training step, in the trainer's (and PyTorch's DCGAN example's) order::

    D.zero_grad; D(real) -> bce(1) -> D.backward(input_grad=False); fake = G(z)
    D(fake) -> bce(0) -> D.backward(input_grad=False); Adam(D).step; D.trainable = False
    D(fake) -> bce(1) -> dfake = D.backward; G.zero_grad; G.backward(dfake, input_grad=False)
    Adam(G).step; D.trainable = True

It prints: the step's median time and images/s at each batch size; each layer's forward
and backward time at the first batch size; the step's FLOPs (counted from the layer
shapes), the machine's float32 GEMM peak (measured first, and again after each timed step,
as the machine's speed drifts) and the step's achieved GFLOP/s against it; the same step
in PyTorch (when installed) with the same number of threads, interleaved with minigan's,
and the ratio; and the peak memory (ru_maxrss) of a process that runs training steps.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backend", choices=("numpy", "cupy"), default="numpy")
    p.add_argument("--batches", default="256,64", help="comma-separated batch sizes (first: per-layer table)")
    p.add_argument("--steps", type=int, default=12, help="timed steps per batch size (median reported)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="BLAS / PyTorch threads")
    p.add_argument("--layer-repeats", type=int, default=7, help="timed forward/backward calls per layer")
    p.add_argument("--gemm-size", type=int, default=2048, help="side of the square GEMM for the peak")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    p.add_argument("--system-malloc", action="store_true",
                   help="keep the C library's default malloc policy (Trainer.fit, and by default this "
                        "benchmark, call minigan.memory.retain_freed_memory())")
    p.add_argument("--memory-probe", type=int, default=0, help=argparse.SUPPRESS)  # child process: batch
    return p.parse_args(argv)


ARGS = parse_args()
# BLAS reads its thread count when it loads: set it before NumPy is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)

import numpy as np  # noqa: E402

import minigan  # noqa: E402
from minigan import backend, losses, nn, optim  # noqa: E402
from minigan.memory import retain_freed_memory  # noqa: E402
from minigan.models import dcgan_discriminator, dcgan_generator  # noqa: E402

Z_DIM = 100
IMAGE_SHAPE = (28, 28, 1)


# -- the model --------------------------------------------------------------------------
def build_models() -> tuple[Any, Any]:
    """The default MNIST DCGAN of examples/mnist_dcgan.py: minigan.models' builders with their defaults."""
    return dcgan_generator(latent_dim=Z_DIM, image_shape=IMAGE_SHAPE), dcgan_discriminator(image_shape=IMAGE_SHAPE)


class MiniganDCGAN:
    """The two models, their Adam optimizers (TF tutorial: lr 1e-4) and one training step."""

    def __init__(self, batch: int) -> None:
        backend.seed(0)
        self.G, self.D = build_models()
        self.opt_g = optim.Adam(self.G, lr=1e-4)
        self.opt_d = optim.Adam(self.D, lr=1e-4)
        self.batch = batch
        self.real = backend.rng().random((batch, *IMAGE_SHAPE), dtype=backend.floatx()) * 2 - 1

    def step(self) -> Any:
        G, D = self.G, self.D
        self.opt_d.zero_grad()
        D.backward(losses.bce_with_logits(D.forward(self.real), 1.0)[1], input_grad=False)
        fake = G.forward(backend.rng().standard_normal((self.batch, Z_DIM), dtype=backend.floatx()))
        D.backward(losses.bce_with_logits(D.forward(fake), 0.0)[1], input_grad=False)
        self.opt_d.step()
        D.trainable = False
        loss_g, dlogits = losses.bce_with_logits(D.forward(fake), 1.0)
        dfake = D.backward(dlogits)
        self.opt_g.zero_grad()
        G.backward(dfake, input_grad=False)
        self.opt_g.step()
        D.trainable = True
        return loss_g


# -- FLOPs from the layer shapes ------------------------------------------------------------
def layer_macs(layer: Any, input_shape: tuple[int, ...]) -> int:
    """Multiply-adds of one example's forward pass through ``layer`` (0 for element-wise layers).

    Dense: in*units. Conv2D: Ho*Wo*kh*kw*C*F (one dot product of length kh*kw*C per output).
    Conv2DTranspose: H*W*kh*kw*C*F (every input pixel scatters a kh x kw x F patch). Each
    backward pass costs the same again for the input gradient and again for the kernel's.
    """
    if isinstance(layer, nn.Dense):
        return input_shape[0] * layer.units
    if isinstance(layer, nn.Conv2D):
        ho, wo, f = layer.output_shape(input_shape)
        kh, kw = layer.kernel_size
        return ho * wo * kh * kw * input_shape[-1] * f
    if isinstance(layer, nn.Conv2DTranspose):
        h, w, c = input_shape
        kh, kw = layer.kernel_size
        return h * w * kh * kw * c * layer.filters
    return 0


def model_macs(model: Any) -> int:
    """Forward multiply-adds of one example through a Sequential."""
    shape, total = model.input_shape, 0
    for layer in model.layers:
        total += layer_macs(layer, shape)
        shape = layer.output_shape(shape)
    return total


def step_flops_per_image(G: Any, D: Any) -> dict[str, int]:
    """FLOPs (2 per multiply-add) of one training step per image, counted as the step runs them.

    G: one forward, one backward (input and kernel gradients, but no dL/dz at its first layer).
    D: three forwards (real, fake, fake again for G), two backwards with kernel gradients and
    no input gradient at the first layer (D step), and one with input gradients only (G step,
    D frozen).
    """
    g, d = model_macs(G), model_macs(D)
    g_first = layer_macs(G.layers[0], G.input_shape)
    d_first = layer_macs(D.layers[0], D.input_shape)
    parts = {
        "G forward": g,
        "G backward": 2 * g - g_first,
        "D forward x3": 3 * d,
        "D backward x3": 2 * (2 * d - d_first) + d,
    }
    return {k: 2 * v for k, v in parts.items()}


# -- timing helpers -----------------------------------------------------------------------
def synchronize() -> None:
    if backend.get_backend() == "cupy":
        import cupy

        cupy.cuda.Device().synchronize()


def timed(fn: Callable[[], Any], sync: Callable[[], None] = synchronize) -> float:
    sync()
    start = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - start


def gemm_peak(n: int, repeats: int = 7) -> float:
    """Best float32 GFLOP/s of an n x n x n matrix product through the backend's matmul."""
    xp = backend.xp()
    a = xp.asarray(np.random.default_rng(0).standard_normal((n, n), dtype=np.float32))
    b = xp.asarray(np.random.default_rng(1).standard_normal((n, n), dtype=np.float32))
    out = xp.empty((n, n), dtype=np.float32)
    xp.matmul(a, b, out=out)
    best = min(timed(lambda: xp.matmul(a, b, out=out)) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def per_layer_table(batch: int, repeats: int) -> list[tuple[str, str, float, float, int]]:
    """(model/layer, output shape, forward s, backward s, forward FLOPs) for every layer at ``batch``."""
    backend.seed(1)
    G, D = build_models()
    xp = backend.xp()
    z = backend.rng().standard_normal((batch, Z_DIM), dtype=backend.floatx())
    rows = []
    for model, x in ((G, z), (D, None)):
        if x is None:
            x = xp.tanh(backend.rng().standard_normal((batch, *IMAGE_SHAPE), dtype=backend.floatx()))
        shape = model.input_shape
        for layer in model.layers:
            y = layer.forward(x)
            dy = backend.rng().standard_normal(y.shape, dtype=backend.floatx())
            layer.backward(dy)
            fwd, bwd = [], []
            for _ in range(repeats):
                fwd.append(timed(lambda layer=layer, x=x: layer.forward(x)))
                bwd.append(timed(lambda layer=layer, dy=dy: layer.backward(dy)))
            macs = layer_macs(layer, shape)
            shape = layer.output_shape(shape)
            name = f"{model.name}/{layer.name}"
            rows.append((name, str((batch, *shape)), median(fwd), median(bwd), 2 * macs * batch))
            x = y
    return rows


def median(values: list[float]) -> float:
    return float(np.median(values))


def max_rss_mib() -> float:
    """Peak resident memory of this process so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_probe(batch: int) -> None:
    """Child process: resident memory after building, and after a few training steps."""
    model = MiniganDCGAN(batch)
    before = max_rss_mib()
    for _ in range(3):
        model.step()
    synchronize()
    print(json.dumps({"after_build_mib": before, "peak_mib": max_rss_mib()}))


def probe_memory(batch: int) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--memory-probe", str(batch), "--backend", ARGS.backend]
    cmd += ["--threads", str(ARGS.threads)] + (["--system-malloc"] if ARGS.system_malloc else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


# -- PyTorch ----------------------------------------------------------------------------------
def torch_model(batch: int) -> Any:
    if ARGS.no_torch:
        return None
    try:
        import torch
    except ImportError:
        return None
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from torch_reference import TorchDCGAN

    device = "cuda" if ARGS.backend == "cupy" and torch.cuda.is_available() else "cpu"
    if ARGS.backend == "cupy" and device == "cpu":
        return None
    return TorchDCGAN(batch, Z_DIM, threads=ARGS.threads, device=device)


# -- the report ---------------------------------------------------------------------------------
def main() -> None:
    retained = not ARGS.system_malloc and retain_freed_memory()  # as Trainer.fit does
    if ARGS.backend == "cupy":
        minigan.set_backend("cupy")
    if ARGS.memory_probe:
        memory_probe(ARGS.memory_probe)
        return
    batches = [int(b) for b in ARGS.batches.split(",")]
    # Before this process grows: a child's ru_maxrss starts at its parent's size at fork.
    memory = {batch: probe_memory(batch) for batch in batches}
    env = {k: os.environ.get(k, "(unset)") for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "MALLOC_MMAP_MAX_",
                                                       "MALLOC_TRIM_THRESHOLD_")}
    print(f"minigan DCGAN step benchmark: backend {ARGS.backend}, float32, {ARGS.threads} threads, "
          f"numpy {np.__version__}")
    print("environment: " + ", ".join(f"{k}={v}" for k, v in env.items()))
    print("malloc: " + ("freed memory retained (minigan.memory.retain_freed_memory, as Trainer.fit; "
                        "PyTorch runs in this process too)" if retained else "the C library's default policy"))

    peak = gemm_peak(ARGS.gemm_size)
    print(f"float32 GEMM peak ({ARGS.gemm_size}^3 matmul, best of 7): {peak:.1f} GFLOP/s")

    G, D = build_models()
    flops = step_flops_per_image(G, D)
    per_image = sum(flops.values())
    print(f"\nFLOPs per image per step (from layer shapes): {per_image / 1e6:.1f} M  ("
          + ", ".join(f"{k} {v / 1e6:.1f} M" for k, v in flops.items()) + ")")
    print(f"forward multiply-adds per image: G {model_macs(G) / 1e6:.2f} M, D {model_macs(D) / 1e6:.2f} M")

    print(f"\nper-layer times at batch {batches[0]} (median of {ARGS.layer_repeats}):")
    print(f"{'layer':<44}{'output':<22}{'fwd ms':>9}{'bwd ms':>9}{'fwd GFLOP/s':>13}")
    total_f = total_b = 0.0
    for name, shape, f, b, fl in per_layer_table(batches[0], ARGS.layer_repeats):
        total_f, total_b = total_f + f, total_b + b
        rate = f"{fl / f / 1e9:13.1f}" if fl else f"{'':>13}"
        print(f"{name:<44}{shape:<22}{f * 1e3:9.2f}{b * 1e3:9.2f}{rate}")
    print(f"{'sum':<66}{total_f * 1e3:9.2f}{total_b * 1e3:9.2f}")

    print(f"\ntraining step (median of {ARGS.steps} after {ARGS.warmup} warm-up; minigan and PyTorch interleaved, "
          "each timed step after an untimed one of the same engine):")
    for batch in batches:
        ours, ref = MiniganDCGAN(batch), torch_model(batch)
        for _ in range(ARGS.warmup):
            ours.step()
            if ref is not None:
                ref.step()
        t_ours, t_ref, peaks = [], [], [peak]
        for _ in range(ARGS.steps):
            # Each timed step follows an untimed step of the same engine: right after the other
            # engine's step, a step can run slower (measured here: PyTorch's by 1-11% after
            # minigan's), which plain alternation would count against it.
            ours.step()
            t_ours.append(timed(ours.step))
            if ref is not None:
                ref.step()
                t_ref.append(timed(ref.step, ref.synchronize))
            peaks.append(gemm_peak(ARGS.gemm_size, repeats=1))  # the peak in the same minutes
        step, step_peak = median(t_ours), max(peaks)
        ideal = per_image * batch / (step_peak * 1e9)
        print(f"  batch {batch:>4}: minigan {step * 1e3:8.1f} ms  {batch / step:8.0f} images/s  "
              f"{per_image * batch / step / 1e9:6.1f} GFLOP/s = {ideal / step:5.1%} of GEMM peak  "
              f"(step / ideal {step / ideal:4.2f})")
        print(f"  {'':>11}GEMM peak for this ratio: {step_peak:.1f} GFLOP/s (the best of the first "
              f"measurement and one {ARGS.gemm_size}^3 product after each step)")
        if t_ref:
            torch_step = median(t_ref)
            print(f"  {'':>11}PyTorch {torch_step * 1e3:8.1f} ms  {batch / torch_step:8.0f} images/s  "
                  f"ratio minigan / PyTorch {step / torch_step:4.2f}")
        del ours, ref
    if ARGS.no_torch or torch_model(1) is None:
        print("  (PyTorch not timed: not installed, --no-torch, or no CUDA PyTorch for --backend cupy)")

    print("\npeak memory (ru_maxrss of a fresh process building the models and running 3 steps):")
    for batch, mem in memory.items():
        print(f"  batch {batch:>4}: {mem['peak_mib']:8.0f} MiB  (after building: {mem['after_build_mib']:.0f} MiB)")
    if ARGS.backend == "cupy":
        import cupy

        pool = cupy.get_default_memory_pool()
        print(f"  GPU memory pool: {pool.total_bytes() / 2**20:.0f} MiB held")
    print(f"  this benchmark process (including PyTorch, if timed): {max_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
