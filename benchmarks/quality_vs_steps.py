"""Sample quality against training time for the default ``examples/mnist_dcgan.py`` run.

Trains the example to each epoch of ``--epochs`` in turn (resuming from its own checkpoint,
which continues the run exactly), and after each one scores ``-n`` samples of the generator
with ``minigan.evaluate``: FID against the MNIST test set, Inception Score, mean confidence
and how many digits get at least 1% of the samples. Real MNIST training images are scored
as the floor. Results go to ``--report`` (Markdown, with the command that produced them)
and the same name with ``.json``, rewritten after every milestone so a long run can be
stopped at any time::

    MINIGAN_DATA=/path/to/data python benchmarks/quality_vs_steps.py                 # tutorial run
    python benchmarks/quality_vs_steps.py --epochs 1,2 -- --preset fast             # quick look

Arguments after ``--`` go to ``examples/mnist_dcgan.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from minigan import backend
from minigan.cli import train as cli_args
from minigan.cli.evaluate import sample_checkpoint
from minigan.cli.recipes import MNIST_DCGAN
from minigan.evaluate import get_classifier
from minigan.evaluate.classifier import load_mnist_split
from minigan.evaluate.scores import evaluate_samples, mnist_test_reference
from minigan.training import checkpoint


def row(label: str, step: int | str, seconds: float | None, figures: dict[str, Any]) -> dict[str, Any]:
    hist = np.asarray(figures["class_histogram"])
    return {
        "epoch": label,
        "step": step,
        "train_seconds": seconds,
        "fid": figures["fid"],
        "inception_score": figures["inception_score"],
        "mean_confidence": figures["mean_confidence"],
        "digits_covered": int((hist >= 0.01 * hist.sum()).sum()),
        "class_histogram": hist.tolist(),
    }


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def markdown(rows: list[dict[str, Any]], command: str, n: int) -> str:
    lines = [
        "# Sample quality against training steps (examples/mnist_dcgan.py)",
        "",
        f"Command: `{command}`  ",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, backend {backend.get_backend()}; "
        f"{n} samples per row; written {time.strftime('%Y-%m-%d %H:%M')}.",
        "",
        "| epoch | step | training time | FID | Inception Score | mean confidence | digits with >= 1% |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        seconds = "" if r["train_seconds"] is None else f"{r['train_seconds'] / 60:.1f} min"
        lines.append(
            f"| {r['epoch']} | {r['step']} | {seconds} | {r['fid']:.2f} | {r['inception_score']:.3f} "
            f"| {r['mean_confidence']:.3f} | {r['digits_covered']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ours, example_args = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", default="1,2,5,10,20,50", help="comma-separated epochs to score at")
    parser.add_argument("-n", "--num-images", type=int, default=10_000, help="samples scored per milestone")
    parser.add_argument("--out", default="runs/quality_vs_steps", help="the training run's folder")
    parser.add_argument("--report", default="benchmarks/results/quality_vs_steps.md", help="Markdown report")
    args = parser.parse_args(ours)
    milestones = sorted({int(e) for e in args.epochs.split(",")})
    if milestones[0] < 1:
        parser.error(f"--epochs: expected positive epochs, got {args.epochs!r}")
    command = shlex.join(["python", "benchmarks/quality_vs_steps.py", *argv])
    report, ckpt_path = Path(args.report), Path(args.out) / "checkpoint.npz"

    classifier = get_classifier()
    reference = mnist_test_reference(classifier)
    train_images, _ = load_mnist_split("train")
    rows = [row("real (MNIST train)", "", None, evaluate_samples(train_images, classifier, args.num_images, reference))]
    trained = 0.0
    for epoch in milestones:
        resume = ["--resume", str(ckpt_path)] if ckpt_path.is_file() else []
        start = time.perf_counter()
        argv = ["--out", args.out, "--epochs", str(epoch), "--no-progress", *resume, *example_args]
        status = cli_args.main(MNIST_DCGAN, argv)
        if status != 0:
            print(f"quality_vs_steps: examples/mnist_dcgan.py exited with {status}", file=sys.stderr)
            return status
        trained += time.perf_counter() - start
        step = checkpoint.load(ckpt_path).meta.get("step", "")
        images = sample_checkpoint(ckpt_path, args.num_images, seed=0)
        rows.append(row(str(epoch), step, trained, evaluate_samples(images, classifier, None, reference)))
        print(f"epoch {epoch}: FID {rows[-1]['fid']:.2f}, IS {rows[-1]['inception_score']:.3f}", flush=True)
        write_atomically(report, markdown(rows, command, args.num_images))
        write_atomically(report.with_suffix(".json"), json.dumps({"command": command, "rows": rows}, indent=2))
    print(f"wrote {report} and {report.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
