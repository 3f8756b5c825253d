"""What one write costs: the service's CPU, the node's CPU and the JSON-RPC calls, per stage.

Run: `python -m bench.writes [--writes 2000] [--baseline 2000] [--rate N] [--members M] [--json out.json]
[--service-tree DIR] [--postgres SERVER_URL]`
(DIR: another copy of the code, say a `git archive` of a commit, served instead of this checkout's,
to compare two versions on the same chain and load). Starts its own Anvil (a block a second, a
raised block gas limit), deploys, admits the 8 members of bench/api.py (with `--members M`, M
members: proposals admit the others), and puts a JSON-RPC counting proxy (bench/rpc_counter.py)
between the node and whoever is measured. Then, on the same chain:

- **API path.** The service (`serve`; SQLite, or with `--postgres` a database of its own on a
  PostgreSQL server, whose processes' CPU is then printed beside the service's; there 200 claims
  go first, untimed, and the database is analyzed, as autovacuum does on a running service), sampled by
  py-spy (`make bench` installs it). Each member's claims are signed before the timed part (one
  prepare per member for the gas and the deadline; the nonces follow on), so the timed part is one
  client a member POSTing ready bodies with wait=false. It ends once the outbox is drained and the
  index has every block: the service's CPU (from /proc), Anvil's, the calls by method, and the
  profile grouped into stages.
- **Bare loop.** The service stopped, the same members sign the same claims beforehand; one key
  sends each as `forwarder.execute` (also signed beforehand), then reads the receipts once. Anvil's
  CPU and the calls by method, through the same proxy.
- **Floor** (bench/floor.py). Before the bare loop sends them, its claims POSTed by the same
  clients at the same rate to a bare ASGI app under the same server, which checks each signature,
  runs the forwarded call once on the node and stores it: the least a Python door can spend on a
  write. The service's CPU beside it is what its guarantees, relaying and index cost.

- **Throughput** (`--throughput N`, 1,000 claims by default; 0 leaves it out). Claims accepted a
  second at c=8 and c=32 (one client a member, wait=false), through one process and at c=32 two,
  beside the relaying floor (bench/floor.py with `--relay`: the floor's checks, and what it
  accepts sent in the forwarder's executeBatch, until mined) and the bare loop at each
  concurrency (one sender a member, until mined). Each run's cost
  too: the cores its processes kept busy while timed, and the CPU a write of the service, the
  node and the load generator (or the loop) until every write was relayed and indexed, so the most
  each could reach on this machine's cores at its CPU a write, and what a write could cost in all
  at the bare loop's rate (the bare loop's receipts are read after its timed part: left out of both).

- **Idle** (`--idle SECONDS`, 10 by default; 0 leaves it out). Before the timed part, with
  nothing written for 20 s: the service's CPU a second, Anvil's beside it (mining its empty blocks), and the
  calls the service makes to the node a second (and a day), with the index polled as the rest of
  the run polls it (`CC_INDEX_POLL_SECONDS` 0.2 here; 0.5 by default).

Both sides' CPU is read from /proc. On a machine whose cores other work shares, these per-write
CPU figures hold up far better than rates (which are printed but not to be trusted there).

The profile: py-spy samples (out of process, without pausing the service) the stack of the
thread holding the interpreter lock, which leaves out threads waiting for it; each thread's
samples are then scaled to the CPU that thread used in the window (/proc/PID/task), so that its
time outside the lock (SQLite, sockets, signatures in C) is spread over its stages as its samples
are, and every millisecond of the service's CPU lands in a stage.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from itertools import zip_longest
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from eth_account import Account
from eth_utils import keccak

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.chain.deployments import Deployments
from backend.chain.typed_data import forward_request_struct, forward_request_typed_data, typed_data_digest
from backend.client import CommunityClient
from backend.relay.outbox import RECHECK_BLOCKS
from backend.settings import ANVIL_DEV_KEYS
from bench.api import (
    KEYS,
    MORE,
    addr,
    admit,
    bench_members,
    context_switches,
    cpu_seconds,
    interval_mining,
    setup_community,
)
from bench.databases import BenchDatabase, postgres_cpu_seconds
from bench.floor import RELAYER
from devstack.stack import ROOT, UNTHROTTLED, Anvil, Server, deploy, free_port, rpc, service_env, wait_until

# py-spy beside this Python (make bench installs it there), else on PATH; None without it.
PY_SPY = next((str(p) for p in (Path(sys.executable).parent / "py-spy",) if p.exists()), shutil.which("py-spy"))
# The bare loop's sender: not the service's relayer (ANVIL_DEV_KEYS[0]) nor a member.
SENDER = ANVIL_DEV_KEYS[9]

# Stages of a write, by the innermost frame of a stack that names one (a frame is
# "file:function"; a marker matches a frame that starts with it), in the order printed.
# What no marker claims falls to its thread's stage.
MARKERS: list[tuple[str, str, str]] = [
    # (thread, marker, stage)
    ("request", "backend/chain/typed_data.py:", "signature: typed-data hashing and recovery"),
    ("request", "backend/relay/checks.py:_check_signature", "signature: typed-data hashing and recovery"),
    ("request", "backend/relay/checks.py:signature_key", "signature: typed-data hashing and recovery"),
    ("request", "backend/relay/simulation.py:", "simulation (head, nonce, eth_simulateV1)"),
    ("request", "backend/relay/book.py:held", "outbox reads (nonces held, the same request)"),
    ("request", "backend/relay/book.py:same_request", "outbox reads (nonces held, the same request)"),
    ("request", "backend/relay/budgets.py:", "budgets"),
    ("request", "backend/relay/book.py:accept", "outbox write (accept)"),
    ("request", "backend/relay/submit.py:relay", "outbox write (accept)"),
    ("request", "backend/relay/checks.py:_decoded", "validation: decoding and rules"),
    ("request", "backend/relay/rules.py:", "validation: decoding and rules"),
    ("request", "backend/relay/checks.py:check", "validation: decoding and rules"),
    ("relayer", "backend/chain/logs.py:", "worker: decoding logs"),
    ("relayer", "backend/relay/settling.py:", "worker: settling"),
    ("relayer", "backend/relay/signing.py:sign", "worker: signing"),
    ("relayer", "backend/relay/signing.py:broadcast", "worker: packing and sending"),
    ("relayer", "backend/relay/packing.py:", "worker: packing and sending"),
    ("relayer", "backend/relay/signing.py:calldata", "worker: packing and sending"),
    ("relayer", "backend/relay/fees.py:", "worker: fees"),
    ("indexer", "backend/chain/logs.py:", "indexer: decoding"),
    ("indexer", "backend/indexer/follower.py:_decode", "indexer: decoding"),
    ("indexer", "backend/indexer/projections.py:", "indexer: projection"),
]
THREAD_STAGES = {
    "request": "HTTP and validation (request thread: FastAPI, pydantic)",
    "event loop": "HTTP and validation (event loop: uvicorn)",
    "relayer": "worker: its loop (head, leader lock)",
    "indexer": "indexer: fetching, bookkeeping",
}
STAGE_ORDER = [
    "HTTP and validation (event loop: uvicorn)",
    "HTTP and validation (request thread: FastAPI, pydantic)",
    "validation: decoding and rules",
    "signature: typed-data hashing and recovery",
    "simulation (head, nonce, eth_simulateV1)",
    "outbox reads (nonces held, the same request)",
    "budgets",
    "outbox write (accept)",
    "worker: packing and sending",
    "worker: signing",
    "worker: settling",
    "worker: decoding logs",
    "worker: fees",
    "worker: its loop (head, leader lock)",
    "indexer: fetching, bookkeeping",
    "indexer: decoding",
    "indexer: projection",
]


def stage_of(thread: str, stack: list[str]) -> str:
    # A check runs in a request thread, or on the event loop itself (backend/chain/on_loop.py).
    kinds = ("request", "event loop") if thread == "event loop" else (thread,)
    for frame in reversed(stack):
        for kind, marker, stage in MARKERS:
            if kind in kinds and frame.startswith(marker):
                return stage
    return THREAD_STAGES.get(thread, f"other threads ({thread})")


def stages(profile: dict) -> dict[str, float]:
    """CPU seconds by stage."""
    totals: dict[str, float] = defaultdict(float)
    for thread, stack, seconds in profile["stacks"]:
        totals[stage_of(thread, stack)] += seconds
    for thread, seconds in profile["unsampled"].items():
        totals[f"unsampled ({thread})"] += seconds
    return dict(totals)


def hot_spots(profile: dict, top: int) -> list[tuple[str, str, float]]:
    """The innermost project frames that used the most CPU, with the stage they count in."""
    spots: dict[tuple[str, str], float] = defaultdict(float)
    for thread, stack, seconds in profile["stacks"]:
        frame = next((f for f in reversed(stack) if f.startswith(("backend/", "bench/"))), stack[-1] if stack else "?")
        spots[(frame, stage_of(thread, stack))] += seconds
    return sorted(((f, s, v) for (f, s), v in spots.items()), key=lambda x: -x[2])[:top]


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds used so far by each thread of a process (Linux /proc)."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        out[int(task.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


class Spy:
    """py-spy recording a process's stacks, from start() to stop(): (thread id, thread name, stack) -> samples."""

    def __init__(self, pid: int, out: Path) -> None:
        self.pid, self.out = pid, out
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                PY_SPY or "py-spy",
                "record",
                "--pid",
                str(self.pid),
                "--gil",  # the thread that holds the interpreter lock: not those waiting for it
                "--rate",
                "250",
                "--nonblocking",
                "--threads",
                "--nolineno",
                "--full-filenames",
                "--format",
                "raw",
                "-o",
                str(self.out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1)  # attached

    def stop(self) -> list[tuple[int, str, list[str], int]]:
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)  # writes what it sampled
        self.process.wait(timeout=60)
        samples = []
        for line in self.out.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            # py-spy prints a frame whose name holds a line break over two lines: that sample is dropped.
            if not line.startswith("thread (") or not count.isdigit():
                continue
            thread, *frames = stack.split(";")
            tid, _, name = thread.removeprefix("thread (").partition(")")
            samples.append((int(tid, 0), name.removeprefix(": "), [_frame(f) for f in frames], int(count)))
        return samples


def _frame(frame: str) -> str:
    """py-spy's "Class.function (/path/to/file.py)" as "file.py:function": a package's file by its
    path in site-packages (or the standard library's), the service's by its path in the project,
    whichever copy of it runs (--service-tree)."""
    function, _, filename = frame.rpartition(" (")
    filename = filename.rstrip(")")
    for marker in ("site-packages" + os.sep, "python3.11" + os.sep):
        at = filename.find(marker)
        if at >= 0:
            filename = filename[at + len(marker) :]
            break
    else:
        for top in ("backend", "bench", "devstack"):
            at = filename.rfind(os.sep + top + os.sep)
            if at >= 0:
                filename = filename[at + 1 :]
                break
    return f"{filename}:{function.rpartition('.')[2]}"


def thread_kind(name: str) -> str:
    """A thread by its job: the API's request threads, the event loop, the relayer, the indexer ..."""
    if name.startswith(("AnyIO worker", "ThreadPoolExecutor")):
        return "request"
    return "event loop" if name == "MainThread" else name or "unnamed"


def profile_of(samples: list[tuple[int, str, list[str], int]], cpu: dict[int, float]) -> dict:
    """Each thread's samples scaled to the CPU it used: {"stacks": [[thread kind, stack, seconds]],
    "unsampled": seconds of threads that used CPU but were never sampled, by kind}."""
    per_thread: dict[int, int] = defaultdict(int)
    names = {}
    for tid, name, _, count in samples:
        per_thread[tid] += count
        names[tid] = name
    stacks = [
        [thread_kind(name), frames, cpu.get(tid, 0.0) * count / per_thread[tid]] for tid, name, frames, count in samples
    ]
    unsampled: dict[str, float] = defaultdict(float)
    for tid, seconds in cpu.items():
        if tid not in per_thread and seconds > 0:
            unsampled[f"thread {tid}"] += seconds
    kinds: dict[str, float] = defaultdict(float)
    for tid, seconds in cpu.items():
        kinds[thread_kind(names.get(tid, "")) if tid in names else f"thread {tid}"] += seconds
    return {
        "stacks": stacks,
        "unsampled": dict(unsampled),
        "samples": sum(per_thread.values()),
        "threads": dict(kinds),
    }


class TreeServer(Server):
    """`serve` from another copy of the code (say `git archive <commit>` unpacked), with this
    checkout's Python: two versions of the service measured on the same chain and load."""

    def __init__(self, env: dict[str, str], log: Path, tree: Path) -> None:
        super().__init__({**env, "PYTHONPATH": str(tree)}, log)
        self.tree = tree

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "backend", "serve", "--port", str(self.port)],
            cwd=self.tree,
            env=self.env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: CommunityClient(self.url).get("/communities") is not None, timeout=60, what="API server")


class FloorServer:
    """bench/floor.py in its own process: the least a Python service spends to accept a signed write."""

    def __init__(self, node: str, work: Path, relay: bool = False) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        database = work / ("floor-relaying.sqlite3" if relay else "floor.sqlite3")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.floor",
                "--port",
                str(self.port),
                "--rpc",
                node,
                "--db",
                str(database),
                *(["--relay"] if relay else []),
            ],
            cwd=ROOT,
            stdout=(work / "floor.log").open("a"),
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: _answers(self.url), what="the floor's server")

    def relayed(self) -> int:
        """The requests the relaying floor has seen mined; fails once any reverted or its relayer stopped."""
        target = urlsplit(self.url)
        connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=5)
        connection.request("GET", "/")
        answer = json.loads(connection.getresponse().read())
        connection.close()
        assert not answer["reverted"] and not answer["failed"], f"the relaying floor: {answer}"
        return int(answer["mined"])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _answers(url: str) -> bool:
    target = urlsplit(url)
    try:
        connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=5)
        connection.request("POST", "/", b"{}")
        return connection.getresponse().status == 400
    except OSError:
        return False


def floor_path(
    node: str,
    work: Path,
    keys: list[str],
    requests: list[list[tuple[dict, bytes]]],
    pids: tuple[int, int, int],
    rate: float,
) -> dict[str, Any]:
    """The same members' pre-signed claims (those the bare loop sends next) POSTed to the floor at
    the same rate: its CPU a write, Anvil's, the load generator's, its rate. It sends nothing, so
    the claims are still the bare loop's to send."""
    floor = FloorServer(node, work)
    try:
        bodies = {
            key: [json.dumps({"typed_data": typed, "signature": "0x" + sig.hex()}).encode() for typed, sig in mine]
            for key, mine in zip(keys, requests)
        }
        writes = sum(len(b) for b in bodies.values())
        pids = (floor.process.pid, *pids[1:])
        before, switches = [cpu_seconds(p) for p in pids], context_switches(pids[0])
        elapsed, _ = post_all(floor.url, bodies, rate)
        cpu = [cpu_seconds(p) - b for p, b in zip(pids, before)]
        switches = context_switches(pids[0]) - switches
    finally:
        floor.stop()
    return {
        "accepted_per_s": writes / elapsed,
        "service_cpu_ms": cpu[0] * 1000 / writes,
        "node_cpu_ms": cpu[1] * 1000 / writes,
        "load_generator_cpu_ms": cpu[2] * 1000 / writes,
        "switches_per_write": switches / writes,
    }


class Proxy:
    """bench/rpc_counter.py in its own process, in front of the node."""

    def __init__(self, upstream: str, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.rpc_counter", "--upstream", upstream, "--port", str(self.port)],
            cwd=ROOT,
            stdout=log.open("a"),
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: rpc(self.url, "eth_chainId"), what="the counting proxy")

    def counts(self, reset: bool = False) -> dict:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.request("GET", "/counts?reset=1" if reset else "/counts")
        answer = json.loads(connection.getresponse().read())
        connection.close()
        return answer

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


# Claims sent before the timed part on PostgreSQL, all members together (see main).
WARM_UP_CLAIMS = 200


def evidence(member: int, i: int) -> str:
    return f"https://example.org/writes/{member}/{i:06d}"  # all of one length: one gas for all


def signed_claims(
    deployments: Deployments, template: dict, key: str, nonce: int, indicator: int, uris: list[str]
) -> list[tuple[dict, bytes]]:
    """The member's claims of `uris` as signed requests from `nonce` on: (typed data, signature)."""
    community = next(iter(deployments.communities.values()))
    badge = deployments.abis["badge"]
    message = template["message"]
    out = []
    for k, uri in enumerate(uris):
        typed = forward_request_typed_data(
            chain_id=deployments.chain_id,
            forwarder=community.contracts["forwarder"],
            sender=addr(key),
            target=community.contracts["badge"],
            data=badge.function("claim").encode(indicator, keccak(text=uri), uri),
            nonce=nonce + k,
            deadline=message["deadline"],
            gas=message["gas"],
        )
        out.append((typed, Account.unsafe_sign_hash(typed_data_digest(typed), key).signature))
    return out


def member_nonce(url: str, deployments: Deployments, member: str) -> int:
    community = next(iter(deployments.communities.values()))
    data = deployments.abis["forwarder"].function("nonces").encode(member)
    return int(rpc(url, "eth_call", {"to": community.contracts["forwarder"], "data": "0x" + data.hex()}, "latest"), 16)


def post_all(url: str | list[str], bodies: dict[str, list[bytes]], rate: float = 0) -> tuple[float, list[int]]:
    """Each member's ready bodies POSTed in order on one kept-alive connection, the members at once;
    with several API addresses (processes over one database), the members spread over them. With
    a `rate` (writes a second, all members together), each member keeps to its share of it: a
    request no sooner than its turn, so that two versions of the service are measured at the same
    rate (the node's work per write grows with the rate: each check replays the member's requests
    in flight, and more are in flight at a higher rate)."""
    urls = [url] if isinstance(url, str) else url
    target_of = {member: urlsplit(urls[i % len(urls)]) for i, member in enumerate(bodies)}
    ids: list[int] = []
    lock = threading.Lock()
    failures: list[str] = []

    def run(member: str, index: int) -> None:
        target = target_of[member]
        connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=120)
        mine = []
        every = len(bodies) / rate if rate else 0.0
        for n, body in enumerate(bodies[member]):
            if every:  # the members' turns interleaved: each its share of every interval
                time.sleep(max(0.0, start + (n + index / len(bodies)) * every - time.perf_counter()))
            connection.request("POST", "/claims?wait=false", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            answer = response.read()
            if response.status != 202:
                failures.append(f"{response.status} {answer[:300]!r}")
                return
            mine.append(json.loads(answer)["request_id"])
        connection.close()
        with lock:
            ids.extend(mine)

    threads = [threading.Thread(target=run, args=(m, i)) for i, m in enumerate(bodies)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures[:3]
    return time.perf_counter() - start, ids


def shares(writes: int, members: int) -> list[int]:
    """`writes` shared out among `members`, the first ones one more when it does not divide."""
    return [writes // members + (i < writes % members) for i in range(members)]


def settled_and_indexed(db: BenchDatabase, ids: list[int]) -> bool:
    """Every request settled and the index up to their last block, read from the database."""
    if db.scalar("SELECT count(*) FROM relay_requests WHERE state IN ('queued', 'sent')"):
        return False
    last = db.scalar(f"SELECT max(block_number) FROM relay_requests WHERE id BETWEEN {min(ids)} AND {max(ids)}")
    cursor = db.scalar("SELECT min(block_number) FROM cursors")
    return last is not None and cursor is not None and cursor >= last


def relayer_gas(db: BenchDatabase, ids: list[int]) -> int:
    """The gas the relayer's transactions used for these requests (each request's share)."""
    return int(db.scalar(f"SELECT sum(gas_used) FROM relay_requests WHERE id BETWEEN {min(ids)} AND {max(ids)}"))


def outbox_states(db: BenchDatabase, ids: list[int]) -> dict[str, int]:
    rows = db.rows(
        f"SELECT state, count(*) FROM relay_requests WHERE id BETWEEN {min(ids)} AND {max(ids)} GROUP BY state"
    )
    return {state: count for state, count in rows}


def signed_executes(
    node: str, deployments: Deployments, sender: Any, requests: list[tuple[dict, bytes]], fee: int
) -> list[str]:
    """Each signed request as a raw forwarder.execute transaction from `sender`, from its next nonce on."""
    community = next(iter(deployments.communities.values()))
    execute = deployments.abis["forwarder"].function("execute")
    nonce = int(rpc(node, "eth_getTransactionCount", sender.address, "pending"), 16)
    raws = []
    for i, (typed, signature) in enumerate(requests):
        data = execute.encode(forward_request_struct(typed, signature))
        tx = sender.sign_transaction(
            {
                "type": 2,
                "chainId": deployments.chain_id,
                "nonce": nonce + i,
                "to": community.contracts["forwarder"],
                "data": data,
                "value": 0,
                "gas": typed["message"]["gas"] * 64 // 63 + 80_000 + 16 * len(data),
                "maxFeePerGas": fee,
                "maxPriorityFeePerGas": 10**9,
            }
        )
        raws.append("0x" + tx.raw_transaction.hex().removeprefix("0x"))
    return raws


def bare_loop(node: str, deployments: Deployments, requests: list[tuple[dict, bytes]]) -> tuple[float, int]:
    """One key sends each signed request as forwarder.execute (transactions signed beforehand),
    then waits for its nonce to be mined and reads every receipt once. Its time, and the gas its
    transactions used."""
    sender = Account.from_key(SENDER)
    nonce = int(rpc(node, "eth_getTransactionCount", sender.address, "pending"), 16)
    raws = signed_executes(node, deployments, sender, requests, 2 * int(rpc(node, "eth_gasPrice"), 16) + 10**9)
    target = urlsplit(node)
    connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=60)

    def call(payload: object) -> Any:
        connection.request("POST", "/", json.dumps(payload), {"Content-Type": "application/json"})
        return json.loads(connection.getresponse().read())

    start = time.perf_counter()
    hashes = []
    for i, raw in enumerate(raws):
        answer = call({"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [raw]})
        hashes.append(answer["result"])
    last = nonce + len(raws)
    while True:
        mined = call(
            {"jsonrpc": "2.0", "id": 0, "method": "eth_getTransactionCount", "params": [sender.address, "latest"]}
        )
        if int(mined["result"], 16) >= last:
            break
        time.sleep(0.25)
    gas = 0
    for i in range(0, len(hashes), 200):
        batch = [
            {"jsonrpc": "2.0", "id": j, "method": "eth_getTransactionReceipt", "params": [h]}
            for j, h in enumerate(hashes[i : i + 200])
        ]
        for receipt in call(batch):
            assert receipt["result"]["status"] == "0x1", receipt
            # The forwarder's ExecutedForwardRequest(signer, nonce, success): the claim ran.
            assert receipt["result"]["logs"][-1]["data"].endswith("1"), receipt
            gas += int(receipt["result"]["gasUsed"], 16)
    connection.close()
    return time.perf_counter() - start, gas


def bare_concurrent(
    node: str, deployments: Deployments, requests: list[list[tuple[dict, bytes]]], cpu: CpuWatch
) -> tuple[float, dict[str, float]]:
    """The bare loop at a concurrency: one sender per member (each its own key, funded here), each
    sending its member's requests as forwarder.execute (signed beforehand) on its own connection,
    all at once; then every receipt read once. The time until the last is mined, and the CPU each
    of `cpu`'s processes spent until then (seconds)."""
    fee = 2 * int(rpc(node, "eth_gasPrice"), 16) + 10**9
    senders = [Account.from_key("0x" + keccak(text=f"bench sender {i}").hex()) for i in range(len(requests))]
    signed: list[list[str]] = []
    for sender, mine in zip(senders, requests):
        rpc(node, "anvil_setBalance", sender.address, hex(10**21))
        signed.append(signed_executes(node, deployments, sender, mine, fee))
    target = urlsplit(node)
    hashes: list[str] = []
    lock = threading.Lock()

    def send(raws: list[str]) -> None:
        connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=60)
        mine = []
        for i, raw in enumerate(raws):
            payload = {"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [raw]}
            connection.request("POST", "/", json.dumps(payload), {"Content-Type": "application/json"})
            mine.append(json.loads(connection.getresponse().read())["result"])
        connection.close()
        with lock:
            hashes.extend(mine)

    before = cpu.read()
    start = time.perf_counter()
    threads = [threading.Thread(target=send, args=(raws,)) for raws in signed]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for sender, raws in zip(senders, signed):
        wait_until(
            lambda s=sender.address, n=len(raws): int(rpc(node, "eth_getTransactionCount", s, "latest"), 16) >= n,
            timeout=600,
            what="the bare loop's transactions mined",
        )
    elapsed = time.perf_counter() - start
    spent = cpu.since(before)
    for i in range(0, len(hashes), 200):
        for h in hashes[i : i + 200]:
            receipt = rpc(node, "eth_getTransactionReceipt", h)
            assert receipt["status"] == "0x1" and receipt["logs"][-1]["data"].endswith("1"), receipt
    return elapsed, spent


class CpuWatch:
    """The CPU of named groups of processes (pid 0: this one, the load generator), read from /proc;
    with `database`, PostgreSQL's processes as well."""

    def __init__(self, groups: dict[str, list[int]], database: bool = False) -> None:
        self.groups, self.database = groups, database

    def read(self) -> dict[str, float]:
        spent = {name: cpu_seconds(*pids) for name, pids in self.groups.items()}
        return {**spent, "database": postgres_cpu_seconds()} if self.database else spent

    def since(self, before: dict[str, float]) -> dict[str, float]:
        return {name: spent - before[name] for name, spent in self.read().items()}


def run_cost(seconds: float, writes: int, timed: dict[str, float], whole: dict[str, float]) -> dict[str, float]:
    """A throughput run's cost: how many of the machine's cores its processes kept busy while
    timed, and each group's CPU a write (ms) until every write was done (relayed and indexed)."""
    per_write = {f"{name}_ms": spent * 1000 / writes for name, spent in whole.items()}
    return {"cores_busy": sum(timed.values()) / seconds, **per_write}


def presigned(
    api: CommunityClient, deployments: Deployments, keys: list[str], writes: int, indicator: int, tag: str
) -> tuple[dict[str, list[bytes]], dict[str, list[bytes]], list[list[tuple[dict, bytes]]]]:
    """`writes` claims of these members, signed beforehand, three times over, the nonces in the
    order they are sent: the API's bodies by member, the relaying floor's, and the bare loop's
    claims as it sends them."""
    share = shares(writes, len(keys))
    bodies: dict[str, list[bytes]] = {}
    floor: dict[str, list[bytes]] = {}
    bare: list[list[tuple[dict, bytes]]] = []
    for m, (key, count) in enumerate(zip(keys, share)):
        uris = [f"https://example.org/{tag}/{m}/{i:06d}" for i in range(3 * count)]
        template = api.prepare("claims", signer=addr(key), indicator_id=indicator, evidence_uri=uris[0])
        nonce = template["typed_data"]["message"]["nonce"]
        signed = signed_claims(deployments, template["typed_data"], key, nonce, indicator, uris)
        as_bodies = [json.dumps({"typed_data": t, "signature": "0x" + sig.hex()}).encode() for t, sig in signed]
        bodies[key], floor[key] = as_bodies[:count], as_bodies[count : 2 * count]
        bare.append(signed[2 * count :])  # the nonces after the API's and the floor's: sent once those are mined
    return bodies, floor, bare


def throughput(
    anvil: Anvil,
    env: dict[str, str],
    deployments: Deployments,
    db: BenchDatabase,
    indicator: int,
    writes: int,
    work: Path,
    admitted: int = 0,
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Accepted writes a second (wait=false, pre-signed) at c=8 and c=32 through one API process,
    at c=32 through two over the same database (one relays and indexes), beside the bare loop at
    each concurrency: one sender per member. Rates: only as good as the machine is quiet. And each
    run's cost (run_cost): the cores it kept busy, and the CPU a write of the service, the node and
    the load generator (or the loop), which say what the rates cannot: how near the machine's two
    cores each run was, and the most it could reach there at its CPU a write."""
    anvil_pid = anvil.process.pid  # type: ignore[union-attr]
    first = Server(env, work / "api-throughput.log")
    first.start()
    try:
        api = CommunityClient(first.url, timeout=120)
        print(f"Throughput: {len(MORE)} more members for c=32 ...", flush=True)
        admit(api, anvil, MORE[admitted:])  # those --members admitted already are members
        rates: dict[str, float] = {}
        costs: dict[str, dict[str, float]] = {}
        for label, keys, processes in (("c=8", KEYS, 1), ("c=32", [*KEYS[1:], *MORE], 1), ("c=32", None, 2)):
            members = keys or [*KEYS[1:], *MORE]
            bodies, floor, bare = presigned(api, deployments, members, writes, indicator, f"{label}-{processes}")
            second = Server(env, work / "api-throughput-2.log") if processes == 2 else None
            if second:
                second.start()
            try:
                urls = [first.url] + ([second.url] if second else [])
                print(f"  API, {label}, {processes} process(es): {writes} claims ...", flush=True)
                services = [s.process.pid for s in (first, second) if s is not None and s.process is not None]
                groups = {"service": services, "node": [anvil_pid], "load generator": [0]}
                cpu = CpuWatch(groups, database=db.kind == "postgresql")
                before = cpu.read()
                elapsed, ids = post_all(urls, bodies)
                timed = cpu.since(before)
                wait_until(lambda: settled_and_indexed(db, ids), timeout=600, what="the outbox drained and indexed")
                costs[f"api {label} {processes}p"] = run_cost(elapsed, writes, timed, cpu.since(before))
            finally:
                if second:
                    second.stop()
            rates[f"api {label} {processes}p"] = writes / elapsed
            if processes == 1:
                print(f"  relaying floor, {label}: {writes} claims ...", flush=True)
                rates[f"floor {label}"], costs[f"floor {label}"] = relaying_floor(
                    anvil, deployments, work, floor, writes
                )
                print(f"  bare loop, {label}: {writes} claims, one sender per member ...", flush=True)
                cpu = CpuWatch({"node": [anvil_pid], "loop": [0]})
                elapsed, spent = bare_concurrent(anvil.url, deployments, bare, cpu)
                rates[f"bare {label}"] = writes / elapsed
                costs[f"bare {label}"] = run_cost(elapsed, writes, spent, spent)
        return rates, costs
    finally:
        first.stop()


def relaying_floor(
    anvil: Anvil, deployments: Deployments, work: Path, bodies: dict[str, list[bytes]], writes: int
) -> tuple[float, dict[str, float]]:
    """The floor relaying what it accepts (bench/floor.py, FloorRelayer), posted these bodies by one
    client a member: its rate and its run's cost, until every request is mined, each member's
    forwarder nonce checked past its last."""
    rpc(anvil.url, "anvil_setBalance", RELAYER.address, hex(10**21))
    server = FloorServer(anvil.url, work, relay=True)
    try:
        groups = {"service": [server.process.pid], "node": [anvil.process.pid], "load generator": [0]}  # type: ignore[union-attr]
        cpu = CpuWatch(groups)
        before = cpu.read()
        elapsed, _ = post_all(server.url, bodies)
        timed = cpu.since(before)
        wait_until(lambda: server.relayed() >= writes, timeout=600, what="the relaying floor's requests mined")
        cost = run_cost(elapsed, writes, timed, cpu.since(before))
    finally:
        server.stop()
    for key, mine in bodies.items():
        last = json.loads(mine[-1])["typed_data"]["message"]["nonce"]
        assert member_nonce(anvil.url, deployments, addr(key)) == last + 1, "a relaying floor's request was skipped"
    return writes / elapsed, cost


def calls_per(counts: dict, units: float) -> dict[str, float]:
    """The calls by method, most first, per write (units: the writes) or per second (the seconds)."""
    return {method: n / units for method, n in sorted(counts["calls"].items(), key=lambda kv: -kv[1])}


def idle_cost(pids: tuple[int, int, int], proxy: Proxy, seconds: float, index_poll: float) -> dict[str, Any]:
    """What the service spends a second while nothing is written: its CPU, Anvil's beside it, and
    its calls to the node by method. Measured once the relayer stops watching the setup's last
    transactions (for RECHECK_BLOCKS blocks after they are mined, in case they are rolled back),
    as a service nobody wrote to for a minute is."""
    time.sleep(RECHECK_BLOCKS + 2)  # a block a second
    proxy.counts(reset=True)
    before = [cpu_seconds(p) for p in pids[:2]]
    time.sleep(seconds)
    service, node = (cpu_seconds(p) - b for p, b in zip(pids[:2], before))
    counts = proxy.counts(reset=True)
    return {
        "seconds": seconds,
        "index_poll_seconds": index_poll,
        "service_cpu_ms_per_s": service * 1000 / seconds,
        "node_cpu_ms_per_s": node * 1000 / seconds,
        "calls_per_s": calls_per(counts, seconds),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--baseline", type=int, default=2000)
    parser.add_argument("--top", type=int, default=25, help="hot spots to print")
    parser.add_argument(
        "--members",
        type=int,
        default=len(KEYS),
        help="members writing at once, one client each (at least 8); the node's work per write grows with each "
        "member's own rate, as a check replays the member's requests in flight",
    )
    parser.add_argument(
        "--throughput", type=int, default=1000, help="claims per run of the throughput figures (0: leave them out)"
    )
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument(
        "--idle", type=float, default=10, help="seconds the idle service is measured for, before the writes (0: not)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0,
        help="writes a second the API's clients keep to (0: each as fast as it is answered)",
    )
    parser.add_argument(
        "--service-tree", type=Path, help="serve the code of this folder (a `git archive` of a commit), to compare two"
    )
    parser.add_argument(
        "--postgres",
        metavar="SERVER_URL",
        help="index on a fresh database of this PostgreSQL server (postgresql://user:password@host:port/db; "
        "dropped after the run), not SQLite: its processes' CPU is then the database's share",
    )
    args = parser.parse_args()
    if args.members < len(KEYS):
        parser.error(f"--members: at least {len(KEYS)}")
    work = Path(tempfile.mkdtemp(prefix="bench-writes-"))
    db = BenchDatabase.postgresql(args.postgres) if args.postgres else BenchDatabase.sqlite(work)
    print(f"Starting Anvil and deploying (work folder {work}; index on {db.kind}) ...", flush=True)
    anvil = Anvil(work)
    anvil.start()
    proxy = server = None
    try:
        deployments_path = deploy(anvil, work / "deployments")
        deployments = Deployments.load(deployments_path)
        interval_mining(anvil)
        proxy = Proxy(anvil.url, work / "proxy.log")
        env = {**service_env(anvil, deployments_path, db.url), **UNTHROTTLED, "CC_RPC_URL": proxy.url}
        server = (
            TreeServer(env, work / "api.log", args.service_tree) if args.service_tree else Server(env, work / "api.log")
        )
        server.start()
        api = CommunityClient(server.url)
        indicator = setup_community(api, anvil)
        keys = [*KEYS, *bench_members(args.members - len(KEYS))]
        if len(keys) > len(KEYS):
            print(f"Admitting {len(keys) - len(KEYS)} more members by proposals ...", flush=True)
            admit(api, anvil, keys[len(KEYS) :])
        members = [addr(k) for k in keys]

        # On PostgreSQL, some claims of each member first, untimed, then the database analyzed: the
        # statistics autovacuum gathers on a service that has run for a minute hold the members'
        # own requests, which decide how PostgreSQL plans a check's reads (with the setup's alone
        # it read every request of the member's in three runs of five: docs/performance/api.md).
        warm = max(2, WARM_UP_CLAIMS // len(keys)) if db.kind == "postgresql" else 0
        print(f"Signing {args.writes} claims of {len(keys)} members beforehand ...", flush=True)
        bodies: dict[str, list[bytes]] = {}
        warm_up: dict[str, list[bytes]] = {}
        share = shares(args.writes, len(keys))
        for m, (key, count) in enumerate(zip(keys, share)):
            uris = [evidence(m, i) for i in range(warm + count)]
            template = api.prepare("claims", signer=members[m], indicator_id=indicator, evidence_uri=uris[0])
            nonce = template["typed_data"]["message"]["nonce"]
            signed = [
                json.dumps({"typed_data": typed, "signature": "0x" + sig.hex()}).encode()
                for typed, sig in signed_claims(deployments, template["typed_data"], key, nonce, indicator, uris)
            ]
            warm_up[key], bodies[key] = signed[:warm], signed[warm:]
        if warm:
            print(f"Warming up: {warm} claims of each member, untimed, then ANALYZE ...", flush=True)
            _, warm_ids = post_all(server.url, warm_up, args.rate)
            wait_until(lambda: settled_and_indexed(db, warm_ids), timeout=300, what="the warm-up settled")
            db.analyze()

        print(f"API path: {args.writes} claims, {len(keys)} members at once, wait=false ...", flush=True)
        pids = (server.process.pid, anvil.process.pid, 0)  # type: ignore[union-attr]
        time.sleep(2)  # the setup's last blocks indexed, its requests settled
        poll = float(env["CC_INDEX_POLL_SECONDS"])
        idle = idle_cost(pids, proxy, args.idle, poll) if args.idle else None
        proxy.counts(reset=True)
        spy = Spy(pids[0], work / "py-spy.txt") if PY_SPY else None
        if spy:
            spy.start()
        threads_before = thread_cpu(pids[0])
        before, switches_before = [cpu_seconds(p) for p in pids], context_switches(pids[0])
        database_before = postgres_cpu_seconds()
        post_time, ids = post_all(server.url, bodies, args.rate)
        wait_until(lambda: settled_and_indexed(db, ids), timeout=600, what="the outbox drained and indexed")
        api_cpu = [cpu_seconds(p) - b for p, b in zip(pids, before)]
        api_switches = context_switches(pids[0]) - switches_before
        database_cpu = postgres_cpu_seconds() - database_before if db.kind == "postgresql" else None
        threads = {t: c - threads_before.get(t, 0.0) for t, c in thread_cpu(pids[0]).items()}
        api_counts = proxy.counts(reset=True)
        profile = profile_of(spy.stop() if spy else [], threads)
        states = outbox_states(db, ids)
        assert states == {"succeeded": args.writes}, states
        api_gas = relayer_gas(db, ids)
        server.stop()
        server = None

        print(
            f"Bare loop: the same members sign {args.baseline} claims, one key sends forwarder.execute ...", flush=True
        )
        requests: list[list[tuple[dict, bytes]]] = []
        per_member = shares(args.baseline, len(keys))
        template = json.loads(bodies[keys[0]][0])["typed_data"]
        for m, (key, count) in enumerate(zip(keys, per_member)):
            uris = [evidence(m + max(100, len(keys)), i) for i in range(count)]  # none the API path's
            nonce = member_nonce(anvil.url, deployments, members[m])
            requests.append(signed_claims(deployments, template, key, nonce, indicator, uris))
        print("Floor: the same claims to a bare ASGI app that only checks and stores them ...", flush=True)
        proxy.counts(reset=True)
        floor = floor_path(proxy.url, work, keys, requests, pids, args.rate)
        floor["calls_per_write"] = calls_per(proxy.counts(reset=True), args.baseline)
        # Interleaved, as the members' requests arrive at a relayer.
        ordered = [r for group in zip_longest(*requests) for r in group if r is not None]
        proxy.counts(reset=True)
        before = [cpu_seconds(p) for p in pids[1:]]
        bare_time, bare_gas = bare_loop(proxy.url, deployments, ordered)
        bare_cpu = [cpu_seconds(p) - b for p, b in zip(pids[1:], before)]
        bare_counts = proxy.counts(reset=True)
        # The rates at c=8 and c=32, on the node itself: the proxy counts, it is not measured here.
        node_env = {**env, "CC_RPC_URL": anvil.url}
        admitted = len(keys) - len(KEYS)
        rates, run_costs = (
            throughput(anvil, node_env, deployments, db, indicator, args.throughput, work, admitted)
            if args.throughput
            else ({}, {})
        )
    finally:
        if server:
            server.stop()
        if proxy:
            proxy.stop()
        anvil.stop()
        db.close()

    n, b = args.writes, len(ordered)
    service_ms = api_cpu[0] * 1000 / n
    by_stage = stages(profile)
    sampled = sum(by_stage.values())
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "service": str(args.service_tree) if args.service_tree else "this checkout",
        "writes": n,
        "baseline_writes": b,
        "paced_to_per_s": args.rate or None,
        "members": args.members,
        "database": db.kind,
        "api": {
            "accepted_per_s": n / post_time,
            "service_cpu_ms": service_ms,
            # PostgreSQL's processes (the server's CPU while the API path ran); None on SQLite,
            # whose work is the service's own.
            "database_cpu_ms": database_cpu * 1000 / n if database_cpu is not None else None,
            "samples": profile["samples"],
            "node_cpu_ms": api_cpu[1] * 1000 / n,
            "gas_per_write": api_gas / n,
            "transactions_per_write": api_counts["calls"].get("eth_sendRawTransaction", 0) / n,
            "load_generator_cpu_ms": api_cpu[2] * 1000 / n,
            "calls_per_write": calls_per(api_counts, n),
            "round_trips_per_write": api_counts["round_trips"] / n,
            "switches_per_write": api_switches / n,
            "simulated_per_write": api_counts.get("simulated", 0) / n,
            "stages_ms": {s: v * 1000 / n for s, v in by_stage.items()},
            "sampled_share": sampled / max(api_cpu[0], 1e-9),
            "threads_ms": {kind: v * 1000 / n for kind, v in profile["threads"].items()},
        },
        "bare": {
            "sent_and_mined_per_s": b / bare_time,
            "node_cpu_ms": bare_cpu[0] * 1000 / b,
            "gas_per_write": bare_gas / b,
            "loop_cpu_ms": bare_cpu[1] * 1000 / b,
            "calls_per_write": calls_per(bare_counts, b),
            "round_trips_per_write": bare_counts["round_trips"] / b,
        },
    }
    result["floor"] = floor
    result["throughput_per_s"] = rates
    result["throughput_costs"] = run_costs
    result["idle"] = idle
    report(result, hot_spots(profile, args.top), n)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


def report(result: dict, spots: list[tuple[str, str, float]], n: int) -> None:
    api, bare = result["api"], result["bare"]

    def row(label: str, left: object, right: object, digits: int = 2) -> None:
        cells = [f"{v:12.{digits}f}" if isinstance(v, float) else f"{v!s:>12}" for v in (left, right)]
        print(f"{label:46} {cells[0]} {cells[1]}")

    print(
        f"\n== Cost per write ({result['date']}; index on {result['database']}; CPU from /proc; rates only as good "
        "as the machine is quiet) =="
    )
    print(f"{'per accepted claim':46} {'API path':>12} {'bare loop':>12}")
    row("writes", f"{n:,}", f"{result['baseline_writes']:,}")
    row("members writing", f"{result['members']:,}", f"{result['members']:,}")
    paced = f" (clients paced to {result['paced_to_per_s']:g})" if result.get("paced_to_per_s") else ""
    row(f"rate{paced}, /s" if paced else "rate (API accepted; bare sent and mined), /s", api["accepted_per_s"],
        bare["sent_and_mined_per_s"], 1)  # fmt: skip
    row("service CPU, ms", api["service_cpu_ms"], "-")
    if api.get("database_cpu_ms") is not None:
        row("database server (PostgreSQL) CPU, ms", api["database_cpu_ms"], "-")
    row("node (Anvil) CPU, ms", api["node_cpu_ms"], bare["node_cpu_ms"])
    row("load generator / loop CPU, ms", api["load_generator_cpu_ms"], bare["loop_cpu_ms"])
    row("gas the relayer (or the loop's key) paid", f"{api['gas_per_write']:,.0f}", f"{bare['gas_per_write']:,.0f}")
    row("requests per transaction", 1 / max(api["transactions_per_write"], 1e-9), 1.0, 1)
    row("JSON-RPC round trips", api["round_trips_per_write"], bare["round_trips_per_write"])
    row("JSON-RPC calls, all", sum(api["calls_per_write"].values()), sum(bare["calls_per_write"].values()))
    for method in dict.fromkeys([*api["calls_per_write"], *bare["calls_per_write"]]):
        row("  " + method, api["calls_per_write"].get(method, 0.0), bare["calls_per_write"].get(method, 0.0), 3)
    # The node's work in the checks: each simulation runs the member's requests in flight again.
    row("calls run in simulations (replays and own)", api.get("simulated_per_write", 0.0), 0.0)
    ratio = api["node_cpu_ms"] / bare["node_cpu_ms"]
    print(f"node CPU, API / bare loop: {ratio:.2f}x (target 1.5x); service CPU target 3 ms")
    print(
        f"\n== The service's CPU per write by stage (ms; {api['samples']:,} samples, threads' CPU: "
        f"{api['sampled_share']:.0%} of the process's) =="
    )
    for stage in STAGE_ORDER + sorted(set(api["stages_ms"]) - set(STAGE_ORDER)):
        if stage in api["stages_ms"]:
            print(f"{stage:58} {api['stages_ms'][stage]:7.3f}")
    floor = result.get("floor")
    if floor:
        report_floor(api, floor, bare)
    rates = result["throughput_per_s"]
    if rates:
        print("\n== Accepted writes a second (wait=false, pre-signed; rates only as good as the machine is quiet) ==")
        for label in ("c=8", "c=32"):
            api_rate, bare_rate = rates[f"api {label} 1p"], rates[f"bare {label}"]
            ratio = api_rate / bare_rate
            print(f"{label:5} API {api_rate:7.1f} /s   bare loop {bare_rate:7.1f} /s   API / bare {ratio:5.2f}")
            floor_rate = rates.get(f"floor {label}")
            if floor_rate:  # the least a relaying Python service spends, at the same concurrency
                print(f"{'':5} relaying floor {floor_rate:7.1f} /s: {floor_rate / bare_rate:5.2f}x the bare loop")
        two = rates["api c=32 2p"]
        print(f"c=32  two API processes {two:7.1f} /s: {two / rates['api c=32 1p']:.2f}x one process")
        report_run_costs(rates, result.get("throughput_costs") or {})
    idle = result.get("idle")
    if idle:
        calls = sum(idle["calls_per_s"].values())
        print(
            f"\n== Idle: nothing written for {RECHECK_BLOCKS + 2}+{idle['seconds']:g} s (a block a second; the index "
            "polled every "
            f"{idle['index_poll_seconds']:g} s) =="
        )
        cpu = idle["service_cpu_ms_per_s"]
        print(f"service CPU a second, ms    {cpu:7.1f}  ({cpu / 10:.1f} % of a core)")
        print(
            f"node (Anvil) CPU a second   {idle['node_cpu_ms_per_s']:7.1f}  (its own blocks, and the service's calls)"
        )
        print(f"service's calls to the node {calls:7.1f} a second, {calls * 86_400:,.0f} a day")
        for method, rate in idle["calls_per_s"].items():
            print(f"  {method:26}{rate:7.1f}")
    print("\n== Hot spots (innermost project frame; ms per write) ==")
    for frame, stage, seconds in spots:
        print(f"{seconds * 1000 / n:7.3f}  {frame:70} [{stage}]")


def report_run_costs(rates: dict[str, float], costs: dict[str, dict[str, float]]) -> None:
    """Each throughput run's cores kept busy and its CPU a write in all, and so the most it could
    reach on this machine's cores: a run near all of them is limited by its CPU a write, and only a
    cheaper write goes faster there."""
    if not costs:
        return
    cores = os.cpu_count() or 1
    print(f"\n== What each of those runs cost ({cores} cores; CPU a write until relayed and indexed) ==")
    print(
        f"{'run':22} {'cores busy':>10} {'service':>8} {'database':>8} {'node':>8} {'load':>8} {'all, ms':>8} "
        f"{'at most /s':>10}"
    )

    def cell(cost: dict[str, float], key: str) -> str:
        return f"{cost[key]:8.2f}" if key in cost else f"{'-':>8}"

    def in_all(cost: dict[str, float]) -> float:
        return sum(v for k, v in cost.items() if k.endswith("_ms"))

    for run, cost in costs.items():
        whole = in_all(cost)
        load = cost.get("load generator_ms", cost.get("loop_ms", 0.0))
        print(
            f"{run:22} {cost['cores_busy']:10.2f} {cell(cost, 'service_ms')} {cell(cost, 'database_ms')} "
            f"{cost['node_ms']:8.2f} {load:8.2f} {whole:8.2f} {cores * 1000 / whole:10,.0f}"
        )
    for label in ("c=8", "c=32"):
        api, bare_rate = costs.get(f"api {label} 1p"), rates.get(f"bare {label}")
        if api and bare_rate:
            allowed = cores * 1000 / bare_rate
            api_all = in_all(api)
            floor = costs.get(f"floor {label}")
            print(
                f"{label}: at the bare loop's rate ({bare_rate:,.0f} a second) the {cores} cores allow "
                f"{allowed:.2f} ms of CPU a write in all; the API path's costs {api_all:.2f}, its node's and "
                f"load generator's alone {api['node_ms'] + api['load generator_ms']:.2f}"
                + (f"; the relaying floor's {in_all(floor):.2f}" if floor else "")
            )


def report_floor(api: dict, floor: dict, bare: dict) -> None:
    """The API path beside the floor (bench/floor.py) and the bare loop: what the service's
    guarantees and its relaying cost above the least a Python door can spend."""
    print(
        "\n== The floor: a bare ASGI app that checks the signature, runs the call once, stores it (bench/floor.py) =="
    )
    print(f"{'per accepted claim':46} {'API path':>12} {'floor':>12} {'bare loop':>12}")
    rows = [
        ("rate, /s", api["accepted_per_s"], floor["accepted_per_s"], bare["sent_and_mined_per_s"]),
        ("service CPU, ms", api["service_cpu_ms"], floor["service_cpu_ms"], None),
        ("node (Anvil) CPU, ms", api["node_cpu_ms"], floor["node_cpu_ms"], bare["node_cpu_ms"]),
        ("load generator / loop CPU, ms", api["load_generator_cpu_ms"], floor["load_generator_cpu_ms"],
         bare["loop_cpu_ms"]),
        ("JSON-RPC calls, all", sum(api["calls_per_write"].values()), sum(floor["calls_per_write"].values()),
         sum(bare["calls_per_write"].values())),
        ("the service's threads switched off their core", api["switches_per_write"], floor["switches_per_write"],
         None),
    ]  # fmt: skip
    for label, *cells in rows:
        print(f"{label:46} " + " ".join(f"{v:12.2f}" if v is not None else f"{'-':>12}" for v in cells))
    all_floor = floor["service_cpu_ms"] + floor["node_cpu_ms"] + floor["load_generator_cpu_ms"]
    all_bare = bare["node_cpu_ms"] + bare["loop_cpu_ms"]
    print(
        f"service CPU, API / floor: {api['service_cpu_ms'] / floor['service_cpu_ms']:.2f}x; "
        f"node CPU, floor / bare loop: {floor['node_cpu_ms'] / bare['node_cpu_ms']:.2f}x"
    )
    print(
        f"CPU a write in all: floor {all_floor:.2f} ms, bare loop {all_bare:.2f} ms: on two cores at most "
        f"{2000 / all_floor:,.0f} and {2000 / all_bare:,.0f} writes a second"
    )


if __name__ == "__main__":
    sys.exit(main())
