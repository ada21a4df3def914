# Two commands on a fresh machine with only Python and the package registries:
#   make demo   creates .venv if missing, installs zoo, runs the main job on the embedded ZooSynth benchmark
#   make test   same environment, the test suite
#   make leaderboard   the shared leaderboard on ZooSynth (optional)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.zoo-installed

.PHONY: install demo leaderboard test test-slow lint wheel clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@# albumentations pulls opencv-python-headless, which shares the cv2/ folder with the contrib build the
	@# classic SOT trackers need: whichever is installed last wins. Reinstall contrib last, deterministically.
	$(PY) -m zoo.opencv_fix
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(PY) -m zoo.demo

# Evaluate every baseline, train what exists, gather results.json files (leaderboard.yaml) into
# leaderboard/ (md, json, html, png) and regenerate the README's model-zoo table.
leaderboard: install
	$(PY) -m zoo.leaderboard evaluate=true train=true readme=true

test: install
	$(PY) -m pytest -q

test-slow: install
	$(PY) -m pytest -q -m slow

lint: install
	$(VENV)/bin/ruff check zoo tests benchmarks

wheel: install
	$(PY) -m build --wheel --no-isolation --outdir dist

clean:
	rm -rf build dist *.egg-info .pytest_cache
