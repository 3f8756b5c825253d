"""The service killed (SIGKILL) in the middle of a burst of relayed claims, and started again on
the same database: the index resumes from its cursor, catches up with the chain, and equals row
for row a full reindex from the deployment block into a fresh database.

A client whose request broke off with the service (it may have been accepted before the kill)
submits the same signed request again rather than signing a new one: the outbox holds one
request per (forwarder, signer, nonce), and the member's forwarder nonce lets it be recorded at
most once (the service answers 409 ReplayedRequest when the first was accepted). Requests
accepted but not yet sent when the service died are sent by the restarted one. So every claim
is recorded exactly once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import create_engine, func, select

from backend.chain.deployments import Deployments
from backend.client import ApiError, CommunityClient
from backend.indexer.db import _normalise
from backend.indexer.models import Cursor, EventRecord
from devstack.stack import dump_index, rpc, wait_until
from tests.e2e.conftest import ALICE, BOB, CAROL, DANA, address
from tests.faults.conftest import INDICATOR, Counter, chain_from, server_for

PER_MEMBER = 30
MEMBERS = (ALICE, BOB, CAROL, DANA)
KILL_AFTER = 40  # accepted writes


def _index_state(url: str) -> tuple[int, int]:
    engine = create_engine(_normalise(url))
    with engine.connect() as connection:
        cursor = connection.scalar(select(func.max(Cursor.block_number))) or 0
        events = connection.scalar(select(func.count()).select_from(EventRecord))
    engine.dispose()
    return cursor, events


def test_service_killed_mid_burst_resumes_and_equals_a_full_reindex(community, tmp_path):
    anvil = chain_from(community, tmp_path, "--block-time", "0.25")
    server = server_for(anvil, community, tmp_path)
    live = f"sqlite:///{tmp_path / 'index.sqlite3'}"
    try:
        server.start()
        accepted, request_ids, replayed, lock = Counter(), [], [], threading.Lock()
        retries: dict[str, int] = {}
        killed: dict = {}

        def member(key: str, index: int) -> None:
            api = CommunityClient(server.url, timeout=30)
            for j in range(PER_MEMBER):
                signed = None
                for _ in range(100):
                    try:
                        if signed is None:
                            typed = api.prepare(
                                "claims",
                                signer=address(key),
                                indicator_id=INDICATOR,
                                evidence_uri=f"https://fault.example/service/{index}/{j}",
                            )["typed_data"]
                            signed = {"typed_data": typed, "signature": api.sign(key, typed)}
                        tx = api.post("/claims", signed, wait="false")
                        break
                    except ApiError as exc:
                        if exc.problem.get("error") == "ReplayedRequest":  # the broken-off one went through
                            tx = None
                            break
                        why = f"{exc.status} {exc.problem.get('title')}"
                    except httpx.TransportError as exc:  # the service is down, starting, or died answering
                        why = type(exc).__name__
                    with lock:
                        retries[why] = retries.get(why, 0) + 1
                    time.sleep(0.1)
                else:
                    raise AssertionError("the service did not come back")
                with lock:
                    if tx is None:
                        replayed.append(j)
                    else:
                        request_ids.append(tx["request_id"])
                accepted.add()

        def kill() -> None:
            while accepted.value < KILL_AFTER:
                time.sleep(0.005)
            server.process.kill()
            server.process.wait(timeout=10)
            killed.update(zip(("cursor", "events"), _index_state(live)), at=accepted.value)
            server.start()

        killer = threading.Thread(target=kill)
        killer.start()
        with ThreadPoolExecutor(len(MEMBERS)) as pool:
            list(pool.map(member, MEMBERS, range(len(MEMBERS))))
        killer.join()
        assert killed, "the service was never killed"

        # Every accepted request is in the outbox, which outlived the kill: the restarted service's
        # relayer sends whatever was still waiting, and each request ends succeeded.
        api = CommunityClient(server.url)
        wait_until(
            lambda: all(api.get(f"/requests/{i}")["status"] != "pending" for i in request_ids),
            timeout=60,
            what="every accepted request settled",
        )
        settled = [api.get(f"/requests/{i}") for i in request_ids]
        assert {s["state"] for s in settled} == {"succeeded"}, [s for s in settled if s["state"] != "succeeded"]
        last = max(s["block_number"] for s in settled)
        wait_until(lambda: api.get("/health")["indexed_block"] >= last, timeout=30, what="index catch-up")
        cursor, events = _index_state(live)
        assert cursor >= killed["cursor"] and events >= killed["events"]  # resumed, nothing forgotten

        # Every event of the community's contracts on the chain is in the index, once.
        deployments = Deployments.load(community.deployments)
        c = next(iter(deployments.communities.values()))
        on_chain = rpc(
            anvil.url,
            "eth_getLogs",
            {"address": list(c.contracts.values()), "fromBlock": hex(c.deployment_block), "toBlock": hex(cursor)},
        )
        assert events == len(on_chain)

        rebuilt = f"sqlite:///{tmp_path / 'rebuilt.sqlite3'}"
        result = server.run("reindex", env={"DATABASE_URL": rebuilt})
        assert result.returncode == 0, result.stderr
        incremental, fresh = dump_index(live), dump_index(rebuilt)
        claims = [row for row in incremental["events"] if "'ClaimSubmitted'" in row]
        writes = PER_MEMBER * len(MEMBERS)
        print(
            f"\nservice fault: {writes} writes ({len(replayed)} answered ReplayedRequest on resubmission), "
            f"killed after {killed['at']} with the index at block {killed['cursor']} ({killed['events']} events); "
            f"client retries {retries}; resumed to block {cursor} ({events} events, {len(claims)} claims); "
            f"full reindex equal: {incremental == fresh}"
        )
        assert len(claims) == writes  # 0 lost, 0 duplicated
        assert incremental == fresh
    finally:
        server.stop()
        anvil.stop()
