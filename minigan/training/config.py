"""The configuration of a training run, and the GAN it describes.

:class:`TrainConfig` holds everything that defines a run; it is stored in its checkpoints
(JSON). Each field is a :func:`~minigan.training.settings.setting`: its type, default, range and help
are written once, here, and the command line, the validation and the study runner's
``--vary`` keys are derived from them. :func:`build_gan` makes the networks and optimizers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from minigan import backend, models, optim
from minigan.gan import GAN, GAN_LOSSES
from minigan.training.settings import check_all, setting, settings_of


@dataclass
class TrainConfig:
    """Everything that defines a run (stored in its checkpoints as JSON).

    ``generator``/``discriminator`` are model specs (see :func:`minigan.models.spec`);
    ``num_classes``: None for an unconditional GAN, K for one conditioned on one-hot labels.
    ``options`` records the recipe's own settings (dataset, width, limit...) so that a resume
    can rebuild the same run. ``lr_d``/``lr_g`` default to ``lr``. Batches drop the remainder
    of an epoch (fixed shapes).
    """

    generator: dict = field(default_factory=lambda: models.spec("dcgan_generator"))
    discriminator: dict = field(default_factory=lambda: models.spec("dcgan_discriminator"))
    options: dict = field(default_factory=dict)
    num_classes: int | None = None
    num_samples: int = 64  # images in each sample grid (10 per class for a conditional GAN)

    epochs: int = setting(50, "epochs to train (on --resume: the total, including those done)", low=1)
    batch_size: int = setting(64, "images per batch", low=1)
    lr: float = setting(2e-4, "Adam learning rate of both networks", low=0, low_open=True)
    lr_d: float | None = setting(None, "discriminator learning rate (None: the value of --lr)", kind=float, low=0,
                                 low_open=True)
    lr_g: float | None = setting(None, "generator learning rate (None: the value of --lr)", kind=float, low=0,
                                 low_open=True)
    lr_schedule: str = setting("constant", "learning-rate schedule: constant; linear (to 0 over the run's last "
                               "half); step (/ 10 at 55% and 80% of the run)", choices=("constant", "linear", "step"))
    beta1: float = setting(0.5, "Adam beta_1", low=0, high=1)
    beta2: float = setting(0.999, "Adam beta_2", low=0, high=1)
    latent_dim: int = setting(100, "size of the noise vector z ~ N(0, 1)", low=1)
    d_steps: int = setting(1, "discriminator updates per step (each on its own real batch)", low=1)
    g_steps: int = setting(1, "generator updates per step", low=1)
    loss: str = setting("non-saturating", "GAN loss of D and G: non-saturating, minimax (both cross-entropy), hinge, "
                        "wasserstein, least-squares (docs/losses.md)", choices=GAN_LOSSES)
    clip: float = setting(0.0, "clamp D's parameters to [-c, c] after each D update (the WGAN of 2017's weight "
                               "clipping, with --loss wasserstein; 0: never)", low=0)
    label_smoothing: float = setting(0.0, "one-sided: real targets are 1 - s", low=0, high=1)
    gp_weight: float = setting(0.0, "WGAN-GP's lambda: each D update adds lambda mean (||grad D(x^)|| - 1)^2 on "
                                    "random interpolates x^ of real and fake images (0: none; 10 is usual)", low=0)
    r1_gamma: float = setting(0.0, "R1's gamma: D updates add gamma/2 mean ||grad D(x)||^2 on the real images "
                                   "(0: none)", low=0)
    r1_every: int = setting(1, "lazy R1: the R1 penalty on every k-th D update only, weighted k times", low=1)
    ema: float = setting(0.0, "decay of an exponential moving average of G's weights, used for samples, "
                              "scores and checkpoints (0: none; 0.999 is usual)", low=0, high=1)
    seed: int = setting(0, "seed of weights, noise, labels, dropout and batch order", low=0)
    sample_every: int = setting(1, "write a sample grid every N epochs", low=1, vary=False)
    checkpoint_every: int = setting(0, "also checkpoint every N steps (0: at epoch ends only)", low=0, vary=False)
    log_every: int | None = setting(None, "read losses from the device every N steps (default: 1 on numpy, "
                                          "50 on cupy)", kind=int, low=1, vary=False)
    eval_every: int = setting(0, "every N epochs, score samples in the features of the classifier minigan ships for "
                                 "the run's dataset: FID, KID, precision/recall, Inception Score (0: never)", low=0,
                              vary=False)
    eval_samples: int = setting(2000, "samples scored by --eval-every (more than precision/recall's k = 3)", low=4,
                                vary=False)

    def __post_init__(self) -> None:
        check_all(settings_of(TrainConfig), self, "TrainConfig")
        if self.num_classes is not None and self.num_classes < 2:
            raise ValueError(f"TrainConfig: expected num_classes >= 2 (or None), got {self.num_classes}")
        if self.num_samples < 1:
            raise ValueError(f"TrainConfig: expected num_samples >= 1, got {self.num_samples}")
        self.lr_d = self.lr if self.lr_d is None else self.lr_d
        self.lr_g = self.lr if self.lr_g is None else self.lr_g

    def gan_options(self) -> dict[str, Any]:
        """The :class:`~minigan.gan.GAN`'s own arguments (all but the networks and their optimizers)."""
        names = ("latent_dim", "loss", "label_smoothing", "d_steps", "g_steps", "num_classes", "clip", "gp_weight",
                 "r1_gamma", "r1_every")
        return {name: getattr(self, name) for name in names}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """A config from :func:`dataclasses.asdict` output (unknown keys are refused)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"TrainConfig: unknown options {unknown}")
        return cls(**values)


def build_gan(config: TrainConfig) -> GAN:
    """Seed minigan's RNG with ``config.seed``, build G and D from their specs and Adam for each."""
    backend.seed(config.seed)
    generator = models.build(config.generator)
    discriminator = models.build(config.discriminator)
    expected: tuple = (config.latent_dim,)
    if config.num_classes is not None:
        expected = (expected, (config.num_classes,))
    if generator.input_shape != expected:
        raise ValueError(
            f"build_gan: expected a generator with input {expected} (latent_dim, num_classes), "
            f"got {generator.input_shape}"
        )
    if config.num_classes is not None and (len(discriminator.input_shape) != 2
                                           or tuple(discriminator.input_shape[1]) != (config.num_classes,)):
        raise ValueError(
            f"build_gan: expected a discriminator with inputs (image shape, ({config.num_classes},)), "
            f"got {discriminator.input_shape}"
        )
    return GAN(
        generator,
        discriminator,
        optim.Adam(generator, config.lr_g, config.beta1, config.beta2),
        optim.Adam(discriminator, config.lr_d, config.beta1, config.beta2),
        **config.gan_options(),
    )
