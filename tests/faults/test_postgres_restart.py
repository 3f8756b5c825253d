"""The service's PostgreSQL (index and relayer outbox in one database) restarted in the middle of
a burst of relayed claims from four members, twice, as by a crash (`pg_ctl stop -m immediate`,
every connection cut, then started again a second later), while the service and the chain keep
running.

The members' clients follow the protocol (prepare, sign, submit with wait=false, poll the
request until final). While the database is away, preparing and submitting answer 503 (the
client submits the same signed request again: submitting is idempotent, so a request accepted as
the database failed is not doubled), and following an accepted request answers 503 until it is
back: never a 500, never a request forgotten. The relayer loses its leader lock with its
connection, takes it again, and settles what it had sent from the receipts. Every write ends on
chain exactly once (against the chain's own ClaimSubmitted logs) and the index catches up."""

from __future__ import annotations

import time

from eth_account import Account

from backend.chain.deployments import Deployments
from backend.client import CommunityClient
from backend.settings import ANVIL_DEV_KEYS
from devstack.stack import rpc, wait_until
from tests.e2e.conftest import ALICE, BOB, CAROL, DANA
from tests.faults.conftest import (
    Beside,
    Counter,
    Writer,
    chain_claims,
    chain_from,
    relayer_waiting,
    retry_reasons,
    server_for,
    tally,
    write_all,
)

PER_MEMBER = 25
MEMBERS = (ALICE, BOB, CAROL, DANA)
RELAYER = Account.from_key(ANVIL_DEV_KEYS[0]).address
PREFIX = "https://fault.example/pg/"
DOWN = 1  # seconds between the crash and the start


def test_postgres_restarted_mid_burst_loses_and_doubles_nothing(community, tmp_path, postgres):
    anvil = chain_from(community, tmp_path, "--block-time", "0.25")
    server = server_for(anvil, community, tmp_path, postgres.url)
    try:
        server.start()
        api = CommunityClient(server.url)
        confirmed = Counter()
        writers = [Writer(server.url, key, confirmed) for key in MEMBERS]
        uris = {w.key: [f"{PREFIX}{i}/{j}" for j in range(PER_MEMBER)] for i, w in enumerate(writers)}
        restarts: list[dict] = []

        def restart_postgres(fault: Beside) -> None:
            # Twice: once just as the relayer has a transaction out, not yet settled; once at
            # whatever moment the 65th write is confirmed.
            for after, synced in ((30, True), (65, False)):
                fault.until(lambda: confirmed.value >= after)
                waiting = relayer_waiting(anvil.url, RELAYER) if synced else None
                at, started = confirmed.value, time.monotonic()
                postgres.stop("immediate")
                time.sleep(DOWN)
                postgres.start()
                restarts.append({"at": at, "relayer waiting": waiting, "down": round(time.monotonic() - started, 1)})

        with Beside(restart_postgres):
            burst = write_all(writers, uris)

        # Every request accepted (those the writers saw fail included) is settled, and succeeded.
        accepted = [i for w in writers for _, i in w.accepted]
        states = {api.get(f"/requests/{i}")["state"] for i in accepted}
        assert states == {"succeeded"}, states
        expected = {uri for group in uris.values() for uri in group}
        claims = chain_claims(anvil.url, Deployments.load(community.deployments))
        lost, duplicated, _ = tally(claims, expected, PREFIX)
        assert not lost and not duplicated, (lost, duplicated)
        for writer in writers:  # each request the client saw succeed is in a transaction the chain has
            for uri, request_id in writer.requests.items():
                status = api.get(f"/requests/{request_id}")
                on_chain = rpc(anvil.url, "eth_getTransactionReceipt", status["tx_hash"])
                assert on_chain is not None and on_chain["status"] == "0x1", (uri, status)

        # The relayer leads again, has nothing stuck, and the index caught up.
        relayer = api.get("/relayer")
        assert relayer["leading"] and relayer["in_flight"] == 0 and relayer["paused"] is None, relayer
        assert rpc(anvil.url, "eth_getTransactionCount", RELAYER, "pending") == rpc(
            anvil.url, "eth_getTransactionCount", RELAYER, "latest"
        )
        wait_until(lambda: api.get("/claims", limit=1)["total"] == len(claims), timeout=30, what="index catch-up")
        reasons = retry_reasons(writers)
        unavailable = sum(w.unavailable for w in writers)
        print(
            f"\npostgres restart: {len(expected)} writes, {len(accepted)} accepted, all succeeded; PostgreSQL "
            f"crashed and restarted twice {restarts}; retries {sum(reasons.values())} {reasons}; {unavailable} "
            f"503s while following; 0 answers 500; {len(lost)} lost, {len(duplicated)} duplicated; index caught up; "
            f"burst {burst:.1f} s"
        )
        assert sum(reasons.values()) + unavailable > 0, "no request met the restart"
    finally:
        server.stop()
        anvil.stop()
