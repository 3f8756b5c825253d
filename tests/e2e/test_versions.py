"""Records that outlive their first contracts (issue 25), on SQLite and PostgreSQL: a community
moves its records to version 2 of the badge contract by its own vote, through the API; the service
carries every record over by itself; the old version takes no write; claims, badges and their
attestations go on in the new one as one history; credentials issued before keep verifying; and
version 2 differs visibly (its badges' metadata names it).

Its own chain and service per database: the move changes the community's badge contract for good."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import pytest

from backend.chain.abi import ContractAbi
from backend.client import CommunityClient
from devstack.stack import Server, ape_run, local_stack, rpc, service_env, wait_until
from tests.e2e.conftest import (
    ALICE,
    BOB,
    CAROL,
    CODE,
    MENTORING,
    _postgres_database,
    address,
    pass_proposal,
    problem_of,
)
from tests.e2e.test_archive import ENDPOINTS, _archive, _empty_database, commons


def _abi(deployments, key: str) -> ContractAbi:
    return ContractAbi(json.loads(deployments.read_text())["abis"][key])


def call(stack, address: str, function: str, *args, sender: str | None = None) -> bytes:
    """eth_call of the badge ABI's `function` at `address`: the raw answer (raises on a revert)."""
    data = "0x" + _abi(stack.deployments, "badge").function(function).encode(*args).hex()
    request = {"to": address, "data": data, **({"from": sender} if sender else {})}
    return bytes.fromhex(rpc(stack.anvil.url, "eth_call", request, "latest")[2:])


def read(stack, address: str, function: str, *args):
    fn = _abi(stack.deployments, "badge").function(function)
    return fn.decode_output(call(stack, address, function, *args))


def revert_name(stack, address: str, function: str, *args, sender: str) -> str:
    """The custom error a call of the badge contract reverts with, by name."""
    data = "0x" + _abi(stack.deployments, "badge").function(function).encode(*args).hex()
    answer = httpx_post(stack.anvil.url, {"to": address, "data": data, "from": sender})
    assert "error" in answer, f"{function} did not revert: {answer}"
    selector = bytes.fromhex(answer["error"]["data"][2:10])
    return _abi(stack.deployments, "badge").errors[selector].name


def httpx_post(url: str, request: dict) -> dict:
    import httpx

    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [request, "latest"]}
    return httpx.post(url, json=body, timeout=30).json()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request, tmp_path_factory):
    """Its own chain and service (the move changes the community's badge contract for good)."""
    workdir = tmp_path_factory.mktemp(f"versions-{request.param}")
    database_url, cleanup = (
        (f"sqlite:///{workdir / 'index.sqlite3'}", None) if request.param == "sqlite" else _postgres_database()
    )
    # Two claims a carrying transaction, so that the records go over in several; and pages of a
    # few blocks, so that the index finds the move in one page and follows it in the next ones.
    settings = {"CC_CARRY_OVER_BATCH_CLAIMS": "2", "CC_CARRY_OVER_POLL_SECONDS": "0.2", "CC_INDEX_PAGE_BLOCKS": "3"}
    try:
        with local_stack(workdir, database_url=database_url, settings=settings) as running:
            env = SimpleNamespace(api=CommunityClient(running.server.url), anvil=running.anvil)
            yield SimpleNamespace(
                kind=request.param,
                api=env.api,
                env=env,
                anvil=running.anvil,
                server=running.server,
                deployments=running.deployments,
                workdir=workdir,
            )
    finally:
        if cleanup:
            cleanup()


@pytest.fixture(scope="module")
def moved(stack):
    """A history in version 1, then the move by vote, carried over by the service."""
    api, env = stack.api, stack.env
    pass_proposal(env, ALICE, "Two indicators", [MENTORING, CODE])
    mentoring_id, code_id = (i["id"] for i in api.get("/indicators")["items"])
    made = {}
    made["minted"] = api.act("claims", ALICE, indicator_id=code_id, evidence_uri="https://git.example.org/mr/1")
    api.act("attestations", BOB, claim_id=made["minted"]["created"]["claim_id"])
    made["open"] = api.act("claims", ALICE, indicator_id=mentoring_id, evidence_uri="https://forum.example.org/t/1")
    api.act("attestations", BOB, claim_id=made["open"]["created"]["claim_id"])
    made["pending"] = api.act(
        "claims", BOB, indicator_id=mentoring_id, contributor=address(CAROL), evidence_uri="https://meet.example.org/2"
    )
    api.act("attestations", ALICE, claim_id=made["pending"]["created"]["claim_id"])
    made["declined"] = api.act(
        "claims", BOB, indicator_id=code_id, contributor=address(ALICE), evidence_uri="https://git.example.org/mr/3"
    )
    api.act("nomination-answers", ALICE, claim_id=made["declined"]["created"]["claim_id"], answer="decline")
    ids = {key: value["created"]["claim_id"] for key, value in made.items()}
    # A claim Carol signs on a page left open, sent only after the move (to the old version).
    stale = api.prepare("claims", signer=address(CAROL), indicator_id=code_id, evidence_uri="https://git.example.org/4")

    first = api.get("/communities/example")["contracts"]["badge"]
    before = {
        "claims": api.get("/claims", limit=100),
        "badge": api.get(f"/badges/{ids['minted']}"),
        "credential": api.get(f"/badges/{ids['minted']}/credential"),
        "alice": api.get(f"/members/{address(ALICE)}"),
    }

    deployed = ape_run(stack.anvil, "deploy_version", "--deployments-dir", str(stack.deployments.parent))
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    action = json.loads(deployed.stdout.strip().splitlines()[-1])
    assert action["type"] == "move_records" and action["from_version"] == first
    second = action["to_version"]
    proposal = pass_proposal(env, ALICE, "Move our records to version 2", [action])
    wait_until(lambda: api.get("/communities/example")["contracts"]["badge"] == second, 30, "the move served")
    wait_until(lambda: read(stack, second, "claimCount")[0] == len(ids), 60, "every record carried over")
    return SimpleNamespace(
        ids=ids,
        before=before,
        first=first,
        second=second,
        proposal=proposal,
        mentoring=mentoring_id,
        code=code_id,
        stale=stale["typed_data"],
    )


def test_the_vote_reads_as_a_move_of_the_records(stack, moved):
    proposal = stack.api.get(f"/proposals/{moved.proposal['id']}")
    assert proposal["state"] == "executed"
    [action] = proposal["actions"]
    assert action["function"] == "moveRecords"
    assert action["args"] == {"from": moved.first, "to": moved.second}
    # The voters' page says it in words.
    page = stack.api.http.get(f"/c/example/proposals/{moved.proposal['id']}").text
    assert "move the community&#39;s records to" in page and "a new version of its badge contract" in page


def test_every_record_is_carried_as_the_old_version_holds_it(stack, moved):
    for claim_id in range(1, len(moved.ids) + 1):
        assert call(stack, moved.second, "recordOf", claim_id) == call(stack, moved.first, "recordOf", claim_id)
    badge = moved.ids["minted"]
    assert read(stack, moved.second, "ownerOf", badge) == read(stack, moved.first, "ownerOf", badge)
    # Attestations of claims no longer open stay where they were made, and read through.
    assert read(stack, moved.second, "hasAttested", badge, address(BOB)) == (True,)
    assert read(stack, moved.second, "version") == (2,)


def test_the_old_version_takes_no_write(stack, moved):
    alice = address(ALICE)
    code = moved.code
    assert revert_name(stack, moved.first, "claim", code, b"\x01" * 32, "u", sender=alice) == "BadgeRecordsMoved"
    assert revert_name(stack, moved.first, "attest", moved.ids["open"], sender=address(CAROL)) == "BadgeRecordsMoved"
    assert read(stack, moved.first, "claimCount") == (len(moved.ids),)


def test_a_request_signed_for_the_old_version_is_refused_in_words_and_changes_nothing(stack, moved):
    """Before Carol acts in version 2: her nonce is still the one she signed."""
    typed = moved.stale
    assert typed["message"]["to"] == moved.first
    before = read(stack, moved.second, "claimCount")
    status, problem = problem_of(
        lambda: stack.api.post("/claims", {"typed_data": typed, "signature": stack.api.sign(CAROL, typed)})
    )
    assert status == 409 and problem["error"] == "BadgeRecordsMoved", problem
    assert "moved its records to a new version" in problem["detail"] and "Reload the page" in problem["detail"]
    assert read(stack, moved.second, "claimCount") == before


def test_claims_and_attestations_go_on_in_the_new_version(stack, moved):
    api = stack.api
    open_claim = moved.ids["open"]
    # Bob endorsed it in version 1: the new version knows, and says so in words.
    status, problem = problem_of(lambda: api.act("attestations", BOB, claim_id=open_claim))
    assert status == 409 and problem["error"] == "BadgeAlreadyAttested", problem
    minted = api.act("attestations", CAROL, claim_id=open_claim)
    assert minted["created"] == {"attestations": 2, "token_id": open_claim}
    assert read(stack, moved.second, "ownerOf", open_claim)[0].lower() == address(ALICE).lower()
    # Carol answers the nomination made to her in version 1.
    accepted = api.act("nomination-answers", CAROL, claim_id=moved.ids["pending"], answer="accept")
    assert accepted["created"]["accepted_claim_id"] == moved.ids["pending"]
    # A new claim's number goes on from version 1's.
    new = api.act("claims", BOB, indicator_id=moved.code, evidence_uri="https://git.example.org/mr/5")
    assert new["created"]["claim_id"] == len(moved.ids) + 1


def test_the_index_reads_one_history(stack, moved):
    api, before = stack.api, moved.before
    claims = api.get("/claims", limit=100)
    assert claims["total"] >= before["claims"]["total"]
    by_id = {c["id"]: c for c in claims["items"]}
    for old in before["claims"]["items"]:
        now = by_id[old["id"]]
        assert (now["contributor"], now["indicator_id"], now["created_at"]) == (
            old["contributor"],
            old["indicator_id"],
            old["created_at"],
        )
    assert api.get(f"/badges/{moved.ids['minted']}") == before["badge"]
    assert api.get(f"/claims/{moved.ids['declined']}")["nomination_state"] == "declined"


def test_credentials_issued_before_keep_verifying(stack, moved):
    credential = stack.api.get(f"/badges/{moved.ids['minted']}/credential")
    assert credential == moved.before["credential"]
    assert moved.first in json.dumps(credential)
    # A badge minted after the move names the version that minted it.
    wait_until(lambda: stack.api.get(f"/claims/{moved.ids['open']}")["state"] == "minted", 20, "the mint indexed")
    assert moved.second in json.dumps(stack.api.get(f"/badges/{moved.ids['open']}/credential"))


def test_version_two_says_so_in_its_badges_metadata(stack, moved):
    def metadata(address: str) -> dict:
        [uri] = read(stack, address, "tokenURI", moved.ids["minted"])
        return json.loads(base64.b64decode(uri.split(",", 1)[1]))

    old, new = metadata(moved.first), metadata(moved.second)
    assert "records_version" not in old and new.pop("records_version") == 2
    assert new == old


def test_the_archive_verifies_across_the_move(stack, moved, tmp_path, monkeypatch):
    path = tmp_path / "example.jsonl"
    exported = commons(stack, "export", "--all", "-o", str(path))
    assert exported.code == 0, exported.err
    # Rebuilt from the chain in pages of a few blocks: the move is found in one, and followed after.
    monkeypatch.setenv("CC_INDEX_PAGE_BLOCKS", "3")
    done = commons(stack, "archive", "verify", str(path))
    assert done.code == 0, done.out + done.err
    names = {json.loads(line).get("name") for line in path.read_text().splitlines()}
    assert {"RecordsMoved", "RecordsCarried"} <= names


def test_the_propose_page_offers_the_move_from_the_version_in_use(stack, moved):
    page = stack.api.http.get("/c/example/propose").text
    assert '<option value="move_records">' in page
    assert f'name="from_version" value="{moved.second}"' in page


def test_an_index_restored_from_the_deployment_reads_the_same_history(stack, moved):
    """`python -m backend restore` into an empty database, from the contracts as deployed (the
    deployments file names version 1): it finds the move and answers as the service does."""
    env = service_env(stack.anvil, stack.deployments, "")
    with _empty_database(stack) as url:
        restored = Server(
            {**env, "DATABASE_URL": url, "CC_AUTOEXEC": "false", "CC_CARRY_OVER": "false", "CC_INDEX_PAGE_BLOCKS": "3"},
            stack.workdir / "restored.log",
        )
        done = restored.run("restore", env={"DATABASE_URL": url, "CC_INDEX_PAGE_BLOCKS": "3"})
        assert done.returncode == 0, done.stderr[-3000:]
        restored.start()
        try:
            original, copy = CommunityClient(stack.server.url, "example"), CommunityClient(restored.url, "example")
            wait_until(lambda: copy.get("/claims")["total"] == original.get("/claims")["total"], 20, "caught up")
            for path in ENDPOINTS:
                assert copy.get(path) == original.get(path), path
            # It serves the version the records are in now.
            assert copy.get("")["contracts"] == original.get("")["contracts"]
            assert copy.get("")["contracts"]["badge"] == moved.second
            assert _archive(restored.url) == _archive(stack.server.url)
        finally:
            restored.stop()


def test_the_proposals_page_says_whether_it_knows_the_new_versions_code(stack, moved):
    page = stack.api.http.get(f"/c/example/proposals/{moved.proposal['id']}").text
    assert "is version 2 of the badge contract, as this service knows it" in page
    # A contract that is no version of the badge contract this service knows: voters are warned.
    forwarder = stack.api.get("/communities/example")["contracts"]["forwarder"]
    action = {"type": "move_records", "from_version": moved.second, "to_version": forwarder}
    proposed = stack.api.act("proposals", ALICE, description="Move to something else", actions=[action])
    page = stack.api.http.get(f"/c/example/proposals/{proposed['created']['proposal_id']}").text
    assert "This service does not know the code of the contract the records would move to" in page
    assert "is version 2 of the badge contract" not in page
    assert "not this community's badge contract" not in page  # it moves from the version in use
    # A look-alike first version (any other contract, here the forwarder) as the source: voters are told not to.
    action = {"type": "move_records", "from_version": forwarder, "to_version": moved.second}
    proposed = stack.api.act("proposals", BOB, description="Move from a look-alike", actions=[action])
    page = stack.api.http.get(f"/c/example/proposals/{proposed['created']['proposal_id']}").text
    assert "The records would move from a contract that is not this community" in page
