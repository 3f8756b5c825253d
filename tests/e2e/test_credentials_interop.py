"""Issue 23: the credentials as verifiers this project did not write take them, in both signed
forms, from the running service (SQLite and PostgreSQL):

- the ES256 JWT, by `jose` in node (panva's JOSE library) and by joserfc with pycryptodome
  (tests/e2e/ob3_verifier.py); the service writes its JWS with `cryptography`;
- the Data Integrity proof (eddsa-rdfc-2022), by Digital Bazaar's @digitalbazaar/vc with the
  eddsa-rdfc-2022 cryptosuite in node (tests/e2e/di_verifier.mjs), the libraries behind the DCC
  verifier and the Learner Credential Wallet, with every context read from the service's own
  copies and the revocation bit read from the status list in its Data Integrity form;
- both against 1EdTech's JSON Schema for the AchievementCredential (tests/e2e/ob3_schema/, read
  by jsonschema_rs).

A tampered, a revoked and an expired credential each fail, in both forms. The badges are those of
tests/e2e/test_credentials.py (its `issued` fixture: made once per service)."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import jsonschema_rs
import pytest

from tests.e2e import test_credentials as made
from tests.e2e.ob3_verifier import VerificationFailed, did_document, status_bit, verify_vc_jwt
from tests.e2e.test_credentials import VALIDITY, _tamper, chain_now

HERE = Path(__file__).resolve().parent
SCHEMA = json.loads((HERE / "ob3_schema" / "achievementcredential.json").read_text())
DI_TYPES = ("application/vc", "application/vc+ld+json", "application/ld+json")


@pytest.fixture(scope="module")
def issued(env, governed):
    """tests/e2e/test_credentials.py's badges, made once per service whichever module asks first."""
    if env.server.url not in made._MADE:
        made._MADE[env.server.url] = made._issued(env, governed)
    return made._MADE[env.server.url]


def iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def node(env, *, credentials=(), jwts=(), now: int | None = None, skip_status: bool = False) -> dict:
    """tests/e2e/di_verifier.mjs over the service under test, at the chain's time."""
    request = {
        "service": env.server.url,
        "now": iso(chain_now(env) if now is None else now),
        "credentials": list(credentials),
        "jwts": list(jwts),
        "skipStatus": skip_status,
    }
    run = subprocess.run(
        ["node", str(HERE / "di_verifier.mjs")],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=HERE.parents[1],
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def credential_url(token_id: int) -> str:
    return f"/communities/example/badges/{token_id}/credential"


def di(env, token_id: int) -> dict:
    response = env.api.http.get(credential_url(token_id), params={"format": "di"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/vc")
    return response.json()


def jwt(env, token_id: int) -> str:
    return env.api.http.get(f"{credential_url(token_id)}.jwt").text


def schema_errors(document: dict) -> list[str]:
    return [f"{e.instance_path}: {e.message}" for e in jsonschema_rs.validator_for(SCHEMA).iter_errors(document)]


def test_jwt_verified_by_jose_in_node_and_by_joserfc(env, issued):
    token = jwt(env, issued["mentoring"])
    [result] = node(env, jwts=[token])["jwts"]
    assert result["verified"], result
    issuer = f"did:web:127.0.0.1%3A{env.server.port}:communities:example"
    assert result["header"]["alg"] == "ES256" and result["header"]["kid"] == f"{issuer}#key-2"
    verified = verify_vc_jwt(token, env.api.http, now=chain_now(env))
    assert result["payload"] == verified.claims
    assert verified.credential == env.api.get(f"/badges/{issued['mentoring']}/credential")["credential"]


def test_data_integrity_verified_by_digital_bazaar(env, issued):
    token_id = issued["mentoring"]
    document = di(env, token_id)
    out = node(env, credentials=[document])
    assert out["credentials"] == [{"verified": True, "accepted": True, "error": None, "status": False}]
    # Every context from the service's copies; the issuer's DID and the status list from the service.
    port, issuer = env.server.port, document["issuer"]["id"]
    assert out["loaded"] == {
        "contexts": sorted(
            [
                f"http://127.0.0.1:{port}/contexts/commons-v1.jsonld",
                "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
                "https://www.w3.org/ns/credentials/v2",
            ]
        ),
        "dids": [issuer],
        "other": [f"http://127.0.0.1:{port}/communities/example/credentials/status"],
    }
    [proof] = document.pop("proof")
    assert proof == {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": document["validFrom"],
        "verificationMethod": f"{issuer}#key-1",
        "proofPurpose": "assertionMethod",
        "proofValue": proof["proofValue"],
    }
    assert proof["proofValue"].startswith("z")
    # The same credential as the JWT's payload and the readable answer's; served again, the same bytes.
    out = env.api.get(f"/badges/{token_id}/credential")
    assert document == out["credential"] == verify_vc_jwt(out["jwt"], env.api.http, now=chain_now(env)).credential
    assert out["data_integrity"] == {**document, "proof": [proof]}
    again = env.api.http.get(credential_url(token_id), params={"format": "di"})
    assert again.content == env.api.http.get(credential_url(token_id), params={"format": "di"}).content
    # The key of the proof is the DID document's Multikey.
    method = next(m for m in did_document(issuer)["verificationMethod"] if m["id"] == f"{issuer}#key-1")
    assert method["type"] == "Multikey" and method["publicKeyMultibase"].startswith("z6Mk")


def test_status_lists_verified_in_both_forms(env, issued):
    url = "/communities/example/credentials/status"
    as_jwt = env.api.http.get(url)
    assert as_jwt.headers["content-type"].startswith("application/vc+jwt")
    assert "accept" in as_jwt.headers["vary"].lower()
    [result] = node(env, jwts=[as_jwt.text])["jwts"]
    assert result["verified"], result
    # As the DCC verifier's loader asks for it.
    as_json = env.api.http.get(url, headers={"Accept": "application/ld+json, application/json"})
    assert as_json.headers["content-type"].startswith("application/ld+json")
    listed = as_json.json()
    assert node(env, credentials=[listed])["credentials"][0]["verified"]
    from_jwt = verify_vc_jwt(as_jwt.text, env.api.http, now=chain_now(env)).credential
    assert {k: v for k, v in listed.items() if k != "proof"} == from_jwt
    assert env.api.http.get(url, params={"format": "di"}).json() == listed


def test_content_negotiation(env, issued):
    url = credential_url(issued["mentoring"])
    readable = env.api.http.get(url)  # httpx asks for anything: the readable answer
    assert readable.headers["content-type"].startswith("application/json") and "jwt" in readable.json()
    for accept in ("application/json", "text/html,application/xhtml+xml,*/*;q=0.8"):
        assert "data_integrity" in env.api.http.get(url, headers={"Accept": accept}).json()
    for accept in DI_TYPES:
        answer = env.api.http.get(url, headers={"Accept": accept})
        assert answer.headers["content-type"].startswith(accept) and "proof" in answer.json()
        assert "accept" in answer.headers["vary"].lower()
    as_jwt = env.api.http.get(url, headers={"Accept": "application/vc+jwt"})
    assert as_jwt.headers["content-type"].startswith("application/vc+jwt") and as_jwt.text == readable.json()["jwt"]
    assert env.api.http.get(url, params={"format": "jwt"}).text == as_jwt.text
    # q decides; ?format= decides over Accept.
    prefer_jwt = {"Accept": "application/ld+json;q=0.5, application/vc+jwt"}
    assert env.api.http.get(url, headers=prefer_jwt).text == as_jwt.text
    assert "proof" in env.api.http.get(url, headers=prefer_jwt, params={"format": "di"}).json()
    assert env.api.http.get(url, params={"format": "xml"}).status_code == 422


def test_valid_against_1edtechs_schema(env, issued):
    """Every credential served, in each form (the readable credential, the Data Integrity
    document with its proof, the JWT's payload with its registered claims), against 1EdTech's
    JSON Schema for AchievementCredential; and the schema does refuse what it should."""
    for key in ("mentoring", "revoked", "expiring"):
        out = env.api.get(f"/badges/{issued[key]}/credential")
        # At its start: the expiring one may have expired already (test_credentials skips time).
        start = int(datetime.strptime(out["credential"]["validFrom"], "%Y-%m-%dT%H:%M:%S%z").timestamp())
        claims = verify_vc_jwt(out["jwt"], env.api.http, now=start).claims
        for document in (out["credential"], out["data_integrity"], claims):
            assert schema_errors(document) == [], (key, schema_errors(document))
    broken = dict(env.api.get(f"/badges/{issued['mentoring']}/credential")["credential"])
    del broken["validFrom"]
    assert schema_errors(broken)
    assert schema_errors({**broken, "validFrom": "2024-01-01T00:00:00Z", "type": ["VerifiableCredential"]})


TAMPERINGS = {
    "weight": lambda c: c["credentialSubject"]["achievement"].update(weight=50),
    "holder": lambda c: c["credentialSubject"].update(id="did:pkh:eip155:31337:0x" + "00" * 20),
    "endorsement": lambda c: c["endorsement"].pop(),
    "validFrom": lambda c: c.update(validFrom="2000-01-01T00:00:00Z"),
    "status": lambda c: c["credentialStatus"].update(statusListIndex="0"),
}


@pytest.mark.parametrize("change", list(TAMPERINGS))
def test_tampered_credential_fails_in_both_forms(env, issued, change):
    document, token = di(env, issued["mentoring"]), jwt(env, issued["mentoring"])
    TAMPERINGS[change](document)
    forged_jwt = _tamper(token, TAMPERINGS[change])
    out = node(env, credentials=[document], jwts=[forged_jwt])
    assert out["credentials"][0]["verified"] is False and "Invalid signature" in out["credentials"][0]["error"]
    assert out["jwts"][0]["verified"] is False and "signature" in out["jwts"][0]["error"]
    with pytest.raises(VerificationFailed, match="signature"):
        verify_vc_jwt(forged_jwt, env.api.http, now=chain_now(env))


def test_a_proof_by_another_key_or_method_fails(env, issued):
    document = di(env, issued["mentoring"])
    issuer = document["issuer"]["id"]
    other_method = json.loads(json.dumps(document))
    other_method["proof"][0]["verificationMethod"] = f"{issuer}#key-2"  # the P-256 key: not an Ed25519 Multikey
    other_value = json.loads(json.dumps(document))
    value = other_value["proof"][0]["proofValue"]
    other_value["proof"][0]["proofValue"] = value[:-2] + ("11" if value[-2:] != "11" else "22")
    other_date = json.loads(json.dumps(document))
    other_date["proof"][0]["created"] = "2001-01-01T00:00:00Z"
    results = node(env, credentials=[other_method, other_value, other_date])["credentials"]
    assert [r["verified"] for r in results] == [False, False, False], results


def test_revoked_credential_fails_in_both_forms(env, issued):
    token_id = issued["revoked"]
    [result] = node(env, credentials=[di(env, token_id)])["credentials"]
    # The proof stands; the status list, in its Data Integrity form, says revoked.
    assert (result["verified"], result["status"], result["accepted"]) == (True, True, False), result
    token = jwt(env, token_id)
    verified = verify_vc_jwt(token, env.api.http, now=chain_now(env))
    assert status_bit(verified.credential, env.api.http) == 1  # the list in its JWT form
    assert env.api.get(f"/badges/{token_id}/credential")["revoked"] is True
    # Its neighbour stands, in both.
    [standing] = node(env, credentials=[di(env, issued["mentoring"])])["credentials"]
    assert standing["accepted"] is True


def test_expired_credential_fails_in_both_forms(env, issued):
    token_id = issued["expiring"]
    document, token = di(env, token_id), jwt(env, token_id)
    end = env.api.get(f"/communities/example/badges/{token_id}")["minted_at"] + VALIDITY
    assert document["validUntil"] == iso(end)
    # Valid until its end (the status list is dated by the chain's latest block, so it is not read
    # at a past time; test_credentials.py may have skipped past the end already).
    before = node(env, credentials=[document], jwts=[token], now=end - 1, skip_status=True)
    assert before["credentials"][0]["verified"] and before["jwts"][0]["verified"], before
    if chain_now(env) <= end:
        env.anvil.skip(VALIDITY + 1)
    now = chain_now(env)
    assert now > end
    after = node(env, credentials=[document], jwts=[token], now=now)
    assert after["credentials"][0]["verified"] is False and "validUntil" in after["credentials"][0]["error"]
    assert after["jwts"][0]["verified"] is False and "exp" in after["jwts"][0]["error"]
    with pytest.raises(VerificationFailed, match="expired"):
        verify_vc_jwt(token, env.api.http, now=now)
