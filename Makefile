# Tradeloom: `make run` starts the whole platform, `make test` runs every gate. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SERVICE_DIRS := $(sort $(wildcard services/*))
PACKAGES := tradeloom.shared tradeloom.quant $(foreach s,$(SERVICE_DIRS),tradeloom.$(subst -,_,$(notdir $(s))))
PYTEST_ARGS ?=
# pytest runs its files on two workers (pytest-xdist): each worker starts its own NATS, Postgres and
# services on free ports, and a file's tests stay on one worker so its module-scoped stacks start once.
PYTEST_WORKERS ?= 2

.PHONY: help install run test gates lint format typecheck imports filesize contracts contracts-check k8s-check \
	pytest unit integration e2e bench clean

help:
	@echo "make run        start NATS, Postgres and all eight services (data in .devstack/)"
	@echo "make test       lint, types, import boundaries, contracts, k8s policy, then every test"
	@echo "make bench      benchmarks with ratios against peers"
	@echo "make contracts  regenerate contracts/ from the models"
	@echo "make install    build .venv from the pinned lock files"

$(STAMP): tools/system_deps.sh requirements/runtime.txt requirements/dev.txt libs/*/pyproject.toml services/*/pyproject.toml
	@bash tools/system_deps.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --require-hashes \
		-r requirements/runtime.txt -r requirements/dev.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation \
		-e libs/shared -e libs/quant $(addprefix -e ,$(SERVICE_DIRS))
	@touch $(STAMP)

# The web dashboard (dashboard/, served by the gateway at /): built from the npm lock file into
# dashboard/dist (not in git). Without npm, / says the dashboard is not built.
DASHBOARD_SOURCES := $(wildcard dashboard/src/*.ts dashboard/src/*/*.ts dashboard/src/*.css) \
	dashboard/index.html dashboard/package.json dashboard/package-lock.json dashboard/vite.config.ts dashboard/tsconfig.json dashboard/compress.mjs
dashboard/dist/index.html: $(DASHBOARD_SOURCES)
	@if command -v npm >/dev/null 2>&1; then \
		cd dashboard && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent; \
	else echo "make: npm not found: the dashboard is not built (/ says so); install Node 20+" >&2; fi

install: $(STAMP) dashboard/dist/index.html

run: install
	exec $(BIN)/python -m tools.devstack up

# The static gates run beside pytest (two jobs, each one's output printed whole when it ends): the
# gates need a CPU for ~2 minutes while pytest mostly waits on the servers it starts.
test: install
	@$(MAKE) --no-print-directory -j2 --output-sync=target gates pytest

gates: lint contracts-check k8s-check

lint: format imports typecheck filesize
	$(BIN)/ruff check .

format:
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy $(addprefix -p ,$(PACKAGES))
	$(BIN)/mypy tools

imports:
	$(BIN)/lint-imports

filesize:
	$(BIN)/python tools/check_file_size.py

contracts: install
	$(BIN)/python tools/contracts.py generate

contracts-check:
	$(BIN)/python tools/contracts.py all

k8s-check:
	$(BIN)/python tools/k8s_check.py
	$(BIN)/python tools/compose_check.py

pytest:
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

unit:
	$(BIN)/pytest libs/shared/tests/unit libs/quant/tests tests/contracts tests/infra $(PYTEST_ARGS)

integration:
	$(BIN)/pytest libs/shared/tests/integration services $(PYTEST_ARGS)

e2e:
	$(BIN)/pytest tests/e2e $(PYTEST_ARGS)

bench: install
	@bash tools/system_deps.sh --bench
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
