"""Creating one community with ape, and recording it in deployments/<network>.json.

A community is created through CommunityFactory, in one transaction (`create_community`); the
factory and its seven deployers are deployed once per chain (`deploy_factory`), and recorded in
the deployments file beside the communities. `deploy_separately` deploys a community the way it
was done before the factory, a transaction per step: the reference the factory's community is
compared with (tests/contracts/test_factory.py) and the baseline of its gas (bench/gas.py).

Every transaction waits for its block, whatever the chain's mining: ape takes a chain that does
not mine on each transaction (Anvil with --block-time, as `make run` leaves it) for one nobody
mines, and answers at once with a receipt of block -1, status "no error" and no contract address
(`did not create a contract`, though the transaction then succeeds); `_mined` fetches the real one.

Shared by `ape run deploy` and the contract tests, so the tests deploy exactly what users do.
Files starting with "_" are not listed as ape scripts.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

from ape import chain
from eth_abi import encode
from eth_utils import keccak, to_checksum_address

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
# add or remove the member's passkeys), and the factory that creates communities (one per chain).
EXTRA_ABIS = {"account": "PasskeyAccount", "factory": "CommunityFactory"}
# Contracts deployed apart from a community's own: the writer of badges' metadata (a factory makes
# its own; `deploy_separately` deploys one), and the later version of the badge contract
# (scripts/deploy_version.py).
OTHER_TYPES = {"metadata": "BadgeMetadata", "badge_version_2": "ContributionBadgeV2"}
# The factory's deployers, each holding one contract's creation code, in the order of
# CommunityFactory's constructor: deployed once per chain with the factory.
DEPLOYER_TYPES = {
    "forwarder": "ForwarderDeployer",
    "membership": "MembershipDeployer",
    "timelock": "TimelockDeployer",
    "governor": "GovernorDeployer",
    "registry": "RegistryDeployer",
    "badge": "BadgeDeployer",
    "passkeys": "PasskeysDeployer",
}
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
# A slug as CommunityFactory takes it: 1-32 of a-z, 0-9 and inner hyphens.
SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?")
# A community's name is its contracts' EIP-712 domain name: OpenZeppelin keeps at most 31 bytes.
MAX_NAME_BYTES = 31


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
        if not SLUG.fullmatch(params.slug):
            raise ValueError(
                f"{path}: slug {params.slug!r} cannot name a community: 1 to 32 characters, lowercase letters a-z, "
                "digits and hyphens, neither starting nor ending with a hyphen"
            )
        if not 1 <= len(params.name.encode()) <= MAX_NAME_BYTES:
            raise ValueError(f"{path}: name must be 1 to {MAX_NAME_BYTES} bytes (an accented letter counts two)")
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

    def config(self) -> tuple:
        """CommunityFactory.CommunityConfig as the contract takes it."""
        return (
            self.slug,
            self.name,
            self.symbol,
            self.founders,
            self.voting_delay_seconds,
            self.voting_period_seconds,
            self.proposal_threshold,
            self.quorum_percent,
            self.timelock_delay_seconds,
            self.admission_rules(),
        )

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
    creator: str | None = None  # who called the community factory (None: deployed separately)
    factory: Factory | None = None  # the community factory that created it
    receipts: list[Any] = field(default_factory=list)  # its transactions' (for their gas)

    def contracts(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in CONTRACT_TYPES}


@dataclass
class Factory:
    """The chain's CommunityFactory, where it was deployed, and by whom."""

    contract: Any
    deployment_block: int
    deployer: str
    receipts: list[Any] = field(default_factory=list)  # its and its deployers' deployments' (for their gas)

    @property
    def address(self) -> str:
        return self.contract.address


# ---------------------------------------------------------------------- transactions


def _mined(receipt):
    """The receipt once its transaction is in a block. Under interval mining ape answers before the
    block with a receipt of block -1 (see the module's notes): ask the node for the real one, which
    waits for the block (up to the network's transaction acceptance timeout)."""
    if receipt.block_number is None or receipt.block_number < 0:
        receipt = chain.provider.get_receipt(receipt.txn_hash)
    receipt.raise_for_status()
    return receipt


def _deploy(account, container, *args):
    """(instance, receipt) of deploying `container` with `args` from `account`, once mined."""
    transaction = container(*args)
    transaction.sender = account.address
    receipt = _mined(account.call(transaction))
    if not receipt.contract_address:
        raise RuntimeError(f"{receipt.txn_hash} was mined but created no contract")
    return container.at(receipt.contract_address), receipt


def _transact(contract, method: str, *args, sender):
    return _mined(getattr(contract, method)(*args, sender=sender))


def _check_delay(params: CommunityParams) -> None:
    if chain.chain_id != LOCAL_CHAIN_ID and params.timelock_delay_seconds < HOUR:
        raise ValueError(
            f"timelock_delay_seconds is {params.timelock_delay_seconds}: on a public network a passed proposal "
            "must wait at least an hour (3600) before it runs, so that members see it coming; set it in the "
            "community's file (a day or two suits most communities)"
        )


# ---------------------------------------------------------------------- through the factory


def deploy_factory(deployer, log=lambda message: None) -> Factory:
    """Deploy the seven deployers and the CommunityFactory that uses them (once per chain)."""
    log("Deploying the community factory (once per chain)")
    deployers, receipts = [], []
    for name in DEPLOYER_TYPES.values():
        contract, receipt = _deploy(deployer, getattr(project, name))
        deployers.append(contract)
        receipts.append(receipt)
    factory, receipt = _deploy(deployer, project.CommunityFactory, *deployers)
    log(f"  factory     {factory.address}")
    return Factory(factory, receipt.block_number, deployer.address, [*receipts, receipt])


def factory_at(address: str, deployment_block: int, deployer: str) -> Factory:
    return Factory(project.CommunityFactory.at(address), deployment_block, deployer)


def create_community(params: CommunityParams, creator, factory: Factory, log=lambda message: None) -> Community:
    """Create the community through the factory, in one transaction, wired as `deploy_separately`
    wires it; its addresses come from the factory's CommunityCreated event."""
    log(f"Creating community '{params.name}' with {len(params.founders)} founders through {factory.address}")
    _check_delay(params)
    holder = factory.contract.creatorOf(params.slug)
    if holder != ZERO_ADDRESS:
        raise ValueError(
            f"the factory at {factory.address} already holds the slug '{params.slug}' (created by {holder}): "
            "a slug names one community per factory, so choose another one in the community's file"
        )
    receipt = _transact(factory.contract, "createCommunity", params.config(), sender=creator)
    [created] = factory.contract.CommunityCreated.from_receipt(receipt)
    addresses = dict(zip(CONTRACT_TYPES_IN_EVENT, map(to_checksum_address, created.contracts), strict=True))
    contracts = {key: getattr(project, CONTRACT_TYPES[key]).at(addresses[key]) for key in CONTRACT_TYPES}
    for key in CONTRACT_TYPES_IN_EVENT:
        log(f"  {key:<11} {addresses[key]}")
    return Community(
        params,
        **contracts,
        deployment_block=receipt.block_number,
        creator=creator.address,
        factory=factory,
        receipts=[receipt],
    )


# CommunityFactory.CommunityContracts, in its order.
CONTRACT_TYPES_IN_EVENT = ("forwarder", "membership", "timelock", "governor", "registry", "badge", "passkeys")


def governor_args(params: CommunityParams, membership: Any, forwarder: Any, timelock: Any) -> tuple:
    """CommunityGovernor's constructor arguments: one list for deploying it and for predicting
    where the factory deploys it."""
    return (
        params.name,
        membership,
        forwarder,
        params.voting_delay_seconds,
        params.voting_period_seconds,
        params.proposal_threshold,
        params.quorum_percent,
        timelock,
    )


def badge_args(
    params: CommunityParams, membership: Any, registry: Any, forwarder: Any, timelock: Any, metadata: Any
) -> tuple:
    """ContributionBadge's constructor arguments, as governor_args."""
    first_version = ZERO_ADDRESS  # no predecessor: later versions name this one (deploy_version.py)
    return (
        f"{params.name} Contribution Badges",
        f"{params.symbol}B",
        membership,
        registry,
        forwarder,
        timelock,
        metadata,
        first_version,
    )


def predict_addresses(params: CommunityParams, creator: str, factory: Factory) -> dict[str, str]:
    """Where `creator`'s community `params` will be, before it is created: each contract's CREATE2
    address, from its deployer, the salt of the creator and the slug (mixed with the factory, the
    deployers' caller) and its creation code with its constructor's arguments, as the factory
    passes them."""
    salt = keccak(encode(["address", "bytes32"], [factory.address, factory.contract.saltOf(creator, params.slug)]))
    predicted: dict[str, str] = {}

    def at(key: str, *args) -> str:
        deployer = getattr(factory.contract, f"{key}Deployer")()
        init_code = bytes(getattr(project, CONTRACT_TYPES[key])(*args).data)
        digest = keccak(b"\xff" + bytes.fromhex(deployer[2:]) + salt + keccak(init_code))
        predicted[key] = to_checksum_address(digest[12:])
        return predicted[key]

    forwarder = at("forwarder")
    membership = at("membership", params.name, params.symbol, params.founders, forwarder, factory.address)
    timelock = at("timelock", params.timelock_delay_seconds, [], [ZERO_ADDRESS], factory.address)
    at("governor", *governor_args(params, membership, forwarder, timelock))
    registry = at("registry", timelock)
    metadata = factory.contract.badgeMetadata()
    at("badge", *badge_args(params, membership, registry, forwarder, timelock, metadata))
    at("passkeys", forwarder)
    return {key: predicted[key] for key in CONTRACT_TYPES_IN_EVENT}


# ---------------------------------------------------------------------- separately (the reference)


def deploy_separately(params: CommunityParams, deployer, log=lambda message: None) -> Community:
    """Deploy the community's contracts and the passkey account factory a transaction at a time,
    and hand ownership of the rules to the timelock, which only the governor feeds and which then
    has no admin: what CommunityFactory does in one transaction."""
    log(f"Deploying community '{params.name}' with {len(params.founders)} founders")
    _check_delay(params)
    receipts: list[Any] = []

    def deploy(container, *args):
        contract, receipt = _deploy(deployer, container, *args)
        receipts.append(receipt)
        return contract

    def transact(contract, method, *args):
        receipts.append(_transact(contract, method, *args, sender=deployer))

    # The first block that can hold the deployment: the index starts there.
    deployment_block = chain.blocks.height + 1
    forwarder = deploy(project.CommunityForwarder)
    log(f"  forwarder   {forwarder.address}")
    # The deployer owns membership only until the timelock exists (the two reference each other).
    membership = deploy(project.Membership, params.name, params.symbol, params.founders, forwarder, deployer)
    log(f"  membership  {membership.address}")
    # The deployer administers the timelock only until the governor holds its roles (the two
    # reference each other); then it renounces, and the timelock administers itself. Executors:
    # the zero address, that is anyone, once the delay has passed.
    timelock = deploy(project.CommunityTimelock, params.timelock_delay_seconds, [], [ZERO_ADDRESS], deployer)
    log(f"  timelock    {timelock.address}")
    governor = deploy(project.CommunityGovernor, *governor_args(params, membership, forwarder, timelock))
    log(f"  governor    {governor.address}")
    transact(timelock, "grantRole", timelock.PROPOSER_ROLE(), governor)
    transact(timelock, "grantRole", timelock.CANCELLER_ROLE(), governor)
    transact(timelock, "renounceRole", timelock.DEFAULT_ADMIN_ROLE(), deployer)
    log("  timelock    fed by the governor only; no admin")
    registry = deploy(project.IndicatorRegistry, timelock)
    log(f"  registry    {registry.address}")
    # The writer of its badges' metadata, which a factory deploys once for all its communities.
    metadata = deploy(project.BadgeMetadata)
    badge = deploy(project.ContributionBadge, *badge_args(params, membership, registry, forwarder, timelock, metadata))
    log(f"  badge       {badge.address}")
    # Accounts for members who sign with a passkey: clones that trust this community's forwarder.
    passkeys = deploy(project.PasskeyAccountFactory, forwarder)
    log(f"  passkeys    {passkeys.address}")
    if params.admission_rules() != DEFAULT_ADMISSION_RULES:
        transact(membership, "setAdmissionRules", params.admission_rules())
        log(f"  admission   {params.vouches_required} vouches admit a person")
    transact(membership, "transferOwnership", timelock)
    log("  membership now owned by the timelock")
    return Community(
        params,
        forwarder,
        membership,
        governor,
        timelock,
        registry,
        badge,
        passkeys,
        deployment_block,
        receipts=receipts,
    )


def deployment_path(folder: Path, ecosystem: str, network: str, provider: str) -> Path:
    """<folder>/<ecosystem>-<network>.json; local chains also name the provider."""
    name = f"{ecosystem}-{network}" + (f"-{provider}" if network == "local" else "")
    return Path(folder) / f"{name}.json"


def read_deployments(path: Path, chain_id: int) -> dict[str, Any]:
    """The network's deployments file as recorded for this chain; empty when there is none, or when
    it was written for another chain (a local chain restarted without its state: the old
    addresses are gone)."""
    record = json.loads(path.read_text()) if path.exists() else {}
    return record if record.get("chain_id", chain_id) == chain_id else {}


def recorded_factory(record: dict[str, Any]) -> Factory | None:
    """The factory the deployments file records, if the chain still has its code."""
    entry = record.get("factory")
    if not entry or not chain.provider.get_code(entry["address"]):
        return None
    return factory_at(entry["address"], entry["deployment_block"], entry.get("deployer", ZERO_ADDRESS))


def record_deployment(
    path: Path, community: Community | None, chain_id: int, network_choice: str, factory: Factory | None = None
) -> None:
    """Add (or replace) the community in the network's deployment file, with every ABI, and the
    factory the service follows for communities created after it started (the factory alone when
    `community` is None)."""
    record = read_deployments(path, chain_id)
    record["network"] = network_choice
    record["chain_id"] = chain_id
    record["abis"] = {
        key: [entry.model_dump(mode="json", by_alias=True) for entry in getattr(project, name).contract_type.abi]
        for key, name in {**CONTRACT_TYPES, **EXTRA_ABIS}.items()
    }
    if factory is not None:
        record["factory"] = {
            "address": factory.address,
            "deployment_block": factory.deployment_block,
            "deployer": factory.deployer,
        }
    communities = record.setdefault("communities", {})
    if community is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=2) + "\n")
        return
    communities[community.params.slug] = {
        "name": community.params.name,
        "deployment_block": community.deployment_block,
        "deployed_at": int(time.time()),
        "contracts": {key: contract.address for key, contract in community.contracts().items()},
        "parameters": community.params.__dict__,
        **({"creator": community.creator} if community.creator else {}),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
