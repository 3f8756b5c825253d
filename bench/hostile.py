"""What a hostile member can make the relayer burn at full speed, under the default budgets,
beside the same attack on a service with the budgets lifted, in one run.

Run: `python -m bench.hostile [--seconds 60]`. Starts Anvil (a block a second, as a real chain
paces it), deploys, and for each of the two services lets one member loop as fast as it can
through a mix of attacks for `--seconds`:
  - valid claims with wait=false (each one costs the relayer a claim's gas),
  - the same claim's attestation chained behind one in flight (bound to fail),
  - requests signed for too little gas, and with a 100,000-character evidence URI,
  - replays of requests already relayed.
Then two more attackers, each alone for `--seconds` on each service:
  - a contract-wallet member that lies to simulations (forge-tests/utils/Wallets.sol's LyingWallet: yes
    to any signature when tx.gasprice is 0, its gas burned on chain), claiming with wait=false;
  - a key member signing deadlines one second after the chain's clock, so that they would expire
    before their block.
It prints, for each attacker and service, the answers by status, the member's requests the
relayer sent (succeeded, reverted or not executed) and their gas from the outbox (each request's
share of its transaction's receipt), beside the hourly gas budget, and the ratio between the two
services.
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
from eth_utils import keccak, to_checksum_address

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.client import CommunityClient
from backend.settings import ANVIL_DEV_KEYS, Settings
from bench.api import addr, setup_community
from devstack.stack import UNTHROTTLED, Anvil, Server, local_stack, rpc, service_env, wait_until
from devstack.wallets import compiled

ATTACKER, FRIEND = ANVIL_DEV_KEYS[4], ANVIL_DEV_KEYS[5]  # admitted by the bench's setup proposal
LATE = ANVIL_DEV_KEYS[6]  # admitted by the setup proposal too: signs deadlines without headroom
LIAR_KEY = ANVIL_DEV_KEYS[8]  # signs for the lying wallet, which accepts anything when simulated
# Budgets, strikes and the deadline headroom lifted: what the same attacks cost without any of them.
LIFTED = {
    **UNTHROTTLED,
    "CC_MEMBER_STRIKES_SLOW_AFTER": str(10**9),
    "CC_MEMBER_STRIKES_REFUSE_AFTER": str(10**9),
    "CC_RELAY_MIN_DEADLINE_HEADROOM_SECONDS": "0",
}


def post(http: httpx.Client, path: str, typed: dict, key: str, wait: bool = False) -> httpx.Response:
    return http.post(
        path,
        params={} if wait else {"wait": "false"},
        json={"typed_data": typed, "signature": CommunityClient.sign(key, typed)},
    )


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
                typed = api.prepare(
                    "claims",
                    signer=signer,
                    indicator_id=indicator,
                    evidence_uri=f"https://spam.example/{time.monotonic_ns()}",
                )["typed_data"]
                response = post(api.http, "/claims", typed, ATTACKER)
            elif kind == 2:  # attest the friend's claim again, chained behind the first
                typed = api.prepare(
                    "claims", signer=signer, indicator_id=indicator, evidence_uri="https://spam.example/base"
                )["typed_data"]
                data = "0x" + (keccak(text="attest(uint256)")[:4] + encode(["uint256"], [friend_claim])).hex()
                badge = api.get("/communities")[0]["contracts"]["badge"]
                typed["message"] = {
                    **typed["message"],
                    "to": badge,
                    "data": data,
                    "nonce": typed["message"]["nonce"] + 1,
                }
                response = post(api.http, "/attestations", typed, ATTACKER)
            elif kind == 3:  # too little gas, or a huge URI built by hand
                typed = api.prepare(
                    "claims", signer=signer, indicator_id=indicator, evidence_uri="https://spam.example/gas"
                )["typed_data"]
                if n % 2:
                    typed["message"]["gas"] = 30_000
                else:
                    uri = "https://spam.example/" + "x" * 100_000
                    data = keccak(text="claim(uint32,bytes32,string)")[:4] + encode(
                        ["uint32", "bytes32", "string"], [indicator, keccak(text=uri), uri]
                    )
                    typed["message"] = {**typed["message"], "data": "0x" + data.hex(), "gas": 3_000_000}
                response = post(api.http, "/claims", typed, ATTACKER)
            else:  # replay the last accepted request
                typed = api.prepare(
                    "claims", signer=signer, indicator_id=indicator, evidence_uri="https://spam.example/replayed"
                )["typed_data"]
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


def lie(api: CommunityClient, wallet: str, indicator: int, seconds: float) -> Counter:
    """The lying wallet's claims, as fast as answers come back, not waiting for them to be mined."""
    answers: Counter = Counter()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            typed = api.prepare(
                "claims",
                signer=wallet,
                indicator_id=indicator,
                evidence_uri=f"https://lie.example/{time.monotonic_ns()}",
            )["typed_data"]
        except Exception as exc:
            answers[f"{getattr(exc, 'status', type(exc).__name__)} at prepare"] += 1
            continue
        answers[label(post(api.http, "/claims", typed, LIAR_KEY))] += 1
    return answers


def late(api: CommunityClient, anvil: Anvil, indicator: int, seconds: float) -> Counter:
    """A key member's claims signed to expire one second after the chain's clock."""
    answers: Counter = Counter()
    signer = addr(LATE)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            typed = api.prepare(
                "claims",
                signer=signer,
                indicator_id=indicator,
                evidence_uri=f"https://late.example/{time.monotonic_ns()}",
            )["typed_data"]
        except Exception as exc:
            answers[f"{getattr(exc, 'status', type(exc).__name__)} at prepare"] += 1
            continue
        now = int(rpc(anvil.url, "eth_getBlockByNumber", "latest", False)["timestamp"], 16)
        typed["message"] = {**typed["message"], "deadline": now + 1}
        answers[label(post(api.http, "/claims", typed, LATE))] += 1
    return answers


def label(response: httpx.Response) -> str:
    if response.status_code < 400:
        return str(response.status_code)
    body = response.json()
    return f"{response.status_code} {body.get('budget') or body.get('error') or body.get('title')}"


def measure(server_url: str, member: str, run) -> dict:
    api = CommunityClient(server_url, timeout=60)
    answers = run(api)
    wait_until(lambda: api.get("/relayer")["in_flight"] == 0, timeout=300, what="the outbox drained")
    spent = {row["member"]: row for row in api.get("/relayer")["by_member"]}.get(member)
    if spent is None:
        return {"answers": answers, "sent": 0, "reverted": 0, "gas": 0}
    return {"answers": answers, "sent": spent["requests"], "reverted": spent["failed"], "gas": spent["gas_used"]}


def admit(api: CommunityClient, anvil: Anvil, accounts: list[str]) -> None:
    """A proposal admitting `accounts`, passed by the founders and executed."""
    from bench.api import ALICE, KEYS

    proposal = api.act(
        "proposals",
        ALICE,
        description=f"admit {len(accounts)}",
        actions=[{"type": "admit_member", "account": account} for account in accounts],
    )["created"]["proposal_id"]
    anvil.skip(2)
    for key in KEYS:  # every member: whatever the quorum
        api.act("votes", key, proposal_id=proposal, support="for")
    anvil.skip(301)
    api.execute(proposal)


def deploy_liar(anvil: Anvil) -> str:
    deployer = addr(ANVIL_DEV_KEYS[7])
    tx_hash = rpc(anvil.url, "eth_sendTransaction", {"from": deployer, "data": compiled()["LyingWallet"]["bytecode"]})
    wait_until(lambda: rpc(anvil.url, "eth_getTransactionReceipt", tx_hash), what="the lying wallet deployed")
    return to_checksum_address(rpc(anvil.url, "eth_getTransactionReceipt", tx_hash)["contractAddress"])


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
        liar = deploy_liar(stack.anvil)
        admit(api, stack.anvil, [liar])
        friend_claim = api.act("claims", FRIEND, indicator_id=indicator, evidence_uri="https://friend.example/1")[
            "created"
        ]["claim_id"]
        attackers = {
            "a mix of attacks": (addr(ATTACKER), lambda a: attack(a, indicator, friend_claim, args.seconds)),
            "a lying wallet": (liar, lambda a: lie(a, liar, indicator, args.seconds)),
            "late deadlines": (addr(LATE), lambda a: late(a, stack.anvil, indicator, args.seconds)),
        }
        budgeted, unbounded = {}, {}
        for name, (member, run) in attackers.items():
            print(f"{name}: {args.seconds:.0f} s through the service with the default budgets ...", flush=True)
            budgeted[name] = measure(stack.server.url, member, run)
        print(
            f"... and each for {args.seconds:.0f} s through a second service on the same chain, budgets and "
            "strikes lifted ...",
            flush=True,
        )
        lifted = Server(
            {
                **service_env(stack.anvil, stack.deployments, f"sqlite:///{work / 'lifted.sqlite3'}"),
                "CC_RELAYER_KEY": ANVIL_DEV_KEYS[9],
                **LIFTED,
            },
            work / "lifted.log",
        )
        lifted.start()
        try:
            for name, (member, run) in attackers.items():
                unbounded[name] = measure(lifted.url, member, run)
        finally:
            lifted.stop()

    hourly = defaults.member_gas_per_hour
    print(f"\n== a hostile member at full speed for {args.seconds:.0f} s (Anvil, a block a second) ==")
    print(
        f"default member budgets: {hourly:,} gas an hour; {defaults.member_requests_per_minute} requests a "
        f"minute; {defaults.member_max_in_flight} in flight; slowed after {defaults.member_strikes_slow_after} "
        f"strikes, refused after {defaults.member_strikes_refuse_after}; deadlines at least "
        f"{defaults.relay_min_deadline_headroom_seconds} s ahead"
    )
    for attacker in attackers:
        print(f"-- {attacker}")
        for name, run in (("default budgets", budgeted[attacker]), ("budgets lifted", unbounded[attacker])):
            answers = ", ".join(f"{k}: {v}" for k, v in sorted(run["answers"].items()))
            print(
                f"{name:16} relayer sent {run['sent']:4} of the member's requests, {run['reverted']} reverted or "
                f"not executed; gas burned {run['gas']:>12,} ({run['gas'] / hourly:.2f} of the hourly budget)"
            )
            print(f"{'':16} answers: {answers}")
        print(
            f"{'':16} with the budgets / without: {budgeted[attacker]['gas'] / max(1, unbounded[attacker]['gas']):.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
