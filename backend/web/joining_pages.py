"""The pages of joining without a vote per person (issue 22): "Invite and vouch" (the community's
rules in words, the people gathering vouches with a Vouch button, a field to vouch for an address,
and a form to invite someone), and the invitation page its link opens.

An invitation link is {origin}/c/{community}/invitations/{address}#{secret}: the secret rides in
the fragment, which browsers never send, so it reaches neither this service's logs nor anyone's
Referer. This page is served without it; the page's script reads it from location.hash and hands
it to .../invitations/acceptance/prepare once, when the person accepts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from backend.admissions import service as admission_reads
from backend.claims import service as claim_reads
from backend.dependencies import AddressPath, CommunityDep, ContextDep
from backend.errors import NotFound
from backend.members import service as member_reads
from backend.web.pages import HtmlErrors, _render

router = APIRouter(route_class=HtmlErrors, include_in_schema=False, default_response_class=HTMLResponse)


@router.get("/c/{community}/admission")
def admission(ctx: ContextDep, community: CommunityDep, request: Request):
    found = admission_reads.admission(ctx, community)
    return _render(request, ctx, community, "admission.html", rules=found.rules, candidates=found.candidates)


def _standing(ctx, community, account: str, required: int) -> dict[str, Any]:
    """Where the person who accepted an invitation stands: a member, or how many vouches they hold."""
    try:
        member = member_reads.get_member(ctx, community, account)
    except NotFound:
        member = None
    if member and member.active:
        return {"member": True, "vouches": required, "missing": 0}
    found = admission_reads.admission(ctx, community)
    vouches = next((c.vouches for c in found.candidates if c.address == account), 0)
    return {"member": False, "removed": member is not None, "vouches": vouches, "missing": max(0, required - vouches)}


@router.get("/c/{community}/invitations/{address}")
def invitation(ctx: ContextDep, community: CommunityDep, address: AddressPath, request: Request):
    found = admission_reads.get_invitation(ctx, community, address)
    rules = admission_reads.rules(ctx, community)
    credits = [claim_reads.get_claim(ctx, community, claim_id) for claim_id in found.credits[:20]]
    standing = _standing(ctx, community, found.account, rules.vouches_required) if found.account else None
    return _render(
        request,
        ctx,
        community,
        "invitation.html",
        invitation=found,
        rules=rules,
        credits=credits,
        standing=standing,
        header_join=False,  # the page's own button joins and accepts at once
    )
