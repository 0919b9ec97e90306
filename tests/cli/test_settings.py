"""Settings are declared once: the command line, TrainConfig's checks and the study's keys follow."""

from __future__ import annotations

import dataclasses

import pytest

from minigan.cli import study_runner as study
from minigan.cli import train as cli_args
from minigan.cli.recipes import RECIPES, stored_options
from minigan.training.config import TrainConfig
from minigan.training.settings import BadValue, Setting, settings_of

RANGED = [s for s in settings_of(TrainConfig) if s.low is not None]


@pytest.mark.parametrize("recipe", RECIPES.values(), ids=list(RECIPES))
def test_every_setting_is_an_option_of_every_recipe_with_its_help_and_default(recipe):
    help_text = " ".join(cli_args.build_parser(recipe).format_help().split())
    defaults = recipe.all_defaults()
    for s in recipe.all_settings():
        assert s.flag in help_text, s.name
        assert f"default: {defaults[s.name]}" in help_text
    config = recipe.config({**recipe.defaults_for(), "data": "svhn"})
    assert config.epochs == defaults["epochs"] and config.batch_size == defaults["batch_size"]


@pytest.mark.parametrize("s", RANGED, ids=[s.name for s in RANGED])
def test_a_value_below_a_settings_range_is_refused_by_the_command_line_and_by_train_config(s):
    below = s.low if s.low_open else s.low - 1
    recipe = RECIPES["mnist_gan_mlp"]
    with pytest.raises(SystemExit):
        cli_args.build_parser(recipe).parse_args([s.flag, str(s.type(below))])
    with pytest.raises(ValueError, match=f"TrainConfig: expected {s.name} {s.bounds()}"):
        TrainConfig(**{s.name: s.type(below)})


def test_the_study_varies_exactly_the_stored_settings_declared_vary():
    declared = {s.name for s in RECIPES["mnist_dcgan"].all_settings() if s.vary and s.stored}
    assert set(study.OVERRIDE_KEYS) == declared
    assert {"lr", "beta1", "ema", "width", "batch_norm"} <= declared and "out" not in declared


def test_setting_parse_checks_type_range_and_choices():
    lr = Setting("lr", 1e-3, "", low=0, low_open=True)
    assert lr.parse("2e-4") == 2e-4
    for bad in ("0", "fast", "-1"):
        with pytest.raises(BadValue):
            lr.parse(bad)
    loss = Setting("loss", "a", "", choices=("a", "b"))
    with pytest.raises(BadValue, match="expected one of a, b"):
        loss.parse("c")
    assert Setting("flag", True, "").parse("no") is False


def test_a_checkpoints_stored_config_gives_back_the_options_it_was_built_from():
    recipe = RECIPES["mnist_dcgan"]
    options = {**recipe.defaults_for("fast"), "width": 0.5, "lr_d": 5e-4}
    config = recipe.config(options)
    stored = stored_options(dataclasses.asdict(config))
    assert recipe.config({**options, **stored}) == config
    assert stored["width"] == 0.5 and stored["lr"] == 1e-3 and stored["lr_d"] == 5e-4
