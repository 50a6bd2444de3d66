# The two commands: `make run` and `make test`. Everything lives in .venv.
SHELL := /bin/bash
HOST ?= 127.0.0.1
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin

# The first Python >= 3.12 found (override with PYTHON=/path/to/python).
PYTHON ?= $(shell for p in python3.13 python3.12 python3 $$HOME/.pyenv/versions/3.13*/bin/python $$HOME/.pyenv/versions/3.12*/bin/python /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do \
	  c=$$(command -v $$p 2>/dev/null) || continue; \
	  $$c -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null && { echo $$c; break; }; \
	done)

.PHONY: install run test lint typecheck pytest bench reliability seed-scale clean check-python

check-python:
	@if [ -z "$(PYTHON)" ]; then \
	  echo "error: no Python >= 3.12 found. Install one, or run: make PYTHON=/path/to/python3.12 $(MAKECMDGOALS)" >&2; \
	  exit 1; fi

$(BIN)/.installed: requirements.txt requirements-dev.txt | check-python
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/python manage.py migrate --noinput
	@$(BIN)/python manage.py seed_demo > /dev/null
	@$(BIN)/python manage.py show_demo --host $(HOST) --port $(PORT)
	$(BIN)/uvicorn chatkitty_site.asgi:application --host $(HOST) --port $(PORT) \
	  --loop uvloop --http httptools --ws websockets-sansio --ws-max-size 65536 --no-access-log

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy channels_app chatkitty_site tests bench

pytest: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

seed-scale: install
	$(BIN)/python manage.py seed_scale

reliability: install
	$(BIN)/python -m pytest tests/reliability -m soak -s $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
