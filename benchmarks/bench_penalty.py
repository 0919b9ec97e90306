"""Time a critic step with a gradient penalty against the same step without it.

Usage::

    python benchmarks/bench_penalty.py                                   # every critic, batch 64, NumPy
    python benchmarks/bench_penalty.py --critics wgan_gp --batch 50 --threads 2
    python benchmarks/bench_penalty.py --backend cupy                    # the same on a GPU

Critics (28x28x1 images, float32)::

    wgan_gp   Gulrajani et al.'s MNIST critic: Conv2D 64, 128, 256 (5x5, strides 2, "same"),
              each followed by LeakyReLU(0.2), then Dense(1)
    sngan     the same with every kernel in SpectralNormalization
    dcgan     the TensorFlow DCGAN tutorial's discriminator (minigan.models.dcgan_discriminator,
              its two Dropout layers included)

The plain critic step is minigan.gan's D step with the Wasserstein loss::

    D.zero_grad; D(real) -> D.backward(-1/N, input_grad=False); D(fake) -> D.backward(1/N, input_grad=False)
    Adam(D).step

and the penalized step adds ``gradient_penalty(D, interpolates(real, fake), 10, 1)`` (WGAN-GP's)
before the Adam step; R1's penalty (on the real batch) costs the same. The plain step, the
penalized step and the penalty alone are timed in turn, ``--steps`` rounds after ``--warmup``;
reported: the median of each and the median of the rounds' ratios penalized / plain, in wall-clock
time or (``--clock cpu``) in this process's CPU time, which other processes on a shared machine
disturb less.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backend", choices=("numpy", "cupy"), default="numpy")
    p.add_argument("--critics", default="wgan_gp,sngan,dcgan", help="comma-separated, from wgan_gp, sngan, dcgan")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=15, help="timed rounds (median reported)")
    p.add_argument("--warmup", type=int, default=2, help="untimed rounds first")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="BLAS threads")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="wall-clock time, or this process's CPU time (all threads; steadier on a shared machine)")
    return p.parse_args()


ARGS = parse_args()
# BLAS reads its thread count when it loads: set it before NumPy is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)

import numpy as np  # noqa: E402

import minigan  # noqa: E402
from minigan import backend, models, nn, optim  # noqa: E402
from minigan.penalties import gradient_penalty, interpolates  # noqa: E402

MNIST = (28, 28, 1)


def wgan_gp_critic(spectral_norm: bool = False) -> nn.Sequential:
    def weighted(layer: nn.Layer) -> nn.Layer:
        return nn.SpectralNormalization(layer) if spectral_norm else layer

    layers: list[nn.Layer] = []
    for filters in (64, 128, 256):
        layers += [weighted(nn.Conv2D(filters, 5, strides=2, padding="same")), nn.LeakyReLU(0.2)]
    return nn.Sequential([*layers, nn.Flatten(), weighted(nn.Dense(1))], input_shape=MNIST)


CRITICS: dict[str, Callable[[], nn.Sequential]] = {
    "wgan_gp": wgan_gp_critic,
    "sngan": lambda: wgan_gp_critic(spectral_norm=True),
    "dcgan": lambda: models.dcgan_discriminator(MNIST),
}


def synchronize() -> None:
    if backend.get_backend() == "cupy":
        import cupy

        cupy.cuda.Device().synchronize()


def timed(fn: Callable[[], Any]) -> float:
    clock = time.process_time if ARGS.clock == "cpu" else time.perf_counter
    synchronize()
    start = clock()
    fn()
    synchronize()
    return clock() - start


def bench(name: str) -> None:
    critic = CRITICS[name]()
    opt = optim.Adam(critic, 1e-4, beta_1=0.5, beta_2=0.9)
    xp, n = backend.xp(), ARGS.batch
    real = backend.rng().standard_normal((n, *MNIST), dtype=np.float32)
    fake = backend.rng().standard_normal((n, *MNIST), dtype=np.float32)
    ones = xp.ones((n, 1), np.float32) / n

    def critic_grads() -> None:
        critic.zero_grad()
        critic.forward(real)
        critic.backward(-ones, input_grad=False)
        critic.forward(fake)
        critic.backward(ones, input_grad=False)

    def plain() -> None:
        critic_grads()
        opt.step()

    def penalized() -> None:
        critic_grads()
        gradient_penalty(critic, interpolates(real, fake), 10.0, 1.0)
        opt.step()

    def penalty() -> None:
        gradient_penalty(critic, interpolates(real, fake), 10.0, 1.0)

    times: dict[str, list[float]] = {"plain": [], "penalized": [], "penalty": []}
    for round_ in range(ARGS.warmup + ARGS.steps):
        measured = {"plain": timed(plain), "penalized": timed(penalized), "penalty": timed(penalty)}
        if round_ >= ARGS.warmup:
            for key, seconds in measured.items():
                times[key].append(seconds)
    ratio = statistics.median(p / q for p, q in zip(times["penalized"], times["plain"], strict=True))
    ms = {key: 1e3 * statistics.median(values) for key, values in times.items()}
    print(f"{name:<10}{critic.count_params():>12,}{ms['plain']:>12.1f}{ms['penalized']:>12.1f}"
          f"{ms['penalty']:>12.1f}{ratio:>10.2f}")


def main() -> None:
    if ARGS.backend == "cupy":
        minigan.set_backend("cupy")
    names = ARGS.critics.split(",")
    unknown = sorted(set(names) - set(CRITICS))
    if unknown:
        raise SystemExit(f"bench_penalty.py: unknown critics {unknown}; expected some of {sorted(CRITICS)}")
    print(f"minigan critic step with and without a gradient penalty: backend {ARGS.backend}, float32, "
          f"batch {ARGS.batch}, {ARGS.threads} threads, {ARGS.clock} clock, median of {ARGS.steps} rounds")
    print(f"{'critic':<10}{'params':>12}{'plain ms':>12}{'+GP ms':>12}{'GP ms':>12}{'ratio':>10}")
    for name in names:
        backend.seed(0)
        bench(name)


if __name__ == "__main__":
    main()
