"""Being told, through the API: a member prepares and signs how they hear (email, a webhook, each
message or a daily digest), reads it back with a signed request of their own, and leaves with the
one-click link in every message; anyone reads the Atom feeds."""

from __future__ import annotations

import html
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import AfterValidator

from backend.chain.addresses import checksummed
from backend.dependencies import AddressPath, CommunityDep, ContextDep, IndexRead
from backend.i18n import current_locale, gettext, use_locale
from backend.notifications import feeds, service
from backend.notifications.schemas import (
    PreferencesOut,
    PreferencesPrepareIn,
    PreferencesTypedDataOut,
    ReadingPrepareIn,
    SignedPreferencesIn,
)
from backend.vocabulary import ADDRESS_PATTERN

router = APIRouter(tags=["notifications"])

_TOKEN = Query(min_length=1, max_length=80, pattern=r"^[0-9]+\.[A-Za-z0-9_-]+$", description="From the message's link")


_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
# A signed reading is refused like a signed write: not the member's signature (403), replayed (409), too many (429).
_SIGNED_READ_ANSWERS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not the member's signature, or not a member", "content": _PROBLEM},
    409: {"description": "This signed reading was used already", "content": _PROBLEM},
    429: {"description": "Too many signed requests of this member in the last hour", "content": _PROBLEM},
}
_ATOM: dict[int | str, dict[str, Any]] = {
    200: {"description": "An Atom feed (RFC 4287)", "content": {"application/atom+xml": {"schema": {"type": "string"}}}}
}


def _rescan(request: Request, slug: str) -> None:
    notices = getattr(request.app.state, "notices", None)
    if notices is not None:
        notices.rescan(slug)


@router.post("/notifications/prepare", response_model=PreferencesTypedDataOut)
def prepare_preferences(ctx: ContextDep, community: CommunityDep, body: PreferencesPrepareIn):
    """Choose how you hear about what waits for you in this community: the typed data to sign (off chain, no gas).
    Email (where the service has an SMTP server) and a webhook to a chat bridge (https, a public address), each
    as a message per thing or one digest a day; leave one empty to have none. Your Atom feed needs nothing. The
    email address and the webhook are private: answered to no one but you. Refused: not a member (403), an
    address or a URL that cannot be used (422)."""
    return PreferencesTypedDataOut(
        typed_data=service.prepare(
            ctx,
            community,
            member=body.member,
            email=body.email,
            email_mode=body.email_mode,
            webhook_url=body.webhook_url,
            webhook_mode=body.webhook_mode,
            new_webhook_secret=body.new_webhook_secret,
            language=body.language,
        )
    )


@router.post("/notifications", response_model=PreferencesOut)
def set_preferences(ctx: ContextDep, community: CommunityDep, body: SignedPreferencesIn, request: Request):
    """Submit signed preferences. A new webhook's signing secret (`webhook_secret`, whsec_...) is in this answer
    only: keep it for the bridge, which checks every message's `webhook-signature` with it. Refused: a signature
    that is not the member's (403), a request signed more than `notify_signature_max_age_seconds` ago (422), the
    same or an older request again (409), too many in an hour (429)."""
    out = service.set_preferences(ctx, community, body.typed_data.as_dict(), body.signature)
    _rescan(request, community.slug)
    return out


@router.post("/notifications/reading/prepare", response_model=PreferencesTypedDataOut)
def prepare_reading(ctx: ContextDep, community: CommunityDep, body: ReadingPrepareIn):
    """Read your own preferences: the typed data to sign; then GET .../notifications/preferences with the
    signature."""
    return PreferencesTypedDataOut(typed_data=service.prepare_reading(ctx, community, body.member))


@router.get("/notifications/preferences", response_model=PreferencesOut, responses=_SIGNED_READ_ANSWERS)
def get_preferences(
    ctx: ContextDep,
    community: CommunityDep,
    member: Annotated[str, Query(pattern=ADDRESS_PATTERN), AfterValidator(checksummed)],
    issued_at: Annotated[int, Query(ge=0, lt=2**64, description="The message's issuedAt, as signed")],
    signature: Annotated[str, Query(pattern=r"^0x([0-9a-fA-F]{2}){65,2048}$")],
):
    """Your preferences (with your email address and webhook, and whether either was turned off), for a signed
    reading of your own (.../reading/prepare): each signature reads once, while fresh."""
    return service.read_preferences(ctx, community, member, issued_at, signature)


def _page(title: str, text: str) -> str:
    return (
        f'<!doctype html><html lang="{current_locale()}"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title></head>'
        f"<body><main><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></main></body></html>"
    )


@router.get("/notifications/unsubscribe", response_class=HTMLResponse)
def unsubscribe(ctx: ContextDep, community: CommunityDep, token: Annotated[str, _TOKEN]):
    """The link in every message: one click stops that channel's messages, no login. Nothing more is sent to it
    until the member signs new preferences."""
    subscription, already = service.unsubscribe(ctx, community, token)
    chosen = service.language_of(ctx.sessions, subscription.community, subscription.member)
    with use_locale(chosen or current_locale()):  # the member's language, else their browser's
        email = subscription.channel == "email"
        if already:
            stopped = (
                gettext(
                    "You will get no more emails from %(community)s (you had already stopped them).",
                    community=community.name,
                )
                if email
                else gettext(
                    "You will get no more webhook messages from %(community)s (you had already stopped them).",
                    community=community.name,
                )
            )
        else:
            stopped = (
                gettext("You will get no more emails from %(community)s.", community=community.name)
                if email
                else gettext("You will get no more webhook messages from %(community)s.", community=community.name)
            )
        text = (
            stopped
            + " "
            + gettext(
                "What waits for you is still on your Waiting for me page and in your feed; to hear again, choose "
                "how you hear once more, with your signature."
            )
        )
        return HTMLResponse(_page(gettext("You are unsubscribed"), text))


@router.post("/notifications/unsubscribe", response_class=HTMLResponse)
def unsubscribe_one_click(ctx: ContextDep, community: CommunityDep, token: Annotated[str, _TOKEN]):
    """The same, as mail programs send it from their own unsubscribe button (RFC 8058 one-click)."""
    return unsubscribe(ctx, community, token)


@router.get("/feeds/members/{address}.atom", response_class=Response, dependencies=[IndexRead], responses=_ATOM)
def member_feed(
    ctx: ContextDep,
    community: CommunityDep,
    address: AddressPath,
    token: Annotated[str | None, Query(max_length=64, description="The private link's token")] = None,
):
    """A member's Atom feed: nominations waiting for their answer, claims waiting for their endorsement, votes
    closing that they have not cast, badges they earned, notices about their messages. A member who hid their
    profile has no public feed: theirs answers only at the private link their preferences give (404 otherwise)."""
    return Response(feeds.member_feed(ctx, community, address, token), media_type=feeds.MEDIA_TYPE)


@router.get("/feeds/community.atom", response_class=Response, dependencies=[IndexRead], responses=_ATOM)
def community_feed(ctx: ContextDep, community: CommunityDep):
    """The community's Atom feed: proposals opened and closing within a day, badges minted (but those of members
    who hid their profile)."""
    return Response(feeds.community_feed(ctx, community), media_type=feeds.MEDIA_TYPE)
