"""The relayer's pack window (backend/relay/worker.py, _gather): woken by a request while a
transaction it sent at this very head waits for its block, it waits `relay_pack_window_seconds`
so that the requests accepted meanwhile go in one transaction; a request alone, the first after
a block, one on a chain that mines each transaction as it comes, a worker that does not lead, or
a node that does not answer, is sent at once."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from backend.errors import NodeUnavailable
from backend.relay.worker import RelayWorker
from backend.settings import Settings


class _Stop:
    def __init__(self) -> None:
        self.waited: list[float] = []

    def wait(self, seconds: float) -> bool:
        self.waited.append(seconds)
        return False


def _worker(
    *, sent_at: int | None, head: int | Exception, leading: bool = True, window: float = 0.03, interval: float | None
):
    def block_number() -> int:
        if isinstance(head, Exception):
            raise head
        return head

    worker = RelayWorker.__new__(RelayWorker)
    worker.settings = Settings(relay_pack_window_seconds=window)
    worker.packing = SimpleNamespace(sent_at_head=sent_at)
    worker.gateway = SimpleNamespace(block_number=block_number)
    worker.leading, worker._stop, worker._block_interval = leading, _Stop(), interval
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
    assert worker._stop.waited == waited
