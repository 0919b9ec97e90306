"""The same DCGAN and the same training step in PyTorch, the yardstick of bench_step.py.

Only the benchmark imports this file, and only when PyTorch is installed; minigan
itself never depends on PyTorch. The architecture is the TensorFlow DCGAN tutorial's
(see bench_step.py) in PyTorch's NCHW layout: "same" padding of a 5x5 kernel is
``padding=2`` (plus ``output_padding=1`` for a stride-2 transposed convolution), which
gives the same output sizes and the same number of multiply-adds as Keras.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def generator(z_dim: int = 100) -> nn.Module:
    """Dense(7*7*256) -> BN -> LReLU -> (256, 7, 7) -> CT(128, s1) -> BN -> LReLU
    -> CT(64, s2) -> BN -> LReLU -> CT(1, s2) -> tanh (CT: 5x5 transposed convolution, no bias)."""
    return nn.Sequential(
        nn.Linear(z_dim, 7 * 7 * 256, bias=False),
        nn.BatchNorm1d(7 * 7 * 256, eps=1e-3, momentum=0.01),
        nn.LeakyReLU(0.3),
        nn.Unflatten(1, (256, 7, 7)),
        nn.ConvTranspose2d(256, 128, 5, stride=1, padding=2, bias=False),
        nn.BatchNorm2d(128, eps=1e-3, momentum=0.01),
        nn.LeakyReLU(0.3),
        nn.ConvTranspose2d(128, 64, 5, stride=2, padding=2, output_padding=1, bias=False),
        nn.BatchNorm2d(64, eps=1e-3, momentum=0.01),
        nn.LeakyReLU(0.3),
        nn.ConvTranspose2d(64, 1, 5, stride=2, padding=2, output_padding=1, bias=False),
        nn.Tanh(),
    )


def discriminator() -> nn.Module:
    """Conv(64,s2) -> LReLU -> Dropout(0.3) -> Conv(128,s2) -> LReLU -> Dropout(0.3) -> Flatten -> Dense(1)."""
    return nn.Sequential(
        nn.Conv2d(1, 64, 5, stride=2, padding=2),
        nn.LeakyReLU(0.3),
        nn.Dropout(0.3),
        nn.Conv2d(64, 128, 5, stride=2, padding=2),
        nn.LeakyReLU(0.3),
        nn.Dropout(0.3),
        nn.Flatten(),
        nn.Linear(7 * 7 * 128, 1),
    )


class TorchDCGAN:
    """Models, Adam optimizers and one training step in PyTorch's DCGAN-example order."""

    def __init__(self, batch: int, z_dim: int = 100, threads: int | None = None, device: str = "cpu") -> None:
        if threads is not None:
            torch.set_num_threads(threads)
        torch.manual_seed(0)
        self.device = device
        self.G = generator(z_dim).to(device)
        self.D = discriminator().to(device)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=1e-4, eps=1e-7)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=1e-4, eps=1e-7)
        self.loss = nn.BCEWithLogitsLoss()
        self.batch, self.z_dim = batch, z_dim
        self.real = torch.rand(batch, 1, 28, 28, device=device) * 2 - 1
        self.ones = torch.ones(batch, 1, device=device)
        self.zeros = torch.zeros(batch, 1, device=device)

    def step(self) -> Any:
        """D on real (target 1) and on G(z) (target 0), Adam on D; then G through D (target 1), Adam on G."""
        self.D.zero_grad(set_to_none=False)
        self.loss(self.D(self.real), self.ones).backward()
        fake = self.G(torch.randn(self.batch, self.z_dim, device=self.device))
        self.loss(self.D(fake.detach()), self.zeros).backward()
        self.opt_d.step()
        for p in self.D.parameters():
            p.requires_grad_(False)
        self.G.zero_grad(set_to_none=False)
        loss_g = self.loss(self.D(fake), self.ones)
        loss_g.backward()
        self.opt_g.step()
        for p in self.D.parameters():
            p.requires_grad_(True)
        return loss_g

    def synchronize(self) -> None:
        if self.device != "cpu":
            torch.cuda.synchronize()
