"""The leaderboard page in headless Chromium (CDP): every entry is rendered, clicking headers sorts the rows.

Skipped locally when no chromium is installed (ZOO_INSTALL_CHROMIUM=1 installs Debian's); under CI=true the
fixture installs it and a missing browser fails. ZOO_SCREENSHOT_DIR=DIR keeps the page screenshots.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from zoo.leaderboard.board import write_board

from .browser import Browser
from .test_outputs import MOT, board

ROWS_JS = (
    "Array.from(document.querySelectorAll('table[data-benchmark=\"{b}\"] tbody tr'))"
    + ".map(r => r.dataset.entry)"
)


def _mot_order(key: str, descending: bool) -> list[str]:
    """Entry ids of the synth_mot table sorted by ``key``, computed here from the fixture values."""
    ranked = sorted(MOT, key=lambda m: MOT[m][key], reverse=descending)
    return [f"mot/synth_mot/val/{m}" for m in ranked]


def test_page_renders_every_entry_and_sorts(chromium: str, tmp_path: Path):
    b = board(tmp_path)
    written = write_board(b, tmp_path / "lb")
    doc = json.loads(written["json"].read_text())
    with Browser(chromium) as browser:
        browser.open(written["html"])
        rendered = browser.js(
            "Array.from(document.querySelectorAll('tr[data-entry]')).map(r => r.dataset.entry)"
        )
        assert sorted(rendered) == sorted(r["id"] for r in doc["rows"])
        # each row is laid out (visible, non-zero size) and shows its model and main metric
        visible = browser.js(
            "Array.from(document.querySelectorAll('tr[data-entry]'))"
            ".every(r => r.getBoundingClientRect().height > 5)"
        )
        assert visible
        text = browser.js("document.body.innerText")
        for row in doc["rows"]:
            assert row["model_ref"] in text
        assert "66.00" in text and "-5.00" in text
        assert browser.js("document.querySelectorAll('figure.chart svg').length") == 3

        table = 'table[data-benchmark="synth_mot"]'
        initial = browser.js(ROWS_JS.format(b="synth_mot"))
        assert initial == _mot_order("HOTA", descending=True)
        browser.click(f'{table} th[data-key="AssA"]')
        by_assa = browser.js(ROWS_JS.format(b="synth_mot"))
        assert by_assa == _mot_order("AssA", descending=True) != initial
        assert browser.js(
            f"document.querySelector('{table} th[data-key=\"AssA\"]').getAttribute('aria-sort')"
        ) == ("descending")
        browser.click(f'{table} th[data-key="AssA"]')  # second click reverses
        assert browser.js(ROWS_JS.format(b="synth_mot")) == _mot_order("AssA", descending=False)
        browser.click(f'{table} th[data-key="IDSW"]')  # a count: fewest switches first
        assert browser.js(ROWS_JS.format(b="synth_mot")) == _mot_order("IDSW", descending=False)
        browser.click(f'{table} th[data-key="MOTA"]')  # negative values sort as numbers
        assert browser.js(ROWS_JS.format(b="synth_mot")) == _mot_order("MOTA", descending=True)
        browser.click(f'{table} th[data-key="model"]')  # text: A-Z
        assert browser.js(ROWS_JS.format(b="synth_mot")) == sorted(_mot_order("HOTA", True))
        # sorting one table leaves the others alone
        assert browser.js(ROWS_JS.format(b="synth_sot")) == [
            "sot/synth_sot/val/csrt",
            "sot/synth_sot/val/kcf",
            "sot/synth_sot/val/mosse",
        ]
        browser.click('table[data-benchmark="synth_sot"] th[data-key="fps"]')
        assert browser.js(ROWS_JS.format(b="synth_sot"))[0] == "sot/synth_sot/val/mosse"  # 950.5 fps
        assert browser.exceptions() == []

        shot = browser.screenshot(tmp_path / "leaderboard.png")
    image = np.asarray(Image.open(shot).convert("RGB"))
    assert image.shape[0] > 1000 and image.shape[1] >= 1000
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 50  # text, tables and charts, not a blank page
    keep = os.environ.get("ZOO_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "leaderboard_page.png")


def test_chromium_lookup_installs_only_when_allowed(monkeypatch: pytest.MonkeyPatch):
    """Locally a missing browser is a skip reason; with CI=true or ZOO_INSTALL_CHROMIUM=1 it is installed
    first (a failed install is reported, which the fixture turns into a failure under CI)."""
    from . import browser

    installs = []
    monkeypatch.delenv("ZOO_CHROMIUM", raising=False)
    monkeypatch.setattr(browser.shutil, "which", lambda name: "/usr/bin/chromium" if installs else None)
    monkeypatch.setattr(browser, "install_chromium", lambda: installs.append(1) or "ok")
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("ZOO_INSTALL_CHROMIUM", raising=False)
    path, why = browser.ensure_chromium()
    assert path is None and "ZOO_INSTALL_CHROMIUM=1" in why and installs == []
    monkeypatch.setenv("CI", "true")
    assert browser.ensure_chromium() == ("/usr/bin/chromium", "") and installs == [1]

    def broken() -> str:
        raise RuntimeError("apt-get install -y chromium chromium-driver failed (100)")

    installs.clear()
    monkeypatch.setattr(browser, "install_chromium", broken)
    monkeypatch.delenv("CI")
    monkeypatch.setenv("ZOO_INSTALL_CHROMIUM", "1")
    path, why = browser.ensure_chromium()
    assert path is None and why.startswith("installing chromium failed: apt-get install")
