"""Model cards: rendered by the training run, parsed back by huggingface_hub, metrics and paper facts right."""

from __future__ import annotations

import copy
import hashlib
import json
import time

import pytest

from .tiny_method import METHOD, METRICS, TinyTrackerModule


def test_training_writes_card_and_training_json(trained_run):
    from huggingface_hub import ModelCard

    from zoo.hub import file_sha256

    training = json.loads((trained_run / "training.json").read_text())
    assert training["card_sha256"] == file_sha256(trained_run / "README.md")
    assert training["epochs"] == 2 and training["global_step"] == 8  # 32 samples / batch 8 x 2 epochs
    assert training["wall_time_s"] > 0 and training["hardware"]["world_size"] == 1
    # the manifest hash is SHA-256 over the canonical JSON of what the data module listed
    manifest = {"benchmark": "synth_mot", "synth_preset": "tiny", "generated": None, "splits": {
        "train": {"split": "train", "sequences": [["train-seq0", 10], ["train-seq1", 11], ["train-seq2", 12]]},
        "val": {"split": "val", "sequences": [["val-seq0", 10], ["val-seq1", 11]]}}}
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    assert training["data"]["manifest_sha256"] == hashlib.sha256(canonical).hexdigest()

    card = ModelCard.load(trained_run / "README.md")
    results = {(r.metric_name, r.metric_type): r.metric_value for r in card.data.eval_results}
    # fractions become percentages, counts stay integers (as the paper tables print them)
    assert results[("HOTA", "hota")] == pytest.approx(61.25)
    assert results[("IDF1", "idf1")] == pytest.approx(65.43)
    assert results[("IDSW", "idsw")] == 4 and isinstance(results[("IDSW", "idsw")], int)
    assert len(results) == 10
    first = card.data.eval_results[0]
    assert (first.task_type, first.dataset_type, first.dataset_name, first.dataset_split) == (
        "multi-object-tracking", "synth_mot", "ZooSynth-MOT", "val")
    assert card.data.license == "apache-2.0" and "method:zoo_test_tiny" in card.data.tags
    text = card.text
    assert "python -m zoo.train recipe=hub_tiny" in text
    assert "| train | `train` | 3 | 33 |" in text and training["data"]["manifest_sha256"] in text
    assert str(trained_run) not in text.split("```yaml")[1].split("```")[0]  # no machine paths in the recipe


def test_model_index_roundtrip(trained_run):
    from huggingface_hub import ModelCard
    from huggingface_hub.repocard_data import eval_results_to_model_index

    from zoo.cards import eval_results, read_run, render_card

    info, _ = read_run(trained_run)
    text = render_card(info, repo_id="org/tiny-card", revision="v3")
    card = ModelCard(text)
    assert card.data.model_name == "tiny-card"
    expected = eval_results(info.results)
    assert eval_results_to_model_index("tiny-card", card.data.eval_results) == \
        eval_results_to_model_index("tiny-card", expected)
    assert 'zoo.load("hf-hub:org/tiny-card@v3")' in text
    # rendering is deterministic (publish relies on it to tell a hand-edited card from the run's own)
    assert render_card(info, repo_id="org/tiny-card", revision="v3") == text


@pytest.mark.parametrize(("name", "expected"), [
    ("HOTA", "hota"), ("J&F-Mean", "j-and-f-mean"), ("PCK@0.1", "pck-at-0.1"), ("SR0.5", "sr0.5"),
    ("success_auc", "success-auc"),
])
def test_metric_slug(name, expected):
    from zoo.cards import metric_slug

    assert metric_slug(name) == expected


def test_display_value():
    from zoo.cards import display_value

    assert display_value(0.64299) == 64.3
    assert display_value(1272) == 1272
    assert display_value(float("nan")) is None and display_value(True) is None and display_value("x") is None


def _info_as(trained_run, name: str, task: str, *, benchmark: str | None = None, init_args=None):
    from zoo.cards import read_run
    from zoo.registry import MethodSpec

    info, _ = read_run(trained_run)
    info.spec = MethodSpec(name, task, "method", TinyTrackerModule, paper="P")
    if benchmark:  # trained and evaluated on another benchmark
        info.results = [dict(copy.deepcopy(info.results[0]), benchmark=benchmark, split="test")]
        info.training = copy.deepcopy(info.training)
        info.training["data"]["benchmark"] = benchmark
    if init_args is not None:
        info.init_args = init_args
    return info


@pytest.mark.parametrize(("name", "task", "facts"), [
    ("finetrack", "mot", ["64.3", "1272", "MOT20", "52.7", "ren2023focus", "Flow Alignment FPN"]),
    ("kfe_iff", "mot", ["68.6", "893", "83.1", "cetintas2023sushi", "Key Frame Extraction"]),
    ("dmp", "vos", ["76.4", "64.9", "zhou2025dmp", "Reference Frame Memory Engine"]),
    ("sftrack", "sot", ["reports no numbers to reproduce", "burceanu2021sftrack", "zero padding in time", "AdamW"]),
])
def test_method_templates(trained_run, name, task, facts):
    from huggingface_hub import ModelCard

    from zoo.cards import render_card, template_name

    assert template_name(name) == f"{name}.md.j2"
    text = render_card(_info_as(trained_run, name, task))
    ModelCard(text)
    for fact in facts:
        assert fact in text, fact
    assert "## Choices the paper left open" in text and "## Citation" in text and "## Limitations" in text


def test_paper_comparison_sentence_and_choices(trained_run):
    from zoo.cards import render_card

    synth = render_card(_info_as(trained_run, "finetrack", "mot", init_args={"trunk": "resnet18"}))
    assert "not comparable" in synth and "ZooSynth is a small procedural benchmark" in synth
    assert "| trunk | not stated (ResNet-50 assumed) | resnet50 | `\"resnet18\"` |" in synth
    # this model's row sits under the paper's columns, in percent
    assert "| **this model** | ZooSynth-MOT | val | 61.25 | 65.43 | 65.0 | 4 |" in synth
    same = render_card(_info_as(trained_run, "finetrack", "mot", benchmark="mot17"))
    assert "Same benchmark as the paper's MOT17 row(s)" in same and "not comparable" not in same
    assert "license: other" in same and "https://motchallenge.net/data/MOT17/" in same


def test_unknown_method_uses_default_template(trained_run):
    from zoo.cards import render_card, template_name

    assert template_name("no_such_method") == "default.md.j2"
    text = render_card(_info_as(trained_run, "no_such_method", "sot"))
    assert "No published numbers are recorded" in text and "tracker.init(frames[0], box0)" in text


def test_every_registered_method_has_a_template(tiny_method):
    from zoo.cards import template_name
    from zoo.registry import specs

    missing = [s.name for s in specs() if s.kind == "method" and s.name != METHOD
               and template_name(s.name) == "default.md.j2"]
    assert missing == [], f"add model_cards/<name>.md.j2 for {missing}"


def test_unevaluated_run_card(run_dir):
    from huggingface_hub import ModelCard

    from zoo.cards import read_run, render_card

    (run_dir / "results.json").unlink()
    info, _ = read_run(run_dir)
    card = ModelCard(render_card(info))
    assert card.data.eval_results is None or card.data.eval_results == []
    assert "This run was not evaluated" in card.text and "not evaluated in this run" in card.text


def test_wall_time_survives_resume():
    from zoo.callbacks.model_card import ModelCardCallback

    first = ModelCardCallback()
    first._t0 = time.perf_counter() - 2.0  # two seconds into the first segment
    state = first.state_dict()
    assert state["wall_time_s"] == pytest.approx(2.0, abs=0.5)
    resumed = ModelCardCallback()
    resumed.load_state_dict(state)
    resumed._t0 = time.perf_counter() - 1.0
    assert resumed.state_dict()["wall_time_s"] == pytest.approx(state["wall_time_s"] + 1.0, abs=0.5)


def test_headline_metrics_fallback():
    from zoo.cards import headline_metrics

    doc = {"task": "sot", "metrics": {"AO": 0.5, "SR0.5": 0.6, "curve": [0.1, 0.2]}}
    assert headline_metrics(doc) == [("AO", 50.0), ("SR0.5", 60.0)]
    odd = {"task": "sot", "metrics": {"mystery": 0.25, "count": 3, "curve": [1.0]}}
    assert headline_metrics(odd) == [("mystery", 25.0), ("count", 3)]
    assert METRICS["HOTA"] == 0.6125  # the fixture value the card tests convert to 61.25
