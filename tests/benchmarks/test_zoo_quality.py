"""benchmarks/zoo_quality.py trains a model through its script, scores it, and writes the table into the docs.

Plumbing only: a tiny cGAN for two epochs of 256 real MNIST images, scored by an untrained
classifier (the figures mean nothing; where they come from is what is checked).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from minigan.evaluate import Classifier, build_model, cache_path, save_classifier

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def zoo_quality(monkeypatch, tmp_path, mnist_dir):
    spec = importlib.util.spec_from_file_location("zoo_quality", ROOT / "benchmarks/zoo_quality.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "zoo_quality", module)  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path / "cache"))
    save_classifier(Classifier(build_model()), cache_path())
    tiny = ("--width", "0.0625", "--limit", "256", "--batch-size", "64", "--epochs", "2")
    monkeypatch.setattr(module, "ZOO", {
        "mnist_gan_mlp": module.Model("mnist_gan_mlp", (), (1,), "kept from an earlier call"),
        "tiny_cgan": module.Model("mnist_cgan", tiny, (1, 2), "a tiny cGAN"),
    })
    monkeypatch.setattr(module, "SAMPLES", 100)
    return module


def test_a_model_is_trained_scored_per_epoch_and_its_table_written_into_the_docs(zoo_quality, tmp_path):
    docs = tmp_path / "zoo.md"
    docs.write_text(f"intro\n{zoo_quality.BEGIN}\nold table\n{zoo_quality.END}\noutro\n")
    results = tmp_path / "results.json"
    earlier = {"model": "mnist_gan_mlp", "command": "python examples/mnist_gan_mlp.py", "rows": [
        {"epoch": 1, "step": 937, "minutes": 0.5, "fid": 99.0, "inception_score": 5.0, "mean_confidence": 0.8,
         "label_accuracy": float("nan"), "diversity": float("nan")}],
        "final": {"fid": 98.0, "inception_score": 5.1, "mean_confidence": 0.81, "digit_share_min": 0.05,
                  "digit_share_max": 0.15}}
    results.write_text(json.dumps({"mnist_gan_mlp": earlier}))

    status = zoo_quality.main(["--models", "tiny_cgan", "--runs", str(tmp_path / "runs"), "--results", str(results),
                               "--docs", str(docs), "--images", str(tmp_path / "images")])

    assert status == 0
    run = tmp_path / "runs/tiny_cgan"
    with open(run / "quality.csv") as f:
        quality = list(csv.DictReader(f))
    stored = json.loads(results.read_text())
    assert set(stored) == {"mnist_gan_mlp", "tiny_cgan"}  # the earlier entry is kept
    tiny = stored["tiny_cgan"]
    assert [row["epoch"] for row in tiny["rows"]] == [1, 2] and tiny["steps"] == 2 * 4
    assert [row["label_accuracy"] for row in tiny["rows"]] == pytest.approx(
        [float(row["label_accuracy"]) for row in quality])
    evaluated = json.loads((run / "evaluate.json").read_text())
    assert evaluated["n"] == 100 and tiny["final"]["fid"] == evaluated["fid"]
    assert tiny["final"]["label_accuracy"] == evaluated["conditional"]["label_accuracy"]
    assert tiny["final"]["digit_share_min"] <= 0.1 <= tiny["final"]["digit_share_max"]
    text = docs.read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n") and "old table" not in text
    assert text.index("| mnist_gan_mlp | 1 | 937 |") < text.index("| tiny_cgan | 1 | 4 |") < text.index(
        "| tiny_cgan | 2 | 8 |")
    assert "`python examples/mnist_cgan.py --width 0.0625 --limit 256" in text
    assert (tmp_path / "images/zoo_tiny_cgan.png").read_bytes() == (run / "samples/epoch_002.png").read_bytes()


def test_a_finished_run_is_scored_again_without_training(zoo_quality, tmp_path):
    runs, flags = tmp_path / "runs", ["--runs", str(tmp_path / "runs"), "--results", str(tmp_path / "r.json"),
                                      "--images", str(tmp_path / "images")]
    docs = tmp_path / "zoo.md"
    docs.write_text(f"{zoo_quality.BEGIN}\n{zoo_quality.END}\n")
    zoo_quality.main(["--models", "tiny_cgan", "--docs", str(docs), *flags])
    history = (runs / "tiny_cgan/history.csv").read_bytes()

    zoo_quality.main(["--models", "tiny_cgan", "--docs", str(docs), *flags])

    assert (runs / "tiny_cgan/history.csv").read_bytes() == history
    assert "| tiny_cgan | 2 | 8 |" in docs.read_text()
