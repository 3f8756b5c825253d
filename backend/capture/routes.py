"""Capture through the API: the signed webhooks of each source, the steward's import of past items,
the capture rules (anyone reads them), the drafts waiting for a member, and a member's signed
dismissal of a draft or choice to turn capture off.

A webhook's body is read as bytes, at most `capture_max_body_bytes` (a longer one is refused with 413
before it is parsed), and its signature checked over those exact bytes before anything else."""

from __future__ import annotations

import re
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import AfterValidator
from starlette.concurrency import run_in_threadpool

from backend.capture import service
from backend.capture.schemas import (
    CaptureRulesOut,
    DeliveryOut,
    DismissalOut,
    DismissalPrepareIn,
    DraftsOut,
    ImportOut,
    PreferenceOut,
    PreferencePrepareIn,
    SignedDismissalIn,
    SignedPreferenceIn,
    TypedDataOut,
)
from backend.chain.addresses import checksummed
from backend.chain.deployments import Community
from backend.context import Context
from backend.dependencies import CommunityDep, ContextDep, IndexRead
from backend.errors import too_large as body_too_large
from backend.vocabulary import ADDRESS_PATTERN

router = APIRouter(tags=["capture"])

# A body declared or found longer than the limit is read on, and thrown away, up to this much, so that
# the sender reads the 413 rather than a connection cut under its upload; past it, the connection ends.
DRAIN_BYTES = 32 * 1024 * 1024

_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_WEBHOOK_ANSWERS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed, or not signed by the source's secret: nothing recorded", "content": _PROBLEM},
    413: {"description": "The body is longer than capture_max_body_bytes: nothing read", "content": _PROBLEM},
}
_JSON_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object", "description": "The source's own payload"}}},
    }
}
_FILE_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"description": "The source's list, as its API answers it"}}},
    }
}

MemberQuery = Annotated[str, Query(pattern=ADDRESS_PATTERN), AfterValidator(checksummed)]


# The routes that read their own bodies (a webhook's delivery, an imported file), each to a limit of
# its own: the API's body limit (backend/api/body_limit.py) leaves them to it.
_OWN_BODY = re.compile(r"(?:^|^/communities/[^/]+)/capture/(?:github|gitlab|discourse|standard|[^/]+/import)$")


def reads_own_body(path: str) -> bool:
    return _OWN_BODY.match(path) is not None


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > DRAIN_BYTES:
        raise body_too_large(limit)
    chunks, size, too_large = [], 0, declared.isdigit() and int(declared) > limit
    async for chunk in request.stream():
        size += len(chunk)
        too_large = too_large or size > limit
        if too_large and size > DRAIN_BYTES:
            break
        if not too_large:
            chunks.append(chunk)
    if too_large:
        raise body_too_large(limit)
    return b"".join(chunks)


async def _receive(request: Request, ctx: Context, community: Community, source: str) -> DeliveryOut:
    body = await _body(request, ctx.settings.capture_max_body_bytes)
    # The signature (an HMAC of at most a megabyte) and the budget are checked here, at once: a flood is
    # refused without a thread or the database; what passes is recorded in a thread.
    now = time.time()
    checked = service.verified(ctx, community, source, request.headers, body, now)
    service.take_place(ctx, community, source, now)
    return await run_in_threadpool(service.record, ctx, community, source, checked, request.headers, body, now)


@router.post("/capture/github", response_model=DeliveryOut, responses=_WEBHOOK_ANSWERS, openapi_extra=_JSON_BODY)
async def github(request: Request, ctx: ContextDep, community: CommunityDep):
    """GitHub's webhook (content type application/json, with a secret): `X-Hub-Signature-256` verified, each
    `X-GitHub-Delivery` accepted once. A merged pull request a capture rule names becomes a draft claim for its
    author (a member who linked that GitHub account), or a draft invitation; a comment starting with the rules'
    command, a draft endorsement. Refused: unsigned or wrongly signed (401), replayed (409), the source's budget
    spent (429), too long (413), not JSON (400), not connected here (404)."""
    return await _receive(request, ctx, community, "github")


@router.post("/capture/gitlab", response_model=DeliveryOut, responses=_WEBHOOK_ANSWERS, openapi_extra=_JSON_BODY)
async def gitlab(request: Request, ctx: ContextDep, community: CommunityDep):
    """GitLab's webhook: `X-Gitlab-Token` compared in constant time, and, when the steward set a signing token,
    `webhook-signature` (Standard Webhooks) verified with `webhook-timestamp` within five minutes. Merged merge
    requests and comments on them, as for GitHub."""
    return await _receive(request, ctx, community, "gitlab")


@router.post("/capture/discourse", response_model=DeliveryOut, responses=_WEBHOOK_ANSWERS, openapi_extra=_JSON_BODY)
async def discourse(request: Request, ctx: ContextDep, community: CommunityDep):
    """Discourse's webhook (topic and post events): `X-Discourse-Event-Signature` verified, each
    `X-Discourse-Event-Id` of a forum accepted once. A topic created in a category a rule names becomes a draft
    claim for its author; a reply starting with the rules' command, a draft endorsement."""
    return await _receive(request, ctx, community, "discourse")


@router.post("/capture/standard", response_model=DeliveryOut, responses=_WEBHOOK_ANSWERS, openapi_extra=_JSON_BODY)
async def standard(request: Request, ctx: ContextDep, community: CommunityDep):
    """Anything else, signed as Standard Webhooks (`webhook-id`, `webhook-timestamp` within five minutes,
    `webhook-signature`): a payload `{"type", "data": {"url", "author": {"site", "handle"}, "id", "title"}}` whose
    type a rule names becomes a draft claim for the author."""
    return await _receive(request, ctx, community, "standard")


@router.post(
    "/capture/{source}/import",
    response_model=ImportOut,
    responses=_WEBHOOK_ANSWERS,
    openapi_extra=_FILE_BODY,
)
async def import_items(
    request: Request,
    ctx: ContextDep,
    community: CommunityDep,
    source: Literal["github", "gitlab", "discourse", "standard"],
    forum: Annotated[
        str | None, Query(max_length=200, description="Discourse only: the forum's address, https://...")
    ] = None,
):
    """Backfill, for the steward: past items from a file in the source's own format (GitHub's list of pull
    requests, GitLab's list of merge requests, a Discourse topic list, a JSON array of Standard Webhooks payloads),
    through the same rules. Signed with the source's secret (`X-Capture-Timestamp`, `X-Capture-Signature`:
    `commons capture import` makes them). Importing the same items again changes nothing."""
    body = await _body(request, ctx.settings.capture_max_import_bytes)
    return await run_in_threadpool(service.import_items, ctx, community, source, request.headers, body, forum)


@router.get("/capture-rules", response_model=CaptureRulesOut, dependencies=[IndexRead])
def capture_rules(ctx: ContextDep, community: CommunityDep):
    """The capture rules in force, as governance last set them on chain (read from the index), and whether the
    service can apply them. Anyone reads them; a proposal's `set_capture_rules` action changes them."""
    return service.rules_out(ctx, community)


@router.get("/capture/drafts", response_model=DraftsOut, dependencies=[IndexRead])
def drafts(ctx: ContextDep, community: CommunityDep, member: MemberQuery):
    """What capture drafted for a member, waiting for their signature (oldest first, at most 200): claims of their
    own work and endorsements, with the evidence link filled in, and invitations of authors who are no member yet,
    which any member may send. None is a signature: each becomes a claim, attestation or invitation only when signed
    at the usual .../prepare endpoints with its fields, and leaves this list once the index holds it."""
    with ctx.sessions() as session:
        capture = service.capture_on(session, community.slug, member)
    return DraftsOut(member=member, capture=capture, items=service.drafts_for(ctx, community, member))


@router.post("/capture/dismissals/prepare", response_model=TypedDataOut)
def prepare_dismissal(ctx: ContextDep, community: CommunityDep, body: DismissalPrepareIn):
    """Dismiss a draft ("not this one"): the typed data to sign (off chain, no gas). A draft of yours goes for good;
    an invitation draft, from your list only."""
    return TypedDataOut(typed_data=service.prepare_dismissal(ctx, community, body.member, body.draft_id))


@router.post("/capture/dismissals", response_model=DismissalOut)
def dismiss(ctx: ContextDep, community: CommunityDep, body: SignedDismissalIn):
    """Submit a signed dismissal. Refused: not the member's signature (403), signed too long ago (422), the same
    request again (409), too many signed requests in an hour (429)."""
    return service.submit(ctx, community, body.typed_data.model_dump(), body.signature, "dismissal")


@router.post("/capture/preferences/prepare", response_model=TypedDataOut)
def prepare_preference(ctx: ContextDep, community: CommunityDep, body: PreferencePrepareIn):
    """Turn capture off for yourself (nothing of yours is drafted, and what was drafted is no longer shown), or on
    again: the typed data to sign."""
    return TypedDataOut(typed_data=service.prepare_preference(ctx, community, body.member, body.capture))


@router.post("/capture/preferences", response_model=PreferenceOut)
def set_preference(ctx: ContextDep, community: CommunityDep, body: SignedPreferenceIn):
    """Submit a signed choice; an older one than the last accepted is refused (409)."""
    return service.submit(ctx, community, body.typed_data.model_dump(), body.signature, "preference")


@router.get("/capture/preferences", response_model=PreferenceOut)
def get_preference(ctx: ContextDep, community: CommunityDep, member: MemberQuery):
    """Whether capture drafts anything for this member."""
    return service.preference_of(ctx, community, member)
