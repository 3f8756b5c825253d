"""Following a community's records across versions of the badge contract.

The community's vote moves its records to a later version (the registry's RecordsMoved, see
contracts/interfaces/IBadgeVersions.sol); anyone then carries them over, and the new version takes
the writes. The index follows every version as one history: a page of logs that holds a move to a
version not followed yet is completed with that version's logs from the move on, and a version's
logs from before the move that named it (its deployment) are left out, so an index rebuilt from the
deployment (which finds the moves in its pages) and one that knew them already read the same
events. Carried-over records add no event of the community's own (their mints are ERC-721
transfers from nobody, which the projections leave to BadgeMinted, already read from the version
before).

Every process serves the version the index's last move names (`refresh`): relayed writes, reads
and the community's page go to it; credentials of badges minted before a move keep naming the
version that minted them (`minted_by`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.chain.addresses import checksum
from backend.chain.deployments import Community, RecordsMove
from backend.chain.gateway import ChainGateway
from backend.indexer.models import RecordsMoveRow

MOVED_EVENT = "RecordsMoved"  # RecordsMoved(address indexed from, address indexed to, uint256 claimCount)


def page_logs(gateway: ChainGateway, community: Community, first: int, last: int) -> tuple[Community, list[dict]]:
    """The community's logs of blocks `first` to `last`, in chain order, and the community as they
    leave it (with any move they hold)."""
    addresses = [*community.contracts.values(), *community.badge_versions()]
    logs = [e for e in gateway.get_logs(list(dict.fromkeys(addresses)), first, last) if not _too_early(e, community)]
    for move in _new_moves(gateway, community, logs):
        community = community.with_moves((*community.moves, move))
        logs += [
            e for e in gateway.get_logs([move.to_address], move.block_number, last) if not _too_early(e, community)
        ]
    logs.sort(key=lambda e: (int(e["blockNumber"], 16), int(e["logIndex"], 16)))
    return community, logs


def _position(entry: dict[str, Any]) -> tuple[int, int]:
    return int(entry["blockNumber"], 16), int(entry["logIndex"], 16)


def _too_early(entry: dict[str, Any], community: Community) -> bool:
    """A later version's log from before the move that named it: not yet the community's."""
    address = checksum(entry["address"])
    return any(address == m.to_address and _position(entry) < (m.block_number, m.log_index) for m in community.moves)


def _new_moves(gateway: ChainGateway, community: Community, logs: list[dict[str, Any]]) -> list[RecordsMove]:
    """The registry's moves among `logs` to a version not followed yet, in chain order."""
    [topic] = [t for t, e in gateway.abi("registry").events.items() if e.name == MOVED_EVENT]
    registry, known = community.contracts["registry"], set(community.badge_versions())
    moves = []
    for entry in logs:
        topics = entry["topics"]
        if entry.get("removed") or checksum(entry["address"]) != registry or len(topics) != 3:
            continue
        if bytes.fromhex(topics[0][2:]) != topic:
            continue
        to = checksum("0x" + topics[2][-40:])
        if to not in known:
            known.add(to)
            block, index = _position(entry)
            moves.append(RecordsMove(checksum("0x" + topics[1][-40:]), to, block, index))
    return moves


def moves_of(session: Session, slug: str) -> tuple[RecordsMove, ...]:
    rows = session.scalars(
        select(RecordsMoveRow)
        .where(RecordsMoveRow.community == slug)
        .order_by(RecordsMoveRow.block_number, RecordsMoveRow.log_index)
    )
    return tuple(_move(row) for row in rows)


def _move(row: RecordsMoveRow) -> RecordsMove:
    return RecordsMove(row.from_address, row.to_address, row.block_number or 0, row.log_index or 0)


def refresh(gateway: ChainGateway, sessions: sessionmaker[Session]) -> None:
    """Serve each community's records where the index's last move of them left them."""
    with sessions() as session:
        rows = session.scalars(select(RecordsMoveRow).order_by(RecordsMoveRow.block_number, RecordsMoveRow.log_index))
        moves: dict[str, list[RecordsMove]] = defaultdict(list)
        for row in rows:
            moves[row.community].append(_move(row))
    gateway.move_records({slug: tuple(found) for slug, found in moves.items()})


def minted_by(community: Community, block_number: int | None) -> str:
    """The version of the badge contract that held the records at `block_number` (a badge's mint)."""
    versions = community.badge_versions()
    held = versions[0]
    for move, version in zip(community.moves, versions[1:], strict=True):
        if block_number is not None and block_number >= move.block_number:
            held = version
    return held
