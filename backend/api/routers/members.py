from __future__ import annotations

from fastapi import APIRouter

from backend.api.deps import AddressPath, CommunityDep, ContextDep, IndexRead, PagingDep
from backend.api.schemas import MemberOut, Page, ProfileOut, ScoreHistoryOut
from backend.members import service as member_reads

# Every read here is answered from the index alone.
router = APIRouter(prefix="/members", tags=["members"], dependencies=[IndexRead])


@router.get("", response_model=Page[MemberOut])
def list_members(ctx: ContextDep, community: CommunityDep, paging: PagingDep, active: bool | None = True):
    """Members (current ones unless active=false or omitted with active=). A public list: members who keep
    their profile hidden are left out (and from `total`); GET /members/{address} and their profile still
    answer, and their badges count everywhere."""
    items, total = member_reads.list_members(ctx, community, active=active, limit=paging.limit, offset=paging.offset)
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.get("/{address}", response_model=MemberOut)
def get_member(ctx: ContextDep, community: CommunityDep, address: AddressPath):
    """One member: since when, delegate, votes held."""
    return member_reads.get_member(ctx, community, address)


@router.get("/{address}/profile", response_model=ProfileOut)
def get_profile(ctx: ContextDep, community: CommunityDep, address: AddressPath, paging: PagingDep):
    """A member's contribution profile: weighted scores from the badges that count now, and one
    page of their badges (oldest first; `limit` and `offset` page through them)."""
    return member_reads.profile(ctx, community, address, limit=paging.limit, offset=paging.offset)


@router.get("/{address}/profile/history", response_model=ScoreHistoryOut)
def get_score_history(ctx: ContextDep, community: CommunityDep, address: AddressPath):
    """A member's weighted score over time: a point at each badge minted, revoked or expired."""
    return member_reads.score_history(ctx, community, address)
