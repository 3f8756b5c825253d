"""The service killed (SIGKILL) in the middle of a burst of relayed claims, and started again on
the same database: the index resumes from its cursor, catches up with the chain, and equals row
for row a full reindex from the deployment block into a fresh database."""

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
from bench.api import wait_mined
from tests.e2e.conftest import ALICE, BOB, CAROL, DANA
from tests.e2e.harness import dump_index, rpc, wait_until
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
        accepted, hashes, lock = Counter(), [], threading.Lock()
        retries: dict[str, int] = {}
        killed: dict = {}

        def member(key: str, index: int) -> None:
            api = CommunityClient(server.url, timeout=30)
            for j in range(PER_MEMBER):
                for _ in range(100):
                    try:
                        tx = api.act("claims", key, wait=False, indicator_id=INDICATOR,
                                     evidence_uri=f"fault://service/{index}/{j}")
                        break
                    except (httpx.TransportError, ApiError) as exc:  # the service is down or starting
                        why = type(exc).__name__
                        with lock:
                            retries[why] = retries.get(why, 0) + 1
                        time.sleep(0.1)
                else:
                    raise AssertionError("the service did not come back")
                with lock:
                    hashes.append(tx["tx_hash"])
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

        last = wait_mined(anvil.url, hashes)
        api = CommunityClient(server.url)
        wait_until(lambda: api.get("/health")["indexed_block"] >= last, timeout=30, what="index catch-up")
        cursor, events = _index_state(live)
        assert cursor >= killed["cursor"] and events >= killed["events"]  # resumed, nothing forgotten

        # Every event of the community's contracts on the chain is in the index, once.
        deployments = Deployments.load(community.deployments)
        c = next(iter(deployments.communities.values()))
        on_chain = rpc(anvil.url, "eth_getLogs", {"address": list(c.contracts.values()),
                                                  "fromBlock": hex(c.deployment_block), "toBlock": hex(cursor)})
        assert events == len(on_chain)

        rebuilt = f"sqlite:///{tmp_path / 'rebuilt.sqlite3'}"
        result = server.run("reindex", env={"DATABASE_URL": rebuilt})
        assert result.returncode == 0, result.stderr
        incremental, fresh = dump_index(live), dump_index(rebuilt)
        claims = [row for row in incremental["events"] if "'ClaimSubmitted'" in row]
        print(f"\nservice fault: {len(hashes)} writes accepted, killed after {killed['at']} with the index at "
              f"block {killed['cursor']} ({killed['events']} events); client retries {retries}; resumed to "
              f"block {cursor} ({events} events, {len(claims)} claims); full reindex equal: {incremental == fresh}")
        assert len(claims) >= len(hashes)
        assert incremental == fresh
    finally:
        server.stop()
        anvil.stop()
