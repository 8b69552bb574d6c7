# carenet — the two commands: `make run` and `make test`. Both install what is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 5000
PYTEST_ARGS ?=

.PHONY: run test lint system venv bootstrap migrate seed clean screenshots

# `make run` serves the development server on a local demo database: development settings,
# asked for explicitly (without CARENET_ENV the app runs as production and refuses to start
# without a real CARENET_SECRET_KEY; docs/operations.md). An exported CARENET_ENV wins.
run migrate seed: export CARENET_ENV ?= development

run: bootstrap migrate seed  ## install, migrate, seed an empty database, serve on http://127.0.0.1:5000
	@echo "carenet: serving on http://$(HOST):$(PORT) (Ctrl-C stops)"
	$(BIN)/carenet run --host $(HOST) --port $(PORT)

test: bootstrap lint  ## install, lint, run the whole suite on SpatiaLite and PostGIS
	scripts/test.sh $(PYTEST_ARGS)

lint: bootstrap
	$(BIN)/ruff check carenet tests
	$(BIN)/ruff format --check carenet tests
	$(BIN)/mypy
	$(BIN)/lint-imports

bootstrap: system venv

system:
	@scripts/bootstrap-system.sh

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "carenet: cannot create a venv with $(PYTHON); install python3-venv" >&2; exit 1; }
	@$(BIN)/python -m pip install -q --upgrade pip
	@$(BIN)/python -m pip install -q -e '.[dev,postgres]' || { echo "carenet: pip install failed (see above); check network access to PyPI and run make again" >&2; exit 1; }
	@rm -f $(VENV)/.installed-* && touch $@

migrate: bootstrap
	$(BIN)/carenet db upgrade

seed: migrate
	$(BIN)/carenet seed --demo-history
	$(BIN)/carenet reports release

clean:
	rm -rf $(VENV) instance .pytest_cache

# The SDOH Clinical Care IG's FSH examples → JSON fixtures (tests/data/fhir/README.md).
FHIR_SDOH ?= ../shared/data/fhir-sdoh
fhir-fixtures: venv
	for v in stu3-dev-3.0.0 stu2.3.0; do \
	  $(BIN)/python tests/data/fhir/fsh_to_json.py $(FHIR_SDOH)/$$v/input/fsh tests/data/fhir/sdohcc/$$v $${v#stu}; \
	done
	cp $(FHIR_SDOH)/api-examples-page-2023-json/*.json tests/data/fhir/sdohcc/api-examples/

# PNGs of each key page per role at 1280 and 390 px into docs/screenshots/ (the user guides'
# pictures): a throwaway seeded SpatiaLite instance served by gunicorn, Debian's Chromium.
screenshots: bootstrap
	$(BIN)/python scripts/screenshots.py --out docs/screenshots
