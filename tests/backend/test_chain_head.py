"""The newest block's number, shared by every part of the service that reads it
(backend/chain/gateway.py, head_number): the relay checks read the head with every write, and the
relayer's steps take theirs for a moment instead of asking the node again."""

from __future__ import annotations

import pytest

from backend.chain.gateway import ChainGateway


class _Rpc:
    def __init__(self, number: int) -> None:
        self.number, self.calls = number, 0

    def request(self, method, *params):
        assert method == "eth_blockNumber"
        self.calls += 1
        return hex(self.number)


@pytest.fixture
def clock(monkeypatch):
    """The gateway's monotonic clock, set by the test."""
    now = [100.0]
    monkeypatch.setattr("backend.chain.gateway.time.monotonic", lambda: now[0])
    return now


def _gateway(number: int) -> ChainGateway:
    gateway = ChainGateway.__new__(ChainGateway)
    gateway.rpc = _Rpc(number)  # type: ignore[assignment]
    gateway._head_noted = None
    return gateway


def test_a_head_read_moments_ago_is_taken_and_an_older_one_read_again(clock):
    gateway = _gateway(50)
    gateway.note_head({"number": hex(42)}, asked_at=99.99)
    assert gateway.head_number(max_age=0.02) == 42 and gateway.rpc.calls == 0
    clock[0] = 100.02
    assert gateway.head_number(max_age=0.02) == 50 and gateway.rpc.calls == 1
    # The node's answer is noted in turn: the next step within the age takes it.
    assert gateway.head_number(max_age=0.02) == 50 and gateway.rpc.calls == 1


def test_an_answer_asked_for_before_the_one_noted_does_not_replace_it(clock):
    """Two checks' answers come back out of order: the one asked for first (its head older, maybe)
    leaves the later one noted."""
    gateway = _gateway(50)
    gateway.note_head({"number": hex(43)}, asked_at=99.995)
    gateway.note_head({"number": hex(42)}, asked_at=99.990)
    assert gateway.head_number(max_age=0.02) == 43
    # A read asked for later is noted whatever its number: a chain replaced by a shorter one.
    gateway.note_head({"number": hex(7)}, asked_at=99.999)
    assert gateway.head_number(max_age=0.02) == 7 and gateway.rpc.calls == 0


def test_nothing_noted_reads_the_node(clock):
    gateway = _gateway(9)
    assert gateway.head_number(max_age=10.0) == 9 and gateway.rpc.calls == 1


def test_a_noted_head_below_one_the_caller_saw_has_the_node_asked(clock):
    """Two reads answered in another order than asked (or two notes at once) may leave an older
    head noted: the relayer, having seen a newer one, asks the node instead of going back."""
    gateway = _gateway(43)
    gateway.note_head({"number": hex(42)}, asked_at=99.99)
    assert gateway.head_number(max_age=0.02, not_below=42) == 42 and gateway.rpc.calls == 0
    assert gateway.head_number(max_age=0.02, not_below=43) == 43 and gateway.rpc.calls == 1
