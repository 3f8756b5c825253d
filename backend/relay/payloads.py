"""Signed requests' payloads kept in memory, by request id.

A request's payload (the signed request, about a kilobyte of JSON) never changes once accepted.
A member writing fast has each of theirs replayed in the checks of their next several (book.py),
where reading and parsing its JSON again each time was a third of the outbox's reads per write;
and the relayer builds each transaction from the payloads of the requests it packs (packing.py),
which the same process mostly accepted moments before. Both ask here: what this process holds
comes from memory, the rest is read from the outbox (and kept). Another process, or this one after
a restart, reads the same payloads from the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from backend.relay.outbox import RelayRequest

_PAYLOADS = select(RelayRequest.id, RelayRequest.payload).where(RelayRequest.id.in_(bindparam("ids", expanding=True)))
# Requests in flight are far fewer; past this many, the memory starts again empty.
PAYLOADS_KEPT = 10_000


class Payloads:
    """Shared by the process's checks (request threads) and its relayer: a dict's get and set are
    atomic, and one forgotten (the memory emptied meanwhile) is read again."""

    def __init__(self) -> None:
        self.kept: dict[int, dict[str, Any]] = {}

    def of(
        self, connection: Connection, ids: list[int], *, trust: Callable[[int, dict[str, Any]], bool] | None = None
    ) -> dict[int, dict[str, Any]]:
        """The payloads of these requests: from memory, the others read on `connection` (and kept).
        With `trust`, a payload in memory it refuses is read again (the outbox's is the request)."""
        found = {request_id: self.kept.get(request_id) for request_id in ids}
        missing = [
            request_id
            for request_id, payload in found.items()
            if payload is None or (trust is not None and not trust(request_id, payload))
        ]
        if missing:
            for request_id, payload in connection.execute(_PAYLOADS, {"ids": missing}):
                found[request_id] = payload
                self.keep(request_id, payload)
        return cast(dict[int, dict[str, Any]], found)

    def keep(self, request_id: int, payload: dict[str, Any]) -> None:
        if len(self.kept) >= PAYLOADS_KEPT:
            self.kept.clear()
        self.kept[request_id] = payload
