# Two commands on a fresh machine: `make run` and `make test`. Everything else is set up here.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.desvirt-installed

CHROMIUM ?= /usr/bin/chromium

.PHONY: install run test lint typecheck unit migrate demo messages lock clean bench browser

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Desvirt needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/desvirt serve

migrate: install
	$(BIN)/desvirt migrate

demo: install
	$(BIN)/desvirt demo

lint: install
	$(BIN)/ruff check server tests

typecheck: install
	$(BIN)/mypy

# The browser tests drive Debian's Chromium (never a browser downloaded at run time).
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	  else \
	    echo "!! $(CHROMIUM) is missing and we are not root: the browser tests will be skipped (sudo apt-get install chromium)"; \
	  fi; \
	fi

test: lint typecheck browser
	@# pytest's exit code 5 means no test ran: that is a failure here, not a pass.
	$(BIN)/pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; \
	exit $$status

# Refresh the catalogs after changing texts; then translate the empty entries in es and de.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k _ --no-location --sort-output -w 100 -o frontend/locale/messages.pot .
	$(BIN)/pybabel update -i frontend/locale/messages.pot -d frontend/locale -w 100 --no-fuzzy-matching

# Re-pin every dependency after changing pyproject.toml.
lock: install
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^desvirt' > requirements.lock

# Load benchmarks on 127.0.0.1 (needs PostgreSQL and wrk); results in bench/results/.
# About 1.5 minutes for the small database and 3 for the large one on 2 cores.
bench: install
	@command -v wrk >/dev/null || { echo "bench needs wrk: apt-get install wrk"; exit 2; }
	$(BIN)/python -m bench.run --db small --explain
	$(BIN)/python -m bench.run --db large --explain

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
