"""The archive's format and its comparison, over indexes written here row by row (the e2e test,
tests/e2e/test_archive.py, writes them from a real chain): every column of the index archived or
left out for a reason; the same rows give the same bytes on SQLite and PostgreSQL, whatever order
they were stored in; a long history is written a batch at a time (its memory measured); and each
way an archive can be altered is named as the record it alters."""

from __future__ import annotations

import hashlib
import json
import random
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from backend.archive import writer
from backend.archive.restore import index_held
from backend.archive.schemas import FORMAT, KINDS, VERSION
from backend.archive.verify import NotAnArchive, compare, read_header, summary
from backend.chain.deployments import Community
from backend.indexer import models
from backend.indexer.db import make_engine, make_sessionmaker
from tests.e2e.conftest import _postgres_database

COMMUNITY = Community(
    slug="example",
    name="Example Commons",
    deployment_block=1,
    contracts={"membership": "0x" + "1" * 40, "badge": "0x" + "2" * 40},
)
CHAIN_ID = 31337


def _hash(n: int) -> str:
    return f"0x{n:064x}"


def _address(n: int, case: str = "lower") -> str:
    digits = f"{n:040x}".replace("0", "a")
    return "0x" + (digits.upper() if case == "upper" else digits)


def _rows() -> list[object]:
    """One of every kind of record, with what tests the writer: ties in chain order (settings set by
    one event, in an order where collations disagree), addresses in mixed case, text that was not
    UTF-8 (with its bytes), a uint256 id, nested event arguments, nulls and booleans."""
    c = COMMUNITY.slug
    at = lambda block, log=0: {"block_number": block, "log_index": log, "tx_hash": _hash(block * 100 + log)}  # noqa: E731
    alice, bob, hidden = _address(0xA11CE), _address(0xB0B, "upper"), _address(0x41DDE)
    proposal_id = str(2**255 + 12345)
    rows: list[object] = [
        models.Cursor(community=c, block_number=40, block_timestamp=4_000, block_hash=_hash(40)),
        # PostgreSQL's usual collation orders these vouches_required, vouch_cap, vouch_period; code points do not.
        *(
            models.Setting(community=c, name=name, value=str(value), **at(3))
            for name, value in (("vouches_required", 2), ("vouch_cap", 3), ("vouch_period", 86_400))
        ),
        models.Setting(community=c, name="guardian", value=str(int(bob, 16)), **at(5, 1)),
        models.Member(community=c, address=bob, active=True, admitted_at=200, votes=1, delegate=bob, **at(2, 0)),
        models.Member(
            community=c,
            address=alice,
            active=False,
            admitted_at=200,
            removed_at=900,
            votes=0,
            name="Al\ufffdce",
            name_raw="0x416ce963",
            **at(2, 3),
        ),
        models.LinkedAccount(community=c, address=alice, site="github", handle="al", handle_folded="al", **at(6)),
        # A member who hid their profile, and their linked account: in no list.
        models.Member(
            community=c, address=hidden, admitted_at=200, votes=1, profile_hidden=True, name="Hid", **at(2, 5)
        ),
        models.LinkedAccount(community=c, address=hidden, site="gitlab", handle="hid", handle_folded="hid", **at(6, 1)),
        models.Invitation(
            community=c,
            address=_address(0x1F),
            inviter=alice,
            name="Zoë",
            created_at=600,
            expires_at=9_000,
            **at(7),
        ),
        models.Vouch(community=c, candidate=_address(0x1F), voucher=bob, epoch=0, vouches=1, timestamp=700, **at(8)),
        models.Indicator(community=c, indicator_id=1, version=2, active=True, created_at=300, **at(9)),
        *(
            models.IndicatorVersion(
                community=c,
                indicator_id=1,
                version=version,
                name=f"Mentoring v{version}",
                description_uri="ipfs://mentoring",
                category="mentoring",
                orientation="community",
                weight=5,
                endorsements_required=2,
                validity=0,
                defined_at=300 * version,
                **at(9 + version),
            )
            for version in (1, 2)
        ),
        models.Organisation(
            community=c,
            organisation_id=1,
            name="Acme",
            identifier="https://acme.example",
            active=True,
            added_at=350,
            **at(12),
        ),
        models.CaptureRulesDocument(community=c, digest=_hash(7), rules="{}", set_at=360, **at(13)),
        models.Proposal(
            community=c,
            proposal_id=proposal_id,
            proposer=alice,
            targets=[_address(0x2)],
            values=["0"],
            calldatas=["0x12345678"],
            description="Mentoring counts",
            vote_start=400,
            vote_end=700,
            created_at=390,
            created_block=14,
            log_index=2,
            tx_hash=_hash(1402),
            for_votes=2,
            executed_at=800,
        ),
        models.Vote(
            community=c,
            proposal_id=proposal_id,
            voter=bob,
            support=1,
            weight=1,
            reason="yes",
            timestamp=450,
            **at(15),
        ),
        models.Checkpoint(community=c, name="members", timestamp=200, value=2, **at(2, 1)),
        models.SetAside(
            community=c,
            block_number=33,
            log_index=0,
            tx_hash=_hash(3300),
            timestamp=3_300,
            contract="badge",
            name="ClaimSubmitted",
            error="why the index could not store it",
            topics=[_hash(1)],
            data="0x00",
            set_aside_at=123,
        ),
    ]
    for claim_id in range(1, 4):
        block = 20 + claim_id
        rows += [
            models.Claim(
                community=c,
                claim_id=claim_id,
                contributor=alice,
                submitter=alice,
                indicator_id=1,
                indicator_version=2,
                evidence_hash=_hash(claim_id),
                evidence_uri=f"https://x.example/{claim_id}",
                attestations=1,
                minted=claim_id != 3,
                created_at=block * 10,
                **at(block),
            ),
            models.Attestation(
                community=c, claim_id=claim_id, attester=bob, count=1, timestamp=block * 10, **at(block, 1)
            ),
            models.EventRecord(
                community=c,
                block_number=block,
                log_index=0,
                tx_hash=_hash(block * 100),
                timestamp=block * 10,
                contract="badge",
                name="ClaimSubmitted",
                args={"claimId": claim_id, "evidenceURI": f"https://x.example/{claim_id}", "tags": [1, "é"]},
            ),
        ]
        if claim_id != 3:
            rows.append(
                models.Badge(
                    community=c,
                    token_id=claim_id,
                    owner=alice,
                    contributor=alice,
                    indicator_id=1,
                    indicator_version=2,
                    weight=5,
                    validity=0,
                    orientation="community",
                    category="mentoring",
                    minted_at=block * 10,
                    held_since=block * 10,
                    **at(block, 2),
                )
            )
    return rows


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'index.sqlite3'}"
        return
    url, cleanup = _postgres_database()
    try:
        yield url
    finally:
        cleanup()


def _stored(url: str, rows: list[object]) -> Engine:
    sessions = make_sessionmaker(make_engine(url))
    with sessions.begin() as session:
        session.add_all(rows)
    return sessions.kw["bind"]


def _archive(engine: Engine) -> bytes:
    with writer.snapshot(engine) as connection:
        return b"".join(writer.Archive(connection, COMMUNITY, CHAIN_ID))


def _lines(archive: bytes) -> list[dict]:
    return [json.loads(line) for line in archive.splitlines()]


# ---------------------------------------------------------------------- the format


def test_every_column_of_the_index_is_archived_or_left_out_for_a_reason():
    archived = {source.table.name for source in writer.SOURCES}
    tables = {table.name for table in models.Base.metadata.sorted_tables}
    assert tables - archived <= set(writer.TABLES_LEFT_OUT), "a table of the index is neither archived nor left out"
    for source in writer.SOURCES:
        fields = {source.renames.get(name, name) for name in source.record.model_fields if name != "kind"}
        for column in source.table.columns:
            if column.name in fields:
                continue
            assert column.name in writer.LEFT_OUT or f"{source.table.name}.{column.name}" in writer.LEFT_OUT, (
                f"{source.table.name}.{column.name} is in no archive record: archive it (and change "
                f"backend/archive/schemas.py's VERSION) or name it in writer.LEFT_OUT with the reason"
            )
        assert fields <= {column.name for column in source.table.columns}


def test_the_same_rows_give_the_same_bytes_on_sqlite_and_postgresql_in_whatever_order_stored(tmp_path, database):
    rows = _rows()
    expected = _archive(_stored(f"sqlite:///{tmp_path / 'in-order.sqlite3'}", _rows()))
    random.Random(7).shuffle(rows)
    engine = _stored(database, rows)
    assert _archive(engine) == expected
    assert _archive(engine) == expected  # and again

    lines = _lines(expected)
    header, records, end = lines[0], lines[1:-1], lines[-1]
    assert (header["kind"], header["format"], header["version"], header["chain_id"]) == (
        "header",
        FORMAT,
        VERSION,
        CHAIN_ID,
    )
    assert header["as_of"] == {"block_number": 40, "block_hash": _hash(40), "timestamp": 4_000}
    assert header["community"]["contracts"] == COMMUNITY.contracts
    # Every line canonical: keys sorted, no spaces, UTF-8 (not \u escapes).
    for raw in expected.splitlines():
        assert raw == json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert "Zoë".encode() in expected
    # Every record tied to its event; the kinds in the format's order; each kind in chain order, then by key.
    kinds = [model.model_fields["kind"].default for model in KINDS]
    assert all(isinstance(r[k], int) for r in records for k in ("block_number", "log_index"))
    assert all(isinstance(r["tx_hash"], str) and r["tx_hash"] for r in records)
    order = [(kinds.index(r["kind"]), r["block_number"], r["log_index"]) for r in records]
    assert order == sorted(order)
    settings = [r["name"] for r in records if r["kind"] == "setting"]
    assert settings == ["vouch_cap", "vouch_period", "vouches_required", "guardian"]  # code points, then chain
    members = [r["address"] for r in records if r["kind"] == "member"]
    assert members == [_address(0xB0B, "upper"), _address(0xA11CE)]  # chain order; the hidden one in no list
    assert [r["address"] for r in records if r["kind"] == "linked_account"] == [_address(0xA11CE)]
    proposal = next(r for r in records if r["kind"] == "proposal")
    assert proposal["proposal_id"] == str(2**255 + 12345) and proposal["block_number"] == 14
    event = next(r for r in records if r["kind"] == "event")
    assert event["args"] == {"claimId": 1, "evidenceURI": "https://x.example/1", "tags": [1, "é"]}
    set_aside = next(r for r in records if r["kind"] == "set_aside")
    assert "error" not in set_aside and "set_aside_at" not in set_aside  # the index's, not the chain's
    assert end["kind"] == "end" and end["records"]["claim"] == 3 and end["records"]["badge"] == 2
    assert sum(end["records"].values()) == len(records)
    before_end = expected[: expected.rindex(b"\n", 0, len(expected) - 1) + 1]
    assert end["sha256"] == hashlib.sha256(before_end).hexdigest()


def test_an_index_that_has_not_reached_the_community_has_no_archive(tmp_path):
    engine = _stored(f"sqlite:///{tmp_path / 'index.sqlite3'}", [])
    with pytest.raises(writer.NotIndexed) as caught:
        _archive(engine)
    assert "has not reached community example yet" in caught.value.detail


# ---------------------------------------------------------------------- a long history


class _Counted:
    """A file that counts what is written to it and keeps nothing."""

    size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)


def _long_history(url: str, claims: int) -> Engine:
    engine = _stored(url, _rows())
    alice = _address(0xA11CE)
    claim_rows = [
        {
            "community": COMMUNITY.slug,
            "claim_id": 1000 + n,
            "contributor": alice,
            "submitter": alice,
            "indicator_id": 1,
            "indicator_version": 2,
            "evidence_hash": _hash(n),
            "evidence_uri": f"https://forum.example.org/t/a-long-history/{n}",
            "attestations": 0,
            "minted": False,
            "created_at": n,
            "block_number": 100 + n,
            "log_index": 0,
            "tx_hash": _hash(n),
        }
        for n in range(claims)
    ]
    event_rows = [
        {
            "community": COMMUNITY.slug,
            "block_number": 100 + n,
            "log_index": 0,
            "tx_hash": _hash(n),
            "timestamp": n,
            "contract": "badge",
            "name": "ClaimSubmitted",
            "args": {"claimId": 1000 + n, "evidenceURI": f"https://forum.example.org/t/a-long-history/{n}"},
        }
        for n in range(claims)
    ]
    with engine.begin() as connection:
        connection.execute(insert(models.Claim.__table__), claim_rows)
        connection.execute(insert(models.EventRecord.__table__), event_rows)
    return engine


def _peak(engine: Engine) -> tuple[int, int, float]:
    """(peak bytes allocated while writing, archive bytes, seconds)."""
    sink = _Counted()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        writer.write(engine, COMMUNITY, CHAIN_ID, sink)  # type: ignore[arg-type]  # a file enough for write()
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, sink.size, seconds


def test_a_long_history_is_written_a_batch_at_a_time(tmp_path, record_property):
    """Four times the history, about the same memory: the archive is never held whole."""
    small = _peak(_long_history(f"sqlite:///{tmp_path / 'small.sqlite3'}", 2_000))
    large = _peak(_long_history(f"sqlite:///{tmp_path / 'large.sqlite3'}", 8_000))
    record_property(
        "summary",
        f"archive of 16,000 records: {large[1] / 1e6:.1f} MB in {large[2]:.1f} s (traced), "
        f"peak Python memory {large[0] / 1e6:.2f} MB (4,000 records: {small[0] / 1e6:.2f} MB)",
    )
    assert large[1] > 3.5 * small[1]
    assert large[0] < small[0] * 1.5 + 1_000_000, (small, large)
    assert large[0] < large[1] / 4


# ---------------------------------------------------------------------- what an altered archive is told


@pytest.fixture
def archived(tmp_path) -> bytes:
    return _archive(_stored(f"sqlite:///{tmp_path / 'index.sqlite3'}", _rows()))


def _line_of(archive: bytes, kind: str, **fields) -> int:
    """The index (from 0) of the first line of `kind` whose fields are `fields`."""
    for index, line in enumerate(_lines(archive)):
        if line["kind"] == kind and all(line.get(k) == v for k, v in fields.items()):
            return index
    raise AssertionError(f"no {kind} {fields}")


def _altered(archive: bytes, index: int, change) -> bytes:
    lines = archive.splitlines(keepends=True)
    changed = change(lines[index])
    return b"".join(lines[:index] + ([changed] if changed is not None else []) + lines[index + 1 :])


def _edit(**fields):
    def change(raw: bytes) -> bytes:
        return writer.json_line({**json.loads(raw), **fields})

    return change


def test_the_same_archive_matches(archived):
    result = compare(archived.splitlines(keepends=True), archived.splitlines(keepends=True))
    assert result.matches and result.records == len(archived.splitlines()) - 2
    assert summary(result).startswith("The archive matches the chain: ")


def test_a_field_altered_is_named_with_its_record_and_both_values(archived):
    index = _line_of(archived, "claim", claim_id=2)
    tampered = _altered(archived, index, _edit(evidence_uri="https://evil.example/2"))
    result = compare(tampered.splitlines(keepends=True), archived.splitlines(keepends=True))
    assert not result.matches
    assert result.differences[0] == (
        f'line {index + 1}: claim 2 differs: evidence_uri is "https://evil.example/2" in the archive but '
        f'"https://x.example/2" on the chain'
    )
    # The end line was left as written: it is the chain's (the altered line is what differs).
    assert result.count == 1 and "in 1 place:" in summary(result)


def test_a_record_moved_to_another_block_is_still_one_record_that_differs(archived):
    index = _line_of(archived, "badge", token_id=1)
    result = compare(
        _altered(archived, index, _edit(block_number=39)).splitlines(keepends=True),
        archived.splitlines(keepends=True),
    )
    assert result.differences[0] == (
        f"line {index + 1}: badge 1 differs: block_number is 39 in the archive but 21 on the chain"
    )


def test_a_record_removed_or_added_is_named(archived):
    index = _line_of(archived, "vote")
    removed = compare(
        _altered(archived, index, lambda raw: None).splitlines(keepends=True), archived.splitlines(keepends=True)
    )
    voter = _address(0xB0B, "upper")
    assert removed.differences[0] == (
        f"the vote of {voter} on proposal {2**255 + 12345} is on the chain but not in the archive"
    )
    index = _line_of(archived, "organisation")
    added = compare(
        _altered(archived, index, lambda raw: raw + _edit(organisation_id=2, name="Sham")(raw)).splitlines(
            keepends=True
        ),
        archived.splitlines(keepends=True),
    )
    assert added.differences[0] == f"line {index + 2}: organisation 2 is in the archive but not on the chain"


def test_the_same_values_written_otherwise_are_told_apart(archived):
    index = _line_of(archived, "member", address=_address(0xA11CE))
    spaced = _altered(
        archived, index, lambda raw: json.dumps(json.loads(raw), indent=1).encode().replace(b"\n", b"") + b"\n"
    )
    result = compare(spaced.splitlines(keepends=True), archived.splitlines(keepends=True))
    assert result.differences[0] == (
        f"line {index + 1}: the member {_address(0xA11CE)} holds the same values, written otherwise than an "
        "export writes them"
    )


def test_text_that_was_not_utf8_keeps_its_bytes_and_an_altered_raw_is_named(archived):
    index = _line_of(archived, "member", address=_address(0xA11CE))
    assert _lines(archived)[index]["name"] == "Al\ufffdce" and _lines(archived)[index]["name_raw"] == "0x416ce963"
    result = compare(
        _altered(archived, index, _edit(name_raw="0x416c696365")).splitlines(keepends=True),
        archived.splitlines(keepends=True),
    )
    assert 'name_raw is "0x416c696365" in the archive but "0x416ce963" on the chain' in result.differences[0]


def test_an_archive_cut_short_garbled_or_run_on_is_said_so(archived):
    lines = archived.splitlines(keepends=True)
    chain = archived.splitlines(keepends=True)
    cut = compare(lines[:-5], chain)
    assert cut.differences[0] == "the archive ends without its end line: it is incomplete (a download cut short?)"
    assert any("is on the chain but not in the archive" in d for d in cut.differences)
    garbled = compare([*lines[:3], b"{not json\n", *lines[3:]], chain)
    assert garbled.differences[0].startswith("line 4 is not a line of an archive: ")
    run_on = compare([*lines, b'{"kind":"end","records":{},"sha256":""}\n'], chain)
    assert run_on.differences == [f"line {len(lines) + 1} comes after the end line"]


def test_a_file_that_is_not_an_archive_is_refused_in_words(tmp_path, archived):
    path = tmp_path / "file.jsonl"
    for content, said in (
        (b"", "is empty: not an archive"),
        (b"id,name\n1,x\n", "is not an archive: its first line is not an archive's header"),
        (b'{"format":"contribution-commons-archive","version":99}\n', "an archive of version 99 of the format; this"),
        (b'{"format":"contribution-commons-archive","version":1,"kind":"header"}\n', "has a malformed header"),
    ):
        path.write_bytes(content)
        with pytest.raises(NotAnArchive) as caught:
            read_header(path)
        assert said in str(caught.value), caught.value
    path.write_bytes(archived)
    assert read_header(path).as_of.block_number == 40
    with pytest.raises(NotAnArchive):
        read_header(Path(tmp_path / "missing.jsonl"))


# ---------------------------------------------------------------------- restoring


def test_a_database_with_an_index_is_told_from_an_empty_one(tmp_path, database):
    engine = make_engine(database)
    assert index_held(engine) is None  # no tables at all
    sessions = make_sessionmaker(engine)
    assert index_held(engine) is None  # the tables of a service that never indexed
    with sessions.begin() as session:
        session.add(models.SetAside(**{c.name: 1 for c in models.SetAside.__table__.columns} | _set_aside()))
    assert index_held(engine) == "rows of the index in its table set_aside"
    with sessions.begin() as session:
        session.add(models.Cursor(community="example", block_number=1234, block_timestamp=1, block_hash=_hash(1)))
    assert index_held(engine) == "an index of example up to block 1,234"
    engine.dispose()


def _set_aside() -> dict:
    return {
        "community": "example",
        "tx_hash": _hash(1),
        "contract": "badge",
        "name": "X",
        "error": "",
        "topics": [],
        "data": "0x",
    }
