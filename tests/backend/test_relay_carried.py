"""What backend/relay/carried.py decides without a node: whom to trust with traces and for how
long, one probe at a time, which members write fast enough to carry anew, and a trace whose
overrides the node ignored. On the chain: tests/e2e/test_relay_carried.py."""

from __future__ import annotations

import threading
import time

import pytest

from backend.relay import carried as carrying
from backend.relay.book import HeldRequest

NODE = "http://node.example"
SLOT, ONE, TWO = "0x" + "00" * 31 + "01", "0x" + "00" * 31 + "01", "0x" + "00" * 31 + "02"


@pytest.fixture(autouse=True)
def _fresh():
    carrying._NODES.clear()
    carrying._RECENT.clear()
    yield
    carrying._NODES.clear()
    carrying._RECENT.clear()


def test_a_node_is_probed_by_one_thread_while_the_others_replay():
    began = [carrying.begin_probe(NODE) for _ in range(5)]
    assert began[0] is not None and began[1:] == [None] * 4
    assert carrying.trusted(NODE) is False  # while it is probed: replay
    carrying.note_node(NODE, True, carrying.TRUSTED_SECONDS, since=began[0])
    assert carrying.trusted(NODE) is True
    assert carrying.begin_probe(NODE) is None  # trusted: no probe


def test_threads_racing_for_the_probe_leave_one_prober():
    barrier, began = threading.Barrier(8), []

    def race() -> None:
        barrier.wait()
        began.append(carrying.begin_probe(NODE))

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(b is not None for b in began) == 1


def test_a_probe_answered_after_a_refusal_does_not_undo_it():
    began = carrying.begin_probe(NODE)
    time.sleep(0.01)
    carrying.note_node(NODE, False, carrying.REFUSED_SECONDS)  # a batch refused meanwhile
    carrying.note_node(NODE, True, carrying.TRUSTED_SECONDS, since=began)
    assert carrying.trusted(NODE) is False


@pytest.mark.parametrize("verdict", [True, False])
def test_every_verdict_expires_and_the_node_is_probed_again(verdict):
    carrying.note_node(NODE, verdict, 0.0)
    assert carrying.trusted(NODE) is None
    assert carrying.begin_probe(NODE) is not None


def test_a_member_checked_four_times_within_a_second_writes_fast():
    member = ("0xforwarder", "0xsigner")
    assert [carrying.busy(*member) for _ in range(5)] == [False, False, False, True, True]
    carrying._RECENT[member] = tuple(time.monotonic() - 2.0 + i * 0.5 for i in range(3))  # one every half second
    assert not carrying.busy(*member)
    assert not carrying.busy("0xforwarder", "0xanother")


def test_a_trace_that_shows_the_chains_value_where_the_override_set_another_is_caught():
    writes = {"0xab": {SLOT: TWO}}
    honoured = {"pre": {"0xAB": {"storage": {SLOT: TWO}}}, "post": {"0xab": {"storage": {SLOT: ONE}}}}
    ignored = {"pre": {"0xab": {"storage": {SLOT: ONE}}}, "post": {"0xab": {"storage": {SLOT: TWO}}}}
    elsewhere = {"pre": {"0xcd": {"storage": {SLOT: ONE}}}, "post": {}}  # a slot the override did not set
    assert carrying.overrides_honoured(writes, honoured)
    assert not carrying.overrides_honoured(writes, ignored)
    assert carrying.overrides_honoured(writes, elsewhere)
    assert carrying.overrides_honoured(writes, None)  # not a trace: after_trace refuses it


def _request(nonce: int, data: str) -> HeldRequest:
    payload = {"from": "0x" + "a1" * 20, "to": "0x" + "b2" * 20, "value": 0, "gas": 90_000, "deadline": 10**10}
    return HeldRequest(nonce, {**payload, "data": data, "signature": "0x" + "5e" * 65}, 100_000)


def test_a_carry_is_never_taken_for_another_request_with_the_same_nonce_and_signature():
    """A member's newest request is traced before the outbox accepts it; if it is refused, a
    wallet's other request at that nonce may carry the same signature bytes. The carry covers the
    request traced, whole, and no other."""
    member, head, clock = ("0x" + "f0" * 20, "0x" + "a1" * 20), "0x" + "11" * 32, 1_000
    traced, other = _request(3, "0x01"), _request(3, "0x02")
    carrying._TRACED.clear()
    carrying.note_traced(*member, carrying.Carried(head, clock, (carrying.request_key(traced),), {}))
    try:
        assert carrying.carried_over(*member, head, clock, [other]).requests == ()
        assert carrying.carried_over(*member, head, clock, [traced]).requests == (carrying.request_key(traced),)
    finally:
        carrying._TRACED.clear()
        carrying._CARRIED.clear()
