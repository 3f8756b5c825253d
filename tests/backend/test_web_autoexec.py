"""When the service carries out a passed proposal by itself (backend/proposals/autoexec.py), and
when it leaves it to the members; what the proposal's page then says. The end-to-end case (a
proposal passed on a real chain, carried out with no click) is tests/browser/test_phone.py."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from backend.errors import ChainRefused, NodeUnavailable, TooManyRequests
from backend.proposals import autoexec
from backend.proposals.autoexec import RETRIES, ProposalExecutor
from backend.relay.submit import TxOutcome

COMMUNITY = SimpleNamespace(slug="example")


def executor(delay: float = 30.0) -> ProposalExecutor:
    ctx = SimpleNamespace(
        settings=SimpleNamespace(autoexec=True, autoexec_delay_seconds=delay, autoexec_poll_seconds=5.0),
        worker=SimpleNamespace(leader=None),
    )
    return ProposalExecutor(ctx)  # type: ignore[arg-type]


@pytest.fixture
def sent(monkeypatch):
    """What the executor asked the relayer to execute; `answers` says how each ask ends."""
    calls: list[str] = []
    answers: list = []

    def execute_proposal(ctx, community, *, proposal, wait, client):
        calls.append((proposal.proposal_id, client, wait))
        answer = answers.pop(0) if answers else TxOutcome("0x" + "ab" * 32, "succeeded", 7)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(autoexec.writes, "execute_proposal", execute_proposal)
    return SimpleNamespace(calls=calls, answers=answers)


def test_a_passed_proposal_is_carried_out_after_the_delay(sent):
    service, proposal = executor(delay=30), SimpleNamespace(proposal_id="12")
    assert not service.execute_if_due(COMMUNITY, proposal, now=100.0)  # first seen: a click may come first
    assert not service.execute_if_due(COMMUNITY, proposal, now=129.0)
    assert service.execute_if_due(COMMUNITY, proposal, now=130.0)
    assert sent.calls == [("12", "autoexec", True)]  # through the relayer, within the budgets of its own client
    assert service.executed[("example", "12")] == 7


def test_a_proposal_the_contract_refuses_is_left_to_the_members(sent):
    service, proposal = executor(delay=0), SimpleNamespace(proposal_id="13")
    sent.answers.append(ChainRefused("MembershipLastMember", {"account": "0x" + "12" * 20}))
    assert not service.execute_if_due(COMMUNITY, proposal, now=0.0)
    attempt = service.attempt("example", "13")
    assert attempt.gave_up and "the last member" in attempt.last_error
    # Never again by itself, however long the community waits (it may have changed meanwhile).
    assert not service.execute_if_due(COMMUNITY, proposal, now=10**9)
    assert len(sent.calls) == 1


def test_a_proposal_left_to_the_members_stays_theirs_across_an_index_rebuild(sent):
    """A rebuilt index lists no proposal for a moment: the one given up on is not tried again when
    it is listed again (found by the e2e suite: a proposal removing every member, refused while
    they were the only ones, was carried out later once someone else had joined)."""
    service, refused, done = executor(delay=0), SimpleNamespace(proposal_id="21"), SimpleNamespace(proposal_id="22")
    sent.answers.append(ChainRefused("MembershipLastMember", {"account": "0x" + "12" * 20}))
    assert not service.execute_if_due(COMMUNITY, refused, now=0.0)
    assert service.execute_if_due(COMMUNITY, done, now=0.0)
    service.forget_left("example", set())  # the index being rebuilt: nothing waits
    assert not service.execute_if_due(COMMUNITY, refused, now=10.0)
    assert service.attempt("example", "21").gave_up and service.attempt("example", "22") is None
    assert [c[0] for c in sent.calls] == ["21", "22"]


def test_executed_meanwhile_or_the_services_own_failures_are_tried_again(sent):
    service, proposal = executor(delay=0), SimpleNamespace(proposal_id="14")
    sent.answers += [
        ChainRefused("GovernorUnexpectedProposalState", {"proposalId": 14, "current": 7, "expectedStates": "0x30"}),
        TooManyRequests("the budget is spent", budget="gas_per_hour", retry_after=600),
    ]
    assert not service.execute_if_due(COMMUNITY, proposal, now=0.0)
    assert not service.attempt("example", "14").gave_up
    assert not service.execute_if_due(COMMUNITY, proposal, now=10.0)  # not yet
    assert not service.execute_if_due(COMMUNITY, proposal, now=30.0)  # the budget: Retry-After says 600 s
    assert not service.execute_if_due(COMMUNITY, proposal, now=600.0)
    assert service.execute_if_due(COMMUNITY, proposal, now=630.0)
    assert len(sent.calls) == 3


def test_the_service_gives_up_after_its_own_failures_repeat(sent):
    service, proposal = executor(delay=0), SimpleNamespace(proposal_id="15")
    sent.answers += [NodeUnavailable("the node is away")] * (RETRIES + 1)
    now = 0.0
    for _ in range(RETRIES):
        service.execute_if_due(COMMUNITY, proposal, now=now)
        now = service.attempt("example", "15").retry_at
    assert service.attempt("example", "15").gave_up and len(sent.calls) == RETRIES


def test_the_proposal_page_says_the_service_carries_it_out_or_why_not():
    from backend.web.pages import templates

    page = templates.env.get_template("proposal.html")
    people = SimpleNamespace(href=lambda a: "#", label=lambda a: "Alice", name=lambda a: "Alice")
    proposal = {
        "id": "1" * 78,
        "description": "Admit Dana",
        "state": "succeeded",
        "proposer": "0x" + "12" * 20,
        "created_at": 1_790_000_000,
        "vote_start": 1_790_000_001,
        "vote_end": 1_790_000_300,
        "tallies": {"for": 2, "against": 0, "abstain": 0},
        "quorum": 1,
        "quorum_reached": True,
        "executed_at": None,
        "actions": [],
        "votes": [],
        "tx_hash": "0x" + "cd" * 32,
    }
    values = dict(
        proposal=proposal,
        quorum="1 of 3 members",
        autoexec=True,
        attempt=None,
        now=1_790_000_400,
        names={},
        org_names={},
        people=people,
        community=SimpleNamespace(slug="example", name="Example Commons", contracts={}),
        communities=[],
        chain_id=31337,
        api="/communities/example",
        request=None,
    )

    def render(**changed) -> str:
        return " ".join(page.render(**{**values, **changed}).split())

    text = render()
    assert "The service carries out passed proposals by itself, usually within a minute" in text
    assert "at least <strong>1 of 3 members</strong> vote for it or abstain" in text
    refused = SimpleNamespace(gave_up=True, last_error="0x1212… is the last member")
    text = render(attempt=refused)
    assert "the service tried to carry it out, but the contract refused: 0x1212… is the last member" in text
    executed = render(proposal={**proposal, "state": "executed", "executed_at": 1_790_000_400})
    assert "Carried out 21 September 2026, 14:20 UTC" in executed
    assert "111111…1111" in executed  # the 78-digit id, shortened
