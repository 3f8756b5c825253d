"""Capture from delivery to draft (backend/capture/service.py), over a small index filled by hand:
recorded payloads of each source, signed with real HMACs, become drafts for the members whose linked
accounts match, invitations for authors who are no member, endorsements for `/endorse` comments; a
draft leaves a member's list once what it drafts is signed (in the index), dismissed, or its author
turned capture off; replayed, unsigned, malformed and private deliveries change nothing; a flood is
bounded by the source's budget; a backfill imports each item once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import keccak
from sqlalchemy import func, select
from standardwebhooks import Webhook

from backend.capture import rules as capture_rules
from backend.capture import service
from backend.capture.models import Delivery, Draft, create_capture_tables
from backend.capture.verify import Unsigned
from backend.errors import Conflict, Forbidden, InvalidRequest, InvalidSignature, NotFound, TooManyRequests
from backend.indexer.models import Attestation, CaptureRulesDocument, Indicator, LinkedAccount, Member
from tests.backend.notifications_support import (
    ALICE,
    BOB,
    CAROL,
    COMMUNITY,
    DANA,
    KEYS,
    NOW,
    claim,
    fill_index,
    make_ctx,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "capture"
SECRETS = {
    "github": "gh-" + secrets.token_hex(16),
    "gitlab": "gl-" + secrets.token_hex(16),
    "discourse": "dc-" + secrets.token_hex(16),
    "standard": "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(),
}
RULES = {
    "version": 1,
    "rules": [
        {
            "when": "github.pull_request.merged",
            "repository": "Example/Site",
            "labels": ["mentoring"],
            "indicator_id": 1,
        },
        {"when": "gitlab.merge_request.merged", "project": "group/app", "labels": ["mentoring"], "indicator_id": 1},
        {"when": "discourse.topic.created", "forum": "https://forum.example.org", "category_id": 5, "indicator_id": 1},
        {"when": "standard", "type": "event.organised", "indicator_id": 1},
    ],
    "endorse": {"command": "/endorse"},
}
PULL = "https://github.com/example/site/pull/42"
SAM = Account.from_key("0x" + keccak(text="capture test sam").hex().removeprefix("0x")).address


@pytest.fixture
def ctx(tmp_path):
    service.BUDGET.reset()
    ctx = make_ctx(tmp_path, capture_secrets={"example": SECRETS}, capture_deliveries_per_minute=1000)
    create_capture_tables(ctx.sessions.kw["bind"])
    fill_index(ctx)
    with ctx.sessions() as session:
        for address, site, handle in (
            (CAROL, "github", "carol-writes"),
            (BOB, "github", "Bob-Reviews"),
            (CAROL, "gitlab", "carol.gl"),
            (BOB, "gitlab", "bob.gl"),
            (DANA, "discourse", "dana_organises"),
            (BOB, "discourse", "bob_forum"),
            (DANA, "drupal", "dana.organises"),
        ):
            session.add(
                LinkedAccount(
                    community="example",
                    address=address,
                    site=site,
                    handle=handle,
                    handle_folded=capture_rules.fold(handle),
                )
            )
        session.commit()
    set_rules(ctx, RULES)
    return ctx


def set_rules(ctx, document) -> None:
    text = "" if document is None else capture_rules.canonical(capture_rules.CaptureRules.model_validate(document))
    with ctx.sessions() as session:
        session.merge(
            CaptureRulesDocument(
                community="example",
                digest="0x" + keccak(text=text).hex().removeprefix("0x"),
                rules=text,
                set_at=NOW,
                block_number=20,
                tx_hash="0x",
            )
        )
        session.commit()


def hub(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def github(ctx, name: str, delivery: str, event: str, body: bytes | None = None) -> dict:
    body = body if body is not None else (FIXTURES / name).read_bytes()
    headers = {
        "x-hub-signature-256": hub(SECRETS["github"], body),
        "x-github-delivery": delivery,
        "x-github-event": event,
    }
    return service.receive(ctx, COMMUNITY, "github", headers, body)


def gitlab(ctx, name: str, delivery: str) -> dict:
    body = (FIXTURES / name).read_bytes()
    headers = {"x-gitlab-token": SECRETS["gitlab"], "idempotency-key": delivery, "x-gitlab-event": "Merge Request Hook"}
    return service.receive(ctx, COMMUNITY, "gitlab", headers, body)


def discourse(ctx, name: str, number: int, event: str) -> dict:
    body = (FIXTURES / name).read_bytes()
    headers = {
        "x-discourse-event-signature": hub(SECRETS["discourse"], body),
        "x-discourse-event-id": str(number),
        "x-discourse-event": event,
        "x-discourse-instance": "https://forum.example.org",
    }
    return service.receive(ctx, COMMUNITY, "discourse", headers, body)


def kinds(ctx, member) -> list[tuple]:
    return [(d.kind, d.evidence_uri, d.author) for d in service.drafts_for(ctx, COMMUNITY, member)]


def count(ctx, model) -> int:
    with ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def sign(key: str, typed: dict) -> str:
    return "0x" + Account.sign_typed_data(key, full_message=typed).signature.hex().removeprefix("0x")


def add_claim(ctx, claim_id: int, contributor: str, evidence: str, **columns) -> None:
    with ctx.sessions() as session:
        session.add(
            claim(
                claim_id,
                contributor=contributor,
                submitter=columns.pop("submitter", contributor),
                created_at=NOW,
                evidence_uri=evidence,
                **columns,
            )
        )
        session.commit()


# ---------------------------------------------------------------------- GitHub, end to end in the service


def test_a_merged_pull_request_becomes_a_draft_claim_for_the_linked_member(ctx):
    answer = github(ctx, "github_pull_request_merged.json", "72d3162e-cc78-11e3-81ab-4c9367dc0958", "pull_request")
    assert answer.drafts == 1 and answer.event == "pull_request"
    [draft] = service.drafts_for(ctx, COMMUNITY, CAROL)
    assert draft.kind == "claim" and draft.member == CAROL
    assert draft.evidence_uri == PULL and draft.indicator_name == "Mentoring a newcomer"
    assert draft.title == "Pair with Sam on the translation workflow"
    assert service.drafts_for(ctx, COMMUNITY, BOB) == []  # Carol's alone
    # Signed (the index holds Carol's claim of that work): done, no longer listed.
    add_claim(ctx, 3, CAROL, PULL)
    assert service.drafts_for(ctx, COMMUNITY, CAROL) == []


def test_a_replayed_delivery_is_refused_and_makes_nothing(ctx):
    github(ctx, "github_pull_request_merged.json", "delivery-1", "pull_request")
    with pytest.raises(Conflict) as refused:
        github(ctx, "github_pull_request_merged.json", "delivery-1", "pull_request")
    assert refused.value.extra["error"] == "ReplayedDelivery"
    assert count(ctx, Delivery) == 1 and count(ctx, Draft) == 1
    # Another delivery of the same pull request (a second webhook, say) makes no second draft either.
    assert github(ctx, "github_pull_request_merged.json", "delivery-2", "pull_request").drafts == 0
    assert count(ctx, Draft) == 1


def test_unsigned_wrongly_signed_malformed_and_unconnected_deliveries_change_nothing(ctx):
    body = (FIXTURES / "github_pull_request_merged.json").read_bytes()
    for headers in (
        {"x-github-delivery": "a", "x-github-event": "pull_request"},
        {
            "x-hub-signature-256": hub("not the secret at all", body),
            "x-github-delivery": "b",
            "x-github-event": "pull_request",
        },
    ):
        with pytest.raises(Unsigned):
            service.receive(ctx, COMMUNITY, "github", headers, body)
    with pytest.raises(InvalidRequest) as malformed:
        github(ctx, "", "c", "pull_request", body=b'{"action": "closed", ')
    assert malformed.value.extra["error"] == "MalformedJson"
    with pytest.raises(InvalidRequest):
        github(ctx, "", "d", "pull_request", body=b"[1, 2, 3]")
    ctx.settings.capture_secrets = {}
    with pytest.raises(NotFound) as unconnected:
        github(ctx, "github_pull_request_merged.json", "e", "pull_request")
    assert unconnected.value.extra["error"] == "SourceNotConnected"
    assert count(ctx, Delivery) == 0 and count(ctx, Draft) == 0


def test_a_private_repository_an_unlabelled_pull_and_other_events_make_no_draft(ctx):
    payload = json.loads((FIXTURES / "github_pull_request_merged.json").read_text())
    private = json.loads(json.dumps(payload))
    private["repository"]["private"] = True
    assert "private" in github(ctx, "", "p1", "pull_request", json.dumps(private).encode()).outcome
    unlabelled = json.loads(json.dumps(payload))
    unlabelled["pull_request"]["labels"] = [{"name": "bug"}]
    assert "no capture rule" in github(ctx, "", "p2", "pull_request", json.dumps(unlabelled).encode()).outcome
    opened = json.loads(json.dumps(payload))
    opened["action"], opened["pull_request"]["merged"] = "opened", False
    assert "not a merge" in github(ctx, "", "p3", "pull_request", json.dumps(opened).encode()).outcome
    assert "ping" in github(ctx, "github_ping.json", "p4", "ping").outcome
    assert count(ctx, Draft) == 0 and count(ctx, Delivery) == 4  # recorded, each with what came of it


def test_no_rules_or_a_retired_indicator_make_no_draft(ctx):
    set_rules(ctx, None)
    assert "capture is off" in github(ctx, "github_pull_request_merged.json", "r1", "pull_request").outcome
    set_rules(ctx, RULES)
    with ctx.sessions() as session:
        session.get(Indicator, ("example", 1)).active = False
        session.commit()
    assert "not an active indicator" in github(ctx, "github_pull_request_merged.json", "r2", "pull_request").outcome
    assert count(ctx, Draft) == 0


def test_an_endorse_comment_by_a_member_becomes_their_draft_endorsement(ctx):
    github(ctx, "github_pull_request_merged.json", "pr", "pull_request")
    assert github(ctx, "github_issue_comment.json", "comment", "issue_comment").drafts == 1
    [draft] = service.drafts_for(ctx, COMMUNITY, BOB)
    assert (draft.kind, draft.author, draft.claim_id) == (
        "attestation",
        CAROL,
        None,
    )  # Carol has not signed yet
    add_claim(ctx, 3, CAROL, PULL)
    [draft] = service.drafts_for(ctx, COMMUNITY, BOB)
    assert draft.claim_id == 3
    with ctx.sessions() as session:
        session.add(Attestation(community="example", claim_id=3, attester=BOB, count=1, timestamp=NOW, tx_hash="0x"))
        session.commit()
    assert service.drafts_for(ctx, COMMUNITY, BOB) == []


def test_nobody_endorses_their_own_work_and_a_stranger_endorses_nothing(ctx):
    github(ctx, "github_pull_request_merged.json", "pr", "pull_request")
    comment = json.loads((FIXTURES / "github_issue_comment.json").read_text())
    comment["comment"]["user"]["login"] = "CAROL-WRITES"
    assert "own work" in github(ctx, "", "own", "issue_comment", json.dumps(comment).encode()).outcome
    comment["comment"]["user"]["login"] = "someone-else"
    assert "no member" in github(ctx, "", "stranger", "issue_comment", json.dumps(comment).encode()).outcome
    comment["comment"]["body"] = "Nice work!"
    assert github(ctx, "", "chat", "issue_comment", json.dumps(comment).encode()).drafts == 0
    assert [d.kind for d in _drafts(ctx)] == ["claim"]


def _drafts(ctx) -> list[Draft]:
    with ctx.sessions() as session:
        return list(session.scalars(select(Draft).order_by(Draft.id)))


# ---------------------------------------------------------------------- unmatched authors, backfill


def _import(ctx, source: str, name: str, forum: str | None = None, secret: str | None = None) -> dict:
    body = (FIXTURES / name).read_bytes()
    stamp = str(int(time.time()))
    key = (secret or SECRETS[source]).encode()
    headers = {
        "x-capture-timestamp": stamp,
        "x-capture-signature": "sha256=" + hmac.new(key, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest(),
    }
    return service.import_items(ctx, COMMUNITY, source, headers, body, forum)


def test_backfill_imports_each_item_once_and_an_unmatched_author_becomes_an_invitation(ctx):
    first = _import(ctx, "github", "github_pulls.json")
    assert (first.items, first.imported, first.already, first.drafts) == (2, 2, 0, 2)
    again = _import(ctx, "github", "github_pulls.json")
    assert (again.imported, again.already, again.drafts) == (0, 2, 0)
    assert [(d.kind, d.member, d.author_handle) for d in _drafts(ctx)] == [
        ("claim", CAROL, "carol-writes"),
        ("invitation", None, "sam-new"),
    ]
    # Any member may send the invitation; it names the author by their handle.
    for member in (ALICE, BOB):
        [invitation] = [d for d in service.drafts_for(ctx, COMMUNITY, member) if d.kind == "invitation"]
        assert invitation.invitee_name == "sam-new" and invitation.author_site == "github"
    # Sam joins and links their GitHub account: the draft is now theirs to claim, and no one's invitation.
    with ctx.sessions() as session:
        session.add(Member(community="example", address=SAM, admitted_at=NOW, votes=1))
        session.add(
            LinkedAccount(community="example", address=SAM, site="github", handle="Sam-New", handle_folded="sam-new")
        )
        session.commit()
    assert [k for k, _, _ in kinds(ctx, SAM)] == ["claim"]
    assert [k for k, _, _ in kinds(ctx, ALICE)] == []


def test_an_invitation_draft_is_done_once_someone_credited_the_work(ctx):
    _import(ctx, "github", "github_pulls.json")
    add_claim(
        ctx, 4, "0x" + "ab" * 20, "https://github.com/example/site/pull/39", submitter=ALICE, nomination_state="pending"
    )
    assert [d for d in service.drafts_for(ctx, COMMUNITY, BOB) if d.kind == "invitation"] == []


def test_an_import_must_be_signed_with_the_sources_secret(ctx):
    with pytest.raises(Unsigned):
        _import(ctx, "github", "github_pulls.json", secret="not the secret at all")
    assert count(ctx, Delivery) == 0


def test_gitlab_merge_requests_and_comments(ctx):
    assert gitlab(ctx, "gitlab_merge_request_merged.json", "idem-1").drafts == 1
    assert gitlab(ctx, "gitlab_note.json", "idem-2").drafts == 1
    assert kinds(ctx, CAROL) == [("claim", "https://gitlab.example.org/group/app/-/merge_requests/7", CAROL)]
    assert kinds(ctx, BOB) == [("attestation", "https://gitlab.example.org/group/app/-/merge_requests/7", CAROL)]
    imported = _import(ctx, "gitlab", "gitlab_merge_requests.json")
    assert imported.drafts == 1


def test_gitlab_names_a_merge_requests_author_by_number_found_from_earlier_deliveries(ctx):
    payload = json.loads((FIXTURES / "gitlab_merge_request_merged.json").read_text())
    payload["user"] = {"id": 3002, "username": "bob.gl", "name": "Bob"}  # Bob merged Carol's merge request
    payload["reviewers"] = []
    body = json.dumps(payload).encode()
    headers = {"x-gitlab-token": SECRETS["gitlab"], "idempotency-key": "i1", "x-gitlab-event": "Merge Request Hook"}
    assert "not named" in service.receive(ctx, COMMUNITY, "gitlab", headers, body).outcome
    gitlab(ctx, "gitlab_note.json", "i2")  # no item yet; but it names user 3002, and the first delivery named...
    opened = json.loads((FIXTURES / "gitlab_merge_request_merged.json").read_text())
    opened["object_attributes"]["action"] = "open"  # ...Carol opening it names her number
    service.receive(ctx, COMMUNITY, "gitlab", {**headers, "idempotency-key": "i3"}, json.dumps(opened).encode())
    assert service.receive(ctx, COMMUNITY, "gitlab", {**headers, "idempotency-key": "i4"}, body).drafts == 1
    assert [k for k, _, _ in kinds(ctx, CAROL)] == ["claim"]


def test_discourse_topics_replies_and_a_topic_list(ctx):
    assert discourse(ctx, "discourse_topic_created.json", 17, "topic_created").drafts == 1
    assert discourse(ctx, "discourse_post_created.json", 18, "post_created").drafts == 1
    url = "https://forum.example.org/t/translation-sprint-in-lyon-14-december/311"
    assert kinds(ctx, DANA) == [("claim", url, DANA)]
    assert kinds(ctx, BOB) == [("attestation", url, DANA)]
    with pytest.raises(Conflict):
        discourse(ctx, "discourse_topic_created.json", 17, "topic_created")
    imported = _import(ctx, "discourse", "discourse_latest.json", forum="https://forum.example.org")
    # Two topics in category 5: Dana's (a claim) and Erin's (an invitation); the other category's, nothing.
    assert (imported.items, imported.drafts) == (3, 2)
    assert {d.invitee_name for d in service.drafts_for(ctx, COMMUNITY, ALICE)} == {"erin_hosts"}


def test_standard_webhooks_an_event_by_a_drupal_org_handle(ctx):
    body = (FIXTURES / "standard_event.json").read_bytes()
    now = datetime.now(UTC)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(SECRETS["standard"]).sign("msg_1", now, body.decode()),
    }
    assert service.receive(ctx, COMMUNITY, "standard", headers, body).drafts == 1
    assert kinds(ctx, DANA) == [("claim", "https://events.example.org/e/lyon-translation-sprint", DANA)]
    stale = datetime.fromtimestamp(time.time() - 600, UTC)
    old = {
        "webhook-id": "msg_2",
        "webhook-timestamp": str(int(stale.timestamp())),
        "webhook-signature": Webhook(SECRETS["standard"]).sign("msg_2", stale, body.decode()),
    }
    with pytest.raises(InvalidRequest) as refused:
        service.receive(ctx, COMMUNITY, "standard", old, body)
    assert refused.value.extra["error"] == "StaleDelivery" and count(ctx, Delivery) == 1


# ---------------------------------------------------------------------- the budget


def test_a_flood_of_ten_thousand_deliveries_is_bounded_by_the_sources_budget(ctx):
    ctx.settings.capture_deliveries_per_minute = 50
    body = (FIXTURES / "github_ping.json").read_bytes()
    signature = hub(SECRETS["github"], body)
    accepted, refused, started = 0, 0, time.monotonic()
    for n in range(10_000):
        headers = {"x-hub-signature-256": signature, "x-github-delivery": f"flood-{n}", "x-github-event": "ping"}
        try:
            service.receive(ctx, COMMUNITY, "github", headers, body)
            accepted += 1
        except TooManyRequests as exc:
            refused += 1
            assert exc.extra["budget"] == "capture_deliveries_per_minute" and 1 <= exc.extra["retry_after"] <= 60
    assert (accepted, refused) == (50, 9_950)
    assert count(ctx, Delivery) == 50
    assert time.monotonic() - started < 60
    # Another process's count, over the database: this process's own forgotten, the budget still holds.
    service.BUDGET.reset()
    with pytest.raises(TooManyRequests):
        github(ctx, "github_ping.json", "flood-next", "ping")
    # Another source has its own.
    assert discourse(ctx, "discourse_topic_created.json", 1, "topic_created").drafts == 1


def test_the_budget_frees_up_as_the_minute_passes_and_a_refused_delivery_takes_no_place():
    budget = service.Budget()
    key = ("example", "github")
    for second in range(3):
        assert budget.take(key, 3, 1000.0 + second) is None
    assert budget.take(key, 3, 1010.0) == pytest.approx(50.0)
    budget.give_back(key, 1001.0)
    assert budget.take(key, 3, 1010.0) is None  # the place given back
    assert budget.take(key, 3, 1010.5) == pytest.approx(49.5)
    assert budget.take(key, 3, 1060.5) is None  # the first one is a minute old


def test_deliveries_arriving_together_take_no_more_than_the_budget(ctx):
    from concurrent.futures import ThreadPoolExecutor

    ctx.settings.capture_deliveries_per_minute = 20
    body = (FIXTURES / "github_ping.json").read_bytes()
    signature = hub(SECRETS["github"], body)

    def one(n: int) -> str:
        headers = {"x-hub-signature-256": signature, "x-github-delivery": f"together-{n}", "x-github-event": "ping"}
        try:
            service.receive(ctx, COMMUNITY, "github", headers, body)
            return "accepted"
        except TooManyRequests:
            return "refused"

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(one, range(400)))
    assert outcomes.count("accepted") == 20 and count(ctx, Delivery) == 20


def test_a_refused_delivery_gives_its_place_back(ctx):
    ctx.settings.capture_deliveries_per_minute = 1
    with pytest.raises(InvalidRequest):
        github(ctx, "", "malformed", "pull_request", body=b"{")
    github(ctx, "github_ping.json", "after-malformed", "ping")  # the one place is still free
    with pytest.raises(TooManyRequests):
        github(ctx, "github_ping.json", "one-too-many", "ping")


# ---------------------------------------------------------------------- dismissing, turning capture off


def test_a_member_dismisses_their_draft_with_their_own_signature(ctx):
    github(ctx, "github_pull_request_merged.json", "d1", "pull_request")
    [draft] = service.drafts_for(ctx, COMMUNITY, CAROL)
    typed = service.prepare_dismissal(ctx, COMMUNITY, CAROL, draft.id)
    with pytest.raises(InvalidSignature):
        service.submit(ctx, COMMUNITY, typed, sign(KEYS["mallory"], typed), "dismissal")
    with pytest.raises(Forbidden):
        service.prepare_dismissal(ctx, COMMUNITY, BOB, draft.id)  # Carol's draft, not Bob's
    signature = sign(KEYS["carol"], typed)
    assert service.submit(ctx, COMMUNITY, typed, signature, "dismissal").dismissed
    assert service.drafts_for(ctx, COMMUNITY, CAROL) == []
    with pytest.raises(Conflict):
        service.submit(ctx, COMMUNITY, typed, signature, "dismissal")
    stale = {**typed, "message": {**typed["message"], "issuedAt": int(time.time()) - 3600}}
    with pytest.raises(Exception) as old:
        service.submit(ctx, COMMUNITY, stale, sign(KEYS["carol"], stale), "dismissal")
    assert old.value.extra["error"] == "StaleRequest"


def test_an_invitation_dismissed_by_one_member_still_waits_for_the_others(ctx):
    _import(ctx, "github", "github_pulls.json")
    [invitation] = [d for d in service.drafts_for(ctx, COMMUNITY, ALICE) if d.kind == "invitation"]
    typed = service.prepare_dismissal(ctx, COMMUNITY, ALICE, invitation.id)
    service.submit(ctx, COMMUNITY, typed, sign(KEYS["alice"], typed), "dismissal")
    assert [d.kind for d in service.drafts_for(ctx, COMMUNITY, ALICE)] == []
    assert [d.kind for d in service.drafts_for(ctx, COMMUNITY, BOB)] == ["invitation"]


def test_a_member_turns_capture_off_and_on_again(ctx):
    github(ctx, "github_pull_request_merged.json", "t1", "pull_request")
    off = service.prepare_preference(ctx, COMMUNITY, CAROL, False)
    assert service.submit(ctx, COMMUNITY, off, sign(KEYS["carol"], off), "preference").model_dump() == {
        "member": CAROL,
        "capture": False,
    }
    assert service.drafts_for(ctx, COMMUNITY, CAROL) == []
    assert service.preference_of(ctx, COMMUNITY, CAROL).capture is False
    pulls = json.loads((FIXTURES / "github_pulls.json").read_text())
    assert (
        "turned capture off"
        in github(
            ctx,
            "",
            "t2",
            "pull_request",
            json.dumps(
                {
                    "action": "closed",
                    "pull_request": {**pulls[0], "merged": True},
                    "repository": pulls[0]["base"]["repo"],
                }
            ).encode(),
        ).outcome
    )
    time.sleep(1.1)
    on = service.prepare_preference(ctx, COMMUNITY, CAROL, True)
    service.submit(ctx, COMMUNITY, on, sign(KEYS["carol"], on), "preference")
    assert [k for k, _, _ in kinds(ctx, CAROL)] == ["claim"]
    # A choice signed before the one accepted last is refused: choices only move forward.
    older = {**off, "message": {**off["message"], "issuedAt": off["message"]["issuedAt"] - 1}}
    with pytest.raises(Conflict) as refused:
        service.submit(ctx, COMMUNITY, older, sign(KEYS["carol"], older), "preference")
    assert "newer choice" in refused.value.detail
    assert service.preference_of(ctx, COMMUNITY, CAROL).capture is True


# ---------------------------------------------------------------------- pages of a list, and a rebuilt index


def test_an_import_of_pages_reads_every_page(ctx):
    """`gh api --paginate --slurp` writes an array of pages, each the API's array."""
    pulls = json.loads((FIXTURES / "github_pulls.json").read_text())
    body = json.dumps([pulls[:1], pulls[1:]]).encode()
    stamp = str(int(time.time()))
    signature = hmac.new(SECRETS["github"].encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {"x-capture-timestamp": stamp, "x-capture-signature": f"sha256={signature}"}
    answer = service.import_items(ctx, COMMUNITY, "github", headers, body, None)
    assert (answer.items, answer.imported, answer.drafts) == (2, 2, 2)


def test_a_rebuilt_index_keeps_deliveries_drafts_and_choices(ctx):
    """The index is dropped and rebuilt from the chain when its schema changes (or by reindex); what capture
    keeps is not chain data, and lives under metadata of its own."""
    from sqlalchemy import text

    from backend.indexer.db import make_sessionmaker

    github(ctx, "github_pull_request_merged.json", "kept", "pull_request")
    engine = ctx.sessions.kw["bind"]
    with engine.begin() as connection:
        connection.execute(text("UPDATE schema_stamp SET fingerprint = 'an older version'"))
    make_sessionmaker(engine)  # drops every index table and makes them again, empty
    with ctx.sessions() as session:
        assert session.get(CaptureRulesDocument, "example") is None  # the chain's: indexed again from it
    assert count(ctx, Delivery) == 1 and count(ctx, Draft) == 1


@pytest.mark.parametrize(
    "text, raw, words",
    [
        ("not json at all", None, "capture"),
        ('{"version": 1, "rules": [{"when": "svn.commit", "indicator_id": 1}]}', None, "'svn.commit'"),
        ("\ufffd\ufffd", "0xfffe", "not valid UTF-8"),
    ],
    ids=["not JSON", "not rules", "not UTF-8"],
)
def test_capture_rules_put_on_chain_by_hand_that_are_not_rules_capture_nothing(ctx, text, raw, words):
    """Governance can put any bytes on chain by calling setCaptureRules directly (the service refuses
    to prepare them): the index keeps them, capture says why it is off, and a delivery drafts nothing."""
    with ctx.sessions() as session:
        session.merge(
            CaptureRulesDocument(
                community="example",
                digest="0x" + keccak(text=text + "by hand").hex().removeprefix("0x"),
                rules=text,
                rules_raw=raw,
                set_at=NOW,
                block_number=21,
                tx_hash="0x",
            )
        )
        session.commit()
        _, rules, problem = service.rules_in_force(session, COMMUNITY)
    assert rules is None and problem and words in problem
    assert github(ctx, "github_pull_request_merged.json", f"by-hand-{raw}-{len(text)}", "pull_request").drafts == 0
    assert service.drafts_for(ctx, COMMUNITY, CAROL) == []
