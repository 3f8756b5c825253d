"""What a hostile member can make the relayer burn at full speed, under the default budgets,
beside the same attack on a service with the budgets lifted, in one run.

Run: `python -m bench.hostile [--seconds 60]`. Starts Anvil (a block a second, as a real chain
paces it), deploys, and for each of the two services lets one member loop as fast as it can
through a mix of attacks for `--seconds`:
  - valid claims with wait=false (each one costs the relayer a claim's gas),
  - the same claim's attestation chained behind one in flight (bound to fail),
  - requests signed for too little gas, and with a 100,000-character evidence URI,
  - replays of requests already relayed.
It prints, for each service, the answers by status, the member's requests the relayer sent
(succeeded, reverted) and their gas from the outbox (each request's share of its transaction's
receipt), and the ratio between the two.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from eth_abi import encode
from eth_utils import keccak

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.client import CommunityClient  # noqa: E402
from backend.settings import ANVIL_DEV_KEYS, Settings  # noqa: E402
from bench.api import addr, setup_community  # noqa: E402
from tests.e2e.harness import UNTHROTTLED, Anvil, Server, local_stack, rpc, service_env, wait_until  # noqa: E402

ATTACKER, FRIEND = ANVIL_DEV_KEYS[4], ANVIL_DEV_KEYS[5]  # admitted by the bench's setup proposal


def post(http: httpx.Client, path: str, typed: dict, key: str, wait: bool = False) -> httpx.Response:
    return http.post(path, params={} if wait else {"wait": "false"},
                     json={"typed_data": typed, "signature": CommunityClient.sign(key, typed)})


def attack(api: CommunityClient, indicator: int, friend_claim: int, seconds: float) -> Counter:
    """One member, one connection, as fast as answers come back."""
    answers: Counter = Counter()
    signer = addr(ATTACKER)
    deadline, n = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        n += 1
        kind = n % 5
        try:
            if kind in (0, 1):  # valid claims, the real cost
                typed = api.prepare("claims", signer=signer, indicator_id=indicator,
                                    evidence_uri=f"https://spam.example/{time.monotonic_ns()}")["typed_data"]
                response = post(api.http, "/claims", typed, ATTACKER)
            elif kind == 2:  # attest the friend's claim again, chained behind the first
                typed = api.prepare("claims", signer=signer, indicator_id=indicator,
                                    evidence_uri="https://spam.example/base")["typed_data"]
                data = "0x" + (keccak(text="attest(uint256)")[:4] + encode(["uint256"], [friend_claim])).hex()
                badge = api.get("/communities")[0]["contracts"]["badge"]
                typed["message"] = {**typed["message"], "to": badge, "data": data,
                                    "nonce": typed["message"]["nonce"] + 1}
                response = post(api.http, "/attestations", typed, ATTACKER)
            elif kind == 3:  # too little gas, or a huge URI built by hand
                typed = api.prepare("claims", signer=signer, indicator_id=indicator,
                                    evidence_uri="https://spam.example/gas")["typed_data"]
                if n % 2:
                    typed["message"]["gas"] = 30_000
                else:
                    uri = "https://spam.example/" + "x" * 100_000
                    data = keccak(text="claim(uint32,bytes32,string)")[:4] + encode(
                        ["uint32", "bytes32", "string"], [indicator, keccak(text=uri), uri])
                    typed["message"] = {**typed["message"], "data": "0x" + data.hex(), "gas": 3_000_000}
                response = post(api.http, "/claims", typed, ATTACKER)
            else:  # replay the last accepted request
                typed = api.prepare("claims", signer=signer, indicator_id=indicator,
                                    evidence_uri="https://spam.example/replayed")["typed_data"]
                typed["message"]["nonce"] = max(0, typed["message"]["nonce"] - 1)
                response = post(api.http, "/claims", typed, ATTACKER)
        except Exception as exc:  # a refused prepare (a 429 budget, say) is an answer too
            status = getattr(exc, "status", type(exc).__name__)
            answers[f"{status} at prepare"] += 1
            continue
        body = response.json()
        label = str(response.status_code)
        if response.status_code >= 400:
            label += f" {body.get('budget') or body.get('error') or body.get('title')}"
        answers[label] += 1
    return answers


def measure(anvil: Anvil, server_url: str, indicator: int, friend_claim: int, seconds: float) -> dict:
    api = CommunityClient(server_url, timeout=60)
    answers = attack(api, indicator, friend_claim, seconds)
    wait_until(lambda: api.get("/relayer")["in_flight"] == 0, timeout=300, what="the outbox drained")
    spent = {row["member"]: row for row in api.get("/relayer")["by_member"]}[addr(ATTACKER)]
    return {"answers": answers, "sent": spent["requests"], "reverted": spent["failed"], "gas": spent["gas_used"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    defaults = Settings()
    print("Starting Anvil, deploying (ape run deploy) and serving the API with the default budgets ...", flush=True)

    def one_block_a_second(anvil: Anvil) -> None:
        rpc(anvil.url, "evm_setIntervalMining", 1)

    with local_stack(work, before_serving=one_block_a_second) as stack:
        api = CommunityClient(stack.server.url, timeout=60)
        indicator = setup_community(api, stack.anvil)
        friend_claim = api.act("claims", FRIEND, indicator_id=indicator,
                               evidence_uri="https://friend.example/1")["created"]["claim_id"]
        print(f"One member attacks for {args.seconds:.0f} s through the service with the default budgets ...",
              flush=True)
        budgeted = measure(stack.anvil, stack.server.url, indicator, friend_claim, args.seconds)
        print(f"... and for {args.seconds:.0f} s through a second service on the same chain, budgets lifted ...",
              flush=True)
        lifted = Server({**service_env(stack.anvil, stack.deployments, f"sqlite:///{work / 'lifted.sqlite3'}"),
                         "CC_RELAYER_KEY": ANVIL_DEV_KEYS[9],
                         **UNTHROTTLED}, work / "lifted.log")
        lifted.start()
        try:
            unbounded = measure(stack.anvil, lifted.url, indicator, friend_claim, args.seconds)
        finally:
            lifted.stop()

    print(f"\n== a hostile member at full speed for {args.seconds:.0f} s (Anvil, a block a second) ==")
    for name, run in (("default budgets", budgeted), ("budgets lifted", unbounded)):
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(run["answers"].items()))
        print(f"{name:16} relayer sent {run['sent']:4} of the member's requests, {run['reverted']} reverted or "
              f"not executed; gas burned {run['gas']:>12,} (their shares of the relayer's transactions)")
        print(f"{'':16} answers: {answers}")
    hourly = defaults.member_gas_per_hour
    print("== the bound ==")
    print(f"default member gas budget: {hourly:,} gas an hour; {defaults.member_requests_per_minute} requests a "
          f"minute; {defaults.member_max_in_flight} in flight")
    print(f"burned in {args.seconds:.0f} s with the defaults: {budgeted['gas']:,} gas "
          f"({budgeted['gas'] / hourly:.2f} of the hourly budget)")
    print(f"with the budgets / without: {budgeted['gas'] / max(1, unbounded['gas']):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
