"""Do the service's reads slow down as a community grows? The same reads at two index sizes.

Run: `python -m bench.decay [--small 1000] [--large 10000]` (`make bench` runs it). Builds two
SQLite indexes with the service's own tables, one holding `--small` badges and one `--large`
(each with its claim and two attestations, spread over 40 members and 8 indicators), in which
one member holds the same 100 badges. Then times, in process (no HTTP, no chain: the index
alone), the reads a member makes: that member's profile, the first page of /claims, a page far
down it, the claims waiting for their attestation, their badges, an organisation's profile; and
the outbox's reads for a relayed write by that member when the outbox holds as many settled
requests of theirs as the index holds badges (nonces held, the same request again, budgets, in
flight). Beside each, raw SQL over the same file as the baseline. Prints p50 at each size and the ratio
large/small (issue 9: no read should slow by more than 1.2x from 0 to 10,000 badges). The
chain's own slowdown as it grows is measured apart by `bench.api` (Anvil), not here.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import insert

from backend.badges import service as badge_reads
from backend.claims import service as claim_reads
from backend.indexer.db import make_engine, make_sessionmaker
from backend.indexer.models import (
    Attestation,
    Badge,
    Claim,
    Cursor,
    Indicator,
    IndicatorVersion,
    Member,
    Organisation,
    RowCount,
)
from backend.indexer.projections import COUNTED
from backend.members import service as member_reads
from backend.organisations import service as organisation_reads
from backend.relay.book import RelayBook, check_nonce, next_nonce
from backend.relay.budgets import client_refusal, member_refusal
from backend.relay.outbox import RelayRequest, create_outbox
from backend.settings import Settings

SLUG = "bench"
MEMBERS = [f"0x{i:040x}" for i in range(1, 41)]
HOLDER = MEMBERS[0]  # holds the same 100 badges in both indexes
FORWARDER = "0x" + "f" * 40
INDICATORS = 8
ROUNDS = 200


def _rows(badges: int, now: int) -> dict[type, list[dict]]:
    """Index rows for `badges` minted badges (claim id = token id), plus 20 open claims."""
    indicators = [
        {"community": SLUG, "indicator_id": i, "version": 1, "active": True, "created_at": 0}
        for i in range(1, INDICATORS + 1)
    ]
    versions = [
        {
            "community": SLUG,
            "indicator_id": i,
            "version": 1,
            "name": f"Indicator {i}",
            "description_uri": "",
            "category": f"category-{i % 3}",
            "orientation": ("object", "community")[i % 2],
            "weight": i,
            "endorsements_required": 2,
            "validity": 0,
            "endorser_indicator_id": 0,
            "earn_cap": 0,
            "attest_cap": 0,
            "cap_period": 0,
            "defined_at": 0,
            "tx_hash": "0x" + "00" * 32,
        }
        for i in range(1, INDICATORS + 1)
    ]
    members = [
        {"community": SLUG, "address": m, "active": True, "admitted_at": 0, "votes": 1, "profile_hidden": False}
        for m in MEMBERS
    ]
    claims, attestations, badge_rows = [], [], []
    for token in range(1, badges + 21):
        owner = HOLDER if token <= 100 else MEMBERS[1 + token % (len(MEMBERS) - 1)]
        indicator = 1 + token % INDICATORS
        minted = token <= badges
        claims.append(
            {
                "community": SLUG,
                "claim_id": token,
                "contributor": owner,
                "submitter": owner,
                "indicator_id": indicator,
                "indicator_version": 1,
                "evidence_hash": "0x" + "11" * 32,
                "evidence_uri": f"https://example.org/{token}",
                "attestations": 2 if minted else 0,
                "minted": minted,
                "organisation_id": 1 if token % 10 == 0 else None,
                "created_at": now - badges + token,
                "tx_hash": "0x" + "22" * 32,
            }
        )
        if not minted:
            continue
        for n, attester in enumerate((MEMBERS[(token + 3) % 40], MEMBERS[(token + 7) % 40]), start=1):
            if attester != owner:
                attestations.append(
                    {
                        "community": SLUG,
                        "claim_id": token,
                        "attester": attester,
                        "count": n,
                        "timestamp": now,
                        "tx_hash": "0x" + "33" * 32,
                    }
                )
        badge_rows.append(
            {
                "community": SLUG,
                "token_id": token,
                "owner": owner,
                "contributor": owner,
                "indicator_id": indicator,
                "indicator_version": 1,
                "weight": indicator,
                "validity": 0,
                "orientation": ("object", "community")[indicator % 2],
                "category": f"category-{indicator % 3}",
                "minted_at": now - badges + token,
                "organisation_id": 1 if 100 < token <= 200 else None,
                "tx_hash": "0x" + "44" * 32,
            }
        )
    organisation = [
        {
            "community": SLUG,
            "organisation_id": 1,
            "name": "Example Foundation",
            "identifier": "",
            "active": True,
            "added_at": 0,
            "tx_hash": "0x" + "55" * 32,
        }
    ]
    cursor = [{"community": SLUG, "block_number": badges, "block_timestamp": now}]
    rows = {
        Indicator: indicators,
        IndicatorVersion: versions,
        Member: members,
        Claim: claims,
        Attestation: attestations,
        Badge: badge_rows,
        Organisation: organisation,
        Cursor: cursor,
    }
    # The counts the indexer keeps beside the rows of these tables.
    rows[RowCount] = [
        {"community": SLUG, "table_name": model.__tablename__, "value": len(rows[model])} for model in COUNTED
    ]
    return rows


def build(folder: Path, badges: int) -> tuple[SimpleNamespace, Path]:
    path = folder / f"index-{badges}.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    sessions = make_sessionmaker(engine)  # the service's tables and schema stamp, as it makes them
    create_outbox(engine)
    now = int(time.time())
    with engine.begin() as connection:
        for model, rows in {**_rows(badges, now), RelayRequest: _outbox_rows(badges, now)}.items():
            for start in range(0, len(rows), 5000):
                connection.execute(insert(model), rows[start : start + 5000])
    # The reads need the index's sessions and the URI schemes shown as links, nothing of the chain.
    ctx = SimpleNamespace(
        sessions=sessions,
        settings=SimpleNamespace(uri_schemes=frozenset({"https", "http", "ipfs", "ar"})),
        book=RelayBook(settings=Settings(), sessions=sessions),
    )
    return ctx, path


def _outbox_rows(requests: int, now: int) -> list[dict]:
    """The holder's history of relayed requests, settled over the days before (one a block)."""
    return [
        {
            "community": SLUG,
            "kind": "forward",
            "forwarder": FORWARDER,
            "signer": HOLDER,
            "nonce": nonce,
            "target": FORWARDER,
            "payload": {},
            "signature": f"0x{nonce:0130x}",
            "gas": 200_000,
            "client": "127.0.0.1",
            "state": "succeeded",
            "block_number": nonce + 1,
            "gas_used": 150_000,
            "attempts": 0,
            "created_at": now - 7_200 - (requests - nonce) * 12,
            "settled_at": now,
        }
        for nonce in range(requests)
    ]


def outbox_reads(ctx, requests: int) -> None:
    """What the API reads of the outbox for one relayed write by the holder (checks.prepare, check
    and book.accept), without writing: in flight, nonces held, the same request, the budgets."""
    book, head = ctx.book, requests + 100
    held = book.held(SLUG, HOLDER, requests, head)
    next_nonce(requests, held)
    check_nonce(requests, requests, held)
    book.same_request(SLUG, FORWARDER, HOLDER, requests, "0x" + "ab" * 65)
    with ctx.sessions() as session:
        member_refusal(session, book.settings, community=SLUG, signer=HOLDER, gas=200_000, now=time.time())
        client_refusal(session, book.settings, client="127.0.0.1")


def timed(runs: list, rounds: int = ROUNDS) -> list[float]:
    """p50 in ms of each run, their samples taken in turn (one of each, then again), so that a
    machine slowing down or speeding up midway weighs on every size alike."""
    for run in runs:
        run()  # warm
    samples: list[list[float]] = [[] for _ in runs]
    for _ in range(rounds):
        for run, taken in zip(runs, samples):
            start = time.perf_counter()
            run()
            taken.append((time.perf_counter() - start) * 1000)
    return [statistics.median(taken) for taken in samples]


def reads_of(ctx, badges: int) -> dict[str, object]:
    community = SimpleNamespace(slug=SLUG)
    far = max(badges - 50, 0)
    return {
        "profile of a member with 100 badges": lambda: member_reads.profile(ctx, community, HOLDER),
        "/claims?limit=50 (first page)": lambda: claim_reads.list_claims(
            ctx, community, state=None, indicator_id=None, contributor=None, limit=50, offset=0
        ),
        "/claims?limit=50 (last page)": lambda: claim_reads.list_claims(
            ctx, community, state=None, indicator_id=None, contributor=None, limit=50, offset=far
        ),
        "/claims?limit=50&after= (last page)": lambda: claim_reads.list_claims(
            ctx, community, state=None, indicator_id=None, contributor=None, limit=50, offset=0, after=far
        ),
        "/claims/awaiting for a member": lambda: claim_reads.awaiting_attestation(
            ctx, community, attester=HOLDER, limit=50, offset=0
        ),
        "/badges?owner= (a member's 100)": lambda: badge_reads.list_badges(
            ctx, community, owner=HOLDER, limit=100, offset=0
        ),
        "/organisations/1 (100 badges credited)": lambda: organisation_reads.organisation_profile(ctx, community, 1),
        "a relayed write's outbox reads": lambda: outbox_reads(ctx, badges),
    }


RAW = {
    "profile of a member with 100 badges": "SELECT indicator_id, category, orientation, count(*), sum(weight) "
    "FROM badges "
    "WHERE community = 'bench' AND owner = ? AND revoked_at IS NULL AND disowned_at IS NULL "
    "GROUP BY indicator_id, category, orientation",
    "/claims?limit=50 (first page)": (
        "SELECT * FROM claims WHERE community = 'bench' ORDER BY claim_id LIMIT 50 OFFSET 0"
    ),
    "/claims?limit=50 (last page)": (
        "SELECT * FROM claims WHERE community = 'bench' ORDER BY claim_id LIMIT 50 OFFSET ?"
    ),
    "/claims?limit=50&after= (last page)": (
        "SELECT * FROM claims WHERE community = 'bench' AND claim_id > ? ORDER BY claim_id LIMIT 50"
    ),
    "/claims/awaiting for a member": "SELECT * FROM claims WHERE community = 'bench' AND minted = 0 "
    "AND contributor != ? "
    "AND claim_id NOT IN (SELECT claim_id FROM attestations WHERE community = 'bench' AND attester = ?) "
    "ORDER BY claim_id LIMIT 50",
    "/badges?owner= (a member's 100)": (
        "SELECT * FROM badges WHERE community = 'bench' AND owner = ? ORDER BY token_id DESC LIMIT 100"
    ),
    "/organisations/1 (100 badges credited)": "SELECT owner, indicator_id, category, orientation, count(*), "
    "sum(weight) FROM badges "
    "WHERE community = 'bench' AND organisation_id = 1 AND revoked_at IS NULL AND disowned_at IS NULL "
    "GROUP BY indicator_id, owner, category, orientation",
    # The same questions in the fewest statements, by hand.
    "a relayed write's outbox reads": (
        "SELECT id FROM relay_requests WHERE community = 'bench' AND signer = :who AND state IN ('queued', 'sent') "
        "LIMIT 1",
        "SELECT nonce FROM relay_requests WHERE community = 'bench' AND signer = :who AND nonce >= :n "
        "AND (state IN ('queued', 'sent') OR block_number >= :recent)",
        "SELECT id FROM relay_requests WHERE community = 'bench' AND signer = :who AND nonce = :n "
        "AND signature = :sig AND state != 'failed'",
        "SELECT count(*) FROM relay_requests WHERE community = 'bench' AND signer = :who "
        "AND state IN ('queued', 'sent')",
        "SELECT count(*), sum(coalesce(gas_used, gas)) FROM relay_requests WHERE community = 'bench' "
        "AND signer = :who AND created_at > :hour",
        "SELECT count(*) FROM relay_requests WHERE client = '127.0.0.1' AND state IN ('queued', 'sent')",
    ),
}


def raw_params(name: str, badges: int) -> tuple | dict:
    if "outbox" in name:
        return {
            "who": HOLDER,
            "n": badges,
            "recent": badges + 100 - 20,
            "sig": "0x" + "ab" * 65,
            "hour": time.time() - 3600,
        }
    if "last page" in name:
        return (max(badges - 50, 0),)
    if "awaiting" in name:
        return (HOLDER, HOLDER)
    return (HOLDER,) if "?" in RAW[name] else ()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=10_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-decay-"))
    sizes = (args.small, args.large)
    built = {}
    for size in sizes:
        print(f"Building an index of {size:,} badges (claims and attestations beside them) ...", flush=True)
        built[size] = build(folder, size)
    connections = {size: sqlite3.connect(path) for size, (_, path) in built.items()}

    def raw(size: int, name: str):
        params = raw_params(name, size)
        statements = RAW[name] if isinstance(RAW[name], tuple) else (RAW[name],)
        return lambda: [connections[size].execute(statement, params).fetchall() for statement in statements]

    print("Timing each read at both sizes in turn ...", flush=True)
    service = {size: reads_of(built[size][0], size) for size in sizes}
    results: dict[int, dict[str, tuple[float, float]]] = {size: {} for size in sizes}
    for name in service[args.small]:
        ours = timed([service[size][name] for size in sizes])
        floor = timed([raw(size, name) for size in sizes])
        for size, mine, bare in zip(sizes, ours, floor):
            results[size][name] = (mine, bare)
    for connection in connections.values():
        connection.close()
    small, large = results[args.small], results[args.large]
    width = max(map(len, small)) + 2
    print(f"\n== reads as the community grows (in process, SQLite; p50 of {ROUNDS}) ==")
    print(f"{'read':<{width}}{args.small:>9,} {args.large:>9,}   large/small   service/raw SQL at {args.large:,}")
    worst = 0.0
    for name in small:
        ratio = large[name][0] / small[name][0]
        if "(last page)" not in name or "after=" in name:  # an OFFSET walks the rows before it: grows by nature
            worst = max(worst, ratio)
        print(
            f"{name:<{width}}{small[name][0]:7.2f} ms{large[name][0]:7.2f} ms   {ratio:6.2f}x"
            f"        {large[name][0] / large[name][1]:6.1f}x (raw {large[name][1]:.2f} ms)"
        )
    print(
        f"worst slowdown {args.small:,} -> {args.large:,} badges: {worst:.2f}x (target: at most 1.20x; the last "
        "page by offset left out: an OFFSET walks the rows before it, raw SQL too; by cursor it is in)"
    )


if __name__ == "__main__":
    main()
