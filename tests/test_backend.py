"""The backend: NumPy by default, CuPy on request, clear errors, and only names CuPy provides.

Without a GPU, the whole layer suite still runs through a stand-in array module that
delegates to NumPy but refuses any name the installed ``cupy`` package does not have:
so code that works here cannot fail on a GPU for calling a NumPy-only function.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
import warnings
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from minigan import backend, losses, models, nn, optim
from minigan.gradcheck import check_layer

cupy = pytest.importorskip("cupy", reason="the stand-in test needs the cupy package (pip install 'minigan[dev]')")


class CupyStandIn:
    """NumPy under CuPy's names: an attribute missing from ``cupy`` raises AttributeError."""

    def __init__(self, host: ModuleType, device: ModuleType, path: str, used: set[str]) -> None:
        self._host, self._device, self._path, self._used = host, device, path, used

    def __getattr__(self, name: str):
        qualified = f"{self._path}.{name}"
        if not hasattr(self._device, name):
            raise AttributeError(f"{qualified} does not exist in CuPy; the layer code must not use it")
        self._used.add(qualified)
        value = getattr(self._host, name)
        if isinstance(value, ModuleType):
            return CupyStandIn(value, getattr(self._device, name), qualified, self._used)
        return value


@pytest.fixture
def standin(monkeypatch) -> set[str]:
    """The stand-in as the active backend, and as what ``get_array_module`` returns for any array
    (the arrays are NumPy's, which the real rule would compute on with NumPy)."""
    used: set[str] = set()
    module = CupyStandIn(np, cupy, "cupy", used)
    monkeypatch.setitem(backend._state, "module", module)
    real_rule = backend.get_array_module
    for name, loaded in list(sys.modules.items()):
        if name.startswith("minigan") and getattr(loaded, "get_array_module", None) is real_rule:
            monkeypatch.setattr(loaded, "get_array_module", lambda *arrays: module)
    backend.seed(0)
    return used


def _every_layer() -> list[tuple[nn.Layer, tuple[int, ...]]]:
    return [
        (nn.Dense(3, kernel_initializer="he_normal"), (4, 5)),
        (nn.Conv2D(3, 3, strides=2, padding="same", algorithm="im2col"), (2, 5, 5, 2)),
        (nn.Conv2DTranspose(2, 5, 2, "same", kernel_initializer="dcgan_normal", algorithm="im2col"), (2, 3, 3, 2)),
        (nn.Conv2DTranspose(2, 5, strides=1, padding="same", algorithm="kernel_rows"), (2, 4, 4, 2)),
        (nn.Conv2D(2, 3, strides=1, padding="same", algorithm="kernel_rows"), (2, 4, 4, 2)),
        (nn.Conv2DTranspose(2, 3, strides=1, padding="valid", algorithm="whole_image"), (2, 1, 1, 2)),
        (nn.Conv2D(2, 3, strides=1, padding="valid", algorithm="whole_image"), (2, 3, 3, 2)),
        (nn.Conv2D(2, 4, strides=2, padding="same", algorithm="subpixel"), (2, 6, 6, 2)),
        (nn.Conv2DTranspose(2, 4, strides=2, padding="same", algorithm="subpixel"), (2, 3, 3, 2)),
        (nn.Conv2D(2, 4, strides=2, padding="same", algorithm="winograd"), (2, 14, 14, 2)),  # 4x4 tiles
        (nn.Conv2DTranspose(2, 4, strides=2, padding="same", algorithm="winograd"), (2, 3, 3, 2)),  # 2x2 tiles
        (nn.Conv2DTranspose(2, 4, strides=2, padding="same", algorithm="planes"), (2, 3, 3, 2)),
        (nn.Conv2D(3, 3, strides=2, padding="same", algorithm="reference"), (2, 5, 5, 2)),
        (nn.Conv2DTranspose(2, 5, strides=2, padding="same", algorithm="reference"), (2, 3, 3, 2)),
        (nn.Conv2DTranspose(4, 5, strides=1, padding="same", algorithm="fourier"), (2, 7, 7, 3)),
        (nn.Conv2DTranspose(64, 5, strides=2, padding="same"), (2, 7, 7, 128)),  # "auto": Fourier by phases
        (nn.Conv2D(128, 5, strides=2, padding="same"), (2, 14, 14, 64)),  # ... as the adjoint
        (nn.Conv2D(3, 5, strides=2, padding="same", algorithm="fourier"), (1, 8, 6, 2)),  # batch 1
        (nn.BatchNormalization(), (3, 2, 2, 3)),
        (nn.LeakyReLU(0.2), (3, 4)),
        (nn.ReLU(), (3, 4)),
        (nn.Sigmoid(), (3, 4)),
        (nn.Tanh(), (3, 4)),
        (nn.Dropout(0.5), (3, 4)),
        (nn.Flatten(), (2, 2, 2, 2)),
        (nn.Reshape((4, 2)), (2, 8)),
    ]


def test_a_missing_cupy_name_is_caught_by_the_stand_in():
    standin = CupyStandIn(np, cupy, "cupy", set())
    with pytest.raises(AttributeError, match="cupy.ndenumerate does not exist in CuPy"):
        standin.ndenumerate  # noqa: B018  (a NumPy function CuPy lacks)


def test_every_layer_uses_only_names_cupy_provides(standin):
    for layer, shape in _every_layer():
        x = np.random.default_rng(0).standard_normal(shape)
        check_layer(layer, x, max_entries=20).assert_ok()
    assert {"cupy.lib.stride_tricks.as_strided", "cupy.random.default_rng", "cupy.zeros"} <= standin
    assert {"cupy.matmul", "cupy.copyto", "cupy.arange", "cupy.einsum"} <= standin  # the Fourier paths, BatchNorm


def test_the_label_map_convolution_uses_only_names_cupy_provides(standin):
    """The cDCGAN's discriminator: LabelMapConv2D's mask, label response and its gradients."""
    d = models.cdcgan_discriminator(num_classes=3, image_shape=(8, 8, 1), channels=(2, 3))
    rng = np.random.default_rng(0)
    logits = d.forward([rng.standard_normal((2, 8, 8, 1), dtype=np.float32), np.eye(3, dtype=np.float32)[[0, 2]]])
    dx, dy = d.backward(np.ones_like(logits))
    assert dx.shape == (2, 8, 8, 1) and dy.shape == (2, 3)
    assert "cupy.ones" in standin and "cupy.ascontiguousarray" in standin


def test_a_training_step_uses_only_names_cupy_provides(standin):
    model = nn.Sequential([nn.Conv2D(2, 3, padding="same"), nn.BatchNormalization(), nn.LeakyReLU(), nn.Flatten()])
    model.add(nn.Dense(1))
    for optimizer in (optim.Adam(model), optim.SGD(model, momentum=0.9)):
        optimizer.zero_grad()
        loss, dlogits = losses.bce_with_logits(model.forward(np.ones((2, 4, 4, 1), np.float32)), 1.0)
        model.backward(dlogits)
        optimizer.step()
    assert "cupy.sqrt" in standin and "cupy.log1p" in standin


def test_the_gradient_penalty_and_spectral_normalization_use_only_names_cupy_provides(standin):
    from minigan.penalties import gradient_penalty, interpolates

    critic = nn.Sequential([nn.SpectralNormalization(nn.Conv2D(2, 3, strides=2, padding="same")), nn.LeakyReLU(),
                            nn.SpectralNormalization(nn.Conv2DTranspose(2, 3, strides=2, padding="same")), nn.ReLU(),
                            nn.Dropout(0.3), nn.Flatten(), nn.SpectralNormalization(nn.Dense(1))])
    real, fake = np.ones((2, 4, 4, 1), np.float32), np.zeros((2, 4, 4, 1), np.float32)
    critic.backward(np.ones_like(critic.forward(real)), input_grad=False)
    gradient_penalty(critic, interpolates(real, fake), 10.0, 1.0)
    assert {"cupy.moveaxis", "cupy.outer", "cupy.vdot", "cupy.where", "cupy.einsum"} <= standin


def test_the_communicators_use_only_names_cupy_provides():
    """minigan.training.distributed's CuPy and NCCL calls exist in the installed CuPy. NCCL's names are
    read from CuPy's compiled NCCL module, which loads only where libnccl is installed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "nccl library could not be loaded" where it is not installed
        importlib.import_module("cupy.cuda.nccl")
    for path in ("asnumpy", "ndarray.set", "cuda.get_current_stream", "cuda.Device", "cuda.runtime.getDeviceCount",
                 "cuda.nccl.available"):
        owner = cupy
        for part in path.split("."):
            assert hasattr(owner, part), f"cupy.{path} does not exist"
            owner = getattr(owner, part)
    # The names, and the signatures (Cython keeps them) of the calls in the order minigan makes them.
    nccl_names = (
        "get_unique_id", "NCCL_FLOAT32", "NCCL_FLOAT64", "NCCL_SUM",
        "NcclCommunicator(int ndev, bytes commId, int rank",
        "NcclCommunicator.allReduce(self, intptr_t sendbuf, intptr_t recvbuf, size_t count, int datatype, int op, "
        "intptr_t stream)",
        "NcclCommunicator.bcast(self, intptr_t buff, size_t count, int datatype, int root, intptr_t stream)",
    )
    compiled = importlib.util.find_spec("cupy_backends.cuda.libs.nccl")
    assert compiled is not None and compiled.origin
    binary = Path(compiled.origin).read_bytes()
    assert [name for name in nccl_names if name.encode() not in binary] == []
    assert b"allreduce" not in binary  # the check tells the names apart by case


def _without_gpu() -> None:
    try:
        cupy.zeros(1)
    except Exception:
        return
    pytest.skip("a GPU is present")


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="expected 'numpy' or 'cupy', got 'jax'"):
        backend.set_backend("jax")


def test_cupy_without_the_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes "import cupy" fail
    with pytest.raises(backend.BackendError, match=r'pip install "minigan\[gpu\]"'):
        backend.set_backend("cupy")
    assert backend.get_backend() == "numpy"


def test_cupy_without_a_gpu_says_so_in_one_error():
    _without_gpu()
    with pytest.raises(backend.BackendError, match="no usable GPU"):
        backend.set_backend("cupy")


def test_seed_makes_random_draws_repeat_and_the_state_round_trips():
    backend.seed(42)
    a = backend.rng().standard_normal(5, dtype=np.float32)
    state = backend.get_rng_state()
    b = backend.rng().standard_normal(5, dtype=np.float32)
    backend.seed(42)
    np.testing.assert_array_equal(backend.rng().standard_normal(5, dtype=np.float32), a)
    backend.set_rng_state(state)
    np.testing.assert_array_equal(backend.rng().standard_normal(5, dtype=np.float32), b)


@pytest.mark.parametrize("shape", [(3, 5, 7), (4, 100_000)])  # 105 is not a multiple of 4
def test_random_uint16_is_seeded_and_uniform_in_every_16_bit_lane(shape):
    backend.seed(3)
    draws = backend.random_uint16(shape)
    assert draws.shape == shape and draws.dtype == np.uint16
    backend.seed(3)
    np.testing.assert_array_equal(backend.random_uint16(shape), draws)
    if draws.size < 4096:
        return
    # Each of the four 16-bit lanes of a 64-bit draw is uniform: mean (2**16 - 1) / 2, and
    # its top and bottom bytes take all 256 values about equally often.
    for lane in range(4):
        values = draws.reshape(-1)[lane::4].astype(np.int64)
        assert abs(values.mean() / 32767.5 - 1) < 0.01
        for byte in (values >> 8, values & 255):
            counts = np.bincount(byte, minlength=256)
            assert counts.min() > 0.8 * len(values) / 256 and counts.max() < 1.2 * len(values) / 256


def test_set_floatx_refuses_non_float_types():
    with pytest.raises(ValueError, match="expected float32 or float64, got int32"):
        backend.set_floatx("int32")


@pytest.mark.gpu
@pytest.mark.parametrize("index", range(len(_every_layer())))
def test_every_layer_gradient_on_the_gpu(index):
    backend.set_backend("cupy")
    layer, shape = _every_layer()[index]
    x = cupy.asarray(np.random.default_rng(0).standard_normal(shape))
    check_layer(layer, x, max_entries=30).assert_ok()


@pytest.mark.gpu
def test_gpu_forward_matches_cpu_forward():
    x = np.random.default_rng(0).standard_normal((2, 7, 7, 3)).astype(np.float32)
    cpu = nn.Conv2DTranspose(4, 5, strides=2, padding="same", input_shape=(7, 7, 3))
    backend.set_backend("cupy")
    gpu = nn.Conv2DTranspose(4, 5, strides=2, padding="same", input_shape=(7, 7, 3))
    gpu.params["kernel"][...] = cupy.asarray(cpu.params["kernel"])
    y = gpu.forward(cupy.asarray(x), training=False)
    np.testing.assert_allclose(backend.as_numpy(y), cpu.forward(x, training=False), rtol=1e-4, atol=1e-5)


def test_minigan_backend_cupy_without_a_gpu_imports_and_refuses_on_first_use():
    _without_gpu()
    code = (
        "import numpy as np, minigan\n"
        "from minigan import nn\n"
        "try:\n"
        "    nn.Dense(2).forward(np.ones((1, 3), np.float32))\n"
        "except minigan.backend.BackendError as exc:\n"
        "    print('refused:', exc)\n"
    )
    env = {**os.environ, "MINIGAN_BACKEND": "cupy"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("refused: MINIGAN_BACKEND=cupy:") and 'pip install "minigan[gpu]"' in done.stdout


def test_an_example_under_minigan_backend_cupy_without_a_gpu_gives_one_error_line(tmp_path):
    _without_gpu()
    example = Path(__file__).resolve().parents[1] / "examples" / "mnist_dcgan.py"
    env = {**os.environ, "MINIGAN_BACKEND": "cupy"}
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, str(example), "--epochs", "1", "--out", str(out)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "no usable GPU" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()  # the failed run leaves no empty output folder
