"""A JSON-RPC proxy between the service and the node, for tests: it keeps every answer it relays
(what the service downloaded, byte for byte), and may answer a request itself instead (a provider
that refuses what the node would answer)."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from devstack.stack import free_port


class RecordingProxy:
    """Relays each POST to the node and keeps (methods, answer); `instead(body)` may give an answer
    of its own for a request, which is then not relayed (None: relay it)."""

    def __init__(self, upstream: str, instead: Callable[[bytes], bytes | None] | None = None) -> None:
        self.answers: list[tuple[str, bytes]] = []  # (method, response body)
        self.lock = threading.Lock()
        target = urlsplit(upstream)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                answer = instead(body) if instead is not None else None
                if answer is None:
                    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                    connection.request("POST", "/", body, {"Content-Type": "application/json"})
                    answer = connection.getresponse().read()
                    connection.close()
                payload = json.loads(body)
                methods = [e.get("method", "?") for e in payload] if isinstance(payload, list) else [payload["method"]]
                with proxy.lock:
                    proxy.answers.append((",".join(methods), answer))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def since(self, mark: int) -> list[tuple[str, bytes]]:
        with self.lock:
            return self.answers[mark:]

    def mark(self) -> int:
        with self.lock:
            return len(self.answers)

    def stop(self) -> None:
        self.server.shutdown()
