"""The callbacks that plug into the loop: EMA, TensorBoard, SIGTERM, and a callback of one's own."""

from __future__ import annotations

import io
import signal
import struct

import numpy as np
import pytest
from PIL import Image

from minigan.training import checkpoint, plots, sampling
from minigan.training.callbacks import EMA, SCHEDULES, Callback, Interrupted, TensorBoard
from tests.training.test_gan_training import assert_bit_identical, make_trainer, tiny_config, weights


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.tanh(rng.standard_normal((64, 28, 28, 1))).astype(np.float32)  # 4 steps of 16 per epoch


class RecordEvents(Callback):
    """A callback of one's own: the events the loop sends, in order."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def on_fit_start(self, trainer):
        self.events.append(("start", trainer.step))

    def on_step_end(self, trainer, stats):
        self.events.append(("step", trainer.step))

    def on_epoch_end(self, trainer, epoch):
        self.events.append(("epoch", epoch))

    def on_fit_end(self, trainer):
        self.events.append(("end", trainer.step))

    def close(self, trainer):
        self.events.append(("close", trainer.step))


def test_a_callback_of_ones_own_sees_every_step_epoch_and_the_end_in_order(images):
    config = tiny_config()
    recorder = RecordEvents()
    trainer = make_trainer(config, images)
    trainer.callbacks.append(recorder)
    trainer.fit()
    steps = [("step", s) for s in range(1, 5)]
    later = [("step", s) for s in range(5, 9)]
    assert recorder.events == [("start", 0), *steps, ("epoch", 1), *later, ("epoch", 2), ("end", 8), ("close", 8)]


def test_ema_averages_g_without_changing_training_and_resumes_exactly(images, tmp_path):
    plain = make_trainer(tiny_config(), images)
    plain.fit()
    averaged = make_trainer(tiny_config(ema=0.9), images)
    ema = next(c for c in averaged.callbacks if isinstance(c, EMA))
    first: dict[str, np.ndarray] = {}

    class AfterFirstStep(Callback):
        def on_step_end(self, trainer, stats):
            if trainer.step == 1:
                first.update({k: v.copy() for k, v in ema.params.items()})

    initial = {k: v.copy() for k, v in averaged.gan.generator.params.items()}
    averaged.callbacks.append(AfterFirstStep())
    averaged.fit()
    assert_bit_identical(weights(averaged), weights(plain))  # training never sees the average
    # after one step the average has moved from theta_0 towards theta_1 (the formula: the test below)
    key = next(iter(initial))
    assert not np.array_equal(first[key], initial[key])
    assert not np.array_equal(ema.params[key], averaged.gan.generator.params[key])

    # sampling uses the average inside the block and restores G's own weights after it
    own = {k: v.copy() for k, v in averaged.gan.generator.params.items()}
    with averaged.sampling() as gan:
        np.testing.assert_array_equal(gan.generator.params[key], ema.params[key])
    assert_bit_identical({k: v for k, v in averaged.gan.generator.params.items()}, own)

    interrupted = make_trainer(tiny_config(ema=0.9, epochs=1), images, tmp_path)
    interrupted.fit()
    stored = checkpoint.load(tmp_path / "checkpoint.npz")
    assert any(k.startswith("model/generator_ema/params/") for k in stored.arrays)
    saved_ema = next(c for c in interrupted.callbacks if isinstance(c, EMA)).params
    sampled_from = sampling.load_generator(tmp_path / "checkpoint.npz").generator.params  # what `sample` draws with
    assert_bit_identical(dict(sampled_from), saved_ema)
    resumed = make_trainer(tiny_config(ema=0.9), images, tmp_path)
    resumed.load_checkpoint(tmp_path / "checkpoint.npz")
    resumed.fit()
    resumed_ema = next(c for c in resumed.callbacks if isinstance(c, EMA))
    assert_bit_identical(resumed_ema.params, ema.params)


def test_ema_update_is_the_moving_average_formula_of_weights_and_running_statistics(images):
    trainer = make_trainer(tiny_config(ema=0.75, epochs=1), images)
    ema = next(c for c in trainer.callbacks if isinstance(c, EMA))
    trajectory = []

    class Record(Callback):
        def on_step_end(self, trainer, stats):
            generator = trainer.gan.generator
            trajectory.append({k: v.copy() for k, v in (*generator.params.items(), *generator.state.items())})

    generator = trainer.gan.generator
    start = {k: v.copy() for k, v in (*generator.params.items(), *generator.state.items())}
    trainer.callbacks.append(Record())
    trainer.fit()
    assert generator.state and len(trajectory) > 3
    averaged = {**ema.params, **ema.state}
    for key in start:
        expected = start[key].astype(np.float64)
        for t, theta in enumerate(trajectory, start=1):
            decay = min(0.75, (1 + t) / (10 + t))  # TensorFlow's num_updates warm-up
            expected = decay * expected + (1 - decay) * theta[key]
        np.testing.assert_allclose(averaged[key], expected, rtol=1e-5, atol=1e-6)


def test_sampling_uses_the_averaged_running_statistics_and_restores_g_own(images):
    trainer = make_trainer(tiny_config(ema=0.9, epochs=1), images)
    trainer.fit()
    ema = next(c for c in trainer.callbacks if isinstance(c, EMA))
    state = trainer.gan.generator.state
    own = {k: v.copy() for k, v in state.items()}
    key = next(k for k in state if "moving_mean" in k)
    assert not np.array_equal(ema.state[key], own[key])

    with trainer.sampling() as gan:
        np.testing.assert_array_equal(gan.generator.state[key], ema.state[key])
    assert_bit_identical(dict(trainer.gan.generator.state), own)


def read_events(folder) -> list:
    """Every Event of the TFRecord event files in ``folder`` (length, crc, data, crc per record)."""
    from tensorboardX.proto import event_pb2

    events = []
    for path in sorted(folder.glob("events.out.tfevents.*")):
        data = path.read_bytes()
        offset = 0
        while offset < len(data):
            (length,) = struct.unpack("<Q", data[offset:offset + 8])
            events.append(event_pb2.Event.FromString(data[offset + 12:offset + 12 + length]))
            offset += 12 + length + 4
    return events


def test_tensorboard_event_file_holds_every_logged_figure_and_a_grid_per_epoch(images, tmp_path):
    pytest.importorskip("tensorboardX", reason="the TensorBoard callback needs tensorboardX (pip install '.[dev]')")
    trainer = make_trainer(tiny_config(), images)
    trainer.callbacks.append(TensorBoard(tmp_path / "tb"))
    trainer.fit()
    scalars: dict[str, dict[int, float]] = {}
    grids = []
    for event in read_events(tmp_path / "tb"):
        for value in event.summary.value:
            if value.HasField("image"):
                grids.append((event.step, Image.open(io.BytesIO(value.image.encoded_image_string))))
            else:
                scalars.setdefault(value.tag, {})[event.step] = value.simple_value
    history = np.asarray(trainer.history)
    columns = plots.HISTORY_COLUMNS
    for name, tag in (("d_loss", "loss/D"), ("g_loss", "loss/G"), ("d_x", "D/real"), ("d_g_z", "D/fake")):
        logged = scalars[tag]
        assert sorted(logged) == list(range(1, 9))
        np.testing.assert_allclose([logged[s] for s in range(1, 9)], history[:, columns.index(name)], rtol=1e-6)
    assert [step for step, _ in grids] == [4, 8]
    assert grids[0][1].size == (8 * 30 + 2, 8 * 30 + 2)  # 64 tiles of 28 px, 2 px padding


def test_sigterm_checkpoints_the_current_step_and_stops_with_interrupted(images, tmp_path):
    trainer = make_trainer(tiny_config(), images, tmp_path)

    class TermAtStep3(Callback):
        def on_step_end(self, trainer, stats):
            if trainer.step == 3:
                signal.raise_signal(signal.SIGTERM)

    trainer.callbacks.insert(0, TermAtStep3())
    with pytest.raises(Interrupted) as stopped:
        trainer.fit()
    assert stopped.value.signum == signal.SIGTERM
    assert checkpoint.load(tmp_path / "checkpoint.npz").meta["step"] == 3
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the previous handler is back


@pytest.mark.parametrize("name", ["linear", "step"])
def test_learning_rate_schedule_sets_both_rates_from_the_step_alone(images, tmp_path, name):
    seen = []

    class RecordRates(Callback):
        def on_step_end(self, trainer, stats):
            seen.append((trainer.step, trainer.gan.opt_g.lr, trainer.gan.opt_d.lr))

    trainer = make_trainer(tiny_config(lr_schedule=name, lr_g=1e-3, lr_d=4e-3, epochs=5), images)
    trainer.callbacks.append(RecordRates())
    trainer.fit()
    factor = SCHEDULES[name]
    for step, lr_g, lr_d in seen:  # after step s the rates of step s + 1 are set
        assert (lr_g, lr_d) == (1e-3 * factor(step / 20), 4e-3 * factor(step / 20))
    assert seen[0][1] == 1e-3 and seen[-1][1] < 1e-3 * 0.2

    straight = weights(trainer)

    class StopAtStep12(Callback):
        def on_step_end(self, trainer, stats):
            if trainer.step == 12:
                trainer.stop_requested = signal.SIGINT

    first = make_trainer(tiny_config(lr_schedule=name, lr_g=1e-3, lr_d=4e-3, epochs=5), images, tmp_path)
    first.callbacks.insert(0, StopAtStep12())
    with pytest.raises(Interrupted):
        first.fit()
    resumed = make_trainer(tiny_config(lr_schedule=name, lr_g=1e-3, lr_d=4e-3, epochs=5), images, tmp_path)
    resumed.load_checkpoint(tmp_path / "checkpoint.npz")
    resumed.fit()
    assert_bit_identical(weights(resumed), straight)


def test_schedules_are_one_then_decay():
    assert SCHEDULES["linear"](0.0) == 1.0 and SCHEDULES["linear"](0.75) == 0.5 and SCHEDULES["linear"](1.0) == 0.0
    assert [SCHEDULES["step"](p) for p in (0.5, 0.6, 0.9)] == [1.0, 0.1, 0.01]
