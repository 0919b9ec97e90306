"""minigan.cli.study_runner and examples/study.py: variants, overrides, budgets, the CSV and figure, errors."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest

from minigan import models
from minigan.cli import study as study_cli
from minigan.cli import study_runner as study
from minigan.evaluate import get_classifier
from minigan.training import TrainConfig, build_gan, checkpoint


def tiny_config(**kwargs) -> TrainConfig:
    return TrainConfig(
        generator=models.spec("dcgan_generator", width=0.0625),
        discriminator=models.spec("dcgan_discriminator", width=0.0625),
        batch_size=8, **kwargs,
    )


def generator_params(folder: Path) -> dict[str, np.ndarray]:
    arrays = checkpoint.load(folder / "checkpoint.npz").arrays
    prefix = "model/generator/params/"
    return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def example():
    return study_cli


def test_every_study_of_the_literature_is_named_with_its_overrides():
    expected = {
        "beta1": [{"beta1": 0.5}, {"beta1": 0.9}],
        "lr": [{"lr_d": d, "lr_g": g} for d, g in ((2e-4, 2e-4), (1e-3, 2e-4), (2e-4, 1e-3), (1e-3, 1e-3))],
        "steps": [{"d_steps": 1, "g_steps": 1}, {"d_steps": 5, "g_steps": 1}, {"d_steps": 1, "g_steps": 5}],
        "latent": [{"latent_dim": 10}, {"latent_dim": 100}, {"latent_dim": 1000}],
        "batchnorm": [{"batch_norm": True}, {"batch_norm": False}],
        "loss": [{"loss": "non-saturating"}, {"loss": "minimax"}],
    }
    assert {name: [v.overrides for v in s.variants] for name, s in study.STUDIES.items()} == expected


def test_vary_is_the_grid_product_with_typed_values_and_combines_with_a_study():
    variants = study.parse_vary(["lr=1e-3,2e-4", "batch_norm=false,true"])
    assert [v.overrides for v in variants] == [
        {"lr": 1e-3, "batch_norm": False}, {"lr": 1e-3, "batch_norm": True},
        {"lr": 2e-4, "batch_norm": False}, {"lr": 2e-4, "batch_norm": True},
    ]
    assert variants[0].label == "lr=0.001 batch_norm=False"
    combined = study.combine(study.STUDIES["loss"].variants, study.parse_vary(["seed=0,1"]))
    assert [v.label for v in combined] == ["non-saturating, seed=0", "non-saturating, seed=1",
                                           "minimax, seed=0", "minimax, seed=1"]
    assert combined[3].overrides == {"loss": "minimax", "seed": 1}


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        (["momentum=0.5,0.9"], "unknown key 'momentum'"),
        (["lr=0.1,fast"], "bad value 'fast' for lr"),
        (["beta1=1.5"], "bad value '1.5' for beta1: expected a value >= 0 and < 1"),
        (["loss=focal"], "bad value 'focal' for loss"),
        (["lr"], "expected key=value1,value2"),
        (["lr=1e-3", "lr=2e-4"], "key 'lr' is given twice"),
    ],
)
def test_bad_vary_option_is_one_value_error_naming_it(texts, message):
    with pytest.raises(ValueError, match="--vary") as info:
        study.parse_vary(texts)
    assert message in str(info.value)


def test_a_key_set_by_both_the_study_and_vary_or_no_variant_at_all_is_refused():
    with pytest.raises(ValueError, match=r"\['beta1'\] set both"):
        study.combine(study.STUDIES["beta1"].variants, study.parse_vary(["beta1=0.1"]))
    with pytest.raises(ValueError, match="at least one variant"):
        study.combine((), study.parse_vary([]))


def test_configure_puts_latent_dim_width_and_batch_norm_into_the_networks_and_lr_into_both():
    base = tiny_config(options={"lr": 1e-4, "dataset": "mnist"})
    config = study.configure(base, {"latent_dim": 10, "batch_norm": False, "lr": 1e-3, "width": 0.125})
    assert (config.lr_d, config.lr_g, config.latent_dim) == (1e-3, 1e-3, 10)
    assert config.options == {"lr": 1e-3, "dataset": "mnist",
                              "study": {"latent_dim": 10, "batch_norm": False, "lr": 1e-3, "width": 0.125}}
    gan = build_gan(config)
    assert gan.generator.input_shape == (10,)
    kinds = {type(layer).__name__ for layer in gan.generator.layers}
    assert "BatchNormalization" not in kinds
    assert gan.discriminator.layers[0].filters == 8  # 64 * 0.125
    assert base.generator["kwargs"] == {"width": 0.0625}  # the base is left alone


def test_step_budget_is_exact_within_one_epoch_and_rounds_up_by_less_than_the_epochs_beyond():
    config = tiny_config(d_steps=5)  # 40 images per step
    one, n_images = study.step_budget(config, 1000, 7)
    assert (one.epochs, n_images) == (1, 280)
    three, n_images = study.step_budget(config, 1000, 60)  # 25 steps per whole epoch -> 3 epochs of 20
    assert (three.epochs, n_images) == (3, 800)
    with pytest.raises(ValueError, match="expected at least batch_size \\* d_steps = 40 images, got 39"):
        study.step_budget(config, 39, 1)


def test_run_study_trains_each_variant_from_the_same_seed_and_writes_one_csv_row_each(tmp_path):
    images = np.random.default_rng(0).uniform(-1, 1, (32, 28, 28, 1)).astype(np.float32)
    variants = study.parse_vary(["batch_norm=true,false"])
    results = study.run_study(tiny_config(), variants, images, tmp_path, steps=3, progress=False, log=lambda s: None)
    rows = read_csv(tmp_path / "study.csv")
    assert [(r["label"], r["overrides"], r["status"], r["steps"]) for r in rows] == [
        ("batch_norm=True", "batch_norm=True", "ok", "3"), ("batch_norm=False", "batch_norm=False", "ok", "3"),
    ]
    assert rows[0]["d_loss"] != rows[1]["d_loss"]
    with_bn, without_bn = (generator_params(r.out_dir) for r in results)
    assert any("gamma" in k for k in with_bn) and not any("gamma" in k for k in without_bn)
    assert (tmp_path / "01_batch_norm=True" / "samples.gif").is_file()
    from PIL import Image

    with Image.open(tmp_path / "study.png") as figure:
        assert figure.width > 600 and figure.height > 600
    assert all(r.grid is not None and r.grid.dtype == np.uint8 for r in results)


@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
def test_eval_scores_with_the_shipped_evaluator_of_the_dataset_and_names_it(dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path))  # nothing trained or cached
    notes = []

    scorer = study.quality_scorer(500, log=notes.append, dataset=dataset)

    assert scorer is not None
    assert notes == [f"--eval: 500 samples per configuration, scored by {get_classifier(dataset).label} against "
                     f"the {dataset} test split"]


def test_scores_and_grid_come_from_the_averaged_generator_and_reach_the_csv(tmp_path):
    images = np.random.default_rng(0).uniform(-1, 1, (32, 28, 28, 1)).astype(np.float32)
    scored = []

    def scorer(gan, config):
        scored.append({k: np.array(v) for k, v in gan.generator.params.items()})
        return {"fid": 12.5, "inception_score": float(len(scored))}

    variants = study.parse_vary(["lr=2e-4"])
    results = study.run_study(tiny_config(ema=0.5), variants, images, tmp_path, steps=3, scorer=scorer,
                              progress=False, log=lambda s: None)

    arrays = checkpoint.load(results[0].out_dir / "checkpoint.npz").arrays
    averaged = {k: arrays[f"model/generator_ema/params/{k}"] for k in scored[0]}
    trained = generator_params(results[0].out_dir)
    for key, value in scored[0].items():
        np.testing.assert_array_equal(value, averaged[key])
    assert any(not np.array_equal(scored[0][k], trained[k]) for k in trained)
    row = read_csv(tmp_path / "study.csv")[0]
    assert (row["fid"], row["inception_score"]) == ("12.5", "1")


def run_example(example, argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        example.main(argv)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.err, captured.out


def test_help_lists_the_studies(example, capsys):
    code, _, out = run_example(example, ["--help"], capsys)
    assert code == 0
    for name, named in study.STUDIES.items():
        assert f"  {name} " in out and named.description in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--study", "momentum"], "argument --study: invalid choice: 'momentum'"),
        (["--vary", "momentum=0.5,0.9"], "--vary 'momentum=0.5,0.9': unknown key 'momentum'"),
        ([], "expected at least one variant"),
        (["--study", "latent", "--vary", "latent_dim=5"], "['latent_dim'] set both"),
    ],
)
def test_bad_study_arguments_are_one_clear_error(example, capsys, argv, message):
    code, err, _ = run_example(example, argv, capsys)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert err.count("error:") == 1


@pytest.mark.skipif(not os.environ.get("MINIGAN_DATA"), reason="MINIGAN_DATA is unset: this trains on real MNIST")
def test_example_beta1_study_on_mnist_writes_figure_csv_and_configurations_that_differ(example, tmp_path, capsys):
    out = tmp_path / "study"
    argv = ["--study", "beta1", "--width", "0.0625", "--limit", "64", "--batch-size", "16", "--steps", "3",
            "--no-progress", "--out", str(out)]
    assert example.main(argv) == 0
    rows = read_csv(out / "study.csv")
    assert [(r["label"], r["overrides"], r["steps"]) for r in rows] == [
        ("beta1=0.5", "beta1=0.5", "3"), ("beta1=0.9", "beta1=0.9", "3")]
    assert (out / "study.png").stat().st_size > 10_000
    first, second = (generator_params(out / name) for name in ("01_beta1=0.5", "02_beta1=0.9"))
    assert first.keys() == second.keys()
    assert any(not np.array_equal(first[k], second[k]) for k in first)
    stored = checkpoint.load(out / "02_beta1=0.9" / "checkpoint.npz").meta["config"]
    assert (stored["beta1"], stored["options"]["study"]) == (0.9, {"beta1": 0.9})
