"""How a relay check reads the node's eth_simulateV1 answer (relay/simulation.py): the last call's
gas used, the contract's custom error named when it reverted, a call out of the relayer's gas
cap refused in words, and a node that cannot simulate at all taken for the node's failure (503),
never for the member's request's."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from eth_abi import encode
from eth_utils import keccak

from backend.chain.abi import ContractAbi, ErrorDecoder
from backend.chain.gateway import HEAD_CALL, ChainGateway
from backend.chain.rpc import RpcError
from backend.errors import ChainRefused, NodeUnavailable, Unprocessable
from backend.relay.book import HeldRequest
from backend.relay.carried import request_key
from backend.relay.simulation import (
    SIMULATION_RUNS,
    _behind,
    gas_needed,
    judged,
    last_call,
    nonce_slot,
    note_key_signed,
    simulated_behind,
)
from backend.settings import Settings

ABI = ContractAbi(
    [
        {
            "type": "error",
            "name": "BadgeAlreadyAttested",
            "inputs": [{"name": "claimId", "type": "uint256"}, {"name": "attester", "type": "address"}],
        }
    ]
)
ATTESTER = "0x" + "ab" * 20
CAP = 100_000


def _ctx():
    return SimpleNamespace(
        gateway=SimpleNamespace(errors=ErrorDecoder([ABI])), settings=Settings(relay_max_gas_per_request=CAP)
    )


def _answer(*calls: dict) -> list[dict]:
    """eth_simulateV1's answer: one block, the member's earlier requests, then the request."""
    return [{"number": "0x10", "calls": [{"status": "0x1", "gasUsed": hex(60_000), "returnData": "0x"}, *calls]}]


def test_the_gas_a_call_needs_is_its_simulations_gas_used_not_an_earlier_requests():
    ctx = _ctx()
    assert gas_needed(ctx, _answer({"status": "0x1", "gasUsed": hex(42_123), "returnData": "0x"})) == 42_123
    assert last_call(ctx, _answer({"status": "0x1", "gasUsed": "0x5208", "returnData": "0x"})) == (21_000, None)


def test_a_revert_is_named_by_the_contracts_custom_error():
    data = keccak(text="BadgeAlreadyAttested(uint256,address)")[:4] + encode(["uint256", "address"], [7, ATTESTER])
    answer = _answer(
        {
            "status": "0x0",
            "gasUsed": hex(30_000),
            "returnData": "0x" + data.hex(),
            "error": {"code": -32000, "message": "execution reverted"},
        }
    )
    with pytest.raises(ChainRefused) as caught:
        gas_needed(_ctx(), answer)
    assert caught.value.error == "BadgeAlreadyAttested" and caught.value.args_["claimId"] == 7


@pytest.mark.parametrize("used, refused_as", [(CAP, Unprocessable), (CAP - 1, ChainRefused)])
def test_a_call_that_runs_out_of_the_relayers_cap_is_refused_for_its_gas(used, refused_as):
    """With the cap as its gas, a call that used all of it ran out of gas: refused in words. An
    empty revert short of the cap is the contract's own refusal."""
    answer = _answer({"status": "0x0", "gasUsed": hex(used), "returnData": "0x", "error": {"message": "out of gas"}})
    with pytest.raises(refused_as) as caught:
        gas_needed(_ctx(), answer)
    if refused_as is Unprocessable:
        assert f"needs more than {CAP:,} gas" in caught.value.detail
    else:
        assert "out of gas" in caught.value.detail


def test_a_node_that_cannot_simulate_is_the_nodes_failure():
    """A node without eth_simulateV1 answers the call with a JSON-RPC error, which the gateway's
    batch hands back as a ChainRefused: 503, naming the method, not a refusal of the request."""
    ctx = _ctx()
    unanswered = ChainGateway.refusal(ctx.gateway, RpcError({"code": -32601, "message": "Method not found"}))
    with pytest.raises(NodeUnavailable) as caught:
        last_call(ctx, unanswered)
    assert "eth_simulateV1" in caught.value.detail and "Method not found" in caught.value.detail


def test_a_simulation_is_the_block_after_the_head_on_the_heads_state():
    """Pinned to the head the nonces were read on, and simulating the next block: on "latest",
    Anvil could take one block's clock and the next block's state (a delegation then reverted
    for a checkpoint older than the last). Its clock is past the head's, and its gas limit holds
    every call."""
    head = {"number": hex(41), "timestamp": hex(4_000_000_000)}  # a chain ahead of the wall clock
    earlier = [{"gas": hex(300_000)}, {"gas": hex(200_000)}]
    method, (payload, block) = _behind(earlier, {"gas": hex(50_000)}, head)
    overrides = payload["blockStateCalls"][0]["blockOverrides"]
    assert (method, block) == ("eth_simulateV1", hex(41))
    assert int(overrides["number"], 16) == 42 and int(overrides["time"], 16) == 4_000_000_001
    assert int(overrides["gasLimit"], 16) == 550_000
    assert payload["blockStateCalls"][0]["calls"][-1] == {"gas": hex(50_000)} and payload["validation"] is False
    idle = {"number": hex(7), "timestamp": hex(1_000)}  # a chain idle behind the wall clock: now
    assert int(_behind([], {"gas": "0x1"}, idle)[1][0]["blockStateCalls"][0]["blockOverrides"]["time"], 16) > 10**9


class _Gateway:
    """Answers each simulation with the member's nonce read first on its state (the next of
    `state_nonces` each round trip, and per call when given as a tuple), then the calls;
    remembers how many requests each round trip replayed."""

    def __init__(self, *state_nonces) -> None:
        self.state_nonces, self.replayed = list(state_nonces), []
        self.relayer_address = "0x" + "ee" * 20
        self.chain_id = 31337

    def abi(self, _key):
        return SimpleNamespace(function=lambda _name: SimpleNamespace(encode=lambda *args: b"\x01\x02"))

    def note_head(self, head, asked_at):
        self.heads_noted = [*getattr(self, "heads_noted", []), int(head["number"], 16)]

    def simulate(self, calls, shape=None):
        assert all(method == "eth_simulateV1" for method, _ in calls)
        # The params as the node receives them: JSON text (rpc.Json) is read as the node reads it.
        block_calls = [json.loads(params)[0]["blockStateCalls"][0]["calls"] for _, params in calls]
        assert all(c[0]["to"] == FORWARDER and c[0]["data"] == "0x0102" for c in block_calls)  # nonces(signer) first
        self.replayed.append(len(block_calls[0]) - 2)
        nonces = self.state_nonces.pop(0) if len(self.state_nonces) > 1 else self.state_nonces[0]
        nonces = nonces if isinstance(nonces, tuple) else (nonces,) * len(calls)
        return [
            [{"calls": [{"status": "0x1", "returnData": "0x" + f"{n:064x}"}, {"status": "0x1", "result": i}]}]
            for i, n in enumerate(nonces)
        ]


class _Book:
    def __init__(self):
        self.asked = []

    def held(self, community, signer, chain_nonce, head):
        self.asked.append(chain_nonce)
        return [_held(n) for n in range(chain_nonce, 6)]


def _held(nonce: int):
    payload = {
        "from": ATTESTER,
        "to": ATTESTER,
        "value": 0,
        "gas": 1,
        "deadline": 1,
        "data": "0x",
        "signature": "0x" + f"{nonce:02x}" * 65,
    }
    return HeldRequest(nonce, payload, 100_000)


FORWARDER = "0x" + "f0" * 20


def _simulate(gateway, book, calls=1):
    ctx = SimpleNamespace(gateway=gateway, book=book, settings=Settings())
    community = SimpleNamespace(slug="c", contracts={"forwarder": FORWARDER})
    head = {"number": hex(41), "timestamp": hex(4_000_000_000)}
    _, results = simulated_behind(ctx, community, ATTESTER, head, 4, [_held(4), _held(5)], [{"gas": hex(1)}] * calls)
    return results


@pytest.mark.parametrize(
    "state_nonces, replayed, asked",
    [
        ((4,), [2], []),  # the state of the head: the outbox's requests 4 and 5 replayed
        ((5,), [2], []),  # a state a block newer: request 4 is skipped, as on chain
        ((2,), [2, 4], [2]),  # a state older than the nonce read with the head: requests 2 and 3 were left out
        (((4, 2),), [2, 4], [2]),  # the two simulations of one round trip on different states: the older counts
        ((3, 2, 4), [2, 3, 4], [3, 2]),  # older again on the second run (the node finished mining in between)
    ],
)
def test_a_simulation_on_a_state_older_than_the_outbox_read_runs_again_from_its_own_nonce(
    state_nonces, replayed, asked
):
    """The nonce read with the head was 4 (held: 4 and 5). Each simulated block reads the member's
    nonce on its own state first: Anvil, asked for its newest block while mining the next, answers
    with either state, and not always the same one within one batch (seen: nonce 0 read with the
    head, 4 on that head's number in the next round trip). A state whose nonce is lower than the
    outbox was read from lacks the requests in between: the outbox is read again from it and the
    simulation runs again behind all of them."""
    gateway, book = _Gateway(*state_nonces), _Book()
    results = _simulate(gateway, book, calls=len(state_nonces[0]) if isinstance(state_nonces[0], tuple) else 1)
    assert results[0][-1]["calls"][-1]["result"] == 0
    assert gateway.replayed == replayed and book.asked == asked


def test_a_node_whose_state_keeps_moving_back_is_the_nodes_failure():
    """Three runs each on an older state than the last: 503, never a refusal of the request."""
    with pytest.raises(NodeUnavailable) as caught:
        _simulate(_Gateway(3, 2, 1, 0), _Book())
    assert "kept changing" in caught.value.detail


@pytest.mark.parametrize(
    "first",
    [
        {"status": "0x0", "returnData": "0x"},  # the read reverted
        {"status": "0x1", "returnData": "0x"},  # no code at the forwarder's address: nothing returned
        {"status": "0x1", "returnData": "0x" + "00" * 31},  # not a 32-byte word
        {"status": "0x1"},  # no returnData at all
    ],
)
def test_a_nonce_the_simulation_could_not_read_is_the_nodes_failure(first):
    """503 naming the simulation, never a 500 from parsing what the node sent, and never a nonce."""
    gateway = _Gateway(4)
    gateway.simulate = lambda calls, shape=None: [[{"calls": [first, {"status": "0x1"}]}]]
    with pytest.raises(NodeUnavailable) as caught:
        _simulate(gateway, _Book())
    assert "eth_simulateV1" in caught.value.detail


class _RacingGateway(_Gateway):
    """A node that, asked for the head's state while mining the next block, simulates on the newer
    one (the member's request 4 executed there: nonce 5) with the simulated block's clock behind
    it, so a delegation reverts for an unordered checkpoint (as the forwarder's execute: FailedCall,
    which hides why); read again, the head has moved."""

    def __init__(self, refusal: str) -> None:
        super().__init__(5)
        self.heads_read = 0
        self.refusal = "0x" + keccak(text=refusal)[:4].hex()

    def simulate(self, calls, shape=None):
        if calls[0][0] == "eth_call":  # chain_and_outbox: the nonce and the head, read anew
            self.heads_read += 1
            return ["0x" + f"{5:064x}", {"number": hex(42), "timestamp": hex(4_000_000_012)}]
        results = super().simulate(calls)
        if self.heads_read == 0:
            results[0][0]["calls"][-1] = {"status": "0x0", "returnData": self.refusal}
        return results


@pytest.mark.parametrize("refusal", ["CheckpointUnorderedInsertion()", "FailedCall()"])
def test_a_simulation_on_a_newer_state_behind_its_clock_runs_again_on_the_head_read_anew(refusal):
    """A vote delegation simulated on a state newer than the head read (a block mined meanwhile)
    with a clock set past the old head's may revert for a checkpoint older than the newest: not the
    request's fault. The head is read again and the simulation runs on it; the head it ran on is
    answered, so that the request's deadline is judged on that block's clock."""
    gateway, book = _RacingGateway(refusal), _Book()
    ctx = SimpleNamespace(gateway=gateway, book=book, settings=Settings())
    community = SimpleNamespace(slug="c", contracts={"forwarder": FORWARDER})
    head = {"number": hex(41), "timestamp": hex(4_000_000_000)}
    ran_on, results = simulated_behind(ctx, community, ATTESTER, head, 4, [_held(4), _held(5)], [{"gas": hex(1)}])
    assert gateway.heads_read == 1 and int(ran_on["number"], 16) == 42
    assert results[0][-1]["calls"][-1]["status"] == "0x1"


@pytest.mark.parametrize("refusal", ["CheckpointUnorderedInsertion()", "FailedCall()"])
def test_a_simulation_behind_its_clock_on_the_nonce_it_expected_runs_again_on_the_head_read_anew(refusal):
    """The head and the nonce read together may come from two blocks: the head from the older,
    the nonce (5: request 4 executed) from the block mined meanwhile. The simulation, on that
    newer state, reads the nonce expected, yet its clock is the old head's: a delegation there
    (the member's or another member's) reverts for an unordered checkpoint. Seen in CI as a 409
    on the second of two quick delegations. The head is read anew and the simulation runs on it."""
    gateway, book = _RacingGateway(refusal), _Book()
    ctx = SimpleNamespace(gateway=gateway, book=book, settings=Settings())
    community = SimpleNamespace(slug="c", contracts={"forwarder": FORWARDER})
    head = {"number": hex(41), "timestamp": hex(4_000_000_000)}
    ran_on, results = simulated_behind(ctx, community, ATTESTER, head, 5, [_held(5)], [{"gas": hex(1)}])
    assert gateway.heads_read == 1 and int(ran_on["number"], 16) == 42
    assert results[0][-1]["calls"][-1]["status"] == "0x1"


# The head the refusing checks below start from: a chain ahead of the wall clock, so that the
# simulated clock is its time plus one (simulation._clock).
_HEAD_41 = {"number": hex(41), "timestamp": hex(4_000_000_000), "hash": "0x41"}


def _head(number: int, seconds: int, block_hash: str | None = None) -> dict[str, str]:
    """A head read anew: `seconds` after head 41's time."""
    return {"number": hex(number), "timestamp": hex(4_000_000_000 + seconds), "hash": block_hash or hex(number)}


class _ScriptedGateway(_RacingGateway):
    """Each run of the simulation refused (with `refusal`, the forwarder's FailedCall unless told)
    or not, as `refused` says in turn; each read of the head anew answers the next of `heads`."""

    def __init__(self, refused: list[bool], heads: list[dict[str, str]], refusal: str = "FailedCall()") -> None:
        super().__init__(refusal)
        self.refused, self.heads, self.runs = refused, heads, 0

    def simulate(self, calls, shape=None):
        if calls[0][0] == "eth_call":
            self.heads_read += 1
            return ["0x" + f"{5:064x}", self.heads[min(self.heads_read, len(self.heads)) - 1]]
        results = _Gateway.simulate(self, calls)
        self.runs += 1
        if self.refused[min(self.runs, len(self.refused)) - 1]:
            results[0][0]["calls"][-1] = {"status": "0x0", "returnData": self.refusal}
        return results


def _checked(gateway):
    ctx = SimpleNamespace(gateway=gateway, book=_Book(), settings=Settings())
    community = SimpleNamespace(slug="c", contracts={"forwarder": FORWARDER})
    return simulated_behind(ctx, community, ATTESTER, _HEAD_41, 5, [_held(5)], [{"gas": hex(1)}])


@pytest.mark.parametrize(
    "head_read_anew",
    [
        _head(42, 1),  # a block no later than the simulated clock: no state holds a later checkpoint
        _head(41, 0, "0x41"),  # the very block it ran on: no newer state existed
    ],
)
def test_a_call_that_fails_for_its_own_reason_is_refused_after_one_read_of_the_head(head_read_anew):
    """Not retried until the node is blamed: one read of the head shows the failure is the call's."""
    gateway = _ScriptedGateway([True], [head_read_anew])
    ran_on, results = _checked(gateway)
    assert (gateway.runs, gateway.heads_read) == (1, 1) and ran_on is _HEAD_41
    assert results[0][-1]["calls"][-1]["status"] == "0x0"


@pytest.mark.parametrize("refusal", ["CheckpointUnorderedInsertion()", "FailedCall()"])
def test_a_call_behind_its_clock_while_blocks_keep_coming_runs_again_until_it_is_not(refusal):
    """Seen in CI: a member's quick delegations, each mined at once by the relayer, moved a chain
    ahead of the wall clock between each head read and the simulation on it twice in a row, and
    the second run's unordered checkpoint reached the member as a 409. Each head read anew is
    later than the clock the run had: it runs again, on that head, until one passes."""
    gateway = _ScriptedGateway([True, True, False], [_head(43, 12), _head(45, 24)], refusal)
    ran_on, results = _checked(gateway)
    assert (gateway.runs, gateway.heads_read) == (3, 2) and int(ran_on["number"], 16) == 45
    assert results[0][-1]["calls"][-1]["status"] == "0x1"


def test_a_block_of_another_chain_at_the_same_height_is_not_the_block_it_ran_on():
    """A reorganisation under the check: head 41 again, another hash, later than the clock."""
    gateway = _ScriptedGateway([True, False], [_head(41, 5, "0x41b")])
    ran_on, results = _checked(gateway)
    assert (gateway.runs, ran_on["hash"]) == (2, "0x41b") and results[0][-1]["calls"][-1]["status"] == "0x1"


def test_a_chain_that_keeps_moving_ahead_of_the_clock_is_the_nodes_failure():
    gateway = _ScriptedGateway([True], [_head(42 + n, 12 * (n + 1)) for n in range(10)])
    with pytest.raises(NodeUnavailable) as caught:
        _checked(gateway)
    assert "kept changing" in caught.value.detail and gateway.runs == SIMULATION_RUNS


class _RememberingGateway(_Gateway):
    """A process that checked this member on head 41 (nonce 5): its one-round-trip check reads the
    head unchanged, yet simulates on the block mined meanwhile, its clock behind (refused with an
    unordered checkpoint); the two round trips then read head 42 and simulate on it."""

    def __init__(self) -> None:
        super().__init__(5)
        self.head_seen = {"number": hex(41), "timestamp": hex(4_000_000_000), "hash": "0x41"}
        self.nonces_seen = {(FORWARDER, ATTESTER): 5}
        self.refusal = "0x" + keccak(text="CheckpointUnorderedInsertion()")[:4].hex()
        self.methods: list[str] = []

    def simulate(self, calls, shape=None):
        self.methods.append(calls[0][0])
        if calls[0] == HEAD_CALL:  # the one-round-trip check
            refused = {"status": "0x0", "returnData": self.refusal}
            simulation = [{"calls": [{"status": "0x1", "returnData": "0x" + f"{5:064x}"}, refused]}]
            return [self.head_seen, simulation]
        if calls[0][0] == "eth_call":
            return ["0x" + f"{5:064x}", {"number": hex(42), "timestamp": hex(4_000_000_012), "hash": "0x42"}]
        return super().simulate(calls)


class _EmptyBook(_Book):
    def held(self, community, signer, chain_nonce, head):
        return []

    def held_after(self, community, signer, from_nonce, head):
        return from_nonce, []


def test_the_one_round_trip_check_behind_its_clock_takes_the_two_round_trips():
    """The shortcut answers only when its simulation is one the two round trips would accept."""
    gateway = _RememberingGateway()
    ctx = SimpleNamespace(gateway=gateway, book=_EmptyBook(), settings=Settings())
    community = SimpleNamespace(slug="c", contracts={"forwarder": FORWARDER})
    ran_on, results = judged(ctx, community, ATTESTER, 5, [{"gas": hex(1)}])
    assert gateway.methods == [HEAD_CALL[0], "eth_call", "eth_simulateV1"]
    assert int(ran_on["number"], 16) == 42 and results[0][-1]["calls"][-1]["status"] == "0x1"
    # Each head read is noted for the relayer's steps (gateway.head_number): the one read with
    # the shortcut's simulation, then the one read anew.
    assert gateway.heads_noted == [41, 42]


# ---------------------------------------------------------------------- direct replays


def _key_held(nonce: int) -> HeldRequest:
    """A held request the check found signed by the member's key, not expired."""
    request = _held(nonce)
    request = request._replace(payload={**request.payload, "deadline": 5_000_000_000})
    note_key_signed(FORWARDER, ATTESTER, request_key(request))
    return request


class _KeyBook(_Book):
    def held(self, community, signer, chain_nonce, head):
        self.asked.append(chain_nonce)
        return [_key_held(n) for n in range(chain_nonce, 6)]


class _DirectGateway(_Gateway):
    """Answers simulations laid out for direct replays (two blocks: the nonce read alone on the
    state, then the replays and the calls), with the next of `state_nonces` read first; remembers
    each simulation's blocks; the head and nonce read anew are block 42's, nonce 5."""

    def __init__(self, *state_nonces) -> None:
        super().__init__(*state_nonces)
        self.blocks: list[list[dict]] = []
        self.heads_read = 0

    def simulate(self, calls, shape=None):
        if calls[0][0] == "eth_call":
            self.heads_read += 1
            return ["0x" + f"{5:064x}", {"number": hex(42), "timestamp": hex(4_000_000_012)}]
        self.blocks.append(json.loads(calls[0][1])[0]["blockStateCalls"])
        nonce = self.state_nonces.pop(0) if len(self.state_nonces) > 1 else self.state_nonces[0]
        read = {"status": "0x1", "returnData": "0x" + f"{nonce:064x}"}
        return [[{"calls": [read]}, {"calls": [{"status": "0x1", "result": i}]}] for i, _ in enumerate(calls)]


@pytest.mark.parametrize(
    "state_nonces, layouts, asked, heads_read",
    [
        ((4,), [[1, 3]], [], 0),  # the head's state: requests 4 and 5 replayed alone, then the call
        ((3, 3), [[1, 3], [1, 4]], [3], 0),  # an older state: read from its nonce, 3 to 5 replayed
        ((5, 5), [[1, 3], [1, 2]], [5], 1),  # a newer state ran request 4 twice: head and outbox read anew
    ],
)
def test_requests_replayed_alone_are_judged_on_the_state_whose_nonce_they_start_from(
    state_nonces, layouts, asked, heads_read
):
    """Replayed alone, a request the state had executed already would run twice, where the
    forwarder skips it for its used nonce: the answer of a simulation counts only when the
    nonce read first, on its state, is the one the replays start from, and the member's nonce is
    set past the last of them in the block that holds them, never in the block that reads it."""
    gateway, book = _DirectGateway(*state_nonces), _KeyBook()
    ctx = SimpleNamespace(gateway=gateway, book=book, settings=Settings())
    community = SimpleNamespace(slug="c", contracts={"forwarder": FORWARDER})
    head = {"number": hex(41), "timestamp": hex(4_000_000_000)}
    _, results = simulated_behind(ctx, community, ATTESTER, head, 4, [_key_held(4), _key_held(5)], [{"gas": hex(1)}])
    assert [[len(block["calls"]) for block in blocks] for blocks in gateway.blocks] == layouts
    assert (book.asked, gateway.heads_read) == (asked, heads_read)
    for blocks in gateway.blocks:
        assert "stateOverrides" not in blocks[0]
        assert blocks[1]["stateOverrides"] == {FORWARDER: {"stateDiff": {nonce_slot(ATTESTER): "0x" + f"{6:064x}"}}}
        replays = blocks[1]["calls"][:-1]
        assert all(call["from"] == FORWARDER and call["data"].endswith(ATTESTER[2:]) for call in replays)
    assert results[0][-1]["calls"][-1]["result"] == 0


def test_requests_not_known_signed_by_a_key_are_replayed_through_the_forwarder():
    """_held's signatures recover to nobody (and have expired): one block, the nonce read, each
    request replayed through the forwarder's executeBatch, then the call."""
    gateway = _DirectGateway(4)
    _simulate(gateway, _Book())
    assert [len(block["calls"]) for block in gateway.blocks[0]] == [4]


def test_a_burst_of_requests_keeps_the_signature_verdicts_bounded(monkeypatch):
    """A flood of distinct signed requests (each noted once its signature checks) never holds more
    verdicts than the bound: past it, they are forgotten and recovered again when needed."""
    from backend.relay import simulation

    monkeypatch.setattr(simulation, "_KEY_SIGNED", {})
    monkeypatch.setattr(simulation, "_KEY_SIGNED_KEPT", 50)
    for nonce in range(1_000):
        note_key_signed(FORWARDER, ATTESTER, request_key(_held(nonce)))
        assert len(simulation._KEY_SIGNED) <= 50
    assert (FORWARDER, ATTESTER, request_key(_held(999))) in simulation._KEY_SIGNED


@pytest.mark.parametrize(
    "field, value", [("to", "0x" + "cd" * 20), ("data", "0x01"), ("value", 1), ("gas", 2), ("deadline", 2)]
)
def test_a_verdict_on_a_request_is_never_taken_for_another_with_its_signature(monkeypatch, field, value):
    """A wallet (an EIP-7702 account is a key and a wallet at once) may approve any request with the
    same signature bytes at the same nonce: a request noted as signed by the key says nothing of
    another that differs in any field, which is recovered (here, to nobody) and replayed through
    the forwarder."""
    from backend.relay import simulation

    monkeypatch.setattr(simulation, "_KEY_SIGNED", {})
    ctx = SimpleNamespace(gateway=SimpleNamespace(chain_id=31337))
    noted = _held(7)
    note_key_signed(FORWARDER, ATTESTER, request_key(noted))
    assert simulation._key_signed(ctx, FORWARDER, noted)
    other = noted._replace(payload={**noted.payload, field: value})
    assert not simulation._key_signed(ctx, FORWARDER, other)


def test_a_request_is_noted_as_signed_by_its_key_once_the_outbox_accepts_it(monkeypatch):
    """The note is looked up only for requests the outbox holds, and holds the request's calldata:
    a request refused before the outbox (any check) or by it (the database gone) never fills it,
    one a wallet signed is never noted, and the note's key is the held request's own (struct_key,
    as the check makes it)."""
    from dataclasses import replace

    from backend.errors import IndexUnavailable
    from backend.relay import simulation
    from backend.relay import submit as submitting
    from backend.relay.carried import struct_key
    from backend.relay.checks import CheckedRequest

    monkeypatch.setattr(simulation, "_KEY_SIGNED", {})
    monkeypatch.setattr(submitting, "follow", lambda *args, **kwargs: None)
    ctx = SimpleNamespace(book=SimpleNamespace(accept=lambda **row: 7))
    community = SimpleNamespace(slug="c", contracts={"forwarder": FORWARDER})
    struct = (ATTESTER, "0x" + "Cd" * 20, 0, 90_000, 10**10, bytes.fromhex("0a0B"), b"\x5e" * 65)
    signed = CheckedRequest(ATTESTER, "badge", "claim", {}, 3, struct, "0x5e", wallet=False, gas=1)
    submitting.relay(ctx, community, replace(signed, wallet=True), wait=False, client="c")  # type: ignore[arg-type]
    assert simulation._KEY_SIGNED == {}

    def database_gone(**row: object) -> int:
        raise IndexUnavailable("The index database is unavailable")

    gone = SimpleNamespace(book=SimpleNamespace(accept=database_gone))
    with pytest.raises(IndexUnavailable):
        submitting.relay(gone, community, signed, wait=False, client="c")  # type: ignore[arg-type]
    assert simulation._KEY_SIGNED == {}  # not accepted: not noted
    submitting.relay(ctx, community, signed, wait=False, client="c")  # type: ignore[arg-type]
    noted = dict(simulation._KEY_SIGNED)
    assert noted == {(FORWARDER, ATTESTER, struct_key(3, struct)): True}
