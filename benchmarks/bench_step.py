"""Time one GAN training step of minigan, layer by layer, against the GEMM peak and PyTorch.

Usage::

    python benchmarks/bench_step.py                      # the MNIST DCGAN, NumPy backend, all figures
    python benchmarks/bench_step.py --model radford64    # another network of the zoo, all figures
    python benchmarks/bench_step.py --zoo                # one table: every model at batch 64 and 128
    python benchmarks/bench_step.py --backend cupy       # the same on a GPU
    python benchmarks/bench_step.py --steps 20 --no-torch
    python benchmarks/bench_step.py --zoo --against flat-adam  # Adam against FlatAdam, interleaved

Models (minigan.models' builders with their defaults, float32, z of 100): ``dcgan`` (the
TensorFlow DCGAN tutorial's, MNIST), ``mlp`` (Goodfellow et al.'s fully connected GAN),
``cgan`` (its conditional form), ``cdcgan`` (the conditional DCGAN), ``radford32`` and
``radford64`` (Radford et al.'s DCGAN on 32x32x3 and 64x64x3 images). One training step, in
the trainer's (and PyTorch's DCGAN example's) order::

    D.zero_grad; D(real) -> bce(1) -> D.backward(input_grad=False); fake = G(z)
    D(fake) -> bce(0) -> D.backward(input_grad=False); Adam(D).step; D.trainable = False
    D(fake) -> bce(1) -> dfake = D.backward; G.zero_grad; G.backward(dfake, input_grad=False)
    Adam(G).step; D.trainable = True

For one model it prints: the step's median time and images/s at each batch size; each
layer's forward and backward time at the first batch size, beside PyTorch's for the same layer
alone (torch_reference.layer_times); the step's FLOPs (counted from the layer shapes), the
machine's float32 GEMM peak (measured first, and again after each timed step, as the machine's
speed drifts) and the step's achieved GFLOP/s against it; the
same step in PyTorch (benchmarks/torch_reference.py, when installed) with the same number of
threads, interleaved with minigan's, and the ratio (the median of the ratios of the pairs of
steps timed together: at least ``--steps`` of them, more until minigan's add up to
``--min-seconds``); and the peak memory (ru_maxrss) of a process that runs training steps.
``--zoo`` prints the step, images/s, PyTorch ratio and peak memory of every model in one table.
``--flat-adam`` times minigan with :class:`minigan.optim.FlatAdam`; ``--against flat-adam`` pairs
minigan with Adam against minigan with FlatAdam instead of PyTorch (the ratio: Adam / FlatAdam).
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

MODEL_NAMES = ("dcgan", "mlp", "cgan", "cdcgan", "radford32", "radford64")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backend", choices=("numpy", "cupy"), default="numpy")
    p.add_argument("--model", choices=MODEL_NAMES, default="dcgan", help="the network of the zoo to time")
    p.add_argument("--zoo", action="store_true", help="every model, one table (default batches 64,128)")
    p.add_argument("--models", default=",".join(MODEL_NAMES), help="comma-separated: the models of --zoo's table")
    p.add_argument("--batches", default=None, help="comma-separated batch sizes (first: per-layer table); "
                                                   "default 256,64, or 64,128 with --zoo")
    p.add_argument("--steps", type=int, default=12, help="timed steps per batch size, at least (median reported)")
    p.add_argument("--min-seconds", type=float, default=3.0,
                   help="keep timing steps until minigan's timed steps add up to this many seconds")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="BLAS / PyTorch threads")
    p.add_argument("--layer-repeats", type=int, default=7, help="timed forward/backward calls per layer")
    p.add_argument("--gemm-size", type=int, default=2048, help="side of the square GEMM for the peak")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    p.add_argument("--flat-adam", action="store_true", help="minigan's optimizers: FlatAdam (one buffer) for Adam")
    p.add_argument("--against", choices=("torch", "flat-adam"), default="torch",
                   help="the engine each minigan step is paired with: PyTorch, or minigan with FlatAdam")
    p.add_argument("--system-malloc", action="store_true",
                   help="keep the C library's default malloc policy (by default this benchmark calls "
                        "minigan.training.memory.retain_freed_memory(), as the train command's --retain-memory does)")
    p.add_argument("--memory-probe", type=int, default=0, help=argparse.SUPPRESS)  # child process: batch
    return p.parse_args(argv)


ARGS = parse_args()
# BLAS reads its thread count when it loads: set it before NumPy is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)

import numpy as np  # noqa: E402

import minigan  # noqa: E402
from minigan import backend, losses, models, nn, optim  # noqa: E402
from minigan.training.memory import retain_freed_memory  # noqa: E402

Z_DIM, CLASSES = 100, 10
MNIST, COLOUR_32, COLOUR_64 = (28, 28, 1), (32, 32, 3), (64, 64, 3)
#: name -> (generator, discriminator, image shape, classes): minigan.models' builders with their defaults
ZOO = {
    "dcgan": (lambda: models.dcgan_generator(Z_DIM, MNIST), lambda: models.dcgan_discriminator(MNIST), MNIST, None),
    "mlp": (lambda: models.mlp_generator(Z_DIM, MNIST), lambda: models.mlp_discriminator(MNIST), MNIST, None),
    "cgan": (lambda: models.mlp_generator(Z_DIM, MNIST, num_classes=CLASSES),
             lambda: models.mlp_discriminator(MNIST, num_classes=CLASSES), MNIST, CLASSES),
    "cdcgan": (lambda: models.cdcgan_generator(Z_DIM, CLASSES, MNIST),
               lambda: models.cdcgan_discriminator(CLASSES, MNIST), MNIST, CLASSES),
    "radford32": (lambda: models.radford_generator(Z_DIM, COLOUR_32),
                  lambda: models.radford_discriminator(COLOUR_32), COLOUR_32, None),
    "radford64": (lambda: models.radford_generator(Z_DIM, COLOUR_64),
                  lambda: models.radford_discriminator(COLOUR_64), COLOUR_64, None),
}


# -- the model --------------------------------------------------------------------------
def build_models(model: str) -> tuple[Any, Any]:
    """The generator and discriminator of ``model`` (a key of :data:`ZOO`)."""
    generator, discriminator, _, _ = ZOO[model]
    return generator(), discriminator()


class MiniganGAN:
    """The two models, their Adam (or FlatAdam) optimizers (lr 1e-4) and one training step (as minigan.gan's)."""

    def __init__(self, model: str, batch: int, flat_adam: bool = False) -> None:
        backend.seed(0)
        self.G, self.D = build_models(model)
        adam = optim.FlatAdam if flat_adam else optim.Adam
        self.opt_g = adam(self.G, lr=1e-4)
        self.opt_d = adam(self.D, lr=1e-4)
        self.batch, image_shape, self.classes = batch, ZOO[model][2], ZOO[model][3]
        self.real = backend.rng().random((batch, *image_shape), dtype=backend.floatx()) * 2 - 1
        self.labels = None if self.classes is None else backend.xp().eye(self.classes, dtype=backend.floatx())[
            backend.rng().integers(0, self.classes, batch)]

    def with_labels(self, x: Any) -> Any:
        """``x``, or ``[x, one-hot labels]`` for a conditional model."""
        return x if self.labels is None else [x, self.labels]

    def step(self) -> Any:
        G, D = self.G, self.D
        self.opt_d.zero_grad()
        D.backward(losses.bce_with_logits(D.forward(self.with_labels(self.real)), 1.0)[1], input_grad=False)
        fake = G.forward(self.with_labels(backend.rng().standard_normal((self.batch, Z_DIM), dtype=backend.floatx())))
        D.backward(losses.bce_with_logits(D.forward(self.with_labels(fake)), 0.0)[1], input_grad=False)
        self.opt_d.step()
        D.trainable = False
        loss_g, dlogits = losses.bce_with_logits(D.forward(self.with_labels(fake)), 1.0)
        dfake = D.backward(dlogits)
        self.opt_g.zero_grad()
        G.backward(dfake if self.labels is None else dfake[0], input_grad=False)
        self.opt_g.step()
        D.trainable = True
        return loss_g

    def synchronize(self) -> None:
        synchronize()


# -- FLOPs from the layer shapes ------------------------------------------------------------
def layer_macs(layer: Any, input_shape: tuple[int, ...]) -> int:
    """Multiply-adds of one example's forward pass through ``layer`` (0 for element-wise layers).

    Dense: in*units. Conv2D: Ho*Wo*kh*kw*C*F (one dot product of length kh*kw*C per output).
    Conv2DTranspose: H*W*kh*kw*C*F (every input pixel scatters a kh x kw x F patch). Each
    backward pass costs the same again for the input gradient and again for the kernel's.
    """
    if isinstance(layer, nn.Parallel):  # each branch on its own input
        return sum(layer_macs(branch, shape) for branch, shape in zip(layer.layers, input_shape, strict=True))
    if isinstance(layer, nn.Sequential):
        return model_macs(layer, input_shape)
    if isinstance(layer, nn.Dense):
        return input_shape[0] * layer.units
    if isinstance(layer, nn.Conv2D):  # the kernel's C: the joined channels of a LabelMapConv2D
        ho, wo, f = layer.output_shape(input_shape)
        kh, kw, c, _ = layer.params["kernel"].shape
        return ho * wo * kh * kw * c * f
    if isinstance(layer, nn.Conv2DTranspose):
        h, w, c = input_shape
        kh, kw = layer.kernel_size
        return h * w * kh * kw * c * layer.filters
    return 0


def model_macs(model: Any, input_shape: Any = None) -> int:
    """Forward multiply-adds of one example through a Sequential (of its own input shape by default)."""
    shape, total = model.input_shape if input_shape is None else input_shape, 0
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


def per_layer_table(name: str, batch: int, repeats: int) -> list[tuple[str, str, float, float, int, str]]:
    """(model/layer, output shape, forward s, backward s, forward FLOPs, class) for every layer at ``batch``
    (class: a LabelMapConv2D's is Conv2D, the convolution it computes)."""
    gan = MiniganGAN(name, batch)
    z = backend.rng().standard_normal((batch, Z_DIM), dtype=backend.floatx())
    rows = []
    for model, x in ((gan.G, gan.with_labels(z)), (gan.D, gan.with_labels(gan.real))):
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
            kind = "Conv2D" if isinstance(layer, nn.Conv2D) else type(layer).__name__
            rows.append((name, str((batch, *shape)), median(fwd), median(bwd), 2 * macs * batch, kind))
            x = y
    return rows


def torch_layer_columns(name: str, batch: int, rows: list[tuple[str, str, float, float, int, str]]) -> list[str]:
    """PyTorch's forward and backward ms of the same layer beside each row of :func:`per_layer_table`
    (blank where it has none: reshapes, and a conditional model's layers before its labels are joined,
    paired from the last layer back while the classes agree)."""
    cells = [""] * len(rows)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from torch_reference import layer_times

    for role, theirs in layer_times(name, batch, ARGS.layer_repeats, timed).items():
        ours = [i for i, row in enumerate(rows) if row[0].startswith(role + "/") and row[5] not in SHAPE_ONLY]
        for i, (kind, forward, backward) in zip(reversed(ours), reversed(theirs), strict=False):
            if rows[i][5] != kind:
                break
            cells[i] = f"{forward * 1e3:13.2f}{backward * 1e3:9.2f}"
    return cells


#: layers that only reshape (PyTorch's Flatten / Unflatten are left out of its rows too)
SHAPE_ONLY = ("Reshape", "Flatten")


def median(values: list[float]) -> float:
    return float(np.median(values))


def max_rss_mib() -> float:
    """Peak resident memory of this process so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_probe(name: str, batch: int) -> None:
    """Child process: resident memory after building, and after a few training steps."""
    model = MiniganGAN(name, batch, ARGS.flat_adam)
    before = max_rss_mib()
    for _ in range(3):
        model.step()
    synchronize()
    print(json.dumps({"after_build_mib": before, "peak_mib": max_rss_mib()}))


def probe_memory(name: str, batch: int) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--memory-probe", str(batch), "--model", name, "--backend", ARGS.backend]
    cmd += ["--threads", str(ARGS.threads)] + (["--system-malloc"] if ARGS.system_malloc else [])
    cmd += ["--flat-adam"] if ARGS.flat_adam else []
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


# -- PyTorch ----------------------------------------------------------------------------------
def torch_model(name: str, batch: int) -> Any:
    if ARGS.no_torch:
        return None
    try:
        import torch
    except ImportError:
        return None
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from torch_reference import TorchGAN

    device = "cuda" if ARGS.backend == "cupy" and torch.cuda.is_available() else "cpu"
    if ARGS.backend == "cupy" and device == "cpu":
        return None
    return TorchGAN(name, batch, threads=ARGS.threads, device=device)


def reference_model(name: str, batch: int) -> Any:
    """The engine paired with minigan's steps: PyTorch (or None), or minigan with FlatAdam (``--against``)."""
    return MiniganGAN(name, batch, flat_adam=True) if ARGS.against == "flat-adam" else torch_model(name, batch)


REFERENCE = "FlatAdam" if ARGS.against == "flat-adam" else "PyTorch"


# -- the report ---------------------------------------------------------------------------------
def time_steps(name: str, batch: int, peak: float) -> tuple[float, float | None, float | None, float]:
    """(minigan's median step, PyTorch's or None, the median of the pairs' ratios minigan / PyTorch or
    None, the best GEMM peak seen meanwhile), interleaved: at least ``--steps`` pairs, and more until
    minigan's timed steps add up to ``--min-seconds`` (a fast model's medians need many steps)."""
    ours, ref = MiniganGAN(name, batch, ARGS.flat_adam), reference_model(name, batch)
    for _ in range(ARGS.warmup):
        ours.step()
        if ref is not None:
            ref.step()
    t_ours, t_ref, peaks = [], [], [peak]
    while len(t_ours) < ARGS.steps or sum(t_ours) < ARGS.min_seconds:
        # Each timed step follows an untimed step of the same engine: right after the other
        # engine's step, a step can run slower (measured here: PyTorch's by 1-11% after
        # minigan's), which plain alternation would count against it.
        ours.step()
        t_ours.append(timed(ours.step))
        if ref is not None:
            ref.step()
            t_ref.append(timed(ref.step, ref.synchronize))
        if peak:
            peaks.append(gemm_peak(ARGS.gemm_size, repeats=1))  # the peak in the same minutes
    # The ratio of each pair, timed within a second of each other, is immune to the machine's speed
    # drifting from minute to minute (by 20% on the benchmark machine), which the medians are not.
    ratio = median([a / b for a, b in zip(t_ours, t_ref, strict=True)]) if t_ref else None
    return median(t_ours), (median(t_ref) if t_ref else None), ratio, max(peaks)


def report(name: str, batches: list[int]) -> None:
    """Every figure for one model."""
    # Before this process grows: a child's ru_maxrss starts at its parent's size at fork.
    memory = {batch: probe_memory(name, batch) for batch in batches}
    peak = gemm_peak(ARGS.gemm_size)
    print(f"float32 GEMM peak ({ARGS.gemm_size}^3 matmul, best of 7): {peak:.1f} GFLOP/s")

    G, D = build_models(name)
    flops = step_flops_per_image(G, D)
    per_image = sum(flops.values())
    print(f"\nFLOPs per image per step (from layer shapes): {per_image / 1e6:.1f} M  ("
          + ", ".join(f"{k} {v / 1e6:.1f} M" for k, v in flops.items()) + ")")
    print(f"forward multiply-adds per image: G {model_macs(G) / 1e6:.2f} M, D {model_macs(D) / 1e6:.2f} M")

    rows = per_layer_table(name, batches[0], ARGS.layer_repeats)
    theirs = torch_layer_columns(name, batches[0], rows) if torch_model(name, 1) is not None else [""] * len(rows)
    print(f"\nper-layer times at batch {batches[0]} (median of {ARGS.layer_repeats}; backward: the input's and the "
          "parameters' gradients; PyTorch: the same layer alone, autograd recording):")
    print(f"{'layer':<44}{'output':<22}{'fwd ms':>9}{'bwd ms':>9}{'fwd GFLOP/s':>13}"
          + (f"{'PyTorch fwd':>13}{'bwd':>9}" if any(theirs) else ""))
    total_f = total_b = 0.0
    for (layer, shape, f, b, fl, _), torch_cells in zip(rows, theirs, strict=True):
        total_f, total_b = total_f + f, total_b + b
        rate = f"{fl / f / 1e9:13.1f}" if fl else f"{'':>13}"
        print(f"{layer:<44}{shape:<22}{f * 1e3:9.2f}{b * 1e3:9.2f}{rate}{torch_cells}".rstrip())
    print(f"{'sum':<66}{total_f * 1e3:9.2f}{total_b * 1e3:9.2f}")

    print(f"\ntraining step (median of at least {ARGS.steps} steps and {ARGS.min_seconds:g} s after {ARGS.warmup} "
          f"warm-up; minigan and {REFERENCE} interleaved, each timed step after an untimed one of the same engine; "
          "ratio: the median of the pairs' ratios):")
    for batch in batches:
        step, torch_step, ratio, step_peak = time_steps(name, batch, peak)
        ideal = per_image * batch / (step_peak * 1e9)
        print(f"  batch {batch:>4}: minigan {step * 1e3:8.1f} ms  {batch / step:8.0f} images/s  "
              f"{per_image * batch / step / 1e9:6.1f} GFLOP/s = {ideal / step:5.1%} of GEMM peak  "
              f"(step / ideal {step / ideal:4.2f})")
        print(f"  {'':>11}GEMM peak for this ratio: {step_peak:.1f} GFLOP/s (the best of the first "
              f"measurement and one {ARGS.gemm_size}^3 product after each step)")
        if torch_step is not None:
            print(f"  {'':>11}{REFERENCE} {torch_step * 1e3:8.1f} ms  {batch / torch_step:8.0f} images/s  "
                  f"ratio minigan / {REFERENCE} {ratio:4.2f}")
    if ARGS.against == "torch" and (ARGS.no_torch or torch_model(name, 1) is None):
        print("  (PyTorch not timed: not installed, --no-torch, or no CUDA PyTorch for --backend cupy)")

    print("\npeak memory (ru_maxrss of a fresh process building the models and running 3 steps):")
    for batch, mem in memory.items():
        print(f"  batch {batch:>4}: {mem['peak_mib']:8.0f} MiB  (after building: {mem['after_build_mib']:.0f} MiB)")


def zoo(batches: list[int]) -> None:
    """One table: every model's step, images/s, PyTorch ratio and peak memory at each batch size."""
    names = [name for name in MODEL_NAMES if name in ARGS.models.split(",")]
    memory = {(name, batch): probe_memory(name, batch) for name in names for batch in batches}
    print(f"\nthe zoo (median of at least {ARGS.steps} steps and {ARGS.min_seconds:g} s after {ARGS.warmup} warm-up, "
          f"minigan and {REFERENCE} interleaved; ratio: the median of the pairs' ratios; peak memory of a fresh "
          "process):")
    print(f"{'model':<11}{'G+D fwd MMAC':>13}{'batch':>7}{'minigan ms':>12}{'images/s':>10}{REFERENCE + ' ms':>12}"
          f"{'ratio':>7}{'peak MiB':>10}")
    for name in names:
        G, D = build_models(name)
        macs = (model_macs(G) + model_macs(D)) / 1e6
        for batch in batches:
            step, torch_step, ratio, _ = time_steps(name, batch, 0.0)
            theirs = ("", "") if torch_step is None else (f"{torch_step * 1e3:.1f}", f"{ratio:.2f}")
            print(f"{name:<11}{macs:13.2f}{batch:7d}{step * 1e3:12.1f}{batch / step:10.0f}{theirs[0]:>12}"
                  f"{theirs[1]:>7}{memory[name, batch]['peak_mib']:10.0f}", flush=True)


def main() -> None:
    retained = not ARGS.system_malloc and retain_freed_memory()  # as the train command's --retain-memory does
    if ARGS.backend == "cupy":
        minigan.set_backend("cupy")
    if ARGS.memory_probe:
        memory_probe(ARGS.model, ARGS.memory_probe)
        return
    batches = [int(b) for b in (ARGS.batches or ("64,128" if ARGS.zoo else "256,64")).split(",")]
    env = {k: os.environ.get(k, "(unset)") for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "MALLOC_MMAP_MAX_",
                                                       "MALLOC_TRIM_THRESHOLD_")}
    what = "zoo" if ARGS.zoo else ARGS.model
    print(f"minigan {what} step benchmark: backend {ARGS.backend}, float32, {ARGS.threads} threads, "
          f"numpy {np.__version__}, {'FlatAdam' if ARGS.flat_adam else 'Adam'}, paired with {REFERENCE}")
    print("environment: " + ", ".join(f"{k}={v}" for k, v in env.items()))
    print("malloc: " + ("freed memory retained (minigan.training.memory.retain_freed_memory, as --retain-memory; "
                        "PyTorch runs in this process too)" if retained else "the C library's default policy"))
    if ARGS.zoo:
        zoo(batches)
    else:
        report(ARGS.model, batches)
    if ARGS.backend == "cupy":
        import cupy

        pool = cupy.get_default_memory_pool()
        print(f"  GPU memory pool: {pool.total_bytes() / 2**20:.0f} MiB held")
    print(f"  this benchmark process (including PyTorch, if timed): {max_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
