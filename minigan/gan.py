"""The GAN step, generic over any generator G and discriminator D (Sequential models).

One step (the order of the PyTorch DCGAN example; each training forward has its backward)::

    D step (d_steps times, one real batch x each):
        zero D grads
        D(x)        -> real loss  -> D.backward(input_grad=False)
        G(z)        -> fake (training mode; G.discard() unless it is the last D step)
        D(fake)     -> fake loss  -> D.backward(input_grad=False)
        penalties (gp_weight, r1_gamma): their parameter gradients added to D's
        Adam D step; with clip c: every D parameter clamped to [-c, c]
    G step (g_steps times; the first reuses the last fake, later ones draw a new z):
        D.trainable = False                                    (no D parameter gradients)
        D(fake) -> G loss -> dfake = D.backward -> G.backward(dfake, input_grad=False) -> Adam G step

The loss pairs (:data:`GAN_OBJECTIVES`; ``x`` real, ``s`` the label smoothing, D's raw outputs)::

    loss             D loss                                         G loss
    non-saturating   bce(D(x), 1 - s) + bce(D(G(z)), 0)             bce(D(G(z)), 1) = -mean log sigmoid(D(G(z)))
    minimax          the same                                       -bce(D(G(z)), 0) = mean log(1 - sigmoid(D(G(z))))
    hinge            mean relu(1 - D(x)) + mean relu(1 + D(G(z)))   -mean D(G(z))
    wasserstein      mean D(G(z)) - mean D(x)                       -mean D(G(z))
    least-squares    0.5 mean (D(x) - (1 - s))^2 + 0.5 mean D(G(z))^2   0.5 mean (D(G(z)) - 1)^2

Gradient penalties (:func:`minigan.penalties.gradient_penalty`, ``P = w mean_i (||grad_x D(x_i)|| - c)^2``),
each D update, after both backward passes::

    WGAN-GP (gp_weight = lambda):  w = lambda, c = 1, at interpolates e x + (1 - e) G(z), e ~ U[0, 1)
                                   one per image, drawn from the GAN's noise generator
    R1 (r1_gamma = gamma):         w = gamma / 2 * k, c = 0, at the real batch x, on the D updates
                                   whose index opt_d.t is a multiple of k = r1_every (lazy R1)

Conditional GANs (``num_classes=K``): G takes ``[z, y]`` and D ``[images, y]`` with y one-hot
(N, K). Real batches come with their labels; fakes get labels drawn uniformly over the K
classes (after their z), the same y in D(fake) as in G(z, y). In the G step D.backward returns
``[dfake, dy]``; dfake goes to G.backward. ``input_grad=False`` tells the first layer of D (in
the D step) and of G that no gradient with respect to the images, z or y is wanted, so the
first convolution skips its col2im and the first Dense its ``dy K^T``.

Reported per step: d_loss (without penalties), g_loss, and D's mean output on the real and on the
fake batch of the last D step, d_x and d_g_z: for the cross-entropy losses the mean probability
``sigmoid`` (D(x) near 1, D(G(z)) near 0: D winning), for the others the mean raw output (a
critic's score, in no fixed range: ``d_x - d_g_z`` is the critic's estimate of the Wasserstein
distance). With a penalty, also ``penalty``: the penalties of the last D update (0 where lazy R1
skipped it).
:class:`minigan.training.trainer.Trainer` runs the epochs around :meth:`GAN.train_step`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from minigan import backend, losses, optim, penalties
from minigan.nn import Layer

LossFn = Callable[[Any], tuple[Any, Any]]


@dataclass(frozen=True)
class GANObjective:
    """One GAN loss: ``real(outputs, s)``, ``fake(outputs)`` (D's, on D(x) and D(G(z))) and
    ``generator(outputs)`` (G's, on D(G(z))), each ``(loss, dL/doutputs)``; ``s`` is the label
    smoothing. ``probabilities``: D's outputs are logits, reported as mean sigmoid; else raw.
    ``smoothing``: whether label smoothing means anything for this loss."""

    real: Callable[[Any, float], tuple[Any, Any]]
    fake: LossFn
    generator: LossFn
    probabilities: bool
    smoothing: bool


def _minimax_generator(outputs: Any) -> tuple[Any, Any]:
    loss, grad = losses.bce_with_logits(outputs, 0.0)
    return -loss, -grad


#: The losses ``--loss`` selects (the table in the module docstring). Each entry looks its
#: functions up in :mod:`minigan.losses` when called.
GAN_OBJECTIVES: dict[str, GANObjective] = {
    "non-saturating": GANObjective(
        lambda x, s: losses.bce_with_logits(x, 1.0 - s), lambda x: losses.bce_with_logits(x, 0.0),
        lambda x: losses.bce_with_logits(x, 1.0), probabilities=True, smoothing=True),
    "minimax": GANObjective(
        lambda x, s: losses.bce_with_logits(x, 1.0 - s), lambda x: losses.bce_with_logits(x, 0.0),
        _minimax_generator, probabilities=True, smoothing=True),
    "hinge": GANObjective(
        lambda x, s: losses.hinge(x, 1.0), lambda x: losses.hinge(x, -1.0),
        lambda x: losses.wasserstein(x, 1.0), probabilities=False, smoothing=False),
    "wasserstein": GANObjective(
        lambda x, s: losses.wasserstein(x, 1.0), lambda x: losses.wasserstein(x, -1.0),
        lambda x: losses.wasserstein(x, 1.0), probabilities=False, smoothing=False),
    "least-squares": GANObjective(
        lambda x, s: losses.least_squares(x, 1.0 - s), lambda x: losses.least_squares(x, 0.0),
        lambda x: losses.least_squares(x, 1.0), probabilities=False, smoothing=True),
}
GAN_LOSSES = tuple(GAN_OBJECTIVES)


def _mean_output(outputs: Any, probabilities: bool) -> Any:
    """Mean ``sigmoid(outputs)`` (``probabilities``) or mean ``outputs``, a 0-d device array."""
    if not probabilities:
        return outputs.mean()
    xp = backend.get_array_module(outputs)
    return (0.5 * (1 + xp.tanh(0.5 * outputs))).mean()


class GAN:
    """A generator, a discriminator and their optimizers, with :meth:`train_step`.

    ``generator``: z (N, latent_dim) -> images (N, H, W, C); ``discriminator``: images -> logits (N, 1).
    With ``num_classes`` (conditional): ``generator([z, y])`` and ``discriminator([images, y])``,
    y one-hot (N, num_classes). ``loss`` names one of :data:`GAN_OBJECTIVES`; ``clip > 0``
    clamps D's parameters to [-clip, clip] after each D update (0: never). ``gp_weight`` (WGAN-GP's
    lambda) and ``r1_gamma`` / ``r1_every`` (R1, lazy every k D updates) add gradient penalties
    (0: none); they need an unconditional D of the layers :data:`minigan.penalties.SUPPORTED`.

    Data-parallel training (:func:`minigan.training.data_parallel.share_noise`) sets ``noise_rng``, a
    generator every process draws the same numbers from, and ``shard = (rank, size)``: each fake
    batch of n is then cut from a global draw of ``size * n`` z (and labels), rows
    ``rank * n`` to ``(rank + 1) * n``, so the processes together see the noise of one big batch.
    The defaults (``backend.rng()``, ``(0, 1)``) draw exactly n: a single process is unchanged.
    """

    def __init__(
        self,
        generator: Layer,
        discriminator: Layer,
        opt_g: optim.Optimizer,
        opt_d: optim.Optimizer,
        latent_dim: int,
        loss: str = "non-saturating",
        label_smoothing: float = 0.0,
        d_steps: int = 1,
        g_steps: int = 1,
        num_classes: int | None = None,
        clip: float = 0.0,
        gp_weight: float = 0.0,
        r1_gamma: float = 0.0,
        r1_every: int = 1,
    ) -> None:
        if num_classes is not None and int(num_classes) < 2:
            raise ValueError(f"GAN: expected num_classes >= 2 (or None), got {num_classes}")
        if loss not in GAN_LOSSES:
            raise ValueError(f"GAN: expected loss in {GAN_LOSSES}, got {loss!r}")
        if not 0 <= label_smoothing < 1:
            raise ValueError(f"GAN: expected label_smoothing >= 0 and < 1, got {label_smoothing!r}")
        if label_smoothing and not GAN_OBJECTIVES[loss].smoothing:
            raise ValueError(f"GAN: label smoothing needs targets; the {loss} loss has none, "
                             f"expected label_smoothing 0, got {label_smoothing!r}")
        if not clip >= 0:
            raise ValueError(f"GAN: expected clip >= 0 (0: no weight clipping), got {clip!r}")
        if d_steps < 1 or g_steps < 1:
            raise ValueError(f"GAN: expected d_steps >= 1 and g_steps >= 1, got {d_steps} and {g_steps}")
        if not (gp_weight >= 0 and r1_gamma >= 0 and int(r1_every) == r1_every >= 1):
            raise ValueError(f"GAN: expected gp_weight >= 0, r1_gamma >= 0 and a whole r1_every >= 1, got "
                             f"{gp_weight!r}, {r1_gamma!r} and {r1_every!r}")
        if gp_weight or r1_gamma:
            if num_classes is not None:
                raise ValueError("GAN: gradient penalties (gp_weight, r1_gamma) need an unconditional critic: "
                                 "gradient_penalty takes one input array, not [images, labels]; "
                                 f"got num_classes={num_classes}")
            penalties.critic_layers(discriminator)  # a ValueError naming any layer without a second order
        self.generator, self.discriminator = generator, discriminator
        self.opt_g, self.opt_d = opt_g, opt_d
        self.latent_dim = int(latent_dim)
        self.loss = loss
        self.objective = GAN_OBJECTIVES[loss]
        self.clip = float(clip)
        self.gp_weight, self.r1_gamma, self.r1_every = float(gp_weight), float(r1_gamma), int(r1_every)
        self.label_smoothing = float(label_smoothing)
        self.d_steps, self.g_steps = int(d_steps), int(g_steps)
        self.num_classes = None if num_classes is None else int(num_classes)
        self.noise_rng: Any = None
        self.shard = (0, 1)

    def _rng(self) -> Any:
        return backend.rng() if self.noise_rng is None else self.noise_rng

    def noise(self, n: int) -> Any:
        """``z ~ N(0, 1)``, shape (n, latent_dim), from ``noise_rng`` (default :func:`minigan.backend.rng`)."""
        return self._rng().standard_normal((n, self.latent_dim), dtype=backend.floatx())

    def random_labels(self, n: int) -> Any:
        """One-hot labels (n, num_classes), classes uniform, from ``noise_rng`` (default
        :func:`minigan.backend.rng`)."""
        return backend.one_hot(self._rng().integers(0, self.num_classes, n), self.num_classes)

    def _inputs(self, x: Any, y: Any) -> Any:
        """The network input: ``x`` alone, or ``[x, y]`` for a conditional GAN."""
        return x if self.num_classes is None else [x, y]

    def generate(self, z: Any, y: Any = None, batch_size: int = 256) -> Any:
        """``G(z)`` (``G([z, y])`` when conditional) in inference mode (BatchNormalization uses
        its moving statistics), in chunks."""
        if (y is None) != (self.num_classes is None):
            raise ValueError(
                f"GAN.generate: expected labels y exactly when conditional (num_classes={self.num_classes})"
            )
        xp = backend.get_array_module(z)
        chunks = [
            self.generator.forward(self._inputs(z[i:i + batch_size], None if y is None else y[i:i + batch_size]),
                                   training=False)
            for i in range(0, len(z), batch_size)
        ]
        return xp.concatenate(chunks)

    def _penalize(self, real: Any, fake: Any) -> Any:
        """Add the gradient penalties' parameter gradients to D's grads; return their sum (0-d)."""
        D, total = self.discriminator, backend.get_array_module(real).zeros((), dtype=real.dtype)
        if self.gp_weight:
            points = penalties.interpolates(real, fake, self._rng())
            total = total + penalties.gradient_penalty(D, points, self.gp_weight, center=1.0)
        if self.r1_gamma and self.opt_d.t % self.r1_every == 0:
            total = total + penalties.gradient_penalty(D, real, self.r1_gamma / 2 * self.r1_every, center=0.0)
        return total

    def _clip_discriminator(self) -> None:
        """Clamp every D parameter to [-clip, clip] in place (the WGAN of Arjovsky et al. 2017)."""
        for param in self.discriminator.params.values():
            backend.get_array_module(param).clip(param, -self.clip, self.clip, out=param)

    def _fake(self, n: int) -> tuple[Any, Any]:
        """A training-mode ``G(z)`` (``G([z, y])`` with random labels when conditional) and its y;
        z and y are this process's rows of a draw for all ``size`` processes (see ``shard``)."""
        rank, size = self.shard
        rows = slice(rank * n, (rank + 1) * n)
        z = self.noise(size * n)[rows]
        y = None if self.num_classes is None else self.random_labels(size * n)[rows]
        return self.generator.forward(self._inputs(z, y)), y

    def train_step(self, reals: Sequence[Any], labels: Sequence[Any] | None = None) -> dict[str, Any]:
        """One GAN step on ``d_steps`` real batches (and, when conditional, their one-hot
        ``labels``); returns 0-d device arrays ``d_loss``, ``g_loss``, ``d_x``, ``d_g_z`` (no host
        synchronisation)."""
        if len(reals) != self.d_steps:
            raise ValueError(f"GAN.train_step: expected {self.d_steps} real batches, got {len(reals)}")
        if (labels is None) != (self.num_classes is None) or (labels is not None and len(labels) != len(reals)):
            raise ValueError(
                f"GAN.train_step: expected {'no labels' if self.num_classes is None else f'{len(reals)} label batches'}"
                f" (num_classes={self.num_classes}), got {'none' if labels is None else len(labels)}"
            )
        G, D = self.generator, self.discriminator
        objective = self.objective
        for i, real in enumerate(reals):
            self.opt_d.zero_grad()
            logits_real = D.forward(self._inputs(real, None if labels is None else labels[i]))
            loss_real, dlogits = objective.real(logits_real, self.label_smoothing)
            D.backward(dlogits, input_grad=False)
            fake, y_fake = self._fake(len(real))
            if i < self.d_steps - 1:
                G.discard()
            logits_fake = D.forward(self._inputs(fake, y_fake))
            loss_fake, dlogits = objective.fake(logits_fake)
            D.backward(dlogits, input_grad=False)
            if self.gp_weight or self.r1_gamma:
                penalty = self._penalize(real, fake)
            self.opt_d.step()
            if self.clip:
                self._clip_discriminator()
        stats = {
            "d_loss": loss_real + loss_fake,
            "d_x": _mean_output(logits_real, objective.probabilities),
            "d_g_z": _mean_output(logits_fake, objective.probabilities),
        }
        if self.gp_weight or self.r1_gamma:
            stats["penalty"] = penalty
        D.trainable = False
        try:
            for j in range(self.g_steps):
                if j > 0:
                    fake, y_fake = self._fake(len(fake))
                self.opt_g.zero_grad()
                g_loss, dlogits = objective.generator(D.forward(self._inputs(fake, y_fake)))
                dfake = D.backward(dlogits)
                G.backward(dfake if self.num_classes is None else dfake[0], input_grad=False)
                self.opt_g.step()
        finally:
            D.trainable = True
        stats["g_loss"] = g_loss
        return stats
