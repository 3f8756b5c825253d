"""What the notification tests share: a real SMTP server (aiosmtpd, in process), a local webhook
receiver that can go down and come back, Standard Webhooks checked by an independent implementation
(the `standardwebhooks` package), and a small index filled by hand for the unit tests."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

from aiosmtpd.controller import Controller
from eth_account import Account
from eth_utils import keccak
from standardwebhooks import Webhook

from backend.chain.deployments import Community
from backend.indexer.db import make_engine, make_sessionmaker
from backend.indexer.models import Badge, Claim, Cursor, Indicator, IndicatorVersion, Member, Proposal
from backend.notifications.models import create_notice_tables
from backend.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float = 15.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# ---------------------------------------------------------------------- a real SMTP server


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return part.get_content().replace("\r\n", "\n")


class Inbox:
    """aiosmtpd's Controller on a free port: every message it accepts, parsed."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def start(self) -> Inbox:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.rcpt_tos]


# ---------------------------------------------------------------------- a local webhook receiver


@dataclass
class Hook:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP server on a free port that records each POST; `stop()` and `start()` take it down
    (connections refused) and bring it back on the same port; `status` is what it answers."""

    port: int = field(default_factory=free_port)
    status: int = 204
    hooks: list[Hook] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/commons"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                receiver.hooks.append(Hook({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def verified(self, secret: str) -> list[dict[str, Any]]:
        """Every payload received, each checked by standardwebhooks (which raises on a bad one)."""
        return [Webhook(secret).verify(hook.body, hook.headers) for hook in self.hooks]


# ---------------------------------------------------------------------- people and an index


def key_of(word: str) -> str:
    return "0x" + keccak(text=f"notifications test {word}").hex().removeprefix("0x")


KEYS = {name: key_of(name) for name in ("alice", "bob", "carol", "dana", "mallory")}
ADDRESSES = {name: Account.from_key(key).address for name, key in KEYS.items()}
ALICE, BOB, CAROL, DANA, MALLORY = (ADDRESSES[n] for n in ("alice", "bob", "carol", "dana", "mallory"))
MEMBERSHIP = Account.from_key(key_of("membership contract")).address
COMMUNITY = Community(
    slug="example",
    name="Example Commons",
    deployment_block=0,
    contracts={"membership": MEMBERSHIP, "forwarder": MEMBERSHIP},
)
NOW = 1_900_000_000  # the index's clock (chain seconds), ahead of the wall clock
CODE_RPC = "0x6080"  # what a contract account's eth_getCode answers, as far as the checks care


class FakeRpc:
    """A chain node that knows only contract accounts: `accepts` are those whose isValidSignature says yes."""

    def __init__(self) -> None:
        self.contracts: dict[str, bool] = {}
        self.calls = 0

    def batch(self, calls, raise_errors=True):
        self.calls += 1
        (_, (address, _)), _ = calls
        if address not in self.contracts:
            return ["0x", "0x"]
        magic = "0x1626ba7e" + "00" * 28 if self.contracts[address] else "0x" + "00" * 32
        return [CODE_RPC, magic]


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "public_url": "https://commons.example.org",
        "notify_poll_seconds": 0.05,
        "notify_retry_base_seconds": 0.01,
        "notify_retry_max_seconds": 0.05,
        "notify_disable_after_failures": 3,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def make_ctx(tmp_path, **overrides: Any) -> SimpleNamespace:
    sessions = make_sessionmaker(make_engine(f"sqlite:///{tmp_path / 'index.sqlite3'}"))
    create_notice_tables(sessions.kw["bind"])
    return SimpleNamespace(
        settings=settings(**overrides),
        sessions=sessions,
        gateway=SimpleNamespace(chain_id=31337, rpc=FakeRpc()),
        deployments=SimpleNamespace(communities={"example": COMMUNITY}),
        worker=SimpleNamespace(leader=None),
    )


def fill_index(ctx: SimpleNamespace) -> None:
    """Alice (named), Bob, Carol and Dana; Mentoring (2 endorsements); Alice's nomination of Bob
    (claim 1, pending); Carol's own claim (2); a proposal closing within the hour."""
    with ctx.sessions() as session:
        session.add(Cursor(community="example", block_number=10, block_timestamp=NOW, block_hash="0x"))
        for address, name in ((ALICE, "Alice"), (BOB, None), (CAROL, "Carol"), (DANA, "Dana")):
            session.add(Member(community="example", address=address, admitted_at=NOW - 10_000, votes=1, name=name))
        session.add(Indicator(community="example", indicator_id=1, version=1, active=True, created_at=NOW - 9000))
        session.add(
            IndicatorVersion(
                community="example",
                indicator_id=1,
                version=1,
                name="Mentoring a newcomer",
                description_uri="ipfs://mentoring",
                category="mentoring",
                orientation="community",
                weight=5,
                endorsements_required=2,
                validity=0,
                defined_at=NOW - 9000,
                tx_hash="0x",
            )
        )
        session.add(claim(1, contributor=BOB, submitter=ALICE, nomination_state="pending", created_at=NOW - 500))
        session.add(claim(2, contributor=CAROL, submitter=CAROL, created_at=NOW - 400))
        session.add(
            Proposal(
                community="example",
                proposal_id="77",
                proposer=ALICE,
                targets=[],
                values=[],
                calldatas=[],
                description="Welcome Erin\n\nErin organised three meetups.",
                vote_start=NOW - 100,
                vote_end=NOW + 3000,
                created_at=NOW - 101,
                created_block=9,
                tx_hash="0x",
            )
        )
        session.commit()


def claim(claim_id: int, *, contributor: str, submitter: str, created_at: int, **columns: Any) -> Claim:
    return Claim(
        community="example",
        claim_id=claim_id,
        contributor=contributor,
        submitter=submitter,
        indicator_id=1,
        indicator_version=1,
        evidence_hash="0x",
        evidence_uri=columns.pop("evidence_uri", f"https://forum.example.org/t/{claim_id}"),
        created_at=created_at,
        tx_hash="0x",
        **columns,
    )


def badge(token_id: int, owner: str, minted_at: int) -> Badge:
    return Badge(
        community="example",
        token_id=token_id,
        owner=owner,
        contributor=owner,
        indicator_id=1,
        indicator_version=1,
        weight=5,
        validity=0,
        orientation="community",
        category="mentoring",
        minted_at=minted_at,
        held_since=minted_at,
        tx_hash="0x",
    )


def move_clock(ctx: SimpleNamespace, seconds: int) -> None:
    with ctx.sessions() as session:
        cursor = session.get(Cursor, "example")
        cursor.block_timestamp += seconds
        cursor.block_number += 1
        session.commit()
