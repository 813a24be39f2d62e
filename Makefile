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

.PHONY: run test worker lint bench vendor migrate demo-data install clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed (looked for $(PYTHON))"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(BIN)/.installed

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

lint: install
	$(BIN)/ruff check app tests bench worker.py wsgi.py scripts

bench: install vendor
	@ls bench/*.py >/dev/null 2>&1 && for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done || echo "no benchmarks yet"

clean:
	rm -rf $(VENV) app/static/vendor .pytest_cache
