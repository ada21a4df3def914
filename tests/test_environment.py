"""The installed environment is the locked one: one OpenCV (the contrib build), every version from the lock."""

from __future__ import annotations

import importlib.metadata as metadata
import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from zoo import opencv_fix
from zoo.opencv_fix import CONTRIB, contrib_binary_intact, missing_trackers, opencv_distributions

REPO = Path(__file__).resolve().parents[1]
MAKE_LOCK = REPO / "requirements" / "make_lock.py"
# removed on purpose after the resolve (zoo.opencv_fix): pinned in the lock, absent from the environment
REMOVED_BY_OPENCV_FIX = {"opencv-python", "opencv-python-headless"}


def _make_lock():
    spec = importlib.util.spec_from_file_location("make_lock", MAKE_LOCK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_classic_trackers_exist():
    assert missing_trackers() == []
    assert callable(cv2.TrackerCSRT_create)
    assert callable(cv2.legacy.TrackerMOSSE_create)


def test_exactly_one_opencv_distribution_and_it_is_contrib():
    assert opencv_distributions() == [CONTRIB], "run python -m zoo.opencv_fix"
    assert contrib_binary_intact(), "cv2 was overwritten by another OpenCV wheel; run python -m zoo.opencv_fix"
    done = subprocess.run([sys.executable, "-m", "zoo.opencv_fix", "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "alone" in done.stdout


def test_opencv_check_names_a_second_distribution(monkeypatch, capsys):
    monkeypatch.setattr(opencv_fix, "opencv_distributions", lambda: [CONTRIB, "opencv-python-headless"])
    assert opencv_fix.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "opencv-python-headless" in err and "python -m zoo.opencv_fix" in err
    monkeypatch.setattr(opencv_fix, "opencv_distributions", lambda: ["opencv-python"])
    assert opencv_fix.problems() == [f"{CONTRIB} is not installed (OpenCV distributions present: "
                                     "['opencv-python'])"]


def test_lock_pins_what_changes_numbers():
    pins = _make_lock().read_lock()
    for name in ("torch", "torchvision", "numpy", "scipy", "opencv-contrib-python-headless", "albumentations",
                 "albucore", "lightning", "timm", "torchmetrics", "pip"):
        assert name in pins, f"{name} missing from requirements/lock.txt"
    assert pins["albumentations"] == "2.0.8"  # the last MIT release
    # the three OpenCV wheels come from one build, so whichever owns cv2/ last is the same code
    assert len({pins[n] for n in ("opencv-contrib-python-headless", *REMOVED_BY_OPENCV_FIX)}) == 1


def test_read_lock_names_the_bad_line(tmp_path):
    bad = tmp_path / "lock.txt"
    bad.write_text("# header\nnumpy==2.4.6\ntorch>=2.4\n")
    with pytest.raises(ValueError, match=r"lock.txt:3: expected 'name==version'"):
        _make_lock().read_lock(bad)


def test_lock_diff_reports_new_and_changed_packages():
    diff = _make_lock().diff({"numpy": "2.4.6", "torch": "2.15.0", "newpkg": "1.0"},
                             {"numpy": "2.4.6", "torch": "2.14.1"})
    assert diff == ["newpkg==1.0 is not in the lock", "torch: resolved 2.15.0, lock pins 2.14.1"]


def _registry_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=3).close()
        return True
    except OSError:
        return False


def test_lock_is_complete():
    """A from-scratch resolve of ``-e .[dev]`` with the lock as constraints picks nothing the lock lacks.

    About 15 s (pip fetches metadata only). Outside CI it skips without a package registry.
    """
    if os.environ.get("CI") != "true" and not _registry_reachable():
        pytest.skip("no package registry reachable: cannot resolve")
    done = subprocess.run([sys.executable, str(MAKE_LOCK), "--check"], capture_output=True, text=True,
                          cwd=REPO)
    errors = [ln for ln in done.stderr.splitlines() if ln.startswith("error")]
    assert done.returncode == 0, "\n".join(errors) or done.stderr[-2000:]


@pytest.mark.skipif(not os.environ.get("ZOO_LOCK"), reason="environment not installed from the lock "
                    "(make test sets ZOO_LOCK)")
def test_installed_environment_is_the_lock():
    """What ``make install`` left is the lock, exactly: every pin at its version, nothing unpinned."""
    pins = _make_lock().read_lock(REPO / os.environ["ZOO_LOCK"])
    installed = {}
    for dist in metadata.distributions():
        installed[_make_lock().canonical(dist.metadata["Name"])] = dist.version
    installed.pop("zoo-tracking", None)
    wrong = [f"{n}: installed {v}, lock pins {pins[n]}" for n, v in sorted(installed.items())
             if n in pins and pins[n] != v]
    wrong += [f"{n}=={v} installed but not in the lock" for n, v in sorted(installed.items()) if n not in pins]
    wrong += [f"{n} pinned but not installed" for n in sorted(set(pins) - set(installed) - REMOVED_BY_OPENCV_FIX)]
    wrong += [f"{n} installed: zoo.opencv_fix should have removed it" for n in REMOVED_BY_OPENCV_FIX
              if n in installed]
    assert not wrong, "\n".join(wrong)
