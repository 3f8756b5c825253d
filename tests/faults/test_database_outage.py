"""The index's PostgreSQL stopped (as by a crash) for five seconds in the middle of a burst of
relayed writes from four members, then started again.

The relayer's outbox lives in the same database: while it is away, a write cannot be accepted
and is refused with a 503. The database may also fail as it commits the request, so that the
request was accepted but the answer is lost: the client sends the same signed request again, and
submitting is idempotent (the same signature answers with the request accepted before; CI once
saw a write doubled when the client signed anew instead). Once accepted, a write's answer
carries its request id whatever fails afterwards, never a 500: a 503 with `request_id` and a
`Location` to follow. So every write is on chain exactly once, and the index catches up when the
database is back.

The database is a PostgreSQL cluster of the test's own (the `postgres` fixture: initdb in a
temporary folder, run as the `postgres` user), so that stopping it touches no other test.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from backend.chain.deployments import Deployments
from backend.client import ApiError, CommunityClient
from devstack.stack import wait_until
from tests.e2e.conftest import ALICE, BOB, CAROL, DANA, address
from tests.faults.conftest import INDICATOR, Counter, chain_claims, chain_from, server_for

PER_MEMBER = 25
MEMBERS = (ALICE, BOB, CAROL, DANA)
STOP_AFTER = 30  # confirmed writes
OUTAGE_SECONDS = 5
HELD_WRITE = 10  # Alice's write submitted only once the database is down


def test_database_stopped_mid_burst_every_sent_write_answers_with_its_hash(community, tmp_path, postgres):
    anvil = chain_from(community, tmp_path, "--block-time", "0.25")
    server = server_for(anvil, community, tmp_path, postgres.url)
    try:
        server.start()
        confirmed, lock = Counter(), threading.Lock()
        answers: dict[str, int] = {}  # status -> count
        hashes: dict[str, str] = {}  # evidence URI -> transaction hash
        outage: dict[str, float] = {}
        # One write is held, prepared, until the database is down, so that a submit surely meets
        # the outage: between submits the members only prepare, and with faster writes CI once
        # saw every in-flight submit finish before the stop took effect (all answered 200).
        held_ready, outage_started = threading.Event(), threading.Event()

        def follow(api: CommunityClient, request_id: int) -> str:
            """A write answered 503 with its request id: follow the request, never sign again."""
            final: dict = {}

            def settled() -> bool:
                response = api.http.get(f"/requests/{request_id}")
                assert response.status_code in (200, 503), response.text
                if response.status_code == 200 and response.json()["status"] != "pending":
                    final.update(response.json())
                    return True
                return False

            wait_until(settled, timeout=60, what=f"request {request_id}")
            assert final["state"] == "succeeded", final
            return final["tx_hash"]

        def member(key: str, index: int) -> None:
            api = CommunityClient(server.url, timeout=60)
            for j in range(PER_MEMBER):
                uri = f"https://fault.example/db/{index}/{j}"
                for _ in range(400):
                    try:
                        typed = api.prepare("claims", signer=address(key), indicator_id=INDICATOR, evidence_uri=uri)[
                            "typed_data"
                        ]
                    except ApiError as exc:  # the outbox (nonces in flight) is in the database too
                        assert exc.status == 503, exc
                        time.sleep(0.2)
                        continue
                    signed = {"typed_data": typed, "signature": api.sign(key, typed)}
                    if key == ALICE and j == HELD_WRITE and not held_ready.is_set():
                        held_ready.set()
                        assert outage_started.wait(120), "the database was never stopped"
                    for _ in range(100):
                        # A 503 without a request id: not accepted, or accepted as the database
                        # failed and the answer lost. The client sends the same signed request
                        # again (submitting is idempotent), never a newly signed one.
                        response = api.http.post("/claims", json=signed)
                        body = response.json()
                        label = str(response.status_code) + (
                            " with request" if body.get("request_id") is not None else ""
                        )
                        with lock:
                            answers[label] = answers.get(label, 0) + 1
                        assert response.status_code != 500, response.text
                        if response.status_code != 503 or body.get("request_id") is not None:
                            break
                        time.sleep(0.2)
                    if response.status_code == 200:
                        tx_hash = body["tx_hash"]
                        break
                    assert response.status_code == 503, response.text
                    if body.get("request_id") is not None:  # accepted: its id, and where to follow it
                        assert response.headers["Location"] == body["status_url"]
                        assert body["status_url"].endswith(f"/requests/{body['request_id']}")
                        tx_hash = follow(api, body["request_id"])
                        break
                else:
                    raise AssertionError("the service never took the write")
                with lock:
                    hashes[uri] = tx_hash
                confirmed.add()

        def outage_now() -> None:
            while confirmed.value < STOP_AFTER or not held_ready.is_set():
                time.sleep(0.005)
            outage["at"] = confirmed.value
            postgres.stop("immediate")
            outage_started.set()
            time.sleep(OUTAGE_SECONDS)
            postgres.start()

        stopper = threading.Thread(target=outage_now)
        stopper.start()
        with ThreadPoolExecutor(len(MEMBERS)) as pool:
            list(pool.map(member, MEMBERS, range(len(MEMBERS))))
        stopper.join()
        assert outage, "the database was never stopped"

        # On chain: each write exactly once (0 lost, 0 doubled), by its evidence URI.
        uris = [c["evidenceURI"] for c in chain_claims(anvil.url, Deployments.load(community.deployments))]
        writes = PER_MEMBER * len(MEMBERS)
        assert sorted(uris) == sorted(hashes) and len(uris) == writes

        # The index catches up once the database is back: every claim readable.
        api = CommunityClient(server.url)
        wait_until(lambda: api.get("/claims", limit=1)["total"] == writes, timeout=60, what="index catch-up")
        print(
            f"\ndatabase outage: {writes} writes from {len(MEMBERS)} members, PostgreSQL stopped for "
            f"{OUTAGE_SECONDS} s after {outage['at']}; answers {answers}; on chain {len(uris)} (0 lost, "
            f"0 doubled); index caught up"
        )
        assert answers.get("503", 0) + answers.get("503 with request", 0) > 0, "no write met the outage"
    finally:
        server.stop()
        anvil.stop()
