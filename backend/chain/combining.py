"""Batches of calls that several threads ask of the node at once, sent as one round trip.

Each relay check (in a request thread of its own) reads the head and simulates its request in one
JSON-RPC batch. Under load several checks ask at once, each in a round trip of its own. The node
pays a fixed cost for each HTTP request it answers: on Anvil an eth_simulateV1 of one call cost
0.20 ms of CPU alone, and 0.065 ms in a batch of eight. The service pays one for each too (writing
the request, the socket, reading the answer), and the head was read once a check.

Here a batch asked for while two round trips are under way waits for one of them to come back,
then goes with every batch asked for meanwhile, in one round trip. A call that is the same in
several of them (the head) is sent once, and its answer given to each. A batch asked for with
fewer under way goes at once: nothing waits on a quiet service, nor for a single other check
(at a steady rate two checks often overlap, and the second waiting only to go alone cost more
than it saved). A thread waits for one round trip before its own (for more only when more calls
wait than a round trip holds), and the node answers the same calls in fewer requests.

A group holds at most `most_calls` calls (some providers refuse longer batches); the batches
waiting past it go in the next round trip. When the node fails a round trip (it is down, or
does not answer in time), every batch waiting is told at once, instead of each waiting for a
round trip of its own to fail in turn.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

Call = tuple[str, Any]

# Round trips under way before a batch waits to share the next: at a steady rate two checks often
# overlap, and the second waiting for the first's answer only to go alone cost more than it saved
# (measured at 100 writes a second: 0.2 ms of the service's CPU a write); a third seldom comes
# unless the service is busy, and then those waiting go together.
ROUND_TRIPS_AT_ONCE = 2


@dataclass(eq=False)
class _Asked:
    """One thread's batch: its calls, and then either its answers, its error, or a group to send."""

    calls: Sequence[Call]
    ready: threading.Event = field(default_factory=threading.Event)
    group: list[_Asked] | None = None  # set when this thread is to send a group (its own batch first)
    answers: list[Any] | None = None
    error: BaseException | None = None


def _identity(call: Call) -> tuple[str, str]:
    """What makes two calls the same call: the method and the params as JSON text."""
    method, params = call
    return method, params if isinstance(params, str) else json.dumps(params, sort_keys=True)


class CombinedBatches:
    """`batch(calls)` answers as `send(calls)` would, in call order; batches asked for at once
    share round trips. `send` must answer each call in place (a call's own failure as a value),
    and raise only when the round trip as a whole failed."""

    def __init__(
        self, send: Callable[[list[Call]], list[Any]], *, most_calls: int, at_once: int = ROUND_TRIPS_AT_ONCE
    ) -> None:
        self._send = send
        self._most_calls = max(1, most_calls)
        self._at_once = max(1, at_once)
        self._lock = threading.Lock()
        self._waiting: list[_Asked] = []
        self._in_flight = 0  # round trips under way
        # Round trips sent and batches answered: how much was shared (tests, and the curious).
        self.round_trips = 0
        self.batches = 0

    def batch(self, calls: Sequence[Call]) -> list[Any]:
        asked = _Asked(calls)
        with self._lock:
            if self._in_flight >= self._at_once:
                self._waiting.append(asked)
            else:
                self._in_flight += 1
                asked.group = [asked]
        if asked.group is None:
            asked.ready.wait()
        if asked.group is not None:  # this thread sends its group, then hands the next one on
            try:
                self._send_group(asked.group)
            except BaseException as exc:
                self._hand_on(exc)
                raise
            self._hand_on(None)
        if asked.error is not None:
            raise asked.error
        assert asked.answers is not None
        return asked.answers

    def _send_group(self, group: list[_Asked]) -> None:
        """One round trip for the group's calls, each distinct call once; every batch of the group
        but the sender's own is told its answers (or the round trip's error)."""
        combined: list[Call] = []
        where: list[list[int]] = []
        if len(group) == 1:
            combined = list(group[0].calls)
            where = [list(range(len(combined)))]
        else:
            index: dict[tuple[str, str], int] = {}
            for asked in group:
                places = []
                for call in asked.calls:
                    identity = _identity(call)
                    if identity not in index:
                        index[identity] = len(combined)
                        combined.append(call)
                    places.append(index[identity])
                where.append(places)
        try:
            answers = self._send(combined)
        except BaseException as exc:
            for asked in group:
                asked.error = exc
            raise
        else:
            for asked, places in zip(group, where):
                asked.answers = [answers[i] for i in places]
        finally:
            with self._lock:
                self.round_trips += 1
                self.batches += len(group)
            for asked in group[1:]:
                asked.ready.set()

    def _hand_on(self, failed: BaseException | None) -> None:
        """The next group to its first batch's thread, which sends it; or, when the node failed the
        round trip just sent, that failure to every batch waiting."""
        with self._lock:
            told, self._waiting = self._waiting, []
            if not told or failed is not None:
                self._in_flight -= 1
            else:
                group = [told.pop(0)]
                calls = len(group[0].calls)
                while told and calls + len(told[0].calls) <= self._most_calls:
                    calls += len(told[0].calls)
                    group.append(told.pop(0))
                self._waiting, told = told, []
                group[0].group = group
                group[0].ready.set()
        for asked in told:
            asked.error = failed
            asked.ready.set()
