"""Test-wide settings: never touch the network, never write outside temporary directories."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

# huggingface_hub and wandb read these once at import: set them before anything imports them.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_XET"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["WANDB_MODE"] = "offline"
os.environ["WANDB_SILENT"] = "true"
os.environ.pop("WANDB_API_KEY", None)
# Generated benchmarks (ZooSynth) go to a per-session directory unless ZOO_DATA is set by the caller.
if "ZOO_DATA" not in os.environ:
    os.environ["ZOO_DATA"] = tempfile.mkdtemp(prefix="zoo-test-data-")
    atexit.register(shutil.rmtree, os.environ["ZOO_DATA"], ignore_errors=True)

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PLUMBING = REPO / "tests" / "plumbing"
# Real data for oracle tests lives beside the checkout (../shared/data); tests skip without it locally.
SHARED_DATA = REPO.parent / "shared" / "data"


def pytest_sessionstart(session: pytest.Session) -> None:
    """In CI the real data must be there: a missing ../shared/data would silently skip the oracle tests."""
    if os.environ.get("CI") == "true" and not (SHARED_DATA / "mot17-train-trackeval").is_dir():
        pytest.exit(f"CI=true but the real test data {SHARED_DATA / 'mot17-train-trackeval'} is missing", 1)


def plumbing_env(**extra: str) -> dict[str, str]:
    """Environment for a ``python -m zoo.train`` subprocess driving the tests' plumbing recipes."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PLUMBING), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["ZOO_RECIPE_PATH"] = str(PLUMBING / "recipes")
    env.pop("ZOO_RUN_DIR", None)
    env.update(extra)
    return env


@pytest.fixture
def plumbing(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make the plumbing recipes and module visible to in-process composition."""
    monkeypatch.setenv("ZOO_RECIPE_PATH", str(PLUMBING / "recipes"))
    monkeypatch.delenv("ZOO_RUN_DIR", raising=False)
    monkeypatch.syspath_prepend(str(PLUMBING))
    return PLUMBING


@pytest.fixture
def python() -> str:
    return sys.executable
