"""The zoo's networks and the same training step in PyTorch, the yardstick of bench_step.py.

Only the benchmark imports this file, and only when PyTorch is installed; minigan itself
never depends on PyTorch. Each network is minigan.models' builder of the same name with its
defaults, in PyTorch's NCHW layout: "same" padding of a 5x5 kernel is ``padding=2`` (plus
``output_padding=1`` for a stride-2 transposed convolution), of a 4x4 stride-2 kernel
``padding=1``, which gives the same output sizes and the same number of multiply-adds as
Keras. A conditional model takes the one-hot labels as a second input, as minigan's do.
"""

from __future__ import annotations

from collections.abc import Callable
from statistics import median
from typing import Any

import torch
from torch import nn

Z_DIM, CLASSES = 100, 10


def dcgan() -> tuple[nn.Module, nn.Module]:
    """TensorFlow's tutorial: G Dense(7*7*256) -> BN -> LReLU -> CT(128, s1) -> BN -> LReLU -> CT(64, s2)
    -> BN -> LReLU -> CT(1, s2) -> tanh (5x5, no bias); D Conv(64, s2) -> LReLU -> Dropout(0.3)
    -> Conv(128, s2) -> LReLU -> Dropout(0.3) -> Flatten -> Dense(1)."""
    g = nn.Sequential(
        nn.Linear(Z_DIM, 7 * 7 * 256, bias=False), nn.BatchNorm1d(7 * 7 * 256, eps=1e-3), nn.LeakyReLU(0.3),
        nn.Unflatten(1, (256, 7, 7)),
        nn.ConvTranspose2d(256, 128, 5, stride=1, padding=2, bias=False), nn.BatchNorm2d(128, eps=1e-3),
        nn.LeakyReLU(0.3),
        nn.ConvTranspose2d(128, 64, 5, stride=2, padding=2, output_padding=1, bias=False),
        nn.BatchNorm2d(64, eps=1e-3), nn.LeakyReLU(0.3),
        nn.ConvTranspose2d(64, 1, 5, stride=2, padding=2, output_padding=1, bias=False), nn.Tanh(),
    )
    d = nn.Sequential(
        nn.Conv2d(1, 64, 5, stride=2, padding=2), nn.LeakyReLU(0.3), nn.Dropout(0.3),
        nn.Conv2d(64, 128, 5, stride=2, padding=2), nn.LeakyReLU(0.3), nn.Dropout(0.3),
        nn.Flatten(), nn.Linear(7 * 7 * 128, 1),
    )
    return g, d


def mlp(classes: int = 0) -> tuple[nn.Module, nn.Module]:
    """G (z[, y]) -> (Dense(h) -> BN -> LReLU(0.2)) for h in 256, 512, 1024 -> Dense(784) -> tanh;
    D (x[, y]) -> (Dense(h) -> LReLU(0.2) -> Dropout(0.3)) for h in 512, 256 -> Dense(1)."""
    g_layers: list[nn.Module] = []
    width = Z_DIM + classes
    for units in (256, 512, 1024):
        g_layers += [nn.Linear(width, units, bias=False), nn.BatchNorm1d(units, eps=1e-3), nn.LeakyReLU(0.2)]
        width = units
    g_layers += [nn.Linear(width, 784), nn.Tanh(), nn.Unflatten(1, (1, 28, 28))]
    d_layers: list[nn.Module] = []
    width = 784 + classes
    for units in (512, 256):
        d_layers += [nn.Linear(width, units), nn.LeakyReLU(0.2), nn.Dropout(0.3)]
        width = units
    d_layers.append(nn.Linear(width, 1))
    return Joined(nn.Sequential(*g_layers)), Joined(nn.Sequential(*d_layers), flatten=True)


class Joined(nn.Module):
    """``net(concat(x, y))`` for a conditional model (``net(x)`` without labels)."""

    def __init__(self, net: nn.Module, flatten: bool = False) -> None:
        super().__init__()
        self.net, self.flatten = net, flatten

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        x = x.flatten(1) if self.flatten else x
        return self.net(x if y is None else torch.cat([x, y], dim=1))


class CDCGANGenerator(nn.Module):
    """z and y each through ConvT(128, 7, valid) -> BN -> ReLU, joined, then ConvT(128, 4, s2) -> BN
    -> ReLU -> ConvT(1, 4, s2) -> tanh."""

    def __init__(self) -> None:
        super().__init__()

        def branch(size: int) -> nn.Module:
            return nn.Sequential(nn.Unflatten(1, (size, 1, 1)), nn.ConvTranspose2d(size, 128, 7, bias=False),
                                 nn.BatchNorm2d(128), nn.ReLU())

        self.z, self.y = branch(Z_DIM), branch(CLASSES)
        self.net = nn.Sequential(
            nn.ConvTranspose2d(256, 128, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
            nn.ConvTranspose2d(128, 1, 4, stride=2, padding=1), nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([self.z(z), self.y(y)], dim=1))


class CDCGANDiscriminator(nn.Module):
    """The labels as 10 constant maps beside the image, then Conv(64, 4, s2) -> LReLU(0.2)
    -> Conv(128, 4, s2) -> BN -> LReLU(0.2) -> Flatten -> Dense(1)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1 + CLASSES, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(64, 128, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(128 * 7 * 7, 1),
        )

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        maps = y[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        return self.net(torch.cat([x, maps], dim=1))


def radford(size: int) -> tuple[nn.Module, nn.Module]:
    """Radford et al.: G Dense(4*4*512) -> BN -> ReLU, then ConvT(4, s2) -> BN -> ReLU halving the
    channels up to size/2, ConvT(3, 4, s2) -> tanh; D the mirror, LeakyReLU(0.2), no BN first."""
    levels = size.bit_length() - 3
    g: list[nn.Module] = [nn.Linear(Z_DIM, 4 * 4 * 512, bias=False), nn.BatchNorm1d(4 * 4 * 512), nn.ReLU(),
                          nn.Unflatten(1, (512, 4, 4))]
    channels = 512
    for _ in range(levels - 1):
        g += [nn.ConvTranspose2d(channels, channels // 2, 4, stride=2, padding=1, bias=False),
              nn.BatchNorm2d(channels // 2), nn.ReLU()]
        channels //= 2
    g += [nn.ConvTranspose2d(channels, 3, 4, stride=2, padding=1), nn.Tanh()]
    d: list[nn.Module] = []
    previous = 3
    for level in range(levels):
        channels = 512 >> (levels - 1 - level)
        d.append(nn.Conv2d(previous, channels, 4, stride=2, padding=1, bias=level == 0))
        d += [nn.BatchNorm2d(channels)] if level > 0 else []
        d.append(nn.LeakyReLU(0.2))
        previous = channels
    d += [nn.Flatten(), nn.Linear(512 * 4 * 4, 1)]
    return nn.Sequential(*g), nn.Sequential(*d)


#: name -> (G, D builder, image shape (C, H, W), conditional)
MODELS = {
    "dcgan": (dcgan, (1, 28, 28), False),
    "mlp": (mlp, (1, 28, 28), False),
    "cgan": (lambda: mlp(CLASSES), (1, 28, 28), True),
    "cdcgan": (lambda: (CDCGANGenerator(), CDCGANDiscriminator()), (1, 28, 28), True),
    "radford32": (lambda: radford(32), (3, 32, 32), False),
    "radford64": (lambda: radford(64), (3, 64, 64), False),
}


class TorchGAN:
    """Models, Adam optimizers and one training step in the trainer's order (PyTorch's DCGAN example's)."""

    def __init__(self, model: str, batch: int, threads: int | None = None, device: str = "cpu") -> None:
        if threads is not None:
            torch.set_num_threads(threads)
        torch.manual_seed(0)
        builder, image_shape, conditional = MODELS[model]
        self.device = device
        g, d = builder()
        self.G, self.D = g.to(device), d.to(device)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=1e-4, eps=1e-7)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=1e-4, eps=1e-7)
        self.loss = nn.BCEWithLogitsLoss()
        self.batch = batch
        self.real = torch.rand(batch, *image_shape, device=device) * 2 - 1
        labels = torch.randint(0, CLASSES, (batch,), device=device)
        self.labels = nn.functional.one_hot(labels, CLASSES).float() if conditional else None
        self.ones = torch.ones(batch, 1, device=device)
        self.zeros = torch.zeros(batch, 1, device=device)

    def _with_labels(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return (x,) if self.labels is None else (x, self.labels)

    def step(self) -> Any:
        """D on real (target 1) and on G(z) (target 0), Adam on D; then G through D (target 1), Adam on G."""
        self.D.zero_grad(set_to_none=False)
        self.loss(self.D(*self._with_labels(self.real)), self.ones).backward()
        fake = self.G(*self._with_labels(torch.randn(self.batch, Z_DIM, device=self.device)))
        self.loss(self.D(*self._with_labels(fake.detach())), self.zeros).backward()
        self.opt_d.step()
        for p in self.D.parameters():
            p.requires_grad_(False)
        self.G.zero_grad(set_to_none=False)
        loss_g = self.loss(self.D(*self._with_labels(fake)), self.ones)
        loss_g.backward()
        self.opt_g.step()
        for p in self.D.parameters():
            p.requires_grad_(True)
        return loss_g

    def synchronize(self) -> None:
        if self.device != "cpu":
            torch.cuda.synchronize()


#: PyTorch module -> the minigan layer class that computes the same (reshapes have none)
KINDS = {nn.Linear: "Dense", nn.Conv2d: "Conv2D", nn.ConvTranspose2d: "Conv2DTranspose",
         nn.BatchNorm1d: "BatchNormalization", nn.BatchNorm2d: "BatchNormalization", nn.LeakyReLU: "LeakyReLU",
         nn.ReLU: "ReLU", nn.Dropout: "Dropout", nn.Tanh: "Tanh"}


def layer_times(model: str, batch: int, repeats: int,
                timed: Callable[[Callable[[], Any]], float]) -> dict[str, list[tuple[str, float, float]]]:
    """{"generator": rows, "discriminator": rows}, a row (minigan class, forward s, backward s) for each
    module of the network's layer stack but the reshapes (a conditional model's: after its labels are
    joined), each timed alone on the input it gets in the network: the forward with autograd recording,
    as in training, and the backward to its input and parameters (``autograd.grad`` of one kept graph).
    The median of ``repeats`` calls each."""
    gan = TorchGAN(model, batch)
    inputs = {"generator": (gan.G, gan._with_labels(torch.randn(batch, Z_DIM))),
              "discriminator": (gan.D, gan._with_labels(gan.real))}
    times = {}
    for role, (network, args) in inputs.items():
        stack = getattr(network, "net", network)
        seen: list[torch.Tensor] = []
        hook = stack.register_forward_pre_hook(lambda module, given, seen=seen: seen.append(given[0].detach()))
        with torch.no_grad():
            network(*args)
        hook.remove()
        x, rows = seen[0], []
        for module in stack:
            with torch.no_grad():
                y = module(x)
            if type(module) in KINDS:
                x_in = x.clone().requires_grad_(True)
                wrt = [x_in, *(p for p in module.parameters() if p.requires_grad)]
                out = module(x_in)
                dy = torch.randn_like(out)
                forward = median(timed(lambda m=module, v=x_in: m(v)) for _ in range(repeats))
                backward = median(timed(lambda o=out, w=wrt, d=dy: torch.autograd.grad(o, w, d, retain_graph=True))
                                  for _ in range(repeats))
                rows.append((KINDS[type(module)], forward, backward))
            x = y
        times[role] = rows
    return times
