"""benchmarks/zoo_quality.py trains a model through its script, scores it, and writes the table into the docs.

Plumbing only: a tiny cGAN for two epochs of 256 real MNIST images, scored by the shipped MNIST
evaluator (the figures mean little; where they come from is what is checked).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from minigan.evaluate import get_classifier

ROOT = Path(__file__).resolve().parents[2]


BEGIN, END = "<!-- zoo_quality.py: begin -->", "<!-- zoo_quality.py: end -->"  # the marked section of the docs
TINY = ["--width", "0.0625", "--limit", "256", "--batch-size", "64", "--epochs", "2"]


@pytest.fixture
def zoo_quality(tmp_path, mnist_dir):
    """``benchmarks/zoo_quality.py ARGS`` in its own process, with a tiny cGAN and a stand-in entry
    for an earlier model; returns its exit status (stdout printed for capsys)."""
    zoo = tmp_path / "zoo.json"
    zoo.write_text(json.dumps({
        "mnist_gan_mlp": {"recipe": "mnist_gan_mlp", "args": [], "rows": [1], "note": "kept from an earlier call"},
        "tiny_cgan": {"recipe": "mnist_cgan", "args": TINY, "rows": [1, 2], "note": "a tiny cGAN"},
    }))
    env = {**os.environ, "MINIGAN_CACHE": str(tmp_path / "cache")}  # nothing trained or cached: the shipped evaluator

    def run(args: list[str]) -> int:
        command = [sys.executable, str(ROOT / "benchmarks/zoo_quality.py"), "--zoo", str(zoo), "--samples", "100",
                   *args]
        result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
                                check=False)
        print(result.stdout)
        assert result.returncode == 0, result.stderr
        return result.returncode

    return run


def test_a_model_is_trained_its_kept_epochs_scored_and_its_table_written_into_the_docs(zoo_quality, tmp_path):
    docs = tmp_path / "zoo.md"
    docs.write_text(f"intro\n{BEGIN}\nold table\n{END}\noutro\n")
    results = tmp_path / "results.json"
    earlier = {"model": "mnist_gan_mlp", "command": "python examples/mnist_gan_mlp.py", "rows": [
        {"epoch": 1, "step": 937, "minutes": 0.5, "fid": 99.0, "inception_score": 5.0, "mean_confidence": 0.8,
         "label_accuracy": float("nan"), "diversity": float("nan")}],
        "final": {"fid": 98.0, "inception_score": 5.1, "mean_confidence": 0.81, "digit_share_min": 0.05,
                  "digit_share_max": 0.15}}
    results.write_text(json.dumps({"mnist_gan_mlp": earlier}))

    status = zoo_quality(["--models", "tiny_cgan", "--runs", str(tmp_path / "runs"), "--results", str(results),
                               "--docs", str(docs), "--images", str(tmp_path / "images")])

    assert status == 0
    run = tmp_path / "runs/tiny_cgan"
    assert sorted(p.name for p in run.glob("checkpoint_epoch_*.npz")) == ["checkpoint_epoch_001.npz",
                                                                            "checkpoint_epoch_002.npz"]
    stored = json.loads(results.read_text())
    assert set(stored) == {"mnist_gan_mlp", "tiny_cgan"}  # the earlier entry is kept
    tiny, label = stored["tiny_cgan"], get_classifier("mnist").label
    assert [row["epoch"] for row in tiny["rows"]] == [1, 2] and [row["step"] for row in tiny["rows"]] == [4, 8]
    for row in tiny["rows"]:  # each row: evaluate of the checkpoint kept after its epoch
        evaluated = json.loads((run / f"evaluate_epoch_{row['epoch']:03d}.json").read_text())
        assert evaluated["n"] == 100 and row["evaluator"] == evaluated["evaluator"]["label"] == label
        assert (row["fid"], row["kid"], row["recall"]) == (evaluated["fid"], evaluated["kid"], evaluated["recall"])
        assert row["label_accuracy"] == evaluated["conditional"]["label_accuracy"]
    evaluated = json.loads((run / "evaluate.json").read_text())
    assert tiny["final"]["fid"] == evaluated["fid"] and tiny["final"]["precision"] == evaluated["precision"]
    assert tiny["final"]["label_accuracy"] == evaluated["conditional"]["label_accuracy"]
    assert tiny["final"]["digit_share_min"] <= 0.1 <= tiny["final"]["digit_share_max"]
    text = docs.read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n") and "old table" not in text
    assert f"`{label}` for mnist" in text
    assert text.index("| mnist_gan_mlp | 1 | 937 | 0.5 | 99.0 † | - |") < text.index("| tiny_cgan | 1 | 4 |") < \
        text.index("| tiny_cgan | 2 | 8 |")  # the earlier entry names no evaluator: marked
    assert f"| tiny_cgan | 2 | 8 | {tiny['rows'][1]['minutes']:.1f} | {tiny['rows'][1]['fid']:.1f} | " in text
    assert "`python examples/mnist_cgan.py --width 0.0625 --limit 256" in text
    assert (tmp_path / "images/zoo_tiny_cgan.png").read_bytes() == (run / "samples/epoch_002.png").read_bytes()


def test_a_finished_run_is_scored_again_without_training(zoo_quality, tmp_path):
    runs, flags = tmp_path / "runs", ["--runs", str(tmp_path / "runs"), "--results", str(tmp_path / "r.json"),
                                      "--images", str(tmp_path / "images")]
    docs = tmp_path / "zoo.md"
    docs.write_text(f"{BEGIN}\n{END}\n")
    zoo_quality(["--models", "tiny_cgan", "--docs", str(docs), *flags])
    history = (runs / "tiny_cgan/history.csv").read_bytes()

    zoo_quality(["--models", "tiny_cgan", "--docs", str(docs), *flags])

    assert (runs / "tiny_cgan/history.csv").read_bytes() == history
    assert "| tiny_cgan | 2 | 8 |" in docs.read_text()


def test_rescore_scores_a_run_without_kept_epochs_from_its_quality_rows_and_skips_missing_runs(zoo_quality, tmp_path,
                                                                                             capsys):
    runs, flags = tmp_path / "runs", ["--runs", str(tmp_path / "runs"), "--results", str(tmp_path / "r.json"),
                                      "--images", str(tmp_path / "images"), "--docs", str(tmp_path / "zoo.md")]
    (tmp_path / "zoo.md").write_text(f"{BEGIN}\n{END}\n")
    zoo_quality(["--models", "tiny_cgan", *flags])
    for kept in (runs / "tiny_cgan").glob("checkpoint_epoch_*.npz"):
        kept.unlink()  # as in a run made before the copies were kept

    assert zoo_quality(["--models", "tiny_cgan", "mnist_gan_mlp", "--rescore", *flags]) == 0

    assert f"mnist_gan_mlp: no checkpoint in {runs / 'mnist_gan_mlp'}" in capsys.readouterr().out
    tiny = json.loads((tmp_path / "r.json").read_text())["tiny_cgan"]
    with open(runs / "tiny_cgan/quality.csv") as f:
        quality = list(csv.DictReader(f))
    assert [row["fid"] for row in tiny["rows"]] == pytest.approx([float(row["fid"]) for row in quality])
    assert [row["kid"] for row in tiny["rows"]] == pytest.approx([float(row["kid"]) for row in quality])
    assert {row["evaluator"] for row in tiny["rows"]} == {get_classifier("mnist").label}  # from the checkpoint
    assert " † |" not in (tmp_path / "zoo.md").read_text()  # no row marked
