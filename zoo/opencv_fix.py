"""Make ``cv2`` the opencv-contrib build, whatever pip installed last.

``albumentations`` depends on ``opencv-python-headless``; the classic SOT trackers (CSRT, KCF, MOSSE,
MedianFlow, Boosting, TLD) live in ``opencv-contrib-python-headless``. Both wheels write the same ``cv2/``
folder, so the one installed last wins and installing in the "wrong" order silently removes the trackers.
``python -m zoo.opencv_fix`` (run by ``make install``) reinstalls the contrib wheel of the already-resolved
version without dependencies, then checks the trackers exist. Idempotent.
"""

from __future__ import annotations

import importlib.metadata as metadata
import subprocess
import sys

CONTRIB = "opencv-contrib-python-headless"
REQUIRED = ("TrackerCSRT_create", "TrackerKCF_create", "TrackerMIL_create")
REQUIRED_LEGACY = ("TrackerMOSSE_create", "TrackerMedianFlow_create", "TrackerBoosting_create",
                   "TrackerTLD_create")


def missing_trackers() -> list[str]:
    """Tracker factories absent from the importable ``cv2`` (empty when the contrib build is active)."""
    import cv2

    missing = [name for name in REQUIRED if not hasattr(cv2, name)]
    legacy = getattr(cv2, "legacy", None)
    missing += [f"legacy.{n}" for n in REQUIRED_LEGACY if legacy is None or not hasattr(legacy, n)]
    return missing


def fix() -> str:
    """Reinstall the contrib wheel last (no deps, same version); returns the version installed."""
    try:
        version = metadata.version(CONTRIB)
    except metadata.PackageNotFoundError:
        version = None
    spec = f"{CONTRIB}=={version}" if version else CONTRIB
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall", spec],
                   check=True)
    return metadata.version(CONTRIB)


def main() -> int:
    version = fix()
    probe = subprocess.run([sys.executable, "-c", "from zoo.opencv_fix import missing_trackers as m; "
                            "import sys; r = m(); print(','.join(r)); sys.exit(1 if r else 0)"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        print(f"error: cv2 still lacks {probe.stdout.strip() or probe.stderr.strip()} after reinstalling "
              f"{CONTRIB}=={version}", file=sys.stderr)
        return 1
    print(f"[zoo] cv2 is {CONTRIB} {version}: all seven model-free trackers available")
    return 0


if __name__ == "__main__":
    sys.exit(main())
