"""Communities created on chain (issue 25), on SQLite and PostgreSQL: a community created through
the factory while the service runs, on a chain mining a block a second as `make run` leaves it, is
served within two blocks by every process of the service, with no restart and no file to edit;
a slug the deployments file already serves keeps its community; a stranger's flood of
communities never reaches the service; and a trusted creator's is capped.

Its own chain and service per database (two processes, so the one that does not index serves the
new community too), the node behind a proxy that keeps what the service was answered."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace

import httpx
import pytest

from backend.chain.abi import ContractAbi
from backend.client import CommunityClient
from backend.settings import ANVIL_DEV_KEYS
from devstack.stack import (
    Anvil,
    Server,
    deploy,
    rpc,
    run_deploy,
    second_community_params,
    service_env,
    wait_until,
)
from tests.e2e.conftest import _postgres_database, address
from tests.e2e.rpc_proxy import RecordingProxy

ERIN, FRANK = ANVIL_DEV_KEYS[5], ANVIL_DEV_KEYS[6]
# Anvil's development accounts are unlocked: account 8 is a creator the service is told to
# follow (CC_FOLLOW_CREATORS), account 9 a stranger.
TRUSTED, STRANGER = address(ANVIL_DEV_KEYS[8]), address(ANVIL_DEV_KEYS[9])
CAP = 3  # CC_FOLLOW_MAX_COMMUNITIES


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request, tmp_path_factory) -> Iterator[SimpleNamespace]:
    workdir = tmp_path_factory.mktemp(f"created-{request.param}")
    database_url, cleanup = (
        (f"sqlite:///{workdir / 'index.sqlite3'}", None) if request.param == "sqlite" else _postgres_database()
    )
    anvil, server, proxy = Anvil(workdir), None, None
    try:
        anvil.start()
        deployments = deploy(anvil, workdir / "deployments")  # the example community, through the factory
        # A community the file records from elsewhere (deployed through another factory, as a
        # community deployed before this one would be): "legacy", whose slug the chain's factory
        # may still hand out.
        elsewhere = workdir / "elsewhere"
        legacy = second_community_params(workdir, [address(ERIN)], slug="legacy")
        result = run_deploy(anvil, elsewhere, legacy)
        assert result.returncode == 0, result.stdout + result.stderr
        record = json.loads(deployments.read_text())
        record["communities"]["legacy"] = json.loads((elsewhere / deployments.name).read_text())["communities"][
            "legacy"
        ]
        deployments.write_text(json.dumps(record, indent=2))
        proxy = RecordingProxy(anvil.url)
        server = Server(
            {
                **service_env(anvil, deployments, database_url),
                "CC_RPC_URL": proxy.url,
                "CC_FOLLOW_CREATORS": TRUSTED,
                "CC_FOLLOW_MAX_COMMUNITIES": str(CAP),
            },
            workdir / "api.log",
            "--workers",
            "2",
        )
        server.start()
        # From now on, a block a second, as `make run` leaves its chain.
        rpc(anvil.url, "evm_setIntervalMining", 1)
        yield SimpleNamespace(
            anvil=anvil, server=server, proxy=proxy, deployments=deployments, workdir=workdir, record=record
        )
    finally:
        if server:
            server.stop()
        if proxy:
            proxy.stop()
        anvil.stop()
        shutil.rmtree(workdir / "elsewhere", ignore_errors=True)
        if cleanup:
            cleanup()


def factory_call(stack, creator: str, slug: str, founders: list[str]) -> str:
    """createCommunity sent from `creator` (an unlocked Anvil account), straight to the chain; the
    transaction hash."""
    abi = ContractAbi(stack.record["abis"]["factory"])
    day = 86_400
    config = (slug, f"{slug.title()} Commons", "FLD", founders, 1, 300, 0, 50, 0, (0, 3, 30 * day, 30 * day))
    data = abi.function("createCommunity").encode(config)
    return rpc(
        stack.anvil.url,
        "eth_sendTransaction",
        {
            "from": creator,
            "to": stack.record["factory"]["address"],
            "data": "0x" + data.hex(),
            "gas": hex(25_000_000),
            # Room for the base fee to rise: each creation fills more than half a block.
            "maxFeePerGas": hex(100 * 10**9),
            "maxPriorityFeePerGas": hex(10**9),
        },
    )


def mined(stack, tx_hash: str) -> dict:
    receipt: dict = {}

    def done() -> bool:
        receipt.update(rpc(stack.anvil.url, "eth_getTransactionReceipt", tx_hash) or {})
        return bool(receipt)

    wait_until(done, timeout=30, what=f"{tx_hash} mined")
    assert receipt["status"] == "0x1", receipt
    return receipt


def served(stack) -> set[str]:
    return {c["slug"] for c in httpx.get(stack.server.url + "/communities").json()}


def served_by_every_process(stack, slug: str, times: int = 8) -> bool:
    """Several answers in a row, over fresh connections, so that both processes answer."""
    return all(slug in served(stack) for _ in range(times))


def healthy_everywhere(stack, check, times: int = 8) -> bool:
    """`check` holds for /health answered several times in a row (so by both processes: each reads
    what the indexing one found at its own next poll)."""
    return all(check(httpx.get(stack.server.url + "/health").json()) for _ in range(times))


def head(stack) -> int:
    return int(rpc(stack.anvil.url, "eth_blockNumber"), 16)


def test_a_community_created_while_the_service_runs_is_served_within_two_blocks(stack, record_property):
    """`ape run deploy` of a second community on the running chain (what `make community` does):
    it works under one-second blocks, and the service serves the community, created through the
    factory, within two blocks of its creation, by both of its processes."""
    wiki = second_community_params(stack.workdir, [address(ERIN), address(FRANK)])
    seen: dict[str, int] = {}

    def watch() -> None:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and "block" not in seen:
            try:
                if httpx.get(stack.server.url + "/communities/wiki", timeout=5).status_code == 200:
                    seen["block"] = head(stack)
            except httpx.HTTPError:
                pass
            time.sleep(0.1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    result = run_deploy(stack.anvil, stack.deployments.parent, wiki)
    watcher.join()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "did not create a contract" not in result.stdout + result.stderr
    created = json.loads(stack.deployments.read_text())["communities"]["wiki"]
    assert "block" in seen, "the community was never served"
    assert seen["block"] <= created["deployment_block"] + 2, (seen, created["deployment_block"])
    lag = seen["block"] - created["deployment_block"]
    record_property(
        "summary", f"created through the factory at block {created['deployment_block']}, served with the head at +{lag}"
    )
    wait_until(lambda: served_by_every_process(stack, "wiki"), timeout=10, what="both processes serve wiki")

    client = CommunityClient(stack.server.url, "wiki")
    listed = {c["slug"]: c for c in client.http.get("/communities").json()}
    assert listed["wiki"]["contracts"] == created["contracts"]
    assert listed["wiki"]["creator"] == address(ANVIL_DEV_KEYS[0])  # ape run deploy's account
    assert {m["address"] for m in client.get("/members")["items"]} == {address(ERIN), address(FRANK)}
    # Served in full: a relayed request, its block indexed, and the web app's page.
    client.act("delegations", ERIN, delegatee=address(FRANK))
    assert client.get(f"/members/{address(FRANK)}")["votes"] == 2
    assert httpx.get(stack.server.url + "/c/wiki").status_code == 200
    assert "example" in served(stack) and "legacy" in served(stack)


def test_a_slug_the_deployments_file_serves_keeps_its_community(stack):
    """The chain's factory still hands out "legacy" (the file's legacy community came from another
    factory): created there by a followed creator, it is refused, and the routes keep serving the
    file's."""
    mined(stack, factory_call(stack, TRUSTED, "legacy", [TRUSTED]))
    client = CommunityClient(stack.server.url, "legacy")

    def refused(health: dict) -> bool:
        return "legacy" in (health["factory"] or {}).get("refused", {})

    wait_until(lambda: healthy_everywhere(stack, refused), timeout=20, what="the clash noted by both processes")
    health = httpx.get(stack.server.url + "/health").json()
    assert health["status"] == "degraded"
    assert any("legacy" in reason and "deployments file" in reason for reason in health["reasons"])
    legacy = client.http.get("/communities/legacy").json()
    assert legacy["contracts"] == stack.record["communities"]["legacy"]["contracts"]
    assert {m["address"] for m in client.get("/members")["items"]} == {address(ERIN)}


def test_a_strangers_flood_never_reaches_the_service(stack):
    """A stranger creates communities as fast as blocks take them: the node leaves them out of what
    the service asks for (creators are an indexed topic), so the service downloads none of them,
    serves none, and stays in step with the chain."""
    before = served(stack)
    mark = stack.proxy.mark()
    hashes = [factory_call(stack, STRANGER, f"flood-{i}", [STRANGER]) for i in range(12)]
    receipts = [mined(stack, h) for h in hashes]
    addresses = {log["address"].lower() for r in receipts for log in r["logs"]} - {
        stack.record["factory"]["address"].lower()
    }
    last = max(int(r["blockNumber"], 16) for r in receipts)
    wait_until(lambda: httpx.get(stack.server.url + "/health").json()["indexed_block"] >= last, timeout=30)

    assert served(stack) == before
    downloaded = b"".join(answer for _, answer in stack.proxy.since(mark)).lower()
    assert b"flood-" not in downloaded  # not one slug or name of them...
    assert not [a for a in addresses if a[2:].encode() in downloaded]  # ...nor any of their contracts
    health = httpx.get(stack.server.url + "/health").json()
    assert health["factory"]["served"] == len(before - {"example", "legacy"})
    assert health["factory"]["left_out"] == 0
    assert all(community["lag_blocks"] <= 2 for community in health["communities"].values())


def test_a_trusted_creators_communities_are_capped(stack):
    """A followed creator's key leaking cannot make the service index without end: past
    CC_FOLLOW_MAX_COMMUNITIES, later communities are left out, and /health says so."""
    room = CAP - (len(served(stack)) - 2)  # beside the file's example and legacy
    assert room >= 1
    hashes = [factory_call(stack, TRUSTED, f"trusted-{i}", [TRUSTED]) for i in range(room + 2)]
    for tx_hash in hashes:
        mined(stack, tx_hash)

    def settled(health: dict) -> bool:
        return health["factory"]["served"] == CAP and health["factory"]["left_out"] == 2

    wait_until(lambda: healthy_everywhere(stack, settled), timeout=30, what="the cap reached, for both processes")
    health = httpx.get(stack.server.url + "/health").json()
    assert health["status"] == "degraded"
    assert any("at most 3" in reason for reason in health["reasons"])
    first = {f"trusted-{i}" for i in range(room)}
    wait_until(lambda: all(served_by_every_process(stack, slug, 4) for slug in first), timeout=10)
    assert not {f"trusted-{i}" for i in range(room, room + 2)} & served(stack)
    members = CommunityClient(stack.server.url, "trusted-0").get("/members")["items"]
    assert [m["address"] for m in members] == [TRUSTED]
