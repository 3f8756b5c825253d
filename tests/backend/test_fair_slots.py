"""Slots handed out in turn by client (backend/api/fair_slots.py): the signed-submit door checks
`wait=false` requests a few at a time, and a client with many requests waiting must not have
every other client wait behind all of them."""

from __future__ import annotations

import asyncio

import pytest

from backend.api.fair_slots import FairSlots


async def _held(slots: FairSlots, client: str, log: list[str], done: asyncio.Event) -> None:
    await slots.acquire(client)
    log.append(client)
    try:
        await done.wait()
    finally:
        slots.release()


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_a_client_alone_has_every_slot():
    async def run() -> None:
        slots, log, done = FairSlots(3), [], asyncio.Event()
        tasks = [asyncio.create_task(_held(slots, "a", log, done)) for _ in range(5)]
        await _settle()
        assert log == ["a"] * 3 and slots.waiting == 2 and slots.free == 0
        done.set()
        await asyncio.gather(*tasks)
        assert log == ["a"] * 5 and slots.free == 3 and slots.waiting == 0

    asyncio.run(asyncio.wait_for(run(), 10))  # a slot never handed out fails, never hangs


def test_a_slot_that_frees_goes_to_the_next_client_in_turn():
    """Client a has six requests waiting when b and c send one each: b's and c's go before a's
    third; first come, first served would have them wait for all six."""

    async def run() -> None:
        slots, log = FairSlots(1), []
        gates = {}

        async def one(client: str, n: int) -> None:
            gates[(client, n)] = asyncio.Event()
            await _held(slots, client, log, gates[(client, n)])

        tasks = [asyncio.create_task(one("a", n)) for n in range(6)]
        await _settle()
        tasks += [asyncio.create_task(one("b", 0)), asyncio.create_task(one("c", 0))]
        await _settle()
        for _ in range(8):  # each holder lets go in turn
            holder = (log[-1], sum(1 for c in log[:-1] if c == log[-1]))
            gates[holder].set()
            await _settle()
        await asyncio.gather(*tasks)
        assert log == ["a", "a", "b", "c", "a", "a", "a", "a"]

    asyncio.run(asyncio.wait_for(run(), 10))  # a slot never handed out fails, never hangs


@pytest.mark.parametrize("when", ["waiting", "handed a slot"])
def test_a_request_cancelled_takes_no_slot(when):
    """A request cancelled while it waits leaves the queue; one cancelled as it is handed a slot
    gives the slot back, to the next in turn: either way every slot is free again at the end."""

    async def run() -> None:
        slots, log, done = FairSlots(1), [], asyncio.Event()
        await slots.acquire("a")  # the test holds the one slot
        second = asyncio.create_task(_held(slots, "b", log, done))
        third = asyncio.create_task(_held(slots, "c", log, done))
        await _settle()
        assert slots.waiting == 2
        if when == "waiting":
            second.cancel()
            await _settle()
            assert slots.waiting == 1
            slots.release()
        else:
            slots.release()  # the slot is b's now ...
            second.cancel()  # ... and b is cancelled before it runs: handed on to c
        await _settle()
        assert log == ["c"]
        done.set()
        await third
        with pytest.raises(asyncio.CancelledError):
            await second
        assert slots.free == 1 and slots.waiting == 0

    asyncio.run(asyncio.wait_for(run(), 10))  # a slot never handed out fails, never hangs


def test_the_waiting_are_counted_by_client():
    async def run() -> None:
        slots, log, done = FairSlots(1), [], asyncio.Event()
        tasks = [asyncio.create_task(_held(slots, client, log, done)) for client in "aab"]
        await _settle()
        assert (slots.waiting, slots.waiting_for("a"), slots.waiting_for("b"), slots.waiting_for("c")) == (2, 1, 1, 0)
        done.set()
        await asyncio.gather(*tasks)
        assert slots.waiting == 0 and slots.waiting_for("a") == 0

    asyncio.run(asyncio.wait_for(run(), 10))


def test_no_slots_is_refused():
    with pytest.raises(ValueError):
        FairSlots(0)
