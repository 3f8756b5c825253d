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

With `--relay` it also sends what it accepted, as the least a relayer can (FloorRelayer): packed
into the forwarder's `executeBatch` (the service's own encoder and gas rule) and signed in the
event loop, sent as a batch fills or a new block is seen, each transaction's receipt read once.
No outbox states, no fees followed, no index: bench.writes runs it beside the API path at the
bare loop's concurrencies, as the most a relaying Python service could reach there.

Run by bench.writes: `python -m bench.floor --port P --rpc URL --db PATH [--relay]`.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import time
from typing import Any
from urllib.parse import urlsplit

import msgspec
import uvicorn
from eth_account import Account
from eth_utils import keccak

from backend.chain.typed_data import (
    execute_batch_calldata,
    execute_calldata,
    forward_request_struct,
    recover_signer,
    typed_data_digest,
)
from backend.relay.gas import batch_gas, relay_gas

# The relaying floor's key (not the service's relayer, not a member, not the bare loop's senders):
# bench.writes funds it on the bench's own chain.
RELAYER = Account.from_key(keccak(text="bench floor relayer"))
# The service's default relay_batch_max: requests a transaction.
BATCH = 64
# How often the relayer looks for a new block (one eth_blockNumber), and the longest it waits for
# one before sending what waits.
LOOK_SECONDS = 0.05
WAIT_AT_MOST_SECONDS = 1.0

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


class FloorRelayer:
    """The least a relayer does, in the event loop: what was accepted, packed into executeBatch
    (refund receiver: itself, as the service's) and sent once BATCH wait or a new block is seen;
    the receipts of what it sent read once a block (or a second). `mined` counts the requests in mined
    transactions that did not revert."""

    def __init__(self, node: NodeConnections) -> None:
        self.node = node
        # forward_request_struct of each accepted request, in order, by forwarder (its typed data's
        # verifying contract)
        self.waiting: dict[str, list[tuple]] = {}
        self.unmined: list[tuple[str, int]] = []  # (transaction, requests in it)
        self.mined = 0
        self.reverted = 0
        self._task: asyncio.Task | None = None

    @property
    def failed(self) -> str | None:
        """Why the relayer stopped, if it did (an answer of the node it did not expect)."""
        task = self._task
        if task is None or not task.done() or task.cancelled():
            return None
        return repr(task.exception())

    def add(self, forwarder: str, struct: tuple) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        self.waiting.setdefault(forwarder, []).append(struct)

    async def _result(self, method: str, params: list[Any]) -> Any:
        answer = await self.node.call(method, params)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    async def _run(self) -> None:
        nonce = int(await self._result("eth_getTransactionCount", [RELAYER.address, "pending"]), 16)
        chain_id = int(await self._result("eth_chainId", []), 16)
        fee = 2 * int(await self._result("eth_gasPrice", []), 16) + 10**9
        head, looked = None, time.monotonic()
        while True:
            await asyncio.sleep(LOOK_SECONDS)
            block = await self._result("eth_blockNumber", [])
            # A new block, or (on a chain that mines only when sent to) a second without one.
            due = block != head or time.monotonic() - looked >= WAIT_AT_MOST_SECONDS
            if due:
                head, looked = block, time.monotonic()
                await self._settle()
            for forwarder, waiting in self.waiting.items():
                while len(waiting) >= BATCH or (due and waiting):
                    structs, waiting[:] = waiting[:BATCH], waiting[BATCH:]
                    data = execute_batch_calldata(structs, RELAYER.address)
                    gas = batch_gas([relay_gas(s, execute_calldata(s)) for s in structs], data)
                    transaction = {
                        "type": 2,
                        "chainId": chain_id,
                        "nonce": nonce,
                        "to": forwarder,
                        "data": data,
                        "gas": gas,
                        "maxFeePerGas": fee,
                        "maxPriorityFeePerGas": 10**9,
                        "value": 0,
                    }
                    raw = RELAYER.sign_transaction(transaction).raw_transaction
                    nonce += 1
                    sent = await self._result("eth_sendRawTransaction", ["0x" + raw.hex()])
                    self.unmined.append((sent, len(structs)))

    async def _settle(self) -> None:
        still = []
        for sent, count in self.unmined:
            receipt = await self._result("eth_getTransactionReceipt", [sent])
            if receipt is None:
                still.append((sent, count))
            elif receipt["status"] == "0x1":
                self.mined += count
            else:
                self.reverted += count
        self.unmined = still


class FloorApp:
    """The bare ASGI app: every POST is a signed request, accepted (202, its id) or refused (400,
    401, 422) after the checks above. With a relayer, a GET answers how many were accepted and
    how many are mined."""

    def __init__(self, node_url: str, db_path: str, relay: bool = False) -> None:
        self.node = NodeConnections(node_url)
        self.relayer = FloorRelayer(self.node) if relay else None
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
        if scope["method"] == "GET" and self.relayer is not None:
            relayer = self.relayer
            state = {"mined": relayer.mined, "reverted": relayer.reverted, "failed": relayer.failed}
            status, answer = 200, msgspec.json.encode(state)
        else:
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
        if self.relayer is not None:
            self.relayer.add(typed["domain"]["verifyingContract"], forward_request_struct(typed, signature))
        return 202, msgspec.json.encode({"request_id": cursor.lastrowid})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rpc", required=True, help="the node's JSON-RPC URL")
    parser.add_argument("--db", required=True, help="the SQLite file accepted requests are written to")
    parser.add_argument("--relay", action="store_true", help="send what is accepted (FloorRelayer)")
    args = parser.parse_args()
    uvicorn.run(
        FloorApp(args.rpc, args.db, relay=args.relay),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        lifespan="off",
        http="httptools",
        loop="uvloop",
    )


if __name__ == "__main__":
    main()
