"""The node's HTTP transport (backend/chain/http_transport.py) against real sockets: a server that
answers as nodes and proxies do (Content-Length, chunked, closing), and ones that misbehave.
Every failure is the node's (NodeUnavailable through Rpc), never a request sent twice: both ways
the service asks, from a thread (PlainHttp's own sockets) and from code run on the event loop
(a relay check: backend/chain/on_loop.py, where the loop asks on streams of its own)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import pytest
import uvloop
from hypothesis import given
from hypothesis import strategies as st

from backend.chain.http_transport import LoopHttp, PlainHttp
from backend.chain.on_loop import on_loop, run_on_loop, wait_on_loop
from backend.chain.rpc import Rpc, _decoded
from backend.errors import NodeUnavailable
from backend.relay.simulation import CHECK_ANSWERS

ANSWER = b'{"jsonrpc":"2.0","id":1,"result":"0x2a"}'
T = TypeVar("T")
# How the service asks its node: from a thread, or from a check run on the event loop (uvloop, as served).
WAYS = ["thread", "loop"]


def asked(way: str, calls: Callable[[], T]) -> T:
    """calls() made one way: in this thread, or run on an event loop as a relay check is."""
    return calls() if way == "thread" else uvloop.run(run_on_loop(calls))


def pause(seconds: float) -> None:
    """Time passing for whoever asks: the loop's, where a check runs on it (its sockets are read there)."""
    if on_loop():
        wait_on_loop(asyncio.sleep(seconds))
    else:
        time.sleep(seconds)


def content_length(body: bytes = ANSWER, extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + extra
        + b"Content-Length: %d\r\n\r\n" % len(body)
        + body
    )


def chunked(body: bytes = ANSWER) -> bytes:
    half = len(body) // 2
    return (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x;ext=1\r\n" % half
        + body[:half]
        + b"\r\n"
        + b"%x\r\n" % (len(body) - half)
        + body[half:]
        + b"\r\n0\r\nX-Trailer: yes\r\n\r\n"
    )


@contextmanager
def server(answer: Callable[[int], bytes | None], *, close_after: bool = False) -> Iterator[tuple[int, list[int]]]:
    """A server on a free port: for the n-th request it reads (counted over all connections), it
    sends answer(n), or closes the connection when that is None. Yields (port, requests read per
    connection)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    per_connection: list[int] = []
    count = [0]
    lock = threading.Lock()

    def serve(conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        index = len(per_connection)
        per_connection.append(0)
        with conn:
            while True:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    try:
                        line = reader.readline()
                    except ConnectionResetError:  # a client that gave up on its answer, and closed
                        return
                    if not line:
                        return
                    head += line
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                reader.read(length)
                with lock:
                    count[0] += 1
                    n = count[0]
                per_connection[index] += 1
                data = answer(n)
                if data is None:
                    return
                conn.sendall(data)
                if close_after:
                    return

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield port, per_connection
    finally:
        listener.close()


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("answer", [content_length(), chunked()], ids=["content-length", "chunked"])
def test_answers_are_read_and_the_connection_kept(answer, way):
    with server(lambda n: answer) as (port, per_connection):
        rpc = Rpc(f"http://127.0.0.1:{port}")
        assert asked(way, lambda: [rpc.request("eth_chainId") for _ in range(3)]) == ["0x2a"] * 3
    assert per_connection == [3]  # one socket for the three


@pytest.mark.parametrize("way", WAYS)
def test_a_node_that_says_close_gets_a_new_connection_each_time(way):
    with server(lambda n: content_length(extra=b"Connection: close\r\n"), close_after=True) as (port, per_connection):
        rpc = Rpc(f"http://127.0.0.1:{port}")
        assert asked(way, lambda: [rpc.request("eth_chainId") for _ in range(3)]) == ["0x2a"] * 3
    assert per_connection == [1, 1, 1]


@pytest.mark.parametrize("way", WAYS)
def test_a_connection_the_node_closed_while_idle_is_replaced_not_sent_on(way):
    """Closed after its first answer without saying so (a node restarted, a proxy's idle timeout):
    found before the next request is sent, so the request goes once, on a new socket."""
    with server(lambda n: content_length(), close_after=True) as (port, per_connection):
        rpc = Rpc(f"http://127.0.0.1:{port}")

        def twice() -> list[str]:
            first = rpc.request("eth_chainId")
            pause(0.2)  # the server's close reaches us
            return [first, rpc.request("eth_chainId")]

        assert asked(way, twice) == ["0x2a", "0x2a"]
    assert per_connection == [1, 1]


@pytest.mark.parametrize(
    "answer, says",
    [
        (lambda n: None, "cannot be reached"),  # closed with no answer
        (lambda n: b"garbage\r\n\r\n", "cannot be reached (the connection failed)"),
        (lambda n: content_length()[:-5], "cannot be reached"),  # cut off in the body
        (lambda n: b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n", "answered HTTP 502"),
        (lambda n: content_length(b"<html>oops</html>"), "without JSON-RPC"),
        (lambda n: content_length(b'{"jsonrpc":"2.0","id":1,"result":"0x2a"'), "without JSON-RPC"),
        (lambda n: content_length(b"\xff\xfe"), "without JSON-RPC"),
        (lambda n: content_length(b"[" * 100_000), "without JSON-RPC"),
        (lambda n: b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n" + ANSWER, "cannot be reached"),
        (lambda n: b"HTTP/1.1 200 OK\r\nContent-Length: 4x\r\n\r\n" + ANSWER, "cannot be reached"),
        (lambda n: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n" + ANSWER, "cannot be reached"),
        (lambda n: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x4\r\n" + ANSWER, "cannot be reached"),
    ],
    ids=[
        "closed",
        "not-http",
        "cut-off",
        "502-empty",
        "not-json",
        "unfinished-json",
        "not-utf8",
        "too-deep",
        "negative-length",
        "length-not-a-number",
        "negative-chunk",
        "chunk-size-0x",
    ],
)
@pytest.mark.parametrize("way", WAYS)
def test_a_node_that_misbehaves_is_the_nodes_failure(answer, says, way):
    with server(answer) as (port, _):
        rpc = Rpc(f"http://127.0.0.1:{port}", timeout=2)
        with pytest.raises(NodeUnavailable) as caught:
            asked(way, lambda: rpc.request("eth_chainId"))
    assert says in caught.value.detail


@pytest.mark.parametrize("way", WAYS)
def test_no_node_and_a_silent_node_are_the_nodes_failure(way):
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    with pytest.raises(NodeUnavailable) as refused:
        asked(way, lambda: Rpc(f"http://127.0.0.1:{port}").request("eth_chainId"))
    assert "cannot be reached (it refused the connection)" in refused.value.detail
    assert refused.value.extra["error"] == "ConnectionRefusedError" and "Error" not in refused.value.detail
    silent = threading.Event()
    with server(lambda n: silent.wait(5) and None) as (port, _):
        with pytest.raises(NodeUnavailable) as timed_out:
            asked(way, lambda: Rpc(f"http://127.0.0.1:{port}", timeout=0.5).request("eth_chainId"))
        silent.set()
    assert "cannot be reached (it did not answer in time)" in timed_out.value.detail
    assert "Timeout" in timed_out.value.extra["error"] and "Error" not in timed_out.value.detail


@pytest.mark.parametrize("way", WAYS)
def test_bytes_nobody_asked_for_are_never_read_as_the_next_answer(way):
    """A node (or a proxy: a 408 before it closes) that sends more after an answer: the connection
    is not used again, and the next request reads its own answer on a new one."""
    late = b'{"jsonrpc":"2.0","id":1,"result":"0xbad"}'

    def answer(n: int) -> bytes:
        return content_length() + content_length(late) if n == 1 else content_length()

    with server(answer) as (port, per_connection):
        rpc = Rpc(f"http://127.0.0.1:{port}")

        def twice() -> list[str]:
            first = rpc.request("eth_chainId")
            pause(0.2)  # what came after it has arrived
            return [first, rpc.request("eth_chainId")]

        assert asked(way, twice) == ["0x2a", "0x2a"]
    assert per_connection == [1, 1]


@pytest.mark.parametrize("way", WAYS)
def test_an_answer_that_came_too_late_is_no_other_requests(way):
    """A round trip given up on (the node slow past the timeout) leaves its connection behind: the
    late answer, when it comes, is read by no one."""
    first_given_up = threading.Event()

    def answer(n: int) -> bytes:
        if n == 1:
            first_given_up.wait(5)
            return content_length(b'{"jsonrpc":"2.0","id":1,"result":"0xbad"}')
        return content_length()

    with server(answer) as (port, per_connection):
        rpc = Rpc(f"http://127.0.0.1:{port}", timeout=0.3)

        def after_a_timeout() -> str:
            with pytest.raises(NodeUnavailable):
                rpc.request("eth_chainId")
            first_given_up.set()
            pause(0.1)  # the late answer is on its way
            return rpc.request("eth_chainId")

        assert asked(way, after_a_timeout) == "0x2a"
    assert per_connection == [1, 1]


def test_on_the_loop_a_check_waiting_for_the_node_holds_no_other_up():
    """Two checks run on the loop at once, each a round trip: the node answers the first only once
    the second has reached it. Had the first blocked the loop's thread while it waited, the second
    could never be sent (nor the first answered): each is on a stream of its own."""
    second_arrived = threading.Event()

    def answer(n: int) -> bytes:
        if n == 1:
            assert second_arrived.wait(5), "the second round trip never reached the node"
        else:
            second_arrived.set()
        return content_length()

    with server(answer) as (port, per_connection):
        rpc = Rpc(f"http://127.0.0.1:{port}", timeout=10)

        async def both() -> list[str]:
            check = lambda: rpc.request("eth_chainId")  # noqa: E731
            return list(await asyncio.gather(run_on_loop(check), run_on_loop(check)))

        assert uvloop.run(both()) == ["0x2a", "0x2a"]
    assert per_connection == [1, 1]


def test_each_thread_keeps_its_own_connection():
    with server(lambda n: content_length()) as (port, per_connection):
        http = PlainHttp("127.0.0.1", port, "/", 5)
        body = b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}'
        results: list[tuple[int, bytes]] = []
        threads = [threading.Thread(target=lambda: results.extend(http.post(body) for _ in range(5))) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert results == [(200, ANSWER)] * 20 and sorted(per_connection) == [5, 5, 5, 5]


def test_https_and_credentials_stay_with_urllib3():
    assert Rpc("https://node.example/v3/key")._plain is None
    assert Rpc("http://user:secret@node.example/")._plain is None
    assert Rpc("http://127.0.0.1:8545")._plain is not None


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**300), max_value=2**300)
        | st.floats(allow_nan=False)
        | st.text(),
        lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
        max_leaves=30,
    )
)
def test_answers_read_as_json_reads_them(value):
    """The node's answers are read by msgspec (rpc._decoded), as json.loads would read them."""
    text = json.dumps(value).encode()
    assert _decoded(text) == json.loads(text)


def test_a_number_msgspec_refuses_is_read_as_json_reads_it():
    assert _decoded(b"[1e400, 2]") == [float("inf"), 2]


def test_a_shaped_answer_keeps_what_a_check_reads_and_leaves_the_logs():
    """A check's answers read with its shape (simulation.CHECK_ANSWERS): each call's status, gas,
    return data and error as the whole answer has them, the logs left unread; an answer of
    another shape (the whole batch refused) is read whole."""
    log = {"address": "0x" + "ab" * 20, "topics": ["0x" + "cd" * 32], "data": "0x00", "logIndex": "0x0"}
    calls = [
        {"status": "0x1", "gasUsed": "0x5208", "returnData": "0x" + "00" * 32, "logs": [log, log]},
        {"status": "0x0", "gasUsed": "0x10", "returnData": "0x08c379a0", "logs": [], "error": {"message": "no"}},
    ]
    answers = [
        {"jsonrpc": "2.0", "id": 0, "result": {"number": "0x10", "hash": "0x" + "11" * 32, "timestamp": "0x5"}},
        {"jsonrpc": "2.0", "id": 1, "result": [{"number": "0x11", "calls": calls}]},
        {"jsonrpc": "2.0", "id": 2, "error": {"code": 3, "message": "reverted", "data": "0x12"}},
        {"jsonrpc": "2.0", "id": 3, "result": "0x2a"},
    ]
    shaped = _decoded(json.dumps(answers).encode(), CHECK_ANSWERS)
    assert shaped[0] == answers[0] and shaped[2:] == answers[2:]
    assert shaped[1]["result"] == [{"calls": [{k: v for k, v in c.items() if k != "logs"} for c in calls]}]
    refused = {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "invalid"}}
    assert _decoded(json.dumps(refused).encode(), CHECK_ANSWERS) == refused
    odd = [{"jsonrpc": "2.0", "id": 0, "result": 42}]  # a number where no field takes one: read whole
    assert _decoded(json.dumps(odd).encode(), CHECK_ANSWERS) == odd


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://mainnet.provider.example/v3/0123456789abcdef", "https://mainnet.provider.example"),
        ("https://user:secret@node.example:8545/rpc?key=abc#x", "https://node.example:8545"),
        ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
        ("http://[::1]:8545/key", "http://[::1]:8545"),
    ],
)
def test_a_refusal_names_the_node_without_what_its_url_may_keep_secret(url, shown):
    """Class: a provider's URL carries its API key (in the path, the query or before the host); a
    member reading why their request was refused must not read the key."""
    assert Rpc(url).shown == shown


def test_a_node_that_cannot_be_reached_is_named_without_its_key():
    with pytest.raises(NodeUnavailable) as caught:
        Rpc("http://user:secret@127.0.0.1:9/v3/0123456789abcdef?key=abc", timeout=0.5).request("eth_chainId")
    said = str(caught.value)
    assert "http://127.0.0.1:9 cannot be reached (" in said
    assert not any(secret in said for secret in ("user", "secret", "0123456789abcdef", "key=abc"))


def test_a_node_behind_urllib3_is_never_asked_from_the_loop():
    """urllib3 would hold the loop for the round trip: the service runs checks on the loop only for
    a node on plain HTTP (app.py), and a call that got there anyway fails at once, nothing sent."""
    with pytest.raises(RuntimeError, match="not asked from the event loop"):
        asked("loop", lambda: Rpc("https://127.0.0.1:9/").request("eth_chainId"))


def test_on_the_loop_idle_streams_are_capped_and_each_used_only_by_its_own_loop(monkeypatch):
    """The loop keeps a stream for each round trip that was under way at once, at most MOST_IDLE
    in all; a stream kept by one loop is closed, not used, by another (a loop gone with it)."""
    monkeypatch.setattr(LoopHttp, "MOST_IDLE", 2)
    with server(lambda n: content_length()) as (port, per_connection):
        rpc = Rpc(f"http://127.0.0.1:{port}", timeout=5)

        async def at_once(count: int) -> list[str]:
            ask = lambda: rpc.request("eth_chainId")  # noqa: E731
            return list(await asyncio.gather(*(run_on_loop(ask) for _ in range(count))))

        async def twice() -> list[str]:
            return await at_once(4) + await at_once(4)  # four streams, two kept; those two used again

        assert uvloop.run(twice()) == ["0x2a"] * 8
        assert uvloop.run(at_once(1)) == ["0x2a"]  # another loop: the two kept closed, a new one
        time.sleep(0.1)
    assert sorted(per_connection) == [1, 1, 1, 1, 1, 2, 2]
