"""The OpenCV contrib/headless clash is resolved deterministically: cv2 is the contrib build."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as metadata
from pathlib import Path

import cv2

from zoo.opencv_fix import CONTRIB, missing_trackers


def test_classic_trackers_exist():
    assert missing_trackers() == []
    assert callable(cv2.TrackerCSRT_create)
    assert callable(cv2.legacy.TrackerMOSSE_create)


def test_importable_cv2_binary_is_the_contrib_wheel():
    dist = metadata.distribution(CONTRIB)
    native = [f for f in dist.files or [] if f.parts[0] == "cv2" and f.name.startswith("cv2") and f.suffix in
              (".so", ".pyd") and f.hash is not None]
    assert native, f"{CONTRIB} records no cv2 binary"
    record = native[0]
    installed = Path(dist.locate_file(record))
    assert installed.parent == Path(cv2.__file__).parent
    digest = base64.urlsafe_b64encode(hashlib.sha256(installed.read_bytes()).digest()).rstrip(b"=").decode()
    assert digest == record.hash.value, "cv2 was overwritten by another OpenCV wheel; run python -m zoo.opencv_fix"
