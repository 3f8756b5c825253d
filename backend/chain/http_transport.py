"""POSTing JSON-RPC bodies to a node over plain HTTP/1.1, on one kept-alive socket per thread.

The service talks to its node on every write (a relay check's simulation, the relayer, the
indexer). urllib3 spent about 310 µs of CPU a call against Anvil (its pool, retries, timeouts and
http.client's header parsing); this spends about 35 µs, on the same calls (bench/writes.py: a
write makes about 1.5 round trips in its request thread alone). HTTPS, and a URL urllib3 must
handle (a proxy, say), stay with urllib3 (backend/chain/rpc.py chooses).

It reads what a node answers: a status line, headers, and a body by Content-Length or chunked,
and keeps the socket for the thread's next call unless the node said `Connection: close` or sent
anything past its answer (which the next call would read as its own). A
socket the node closed while idle is found before it is used (as urllib3 does), so a request is
never sent twice. Anything else going wrong is an OSError for the caller to report.

Code run on the event loop (a relay check: on_loop.py) has its POSTs sent by the loop instead
(LoopHttp), on kept-alive streams of the loop's own, read the same way (_response).
"""

from __future__ import annotations

import asyncio
import select
import socket
import threading
from collections.abc import Generator
from typing import BinaryIO

from backend.chain.on_loop import on_loop, wait_on_loop


class BadResponse(OSError):
    """The node's answer was not HTTP/1.x as this reads it."""


class PlainHttp:
    def __init__(self, host: str, port: int, path: str, timeout: float) -> None:
        self.host, self.port, self.path, self.timeout = host, port, path, timeout
        self._head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            "Connection: keep-alive\r\nContent-Length: "
        ).encode()
        self._local = threading.local()
        self._on_loop = LoopHttp(host, port, self._head, timeout)

    def post(self, body: bytes) -> tuple[int, bytes]:
        """The node's status and body for this POST. Raises OSError (a refused or broken
        connection, a timeout, an answer that is not HTTP). From code run on the event loop
        (on_loop.py), the loop awaits it on a stream of its own while other requests go on."""
        if on_loop():
            return wait_on_loop(self._on_loop.post(body))
        connection = self._connection()
        try:
            connection.sock.sendall(self._head + str(len(body)).encode() + b"\r\n\r\n" + body)
            status, body, keep = _read_response(connection.reader)
        except BaseException:
            self._drop()
            raise
        if not (keep and connection.nothing_more()):
            self._drop()
        return status, body

    def _connection(self) -> _Connection:
        connection: _Connection | None = getattr(self._local, "connection", None)
        if connection is not None and not connection.idle_and_open():
            self._drop()
            connection = None
        if connection is None:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = _Connection(sock)
            self._local.connection = connection
        return connection

    def _drop(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()


class _Connection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = sock.makefile("rb")
        self.timeout = sock.gettimeout()

    def nothing_more(self) -> bool:
        """Nothing read past the answer just read, nor arrived since (a node's late or unasked
        answer sent with it, a proxy's 408): else the next request could read it as its own. The
        reader's buffer and the socket looked at without waiting (about 2 microseconds)."""
        self.sock.setblocking(False)
        try:
            return not self.reader.peek(0)
        except OSError:  # reset: not to be used again either
            return False
        finally:
            self.sock.settimeout(self.timeout)

    def idle_and_open(self) -> bool:
        """Nothing to read on an idle kept-alive socket, as it should be; anything readable means
        the node closed it (or sent what nobody asked for): not to be used again."""
        if not hasattr(select, "poll"):  # Windows
            return not select.select([self.sock], [], [], 0)[0]
        poller = select.poll()  # not select() where there is poll(): it fails on descriptors past 1,023
        poller.register(self.sock, select.POLLIN)
        return not poller.poll(0)

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


# A header line or a chunk-size line longer than this is not a node's answer.
_MAX_LINE = 65_536

# What the response's reader asks its driver for next (_response): a line (at most _MAX_LINE
# bytes, with its end), everything to the end of the stream, or an int: that many bytes (fewer
# only where the stream ends).
_LINE = "line"
_REST = "rest"
_Read = str | int
Response = tuple[int, bytes, bool]
_Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


def _response() -> Generator[_Read, bytes, Response]:
    """(status, body, whether the connection may be used again), read as the driver hands over
    what each step asks for: one reading of HTTP/1.x for the thread's sockets and the loop's."""
    status_line = yield _LINE
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise BadResponse(f"not an HTTP answer: {status_line[:80]!r}")
    status = int(parts[1])
    keep = parts[0] == b"HTTP/1.1"
    length: int | None = None
    chunked = False
    while True:
        line = yield _LINE
        if line in (b"\r\n", b"\n"):
            break
        if not line:
            raise BadResponse("the connection closed in the headers")
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            if not value.isdigit():  # a length of digits only: "-1" or "12x" is no answer to read
                raise BadResponse(f"not a body's length: {value[:80]!r}")
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = value.endswith(b"chunked")
        elif name == b"connection":
            keep = value == b"keep-alive" or (keep and value != b"close")
    if chunked:
        return status, (yield from _chunked()), keep
    if length is not None:
        body = yield length
        if len(body) != length:
            raise BadResponse("the connection closed in the body")
        return status, body, keep
    return status, (yield _REST), False  # to the end: the node closes it


def _chunked() -> Generator[_Read, bytes, bytes]:
    chunks: list[bytes] = []
    while True:
        size_line = yield _LINE
        digits = size_line.split(b";", 1)[0].strip()
        if not digits or digits.strip(b"0123456789abcdefABCDEF"):  # hex digits only: no sign, no "0x"
            raise BadResponse(f"not a chunk size: {size_line[:80]!r}")
        size = int(digits, 16)
        if size == 0:
            while (yield _LINE) not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return b"".join(chunks)
        chunk = yield size
        if len(chunk) != size:
            raise BadResponse("the connection closed in a chunk")
        chunks.append(chunk)
        yield _LINE  # the chunk's CRLF


def _read_response(reader: BinaryIO) -> Response:
    """_response, read from a thread's blocking socket."""
    steps = _response()
    want = next(steps)
    try:
        while True:
            if isinstance(want, int):
                data = reader.read(want)
            elif want == _LINE:
                data = reader.readline(_MAX_LINE)
            else:
                data = reader.read()
            want = steps.send(data)
    except StopIteration as done:
        return done.value


async def _read_response_on_loop(reader: asyncio.StreamReader) -> Response:
    """_response, read from the loop's stream (its line limit is _MAX_LINE)."""
    steps = _response()
    want = next(steps)
    try:
        while True:
            if isinstance(want, int):
                try:
                    data = await reader.readexactly(want)
                except asyncio.IncompleteReadError as short:
                    data = short.partial
            elif want == _LINE:
                try:
                    data = await reader.readline()
                except ValueError as exc:  # past the stream's limit
                    raise BadResponse("a line longer than a node's answer has") from exc
            else:
                data = await reader.read()
            want = steps.send(data)
    except StopIteration as done:
        return done.value


class LoopHttp:
    """PlainHttp's POSTs from the event loop, for code run there (on_loop.py): kept-alive streams of
    the loop's own, one for each round trip under way, back to the idle ones once answered."""

    # Idle streams kept at most: as many as round trips were under way at once, which the check
    # slots bound (Settings.signed_checks_at_once); more are closed.
    MOST_IDLE = 32

    def __init__(self, host: str, port: int, head: bytes, timeout: float) -> None:
        self.host, self.port, self.head, self.timeout = host, port, head, timeout
        # Each with the loop that opened it: a stream is only used there (a test runs several loops
        # in turn; a service, one), and those of a loop no longer running are closed when found.
        self._idle: list[tuple[asyncio.AbstractEventLoop, _Stream]] = []

    def _idle_stream(self, loop: asyncio.AbstractEventLoop) -> _Stream | None:
        """A kept stream of this loop, as clean as when it was kept; any other found is closed."""
        while self._idle:
            owner, stream = self._idle.pop()
            if owner is loop and _clean(stream):
                return stream
            _close(stream)
        return None

    async def post(self, body: bytes) -> tuple[int, bytes]:
        """As PlainHttp.post: the node's status and body, or an OSError; within the timeout in all."""
        loop = asyncio.get_running_loop()
        stream = self._idle_stream(loop)
        try:
            async with asyncio.timeout(self.timeout):  # TimeoutError: an OSError
                if stream is None:
                    stream = await asyncio.open_connection(self.host, self.port, limit=_MAX_LINE)
                reader, writer = stream
                writer.write(self.head + str(len(body)).encode() + b"\r\n\r\n" + body)
                status, answer, keep = await _read_response_on_loop(reader)
        except (ValueError, RuntimeError, EOFError) as exc:  # a handle closed under it, and the like
            if stream is not None:
                _close(stream)
            raise BadResponse(f"the node's answer could not be read: {exc!r}") from exc
        except BaseException:  # a timeout or a cancellation mid-answer: its late answer is no one's
            if stream is not None:
                _close(stream)
            raise
        if keep and _clean(stream) and len(self._idle) < self.MOST_IDLE:
            self._idle.append((loop, stream))
        else:
            _close(stream)
        return status, answer


def _clean(stream: _Stream) -> bool:
    """Nothing on the stream but what was asked for: not closed, nor anything to read that nobody
    asked for (a late answer, a proxy's 408 before it closes): such a stream is not used again,
    so that no request reads another's answer, and none is sent twice."""
    reader, writer = stream
    return not (reader.at_eof() or writer.is_closing() or len(getattr(reader, "_buffer", b"")))


def _close(stream: _Stream) -> None:
    try:
        stream[1].close()
    except RuntimeError:  # its loop is closed, and the stream with it
        pass
