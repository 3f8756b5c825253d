#!/usr/bin/env bash
# `make run`: a local chain that keeps its state, the example community deployed on it once,
# and the API with its indexer on 127.0.0.1:8000. Ctrl-C stops everything; the chain's state
# is saved to var/anvil-state.json, so the next run finds the community where it was.
set -euo pipefail
cd "$(dirname "$0")/.."
export SOLCX_BINARY_PATH="$PWD/.solcx" PATH="$PWD/.venv/bin:$PATH"

RPC_PORT="${RPC_PORT:-8545}"
API_PORT="${API_PORT:-8000}"
RPC_URL="http://127.0.0.1:${RPC_PORT}"
mkdir -p var

rpc() {
  curl -sf -X POST -H 'content-type: application/json' \
    --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":[${2:-}]}" "$RPC_URL"
}
rpc_ready() { rpc eth_chainId > /dev/null; }

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
  anvil --port "$RPC_PORT" --hardfork cancun \
    --state var/anvil-state.json --state-interval 5 > var/anvil.log 2>&1 &
  anvil_pid=$!
  for _ in $(seq 50); do rpc_ready && break; sleep 0.2; done
  rpc_ready || { echo "Anvil did not start; see var/anvil.log"; exit 1; }
fi

echo "==> deploying the example community (skipped if this chain has it)"
APE_FOUNDRY_HOST="$RPC_URL" ape run deploy --network ethereum:local:foundry --params communities/example.json \
  | sed '/^INFO/d'

# Deploy under automine (ape waits on each receipt), then mine every second: interval blocks
# hold many transactions each and keep their speed as the chain grows, where Anvil 1.7.1's
# automine slows down.
rpc evm_setIntervalMining 1 > /dev/null
echo "==> mining a block every second"

cat <<MSG

==> Example Commons is ready on $RPC_URL (chain id 31337)
    API docs:  http://127.0.0.1:${API_PORT}/docs
    Founders' development keys (the well-known public Anvil keys; never use them elsewhere):
      0x70997970C51812dc3A010C7d01b50e0d17dc79C8  0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
      0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC  0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a
      0x90F79bf6EB2c4f870365E785982E1f101E93b906  0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6
    Walk the whole scenario through the API from another terminal:  make demo
    Ctrl-C stops the API and the chain.

MSG
MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}" CC_RPC_URL="$RPC_URL" python -m backend serve --host 127.0.0.1 --port "$API_PORT"
