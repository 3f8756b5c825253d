"""An archive anyone can check (issue 25), on SQLite and PostgreSQL, with a real Anvil and the
service over HTTP: a community's history (indicators and a second version, names and a linked
account, a name sent to the contract as bytes that are not UTF-8, an organisation, a guardian,
proposals and votes, a claim crediting the organisation, its attestation and badge, a nomination,
an invitation and a vouch) exported by `commons export --all`, `commons archive export` and GET
/archive, byte for byte the same; verified against the chain alone; altered, and the record named;
checked while the node goes away; an index restored into an empty database, which answers the API
as the service's own does and exports the same archive; and the archive asked for all at once.

Its own chain and service per database: the history it makes is its own."""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from backend.chain.deployments import Deployments
from backend.client import CommunityClient
from devstack.stack import Server, local_stack, run_deploy, second_community_params, service_env, wait_until
from tests.e2e import conftest
from tests.e2e.conftest import ALICE, BOB, CAROL, _postgres_database, address, pass_proposal
from tests.e2e.test_cli import _in_process
from tests.e2e.test_hostile_index import Chain

# The example's mentoring indicator, endorsed once here.
MENTORING = {**conftest.MENTORING, "endorsements_required": 1}
NOT_UTF8 = b"Ali\xe7e \xff"  # Latin-1, as an old tool would send it


def act(api: CommunityClient, prepare: str, submit: str, key: str, **fields) -> dict:
    typed = api.prepare(prepare, signer=address(key), **fields)["typed_data"]
    return api.post(f"/{submit}", {"typed_data": typed, "signature": api.sign(key, typed)})


def _history(env, deployments: Path) -> dict:
    api = env.api
    pass_proposal(
        env,
        ALICE,
        "Mentoring counts; Acme sponsors; Carol guards",
        [
            MENTORING,
            {"type": "add_organisation", "name": "Acme", "identifier": "acme.example"},
            {"type": "set_guardian", "account": address(CAROL)},
        ],
    )
    act(api, "names", "names", BOB, name="Bob Builder")
    act(api, "linked-accounts", "names", BOB, site="github", handle="bob-b")
    claim = api.act("claims", CAROL, indicator_id=1, evidence_uri="https://forum.example.org/t/1", organisation_id=1)
    claim_id = claim["created"]["claim_id"]
    token = api.act("attestations", BOB, claim_id=claim_id)["created"]["token_id"]
    nomination = api.act(
        "claims", ALICE, indicator_id=1, evidence_uri="https://forum.example.org/t/2", contributor=address(BOB)
    )
    invitation = api.prepare("invitations", signer=address(ALICE), name="Zoë")
    api.post(
        "/invitations", {"typed_data": invitation["typed_data"], "signature": api.sign(ALICE, invitation["typed_data"])}
    )
    candidate = address("0x" + "c4" * 32)
    act(api, "vouches", "vouches", BOB, candidate=candidate)
    act(api, "linked-accounts", "names", CAROL, site="gitlab", handle="carol-c")
    act(api, "profile-visibility", "profile-visibility", CAROL, hidden=True)
    pass_proposal(
        env, BOB, "Mentoring, weighed anew", [{**MENTORING, "type": "amend_indicator", "indicator_id": 1, "weight": 8}]
    )
    # Alice's name, as bytes that are not UTF-8, sent to the contract by her own transaction.
    chain = Chain(env.anvil.url, Deployments.load(deployments))
    receipt = chain.send(ALICE, "membership", "setName", NOT_UTF8)
    wait_until(lambda: api.get(f"/members/{address(ALICE)}")["name"] is not None, what="the name indexed")
    return {
        "claim": claim_id,
        "token": token,
        "nomination": nomination["created"]["claim_id"],
        "invitation": invitation["invitation"],
        "candidate": candidate,
        "name_block": int(receipt["blockNumber"], 16),
    }


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp(f"archive-{request.param}")
    database_url, cleanup = (
        (f"sqlite:///{workdir / 'index.sqlite3'}", None) if request.param == "sqlite" else _postgres_database()
    )
    try:
        with local_stack(workdir, database_url=database_url) as running:
            env = SimpleNamespace(api=CommunityClient(running.server.url), anvil=running.anvil)
            made = _history(env, running.deployments)
            yield SimpleNamespace(
                kind=request.param,
                api=env.api,
                anvil=running.anvil,
                server=running.server,
                deployments=running.deployments,
                database_url=database_url,
                workdir=workdir,
                made=made,
            )
    finally:
        if cleanup:
            cleanup()


def commons(stack, *args: str) -> SimpleNamespace:
    """`commons` in this process, against the stack's service and node."""
    done = _in_process(
        list(args),
        {
            "COMMONS_API": stack.server.url,
            "COMMONS_COMMUNITY": "example",  # the restore's test creates a second community
            "CC_RPC_URL": stack.anvil.url,
            "CC_DEPLOYMENTS_FILE": str(stack.deployments),
            "COMMONS_KEYSTORE": None,
        },
    )
    return SimpleNamespace(code=done.returncode, out=done.stdout, err=done.stderr)


def records(archive: bytes) -> list[dict]:
    return [json.loads(line) for line in archive.splitlines()]


def _archive(url: str, slug: str = "example") -> bytes:
    response = httpx.get(f"{url}/communities/{slug}/archive", timeout=60)
    assert response.status_code == 200, response.text
    return response.content


# ---------------------------------------------------------------------- exporting


def test_the_whole_history_exports_the_same_bytes_from_the_cli_and_the_api(stack, tmp_path):
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    done = commons(stack, "export", "--all", "-o", str(first))
    assert done.code == 0, done.err
    assert "wrote the archive of community example as of block" in done.err
    assert commons(stack, "archive", "export", "-o", str(second)).code == 0
    body = _archive(stack.server.url)
    assert first.read_bytes() == second.read_bytes() == body
    assert not list(tmp_path.glob("*.part"))

    lines = records(body)
    header, end = lines[0], lines[-1]
    assert header["kind"] == "header" and header["version"] == 1 and header["chain_id"] == 31337
    assert header["community"]["slug"] == "example" and "timelock" in header["community"]["contracts"]
    kinds = {line["kind"] for line in lines[1:-1]}
    assert kinds >= {
        "setting",
        "member",
        "linked_account",
        "invitation",
        "vouch",
        "indicator",
        "indicator_version",
        "organisation",
        "proposal",
        "vote",
        "claim",
        "attestation",
        "badge",
        "checkpoint",
        "event",
    }, kinds
    assert end["records"]["claim"] == 2 and end["records"]["indicator_version"] == 2

    # Every record tied to an event of the archive: its block, log index and transaction.
    events = {(r["block_number"], r["log_index"], r["tx_hash"]) for r in lines if r["kind"] == "event"}
    untied = [r for r in lines[1:-1] if (r["block_number"], r["log_index"], r["tx_hash"]) not in events]
    assert not untied, untied[:3]

    made, by_kind = stack.made, {}
    for line in lines[1:-1]:
        by_kind.setdefault(line["kind"], []).append(line)
    settings = {s["name"]: s["value"] for s in by_kind["setting"]}
    assert settings["guardian"] == str(int(address(CAROL), 16)) and settings["timelock_delay"] == "0"
    assert {"voting_delay", "voting_period", "quorum_numerator", "vouches_required", "invitation_lifetime"} <= set(
        settings
    )
    members = {m["address"]: m for m in by_kind["member"]}
    alice = members[address(ALICE)]
    assert alice["name"] == "Ali\ufffde \ufffd" and alice["name_raw"] == "0x" + NOT_UTF8.hex()
    assert members[address(BOB)]["name"] == "Bob Builder"
    # Carol hid her profile: she is in no list, her records and events stay.
    assert address(CAROL) not in members and "carol-c" not in {a["handle"] for a in by_kind["linked_account"]}
    hid = [e for e in by_kind["event"] if e["name"] == "ProfileVisibilityChanged"]
    assert [(e["args"]["member"], e["args"]["hidden"]) for e in hid] == [(address(CAROL), True)]
    [linked] = by_kind["linked_account"]
    assert (linked["address"], linked["site"], linked["handle"]) == (address(BOB), "github", "bob-b")
    assert [(v["version"], v["weight"]) for v in by_kind["indicator_version"]] == [(1, 5), (2, 8)]
    claims = {c["claim_id"]: c for c in by_kind["claim"]}
    assert claims[made["claim"]]["organisation_id"] == 1 and claims[made["claim"]]["minted"] is True
    assert claims[made["nomination"]]["nomination_state"] == "pending"
    [badge] = by_kind["badge"]
    assert badge["token_id"] == made["token"] and badge["owner"] == address(CAROL)
    assert [i["name"] for i in by_kind["invitation"]] == ["Zoë"]
    assert [(v["candidate"], v["voucher"]) for v in by_kind["vouch"]] == [(made["candidate"], address(BOB))]
    assert len(by_kind["proposal"]) == 2 and all(p["executed_at"] for p in by_kind["proposal"])
    name_set = [e for e in by_kind["event"] if e["name"] == "NameSet" and e["block_number"] == made["name_block"]]
    assert name_set and name_set[0]["args"]["name_raw"] == "0x" + NOT_UTF8.hex()


def test_a_client_that_has_the_archive_is_told_so(stack):
    first = httpx.get(f"{stack.server.url}/communities/example/archive")
    etag = first.headers["etag"]
    assert first.headers["content-type"] == "application/jsonl"
    assert int(first.headers["content-length"]) == len(first.content)
    assert etag == '"' + records(first.content)[-1]["sha256"] + '"'
    again = httpx.get(f"{stack.server.url}/communities/example/archive", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag


# ---------------------------------------------------------------------- verifying


def test_the_archive_verifies_against_the_chain_alone(stack, tmp_path):
    path = tmp_path / "archive.jsonl"
    path.write_bytes(_archive(stack.server.url))
    done = commons(stack, "archive", "verify", str(path))
    assert done.code == 0, (done.out, done.err)
    block = records(path.read_bytes())[0]["as_of"]["block_number"]
    assert done.out.startswith("The archive matches the chain: ")
    assert (
        f"of community example as of block {block:,} (chain 31337), rebuilt from the node, byte for byte." in done.out
    )
    assert f"rebuilding from the chain: block {block:,} of {block:,}" in done.err
    as_json = commons(stack, "--json", "archive", "verify", str(path))
    assert json.loads(as_json.out)["matches"] is True


def test_one_record_altered_fails_verification_naming_it(stack, tmp_path):
    body = _archive(stack.server.url)
    lines = body.splitlines(keepends=True)
    claim = stack.made["claim"]
    number = next(i for i, r in enumerate(records(body)) if r["kind"] == "claim" and r["claim_id"] == claim)
    altered = {**json.loads(lines[number]), "evidence_uri": "https://forum.example.org/t/forged"}
    lines[number] = (json.dumps(altered, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
    path = tmp_path / "altered.jsonl"
    path.write_bytes(b"".join(lines))
    done = commons(stack, "archive", "verify", str(path))
    assert done.code == 1, (done.out, done.err)
    assert "The archive differs from the chain (community example as of block" in done.out
    assert (
        f'line {number + 1}: claim {claim} differs: evidence_uri is "https://forum.example.org/t/forged" in the '
        'archive but "https://forum.example.org/t/1" on the chain'
    ) in done.out

    # Cut short, as a download can be: said so.
    path.write_bytes(body[: len(body) // 2])
    done = commons(stack, "archive", "verify", str(path))
    assert done.code == 1 and "it is incomplete (a download cut short?)" in done.out


def test_an_archive_of_another_chain_state_or_no_archive_at_all_is_refused_in_words(stack, tmp_path):
    body = _archive(stack.server.url)
    header = records(body)[0]
    moved = {**header, "as_of": {**header["as_of"], "block_hash": "0x" + "ee" * 32}}
    path = tmp_path / "moved.jsonl"
    path.write_bytes(json.dumps(moved).encode() + b"\n" + body.split(b"\n", 1)[1])
    done = commons(stack, "archive", "verify", str(path))
    assert done.code == 1 and "the chain was reset or reorganised since, or this is another chain" in done.err
    path.write_bytes(b"date,amount\n")
    done = commons(stack, "archive", "verify", str(path))
    assert done.code == 2 and "is not an archive" in done.err


class _Dying(BaseHTTPRequestHandler):
    """A node that answers its first `answers` requests by asking the real one, then goes away."""

    upstream = ""
    answers = 0
    refuse_logs = False  # instead: answer eth_getLogs with an error, as a provider capping ranges does

    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        if type(self).refuse_logs and b'"eth_getLogs"' in body:
            content = json.dumps(
                {"jsonrpc": "2.0", "id": json.loads(body)["id"], "error": {"code": -32005, "message": "range too wide"}}
            ).encode()
        elif type(self).answers <= 0:
            self.connection.shutdown(socket.SHUT_RDWR)  # gone: the connection closes unanswered
            return
        else:
            type(self).answers -= 1
            content = httpx.post(self.upstream, content=body, headers={"content-type": "application/json"}).content
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, *args):
        pass


@contextmanager
def _dying_node(upstream: str, answers: int, refuse_logs: bool = False):
    handler = type("Dying", (_Dying,), {"upstream": upstream, "answers": answers, "refuse_logs": refuse_logs})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_node_going_away_during_verify_is_said_and_leaves_nothing_behind(stack, tmp_path, monkeypatch):
    path = tmp_path / "archive.jsonl"
    body = _archive(stack.server.url)
    path.write_bytes(body)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    # The chain id and the archive's block answered; then the node is gone as the index is rebuilt.
    with _dying_node(stack.anvil.url, answers=2) as node:
        done = commons(stack, "archive", "verify", "--rpc", node, str(path))
    assert done.code == 3, (done.out, done.err)
    assert f"cannot check the archive: The chain node at {node} cannot be reached" in done.err
    assert "(nothing was compared)" in done.err and done.out == ""
    assert list(scratch.iterdir()) == [] and path.read_bytes() == body


def test_a_node_that_refuses_to_give_the_logs_is_said_so(stack, tmp_path):
    path = tmp_path / "archive.jsonl"
    path.write_bytes(_archive(stack.server.url))
    with _dying_node(stack.anvil.url, answers=100, refuse_logs=True) as node:
        done = commons(stack, "archive", "verify", "--rpc", node, str(path))
    assert done.code == 3, (done.out, done.err)
    assert "cannot check the archive: the node refused a request (range too wide)" in done.err
    assert "lower CC_INDEX_PAGE_BLOCKS" in done.err


# ---------------------------------------------------------------------- restoring


@contextmanager
def _empty_database(stack):
    if stack.kind == "sqlite":
        yield f"sqlite:///{stack.workdir / 'restored.sqlite3'}"
        return
    url, cleanup = _postgres_database()
    try:
        yield url
    finally:
        cleanup()


ENDPOINTS = (
    "/members",
    "/indicators",
    "/indicators/1",
    "/organisations",
    "/proposals",
    "/claims",
    "/badges",
    "/invitations",
    "/admission",
    f"/members/{address(ALICE)}",
    f"/members/{address(CAROL)}/profile",
)


def _created_through_the_factory(stack, slug: str) -> None:
    """A community created through the chain's community factory by its deployer (a creator the
    service follows), recorded in a deployments file of its own, not the service's: the service
    finds it on chain."""
    elsewhere = stack.workdir / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    shutil.copy(stack.deployments, elsewhere / stack.deployments.name)
    params = second_community_params(stack.workdir, [address(ALICE), address(BOB)], slug=slug)
    result = run_deploy(stack.anvil, elsewhere, params)
    assert result.returncode == 0, result.stdout + result.stderr
    assert slug not in json.loads(stack.deployments.read_text())["communities"]
    wait_until(
        lambda: httpx.get(f"{stack.server.url}/communities/{slug}/members").status_code == 200,
        timeout=30,
        what=f"{slug} served",
    )


def test_an_index_restored_into_an_empty_database_answers_and_exports_as_the_original(stack):
    _created_through_the_factory(stack, "wiki")
    env = service_env(stack.anvil, stack.deployments, "")
    with _empty_database(stack) as url:
        restored = Server({**env, "DATABASE_URL": url, "CC_AUTOEXEC": "false"}, stack.workdir / "restored.log")
        done = restored.run("restore", env={"DATABASE_URL": url})
        assert done.returncode == 0, done.stderr[-3000:]
        head = int(
            httpx.post(stack.anvil.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"}).json()["result"],
            16,
        )
        first = records(_archive(stack.server.url))[0]["community"]["deployment_block"]
        assert f"community example: indexing blocks {first:,} to {head:,}" in done.stderr
        assert f"community example: block {head:,} of {head:,} indexed" in done.stderr
        assert f"community wiki: block {head:,} of {head:,} indexed" in done.stderr  # found on chain
        assert "leads" not in done.stderr
        assert done.stdout.startswith(
            f"Restored the index of 2 communities from the chain (example up to block {head:,}, wiki up to block "
            f"{head:,}): "
        )

        again = restored.run("restore", env={"DATABASE_URL": url})
        assert again.returncode == 1
        assert (
            f"Restore refused: The database holds an index of example up to block {head:,}, wiki up to block {head:,}"
        ) in again.stderr
        assert "run python -m backend reindex" in again.stderr

        restored.start()
        try:
            original, copy = CommunityClient(stack.server.url, "example"), CommunityClient(restored.url, "example")
            for path in ENDPOINTS:
                assert copy.get(path) == original.get(path), path
            assert (
                httpx.get(f"{restored.url}/communities").json() == httpx.get(f"{stack.server.url}/communities").json()
            )
            for slug in ("example", "wiki"):
                assert _archive(restored.url, slug) == _archive(stack.server.url, slug), slug
        finally:
            restored.stop()


def test_a_thousand_asking_at_once_get_one_archive_written_once(stack):
    """Many clients at once: every one gets the archive, the service writes it at most once (the
    index does not move), and other reads are answered meanwhile."""
    log = stack.workdir / "api.log"
    expected = _archive(stack.server.url)
    written_before = log.read_text().count("archive of community example as of block")
    with httpx.Client(base_url=stack.server.url, timeout=120, limits=httpx.Limits(max_connections=64)) as client:

        def fetch(_):
            response = client.get("/communities/example/archive")
            return response.status_code, response.content == expected

        with ThreadPoolExecutor(max_workers=32) as pool:
            answers = list(pool.map(fetch, range(400)))
            health = client.get("/health")
    assert answers == [(200, True)] * 400
    assert health.status_code == 200
    assert log.read_text().count("archive of community example as of block") == written_before
    assert written_before >= 1, "the service says when it writes an archive"
    assert os.path.getsize(log) > 0
