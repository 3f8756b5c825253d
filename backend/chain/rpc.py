"""Raw JSON-RPC over kept-alive sockets (http_transport.py; urllib3's pool for HTTPS), with one
place that turns a node that cannot be reached into `NodeUnavailable`.

Measured against Anvil: 0.39 ms per call, where web3.py's HTTPProvider (requests underneath,
which also looks for a .netrc file on every call) took 1.16 ms; a relayed write makes about
six calls, so the transport was a third of the service's time under load.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import msgspec
import urllib3
from urllib3.connectionpool import connection_from_url

from backend.chain.http_transport import PlainHttp
from backend.chain.on_loop import on_loop
from backend.errors import NodeUnavailable
from backend.i18n import gettext as _


def _decoded(data: bytes, shape: Any = None) -> Any:
    """A node's answer as Python values: by msgspec, twice as fast as json on a simulation's
    answer (a third of a relay check's Python work was reading it), and with a `shape` (TypedDicts
    of the fields a caller reads) faster again, since what it leaves out (a simulation's logs) is
    skipped unread; by json, whole, when msgspec refuses what json takes (a number past a float's
    range, an answer of another shape). Both raise ValueError on what is not JSON."""
    try:
        return msgspec.json.decode(data) if shape is None else msgspec.json.decode(data, type=shape)
    except ValueError:
        return json.loads(data)


def _unreached(exc: BaseException) -> str:
    """Why the node could not be reached, in words."""
    reason = getattr(exc, "reason", None) or exc  # urllib3 wraps the socket's error
    if isinstance(reason, (TimeoutError, urllib3.exceptions.TimeoutError)):
        return _("it did not answer in time")
    if isinstance(reason, (ConnectionRefusedError, urllib3.exceptions.NewConnectionError)):
        return _("it refused the connection")
    return _("the connection failed")


def _shown(url: str) -> str:
    """`url` without what may be secret: its user and password, path, query and fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


class RpcError(Exception):
    """The node answered with a JSON-RPC error (a revert among them)."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", str(error)))
        self.code = error.get("code")
        self.message = error.get("message", "")
        data = error.get("data")
        # Anvil puts revert data in `data` as hex; some nodes nest it in an object.
        if isinstance(data, dict):
            data = data.get("data")
        self.data = bytes.fromhex(data[2:]) if isinstance(data, str) and data.startswith("0x") else None


class Json(str):
    """A call's params already written as JSON text: put into a batch's body as they are (a relay
    check sends the same replayed requests in each of its simulations; writing them once, not
    encoding them again in each, was a fifth of a check's time in the service)."""


class Rpc:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        # The node as members may read it in a refusal: scheme, host and port only. A provider's
        # URL often carries its API key in the path or the query, or a password before the host.
        self.shown = _shown(url)
        # No retries: a node that is down must answer 503 now, not after a backoff. The pool
        # is shared by the API's worker threads and the indexer (urllib3 pools are thread-safe).
        # One pool for the node's address, asked directly: a PoolManager parsed the URL and looked
        # its pool up again on every call.
        self._pool = connection_from_url(
            url,
            maxsize=32,
            retries=False,
            timeout=urllib3.Timeout(total=timeout),
            headers={"Content-Type": "application/json"},
        )
        parts = urlsplit(url)
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._ids = itertools.count(1)
        # A node on plain HTTP (a local one, or one beside the service) is asked on sockets of our
        # own, a ninth of urllib3's CPU a call; HTTPS and credentials in the URL stay with urllib3.
        plain = parts.scheme == "http" and parts.hostname and not parts.username
        self._plain = PlainHttp(parts.hostname or "", parts.port or 80, self._path, timeout) if plain else None

    @property
    def plain(self) -> bool:
        """Whether the node is asked over plain HTTP on sockets of our own (so, from code run on
        the event loop, by the loop: on_loop.py); not through urllib3, whose calls would block it."""
        return self._plain is not None

    def _post(self, payload: Any, shape: Any = None) -> Any:
        return self._send(json.dumps(payload).encode(), shape)

    def _send(self, body: bytes, shape: Any = None) -> Any:
        try:
            if self._plain is not None:
                status, data = self._plain.post(body)
            else:
                if on_loop():  # urllib3 would hold the loop for the round trip: checks here are for plain HTTP
                    raise RuntimeError("a node reached through urllib3 is not asked from the event loop")
                response = self._pool.urlopen("POST", self._path, body=body)
                status, data = response.status, response.data
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise NodeUnavailable(
                _(
                    "The chain node at %(url)s cannot be reached (%(why)s); try again when it is back",
                    url=self.shown,
                    why=_unreached(exc),
                ),
                error=type(exc).__name__,  # for logs and clients, not in the sentence
            ) from exc
        if status >= 500 and not data:
            raise NodeUnavailable(
                _("The chain node at %(url)s answered HTTP %(status)s", url=self.shown, status=status)
            )
        try:
            return _decoded(data, shape)
        except (ValueError, RecursionError) as exc:  # not JSON, or nested past what a parser follows
            raise NodeUnavailable(
                _(
                    "The chain node at %(url)s answered HTTP %(status)s without JSON-RPC",
                    url=self.shown,
                    status=status,
                )
            ) from exc

    def request(self, method: str, *params: Any) -> Any:
        response = self._post({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)})
        if "error" in response:
            raise RpcError(response["error"])
        return response["result"]

    def batch(
        self, calls: Sequence[tuple[str, list[Any] | Json]], *, raise_errors: bool = True, shape: Any = None
    ) -> list[Any]:
        """Several calls in one round trip, results in call order. With `raise_errors=False` a
        call that failed yields its `RpcError` in place of a result, for the caller to weigh. With
        a `shape`, the answers are read as it says (_decoded): only the fields the caller reads."""
        if not calls:
            return []
        if any(isinstance(params, Json) for _, params in calls):
            entries = (
                f'{{"jsonrpc":"2.0","id":{i},"method":{json.dumps(method)},"params":'
                f"{params if isinstance(params, Json) else json.dumps(params)}}}"
                for i, (method, params) in enumerate(calls)
            )
            responses = self._send(("[" + ",".join(entries) + "]").encode(), shape)
        else:
            payload = [
                {"jsonrpc": "2.0", "id": i, "method": method, "params": params}
                for i, (method, params) in enumerate(calls)
            ]
            responses = self._post(payload, shape)
        if isinstance(responses, dict):  # the whole batch failed
            raise RpcError(responses.get("error", {"message": str(responses)}))
        if len(responses) != len(calls):
            # geth and Erigon answer a batch over their limit with one error in a list of one.
            errors = [r["error"] for r in responses if isinstance(r, dict) and r.get("error")]
            if errors:
                raise RpcError(errors[0])
            raise NodeUnavailable(
                _(
                    "The chain node at %(url)s answered %(answered)s of %(asked)s calls sent together",
                    url=self.shown,
                    answered=len(responses),
                    asked=len(calls),
                )
            )
        results: list[Any] = []
        for response in sorted(responses, key=lambda r: r["id"]):
            if "error" not in response:
                results.append(response["result"])
            elif raise_errors:
                raise RpcError(response["error"])
            else:
                results.append(RpcError(response["error"]))
        return results
