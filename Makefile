# One idempotent setup step that every other target runs first: Python packages
# (exact pins in constraints.txt), npm packages (package-lock.json), the solc shim
# registered for py-solc-x, and Anvil on the virtualenv's PATH. A second run on a
# set-up machine only checks stamps.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SOLC_VERSION := 0.8.37
UV_VERSION := 0.13.9
export SOLCX_BINARY_PATH := $(CURDIR)/.solcx
# The Python and npm packages install side by side (about 20 s each from a fresh clone). No
# --output-sync: it would hold back `make run`'s output until the service stops.
MAKEFLAGS += --jobs=2
# The host's Python, found before the virtualenv's bin/ goes first on PATH (below).
HOST_PYTHON := $(shell command -v $(PYTHON))
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup compile artifacts run demo test test-contracts bench clean fuzz coverage

setup: $(BIN)/.installed node_modules/.installed .solcx/solc-v$(SOLC_VERSION) $(BIN)/anvil $(BIN)/forge $(BIN)/.toolchain

# uv (from PyPI, one wheel) installs the exact pins of constraints.txt in a fraction of pip's
# time, and says what it is doing. constraints.txt is the whole set, `dev` extra included, so it is
# installed as it is, with no resolving (a third of uv's time from a fresh clone); `uv pip check`
# then fails on any dependency it lacks, and tests/backend/test_constraints.py on any requirement
# of pyproject.toml it does not pin. The virtualenv is made without pip (installing pip into it took
# 4 s of the first run), and the host's pip puts uv into it; a host pip too old for --python
# (before 22.3) or missing makes the virtualenv's own pip do it.
$(BIN)/.installed: pyproject.toml constraints.txt
	@echo "==> Python: virtualenv $(VENV) and uv $(UV_VERSION) into it"
	@test -x $(BIN)/python || $(HOST_PYTHON) -m venv --without-pip $(VENV)
	@$(BIN)/uv --version 2> /dev/null | grep -q 'uv $(UV_VERSION)' \
	  || $(HOST_PYTHON) -m pip --python $(BIN)/python install -q --disable-pip-version-check uv==$(UV_VERSION) 2> /dev/null \
	  || { $(BIN)/python -m ensurepip > /dev/null && $(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION); }
	@echo "==> Python packages: the exact pins of constraints.txt, as they are (uv pip install --no-deps)"
	@set -o pipefail; $(BIN)/uv pip install --python $(BIN)/python --no-deps -r constraints.txt -e . 2>&1 \
	  | grep -Ev '^ *([-+~] |Downloading|Downloaded|Building|Built)'
	@$(BIN)/uv pip check -q --python $(BIN)/python
	@touch $@

node_modules/.installed: package.json package-lock.json
	@echo "==> npm packages from package-lock.json (solc, Anvil, forge, OpenZeppelin, axe-core)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# py-solc-x (and so ape-solidity) takes any executable named solc-v<version> in
# SOLCX_BINARY_PATH as an installed compiler.
.solcx/solc-v$(SOLC_VERSION): tools/solc-shim.js node_modules/.installed
	@mkdir -p .solcx
	@printf '#!/bin/sh\nexec node "$$(dirname "$$0")/../tools/solc-shim.js" "$$@"\n' > $@
	@chmod +x $@

# ape-foundry finds anvil with shutil.which.
$(BIN)/anvil: node_modules/.installed $(BIN)/.installed
	@ln -sf ../../node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil $@
$(BIN)/forge: node_modules/.installed $(BIN)/.installed
	@ln -sf ../../node_modules/@foundry-rs/forge-linux-amd64/bin/forge $@

# `ape run deploy ...` from any shell, with nothing exported (tools/toolchain_pth.py says how).
$(BIN)/.toolchain: tools/toolchain_pth.py $(BIN)/.installed
	@$(BIN)/python tools/toolchain_pth.py
	@touch $@

compile: setup
	@$(BIN)/ape compile

# The compiled contracts that deploying takes without compiling (artifacts/, committed): compiled
# afresh, then each deployed contract's ABI and bytecode written with a manifest of what they came
# from (scripts/_artifacts.py). Run it after changing contracts/, OpenZeppelin or the compiler
# settings, and commit artifacts/: a test fails while they are stale (and deploying compiles).
artifacts: setup
	@$(BIN)/ape compile --force
	@$(BIN)/python -m scripts._artifacts

run: setup
	@bash tools/run-local.sh

# Another community on the chain `make run` keeps running, created through the community factory and
# served by the running service within a block or two, without a restart: PARAMS names its founding
# file (default communities/translators.json); RPC_PORT and API_PORT as for `make run`.
.PHONY: community
community: setup
	@bash tools/community.sh

demo: setup
	@$(BIN)/python scripts/demo.py

test: setup
	@bash tests/run.sh

# The contract tests alone on the in-process EVM (py-evm): one to two minutes, for work on contracts/.
# `make test` runs them on Anvil.
test-contracts: setup
	@SOLCX_BINARY_PATH=$(CURDIR)/.solcx PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/ape test tests/contracts --network ethereum:local:test -q -p no:cacheprovider

# Deep invariant run: 5,000 random sequences of 25 steps (foundry.toml's fuzz profile), and
# 1,000 of them carried over to a later version of the badge contract (VersionInvariants);
# forge prints runs (sequences) and calls. FUZZ_SEED=0x... reproduces a run. Then the deep
# API fuzzing run (tests/api/fuzz.py), which prints how many requests it made.
fuzz: setup
	@echo "==> forge invariant tests, deep profile (5,000 sequences of 25 steps)"
	@FOUNDRY_PROFILE=fuzz $(BIN)/forge test --match-contract 'CommunityInvariants|VersionInvariants' $(if $(FUZZ_SEED),--fuzz-seed $(FUZZ_SEED)) \
	  | tee /dev/stderr | grep -Eo 'runs: [0-9]+, calls: [0-9]+' | awk -F'[:,] *' '{print "fuzz: " $$2 " sequences, " $$4 " calls, every invariant checked after each call"}'
	@echo "==> API fuzzing: schemathesis against the service's own /openapi.json (300 cases per operation and phase)"
	@$(BIN)/python -m tests.api.fuzz --max-examples $(or $(API_FUZZ_EXAMPLES),300) $(if $(FUZZ_SEED),--seed $$(( $(FUZZ_SEED) )))

# Branch coverage of contracts/ (not OpenZeppelin, not forge-tests/) over every forge test, the
# invariant campaign shortened to 32 sequences; fails unless every branch is taken. Coverage builds
# without the optimizer, where OpenZeppelin's P256 (PasskeyAccount) does not compile (stack too
# deep): --ir-minimum (the same branches are found: 63 of the other contracts before and after).
# Unoptimised, its Solidity P-256 check outgrows the forwarder's WALLET_SIGNATURE_GAS: osaka, whose
# precompile does the check, as on L2s and Ethereum (forge test runs on cancun, the fallback).
coverage: setup
	@FOUNDRY_INVARIANT_RUNS=32 $(BIN)/forge coverage --ir-minimum --evm-version osaka --no-match-coverage "forge-tests/|node_modules/" \
	  --report summary --report lcov --lcov-version 1 | grep -E '^\|' 
	@awk -F, '/^BRDA/ {n++; if ($$4 == "-" || $$4 == "0") {m++; print "  branch not taken: " file ":" $$1}} /^SF:/ {file = substr($$0, 4)} \
	  END {printf "coverage: %d of %d branches of contracts/ taken\n", n - m, n; exit (m > 0 || n == 0)}' lcov.info

# EAS, which bench/gas.py deploys beside the contracts, and the Hardhat it brings: the benchmarks'
# own npm packages, installed here only.
bench/node_modules/.installed: bench/package.json bench/package-lock.json
	@echo "==> the benchmarks' npm packages from bench/package-lock.json (EAS)"
	@cd bench && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Every benchmark, each beside its baseline; bench.writes a second time at 100 writes a second
# from 100 members (each at the rate the default budgets allow a member: the node's work per write
# grows with each member's own rate), and a third time on PostgreSQL (the server the tests use,
# when one answers on 127.0.0.1:5432), with one and two API processes over it.
bench: setup bench/node_modules/.installed
	@command -v wrk > /dev/null || { echo "==> wrk from Debian's packages (reads from a C client)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk > /dev/null || echo "(no wrk: its reads are left out)"; }
	@test -x $(BIN)/py-spy || { echo "==> py-spy from PyPI (bench.writes samples the service with it)"; \
	  $(BIN)/uv pip install -q --python $(BIN)/python py-spy==0.4.3 || echo "(no py-spy: the profile by stage is left out)"; }
	@$(BIN)/python -m bench.gas
	@if [ -f bench/api.py ]; then $(BIN)/python -m bench.api; fi
	@$(BIN)/python -m bench.writes
	@$(BIN)/python -m bench.writes --members 100 --rate 100 --throughput 0
	@if pg_isready -q -h 127.0.0.1 -p 5432 2> /dev/null; then \
	  $(BIN)/python -m bench.writes --postgres "$${TEST_POSTGRES_URL:-postgresql://postgres:postgres@127.0.0.1:5432/postgres}"; \
	else echo "(no PostgreSQL on 127.0.0.1:5432: bench.writes on PostgreSQL is left out)"; fi
	@$(BIN)/python -m bench.replays
	@$(BIN)/python -m bench.decay
	@$(BIN)/python -m bench.growth
	@$(BIN)/python -m bench.hostile

# Soak: concurrent clients (claims and attestations with wait, and reads) against a local Anvil
# with 1 s interval mining and the service, for SOAK_SECONDS (default 600); prints errors,
# p50/p99 per operation and the service's RSS over the run; fails on errors or memory growth.
.PHONY: soak
soak: setup
	@$(BIN)/python -m bench.soak

# The docs site: docs/stewards/settings.md written from backend/settings.py's comments
# (tools/docs_settings.py), then docs/ built by MkDocs with Material into var/site/ (mkdocs.yml);
# --strict: a broken link or anchor, or a page left out of the nav, is an error. Nothing is
# fetched from the network. Open var/site/index.html. (Never --quiet: it hides the warnings
# from --strict too, and a broken link then passes.)
# Translations (backend/i18n): each catalog's messages extracted from its sources (web.cfg: the
# web app's Python, templates and scripts; words.cfg: the rest of backend/) into var/i18n/*.pot,
# then every language's .po file updated from it (new messages empty, removed ones dropped, changed
# ones marked fuzzy). Translate the empty and fuzzy ones; tests/backend/test_translations.py fails
# until none is left. A new language: add its code to SUPPORTED in backend/i18n/locale.py first.
.PHONY: translations
translations: setup
	@mkdir -p var/i18n
	@for catalog in web words; do \
	  $(BIN)/pybabel -q extract -F backend/i18n/$$catalog.cfg -k lazy_gettext --sort-by-file --width 120 \
	    --add-comments Translators: --project "Contribution Commons" -o var/i18n/$$catalog.pot backend \
	  && for code in $$($(BIN)/python -c 'from backend.i18n import SUPPORTED, DEFAULT; print(*(c for c in SUPPORTED if c != DEFAULT))'); do \
	    $(BIN)/pybabel -q update -i var/i18n/$$catalog.pot -d backend/i18n/locales -D $$catalog -l $$code \
	      --init-missing --ignore-obsolete --width 120 || exit 1; \
	  done || exit 1; \
	done
	@echo "translations: backend/i18n/locales/*/LC_MESSAGES/{web,words}.po updated; translate what is empty or fuzzy"

.PHONY: docs
docs: setup
	@$(BIN)/python tools/docs_settings.py
	@NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict
	@echo "docs: var/site/index.html"

clean:
	rm -rf .build .solcx $(VENV) node_modules bench/node_modules
