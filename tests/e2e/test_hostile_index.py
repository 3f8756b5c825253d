"""Whatever a member can put on chain must never stop the index (docs/security/threat-model.md,
"What a member puts on chain").

Hostile strings go in through the API (NUL and other control characters) and straight to the
contracts from a member's own key, bypassing the API (bytes that are not UTF-8, in a claim's
evidence URI, a proposal's description, a vote's reason, an indicator's name, description URI
and category, an organisation's name and identifier, and a revocation's reason). The index
stores readable text, keeps the exact bytes beside it (`*_raw`), and goes on: a later write is
indexed, and /health stays ok.

What still cannot be stored is set aside (shown in-process: a projection forced to fail is not
possible across processes), one community's failure leaves the other indexed, /health says
"degraded" with the lag while the indexer is behind, and a reindex replaces the index in use only
when the rebuild succeeded.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text, update

from backend.app import create_app
from backend.chain.deployments import Deployments
from backend.chain.rpc import RpcError
from backend.client import CommunityClient
from backend.indexer import projections
from backend.indexer.db import _normalise
from backend.indexer.models import Claim, EventRecord, Member, SetAside
from backend.settings import ANVIL_DEV_KEYS, Settings
from devstack.stack import (
    Server,
    dump_index,
    free_port,
    local_stack,
    rpc,
    second_community_params,
    service_env,
    wait_until,
)
from tests.e2e.conftest import ALICE, BOB, _postgres_database, address

ERIN, FRANK = ANVIL_DEV_KEYS[5], ANVIL_DEV_KEYS[6]
R = "\ufffd"  # what an unreadable character is shown as


# ---------------------------------------------------------------------- a member's own transactions


@dataclass
class Chain:
    url: str
    deployments: Deployments

    def address(self, target: str, community: str = "example") -> str:
        return self.deployments.communities[community].contracts[target]

    def send(self, key: str, target: str, function: str, *args, community: str = "example") -> dict:
        """Calls `target.function(*args)` in a transaction signed with the member's key, bypassing
        the API. Strings go in as bytes (ABI string and bytes are encoded alike), so any bytes can."""
        fn = self.deployments.abis[target].function(function)
        data = fn.selector + encode([re.sub(r"\bstring\b", "bytes", t) for t in fn.input_types], list(args))
        sender = Account.from_key(key)
        gas_price = int(rpc(self.url, "eth_gasPrice"), 16)
        raw = sender.sign_transaction(
            {
                "type": 2,
                "chainId": int(rpc(self.url, "eth_chainId"), 16),
                "to": self.address(target, community),
                "data": data,
                "value": 0,
                "gas": 3_000_000,
                "maxFeePerGas": 2 * gas_price + 10**9,
                "maxPriorityFeePerGas": 10**9,
                "nonce": int(rpc(self.url, "eth_getTransactionCount", sender.address, "pending"), 16),
            }
        ).raw_transaction
        tx_hash = rpc(self.url, "eth_sendRawTransaction", "0x" + raw.hex())
        # Anvil automines, but on a loaded machine the receipt may take a moment to be answered.
        wait_until(lambda: rpc(self.url, "eth_getTransactionReceipt", tx_hash) is not None, what=f"{function} mined")
        receipt = rpc(self.url, "eth_getTransactionReceipt", tx_hash)
        assert int(receipt["status"], 16) == 1, (function, receipt)
        return receipt

    def event(self, receipt: dict, target: str, name: str) -> tuple[dict, dict]:
        """The receipt's first `name` event of `target`: (the raw log, its decoded arguments)."""
        abi = self.deployments.abis[target]
        for entry in receipt["logs"]:
            topics = [bytes.fromhex(t[2:]) for t in entry["topics"]]
            event = abi.events.get(topics[0])
            if event is not None and event.name == name:
                return entry, event.decode(topics, bytes.fromhex(entry["data"][2:]))
        raise AssertionError(f"no {name} in {receipt['transactionHash']}")


@pytest.fixture
def chain(env) -> Chain:
    return Chain(env.anvil.url, Deployments.load(env.deployments))


@contextmanager
def fresh_database(kind: str, folder: Path) -> Iterator[str]:
    """An empty database of the kind asked ("sqlite" or "postgresql") for an index of its own."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'own-index.sqlite3'}"
        return
    url, cleanup = _postgres_database()
    try:
        yield url
    finally:
        cleanup()


def kind_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


@contextmanager
def in_process(rpc_url: str, deployments: Path, database_url: str, **settings) -> Iterator:
    """The service built in this process (its indexer not started): the test drives its indexer
    and reads /health through FastAPI's test client."""
    settings = Settings(rpc_url=rpc_url, deployments_file=deployments, **{"DATABASE_URL": database_url}, **settings)
    app = create_app(settings, run_indexer=False)
    try:
        yield app
    finally:
        app.state.context.sessions.kw["bind"].dispose()


def _healthy(api: CommunityClient) -> dict:
    health = api.get("/health")
    assert health["status"] == "ok", health
    assert health["reasons"] == [] and health["indexer_error"] is None and health["set_aside"] == 0
    return health


# ---------------------------------------------------------------------- lenient decoding, lossless storage


def test_claim_through_the_api_with_nul_and_control_characters(env, governed):
    uri = "https://x.example/\x00nul\x01\x1b[31mred\x7f\x85end\tok"
    claim = env.api.act("claims", ALICE, indicator_id=governed["code"], evidence_uri=uri)
    assert claim["status"] == "succeeded" and claim["indexed"] is True  # not a 500 after mining

    read = env.api.get(f"/claims/{claim['created']['claim_id']}")
    assert read["evidence_uri"] == f"https://x.example/{R}nul{R}{R}[31mred{R}{R}end\tok"
    assert read["evidence_uri_raw"] == "0x" + uri.encode().hex()
    assert bytes.fromhex(read["evidence_uri_raw"][2:]).decode() == uri  # the exact text, recovered
    assert read["evidence_hash"] == "0x" + keccak(uri.encode()).hex()

    plain = env.api.act("claims", BOB, indicator_id=governed["code"], evidence_uri="https://x.example/plain")
    read = env.api.get(f"/claims/{plain['created']['claim_id']}")
    assert (read["evidence_uri"], read["evidence_uri_raw"]) == ("https://x.example/plain", None)
    _healthy(env.api)


def test_claims_sent_straight_to_the_contract_with_bytes_that_are_not_utf8(env, governed, chain):
    raw = b"https://x.example/\xff\xfe\xc3(\x00\xed\xa0\x80end"
    receipt = chain.send(ALICE, "badge", "claim", governed["code"], keccak(raw), raw)
    entry, _ = chain.event(receipt, "badge", "ClaimSubmitted")
    claim_id = int(entry["topics"][1], 16)
    # Strings of 42 characters starting 0x were taken for addresses (and checksummed, or refused).
    not_hex, hex_like = b"0x" + b"g" * 40, ("0x" + "ab" * 20).encode()
    for uri in (not_hex, hex_like):
        chain.send(ALICE, "badge", "claim", governed["code"], keccak(uri), uri)

    # The index went on: a later claim through the API is indexed before its answer.
    later = env.api.act("claims", ALICE, indicator_id=governed["code"], evidence_uri="https://x.example/later")
    assert later["indexed"] is True and later["created"]["claim_id"] == claim_id + 3

    read = env.api.get(f"/claims/{claim_id}")
    assert read["evidence_uri"] == f"https://x.example/{R}{R}{R}({R}{R}{R}{R}end"
    assert read["evidence_uri_raw"] == "0x" + raw.hex()
    assert read["evidence_hash"] == "0x" + keccak(bytes.fromhex(read["evidence_uri_raw"][2:])).hex()
    for offset, uri in ((1, not_hex), (2, hex_like)):
        read = env.api.get(f"/claims/{claim_id + offset}")
        assert (read["evidence_uri"], read["evidence_uri_raw"]) == (uri.decode(), None)

    # The event record keeps the same, in a JSON column PostgreSQL's JSONB accepts too.
    engine = create_engine(_normalise(env.database_url))
    with engine.connect() as connection:
        args = connection.scalar(
            select(EventRecord.args).where(
                EventRecord.tx_hash == receipt["transactionHash"], EventRecord.name == "ClaimSubmitted"
            )
        )
        if engine.dialect.name == "postgresql":
            assert connection.scalar(text("SELECT count(*) FROM events WHERE args::jsonb IS NOT NULL")) > 0
    engine.dispose()
    assert args["evidenceURI"] == f"https://x.example/{R}{R}{R}({R}{R}{R}{R}end"
    assert args["evidenceURI_raw"] == "0x" + raw.hex()
    _healthy(env.api)


def test_proposal_vote_indicator_and_revocation_with_bytes_that_are_not_utf8(env, governed, chain):
    api = env.api
    claim = api.act("claims", ALICE, indicator_id=governed["code"], evidence_uri="https://x.example/to-revoke")
    token_id = api.act("attestations", BOB, claim_id=claim["created"]["claim_id"])["created"]["token_id"]

    name, uri, category = b"Bad \xff name\x00", b"ipfs://\xc3(desc", b"cat\x01\xfe"
    reason, description = b"revoked: \xff\x00 spam", b"Hostile \xff\xfe proposal\x00 text"
    org_name, identifier = b"Org \xff\xfe\x00\x1b[31m", b"id:\xc3(\x00" + b"\xff" * 200  # 64 and 256 bytes at most
    registry, badge = chain.deployments.abis["registry"], chain.deployments.abis["badge"]
    add = registry.function("addIndicator")
    # IndicatorInput: name, description URI, category, orientation, weight, endorsements, validity,
    # and the fair-play rules (endorser indicator, earn cap, attest cap, cap period), all off.
    fields = "(bytes,bytes,bytes,uint8,uint32,uint16,uint32,uint32,uint16,uint16,uint32)"
    calldatas = [
        add.selector + encode([fields], [(name, uri, category, 1, 2, 1, 0, 0, 0, 0, 0)]),
        badge.function("revoke").selector + encode(["uint256", "bytes"], [token_id, reason]),
        registry.function("addOrganisation").selector + encode(["bytes", "bytes"], [org_name, identifier]),
    ]
    targets = [chain.address("registry"), chain.address("badge"), chain.address("registry")]
    receipt = chain.send(ALICE, "governor", "propose", targets, [0, 0, 0], calldatas, description)
    proposal_id = chain.event(receipt, "governor", "ProposalCreated")[1]["proposalId"]
    env.anvil.skip(2)
    vote_reason = b"yes \xc3 \x00"
    chain.send(ALICE, "governor", "castVoteWithReason", proposal_id, 1, vote_reason)
    api.act("votes", BOB, proposal_id=str(proposal_id), support="for", reason="plain")
    env.anvil.skip(301)
    # Executing needs the description's exact bytes (their hash is in the proposal id): the index kept them.
    executed = api.execute(str(proposal_id))
    assert executed["status"] == "succeeded"

    proposal = api.get(f"/proposals/{proposal_id}")
    assert proposal["state"] == "executed"
    # Voters see what each call does, its text readable and its exact bytes beside it.
    _, revoke_call, organisation_call = proposal["actions"]
    assert (revoke_call["function"], revoke_call["args"]["tokenId"]) == ("revoke", token_id)
    assert revoke_call["args"]["reason"] == f"revoked: {R}{R} spam"
    assert revoke_call["args_raw"] == {"reason": "0x" + reason.hex()}
    assert organisation_call["args"]["name"] == f"Org {R}{R}{R}{R}[31m"
    assert organisation_call["args_raw"]["name"] == "0x" + org_name.hex()
    assert proposal["description"] == f"Hostile {R}{R} proposal{R} text"
    assert proposal["description_raw"] == "0x" + description.hex()
    votes = {v["voter"]: v for v in proposal["votes"]}
    assert (votes[address(ALICE)]["reason"], votes[address(ALICE)]["reason_raw"]) == (
        f"yes {R} {R}",
        "0x" + vote_reason.hex(),
    )
    assert (votes[address(BOB)]["reason"], votes[address(BOB)]["reason_raw"]) == ("plain", None)

    defined = chain.event(
        rpc(env.anvil.url, "eth_getTransactionReceipt", executed["tx_hash"]), "registry", "IndicatorDefined"
    )[1]
    indicator = api.get(f"/indicators/{defined['indicatorId']}")
    assert (indicator["name"], indicator["description_uri"], indicator["category"]) == (
        f"Bad {R} name{R}",
        f"ipfs://{R}(desc",
        f"cat{R}{R}",
    )
    assert (indicator["name_raw"], indicator["description_uri_raw"], indicator["category_raw"]) == (
        "0x" + name.hex(),
        "0x" + uri.hex(),
        "0x" + category.hex(),
    )
    revoked = api.get(f"/badges/{token_id}")
    assert (revoked["revoke_reason"], revoked["revoke_reason_raw"]) == (f"revoked: {R}{R} spam", "0x" + reason.hex())
    assert revoked["revoked_at"] is not None

    added = chain.event(
        rpc(env.anvil.url, "eth_getTransactionReceipt", executed["tx_hash"]), "registry", "OrganisationAdded"
    )[1]
    organisation = api.get(f"/organisations/{added['organisationId']}")
    assert (organisation["name"], organisation["name_raw"]) == (f"Org {R}{R}{R}{R}[31m", "0x" + org_name.hex())
    assert (organisation["identifier"], organisation["identifier_raw"]) == (
        f"id:{R}({R}" + R * 200,
        "0x" + identifier.hex(),
    )
    listed = {o["id"]: o for o in api.get("/organisations", limit=500)["items"]}
    assert listed[added["organisationId"]]["name_raw"] == "0x" + org_name.hex()
    # The web app's pages show it, and the proposal that registered it, as readable text.
    for page in (
        f"/c/example/organisations/{added['organisationId']}",
        "/c/example/organisations",
        f"/c/example/proposals/{proposal_id}",
    ):
        shown = api.http.get(page)
        assert shown.status_code == 200 and f"Org {R}{R}{R}{R}[31m" in shown.text, page
    _healthy(api)


# ---------------------------------------------------------------------- set aside


def test_an_event_that_cannot_be_stored_is_set_aside_and_the_index_moves_on(
    env, governed, chain, tmp_path, monkeypatch
):
    aside = env.api.act("claims", ALICE, indicator_id=governed["code"], evidence_uri="https://x.example/set-me-aside")
    after = env.api.act("claims", BOB, indicator_id=governed["code"], evidence_uri="https://x.example/after-it")
    entry, _ = chain.event(rpc(env.anvil.url, "eth_getTransactionReceipt", aside["tx_hash"]), "badge", "ClaimSubmitted")
    block, log_index = int(entry["blockNumber"], 16), int(entry["logIndex"], 16)

    original = projections.HANDLERS[("badge", "ClaimSubmitted")]

    def refusing(session, log):
        if log.args["evidenceURI"].endswith("set-me-aside"):
            raise RuntimeError("projection refused this claim")
        original(session, log)

    monkeypatch.setitem(projections.HANDLERS, ("badge", "ClaimSubmitted"), refusing)
    with (
        fresh_database(kind_of(env.database_url), tmp_path) as url,
        in_process(env.anvil.url, env.deployments, url) as app,
    ):
        ctx, http = app.state.context, TestClient(app)
        example = ctx.deployments.communities["example"]
        head = ctx.indexer.sync()
        assert ctx.indexer.cursor(example)[0] == head  # moved past it
        with ctx.sessions() as session:
            rows = list(session.scalars(select(SetAside)))
            indexed_claims = set(session.scalars(select(Claim.claim_id)))
        assert [(r.community, r.block_number, r.log_index, r.tx_hash, r.contract, r.name, r.error) for r in rows] == [
            (
                "example",
                block,
                log_index,
                aside["tx_hash"],
                "badge",
                "ClaimSubmitted",
                "RuntimeError: projection refused this claim",
            )
        ]
        assert (rows[0].topics, rows[0].data) == (entry["topics"], entry["data"])  # the exact log, kept
        assert aside["created"]["claim_id"] not in indexed_claims
        assert after["created"]["claim_id"] in indexed_claims  # later events were stored

        health = http.get("/health").json()
        assert health["status"] == "degraded"
        assert health["reasons"] == [
            "1 event of community 'example' set aside: the index lacks them until a reindex stores them"
        ]
        assert health["set_aside"] == 1 and health["communities"]["example"]["set_aside"] == 1
        recent = health["set_aside_recent"]
        assert [{k: v for k, v in r.items() if k != "set_aside_at"} for r in recent] == [
            {
                "community": "example",
                "block_number": block,
                "log_index": log_index,
                "tx_hash": aside["tx_hash"],
                "contract": "badge",
                "event": "ClaimSubmitted",
                "error": "RuntimeError: projection refused this claim",
            }
        ]
        community = health["communities"]["example"]
        assert community["error"] is None and community["lag_blocks"] == 0  # the sync itself succeeded
        assert community["last_error"] == (
            f"ClaimSubmitted at block {block}, log {log_index} set aside: RuntimeError: projection refused this claim"
        )
        assert health["last_error"] == community["last_error"] and health["last_error_at"] is not None

        ctx.indexer.sync()  # nothing is retried or doubled while the cursor is past it
        assert http.get("/health").json()["set_aside"] == 1

        # The projection fixed, a reindex stores the event and the index is whole again.
        monkeypatch.setitem(projections.HANDLERS, ("badge", "ClaimSubmitted"), original)
        ctx.indexer.reindex()
        with ctx.sessions() as session:
            assert session.get(Claim, ("example", aside["created"]["claim_id"])) is not None
        health = http.get("/health").json()
        assert (health["status"], health["set_aside"], health["reasons"]) == ("ok", 0, [])


def test_a_row_the_database_refuses_fails_its_page_and_only_its_event_is_set_aside(
    env, governed, tmp_path, monkeypatch
):
    """The rows a page adds are inserted together at its end (projections.insert_new_rows). When
    the database refuses one of them (here a claim added twice: a duplicate key), the whole page
    is rolled back, stored again one event at a time, and only that event is set aside; the
    counts the index keeps for its listings stay those of the rows stored."""
    twice = env.api.act("claims", ALICE, indicator_id=governed["code"], evidence_uri="https://x.example/add-me-twice")
    after = env.api.act("claims", BOB, indicator_id=governed["code"], evidence_uri="https://x.example/after-twice")
    original = projections.HANDLERS[("badge", "ClaimSubmitted")]

    def doubling(session, log):
        original(session, log)
        if log.args["evidenceURI"].endswith("add-me-twice"):
            original(session, log)

    monkeypatch.setitem(projections.HANDLERS, ("badge", "ClaimSubmitted"), doubling)
    with (
        fresh_database(kind_of(env.database_url), tmp_path) as url,
        in_process(env.anvil.url, env.deployments, url) as app,
    ):
        ctx, http = app.state.context, TestClient(app)
        head = ctx.indexer.sync()
        assert ctx.indexer.cursor(ctx.deployments.communities["example"])[0] == head
        with ctx.sessions() as session:
            aside = [(r.name, r.tx_hash) for r in session.scalars(select(SetAside))]
            indexed = set(session.scalars(select(Claim.claim_id)))
        assert aside == [("ClaimSubmitted", twice["tx_hash"])]
        assert twice["created"]["claim_id"] not in indexed and after["created"]["claim_id"] in indexed
        assert http.get("/claims", params={"limit": 1}).json()["total"] == len(indexed)


# ---------------------------------------------------------------------- /health while behind


def test_health_is_degraded_with_the_lag_while_the_indexer_is_behind(env, tmp_path):
    with fresh_database(kind_of(env.database_url), tmp_path) as url:
        # An indexer that syncs once at start, then not for an hour: stopped, as far as the test goes.
        server = Server(
            {**service_env(env.anvil, env.deployments, url), "CC_INDEX_POLL_SECONDS": "3600"}, tmp_path / "api.log"
        )
        server.start()
        try:
            api = CommunityClient(server.url)
            wait_until(lambda: api.get("/health")["lag_blocks"] == 0, what="the first sync")
            head = _healthy(api)["head_block"]

            rpc(env.anvil.url, "evm_increaseTime", 100)
            rpc(env.anvil.url, "anvil_mine", hex(8))
            health = api.get("/health")
            assert health["status"] == "degraded"
            assert (health["head_block"], health["indexed_block"], health["lag_blocks"]) == (head + 8, head, 8)
            assert health["lag_seconds"] >= 100
            assert health["communities"]["example"]["lag_blocks"] == 8
            assert health["communities"]["example"]["lag_seconds"] == health["lag_seconds"]
            assert health["reasons"] == [
                f"community 'example' is indexed 8 blocks behind the chain ({health['lag_seconds']} s of chain time)"
            ]

            synced = server.run("sync")  # another indexer catches the index up
            assert synced.returncode == 0, synced.stderr
            health = _healthy(api)
            assert (health["lag_blocks"], health["lag_seconds"], health["indexed_block"]) == (0, 0, head + 8)
        finally:
            server.stop()


# ---------------------------------------------------------------------- reindex: beside, then swapped


class FailingNode:
    """A JSON-RPC proxy in front of a node that refuses eth_getLogs from block `fail_from` on."""

    def __init__(self, upstream: str, fail_from: int) -> None:
        self.upstream, self.fail_from = upstream, fail_from
        self.refused = 0
        node = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = json.loads(body)
                if (
                    isinstance(request, dict)
                    and request.get("method") == "eth_getLogs"
                    and int(request["params"][0]["fromBlock"], 16) >= node.fail_from
                ):
                    node.refused += 1
                    answer = json.dumps(
                        {
                            "jsonrpc": "2.0",
                            "id": request["id"],
                            "error": {"code": -32005, "message": "the test node refuses logs"},
                        }
                    )
                    payload = answer.encode()
                else:
                    payload = httpx.post(
                        node.upstream, content=body, headers={"Content-Type": "application/json"}
                    ).content
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FailingNode:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def _scratch_left(env) -> list[str]:
    if kind_of(env.database_url) == "sqlite":
        return [p.name for p in env.workdir.glob("*.rebuild-*")]
    engine = create_engine(_normalise(env.database_url))
    with engine.connect() as connection:
        schemas = list(
            connection.scalars(
                text("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'cc_rebuild%'")
            )
        )
    engine.dispose()
    return schemas


def test_reindex_replaces_the_index_only_when_the_rebuild_succeeded(env, governed, chain):
    claim = env.api.act("claims", ALICE, indicator_id=governed["code"], evidence_uri="https://x.example/kept")
    claim_id = claim["created"]["claim_id"]
    wait_until(lambda: (h := env.api.get("/health"))["indexed_block"] == h["head_block"], what="index catch-up")
    faithful = dump_index(env.database_url)
    # A mark the chain does not hold: only a rebuild that replaced the index removes it.
    engine = create_engine(_normalise(env.database_url))
    with engine.begin() as connection:
        connection.execute(
            update(Claim).where(Claim.community == "example", Claim.claim_id == claim_id).values(evidence_uri="marked")
        )
    engine.dispose()
    marked = dump_index(env.database_url)
    assert marked != faithful

    deployment = chain.deployments.communities["example"].deployment_block
    with FailingNode(env.anvil.url, fail_from=deployment + 3) as node:
        failed = env.server.run("reindex", env={"CC_RPC_URL": node.url, "CC_INDEX_PAGE_BLOCKS": "1"})
    assert node.refused >= 1
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert (
        "Reindex failed; the index in use is unchanged: community example: RpcError: the test node refuses "
        "logs" in failed.stderr
    )
    assert dump_index(env.database_url) == marked  # the old index, intact (mark and all)
    assert env.api.get(f"/claims/{claim_id}")["evidence_uri"] == "marked"
    assert _scratch_left(env) == []

    rebuilt = env.server.run("reindex")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "Index rebuilt up to block" in rebuilt.stdout
    assert dump_index(env.database_url) == faithful  # swapped in: the chain's own record again
    assert env.api.get(f"/claims/{claim_id}")["evidence_uri"] == "https://x.example/kept"
    assert _scratch_left(env) == []
    _healthy(env.api)


# ---------------------------------------------------------------------- two communities on one chain


@pytest.fixture(scope="module")
def two_communities(tmp_path_factory):
    work = tmp_path_factory.mktemp("hostile-two-communities")
    wiki_params = second_community_params(work, [address(ERIN), address(FRANK)])
    with local_stack(work, more_communities=(wiki_params,)) as stack:
        yield stack


def test_bytes_that_are_not_utf8_in_one_community_leave_the_other_indexed(two_communities):
    stack = two_communities
    chain = Chain(stack.anvil.url, Deployments.load(stack.deployments))
    example, wiki = CommunityClient(stack.server.url, "example"), CommunityClient(stack.server.url, "wiki")
    description = b"wiki: \xff\xfe\x00"
    retire = chain.deployments.abis["registry"].function("retireIndicator").encode(99)
    receipt = chain.send(
        ERIN, "governor", "propose", [chain.address("registry", "wiki")], [0], [retire], description, community="wiki"
    )
    proposal_id = chain.event(receipt, "governor", "ProposalCreated")[1]["proposalId"]

    example.act("delegations", ALICE, delegatee=address(BOB))  # indexed before it answers
    assert example.get(f"/members/{address(ALICE)}")["delegate"] == address(BOB)
    # The background indexer follows wiki (a write catches up only its own community).
    wait_until(
        lambda: wiki.http.get(f"/communities/wiki/proposals/{proposal_id}").status_code == 200,
        what="wiki's proposal indexed",
    )
    proposal = wiki.get(f"/proposals/{proposal_id}")
    assert (proposal["description"], proposal["description_raw"]) == (f"wiki: {R}{R}{R}", "0x" + description.hex())
    _healthy(CommunityClient(stack.server.url))


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_one_community_failing_does_not_stop_the_other(two_communities, database, tmp_path, monkeypatch):
    stack = two_communities
    with (
        fresh_database(database, tmp_path) as url,
        in_process(stack.anvil.url, stack.deployments, url, health_max_lag_blocks=0) as app,
    ):
        ctx, http = app.state.context, TestClient(app)
        example, wiki = ctx.deployments.communities["example"], ctx.deployments.communities["wiki"]
        real = ctx.gateway.get_logs

        def get_logs(addresses, from_block, to_block):
            if set(addresses) & set(wiki.contracts.values()):
                raise RpcError({"code": -32005, "message": "query returned more than 10000 results"})
            return real(addresses, from_block, to_block)

        monkeypatch.setattr(ctx.gateway, "get_logs", get_logs)
        head = ctx.indexer.sync()  # does not raise: the failure is wiki's alone
        assert ctx.indexer.cursor(example)[0] == head
        assert ctx.indexer.cursor(wiki)[0] == wiki.deployment_block - 1
        with ctx.sessions() as session:
            assert session.scalar(select(Member.address).where(Member.community == "wiki")) is None
        assert {m["address"] for m in http.get("/communities/example/members").json()["items"]} >= {address(ALICE)}
        # A write's catch-up answers for the community indexed, and says so for the one failing.
        assert ctx.indexer.catch_up(head, community=example) is True
        assert ctx.indexer.catch_up(head, community=wiki, timeout=1) is False

        health = http.get("/health").json()
        error = "RpcError: query returned more than 10000 results"
        lag = head - (wiki.deployment_block - 1)
        assert health["status"] == "degraded"
        assert health["indexer_error"] == f"wiki: {error}"
        assert health["communities"]["wiki"]["error"] == error and health["communities"]["wiki"]["lag_blocks"] == lag
        assert health["communities"]["example"]["error"] is None
        assert health["communities"]["example"]["lag_blocks"] == 0
        assert health["reasons"] == [
            f"community 'wiki' is indexed {lag} blocks behind the chain "
            f"({health['communities']['wiki']['lag_seconds']} s of chain time)",
            f"indexing community 'wiki' fails: {error}",
        ]

        monkeypatch.setattr(ctx.gateway, "get_logs", real)  # the node serves wiki's logs again
        ctx.indexer.sync()
        assert ctx.indexer.cursor(wiki)[0] == head
        health = http.get("/health").json()
        assert (health["status"], health["reasons"], health["indexer_error"]) == ("ok", [], None)
        assert health["communities"]["wiki"]["last_error"] == error  # kept, no longer current
        with ctx.sessions() as session:
            founders = set(session.scalars(select(Member.address).where(Member.community == "wiki")))
        assert founders == {address(ERIN), address(FRANK)}
