"""Communities created on chain (issue 25): CommunityFactory creates a whole community in one
transaction, wired exactly as the separate deployments wired it (same owners, roles, settings and
the very same events, in the same order, for the index to read), announces it with every address,
and holds a slug once."""

from __future__ import annotations

import ape
import pytest
from eth_utils import to_checksum_address

from backend.chain.abi import ContractAbi
from backend.chain.deployments import Community as IndexedCommunity
from backend.chain.logs import decode_logs
from devstack.protocol import VOTING_DELAY, VOTING_PERIOD, indicator_input
from scripts._community import (
    CONTRACT_TYPES,
    ZERO_ADDRESS,
    Community,
    CommunityParams,
    Factory,
    create_community,
    deploy_separately,
    predict_addresses,
)
from scripts._community import project as contracts

EXECUTED = 7
# Founding rules that are not Membership's defaults: two vouches admit a person.
VOUCHING = {"vouches_required": 2}


def params(slug: str, founders, **more) -> CommunityParams:
    return CommunityParams(
        slug=slug,
        name="Test Commons",
        symbol="TST",
        founders=[founder.address for founder in founders],
        voting_delay_seconds=VOTING_DELAY,
        voting_period_seconds=VOTING_PERIOD,
        proposal_threshold=0,
        quorum_percent=50,
        **more,
    )


def roles(community: Community, deployers: tuple[str, ...], **others: str) -> dict[str, str]:
    """Each address the community's wiring names, by its role (the account that deployed it, the
    factory or the script's deployer, is "deployer": each holds the same powers for the same steps)."""
    named = {contract.address: key for key, contract in community.contracts().items()}
    return {
        **named,
        ZERO_ADDRESS: "anyone",
        **{address: name for name, address in others.items()},
        **dict.fromkeys(deployers, "deployer"),
    }


def wiring(community: Community, deployers: tuple[str, ...], candidates: dict[str, str]) -> dict:
    """What a community's contracts say about who may do what, in roles, not addresses."""
    by_role = roles(community, deployers, **candidates)
    timelock, governor, membership, badge = (
        community.timelock,
        community.governor,
        community.membership,
        community.badge,
    )
    role_ids = {
        "proposer": timelock.PROPOSER_ROLE(),
        "canceller": timelock.CANCELLER_ROLE(),
        "executor": timelock.EXECUTOR_ROLE(),
        "admin": timelock.DEFAULT_ADMIN_ROLE(),
    }
    return {
        "owners": {key: by_role[getattr(community, key).owner()] for key in ("membership", "registry", "badge")},
        "timelock roles": {
            role: sorted(name for address, name in by_role.items() if timelock.hasRole(role_id, address))
            for role, role_id in role_ids.items()
        },
        "governor": {
            "timelock": by_role[governor.timelock()],
            "token": by_role[governor.token()],
            "name": governor.name(),
            "settings": (governor.votingDelay(), governor.votingPeriod(), governor.proposalThreshold()),
            "quorum": governor.quorumNumerator(),
            "guardian": by_role.get(governor.proposalGuardian(), governor.proposalGuardian()),
        },
        "delay": timelock.getMinDelay(),
        "badge": (badge.name(), badge.symbol(), by_role[badge.membership()], by_role[badge.registry()]),
        "membership": (membership.name(), membership.symbol(), membership.memberCount(), membership.admissionRules()),
        "forwarder trusted by": sorted(
            key
            for key in ("membership", "governor", "badge")
            if getattr(community, key).isTrustedForwarder(community.forwarder.address)
        ),
        "passkey accounts trust the forwarder": contracts.PasskeyAccount.at(
            community.passkeys.implementation()
        ).isTrustedForwarder(community.forwarder.address),
    }


def creation_events(community: Community, deployers: tuple[str, ...], candidates: dict[str, str]) -> list[tuple]:
    """Every event the community's contracts emitted while it was deployed, as the index decodes
    them (backend.chain.logs), addresses said by role."""
    by_role = roles(community, deployers, **candidates)
    blocks = [receipt.block_number for receipt in community.receipts]
    addresses = {key: contract.address for key, contract in community.contracts().items()}
    logs = ape.chain.provider.make_request(
        "eth_getLogs",
        [{"address": list(addresses.values()), "fromBlock": hex(min(blocks)), "toBlock": hex(max(blocks))}],
    )
    abis = {
        key: ContractAbi(
            [entry.model_dump(mode="json", by_alias=True) for entry in getattr(contracts, name).contract_type.abi]
        )
        for key, name in CONTRACT_TYPES.items()
    }
    indexed = IndexedCommunity(community.params.slug, community.params.name, min(blocks), addresses)

    def said(value):
        return by_role.get(value, value) if isinstance(value, str) else value

    return [
        (event.contract, event.name, {name: said(value) for name, value in event.decoded().items()})
        for event in decode_logs(abis, indexed, [dict(entry) for entry in logs])
    ]


def deployers_of(factory: Factory) -> tuple[str, ...]:
    """The factory's seven deployers: each is the account that deploys one of a community's contracts."""
    contract = factory.contract
    return tuple(
        getattr(contract, f"{key}Deployer")()
        for key in ("forwarder", "membership", "timelock", "governor", "registry", "badge", "passkeys")
    )


def test_the_factorys_community_is_wired_as_the_separate_deployments_wired_it(
    community_factory: Factory,
    deployer,
    founders,
    outsider,
):
    by_factory = create_community(params("by-factory", founders, **VOUCHING), outsider, community_factory)
    separately = deploy_separately(params("separately", founders, **VOUCHING), deployer)
    # Who might hold a role: the creator, the factory, the deployer, and the founders.
    others = {
        "creator": outsider.address,
        "factory": community_factory.address,
        **{f"founder {f.address}": f.address for f in founders},
    }
    # What deployed the contracts: the script's account, or the factory and its deployers.
    scripted, factory_made = (deployer.address,), (community_factory.address, *deployers_of(community_factory))
    expected = wiring(separately, scripted, others)
    assert wiring(by_factory, factory_made, others) == expected
    assert expected["timelock roles"] == {
        "proposer": ["governor"],
        "canceller": ["governor"],
        "executor": ["anyone"],
        "admin": ["timelock"],  # nobody administers it but itself: neither the creator nor the factory
    }
    assert expected["owners"] == {"membership": "timelock", "registry": "timelock", "badge": "timelock"}
    assert expected["membership"][3][0] == 2  # the founding admission rules were set

    # The very same events, in the same order, with the same arguments: the index cannot tell
    # a community created through the factory from one deployed a transaction at a time.
    events = creation_events(by_factory, factory_made, others)
    assert events == creation_events(separately, scripted, others)
    admin = {"role": "0x" + "00" * 32, "account": "deployer", "sender": "deployer"}
    assert ("timelock", "RoleRevoked", admin) in events  # the deployer's admin role, renounced
    names = {name for _, name, _ in events}
    assert {
        "MemberAdmitted",
        "DelegateChanged",
        "RoleGranted",
        "OwnershipTransferred",
        "AdmissionRulesChanged",
    } <= names
    assert len(by_factory.receipts) == 1 < len(separately.receipts)
    assert by_factory.deployment_block == by_factory.receipts[0].block_number


def test_the_creation_is_announced_with_every_address_known_before(community_factory: Factory, founders, outsider):
    """Each address follows from the creator, the slug and the founding settings (CREATE2): known
    before the community exists, and another creator's would be elsewhere."""
    predicted = predict_addresses(params("announced", founders), outsider.address, community_factory)
    assert predict_addresses(params("announced", founders), founders[0].address, community_factory) != predicted
    community = create_community(params("announced", founders), outsider, community_factory)
    assert {key: getattr(community, key).address for key in predicted} == predicted
    [created] = community_factory.contract.CommunityCreated.from_receipt(community.receipts[0])
    assert created.creator == outsider.address
    assert (created.slug, created.name) == ("announced", "Test Commons")
    assert [to_checksum_address(address) for address in created.contracts] == [
        getattr(community, key).address
        for key in ("forwarder", "membership", "timelock", "governor", "registry", "badge", "passkeys")
    ]
    assert community_factory.contract.creatorOf("announced") == outsider.address
    assert community.creator == outsider.address


def test_a_proposal_of_the_factorys_community_passes_through_its_timelock(
    community, governance, governor, timelock, registry, outsider
):
    """The session's community is the factory's: a proposal passes, waits in its timelock, and
    anyone carries it out there."""
    assert community.creator is not None
    calls = [(registry, "addIndicator", (indicator_input(),))]
    proposal_id = governance.carry(calls, "mentoring counts")
    governance.queue(calls, "mentoring counts")
    receipt = governance.execute(calls, "mentoring counts", sender=outsider)
    assert governor.state(proposal_id) == EXECUTED
    assert registry.indicatorCount() == 1
    assert [log.target for log in timelock.CallExecuted.from_receipt(receipt)] == [registry.address]


def test_a_slug_is_held_once(community_factory: Factory, community, founders, outsider):
    """The session's community holds "test": the factory refuses it to anyone, and the script says
    so before sending anything."""
    with ape.reverts(community_factory.contract.CommunityFactorySlugTaken):
        community_factory.contract.createCommunity(params("test", founders).config(), sender=outsider)
    with pytest.raises(ValueError, match="already holds the slug 'test'"):
        create_community(params("test", founders), outsider, community_factory)
    with ape.reverts(community_factory.contract.CommunityFactoryInvalidSlug):
        community_factory.contract.createCommunity(params("Not-A-Slug", founders).config(), sender=outsider)


def test_created_on_a_chain_that_mines_a_block_a_second(networks, community_factory: Factory, founders, outsider):
    """`ape run deploy` against `make run`'s chain: ape answers a transaction sent to a chain that
    mines on an interval with a receipt of block -1 and no contract address; the script waits for
    the real one (scripts/_community.py, _mined)."""
    provider = networks.provider
    if provider.name != "foundry":
        pytest.skip("interval mining is Anvil's (evm_setIntervalMining)")
    provider.make_request("evm_setIntervalMining", [1])
    try:
        community = create_community(params("every-second", founders), outsider, community_factory)
    finally:
        provider.make_request("anvil_setAutomine", [True])
    assert community.governor.timelock() == community.timelock.address
    assert community.deployment_block == community.receipts[0].block_number > 0
