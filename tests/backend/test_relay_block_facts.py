"""What the relayer reads of the chain once per block before sending (backend/relay/fees.py,
Fees.block_facts): fees, its balance, and whether each community's contracts are on the chain.
Contracts found at one block are vouched for by its child (the chain only grew on it), and their
code is not asked for again; any other block (a reset, a reorganisation, blocks not seen) has
every contract asked for again."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from backend.chain.rpc import RpcError
from backend.relay.fees import Fees
from backend.relay.state import RelayerState
from backend.settings import Settings

RELAYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
CONTRACTS = {
    "example": {"forwarder": "0x" + "a1" * 20, "registry": "0x" + "a2" * 20},
    "other": {"forwarder": "0x" + "b1" * 20},
}


class _Node:
    """Answers batches as a chain whose newest block is `block`, with code at `deployed`."""

    def __init__(self) -> None:
        self.block = {
            "number": "0x29",
            "hash": "0x41",
            "parentHash": "0x40",
            "timestamp": "0x1",
            "baseFeePerGas": "0x1",
        }
        self.deployed = {a for contracts in CONTRACTS.values() for a in contracts.values()}
        self.asked: list[list[str]] = []  # the addresses whose code each round trip asked for

    def batch(self, calls, raise_errors=True):
        self.asked.append([params[0] for method, params in calls if method == "eth_getCode"])
        answers = {
            "eth_getBlockByNumber": lambda _: self.block,
            "eth_maxPriorityFeePerGas": lambda _: "0x1",
            "eth_getBalance": lambda _: hex(10**18),
            "eth_getCode": lambda params: "0x6080" if params[0] in self.deployed else "0x",
        }
        return [answers[method](params) for method, params in calls]

    def mine(self, number: int, parent: str | None = None) -> None:
        """A new newest block, a child of the last one unless `parent` says otherwise."""
        parent = parent or self.block["hash"]
        self.block = {
            "number": hex(number),
            "hash": f"0x{number}",
            "parentHash": parent,
            "timestamp": hex(number),
            "baseFeePerGas": "0x1",
        }


@pytest.fixture
def node():
    return _Node()


@pytest.fixture
def fees(node):
    communities = {slug: SimpleNamespace(contracts=contracts) for slug, contracts in CONTRACTS.items()}
    gateway = SimpleNamespace(rpc=node, deployments=SimpleNamespace(communities=communities))
    return Fees(
        settings=Settings(),
        gateway=gateway,  # type: ignore[arg-type]
        sessions=None,  # type: ignore[arg-type]
        reads=None,  # type: ignore[arg-type]
        state=RelayerState(),
        key=SimpleNamespace(address=RELAYER),  # type: ignore[arg-type]
    )


def test_contracts_found_at_a_block_are_not_asked_for_again_at_its_child(fees, node):
    assert fees.block_facts(41).missing == frozenset()
    assert len(node.asked[-1]) == 3
    node.mine(42)
    assert fees.block_facts(42).missing == frozenset()
    assert node.asked[-1] == []  # one round trip, no code asked for
    # The same block read again for a later head (the relayer's head was a moment old): vouched too.
    assert fees.block_facts(43).missing == frozenset() and node.asked[-1] == []


@pytest.mark.parametrize(
    "new_block, round_trips",
    [
        # Blocks the relayer did not see: asked for with the block, in its one round trip.
        ((44, "0x43"), 1),
        # The next height, but a block of another chain (a reset, a reorganisation): the block's
        # round trip, then one for the code.
        ((42, "0xother"), 2),
    ],
)
def test_a_block_that_does_not_vouch_for_the_last_has_every_contract_asked_for_again(
    fees, node, new_block, round_trips
):
    fees.block_facts(41)
    number, parent = new_block
    node.mine(number, parent)
    node.deployed.discard(CONTRACTS["example"]["registry"])  # the chain under it lost one
    assert fees.block_facts(number).missing == frozenset({"example"})
    assert sorted(a for asked in node.asked[1:] for a in asked) == sorted(
        a for c in CONTRACTS.values() for a in c.values()
    )
    assert len(node.asked) == 1 + round_trips


def test_contracts_no_longer_served_are_not_vouched_for(fees, node):
    """A community's records moved, say: what it no longer serves leaves what is carried on."""
    fees.block_facts(41)
    del fees.gateway.deployments.communities["other"]
    node.mine(42)
    assert fees.block_facts(42).present == frozenset(CONTRACTS["example"].values())


def test_a_community_missing_its_contracts_is_asked_for_at_every_block(fees, node):
    """Only contracts found are vouched for: those not there yet are asked for again, so the
    relayer sends as soon as the community is deployed again."""
    node.deployed.discard(CONTRACTS["other"]["forwarder"])
    assert fees.block_facts(41).missing == frozenset({"other"})
    node.mine(42)
    node.deployed.add(CONTRACTS["other"]["forwarder"])
    assert fees.block_facts(42).missing == frozenset()
    assert node.asked[-1] == [CONTRACTS["other"]["forwarder"]]


def test_facts_forgotten_after_a_failed_step_ask_for_every_contract(fees, node):
    fees.block_facts(41)
    fees.state.forget()
    node.mine(42)
    fees.block_facts(42)
    assert len(node.asked[-1]) == 3


def test_a_block_the_node_could_not_read_vouches_for_nothing(fees, node):
    """The node away for the block read (the batch answers an error in its place): nothing is
    vouched for, that time or the next, and every contract is asked for."""
    fees.block_facts(41)
    node.block = RpcError({"code": -32000, "message": "header not found"})
    assert fees.block_facts(42).missing == frozenset()
    assert len(node.asked[-1]) + len(node.asked[-2]) == 3  # every contract, in one round trip or two
    node.mine(43, "0x41")
    fees.block_facts(43)
    assert len(node.asked[-1]) == 3
