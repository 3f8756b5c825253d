"""Dependencies shared by routers, as Annotated aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator

from backend.chain.addresses import checksummed
from backend.chain.deployments import Community
from backend.context import Context
from backend.i18n import gettext as _
from backend.vocabulary import ADDRESS_PATTERN, INDEX_ID_MAX, UINT32  # ids: counters from 1, kept as 64-bit integers


# The dependencies are coroutines though they never wait: FastAPI runs a plain function in its
# thread pool, and three hops there per request cost more than the profile read itself.
async def get_context(request: Request) -> Context:
    return request.app.state.context


async def get_community(request: Request, community: str | None = None) -> Community:
    # Under /communities/{community}/... this is the path parameter; at the top level (one
    # community served) it is absent, and the only community is meant.
    return request.app.state.context.community(community)


async def index_read_turn(request: Request) -> AsyncIterator[None]:
    """A read answered from the index alone waits here for one of `index_read_slots` turns (in
    order, without holding a thread). On a machine of few cores, sixteen reads run at once all
    finish late, sharing the CPU and one interpreter lock; taken a few at a time, each finishes
    in turn. Reads that ask the node (a badge's metadata, proposals' clock, transactions) do not
    take a turn: a slow node must not hold up the index's readers."""
    async with request.app.state.index_reads:
        yield


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int
    after: int | None = None  # a cursor: the listings that take one (claims, badges)


async def get_paging(limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=10**9)) -> Paging:
    return Paging(limit, offset)


async def get_cursor_paging(
    paging: Annotated[Paging, Depends(get_paging)],
    after: int | None = Query(
        None,
        ge=0,
        le=INDEX_ID_MAX,
        description=(
            "A cursor: the rows past this id, in the listing's order (the `next_after` of the page before). Found "
            "through the index however far down the listing, where an offset walks every row before it."
        ),
    ),
) -> Paging:
    if after is not None and paging.offset:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query", "after"),
                    "input": after,
                    "msg": _(
                        "Give a cursor (after) or an offset, not both: offset is %(offset)s", offset=paging.offset
                    ),
                }
            ]
        )
    return Paging(paging.limit, paging.offset, after)


ContextDep = Annotated[Context, Depends(get_context)]
CommunityDep = Annotated[Community, Depends(get_community)]
PagingDep = Annotated[Paging, Depends(get_paging)]
CursorPagingDep = Annotated[Paging, Depends(get_cursor_paging)]
# dependencies=[IndexRead] on a route answered from the index alone; released when the route's
# function returns, before the response is sent.
IndexRead = Depends(index_read_turn, scope="function")
WaitQuery = Annotated[bool, Query(description="false: answer 202 at once with the transaction hash")]

AddressPath = Annotated[
    str,
    Path(pattern=ADDRESS_PATTERN, description="0x + 40 hex digits: EIP-55 checksummed, or all lowercase"),
    AfterValidator(checksummed),
]
AddressQuery = Annotated[
    str | None,
    Query(pattern=ADDRESS_PATTERN, description="An address: EIP-55 checksummed, or all lowercase"),
    AfterValidator(lambda value: value if value is None else checksummed(value)),
]
IdPath = Annotated[int, Path(ge=1, le=INDEX_ID_MAX)]
IndicatorIdPath = Annotated[int, Path(ge=1, le=UINT32)]
IndicatorIdQuery = Annotated[int | None, Query(ge=1, le=UINT32)]
ProposalIdPath = Annotated[str, Path(pattern=r"^[0-9]{1,78}$", description="A decimal uint256")]
TxHashPath = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$")]
AttesterQuery = Annotated[
    str,
    Query(pattern=ADDRESS_PATTERN, description="The member who would attest: EIP-55 checksummed, or all lowercase"),
    AfterValidator(checksummed),
]
