"""Every model of the zoo trained to its budget and scored by minigan's own evaluator: the table of docs/gan_zoo.md.

Each model trains through its example's command line, exactly as a user's run, plus
``--eval-every 1 --eval-samples 10000``: after every epoch 10,000 samples (1,000 per class for a
conditional GAN) are scored (FID, Inception Score, mean confidence; label accuracy and within-class
diversity for a conditional one) into the run's ``quality.csv``. The finished checkpoint is scored
once more by ``python -m minigan evaluate``, which adds the share of each digit. The table rows
are the epochs of the model's ``rows``; minutes are training time (steps x the run's median step
time: scoring excluded)::

    python benchmarks/zoo_quality.py                                   # every model: hours on 2 cores
    python benchmarks/zoo_quality.py --models mnist_cgan mnist_cdcgan  # some; the others' rows are kept
    python benchmarks/zoo_quality.py --models mnist_cgan --runs runs/zoo --rescore  # score finished runs again

A run folder that already holds a checkpoint is resumed (or, if finished, only scored). Results
go to ``--results`` (JSON, one entry per model, merged with what is there), the table into the
marked section of ``--docs``, each model's last sample grid into ``docs/images/zoo_<model>.png``.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import minigan.cli as minigan_cli
from minigan.atomic import atomic_path
from minigan.cli import train as cli_args
from minigan.cli.recipes import RECIPES
from minigan.training import checkpoint

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- zoo_quality.py: begin -->", "<!-- zoo_quality.py: end -->"


@dataclass(frozen=True)
class Model:
    """One line of the zoo: a recipe, the flags of its run, the epochs shown in the table."""

    recipe: str
    args: tuple[str, ...]
    rows: tuple[int, ...]
    note: str


ZOO: dict[str, Model] = {
    "mnist_dcgan_fast": Model("mnist_dcgan", ("--preset", "fast"), (1, 2, 3),
                              "the Quickstart: the tutorial's networks, fast preset"),
    "mnist_gan_mlp": Model("mnist_gan_mlp", (), (1, 5, 10, 25, 50), "Goodfellow et al.'s MLP GAN"),
    "mnist_cgan": Model("mnist_cgan", (), (1, 2, 3, 5, 10, 30), "conditional MLP GAN, y through its own layer"),
    "mnist_cdcgan": Model("mnist_cdcgan", (), (1, 2, 3, 5, 10), "conditional DCGAN"),
    # Radford et al.'s DCGAN on what these machines have, MNIST and Fashion-MNIST resized, scored
    # after resizing back; at 32x32 narrowed to half width to fit a CPU budget.
    "radford_mnist32": Model("dcgan_images", ("--data", "mnist", "--size", "32", "--width", "0.5", "--epochs", "10"),
                             (1, 2, 3, 5, 10), "Radford et al.'s DCGAN at half width, MNIST resized to 32x32"),
    "radford_fashion32": Model("dcgan_images", ("--data", "fashion-mnist", "--size", "32", "--width", "0.5",
                                                "--epochs", "2"), (1, 2),
                               "the same on Fashion-MNIST (FID against Fashion-MNIST test images)"),
    # At 64x64 the narrowed models collapsed in every probe (docs/gan_zoo.md): the full width.
    "radford_mnist64": Model("dcgan_images", ("--data", "mnist", "--size", "64", "--epochs", "5"),
                             (1, 2, 3, 4, 5), "Radford et al.'s DCGAN at full width, MNIST resized to 64x64"),
    "radford_fashion64": Model("dcgan_images", ("--data", "fashion-mnist", "--size", "64", "--epochs", "3"),
                               (1, 2, 3), "the same on Fashion-MNIST (FID against Fashion-MNIST test images)"),
}
SAMPLES = 10_000  # scored after every epoch and at the end


def command(name: str, out: Path) -> list[str]:
    """The flags of ``name``'s run, writing to ``out``."""
    return [*ZOO[name].args, "--eval-every", "1", "--eval-samples", str(SAMPLES), "--no-progress", "--out", str(out)]


def train(name: str, out: Path) -> None:
    """Train ``name`` into ``out`` (resuming the checkpoint there, if any); a finished run is left as it is."""
    path = out / "checkpoint.npz"
    flags = command(name, out)
    if path.is_file():
        # The entry's --epochs, else the run's own: raising an entry's epochs resumes its finished run.
        args = ZOO[name].args
        epochs = checkpoint.load(path).meta["config"]["epochs"]
        epochs = int(args[args.index("--epochs") + 1]) if "--epochs" in args else epochs
        if (out / "quality.csv").is_file() and max(r["epoch"] for r in read_csv(out / "quality.csv")) >= epochs:
            return  # finished: every epoch scored
        flags += ["--resume", str(path)]
    status = cli_args.main(RECIPES[ZOO[name].recipe], flags)
    if status != 0:
        raise SystemExit(f"zoo_quality: {name}: the run ended with status {status}")


def read_csv(path: Path) -> list[dict[str, float]]:
    with open(path, newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def score(name: str, out: Path) -> dict[str, Any]:
    """The model's table rows from its run folder, and the final ``evaluate`` of its checkpoint."""
    ckpt = checkpoint.load(out / "checkpoint.npz")
    config = ckpt.meta["config"]
    history = read_csv(out / "history.csv")
    seconds_per_step = float(np.median([config["batch_size"] * config["d_steps"] / r["images_per_s"]
                                        for r in history]))
    quality = {int(r["epoch"]): r for r in read_csv(out / "quality.csv")}
    rows = [{**quality[e], "minutes": quality[e]["step"] * seconds_per_step / 60} for e in ZOO[name].rows
            if e in quality]
    json_path = out / "evaluate.json"
    minigan_cli.main(["evaluate", str(out / "checkpoint.npz"), "-n", str(SAMPLES), "--json", str(json_path)])
    final = json.loads(json_path.read_text())
    histogram = np.asarray(final["class_histogram"], dtype=np.float64)
    return {
        "model": name,
        "note": ZOO[name].note,
        "command": f"python examples/{ZOO[name].recipe}.py {shlex.join(ZOO[name].args)}".rstrip(),
        "steps": int(ckpt.meta["step"]),
        "seconds_per_step": seconds_per_step,
        "rows": rows,
        "final": {
            "fid": final["fid"], "inception_score": final["inception_score"],
            "mean_confidence": final["mean_confidence"],
            "digit_share_min": float(histogram.min() / histogram.sum()),
            "digit_share_max": float(histogram.max() / histogram.sum()),
            **{k: final["conditional"][k] for k in ("label_accuracy", "diversity") if "conditional" in final},
        },
    }


def figure(value: float | None, fmt: str) -> str:
    return "-" if value is None or value != value else format(value, fmt)


def table(results: dict[str, Any]) -> str:
    """The Markdown table of every scored model, in the order of :data:`ZOO`."""
    lines = [
        "| model | epoch | steps | minutes | FID | IS | confidence | label accuracy | diversity |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in (n for n in ZOO if n in results):
        result = results[name]
        for row in result["rows"]:
            lines.append(
                f"| {name} | {int(row['epoch'])} | {int(row['step']):,} | {row['minutes']:.1f} | "
                f"{row['fid']:.1f} | {row['inception_score']:.2f} | {row['mean_confidence']:.3f} | "
                f"{figure(row['label_accuracy'], '.3f')} | {figure(row['diversity'], '.3f')} |"
            )
    lines += ["", "After the last epoch, `python -m minigan evaluate` on the checkpoint (10,000 samples):", "",
              "| model | command | FID | IS | confidence | each digit | label accuracy | diversity |",
              "|---|---|---|---|---|---|---|---|"]
    for name in (n for n in ZOO if n in results):
        f = results[name]["final"]
        lines.append(
            f"| {name} | `{results[name]['command']}` | {f['fid']:.1f} | {f['inception_score']:.2f} | "
            f"{f['mean_confidence']:.3f} | {100 * f['digit_share_min']:.1f}-{100 * f['digit_share_max']:.1f}% | "
            f"{figure(f.get('label_accuracy'), '.3f')} | {figure(f.get('diversity'), '.3f')} |"
        )
    return "\n".join(lines)


def write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)


def update_docs(path: Path, text: str) -> None:
    """Replace the marked section of ``path`` with ``text``."""
    doc = path.read_text()
    if BEGIN not in doc or END not in doc:
        raise SystemExit(f"zoo_quality: {path}: expected the markers {BEGIN} and {END}")
    head, rest = doc.split(BEGIN, 1)
    write_text(path, f"{head}{BEGIN}\n{text}\n{END}{rest.split(END, 1)[1]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", choices=list(ZOO), default=list(ZOO), help="models to train and score")
    parser.add_argument("--runs", type=Path, default=Path("runs/zoo"), help="run folders: RUNS/<model>")
    parser.add_argument("--rescore", action="store_true", help="only score the runs there (no training)")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks/results/zoo_quality.json")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs/gan_zoo.md", help="the table goes here")
    parser.add_argument("--images", type=Path, default=ROOT / "docs/images", help="the final grids go here")
    args = parser.parse_args(argv)

    results = json.loads(args.results.read_text()) if args.results.is_file() else {}
    for name in args.models:
        out = args.runs / name
        if not args.rescore:
            print(f"== {name}: python examples/{ZOO[name].recipe}.py {shlex.join(command(name, out))}", flush=True)
            train(name, out)
        results[name] = {**score(name, out), "machine": f"{platform.machine()}, {platform.processor() or '?'}"}
        grids = sorted((out / "samples").glob("epoch_*.png"))
        args.images.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(grids[-1], args.images / f"zoo_{name}.png")
        write_text(args.results, json.dumps(results, indent=2))
    text = table(results)
    print(text)
    update_docs(args.docs, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
