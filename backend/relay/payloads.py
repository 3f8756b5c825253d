"""Signed requests' payloads kept in memory, by request id.

A request's payload (the signed request, about a kilobyte of JSON) never changes once accepted.
A member writing fast has each of theirs replayed in the checks of their next several (book.py),
where reading and parsing its JSON again each time was a third of the outbox's reads per write;
and the relayer builds each transaction from the payloads of the requests it packs (packing.py),
which the same process mostly accepted moments before. Both ask here: what this process holds
comes from memory, the rest is read from the outbox (and kept). Another process, or this one after
a restart, reads the same payloads from the outbox.

Each payload is kept with the time its request was accepted (the outbox's `created_at`): an id
and that time name one request. An outbox replaced under the running service (restored from a
backup) may hold another request under an id this process remembers; every reader passes the
accept times it read with its rows (the packing, and the checks' replays), and is then given the
outbox's request, never the remembered one.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from backend.relay.outbox import RelayRequest

_PAYLOADS = select(RelayRequest.id, RelayRequest.created_at, RelayRequest.payload).where(
    RelayRequest.id.in_(bindparam("ids", expanding=True))
)
# Requests in flight are far fewer; past this many, the memory starts again empty.
PAYLOADS_KEPT = 10_000


class Kept(NamedTuple):
    accepted_at: float  # the request's created_at in the outbox
    payload: dict[str, Any]


class Payloads:
    """Shared by the process's checks (request threads) and its relayer: a dict's get and set are
    atomic, and one forgotten (the memory emptied meanwhile) is read again."""

    def __init__(self) -> None:
        self.kept: dict[int, Kept] = {}

    def of(self, connection: Connection, accepted_at: dict[int, float]) -> dict[int, dict[str, Any]]:
        """The payloads of these requests (by id, with the accept time the caller read for each):
        from memory when kept for that very request, the others read on `connection` (and kept).
        A request the outbox no longer holds is left out."""
        found: dict[int, dict[str, Any]] = {}
        missing = []
        for request_id, at in accepted_at.items():
            kept = self.kept.get(request_id)
            if kept is None or kept.accepted_at != at:
                missing.append(request_id)
            else:
                found[request_id] = kept.payload
        if missing:
            for request_id, created_at, payload in connection.execute(_PAYLOADS, {"ids": missing}):
                found[request_id] = payload
                self.keep(request_id, created_at, payload)
        return found

    def keep(self, request_id: int, accepted_at: float, payload: dict[str, Any]) -> None:
        if len(self.kept) >= PAYLOADS_KEPT:
            self.kept.clear()
        self.kept[request_id] = Kept(accepted_at, payload)
