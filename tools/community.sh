#!/usr/bin/env bash
# `make community [PARAMS=communities/translators.json]`: another community on the chain `make run`
# keeps running, created through the chain's community factory in one transaction (ape run deploy),
# then served by the running service within a block or two: no restart, no file to edit
# (docs/stewards/second-community.md). RPC_PORT and API_PORT as for `make run`.
set -euo pipefail
cd "$(dirname "$0")/.."
export SOLCX_BINARY_PATH="$PWD/.solcx" PATH="$PWD/.venv/bin:$PATH"

PARAMS="${PARAMS:-communities/translators.json}"
RPC_URL="http://127.0.0.1:${RPC_PORT:-8545}"
WEB_URL="http://127.0.0.1:${API_PORT:-8000}"

[ -f "$PARAMS" ] || { echo "No file $PARAMS: write the community's founding file first (communities/example.json shows one)"; exit 1; }
# ape would start a chain of its own and stop it afterwards, taking the community with it.
if ! curl -sf -X POST -H 'content-type: application/json' \
    --data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$RPC_URL" > /dev/null; then
  echo "No chain answers at $RPC_URL: start it with \`make run\` first (in another terminal), then run this again."
  exit 1
fi
slug="$(python -c 'import json, sys; print(json.load(open(sys.argv[1]))["slug"])' "$PARAMS")"

echo "==> creating community '$slug' from $PARAMS through the community factory"
APE_FOUNDRY_HOST="$RPC_URL" ape run deploy --network ethereum:local:foundry --params "$PARAMS" | sed '/^INFO/d'

# The service follows the factory: it serves the community once it has read its block.
if curl -sf -o /dev/null "$WEB_URL/communities"; then
  for _ in $(seq 50); do
    if curl -sf -o /dev/null "$WEB_URL/communities/$slug"; then
      echo "==> served: $WEB_URL/c/$slug (the API under $WEB_URL/communities/$slug/...)"
      exit 0
    fi
    sleep 0.2
  done
  echo "The service at $WEB_URL does not serve '$slug' yet: its /health says why."
  exit 1
fi
echo "==> created; no service answers at $WEB_URL: \`make run\` serves it when it starts."
