"""A page of /claims or /badges asked after a cursor is found through an index, whatever the
filter: SQLite's own query plan says it searches from the cursor in the listing's order, and
sorts nothing. An offset instead walks every row before the page (bench/decay measures both)."""

from __future__ import annotations

import pytest

from backend.indexer.db import make_engine, make_sessionmaker
from backend.services import reads


def _plan(engine, statement) -> list[str]:
    """SQLite's plan of a statement, its bind parameters given values of their kind."""
    compiled = statement.compile(engine)
    values = compiled.construct_params({"community": "c", "owner": "0x" + "ab" * 20, "contributor": "0x" + "ab" * 20,
                                        "after": 100, "limit": 50, "indicator_id": 1})
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled),
                                          tuple(values[name] for name in compiled.positiontup))
        return [row[3] for row in rows]


LISTINGS = {
    "claims": reads._claims_listing(None, False, False, False),
    "claims of a contributor": reads._claims_listing(None, False, False, True),
    "open claims of an indicator": reads._claims_listing("open", False, True, False),
    "badges": reads._badges_listing(False),
    "badges of an owner": reads._badges_listing(True),
}


@pytest.mark.parametrize("name", LISTINGS)
def test_a_page_after_a_cursor_searches_from_it_through_an_index(tmp_path, name):
    engine = make_sessionmaker(make_engine(f"sqlite:///{tmp_path / 'index.sqlite3'}")).kw["bind"]
    listing = LISTINGS[name]
    plan = _plan(engine, listing.page_after)
    assert plan and plan[0].startswith("SEARCH") and "USING" in plan[0], plan
    assert f"{listing.cursor}<?" in plan[0] or f"{listing.cursor}>?" in plan[0], plan  # from the cursor on
    assert not any("TEMP B-TREE" in step for step in plan), plan  # the index's order is the listing's
