"""The deployments file (`deployments/<network>.json`, written by `ape run deploy`): one chain,
its contracts' ABIs, every community deployed there, and the community factory the service
follows for communities created after it started (backend/indexer/factory.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from backend.chain.abi import ContractAbi
from backend.chain.addresses import checksum

CONTRACT_KEYS = ("forwarder", "membership", "governor", "timelock", "registry", "badge")
# Contracts a community deployed by an earlier version may lack: served when present.
OPTIONAL_KEYS = ("passkeys",)
# The ABI of a passkey member's own account (files written before it lack it): requests whose
# target is the signer's own account use it, under this key.
OWN_ACCOUNT = "account"
# The community factory's ABI (files written before it lack it).
FACTORY = "factory"


class DeploymentsError(RuntimeError):
    """The deployments file is missing or malformed."""


@dataclass(frozen=True)
class RecordsMove:
    """The community's vote moved its records from one version of the badge contract to the next
    (the registry's RecordsMoved), at this event's position on the chain."""

    from_address: str
    to_address: str
    block_number: int
    log_index: int


@dataclass(frozen=True)
class Community:
    slug: str
    name: str
    deployment_block: int
    # key -> checksum address; "badge" is the version of the badge contract in use now.
    contracts: dict[str, str]
    parameters: dict[str, Any] = field(default_factory=dict)
    creator: str | None = None  # who created it through the community factory (None: deployed separately)
    # The moves of its records to later versions of the badge contract, oldest first, as the index
    # found them (backend/indexer/versions.py): the first's `from_address` is the version deployed.
    moves: tuple[RecordsMove, ...] = ()

    def key_of(self, address: str) -> str | None:
        address = checksum(address)
        key = next((key for key, value in self.contracts.items() if value == address), None)
        if key is None and any(address in (m.from_address, m.to_address) for m in self.moves):
            return "badge"  # an earlier version: its events are the community's records too
        return key

    def badge_versions(self) -> list[str]:
        """Every version of the badge contract that held the records, the first first."""
        if not self.moves:
            return [self.contracts["badge"]]
        return [self.moves[0].from_address, *(m.to_address for m in self.moves)]

    def with_moves(self, moves: tuple[RecordsMove, ...]) -> Community:
        """This community with its records where `moves` left them (none: where it was deployed)."""
        first = self.badge_versions()[0]
        badge = moves[-1].to_address if moves else first
        return replace(self, contracts={**self.contracts, "badge": badge}, moves=moves)

    def as_deployed(self) -> Community:
        """As it was deployed, before any move: what an index is rebuilt from (it finds the moves)."""
        return self.with_moves(())

    def target_key(self, to: str, signer: str) -> str | None:
        """The key of a relayed request's target: one of the community's contracts, or the signer's
        own account (a passkey member adding or removing a passkey) when it is `to`."""
        key = self.key_of(to)
        if key is None and "passkeys" in self.contracts and checksum(to) == checksum(signer):
            return OWN_ACCOUNT
        return key

    def target_address(self, key: str, signer: str) -> str:
        return checksum(signer) if key == OWN_ACCOUNT else self.contracts[key]


@dataclass(frozen=True)
class FactoryRecord:
    """The chain's CommunityFactory, the block it was deployed in, and who deployed it."""

    address: str
    deployment_block: int
    deployer: str | None = None


@dataclass(frozen=True)
class Deployments:
    chain_id: int
    network: str
    abis: dict[str, ContractAbi]
    communities: dict[str, Community]
    factory: FactoryRecord | None = None

    def recorded_creators(self) -> set[str]:
        """The accounts the file names as having deployed: the factory's deployer and each
        community's creator (the steward's own keys, which wrote this file)."""
        creators = {c.creator for c in self.communities.values() if c.creator}
        if self.factory is not None and self.factory.deployer:
            creators.add(self.factory.deployer)
        return creators

    def with_communities(self, more: dict[str, Community]) -> Deployments:
        """These deployments serving `more` too (communities created through the factory), in
        place of any of the same slug (a community whose records moved to a new version)."""
        return replace(self, communities={**self.communities, **more})

    @classmethod
    def load(cls, path: Path) -> Deployments:
        path = Path(path)
        if not path.exists():
            raise DeploymentsError(
                f"{path} does not exist: deploy a community first (ape run deploy --network ethereum:local:foundry)"
            )
        try:
            record = json.loads(path.read_text())
            abis = {key: ContractAbi(record["abis"][key]) for key in CONTRACT_KEYS}
            abis |= {
                key: ContractAbi(record["abis"][key])
                for key in (*OPTIONAL_KEYS, OWN_ACCOUNT, FACTORY)
                if key in record["abis"]
            }
            communities = {
                slug: Community(
                    slug=slug,
                    name=entry["name"],
                    deployment_block=int(entry["deployment_block"]),
                    contracts={key: checksum(entry["contracts"][key]) for key in CONTRACT_KEYS}
                    | {key: checksum(entry["contracts"][key]) for key in OPTIONAL_KEYS if key in entry["contracts"]},
                    parameters=entry.get("parameters", {}),
                    creator=checksum(entry["creator"]) if entry.get("creator") else None,
                )
                for slug, entry in record["communities"].items()
            }
            factory = None
            if record.get("factory") and FACTORY in abis:
                entry = record["factory"]
                factory = FactoryRecord(
                    checksum(entry["address"]),
                    int(entry["deployment_block"]),
                    checksum(entry["deployer"]) if entry.get("deployer") else None,
                )
            return cls(int(record["chain_id"]), record.get("network", ""), abis, communities, factory)
        except (KeyError, TypeError, ValueError) as exc:
            raise DeploymentsError(f"{path} is malformed: {exc!r}") from exc
