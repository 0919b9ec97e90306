"""The command line of ``examples/study.py``: the MNIST DCGAN's options as the base, then the study's.

See :mod:`minigan.cli.study_runner` for what a study is, and examples/study.py for the commands.
"""

from __future__ import annotations

import argparse
import os
import sys

from minigan import backend
from minigan.cli import study_report
from minigan.cli import study_runner as study
from minigan.cli import train as cli_args
from minigan.cli.recipes import MNIST_DCGAN


def build_parser() -> argparse.ArgumentParser:
    """mnist_dcgan.py's options (the base configuration) and the study's own."""
    parser = cli_args.build_parser(MNIST_DCGAN)
    parser.prog = "study.py"
    parser.description = "Train configurations of the MNIST DCGAN for the same budget; compare them in one figure."
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = "studies:\n" + "\n".join(
        f"  {name:<10} {s.description}\n  {'':<10} {'; '.join(v.label for v in s.variants)}"
        for name, s in study.STUDIES.items()
    ) + f"\n\n--vary keys: {', '.join(study.OVERRIDE_KEYS)}"
    group = parser.add_argument_group("study")
    group.add_argument("--study", choices=sorted(study.STUDIES), default=None, help="a named study (listed below)")
    group.add_argument("--vary", action="append", default=[], metavar="KEY=V1,V2,...",
                       help="also vary KEY over these values (repeatable: the grid product of all)")
    group.add_argument("--steps", type=cli_args.POSITIVE_INT, default=None,
                       help="train each configuration this many steps instead of --epochs epochs")
    group.add_argument("--eval", action="store_true", default=False,
                       help="FID, KID, precision/recall and Inception Score of --eval-samples samples of each "
                            "configuration, by the classifier shipped for --dataset")
    return parser


def fail(message: str, code: int = 2) -> int:
    print(f"study.py: error: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "resume", None):
        parser.error("argument --resume: not supported by study.py (resume a configuration with mnist_dcgan.py)")
    options = cli_args.resolve(MNIST_DCGAN, args, None)
    if "out" not in vars(args):
        options["out"] = f"runs/study_{args.study or 'vary'}"
    if options["data_dir"] is not None and not os.path.isdir(options["data_dir"]):
        parser.error(f"argument --data-dir: no such folder: {options['data_dir']!r}")
    try:
        named = study.STUDIES[args.study].variants if args.study else ()
        variants = study.combine(named, study.parse_vary(args.vary))
        base = MNIST_DCGAN.config(options)
        for variant in variants:  # every configuration is checked before any trains
            study.configure(base, variant.overrides)
    except ValueError as exc:
        parser.error(str(exc))
    try:
        backend.set_backend(options["backend"])
        images, _ = MNIST_DCGAN.data(options)
    except (ValueError, OSError, backend.BackendError) as exc:
        return fail(str(exc))

    scorer = None
    if args.eval:
        scorer = study.quality_scorer(options["eval_samples"], dataset=options["dataset"])
    budget = f"{args.steps} steps" if args.steps else f"{base.epochs} epochs"
    what = study.STUDIES[args.study].description if args.study else "; ".join(args.vary)
    title = (f"{what}: {budget} each on {len(images)} {options['dataset']} images; base: batch {base.batch_size}, "
             f"Adam lr D {base.lr_d:g} G {base.lr_g:g} beta1 {base.beta1:g}, width {options['width']:g}, "
             f"seed {base.seed}")
    print(f"{len(variants)} configurations, {title}; writing to {options['out']}")
    try:
        results = study.run_study(base, variants, images, options["out"], args.steps, scorer, title,
                                  progress=not args.no_progress)
    except ValueError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        print(f"\ninterrupted; the finished configurations are in {options['out']}/study.csv")
        return 130
    for result in results:
        row = study_report.summary(result)
        fid = f" FID {row['fid']:.1f} IS {row['inception_score']:.2f}" if row["fid"] is not None else ""
        print(f"{row['label']:<28} {row['status']:<10} d_loss {row['d_loss']:.3f} g_loss {row['g_loss']:.3f} "
              f"D(x) {row['d_x']:.2f} D(G(z)) {row['d_g_z']:.2f} {row['seconds']:.0f} s{fid}")
    print(f"done: study.csv and study.png in {options['out']}")
    return 0


