"""A request's body read ahead by a middleware, then handed on exactly as the client sent it.

The body limit (body_limit.py) and the signed submits' door (signed_submits.py) each read a
request's body before deciding what to do with it; whoever reads it next (FastAPI, a route) must
see the very messages the server passed, the client's leaving too, or FastAPI would answer a body
cut short as if it were whole."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import Message, Receive, Scope


@dataclass(frozen=True)
class Received:
    """The request's messages, up to the body's last, the client's leaving, or a limit."""

    messages: list[Message]
    size: int  # the body's bytes among them

    @property
    def ended(self) -> bool:
        """Whether the body arrived whole (not cut short by the client leaving, nor by a limit)."""
        last = self.messages[-1]
        return last["type"] == "http.request" and not last.get("more_body", False)

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.request")

    def replay(self, receive: Receive) -> Receive:
        """A receive that gives these messages again, in order, then the server's own."""
        replayed = iter(self.messages)

        async def again() -> Message:
            return next(replayed, None) or await receive()

        return again


async def receive_body(receive: Receive, limit: int | None = None) -> Received:
    """The request's messages until the body's end or the client's leaving, or until the body
    passes `limit` bytes (and no further: the rest is never read)."""
    messages, size = [], 0
    while True:
        message = await receive()
        messages.append(message)
        size += len(message.get("body", b""))
        if limit is not None and size > limit:
            return Received(messages, size)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return Received(messages, size)


def header(scope: Scope, name: bytes) -> str | None:
    """A request header's first value (`name` in lowercase, as ASGI servers give names)."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None
