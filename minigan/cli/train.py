"""The command line of a training recipe: options derived from its settings, presets, resume, the run.

Every recipe (:mod:`minigan.cli.recipes`) gets the same command line: one option per
:class:`~minigan.training.settings.Setting` (``--epochs``, ``--batch-size``, ``--lr``, ... each with its
help, default and range), ``--preset``, ``--resume`` and ``--no-progress``; the same outputs and
the same errors. Where a value comes from, lowest first: the setting's default < the recipe's
defaults < a resumed checkpoint's settings < ``--preset`` < the flags given.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from minigan import backend, optim
from minigan.cli.recipes import RECIPES, Options, Recipe, stored_options
from minigan.data import ImageFolder
from minigan.gan import GAN
from minigan.training import Trainer, build_gan, checkpoint, default_callbacks
from minigan.training.callbacks import Diverged, Interrupted
from minigan.training.data_parallel import AllreduceOptimizer, distribute
from minigan.training.distributed import Communicator, DistributedError, get_communicator
from minigan.training.memory import retain_freed_memory
from minigan.training.run_dir import RunLock
from minigan.training.settings import POSITIVE, POSITIVE_INT, Setting, number

__all__ = ["POSITIVE", "POSITIVE_INT", "Compose", "build_parser", "main", "main_with_recipe", "number", "resolve",
           "standard_run", "use_flat_adam"]


def _add(parser: argparse.ArgumentParser, s: Setting, recipe: Recipe, defaults: Options) -> None:
    """``s`` as an option whose help shows its default, its range and the presets' values."""
    shown = [f"default: {defaults[s.name]}"] + [f"{name} preset: {p[s.name]}" for name, p in recipe.presets.items()
                                                if s.name in p]
    if s.bounds():
        shown.append(s.bounds())
    kwargs: dict[str, Any] = {"help": f"{s.help} ({'; '.join(shown)})".replace("%", "%%")}
    if s.type is bool:
        kwargs["action"] = argparse.BooleanOptionalAction
    else:
        kwargs.update(type=s.parse, nargs=s.nargs)
        if s.choices is not None:
            kwargs["metavar"] = "{" + ",".join(map(str, s.choices)) + "}"
    parser.add_argument(s.flag, **kwargs)


def build_parser(recipe: Recipe, prog: str | None = None) -> argparse.ArgumentParser:
    """The recipe's command line; only the flags given appear in the parsed namespace."""
    parser = argparse.ArgumentParser(prog=prog or f"{recipe.name}.py", description=recipe.description,
                                     argument_default=argparse.SUPPRESS)
    if len(recipe.presets) > 1:
        described = "; ".join(
            f"{name}: " + (", ".join(f"{k}={v}" for k, v in p.items()) or "the defaults")
            for name, p in recipe.presets.items()
        )
        parser.add_argument("--preset", choices=list(recipe.presets), help=f"named settings ({described})")
    defaults = recipe.all_defaults()
    for s in recipe.all_settings():
        _add(parser, s, recipe, defaults)
    parser.add_argument("--resume", metavar="CHECKPOINT",
                        help="continue from this checkpoint: its settings, overridden by the flags given")
    parser.add_argument("--no-progress", action="store_true", default=False, help="no progress bar")
    return parser


def resolve(recipe: Recipe, args: argparse.Namespace, stored: Options | None) -> Options:
    """The run's options: defaults < checkpoint's settings < --preset < explicit flags."""
    options = recipe.all_defaults()
    given = {k: v for k, v in vars(args).items() if k in options}
    if stored is not None:
        local = {s.name for s in recipe.all_settings() if not s.stored}
        options.update({k: v for k, v in stored.items() if k in options and k not in local})
        if "out" not in given:
            options["out"] = str(Path(args.resume).parent)
    preset = getattr(args, "preset", None) or (next(iter(recipe.presets)) if stored is None else None)
    if preset is not None:
        options.update({k: v for k, v in recipe.presets[preset].items() if stored is None or k != "out"})
    options.update(given)
    return options


def fail(prog: str, message: str, code: int = 2) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    return code


def standard_run(recipe: Recipe, options: Options, comm: Communicator, progress: bool) -> Trainer:
    """The recipe's run: its configuration and data, :func:`~minigan.training.build_gan`, the
    processes' shares of a data-parallel run, and :func:`~minigan.training.default_callbacks`."""
    config = recipe.config(options)
    images, labels = recipe.data(options)
    if options.get("strict") and isinstance(images, ImageFolder):
        images.verify(progress=progress)
    gan = build_gan(config)
    if comm.size > 1:
        distribute(gan, comm, config.seed, sync_bn=options["sync_bn"])
    out = Path(options["out"])
    callbacks = default_callbacks(config, out, images, comm, progress, tensorboard=options["tensorboard"])
    return Trainer(gan, images, config, out_dir=out, callbacks=callbacks, labels=labels, communicator=comm)


def use_flat_adam(gan: GAN) -> None:
    """``--flat-adam``: each Adam of the GAN (inside a data-parallel wrapper too) becomes a
    :class:`~minigan.optim.FlatAdam` with its settings, step count and moments."""
    for name in ("opt_g", "opt_d"):
        wrapper = getattr(gan, name)
        owner, attribute = (wrapper, "optimizer") if isinstance(wrapper, AllreduceOptimizer) else (gan, name)
        adam = getattr(owner, attribute)
        if isinstance(adam, optim.FlatAdam):
            continue
        if type(adam) is not optim.Adam:
            raise ValueError(f"--flat-adam: expected the run's {name} to be an optim.Adam, got {type(adam).__name__}")
        setattr(owner, attribute, optim.FlatAdam.from_adam(adam))


#: How a command line turns its options into a run (:func:`standard_run`, or a script's own).
Compose = Callable[[Recipe, Options, Communicator, bool], Trainer]


def main(recipe: Recipe, argv: list[str] | None = None, prog: str | None = None,
         compose: Compose = standard_run) -> int:
    """Parse ``argv``, build the run with ``compose(recipe, options, communicator, progress)``
    (resuming it from ``--resume``), train it; returns the exit code (0 done, 1 diverged, 2 bad
    input or a failed write, 128 + the signal's number when stopped by one: 130 for Ctrl-C, 143 for
    SIGTERM). The output folder is locked for the run (:class:`RunLock`)."""
    prog = prog or f"{recipe.name}.py"
    parser = build_parser(recipe, prog)
    args = parser.parse_args(argv)
    stored_ckpt = None
    if getattr(args, "resume", None):
        try:
            stored_ckpt = checkpoint.load(args.resume)
        except checkpoint.CheckpointError as exc:
            return fail(prog, str(exc))
    options = resolve(recipe, args, stored_options(stored_ckpt.meta["config"]) if stored_ckpt else None)
    if options["data_dir"] is not None and not os.path.isdir(options["data_dir"]):
        parser.error(f"argument --data-dir: no such folder: {options['data_dir']!r}")
    out = Path(options["out"])
    try:
        comm = get_communicator(options["distributed"])
    except (ValueError, DistributedError) as exc:
        return fail(prog, str(exc))
    lock = RunLock(out) if comm.rank == 0 else None  # rank 0 writes for all processes
    try:
        if lock is not None:
            lock.acquire()  # the folder is writable and no other run writes to it
        backend.set_backend(options["backend"])
        if options["retain_memory"]:
            retain_freed_memory()
        trainer = compose(recipe, options, comm, not args.no_progress)
        if options["flat_adam"]:
            use_flat_adam(trainer.gan)
        if stored_ckpt is not None:
            trainer.load_checkpoint(stored_ckpt)
    except (ValueError, OSError, ImportError, backend.BackendError) as exc:  # DataError, CheckpointError: ValueErrors
        if lock is not None:
            lock.release()
        return fail(prog, str(exc))
    try:
        return _train(prog, trainer, stored_ckpt is not None, out)
    finally:
        if lock is not None:
            lock.release()


def _train(prog: str, trainer: Trainer, resumed: bool, out: Path) -> int:
    """Print what the run is, train it, and say how it ended (the exit code of :func:`main`);
    in a data-parallel run only rank 0 prints."""
    images, config, gan = trainer.batches.images, trainer.config, trainer.gan
    say = print if trainer.comm.rank == 0 else (lambda *args: None)
    processes = f"; {trainer.comm.size} processes of {config.batch_size // trainer.comm.size}" \
        if trainer.comm.size > 1 else ""
    say(
        f"{len(images)} images{'' if config.num_classes is None else f' of {config.num_classes} classes'}; "
        f"G {gan.generator.count_params():,} trainable parameters, D {gan.discriminator.count_params():,}; "
        f"batch {config.batch_size}, Adam lr G {config.lr_g:g} D {config.lr_d:g} beta1 {config.beta1:g}; "
        f"{config.epochs} epochs of {trainer.steps_per_epoch} steps{processes}"
        + (f"; resuming at step {trainer.step}" if resumed else "")
        + f"; writing to {out}"
    )
    try:
        trainer.fit()
    except Diverged as exc:
        return fail(prog, str(exc), code=1)
    except checkpoint.CheckpointError as exc:  # a checkpoint that could not be written: the last one is intact
        return fail(prog, str(exc))
    except KeyboardInterrupt as exc:
        where = trainer.checkpoint_path
        if trainer.saved_step is None:
            say(f"\ninterrupted at step {trainer.step}; no checkpoint was written")
        else:
            say(f"\ninterrupted; checkpoint of step {trainer.saved_step} in {where}; continue with --resume {where}")
        return 128 + (exc.signum if isinstance(exc, Interrupted) else 2)
    quality = ", quality.csv" if trainer.quality else ""
    say(f"done: {trainer.step} steps; samples, samples.gif, losses.png, history.csv{quality}, checkpoint.npz "
          f"in {out}")
    return 0


def main_with_recipe(argv: list[str]) -> int:
    """``minigan train RECIPE [options]``: :func:`main` for the recipe named first."""
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in RECIPES:
        names = ", ".join(RECIPES)
        if argv and argv[0] not in ("-h", "--help"):
            return fail("minigan train", f"expected a recipe ({names}), got {argv[0]!r}")
        print(f"usage: minigan train RECIPE [options]\n\nrecipes: {names}\n"
              "minigan train RECIPE --help lists the recipe's options.")
        return 0 if argv else 2
    return main(RECIPES[argv[0]], argv[1:], prog=f"minigan train {argv[0]}")
