"""Service settings from the environment (prefix CC_, or DATABASE_URL), with local defaults.

Defaults run everything against a local Anvil. The well-known Anvil development keys are
public: they are accepted as relayer only on a local chain (ids 31337 and 1337), which the
gateway checks once it knows the chain id (see `check_relayer_key`).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from eth_account import Account
from eth_account.hdaccount import key_from_seed, seed_from_mnemonic
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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


# The Ed25519 secret key of RFC 8032's first test vector: public, so it signs credentials only on
# a local chain (see `check_issuer_key`).
DEV_ISSUER_KEY = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
DEV_ISSUER_KEYS = frozenset({DEV_ISSUER_KEY})


class IssuerKeyRefused(ValueError):
    """A public development key was configured as credential issuer for a non-local chain."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CC_", env_file=".env", extra="ignore")

    rpc_url: str = "http://127.0.0.1:8545"
    rpc_timeout_seconds: float = 10.0
    deployments_file: Path = _ROOT / "deployments" / "ethereum-local-foundry.json"
    relayer_key: SecretStr = SecretStr(ANVIL_DEV_KEYS[0])
    database_url: str = Field(
        default=f"sqlite:///{_ROOT / 'var' / 'index.sqlite3'}",
        validation_alias=AliasChoices("DATABASE_URL", "CC_DATABASE_URL"),
    )
    # Blocks to wait before indexing an event: 0 on a local chain; a few on a public one,
    # so that a reorganisation never reaches the index.
    confirmations: int = Field(default=0, ge=0)
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
    host: str = "127.0.0.1"
    port: int = 8000
    # The proxies whose X-Forwarded-For (and X-Forwarded-Proto) is believed, as addresses or
    # networks (CIDR), comma-separated in CC_TRUSTED_PROXIES: the client address a relaying budget is
    # kept for is otherwise the connection's own. None by default: uvicorn alone believes the header
    # from 127.0.0.1, where any local client, or a proxy passing it through, chooses its own address.
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    # Reads answered from the index alone that run at once in one process; more wait their turn
    # (backend/api/deps.py). Two suit the 2-core machines measured: sixteen profile reads at once,
    # p99 236 ms with no limit, 85 ms two at a time (README: API performance).
    index_read_slots: int = Field(default=2, ge=1)
    # ---- Open Badges credentials (backend/credentials)
    # The issuer's Ed25519 secret key (32 bytes, hex): it signs every credential and status list.
    issuer_key: SecretStr = SecretStr(DEV_ISSUER_KEY)
    # Where verifiers reach this service: the base of the issuer's did:web, of credential ids and
    # of the status lists. Unset: http://{host}:{port}, the address `serve` listens on.
    public_url: str | None = None

    # ---- what the relayer will pay for (README: "What a hostile member can cost the relayer")
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
    # ---- the relayer worker (backend/relayer/worker.py)
    # How often it looks for queued requests and receipts (a request accepted by this process
    # wakes it at once).
    relay_poll_seconds: float = Field(default=0.1, gt=0)
    # Requests packed into one executeBatch: at most this much gas (their shares) and this many.
    relay_batch_gas: int = Field(default=8_000_000, gt=0)
    relay_batch_max: int = Field(default=64, ge=1)
    # A transaction not mined within this many blocks is sent again with the same nonce and
    # higher fees, up to this fee per gas (wei): 500 gwei by default.
    relay_replace_after_blocks: int = Field(default=3, ge=1)
    relay_max_fee_per_gas: int = Field(default=500 * 10**9, gt=0)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_networks(cls, value: object) -> tuple[str, ...]:
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
                raise ValueError(f"CC_TRUSTED_PROXIES: {entry!r} is not an IP address or network "
                                 "(CIDR); name each proxy, e.g. 10.0.0.5 or 10.0.0.0/24") from None
        return tuple(networks)

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

    def check_issuer_key(self, chain_id: int) -> None:
        """Refuse a publicly known development key as credential issuer on a chain that is not local."""
        key = self.issuer_key.get_secret_value().lower().removeprefix("0x")
        if chain_id not in LOCAL_CHAIN_IDS and key in DEV_ISSUER_KEYS:
            raise IssuerKeyRefused(
                f"CC_ISSUER_KEY is a public development key; chain {chain_id} is not local (31337/1337): "
                "set CC_ISSUER_KEY to an Ed25519 secret key of your own (32 bytes, hex)"
            )


@lru_cache
def get_settings() -> Settings:
    return Settings()
