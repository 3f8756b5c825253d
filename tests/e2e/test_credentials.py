"""Open Badges 3.0 credentials checked by a verifier this project did not write the issuing of
(tests/e2e/ob3_verifier.py: joserfc, pycryptodome, pyld, the status list decoded by hand):
valid, tampered, revoked and expired."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime

import httpx
import pytest

from devstack.stack import rpc, wait_until
from tests.e2e.conftest import ALICE, BOB, CAROL, DANA, address, pass_proposal
from tests.e2e.ob3_verifier import OB_V3, VC_V2, VerificationFailed, status_bit, verify_vc_jwt

VALIDITY = 600
# sha256 of the published contexts, as in their publishers' repositories (W3C vc-data-model
# contexts/credentials/v2 at 08b83e4; 1EdTech openbadges-specification ob_v3p0/context-3.0.3.json
# at 74da24d): the service serves them byte for byte.
PUBLISHED = {
    VC_V2: "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734",
    OB_V3: "ef2fa9c7846dce233cc166b43639027278be4ee44f00bb1d45c75de2dd0cd761",
}


def chain_now(env) -> int:
    return int(rpc(env.anvil.url, "eth_getBlockByNumber", "latest", False)["timestamp"], 16)


def iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def did_pkh(key: str) -> str:
    return f"did:pkh:eip155:31337:{address(key)}"


# Once per service: ape's isolation plugin may set module fixtures up again for each test of a
# parametrized package fixture (`env`), and the history must be made only once.
_MADE: dict[str, dict] = {}


@pytest.fixture(scope="module")
def issued(env, governed):
    if env.server.url not in _MADE:
        _MADE[env.server.url] = _issued(env, governed)
    return _MADE[env.server.url]


def _issued(env, governed):
    """Badges of every kind: Dana's mentoring (nominated by Bob, attested by Alice and Carol),
    Carol's patch revoked by governance, Carol's meetup under an indicator that counts 600 s."""
    api = env.api
    nominated = api.act(
        "claims",
        BOB,
        indicator_id=governed["mentoring"],
        contributor=address(DANA),
        evidence_uri="https://forum.example.org/t/credentials",
    )["created"]["claim_id"]
    api.act("attestations", ALICE, claim_id=nominated)
    api.act("attestations", CAROL, claim_id=nominated)
    accepted = api.act("nomination-answers", DANA, claim_id=nominated, answer="accept")  # Dana's consent mints it
    assert accepted["created"]["token_id"] == nominated
    patch = api.act(
        "claims", CAROL, indicator_id=governed["code"], evidence_uri="https://git.example.org/mr/credential"
    )["created"]["claim_id"]
    assert api.act("attestations", ALICE, claim_id=patch)["created"]["token_id"] == patch
    meetup = {
        "type": "add_indicator",
        "name": "Organised a meetup",
        "description_uri": "https://example.org/meetup",
        "category": "events",
        "orientation": "community",
        "weight": 2,
        "endorsements_required": 1,
        "validity_seconds": VALIDITY,
    }
    revoke = {"type": "revoke_badge", "token_id": patch, "reason": "the patch was reverted"}
    executed = pass_proposal(env, ALICE, "Meetups count for 600 s; revoke a reverted patch", [meetup, revoke])
    meetup_id = executed["executed"]["created"]["indicator_id"]
    claim = api.act("claims", CAROL, indicator_id=meetup_id, evidence_uri="ipfs://meetup-photos")["created"]["claim_id"]
    minted = api.act("attestations", BOB, claim_id=claim)
    assert minted["created"]["token_id"] == claim
    return {"mentoring": nominated, "revoked": patch, "expiring": claim, "meetup_indicator": meetup_id}


def test_credential_verifies_independently(env, issued):
    token_id = issued["mentoring"]
    response = env.api.http.get(f"/communities/example/badges/{token_id}/credential.jwt")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vc+jwt")
    verified = verify_vc_jwt(response.text, env.api.http, now=chain_now(env))
    credential, port = verified.credential, env.server.port
    issuer = f"did:web:127.0.0.1%3A{port}:communities:example"
    did = env.api.http.get("/communities/example/did.json").json()
    p256 = next(m for m in did["verificationMethod"] if m["id"] == f"{issuer}#key-2")["publicKeyJwk"]
    assert verified.header == {"alg": "ES256", "typ": "JWT", "kid": f"{issuer}#key-2", "jwk": p256}
    assert credential["@context"] == [VC_V2, OB_V3, f"http://127.0.0.1:{port}/contexts/commons-v1.jsonld"]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["issuer"] == {
        "id": issuer,
        "type": ["Profile"],
        "name": "Example Commons",
        "url": f"http://127.0.0.1:{port}/c/example",
    }
    badge = env.api.get(f"/badges/{token_id}")
    claim = env.api.get(f"/claims/{token_id}")
    assert credential["validFrom"] == iso(badge["minted_at"]) and "validUntil" not in credential
    assert verified.claims["nbf"] == badge["minted_at"] and "exp" not in verified.claims
    subject = credential["credentialSubject"]
    assert subject["id"] == did_pkh(DANA) == verified.claims["sub"]
    assert (subject["tokenId"], subject["chainId"], subject["transactionHash"]) == (token_id, 31337, badge["tx_hash"])
    achievement = subject["achievement"]
    # The version of mentoring the badge was minted under: governed's first (weight 5,
    # ipfs://mentoring), or the second when test_flow, which amends it and leaves it so, ran before
    # this module (in another order than the suite's). Nothing amends it after the claim here.
    indicator = env.api.get(f"/indicators/{badge['indicator_id']}")
    assert badge["indicator_version"] == indicator["version"]
    version = next(v for v in indicator["versions"] if v["version"] == indicator["version"])
    assert (version["version"], version["weight"], version["description_uri"]) in {
        (1, 5, "ipfs://mentoring"),
        (2, 8, "ipfs://mentoring-v2"),
    }
    assert {
        k: achievement[k]
        for k in (
            "name",
            "weight",
            "orientation",
            "category",
            "indicatorVersion",
            "descriptionUri",
            "endorsementsRequired",
            "validitySeconds",
        )
    } == {
        "name": "Mentoring a newcomer",
        "weight": version["weight"],
        "orientation": "community",
        "category": "mentoring",
        "indicatorVersion": version["version"],
        "descriptionUri": version["description_uri"],
        "endorsementsRequired": 2,
        "validitySeconds": 0,
    }
    assert "2 other members attested it" in achievement["criteria"]["narrative"]
    assert credential["evidence"] == [
        {
            "id": "https://forum.example.org/t/credentials",
            "type": ["Evidence"],
            "name": "Evidence of the contribution",
            "narrative": f"Given with the claim; its hash is recorded in badge {token_id} on chain.",
            "evidenceUri": "https://forum.example.org/t/credentials",
            "evidenceHash": claim["evidence_hash"],
        }
    ]
    # One endorsement per attestation, by the attesters, in order.
    endorsements = credential["endorsement"]
    assert [e["issuer"]["id"] for e in endorsements] == [did_pkh(ALICE), did_pkh(CAROL)]
    assert all(e["type"] == ["VerifiableCredential", "EndorsementCredential"] for e in endorsements)
    assert all(e["credentialSubject"]["id"] == credential["id"] for e in endorsements)
    # JSON-LD: the OB 3.0 types and terms, from the service's own copies of the contexts.
    expanded = verified.expanded[0]
    assert "https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential" in expanded["@type"]
    assert "https://purl.imsglobal.org/spec/vc/ob/vocab.html#endorsement" in expanded
    assert expanded["https://www.w3.org/2018/credentials#validFrom"][0]["@value"] == iso(badge["minted_at"])
    # The JSON answer carries the same signed credential.
    out = env.api.get(f"/badges/{token_id}/credential")
    assert out["jwt"] == response.text and out["credential"] == credential and out["revoked"] is False
    assert status_bit(credential, env.api.http) == 0


def test_contexts_are_served_byte_for_byte(env, issued):
    where = env.api.http.get("/contexts").json()["contexts"]
    assert set(where) == {VC_V2, OB_V3, f"http://127.0.0.1:{env.server.port}/contexts/commons-v1.jsonld"}
    for url, digest in PUBLISHED.items():
        response = httpx.get(where[url])
        assert response.headers["content-type"].startswith("application/ld+json")
        assert hashlib.sha256(response.content).hexdigest() == digest
    assert env.api.http.get("/contexts/nothing.json").status_code == 404


def _tamper(token: str, change) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    change(claims)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c["credentialSubject"]["achievement"].update(weight=50),
        lambda c: c["credentialSubject"].update(id="did:pkh:eip155:31337:0x" + "00" * 20),
        lambda c: c["endorsement"].pop(),
        lambda c: c.update(validFrom="2000-01-01T00:00:00Z"),
    ],
    ids=["weight", "holder", "endorsement", "validFrom"],
)
def test_tampered_credential_fails(env, issued, change):
    token = env.api.http.get(f"/communities/example/badges/{issued['mentoring']}/credential.jwt").text
    verify_vc_jwt(token, env.api.http, now=chain_now(env))  # the genuine one passes
    with pytest.raises(VerificationFailed, match="signature"):
        verify_vc_jwt(_tamper(token, change), env.api.http, now=chain_now(env))


def test_signature_by_another_key_fails(env, issued):
    """A credential signed with a key the issuer's DID document does not list."""
    import jwt as pyjwt
    from cryptography.hazmat.primitives.asymmetric import ec

    token = env.api.http.get(f"/communities/example/badges/{issued['mentoring']}/credential.jwt").text
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    claims = pyjwt.decode(token, options={"verify_signature": False})
    other = ec.generate_private_key(ec.SECP256R1())
    # The issuer's kid, with or without the issuer's jwk: the DID document's key decides.
    for headers in ({"kid": header["kid"], "typ": "JWT"}, {k: header[k] for k in ("kid", "typ", "jwk")}):
        forged = pyjwt.encode(claims, other, algorithm="ES256", headers=headers)
        with pytest.raises(VerificationFailed, match="signature"):
            verify_vc_jwt(forged, env.api.http, now=chain_now(env))
    # The forger's own key in the header: refused, the key of the kid is the DID document's.
    own = pyjwt.algorithms.ECAlgorithm.to_jwk(other.public_key(), as_dict=True)
    forged = pyjwt.encode(claims, other, algorithm="ES256", headers={"kid": header["kid"], "jwk": own})
    with pytest.raises(VerificationFailed, match="jwk"):
        verify_vc_jwt(forged, env.api.http, now=chain_now(env))


def test_revoked_badge_shows_revoked_in_the_status_list(env, issued):
    revoked = env.api.get(f"/badges/{issued['revoked']}/credential")
    # The credential itself still verifies: revocation is the status list's to say.
    verified = verify_vc_jwt(revoked["jwt"], env.api.http, now=chain_now(env))
    entry = verified.credential["credentialStatus"]
    url = f"http://127.0.0.1:{env.server.port}/communities/example/credentials/status"
    assert entry == {
        "id": f"{url}#{issued['revoked']}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(issued["revoked"]),
        "statusListCredential": url,
    }
    assert status_bit(verified.credential, env.api.http) == 1
    assert revoked["revoked"] is True
    # Its neighbours are not revoked.
    assert status_bit(env.api.get(f"/badges/{issued['mentoring']}/credential")["credential"], env.api.http) == 0
    readable = env.api.get("/credentials/status.json")
    assert issued["revoked"] in readable["revoked"] and issued["mentoring"] not in readable["revoked"]
    assert readable["length"] == 131_072


def test_expired_credential(env, issued):
    token_id = issued["expiring"]
    out = env.api.get(f"/badges/{token_id}/credential")
    badge = env.api.get(f"/badges/{token_id}")
    credential = out["credential"]
    assert credential["validUntil"] == iso(badge["minted_at"] + VALIDITY)
    assert out["valid_until"] == badge["minted_at"] + VALIDITY
    assert credential["evidence"][0]["id"] == "ipfs://meetup-photos"
    now = chain_now(env)
    if now < badge["minted_at"] + VALIDITY:
        verified = verify_vc_jwt(out["jwt"], env.api.http, now=now)  # valid before its end
        assert verified.claims["exp"] == badge["minted_at"] + VALIDITY
        env.anvil.skip(VALIDITY + 1)
    now = chain_now(env)
    assert now > badge["minted_at"] + VALIDITY
    with pytest.raises(VerificationFailed, match="expired"):
        verify_vc_jwt(out["jwt"], env.api.http, now=now)
    # Expired is not revoked: the status bit stays 0, and the badge no longer counts.
    assert status_bit(credential, env.api.http) == 0
    # (once the index has seen a block past its end: the index's clock is its last block's time)
    wait_until(lambda: env.api.get(f"/badges/{token_id}")["counts"] is False, what="the badge to stop counting")


def test_member_credentials_and_did_documents(env, issued):
    mine = env.api.get(f"/members/{address(DANA)}/credentials")
    assert mine["holder"] == did_pkh(DANA)
    assert issued["mentoring"] in [c["token_id"] for c in mine["items"]]
    assert all(c["credential"]["credentialSubject"]["id"] == did_pkh(DANA) for c in mine["items"])
    service = httpx.get(f"{env.server.url}/.well-known/did.json")
    assert service.headers["content-type"].startswith("application/did+json")
    assert service.json()["id"] == f"did:web:127.0.0.1%3A{env.server.port}"
    community = env.api.http.get("/communities/example/did.json").json()
    # The same two keys in each document, under each DID.
    keys = [{k: m[k] for k in m if k not in ("id", "controller")} for m in community["verificationMethod"]]
    assert keys == [{k: m[k] for k in m if k not in ("id", "controller")} for m in service.json()["verificationMethod"]]
    assert env.api.http.get("/communities/example/badges/999999/credential").status_code == 404
    missing = env.api.http.get(f"/communities/example/members/{address('0x' + '1' * 64)}/credentials")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
