"""The wheel ships recipes and the packaged config: `python -m zoo.train --help` works from anywhere."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from zoo.config import builtin_recipes_dir

from .conftest import PLUMBING, REPO


def test_wheel_installs_and_lists_recipes(tmp_path):
    dist = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)],
                           cwd=REPO, capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    (wheel,) = dist.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(p.name for p in builtin_recipes_dir().glob("*.yaml"))
    assert all(f"zoo/recipes/{n}" in names for n in shipped)
    assert "zoo/model_cards/_base.md.j2" in names
    assert "zoo/conf/train.yaml" in names and "zoo/conf/trainer/ddp_cpu.yaml" in names
    assert not any(n.startswith("tests/") for n in names)

    # A fresh venv whose only zoo is the wheel; dependencies come from this environment's site-packages
    # through a .pth line (a directory added that way does not process its own .pth files, so the
    # editable install of the checkout stays invisible).
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    vpy = venv / "bin" / "python"
    site = Path(subprocess.run([str(vpy), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                              "--target", str(site), str(wheel)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-2000:]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    where = subprocess.run([str(vpy), "-c", "import zoo; print(zoo.__file__)"], cwd=elsewhere, env=env,
                           capture_output=True, text=True, timeout=120)
    assert where.returncode == 0, where.stderr
    assert where.stdout.strip().startswith(str(site)), where.stdout
    helped = subprocess.run([str(vpy), "-m", "zoo.train", "--help"], cwd=elsewhere, env=env,
                            capture_output=True, text=True, timeout=300)
    assert helped.returncode == 0, helped.stderr[-2000:]
    for name in shipped:
        assert f"  {Path(name).stem}" in helped.stdout
    # the packaged base config composes from the wheel (a user recipe on ZOO_RECIPE_PATH)
    composed = subprocess.run([str(vpy), "-m", "zoo.train", "recipe=plumbing", "--cfg"], cwd=elsewhere,
                              env={**env, "ZOO_RECIPE_PATH": str(PLUMBING / "recipes")},
                              capture_output=True, text=True, timeout=300)
    assert composed.returncode == 0, composed.stderr[-2000:]
    assert "use_distributed_sampler: false" in composed.stdout and "recipe_name: plumbing" in composed.stdout
