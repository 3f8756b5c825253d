"""Following the records across versions of the badge contract (backend/indexer/versions.py): a page
with a move is completed with the new version's logs from the move on; a version's logs from before
the move that named it are left out, whether the index knew the move or finds it in the page, so
both read the same events; a RecordsMoved from anyone but the community's registry moves nothing;
a credential names the version that minted its badge. The e2e test (tests/e2e/test_versions.py)
moves a real community on Anvil."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from eth_utils import keccak, to_checksum_address

from backend.chain.abi import ContractAbi
from backend.chain.deployments import Community, Deployments, RecordsMove
from backend.chain.gateway import ChainGateway
from backend.indexer import versions

REGISTRY, V1, V2, STRANGER = (to_checksum_address("0x" + b * 20) for b in ("a1", "b1", "b2", "55"))
MOVED = keccak(text="RecordsMoved(address,address,uint256)")
REGISTRY_ABI = ContractAbi(
    [
        {
            "type": "event",
            "name": "RecordsMoved",
            "anonymous": False,
            "inputs": [
                {"name": "from", "type": "address", "indexed": True},
                {"name": "to", "type": "address", "indexed": True},
                {"name": "claimCount", "type": "uint256", "indexed": False},
            ],
        }
    ]
)


def _log(address: str, block: int, index: int, topics: list[str] | None = None) -> dict:
    return {
        "address": address.lower(),
        "blockNumber": hex(block),
        "logIndex": hex(index),
        "topics": topics or ["0x" + "00" * 32],
        "data": "0x",
    }


def _moved(emitter: str, block: int, index: int) -> dict:
    word = "0x" + "00" * 12
    return _log(emitter, block, index, ["0x" + MOVED.hex(), word + V1[2:].lower(), word + V2[2:].lower()])


class Chain:
    """get_logs over a fixed list of logs, as a node answers it (by address and block range)."""

    def __init__(self, logs: list[dict]) -> None:
        self.logs = logs
        self.asked: list[tuple[list[str], int, int]] = []

    def abi(self, key: str) -> ContractAbi:
        assert key == "registry"
        return REGISTRY_ABI

    def get_logs(self, addresses: list[str], first: int, last: int) -> list[dict]:
        self.asked.append((addresses, first, last))
        wanted = {a.lower() for a in addresses}
        return [e for e in self.logs if e["address"] in wanted and first <= int(e["blockNumber"], 16) <= last]


def _community(moves: tuple[RecordsMove, ...] = ()) -> Community:
    deployed = Community("example", "Example", 1, {"registry": REGISTRY, "badge": V1})
    return deployed.with_moves(moves)


CHAIN = [
    _log(V1, 5, 0),  # a claim in version 1
    _log(V2, 6, 0),  # version 2 deployed (its OwnershipTransferred): not yet the community's
    _moved(REGISTRY, 8, 3),  # the vote's move
    _log(V2, 8, 5),  # carried over in the same block
    _log(V2, 9, 0),  # a claim in version 2
]


def _positions(logs: list[dict]) -> list[tuple[str, int]]:
    return [(to_checksum_address(e["address"]), int(e["blockNumber"], 16)) for e in logs]


def test_a_move_found_in_a_page_brings_the_new_versions_logs_from_the_move_on():
    community, logs = versions.page_logs(Chain(CHAIN), _community(), 1, 10)
    assert _positions(logs) == [(V1, 5), (REGISTRY, 8), (V2, 8), (V2, 9)]
    assert community.contracts["badge"] == V2 and community.badge_versions() == [V1, V2]
    assert community.key_of(V1) == community.key_of(V2) == "badge"


def test_an_index_that_knew_the_move_reads_the_same_events():
    known = (RecordsMove(V1, V2, 8, 3),)
    for first, last in ((1, 10), (1, 7), (8, 10), (6, 8)):
        found = versions.page_logs(Chain(CHAIN), _community(), first, last)[1]
        knew = versions.page_logs(Chain(CHAIN), _community(known), first, last)[1]
        assert knew == found, (first, last)


def test_a_records_moved_from_anyone_but_the_registry_moves_nothing():
    chain = Chain([_log(V1, 5, 0), _moved(STRANGER, 8, 3), _log(V2, 9, 0)])
    community, logs = versions.page_logs(chain, _community(), 1, 10)
    assert community.contracts["badge"] == V1 and community.moves == ()
    assert _positions(logs) == [(V1, 5)]


def test_a_credential_names_the_version_that_minted_its_badge():
    community = _community((RecordsMove(V1, V2, 8, 3),))
    assert versions.minted_by(community, 5) == V1
    assert versions.minted_by(community, 8) == V2
    assert versions.minted_by(community, 9) == V2
    assert versions.minted_by(_community(), 9) == V1
    assert community.as_deployed() == _community()


def test_a_served_community_follows_the_moves_the_index_holds():
    """Every process serves the version the last move names; a community whose moves are served
    already is left as it is, and an unknown slug is not served because of a move."""
    gateway = SimpleNamespace(
        _following=threading.Lock(),
        deployments=Deployments(31337, "local", {}, {"example": _community()}),
    )
    move = (RecordsMove(V1, V2, 8, 3),)
    ChainGateway.move_records(gateway, {"example": move, "stranger": move})  # type: ignore[arg-type]
    served = gateway.deployments.communities
    assert set(served) == {"example"} and served["example"].contracts["badge"] == V2
    before = gateway.deployments
    ChainGateway.move_records(gateway, {"example": move})  # type: ignore[arg-type]
    assert gateway.deployments is before


def test_a_move_is_judged_unknown_when_the_node_is_away_and_its_source_by_the_community():
    """The proposal's page (backend/versions/known.py): a node that cannot answer leaves the new
    version's code unknown (said in red), never recognised; a source that is none of the
    community's versions is flagged, whatever the node says."""
    from backend.errors import NodeUnavailable
    from backend.versions import known

    class Away:
        class rpc:
            @staticmethod
            def request(*args):
                raise NodeUnavailable("the node is away")

    community = _community((RecordsMove(V1, V2, 8, 3),))
    ours = known.check(Away(), community, V1, V2)  # type: ignore[arg-type]
    assert (ours.version, ours.from_ours) == (None, True)
    assert known.check(Away(), community, STRANGER, V2).from_ours is False  # type: ignore[arg-type]
