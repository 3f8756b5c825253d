"""Batches asked for at once by several threads share round trips (backend/chain/combining.py).
Most tests let one round trip be under way at a time (at_once=1), so that the second batch
already waits; the service lets two (ROUND_TRIPS_AT_ONCE), tested on its own.

The node here is a function that answers each call with its own text and can be held in the
middle of a round trip, so that a test decides what is in flight when the next batch comes;
tests/e2e runs the same combiner under every relay check, on Anvil.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from backend.chain.combining import CombinedBatches
from backend.errors import NodeUnavailable

WAIT = 10  # seconds: a test that hangs fails instead


class Node:
    """Answers each call with (method, params); records each round trip; `hold` keeps the next
    round trip in the node until `release`."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds  # each round trip's time in the node
        self.round_trips: list[list[tuple[str, object]]] = []
        self.held = threading.Event()  # a round trip arrived and is held
        self._release = threading.Event()
        self._release.set()
        self.fail_next: BaseException | None = None
        self.lock = threading.Lock()

    def hold(self) -> None:
        self._release.clear()
        self.held.clear()

    def release(self) -> None:
        self._release.set()

    def send(self, calls: list[tuple[str, object]]) -> list[object]:
        with self.lock:
            self.round_trips.append(list(calls))
            failure, self.fail_next = self.fail_next, None
        self.held.set()
        assert self._release.wait(WAIT)
        time.sleep(self.seconds)
        if failure is not None:
            raise failure
        return [("answer", method, params) for method, params in calls]


def asking(combiner: CombinedBatches, calls: list[tuple[str, object]]) -> tuple[threading.Thread, dict]:
    """A thread that asks for `calls`; what it got (answers or error) lands in the dict."""
    got: dict = {}

    def run() -> None:
        try:
            got["answers"] = combiner.batch(calls)
        except BaseException as exc:
            got["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, got


def waiting(combiner: CombinedBatches, count: int) -> None:
    """Until `count` batches wait behind the round trip in flight."""
    for _ in range(WAIT * 1000):
        with combiner._lock:
            if len(combiner._waiting) >= count:
                return
        threading.Event().wait(0.001)
    raise AssertionError(f"{count} batches never waited")


def test_a_batch_alone_goes_at_once_as_asked() -> None:
    node = Node()
    combiner = CombinedBatches(node.send, most_calls=100, at_once=1)
    calls = [("eth_getBlockByNumber", ["latest", False]), ("eth_simulateV1", "[1]")]
    assert combiner.batch(calls) == [("answer", *call) for call in calls]
    assert node.round_trips == [calls]
    assert combiner.batch(calls) == [("answer", *call) for call in calls]  # and again: nothing stays in flight
    assert len(node.round_trips) == 2


def test_batches_asked_while_one_is_in_flight_go_together_each_answered_its_own() -> None:
    node = Node()
    combiner = CombinedBatches(node.send, most_calls=100, at_once=1)
    head = ("eth_getBlockByNumber", ["latest", False])
    node.hold()
    first, got_first = asking(combiner, [head, ("eth_simulateV1", "[0]")])
    assert node.held.wait(WAIT)
    others = [asking(combiner, [head, ("eth_simulateV1", f"[{i}]"), ("eth_call", [{"n": i}])]) for i in (1, 2, 3)]
    waiting(combiner, 3)
    node.release()
    for thread, _ in [(first, got_first), *others]:
        thread.join(WAIT)
    assert got_first["answers"] == [("answer", *head), ("answer", "eth_simulateV1", "[0]")]
    for i, (_, got) in zip((1, 2, 3), others):
        assert got["answers"] == [
            ("answer", *head),
            ("answer", "eth_simulateV1", f"[{i}]"),
            ("answer", "eth_call", [{"n": i}]),
        ]
    # Two round trips: the first alone, then the three that came meanwhile, the head read once.
    assert len(node.round_trips) == 2
    second = node.round_trips[1]
    assert second.count(head) == 1 and len(second) == 1 + 3 * 2
    assert (combiner.round_trips, combiner.batches) == (2, 4)


def test_a_group_holds_at_most_most_calls_and_the_rest_go_next() -> None:
    node = Node()
    combiner = CombinedBatches(node.send, most_calls=4, at_once=1)
    node.hold()
    first, _ = asking(combiner, [("a", [0])])
    assert node.held.wait(WAIT)
    askers = [asking(combiner, [("b", [i]), ("c", [i])]) for i in range(5)]
    waiting(combiner, 5)
    node.release()
    first.join(WAIT)
    for thread, got in askers:
        thread.join(WAIT)
        assert "answers" in got
    assert [len(trip) for trip in node.round_trips] == [1, 4, 4, 2]


def test_a_failed_round_trip_is_told_to_every_batch_waiting_at_once() -> None:
    node = Node()
    combiner = CombinedBatches(node.send, most_calls=2, at_once=1)
    node.hold()
    node.fail_next = NodeUnavailable("The chain node at http://node cannot be reached (TimeoutError)")
    first, got_first = asking(combiner, [("a", [0])])
    assert node.held.wait(WAIT)
    askers = [asking(combiner, [("b", [i]), ("c", [i])]) for i in range(3)]  # three groups' worth
    waiting(combiner, 3)
    node.release()
    for thread, got in [(first, got_first), *askers]:
        thread.join(WAIT)
        assert isinstance(got["error"], NodeUnavailable)
    assert len(node.round_trips) == 1  # nobody waited for a round trip of their own to fail
    # And the next batch goes, alone and at once.
    assert combiner.batch([("d", [1])]) == [("answer", "d", [1])]


def test_a_failure_inside_the_group_is_told_to_its_batches_and_the_next_group_still_goes() -> None:
    node = Node()
    combiner = CombinedBatches(node.send, most_calls=2, at_once=1)
    node.hold()
    first, got_first = asking(combiner, [("a", [0])])
    assert node.held.wait(WAIT)
    second, got_second = asking(combiner, [("b", [1])])
    waiting(combiner, 1)
    node.fail_next = NodeUnavailable("down")  # the second round trip fails
    node.release()
    first.join(WAIT)
    second.join(WAIT)
    assert got_first["answers"] == [("answer", "a", [0])]
    assert isinstance(got_second["error"], NodeUnavailable)


def test_many_threads_each_get_exactly_their_answers() -> None:
    node = Node(seconds=0.0005)  # as a round trip to a local node takes
    combiner = CombinedBatches(node.send, most_calls=16)
    rng = random.Random(7)
    shared = [("eth_getBlockByNumber", ["latest", False]), ("eth_chainId", [])]

    def one(i: int) -> bool:
        calls = [rng.choice(shared)] + [("eth_simulateV1", f'[{{"n":{i},"k":{k}}}]') for k in range(rng.randint(0, 3))]
        return combiner.batch(calls) == [("answer", *call) for call in calls]

    with ThreadPoolExecutor(32) as pool:
        assert all(pool.map(one, range(2000), timeout=60))
    assert combiner.batches == 2000
    assert combiner.round_trips == len(node.round_trips) < 2000  # some were shared
    assert max(len(trip) for trip in node.round_trips) <= 16


@pytest.mark.parametrize("most_calls", [0, 1])
def test_a_cap_of_one_still_answers_every_batch(most_calls: int) -> None:
    node = Node()
    combiner = CombinedBatches(node.send, most_calls=most_calls, at_once=1)
    node.hold()
    first, _ = asking(combiner, [("a", [0]), ("a", [1])])
    assert node.held.wait(WAIT)
    askers = [asking(combiner, [("b", [i])]) for i in range(3)]
    waiting(combiner, 3)
    node.release()
    first.join(WAIT)
    for thread, got in askers:
        thread.join(WAIT)
        assert got["answers"] == [("answer", "b", [askers.index((thread, got))])]
    assert [len(trip) for trip in node.round_trips] == [2, 1, 1, 1]


def test_the_service_lets_two_round_trips_go_at_once_and_the_third_waits() -> None:
    node = Node()
    combiner = CombinedBatches(node.send, most_calls=100)  # ROUND_TRIPS_AT_ONCE: 2
    node.hold()
    first, _ = asking(combiner, [("a", [1])])
    second, _ = asking(combiner, [("a", [2])])
    for _ in range(WAIT * 1000):  # both in the node: neither waited for the other
        if len(node.round_trips) == 2:
            break
        time.sleep(0.001)
    assert len(node.round_trips) == 2
    third, got_third = asking(combiner, [("a", [3])])
    fourth, got_fourth = asking(combiner, [("a", [4])])
    waiting(combiner, 2)
    node.release()
    for thread in (first, second, third, fourth):
        thread.join(WAIT)
    assert got_third["answers"] == [("answer", "a", [3])] and got_fourth["answers"] == [("answer", "a", [4])]
    assert len(node.round_trips) == 3  # the third and the fourth together
