"""Live curves and sample grids in TensorBoard (``tensorboard --logdir runs/``), through tensorboardX."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from minigan.training import plots
from minigan.training.callbacks.base import Callback
from minigan.training.callbacks.outputs import sample_images

if TYPE_CHECKING:
    from minigan.training.history import History
    from minigan.training.trainer import Trainer

#: TensorBoard tag of each logged figure (columns 2-6 of HISTORY_COLUMNS) and of each quality score.
SCALARS = {"d_loss": "loss/D", "g_loss": "loss/G", "d_x": "D/real", "d_g_z": "D/fake",
           "images_per_s": "speed/images_per_s"}
QUALITY = {"fid": "quality/FID", "inception_score": "quality/inception_score", "mean_confidence": "quality/confidence"}


class TensorBoard(Callback):
    """Write an event file in ``logdir``: the figures of every logged step as scalars (the tags of
    :data:`SCALARS`), the sample grid at each epoch's end as an image, the quality scores when
    they are computed. Needs ``pip install "minigan[tensorboard]"`` (tensorboardX)."""

    def __init__(self, logdir: str | Path) -> None:
        try:
            from tensorboardX import SummaryWriter
        except ImportError:
            raise ImportError('TensorBoard: needs tensorboardX: pip install "minigan[tensorboard]"') from None
        self.logdir = Path(logdir)
        self._writer_class = SummaryWriter
        self.writer: Any = None

    def on_fit_start(self, trainer: Trainer) -> None:
        self.writer = self._writer_class(str(self.logdir))

    def on_log(self, trainer: Trainer, rows: History) -> None:
        for name, tag in SCALARS.items():
            for step, value in zip(rows["step"], rows[name], strict=True):
                self.writer.add_scalar(tag, float(value), int(step))

    def on_epoch_end(self, trainer: Trainer, epoch: int) -> None:
        images, columns = sample_images(trainer)
        self.writer.add_image("samples", plots.image_grid(images, columns), trainer.step, dataformats=
                              "HW" if images.shape[-1] == 1 else "HWC")
        if len(trainer.quality) and trainer.quality[-1][trainer.quality.columns.index("epoch")] == epoch:
            row = dict(zip(trainer.quality.columns, trainer.quality[-1], strict=True))
            for name, tag in QUALITY.items():
                self.writer.add_scalar(tag, float(row[name]), trainer.step)
        self.writer.flush()

    def close(self, trainer: Trainer) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
