"""Do writes slow down as the chain and the index grow? The same writes on a chain holding no
badges and on one holding 10,000, in turns, in one run.

Run: `python -m bench.growth [--badges 10000] [--relayed 2000] [--claims 210] [--rounds 3]` (`make bench` runs
it). Starts two stacks side by side (each its own Anvil with a block a second, `ape run
deploy` and the API over a SQLite index) and grows the second to `--badges` badges with direct
transactions: members claim, another member attests, which mints (setup, not measured; the
service indexes them as they come), then sends it `--relayed` claims through the API (the
outbox's history, and the client's budgets). Then, in turns (fresh, grown, grown, fresh, ...: a
machine slowing down midway weighs on both alike), on each stack:
  - the API: `--claims` claims from 7 members at once with wait=false, accepted per second,
    and the CPU each claim cost the service and Anvil until the outbox drained (from /proc);
  - claims with wait=true, 7 members at once, 5 each, and 32 at once, 3 each: p50;
  - Anvil alone, per block: 210 direct claims put in its pool with mining paused, and the time
    `evm_mine` takes to build the block holding them.
And, once, the profile of the member holding half the grown badges (5,000), read over HTTP
(from wrk when installed), beside raw SQL of its numbers and first page on the same file.
Prints the medians over the rounds at each size and grown/fresh: the service's own slowdown
(its CPU per claim) apart from the chain's (Anvil's CPU per claim and its time per block), as
issue 9 asks (no slowdown beyond 1.2x from 0 to 10,000 badges).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from eth_account import Account
from eth_utils import keccak
from web3 import Web3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.chain.deployments import Deployments
from backend.chain.rpc import Rpc
from backend.client import CommunityClient
from bench.api import (
    MORE,
    WORKERS,
    addr,
    admit,
    burst,
    cpu_seconds,
    interval_mining,
    pct,
    raw_profile,
    raw_sql,
    setup_community,
    timed_reads,
    wait_mined,
    wait_settled,
    wait_true_latencies,
    wrk_reads,
)
from devstack.stack import UNTHROTTLED, Stack, local_stack, rpc, wait_until

HOLDER = WORKERS[0]  # holds half the grown badges: their profile is read over HTTP at that size
CHUNK = 200  # transactions a sender has waiting at once: one sender's long queue stalls Anvil (bench/api.py)


class DirectSender:
    """Members' own transactions (they pay their gas): the growth and the per-block measure."""

    def __init__(self, stack: Stack) -> None:
        self.rpc = Rpc(stack.anvil.url, timeout=120)
        deployments = Deployments.load(stack.deployments)
        self.chain_id = deployments.chain_id
        self.badge_address = next(iter(deployments.communities.values())).contracts["badge"]
        self.badge = deployments.abis["badge"]
        w3 = Web3(Web3.HTTPProvider(stack.anvil.url))
        self.nonces = {key: w3.eth.get_transaction_count(addr(key)) for key in WORKERS}
        self.fee = 2 * w3.eth.gas_price + 10**9

    def signed(self, key: str, data: bytes) -> str:
        tx = Account.from_key(key).sign_transaction(
            {
                "type": 2,
                "chainId": self.chain_id,
                "nonce": self.nonces[key],
                "to": self.badge_address,
                "value": 0,
                "data": data,
                "gas": 400_000,
                "maxFeePerGas": self.fee,
                "maxPriorityFeePerGas": 10**9,
            }
        )
        self.nonces[key] += 1
        return "0x" + tx.raw_transaction.hex().removeprefix("0x")

    def claim(self, key: str, indicator: int, uri: str) -> str:
        return self.signed(key, self.badge.function("claim").encode(indicator, keccak(text=uri), uri))

    def attest(self, key: str, claim_id: int) -> str:
        return self.signed(key, self.badge.function("attest").encode(claim_id))

    def send(self, raw: list[str]) -> list[str]:
        """Into the node's pool in JSON-RPC batches; the transaction hashes (a refusal raises)."""
        return [
            tx_hash
            for i in range(0, len(raw), 500)
            for tx_hash in self.rpc.batch([("eth_sendRawTransaction", [tx]) for tx in raw[i : i + 500]])
        ]


def grow(stack: Stack, indicator: int, badges: int) -> None:
    """`badges` badges: half claimed by HOLDER, the rest by the six other members in turn.
    HOLDER's are attested by the six in turn, the others' each by the next of the six: no two
    members endorse each other (HOLDER attests nobody; the six form a ring). At most CHUNK claims
    a sender wait in the node at once. The node orders a block's transactions from several
    senders as it likes, so each claim's id and claimant are read back from the index before it
    is attested."""
    sender = DirectSender(stack)
    api = CommunityClient(stack.server.url)
    others = [key for key in WORKERS if key != HOLDER]
    ring = {addr(key): others[(i + 1) % len(others)] for i, key in enumerate(others)}
    left = Counter({HOLDER: badges // 2}) + Counter(others[i % len(others)] for i in range(badges - badges // 2))
    minted, after, turn = 0, 0, itertools.count()
    while left:
        taken = [key for key, count in left.items() for _ in range(min(CHUNK, count))]
        left = left - Counter(taken)
        wait_mined(
            stack.anvil.url,
            sender.send(
                [sender.claim(key, indicator, f"https://example.org/grown/{minted + i}") for i, key in enumerate(taken)]
            ),
        )
        claims: list[dict] = []
        while len(claims) < len(taken):
            page = api.get("/claims", state="open", limit=500, after=after)
            claims += page["items"]
            if page["items"]:
                after = page["items"][-1]["id"]  # claims are listed by id
            else:
                time.sleep(0.2)  # the index is still catching up
        attesters = [ring.get(c["contributor"]) or others[next(turn) % len(others)] for c in claims]
        wait_mined(stack.anvil.url, sender.send([sender.attest(key, c["id"]) for key, c in zip(attesters, claims)]))
        minted += len(taken)
        print(f"  {minted:,} of {badges:,} badges minted", flush=True)


def block_time(stack: Stack, indicator: int, label: str, count: int = 210) -> float:
    """ms Anvil takes to build one block of `count` direct claims, mining paused while they wait."""
    sender = DirectSender(stack)
    raw = [
        sender.claim(WORKERS[i % len(WORKERS)], indicator, f"https://example.org/block/{label}/{i}")
        for i in range(count)
    ]
    rpc(stack.anvil.url, "evm_setIntervalMining", 0)
    try:
        hashes = sender.send(raw)
        t0 = time.perf_counter()
        rpc(stack.anvil.url, "evm_mine")
        elapsed = (time.perf_counter() - t0) * 1000
    finally:
        rpc(stack.anvil.url, "evm_setIntervalMining", 1)
    wait_mined(stack.anvil.url, hashes)  # all in that one block (the gas limit is raised)
    return elapsed


def measure(stack: Stack, indicator: int, claims: int, label: str) -> dict[str, float]:
    server, anvil = stack.server, stack.anvil
    api = CommunityClient(server.url)
    jobs = [
        (
            WORKERS[i % len(WORKERS)],
            "claims",
            {"indicator_id": indicator, "evidence_uri": f"https://example.org/{label}/{i}"},
        )
        for i in range(claims)
    ]
    pids = (server.process.pid, anvil.process.pid)
    before = [cpu_seconds(pid) for pid in pids]
    took, requests = burst(server.url, jobs)
    wait_until(lambda: api.get("/relayer")["in_flight"] == 0, timeout=300, what="the outbox drained")
    service_cpu, anvil_cpu = ((cpu_seconds(pid) - b) * 1000 / claims for pid, b in zip(pids, before))
    wait_settled(server.url, requests)
    waited = wait_true_latencies(server.url, indicator, 5)
    waited32 = wait_true_latencies(server.url, indicator, 3, WORKERS + MORE)
    return {
        "accepted": claims / took,
        "service_cpu": service_cpu,
        "anvil_cpu": anvil_cpu,
        "wait_p50": statistics.median(waited),
        "wait32_p50": statistics.median(waited32),
        "block_ms": block_time(stack, indicator, label),
    }


ROWS = (
    ("accepted", "claims accepted, 7 members, wait=false", "/s"),
    ("wait_p50", "claim with wait=true, 7 at once, p50", "ms"),
    ("wait32_p50", "claim with wait=true, 32 at once, p50", "ms"),
    ("service_cpu", "the service's CPU per claim", "ms"),
    ("anvil_cpu", "Anvil's CPU per claim", "ms"),
    ("block_ms", "Anvil builds a block of 210 claims", "ms"),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--badges", type=int, default=10_000)
    parser.add_argument("--relayed", type=int, default=2_000)
    parser.add_argument("--claims", type=int, default=210)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-growth-"))
    print("Two stacks (Anvil, ape run deploy, the API), side by side ...", flush=True)
    for name in ("fresh", "grown"):
        (work / name).mkdir()
    with ExitStack() as stacks:
        fresh, grown = (
            stacks.enter_context(local_stack(work / name, before_serving=interval_mining, settings=UNTHROTTLED))
            for name in ("fresh", "grown")
        )
        indicators = {}
        for name, stack in (("fresh", fresh), ("grown", grown)):
            indicators[name] = setup_community(CommunityClient(stack.server.url), stack.anvil)
            admit(CommunityClient(stack.server.url), stack.anvil, MORE)  # 25 more members: claims at c=32
        print(f"Growing the second chain to {args.badges:,} badges (direct transactions, not measured) ...", flush=True)
        grow(grown, indicators["grown"], args.badges)
        print(
            f"... and {args.relayed:,} claims through the API (the outbox's and the budgets' history) ...", flush=True
        )
        jobs = [
            (
                WORKERS[i % len(WORKERS)],
                "claims",
                {"indicator_id": indicators["grown"], "evidence_uri": f"https://example.org/relayed/{i}"},
            )
            for i in range(args.relayed)
        ]
        wait_settled(grown.server.url, burst(grown.server.url, jobs)[1])
        api = CommunityClient(grown.server.url)
        wait_until(
            lambda: api.get("/claims", state="minted", limit=1)["total"] >= args.badges,
            timeout=300,
            what="the grown chain indexed",
        )
        results: dict[str, list[dict[str, float]]] = {"fresh": [], "grown": []}
        order = [
            name for r in range(args.rounds) for name in (("fresh", "grown") if r % 2 == 0 else ("grown", "fresh"))
        ]
        for i, name in enumerate(order):
            print(f"Round {i // 2 + 1}: {name} chain ...", flush=True)
            stack = fresh if name == "fresh" else grown
            results[name].append(measure(stack, indicators[name], args.claims, f"{name}-{i}"))
        held = args.badges // 2
        print(f"Reading the profile of the member holding {held:,} of them ...", flush=True)
        holder_path, slug = (
            f"/members/{addr(HOLDER)}/profile",
            next(iter(Deployments.load(grown.deployments).communities)),
        )
        holder = wrk_reads(grown.server.url, holder_path, 1, 5, work)
        if holder is None:  # no wrk: the Python client's latencies, its own time included
            latencies = timed_reads(grown.server.url, holder_path, 200, 1)
            holder = (statistics.median(latencies), pct(latencies, 0.99), len(latencies))
        raw = raw_sql(work / "grown" / "index.sqlite3", 200, lambda c: raw_profile(c, slug, addr(HOLDER)))

    print(f"\n== writes on a fresh chain and on one holding {args.badges:,} badges (medians of {args.rounds} turns) ==")
    print(f"{'':44} {'fresh':>9} {'grown':>9} {'grown/fresh':>12}")
    for key, label, unit in ROWS:
        small, large = (statistics.median(r[key] for r in results[name]) for name in ("fresh", "grown"))
        print(f"{label + ' (' + unit + ')':44} {small:9.1f} {large:9.1f} {large / small:12.2f}")
    print("The service's slowdown is its CPU per claim; the chain's is Anvil's CPU per claim and its block time.")
    print(
        f"\nprofile of a member holding {held:,} badges, over HTTP, c=1: p50 {holder[0]:.1f} ms, "
        f"p99 {holder[1]:.1f} ms ({holder[2]:,} GETs; target p50 30 ms); raw SQL of its numbers and first page: p50 "
        f"{statistics.median(raw):.2f} ms ({holder[0] / statistics.median(raw):.1f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
