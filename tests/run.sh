#!/usr/bin/env bash
# The whole test suite (`make test` runs it after setup): the contract tests on a real Anvil
# beside forge and slither, the backend unit tests and the end-to-end tests over real HTTP, the
# web app in a browser, then the fault tests. The same contract tests on the in-process EVM
# (py-evm, one to two minutes) are `make test-contracts`, for quick work on the contracts: they
# are left out here to keep the whole suite short, and Anvil is the chain members use.
#
# The machines have two cores. The contract tests keep one busy, so forge and slither run beside
# them (their output follows); the end-to-end tests run on two workers. The fault tests run
# alone, last: they time what a service does under a fault, and run beside other tests they
# failed (a fee spike that came after the pool had emptied, a server slow to start).
set -euo pipefail
cd "$(dirname "$0")/.."
export SOLCX_BINARY_PATH="$PWD/.solcx" PATH="$PWD/.venv/bin:$PATH"

free_port() { python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# A port of its own, so a developer's `make run` chain on 8545 is never touched. Its output is
# held until forge and slither are done.
contracts_log=$(mktemp)
contracts=
# On the way out early, interrupted as by Ctrl-C, so that ape stops its Anvil.
trap 'if [ -n "$contracts" ]; then kill -INT "$contracts" 2> /dev/null || true; fi; rm -f "$contracts_log"' EXIT
echo "==> contract tests on Anvil (ethereum:local:foundry), beside forge and slither"
APE_FOUNDRY_HOST="http://127.0.0.1:$(free_port)" \
  ape test tests/contracts --network ethereum:local:foundry -q -p no:cacheprovider > "$contracts_log" 2>&1 &
contracts=$!

# Invariants over random sequences (256 of 25 steps), the access-control table and the
# branch tests, compiled by forge through the same solc shim.
echo "==> forge tests: invariants, access-control table, branches (test/)"
forge test

echo "==> static analysis: slither over contracts/ (tests/static/slither_check.py)"
python tests/static/slither_check.py

echo "==> contract tests on Anvil: their output"
contracts_status=0
wait "$contracts" || contracts_status=$?
contracts=
cat "$contracts_log"
[ "$contracts_status" -eq 0 ] || { echo "contract tests failed (exit status $contracts_status)" >&2; exit "$contracts_status"; }

suites=()
for suite in tests/backend tests/e2e; do
  if compgen -G "$suite/test_*.py" > /dev/null; then suites+=("$suite"); fi
done
if [ ${#suites[@]} -gt 0 ]; then
  # Two workers (pytest-xdist): one test process left a core idle half the time, waiting on
  # Anvil and the servers. Each database's stack stays whole on one worker, its tests in order
  # (tests/e2e/conftest.py groups them).
  echo "==> backend and end-to-end tests (${suites[*]}), two workers"
  python -m pytest "${suites[@]}" -q -n 2 --dist loadgroup
fi

# The web app in a real browser: Debian's chromium under Playwright (never `playwright install`),
# the whole story with an injected test wallet, axe-core and host checks on every page;
# screenshots in var/test-output/screenshots/. Without chromium this step is skipped with a
# message, except under CI=true, where it fails.
echo "==> browser tests: the web app in chromium (tests/browser)"
python -m pytest tests/browser -q -p no:cacheprovider -rs

# Faults: the chain node killed mid-burst (SIGKILL and SIGTERM, restarted from its state file)
# and the service killed mid-burst, the database stopped, two processes, fees and funds: about three minutes.
echo "==> fault tests: node and service killed mid-burst (tests/faults)"
python -m pytest tests/faults -q -s -p no:cacheprovider
