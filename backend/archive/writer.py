"""An archive written from an index: the service's own (GET .../archive, `commons export --all`) or
one rebuilt from the chain (`commons archive verify`), by the same code, so that the two can be
compared byte for byte.

Rows are read a batch at a time in one read transaction (a snapshot: the indexer may go on
writing, the archive is as of the block the snapshot's cursor says) and written a line at a time:
however long the history, memory holds a batch, not the archive."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import ColumnElement, Select, Table, and_, exists, select
from sqlalchemy.engine import Connection, Engine

from backend.archive.schemas import (
    KINDS,
    ArchivedCommunity,
    ArchiveEnd,
    ArchiveHeader,
    AsOf,
    AttestationRecord,
    BadgeRecord,
    CaptureRulesRecord,
    ChainEventRecord,
    CheckpointRecord,
    ClaimRecord,
    IndicatorRecord,
    IndicatorVersionRecord,
    InvitationRecord,
    LinkedAccountRecord,
    MemberRecord,
    OrganisationRecord,
    ProposalRecord,
    Record,
    SetAsideRecord,
    SettingRecord,
    VoteRecord,
    VouchRecord,
)
from backend.chain.deployments import Community
from backend.errors import DomainError
from backend.i18n import N_
from backend.i18n import gettext as _
from backend.indexer import models

# Rows fetched at a time (a server-side cursor on PostgreSQL).
BATCH = 1000


class NotIndexed(DomainError):
    """The index has not reached the community yet: there is no block to say the archive is as of."""

    status = 503
    title = N_("Not indexed yet")
    type = "not-indexed"


@dataclass(frozen=True)
class Source:
    """Where one kind of record is read from: its table, and the columns named otherwise there."""

    record: type[Record]
    table: Table
    renames: dict[str, str] = field(default_factory=dict)
    # Which rows are left out (None: none), given the table.
    listed: Callable[[Table], ColumnElement[bool]] | None = None

    @property
    def kind(self) -> str:
        return self.record.model_fields["kind"].default

    def column(self, name: str):
        return self.table.c[self.renames.get(name, name)]

    def query(self, community: str, dialect: str) -> Select:
        fields = [name for name in self.record.model_fields if name != "kind"]
        # Text keys (addresses, names) in code point order on every database: PostgreSQL's default
        # collation would order checksummed addresses otherwise than SQLite, and than Python.
        keys = [self.column(name) for name in self.record.key]
        keys = [key.collate("C") if dialect == "postgresql" and _is_text(key) else key for key in keys]
        query = select(*(self.column(name).label(name) for name in fields)).where(self.table.c.community == community)
        if self.listed is not None:
            query = query.where(self.listed(self.table))
        return query.order_by(self.column("block_number"), self.column("log_index"), *keys)


def _is_text(column) -> bool:
    try:
        return column.type.python_type is str
    except NotImplementedError:
        return False


def _table(model: type) -> Table:
    return model.__table__  # type: ignore[attr-defined]  # a declarative model's table


def _shown(members: Table) -> ColumnElement[bool]:
    return members.c.profile_hidden.is_(False)


def _of_shown_member(linked: Table) -> ColumnElement[bool]:
    members = _table(models.Member)
    return ~exists().where(
        and_(
            members.c.community == linked.c.community,
            members.c.address == linked.c.address,
            members.c.profile_hidden.is_(True),
        )
    )


# A member who hid their profile is named in no list the service makes, its downloads among them
# (docs/members/hiding.md): their member and linked account records are left out. Their events stay,
# as on chain, and so do the records they take part in (claims, votes, badges...), as on every page.
SOURCES = (
    Source(SettingRecord, _table(models.Setting)),
    Source(MemberRecord, _table(models.Member), listed=_shown),
    Source(LinkedAccountRecord, _table(models.LinkedAccount), listed=_of_shown_member),
    Source(InvitationRecord, _table(models.Invitation)),
    Source(VouchRecord, _table(models.Vouch)),
    Source(IndicatorRecord, _table(models.Indicator)),
    Source(IndicatorVersionRecord, _table(models.IndicatorVersion)),
    Source(OrganisationRecord, _table(models.Organisation)),
    Source(CaptureRulesRecord, _table(models.CaptureRulesDocument)),
    Source(ProposalRecord, _table(models.Proposal), {"block_number": "created_block"}),
    Source(VoteRecord, _table(models.Vote)),
    Source(ClaimRecord, _table(models.Claim)),
    Source(AttestationRecord, _table(models.Attestation)),
    Source(BadgeRecord, _table(models.Badge)),
    Source(CheckpointRecord, _table(models.Checkpoint)),
    Source(ChainEventRecord, _table(models.EventRecord)),
    Source(SetAsideRecord, _table(models.SetAside)),
)
assert tuple(source.record for source in SOURCES) == KINDS

# Columns of the index an archive leaves out, and why: tests/backend/test_archive.py fails on any
# other column no record carries.
LEFT_OUT = {
    "community": "the header names the community",
    "linked_accounts.handle_folded": "the handle folded to lower case: derived from the handle",
    "events.id": "the index's own numbering",
    "set_aside.error": "the index's words for why it could not store the event, not the chain's",
    "set_aside.set_aside_at": "when the index set it aside, by the wall clock",
}
# Tables an archive leaves out, and why.
TABLES_LEFT_OUT = {
    "cursors": "the header's as_of is the community's",
    "row_counts": "the index's own listing totals",
    "schema_stamp": "the index's own version",
    "created_communities": "the communities the service serves from the factory: the service's, not one community's "
    "(an archive's header names its community's contracts)",
    "created_communities_left_out": "how many of them the service left out past its cap: the service's",
    "records_moves": "the moves of the records to later versions of the badge contract: its RecordsMoved and "
    "RecordsCarried events, which the archive holds, say the same (the header names the contracts as deployed)",
}


def canonical(line: ArchiveHeader | Record | ArchiveEnd) -> bytes:
    """One line: JSON with sorted keys, no spaces, UTF-8, and a newline."""
    return json_line(line.model_dump(mode="json"))


def json_line(value: Any) -> bytes:
    return (json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection whose reads all see the index as it was at the first: every table as of the
    same cursor, while the indexer goes on writing."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ")
        else:  # pysqlite begins a transaction only before a write: begun here, the first read fixes it
            connection.exec_driver_sql("BEGIN")
        try:
            yield connection
        finally:
            connection.rollback()


class Archive:
    """A community's archive from an index, line by line; `header` and `end` once read."""

    def __init__(self, connection: Connection, community: Community, chain_id: int) -> None:
        self.connection = connection
        self.community = community
        self.chain_id = chain_id
        self.header: ArchiveHeader | None = None
        self.end: ArchiveEnd | None = None

    def as_of(self) -> AsOf:
        cursor = self.connection.execute(
            select(models.Cursor).where(models.Cursor.community == self.community.slug)
        ).first()
        if cursor is None or cursor.block_hash is None:
            raise NotIndexed(
                _(
                    "The index has not reached community %(slug)s yet: try again in a few seconds",
                    slug=self.community.slug,
                ),
                retry_after=5,
            )
        return AsOf(block_number=cursor.block_number, block_hash=cursor.block_hash, timestamp=cursor.block_timestamp)

    def __iter__(self) -> Iterator[bytes]:
        community = self.community
        self.header = ArchiveHeader(
            chain_id=self.chain_id,
            community=ArchivedCommunity(
                slug=community.slug,
                name=community.name,
                deployment_block=community.deployment_block,
                # As deployed: a move of the records to a later version is among the events, and a
                # rebuild from the chain finds it there (backend/indexer/versions.py).
                contracts=community.as_deployed().contracts,
            ),
            as_of=self.as_of(),
        )
        digest, counts = hashlib.sha256(), {}
        line = canonical(self.header)
        digest.update(line)
        yield line
        dialect = self.connection.dialect.name
        for source in SOURCES:
            count = 0
            query = source.query(community.slug, dialect).execution_options(yield_per=BATCH)
            for row in self.connection.execute(query):
                line = canonical(source.record.model_validate(dict(row._mapping)))
                digest.update(line)
                count += 1
                yield line
            counts[source.kind] = count
        self.end = ArchiveEnd(records=counts, sha256=digest.hexdigest())
        yield canonical(self.end)


@dataclass(frozen=True)
class Written:
    header: ArchiveHeader
    end: ArchiveEnd
    size: int  # bytes


def write(engine: Engine, community: Community, chain_id: int, out: IO[bytes]) -> Written:
    """The community's archive, from the index behind `engine` as it stands, into `out`."""
    size = 0
    with snapshot(engine) as connection:
        archive = Archive(connection, community, chain_id)
        for line in archive:
            out.write(line)
            size += len(line)
    assert archive.header is not None and archive.end is not None
    return Written(archive.header, archive.end, size)
