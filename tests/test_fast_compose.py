"""zoo.fast_compose composes what Hydra composes, for every packaged preset and plain command line, and hands
everything else to Hydra."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from zoo.config import CONF_MODULE, ConfigError, compose_primary, presets
from zoo.fast_compose import compose_plain, plain_value


def hydra_compose(config_name: str, overrides: list[str]):
    GlobalHydra.instance().clear()
    try:
        with initialize_config_module(config_module=CONF_MODULE, version_base="1.3"):
            return compose(config_name, overrides=overrides)
    finally:
        GlobalHydra.instance().clear()


def assert_same(ours, theirs) -> None:
    assert ours is not None
    a = OmegaConf.to_container(ours, resolve=False)
    b = OmegaConf.to_container(theirs, resolve=False)
    assert a == b
    assert list(a) == list(b) and list(a["data"]) == list(b["data"])  # key order too (printed configs)
    assert OmegaConf.is_struct(ours) == OmegaConf.is_struct(theirs) is True
    assert OmegaConf.is_readonly(ours) == OmegaConf.is_readonly(theirs)
    assert OmegaConf.to_container(ours, resolve=True) == OmegaConf.to_container(theirs, resolve=True)


@pytest.mark.parametrize("config_name", ["evaluate", "precompute"])
def test_every_preset_composes_as_hydra_composes(config_name, monkeypatch):
    monkeypatch.setenv("ZOO_DATASETS", "/datasets")  # the presets' ${oc.env:...} roots resolve alike
    assert_same(compose_plain(config_name, []), hydra_compose(config_name, []))
    for preset in presets("data"):
        line = [f"data={preset}"]
        assert_same(compose_plain(config_name, line), hydra_compose(config_name, line))


COMMAND_LINES = [
    ["results=/tmp/res", "data=davis17", "data.root=/tmp/DAVIS", "split=val", "workers=2", "progress=false"],
    ["model=hf-hub:org/name@v1.2", "data=synth_mot", "max_sequences=3", "device=cuda:1", "table_rows=null"],
    ["model=bytetrack", "data=mot17", "data.root=./MOT17", "seqmap=/a/b-c_d.txt", "out=o", "plots=False"],
    ["results=r", "data=got10k", "data.val_split=val", "output_root=/x/y", "workers=1", "render_frames=-1"],
    ["data.group_size=3", "data.seed=1e3", "progress=TRUE", "detections=gt", "data.synth_preset=small"],
]


@pytest.mark.parametrize("line", COMMAND_LINES)
def test_plain_command_lines_compose_as_hydra_composes(line):
    assert_same(compose_plain("evaluate", line), hydra_compose("evaluate", line))
    assert_same(compose_primary("evaluate", line), hydra_compose("evaluate", line))


@pytest.mark.parametrize(
    "line",
    [
        ["+tracker.oracle=true"],  # adds a key
        ["~seqmap"],  # deletes one
        ["data.image_size=[64,64]"],  # a list
        ["out='my dir'"],  # quoted
        ["workers=1,2"],  # a sweep
        ["out=${oc.env:HOME}"],  # an interpolation
        ["nope=1"],  # a key the config lacks
        ["data.nope=1"],
        ["workers=1", "workers=2"],  # repeated
        ["workers=1_000"],  # Hydra's int, not guessed here
        ["hydra.job.name=x"],
        ["data=davis17", "data.root"],  # no value
    ],
)
def test_everything_else_goes_to_hydra(line):
    assert compose_plain("evaluate", line) is None


def test_configs_outside_the_plain_subset_go_to_hydra(tmp_path):
    """A group listed twice, a primary with its own hydra: node, a choice Hydra reads as null/true."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.yaml").write_text("x: 1\n")
    (tmp_path / "data" / "null.yaml").write_text("x: 2\n")
    (tmp_path / "twice.yaml").write_text("defaults:\n  - data: a\n  - data: a\n  - _self_\ny: 1\n")
    (tmp_path / "own.yaml").write_text("defaults:\n  - data: a\n  - _self_\nhydra:\n  job:\n    name: x\n")
    (tmp_path / "ok.yaml").write_text("defaults:\n  - data: a\n  - _self_\ny: 1\n")
    assert compose_plain("twice", [], tmp_path) is None
    assert compose_plain("own", [], tmp_path) is None
    assert compose_plain("ok", ["data=null"], tmp_path) is None
    assert OmegaConf.to_container(compose_plain("ok", ["y=2"], tmp_path)) == {"data": {"x": 1}, "y": 2}


def test_unknown_keys_still_get_the_friendly_error():
    with pytest.raises(ConfigError, match="unknown config key 'workrs'.*Did you mean 'workers'"):
        compose_primary("evaluate", ["results=r", "workrs=2"])
    with pytest.raises(ConfigError, match="data preset"):
        compose_primary("evaluate", ["data=davis"])
    cfg = compose_primary("evaluate", ["results=r", "+tracker.oracle=true"])  # through Hydra
    assert cfg.tracker.oracle is True


# fmt: off
PLAIN = ["null", "NULL", "Null", "true", "True", "FALSE", "0", "7", "-3", "+7", "1.5", "1.", "-.5", ".25",
         "1e-3", "2E5", "-1.5e+2", "val", "/tmp/a_b.c", "./out", "hf-hub:org/x@rev", "a+b", "x%y", "cuda:1",
         "some|pipe", "a*b?", "-", "nullable", "true_ish", "info", "nanny", "x1.5", "..", "a-1", "_x", "0.5", "0e3", "10.25"]
NOT_PLAIN = ["1_000", "00", "007", "inf", "-inf", "NaN", "1.2.3", ".5x", "1e5x", "2024-01-01", "$x", "a b",
             "[1,2]", "a,b", "~x", "'q'", '"q"', "", "a=b", "{a:1}", "x\\y", "1:2", "01.5", "-01.5", "00.5", "007.5", "01e5", "00e0"]
# fmt: on


@pytest.mark.parametrize("text", PLAIN)
def test_plain_values_take_hydras_types(text):
    theirs = OverridesParser.create().parse_override(f"k={text}").value()
    ours = plain_value(text)
    assert type(ours) is type(theirs) and ours == theirs, (text, ours, theirs)


@pytest.mark.parametrize("text", NOT_PLAIN)
def test_other_values_are_left_to_hydra(text):
    with pytest.raises(ValueError, match="not a plain value"):
        plain_value(text)


def test_rescoring_imports_no_hydra(tmp_path):
    """The point of the module: a plain re-scoring command line never imports Hydra."""
    code = (
        "import sys; from zoo.config import compose_primary; "
        "compose_primary('evaluate', ['results=r', 'data=davis17', 'workers=2']); "
        "print(sorted(m for m in sys.modules if m == 'hydra' or m.startswith('hydra.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
