"""Studies: several configurations of one GAN trained for the same budget, then compared.

A study is a list of :class:`Variant` s, each a label and *overrides* of a base
:class:`~minigan.training.trainer.TrainConfig` (``{"beta1": 0.5}``, ``{"batch_norm": False}``...).
:data:`STUDIES` holds the studies of the literature; :func:`parse_vary` turns
``"key=v1,v2"`` options into a grid, and :func:`combine` takes the product of both::

    variants = combine(STUDIES["beta1"].variants, parse_vary(["lr=1e-3,2e-4"]))   # 4 variants
    results = run_study(base_config, variants, images, "runs/study", steps=500)

Every variant trains from the same seed (the same initial weights when the architecture is
the same, the same batch order) with the normal :class:`~minigan.training.trainer.Trainer` in its own
subfolder; after each one, ``study.csv`` (:data:`CSV_COLUMNS`, one row per variant) and
``study.png`` (loss, D(x) and D(G(z)) curves with a line per variant, and every variant's
final sample grid) are rewritten, so an interrupted study keeps what it finished.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from minigan import backend
from minigan.cli.recipes import MNIST_DCGAN
from minigan.cli.study_report import format_overrides, plot_study, write_csv
from minigan.evaluate import get_classifier
from minigan.gan import GAN
from minigan.training import TrainConfig, Trainer, build_gan, default_callbacks, plots
from minigan.training.callbacks import Diverged
from minigan.training.callbacks.outputs import fixed_noise
from minigan.training.callbacks.quality import Evaluate, mnist_evaluate, score_generator
from minigan.training.history import History

Overrides = dict[str, Any]
Scorer = Callable[[GAN, TrainConfig], dict[str, float]]  # -> {"fid": ..., "inception_score": ...}


@dataclass(frozen=True)
class Variant:
    """One configuration of a study: its label (figure legend, CSV) and its overrides."""

    label: str
    overrides: Overrides


@dataclass(frozen=True)
class Study:
    """A named study: what it compares and its variants."""

    description: str
    variants: tuple[Variant, ...]


def _lrs(d: str, g: str) -> Variant:
    return Variant(f"D {d} / G {g}", {"lr_d": float(d), "lr_g": float(g)})


#: The studies of the literature, by name (``--study NAME``).
STUDIES: dict[str, Study] = {
    "beta1": Study(
        "Adam beta1 0.5 (Radford et al.) vs 0.9 (Adam's default)",
        (Variant("beta1=0.5", {"beta1": 0.5}), Variant("beta1=0.9", {"beta1": 0.9})),
    ),
    "lr": Study(
        "learning rates of D / G: 2e-4/2e-4, 1e-3/2e-4, 2e-4/1e-3, 1e-3/1e-3",
        (_lrs("2e-4", "2e-4"), _lrs("1e-3", "2e-4"), _lrs("2e-4", "1e-3"), _lrs("1e-3", "1e-3")),
    ),
    "steps": Study(
        "k D steps per G step and k G steps per D step: 1:1, 5:1, 1:5",
        (
            Variant("1 D : 1 G", {"d_steps": 1, "g_steps": 1}),
            Variant("5 D : 1 G", {"d_steps": 5, "g_steps": 1}),
            Variant("1 D : 5 G", {"d_steps": 1, "g_steps": 5}),
        ),
    ),
    "latent": Study(
        "latent dimension 10 / 100 / 1000",
        tuple(Variant(f"latent_dim={n}", {"latent_dim": n}) for n in (10, 100, 1000)),
    ),
    "batchnorm": Study(
        "generator with vs without BatchNormalization",
        (Variant("G with BatchNorm", {"batch_norm": True}), Variant("G without BatchNorm", {"batch_norm": False})),
    ),
    "loss": Study(
        "non-saturating vs minimax generator loss",
        tuple(Variant(loss, {"loss": loss}) for loss in ("non-saturating", "minimax")),
    ),
}


#: The keys a variant may override, each with its parser: every setting declared with
#: ``vary=True`` (TrainConfig's and the MNIST DCGAN's). ``lr`` sets both learning rates,
#: ``width`` both networks' width, ``batch_norm`` the generator's BatchNormalization layers.
OVERRIDE_KEYS: dict[str, Callable[[str], Any]] = {
    s.name: s.parse for s in MNIST_DCGAN.all_settings() if s.vary and s.stored
}


def parse_vary(texts: Iterable[str]) -> list[Variant]:
    """The grid product of ``"key=v1,v2,..."`` options, in order (the last key varies fastest).

    Raises ValueError naming the option for an unknown or repeated key or a bad value.
    """
    axes: list[list[tuple[str, Any]]] = []
    seen: set[str] = set()
    for text in texts:
        key, sep, values = text.partition("=")
        key = key.strip()
        if not sep or not values.strip():
            raise ValueError(f"--vary {text!r}: expected key=value1,value2,...")
        if key not in OVERRIDE_KEYS:
            raise ValueError(f"--vary {text!r}: unknown key {key!r}; expected one of {sorted(OVERRIDE_KEYS)}")
        if key in seen:
            raise ValueError(f"--vary {text!r}: key {key!r} is given twice")
        seen.add(key)
        axis = []
        for value in values.split(","):
            try:
                axis.append((key, OVERRIDE_KEYS[key](value.strip())))
            except ValueError as exc:
                raise ValueError(f"--vary {text!r}: bad value {value.strip()!r} for {key}: {exc}") from None
        axes.append(axis)
    if not axes:
        return []
    return [Variant(format_overrides(dict(point)), dict(point)) for point in itertools.product(*axes)]


def combine(*groups: Sequence[Variant]) -> list[Variant]:
    """The product of groups of variants (empty groups are skipped): labels joined with ``", "``,
    overrides merged. Raises ValueError when two groups set the same key."""
    groups = tuple(g for g in groups if g)
    if not groups:
        raise ValueError("study: expected at least one variant (a --study or a --vary), got none")
    variants = []
    for parts in itertools.product(*groups):
        overrides: Overrides = {}
        for part in parts:
            clash = sorted(set(overrides) & set(part.overrides))
            if clash:
                raise ValueError(f"study: {clash} set both by the study and by --vary")
            overrides.update(part.overrides)
        variants.append(Variant(", ".join(p.label for p in parts), overrides))
    return variants


def configure(base: TrainConfig, overrides: Overrides) -> TrainConfig:
    """``base`` with ``overrides`` applied (validated by :class:`TrainConfig`).

    ``lr`` sets ``lr_d`` and ``lr_g`` unless they are given; ``latent_dim``, ``width`` and
    ``batch_norm`` also go into the networks' specs. The overrides are recorded in
    ``options["study"]``, and the options the base recorded under the same names follow them.
    """
    unknown = sorted(set(overrides) - set(OVERRIDE_KEYS))
    if unknown:
        raise ValueError(f"study: unknown overrides {unknown}; expected keys among {sorted(OVERRIDE_KEYS)}")
    values = dict(overrides)
    generator, discriminator = copy.deepcopy(base.generator), copy.deepcopy(base.discriminator)
    if "lr" in values:
        lr = values["lr"]
        values.setdefault("lr_d", lr)
        values.setdefault("lr_g", lr)
    if "width" in values:
        width = values.pop("width")
        generator.setdefault("kwargs", {})["width"] = width
        discriminator.setdefault("kwargs", {})["width"] = width
    if "batch_norm" in values:
        generator.setdefault("kwargs", {})["batch_norm"] = values.pop("batch_norm")
    if "latent_dim" in values:
        generator.setdefault("kwargs", {})["latent_dim"] = values["latent_dim"]
    options = dict(base.options)
    options.update({k: v for k, v in overrides.items() if k in base.options})
    options["study"] = dict(overrides)
    return dataclasses.replace(base, generator=generator, discriminator=discriminator, options=options, **values)


def step_budget(config: TrainConfig, n_images: int, steps: int) -> tuple[TrainConfig, int]:
    """Epochs and images for ``steps`` training steps: ``(config with epochs E, images to use)``.

    One step takes ``batch_size * d_steps`` images. E = ceil(steps / steps of a whole epoch),
    and each epoch has ceil(steps / E) steps over the first that many batches' images, so
    the run takes ``steps`` steps exactly when they fit in one epoch, else at most E - 1 more.
    """
    per_step = config.batch_size * config.d_steps
    full_epoch = n_images // per_step
    if full_epoch < 1:
        raise ValueError(f"study: expected at least batch_size * d_steps = {per_step} images, got {n_images}")
    epochs = math.ceil(steps / full_epoch)
    per_epoch = math.ceil(steps / epochs)
    return dataclasses.replace(config, epochs=epochs), per_epoch * per_step


@dataclass
class Result:
    """What one variant's training left: its history (a row per step),
    the final sample grid (uint8, None if it diverged), wall time, status and the scorer's figures."""

    variant: Variant
    config: TrainConfig
    out_dir: Path
    history: History
    grid: np.ndarray | None
    seconds: float
    status: str
    scores: dict[str, float] = field(default_factory=dict)


def slug(label: str) -> str:
    """A folder name for a label: anything but letters, digits, ``.``, ``=``, ``-`` becomes ``_``."""
    return re.sub(r"[^A-Za-z0-9.=-]+", "_", label).strip("_") or "variant"


def train_variant(
    config: TrainConfig,
    variant: Variant,
    images: Any,
    out_dir: Path,
    steps: int | None = None,
    scorer: Scorer | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> Result:
    """Train one variant (config already overridden) in ``out_dir`` and collect its :class:`Result`.

    A run that diverges is kept with the status ``diverged at step N`` and no grid; a failing
    scorer is logged and leaves the scores empty. The grid and the scores come from the samples
    the run draws (:meth:`~minigan.training.trainer.Trainer.sampling`: with ``ema``, G's averaged weights).
    """
    if steps is not None:
        config, n_images = step_budget(config, len(images), steps)
        images = images[:n_images]
    gan = build_gan(config)
    trainer = Trainer(gan, images, config, out_dir=out_dir, log=log,
                      callbacks=default_callbacks(config, out_dir, images, progress=progress))
    start = time.perf_counter()
    status = "ok"
    try:
        trainer.fit()
    except Diverged:
        status = f"diverged at step {len(trainer.history) + 1}"
        log(f"{variant.label}: {status}")
    seconds = time.perf_counter() - start
    history = trainer.history
    grid, scores = None, {}
    if status == "ok":
        with trainer.sampling() as sampler:
            grid = plots.image_grid(sampler.generate(backend.as_array(fixed_noise(config))))
            if scorer is not None:
                try:
                    scores = scorer(sampler, config)
                except (ValueError, OSError) as exc:
                    log(f"{variant.label}: no scores ({exc})")
    return Result(variant, config, out_dir, history, grid, seconds, status, scores)


def run_study(
    base: TrainConfig,
    variants: Sequence[Variant],
    images: Any,
    out_dir: str | Path,
    steps: int | None = None,
    scorer: Scorer | None = None,
    title: str = "",
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> list[Result]:
    """Train every variant of ``base`` for the same budget (``base.epochs`` epochs, or ``steps``
    steps) in ``out_dir/NN_label/``, rewriting ``out_dir/study.csv`` and ``study.png`` after each.

    All the configurations are built (and validated) before the first one trains.
    """
    out_dir = Path(out_dir)
    labels = [v.label for v in variants]
    if len(set(labels)) != len(labels):
        raise ValueError(f"study: expected distinct labels, got {labels}")
    configs = [configure(base, v.overrides) for v in variants]
    results: list[Result] = []
    for i, (variant, config) in enumerate(zip(variants, configs, strict=True)):
        log(f"[{i + 1}/{len(variants)}] {variant.label} ({format_overrides(variant.overrides)})")
        folder = out_dir / f"{i + 1:02d}_{slug(variant.label)}"
        results.append(train_variant(config, variant, images, folder, steps, scorer, progress, log))
        write_csv(results, out_dir / "study.csv")
        plot_study(results, out_dir / "study.png", title)
    return results


def quality_scorer(n: int = 2000, log: Callable[[str], None] = print, dataset: str = "mnist") -> Scorer | None:
    """A scorer: FID, KID, precision, recall and Inception Score of ``n`` samples
    (:func:`~minigan.training.callbacks.quality.score_generator`) in the features of the classifier
    shipped for ``dataset``, against its test split (which it logs, with the evaluator's name and
    hash); None (logged) if the evaluator cannot be read."""
    try:
        evaluate: Evaluate = mnist_evaluate((28, 28, 1), dataset)
        log(f"--eval: {n:,} samples per configuration, scored by {get_classifier(dataset).label} against the "
            f"{dataset} test split")
    except (ImportError, ValueError, OSError) as exc:
        log(f"--eval: skipping the scores ({exc})")
        return None

    def scorer(gan: GAN, config: TrainConfig) -> dict[str, float]:
        figures = score_generator(gan, config, evaluate, n, config.epochs)
        return {key: float(figures[key]) for key in ("fid", "inception_score", "kid", "precision", "recall")}

    return scorer
