"""What backend/relay/carried.py decides without a node: whom to trust with traces and for how
long, one probe at a time, which members write fast enough to carry anew, and a trace whose
overrides the node ignored. On the chain: tests/e2e/test_relay_carried.py."""

from __future__ import annotations

import threading
import time

import pytest

from backend.errors import ChainRefused
from backend.relay import carried as carrying
from backend.relay import simulation
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


# A paid trace's answers (simulation._as_simulated): the payer's balance, the forwarder's nonce of the member.
_FORWARDER, _SIGNER, _PAYER = "0x" + "f0" * 20, "0x" + "a1" * 20, "0x" + "ee" * 20
_SLOT = "0x" + "00" * 31 + "2a"  # a slot the carry sets (its override)
_CARRIED = {_FORWARDER: {_SLOT: ONE}}
_PAID = simulation._Trace(("debug_traceCall", []), _PAYER, _CARRIED, gas=300_000)


def _paid(spent: int, nonce_after: int | None, payer: str = _PAYER, before: int = carrying.TRACE_BALANCE) -> dict:
    post: dict = {payer: {"balance": hex(before - spent), "nonce": 1}}
    if nonce_after is not None:
        post[_FORWARDER] = {"storage": {simulation.nonce_slot(_SIGNER): "0x" + nonce_after.to_bytes(32, "big").hex()}}
    pre = {payer: {"balance": hex(before)}, _FORWARDER: {"storage": {_SLOT: ONE}}}
    return {"pre": pre, "post": post}


def _judged(answer: object) -> list | None:
    """The check's answer, or None where the node is at fault (no traces from it for a while)."""
    judged = simulation._as_simulated(_PAID, answer, _FORWARDER, _SIGNER, 7, 5)
    if isinstance(judged, simulation._Unanswered):
        assert judged.node_at_fault
        return None
    return judged


def test_a_paid_trace_says_whether_the_request_executed_and_the_gas_it_used():
    """Executed: the forwarder's nonce of the member moved one past the request's; the gas is what
    the payer's balance fell by (addresses in any case). Not executed (execute reverts whole): the
    nonce not moved, or moved elsewhere; the gas spent all the same. The member's nonce on the head
    is where their requests held start (a carry's check read it there)."""
    for payer in (_PAYER, _PAYER.upper().replace("0X", "0x")):
        judged = _judged(_paid(116_897, 8, payer))
        assert judged is not None
        assert judged[0]["calls"][0] == {"status": "0x1", "returnData": "0x" + (5).to_bytes(32, "big").hex()}
        assert judged[-1]["calls"][-1] == {"status": "0x1", "gasUsed": hex(116_897), "returnData": "0x"}
    for nonce_after in (None, 7, 9):
        judged = _judged(_paid(30_000, nonce_after))
        assert judged is not None and judged[-1]["calls"][-1]["status"] == "0x0"
        assert judged[-1]["calls"][-1]["gasUsed"] == hex(30_000)
    assert _judged(_paid(21_000, 8)) is not None and _judged(_paid(300_000, 8)) is not None  # the bounds
    unpadded = _paid(116_897, 8)
    unpadded["post"][_FORWARDER]["storage"][simulation.nonce_slot(_SIGNER)] = "0x8"
    assert _judged(unpadded)[-1]["calls"][-1]["status"] == "0x1"  # a word a node wrote without its zeros


def test_a_request_that_pays_the_relayer_is_its_own_doing_not_the_nodes():
    """A call that moved value to the relayer (an account's own code, under EIP-7702) puts the gas
    read out of what a call could use: with another account's balance moved, that is the
    request's doing, and the node keeps its traces (a member could otherwise turn them off for
    everyone); with no other balance moved, the node charged no gas as set."""
    for spent in (0, -5, 20_000):
        paid_back = _paid(spent, 8)
        paid_back["pre"]["0x" + "77" * 20] = {"balance": hex(10**18)}
        paid_back["post"]["0x" + "77" * 20] = {"balance": hex(10**18 - 116_897)}
        judged = simulation._as_simulated(_PAID, paid_back, _FORWARDER, _SIGNER, 7, 5)
        assert judged == simulation._Unanswered(node_at_fault=False)
        assert _judged(_paid(spent, 8)) is None  # nothing else moved: the node's


def test_what_a_paid_trace_does_not_answer_is_simulated_instead():
    """Not a paid trace's answer: None, and the check simulates. A node that charges no gas in a
    trace, pays the sender back, or charges less than any transaction costs or more than the call's
    gas limit; one that ignored the balance's override, or the storage carried (the slot shows the
    chain's value before the call); a balance not written as hex; a trace refused; anything else:
    each the node's doing."""
    refused = ChainRefused("Reverted", {}, "max fee per gas less than block base fee")
    assert _judged(_paid(0, 8)) is None  # no gas charged
    assert _judged(_paid(20_999, 8)) is None and _judged(_paid(300_001, 8)) is None
    assert _judged(_paid(116_897, 8, before=10**18)) is None  # the balance's override not honoured
    ignored = _paid(116_897, 8)
    ignored["pre"][_FORWARDER]["storage"][_SLOT] = TWO  # the carried slot as the chain has it
    assert _judged(ignored) is None
    decimal = _paid(116_897, 8)
    decimal["post"][_PAYER]["balance"] = str(carrying.TRACE_BALANCE - 116_897)
    assert _judged(decimal) is None
    assert _judged(refused) is None
    for answer in (None, "0x07", {}, {"pre": {}, "post": {}}, {"pre": [], "post": {}}, {"error": "x"}):
        assert _judged(answer) is None
    no_balance = _paid(116_897, 8)
    del no_balance["post"][_PAYER]["balance"]
    assert _judged(no_balance) is None
