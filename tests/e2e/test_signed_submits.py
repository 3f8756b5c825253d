"""Both doors of a signed submit answer alike (backend/api/signed_submits.py), over real HTTP.

A member's signed request POSTed as clients send it (JSON, `wait` true, false or absent) is
answered by the lean middleware; the same request with any other query (here `&door=fastapi`,
which FastAPI ignores) goes on to the FastAPI route. For accepted requests, the same signed request
again, and each kind of refusal (the chain's, a nonce used, an expired request, an unknown
community), in English and in Spanish, the two answers carry the same status, the same body and the
same headers."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import ALICE, BOB, OUTSIDER, address

# Headers whose values differ between any two answers (the clock), or that one request's id fills.
_VARYING = {"date", "content-length", "location"}


@pytest.fixture(scope="module")
def slug(env) -> str:
    """The community served (the only one, so the top-level paths answer for it too)."""
    return httpx.get(env.server.url + "/communities", timeout=60).json()[0]["slug"]


def _post(env, path: str, body: dict, *, fastapi: bool, wait: bool | None = False, language: str = "en"):
    query = "" if wait is None else f"?wait={'true' if wait else 'false'}"
    if fastapi:
        query += ("&" if query else "?") + "door=fastapi"
    return httpx.post(env.server.url + path + query, json=body, headers={"Accept-Language": language}, timeout=60)


def _alike(lean: httpx.Response, slow: httpx.Response, *, same_body: bool = True) -> None:
    assert lean.status_code == slow.status_code, (lean.text, slow.text)
    assert {k: v for k, v in lean.headers.items() if k not in _VARYING} == {
        k: v for k, v in slow.headers.items() if k not in _VARYING
    }
    assert ("location" in lean.headers) == ("location" in slow.headers)
    if same_body:
        assert lean.json() == slow.json()
    else:
        assert lean.json().keys() == slow.json().keys()


def _signed_claim(env, governed, key: str, uri: str, *, signer: str | None = None, **change) -> dict:
    """A claim prepared for `key`'s member, changed, and signed by `signer` (the member by default)."""
    prepared = env.api.prepare("claims", signer=address(key), indicator_id=governed["code"], evidence_uri=uri)
    typed = prepared["typed_data"]
    typed["message"].update(change)
    return {"typed_data": typed, "signature": env.api.sign(signer or key, typed)}


def test_an_accepted_claim_and_the_same_one_again(env, governed, slug):
    path = f"/communities/{slug}/claims"
    first = _signed_claim(env, governed, ALICE, "https://x.example/doors/1")
    lean = _post(env, path, first, fastapi=False)
    assert lean.status_code == 202, lean.text
    second = _signed_claim(env, governed, BOB, "https://x.example/doors/2")
    slow = _post(env, path, second, fastapi=True)
    _alike(lean, slow, same_body=False)
    assert lean.headers["location"] == lean.json()["status_url"]
    # The same signed request again, through each door: the request accepted before, never a second.
    again_lean, again_slow = _post(env, path, first, fastapi=False), _post(env, path, first, fastapi=True)
    assert again_lean.json()["request_id"] == again_slow.json()["request_id"] == lean.json()["request_id"]
    _alike(again_lean, again_slow)


@pytest.mark.parametrize("language", ["en", "es"])
def test_refusals_read_the_same_through_both_doors(env, governed, slug, language):
    path = f"/communities/{slug}/claims"
    refusals = {
        "expired": _signed_claim(env, governed, ALICE, "https://x.example/doors/late", deadline=1_000),
        "not a member": _signed_claim(
            env, governed, ALICE, "https://x.example/doors/outsider", signer=OUTSIDER, **{"from": address(OUTSIDER)}
        ),
        "another's signature": _signed_claim(env, governed, ALICE, "https://x.example/doors/forged", signer=BOB),
    }
    for what, body in refusals.items():
        lean = _post(env, path, body, fastapi=False, language=language)
        slow = _post(env, path, body, fastapi=True, language=language)
        assert lean.status_code >= 400, (what, lean.text)
        assert lean.headers["content-type"].startswith("application/problem+json"), what
        _alike(lean, slow)
    # A community that is not served, and a claim POSTed at the top level with wait left out.
    body = _signed_claim(env, governed, ALICE, "https://x.example/doors/nowhere")
    _alike(
        _post(env, "/communities/nowhere/claims", body, fastapi=False, wait=None, language=language),
        _post(env, "/communities/nowhere/claims", body, fastapi=True, wait=None, language=language),
    )


def test_a_nonce_already_used_names_the_request_that_holds_it(env, governed, slug):
    path = f"/communities/{slug}/claims"
    held = _signed_claim(env, governed, ALICE, "https://x.example/doors/held")
    accepted = _post(env, path, held, fastapi=False)
    assert accepted.status_code == 202, accepted.text
    # Another request signed for the same nonce: refused through either door, alike.
    rival = _signed_claim(
        env, governed, ALICE, "https://x.example/doors/rival", nonce=held["typed_data"]["message"]["nonce"]
    )
    lean, slow = _post(env, path, rival, fastapi=False), _post(env, path, rival, fastapi=True)
    assert lean.status_code == 409, lean.text
    _alike(lean, slow)


def test_a_body_longer_than_the_api_reads_is_refused_before_either_door(env, slug):
    """Over real HTTP: a body past api_max_body_bytes (256 KB) is refused unread, in words, at a
    signed submit and at any other POST; a webhook, which reads its own body to its own limit
    (1 MB), is not refused for it (unsigned, it is refused for that)."""
    long = b'{"typed_data": "' + b"x" * 300_000 + b'"}'
    for path in (f"/communities/{slug}/claims", f"/communities/{slug}/claims/prepare", "/attestations"):
        answer = httpx.post(env.server.url + path, content=long, headers={"Content-Type": "application/json"})
        assert answer.status_code == 413, (path, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "262,144 bytes" in answer.json()["detail"]
    webhook = httpx.post(
        env.server.url + f"/communities/{slug}/capture/github",
        content=long,
        headers={"Content-Type": "application/json"},
    )
    assert webhook.status_code != 413, webhook.text
