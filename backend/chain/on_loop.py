"""Synchronous code run on the event loop's own thread, its node round trips awaited there.

A member's `wait=false` request is checked by synchronous code (backend/relay/checks.py and what
it calls): decoding, the signature, the outbox's reads and the accept, and one or two round trips
to the node. Run in a thread, as FastAPI runs such code, each check handed Python's interpreter
lock back and forth with the event loop and the other checks at each round trip and statement:
as fast as answered, 2,000 claims switched the service's threads off their core 23 times a write,
against the floor's once (bench/floor.py), and the hand-offs were a fifth of the service's CPU.

`run_on_loop(fn)` runs `fn` in a greenlet on the loop's thread. Where it reaches the node over
plain HTTP (http_transport.PlainHttp), the greenlet is suspended (`wait_on_loop`) while the loop
awaits the answer on a socket of its own, and the loop answers other requests meanwhile, other
checks among them. Everything else `fn` does runs where it is, without a hand-off: the statements
of a database on the same machine take tens of microseconds, and nothing in a check waits for
another check (tests/backend/test_on_loop.py; the service's Settings.signed_checks_on_loop says
when a check runs here, and when in a thread, as before).

What code run here must not do: hold a lock, a database transaction or anything another check
could wait for while it reaches the node (the other check would block the loop's thread, and the
first could never resume); sleep; or wait for another thread. Code that does is run in a thread.
"""

from __future__ import annotations

import contextvars
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import greenlet

T = TypeVar("T")


class _OnLoop(greenlet.greenlet):
    """A greenlet that run_on_loop started: what wait_on_loop recognises."""


async def run_on_loop(fn: Callable[[], T]) -> T:
    """`fn()`, run on this thread (the loop's), in the caller's context (the request's language,
    say); each awaitable it hands wait_on_loop awaited here, and its answer (or its exception)
    handed back. A cancellation of the caller is raised inside `fn` where it waits."""
    child = _OnLoop(fn, greenlet.getcurrent())
    child.gr_context = contextvars.copy_context()
    asked: Any = child.switch()
    while not child.dead:
        try:
            answer = await asked
        except GeneratorExit:  # this coroutine closed unfinished (its task collected): nothing more is awaited
            _close(asked)
            if not child.dead:  # fn ended now, its cleanup run where it waits (GreenletExit)
                _close(child.throw(greenlet.GreenletExit))
            raise
        except BaseException as exc:  # the awaitable's own failure, or a cancellation: fn's to handle
            asked = child.throw(exc)
        else:
            asked = child.switch(answer)
    return asked


def _close(awaitable: Any) -> None:
    if inspect.iscoroutine(awaitable):
        awaitable.close()


def on_loop() -> bool:
    """Whether this code runs under run_on_loop (so it may wait_on_loop)."""
    return isinstance(greenlet.getcurrent(), _OnLoop)


def wait_on_loop(awaitable: Awaitable[T]) -> T:
    """The answer of `awaitable`, awaited by the loop while this greenlet is suspended."""
    current = greenlet.getcurrent()
    if not isinstance(current, _OnLoop) or current.parent is None:
        _close(awaitable)  # never to be awaited: said here, not as a warning later
        raise RuntimeError("wait_on_loop is for code run by run_on_loop")
    return current.parent.switch(awaitable)
