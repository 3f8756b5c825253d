"""Synchronous code run on the event loop (backend/chain/on_loop.py), as a relay check is: its
answer and its failures reach the caller, each wait is the loop's (others run meanwhile), the
request's context (its language) goes with it, and a cancellation reaches it where it waits."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import threading

import pytest

from backend.chain.on_loop import on_loop, run_on_loop, wait_on_loop

LANGUAGE: contextvars.ContextVar[str] = contextvars.ContextVar("language", default="en")


def test_the_answer_and_each_wait_go_through():
    def check() -> int:
        assert on_loop()
        first = wait_on_loop(asyncio.sleep(0, result=20))
        return first + wait_on_loop(asyncio.sleep(0, result=22))

    assert asyncio.run(run_on_loop(check)) == 42
    assert asyncio.run(run_on_loop(lambda: 7)) == 7  # one that never waits


def test_a_failure_of_what_is_awaited_is_raised_where_it_waited_and_one_not_caught_reaches_the_caller():
    async def refused() -> None:
        raise ConnectionRefusedError("no node")

    def check() -> str:
        try:
            wait_on_loop(refused())
        except ConnectionRefusedError as exc:
            said = str(exc)
        wait_on_loop(refused())  # not caught this time
        return said

    with pytest.raises(ConnectionRefusedError, match="no node"):
        asyncio.run(run_on_loop(check))


def test_the_loop_runs_others_while_one_waits():
    order: list[str] = []

    async def both() -> None:
        slow_may_go = asyncio.Event()

        def slow() -> None:
            order.append("slow waits")
            wait_on_loop(slow_may_go.wait())
            order.append("slow done")

        def quick() -> None:
            order.append("quick runs")
            slow_may_go.set()

        await asyncio.gather(run_on_loop(slow), run_on_loop(quick))

    asyncio.run(both())
    assert order == ["slow waits", "quick runs", "slow done"]


def test_the_callers_context_goes_with_it_and_what_it_sets_stays_with_it():
    def check() -> str:
        seen = LANGUAGE.get()
        LANGUAGE.set("de")
        wait_on_loop(asyncio.sleep(0))
        return seen + "/" + LANGUAGE.get()

    async def request() -> tuple[str, str]:
        LANGUAGE.set("es")  # as the language middleware sets the request's
        answer = await run_on_loop(check)
        return answer, LANGUAGE.get()

    assert asyncio.run(request()) == ("es/de", "es")


def test_a_cancelled_caller_is_cancelled_inside_where_it_waits():
    cleaned_up = []

    def check() -> None:
        try:
            wait_on_loop(asyncio.sleep(60))
        finally:
            cleaned_up.append(True)  # a stream closed, a connection given back

    async def cancelled() -> None:
        task = asyncio.ensure_future(run_on_loop(check))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancelled())
    assert cleaned_up == [True]


def test_waiting_on_the_loop_is_only_for_code_run_there():
    assert not on_loop()
    with pytest.raises(RuntimeError, match="run_on_loop"):
        wait_on_loop(asyncio.sleep(0))
    in_thread: list[bool] = []
    thread = threading.Thread(target=lambda: in_thread.append(on_loop()))
    thread.start()
    thread.join()
    assert in_thread == [False]


def test_two_checks_interleaved_each_keep_their_own_language():
    async def request(language: str, turns: asyncio.Event, other: asyncio.Event) -> list[str]:
        LANGUAGE.set(language)

        def check() -> list[str]:
            seen = [LANGUAGE.get()]
            other.set()
            wait_on_loop(turns.wait())  # the other check runs here
            return [*seen, LANGUAGE.get()]

        return await run_on_loop(check)

    async def both() -> list[list[str]]:
        first, second = asyncio.Event(), asyncio.Event()
        return list(await asyncio.gather(request("es", first, second), request("de", second, first)))

    assert asyncio.run(both()) == [["es", "es"], ["de", "de"]]


class _Pending:
    """An awaitable that never completes: what a round trip under way looks like to the loop."""

    def __await__(self):
        yield None


def test_a_check_whose_coroutine_is_closed_unfinished_awaits_nothing_more_and_is_ended():
    """A request's task collected unfinished closes its coroutine (GeneratorExit where it awaits):
    nothing more is awaited (which would raise 'coroutine ignored GeneratorExit'), and the check,
    never resumed, is ended as its greenlet is collected: its cleanup runs."""
    ended: list[str] = []

    def check() -> None:
        try:
            wait_on_loop(_Pending())
        finally:
            ended.append("cleaned up")

    coroutine = run_on_loop(check)
    coroutine.send(None)  # the check runs to its round trip, and the coroutine waits for it
    coroutine.close()  # no RuntimeError: nothing awaited again
    del coroutine
    gc.collect()
    assert ended == ["cleaned up"]
