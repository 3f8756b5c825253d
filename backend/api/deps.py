"""Dependencies shared by routers, as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from backend.chain.deployments import Community
from backend.context import Context


def get_context(request: Request) -> Context:
    return request.app.state.context


def get_community(request: Request, community: str | None = None) -> Community:
    # Under /communities/{community}/... this is the path parameter; at the top level (one
    # community served) it is absent, and the only community is meant.
    return request.app.state.context.community(community)


class Paging:
    def __init__(self, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0)) -> None:
        self.limit, self.offset = limit, offset


ContextDep = Annotated[Context, Depends(get_context)]
CommunityDep = Annotated[Community, Depends(get_community)]
PagingDep = Annotated[Paging, Depends()]
WaitQuery = Annotated[bool, Query(description="false: answer 202 at once with the transaction hash")]
