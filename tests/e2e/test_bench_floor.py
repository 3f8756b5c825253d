"""The benchmarks' floor (bench/floor.py) refuses what a relayer must refuse, on a real chain.

bench.writes prints the service's CPU a write beside the floor's, as what the service's guarantees
cost above the least a Python door can spend. A floor that accepted what the service refuses would
be cheaper for it, and the comparison false: here each check it claims to make refuses, and
stores nothing."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import httpx

from bench.floor import RELAYER, FloorApp
from devstack.stack import rpc
from tests.e2e.conftest import ALICE, BOB, OUTSIDER, address


def _signed_claim(env, governed, key: str, uri: str, *, signer: str | None = None, sender: str | None = None) -> dict:
    """A claim prepared for `key`'s member, sent as `sender` (the member by default), signed by
    `signer` (the sender by default)."""
    prepared = env.api.prepare("claims", signer=address(key), indicator_id=governed["code"], evidence_uri=uri)
    typed = prepared["typed_data"]
    if sender:
        typed["message"]["from"] = address(sender)
    return {"typed_data": typed, "signature": env.api.sign(signer or sender or key, typed)}


def _posted(app: FloorApp, bodies: list[bytes]) -> list[httpx.Response]:
    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://floor") as client:
            return [await client.post("/claims?wait=false", content=body) for body in bodies]

    return asyncio.run(run())


def test_the_floor_accepts_a_signed_claim_and_refuses_what_the_service_refuses(env, governed, tmp_path):
    app = FloorApp(env.anvil.url, str(tmp_path / "floor.sqlite3"))
    good = _signed_claim(env, governed, ALICE, "https://x.example/floor/1")
    forged = _signed_claim(env, governed, ALICE, "https://x.example/floor/2", signer=BOB)
    # Signed by its sender, but the badge contract refuses a claim from a non-member.
    outsider = _signed_claim(env, governed, ALICE, "https://x.example/floor/3", sender=OUTSIDER)
    answers = _posted(
        app,
        [json.dumps(good).encode(), json.dumps(forged).encode(), json.dumps(outsider).encode(), b"{not json"],
    )
    assert [a.status_code for a in answers] == [202, 401, 422, 400], [a.text for a in answers]
    assert answers[0].json() == {"request_id": 1}
    stored = sqlite3.connect(tmp_path / "floor.sqlite3").execute("SELECT signer, nonce FROM accepted").fetchall()
    assert stored == [(address(ALICE), good["typed_data"]["message"]["nonce"])]


def test_the_relaying_floor_sends_what_it_accepted_and_it_executes(env, governed, tmp_path):
    """bench.writes compares the relaying floor's rate with the bare loop's: it must be a relayer,
    each request it accepts sent through the forwarder and executed on chain, in order."""
    rpc(env.anvil.url, "anvil_setBalance", RELAYER.address, hex(10**21))
    app = FloorApp(env.anvil.url, str(tmp_path / "floor.sqlite3"), relay=True)
    first = env.api.prepare(
        "claims", signer=address(ALICE), indicator_id=governed["code"], evidence_uri="https://x.example/floor/nonce"
    )
    nonce = first["typed_data"]["message"]["nonce"]
    bodies = []
    for i in range(3):
        claim = _signed_claim(env, governed, ALICE, f"https://x.example/floor/relayed/{i}")
        claim["typed_data"]["message"]["nonce"] = nonce + i
        claim["signature"] = env.api.sign(ALICE, claim["typed_data"])
        bodies.append(json.dumps(claim).encode())

    async def run() -> tuple[list[httpx.Response], dict]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://floor") as client:
            answers = [await client.post("/claims?wait=false", content=body) for body in bodies]
            for _ in range(200):  # the relayer sends within a second, on a chain mining as it is sent to
                state = (await client.get("/")).json()
                if state["mined"] >= len(bodies) or state["failed"]:
                    break
                await asyncio.sleep(0.05)
            return answers, state

    answers, state = asyncio.run(run())
    assert [a.status_code for a in answers] == [202, 202, 202], [a.text for a in answers]
    assert state == {"mined": 3, "reverted": 0, "failed": None}
    after = env.api.prepare(
        "claims", signer=address(ALICE), indicator_id=governed["code"], evidence_uri="https://x.example/floor/after"
    )
    assert after["typed_data"]["message"]["nonce"] == nonce + 3  # each executed, none skipped by the batch
