"""The array backend: which array module runs the maths, its default dtype and its RNG.

minigan's layers are written once for NumPy and CuPy arrays alike, as Chainer's are:
a layer asks ``xp = get_array_module(x)`` and calls only functions both modules share.
Everything that differs between the two (how to import CuPy, how to move arrays
between host and device, the random generator) lives in this one module.

Choose the backend with ``minigan.set_backend("cupy")`` or the environment variable
``MINIGAN_BACKEND=cupy``; NumPy is the default. If the variable names a backend this machine
cannot run, ``import minigan`` still works and the first array operation raises one
:class:`BackendError` that says what to install.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import numpy as np

_GPU_HINT = 'install the GPU extra with: pip install "minigan[gpu]" (needs an NVIDIA GPU and CUDA 12)'


class BackendError(RuntimeError):
    """The requested backend cannot be used on this machine."""


_state: dict[str, Any] = {
    "name": "numpy",
    "module": np,
    "floatx": np.dtype(np.float32),
    "rng": np.random.default_rng(0),
}


def _import_cupy() -> ModuleType:
    """Import CuPy and prove a GPU answers, or raise one clear BackendError."""
    try:
        import cupy
    except ImportError as exc:
        raise BackendError(f"the 'cupy' backend needs CuPy, which is not installed; {_GPU_HINT}") from exc
    try:
        cupy.zeros(1)
    except Exception as exc:  # CUDARuntimeError, CUDADriverError, ... depending on the machine
        raise BackendError(
            f"the 'cupy' backend found CuPy but no usable GPU ({type(exc).__name__}: {exc}); {_GPU_HINT}"
        ) from None
    return cupy


def set_backend(name: str) -> None:
    """Select the array module: ``"numpy"`` (CPU) or ``"cupy"`` (NVIDIA GPU).

    The random generator is re-created on the new backend with seed 0; call
    :func:`seed` afterwards for another seed.
    """
    if name == "numpy":
        module: ModuleType = np
    elif name == "cupy":
        module = _import_cupy()
    else:
        raise ValueError(f"set_backend: expected 'numpy' or 'cupy', got {name!r}")
    _state["name"] = name
    _state["module"] = module
    seed(0)


def get_backend() -> str:
    """The name of the active backend, ``"numpy"`` or ``"cupy"``."""
    return _state["name"]


def xp() -> ModuleType:
    """The array module of the active backend (``numpy`` or ``cupy``)."""
    return _state["module"]


def is_device_array(x: Any) -> bool:
    """True for a CuPy array (an array in GPU memory)."""
    return type(x).__module__.startswith("cupy")


def get_array_module(*arrays: Any) -> ModuleType:
    """The module that owns ``arrays``: CuPy if any is a CuPy array, else NumPy (Chainer's rule:
    a NumPy array is computed on with NumPy whatever the active backend)."""
    if any(is_device_array(a) for a in arrays):
        import cupy

        return cupy
    return np


def floatx() -> np.dtype:
    """The default floating dtype for parameters and data (float32 unless changed)."""
    return _state["floatx"]


def set_floatx(dtype: Any) -> None:
    """Set the default floating dtype, ``"float32"`` or ``"float64"``."""
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"set_floatx: expected float32 or float64, got {dt}")
    _state["floatx"] = dt


@contextmanager
def default_float(dtype: Any) -> Iterator[None]:
    """Within the block, layers build their parameters in ``dtype`` (gradient checks use float64)."""
    previous = floatx()
    set_floatx(dtype)
    try:
        yield
    finally:
        set_floatx(previous)


def seed(value: int) -> None:
    """Re-seed minigan's random generator (weight initialisation, dropout masks, noise)."""
    _state["rng"] = xp().random.default_rng(value)


def rng() -> Any:
    """The backend's random ``Generator``; both NumPy's and CuPy's offer
    ``standard_normal(shape, dtype=...)`` and ``random(shape, dtype=...)``."""
    return _state["rng"]


def random_uint16(shape: tuple[int, ...]) -> Any:
    """Uniform integers in [0, 2**16) of ``shape`` (dtype uint16), from :func:`rng`.

    NumPy's generator takes about as long per draw at 64 bits as at 16, so on NumPy each
    64-bit draw is split into four 16-bit ones (dropout masks in half the time). CuPy
    draws 16-bit integers directly.
    """
    generator = rng()
    if not isinstance(generator, np.random.Generator):
        return generator.integers(0, 1 << 16, size=shape, dtype=np.uint16)
    count = math.prod(shape)
    words = generator.integers(0, 1 << 64, size=-(-count // 4), dtype=np.uint64)
    return words.view(np.uint16)[:count].reshape(shape)


def get_rng_state() -> dict:
    """The generator's state, to store in a checkpoint (NumPy backend)."""
    return rng().bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state returned by :func:`get_rng_state`."""
    rng().bit_generator.state = state


def as_numpy(x: Any) -> np.ndarray:
    """A host (NumPy) copy or view of ``x``, wherever it lives."""
    if is_device_array(x):
        return x.get()
    return np.asarray(x)


def as_array(x: Any, dtype: Any = None) -> Any:
    """``x`` as an array of the active backend (moved to the device if needed), optionally cast."""
    module = xp()
    if dtype is None:
        return module.asarray(x)
    return module.asarray(x, dtype=dtype)


def one_hot(labels: Any, num_classes: int) -> Any:
    """Class indices (N,) as one-hot rows (N, num_classes) of ``floatx()`` on the active backend."""
    return xp().eye(num_classes, dtype=floatx())[as_array(labels)]


class _Unavailable:
    """Stands in for an array module (or generator) that could not be loaded: any use raises
    the reason, so ``import minigan`` never fails, and nothing silently runs on NumPy instead."""

    def __init__(self, error: Exception) -> None:
        self._error = error

    def __getattr__(self, name: str) -> Any:
        raise self._error


def _from_environment() -> None:
    """Apply ``MINIGAN_BACKEND``; a backend this machine cannot run is reported on first use."""
    name = os.environ.get("MINIGAN_BACKEND", "").strip().lower()
    if name and name != "numpy":
        try:
            set_backend(name)
        except (BackendError, ValueError) as exc:
            error = BackendError(f"MINIGAN_BACKEND={name}: {exc}")
            _state.update(name=name, module=_Unavailable(error), rng=_Unavailable(error))


_from_environment()
