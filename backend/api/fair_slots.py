"""Slots for work that runs a few at a time, handed out in turn by client.

The lean door for signed requests (signed_submits.py) checks `wait=false` requests a few at a
time (Settings.signed_check_slots): with a node on the same machine, more threads at once only
contend for Python's interpreter lock. Handed out first come, first served, a client that kept
many slow checks queued (a contract wallet slow to answer, heavy calls that end refused) would
have every other client wait behind all of them. Here each client waiting has its own queue, and
a slot that frees goes to the next client in turn: a client alone has every slot, and one with a
hundred requests waiting is granted at most one slot before another client's next request. (Turns
count slots granted, not how long they are held: a client whose checks are slow still holds the
slots it was granted until they end.) A client is an address, as the relaying budgets count it.

All of it runs on the event loop's thread (the door's coroutine), so nothing here locks.
"""

from __future__ import annotations

import asyncio
from collections import deque


class FairSlots:
    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("FairSlots needs at least one slot")
        self.slots = self.free = slots
        self.waiting = 0  # requests waiting for a slot, all clients'
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}
        self._turns: deque[str] = deque()  # clients with someone waiting, in the order they are served

    def waiting_for(self, client: str) -> int:
        """This client's requests waiting for a slot."""
        queue = self._waiting.get(client)
        return len(queue) if queue is not None else 0

    async def acquire(self, client: str) -> None:
        """Until a slot is this request's. Cancelled while waiting, it takes none."""
        if self.free > 0 and not self._turns:
            self.free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._waiting.setdefault(client, deque())
        if not queue:
            self._turns.append(client)
        queue.append(future)
        self.waiting += 1
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():  # handed a slot as it was cancelled
                self.release()
            else:
                self._forget(client, future)
            raise

    def release(self) -> None:
        """A slot given back: to the next client in turn, or free."""
        while self._turns:
            client = self._turns.popleft()
            queue = self._waiting[client]
            future = queue.popleft()
            self.waiting -= 1
            if queue:
                self._turns.append(client)  # its next request waits for its next turn
            else:
                del self._waiting[client]
            if not future.done():
                future.set_result(None)
                return
        self.free += 1

    def _forget(self, client: str, future: asyncio.Future[None]) -> None:
        queue = self._waiting.get(client)
        if queue is None or future not in queue:
            return
        queue.remove(future)
        self.waiting -= 1
        if not queue:
            del self._waiting[client]
            self._turns.remove(client)
