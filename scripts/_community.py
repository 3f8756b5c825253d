"""Deploying one community with ape, and recording it in deployments/<network>.json.

Shared by `ape run deploy` and the contract tests, so the tests deploy exactly what users do.
Files starting with "_" are not listed as ape scripts.
"""

from __future__ import annotations

import json
import time
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any

from ape import chain

# ape's project for deploying: the contracts compiled in artifacts/ while their sources are
# unchanged (no compile on a fresh clone), else ape's own project, which compiles.
from scripts._artifacts import contracts as project

DEPLOYMENTS_DIR = Path(__file__).resolve().parent.parent / "deployments"

# The name each contract has in deployments/<network>.json, and its ape contract type.
CONTRACT_TYPES = {
    "forwarder": "CommunityForwarder",
    "membership": "Membership",
    "governor": "CommunityGovernor",
    "timelock": "CommunityTimelock",
    "registry": "IndicatorRegistry",
    "badge": "ContributionBadge",
    "passkeys": "PasskeyAccountFactory",
}
# ABIs of contracts that are not one per community: a passkey member's own account (requests to it
# add or remove the member's passkeys).
EXTRA_ABIS = {"account": "PasskeyAccount"}


@dataclass(frozen=True)
class CommunityParams:
    """What a community decides at its founding (see communities/*.json)."""

    slug: str
    name: str
    symbol: str
    founders: list[str]
    voting_delay_seconds: int
    voting_period_seconds: int
    proposal_threshold: int
    quorum_percent: int
    # How long a passed proposal waits in the timelock before it runs (0 only on a local chain;
    # otherwise 1 hour to 30 days: CommunityTimelock's bounds). Governance may change it.
    timelock_delay_seconds: int = 0
    # Admission without a vote per person (Membership's admission rules; governance may change
    # them): how many members' vouches admit a person (0: only by proposal), and how many vouches
    # and invitations each member may give per period; how long an invitation stays open.
    vouches_required: int = 0
    vouch_cap: int = 3
    vouch_period_days: int = 30
    invitation_lifetime_days: int = 30

    @classmethod
    def load(cls, path: Path) -> CommunityParams:
        data = json.loads(Path(path).read_text())
        required = {field.name for field in fields(cls) if field.default is MISSING}
        missing = sorted(required - set(data))
        if missing:
            raise ValueError(f"{path}: missing {', '.join(missing)}")
        params = cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})
        if not params.founders:
            raise ValueError(f"{path}: a community needs at least one founder")
        if not 0 < params.quorum_percent <= 100:
            raise ValueError(f"{path}: quorum_percent must be within 1-100")
        if params.voting_period_seconds <= 0:
            raise ValueError(f"{path}: voting_period_seconds must be positive")
        if not 0 <= params.timelock_delay_seconds <= 30 * 86_400:
            raise ValueError(
                f"{path}: timelock_delay_seconds is {params.timelock_delay_seconds}: a passed proposal waits at "
                "most 30 days (2592000 seconds); one or two days (86400 or 172800) suit most communities"
            )
        if not 0 <= params.vouches_required <= 16 or not 1 <= params.vouch_cap <= 100:
            raise ValueError(f"{path}: vouches_required must be within 0-16 and vouch_cap within 1-100")
        if not 1 <= params.vouch_period_days <= 365 or not 1 <= params.invitation_lifetime_days <= 365:
            raise ValueError(f"{path}: vouch_period_days and invitation_lifetime_days must be within 1-365")
        return params

    def admission_rules(self) -> tuple[int, int, int, int]:
        """Membership.AdmissionRules as the contract takes it."""
        day = 86_400
        period, lifetime = self.vouch_period_days * day, self.invitation_lifetime_days * day
        return (self.vouches_required, self.vouch_cap, period, lifetime)


# CommunityTimelock's bounds: no delay only on a local chain (its chain id), else an hour at least.
LOCAL_CHAIN_ID, HOUR = 31_337, 3_600

# Membership's rules at deployment when a community's file sets none.
DEFAULT_ADMISSION_RULES = (0, 3, 30 * 86_400, 30 * 86_400)


@dataclass
class Community:
    """A deployed community: its contracts and the block it starts at."""

    params: CommunityParams
    forwarder: Any
    membership: Any
    governor: Any
    timelock: Any  # owns the rules and carries out passed proposals after its delay
    registry: Any
    badge: Any
    passkeys: Any  # the factory of its passkey members' accounts
    deployment_block: int

    def contracts(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in CONTRACT_TYPES}


def deploy_community(params: CommunityParams, deployer, log=lambda message: None) -> Community:
    """Deploy the community's contracts and the passkey account factory, and hand ownership of
    the rules to the timelock, which only the governor feeds and which then has no admin."""
    log(f"Deploying community '{params.name}' with {len(params.founders)} founders")
    if chain.chain_id != LOCAL_CHAIN_ID and params.timelock_delay_seconds < HOUR:
        raise ValueError(
            f"timelock_delay_seconds is {params.timelock_delay_seconds}: on a public network a passed proposal "
            "must wait at least an hour (3600) before it runs, so that members see it coming; set it in the "
            "community's file (a day or two suits most communities)"
        )
    # The first block that can hold the deployment: the index starts there.
    deployment_block = chain.blocks.height + 1
    forwarder = deployer.deploy(project.CommunityForwarder)
    log(f"  forwarder   {forwarder.address}")
    # The deployer owns membership only until the timelock exists (the two reference each other).
    membership = deployer.deploy(project.Membership, params.name, params.symbol, params.founders, forwarder, deployer)
    log(f"  membership  {membership.address}")
    # The deployer administers the timelock only until the governor holds its roles (the two
    # reference each other); then it renounces, and the timelock administers itself. Executors:
    # the zero address, that is anyone, once the delay has passed.
    zero = "0x0000000000000000000000000000000000000000"
    timelock = deployer.deploy(project.CommunityTimelock, params.timelock_delay_seconds, [], [zero], deployer)
    log(f"  timelock    {timelock.address}")
    governor = deployer.deploy(
        project.CommunityGovernor,
        params.name,
        membership,
        forwarder,
        params.voting_delay_seconds,
        params.voting_period_seconds,
        params.proposal_threshold,
        params.quorum_percent,
        timelock,
    )
    log(f"  governor    {governor.address}")
    timelock.grantRole(timelock.PROPOSER_ROLE(), governor, sender=deployer)
    timelock.grantRole(timelock.CANCELLER_ROLE(), governor, sender=deployer)
    timelock.renounceRole(timelock.DEFAULT_ADMIN_ROLE(), deployer, sender=deployer)
    log("  timelock    fed by the governor only; no admin")
    registry = deployer.deploy(project.IndicatorRegistry, timelock)
    log(f"  registry    {registry.address}")
    badge = deployer.deploy(
        project.ContributionBadge,
        f"{params.name} Contribution Badges",
        f"{params.symbol}B",
        membership,
        registry,
        forwarder,
        timelock,
    )
    log(f"  badge       {badge.address}")
    # Accounts for members who sign with a passkey: clones that trust this community's forwarder.
    passkeys = deployer.deploy(project.PasskeyAccountFactory, forwarder)
    log(f"  passkeys    {passkeys.address}")
    if params.admission_rules() != DEFAULT_ADMISSION_RULES:
        membership.setAdmissionRules(params.admission_rules(), sender=deployer)
        log(f"  admission   {params.vouches_required} vouches admit a person")
    membership.transferOwnership(timelock, sender=deployer)
    log("  membership now owned by the timelock")
    return Community(params, forwarder, membership, governor, timelock, registry, badge, passkeys, deployment_block)


def deployment_path(folder: Path, ecosystem: str, network: str, provider: str) -> Path:
    """<folder>/<ecosystem>-<network>.json; local chains also name the provider."""
    name = f"{ecosystem}-{network}" + (f"-{provider}" if network == "local" else "")
    return Path(folder) / f"{name}.json"


def record_deployment(path: Path, community: Community, chain_id: int, network_choice: str) -> None:
    """Add (or replace) the community in the network's deployment file, with every ABI."""
    record = json.loads(path.read_text()) if path.exists() else {}
    if record.get("chain_id", chain_id) != chain_id:
        # A local chain restarted without its state: the old addresses are gone.
        record = {}
    record["network"] = network_choice
    record["chain_id"] = chain_id
    record["abis"] = {
        key: [entry.model_dump(mode="json", by_alias=True) for entry in getattr(project, name).contract_type.abi]
        for key, name in {**CONTRACT_TYPES, **EXTRA_ABIS}.items()
    }
    communities = record.setdefault("communities", {})
    communities[community.params.slug] = {
        "name": community.params.name,
        "deployment_block": community.deployment_block,
        "deployed_at": int(time.time()),
        "contracts": {key: contract.address for key, contract in community.contracts().items()},
        "parameters": community.params.__dict__,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
