"""Every model of the zoo trained to its budget and scored by minigan's shipped evaluators (docs/gan_zoo.md's tables).

Each model trains through its example's command line, exactly as a user's run, plus
``--eval-every 1 --eval-samples 10000``: after every epoch 10,000 samples (1,000 per class for a
conditional GAN) are scored into the run's ``quality.csv``, and after each epoch of the model's
``rows`` a copy of the checkpoint is kept (``RUN/checkpoint_epoch_NNN.npz``). Each table row is
``python -m minigan evaluate`` of that copy (10,000 samples, seed 0: FID, KID, precision, recall,
Inception Score, mean confidence; label accuracy and within-class diversity for a conditional
GAN), in the features of the classifier shipped for the run's dataset; a row without its copy
(a run made before copies were kept) is the run's ``quality.csv`` row, with the evaluator the
checkpoint records for it. The finished checkpoint is evaluated once more for the second table,
which adds the share of each class. Minutes are training time (steps x the run's median step
time: scoring excluded)::

    python benchmarks/zoo_quality.py                                   # every model: hours on 2 cores
    python benchmarks/zoo_quality.py --models mnist_cgan mnist_cdcgan  # some; the others' rows are kept
    python benchmarks/zoo_quality.py --runs runs/zoo --rescore         # score the finished runs again
    python benchmarks/zoo_quality.py --zoo tiny.json --models tiny --samples 100   # models of one's own

``--zoo FILE`` adds (or replaces) models: a JSON object ``{"name": {"recipe": "mnist_cgan",
"args": ["--width", "0.25"], "rows": [1, 2], "note": "..."}}``.

A run folder that already holds a checkpoint is resumed (or, if finished, only scored). Results
go to ``--results`` (JSON, one entry per model, merged with what is there; every figure with its
evaluator), the tables into the marked section of ``--docs``, each model's last sample grid into
``docs/images/zoo_<model>.png``.
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
from minigan.evaluate import SHIPPED, get_classifier
from minigan.training import checkpoint
from minigan.training.callbacks.base import Callback
from minigan.training.callbacks.quality import aligned

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
    "mnist_wgan_gp": Model("mnist_wgan_gp", (), (1, 2, 3, 5, 9, 10), "WGAN-GP in Gulrajani et al.'s MNIST setting"),
    "mnist_wgan_gp_fast": Model("mnist_wgan_gp", ("--preset", "fast"), (1, 2, 3, 5, 7, 10),
                                "the same at Adam 2e-4, samples from an average of G's weights"),
    "sngan_fashion32": Model("sngan_images", ("--epochs", "3"), (1, 2, 3), "SNGAN: spectrally normalized D, hinge"),
}
SAMPLES = 10_000  # scored after every epoch and at the end


def load_zoo(path: Path) -> dict[str, Model]:
    """The models of a ``--zoo`` JSON file, each checked to name a recipe."""
    models = {}
    for name, entry in json.loads(path.read_text()).items():
        if entry.get("recipe") not in RECIPES:
            raise SystemExit(f"zoo_quality: {path}: {name}: expected a recipe among {sorted(RECIPES)}, "
                             f"got {entry.get('recipe')!r}")
        models[name] = Model(entry["recipe"], tuple(entry.get("args", ())), tuple(entry["rows"]), entry.get("note", ""))
    return models


def command(name: str, out: Path) -> list[str]:
    """The flags of ``name``'s run, writing to ``out``."""
    return [*ZOO[name].args, "--eval-every", "1", "--eval-samples", str(SAMPLES), "--no-progress", "--out", str(out)]


class KeepEpochs(Callback):
    """After each of ``epochs``, a copy of the run's checkpoint: ``RUN/checkpoint_epoch_NNN.npz``."""

    def __init__(self, epochs: tuple[int, ...]) -> None:
        self.epochs = set(epochs)

    def on_epoch_end(self, trainer: Any, epoch: int) -> None:
        if epoch in self.epochs and trainer.out_dir is not None:
            trainer.save_checkpoint(kept_checkpoint(trainer.out_dir, epoch))


def kept_checkpoint(out: Path, epoch: int) -> Path:
    return out / f"checkpoint_epoch_{epoch:03d}.npz"


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

    def compose(recipe: Any, options: Any, comm: Any, progress: bool) -> Any:
        trainer = cli_args.standard_run(recipe, options, comm, progress)
        trainer.callbacks.append(KeepEpochs(ZOO[name].rows))
        return trainer

    status = cli_args.main(RECIPES[ZOO[name].recipe], flags, compose=compose)
    if status != 0:
        raise SystemExit(f"zoo_quality: {name}: the run ended with status {status}")


def read_csv(path: Path) -> list[dict[str, float]]:
    with open(path, newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def evaluate(path: Path, json_path: Path) -> dict[str, Any]:
    """``python -m minigan evaluate`` of the checkpoint at ``path`` (:data:`SAMPLES` samples), its JSON."""
    status = minigan_cli.main(["evaluate", str(path), "-n", str(SAMPLES), "--json", str(json_path)])
    if status != 0:
        raise SystemExit(f"zoo_quality: evaluate {path} ended with status {status}")
    return json.loads(json_path.read_text())


def figures(evaluated: dict[str, Any]) -> dict[str, Any]:
    """The table's figures of an ``evaluate`` JSON, with its evaluator's label."""
    conditional = evaluated.get("conditional", {})
    return {
        **{k: evaluated[k] for k in ("fid", "kid", "kid_std", "precision", "recall", "inception_score",
                                     "mean_confidence")},
        "label_accuracy": conditional.get("label_accuracy", float("nan")),
        "diversity": conditional.get("diversity", float("nan")),
        "evaluator": evaluated["evaluator"]["label"],
    }


def score(name: str, out: Path) -> dict[str, Any]:
    """The model's table rows from its run folder, and the final ``evaluate`` of its checkpoint."""
    ckpt = checkpoint.load(out / "checkpoint.npz")
    config = ckpt.meta["config"]
    history = read_csv(out / "history.csv")
    seconds_per_step = float(np.median([config["batch_size"] * config["d_steps"] / r["images_per_s"]
                                        for r in history]))
    scored = read_csv(out / "quality.csv")
    labels = aligned([str(label) for label in ckpt.meta.get("quality_evaluators", [])], len(scored))
    quality = {int(r["epoch"]): {**r, "evaluator": label} for r, label in zip(scored, labels, strict=True)}
    rows = []
    for epoch in ZOO[name].rows:
        kept = kept_checkpoint(out, epoch)
        if kept.is_file():
            step = int(checkpoint.load(kept).meta["step"])
            row = {"epoch": epoch, "step": step, **figures(evaluate(kept, out / f"evaluate_epoch_{epoch:03d}.json"))}
        elif epoch in quality:
            row = quality[epoch]
        else:
            continue
        rows.append({**row, "minutes": row["step"] * seconds_per_step / 60})
    final = evaluate(out / "checkpoint.npz", out / "evaluate.json")
    histogram = np.asarray(final["class_histogram"], dtype=np.float64)
    return {
        "model": name,
        "note": ZOO[name].note,
        "command": f"python examples/{ZOO[name].recipe}.py {shlex.join(ZOO[name].args)}".rstrip(),
        "steps": int(ckpt.meta["step"]),
        "seconds_per_step": seconds_per_step,
        "rows": rows,
        "final": {
            **figures(final),
            "digit_share_min": float(histogram.min() / histogram.sum()),
            "digit_share_max": float(histogram.max() / histogram.sum()),
        },
    }


def figure(value: float | None, fmt: str) -> str:
    return "-" if value is None or value != value else format(value, fmt)


def shipped_labels() -> dict[str, str]:
    """The label of each shipped evaluator -> the dataset it was trained on."""
    return {get_classifier(dataset).label: dataset for dataset in SHIPPED}


def marked(value: float | None, fmt: str, evaluator: str | None) -> str:
    """``value`` formatted, with a dagger when its evaluator is not one of the shipped ones."""
    return figure(value, fmt) + ("" if evaluator in shipped_labels() else " †")


def table(results: dict[str, Any]) -> str:
    """The Markdown tables of every scored model, in the order of :data:`ZOO`, under the evaluators' names."""
    shipped = ", ".join(f"`{label}` for {dataset}" for label, dataset in shipped_labels().items())
    scored = [row.get("evaluator") for name in ZOO if name in results
              for row in (*results[name]["rows"], results[name]["final"])]
    unmarked = sum(evaluator in shipped_labels() for evaluator in scored)
    lines = [
        f"Scored by the evaluators shipped with minigan ({shipped}), each run in the features of its dataset's "
        f"one against its test split (10,000 images), {SAMPLES:,} samples; an FID marked † instead by an MNIST "
        "classifier trained on the machine that made the run (Fashion-MNIST runs included), before minigan "
        "shipped its evaluators: those figures rank the runs scored alike, another machine's classifier gives "
        "other figures, and `python benchmarks/zoo_quality.py --rescore` on the run folders replaces them. "
        f"{len(scored) - unmarked} of the {len(scored)} rows below are marked.",
        "",
        "| model | epoch | steps | minutes | FID | KID | precision | recall | IS | confidence | label accuracy "
        "| diversity |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in (n for n in ZOO if n in results):
        for row in results[name]["rows"]:
            by = row.get("evaluator")
            lines.append(
                f"| {name} | {int(row['epoch'])} | {int(row['step']):,} | {row['minutes']:.1f} | "
                f"{marked(row['fid'], '.1f', by)} | {figure(row.get('kid'), '.3f')} | "
                f"{figure(row.get('precision'), '.3f')} | {figure(row.get('recall'), '.3f')} | "
                f"{row['inception_score']:.2f} | {row['mean_confidence']:.3f} | "
                f"{figure(row['label_accuracy'], '.3f')} | {figure(row['diversity'], '.3f')} |"
            )
    lines += ["", f"After the last epoch, `python -m minigan evaluate` on the checkpoint ({SAMPLES:,} samples):", "",
              "| model | command | FID | KID | precision | recall | IS | confidence | each class | label accuracy "
              "| diversity |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name in (n for n in ZOO if n in results):
        f = results[name]["final"]
        lines.append(
            f"| {name} | `{results[name]['command']}` | {marked(f['fid'], '.1f', f.get('evaluator'))} | "
            f"{figure(f.get('kid'), '.3f')} | {figure(f.get('precision'), '.3f')} | {figure(f.get('recall'), '.3f')} | "
            f"{f['inception_score']:.2f} | {f['mean_confidence']:.3f} | "
            f"{100 * f['digit_share_min']:.1f}-{100 * f['digit_share_max']:.1f}% | "
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
    global SAMPLES
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=None,
                        help=f"models to train and score (default: {', '.join(ZOO)})")
    parser.add_argument("--zoo", type=Path, default=None, help="a JSON file of more models (see the docstring)")
    parser.add_argument("--samples", type=int, default=SAMPLES, help="samples scored after each epoch and at the end")
    parser.add_argument("--runs", type=Path, default=Path("runs/zoo"), help="run folders: RUNS/<model>")
    parser.add_argument("--rescore", action="store_true",
                        help="only score the runs there again, by the shipped evaluators (no training)")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks/results/zoo_quality.json")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs/gan_zoo.md", help="the table goes here")
    parser.add_argument("--images", type=Path, default=ROOT / "docs/images", help="the final grids go here")
    args = parser.parse_args(argv)
    SAMPLES = args.samples
    if args.zoo is not None:
        ZOO.update(load_zoo(args.zoo))
    unknown = sorted(set(args.models or ()) - set(ZOO))
    if unknown:
        parser.error(f"argument --models: unknown {unknown}; expected among {', '.join(ZOO)}")
    args.models = args.models or list(ZOO)

    results = json.loads(args.results.read_text()) if args.results.is_file() else {}
    for name in args.models:
        out = args.runs / name
        if args.rescore and not (out / "checkpoint.npz").is_file():
            print(f"== {name}: no checkpoint in {out}; its rows are kept as they are", flush=True)
            continue
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
