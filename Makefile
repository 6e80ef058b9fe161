# One entry point for people and CI. `make demo` and `make test` install what they need first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := emulators/firestore/node_modules/.installed
# checkov pins packaging/networkx versions and replaces python-hcl2's `hcl2` module, so it lives in
# its own virtualenv; tests/terraform finds it there.
CHECKOV := $(VENV)/tools/checkov/bin/checkov

.PHONY: install system-deps demo test check fmt lint types typecheck unit integration stack up bench package openapi clean

install: $(STAMP) $(NODE_STAMP) $(CHECKOV)

system-deps:
	bash scripts/install_system_deps.sh

$(STAMP): pyproject.toml
	bash scripts/install_system_deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[media,cli,dev]'
	touch $@

$(NODE_STAMP): emulators/firestore/package.json emulators/firestore/package-lock.json
	cd emulators/firestore && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(CHECKOV):
	$(PYTHON) -m venv $(VENV)/tools/checkov
	$(VENV)/tools/checkov/bin/pip install --quiet 'checkov>=3.2,<4'

# `make demo STORAGE_BACKEND=s3` runs it on moto's S3 instead of fake-gcs-server.
demo: install
	$(BIN)/python -m cli.demo $(if $(STORAGE_BACKEND),--storage $(STORAGE_BACKEND))

stack: install
	$(BIN)/python -m emulators up $(if $(STORAGE_BACKEND),--storage $(STORAGE_BACKEND))

up: stack

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: install
	$(BIN)/mypy

typecheck: types

unit: install
	$(BIN)/pytest tests -m "not integration" -q

integration: install
	$(BIN)/pytest tests -m integration -q

test: lint types
	$(BIN)/pytest tests -q

check: test

bench: install
	$(BIN)/python bench/run_all.py

openapi: install
	$(BIN)/python -m scripts.openapi

package: install
	$(BIN)/python scripts/package_functions.py --out dist/functions

clean:
	rm -rf .stack dist .pytest_cache .mypy_cache .ruff_cache
