"""Time every convolution layer of a zoo model under every algorithm that applies to it.

Usage::

    python benchmarks/bench_conv.py --model radford64 --batch 64
    python benchmarks/bench_conv.py --model cdcgan --algorithms im2col,subpixel

For each Conv2D and Conv2DTranspose (shown as the Conv2D geometry both share: big side
H x W x C <-> small side Ho x Wo x F) it times the three products of minigan.nn.conv.reference,
``conv2d`` / ``conv2d_transpose`` / ``conv2d_kernel_grad`` (ms, median of ``--repeats``), on
random float32 data, and ``step``: the three weighted as one training step uses them. G's
layers run once forward and once backward; D's three times forward and twice with the kernel
gradient; every layer but a model's first also gives its input gradient, D's three times,
G's once. The algorithm ``"auto"`` takes is marked with ``*``. This is how the choice in
minigan/nn/conv/fast/__init__.py was checked (docs/performance.md).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from minigan import models
from minigan.nn import Conv2D, Conv2DTranspose, Layer, Parallel
from minigan.nn.conv import fast as algorithms

MNIST, COLOUR_32, COLOUR_64 = (28, 28, 1), (32, 32, 3), (64, 64, 3)
ZOO: dict[str, Callable[[], tuple[Layer, Layer]]] = {
    "dcgan": lambda: (models.dcgan_generator(100, MNIST), models.dcgan_discriminator(MNIST)),
    "cdcgan": lambda: (models.cdcgan_generator(100, 10, MNIST), models.cdcgan_discriminator(10, MNIST)),
    "radford32": lambda: (models.radford_generator(100, COLOUR_32), models.radford_discriminator(COLOUR_32)),
    "radford64": lambda: (models.radford_generator(100, COLOUR_64), models.radford_discriminator(COLOUR_64)),
}


def convolutions(model: Layer) -> Iterator[Layer]:
    """The model's Conv2D and Conv2DTranspose layers, in order (into nested models too)."""
    for layer in getattr(model, "layers", []):
        if isinstance(layer, (Conv2D, Conv2DTranspose)):
            yield layer
        else:
            yield from convolutions(layer)


def input_layers(model: Layer) -> list[Layer]:
    """The layers that take the model's own inputs (the trainer asks them for no input gradient)."""
    first = model.layers[0] if getattr(model, "layers", None) else model
    if isinstance(first, Parallel):
        return [layer for branch in first.layers for layer in input_layers(branch)]
    return input_layers(first) if getattr(first, "layers", None) else [first]


def median_ms(fn: Callable[[int], Any], repeats: int, before: Callable[[int], Any] | None = None) -> float:
    """The median wall time of ``fn(i)`` in ms over i = 1 .. ``repeats``, after one untimed ``fn(0)``;
    ``before(i)``, if given, runs untimed before each call."""
    times = []
    for i in range(repeats + 1):
        if before is not None:
            before(i)
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return float(np.median(times[1:])) * 1e3


def time_products(a: Any, xs: list[Any], dys: list[Any], kernel: Any, repeats: int) -> tuple[float, float, float]:
    """ms of the algorithm ``a``'s conv2d(x), conv2d_transpose(dy) and conv2d_kernel_grad(x, dy).

    Calls alternate between two copies of the data, so that none finds work of its own input left
    by the previous call; the kernel gradient is timed right after conv2d(x) and conv2d_transpose(dy)
    of the same arrays, as in a layer's forward and backward (which may leave it work to reuse)."""
    conv = median_ms(lambda i: a.conv2d(xs[i % 2], kernel), repeats)
    transpose = median_ms(lambda i: a.conv2d_transpose(dys[i % 2], kernel), repeats)
    grad = median_ms(lambda i: a.conv2d_kernel_grad(xs[i % 2], dys[i % 2]), repeats,
                     before=lambda i: (a.conv2d(xs[i % 2], kernel), a.conv2d_transpose(dys[i % 2], kernel)))
    return conv, transpose, grad


def step_ms(layer: Layer, discriminator: bool, first: bool, products: tuple[float, float, float]) -> float:
    """The three products' times weighted as one training step uses them (see the module docstring)."""
    conv, transpose, kernel = products
    forward, backward = (conv, transpose) if isinstance(layer, Conv2D) else (transpose, conv)
    if discriminator:
        return 3 * forward + (1 if first else 3) * backward + 2 * kernel
    return forward + (0 if first else backward) + kernel


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=tuple(ZOO), default="radford64")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--algorithms", default="im2col,kernel_rows,subpixel,planes,winograd,fourier,whole_image",
                   help="comma-separated names (those that do not apply to a layer are left out)")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    rng = np.random.default_rng(0)
    generator, discriminator = ZOO[args.model]()
    print(f"{args.model}, batch {args.batch}, float32: conv2d / conv2d_transpose / kernel grad = step ms "
          "(* = auto's choice)")
    for model, is_d in ((generator, False), (discriminator, True)):
        first = input_layers(model)
        for layer in convolutions(model):
            g = layer.geometry
            kernel = rng.standard_normal((*g.kernel_hw, g.channels, g.filters), dtype=np.float32)
            xs = [rng.standard_normal((args.batch, *g.in_hw, g.channels), dtype=np.float32) for _ in range(2)]
            dys = [rng.standard_normal((args.batch, *g.out_hw, g.filters), dtype=np.float32) for _ in range(2)]
            chosen = algorithms.auto(g)
            cells = []
            for name in args.algorithms.split(","):
                try:
                    a = algorithms.choose(name, g, np.float32, layer.name)
                except ValueError:
                    continue
                times = time_products(a, xs, dys, kernel, args.repeats)
                mark = "*" if name == chosen else " "
                cells.append(f"{mark}{name} {times[0]:.1f} / {times[1]:.1f} / {times[2]:.1f} = "
                             f"{step_ms(layer, is_d, layer in first, times):.0f}")
            side = f"{g.in_hw[0]}x{g.in_hw[1]}x{g.channels} <-> {g.out_hw[0]}x{g.out_hw[1]}x{g.filters}"
            print(f"{layer.name:<22}{side:<26}k{g.kernel_hw[0]} s{g.strides[0]}  " + "  ".join(cells), flush=True)


if __name__ == "__main__":
    main()
