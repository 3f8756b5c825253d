"""A page of /claims or /badges asked after a cursor is found through an index, whatever the
filter: SQLite's own query plan says it searches from the cursor in the listing's order, and
sorts nothing. An offset instead walks every row before the page (bench/decay measures both)."""

from __future__ import annotations

import pytest

from backend.badges import service as badge_reads
from backend.claims import service as claim_reads
from backend.indexer.db import make_engine, make_sessionmaker


def _plan(engine, statement) -> list[str]:
    """SQLite's plan of a statement, its bind parameters given values of their kind."""
    compiled = statement.compile(engine)
    values = compiled.construct_params(
        {
            "community": "c",
            "owner": "0x" + "ab" * 20,
            "contributor": "0x" + "ab" * 20,
            "after": 100,
            "limit": 50,
            "offset": 100,
            "indicator_id": 1,
        }
    )
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + str(compiled), tuple(values[name] for name in compiled.positiontup)
        )
        return [row[3] for row in rows]


# Each listing, and the terms its search must be bounded by besides the cursor: a filter left
# out of the search would walk the community's rows from the cursor to find the member's.
LISTINGS = {
    "claims": (claim_reads._claims_listing(None, False, False, False), ["community=?"]),
    "claims of a contributor": (
        claim_reads._claims_listing(None, False, False, True),
        ["community=?", "contributor=?"],
    ),
    "claims of an indicator": (
        claim_reads._claims_listing(None, False, True, False),
        ["community=?", "indicator_id=?"],
    ),
    "open claims": (claim_reads._claims_listing("open", False, False, False), ["community=?", "minted=?"]),
    "badges": (badge_reads._badges_listing(False), ["community=?"]),
    "badges of an owner": (badge_reads._badges_listing(True), ["community=?", "owner=?"]),
}


@pytest.mark.parametrize("name", LISTINGS)
@pytest.mark.parametrize("by", ["page_after", "page"])
def test_a_page_is_found_through_an_index_in_the_listings_order(tmp_path, name, by):
    """By cursor, the search starts at the cursor; by cursor or by offset, it is bounded by the
    listing's filter and sorts nothing (the index's order is the listing's)."""
    engine = make_sessionmaker(make_engine(f"sqlite:///{tmp_path / 'index.sqlite3'}")).kw["bind"]
    listing, bounded_by = LISTINGS[name]
    plan = _plan(engine, getattr(listing, by))
    assert plan and plan[0].startswith("SEARCH") and "USING" in plan[0], plan
    terms = plan[0][plan[0].index("(") + 1 : plan[0].rindex(")")].split(" AND ")
    assert set(bounded_by) <= set(terms), plan
    if by == "page_after":
        assert f"{listing.cursor}<?" in terms or f"{listing.cursor}>?" in terms, plan  # from the cursor on
    assert not any("TEMP B-TREE" in step for step in plan), plan
