"""Shared by the fault tests: one community deployed and governed once (an indicator that
needs one attestation, Dana admitted), kept as an Anvil state file; each test starts its own
Anvil from a copy of it, so a test may kill its chain or its service without touching another.

Also shared: the member's client that writes through a fault (Writer), the chain's own record of
claims to check it against (chain_claims, tally), the relayer's transactions as its outbox keeps
them (relay_batches), and a PostgreSQL cluster of a test's own (the `postgres` fixture)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from backend.chain.deployments import Deployments
from backend.client import ApiError, CommunityClient
from backend.indexer.db import _normalise
from backend.relay.outbox import RelayBatch
from devstack.stack import (
    UNTHROTTLED,
    Anvil,
    Server,
    free_port,
    local_stack,
    rpc,
    service_env,
)
from tests.e2e.conftest import ALICE, DANA, Env, address, pass_proposal

INDICATOR = 1


class FaultAnvil(Anvil):
    """Anvil with extra flags (mining interval, how often the state file is written), and kills.
    Started from the governed community's state, whose clock `pass_proposal` moved ahead, its clock
    resumes after that state's newest block (the harness's start): with --block-time, a block
    mined at the wall clock would be older than the last one."""

    def kill(self, sig: int) -> None:
        """SIGKILL loses what was mined since the last state dump; SIGTERM/SIGINT dump first.
        A SIGKILL that lands while Anvil is writing its state file leaves it cut short, and Anvil
        then refuses to start from it (CI saw this once): the node restarts from its last whole
        dump instead, read just before the kill, as a node recovers from its last checkpoint."""
        last_whole = _whole_json(self.state) if sig == signal.SIGKILL else None
        self.process.send_signal(sig)
        self.process.wait(timeout=20)
        self.process = None
        if last_whole is not None and _whole_json(self.state, tries=1) is None:
            self.state.write_bytes(last_whole)


def _whole_json(path: Path, tries: int = 20) -> bytes | None:
    """The file's bytes once they are a whole JSON document (Anvil may be writing it as we read)."""
    for _ in range(tries):
        try:
            data = path.read_bytes()
            json.loads(data)
            return data
        except (OSError, ValueError):
            time.sleep(0.05)
    return None


@dataclass
class Community:
    state: Path
    deployments: Path


@pytest.fixture(scope="package")
def community(tmp_path_factory) -> Community:
    work = tmp_path_factory.mktemp("faults-community")
    # Leaving the stack stops Anvil with SIGINT: its state file then holds the governed community.
    with local_stack(work, anvil=FaultAnvil(work), settings=UNTHROTTLED) as stack:
        env = Env(stack.anvil, stack.server, stack.deployments, "", CommunityClient(stack.server.url), work)
        code = {
            "type": "add_indicator",
            "name": "Merged patch",
            "category": "code",
            "orientation": "object",
            "weight": 3,
            "endorsements_required": 1,
        }
        pass_proposal(
            env,
            ALICE,
            "Faults: one indicator, Dana admitted",
            [code, {"type": "admit_member", "account": address(DANA)}],
        )
    return Community(stack.anvil.state, stack.deployments)


def chain_from(community: Community, workdir: Path, *flags: str) -> FaultAnvil:
    """A chain of its own, started from a copy of the governed community's state."""
    anvil = FaultAnvil(workdir, *flags)
    shutil.copy(community.state, anvil.state)
    anvil.start()
    return anvil


def server_for(
    anvil: Anvil, community: Community, workdir: Path, database_url: str | None = None, **settings: str
) -> Server:
    """The service for the chain, on SQLite in `workdir` unless given a database, budgets lifted;
    `settings` are more of its environment (CC_RELAY_MAX_FEE_PER_GAS="...", say)."""
    database_url = database_url or f"sqlite:///{workdir / 'index.sqlite3'}"
    return Server(
        {**service_env(anvil, community.deployments, database_url), **UNTHROTTLED, **settings}, workdir / "api.log"
    )


class Counter:
    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def add(self, n: int = 1) -> int:
        with self._lock:
            self.value += n
            return self.value


class Writer:
    """One member's client, as a wallet follows the protocol: prepare, sign, submit with
    wait=false, then poll its request's status until it is final. A 503 on submitting (the node,
    the database or the relayer away; the request may even have been accepted as the database
    failed) is answered by submitting the same signed request again, which is idempotent. A 409
    ("prepare it again"), a 503 on preparing and a final status "failed" mean nothing was
    recorded: it prepares and signs again (a fresh member nonce). Each is counted as a retry; any
    other answer (a 500, say) fails the test."""

    def __init__(self, url: str, key: str, confirmed: Counter, settle_timeout: float = 30) -> None:
        self.api = CommunityClient(url, timeout=30)
        self.key = key
        self.signer = address(key)
        self.confirmed = confirmed
        self.settle_timeout = settle_timeout
        self.retries: dict[str, int] = {}
        self.requests: dict[str, int] = {}  # evidence URI -> the relayed request the client saw succeed
        self.accepted: list[tuple[float, int]] = []  # (time.monotonic(), request id) of every 202
        self.unavailable = 0  # 503 answers while following an accepted request

    def _retry(self, why: str) -> None:
        self.retries[why] = self.retries.get(why, 0) + 1
        time.sleep(0.1)

    def write(self, uri: str) -> None:
        for _ in range(40):
            try:
                typed = self.api.prepare("claims", signer=self.signer, indicator_id=INDICATOR, evidence_uri=uri)[
                    "typed_data"
                ]
                accepted = self.submit({"typed_data": typed, "signature": self.api.sign(self.key, typed)})
            except ApiError as exc:
                # Refused before anything was accepted: safe to prepare and sign again.
                assert exc.status in (503, 409) and exc.problem.get("error") != "ReplayedRequest", exc
                self._retry(f"{exc.status} {exc.problem.get('title')}")
                continue
            self.accepted.append((time.monotonic(), accepted["request_id"]))
            status = self.poll(accepted["request_id"])
            if status["status"] == "succeeded":
                self.requests[uri] = accepted["request_id"]
                self.confirmed.add()
                return
            self._retry(f"failed ({status['state']})")
        raise AssertionError(f"{uri}: not confirmed after 40 attempts")

    def submit(self, signed: dict) -> dict:
        for _ in range(200):
            try:
                return self.api.post("/claims", signed, wait="false")
            except ApiError as exc:
                if exc.status != 503:
                    raise
                self._retry(f"503 {exc.problem.get('title')}, the same request submitted again")
        raise AssertionError("the same signed request was answered 503 200 times")

    def poll(self, request_id: int) -> dict:
        deadline = time.monotonic() + self.settle_timeout
        while time.monotonic() < deadline:
            try:
                status = self.api.get(f"/requests/{request_id}")
                if status["status"] != "pending":
                    return status
            except ApiError as exc:
                assert exc.status == 503, exc
                self.unavailable += 1
            time.sleep(0.1)
        raise AssertionError(
            f"request {request_id} still pending after {self.settle_timeout} s: stuck behind a relayer nonce gap?"
        )


def write_all(writers: list[Writer], uris: dict[str, list[str]]) -> float:
    """Each writer writes its URIs (`uris` by the writer's key), all writers at once; the seconds it took."""
    started = time.monotonic()
    with ThreadPoolExecutor(len(writers)) as pool:
        list(pool.map(lambda w: [w.write(uri) for uri in uris[w.key]], writers))
    return time.monotonic() - started


def retry_reasons(writers: Iterable[Writer]) -> dict[str, int]:
    reasons: dict[str, int] = {}
    for writer in writers:
        for why, n in writer.retries.items():
            reasons[why] = reasons.get(why, 0) + n
    return reasons


def chain_claims(anvil_url: str, deployments: Deployments) -> list[dict]:
    """Every ClaimSubmitted of the community, decoded from the chain's own logs (eth_getLogs)."""
    community = next(iter(deployments.communities.values()))
    badge = deployments.abis["badge"]
    logs = rpc(
        anvil_url,
        "eth_getLogs",
        {"address": community.contracts["badge"], "fromBlock": hex(community.deployment_block), "toBlock": "latest"},
    )
    claims = []
    for entry in logs:
        topics = [bytes.fromhex(t[2:]) for t in entry["topics"]]
        event = badge.events.get(topics[0])
        if event is not None and event.name == "ClaimSubmitted":
            args = event.decode(topics, bytes.fromhex(entry["data"][2:]))
            claims.append(
                {
                    **args,
                    "tx_hash": entry["transactionHash"],
                    "block": int(entry["blockNumber"], 16),
                    "log_index": int(entry["logIndex"], 16),
                }
            )
    return claims


def tally(claims: list[dict], expected: set[str], prefix: str) -> tuple[set[str], dict[str, int], dict[str, int]]:
    """The chain's claims under `prefix` against the URIs written: (lost, duplicated, count by URI)."""
    by_uri: dict[str, int] = {}
    for claim in claims:
        if claim["evidenceURI"].startswith(prefix):
            by_uri[claim["evidenceURI"]] = by_uri.get(claim["evidenceURI"], 0) + 1
    return expected - set(by_uri), {uri: n for uri, n in by_uri.items() if n > 1}, by_uri


def relay_batches(database_url: str) -> list[dict[str, Any]]:
    """The relayer's transactions as its outbox holds them: each with every signed version
    (`attempts`: a replacement adds one), its state and the hash mined."""
    engine = create_engine(_normalise(database_url))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    RelayBatch.id, RelayBatch.relayer_nonce, RelayBatch.state, RelayBatch.attempts, RelayBatch.tx_hash
                ).order_by(RelayBatch.id)
            ).all()
    finally:
        engine.dispose()
    return [dict(row._mapping) for row in rows]


class Beside:
    """A fault's script, run in a thread beside the burst (`with Beside(script) as fault:` around
    it); the script waits for its moment with `fault.until(...)`. Leaving the block waits for the
    script and raises again what it raised, so a fault that failed, or never came, fails the test."""

    def __init__(self, script: Callable[[Beside], None]) -> None:
        self.error: BaseException | None = None
        self.done = threading.Event()  # the burst is over

        def run() -> None:
            try:
                script(self)
            except BaseException as exc:
                self.error = exc

        self.thread = threading.Thread(target=run, daemon=True)

    def until(self, condition: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.done.is_set() or time.monotonic() > deadline:
                raise AssertionError("the burst ended (or the wait timed out) before the fault's moment")
            time.sleep(0.01)

    def __enter__(self) -> Beside:
        self.thread.start()
        return self

    def __exit__(self, kind, value, traceback) -> None:
        self.done.set()
        self.thread.join()
        if self.error is not None and kind is None:
            raise self.error


def _waiting(anvil_url: str, relayer: str) -> int:
    """How many of the relayer's transactions wait in the node's pool."""
    mined, pending = (int(rpc(anvil_url, "eth_getTransactionCount", relayer, tag), 16) for tag in ("latest", "pending"))
    return pending - mined


class Miner:
    """Mines a block every `every` seconds, at a base fee it holds if given one (the chain runs
    --no-mining).

    Block production and faults live under one lock: a fault injected by `when_waiting` meets
    the relayer's waiting transactions in the next block, for certain. With Anvil's own interval
    mining beside the test, a loaded machine lost that race twice in CI: the transactions
    waiting when a fee spike was set were mined in a block built at the old fee, and nothing was
    left to replace. (anvil_setNextBlockBaseFeePerGas sets one block's fee; EIP-1559 lowers it
    block by block after that, since they are far from full: the fee is set before each block.)"""

    def __init__(self, url: str, base_fee: int | None = None, every: float = 0.5) -> None:
        self.url = url
        self.base_fee = base_fee
        self.every = every
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._mine, daemon=True)

    def set(self, base_fee: int) -> None:
        with self._lock:
            self.base_fee = base_fee

    def when_waiting(self, relayer: str, fault: Callable[[], Any], timeout: float = 15) -> int:
        """Inject `fault` at a moment the relayer has transactions in the pool, no block mined in
        between: the next block meets them after it. How many waited."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                if waiting := _waiting(self.url, relayer):
                    fault()
                    return waiting
                if time.monotonic() > deadline:
                    raise AssertionError(f"no transaction of the relayer waited in the pool within {timeout} s")
                time.sleep(0.005)

    def _mine(self) -> None:
        while True:
            with self._lock:
                try:
                    if self.base_fee is not None:
                        rpc(self.url, "anvil_setNextBlockBaseFeePerGas", hex(self.base_fee))
                    rpc(self.url, "evm_mine")
                except Exception:  # the chain is being stopped
                    return
            if self._stop.wait(self.every):
                return

    def start(self) -> Miner:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def __enter__(self) -> Miner:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def relayer_waiting(anvil_url: str, relayer: str, timeout: float = 15) -> int:
    """Return at a moment just after a block, while transactions of the relayer wait in the node's
    pool (how many): a fault injected now most likely meets them before the next block is built
    (on a loaded machine, not always: a test that needs it to, mines with `Miner`)."""
    deadline = time.monotonic() + timeout
    last = rpc(anvil_url, "eth_blockNumber")
    while time.monotonic() < deadline:
        head = rpc(anvil_url, "eth_blockNumber")
        if head != last:  # a block was just mined: the next one is most of a block time away
            last, seen = head, time.monotonic()
            while time.monotonic() - seen < 0.25:
                if waiting := _waiting(anvil_url, relayer):
                    return waiting
                time.sleep(0.005)
        time.sleep(0.005)
    raise AssertionError(f"no transaction of the relayer waited in the pool within {timeout} s")


def signed_versions(batches: list[dict[str, Any]]) -> int:
    """How many transactions the relayer signed (each replacement is one more)."""
    return sum(len(b["attempts"]) for b in batches)


# ---------------------------------------------------------------------- a PostgreSQL of a test's own


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


class PrivatePostgres:
    """A PostgreSQL cluster in a folder of its own, on a free port, run as the `postgres` user:
    a test may stop or crash it without touching any other."""

    def __init__(self, folder: Path) -> None:
        self.bin = _pg_bin()
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *command: str) -> None:
        line = " ".join(f"'{part}'" for part in command)
        subprocess.run(["su", "postgres", "-c", line], check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.folder, "postgres", "postgres")
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")

    def start(self) -> None:
        self._as_postgres(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "log"),
            "-w",
            "-o",
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1",
            "start",
        )

    def stop(self, mode: str = "immediate") -> None:
        """`immediate` is a crash: connections cut, no checkpoint."""
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")


@pytest.fixture
def postgres(tmp_path, request):
    """A private PostgreSQL cluster, started. Skipped without PostgreSQL's server binaries or
    root, except under CI (CI=true), where that fails: CI has PostgreSQL and must run these."""
    if _pg_bin() is None or os.geteuid() != 0:
        if os.environ.get("CI"):
            raise AssertionError(f"CI must run {request.node.name}: PostgreSQL's binaries and root are needed")
        pytest.skip("needs PostgreSQL's server binaries (Debian's postgresql) and root to run them as postgres")
    folder = Path("/tmp") / f"cc-pg-{tmp_path.name}-{os.getpid()}"  # short: the socket path has a length limit
    server = PrivatePostgres(folder)
    server.init()
    server.start()
    yield server
    try:
        server.stop("fast")
    except subprocess.CalledProcessError:
        pass
    shutil.rmtree(folder, ignore_errors=True)
