"""Each source's signature, as the source signs it (backend/capture/verify.py): GitHub's and
Discourse's HMAC of the body, GitLab's token and its Standard Webhooks signing token, and Standard
Webhooks checked both ways against the independent `standardwebhooks` package (what it signs we
accept; what we accept it verifies); refused unsigned, wrongly signed, tampered, stale or ahead."""

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
from standardwebhooks import Webhook, WebhookVerificationError

from backend.capture import verify
from backend.errors import InvalidRequest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "capture"
GITHUB_SECRET = "gh-" + secrets.token_hex(16)
DISCOURSE_SECRET = "dc-" + secrets.token_hex(16)
WHSEC = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def body_of(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def hub(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_headers(secret: str, body: bytes, message_id: str, at: datetime) -> dict[str, str]:
    """Signed by standardwebhooks itself, as any sender using it signs."""
    signature = Webhook(secret).sign(message_id, at, body.decode())
    return {"webhook-id": message_id, "webhook-timestamp": str(int(at.timestamp())), "webhook-signature": signature}


# ---------------------------------------------------------------------- GitHub


def test_github_delivery_signed_with_the_secret_is_accepted():
    body = body_of("github_pull_request_merged.json")
    headers = {
        "x-hub-signature-256": hub(GITHUB_SECRET, body),
        "x-github-delivery": "d-1",
        "x-github-event": "pull_request",
    }
    checked = verify.github(GITHUB_SECRET, headers, body)
    assert (checked.delivery_id, checked.event) == ("d-1", "pull_request")


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "sha256=" + "0" * 64,
        "sha1=" + hmac.new(GITHUB_SECRET.encode(), b"x", hashlib.sha1).hexdigest(),
        "signed by someone else",
    ],
    # Named, not shown: the secret is made afresh in each process, and pytest-xdist's workers must
    # collect the same test ids.
    ids=["none", "empty", "zeros", "sha1", "not a signature"],
)
def test_github_delivery_unsigned_or_wrongly_signed_is_refused(signature):
    body = body_of("github_pull_request_merged.json")
    headers = {"x-github-delivery": "d-1", "x-github-event": "pull_request"}
    if signature is not None:
        headers["x-hub-signature-256"] = signature
    with pytest.raises(verify.Unsigned) as refused:
        verify.github(GITHUB_SECRET, headers, body)
    assert refused.value.status == 401


def test_github_signature_covers_the_exact_bytes():
    body = body_of("github_pull_request_merged.json")
    signature = hub(GITHUB_SECRET, body)
    tampered = body.replace(b"Carol-Writes", b"Mallory-Gets")
    reformatted = json.dumps(json.loads(body)).encode()  # the same JSON, other bytes
    for other in (tampered, reformatted, body + b"\n"):
        with pytest.raises(verify.Unsigned):
            verify.github(GITHUB_SECRET, {"x-hub-signature-256": signature, "x-github-delivery": "d"}, other)
    with pytest.raises(verify.Unsigned):
        verify.github("another secret of the same length!", {"x-hub-signature-256": signature}, body)


def test_github_delivery_without_its_id_is_refused():
    body = body_of("github_ping.json")
    for delivery in (None, "", "has spaces in it", "x" * 121):
        headers = {"x-hub-signature-256": hub(GITHUB_SECRET, body), "x-github-event": "ping"}
        if delivery is not None:
            headers["x-github-delivery"] = delivery
        with pytest.raises(InvalidRequest) as refused:
            verify.github(GITHUB_SECRET, headers, body)
        assert refused.value.extra["error"] == "MissingDeliveryId"


# ---------------------------------------------------------------------- Standard Webhooks, both ways


def test_what_standardwebhooks_signs_we_accept():
    body = body_of("standard_event.json")
    now = datetime.now(UTC)
    headers = standard_headers(WHSEC, body, "msg_2Lh9", now)
    checked = verify.standard(WHSEC, headers, body, now.timestamp())
    assert checked.delivery_id == "msg_2Lh9"


def test_what_we_accept_standardwebhooks_verifies():
    """Our own signing of the same content (the formula the module states) is what the package checks."""
    body = body_of("standard_event.json")
    stamp = int(time.time())
    key = verify.whsec_key(WHSEC)
    ours = base64.b64encode(hmac.new(key, f"msg_1.{stamp}.".encode() + body, hashlib.sha256).digest()).decode()
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(stamp), "webhook-signature": f"v1,{ours}"}
    assert verify.standard(WHSEC, headers, body, time.time()).delivery_id == "msg_1"
    assert Webhook(WHSEC).verify(body, headers) == json.loads(body)


def test_one_valid_signature_among_several_is_enough_as_the_spec_allows():
    body = body_of("standard_event.json")
    now = datetime.now(UTC)
    headers = standard_headers(WHSEC, body, "msg_rot", now)
    old = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    headers["webhook-signature"] = (
        f"{Webhook(old).sign('msg_rot', now, body.decode())} v2,abc {headers['webhook-signature']}"
    )
    verify.standard(WHSEC, headers, body, now.timestamp())
    Webhook(WHSEC).verify(body, headers)  # the package agrees


@pytest.mark.parametrize("offset", [-301, -3600, 301, 86_400])
def test_a_stale_or_future_timestamp_is_refused_as_the_package_refuses_it(offset):
    body = body_of("standard_event.json")
    at = datetime.fromtimestamp(time.time() + offset, UTC)
    headers = standard_headers(WHSEC, body, "msg_old", at)
    with pytest.raises(InvalidRequest) as refused:
        verify.standard(WHSEC, headers, body, time.time())
    assert refused.value.extra["error"] == "StaleDelivery"
    with pytest.raises(WebhookVerificationError):
        Webhook(WHSEC).verify(body, headers)


@pytest.mark.parametrize("offset", [-290, 0, 290])
def test_within_five_minutes_both_accept(offset):
    body = body_of("standard_event.json")
    at = datetime.fromtimestamp(time.time() + offset, UTC)
    headers = standard_headers(WHSEC, body, "msg_ok", at)
    verify.standard(WHSEC, headers, body, time.time())
    Webhook(WHSEC).verify(body, headers)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_unsigned(missing):
    body = body_of("standard_event.json")
    headers = standard_headers(WHSEC, body, "msg_m", datetime.now(UTC))
    del headers[missing]
    with pytest.raises(verify.Unsigned):
        verify.standard(WHSEC, headers, body, time.time())


def test_a_signature_by_another_secret_or_over_another_id_is_refused_by_both():
    body = body_of("standard_event.json")
    now = datetime.now(UTC)
    other = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    forged = standard_headers(other, body, "msg_f", now)
    moved = {**standard_headers(WHSEC, body, "msg_a", now), "webhook-id": "msg_b"}
    for headers in (forged, moved):
        with pytest.raises(verify.Unsigned):
            verify.standard(WHSEC, headers, body, now.timestamp())
        with pytest.raises(WebhookVerificationError):
            Webhook(WHSEC).verify(body, headers)


def test_whsec_secrets_are_checked():
    with pytest.raises(ValueError):
        verify.whsec_key("whsec_not base64!")
    with pytest.raises(ValueError):
        verify.whsec_key("whsec_" + base64.b64encode(b"short").decode())


# ---------------------------------------------------------------------- GitLab and Discourse


def test_gitlab_token_is_compared_and_the_signing_token_verified_when_set():
    body = body_of("gitlab_merge_request_merged.json")
    token = "gl-" + secrets.token_hex(16)
    plain = {"x-gitlab-token": token, "x-gitlab-event": "Merge Request Hook", "idempotency-key": "idem-1"}
    assert verify.gitlab(token, None, plain, body, time.time()).delivery_id == "idem-1"
    for wrong in (
        {**plain, "x-gitlab-token": token[:-1] + "x"},
        {k: v for k, v in plain.items() if k != "x-gitlab-token"},
    ):
        with pytest.raises(verify.Unsigned):
            verify.gitlab(token, None, wrong, body, time.time())
    # With a signing token, webhook-signature is required and verified (GitLab sends webhook-id = Idempotency-Key).
    now = datetime.now(UTC)
    signed = {**plain, **standard_headers(WHSEC, body, "idem-1", now)}
    assert verify.gitlab(token, WHSEC, signed, body, now.timestamp()).delivery_id == "idem-1"
    assert verify.gitlab(None, WHSEC, signed, body, now.timestamp()).event == "Merge Request Hook"
    with pytest.raises(verify.Unsigned):
        verify.gitlab(token, WHSEC, plain, body, now.timestamp())
    with pytest.raises(verify.Unsigned):
        verify.gitlab(token, WHSEC, signed, body.replace(b"carol.gl", b"mallory"), now.timestamp())


def test_discourse_signature_and_the_forum_in_the_delivery_id():
    body = body_of("discourse_topic_created.json")
    headers = {
        "x-discourse-event-signature": hub(DISCOURSE_SECRET, body),
        "x-discourse-event-id": "17",
        "x-discourse-event": "topic_created",
        "x-discourse-event-type": "topic",
        "x-discourse-instance": "https://forum.example.org",
    }
    checked = verify.discourse(DISCOURSE_SECRET, headers, body)
    assert (checked.delivery_id, checked.event) == ("https://forum.example.org#17", "topic_created")
    with pytest.raises(verify.Unsigned):
        verify.discourse(DISCOURSE_SECRET, {**headers, "x-discourse-event-signature": hub("another", body)}, body)
