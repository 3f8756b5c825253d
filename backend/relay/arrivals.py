"""The requests this process accepted since its relayer worker last read the queue.

RelayBook.accept says each one here (its gas share); the worker waits here. Idle, the worker is
woken by each request. Gathering requests for one transaction (worker._gather), it is woken only
once they fill one (`relay_batch_gas` of shares, or `relay_batch_max` requests), or when its time
is up: a transaction goes as soon as it is full, instead of every transaction gathered at once
in a burst just before the block, which a busy machine took long enough to send that the last of
them missed it. Requests accepted by another process are not counted here: the leader finds them
when it next looks (`relay_poll_seconds`).
"""

from __future__ import annotations

import threading
import time


class Arrivals:
    def __init__(self, *, batch_gas: int, batch_max: int) -> None:
        self.batch_gas, self.batch_max = batch_gas, batch_max
        self._changed = threading.Condition()
        self._count = 0  # requests arrived since the queue was last read (taken)
        self._gas = 0  # and their gas shares
        self._woken = False  # a request arrived since the worker last waited
        self._gathering = False
        self._interrupted = False

    def arrived(self, gas: int) -> None:
        """A request accepted into the outbox, with its gas share."""
        with self._changed:
            self._count += 1
            self._gas += gas
            self._woken = True
            if not self._gathering or self._full():
                self._changed.notify_all()

    def _full(self) -> bool:
        """Whether the requests arrived fill a transaction: as many as it takes, or no room for
        one more of their average share."""
        return self._count >= self.batch_max or (
            self._count > 0 and self._gas + self._gas / self._count > self.batch_gas
        )

    def wait(self, seconds: float) -> bool:
        """Idle: until a request arrives, at most `seconds`. Whether one did (since the last wait)."""
        with self._changed:
            if not (self._woken or self._interrupted):
                self._changed.wait(seconds)
            woken, self._woken = self._woken, False
            return woken

    def gather(self, seconds: float) -> None:
        """Until the requests arrived fill a transaction, at most `seconds`."""
        until = time.monotonic() + seconds
        with self._changed:
            self._gathering = True
            try:
                while not (self._full() or self._interrupted):
                    left = until - time.monotonic()
                    if left <= 0:
                        return
                    self._changed.wait(left)
            finally:
                self._gathering = False
                self._woken = False

    def taken(self) -> None:
        """The worker reads the queue: whatever arrived so far goes now."""
        with self._changed:
            self._count = self._gas = 0

    def interrupt(self) -> None:
        """The worker stops: no more waiting."""
        with self._changed:
            self._interrupted = True
            self._changed.notify_all()
