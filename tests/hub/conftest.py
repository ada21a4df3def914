"""Hub test fixtures: a test-only registered method, one real training run, and a local Hub server.

The server (:mod:`tests.hub.hub_server`) listens on 127.0.0.1 with a random port, started once for this
package. The ``hub`` fixture points ``huggingface_hub`` at it (endpoint, online, no Xet, a per-test cache and
token) by patching ``huggingface_hub.constants`` and restores everything afterwards; the global
``HF_HUB_OFFLINE=1`` of ``tests/conftest.py`` stays in force for every other test. Nothing here reaches the
network. The registered method and the environment are restored when the package's tests end.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from .hub_server import FakeHub
from .tiny_method import METHOD, TinyTrackerModule

RECIPES = Path(__file__).resolve().parent / "recipes"


@pytest.fixture(scope="package")
def tiny_method() -> Iterator[object]:
    """``zoo_test_tiny`` registered while the Hub tests run, removed afterwards (other packages never see it)."""
    from zoo import registry

    registry.register(METHOD, task="mot", kind="method", default_recipe="hub_tiny",
                      paper="Tiny (tests only)")(TinyTrackerModule)
    yield registry.get_method(METHOD)
    registry._REGISTRY.pop(METHOD, None)


@pytest.fixture(scope="package")
def trained_run(tiny_method: object, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory written by the real ``zoo.train.run`` (2 epochs of the tiny method), read-only use."""
    from zoo.config import compose
    from zoo.train import run

    run_dir = tmp_path_factory.mktemp("runs") / "hub_tiny"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZOO_RECIPE_PATH", str(RECIPES))
        mp.setenv("ZOO_RUN_DIR", "")  # zoo.train.run exports ZOO_RUN_DIR: recorded here so it is undone
        cfg = compose(["recipe=hub_tiny", f"run_dir={run_dir}"])
        run(cfg)
    return run_dir


@pytest.fixture
def run_dir(trained_run: Path, tmp_path: Path) -> Path:
    """A private copy of the trained run (tests may change it)."""
    copy = tmp_path / "run"
    shutil.copytree(trained_run, copy)
    return copy


@pytest.fixture(scope="package")
def fake_hub() -> Iterator[FakeHub]:
    server = FakeHub()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def hub(fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeHub:
    """``huggingface_hub`` online against the local server, with a per-test cache; restored afterwards."""
    import huggingface_hub
    from huggingface_hub import constants

    endpoint = fake_hub.endpoint
    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", endpoint + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(constants, "HF_URL_HOSTS", constants.HF_URL_HOSTS | {"127.0.0.1"})
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "hf-token"))
    monkeypatch.setattr(constants, "AGENT_HARNESSES_PATH", str(tmp_path / "agent-harnesses.json"))
    monkeypatch.setenv("HF_TOKEN", fake_hub.token)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    huggingface_hub.close_session()  # a fresh HTTP client that sees NO_PROXY
    yield fake_hub
    huggingface_hub.close_session()
