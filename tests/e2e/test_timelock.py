"""A passed proposal waits in the timelock before it runs (issue 25), through the API on SQLite and
PostgreSQL: the delay and the guardian set by the community's own vote, a proposal queued with the
time it may run, refused in words before then, cancelled by the guardian and by nobody else, and
carried out by anyone once the delay is over.

Its own chain and service per database (the delay would hold up every other module's proposals),
with the service's own execution of passed proposals off, so that each step here is the test's."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from eth_utils import keccak

from backend.client import CommunityClient
from devstack.stack import local_stack, wait_until
from tests.e2e.conftest import ALICE, BOB, CAROL, DANA, _postgres_database, address, pass_proposal, problem_of
from tests.e2e.test_hostile_governance import Chain

HOUR = 3_600
MENTORING = {
    "type": "add_indicator",
    "name": "Mentoring a newcomer",
    "category": "mentoring",
    "orientation": "community",
    "weight": 5,
    "endorsements_required": 2,
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp(f"timelock-{request.param}")
    database_url, cleanup = (
        (f"sqlite:///{workdir / 'index.sqlite3'}", None) if request.param == "sqlite" else _postgres_database()
    )
    try:
        with local_stack(workdir, database_url=database_url, settings={"CC_AUTOEXEC": "false"}) as stack:
            api = CommunityClient(stack.server.url)
            yield SimpleNamespace(api=api, anvil=stack.anvil, deployments=stack.deployments)
    finally:
        if cleanup:
            cleanup()


def passed(env, description: str, actions: list[dict]) -> str:
    """Propose, vote for and wait out the vote: passed, not queued yet."""
    proposal = env.api.act("proposals", ALICE, description=description, actions=actions)
    proposal_id = proposal["created"]["proposal_id"]
    env.anvil.skip(2)
    for voter in (ALICE, BOB):
        env.api.act("votes", voter, proposal_id=proposal_id, support="for", reason="yes")
    env.anvil.skip(301)
    return proposal_id


def cancel(env, key: str, proposal_id: str) -> dict:
    api = env.api
    typed = api.post(f"/proposals/{proposal_id}/cancel/prepare", {"signer": address(key)})["typed_data"]
    return api.post(f"/proposals/{proposal_id}/cancel", {"typed_data": typed, "signature": api.sign(key, typed)})


def test_the_community_votes_a_delay_and_a_guardian(stack):
    result = pass_proposal(
        stack,
        ALICE,
        "An hour to react, and Carol guards",
        [{"type": "set_timelock_delay", "delay_seconds": HOUR}, {"type": "set_guardian", "account": address(CAROL)}],
    )
    # With no delay yet, carrying it out queued and executed it in one go.
    assert result["executed"]["created"]["executed_proposal_id"] == result["id"]
    community = stack.api.get("/communities/example")
    assert community["parameters"]["governance"]["timelock_delay"] == HOUR
    assert community["parameters"]["guardian"] == address(CAROL)
    proposal = stack.api.get(f"/proposals/{result['id']}")
    assert proposal["state"] == "executed"
    assert [a["function"] for a in proposal["actions"]] == ["updateDelay", "setProposalGuardian"]


def test_a_passed_proposal_waits_and_says_until_when(stack):
    proposal_id = passed(stack, "Mentoring counts, after an hour", [MENTORING])
    assert stack.api.get(f"/proposals/{proposal_id}")["state"] == "succeeded"
    queued = stack.api.execute(proposal_id)
    assert queued["created"].get("queued_proposal_id") == proposal_id
    assert "executed_proposal_id" not in queued["created"]
    proposal = stack.api.get(f"/proposals/{proposal_id}")
    assert proposal["state"] == "queued"
    assert proposal["eta"] == proposal["queued_at"] + HOUR

    page = stack.api.http.get(f"/c/example/proposals/{proposal_id}").text
    assert "Waiting before it runs" in page and "Carry out the proposal now" not in page
    # The cancel form is on the page for the guardian alone (the script shows it to them only).
    assert f'data-action="proposals/{proposal_id}/cancel" data-shown-for="{address(CAROL)}"' in page
    home = stack.api.http.get("/c/example").text
    assert "A passed proposal waits 1 hour before it runs" in home and "guardian" in home

    status, problem = problem_of(lambda: stack.api.execute(proposal_id))
    assert status == 409
    assert problem["error"] == "ProposalWaitsForTimelock" and "waits in the timelock until" in problem["detail"]
    assert stack.api.get("/indicators")["total"] == 0  # nothing ran

    stack.anvil.skip(HOUR + 1)
    executed = stack.api.execute(proposal_id)
    assert executed["created"]["executed_proposal_id"] == proposal_id
    assert stack.api.get(f"/proposals/{proposal_id}")["state"] == "executed"
    assert stack.api.get("/indicators")["total"] == 1


def test_only_the_guardian_cancels_a_queued_proposal(stack):
    proposal_id = passed(stack, "Slipped through", [{"type": "retire_indicator", "indicator_id": 1}])
    stack.api.execute(proposal_id)
    for key in (ALICE, BOB):  # the proposer, and a member who voted for it
        status, problem = problem_of(lambda key=key: cancel(stack, key, proposal_id))
        assert status == 403, problem
        assert problem["error"] == "GovernorUnableToCancel"
        assert "GovernorUnableToCancel" not in problem["detail"]
    assert stack.api.get(f"/proposals/{proposal_id}")["state"] == "queued"

    cancel(stack, CAROL, proposal_id)
    proposal = stack.api.get(f"/proposals/{proposal_id}")
    assert (proposal["state"], proposal["canceled_by"]) == ("canceled", "guardian")
    assert "Cancelled by the community" in stack.api.http.get(f"/c/example/proposals/{proposal_id}").text
    stack.anvil.skip(HOUR + 1)
    problem_of(lambda: stack.api.execute(proposal_id))
    assert stack.api.get("/indicators")["items"][0]["active"] is True  # still counted


def test_a_proposal_carried_out_straight_through_the_timelock_is_seen_executed(stack):
    """Anyone may run a ready operation with the timelock's own executeBatch, past the governor (no
    ProposalExecuted then): the index sees it from the timelock's CallExecuted."""
    actions = [{"type": "add_organisation", "name": "Drupal Association", "identifier": "drupal.org"}]
    proposal_id = passed(stack, "Past the governor", actions)
    stack.api.execute(proposal_id)
    proposal = stack.api.get(f"/proposals/{proposal_id}")
    assert proposal["state"] == "queued"
    stack.anvil.skip(HOUR + 1)
    chain = Chain(stack)
    governor = chain.community.contracts["governor"]
    raw = stack.api.get(f"/proposals/{proposal_id}")
    targets = [chain.community.contracts[a["contract"]] for a in raw["actions"]]
    calldatas = [chain.data(a["contract"], a["function"], *a["args"].values()) for a in raw["actions"]]
    # GovernorTimelockControl's salt: the governor's address over the description's hash.
    salt = (int(governor, 16) << 96 ^ int.from_bytes(keccak(text="Past the governor"), "big")).to_bytes(32, "big")
    receipt = chain.send("timelock", "executeBatch", targets, [0], calldatas, b"\0" * 32, salt, signer=DANA)
    assert receipt["status"] == "0x1"
    wait_until(lambda: stack.api.get(f"/proposals/{proposal_id}")["state"] == "executed", what="seen executed")
    assert any(o["name"] == "Drupal Association" for o in stack.api.get("/organisations")["items"])


def test_a_cancellation_signed_for_another_proposal_is_refused(stack):
    first = passed(stack, "First", [{"type": "set_guardian", "account": None}])
    second = passed(stack, "Second", [{"type": "set_guardian", "account": address(BOB)}])
    typed = stack.api.post(f"/proposals/{first}/cancel/prepare", {"signer": address(CAROL)})["typed_data"]
    body = {"typed_data": typed, "signature": stack.api.sign(CAROL, typed)}
    status, problem = problem_of(lambda: stack.api.post(f"/proposals/{second}/cancel", body))
    assert status == 400 and f"does not cancel proposal {second}" in problem["detail"]
    assert stack.api.get(f"/proposals/{first}")["state"] == "succeeded"


def test_the_delay_must_keep_governance_alive(stack):
    status, problem = problem_of(
        lambda: stack.api.prepare(
            "proposals",
            signer=address(ALICE),
            description="Forever",
            actions=[{"type": "set_timelock_delay", "delay_seconds": 31 * 86_400}],
        )
    )
    assert status == 422
    assert "delay_seconds" in problem["detail"]
