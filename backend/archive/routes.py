"""GET .../archive: the community's whole history as one archive (docs/developers/archive.md).

An archive reads every row the community has, so it is written once and kept: into a file of its
own, by one request at a time per community (the others wait their turn without holding a thread),
then sent from the file to each request that asked for it meanwhile or later while it is the latest.
The index's snapshot is held only while the file is written, never while a slow client reads, and
memory holds a batch of rows and a chunk of the file. Asked a thousand times a second, the service
writes it once per change of the index at most, and answers the rest from the file; a client that
has it already (If-None-Match with its ETag) gets 304 and no body."""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Annotated

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse

from backend.archive import writer
from backend.archive.schemas import ArchiveLine, AsOf
from backend.chain.deployments import Community
from backend.context import Context
from backend.dependencies import CommunityDep, ContextDep

log = logging.getLogger(__name__)
router = APIRouter(tags=["archive"])

MEDIA_TYPE = "application/jsonl"
CHUNK = 64 * 1024
# A kept archive older than this is written again once the index moved, even for a request that
# asked before it was written (a chain reset may have moved the index back and on again since).
KEPT_SECONDS = 60.0


class JsonLines(StreamingResponse):
    media_type = MEDIA_TYPE


@dataclass(frozen=True)
class Kept:
    path: Path
    written: writer.Written
    at: float  # monotonic, when it was written

    @property
    def as_of(self) -> AsOf:
        return self.written.header.as_of

    @property
    def etag(self) -> str:
        return f'"{self.written.end.sha256}"'


class Archives:
    """The latest archive of each community, kept in a temporary folder of this process."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="commons-archives-")
        self.folder = Path(self._folder.name)
        self.locks: dict[str, asyncio.Lock] = {}
        self.latest: dict[str, Kept] = {}

    def lock(self, slug: str) -> asyncio.Lock:
        return self.locks.setdefault(slug, asyncio.Lock())

    def fresh_enough(self, kept: Kept | None, asked: AsOf, now: AsOf) -> bool:
        """Whether the kept archive answers a request that found the index at `asked` and finds it
        at `now`: it is the index as it stands, or it was written since the request asked."""
        if kept is None:
            return False
        if kept.as_of == now:
            return True
        return (
            asked.block_number <= kept.as_of.block_number <= now.block_number
            and time.monotonic() - kept.at < KEPT_SECONDS
        )

    def write(self, ctx: Context, community: Community) -> Kept:
        """The community's archive written anew from the index (in a worker thread), kept in place
        of the one before."""
        handle, name = tempfile.mkstemp(prefix=f"{community.slug}-", suffix=".jsonl", dir=self.folder)
        path = Path(name)
        started = time.monotonic()
        try:
            with os.fdopen(handle, "wb") as out:
                written = writer.write(ctx.sessions.kw["bind"], community, ctx.deployments.chain_id, out)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        log.info(
            "archive of community %s as of block %s written: %s records, %s bytes in %.2f s",
            community.slug,
            written.header.as_of.block_number,
            sum(written.end.records.values()),
            written.size,
            time.monotonic() - started,
        )
        before = self.latest.get(community.slug)
        self.latest[community.slug] = Kept(path, written, time.monotonic())
        if before is not None:
            before.path.unlink(missing_ok=True)  # a response still sending it holds it open
        return self.latest[community.slug]


def _archives(request: Request) -> Archives:
    state = request.app.state
    if getattr(state, "archives", None) is None:
        state.archives = Archives()
    return state.archives


def _as_of(ctx: Context, community: Community) -> AsOf:
    with writer.snapshot(ctx.sessions.kw["bind"]) as connection:
        return writer.Archive(connection, community, ctx.deployments.chain_id).as_of()


async def _chunks(file: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := await run_in_threadpool(file.read, CHUNK):
            yield chunk
    finally:
        file.close()


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


_DESCRIPTION = (
    "The community's archive: JSON Lines, one JSON document per line in canonical form (keys sorted, no "
    "spaces, UTF-8). The first line is the header (format, version, chain id, the community's contracts and "
    "deployment block, the block the archive is as of); then every record by kind (settings, members, linked "
    "accounts, invitations, vouches, indicators and every version, organisations, capture rules, proposals, "
    "votes, claims, attestations, badges, checkpoints, every event, events set aside), each tied to the block, "
    "log index and transaction of the event that made it; then the end line (counts and the SHA-256 of the "
    "bytes before it). Each line matches this schema. Two archives of the same chain as of the same block are "
    "the same bytes; `commons archive verify` checks one against the chain alone."
)


@router.get(
    "/archive",
    response_class=JsonLines,
    responses={
        200: {
            "model": ArchiveLine,
            "description": _DESCRIPTION,
            "headers": {
                "ETag": {"description": "The archive's SHA-256 (its end line's)", "schema": {"type": "string"}},
                "Content-Disposition": {"schema": {"type": "string"}},
            },
        },
        304: {"description": "If-None-Match named this archive's ETag: the client has it already"},
    },
    # Each line is an object (FastAPI would say the body is a string, as it does for any stream).
    openapi_extra={"responses": {"200": {"content": {MEDIA_TYPE: {"schema": {"type": "object"}}}}}},
)
async def archive(
    request: Request,
    ctx: ContextDep,
    community: CommunityDep,
    if_none_match: Annotated[
        str | None, Header(description="The ETag of an archive you have: 304 if it is still the latest")
    ] = None,
):
    """The community's whole history as one archive anyone can check against the chain (streamed; see
    docs/developers/archive.md). Written as of the block the index has reached, once per change of the index,
    and answered from that file while it is the latest."""
    archives = _archives(request)
    asked = await run_in_threadpool(_as_of, ctx, community)
    async with archives.lock(community.slug):
        kept = archives.latest.get(community.slug)
        now = await run_in_threadpool(_as_of, ctx, community)
        if not archives.fresh_enough(kept, asked, now):
            kept = await run_in_threadpool(archives.write, ctx, community)
        assert kept is not None
        # Opened under the lock: a newer archive may replace its path later, never this open file.
        file = kept.path.open("rb")
    if _matches(if_none_match, kept.etag):
        file.close()
        return Response(status_code=304, headers={"ETag": kept.etag})
    return JsonLines(
        _chunks(file),
        headers={
            "ETag": kept.etag,
            "Content-Length": str(kept.written.size),
            "Content-Disposition": (f'attachment; filename="{community.slug}-archive-{kept.as_of.block_number}.jsonl"'),
        },
    )
