"""Composition of recipes, presets and overrides, and the errors a user sees."""

from __future__ import annotations

import subprocess
import sys

import pytest
from omegaconf import OmegaConf

from zoo.config import ConfigError, available_recipes, compose, presets

from ..conftest import REPO, plumbing_env


def test_precedence_cli_over_recipe_over_base(plumbing):
    base = compose(["recipe=plumbing"])
    assert base.trainer.max_epochs == 2  # recipe overrides the preset's 10
    assert base.trainer.accelerator == "cpu"  # base preset kept where the recipe is silent
    assert base.seed == 0
    cli = compose(["recipe=plumbing", "trainer.max_epochs=7", "seed=3"])
    assert cli.trainer.max_epochs == 7 and cli.seed == 3
    assert cli.recipe_name == "plumbing"


def test_presets_switch(plumbing):
    cfg = compose(["recipe=plumbing", "trainer=ddp_cpu", "logger=tensorboard"])
    assert cfg.trainer.strategy == "ddp" and cfg.trainer.devices == 2 and cfg.trainer.accelerator == "cpu"
    assert cfg.logger._target_.endswith("TensorBoardLogger")
    gpu = compose(["recipe=plumbing", "trainer=gpu"])
    assert gpu.trainer.accelerator == "gpu" and gpu.trainer.precision == "16-mixed"


def test_every_preset_group_listed():
    assert presets("trainer") == ["cpu", "ddp", "ddp_cpu", "gpu"]
    assert presets("logger") == ["csv", "tensorboard", "wandb"]


def test_unknown_recipe_lists_choices(plumbing):
    with pytest.raises(ConfigError, match=r"unknown recipe 'plumbin'.*Did you mean 'plumbing'.*Valid choices"):
        compose(["recipe=plumbin"])
    with pytest.raises(ConfigError, match="no recipe given"):
        compose([])


def test_unknown_preset_lists_choices(plumbing):
    with pytest.raises(ConfigError, match=r"unknown trainer preset 'gpx'.*cpu, ddp, ddp_cpu, gpu"):
        compose(["recipe=plumbing", "trainer=gpx"])


def test_unknown_key_names_valid_keys(plumbing):
    with pytest.raises(ConfigError, match=r"'trainer.max_epoch'.*Did you mean 'trainer.max_epochs'"):
        compose(["recipe=plumbing", "trainer.max_epoch=3"])
    with pytest.raises(ConfigError, match=r"unknown config key 'bogus'.*Valid keys at the top level: .*trainer"):
        compose(["recipe=plumbing", "bogus=1"])


def test_recipes_are_shipped():
    assert "finetrack" in available_recipes()


@pytest.mark.parametrize("name", sorted(available_recipes()))
def test_every_shipped_recipe_composes(name):
    cfg = compose([f"recipe={name}"])
    assert cfg.model._target_ and cfg.recipe_name == name
    OmegaConf.to_yaml(cfg)  # every interpolation that does not need run_dir resolves


def test_cli_help_and_errors_exit_codes(tmp_path):
    env = plumbing_env()
    out = subprocess.run([sys.executable, "-m", "zoo.train", "--help"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0
    assert "plumbing" in out.stdout and "trainer=cpu|ddp|ddp_cpu|gpu" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "zoo.train", "recipe=nope"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "unknown recipe 'nope'" in bad.stderr and "plumbing" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_recipes_dir_is_in_checkout():
    from zoo.config import builtin_recipes_dir

    assert builtin_recipes_dir() == REPO / "recipes"
