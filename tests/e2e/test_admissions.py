"""Everyone can join (issue 22, sections 2-4) through the API, on SQLite and PostgreSQL: names
(limits in characters, duplicates, bytes that are not UTF-8 sent straight to the contract, a
governed clear), invitations (credit before joining, expiry, withdrawal, a second use of one link,
a wrong secret) and admission by vouching, with a passkey invitee who never had a wallet.

Its own chain and service per database: admissions change the package community's quorum."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak

from backend.client import CommunityClient
from devstack.passkeys import Passkey
from devstack.stack import local_stack, rpc
from tests.e2e.conftest import ALICE, BOB, CAROL, _postgres_database, address, pass_proposal, problem_of

EVIDENCE = "https://forum.example.org/t/welcome-sam/42"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp(f"admissions-{request.param}")
    database_url, cleanup = (
        (f"sqlite:///{workdir / 'index.sqlite3'}", None) if request.param == "sqlite" else _postgres_database()
    )
    try:
        with local_stack(workdir, database_url=database_url) as stack:
            env = SimpleNamespace(api=CommunityClient(stack.server.url), anvil=stack.anvil)
            mentoring = {
                "type": "add_indicator",
                "name": "Mentoring a newcomer",
                "category": "mentoring",
                "orientation": "community",
                "weight": 5,
                "endorsements_required": 2,
            }
            pass_proposal(env, ALICE, "Mentoring counts", [mentoring])
            yield SimpleNamespace(env=env, api=env.api, url=stack.anvil.url, anvil=stack.anvil)
    finally:
        if cleanup:
            cleanup()


def relay(api: CommunityClient, submit: str, typed: dict, signature: str) -> dict:
    return api.post(f"/{submit}", {"typed_data": typed, "signature": signature})


def act(api: CommunityClient, prepare: str, submit: str, key: str, **fields) -> dict:
    typed = api.prepare(prepare, signer=address(key), **fields)["typed_data"]
    return relay(api, submit, typed, api.sign(key, typed))


def member(api: CommunityClient, key_or_address: str) -> dict:
    who = key_or_address if len(key_or_address) == 42 else address(key_or_address)
    return api.get(f"/members/{who}")


# ---------------------------------------------------------------------- names


def test_a_member_names_themselves_and_links_an_account(stack):
    api = stack.api
    act(api, "names", "names", ALICE, name="  Alice Liddell ")  # trimmed, as a person typed it
    act(api, "linked-accounts", "names", ALICE, site="github", handle="@alice-l")
    alice = member(api, ALICE)
    assert alice["name"] == "Alice Liddell"
    assert alice["linked_accounts"] == [{"site": "github", "handle": "alice-l"}]
    listed = {m["address"]: m for m in api.get("/members")["items"]}
    assert listed[address(ALICE)]["name"] == "Alice Liddell"


def test_names_are_unique_and_limited_in_characters(stack):
    api = stack.api
    act(api, "names", "names", BOB, name="Bob")
    status, problem = problem_of(lambda: api.prepare("names", signer=address(CAROL), name="BOB"))
    assert status == 409 and "already uses" in problem["detail"] and "choose another" in problem["detail"]
    status, problem = problem_of(lambda: api.prepare("names", signer=address(CAROL), name="C" * 33))
    assert status == 422 and "at most 32 characters" in str(problem)
    status, problem = problem_of(lambda: api.prepare("names", signer=address(CAROL), name="Car\u202eol"))
    assert status == 422 and "invisible" in str(problem)
    act(api, "names", "names", CAROL, name="Çarol 🌱")  # characters, not bytes: 7 characters
    assert member(api, CAROL)["name"] == "Çarol 🌱"


def test_a_name_signed_by_hand_is_held_to_the_same_rules(stack):
    api = stack.api
    before = member(api, CAROL)["name"]
    typed = api.prepare("names", signer=address(CAROL), name="Carol")["typed_data"]
    selector = keccak(text="setName(string)")[:4]
    typed["message"]["data"] = "0x" + (selector + encode(["string"], [" Carol\u0007"])).hex()
    status, problem = problem_of(lambda: relay(api, "names", typed, api.sign(CAROL, typed)))
    assert status == 422 and problem["errors"][0]["loc"] == ["body", "name"]
    assert member(api, CAROL)["name"] == before


def test_bytes_that_are_not_utf8_sent_straight_to_the_contract_are_shown_leniently(stack):
    """A name, a linked account's handle and an invitee's name, each as bytes that are not UTF-8,
    sent to the contract by a member's own transaction: indexed, and answered as readable text."""
    api, dana = stack.api, Account.create()
    pass_proposal(stack.env, ALICE, "Dana joins", [{"type": "admit_member", "account": dana.address}])
    rpc(stack.url, "anvil_setBalance", dana.address, hex(10**18))
    membership, chain_id = _membership(api), int(rpc(stack.url, "eth_chainId"), 16)
    invitation = Account.create().address

    def send(nonce: int, signature: str, types: list[str], values: list) -> None:
        data = keccak(text=signature)[:4] + encode(types, values)
        signed = dana.sign_transaction(
            {
                "to": membership,
                "data": data,
                "gas": 200_000,
                "gasPrice": int(rpc(stack.url, "eth_gasPrice"), 16),
                "nonce": nonce,
                "chainId": chain_id,
            }
        )
        tx = rpc(stack.url, "eth_sendRawTransaction", "0x" + signed.raw_transaction.hex().removeprefix("0x"))
        assert rpc(stack.url, "eth_getTransactionReceipt", tx)["status"] == "0x1"

    send(0, "setName(string)", ["bytes"], [b"Dan\xe1 \xff"])
    send(1, "linkAccount(uint8,string)", ["uint8", "bytes"], [1, b"d\xe1na"])
    send(2, "invite(address,string)", ["address", "bytes"], [invitation, b"Z\xf6e"])
    stack.anvil.skip(1)
    _wait_for(lambda: invitation in [i["address"] for i in api.get("/invitations")], timeout=30)
    assert member(api, dana.address)["name"] == "Dan\ufffd \ufffd"
    assert member(api, dana.address)["linked_accounts"] == [{"site": "github", "handle": "d\ufffdna"}]
    assert api.get(f"/invitations/{invitation}")["name"] == "Z\ufffde"


def test_governance_clears_an_abusive_name(stack):
    api = stack.api
    act(api, "names", "names", BOB, name="The Moderators")
    pass_proposal(stack.env, ALICE, "Bob is not the moderators", [{"type": "clear_name", "account": address(BOB)}])
    assert member(api, BOB)["name"] is None
    act(api, "names", "names", CAROL, name="The Moderators")  # free again


# ---------------------------------------------------------------------- invitations and vouching


def invite(api: CommunityClient, key: str, name: str) -> dict:
    prepared = api.prepare("invitations", signer=address(key), name=name)
    relay(api, "invitations", prepared["typed_data"], api.sign(key, prepared["typed_data"]))
    return prepared


def accept(api: CommunityClient, secret: str, key=None, passkey: Passkey | None = None, account=None) -> dict:
    signer = account or address(key)
    typed = api.post("/invitations/acceptance/prepare", {"signer": signer, "secret": secret})["typed_data"]
    signature = "0x" + passkey.sign_request(typed).hex() if passkey else api.sign(key, typed)
    return relay(api, "invitations", typed, signature)


def test_a_newcomer_is_credited_invited_vouched_in_with_a_passkey_and_earns_the_badge(stack):
    api = stack.api
    prepared = invite(api, ALICE, "Sam")
    invitation = prepared["invitation"]
    assert prepared["secret"][2:] not in str(api.get(f"/invitations/{invitation}"))
    act(api, "claims", "claims", BOB, indicator_id=1, evidence_uri=EVIDENCE, contributor=invitation)
    seen = api.get(f"/invitations/{invitation}")
    assert (seen["name"], seen["state"], seen["inviter"]) == ("Sam", "open", address(ALICE))
    [credit] = seen["credits"]

    # Sam has no wallet: a passkey, an account deployed for it, the invitation accepted as it.
    passkey = Passkey.generate()
    qx, qy = passkey.public
    key = {"x": "0x" + qx.hex(), "y": "0x" + qy.hex()}
    # Not deployed for a stranger's key, nor with a secret that opens no invitation; deployed with the
    # invitation's secret, as the account is about to accept it.
    assert not api.post("/passkey-accounts", key)["deployed"]
    assert not api.post("/passkey-accounts", {**key, "invitation_secret": "0x" + "42" * 32})["deployed"]
    joined = api.post("/passkey-accounts", {**key, "invitation_secret": prepared["secret"]})
    assert joined["deployed_now"]
    account = joined["address"]
    accept(api, prepared["secret"], passkey=passkey, account=account)
    assert api.get(f"/invitations/{invitation}")["state"] == "accepted"
    admission = api.get("/admission")
    assert admission["rules"]["vouches_required"] == 2
    [candidate] = [c for c in admission["candidates"] if c["address"] == account]
    assert (candidate["name"], candidate["vouchers"]) == ("Sam", [address(ALICE)])

    act(api, "vouches", "vouches", CAROL, candidate=account)  # the second vouch admits
    assert member(api, account)["active"]

    # Sam accepts the credit with the passkey: the claim is theirs; two peers attest; the badge is theirs.
    typed = api.prepare("nomination-answers", signer=account, claim_id=credit, answer="accept")["typed_data"]
    relay(api, "nomination-answers", typed, "0x" + passkey.sign_request(typed).hex())
    assert api.get(f"/claims/{credit}")["contributor"] == account
    for key in (ALICE, CAROL):
        api.act("attestations", key, claim_id=credit)
    assert api.get(f"/badges/{credit}")["owner"] == account
    act_passkey_name(api, passkey, account, "Sam")
    assert member(api, account)["name"] == "Sam"
    # Reports label members by their names (keyed by address).
    report = api.get("/reports", **{"from": "2000-01-01", "to": "2099-12-31", "format": "json"})
    [row] = [r for r in report["by"]["member"] if r["key"] == account]
    assert row["label"] == "Sam"


def act_passkey_name(api, passkey, account, name):
    typed = api.prepare("names", signer=account, name=name)["typed_data"]
    relay(api, "names", typed, "0x" + passkey.sign_request(typed).hex())


def test_a_link_works_once_and_only_with_its_secret(stack):
    api, first, second = stack.api, Account.create(), Account.create()
    prepared = invite(api, BOB, "Kim")
    wrong = "0x" + "11" * 32
    status, problem = problem_of(
        lambda: api.post("/invitations/acceptance/prepare", {"signer": first.address, "secret": wrong})
    )
    assert status == 404 and "check the link" in problem["detail"]
    accept(api, prepared["secret"], key=first.key.hex())
    status, problem = problem_of(lambda: accept(api, prepared["secret"], key=second.key.hex()))
    assert status == 409 and "already accepted or withdrawn" in problem["detail"]
    assert api.get(f"/invitations/{prepared['invitation']}")["account"] == first.address


def test_withdrawn_and_expired_invitations_cannot_be_accepted(stack):
    api, newcomer = stack.api, Account.create()
    withdrawn = invite(api, CAROL, "Lee")
    act(api, f"invitations/{withdrawn['invitation']}/withdrawal", "invitations", CAROL)
    assert api.get(f"/invitations/{withdrawn['invitation']}")["state"] == "withdrawn"
    status, problem = problem_of(lambda: accept(api, withdrawn["secret"], key=newcomer.key.hex()))
    assert status == 409 and "withdrawn" in problem["detail"]

    expiring = invite(api, CAROL, "Max")
    stack.anvil.skip(31 * 86_400)
    status, problem = problem_of(lambda: accept(api, expiring["secret"], key=newcomer.key.hex()))
    assert status == 409 and "expired on" in problem["detail"]
    _wait_for(lambda: api.get(f"/invitations/{expiring['invitation']}")["state"] == "expired")


def test_vouching_refusals_in_words(stack):
    api, candidate = stack.api, Account.create().address
    act(api, "vouches", "vouches", ALICE, candidate=candidate)
    status, problem = problem_of(lambda: api.prepare("vouches", signer=address(ALICE), candidate=candidate))
    assert status == 409 and "already vouched" in problem["detail"]
    status, problem = problem_of(lambda: api.prepare("vouches", signer=address(ALICE), candidate=address(BOB)))
    assert status == 422 and "member already" in problem["detail"]


def _membership(api: CommunityClient) -> str:
    [community] = api.get("/communities")
    return community["contracts"]["membership"]


def _wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the index did not catch up")
        time.sleep(0.2)
