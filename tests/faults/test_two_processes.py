"""Two API processes over one PostgreSQL, under a concurrent burst: four members send claims to
both at once, alternating. One process leads (it alone relays and indexes); the other accepts
into the same outbox. Every claim is on chain exactly once, no member nonce is used twice (no
request reverts), and both processes answer every request's status."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from backend.chain.deployments import Deployments
from backend.client import CommunityClient
from devstack.stack import UNTHROTTLED, Server, service_env, wait_until
from tests.e2e.conftest import ALICE, BOB, CAROL, DANA, POSTGRES_URL
from tests.faults.conftest import INDICATOR, chain_claims, chain_from

PER_MEMBER = 30
MEMBERS = (ALICE, BOB, CAROL, DANA)


@pytest.fixture
def database():
    try:
        import psycopg

        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except Exception as exc:
        if os.environ.get("CI"):
            raise AssertionError(f"CI must run the two-process test on PostgreSQL at {POSTGRES_URL}") from exc
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: set TEST_POSTGRES_URL")
    name = f"cc_two_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_two_api_processes_share_one_outbox(community, tmp_path, database):
    anvil = chain_from(community, tmp_path, "--block-time", "0.5")
    servers = [
        Server({**service_env(anvil, community.deployments, database), **UNTHROTTLED}, tmp_path / f"api-{n}.log")
        for n in range(2)
    ]
    try:
        for server in servers:
            server.start()
        apis = [CommunityClient(s.url, timeout=60) for s in servers]
        wait_until(lambda: sum(api.get("/relayer")["leading"] for api in apis) == 1, timeout=20, what="one leader")

        def member(index: int) -> list[tuple[int, int]]:
            key, accepted = MEMBERS[index], []
            for j in range(PER_MEMBER):
                which = (index + j) % 2  # alternate between the two processes
                answer = apis[which].act(
                    "claims", key, wait=False, indicator_id=INDICATOR, evidence_uri=f"https://two.example/{index}/{j}"
                )
                accepted.append((which, answer["request_id"]))
            return accepted

        with ThreadPoolExecutor(len(MEMBERS)) as pool:
            accepted = [r for rows in pool.map(member, range(len(MEMBERS))) for r in rows]
        ids = [request_id for _, request_id in accepted]
        assert len(set(ids)) == len(ids) == PER_MEMBER * len(MEMBERS)
        wait_until(lambda: apis[0].get("/relayer")["in_flight"] == 0, timeout=120, what="the outbox drained")
        for api in apis:  # either process answers for any request
            states = {api.get(f"/requests/{i}")["state"] for i in ids}
            assert states == {"succeeded"}, states

        uris = [c["evidenceURI"] for c in chain_claims(anvil.url, Deployments.load(community.deployments))]
        ours = [u for u in uris if u.startswith("https://two.example/")]
        assert len(ours) == len(set(ours)) == len(ids)  # 0 lost, 0 doubled
        # Both processes read the one index the leader wrote.
        for api in apis:
            wait_until(lambda api=api: api.get("/claims", limit=1)["total"] >= len(ids), timeout=30, what="index")
        print(
            f"\ntwo processes: {len(ids)} claims from {len(MEMBERS)} members through both, "
            f"{len(ours)} on chain once each; one leader"
        )
    finally:
        for server in servers:
            server.stop()
        anvil.stop()


def _children(pid: int) -> list[int]:
    """The processes `pid` started (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_serve_with_two_workers_relays_each_write_once(community, tmp_path):
    """`python -m backend serve --workers 2` on SQLite: two API processes under one address, one of
    which takes the leader lock and relays; a burst through the address is on chain once each."""
    anvil = chain_from(community, tmp_path, "--block-time", "0.5")
    server = Server(
        {**service_env(anvil, community.deployments, f"sqlite:///{tmp_path / 'index.sqlite3'}"), **UNTHROTTLED},
        tmp_path / "api.log",
        "--workers",
        "2",
    )
    try:
        server.start()
        wait_until(lambda: len(_children(server.process.pid)) >= 2, timeout=30, what="two API processes")
        api = CommunityClient(server.url, timeout=60)

        def member(index: int) -> list[int]:
            client = CommunityClient(server.url, timeout=60)
            return [
                client.act(
                    "claims",
                    MEMBERS[index],
                    wait=False,
                    indicator_id=INDICATOR,
                    evidence_uri=f"https://workers.example/{index}/{j}",
                )["request_id"]
                for j in range(10)
            ]

        with ThreadPoolExecutor(len(MEMBERS)) as pool:
            ids = [i for rows in pool.map(member, range(len(MEMBERS))) for i in rows]
        assert len(set(ids)) == len(ids) == 10 * len(MEMBERS)
        wait_until(lambda: api.get("/relayer")["in_flight"] == 0, timeout=120, what="the outbox drained")
        assert {api.get(f"/requests/{i}")["state"] for i in ids} == {"succeeded"}
        uris = [c["evidenceURI"] for c in chain_claims(anvil.url, Deployments.load(community.deployments))]
        ours = [u for u in uris if u.startswith("https://workers.example/")]
        assert len(ours) == len(set(ours)) == len(ids)  # 0 lost, 0 doubled
        wait_until(lambda: api.get("/claims", limit=1)["total"] >= len(ids), timeout=30, what="index")
    finally:
        server.stop()
        anvil.stop()
