"""End-to-end throughput and latency of the API, beside a bare web3.py loop, in one run.

Run: `python -m bench.api [--badges 1000] [--baseline 500]`. Starts its own Anvil, deploys
with `ape run deploy`, then switches it to 1 s interval mining (as `--block-time 1`: automine
slows as the chain grows, TOOLCHAIN.md) with a raised block gas limit, starts the API, and prints:
  - attestations/s through the API (prepare, sign, submit with wait=false; until indexed),
  - the index lag after the burst (last attestation mined -> visible in the index),
  - p50/p99 of claims with wait=true, 7 members at once, then 32 (25 more admitted by proposal),
  - claims/s accepted with wait=false from those 32 members at once, through one API process and
    then through two over the same database (one of them relays and indexes),
  - p50/p99 of GET /members/{address}/profile for a member holding all the badges, at c=1 and
    c=16, beside raw SQL computing the same numbers on the same SQLite file,
  - p50 of GET /claims?limit=50, beside raw SQL for the same page, and of GET /communities (no
    database: the floor of any read over HTTP here); the same reads again from wrk, a C client
    whose own queueing does not count in the latencies (when Debian's wrk is installed),
  - a backfill: the whole chain indexed into an empty database, beside fetching its logs alone
    and inserting the same events with raw SQL,
  - the same attestations relayed by a bare loop (eth-account signing, web3.py raw sends),
    and the same profile computed from the chain with eth_call instead of the index,
  - the CPU time a write costs the service, Anvil and the load generator (the 32 members' claims),
    beside what a bare loop's attestation costs Anvil and the loop: on a machine of few cores,
    where all three share them, the most writes a second the machine can take.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from eth_account import Account
from eth_utils import keccak
from web3 import Web3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.chain.abi import ContractAbi
from backend.chain.deployments import Deployments
from backend.chain.typed_data import forward_request_struct, forward_request_typed_data
from backend.client import CommunityClient
from backend.context import Context
from backend.indexer.models import EventRecord
from backend.settings import ANVIL_DEV_KEYS, Settings
from devstack.stack import UNTHROTTLED, Anvil, Server, local_stack, rpc, wait_until

KEYS = list(ANVIL_DEV_KEYS[1:9])  # members 1..8: founders 1-3, 4-8 admitted by the bench's proposal
ALICE = KEYS[0]
WORKERS = KEYS[1:]  # everyone but Alice nominates and attests; Alice accepts, and receives every badge


def bench_members(count: int) -> list[str]:
    """Keys of members beyond the 8, derived from fixed text: they hold no ether and never need
    any (the relayer pays)."""
    return ["0x" + keccak(text=f"bench member {i}").hex() for i in range(count)]


# 25 more members for claims with wait=true at 32 at once (issue 9: c=32), one client each.
MORE = bench_members(25)


def addr(key: str) -> str:
    return Account.from_key(key).address


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def setup_community(api: CommunityClient, anvil: Anvil) -> int:
    actions = [
        {
            "type": "add_indicator",
            "name": "Reviewed a patch",
            "category": "review",
            "orientation": "object",
            "weight": 2,
            "endorsements_required": 1,
        }
    ]
    actions += [{"type": "admit_member", "account": addr(k)} for k in KEYS[3:]]
    proposal = api.act("proposals", ALICE, description="bench setup", actions=actions)["created"]["proposal_id"]
    anvil.skip(2)
    for key in KEYS[:2]:
        api.act("votes", key, proposal_id=proposal, support="for")
    anvil.skip(301)
    api.execute(proposal)
    return 1


def burst(api_url: str | list[str], jobs: list[tuple[str, str, dict]]) -> tuple[float, list[int]]:
    """Run (signer key, action, fields) jobs, one thread per signer, submitting with wait=false;
    the time taken and the accepted requests' ids. With several API addresses (processes over
    one database), the signers are spread over them."""
    urls = [api_url] if isinstance(api_url, str) else api_url
    by_key: dict[str, list] = {}
    for key, action, fields in jobs:
        by_key.setdefault(key, []).append((action, fields))
    request_ids: list[int] = []
    lock = threading.Lock()

    url_of = {key: urls[i % len(urls)] for i, key in enumerate(by_key)}

    def run(key: str) -> None:
        client = CommunityClient(url_of[key])
        for action, fields in by_key[key]:
            result = client.act(action, key, wait=False, **fields)
            with lock:
                request_ids.append(result["request_id"])

    start = time.perf_counter()
    with ThreadPoolExecutor(len(by_key)) as pool:
        list(pool.map(run, by_key))
    return time.perf_counter() - start, request_ids


def wait_settled(api_url: str, request_ids: list[int]) -> int:
    """Waits until the relayer's outbox has nothing in flight, checks every request succeeded;
    returns the highest block they were mined in."""
    api = CommunityClient(api_url, timeout=60)
    wait_until(lambda: api.get("/relayer")["in_flight"] == 0, timeout=300, what="the outbox drained")
    settled = [api.get(f"/requests/{i}") for i in request_ids]
    failed = [s for s in settled if s["state"] != "succeeded"]
    assert not failed, failed[:3]
    return max(s["block_number"] for s in settled)


def wait_mined(url: str, hashes: list[str]) -> int:
    """Waits for every receipt (polled in JSON-RPC batches on one connection); returns the highest block."""
    last, pending = 0, list(hashes)
    with httpx.Client(timeout=60) as client:
        while pending:
            batch = [
                {"jsonrpc": "2.0", "id": i, "method": "eth_getTransactionReceipt", "params": [h]}
                for i, h in enumerate(pending)
            ]
            answers = sorted(client.post(url, json=batch).json(), key=lambda answer: answer["id"])
            still = []
            for tx_hash, answer in zip(pending, answers):
                receipt = answer.get("result")
                if receipt is None:
                    still.append(tx_hash)
                    continue
                assert receipt["status"] == "0x1", receipt
                last = max(last, int(receipt["blockNumber"], 16))
            pending = still
            if pending:
                time.sleep(0.05)
    return last


def baseline_attestations(anvil: Anvil, deployments: Deployments, claim_ids: list[int]) -> float:
    """The same relayed attestations, from a bare loop: eth-account signs, web3.py sends raw."""
    w3 = Web3(Web3.HTTPProvider(anvil.url))
    community = next(iter(deployments.communities.values()))
    forwarder_abi: ContractAbi = deployments.abis["forwarder"]
    badge_abi: ContractAbi = deployments.abis["badge"]
    relayer = Account.from_key(ANVIL_DEV_KEYS[9])
    nonce = w3.eth.get_transaction_count(relayer.address)
    member_nonces = {
        k: w3.eth.call(
            {"to": community.contracts["forwarder"], "data": forwarder_abi.function("nonces").encode(addr(k))}
        )
        for k in WORKERS
    }
    member_nonces = {k: int.from_bytes(v, "big") for k, v in member_nonces.items()}
    gas_price = w3.eth.gas_price
    deadline = int(time.time()) + 3600
    start = time.perf_counter()
    hashes = []
    for i, claim_id in enumerate(claim_ids):
        key = WORKERS[(i + 1) % len(WORKERS)]
        typed = forward_request_typed_data(
            chain_id=deployments.chain_id,
            forwarder=community.contracts["forwarder"],
            sender=addr(key),
            target=community.contracts["badge"],
            data=badge_abi.function("attest").encode(claim_id),
            nonce=member_nonces[key],
            deadline=deadline,
            gas=300_000,
        )
        member_nonces[key] += 1
        signature = Account.sign_typed_data(key, full_message=typed).signature
        data = forwarder_abi.function("execute").encode(forward_request_struct(typed, signature))
        tx = relayer.sign_transaction(
            {
                "type": 2,
                "chainId": deployments.chain_id,
                "nonce": nonce,
                "to": community.contracts["forwarder"],
                "data": data,
                "value": 0,
                "gas": 450_000,
                "maxFeePerGas": 2 * gas_price + 10**9,
                "maxPriorityFeePerGas": 10**9,
            }
        )
        nonce += 1
        hashes.append(w3.eth.send_raw_transaction(tx.raw_transaction).hex())
    wait_mined(anvil.url, ["0x" + h.removeprefix("0x") for h in hashes])
    return len(claim_ids) / (time.perf_counter() - start)


def accept_nominations(anvil: Anvil, deployments: Deployments, key: str, claim_ids: list[int]) -> None:
    """Setup, not measured: the nominee accepts every nomination in her own transactions (a
    nomination mints only once accepted), 200 at a time so one sender's queue never stalls Anvil."""
    w3 = Web3(Web3.HTTPProvider(anvil.url))
    community = next(iter(deployments.communities.values()))
    badge_abi: ContractAbi = deployments.abis["badge"]
    nominee = Account.from_key(key)
    nonce = w3.eth.get_transaction_count(nominee.address)
    gas_price = w3.eth.gas_price
    for i in range(0, len(claim_ids), 200):
        hashes = []
        for claim_id in claim_ids[i : i + 200]:
            tx = nominee.sign_transaction(
                {
                    "type": 2,
                    "chainId": deployments.chain_id,
                    "nonce": nonce,
                    "to": community.contracts["badge"],
                    "value": 0,
                    "gas": 100_000,
                    "data": badge_abi.function("acceptNomination").encode(claim_id),
                    "maxFeePerGas": 2 * gas_price + 10**9,
                    "maxPriorityFeePerGas": 10**9,
                }
            )
            nonce += 1
            hashes.append(w3.eth.send_raw_transaction(tx.raw_transaction).hex())
        wait_mined(anvil.url, ["0x" + h.removeprefix("0x") for h in hashes])


def baseline_profile(anvil: Anvil, deployments: Deployments, token_ids: list[int]) -> float:
    """A profile from the chain alone: one getBadge + isActive eth_call per token, batched by 100."""
    community = next(iter(deployments.communities.values()))
    badge = deployments.abis["badge"]
    start = time.perf_counter()
    for i in range(0, len(token_ids), 100):
        batch = []
        for j, token in enumerate(token_ids[i : i + 100]):
            for fn in ("getBadge", "isActive"):
                batch.append(
                    {
                        "jsonrpc": "2.0",
                        "id": 2 * j + (fn == "isActive"),
                        "method": "eth_call",
                        "params": [
                            {"to": community.contracts["badge"], "data": "0x" + badge.function(fn).encode(token).hex()},
                            "latest",
                        ],
                    }
                )
        httpx.post(anvil.url, json=batch, timeout=60).raise_for_status()
    return time.perf_counter() - start


def timed_reads(url: str, path: str, n: int, concurrency: int) -> list[float]:
    """Latencies (ms) of n GETs of `path`, from `concurrency` clients at once."""
    latencies: list[float] = []
    lock = threading.Lock()

    def run(count: int) -> None:
        with httpx.Client(base_url=url) as http:
            for _ in range(count):
                t0 = time.perf_counter()
                http.get(path).raise_for_status()
                with lock:
                    latencies.append((time.perf_counter() - t0) * 1000)

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(run, [n // concurrency] * concurrency))
    return latencies


# wrk (a C load generator, Debian's package) prints the percentiles it measured, in microseconds,
# and how many answers were not 2xx/3xx.
WRK_REPORT = """done = function(summary, latency, requests)
  io.write(string.format("wrk %d %d %d %d\\n", latency:percentile(50), latency:percentile(99),
                         summary.requests, summary.errors.status + summary.errors.connect + summary.errors.timeout))
end
"""


def wrk_reads(url: str, path: str, connections: int, seconds: int, work: Path) -> tuple[float, float, int] | None:
    """p50 and p99 (ms) and how many GETs of `path` wrk made over `connections` kept-alive
    connections for `seconds`; None without wrk. Sixteen Python client threads share one
    interpreter lock and the two cores with the service: their latencies count the client's own
    queueing, where wrk's count the service's."""
    if not shutil.which("wrk"):
        return None
    script = work / "wrk-report.lua"
    script.write_text(WRK_REPORT)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script), url + path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    p50, p99, count, errors = (int(v) for v in out.rsplit("wrk ", 1)[1].split())
    assert errors == 0, f"wrk: {errors} of {count} GETs of {path} failed"
    return p50 / 1000, p99 / 1000, count


# The profile's numbers and first page, and /claims' first page with attesters and terms, in
# plain SQL on the same file: the floor the API's reads are measured against.
RAW_PROFILE = (
    """SELECT indicator_id, category, orientation, count(*), sum(weight) FROM badges
                  WHERE community = ? AND owner = ? AND revoked_at IS NULL AND disowned_at IS NULL
                  AND (validity = 0 OR minted_at + validity > ?)
                  GROUP BY indicator_id, category, orientation""",
    "SELECT count(*) FROM badges WHERE community = ? AND owner = ?",
    """SELECT b.token_id, b.indicator_id, v.name, b.category, b.orientation, b.weight, b.minted_at
                  FROM badges b LEFT JOIN indicator_versions v ON v.community = b.community
                  AND v.indicator_id = b.indicator_id AND v.version = b.indicator_version
                  WHERE b.community = ? AND b.owner = ? ORDER BY b.token_id LIMIT 50""",
)
RAW_CLAIMS = (
    """SELECT c.*, v.name, v.endorsements_required FROM claims c LEFT JOIN indicator_versions v
                 ON v.community = c.community AND v.indicator_id = c.indicator_id AND v.version = c.indicator_version
                 WHERE c.community = ? ORDER BY c.claim_id LIMIT 50""",
    "SELECT count(*) FROM claims WHERE community = ?",
    "SELECT claim_id, attester FROM attestations WHERE community = ? AND claim_id IN ({}) ORDER BY claim_id",
)


def raw_sql(db: Path, n: int, run) -> list[float]:
    latencies = []
    connection = sqlite3.connect(db)
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            run(connection)
            latencies.append((time.perf_counter() - t0) * 1000)
    finally:
        connection.close()
    return latencies


def raw_profile(connection: sqlite3.Connection, community: str, owner: str) -> None:
    now = int(time.time())
    connection.execute(RAW_PROFILE[0], (community, owner, now)).fetchall()
    connection.execute(RAW_PROFILE[1], (community, owner)).fetchall()
    connection.execute(RAW_PROFILE[2], (community, owner)).fetchall()


def raw_claims(connection: sqlite3.Connection, community: str) -> None:
    rows = connection.execute(RAW_CLAIMS[0], (community,)).fetchall()
    connection.execute(RAW_CLAIMS[1], (community,)).fetchall()
    ids = [row[1] for row in rows]
    connection.execute(RAW_CLAIMS[2].format(",".join("?" * len(ids))), (community, *ids)).fetchall()


def backfill(anvil: Anvil, deployments_file: Path, work: Path) -> tuple[float, int, float, float]:
    """The whole chain indexed into an empty SQLite file: (seconds, events, seconds to fetch the
    logs and headers alone, seconds to insert the same events with raw SQL)."""
    settings = Settings(
        rpc_url=anvil.url, deployments_file=deployments_file, database_url=f"sqlite:///{work / 'backfill.sqlite3'}"
    )
    context = Context.build(settings)
    community = next(iter(context.deployments.communities.values()))
    t0 = time.perf_counter()
    if os.environ.get("BENCH_PROFILE"):  # where a backfill spends its time: the top of cProfile
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(context.indexer.sync)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    else:
        context.indexer.sync()
    indexing = time.perf_counter() - t0
    with context.sessions() as session:
        rows = [
            (e.community, e.block_number, e.log_index, e.tx_hash, e.timestamp, e.contract, e.name, json.dumps(e.args))
            for e in session.execute(EventRecord.__table__.select())
        ]
    head = int(rpc(anvil.url, "eth_blockNumber"), 16)
    t0 = time.perf_counter()
    logs = context.gateway.get_logs(list(community.contracts.values()), community.deployment_block, head)
    context.gateway.block_headers(sorted({int(entry["blockNumber"], 16) for entry in logs}))
    fetching = time.perf_counter() - t0
    connection = sqlite3.connect(work / "raw.sqlite3")
    connection.execute(
        "CREATE TABLE events (community TEXT, block_number INT, log_index INT, tx_hash TEXT, "
        "timestamp INT, contract TEXT, name TEXT, args TEXT, PRIMARY KEY (community, block_number, "
        "log_index))"
    )
    t0 = time.perf_counter()
    with connection:
        connection.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    raw = time.perf_counter() - t0
    connection.close()
    return indexing, len(rows), fetching, raw


def admit(api: CommunityClient, anvil: Anvil, keys: list[str]) -> None:
    """These keys admitted as members by proposals of at most 20 actions each, which every member
    votes for (the quorum is half the members), the votes sent together."""
    voters, url = list(KEYS), str(api.http.base_url).rstrip("/")
    for start in range(0, len(keys), 20):
        batch = keys[start : start + 20]
        actions = [{"type": "admit_member", "account": addr(k)} for k in batch]
        proposal = api.act("proposals", ALICE, description=f"admit {len(batch)} more", actions=actions)["created"][
            "proposal_id"
        ]
        anvil.skip(2)
        _, ids = burst(url, [(key, "votes", {"proposal_id": proposal, "support": "for"}) for key in voters])
        wait_settled(url, ids)
        anvil.skip(301)
        api.execute(proposal)
        voters += batch


def wait_true_latencies(url: str, indicator: int, per_member: int, keys: list[str] = WORKERS) -> list[float]:
    """Latencies (ms) of claims with wait=true (prepare, sign, submit, mined, indexed), these
    members at once (each its own client), one after another each."""
    latencies: list[float] = []
    lock = threading.Lock()

    def run(key: str) -> None:
        client = CommunityClient(url, timeout=60)
        for i in range(per_member):
            t0 = time.perf_counter()
            client.act("claims", key, indicator_id=indicator, evidence_uri=f"https://example.org/waited/{key[-6:]}/{i}")
            with lock:
                latencies.append((time.perf_counter() - t0) * 1000)

    with ThreadPoolExecutor(len(keys)) as pool:
        list(pool.map(run, keys))
    return latencies


def context_switches(pid: int) -> int:
    """Times the threads of a process were switched off their core so far, waiting (voluntary:
    for a socket, a lock, another thread) or preempted (Linux /proc). Each is a wake-up paid for
    in CPU beyond the work itself: a threaded service pays several a request."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            lines = (task / "status").read_text().splitlines()
        except OSError:  # ended meanwhile
            continue
        total += sum(int(line.split()[1]) for line in lines if line.startswith(("voluntary_", "nonvoluntary_")))
    return total


def cpu_seconds(*pids: int) -> float:
    """User and system CPU time used so far by these processes (Linux /proc), and by this one
    when a pid is 0: where a write's work is done (service, node, load generator)."""
    total = 0.0
    for pid in pids:
        if pid == 0:
            times = os.times()
            total += times.user + times.system
            continue
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def interval_mining(anvil: Anvil) -> None:
    """Deployed under automine; from here on a block a second (as --block-time 1), which holds
    its speed as the chain grows. The block gas limit is raised because each relayed request
    carries gas headroom (an attestation may be the one that mints), which counts against it."""
    rpc(anvil.url, "evm_setBlockGasLimit", hex(1_000_000_000))
    rpc(anvil.url, "evm_setIntervalMining", 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--badges", type=int, default=1000)
    parser.add_argument("--baseline", type=int, default=500)
    parser.add_argument("--reads", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-api-"))
    print("Starting Anvil, deploying (ape run deploy) and serving the API ...", flush=True)
    with local_stack(work, before_serving=interval_mining, settings=UNTHROTTLED) as stack:
        anvil, server = stack.anvil, stack.server
        deployments = Deployments.load(stack.deployments)
        api = CommunityClient(server.url)
        indicator = setup_community(api, anvil)
        n, alice = args.badges, addr(ALICE)
        total_claims = n + args.baseline
        print(
            f"Community ready; {len(WORKERS)} members nominate Alice {total_claims} times (wait=false) ...", flush=True
        )
        jobs = [
            (
                WORKERS[i % len(WORKERS)],
                "claims",
                {"indicator_id": indicator, "contributor": alice, "evidence_uri": f"https://example.org/review/{i}"},
            )
            for i in range(total_claims)
        ]
        claim_time, claim_requests = burst(server.url, jobs)
        wait_settled(server.url, claim_requests)
        wait_until(lambda: api.get("/claims", state="open")["total"] >= total_claims, timeout=120, what="claims")
        claim_ids = [c["id"] for c in api.get("/claims", state="open", limit=500)["items"]]
        offset = 500
        while len(claim_ids) < total_claims:
            claim_ids += [c["id"] for c in api.get("/claims", state="open", limit=500, offset=offset)["items"]]
            offset += 500
        api_ids, base_ids = claim_ids[:n], claim_ids[n:total_claims]
        print(f"Alice accepts the {total_claims} nominations (her own transactions, not measured) ...", flush=True)
        accept_nominations(anvil, deployments, ALICE, claim_ids[:total_claims])

        print(f"Attesting {n} claims through the API (each mints a badge) ...", flush=True)
        jobs = [(WORKERS[(i + 1) % len(WORKERS)], "attestations", {"claim_id": cid}) for i, cid in enumerate(api_ids)]
        start = time.perf_counter()
        submit_time, requests = burst(server.url, jobs)
        last_block = wait_settled(server.url, requests)
        mined_at = time.perf_counter()
        wait_until(lambda: api.get("/health")["indexed_block"] >= last_block, timeout=120, what="index")
        wait_until(lambda: api.get(f"/members/{alice}/profile")["badges_counting"] >= n, timeout=120, what="badges")
        indexed_at = time.perf_counter()
        api_rate = n / (indexed_at - start)

        print(f"Reading Alice's profile ({n} badges) {args.reads} times at c=1 and c=16, and /claims ...", flush=True)
        slug, db = next(iter(deployments.communities)), work / "index.sqlite3"
        profile_path = f"/members/{alice}/profile"
        latencies = timed_reads(server.url, profile_path, args.reads, 1)
        latencies16 = timed_reads(server.url, profile_path, args.reads * 4, 16)
        raw_profile_ms = raw_sql(db, args.reads, lambda c: raw_profile(c, slug, alice))
        claims_ms = timed_reads(server.url, "/claims?limit=50", args.reads, 1)
        floor_ms = timed_reads(server.url, "/communities", args.reads, 1)
        raw_claims_ms = raw_sql(db, args.reads, lambda c: raw_claims(c, slug))
        print("The same reads from wrk, 5 s each ...", flush=True)
        by_wrk = {
            (path, c): wrk_reads(server.url, path, c, 5, work)
            for path, c in ((profile_path, 1), (profile_path, 16), ("/claims?limit=50", 1), ("/communities", 1))
        }
        # At c=16 a read waits for the fifteen ahead of it (Little's law): its latency is sixteen
        # times what one costs the one process. `serve --workers 2` answers on both cores.
        profile16_two = None
        if shutil.which("wrk"):  # only wrk reads it
            readers = Server(server.env, work / "api-w2.log", "--workers", "2")
            readers.start()
            try:
                profile16_two = wrk_reads(readers.url, profile_path, 16, 5, work)
            finally:
                readers.stop()

        print(f"Claims with wait=true, {len(WORKERS)} members at once, 10 each ...", flush=True)
        waited = wait_true_latencies(server.url, indicator, 10)
        print(f"Claims with wait=true, {len(WORKERS) + len(MORE)} members at once, 5 each ...", flush=True)
        admit(api, anvil, MORE)
        waited32 = wait_true_latencies(server.url, indicator, 5, WORKERS + MORE)
        many = len(WORKERS + MORE)
        print(f"Claims with wait=false, {many} members at once, 10 each ...", flush=True)
        jobs32 = [
            (key, "claims", {"indicator_id": indicator, "evidence_uri": f"https://example.org/c32/{key[-6:]}/{i}"})
            for i in range(10)
            for key in WORKERS + MORE
        ]
        pids = (server.process.pid, anvil.process.pid, 0)
        before = [cpu_seconds(pid) for pid in pids]
        claim32_time, claim32_requests = burst(server.url, jobs32)
        wait_until(lambda: api.get("/relayer")["in_flight"] == 0, timeout=300, what="the outbox drained")
        write_cpu = [(cpu_seconds(pid) - b) * 1000 / len(jobs32) for pid, b in zip(pids, before)]
        wait_settled(server.url, claim32_requests)  # each request read back: not a write's cost
        print(f"The same from {many} members over two API processes (one database; one relays) ...", flush=True)
        second = Server(server.env, work / "api-2.log")
        second.start()
        try:
            jobs32 = [
                (key, action, {**fields, "evidence_uri": fields["evidence_uri"] + "/two"})
                for key, action, fields in jobs32
            ]
            two_time, two_requests = burst([server.url, second.url], jobs32)
            wait_settled(server.url, two_requests)
        finally:
            second.stop()

        print(f"Baseline: {len(base_ids)} attestations from a bare web3.py loop ...", flush=True)
        before = [cpu_seconds(pid) for pid in pids[1:]]
        base_rate = baseline_attestations(anvil, deployments, base_ids)
        base_cpu = [(cpu_seconds(pid) - b) * 1000 / len(base_ids) for pid, b in zip(pids[1:], before)]
        chain_profile = baseline_profile(anvil, deployments, api_ids) * 1000
        print("Backfill: the whole chain into an empty index ...", flush=True)
        indexing, events, fetching, raw_insert = backfill(anvil, stack.deployments, work)

        print("\n== API end to end (Anvil --block-time 1, SQLite index) ==")
        print(f"claims submitted, c={len(WORKERS)}:        {total_claims / claim_time:8.1f} /s accepted (wait=false)")
        print(f"claims submitted, c={many}:       {len(jobs32) / claim32_time:8.1f} /s accepted (wait=false)")
        print(f"claims submitted, c={many}, 2 API processes: {len(jobs32) / two_time:6.1f} /s accepted (wait=false)")
        print(f"attestations submitted:        {n / submit_time:8.1f} /s accepted (wait=false)")
        print(f"attestations end to end:       {api_rate:8.1f} /s (submit -> mined -> indexed, {n} badges)")
        print(f"index lag after the burst:     {(indexed_at - mined_at) * 1000:8.0f} ms (last receipt -> indexed)")
        print(
            f"claim with wait=true, c={len(WORKERS)}:    p50 {statistics.median(waited):6.0f} ms   "
            f"p99 {pct(waited, 0.99):6.0f} ms (a block every 1,000 ms)"
        )
        print(
            f"claim with wait=true, c={len(WORKERS) + len(MORE)}:   p50 {statistics.median(waited32):6.0f} ms   "
            f"p99 {pct(waited32, 0.99):6.0f} ms (target p50: one block + 100 ms)"
        )
        print(
            f"profile read, {n} badges, c=1:  p50 {statistics.median(latencies):6.1f} ms   "
            f"p99 {pct(latencies, 0.99):6.1f} ms"
        )
        print(
            f"profile read, {n} badges, c=16: p50 {statistics.median(latencies16):6.1f} ms   "
            f"p99 {pct(latencies16, 0.99):6.1f} ms"
        )
        print(f"/claims?limit=50, c=1:          p50 {statistics.median(claims_ms):6.1f} ms")
        print(
            f"GET /communities, c=1:          p50 {statistics.median(floor_ms):6.1f} ms (no database: "
            "HTTP, FastAPI and the client alone)"
        )
        if None in by_wrk.values():
            print("(wrk is not installed: `apt-get install wrk` adds the same reads from a C client)")
        for (path, c), result in [*by_wrk.items(), ((profile_path + " (serve --workers 2)", 16), profile16_two)]:
            if result:
                print(
                    f"  from wrk, {path.split('?')[0].rsplit('/', 1)[-1]:9} c={c:<2}     p50 {result[0]:6.1f} ms   "
                    f"p99 {result[1]:6.1f} ms ({result[2]:,} GETs)"
                )
        print(
            f"backfill, {events} events:      {indexing:6.2f} s ({events / indexing:,.0f} events/s; fetching the "
            f"logs and headers alone {fetching:.2f} s)"
        )
        print("== raw SQL on the same SQLite file ==")
        print(
            f"profile numbers + first page:   p50 {statistics.median(raw_profile_ms):6.2f} ms   "
            f"p99 {pct(raw_profile_ms, 0.99):6.2f} ms"
        )
        print(f"/claims page, terms, attesters: p50 {statistics.median(raw_claims_ms):6.2f} ms")
        print(f"insert the {events} events:      {raw_insert:6.3f} s")
        print("== bare web3.py loop on the same chain ==")
        print(f"attestations (sign + raw send): {base_rate:8.1f} /s ({len(base_ids)} badges)")
        print(f"profile from eth_call (batched): {chain_profile:7.0f} ms per read")
        print("== CPU per write (ms; both cores shared by all three) ==")
        cores = os.cpu_count() or 1
        print(
            f"API claim, c={many}, until mined: service {write_cpu[0]:5.1f}, Anvil {write_cpu[1]:5.1f}, "
            f"load generator {write_cpu[2]:5.1f}; {sum(write_cpu):5.1f} in all"
        )
        print(
            f"bare loop attestation:           Anvil {base_cpu[0]:5.1f}, loop {base_cpu[1]:5.1f}; "
            f"{sum(base_cpu):5.1f} in all ({cores} cores: at most {cores * 1000 / sum(base_cpu):,.0f} /s); "
            f"API writes at the bare loop's rate would need {cores * 1000 / base_rate:5.1f} ms in all"
        )
        print("== ratios ==")
        print(f"API / bare loop attestations:  {api_rate / base_rate:8.2f}")
        print(
            f"API c={many} accepted / bare loop: {len(jobs32) / claim32_time / base_rate:7.2f} (two processes: "
            f"{len(jobs32) / two_time / base_rate:.2f})"
        )
        print(f"eth_call profile / indexed p50: {chain_profile / statistics.median(latencies):7.1f}x slower")
        print(
            f"profile p50 / raw SQL p50:      {statistics.median(latencies) / statistics.median(raw_profile_ms):7.1f}"
        )
        print(f"/claims p50 / raw SQL p50:      {statistics.median(claims_ms) / statistics.median(raw_claims_ms):7.1f}")
        if by_wrk[("/claims?limit=50", 1)]:
            print(
                f"/claims p50 from wrk / raw SQL p50: "
                f"{by_wrk[('/claims?limit=50', 1)][0] / statistics.median(raw_claims_ms):.1f}"
            )
        print(
            f"GET /communities p50 / raw SQL of /claims p50: "
            f"{statistics.median(floor_ms) / statistics.median(raw_claims_ms):.1f} (the floor of any read over HTTP)"
        )
        print(f"backfill / (fetch + raw insert): {indexing / (fetching + raw_insert):6.1f}")
        return 0


if __name__ == "__main__":
    sys.exit(main())
