"""What every domain's reads share: addresses from the path, the index's clock, pages and
listings bounded by their filters (Datasette's way: one read model for the JSON API and the
pages)."""

from __future__ import annotations

import time
from collections import namedtuple
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import UnaryExpression

from backend.chain.addresses import checksum
from backend.chain.deployments import Community
from backend.errors import InvalidRequest
from backend.i18n import gettext as _
from backend.indexer.models import (
    Cursor,
    RowCount,
)
from backend.indexer.projections import COUNTED


def address_of(value: str) -> str:
    try:
        return checksum(value)
    except ValueError as exc:
        raise InvalidRequest(_("'%(value)s' is not an address", value=value)) from exc


def row_tuple(name: str, model: type) -> Any:
    """A named tuple of a model's every column, to read Core rows of its whole table as: looking a
    Row's field up by name costs ten times reading a tuple's. Typed Any: its fields are the table's."""
    return namedtuple(name, [column.key for column in model.__table__.columns])  # type: ignore[attr-defined]


def index_time(session: Session, community: Community) -> int:
    """The index's notion of now: the last indexed block's time, or the wall clock if later."""
    cursor = session.get(Cursor, community.slug)
    return max(int(time.time()), cursor.block_timestamp if cursor else 0)


def page(session: Session, query, limit: int, offset: int) -> tuple[list, int]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    return list(session.scalars(query.limit(limit).offset(offset))), total


class Listing(NamedTuple):
    page: Select
    page_after: Select
    total: Select  # (not `count`: a tuple's own method)
    cursor: str  # the column a page's `next_after` is read from


def listing(table, where: list, order) -> Listing:
    """A listing's statements: a page of the table's rows by offset (limit and offset bind
    parameters), a page after a cursor (limit and after: the rows past that id in the listing's
    order, found through the index however far down; an offset walks every row before it), and
    the count of them all: for all of a community's rows of a COUNTED table, the count the index
    keeps (RowCount); counted row by row, it grew with the index."""
    page = select(table).where(*where).order_by(order).limit(bindparam("limit")).offset(bindparam("offset"))
    descending = isinstance(order, UnaryExpression)  # column.desc()
    column = order.element if descending else order
    past = column < bindparam("after") if descending else column > bindparam("after")
    page_after = select(table).where(*where, past).order_by(order).limit(bindparam("limit"))
    if len(where) == 1 and table.name in {model.__tablename__ for model in COUNTED}:
        kept = (
            select(RowCount.value)
            .where(RowCount.community == bindparam("community"), RowCount.table_name == table.name)
            .scalar_subquery()
        )
        return Listing(page, page_after, select(func.coalesce(kept, 0)), column.key)
    return Listing(page, page_after, select(func.count()).select_from(table).where(*where), column.key)


def read_listing(
    session: Session, listing: Listing, params: dict, limit: int, offset: int, after: int | None = None
) -> tuple[list, int, int | None]:
    """A `listing`'s page of rows (by offset, or after a cursor), its total, and the cursor of
    the next page (None when this page is the last)."""
    connection = session.connection()
    if after is None:
        rows = connection.execute(listing.page, {**params, "limit": limit, "offset": offset}).all()
    else:
        rows = connection.execute(listing.page_after, {**params, "limit": limit, "after": after}).all()
    next_after = getattr(rows[-1], listing.cursor) if len(rows) == limit else None
    return list(rows), connection.execute(listing.total, params).scalar_one(), next_after


def unix(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds)
