"""The relayer's pack window (backend/relay/worker.py, _gather): woken by a request while a
transaction it sent at this very head waits for its block, it waits until shortly before the next
block is due, and at least `relay_pack_window_seconds`, so that the requests accepted meanwhile go
in one transaction; a request alone, the first after a block, one on a chain that mines each
transaction as it comes, a worker that does not lead, or a node that does not answer, is sent at
once."""

from __future__ import annotations

from collections import deque
from types import SimpleNamespace

import pytest

from backend.errors import NodeUnavailable
from backend.relay.worker import RelayWorker
from backend.settings import Settings


class _Arrivals:
    def __init__(self) -> None:
        self.waited: list[float] = []

    def gather(self, seconds: float) -> None:
        self.waited.append(seconds)


def _worker(
    *,
    sent_at: int | None,
    head: int | Exception,
    leading: bool = True,
    window: float = 0.03,
    interval: float | None,
    lead: float = 0.3,
    head_seen_at: float | None = None,
):
    def head_number(max_age: float, not_below: int | None = None) -> int:
        if isinstance(head, Exception):
            raise head
        return head

    worker = RelayWorker.__new__(RelayWorker)
    worker.settings = Settings(relay_pack_window_seconds=window, relay_send_lead_seconds=lead)
    worker.packing = SimpleNamespace(sent_at_head=sent_at)
    worker.gateway = SimpleNamespace(head_number=head_number)
    worker.leading, worker.arrivals, worker._block_interval = leading, _Arrivals(), interval
    worker._head_changed_at = head_seen_at
    return worker


@pytest.mark.parametrize(
    "sent_at, head, leading, window, interval, waited",
    [
        (41, 41, True, 0.03, 1.0, [0.03]),  # its transaction of this block still waits: gather
        (41, 42, True, 0.03, 1.0, []),  # a block came since it sent: at once
        (None, 41, True, 0.03, 1.0, []),  # nothing sent yet: at once
        (41, 41, False, 0.03, 1.0, []),  # another process sends
        (41, 41, True, 0.0, 1.0, []),  # the window turned off
        (41, 41, True, 0.03, 0.02, []),  # blocks a transaction each (automining): nothing to gather
        (41, 41, True, 0.03, None, []),  # no two blocks seen yet
        (41, NodeUnavailable("the node is away"), True, 0.03, 1.0, []),  # the step will say why
    ],
)
def test_a_request_waits_the_window_only_behind_a_transaction_of_the_same_block(
    sent_at, head, leading, window, interval, waited
):
    worker = _worker(sent_at=sent_at, head=head, leading=leading, window=window, interval=interval)
    worker._gather()
    assert worker.arrivals.waited == waited


@pytest.fixture
def clock(monkeypatch):
    """The worker's monotonic clock, read at 100.0 s."""
    monkeypatch.setattr("backend.relay.worker.time.monotonic", lambda: 100.0)


@pytest.mark.parametrize(
    "interval, lead, head_seen_at, waited",
    [
        (1.0, 0.3, 99.9, 0.6),  # the head seen 0.1 s ago, the next due in 0.9 s: leave 0.3 s before it
        (1.0, 0.3, 99.5, 0.2),  # later in the block, less left to gather
        (1.0, 0.3, 99.35, 0.05),
        (1.0, 0.3, 99.32, 0.03),  # within the lead of the next block: the window still gathers a few
        (1.0, 0.3, 98.0, 0.03),  # the next block is late: the window alone
        (1.0, 0.0, 99.9, 0.65),  # no lead set: a quarter of the block time still
        (12.0, 0.3, 94.0, 3.0),  # 12-s slots: leave a quarter of the slot (3 s) before it
        (2.0, 1.5, 99.0, 0.03),  # a lead longer than what is left
        (1.0, 0.3, None, 0.03),  # no head seen yet: the window
    ],
)
def test_gathered_requests_leave_shortly_before_the_next_block_is_due(clock, interval, lead, head_seen_at, waited):
    worker = _worker(sent_at=41, head=41, interval=interval, lead=lead, head_seen_at=head_seen_at)
    worker._gather()
    assert worker.arrivals.waited == [pytest.approx(waited)]


def test_the_block_time_is_the_median_of_the_last_heads_seen():
    """A head noticed late, and a block missed, do not move the guess; a chain that changes its
    block time moves it once most of the heads seen are the new time's."""
    worker = RelayWorker.__new__(RelayWorker)
    worker._head_changed_at, worker._intervals = None, deque(maxlen=9)
    seen = [0.0, 1.0, 2.0, 3.3, 4.0, 5.0, 7.0, 8.0, 9.0, 10.0]  # 3.3: noticed late; 5.0 to 7.0: a block missed
    for at in seen:
        worker._saw_new_head(at)
    assert worker._block_interval == pytest.approx(1.0)
    for at in [12.0, 14.0, 16.0]:
        worker._saw_new_head(at)
    assert worker._block_interval == pytest.approx(1.0)  # 4 intervals of 2 s among 9 (one a missed block): not yet
    worker._saw_new_head(18.0)
    assert worker._block_interval == pytest.approx(2.0)
