# Lyceum: `make run` serves the demo on the embedded default; `make test` runs the suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
# pytest-xdist processes for `make test`: one per core (TEST_WORKERS=0 runs in one process)
TEST_WORKERS ?= auto
export FLASK_APP := wsgi
# LYCEUM_ENV (app/config.py): the suite runs as `test`, everything else here as `development`
# (the Procfile's processes run as `production`, which refuses development settings).
run demo-data migrate worker: export LYCEUM_ENV := development
test: export LYCEUM_ENV := test

.PHONY: run test worker lint bench vendor migrate demo-data install lock clean

# The venv gets exactly what requirements-dev.lock pins (runtime + dev), every file hash-checked.
$(BIN)/.installed: requirements.lock requirements-dev.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed (looked for $(PYTHON))"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
	touch $@

install: $(BIN)/.installed

# Regenerates both locks from pyproject.toml with pip-compile, keeping every pin that still fits
# it (LOCK_ARGS="--upgrade-package flask", or "--upgrade", moves pins). The dev lock is
# constrained by the runtime one, so the two agree. Resolved against PyPI alone: a machine's
# pip.conf (a local mirror or wheel folder) would add hashes of files PyPI does not serve.
PIP_COMPILE = env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_CONSTRAINT \
	PIP_CONFIG_FILE=/dev/null $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe \
	--strip-extras --no-emit-index-url --no-emit-find-links $(LOCK_ARGS)
lock: install
	$(PIP_COMPILE) --output-file requirements.lock pyproject.toml
	$(PIP_COMPILE) --extra dev --constraint requirements.lock --output-file requirements-dev.lock pyproject.toml

vendor: install
	$(BIN)/python scripts/fetch_vendor.py

migrate: install
	$(BIN)/flask db upgrade

demo-data: migrate
	$(BIN)/flask demo-data

run: install vendor demo-data
	@echo "Lyceum on http://127.0.0.1:$(PORT)  (Ctrl-C stops it)"
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT) --with-threads

test: install vendor
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

worker: install
	$(BIN)/python worker.py

# ruff, then the import contracts in pyproject.toml's [tool.importlinter] (ARCHITECTURE §14).
lint: install
	$(BIN)/ruff check app tests bench worker.py wsgi.py scripts
	$(BIN)/lint-imports

bench: install vendor
	@ls bench/*.py >/dev/null 2>&1 && for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done || echo "no benchmarks yet"

clean:
	rm -rf $(VENV) app/static/vendor .pytest_cache
