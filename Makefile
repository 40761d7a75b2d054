# TrustMall — every command a developer or CI needs. `make demo` and `make test` install what
# they need first; a second run reuses it.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
APE := $(BIN)/ape
export PATH := $(CURDIR)/$(BIN):$(PATH)
NETWORK ?= ethereum:local:foundry
RPC_PORT ?= 8545
PYTEST_ARGS ?=
# pytest-xdist workers: one per core and one more (`make test TEST_WORKERS=0` runs in one process).
# A worker often waits on a node, a service or a browser it started: with one per core the cores
# were busy 85% of the suite's time, with the extra one 93% (8 min 9 s against 8 min 43 s on 2
# cores). Each worker starts its own chain nodes on free ports, in its own temporary directories.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
# Tests spread one at a time, but those of an xdist_group (one forge) stay together.
XDIST = -n $(TEST_WORKERS) --dist loadgroup
# The pytest plugins the tests use, loaded by module with autoloading off: an autoloaded plugin has
# the assertions of every module of its package rewritten (schemathesis's 160 among them) by each
# worker at each start, about 3 s a process.
PYTEST_PLUGINS = -p xdist.plugin -p pytest_timeout -p ape.pytest.plugin -p _hypothesis_pytestplugin \
	-p schemathesis.pytest.plugin
PYTEST_ENV = PYTEST_DISABLE_PLUGIN_AUTOLOAD=1
PYTEST = $(PYTEST_ENV) $(BIN)/python -m pytest $(PYTEST_PLUGINS)
# The test suite: every test but the static analysis, which `make lint` runs.
SUITE = --ignore=tests/static
# uv installs the pinned set in seconds where pip takes minutes; it comes from PyPI, as the rest.
# It compiles the packages' bytecode at install, as pip does: where PYTHONDONTWRITEBYTECODE is set
# (CI images, containers) no process would ever cache it, and each would compile web3, Ape and
# FastAPI from source again (about 1.5 s more for every `ape run`, service and test worker).
UV_VERSION := 0.13.9

STAMP_PY := $(VENV)/.stamp-python
STAMP_NPM := node_modules/.stamp-npm
STAMP_TOOLS := $(VENV)/.stamp-toolchain
STAMP_BUILD := .build/.stamp-compiled

.PHONY: help setup browser postgres migration demo-cluster compile test test-long coverage lint bench verify chain hardhat-node deploy api serve worker demo clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: $(STAMP_TOOLS) ## Install everything: venv, Python packages, npm packages, solc adapter, anvil, forge

$(STAMP_PY): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 needed"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --link-mode=copy --compile-bytecode --python $(BIN)/python -r requirements.lock
	touch $@

$(STAMP_NPM): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

$(STAMP_TOOLS): $(STAMP_PY) $(STAMP_NPM) tools/toolchain.py tools/solc-adapter.cjs
	$(BIN)/python tools/toolchain.py install
	$(BIN)/python tools/toolchain.py check
	touch $@

# Everything is compiled again when any source changed (about 25 s): Ape's own incremental compile
# recompiles a changed file and what it names, and left a contract that imports a changed interface
# from another folder (contracts/test's CreditBooksLens) with the interface's old ABI.
$(STAMP_BUILD): $(STAMP_TOOLS) ape-config.yaml $(shell find contracts -name '*.sol' -not -path '*/.cache/*')
	$(APE) compile --force
	@mkdir -p .build && touch $@

compile: $(STAMP_BUILD) ## Compile the contracts with the pinned solc

# The pages are tested in a real headless browser: Debian's chromium, with a font for the
# Chinese pages (without one their screenshots show empty boxes).
browser:
	@{ command -v chromium >/dev/null && fc-list :lang=zh | grep -q .; } || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei; } || \
	  { echo "the page tests need: apt-get install chromium fonts-wqy-microhei (as root)"; exit 1; }

# The service's tests run on PostgreSQL too, started from Debian's binaries (tests/app/databases.py).
postgres:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } || \
	  { echo "the service tests need: apt-get install postgresql (as root)"; exit 1; }

# The project's own bytecode too, once, for the dozens of processes a run starts (`ape run`, the
# service, workers), which with PYTHONDONTWRITEBYTECODE set would each compile it again.
PY_SOURCES := app scripts harness tests tools bench verify
test: $(STAMP_BUILD) browser postgres ## Run the whole test suite (unit on Ape's EVM, integration on Anvil and Hardhat)
	$(BIN)/python -m compileall -q -j 0 $(PY_SOURCES) >/dev/null
	$(PYTEST) -q $(XDIST) --durations=25 $(SUITE) $(PYTEST_ARGS)

test-long: $(STAMP_BUILD) ## The property and state-machine tests (the contracts', the webhook URL's) as a long campaign, and every planted bug
	TRUSTMALL_TEST_CAMPAIGN=long $(PYTEST) -q $(XDIST) tests/contracts tests/invariants \
	  tests/app/merchant/test_webhook_urls.py $(PYTEST_ARGS)

# Every Python process of the run is measured (pytest, its workers, `ape run`, uvicorn: coverage's
# subprocess patch, [tool.coverage] in pyproject.toml), each writing its own file to be combined.
COVERAGE_DIR := $(CURDIR)/.build/coverage
coverage: export COVERAGE_FILE := $(COVERAGE_DIR)/data
coverage: $(STAMP_BUILD) browser postgres ## Line and branch coverage of app/ and scripts/ over the test suite (HTML in .build/coverage/)
	rm -rf $(COVERAGE_DIR) && mkdir -p $(COVERAGE_DIR)
	$(PYTEST_ENV) $(BIN)/python -m coverage run -m pytest $(PYTEST_PLUGINS) -q $(XDIST) $(SUITE) $(PYTEST_ARGS); status=$$?; \
	  $(BIN)/python -m coverage combine --quiet $(COVERAGE_DIR) && \
	  $(BIN)/python -m coverage html --quiet -d $(COVERAGE_DIR)/html && \
	  $(BIN)/python -m coverage report && exit $$status

lint: $(STAMP_TOOLS) ## ruff (checks and format), mypy, the import contracts (pyproject.toml), forge fmt --check and Slither on contracts/
	$(BIN)/ruff check app scripts tests bench tools verify harness
	$(BIN)/ruff format --check app scripts tests bench tools verify harness
	$(BIN)/mypy --explicit-package-bases app bench tools scripts verify harness
	$(BIN)/lint-imports
	$(BIN)/forge fmt --check contracts
	$(PYTEST) -q tests/static

bench: $(STAMP_BUILD) ## Measure gas against the peers; writes BENCHMARKS.md and bench/results.json
	$(BIN)/python -m bench

verify: $(STAMP_BUILD) browser postgres ## Long reliability campaigns (fuzzing, analysis, faults, load); writes RELIABILITY.md
	$(BIN)/python -m verify $(VERIFY_ARGS)

# Anvil spills old blocks' states to disk and leaves them behind when stopped: here, in a directory
# emptied at each start rather than in ~/.foundry/anvil/tmp.
CHAIN_STATES ?= .build/anvil-states
chain: $(STAMP_TOOLS) ## Run a local Anvil devnet on port $(RPC_PORT) (Ctrl-C to stop)
	rm -rf $(CHAIN_STATES)
	$(BIN)/anvil --host 127.0.0.1 --port $(RPC_PORT) --chain-id 1337 --hardfork cancun --cache-path $(CHAIN_STATES)

hardhat-node: $(STAMP_TOOLS) ## Run a Hardhat node on port 8546 (reach it with NETWORK=ethereum:local:node)
	node_modules/.bin/hardhat node --hostname 127.0.0.1 --port 8546

deploy: $(STAMP_BUILD) ## Deploy the suite to NETWORK (default: Anvil at 127.0.0.1:$(RPC_PORT))
	$(APE) run deploy --network $(NETWORK)

api: $(STAMP_BUILD) ## Run the service (uvicorn) against the deployment in deployments/
	$(BIN)/uvicorn app.main:create_app --factory --host 127.0.0.1 --port 8000

API_PROCESSES ?= 2
serve: $(STAMP_BUILD) ## API processes alone (API_PROCESSES of them, a listening socket each) on port 8000, beside make worker
	TRUSTMALL_RUN_BACKGROUND_TASKS=false $(BIN)/python -m app.serve --workers $(API_PROCESSES) --host 127.0.0.1 --port 8000

worker: $(STAMP_BUILD) ## The service's background workers alone, beside API processes run with TRUSTMALL_RUN_BACKGROUND_TASKS=false
	$(BIN)/python -m app.worker

migration: $(STAMP_TOOLS) ## A new schema migration from the models (MESSAGE="what it changes"); read it before committing
	$(BIN)/python -m tools.migration "$(MESSAGE)"

demo: $(STAMP_BUILD) ## Anvil, the suite, the service, the whole story; serves until Ctrl-C (DEMO_ARGS=--no-wait)
	$(BIN)/python tools/demo.py $(DEMO_ARGS)

demo-cluster: $(STAMP_BUILD) postgres ## The same story on PostgreSQL and two service replicas behind a round-robin front
	$(BIN)/python tools/demo.py --cluster $(DEMO_ARGS)

clean: ## Remove what setup and builds made (venv, node_modules, build output)
	rm -rf $(VENV) node_modules .build contracts/.cache .hypothesis
