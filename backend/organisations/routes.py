from __future__ import annotations

from fastapi import APIRouter

from backend.dependencies import (
    CommunityDep,
    ContextDep,
    IndexRead,
    IndicatorIdPath,
    PagingDep,
)
from backend.organisations import service as organisation_reads
from backend.organisations.schemas import OrganisationOut, OrganisationProfileOut
from backend.schemas import Page

router = APIRouter(prefix="/organisations", tags=["organisations"], dependencies=[IndexRead])


@router.get("", response_model=Page[OrganisationOut])
def list_organisations(ctx: ContextDep, community: CommunityDep, paging: PagingDep, active: bool | None = None):
    """The organisations governance registered for claims to credit (sponsors, employers, customers)."""
    items, total = organisation_reads.list_organisations(
        ctx, community, active=active, limit=paging.limit, offset=paging.offset
    )
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.get("/{organisation_id}", response_model=OrganisationProfileOut)
def get_organisation(ctx: ContextDep, community: CommunityDep, organisation_id: IndicatorIdPath):
    """One organisation and the work credited to it: its contributors and its weighted score by category, over
    the counting badges whose claims credit it (the community's score rule applies per contributor and indicator)."""
    return organisation_reads.organisation_profile(ctx, community, organisation_id)
