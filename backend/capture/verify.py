"""Each source's signature, checked the way the source signs, over the exact bytes received and
before a byte of the body is parsed. Every comparison is constant-time (hmac.compare_digest).

- GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`; the delivery is
  `X-GitHub-Delivery`, a GUID that a redelivery keeps (so a replay is refused as one).
- GitLab: `X-Gitlab-Token`, the secret token itself; and, when the webhook has a signing token
  (`whsec_...`), `webhook-signature` as Standard Webhooks has it, over `webhook-id`,
  `webhook-timestamp` and the body. The delivery is `webhook-id`, `Idempotency-Key` or
  `X-Gitlab-Event-UUID`.
- Discourse: `X-Discourse-Event-Signature: sha256=<hex HMAC-SHA256(secret, body)>`; the delivery
  is `X-Discourse-Event-Id` on the forum of `X-Discourse-Instance`.
- Standard Webhooks (anything else): `webhook-signature` holds one or more `v1,<base64>` of
  HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>"), the key being the secret after
  `whsec_`, base64-decoded; `webhook-timestamp` within five minutes of the service's clock.

A delivery with no signature, or one that does not verify, is refused (401) and changes nothing; a
timestamp out of tolerance is refused (400); the delivery id is checked for replays afterwards,
against the deliveries recorded (service.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

from backend import units
from backend.errors import DomainError, InvalidRequest
from backend.i18n import N_, gettext

# Standard Webhooks' tolerance: a delivery signed longer ago than this (or as far ahead) is refused.
TOLERANCE_SECONDS = 5 * 60
_DELIVERY_ID = re.compile(r"^[\x21-\x7e]{1,120}$")  # printable ASCII, no spaces


class Unsigned(DomainError):
    """A delivery not signed by the source's secret: refused, nothing recorded."""

    status = 401
    title = N_("Not signed by the source")
    type = "unsigned-delivery"


@dataclass(frozen=True)
class Verified:
    delivery_id: str
    event: str  # the source's own name for what happened (pull_request, Merge Request Hook, topic_created, ...)


def _hmac_hex(key: bytes, body: bytes) -> str:
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.strip().encode("utf-8", "replace"), expected.encode())


def _delivery(value: str | None, header: str) -> str:
    value = (value or "").strip()
    if not _DELIVERY_ID.match(value):
        raise InvalidRequest(
            gettext(
                "The delivery has no usable %(header)s (1 to 120 printable characters): each delivery needs its id, "
                "so that a replayed one is refused",
                header=header,
            ),
            error="MissingDeliveryId",
        )
    return value


def whsec_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret: what follows `whsec_`, base64-decoded."""
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except binascii.Error as exc:
        raise ValueError("a Standard Webhooks secret is whsec_ followed by base64") from exc
    if not 24 <= len(key) <= 64:
        raise ValueError(f"a Standard Webhooks secret holds 24 to 64 bytes (32 is usual), not {len(key)}")
    return key


def github(secret: str, headers: Mapping[str, str], body: bytes) -> Verified:
    given = headers.get("x-hub-signature-256")
    if not given:
        raise Unsigned(
            gettext("The delivery carries no X-Hub-Signature-256: set the webhook's secret on GitHub"), error="Unsigned"
        )
    if not _same(given, "sha256=" + _hmac_hex(secret.encode(), body)):
        raise Unsigned(
            gettext("X-Hub-Signature-256 does not verify with this community's GitHub secret: nothing was recorded"),
            error="BadSignature",
        )
    return Verified(_delivery(headers.get("x-github-delivery"), "X-GitHub-Delivery"), headers.get("x-github-event", ""))


def standard(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> Verified:
    message_id, timestamp, signatures = (
        headers.get("webhook-id"),
        headers.get("webhook-timestamp"),
        headers.get("webhook-signature"),
    )
    if not (message_id and timestamp and signatures):
        raise Unsigned(
            gettext("The delivery lacks webhook-id, webhook-timestamp or webhook-signature (Standard Webhooks)"),
            error="Unsigned",
        )
    signed = f"{message_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(whsec_key(secret), signed, hashlib.sha256).digest()).decode()
    verified = False
    for entry in signatures.split(" "):
        version, _, value = entry.partition(",")
        # Every entry is compared, whatever came before: the time taken says nothing of which matched.
        verified = (version == "v1" and _same(value, expected)) | verified
    if not verified:
        raise Unsigned(
            gettext(
                "webhook-signature does not verify with this community's secret for the source: nothing was recorded"
            ),
            error="BadSignature",
        )
    if not timestamp.isascii() or not timestamp.isdigit():
        raise InvalidRequest(
            gettext("webhook-timestamp %(value)s is not Unix seconds", value=repr(timestamp[:40])),
            error="StaleDelivery",
        )
    age = now - int(timestamp)
    if abs(age) > TOLERANCE_SECONDS:
        said = (
            N_(
                "The delivery was signed %(span)s ago, and one is accepted within five minutes of this service's "
                "clock: nothing was recorded"
            )
            if age > 0
            else N_(
                "The delivery was signed %(span)s ahead, and one is accepted within five minutes of this service's "
                "clock: nothing was recorded"
            )
        )
        raise InvalidRequest(
            gettext(said, span=units.span(int(abs(age)))),
            error="StaleDelivery",
        )
    return Verified(_delivery(message_id, "webhook-id"), headers.get("webhook-type", ""))


def gitlab(token: str | None, signing: str | None, headers: Mapping[str, str], body: bytes, now: float) -> Verified:
    """The secret token when the steward set one, and the signature when they set a signing token;
    at least one of them is set (or the source is not connected)."""
    if token is not None:
        given = headers.get("x-gitlab-token")
        if not given:
            raise Unsigned(
                gettext("The delivery carries no X-Gitlab-Token: set the webhook's secret token"), error="Unsigned"
            )
        if not _same(given, token):
            raise Unsigned(
                gettext("X-Gitlab-Token is not this community's GitLab secret token: nothing was recorded"),
                error="BadSignature",
            )
    event = headers.get("x-gitlab-event", "")
    if signing is not None:
        signed = standard(signing, headers, body, now)
        return Verified(signed.delivery_id, event)
    delivery = headers.get("idempotency-key") or headers.get("x-gitlab-event-uuid")
    return Verified(_delivery(delivery, "Idempotency-Key or X-Gitlab-Event-UUID"), event)


def discourse(secret: str, headers: Mapping[str, str], body: bytes) -> Verified:
    given = headers.get("x-discourse-event-signature")
    if not given:
        raise Unsigned(
            gettext("The delivery carries no X-Discourse-Event-Signature: set the webhook's secret in Discourse"),
            error="Unsigned",
        )
    if not _same(given, "sha256=" + _hmac_hex(secret.encode(), body)):
        raise Unsigned(
            gettext(
                "X-Discourse-Event-Signature does not verify with this community's Discourse secret: nothing was "
                "recorded"
            ),
            error="BadSignature",
        )
    instance = (headers.get("x-discourse-instance") or "").strip().rstrip("/")
    number = _delivery(headers.get("x-discourse-event-id"), "X-Discourse-Event-Id")
    # Event ids count per webhook: the forum's address keeps two forums' deliveries apart.
    return Verified(
        _delivery(f"{instance}#{number}"[-120:], "X-Discourse-Event-Id"), headers.get("x-discourse-event", "")
    )
