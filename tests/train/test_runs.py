"""Run directories, loggers, atomic checkpoints and resuming after SIGKILL (real subprocess runs)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from zoo.runs import choose_run_dir, find_last_run, resolve_resume

from ..conftest import plumbing_env


def _train(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zoo.train", "recipe=plumbing", "progress=none", *args],
                          cwd=cwd, env=plumbing_env(**env), capture_output=True, text=True, timeout=300)


def test_run_directory_layout_and_csv_logger(tmp_path):
    out = _train([], tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    (run_dir,) = (tmp_path / "outputs" / "plumbing").iterdir()
    assert (run_dir / "config.yaml").is_file() and (run_dir / "checkpoints" / "last.ckpt").is_file()
    rows = (run_dir / "logs" / "metrics.csv").read_text().splitlines()
    assert rows[0].split(",") == ["epoch", "step", "train/loss"] and len(rows) == 1 + 16
    saved = (run_dir / "config.yaml").read_text()
    assert f"run_dir: {run_dir}" in saved and "${" not in saved  # resolved
    ckpt = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)  # plain, safe to load
    assert ckpt["global_step"] == 16


def test_tensorboard_and_wandb_offline_stay_in_run_dir(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    tb = _train(["logger=tensorboard", "run_dir=" + str(tmp_path / "tb")], tmp_path)
    assert tb.returncode == 0, tb.stderr[-3000:]
    assert list((tmp_path / "tb" / "logs").glob("events.out.tfevents.*"))
    pytest.importorskip("wandb")
    env = {"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), "XDG_CONFIG_HOME": str(home / ".config")}
    wb = subprocess.run(
        [sys.executable, "-m", "zoo.train", "recipe=plumbing", "progress=none", "logger=wandb",
         "run_dir=" + str(tmp_path / "wb")],
        cwd=tmp_path, env={**plumbing_env(**env), "WANDB_MODE": ""}, capture_output=True, text=True,
        timeout=300,
    )
    assert wb.returncode == 0, wb.stderr[-3000:]
    assert "logging offline" in wb.stdout
    assert list((tmp_path / "wb" / "wandb").glob("offline-run-*"))
    # nothing written to the user's home by W&B
    assert not any(p.name.startswith("wandb") for p in home.rglob("*")), list(home.rglob("*"))


def test_resume_after_sigkill_mid_epoch(tmp_path):
    trace = tmp_path / "trace.jsonl"
    run_dir = tmp_path / "run"
    args = [sys.executable, "-m", "zoo.train", "recipe=plumbing", "progress=none", "data.delay=0.04",
            "trainer.max_epochs=3", "checkpoint.every_n_train_steps=2", f"run_dir={run_dir}"]
    env = plumbing_env(ZOO_PLUMBING_TRACE=str(trace))
    proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 180
    while time.time() < deadline:
        steps = trace.read_text().splitlines() if trace.exists() else []
        if len(steps) >= 11:  # mid-epoch 2 (8 steps per epoch), after several checkpoints
            break
        if proc.poll() is not None:
            pytest.fail(f"training ended early: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    ckpt = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)  # never truncated
    saved_step = ckpt["global_step"]
    assert 8 < saved_step < 24 and saved_step % 2 == 0
    assert not list((run_dir / "checkpoints").glob("*.tmp"))  # no leftovers visible as checkpoints

    killed_lines = len(trace.read_text().splitlines())
    resumed = subprocess.run([sys.executable, "-m", "zoo.train", f"resume={run_dir}", "progress=none"],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    after = [json.loads(line) for line in trace.read_text().splitlines()[killed_lines:]]
    assert after[0]["step"] == saved_step  # continued from the checkpoint, not from scratch
    assert after[-1]["step"] == 23 and after[-1]["epoch"] == 2
    final = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert final["global_step"] == 24
    # the CSV history before the checkpoint survived the restart
    steps = [int(r.split(",")[1]) for r in (run_dir / "logs" / "metrics.csv").read_text().splitlines()[1:]]
    assert steps == sorted(steps) and steps[0] == 0 and steps[-1] == 23 and len(set(steps)) == len(steps)


def test_resume_last_and_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no run of recipe 'plumbing'"):
        find_last_run(tmp_path / "outputs", "plumbing")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_resume(str(tmp_path / "missing"), tmp_path)
    first = _train(["trainer.max_epochs=1"], tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    resumed = subprocess.run([sys.executable, "-m", "zoo.train", "resume=last", "recipe=plumbing",
                              "trainer.max_epochs=2", "progress=none"],
                             cwd=tmp_path, env=plumbing_env(), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    (run_dir,) = (tmp_path / "outputs" / "plumbing").iterdir()
    assert torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 16
    bad = subprocess.run([sys.executable, "-m", "zoo.train", "resume=" + str(tmp_path)], cwd=tmp_path,
                         env=plumbing_env(), capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "config.yaml is missing" in bad.stderr


def test_choose_run_dir_rules(tmp_path, monkeypatch):
    monkeypatch.delenv("ZOO_RUN_DIR", raising=False)
    monkeypatch.delenv("TORCHELASTIC_RUN_ID", raising=False)
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    assert choose_run_dir(tmp_path, "r", tmp_path / "pinned") == (tmp_path / "pinned").resolve()
    stamped = choose_run_dir(tmp_path, "r")
    assert stamped.parent == tmp_path.resolve() / "r"
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    assert choose_run_dir(tmp_path, "r").name == "slurm-42"
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "abc")
    assert choose_run_dir(tmp_path, "r").name == "torchrun-abc"
    monkeypatch.setenv("ZOO_RUN_DIR", str(tmp_path / "inherited"))
    assert choose_run_dir(tmp_path, "r") == tmp_path / "inherited"
