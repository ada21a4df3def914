"""Leave exactly one OpenCV distribution installed: ``opencv-contrib-python-headless``.

Three wheels provide the same ``cv2`` package and write the same ``cv2/`` folder: ``albumentations`` and
``albucore`` require ``opencv-python-headless``, ``trackeval`` (a test oracle) requires ``opencv-python``, and
the classic SOT trackers (CSRT, KCF, MIL; legacy MOSSE, MedianFlow, Boosting, TLD) exist only in the contrib
build. Whichever wheel pip installs last owns ``cv2/``; a fresh resolve installs all three in an order that is
not ours to choose. The contrib-headless wheel is a superset of the headless one and of everything the zoo
and the oracles call in ``opencv-python`` (no GUI is used), so the end state we want is contrib alone.

``python -m zoo.opencv_fix`` (the last step of ``make install``) uninstalls every other OpenCV distribution,
reinstalls the contrib wheel of the already-resolved version without dependencies (uninstalling the others
deleted files contrib shares with them), and checks the result; ``--check`` only checks. Idempotent.

Because the other names are gone, ``pip check`` reports ``albumentations``/``albucore``/``trackeval``
requirements on them as unmet: by design, the module they import (``cv2``) is provided by contrib.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.metadata as metadata
import subprocess
import sys
from pathlib import Path

CONTRIB = "opencv-contrib-python-headless"
# every PyPI distribution that ships the ``cv2`` package (main and rolling builds)
OPENCV_NAMES = (CONTRIB, "opencv-python", "opencv-python-headless", "opencv-contrib-python",
                "opencv-python-rolling", "opencv-python-headless-rolling", "opencv-contrib-python-rolling",
                "opencv-contrib-python-headless-rolling")
REQUIRED = ("TrackerCSRT_create", "TrackerKCF_create", "TrackerMIL_create")
REQUIRED_LEGACY = ("TrackerMOSSE_create", "TrackerMedianFlow_create", "TrackerBoosting_create",
                   "TrackerTLD_create")


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def opencv_distributions() -> list[str]:
    """Names of the installed distributions that ship ``cv2`` (by name, or by a recorded ``cv2/__init__.py``),
    sorted. The goal state is ``[CONTRIB]``."""
    found = set()
    for dist in metadata.distributions():
        name = _canonical(dist.metadata["Name"] or "")
        files = dist.files or []
        if name in OPENCV_NAMES or any(f.parts[:1] == ("cv2",) and f.name == "__init__.py" for f in files):
            found.add(name)
    return sorted(found)


def missing_trackers() -> list[str]:
    """Tracker factories absent from the importable ``cv2`` (empty when the contrib build is active)."""
    import cv2

    missing = [name for name in REQUIRED if not hasattr(cv2, name)]
    legacy = getattr(cv2, "legacy", None)
    missing += [f"legacy.{n}" for n in REQUIRED_LEGACY if legacy is None or not hasattr(legacy, n)]
    return missing


def contrib_binary_intact() -> bool:
    """True when the native ``cv2`` extension on disk is byte-for-byte the one the contrib wheel recorded
    (sha256 in its RECORD), i.e. no other OpenCV wheel overwrote it."""
    dist = metadata.distribution(CONTRIB)
    native = [f for f in dist.files or [] if f.parts[:1] == ("cv2",) and f.name.startswith("cv2")
              and f.suffix in (".so", ".pyd") and f.hash is not None]
    if not native:
        return False
    for record in native:
        path = Path(dist.locate_file(record))
        if not path.is_file():
            return False
        digest = base64.urlsafe_b64encode(hashlib.sha256(path.read_bytes()).digest()).rstrip(b"=").decode()
        if digest != record.hash.value:
            return False
    return True


def problems() -> list[str]:
    """Everything wrong with the OpenCV install, as sentences (empty when it is contrib alone and whole)."""
    dists = opencv_distributions()
    if CONTRIB not in dists:
        return [f"{CONTRIB} is not installed (OpenCV distributions present: {dists or 'none'})"]
    out = []
    others = [d for d in dists if d != CONTRIB]
    if others:
        out.append(f"other OpenCV distributions are installed beside {CONTRIB}: {', '.join(others)}")
    if not contrib_binary_intact():
        out.append(f"the cv2 binary on disk is not the one {CONTRIB} installed (another wheel overwrote it)")
    # import in a fresh interpreter: this process may have imported a cv2 that has since been replaced
    probe = subprocess.run([sys.executable, "-c", "from zoo.opencv_fix import missing_trackers as m; "
                            "print(','.join(m()))"], capture_output=True, text=True)
    if probe.returncode != 0:
        out.append(f"import cv2 fails: {probe.stderr.strip().splitlines()[-1:]}")
    elif probe.stdout.strip():
        out.append(f"cv2 lacks {probe.stdout.strip()}")
    return out


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args], check=True)


def fix() -> str:
    """Uninstall the other OpenCV distributions, reinstall contrib (same version, no deps); returns its
    version."""
    try:
        version = metadata.version(CONTRIB)
    except metadata.PackageNotFoundError:
        version = None
    others = [d for d in opencv_distributions() if d != CONTRIB]
    if others:
        _pip("uninstall", "--yes", "--quiet", *others)
    spec = f"{CONTRIB}=={version}" if version else CONTRIB
    # --force-reinstall: uninstalling the others removed the cv2/ files contrib shares with them
    _pip("install", "--quiet", "--no-deps", "--force-reinstall", spec)
    return metadata.version(CONTRIB)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zoo.opencv_fix", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 and say what is wrong")
    args = parser.parse_args(argv)
    if not args.check:
        fix()
    wrong = problems()
    if wrong:
        hint = "" if not args.check else "; run python -m zoo.opencv_fix to repair"
        for line in wrong:
            print(f"error: {line}{hint}", file=sys.stderr)
        return 1
    print(f"[zoo] OpenCV is {CONTRIB} {metadata.version(CONTRIB)} alone: all seven model-free trackers "
          "available")
    return 0


if __name__ == "__main__":
    sys.exit(main())
