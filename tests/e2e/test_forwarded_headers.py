"""Who a client is, for its relaying budget: the address it connects from, whatever headers it
sends, unless the connection comes from a proxy named in CC_TRUSTED_PROXIES (issue 20, item 6).

Real HTTP against `python -m backend serve` (one process, and --workers 2), a client budget of
one request a minute: a second request counted against the same client is refused 429, and the
refusal names the client address it was counted against."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from backend.client import CommunityClient
from backend.settings import ANVIL_DEV_KEYS
from devstack.stack import Server, service_env
from tests.e2e.conftest import CAROL, address

# A service of its own relays with a key of its own, so it never shares nonces with the suite's.
OWN_RELAYER_KEY = ANVIL_DEV_KEYS[9]
LOCAL = "127.0.0.1"

# Every header a client could name itself in: none is believed from a peer not trusted.
SPOOFS = {
    "X-Forwarded-For": lambda ip: {"X-Forwarded-For": ip},
    "X-Forwarded-For chain": lambda ip: {"X-Forwarded-For": f"{ip}, 10.9.8.7"},
    "Forwarded": lambda ip: {"Forwarded": f"for={ip};proto=https"},
    "X-Real-IP": lambda ip: {"X-Real-IP": ip},
    "all of them": lambda ip: {
        "X-Forwarded-For": ip,
        "Forwarded": f"for={ip}",
        "X-Real-IP": ip,
        "X-Forwarded-Proto": "https",
    },
}


@contextmanager
def budgeted_server(env, *args: str, **settings: str) -> Iterator[CommunityClient]:
    """A service on the suite's chain with its own index, one relayed request a minute per client."""
    url = f"sqlite:///{env.workdir / f'index-{time.monotonic_ns()}.sqlite3'}"
    server = Server(
        {
            **service_env(env.anvil, env.deployments, url),
            "CC_RELAYER_KEY": OWN_RELAYER_KEY,
            "CC_CLIENT_REQUESTS_PER_MINUTE": "1",
            **settings,
        },
        env.workdir / "forwarded-server.log",
        *args,
    )
    server.start()
    try:
        yield CommunityClient(server.url)
    finally:
        server.stop()


def claim(api: CommunityClient, code: int, headers: dict[str, str]) -> httpx.Response:
    """A claim by Carol, signed, sent with these headers (not waited for)."""
    uri = f"https://x.example/forwarded/{time.monotonic_ns()}"
    typed = api.prepare("claims", signer=address(CAROL), indicator_id=code, evidence_uri=uri)["typed_data"]
    return api.http.post(
        "/claims",
        params={"wait": "false"},
        headers=headers,
        json={"typed_data": typed, "signature": CommunityClient.sign(CAROL, typed)},
    )


def counted_against(response: httpx.Response) -> str:
    """The client address a 429 of the client budget names."""
    assert response.status_code == 429, response.text
    detail = response.json()["detail"]
    assert detail.startswith("Client ") and response.json()["budget"] == "requests_per_minute", detail
    return detail.split()[1]


def test_no_header_chooses_the_client_address_by_default(env, governed):
    """Default (no trusted proxy): the first request is counted against 127.0.0.1; every later one,
    whatever address it names in whichever header, is refused as 127.0.0.1's second."""
    with budgeted_server(env) as api:
        assert claim(api, governed["code"], {}).status_code == 202
        for n, (name, spoof) in enumerate(SPOOFS.items()):
            response = claim(api, governed["code"], spoof(f"1.2.3.{n + 1}"))
            assert counted_against(response) == LOCAL, name


def test_no_header_chooses_the_client_address_under_several_processes(env, governed):
    """`serve --workers 2` (as `make run` starts it): each process keeps its own budget of one a
    minute, so of three requests from one address at least one is refused, and it is refused as
    127.0.0.1's, though each named another address."""
    with budgeted_server(env, "--workers", "2") as api:
        responses = [claim(api, governed["code"], SPOOFS["all of them"](f"1.2.4.{n}")) for n in range(3)]
        refused = [r for r in responses if r.status_code != 202]
        assert refused, "three requests from one address met no budget of one a minute in two processes"
        assert {counted_against(r) for r in refused} == {LOCAL}


@pytest.mark.parametrize("workers", [(), ("--workers", "2")], ids=["one process", "two processes"])
def test_a_trusted_proxy_names_the_client(env, governed, workers):
    """CC_TRUSTED_PROXIES naming 127.0.0.1: its X-Forwarded-For names the client, each address its
    own budget; Forwarded and X-Real-IP are still not read (a proxy must set X-Forwarded-For)."""
    with budgeted_server(env, *workers, CC_TRUSTED_PROXIES=LOCAL) as api:
        # Each address a budget of its own: none refused in any process.
        for n in range(3):
            response = claim(api, governed["code"], SPOOFS["X-Forwarded-For"](f"5.6.7.{n}"))
            assert response.status_code == 202, response.text
        if workers:
            return
        again = claim(api, governed["code"], SPOOFS["X-Forwarded-For"]("5.6.7.0"))
        assert counted_against(again) == "5.6.7.0"
        # The address the proxy appended (the last one), not what the client wrote before it.
        assert counted_against(claim(api, governed["code"], {"X-Forwarded-For": "9.9.9.9, 5.6.7.1"})) == "5.6.7.1"
        assert claim(api, governed["code"], SPOOFS["Forwarded"]("9.9.9.9")).status_code == 202
        assert counted_against(claim(api, governed["code"], SPOOFS["X-Real-IP"]("9.9.9.8"))) == LOCAL
