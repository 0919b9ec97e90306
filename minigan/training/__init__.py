"""A training run: the loop, its callbacks, its configuration and what it writes.

    config = TrainConfig(epochs=3, batch_size=64)
    gan = build_gan(config)
    trainer = Trainer(gan, images, config, out_dir="runs/x", callbacks=default_callbacks(config, "runs/x", images))
    trainer.fit()
"""

from minigan.training.callbacks import default_callbacks
from minigan.training.config import TrainConfig, build_gan
from minigan.training.history import History
from minigan.training.trainer import Trainer

__all__ = ["History", "TrainConfig", "Trainer", "build_gan", "default_callbacks"]
