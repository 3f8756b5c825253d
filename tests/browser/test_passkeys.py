"""Passkey members in the web app (issue 22), in chromium with a virtual authenticator (the Chrome
DevTools Protocol's WebAuthn domain): a person with no wallet chooses "Join with a passkey", gets a
member address, is admitted by a vote, and claims a contribution signed with the passkey alone,
which is relayed, mined and shown; a member admitted before their account exists has it deployed
when they first sign. A bogus signature, a signature without the user verified, and a signature by
a passkey that is not the account's are each refused in a sentence, and nothing lands on chain.

On http://localhost:<port>: a passkey's rp id is the page's host name, and WebAuthn needs a secure
context, which localhost is (127.0.0.1 would do for the second, not for the first's rp id)."""

from __future__ import annotations

import base64
import json
import os
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from eth_utils import keccak, to_checksum_address

from backend.chain.typed_data import typed_data_digest
from backend.client import CommunityClient
from devstack.stack import rpc
from tests.browser.conftest import Visits, passkey_tab
from tests.e2e.conftest import ALICE, pass_proposal

EXPECT = 30_000  # ms: a write is prepared, signed, mined and indexed well within this
RELAYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
BASE = "/c/example"


@pytest.fixture(scope="module")
def origin(stack) -> str:
    return stack.server.url.replace("127.0.0.1", "localhost")


@pytest.fixture(scope="module")
def visits(origin):
    return Visits(origin)


def open_tab(browser, origin: str, visits: Visits) -> SimpleNamespace:
    """A browser tab with no wallet and a platform authenticator (conftest's passkey_tab)."""
    return passkey_tab(browser, origin, visits)


def add_passkey(tab) -> tuple[bytes, ec.EllipticCurvePrivateKey]:
    """A passkey put on the tab's authenticator from outside (its credential id and key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    pkcs8 = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    credential_id = os.urandom(16)
    tab.cdp.send(
        "WebAuthn.addCredential",
        {
            "authenticatorId": tab.authenticator,
            "credential": {
                "credentialId": base64.b64encode(credential_id).decode(),
                "isResidentCredential": True,
                "rpId": "localhost",
                "privateKey": base64.b64encode(pkcs8).decode(),
                "userHandle": base64.b64encode(os.urandom(16)).decode(),
                "signCount": 0,
            },
        },
    )
    return credential_id, key


def base64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.fixture(scope="module")
def person(browser, origin, visits):
    tab = open_tab(browser, origin, visits)
    yield tab
    tab.context.close()


@pytest.fixture(scope="module")
def latecomer(browser, origin, visits, stack):
    """Another person, whose passkey's account address is known (the factory predicts it) and
    admitted before the account exists: the page remembers the passkey as a join would have, but
    the account was never deployed (say the join was made while the relayer was down)."""
    tab = open_tab(browser, origin, visits)
    credential_id, key = add_passkey(tab)
    numbers = key.public_key().public_numbers()
    qx, qy = numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")
    factory = json.loads(stack.deployments.read_text())["communities"]["example"]["contracts"]["passkeys"]
    call = {
        "to": factory,
        "data": "0x" + (keccak(text="predict(bytes32,bytes32,bytes32)")[:4] + qx + qy + bytes(32)).hex(),
    }
    account = to_checksum_address("0x" + rpc(stack.anvil.url, "eth_call", call, "latest")[-40:])
    entry = {"id": base64url(credential_id), "x": "0x" + qx.hex(), "y": "0x" + qy.hex(), "address": account}
    tab.page.goto(BASE)
    tab.page.evaluate(
        """entry => {
            localStorage.setItem('cc-passkeys', JSON.stringify({example: entry}));
            localStorage.setItem('cc-signer', 'passkey');
        }""",
        entry,
    )
    tab.account = account
    yield tab
    tab.context.close()


@pytest.fixture(scope="module")
def member(person, latecomer, stack, visits):
    """The person joins with a passkey in the web app; the founders admit its member address (and
    the latecomer's) and add an indicator to claim against, by a vote."""
    page = person.page
    page.goto(BASE)
    assert page.evaluate("typeof window.ethereum") == "undefined"
    page.get_by_role("button", name="Join with a passkey").click()
    page.get_by_text("Signing with your passkey").wait_for(timeout=EXPECT)
    account = page.inner_text("#passkey-note code")
    assert "give it to a member" in page.inner_text("#passkey-note")
    # Remembered for this community: the credential, its public key and the address; nothing secret.
    stored = page.evaluate("JSON.parse(localStorage.getItem('cc-passkeys')).example")
    assert stored["address"] == account and set(stored) == {"id", "x", "y", "address"}
    assert page.locator("#signer-choice option:checked").inner_text() == "My passkey"
    assert page.get_by_role("button", name="Join with a passkey").is_hidden()
    # A resident key on the authenticator, for rp id localhost. The account is not deployed yet: the
    # relayer pays for it once it can act (admitted), at its first write.
    [credential] = person.cdp.send("WebAuthn.getCredentials", {"authenticatorId": person.authenticator})["credentials"]
    assert credential["isResidentCredential"] and credential["rpId"] == "localhost"
    assert rpc(stack.anvil.url, "eth_getCode", account, "latest") in ("0x", "")
    visits.check(page, "passkey-01-joined")

    api = CommunityClient(stack.server.url)
    indicator = {
        "type": "add_indicator",
        "name": "Mentoring a newcomer",
        "category": "mentoring",
        "orientation": "community",
        "weight": 5,
        "endorsements_required": 2,
    }
    admit = [{"type": "admit_member", "account": a} for a in (account, latecomer.account)]
    pass_proposal(SimpleNamespace(api=api, anvil=stack.anvil), ALICE, "Admit passkey members", [indicator, *admit])
    return SimpleNamespace(account=account, api=api)


def chain_state(stack):
    return rpc(stack.anvil.url, "eth_blockNumber"), rpc(stack.anvil.url, "eth_getTransactionCount", RELAYER, "latest")


def claim(page, evidence: str, expect_done: bool = True) -> None:
    if not page.url.endswith(f"{BASE}/claim"):
        page.goto(f"{BASE}/claim")
    page.fill("#c-evidence", evidence)
    form = page.locator("form.write")
    form.locator("button[type=submit]").click()
    if expect_done:
        form.locator(".done a").wait_for(timeout=EXPECT)
    else:
        form.locator(".form-error:not([hidden])").wait_for(timeout=EXPECT)


def test_a_person_with_no_wallet_joins_with_a_passkey_and_claims(person, member, stack, visits):
    page = person.page
    page.reload()  # after the vote: the page remembers the passkey as the signer
    page.get_by_text("Signing with your passkey").wait_for()
    claim(page, "https://forum.example.org/t/passkey-mentoring")
    steps = page.locator("form.write .progress li").all_inner_texts()
    assert [step.split(":")[0] for step in steps] == [
        "Checking",
        "Waiting for your passkey",
        "Sent",
        "Recorded on the chain",
        "Visible to everyone",
    ]
    page.locator("form.write .done a").click()
    page.wait_for_url(f"**{BASE}/claims/*")
    assert "passkey-mentoring" in page.inner_text("main")
    visits.check(page, "passkey-02-claimed")
    [mine] = [c for c in member.api.get("/claims")["items"] if c["evidence_uri"].endswith("passkey-mentoring")]
    assert mine["contributor"] == member.account

    # What the passkey signed is the digest the service checks: the page's own EIP-712 hashing
    # (passkey.js over keccak.js) of a real prepared request equals the backend's.
    typed = member.api.prepare(
        "claims", signer=member.account, indicator_id=1, evidence_uri="https://example.org/digest"
    )["typed_data"]
    in_page = page.evaluate("typed => CommonsPasskey.bytesToHex(CommonsPasskey.typedDataDigest(typed))", typed)
    assert in_page == "0x" + typed_data_digest(typed).hex()
    assert not visits.problems, "\n".join(visits.problems)


def another_passkey(person) -> None:
    """A second passkey on the device, and the page told to sign with it for the member's account:
    a well-formed assertion by a key the account does not hold, which only the chain can refuse."""
    credential_id, _ = add_passkey(person)
    person.page.evaluate(
        """id => {
            const all = JSON.parse(localStorage.getItem('cc-passkeys'));
            localStorage.setItem('cc-passkeys-kept', JSON.stringify(all));
            all.example.id = id;
            localStorage.setItem('cc-passkeys', JSON.stringify(all));
        }""",
        base64url(credential_id),
    )


def spoil(person, how: str) -> None:
    cdp, authenticator = person.cdp, person.authenticator
    if how == "bogus signature":
        cdp.send("WebAuthn.setResponseOverrideBits", {"authenticatorId": authenticator, "isBogusSignature": True})
    elif how == "no user verification flag":
        cdp.send("WebAuthn.setResponseOverrideBits", {"authenticatorId": authenticator, "isBadUV": True})
    elif how == "user not verified":
        cdp.send("WebAuthn.setUserVerified", {"authenticatorId": authenticator, "isUserVerified": False})
    else:
        another_passkey(person)


def mend(person) -> None:
    person.cdp.send("WebAuthn.setResponseOverrideBits", {"authenticatorId": person.authenticator})
    person.cdp.send("WebAuthn.setUserVerified", {"authenticatorId": person.authenticator, "isUserVerified": True})
    person.page.evaluate(
        """() => {
            const kept = localStorage.getItem('cc-passkeys-kept');
            if (kept) localStorage.setItem('cc-passkeys', kept);
            localStorage.removeItem('cc-passkeys-kept');
        }"""
    )


@pytest.mark.parametrize(
    "how, expected",
    [
        # The authenticator's answer is no signature at all: the page cannot send it.
        ("bogus signature", "could not be read as a signature, so nothing was sent"),
        # Signed, but without the fingerprint, face or PIN: the page does not send it.
        ("no user verification flag", "without confirming it was you"),
        # The device could not confirm the person: the browser itself refuses to sign.
        ("user not verified", "Your passkey did not sign"),
        # A real signature by a key the account does not hold: the chain (ERC-1271) refuses it.
        ("another passkey", "Your member account did not accept your passkey's signature, so nothing was sent"),
    ],
)
def test_a_spoiled_passkey_signature_is_refused_in_a_sentence(person, member, stack, visits, how, expected):
    page = person.page
    before = chain_state(stack)
    page.goto(f"{BASE}/claim")
    spoil(person, how)
    visits.allow_refusals = True
    try:
        claim(page, f"https://example.org/spoiled/{how.replace(' ', '-')}", expect_done=False)
    finally:
        visits.allow_refusals = False
        mend(person)
    refusal = page.inner_text("form.write .form-error")
    assert expected in refusal and "nothing was sent" in refusal.lower(), refusal
    # In words: neither a contract error nor hex in the sentence itself.
    sentence = refusal.split(" (")[0]
    assert "0x" not in sentence and "Wallet" not in sentence and "ERC" not in sentence, refusal
    assert page.locator("form.write .progress").get_attribute("data-state") == "failed"
    visits.check(page, f"passkey-03-refused-{how.replace(' ', '-')}")
    assert chain_state(stack) == before
    assert not visits.problems, "\n".join(visits.problems)


def test_the_mended_passkey_signs_again(person, member):
    """After the refusals, the same passkey signs and the claim lands: nothing was left half done."""
    claim(person.page, "https://forum.example.org/t/passkey-again")
    assert any(c["evidence_uri"].endswith("passkey-again") for c in member.api.get("/claims")["items"])


def test_an_account_admitted_before_it_exists_is_deployed_when_it_first_signs(latecomer, member, stack, visits):
    """The API deploys a passkey's account when asked for it again (idempotent): the page asks before
    every write, so a member admitted by their predicted address signs as any other."""
    assert rpc(stack.anvil.url, "eth_getCode", latecomer.account, "latest") in ("0x", "")
    latecomer.page.reload()
    latecomer.page.get_by_text("Signing with your passkey").wait_for()
    claim(latecomer.page, "https://forum.example.org/t/latecomer")
    assert rpc(stack.anvil.url, "eth_getCode", latecomer.account, "latest") not in ("0x", "")
    [theirs] = [c for c in member.api.get("/claims")["items"] if c["evidence_uri"].endswith("latecomer")]
    assert theirs["contributor"] == latecomer.account
    assert not visits.problems, "\n".join(visits.problems)
