"""The DCGAN of the TensorFlow DCGAN tutorial, trained on MNIST with minigan's own layers.

    python examples/mnist_dcgan.py                      # the tutorial: 50 epochs, batch 256, Adam 1e-4
    python examples/mnist_dcgan.py --preset fast        # 3 epochs, batch 64, Adam 1e-3 and an EMA of G: minutes
    python examples/mnist_dcgan.py --resume runs/mnist_dcgan/checkpoint.npz --epochs 10

A run is the data, two networks, a GAN with an Adam optimizer for each, and the callbacks
around the loop: :func:`compose` builds them from the options (``--help`` lists them all;
docs/training.md explains the model, the step and the outputs). ``python -m minigan train
mnist_dcgan`` runs the same recipe with the standard callbacks and gives the same samples.
Writes into ``--out``: ``samples/epoch_NNN.png``, ``samples.gif``, ``losses.png``,
``history.csv`` and ``checkpoint.npz``; Ctrl-C writes a checkpoint and ``--resume`` continues
exactly (bit-identical on the CPU).
"""

from __future__ import annotations

import sys
from pathlib import Path

from minigan import backend, models, optim
from minigan.cli import train
from minigan.cli.recipes import RECIPES, Options, Recipe
from minigan.gan import GAN
from minigan.training import Trainer
from minigan.training import callbacks as cb
from minigan.training.distributed import Communicator


def compose(recipe: Recipe, options: Options, comm: Communicator, progress: bool) -> Trainer:
    if comm.size > 1:
        raise ValueError("this script trains in one process; for --distributed use python -m minigan train mnist_dcgan")
    config = recipe.config(options)  # every setting, checked; stored in the checkpoints
    images, _ = recipe.data(options)  # MNIST (or --dataset fashion-mnist): (60000, 28, 28, 1) float32 in [-1, 1]

    backend.seed(config.seed)  # the weights, then the noise, the dropout masks and the batch order
    generator = models.build(config.generator)  # z (100) -> Dense -> BN -> 3 Conv2DTranspose -> tanh: (28, 28, 1)
    discriminator = models.build(config.discriminator)  # 2 x (Conv2D 5x5 s2, LeakyReLU, Dropout) -> Dense(1) logit
    gan = GAN(generator, discriminator,
              opt_g=optim.Adam(generator, config.lr_g, config.beta1, config.beta2),
              opt_d=optim.Adam(discriminator, config.lr_d, config.beta1, config.beta2),
              **config.gan_options())  # latent size, loss, D steps a G step...

    out = Path(options["out"])
    callbacks = [cb.DivergenceGuard(), cb.Progress(enabled=progress)]  # stop at a NaN; a progress bar
    if config.lr_schedule != "constant":
        callbacks.append(cb.LearningRateSchedule(cb.SCHEDULES[config.lr_schedule]))
    if config.ema:
        callbacks.append(cb.EMA(config.ema))  # samples from an average of G's weights
    if config.eval_every:
        evaluate = cb.mnist_evaluate(images.shape[1:], options["dataset"])
        callbacks.append(cb.QualityScores(config.eval_every, config.eval_samples, evaluate))  # FID, IS
    callbacks += [cb.SampleGrids(out / "samples", config.sample_every),  # samples/epoch_NNN.png, samples.gif
                  cb.HistoryFiles(out)]  # history.csv, losses.png
    if options["tensorboard"]:
        callbacks.append(cb.TensorBoard(out / "tensorboard"))
    callbacks += [cb.Checkpoints(config.checkpoint_every), cb.InterruptGuard()]  # checkpoint.npz; Ctrl-C: save, stop
    return Trainer(gan, images, config, out_dir=out, callbacks=callbacks)


def main(argv: list[str] | None = None) -> int:
    return train.main(RECIPES["mnist_dcgan"], argv, compose=compose)


if __name__ == "__main__":
    sys.exit(main())
