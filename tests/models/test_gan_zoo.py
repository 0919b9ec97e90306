"""The GAN zoo: its builders (shapes, gradients through the label inputs) and a tiny run of each example."""

from __future__ import annotations

import hashlib
import os
import pickle
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from minigan import backend, models
from minigan.cli import train as cli_args
from minigan.cli.recipes import RECIPES
from minigan.data import cifar
from minigan.gradcheck import check_layer
from minigan.training import checkpoint

DATA = os.environ.get("MINIGAN_DATA")
needs_mnist = pytest.mark.skipif(not DATA, reason="MINIGAN_DATA is unset: this test trains on real MNIST images")


def load_example(name: str):
    return SimpleNamespace(main=lambda argv: cli_args.main(RECIPES[name], argv))


def test_label_maps_broadcast_the_label_and_sum_the_gradient_back():
    y = np.array([[0, 1, 0], [1, 0, 0]], np.float32)
    layer = models.LabelMaps(2, 4)
    maps = layer.forward(y)
    assert maps.shape == (2, 2, 4, 3)
    np.testing.assert_array_equal(maps[1, 1, 3], y[1])
    dy = np.arange(2 * 2 * 4 * 3, dtype=np.float32).reshape(2, 2, 4, 3)
    np.testing.assert_array_equal(layer.backward(dy), dy.sum(axis=(1, 2)))
    check_layer(models.LabelMaps(3, 2), np.random.default_rng(0).standard_normal((2, 4))).assert_ok()


def test_cdcgan_discriminator_returns_image_and_label_gradients_that_match_finite_differences():
    with backend.default_float("float64"):
        d = models.cdcgan_discriminator(num_classes=3, image_shape=(8, 8, 1), channels=(2, 3))
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((2, 8, 8, 1)), np.eye(3)[[0, 2]]
    r = rng.standard_normal((2, 1))

    def loss(xv, yv):
        value = float((d.forward([xv, yv]) * r).sum())
        d.discard()
        return value

    d.forward([x, y])
    dx, dy = d.backward(r)
    eps = 1e-6
    for array, grad, which in ((x, dx, 0), (y, dy, 1)):
        for index in [(0, 3, 4, 0), (1, 7, 0, 0)] if which == 0 else [(0, 1), (1, 2)]:
            plus, minus = array.copy(), array.copy()
            plus[index] += eps
            minus[index] -= eps
            args_plus = (plus, y) if which == 0 else (x, plus)
            args_minus = (minus, y) if which == 0 else (x, minus)
            numeric = (loss(*args_plus) - loss(*args_minus)) / (2 * eps)
            assert abs(numeric - grad[index]) < 1e-5 * max(1, abs(numeric)), (which, index)


@pytest.mark.parametrize("size, convts", [(32, 3), (64, 4)])
def test_radford_networks_have_the_papers_layout(size, convts):
    g = models.radford_generator(image_shape=(size, size, 3))
    d = models.radford_discriminator(image_shape=(size, size, 3))
    assert g.output_shape(g.input_shape) == (size, size, 3) and d.output_shape(d.input_shape) == (1,)
    kinds = [type(layer).__name__ for layer in g.layers]
    assert kinds.count("Conv2DTranspose") == convts and kinds.count("BatchNormalization") == convts
    assert g.params["dense/kernel"].shape == (100, 4 * 4 * 512) and "dense/bias" not in g.params
    d_kinds = [type(layer).__name__ for layer in d.layers]
    assert d_kinds[:2] == ["Conv2D", "LeakyReLU"] and d_kinds.count("BatchNormalization") == convts - 1
    d_channels = [layer.params["kernel"].shape[-1] for layer in d.layers if type(layer).__name__ == "Conv2D"]
    assert d_channels == [64, 128, 256, 512][4 - convts:]
    assert abs(float(np.std(backend.as_numpy(g.params["dense/kernel"]))) - 0.02) < 0.002  # N(0, 0.02)


def test_radford_builders_refuse_sizes_that_are_not_powers_of_two():
    with pytest.raises(ValueError, match="size 8, 16, 32, 64"):
        models.radford_generator(image_shape=(48, 48, 3))


def test_conditional_mlp_networks_join_the_label_beside_z_and_the_flattened_image():
    g = models.mlp_generator(latent_dim=5, hidden=[7], num_classes=4)
    d = models.mlp_discriminator(hidden=[6], num_classes=4)
    assert g.params["dense/kernel"].shape[0] == 5 + 4
    assert d.params["dense/kernel"].shape[0] == 28 * 28 + 4


def test_label_units_give_the_label_its_own_hidden_layer_beside_z_and_the_image():
    g = models.mlp_generator(latent_dim=5, hidden=[7, 9], num_classes=4, label_units=3)
    d = models.mlp_discriminator(hidden=[6, 2], num_classes=4, label_units=8)
    assert g.params["join_z_y/sequential/dense/kernel"].shape == (5, 7)
    assert g.params["join_z_y/sequential_1/dense/kernel"].shape == (4, 3)
    assert g.params["dense/kernel"].shape == (7 + 3, 9)  # the next layer sees both branches
    assert d.params["join_x_y/sequential/dense/kernel"].shape == (28 * 28, 6)
    assert d.params["join_x_y/sequential_1/dense/kernel"].shape == (4, 8)
    assert d.params["dense/kernel"].shape == (6 + 8, 2)
    with pytest.raises(ValueError, match="label_units >= 1 with num_classes"):
        models.mlp_generator(label_units=3)


@pytest.mark.parametrize("which", ["generator", "discriminator"])
def test_label_branches_pass_gradients_to_both_inputs_that_match_finite_differences(which):
    rng = np.random.default_rng(2)
    with backend.default_float("float64"):
        if which == "generator":
            net = models.mlp_generator(latent_dim=3, image_shape=(2, 2, 1), hidden=[5, 4], num_classes=3,
                                       label_units=2)
            inputs = [rng.standard_normal((4, 3)), np.eye(3)[[0, 1, 2, 1]]]
        else:
            net = models.mlp_discriminator(image_shape=(2, 2, 1), hidden=[5, 4], num_classes=3, label_units=2,
                                           dropout=0.0)
            inputs = [rng.standard_normal((4, 2, 2, 1)), np.eye(3)[[0, 1, 2, 1]]]
    r = rng.standard_normal((4, *net.output_shape(net.input_shape)))

    def loss(values):
        value = float((net.forward(values) * r).sum())  # training mode: BatchNorm uses the batch
        net.discard()
        return value

    net.forward(inputs)
    grads = net.backward(r)
    eps = 1e-6
    for which_input, (array, grad) in enumerate(zip(inputs, grads, strict=True)):
        for index in np.ndindex(array.shape):
            plus, minus = [a.copy() for a in inputs], [a.copy() for a in inputs]
            plus[which_input][index] += eps
            minus[which_input][index] -= eps
            numeric = (loss(plus) - loss(minus)) / (2 * eps)
            assert abs(numeric - grad[index]) < 1e-6 * max(1, abs(numeric)), (which_input, index)


def run(example, argv):
    return example.main([*argv, "--epochs", "1", "--no-progress"])


@needs_mnist
@pytest.mark.parametrize("name", ["mnist_cdcgan", "mnist_gan_mlp"])
def test_mnist_example_runs_and_resumes(name, tmp_path, capsys):
    example = load_example(name)
    out = tmp_path / "run"
    argv = ["--limit", "64", "--batch-size", "32", "--width", "0.0625", "--data-dir", DATA, "--out", str(out)]
    assert run(example, argv) == 0
    for file in ("samples/epoch_001.png", "samples.gif", "losses.png", "history.csv", "checkpoint.npz"):
        assert (out / file).is_file(), file
    assert example.main(["--resume", str(out / "checkpoint.npz"), "--epochs", "2", "--no-progress",
                         "--data-dir", DATA]) == 0
    assert checkpoint.load(out / "checkpoint.npz").meta["step"] == 4
    assert "resuming at step 2" in capsys.readouterr().out


def test_dcgan_images_trains_on_a_folder_of_pngs_lazily_at_64(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    folder = tmp_path / "faces"
    folder.mkdir()
    for i in range(6):
        Image.fromarray(rng.integers(0, 256, (70, 80, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    example = load_example("dcgan_images")
    from minigan.data import ImageFolder

    decoded = []
    decode = ImageFolder.decode
    monkeypatch.setattr(ImageFolder, "decode", lambda self, path: decoded.append(path) or decode(self, path))
    out = tmp_path / "run"
    argv = ["--data", "folder", str(folder), "--size", "64", "--width", "0.0625", "--batch-size", "3",
            "--out", str(out)]
    assert run(example, argv) == 0
    assert len(decoded) == 6  # two batches of 3, each decoded when it is used
    grid = Image.open(out / "samples" / "epoch_001.png")
    assert grid.mode == "RGB" and grid.size == (8 * 66 + 2, 8 * 66 + 2)
    assert checkpoint.load(out / "checkpoint.npz").meta["config"]["generator"]["name"] == "radford_generator"


def test_dcgan_images_trains_on_cifar10_batches(tmp_path, monkeypatch):
    root = tmp_path / "cifar-10-batches-py"
    root.mkdir()
    rng = np.random.default_rng(0)
    for name in cifar.CIFAR10_MD5:
        data = rng.integers(0, 256, (4, 3072), dtype=np.uint8)
        blob = pickle.dumps({b"data": data, b"labels": [1, 2, 3, 4]}, protocol=2)
        (root / name).write_bytes(blob)
        monkeypatch.setitem(cifar.CIFAR10_MD5, name, hashlib.md5(blob).hexdigest())
    example = load_example("dcgan_images")
    out = tmp_path / "run"
    argv = ["--data", "cifar10", "--data-dir", str(tmp_path), "--width", "0.0625", "--batch-size", "10",
            "--out", str(out)]
    assert run(example, argv) == 0  # 20 training images: 2 steps
    assert checkpoint.load(out / "checkpoint.npz").meta["step"] == 2


@pytest.mark.parametrize("argv, message", [
    (["--data", "folder"], "expected 'cifar10', 'svhn', 'mnist', 'fashion-mnist' or 'folder PATH'"),
    (["--data", "svhn", "--size", "64"], "svhn images are 32x32"),
])
def test_dcgan_images_bad_data_options_are_one_error(argv, message, tmp_path, capsys):
    assert load_example("dcgan_images").main([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
