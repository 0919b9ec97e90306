"""Radford's DCGAN on MNIST / Fashion-MNIST resized to 32x32 or 64x64: the resize, the recipe, the scores."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

import minigan.cli as minigan_cli
from minigan import models
from minigan.cli import evaluate as evaluate_cli
from minigan.cli import train as cli_args
from minigan.cli.recipes import RECIPES, radford_networks
from minigan.data import load_fashion_mnist, load_mnist
from minigan.data.resize import interpolation_matrix, resize_images
from minigan.evaluate import classifier, scores
from minigan.evaluate.classifier import resized_for_classifier
from minigan.evaluate.scores import trained_dataset
from minigan.training import Trainer, build_gan, callbacks, checkpoint, default_callbacks
from minigan.training.callbacks.quality import mnist_evaluate

LOADERS = {"mnist": load_mnist, "fashion-mnist": load_fashion_mnist}

# -- resize_images ------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_in, n_out", [(28, 32), (28, 64), (32, 28), (64, 28), (5, 3)])
def test_interpolation_rows_are_non_negative_weights_summing_to_one(n_in, n_out):
    a = interpolation_matrix(n_in, n_out)

    assert a.shape == (n_out, n_in) and (a >= 0).all()
    np.testing.assert_allclose(a.sum(axis=1), 1, rtol=1e-12)


def test_enlarging_interpolates_between_the_two_nearest_pixels():
    # 2 -> 4: output centres at 0.25, 0.75, 1.25, 1.75 input pixels; input centres at 0.5, 1.5.
    a = interpolation_matrix(2, 4)

    np.testing.assert_allclose(a, [[1, 0], [0.75, 0.25], [0.25, 0.75], [0, 1]])


@pytest.mark.parametrize("size", [32, 64, 14])
def test_a_constant_image_stays_constant_and_float32_stays_float32(size):
    images = np.full((3, 28, 28, 2), 0.3, np.float32)

    out = resize_images(images, size)

    assert out.shape == (3, size, size, 2) and out.dtype == np.float32
    np.testing.assert_allclose(out, 0.3, rtol=1e-6)


@pytest.mark.parametrize("size", [32, 64, 14])
def test_a_linear_ramp_stays_exactly_linear_away_from_the_border(size):
    # f(y, x) = 0.02 y - 0.01 x + 0.1 at the pixel centres; the output samples it at c = (i + 0.5) * 28 / size.
    y, x = np.meshgrid(np.arange(28) + 0.5, np.arange(28) + 0.5, indexing="ij")
    ramp = (0.02 * y - 0.01 * x + 0.1)[None, :, :, None]

    out = resize_images(ramp, size)[0, :, :, 0]

    c = (np.arange(size) + 0.5) * 28 / size
    expected = 0.02 * c[:, None] - 0.01 * c[None, :] + 0.1
    reach = max(1.0, 28 / size)  # the triangle's half-width in input pixels
    inside = (c - reach >= 0) & (c + reach <= 28)
    assert out.dtype == np.float64 and inside.sum() >= size - 4
    np.testing.assert_allclose(out[np.ix_(inside, inside)], expected[np.ix_(inside, inside)], atol=1e-12)


def test_channels_and_images_are_resized_independently():
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (4, 28, 20, 3)).astype(np.float32)

    out = resize_images(images, 32, chunk=3)  # two chunks

    a, b = interpolation_matrix(28, 32), interpolation_matrix(20, 32)
    for n in range(4):
        for c in range(3):
            np.testing.assert_allclose(out[n, :, :, c], a @ images[n, :, :, c] @ b.T, atol=1e-6)


def test_a_smooth_image_comes_back_close_after_down_then_up():
    c = (np.arange(64) + 0.5) / 64
    y, x = np.meshgrid(c, c, indexing="ij")
    smooth = (np.sin(2 * np.pi * y) * np.cos(np.pi * x))[None, :, :, None].astype(np.float32)

    back = resize_images(resize_images(smooth, 28), 64)

    error = np.abs(back - smooth)[0, :, :, 0]
    assert back.shape == smooth.shape and back.dtype == np.float32
    # Within 0.02 of the original away from the border (noise comes back 0.47 off on average);
    # at the border the repeated edge pixels flatten the steepest slope, by up to 0.1.
    assert error[4:-4, 4:-4].max() < 0.02 and error.mean() < 0.01 and error.max() < 0.1


def test_it_matches_pillows_bilinear_resize():
    image_module = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(1)
    image = rng.uniform(-1, 1, (28, 28)).astype(np.float32)

    for size in (32, 64, 14):
        pillow = np.asarray(image_module.fromarray(image, mode="F").resize((size, size), image_module.BILINEAR))
        np.testing.assert_allclose(resize_images(image[None, :, :, None], size)[0, :, :, 0], pillow, atol=1e-5)


def test_integer_images_become_float32_without_rescaling():
    out = resize_images(np.full((1, 4, 4, 1), 200, np.uint8), 8)

    assert out.dtype == np.float32
    np.testing.assert_allclose(out, 200, rtol=1e-6)


@pytest.mark.parametrize(
    "images, size, message",
    [
        (np.zeros((28, 28, 1), np.float32), 32, r"resize_images: expected images of shape \(N, H, W, C\), "
                                                 r"got shape \(28, 28, 1\)"),
        (np.zeros((2, 0, 28, 1), np.float32), 32, r"got shape \(2, 0, 28, 1\)"),
        (np.zeros((2, 28, 28, 1), np.float32), 0, "resize_images: expected a size >= 1 \\(an int\\), got 0"),
        (np.zeros((2, 28, 28, 1), np.float32), 32.0, "got 32.0"),
    ],
)
def test_bad_shapes_and_sizes_are_refused(images, size, message):
    with pytest.raises(ValueError, match=message):
        resize_images(images, size)


# -- the dcgan_images recipe on MNIST and Fashion-MNIST -----------------------------------------------


@pytest.fixture(scope="session")
def data_root(mnist_dir) -> Path:
    """MINIGAN_DATA, holding mnist/ (else skipped by ``mnist_dir``) and fashion_mnist/ (else skipped)."""
    root = mnist_dir.parent
    if not (root / "fashion_mnist").is_dir():
        pytest.skip(f"no Fashion-MNIST folder at {root / 'fashion_mnist'}")
    return root


def options(data: str | list[str], size: int, root: Path | None = None, **more) -> dict:
    """The recipe's default options with ``--data data --size size --width 0.0625``."""
    data = [data] if isinstance(data, str) else data
    return {**RECIPES["dcgan_images"].defaults_for(), "data": data, "size": size, "width": 0.0625, "data_dir": root,
            **more}


@pytest.mark.parametrize("data", ["mnist", "fashion-mnist"])
@pytest.mark.parametrize("size", [32, 64])
def test_mnist_and_fashion_mnist_train_one_channel_networks_on_resized_images(data, size, data_root):
    recipe = RECIPES["dcgan_images"]
    opts = options(data, size, data_root, limit=50)

    config = recipe.config(opts)
    images, labels = recipe.data(opts)

    g, d = models.build(config.generator), models.build(config.discriminator)
    assert config.generator["kwargs"]["image_shape"] == config.discriminator["kwargs"]["image_shape"] == [size, size, 1]
    assert g.forward(np.zeros((2, config.latent_dim), np.float32), training=False).shape == (2, size, size, 1)
    assert tuple(d.input_shape) == (size, size, 1)
    assert labels is None and images.shape == (50, size, size, 1) and images.dtype == np.float32
    assert images.min() >= -1 and images.max() <= 1 and images.min() < -0.99 and images.max() > 0.9
    first, _ = LOADERS[data]("train", root=data_root)  # the first 50 of the training split, resized
    np.testing.assert_allclose(images, resize_images(first[:50], size), atol=1e-6)
    assert config.options["data"] == [data]  # stored: --eval-every and evaluate pick the reference from it


def test_colour_sources_keep_three_channels_and_their_own_size():
    assert radford_networks(options("svhn", 32))[0]["kwargs"]["image_shape"] == [32, 32, 3]
    assert radford_networks(options(["folder", "faces"], 64))[1]["kwargs"]["image_shape"] == [64, 64, 3]
    with pytest.raises(ValueError, match="cifar10 images are 32x32"):
        radford_networks(options("cifar10", 64))


@pytest.mark.parametrize("argv, message", [
    (["--data", "mnist", "faces"], "expected 'cifar10', 'svhn', 'mnist', 'fashion-mnist' or 'folder PATH'"),
    (["--data", "kmnist"], "expected one of cifar10, svhn, mnist, fashion-mnist, folder, got 'kmnist'"),
])
def test_bad_data_options_name_every_source(argv, message, tmp_path, capsys):
    assert cli_args.main(RECIPES["dcgan_images"], [*argv, "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


def test_a_tiny_run_on_mnist_at_32_trains_a_one_channel_generator(mnist_dir, tmp_path):
    out = tmp_path / "run"
    argv = ["--data", "mnist", "--size", "32", "--width", "0.0625", "--limit", "256", "--batch-size", "64",
            "--epochs", "1", "--data-dir", str(mnist_dir.parent), "--no-progress", "--out", str(out)]

    assert cli_args.main(RECIPES["dcgan_images"], argv) == 0

    meta = checkpoint.load(out / "checkpoint.npz").meta
    assert meta["step"] == 4  # 256 images in batches of 64
    assert meta["config"]["generator"]["kwargs"]["image_shape"] == [32, 32, 1]
    assert meta["config"]["options"]["data"] == ["mnist"]
    from PIL import Image

    grid = Image.open(out / "samples" / "epoch_001.png")
    assert grid.mode == "L" and grid.size == (8 * 34 + 2, 8 * 34 + 2)  # 8x8 samples of 32x32, gray


# -- scores of 32x32 and 64x64 images, resized back to 28x28 ------------------------------------------


@pytest.mark.parametrize("shape", [(32, 32, 3), (64, 64, 3), (32, 28, 1), (32, 32)])
def test_colour_and_non_square_shapes_are_still_refused_by_the_scorer(shape):
    with pytest.raises(ValueError, match=r"need images \(28, 28, 1\), or square one-channel images \(S, S, 1\) "
                                         rf"to resize to 28x28; got {re.escape(str(shape))}"):
        mnist_evaluate(shape)


def test_the_reference_dataset_is_what_the_run_trained_on():
    assert trained_dataset({"data": ["fashion-mnist"]}) == "fashion-mnist"  # dcgan_images --data
    assert trained_dataset({"dataset": "fashion-mnist"}) == "fashion-mnist"  # the MNIST recipes' --dataset
    assert trained_dataset({"data": ["mnist"]}) == trained_dataset({"dataset": "mnist"}) == "mnist"
    assert trained_dataset({"data": ["svhn"]}) == trained_dataset({}) == "mnist"
    with pytest.raises(ValueError, match="expected a reference dataset in mnist, fashion-mnist, got 'kmnist'"):
        mnist_evaluate((28, 28, 1), "kmnist")


@pytest.mark.parametrize("data", ["mnist", "fashion-mnist"])
def test_eval_every_scores_against_the_test_split_of_the_runs_data(data, monkeypatch):
    calls = []
    monkeypatch.setattr(callbacks, "mnist_evaluate", lambda shape, dataset: calls.append((shape, dataset)))
    opts = options(data, 32)
    config = RECIPES["dcgan_images"].config({**opts, "eval_every": 1})

    Trainer(build_gan(config), np.zeros((128, 32, 32, 1), np.float32), config, callbacks=default_callbacks(config,
            None, np.zeros((128, 32, 32, 1), np.float32), progress=False))

    assert calls == [((32, 32, 1), data)]


@pytest.fixture
def real_classifier(mnist_dir, monkeypatch):
    """The shipped evaluators on real data (skipped without MINIGAN_DATA), references of the first 2,000 test
    images."""
    splits = {}

    def first_2000(dataset, split):
        if (dataset, split) not in splits:
            images, labels = LOADERS[dataset](split, root=mnist_dir.parent)
            splits[dataset, split] = images[:2000], labels[:2000]
        return splits[dataset, split]

    monkeypatch.setattr(scores, "load_split", first_2000)
    monkeypatch.setattr(scores, "_REFERENCES", {})
    return first_2000


@pytest.mark.parametrize("size", [32, 64])
def test_upsized_real_mnist_scores_about_as_well_as_the_28x28_originals(size, real_classifier):
    images, labels = LOADERS["mnist"]("test", root=None)
    images, labels = images[5000:6000], labels[5000:6000]  # not among the reference's 2,000
    noise = np.random.default_rng(0).uniform(-1, 1, (1000, size, size, 1)).astype(np.float32)

    original = mnist_evaluate((28, 28, 1))(images, labels)
    upsized = mnist_evaluate((size, size, 1))(resize_images(images, size), labels)
    random = mnist_evaluate((size, size, 1))(noise)

    # Measured: FID 23.2 at 28x28, 29.1 resized to 32x32 and back; noise far off.
    assert upsized["fid"] < 1.5 * original["fid"] and upsized["fid"] < 0.05 * random["fid"]
    assert upsized["label_accuracy"] > 0.98 and upsized["inception_score"] > 0.97 * original["inception_score"]
    assert upsized["reference_dataset"] == original["reference_dataset"] == "MNIST"


def test_a_fashion_mnist_run_is_scored_by_the_fashion_classifier_against_fashion_mnist_test_images(
        data_root, real_classifier):
    clothes, _ = LOADERS["fashion-mnist"]("test", root=data_root)
    digits, _ = LOADERS["mnist"]("test", root=data_root)
    score = mnist_evaluate((32, 32, 1), "fashion-mnist")

    own, other = score(resize_images(clothes[5000:6000], 32)), score(resize_images(digits[5000:6000], 32))

    # Measured in the Fashion classifier's features: FID 10.7, recall 0.60 for real clothes; 213, 0.009 for digits.
    assert own["fid"] < 0.1 * other["fid"] and own["recall"] > 0.5 > other["recall"]
    assert own["reference_dataset"] == "Fashion-MNIST"
    assert own["reference_set"] == "Fashion-MNIST test split, 2,000 images"
    assert own["evaluator"]["label"] == classifier.get_classifier("fashion-mnist").label
    assert own["evaluator"]["label"].startswith("fashion-mnist-cnn@") and own["evaluator"]["shipped"]


@pytest.mark.parametrize("data, name", [("mnist", "MNIST"), ("fashion-mnist", "Fashion-MNIST")])
def test_cli_evaluate_resizes_a_64x64_checkpoint_and_scores_it_by_its_own_datas_evaluator(
        data, name, tmp_path, stand_in_evaluator, capsys):
    """Plumbing only: random stand-ins for the two datasets, scored by the shipped evaluators."""
    fake = {"mnist": stand_in_evaluator(-1, 0, "mnist"), "fashion-mnist": stand_in_evaluator(0, 1, "fashion-mnist")}
    config = RECIPES["dcgan_images"].config(options(data, 64))
    path = tmp_path / "checkpoint.npz"
    checkpoint.save(path, {"generator": models.build(config.generator)}, {}, {"config": asdict(config)})

    assert minigan_cli.main(["evaluate", str(path), "-n", "20", "--json", str(tmp_path / "out.json")]) == 0

    out = capsys.readouterr().out
    figures = json.loads((tmp_path / "out.json").read_text())
    net = classifier.get_classifier(data)
    assert "images (64, 64, 1) resized to (28, 28, 1)" in out and f"real {name}" in out
    assert f"evaluator: {net.label} (shipped, trained on {name})" in out
    assert f"reference: {name} test split, 40 images" in out
    assert figures["reference"]["images"] == f"the first 20 {name} training images"
    samples = evaluate_cli.sample_checkpoint(path, 20)
    expected = scores.evaluate_samples(samples, net, reference=scores.reference_statistics(net, fake[data][0]))
    assert figures["fid"] == pytest.approx(expected["fid"]) and figures["kid"] == pytest.approx(expected["kid"])
    assert (figures["precision"], figures["recall"]) == (expected["precision"], expected["recall"])


def test_square_one_channel_images_are_resized_for_the_classifier_and_the_rest_refused():
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (5, 32, 32, 1)).astype(np.float32)
    notes = []

    resized = resized_for_classifier(images, "samples.npy", notes.append)

    np.testing.assert_array_equal(resized, resize_images(images, 28))
    assert notes == ["note: samples.npy: images (32, 32, 1) resized to (28, 28, 1) for the MNIST classifier"]
    np.testing.assert_array_equal(resized_for_classifier(resized, "x", notes.append), resized)
    assert len(notes) == 1  # 28x28 images as they are, without a note
    with pytest.raises(ValueError, match=r"x: expected float images of shape \(N, 28, 28, 1\) in \[-1, 1\], got "
                                         r"float32 of shape \(5, 32, 32, 3\)"):
        resized_for_classifier(np.zeros((5, 32, 32, 3), np.float32), "x")
    images[0, 3, 3, 0] = 1.5  # out of range: refused before resizing could average it away
    with pytest.raises(ValueError, match=r"expected pixel values in \[-1, 1\], got values from .* to 1.5"):
        resized_for_classifier(images, "x")
