"""Communities and the service's health."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class CommunityOut(BaseModel):
    slug: str
    name: str
    deployment_block: int
    contracts: dict[str, str]
    parameters: dict[str, Any]
    creator: str | None = Field(
        default=None, description="Who created it through the community factory; null: deployed contract by contract"
    )


class FactoryFollowingOut(BaseModel):
    """The community factory the service follows for communities created after it started, and
    what it found there (docs/stewards/second-community.md)."""

    address: str
    creators: list[str] = Field(description="The creators whose communities the service serves; nobody else's")
    served: int = Field(description="Communities created through the factory that the service serves")
    max_served: int = Field(description="The most it serves (follow_max_communities)")
    left_out: int = Field(description="Communities of those creators left out because max_served was reached")
    refused: dict[str, str] = Field(
        description="Slugs created through the factory and not served, with why (the deployments file serves another "
        "community under the same slug)"
    )
    error: str | None = Field(description="Why reading the factory's events fails now; null when it does not")


class CommunityIndexOut(BaseModel):
    """How far one community's index is, and how its indexing goes."""

    indexed_block: int = Field(description="The last block indexed")
    lag_blocks: int = Field(
        description="Blocks between the last indexed and the newest the index may hold "
        "(the head minus the confirmation depth)"
    )
    lag_seconds: int | None = Field(description="Chain time between those two blocks; null if unknown")
    error: str | None = Field(
        description="Why the last attempt to index this community failed; null once an attempt succeeds"
    )
    error_at: int | None = Field(description="When (unix seconds) that attempt failed")
    last_error: str | None = Field(description="The newest error, kept after recovery (a set-aside event is one)")
    last_error_at: int | None
    synced_at: int | None = Field(description="When (unix seconds) this process last indexed it without error")
    set_aside: int = Field(description="Events of this community set aside: the index lacks them")


class SetAsideOut(BaseModel):
    """An event the index could not store and skipped; the raw log is kept in the index's
    `set_aside` table, and a reindex tries it again."""

    community: str
    block_number: int
    log_index: int
    tx_hash: str
    contract: str
    event: str
    error: str
    set_aside_at: int = Field(description="Unix seconds")


class HealthOut(BaseModel):
    """The chain and the index. `status` is "ok" only when every community is indexed to within
    `max_lag_blocks` of the newest block it may hold, nothing is failing and no event was set
    aside; otherwise "degraded", and `reasons` says why. The answer is 200 either way; 503 when
    the chain node cannot be reached."""

    status: Literal["ok", "degraded"]
    reasons: list[str] = Field(description="Why the status is degraded, in words; empty when ok")
    chain_id: int
    head_block: int
    confirmations: int = Field(description="Blocks the index stays behind the head on purpose")
    indexed_block: int | None = Field(description="The least indexed block over all communities")
    indexed_blocks: dict[str, int] = Field(description="The last block indexed, per community")
    lag_blocks: int = Field(description="The largest lag in blocks over all communities")
    lag_seconds: int | None = Field(description="The largest lag in chain seconds over all communities")
    max_lag_blocks: int = Field(description="The lag in blocks still called ok")
    indexer_error: str | None = Field(
        description="The current indexing error, if any (the chain head unreadable, or '<community>: <error>')"
    )
    last_error: str | None = Field(description="The newest indexing error, kept after recovery")
    last_error_at: int | None = Field(description="When (unix seconds) it happened")
    communities: dict[str, CommunityIndexOut]
    set_aside: int = Field(description="Events set aside over all communities")
    set_aside_recent: list[SetAsideOut] = Field(description="The newest set-aside events (at most 10)")
    factory: FactoryFollowingOut | None = Field(
        default=None, description="The community factory followed; null when the deployments file names none"
    )
