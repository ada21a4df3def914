# Two commands on a fresh machine with only Python and the package registries:
#   make demo   creates .venv if missing, installs zoo, runs the main job on the embedded ZooSynth benchmark
#   make test   same environment, the test suite
#   make leaderboard   the shared leaderboard on ZooSynth (optional)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.zoo-installed
# The tested versions of every package (make lock refreshes it). LOCK= installs from pyproject's ranges.
LOCK ?= requirements/lock.txt
CONSTRAINTS := $(if $(LOCK),-c $(LOCK),)

.PHONY: install lock demo leaderboard test test-slow lint wheel clean

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade $(CONSTRAINTS) pip
	$(PY) -m pip install --quiet $(CONSTRAINTS) -e ".[dev]"
	@# albumentations/albucore pull opencv-python-headless and trackeval opencv-python; all three write the
	@# same cv2/ folder. Leave the contrib build (the classic SOT trackers) as the only one, deterministically.
	$(PY) -m zoo.opencv_fix
	@touch $(STAMP)

install: $(STAMP)

# Re-resolve pyproject's ranges from scratch (newest allowed releases, newest pip) and rewrite the lock.
lock:
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) requirements/make_lock.py

demo: install
	$(PY) -m zoo.demo

# Evaluate every baseline, train what exists, gather results.json files (leaderboard.yaml) into
# leaderboard/ (md, json, html, png) and regenerate the README's model-zoo table.
leaderboard: install
	$(PY) -m zoo.leaderboard evaluate=true train=true readme=true

test: install
	ZOO_LOCK=$(LOCK) $(PY) -m pytest -q

test-slow: install
	ZOO_LOCK=$(LOCK) $(PY) -m pytest -q -m slow

lint: install
	$(VENV)/bin/ruff check zoo tests benchmarks

wheel: install
	$(PY) -m build --wheel --no-isolation --outdir dist

clean:
	rm -rf build dist *.egg-info .pytest_cache
