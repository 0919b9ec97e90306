"""Shared fixtures: a fresh seed per test, the float64 scope of gradient checks, and GPU skipping."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from minigan import backend


def _gpu_available() -> bool:
    try:
        import cupy

        cupy.zeros(1)
    except Exception:
        return False
    return True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _gpu_available():
        return
    skip = pytest.mark.skip(reason="needs CuPy and an NVIDIA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_backend_state():
    """Every test starts on NumPy, float32, seed 0, and leaves it that way."""
    backend.set_backend("numpy")
    backend.set_floatx("float32")
    backend.seed(0)
    yield
    backend.set_backend("numpy")
    backend.set_floatx("float32")


@pytest.fixture
def float64():
    """Build layers in float64 inside the test (gradient checks need it)."""
    with backend.default_float("float64"):
        yield


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder holding the real MNIST files (from MINIGAN_DATA), or skip."""
    root = os.environ.get("MINIGAN_DATA")
    if not root:
        pytest.skip("MINIGAN_DATA is not set (point it at the folder holding mnist/)")
    path = Path(root) / "mnist"
    if not path.is_dir():
        pytest.skip(f"no MNIST folder at {path}")
    return path


@pytest.fixture
def stand_in_evaluator(monkeypatch):
    """Plumbing tests of ``python -m minigan evaluate``: random images with labels standing in for
    every split of a dataset (the shipped evaluators score them; no MNIST files needed). Call it
    with the images' value range and the dataset (default: every dataset); it returns the stand-in
    (images (40, 28, 28, 1), labels (40,))."""
    from minigan.cli import evaluate as cli
    from minigan.evaluate import REFERENCE_DATASETS, scores

    stand_ins: dict = {}
    monkeypatch.setattr(cli, "load_split", lambda dataset, split: stand_ins[dataset])
    monkeypatch.setattr(scores, "load_split", lambda dataset, split: stand_ins[dataset])
    monkeypatch.setattr(scores, "_REFERENCES", {})

    def install(low: float = -1.0, high: float = 1.0, dataset: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(0)
        fake = rng.uniform(low, high, (40, 28, 28, 1)).astype(np.float32), rng.integers(0, 10, 40)
        stand_ins.update({name: fake for name in ([dataset] if dataset else REFERENCE_DATASETS)})
        return fake

    return install
