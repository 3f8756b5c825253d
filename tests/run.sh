#!/usr/bin/env bash
# The whole test suite (`make test` runs it after setup): the contract tests on a real Anvil
# beside forge and slither, the backend unit tests and the end-to-end tests over real HTTP, the
# web app in a browser, then the fault tests. The same contract tests on the in-process EVM (py-evm, one
# to two minutes) are `make test-contracts`, for quick work on the contracts: they are left out
# here to keep the whole suite short, and Anvil is the chain members use.
#
# Two things at a time, each about a core: the contract tests (ape's Python and Anvil) beside
# forge and slither (one compiler, then one fuzzer, then one analysis), 2-2.5 minutes for what
# took 5 one after another; the backend and end-to-end tests on two workers; the fault tests on two
# workers. ape's pytest plugin is left out of every step but the contract tests: the others
# use none of it, and loading it cost each test process about 9 s.
set -euo pipefail
cd "$(dirname "$0")/.."
export SOLCX_BINARY_PATH="$PWD/.solcx" PATH="$PWD/.venv/bin:$PATH"

free_port() { python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Lint, format and types first (seconds): any new finding fails the suite. ruff's rules and mypy's
# settings are in pyproject.toml; `ruff format` and `ruff check --fix` mend most findings.
echo "==> Python lint, format and types: ruff check, ruff format --check, mypy backend/"
ruff check backend devstack bench scripts tests tools
ruff format --check backend devstack bench scripts tests tools
mypy

# The docs site (a few seconds): the settings page up to date with backend/settings.py, and
# docs/ built with --strict, so a broken link or anchor, or a page missing from mkdocs.yml's nav,
# fails the suite (`make docs` builds the same; never --quiet, which hides --strict's warnings).
echo "==> docs: settings page up to date, mkdocs build --strict (make docs)"
python tools/docs_settings.py --check
NO_MKDOCS_2_WARNING=1 mkdocs build --strict 2>&1 | { grep -v '^INFO' || true; }

# Invariants over random sequences (256 of 25 steps), the access-control table and the branch
# tests, compiled by forge through the same solc shim; then slither. Their output is printed
# after the contract tests', so that neither is cut into the other.
static_log="$(mktemp)"
trap 'rm -f "$static_log"' EXIT
(
  set -e
  echo "==> Solidity format and lint: forge fmt --check, forge lint contracts/ (foundry.toml)"
  forge fmt --check
  forge lint contracts --deny warnings
  echo "==> forge tests: invariants, access-control table, branches (forge-tests/)"
  forge test
  echo "==> static analysis: slither over contracts/ (tests/static/slither_check.py)"
  python tests/static/slither_check.py
) > "$static_log" 2>&1 &
static=$!

# A port of its own, so a developer's `make run` chain on 8545 is never touched.
echo "==> contract tests on Anvil (ethereum:local:foundry); forge and slither beside them"
contracts_failed=0
APE_FOUNDRY_HOST="http://127.0.0.1:$(free_port)" \
  ape test tests/contracts --network ethereum:local:foundry -q -p no:cacheprovider || contracts_failed=1
static_failed=0
wait "$static" || static_failed=1
cat "$static_log"
if [ "$contracts_failed" = 1 ] || [ "$static_failed" = 1 ]; then
  echo "contract tests failed: $contracts_failed; forge or slither failed: $static_failed" >&2
  exit 1
fi

suites=()
for suite in tests/backend tests/e2e; do
  if compgen -G "$suite/test_*.py" > /dev/null; then suites+=("$suite"); fi
done
if [ ${#suites[@]} -gt 0 ]; then
  # Two workers (pytest-xdist): one test process left a core idle half the time, waiting on
  # Anvil and the servers. Each database's stack stays whole on one worker, its tests in order
  # (tests/e2e/conftest.py groups them).
  echo "==> backend and end-to-end tests (${suites[*]}), two workers"
  python -m pytest "${suites[@]}" -q -n 2 --dist loadgroup -p no:ape_test
fi

# The web app in a real browser: Debian's chromium under Playwright (never `playwright install`),
# the whole story with an injected test wallet, axe-core and host checks on every page;
# screenshots in var/test-output/screenshots/. Without chromium this step is skipped with a
# message, except under CI=true, where it fails.
echo "==> browser tests: the web app in chromium (tests/browser)"
python -m pytest tests/browser -q -p no:cacheprovider -p no:ape_test -rs

# Faults: the chain node killed mid-burst (SIGKILL and SIGTERM, restarted from its state file)
# and the service killed mid-burst, the database stopped, two processes, fees and funds: about
# three minutes on two workers. Each test has a chain, a service and a database of its own; the
# fee and drained-relayer tests mine their own blocks, so a loaded machine cannot move the fault
# off the relayer's waiting transactions. What each fault did is printed at the end (-rP: the
# output of passed tests).
echo "==> fault tests: node and service killed mid-burst (tests/faults), two workers"
python -m pytest tests/faults -q -n 2 -rP -p no:cacheprovider -p no:ape_test
