"""A JSON-RPC counting proxy: what a client asks a node, call by call.

Run: `python -m bench.rpc_counter --upstream http://127.0.0.1:8545 --port 9545`. It forwards each
POST to the node unchanged (one kept-alive connection per client connection) and counts the
calls by method; a JSON-RPC batch counts each of its entries (what a paid provider bills). Beside
them it counts the round trips, and the calls each eth_simulateV1 runs in its blocks (a check's
replays of the member's requests in flight, and its own), and the traces by tracer (a check's
request traced to carry the state it leaves: prestateTracer).
`GET /counts` answers {"calls": {method: n}, "round_trips": n, "simulated": n, "traces": {tracer:
n}} since the last `GET /counts?reset=1`. A separate
process, so that its own CPU is neither the service's nor the load generator's.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class Counts:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.round_trips = 0
        self.simulated = 0  # calls run inside eth_simulateV1's blocks: the node's work in a check
        self.traces: Counter[str] = Counter()  # debug_traceCall by tracer

    def add(self, body: bytes) -> None:
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        entries = payload if isinstance(payload, list) else [payload]
        methods = [e.get("method", "?") if isinstance(e, dict) else "?" for e in entries]
        simulated = sum(_simulated_calls(e) for e in entries if isinstance(e, dict))
        tracers = [_tracer(e) for e in entries if isinstance(e, dict) and e.get("method") == "debug_traceCall"]
        with self.lock:
            self.calls.update(methods)
            self.traces.update(tracers)
            self.round_trips += 1
            self.simulated += simulated

    def take(self, reset: bool) -> dict:
        with self.lock:
            answer = {
                "calls": dict(self.calls),
                "round_trips": self.round_trips,
                "simulated": self.simulated,
                "traces": dict(self.traces),
            }
            if reset:
                self.calls.clear()
                self.traces.clear()
                self.round_trips = self.simulated = 0
        return answer


def _simulated_calls(entry: dict) -> int:
    """The calls an eth_simulateV1 entry asks the node to run, in all its blocks; 0 for any other."""
    if entry.get("method") != "eth_simulateV1":
        return 0
    try:
        return sum(len(block.get("calls", [])) for block in entry["params"][0]["blockStateCalls"])
    except (KeyError, IndexError, TypeError, AttributeError):
        return 0


def _tracer(entry: dict) -> str:
    """The tracer a debug_traceCall entry names ("?" if none)."""
    try:
        return str(entry["params"][2]["tracer"])
    except (KeyError, IndexError, TypeError):
        return "?"


def serve(upstream: str, port: int) -> ThreadingHTTPServer:
    target = urlsplit(upstream)
    counts = Counts()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # kept alive, as the service's urllib3 pool expects

        def log_message(self, *args) -> None:  # quiet
            pass

        def setup(self) -> None:
            super().setup()
            # Headers and body are written apart: without this, Nagle's algorithm holds the body
            # until the client acknowledges the headers, which it delays (40 ms a call).
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.node = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=60)

        def finish(self) -> None:
            super().finish()
            self.node.close()

        def do_GET(self) -> None:
            body = json.dumps(counts.take("reset=1" in self.path)).encode()
            self._answer(200, body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            counts.add(body)
            try:
                self.node.request("POST", target.path or "/", body, {"Content-Type": "application/json"})
                response = self.node.getresponse()
                status, data = response.status, response.read()
            except (OSError, http.client.HTTPException):
                self.node.close()
                self._answer(502, b"")
                return
            self._answer(status, data)

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    serve(args.upstream, args.port).serve_forever()


if __name__ == "__main__":
    main()
