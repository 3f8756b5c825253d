"""The floor under the API path: the least a Python service can spend to accept one signed write.

bench.writes serves this beside the service and posts it the same kind of pre-signed claims, at
the same rate, through the same counting proxy to the same node. Per request it does only what no
relayer that refuses a request bound to fail can leave out, each the cheapest way this machine
has:

- the HTTP request read and answered by uvicorn (httptools, uvloop; the service's own server), as
  a bare ASGI app: no framework, no middleware;
- the body decoded by msgspec;
- the EIP-712 digest and the signer recovered, by the service's own functions (backend/chain/
  typed_data.py), and compared with the request's `from`;
- the forwarded call run once on the node's newest state (`eth_call`, as the forwarder makes it:
  the member's address appended), on a kept-alive connection from the event loop, no thread hop;
- the accepted request written to SQLite (WAL, synchronous=NORMAL, as the index is), autocommit.

What it leaves out is what the service adds for its guarantees and its members: the nonce and
the member's requests in flight replayed under the simulation, budgets, the rules' words for a
refusal, idempotent resubmits, and the relayer and the indexer after the accept. So the service's
CPU beside this one's is what those cost, and this one's rate beside the bare loop's is the most
any Python service doing these checks could reach on the same cores.

Run by bench.writes: `python -m bench.floor --port P --rpc URL --db PATH`.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
from typing import Any
from urllib.parse import urlsplit

import msgspec
import uvicorn

from backend.chain.typed_data import recover_signer, typed_data_digest

Scope = dict[str, Any]


class NodeConnections:
    """JSON-RPC over kept-alive HTTP/1.1 connections from the event loop: a connection per call
    under way, each back in the pool once answered."""

    def __init__(self, url: str) -> None:
        target = urlsplit(url)
        self.host, self.port = target.hostname or "127.0.0.1", target.port or 80
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def call(self, method: str, params: list[Any]) -> dict[str, Any]:
        reader, writer = self._idle.pop() if self._idle else await asyncio.open_connection(self.host, self.port)
        body = msgspec.json.encode({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        writer.write(
            b"POST / HTTP/1.1\r\nHost: node\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (len(body), body)
        )
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
        )
        answer = msgspec.json.decode(await reader.readexactly(length))
        self._idle.append((reader, writer))
        return answer


class FloorApp:
    """The bare ASGI app: every POST is a signed request, accepted (202, its id) or refused (400,
    401, 422) after the checks above."""

    def __init__(self, node_url: str, db_path: str) -> None:
        self.node = NodeConnections(node_url)
        self.db = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS accepted (id INTEGER PRIMARY KEY, signer TEXT, nonce INTEGER, body BLOB)"
        )

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status, answer = await self.accept(body)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(answer))],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    async def accept(self, body: bytes) -> tuple[int, bytes]:
        try:
            request = msgspec.json.decode(body)
            typed, signature = request["typed_data"], bytes.fromhex(request["signature"].removeprefix("0x"))
            message = typed["message"]
            signer = recover_signer(typed_data_digest(typed), signature)
        except (msgspec.DecodeError, KeyError, TypeError, ValueError) as error:
            return 400, msgspec.json.encode({"detail": f"Not a signed request: {error}"})
        if signer.lower() != message["from"].lower():
            return 401, msgspec.json.encode({"detail": "The signature is not the sender's."})
        forwarded = {
            "from": typed["domain"]["verifyingContract"],
            "to": message["to"],
            "data": message["data"] + signer[2:],
            "gas": hex(int(message["gas"])),
        }
        answer = await self.node.call("eth_call", [forwarded, "latest"])
        if "error" in answer:
            return 422, msgspec.json.encode({"detail": "The request would fail on chain.", "node": answer["error"]})
        cursor = self.db.execute(
            "INSERT INTO accepted (signer, nonce, body) VALUES (?, ?, ?)", (signer, int(message["nonce"]), body)
        )
        return 202, msgspec.json.encode({"request_id": cursor.lastrowid})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rpc", required=True, help="the node's JSON-RPC URL")
    parser.add_argument("--db", required=True, help="the SQLite file accepted requests are written to")
    args = parser.parse_args()
    uvicorn.run(
        FloorApp(args.rpc, args.db),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        lifespan="off",
        http="httptools",
        loop="uvloop",
    )


if __name__ == "__main__":
    main()
