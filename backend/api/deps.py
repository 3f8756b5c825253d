"""Dependencies shared by routers, as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request
from pydantic import AfterValidator

from backend.chain.addresses import checksummed
from backend.chain.deployments import Community
from backend.context import Context
from backend.services.proposals import ADDRESS_PATTERN, UINT32
from backend.services.reads import INDEX_ID_MAX  # ids are counters from 1, kept as 64-bit integers


def get_context(request: Request) -> Context:
    return request.app.state.context


def get_community(request: Request, community: str | None = None) -> Community:
    # Under /communities/{community}/... this is the path parameter; at the top level (one
    # community served) it is absent, and the only community is meant.
    return request.app.state.context.community(community)


class Paging:
    def __init__(self, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=10**9)) -> None:
        self.limit, self.offset = limit, offset


ContextDep = Annotated[Context, Depends(get_context)]
CommunityDep = Annotated[Community, Depends(get_community)]
PagingDep = Annotated[Paging, Depends()]
WaitQuery = Annotated[bool, Query(description="false: answer 202 at once with the transaction hash")]

AddressPath = Annotated[str, Path(pattern=ADDRESS_PATTERN, description="0x + 40 hex digits: EIP-55 checksummed, "
                                                                     "or all lowercase"), AfterValidator(checksummed)]
AddressQuery = Annotated[str | None, Query(pattern=ADDRESS_PATTERN, description="An address: EIP-55 checksummed, "
                                                                               "or all lowercase"),
                         AfterValidator(lambda value: value if value is None else checksummed(value))]
IdPath = Annotated[int, Path(ge=1, le=INDEX_ID_MAX)]
IndicatorIdPath = Annotated[int, Path(ge=1, le=UINT32)]
IndicatorIdQuery = Annotated[int | None, Query(ge=1, le=UINT32)]
ProposalIdPath = Annotated[str, Path(pattern=r"^[0-9]{1,78}$", description="A decimal uint256")]
TxHashPath = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$")]
AttesterQuery = Annotated[str, Query(pattern=ADDRESS_PATTERN, description="The member who would attest: "
                                                                         "EIP-55 checksummed, or all lowercase"),
                          AfterValidator(checksummed)]
