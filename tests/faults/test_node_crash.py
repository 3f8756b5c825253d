"""The chain node killed in the middle of a burst of 200 relayed claims, and restarted from its
state file, twice: once with SIGKILL while Anvil writes its state every second (the blocks mined
since the last write are lost, as in a reorganisation, and so is the pool) and once with SIGTERM
(state written on exit; only the pool is lost). The service is not restarted.

Each member's client follows the protocol a wallet would: prepare, sign, submit with wait=false,
then poll its request's status until it is final. An error answer before the request was
accepted (503 node down, 409 "prepare it again") and a final status "failed" both mean nothing
was recorded: the client prepares and signs again (a fresh member nonce). A transaction the node
lost, or whose block the SIGKILL rolled back, is the relayer's to send again from its outbox:
after the burst every request the client saw succeed is succeeded in a transaction the chain
has. Then, against the chain's own logs: every evidence URI exactly once (0 lost, 0 duplicated),
the index holds exactly the chain's claims, and the relayer has nothing stuck behind a nonce gap."""

from __future__ import annotations

import signal
import threading
import time

import httpx
from eth_account import Account
from sqlalchemy import create_engine, select

from backend.chain.deployments import Deployments
from backend.indexer.db import _normalise
from backend.indexer.models import EventRecord
from backend.settings import ANVIL_DEV_KEYS
from devstack.stack import rpc, wait_until
from tests.e2e.conftest import ALICE, BOB, CAROL, DANA
from tests.faults.conftest import Counter, Writer, chain_claims, chain_from, retry_reasons, server_for, tally, write_all

WRITES = 200
MEMBERS = (ALICE, BOB, CAROL, DANA)
FAULTS = ((60, signal.SIGKILL), (130, signal.SIGTERM))  # (confirmed writes before the kill, signal)


def test_node_killed_mid_burst_loses_and_doubles_nothing(community, tmp_path):
    # Blocks every 0.25 s; the state file written every second (and on SIGTERM/SIGINT).
    anvil = chain_from(community, tmp_path, "--block-time", "0.25", "--state-interval", "1")
    server = server_for(anvil, community, tmp_path)
    deployments = Deployments.load(community.deployments)
    relayer = Account.from_key(ANVIL_DEV_KEYS[0]).address
    try:
        server.start()
        confirmed = Counter()
        writers = [Writer(server.url, key, confirmed) for key in MEMBERS]
        uris = {
            w.key: [f"https://fault.example/node/{i}/{j}" for j in range(WRITES // len(MEMBERS))]
            for i, w in enumerate(writers)
        }
        kills: list[dict] = []
        done = threading.Event()

        def faults() -> None:
            for after, sig in FAULTS:
                while confirmed.value < after and not done.is_set():
                    time.sleep(0.01)
                if done.is_set():
                    return
                head = int(rpc(anvil.url, "eth_blockNumber"), 16)
                anvil.kill(sig)
                time.sleep(0.5)
                anvil.start()
                kills.append(
                    {
                        "signal": sig.name,
                        "at": confirmed.value,
                        "head": head,
                        "head_after": int(rpc(anvil.url, "eth_blockNumber"), 16),
                    }
                )

        killer = threading.Thread(target=faults)
        killer.start()
        try:
            burst = write_all(writers, uris)
        finally:
            done.set()
            killer.join()
        assert [k["signal"] for k in kills] == ["SIGKILL", "SIGTERM"], kills

        # A write confirmed before the SIGKILL may have been rolled back with its block: the
        # relayer notices (its receipt is gone) and sends the same signed request again, so the
        # request ends succeeded in a transaction the chain has. Its status never stays
        # "succeeded" for a transaction the chain lost.
        for writer in writers:
            for uri, request_id in writer.requests.items():
                status = writer.poll(request_id)
                if status["state"] != "succeeded" or status["tx_hash"] is None:
                    raise AssertionError(f"{uri}: request {request_id} ended {status}")
                on_chain = rpc(anvil.url, "eth_getTransactionReceipt", status["tx_hash"])
                assert on_chain is not None and on_chain["status"] == "0x1", (uri, status)

        # Against the chain: each URI exactly once, and every confirmed transaction on it.
        claims = chain_claims(anvil.url, deployments)
        ours = [c for c in claims if c["evidenceURI"].startswith("https://fault.example/node/")]
        expected = {uri for group in uris.values() for uri in group}
        lost, duplicated, by_uri = tally(claims, expected, "https://fault.example/node/")
        client_confirmed = {
            uri: w.api.get(f"/requests/{i}")["tx_hash"] for w in writers for uri, i in w.requests.items()
        }
        on_chain_hashes = {c["evidenceURI"]: c["tx_hash"] for c in ours}
        reasons = retry_reasons(writers)
        retried = sum(reasons.values())
        print(
            f"\nnode faults: {WRITES} writes, {len(client_confirmed)} confirmed, {retried} retries {reasons}, "
            f"{len(lost)} lost, "
            f"{len(duplicated)} duplicated; burst {burst:.1f} s; kills {kills}"
        )
        assert not lost and not duplicated
        assert len(ours) == WRITES and set(by_uri) == expected
        assert {u: h.lower() for u, h in client_confirmed.items()} == {u: h.lower() for u, h in on_chain_hashes.items()}

        # The index: caught up without a restart, and holding exactly the chain's claims.
        api = writers[0].api
        wait_until(
            lambda: (h := api.get("/health"))["indexed_block"] >= h["head_block"] - 1, timeout=30, what="index catch-up"
        )
        engine = create_engine(_normalise(f"sqlite:///{tmp_path / 'index.sqlite3'}"))
        with engine.connect() as connection:
            indexed = connection.execute(
                select(EventRecord.block_number, EventRecord.log_index, EventRecord.tx_hash).where(
                    EventRecord.name == "ClaimSubmitted"
                )
            ).all()
        engine.dispose()
        assert sorted(indexed) == sorted((c["block"], c["log_index"], c["tx_hash"]) for c in claims)
        assert api.get("/claims", limit=1)["total"] == len(claims)
        assert api.get("/health")["indexer_error"] is None

        # The relayer resynchronised: nothing of its own waits behind a nonce gap.
        assert rpc(anvil.url, "eth_getTransactionCount", relayer, "pending") == rpc(
            anvil.url, "eth_getTransactionCount", relayer, "latest"
        )
        with httpx.Client() as http:
            assert http.get(server.url + "/health").status_code == 200
    finally:
        server.stop()
        if anvil.process:
            anvil.stop()
