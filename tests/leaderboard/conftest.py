"""Leaderboard test fixtures: a loopback Hub (the test server of ``tests/hub``) and headless Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hub.hub_server import FakeHub

from .browser import ensure_chromium


@pytest.fixture(scope="package")
def fake_hub() -> Iterator[FakeHub]:
    server = FakeHub()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def hub(fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeHub]:
    """``huggingface_hub`` online against the loopback server with a per-test cache; restored afterwards (the
    suite-wide HF_HUB_OFFLINE=1 holds everywhere else)."""
    import huggingface_hub
    from huggingface_hub import constants

    endpoint = fake_hub.endpoint
    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(
        constants, "HUGGINGFACE_CO_URL_TEMPLATE", endpoint + "/{repo_id}/resolve/{revision}/{filename}"
    )
    monkeypatch.setattr(constants, "HF_URL_HOSTS", constants.HF_URL_HOSTS | {"127.0.0.1"})
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "hf-token"))
    monkeypatch.setattr(constants, "AGENT_HARNESSES_PATH", str(tmp_path / "agent-harnesses.json"))
    monkeypatch.setenv("HF_TOKEN", fake_hub.token)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    huggingface_hub.close_session()
    yield fake_hub
    huggingface_hub.close_session()


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of a headless-capable Chromium. Missing: skip locally (with the reason); FAIL under CI=true, where
    the fixture installs Debian's chromium first (apt-get, as root)."""
    path, why = ensure_chromium()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but no chromium for the leaderboard page test: {why}")
        pytest.skip(why)
    return path
