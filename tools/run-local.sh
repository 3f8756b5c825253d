#!/usr/bin/env bash
# `make run`: a local chain that keeps its state, the example community deployed on it once,
# and the service (web app, API and indexer) on 127.0.0.1:8000. Ctrl-C stops everything; the
# chain's state is saved to var/anvil-state.json, so the next run finds the community where it was.
#
# RPC_PORT (default 8545) and API_PORT (default 8000) choose the ports. A chain already answering
# on RPC_PORT (another `make run`, your own Anvil) is used as it is. API_WORKERS (default 2, one
# per core of these machines) is how many service processes answer: the service's Python is
# what limits writes, a core per process (docs/stewards/operating.md, "Several processes").
set -euo pipefail
cd "$(dirname "$0")/.."
export SOLCX_BINARY_PATH="$PWD/.solcx" PATH="$PWD/.venv/bin:$PATH"

RPC_PORT="${RPC_PORT:-8545}"
API_PORT="${API_PORT:-8000}"
API_WORKERS="${API_WORKERS:-2}"
RPC_URL="http://127.0.0.1:${RPC_PORT}"
WEB_URL="http://127.0.0.1:${API_PORT}"
# `make demo` with the same ports, said as the user would type it.
DEMO_COMMAND="make demo"
[ "$RPC_PORT" = 8545 ] || DEMO_COMMAND="RPC_PORT=$RPC_PORT $DEMO_COMMAND"
[ "$API_PORT" = 8000 ] || DEMO_COMMAND="API_PORT=$API_PORT $DEMO_COMMAND"
COMMUNITY_COMMAND="make community PARAMS=communities/translators.json"
[ "$RPC_PORT" = 8545 ] || COMMUNITY_COMMAND="RPC_PORT=$RPC_PORT $COMMUNITY_COMMAND"
[ "$API_PORT" = 8000 ] || COMMUNITY_COMMAND="API_PORT=$API_PORT $COMMUNITY_COMMAND"
mkdir -p var

rpc() {
  curl -sf -X POST -H 'content-type: application/json' \
    --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":[${2:-}]}" "$RPC_URL"
}
rpc_ready() { rpc eth_chainId > /dev/null; }
port_busy() { (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }

# Ports first, before anything starts: say which one is busy and how to choose another.
if port_busy "$API_PORT"; then
  echo "Port $API_PORT (API_PORT) is already in use on 127.0.0.1: another \`make run\`, or another service."
  echo "Stop it, or serve elsewhere:  API_PORT=8001 make run"
  exit 1
fi
if port_busy "$RPC_PORT" && ! rpc_ready; then
  echo "Port $RPC_PORT (RPC_PORT) is in use on 127.0.0.1, by something that is not an Ethereum node."
  echo "Stop it, or start the chain elsewhere:  RPC_PORT=8546 make run"
  exit 1
fi

anvil_pid=""
stop() {
  trap - INT TERM EXIT
  echo
  if [ -n "$anvil_pid" ]; then
    echo "==> stopping Anvil (state saved to var/anvil-state.json)"
    kill -TERM "$anvil_pid" 2> /dev/null || true
    wait "$anvil_pid" 2> /dev/null || true
  fi
}
trap stop INT TERM EXIT

if rpc_ready; then
  echo "==> using the chain already running at $RPC_URL"
else
  echo "==> starting Anvil on $RPC_URL (state in var/anvil-state.json)"
  # Its clock resumes after the saved chain's newest block (`--timestamp`, when that block is
  # ahead of the wall clock, as after `make demo` skipped time): a restarted chain never mines a
  # block older than the last one (backend/chain/local_clock.py, which the tests' chains use too).
  # Osaka: passkey members' signatures are checked by the P-256 precompile (devstack/stack.py).
  read -r -a resume_clock <<< "$(python -m backend.chain.local_clock var/anvil-state.json)"
  anvil --port "$RPC_PORT" --hardfork osaka "${resume_clock[@]}" \
    --state var/anvil-state.json --state-interval 5 > var/anvil.log 2>&1 &
  anvil_pid=$!
  for _ in $(seq 50); do rpc_ready && break; sleep 0.2; done
  rpc_ready || { echo "Anvil did not start; see var/anvil.log"; exit 1; }
fi

# No compile while the contracts compiled in artifacts/ match their sources (the sha256 of each
# file of contracts/, OpenZeppelin's version, the compiler settings: scripts/_artifacts.py); the
# deploy takes them from there. Otherwise compile once, quietly (ape lists every source it
# reads); the log says more if it fails.
if python -m scripts._artifacts --check > /dev/null 2> var/artifacts.log; then
  echo "==> the contracts as compiled in artifacts/ (their sources are unchanged: no compile)"
else
  sed 's/^/    /' var/artifacts.log
  echo "==> compiling the contracts (ape compile; output in var/compile.log)"
  if ! ape compile > var/compile.log 2>&1; then
    cat var/compile.log
    echo "Compiling failed; see above (also in var/compile.log)"
    exit 1
  fi
fi

echo "==> creating the example community through the community factory (skipped if this chain has it)"
APE_FOUNDRY_HOST="$RPC_URL" ape run deploy --network ethereum:local:foundry --params communities/example.json \
  | sed '/^INFO/d'

# Deploy under automine (a fresh chain deploys in a second), then mine every second: interval
# blocks hold many transactions each and keep their speed as the chain grows, where Anvil 1.7.1's
# automine slows down. (A chain already running mines every second: the deploy works there too.)
rpc evm_setIntervalMining 1 > /dev/null
echo "==> mining a block every second"

# The service first; "ready" only once it answers, naming every community it serves.
MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}" CC_RPC_URL="$RPC_URL" \
  python -m backend serve --host 127.0.0.1 --port "$API_PORT" --workers "$API_WORKERS" &
service_pid=$!
stop_service() { kill -TERM "$service_pid" 2> /dev/null || true; wait "$service_pid" 2> /dev/null || true; stop; }
trap stop_service INT TERM EXIT
echo "==> starting the service on ${WEB_URL} ($API_WORKERS processes)"
for _ in $(seq 300); do
  communities="$(curl -sf "${WEB_URL}/communities" 2> /dev/null)" && curl -sf -o /dev/null "${WEB_URL}/" && break
  kill -0 "$service_pid" 2> /dev/null || { echo "The service stopped; see its output above"; exit 1; }
  communities=""
  sleep 0.2
done
[ -n "$communities" ] || { echo "The service did not answer at ${WEB_URL} within a minute"; exit 1; }
names="$(python -c 'import json, sys; print("\n".join("      " + c["name"] + "  (" + c["slug"] + ")" for c in json.load(sys.stdin)))' <<< "$communities")"

cat <<MSG

==> Ready. The service answers at ${WEB_URL}/ and serves:
${names}
    Web app:   ${WEB_URL}/
    API docs:  ${WEB_URL}/docs
    Chain:     ${RPC_URL} (chain id 31337, a block a second)

    The people of the demo: the well-known public Anvil keys. On this local chain the web app
    offers them as a "development signer"; never use them anywhere else.
      Alice (founder)  0x70997970C51812dc3A010C7d01b50e0d17dc79C8  0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
      Bob (founder)    0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC  0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a
      Carol (founder)  0x90F79bf6EB2c4f870365E785982E1f101E93b906  0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6
      Dana (admitted by a proposal, as in the demo)
                       0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65  0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a

    Walk the whole story through the API from another terminal:  ${DEMO_COMMAND}
    Add another community while it runs (served within seconds, no restart):  ${COMMUNITY_COMMAND}
    Ctrl-C stops the service and the chain.

MSG
wait "$service_pid"
