"""Service settings from the environment (prefix CC_, or DATABASE_URL), with local defaults.

Defaults run everything against a local Anvil. The well-known Anvil development keys are
public: they are accepted as relayer only on a local chain (ids 31337 and 1337), which the
gateway checks once it knows the chain id (see `check_relayer_key`); so is any publicly known
key as credential issuer (see `issuer_secret`).
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eth_account import Account
from eth_account.hdaccount import key_from_seed, seed_from_mnemonic
from eth_utils import to_checksum_address
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

LOCAL_CHAIN_IDS = frozenset({31337, 1337})

# The first ten accounts of Anvil's (and Hardhat's) public "test test ... junk" mnemonic.
ANVIL_DEV_KEYS = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
)
_ANVIL_DEV_ADDRESSES = frozenset(Account.from_key(key).address for key in ANVIL_DEV_KEYS)

_ROOT = Path(__file__).resolve().parent.parent


class RelayerKeyRefused(ValueError):
    """A public development key was configured as relayer for a non-local chain."""


# ---- the credential issuer's key: one printed anywhere signs for anyone, so such a key signs
# credentials only on a local chain (see `issuer_secret`).

# The secret keys of RFC 8032's Ed25519 test vectors (section 7.1), by the RFC's names.
RFC8032_TEST_KEYS = {
    "TEST 1": "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    "TEST 2": "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    "TEST 3": "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
    "TEST 1024": "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
    "TEST SHA(abc)": "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
}
# W3C's test key pair of the Data Integrity EdDSA cryptosuites (vc-di-eddsa, TestVectors/keyPair.json,
# privateKeyMultibase), which tests/backend/test_credentials_dataintegrity.py signs its vectors with.
W3C_EDDSA_TEST_KEY = "c96ef9ea10c5e414c471723aff9de72c35fa5b70fae97e8832ecac7d2e2b8ed6"
# RFC 6979's P-256 secret key (appendix A.2.5), which its test vectors sign with.
RFC6979_P256_TEST_KEYS = {"A.2.5": "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721"}
# The default: RFC 8032's first test key, for a local chain.
DEV_ISSUER_KEY = RFC8032_TEST_KEYS["TEST 1"]
# Other 32-byte strings this project prints in its tests and docs. Whatever each was written as
# (a public key, a digest), set as CC_ISSUER_KEY it would be a secret anyone can read.
PROJECT_PUBLISHED_KEYS = {
    "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734": (
        "the sha256 of the VC 2.0 context, in tests/e2e/test_credentials.py"
    ),
    "ef2fa9c7846dce233cc166b43639027278be4ee44f00bb1d45c75de2dd0cd761": (
        "the sha256 of the OB 3.0.3 context, in tests/e2e/test_credentials.py"
    ),
    "2ba8f7b221fa58268e93ae1581183d8e30b5e28d227415484f1cd773c719a610": (
        "keccak256('not a dev key'), the relayer key of tests/backend/test_units.py"
    ),
    "b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399": (
        "the example digest in 1EdTech's AchievementCredential schema, in tests/e2e/ob3_schema/"
    ),
}
# Anvil (10 accounts unless told more) and Hardhat (20) derive their accounts from this public
# mnemonic; a key of any account up to this many is refused.
ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
ANVIL_ACCOUNTS_REFUSED = 1000
# A key with fewer distinct byte values than this was typed, not drawn (0x...01, 0x1111...,
# 0xA11CE, 1234567890...: the project's own tests use such keys), and anyone can guess it. A
# random key has about 30 of 32 distinct; fewer than 13 happens to one in 6 * 10^22.
MIN_DISTINCT_KEY_BYTES = 13


class IssuerKeyInvalid(ValueError):
    """CC_ISSUER_KEY (or CC_ISSUER_P256_KEY) is not a 32-byte secret key in hex."""


class IssuerKeyRefused(ValueError):
    """A public development key was configured as credential issuer for a non-local chain (or the
    P-256 key is the Ed25519 key again)."""


def parse_issuer_key(value: str, name: str = "CC_ISSUER_KEY", kind: str = "an Ed25519 secret key") -> bytes:
    """CC_ISSUER_KEY as the 32-byte Ed25519 secret the issuer signs with (or CC_ISSUER_P256_KEY as
    the P-256 scalar). The one reading of the setting: the public-key check compares what this
    returns, so no spelling of a public key (spaces around or between its digits, 0x, capitals)
    gets past the check and into the signer."""
    raw = value.strip().lower().removeprefix("0x")
    try:
        seed = bytes.fromhex(raw)
    except ValueError as exc:
        raise IssuerKeyInvalid(f"{name} must be {kind}: 64 hex digits") from exc
    if len(seed) != 32:
        raise IssuerKeyInvalid(f"{name} must be 32 bytes (64 hex digits), not {len(seed)}")
    return seed


# The order of P-256's group (FIPS 186-5, SEC 2): a P-256 secret is a number from 1 to P256_ORDER - 1.
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
# What the P-256 key is derived for, when CC_ISSUER_P256_KEY is unset: HKDF's `info`, so that the
# derived key is of no use as anything else and changing this name gives another key.
P256_DERIVATION_INFO = b"contribution-commons issuer P-256 key (ES256) v1"


def derive_p256_secret(seed: bytes) -> bytes:
    """The issuer's P-256 secret derived from its Ed25519 secret: HKDF-SHA256 (RFC 5869) of the
    seed, 48 bytes reduced into 1..n-1 as FIPS 186-5 (A.2.1) draws a key from extra random bits.
    A one-way function of the seed: the P-256 key tells nothing of the Ed25519 one, and is as
    public as the seed is (so it is refused wherever the seed is)."""
    okm = HKDF(algorithm=hashes.SHA256(), length=48, salt=None, info=P256_DERIVATION_INFO).derive(seed)
    return (int.from_bytes(okm, "big") % (P256_ORDER - 1) + 1).to_bytes(32, "big")


@lru_cache
def _published_issuer_keys() -> dict[bytes, str]:
    """Every public secret this project knows of -> where it is published. Built on first use
    (deriving the mnemonic's accounts takes a third of a second), only off a local chain."""
    known = {bytes.fromhex(key): f"RFC 8032's test vector {name}" for name, key in RFC8032_TEST_KEYS.items()}
    # Their public keys are printed beside them (and in the tests): as secrets, just as public.
    known |= {
        _ed25519_public(secret): f"RFC 8032's test vector {name}'s public key" for secret, name in list(known.items())
    }
    known |= {bytes.fromhex(key): f"published as {where}" for key, where in PROJECT_PUBLISHED_KEYS.items()}
    known[bytes.fromhex(W3C_EDDSA_TEST_KEY)] = "W3C's test key pair of the Data Integrity EdDSA cryptosuites"
    seed = seed_from_mnemonic(ANVIL_MNEMONIC, "")
    for index in range(ANVIL_ACCOUNTS_REFUSED):
        known.setdefault(
            key_from_seed(seed, f"m/44'/60'/0'/0/{index}"), f"the key of Anvil's development account #{index}"
        )
    for index, key in enumerate(ANVIL_DEV_KEYS):  # the same keys: kept should the derivation ever differ
        known.setdefault(bytes.fromhex(key.removeprefix("0x")), f"the key of Anvil's development account #{index}")
    return known


@lru_cache
def _published_p256_keys() -> dict[bytes, str]:
    """Every public secret as a P-256 key: all of the above, RFC 6979's P-256 test key, and the
    P-256 key derived from each public Ed25519 seed (what the service itself would sign with,
    given that seed: anyone can derive it)."""
    known = dict(_published_issuer_keys())
    known |= {bytes.fromhex(key): f"RFC 6979's test vector {name}" for name, key in RFC6979_P256_TEST_KEYS.items()}
    known |= {
        derive_p256_secret(secret): f"the P-256 key derived from {where}"
        for secret, where in _published_issuer_keys().items()
    }
    return known


def _ed25519_public(secret: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def published_issuer_key(seed: bytes, p256: bool = False) -> str | None:
    """Where this secret is public (a phrase), or None for a key of one's own; `p256` for the
    P-256 key, which has more public secrets to be (`_published_p256_keys`)."""
    where = (_published_p256_keys() if p256 else _published_issuer_keys()).get(seed)
    if where is None and len(set(seed)) < MIN_DISTINCT_KEY_BYTES:
        where = f"a patterned key of {len(set(seed))} distinct byte values, which anyone can guess"
    return where


def _on_this_machine(url: str) -> bool:
    """Whether the URL's host is this machine: localhost, or a loopback address (127.x, ::1)."""
    try:
        return _loopback(urlsplit(url).hostname or "")
    except ValueError:  # not a URL one can split
        return False


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a name other than localhost: somewhere else
        return False


def _in_process_database(settings: Settings) -> bool:
    """SQLite: statements answered in this process, with no round trip to a server."""
    try:
        return make_url(settings.database_url).get_backend_name() == "sqlite"
    except ArgumentError:
        return False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CC_", env_file=".env", extra="ignore")

    # ---- the chain, the deployments and the database
    # The chain node's JSON-RPC address: a local Anvil by default; on a public network, your own
    # node's or a provider's.
    rpc_url: str = "http://127.0.0.1:8545"
    # How long one JSON-RPC request to the node may take.
    rpc_timeout_seconds: float = 10.0
    # The most calls in one JSON-RPC batch of relay checks: checks in threads that come together
    # share a round trip to the node (backend/chain/combining.py; a check on the event loop sends
    # its own). Some providers refuse longer batches.
    rpc_batch_max: int = Field(default=100, ge=1)
    # The deployments file `ape run deploy` writes (deployments/<network>.json): the chain id, the
    # contracts' ABIs, every community deployed there and the community factory. Read once, when the
    # service starts: communities created through the factory later are found on chain (below).
    deployments_file: Path = _ROOT / "deployments" / "ethereum-local-foundry.json"
    # The relayer's secp256k1 secret key (hex): it signs and pays for every relayed transaction, so
    # its account must hold the chain's currency. The default, Anvil's first development key, is
    # refused on any chain that is not local (see `check_relayer_key`).
    relayer_key: SecretStr = SecretStr(ANVIL_DEV_KEYS[0])
    # The database of the index and the relayer's outbox (DATABASE_URL, or CC_DATABASE_URL): SQLite
    # under var/ by default, or PostgreSQL (postgresql://user:password@host:5432/name).
    database_url: str = Field(
        default=f"sqlite:///{_ROOT / 'var' / 'index.sqlite3'}",
        validation_alias=AliasChoices("DATABASE_URL", "CC_DATABASE_URL"),
    )
    # Blocks to wait before indexing an event: 0 on a local chain; a few on a public one,
    # so that a reorganisation never reaches the index.
    confirmations: int = Field(default=0, ge=0)
    # How often the indexer looks for new blocks. A look at a chain unchanged since the last one
    # is one call to the node (the latest block) and nothing else; a look that finds one new
    # block adds a call for the factory's events and one for each community's.
    index_poll_seconds: float = Field(default=0.5, gt=0)
    # eth_getLogs pages: public providers cap ranges at about 2,000 blocks.
    index_page_blocks: int = Field(default=2000, gt=0)
    # /health says "degraded" when a community's index is more blocks than this behind the
    # newest block it may index (the head minus the confirmation depth).
    health_max_lag_blocks: int = Field(default=5, ge=0)
    # How long a prepared request stays signable.
    request_ttl_seconds: int = Field(default=3600, gt=0)
    # How long a write waits for its receipt (and the index) before answering 504.
    receipt_timeout_seconds: float = Field(default=60.0, gt=0)
    # ---- communities created on chain, through the deployments file's community factory
    # Anyone can create communities through the factory, so the service serves only those created
    # by accounts it trusts: the accounts the deployments file names as having deployed (the
    # factory's deployer, each community's creator) and these, as 0x addresses, comma-separated in
    # CC_FOLLOW_CREATORS. Others' communities are never read: the node leaves them out of its answer
    # (docs/stewards/second-community.md).
    follow_creators: Annotated[tuple[str, ...], NoDecode] = ()
    # The most communities created on chain the service serves, beside the deployments file's, in
    # the order they were created (0: none). The later ones are left out and /health says so: a
    # trusted key that leaks cannot make the service index without end.
    follow_max_communities: int = Field(default=20, ge=0)
    # ---- serving: the address, the proxies in front, reads at once
    # Where `python -m backend serve` listens (its --host and --port take precedence).
    host: str = "127.0.0.1"
    port: int = 8000
    # The proxies whose X-Forwarded-For (and X-Forwarded-Proto) is believed, as addresses or
    # networks (CIDR), comma-separated in CC_TRUSTED_PROXIES: the client address a relaying budget is
    # kept for is otherwise the connection's own. None by default: uvicorn alone believes the header
    # from 127.0.0.1, where any local client, or a proxy passing it through, chooses its own address.
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    # Reads answered from the index alone that run at once in one process; more wait their turn
    # (backend/dependencies.py). Two suit the 2-core machines measured: sixteen profile reads at once,
    # p99 236 ms with no limit, 85 ms two at a time (docs/performance/api.md).
    index_read_slots: int = Field(default=2, ge=1)
    # Members' signed requests (`wait=false`) checked at once in one process, each in a thread of
    # its own, or on the event loop (signed_checks_on_loop), while it waits for the node and the
    # database; more wait their turn
    # (backend/api/signed_submits.py). 0: 3 when the node's address is this machine's (127.x,
    # ::1, localhost: a round trip to it takes well under a millisecond, and more threads only wait
    # for Python's interpreter lock; as fast as answered, eight at once cost a quarter more CPU a
    # write and accepted an eighth fewer than three, docs/performance/api.md), and 32 for a node
    # elsewhere, whose round trips a check mostly waits for. A node in another container on the
    # same machine counts as elsewhere: set it. A `wait=true` request waits for its block in the
    # shared pool. The slots go to clients in turn (backend/api/fair_slots.py): one client's many
    # slow checks (a contract wallet's, heavy calls that end refused) are granted at most one slot
    # before another client's next request; past 64 waiting, its next is refused (429).
    signed_check_slots: int = Field(default=0, ge=0, le=256)
    # Whether those checks run on the event loop's own thread, each suspended while it waits for
    # the node (backend/chain/on_loop.py), instead of in threads: about a seventh less CPU a write
    # (2.41-2.47 -> 2.08-2.09 ms on SQLite), and the threads' hand-offs of Python's interpreter
    # lock gone (docs/performance/api.md). Unset: yes when the node is on this machine (over plain
    # HTTP) and the database is SQLite, whose statements hold the loop for microseconds. Not for
    # PostgreSQL, even on this machine: each statement's round trip to its server would hold the
    # loop (measured there: 8-13 % less CPU a write, but 5-12 % fewer writes a second). True: on
    # the loop wherever the node is asked over plain HTTP without credentials (a database server
    # then holds the loop for its round trips). A node behind HTTPS, or with credentials in its
    # URL, stays in threads, and so does a proposal's check (signed_submits.py).
    signed_checks_on_loop: bool | None = None
    # The longest body the API reads, in bytes (backend/api/body_limit.py): a longer one is refused
    # (413) before it is read on. The longest signed request (a proposal of 16 KB of calls) is about
    # 40 KB. The capture routes read their own bodies, to capture_max_body_bytes.
    api_max_body_bytes: int = Field(default=262_144, ge=65_536)
    # ---- Open Badges credentials (backend/credentials)
    # The issuer's Ed25519 secret key (32 bytes, hex): it signs the Data Integrity proofs
    # (eddsa-rdfc-2022) of every credential and status list.
    issuer_key: SecretStr = SecretStr(DEV_ISSUER_KEY)
    # The issuer's P-256 secret key (32 bytes, hex): it signs the ES256 JWTs (application/vc+jwt)
    # of every credential and status list. Unset: derived from `issuer_key` (HKDF-SHA256), so one
    # secret keeps both; set it to keep the two apart (a different value, refused if public).
    issuer_p256_key: SecretStr | None = None
    # Where verifiers reach this service: the base of the issuer's did:web, of credential ids and
    # of the status lists. Unset: http://{host}:{port}, the address `serve` listens on.
    public_url: str | None = None

    # ---- what the relayer will pay for (docs/security/threat-model.md)
    # URI schemes accepted for evidence and indicator descriptions; anything else on chain is
    # flagged unsafe in the reads.
    uri_schemes: frozenset[str] = frozenset({"https", "http", "ipfs", "ar"})
    # The gas a member signs must cover the call's estimate, and may exceed it by at most
    # this factor plus `relay_gas_slack`: headroom for state that changes before mining, but no
    # blank cheque.
    relay_gas_factor: float = Field(default=2.0, ge=1.0)
    relay_gas_slack: int = Field(default=150_000, ge=0)
    # The most gas one relayed request may carry, whatever it is.
    relay_max_gas_per_request: int = Field(default=3_000_000, gt=0)
    # A member with at least this many requests in flight, writing fast (four checks within a
    # second), has the state they leave carried from one check to the next (traced once each,
    # backend/relay/carried.py) instead of replayed in each check; once every request held is
    # carried, a check's one paid trace answers it, at less than half what a simulation and a
    # trace cost the node. Only below `member_max_in_flight`. A node without debug_traceCall (as
    # many paid providers), or whose traces ignore their overrides, is found out by a probe, and
    # the checks replay. 0: always replay (a provider that bills a trace as several calls).
    relay_carry_from: int = Field(default=2, ge=0)
    # Budgets, each per member (per community) and per client address: requests sent and not
    # yet mined, requests sent in the last minute, gas sent in the last hour. Past one, 429.
    member_max_in_flight: int = Field(default=8, ge=1)
    member_requests_per_minute: int = Field(default=60, ge=1)
    member_gas_per_hour: int = Field(default=10_000_000, ge=1)
    client_max_in_flight: int = Field(default=64, ge=1)
    client_requests_per_minute: int = Field(default=1_200, ge=1)
    client_gas_per_hour: int = Field(default=100_000_000, ge=1)
    # Strikes: a member's requests that passed every check, then failed on chain (the forwarder
    # skipped them, or their call reverted), each costing the relayer gas. A wallet that answers
    # one way when simulated and another when executed earns one per request. Past
    # `member_strikes_slow_after` strikes within the cool-off, the member has one request in flight
    # at a time; past `member_strikes_refuse_after`, none (429) until their oldest strike is older
    # than the cool-off.
    member_strikes_slow_after: int = Field(default=3, ge=1)
    member_strikes_refuse_after: int = Field(default=6, ge=1)
    member_strike_cooloff_seconds: int = Field(default=6 * 3600, gt=0)
    # A signed request's deadline must leave at least this long after the chain's clock when it is
    # submitted (several blocks on any chain): one that expires while it waits for its block is
    # skipped by the forwarder, after the relayer paid for it.
    relay_min_deadline_headroom_seconds: int = Field(default=60, ge=0)
    # ---- the relayer worker (backend/relay/worker.py)
    # How often it looks for queued requests and receipts (a request accepted by this process
    # wakes it at once). With nothing queued or in flight, a look is one read of the outbox and no
    # call to the node.
    relay_poll_seconds: float = Field(default=0.1, gt=0)
    # Woken by a request while a transaction it sent at the same head still waits for its block,
    # it waits at least this long before sending, so that the requests accepted meanwhile go in one
    # transaction: each costs the service (signing, recording, settling) and the node about as much
    # as several requests, and under a burst it sent one for every few. A request alone, or the
    # first after a block, is sent at once, and so is every request on a chain that mines each
    # transaction as it comes (a local chain without a block time).
    relay_pack_window_seconds: float = Field(default=0.03, ge=0, le=5)
    # On a chain that mines at intervals, those gathered requests leave at the latest this long
    # before the next block is due (a block time after the relayer saw the last one), or a quarter
    # of the block time if that is longer, and sooner once they fill a transaction (below): they
    # still make the block, in a few full transactions instead of one for every few requests.
    relay_send_lead_seconds: float = Field(default=0.3, ge=0, le=60)
    # Requests packed into one executeBatch: at most this much gas (their shares) and this many.
    relay_batch_gas: int = Field(default=8_000_000, gt=0)
    relay_batch_max: int = Field(default=64, ge=1)
    # A transaction not mined within this many blocks is sent again with the same nonce and
    # higher fees, up to this fee per gas (wei): 500 gwei by default.
    relay_replace_after_blocks: int = Field(default=3, ge=1)
    relay_max_fee_per_gas: int = Field(default=500 * 10**9, gt=0)
    # ---- passed proposals, carried out by the service (backend/proposals/autoexec.py)
    # Whether the leading process executes proposals that passed by itself (the relayer pays, within
    # the relaying budgets of a client of its own); anyone may still execute one by hand.
    autoexec: bool = True
    # How long after a proposal is first seen passed the service waits before executing it, so that
    # whoever executes it by hand right after the vote is not raced; and how often it looks.
    autoexec_delay_seconds: float = Field(default=30.0, ge=0)
    autoexec_poll_seconds: float = Field(default=5.0, gt=0)
    # ---- records carried over to a later version of the badge contract (backend/versions/carrier.py)
    # Whether the leading process carries a community's records over by itself once its vote moved
    # them (the relayer pays, within the relaying budgets of a client of its own); anyone may still
    # call carryOver by hand. How many claims one transaction carries, and how often it looks.
    carry_over: bool = True
    carry_over_batch_claims: int = Field(default=50, ge=1, le=500)
    carry_over_poll_seconds: float = Field(default=5.0, gt=0)

    # ---- telling members what waits for them (backend/notifications, docs/stewards/notifications.md)
    # The SMTP server that sends members' email: its host (unset: no email is offered), port, and
    # how the connection is secured: `starttls` (port 587), `tls` (SMTPS, port 465) or `none` (a
    # relay on the same machine or network only).
    notify_smtp_host: str | None = None
    notify_smtp_port: int = Field(default=587, ge=1, le=65535)
    notify_smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    # The SMTP server's user name and password, when it asks for them.
    notify_smtp_username: str | None = None
    notify_smtp_password: SecretStr | None = None
    # The sender of members' email, as their mail program shows it.
    notify_from: str = "Contribution Commons <commons@localhost>"
    # Whether a member's webhook may point at a private, loopback or link-local address, or use
    # plain http: never in production (anyone could make the service call inside its own network);
    # for tests and a chat bridge on the same machine.
    notify_allow_private_webhooks: bool = False
    # How often the sender looks for messages due, and how often it reads the index for what to
    # tell (at once when a community's index moves on).
    notify_poll_seconds: float = Field(default=1.0, gt=0)
    notify_scan_seconds: float = Field(default=60.0, gt=0)
    # How long one email or webhook may take before it counts as failed, and how many are sent at
    # once (a slow endpoint holds one of them, never the service).
    notify_send_timeout_seconds: float = Field(default=10.0, gt=0)
    notify_senders: int = Field(default=4, ge=1)
    # A failed send is tried again after this many seconds, doubling with each failure in a row, up
    # to the most.
    notify_retry_base_seconds: float = Field(default=30.0, gt=0)
    notify_retry_max_seconds: float = Field(default=3600.0, gt=0)
    # An endpoint (a webhook, or an address the mail server refuses) that failed this many times in
    # a row within the window is turned off, and the member told by email (if they have one) and
    # in their feed.
    notify_disable_after_failures: int = Field(default=10, ge=1)
    notify_failure_window_seconds: int = Field(default=86_400, gt=0)
    # How often a daily digest goes out, in the community's chain time (a day).
    notify_digest_seconds: int = Field(default=86_400, gt=0)
    # A signed preference (or reading of one) must be this recent, and a member may have this
    # many accepted per hour per community (past it, 429).
    notify_signature_max_age_seconds: int = Field(default=600, gt=0)
    notify_requests_per_hour: int = Field(default=20, ge=1)

    # ---- work captured where it happens (backend/capture, docs/stewards/capture.md)
    # Each community's webhook secrets, by source, as JSON: {"<community>": {"github": "...", "gitlab":
    # "...", "gitlab_signing": "whsec_...", "discourse": "...", "standard": "whsec_..."}}. `github` and
    # `discourse` are the secret typed in the source's webhook settings; `gitlab` is a GitLab webhook's
    # secret token and `gitlab_signing` its signing token; `standard` is the whsec_ secret of a Standard
    # Webhooks sender. A source without a secret is not connected: its deliveries are refused.
    capture_secrets: dict[str, dict[str, SecretStr]] = {}
    # The largest delivery read, and the largest import file, in bytes: a longer body is refused (413)
    # before it is parsed.
    capture_max_body_bytes: int = Field(default=1_048_576, ge=1024)
    capture_max_import_bytes: int = Field(default=16_777_216, ge=1024)
    # Deliveries accepted per minute from one source into one community: past it, one is refused (429,
    # with Retry-After) before the database is read, and changes nothing. Senders that retry send it again;
    # GitHub and GitLab list it among the webhook's recent deliveries, to be sent again by hand.
    capture_deliveries_per_minute: int = Field(default=120, ge=1)

    @field_validator("capture_secrets")
    @classmethod
    def _capture_secrets(cls, value: dict[str, dict[str, SecretStr]]) -> dict[str, dict[str, SecretStr]]:
        """Each source's secret under its name; the Standard Webhooks ones whsec_ and base64."""
        from backend.capture.verify import whsec_key

        for community, secrets in value.items():
            for source, secret in secrets.items():
                where = f"CC_CAPTURE_SECRETS: {community}.{source}"
                if source not in ("github", "gitlab", "gitlab_signing", "discourse", "standard"):
                    raise ValueError(f"{where}: no such source (github, gitlab, gitlab_signing, discourse, standard)")
                if len(secret.get_secret_value()) < 16:
                    raise ValueError(f"{where}: a secret of at least 16 characters, drawn at random")
                if source in ("standard", "gitlab_signing"):
                    try:
                        whsec_key(secret.get_secret_value())
                    except ValueError as exc:
                        raise ValueError(f"{where}: {exc}") from None
        return value

    @field_validator("follow_creators", mode="before")
    @classmethod
    def _creators(cls, value: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
        entries = value.split(",") if isinstance(value, str) else value
        creators = []
        for entry in entries or ():
            entry = str(entry).strip()
            if not entry:
                continue
            if not re.fullmatch(r"0x[0-9a-fA-F]{40}", entry):
                raise ValueError(
                    f"CC_FOLLOW_CREATORS: {entry!r} is not an address (0x and 40 hexadecimal digits); "
                    "name each creator whose communities the service serves"
                )
            creators.append(to_checksum_address(entry))
        return tuple(creators)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_networks(cls, value: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
        """Each an address or a network, written as ipaddress reads it: uvicorn takes anything else
        as a literal no peer ever matches, so a typo would leave the proxy silently untrusted."""
        entries = value.split(",") if isinstance(value, str) else value
        networks = []
        for entry in entries or ():
            entry = str(entry).strip()
            if not entry:
                continue
            try:
                networks.append(str(ipaddress.ip_network(entry, strict=False)))
            except ValueError:
                raise ValueError(
                    f"CC_TRUSTED_PROXIES: {entry!r} is not an IP address or network "
                    "(CIDR); name each proxy, e.g. 10.0.0.5 or 10.0.0.0/24"
                ) from None
        return tuple(networks)

    @property
    def signed_checks_at_once(self) -> int:
        """signed_check_slots, or its default for where the node is (see the field)."""
        if self.signed_check_slots:
            return self.signed_check_slots
        return 3 if _on_this_machine(self.rpc_url) else 32

    @property
    def checks_on_loop(self) -> bool:
        """signed_checks_on_loop, or its default for where the node is and what the database is (see the field)."""
        if self.signed_checks_on_loop is not None:
            return self.signed_checks_on_loop
        local_node = urlsplit(self.rpc_url).scheme == "http" and _on_this_machine(self.rpc_url)
        return local_node and _in_process_database(self)

    @property
    def relayer_address(self) -> str:
        return Account.from_key(self.relayer_key.get_secret_value()).address

    def check_relayer_key(self, chain_id: int) -> None:
        """Refuse a publicly known development key as relayer on a chain that is not local."""
        if chain_id not in LOCAL_CHAIN_IDS and self.relayer_address in _ANVIL_DEV_ADDRESSES:
            raise RelayerKeyRefused(
                f"CC_RELAYER_KEY is a public Anvil development key; chain {chain_id} is not local "
                "(31337/1337): set CC_RELAYER_KEY to a key of your own"
            )

    @property
    def public_base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def issuer_secret(self, chain_id: int) -> bytes:
        """The issuer's Ed25519 secret, exactly as it will sign; a publicly known one is refused on a
        chain that is not local (anyone could sign credentials that verify as this service's)."""
        seed = parse_issuer_key(self.issuer_key.get_secret_value())
        where = None if chain_id in LOCAL_CHAIN_IDS else published_issuer_key(seed)
        if where is not None:
            raise IssuerKeyRefused(
                f"CC_ISSUER_KEY is a public development key ({where}); chain {chain_id} is not local "
                "(31337/1337), where anyone holding it could sign credentials as this service's communities: "
                "set CC_ISSUER_KEY to an Ed25519 secret key of your own (32 random bytes, hex)"
            )
        return seed

    def issuer_p256_secret(self, chain_id: int) -> bytes:
        """The issuer's P-256 secret (32 bytes, big-endian), exactly as it will sign: CC_ISSUER_P256_KEY,
        or derived from CC_ISSUER_KEY when that is unset (and so refused wherever that key is). A
        configured one is refused when it is not a P-256 secret, when it is the Ed25519 key again, and
        on a chain that is not local when it is public."""
        seed = self.issuer_secret(chain_id)
        if self.issuer_p256_key is None:
            return derive_p256_secret(seed)
        name = "CC_ISSUER_P256_KEY"
        secret = parse_issuer_key(self.issuer_p256_key.get_secret_value(), name, "a P-256 secret key")
        if not 0 < int.from_bytes(secret, "big") < P256_ORDER:
            raise IssuerKeyInvalid(f"{name} must be a P-256 secret key: a number from 1 to the curve's order - 1")
        if secret == seed:
            raise IssuerKeyRefused(
                f"{name} is CC_ISSUER_KEY again: one secret for two algorithms; unset {name} to derive "
                "the P-256 key from CC_ISSUER_KEY, or give it 32 random bytes of its own"
            )
        where = None if chain_id in LOCAL_CHAIN_IDS else published_issuer_key(secret, p256=True)
        if where is not None:
            raise IssuerKeyRefused(
                f"{name} is a public development key ({where}); chain {chain_id} is not local "
                "(31337/1337), where anyone holding it could sign credentials as this service's communities: "
                f"set {name} to a P-256 secret key of your own (32 random bytes, hex), or unset it"
            )
        return secret

    def check_issuer_key(self, chain_id: int) -> None:
        """Refuse a malformed or publicly known issuer key, Ed25519 or P-256 (see `issuer_secret`,
        `issuer_p256_secret`)."""
        self.issuer_p256_secret(chain_id)


@lru_cache
def get_settings() -> Settings:
    return Settings()
