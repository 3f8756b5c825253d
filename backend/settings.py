"""Service settings from the environment (prefix CC_, or DATABASE_URL), with local defaults.

Defaults run everything against a local Anvil. The well-known Anvil development keys are
public: they are accepted as relayer only on a local chain (ids 31337 and 1337), which the
gateway checks once it knows the chain id (see `check_relayer_key`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from eth_account import Account
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    # How long a prepared request stays signable.
    request_ttl_seconds: int = Field(default=3600, gt=0)
    # How long a write waits for its receipt (and the index) before answering 504.
    receipt_timeout_seconds: float = Field(default=60.0, gt=0)
    host: str = "127.0.0.1"
    port: int = 8000

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


@lru_cache
def get_settings() -> Settings:
    return Settings()
