"""A passed proposal waits in the timelock before it runs (issue 25), through the API on SQLite and
PostgreSQL: the delay and the guardian set by the community's own vote, a proposal queued with the
time it may run, refused in words before then, cancelled by the guardian and by nobody else, and
carried out by anyone once the delay is over. The web app's Propose page offers the guardian by name
(the members, no guardian, or another address), and a bad other address is refused in words; so
too the member to remove and the member whose key is lost (members only), and a recovered member's
new address that is not one is refused in words.

Its own chain and service per database (the delay would hold up every other module's proposals),
with the service's own execution of passed proposals off, so that each step here is the test's."""

from __future__ import annotations

from html.parser import HTMLParser
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


class MemberPicker(HTMLParser):
    """One of the Propose page's pickers of someone by name (its select's id), as a browser reads
    it: each option's words, value and flags (data-none: nobody; data-other: another address), and
    the picker's hint."""

    def __init__(self, select_id: str) -> None:
        super().__init__()
        self.select_id = select_id
        self.options: list[SimpleNamespace] = []
        self.hint = ""
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        at = dict(attrs)
        if tag == "select" and at.get("id") == self.select_id:
            self._in = "select"
        elif tag == "option" and self._in == "select":
            self.options.append(
                SimpleNamespace(value=at.get("value"), words="", none="data-none" in at, other="data-other" in at)
            )
            self._in = "option"
        elif tag == "p" and at.get("id") == f"{self.select_id}-hint":
            self._in = "hint"

    def handle_endtag(self, tag):
        if (tag, self._in) in (("select", "select"), ("p", "hint"), ("option", "option")):
            self._in = "select" if tag == "option" else None

    def handle_data(self, data):
        if self._in == "option":
            self.options[-1].words += data
        elif self._in == "hint":
            self.hint += data


def member_picker(env, select_id: str) -> MemberPicker:
    picker = MemberPicker(select_id)
    picker.feed(env.api.http.get("/c/example/propose").text)
    return picker


def test_the_propose_page_elects_the_guardian_by_name(stack):
    """A mentor picks "Roberto" (Bob's own name), not 0x70997970…: the page offers the members by
    name, each option's value the address the page sends, and proposing with it elects that member."""
    stack.api.act("names", BOB, name="Roberto")
    picker = member_picker(stack, "guardian-account")
    by_words = {o.words: o for o in picker.options}
    assert by_words["Roberto"].value == address(BOB)
    assert by_words["Alice"].value == address(ALICE) and by_words["Carol"].value == address(CAROL)
    assert not [o.words for o in picker.options if "0x" in o.words], "an option shows an address"
    # Nothing picked at first; removing the guardian and another address are choices in words.
    assert picker.options[0].value == "" and picker.options[0].words == "Choose…"
    assert [o.words for o in picker.options if o.none] == ["No guardian"]
    assert [o.words for o in picker.options if o.other] == ["Another address (a Safe)"]
    assert "Now Carol is the guardian." in " ".join(picker.hint.split())  # elected earlier in this module

    proposal_id = stack.api.act(
        "proposals",
        ALICE,
        description="Roberto guards",
        actions=[{"type": "set_guardian", "account": by_words["Roberto"].value}],
    )["created"]["proposal_id"]
    actions = stack.api.get(f"/proposals/{proposal_id}")["actions"]
    assert [(a["function"], list(a["args"].values())) for a in actions] == [("setProposalGuardian", [address(BOB)])]
    page = " ".join(stack.api.http.get(f"/c/example/proposals/{proposal_id}").text.split())
    assert f"elect as guardian <em>Roberto ({address(BOB)})</em>" in page


def test_another_address_that_is_not_one_is_refused_in_words(stack):
    """What a member typed in "another address" (a name, a cut-off address) is refused in a
    sentence before anyone signs, and nothing is proposed: the guardian stays who it was."""
    before = stack.api.get("/proposals")["total"]
    for typed in ("Carol", "0x70997970C51812dc3A010C7d01b50e0d17dc79C"):
        status, problem = problem_of(
            lambda typed=typed: stack.api.prepare(
                "proposals",
                signer=address(ALICE),
                description="A Safe guards",
                actions=[{"type": "set_guardian", "account": typed}],
            )
        )
        assert status == 422, problem
        assert [e["msg"] for e in problem["errors"]] == [f"{typed!r} is not an address (0x and 40 hex digits)"]
        assert problem["errors"][0]["loc"][-1] == "account"
    assert stack.api.get("/proposals")["total"] == before
    assert stack.api.get("/communities/example")["parameters"]["guardian"] == address(CAROL)


@pytest.mark.parametrize("select_id", ["remove-account", "recover-lost"])
def test_the_propose_page_offers_members_by_name_to_remove_or_recover(stack, select_id):
    """Removing a member and recovering a member's lost key concern members only: the pickers offer
    the members by name (Roberto is Bob's own name, from an earlier test), each option's value the
    address the page sends, no option an address, Dana (no member here) not at all, and nobody to
    pick for "no one"; a member the public list does not show is given by address."""
    picker = member_picker(stack, select_id)
    by_words = {o.words: o.value for o in picker.options if not o.other}
    assert by_words == {"Choose…": "", "Alice": address(ALICE), "Roberto": address(BOB), "Carol": address(CAROL)}
    assert picker.options[0].words == "Choose…"
    assert not [o.words for o in picker.options if "0x" in o.words], "an option shows an address"
    assert not [o for o in picker.options if o.none]
    assert [o.words for o in picker.options if o.other] == ["A member not listed (by address)"]


def test_proposing_with_a_name_removes_or_recovers_that_member(stack):
    """The option picked by name is the member's address in the proposal: removing "Roberto"
    removes Bob's address, and recovering "Carol" moves her membership to the new key typed."""
    removal = {o.words: o.value for o in member_picker(stack, "remove-account").options}["Roberto"]
    lost = {o.words: o.value for o in member_picker(stack, "recover-lost").options}["Carol"]
    removed = stack.api.act(
        "proposals", ALICE, description="Roberto left", actions=[{"type": "remove_member", "account": removal}]
    )["created"]["proposal_id"]
    recovered = stack.api.act(
        "proposals",
        ALICE,
        description="Carol lost her phone",
        actions=[{"type": "recover_member", "lost": lost, "replacement": address(DANA)}],
    )["created"]["proposal_id"]

    def calls(proposal_id):
        return [
            (a["function"], list(a["args"].values())) for a in stack.api.get(f"/proposals/{proposal_id}")["actions"]
        ]

    assert calls(removed) == [("remove", [address(BOB)])]
    assert calls(recovered) == [("recover", [address(CAROL), address(DANA)])]
    page = " ".join(stack.api.http.get(f"/c/example/proposals/{removed}").text.split())
    assert f"remove member <em>Roberto ({address(BOB)})</em>" in page
    page = " ".join(stack.api.http.get(f"/c/example/proposals/{recovered}").text.split())
    assert f"recover the membership of <em>Carol ({address(CAROL)})</em>" in page


@pytest.mark.parametrize(
    ("action", "field"),
    [("recover_member", "replacement"), ("admit_member", "account")],
    ids=["recovered-members-new-address", "new-members-address"],
)
def test_a_new_key_that_is_not_an_address_is_refused_in_words(stack, action, field):
    """A recovered member's new address (and a new member's), which no name can stand for, refused
    in a sentence when it is no address (a name, an address cut short), and nothing is proposed."""
    before = stack.api.get("/proposals")["total"]
    given = {"lost": address(CAROL)} if action == "recover_member" else {}
    for typed in ("Dana's phone", "0x70997970C51812dc3A010C7d01b50e0d17dc79C"):
        status, problem = problem_of(
            lambda typed=typed: stack.api.prepare(
                "proposals",
                signer=address(ALICE),
                description="A new key",
                actions=[{"type": action, **given, field: typed}],
            )
        )
        assert status == 422, problem
        assert [e["msg"] for e in problem["errors"]] == [f"{typed!r} is not an address (0x and 40 hex digits)"]
        assert problem["errors"][0]["loc"][-1] == field
    assert stack.api.get("/proposals")["total"] == before
