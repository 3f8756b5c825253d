"""Gas per action on a real Anvil, beside EAS deployed from its npm artifacts in the same run.

Run: `make bench` (or `python -m bench.gas`). Prints a table and the ratios to EAS.
The EAS flow mirrors ours with plain attestations and no resolver: a claim attestation of the
same evidence, then one endorsement attestation per peer referencing it. A resolver that
checked membership, counted endorsements and minted a token would only add to it, so the
ratio printed is a lower bound of what our contracts save.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from ape import accounts, chain, networks
from ape.contracts import ContractContainer
from eth_abi import encode
from eth_utils import keccak
from ethpm_types import ContractType

from backend.chain.typed_data import forward_request_struct
from devstack.protocol import EVIDENCE_HASH, EVIDENCE_URI, FOR, Governance, Relay, indicator_input
from scripts._community import Community, CommunityParams, create_community, deploy_factory, deploy_separately

ROOT = Path(__file__).resolve().parent.parent
# EAS comes from the benchmarks' own npm packages (bench/package.json, installed by `make bench`):
# it brings Hardhat, some 200 packages that `make setup` need not install.
EAS_ARTIFACTS = ROOT / "bench/node_modules/@ethereum-attestation-service/eas-contracts/artifacts/contracts"
EAS_SCHEMA = "uint32 indicatorId,bytes32 evidenceHash,string evidenceURI"
ENDORSEMENT_SCHEMA = "bool endorse"
ZERO_ADDRESS = "0x" + "00" * 20
ZERO_UID = b"\x00" * 32


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _eas_container(name: str) -> ContractContainer:
    artifact = json.loads((EAS_ARTIFACTS / f"{name}.sol/{name}.json").read_text())
    contract_type = ContractType.model_validate(
        {"contractName": name, "abi": artifact["abi"], "deploymentBytecode": {"bytecode": artifact["bytecode"]}}
    )
    return ContractContainer(contract_type)


def measure_creation(deployer, members) -> tuple[Community, dict[str, int]]:
    """A community created through the factory in one transaction, beside the same community
    deployed a transaction at a time as before (the sum of those transactions' gas); and the factory
    with its deployers, deployed once per chain. Returns the factory's community, for the rest."""

    def params(slug: str) -> CommunityParams:
        return CommunityParams(slug, "Bench Commons", "BEN", [m.address for m in members], 1, 100, 0, 50)

    separately = deploy_separately(params("separately"), deployer)
    factory = deploy_factory(deployer)
    community = create_community(params("bench"), deployer, factory)
    gas = {
        "create a community through the factory (one transaction)": community.receipts[0].gas_used,
        f"deploy a community separately ({len(separately.receipts)} transactions, summed)": sum(
            receipt.gas_used for receipt in separately.receipts
        ),
        "deploy the factory and its 7 deployers (once per chain)": sum(
            receipt.gas_used for receipt in factory.receipts
        ),
    }
    return community, gas


def measure_ours(deployer, members, relayer, owner) -> dict[str, int]:
    alice, bob, carol = members
    community, gas = measure_creation(deployer, members)
    governance = Governance(community.governor, chain, members)

    calls = [(community.registry, "addIndicator", (indicator_input(endorsements=2),))]
    targets, values, calldatas, description = governance.proposal(calls, "add mentoring")
    gas["propose (add indicator)"] = community.governor.propose(
        targets, values, calldatas, description, sender=alice
    ).gas_used
    proposal_id = community.governor.hashProposal(targets, values, calldatas, keccak(text=description))
    governance.wait_for_snapshot(proposal_id)
    gas["vote"] = community.governor.castVote(proposal_id, FOR, sender=alice).gas_used
    gas["vote with reason"] = community.governor.castVoteWithReason(
        proposal_id, FOR, "mentoring matters", sender=bob
    ).gas_used
    governance.wait_for_deadline(proposal_id)
    gas["queue in the timelock (add indicator)"] = governance.queue(calls, "add mentoring").gas_used
    gas["execute (add indicator)"] = governance.execute(calls, "add mentoring").gas_used

    def contribution(contributor, first, second):
        claim = community.badge.claim(1, EVIDENCE_HASH, EVIDENCE_URI, sender=contributor)
        claim_id = community.badge.claimCount()
        attest = community.badge.attest(claim_id, sender=first)
        attest_mint = community.badge.attest(claim_id, sender=second)
        return claim.gas_used, attest.gas_used, attest_mint.gas_used

    # The community's first claim and alice's first badge pay to create two counters.
    gas["first-ever contribution (claim + 2 attestations + mint)"] = sum(contribution(alice, bob, carol))
    claim, attest, attest_mint = contribution(alice, bob, carol)
    gas["claim"] = claim
    gas["attest"] = attest
    gas["attest that mints the badge"] = attest_mint
    gas["whole contribution (claim + 2 attestations + mint)"] = claim + attest + attest_mint

    # A nomination: two peers attest while it waits for the nominee's consent; accepting mints.
    nominate = community.badge.nominate(carol, 1, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    nomination_id = community.badge.claimCount()
    attests = [community.badge.attest(nomination_id, sender=peer).gas_used for peer in (alice, bob)]
    accept = community.badge.acceptNomination(nomination_id, sender=carol)
    gas["nominate"] = nominate.gas_used
    gas["accept a nomination that has its attestations (mints)"] = accept.gas_used
    gas["whole nominated contribution (nominate + 2 attestations + accept)"] = (
        nominate.gas_used + sum(attests) + accept.gas_used
    )
    community.badge.nominate(carol, 1, EVIDENCE_HASH, EVIDENCE_URI, sender=bob)
    gas["decline a nomination"] = community.badge.declineNomination(community.badge.claimCount(), sender=carol).gas_used
    gas["disown a badge"] = community.badge.disown(nomination_id, sender=carol).gas_used
    gas["hide one's profile"] = community.badge.setProfileHidden(True, sender=carol).gas_used

    # The same through the forwarder, as the API sends it (bob's claim: his first badge too).
    relay = Relay(community.forwarder, relayer, chain.chain_id)
    relay.call(alice, community.badge, "claim", 1, EVIDENCE_HASH, EVIDENCE_URI)  # warms the signers' nonces
    relay.call(bob, community.badge, "attest", community.badge.claimCount())
    relay.call(carol, community.badge, "attest", community.badge.claimCount())
    relayed_claim = relay.call(alice, community.badge, "claim", 1, EVIDENCE_HASH, EVIDENCE_URI).gas_used
    claim_id = community.badge.claimCount()
    relayed_attest = relay.call(bob, community.badge, "attest", claim_id).gas_used
    relayed_mint = relay.call(carol, community.badge, "attest", claim_id).gas_used
    gas["relayed claim"] = relayed_claim
    gas["relayed attest"] = relayed_attest
    gas["relayed attest that mints"] = relayed_mint
    gas["relayed whole contribution"] = relayed_claim + relayed_attest + relayed_mint
    gas.update(measure_batched(community, relay, members))
    second = [(community.membership, "admit", (deployer.address,))]
    pid = governance.propose(second, "admit deployer")
    governance.wait_for_snapshot(pid)
    gas["relayed vote"] = relay.call(alice, community.governor, "castVote", pid, FOR).gas_used
    gas.update(measure_wallet(community, governance, relay, deployer, members, owner))
    gas.update(measure_joining(community, governance, relay, members))
    gas.update(measure_rules(community, governance, members))
    return gas


def measure_rules(community, governance: Governance, members) -> dict[str, int]:
    """What each fair-play rule adds to a whole contribution (claim + 2 attestations + mint)
    when it is on, in steady state (the second contribution, as above: the first of a period or
    of a pair of members pays to create its counter or timestamp, 20k gas a slot)."""
    alice, bob, carol = members
    badge, registry = community.badge, community.registry
    gated = registry.indicatorCount() + 1
    governance.pass_(
        [
            (registry, "addIndicator", (indicator_input("Code review", endorsements=2, endorser_indicator=1),)),
            (
                registry,
                "addIndicator",
                (indicator_input("Capped", endorsements=2, earn_cap=100, attest_cap=100, cap_period=86_400),),
            ),
            (registry, "addOrganisation", ("Example Foundation", "example.org")),
        ],
        "fair-play rules to measure",
    )
    capped = gated + 1
    qualifying = {
        m.address: next(
            t
            for t in range(1, badge.claimCount() + 1)
            if badge.isActive(t) and badge.ownerOf(t) == m.address and badge.getClaim(t).indicatorId == 1
        )
        for m in (bob, carol)
    }

    def whole(indicator_id: int, *, organisation: int = 0) -> int:
        if organisation:
            claim = badge.claimWithOrganisation(indicator_id, organisation, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
        else:
            claim = badge.claim(indicator_id, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
        claim_id = badge.claimCount()
        if indicator_id == gated:
            attests = [badge.attestWith(claim_id, qualifying[m.address], sender=m) for m in (bob, carol)]
        else:
            attests = [badge.attest(claim_id, sender=m) for m in (bob, carol)]
        return claim.gas_used + sum(a.gas_used for a in attests)

    gas: dict[str, int] = {}
    whole(1)
    gas["whole contribution, every rule off (again, beside the rules)"] = whole(1)
    whole(gated)
    gas["whole contribution, endorsed only by holders of another badge"] = whole(gated)
    whole(capped)
    gas["whole contribution, earn and attest caps per period"] = whole(capped)
    whole(1, organisation=1)
    gas["whole contribution crediting an organisation"] = whole(1, organisation=1)
    governance.pass_([(registry, "setCommunityRules", (30 * 86_400, 1))], "reciprocal window")
    whole(1)
    gas["whole contribution, reciprocal window of 30 days on"] = whole(1)
    governance.pass_([(registry, "setCommunityRules", (0, 0))], "rules off again")
    return gas


def measure_wallet(community, governance: Governance, relay: Relay, deployer, members, owner) -> dict[str, int]:
    """A member whose address is a contract wallet (the test wallet of forge-tests/utils/Wallets.sol:
    ERC-1271, one owner key): the same relayed claim and attestation, its signature judged by
    the wallet."""
    from devstack.wallets import compiled

    alice, bob, carol = members
    artifact = compiled()["ERC1271Wallet"]
    wallet = deployer.deploy(
        ContractContainer(
            ContractType.model_validate(
                {
                    "contractName": "ERC1271Wallet",
                    "abi": artifact["abi"],
                    "deploymentBytecode": {"bytecode": artifact["bytecode"]},
                }
            )
        ),
        owner.address,
    )
    governance.pass_([(community.membership, "admit", (wallet.address,))], "admit a wallet")

    def as_wallet(method, *args):
        typed = relay.typed_data(wallet, community.badge, method, *args)
        return relay.submit(typed, relay.sign(owner, typed)).gas_used

    as_wallet("claim", 1, EVIDENCE_HASH, EVIDENCE_URI)  # its nonce and first claim, as for the keys above
    relay.call(bob, community.badge, "attest", community.badge.claimCount())
    relay.call(carol, community.badge, "attest", community.badge.claimCount())
    claim = as_wallet("claim", 1, EVIDENCE_HASH, EVIDENCE_URI)
    relay.call(alice, community.badge, "claim", 1, EVIDENCE_HASH, EVIDENCE_URI)
    attest = as_wallet("attest", community.badge.claimCount())
    return {
        "relayed claim by a contract wallet (ERC-1271)": claim,
        "relayed attest by a contract wallet (ERC-1271)": attest,
    }


def measure_joining(community, governance: Governance, relay: Relay, members) -> dict[str, int]:
    """Everyone can join: a name and a linked account, an invitation with credit, its acceptance
    and the vouch that admits; then a passkey member's relayed claim beside a key's, same run."""
    from types import SimpleNamespace

    from eth_account import Account

    from backend.chain.typed_data import invitation_acceptance_typed_data
    from devstack.passkeys import SALT, Passkey

    alice, bob, carol = members
    membership, badge = community.membership, community.badge
    gas: dict[str, int] = {}
    governance.pass_([(membership, "setAdmissionRules", ((2, 3, 30 * 86_400, 30 * 86_400),))], "vouching")
    gas["set one's name"] = membership.setName("Alice Liddell", sender=alice).gas_used
    gas["link one's GitHub account"] = membership.linkAccount(1, "alice-l", sender=alice).gas_used
    secret = Account.create()
    gas["invite (with the invitee's name)"] = membership.invite(secret.address, "Sam", sender=alice).gas_used
    gas["nominate an invitation"] = badge.nominate(secret.address, 1, EVIDENCE_HASH, EVIDENCE_URI, sender=bob).gas_used
    credit = badge.claimCount()

    passkey = Passkey.generate()
    qx, qy = passkey.public
    gas["create a passkey account (factory)"] = community.passkeys.create(qx, qy, SALT, sender=relay.relayer).gas_used
    account = SimpleNamespace(address=community.passkeys.predict(qx, qy, SALT))
    typed = invitation_acceptance_typed_data(
        chain_id=chain.chain_id,
        membership=membership.address,
        membership_name=membership.name(),
        invitation=secret.address,
        account=account.address,
    )
    signed = bytes(Account.sign_typed_data(secret.key, full_message=typed).signature)

    def as_passkey(target, method, *args):
        request = relay.typed_data(account, target, method, *args)
        return relay.submit(request, passkey.sign_request(request)).gas_used

    gas["relayed accept an invitation, signed with a passkey (counts as a vouch)"] = as_passkey(
        membership, "acceptInvitation", secret.address, signed
    )
    gas["vouch that admits"] = membership.vouch(account.address, sender=carol).gas_used
    gas["relayed accept the credit, signed with a passkey (claim becomes theirs)"] = as_passkey(
        badge, "acceptNomination", credit
    )
    gas["relayed claim, signed with a passkey"] = as_passkey(badge, "claim", 1, EVIDENCE_HASH, EVIDENCE_URI)
    gas["relayed claim, signed with a key (same run)"] = relay.call(
        alice, badge, "claim", 1, EVIDENCE_HASH, EVIDENCE_URI
    ).gas_used
    return gas


BATCH = 10


def execute_batch(relay: Relay, requests: list[tuple]) -> int:
    """Signs (signer, target, method, args) requests with consecutive nonces per signer and sends
    them in one executeBatch, as the relayer worker does; the transaction's gas."""
    nonces: dict[str, int] = {}
    structs = []
    for signer, target, method, args in requests:
        nonce = nonces.get(signer.address, relay.forwarder.nonces(signer.address))
        nonces[signer.address] = nonce + 1
        typed = relay.typed_data(signer, target, method, *args, nonce=nonce, gas=300_000)
        structs.append(forward_request_struct(typed, relay.sign(signer, typed)))
    return relay.forwarder.executeBatch(structs, relay.relayer.address, sender=relay.relayer).gas_used


def measure_batched(community, relay: Relay, members) -> dict[str, int]:
    """Whole contributions relayed as the worker relays them: 10 claims in one executeBatch, then
    their first attestations in one, then the minting ones in one; gas per request."""
    first_id = community.badge.claimCount() + 1
    contributors = [members[i % 3] for i in range(BATCH)]
    claims = execute_batch(
        relay, [(c, community.badge, "claim", (1, EVIDENCE_HASH, EVIDENCE_URI)) for c in contributors]
    )
    ids = range(first_id, first_id + BATCH)
    attesters = [[m for m in members if m != c] for c in contributors]
    attests = execute_batch(relay, [(a[0], community.badge, "attest", (i,)) for a, i in zip(attesters, ids)])
    mints = execute_batch(relay, [(a[1], community.badge, "attest", (i,)) for a, i in zip(attesters, ids)])
    assert all(community.badge.ownerOf(i) == c.address for i, c in zip(ids, contributors))
    return {
        f"relayed claim, in a batch of {BATCH}": claims // BATCH,
        f"relayed attest, in a batch of {BATCH}": attests // BATCH,
        f"relayed attest that mints, in a batch of {BATCH}": mints // BATCH,
        f"relayed whole contribution, in batches of {BATCH}": (claims + attests + mints) // BATCH,
    }


def measure_eas(deployer, members) -> dict[str, int]:
    alice, bob, carol = members
    registry = deployer.deploy(_eas_container("SchemaRegistry"))
    eas = deployer.deploy(_eas_container("EAS"), registry)
    registry.register(EAS_SCHEMA, ZERO_ADDRESS, True, sender=deployer)
    registry.register(ENDORSEMENT_SCHEMA, ZERO_ADDRESS, True, sender=deployer)
    # EAS derives the schema uid as keccak(abi.encodePacked(schema, resolver, revocable)).
    claim_schema = keccak(EAS_SCHEMA.encode() + bytes(20) + b"\x01")
    endorsement_schema = keccak(ENDORSEMENT_SCHEMA.encode() + bytes(20) + b"\x01")

    claim_data = encode(["uint32", "bytes32", "string"], [1, EVIDENCE_HASH, EVIDENCE_URI])
    receipt = eas.attest((claim_schema, (alice.address, 0, True, ZERO_UID, claim_data, 0)), sender=alice)
    [attested] = receipt.decode_logs(eas.Attested)
    claim_uid = attested.uid
    endorse = encode(["bool"], [True])
    first = eas.attest((endorsement_schema, (alice.address, 0, True, claim_uid, endorse, 0)), sender=bob).gas_used
    second = eas.attest((endorsement_schema, (alice.address, 0, True, claim_uid, endorse, 0)), sender=carol).gas_used
    return {
        "EAS attest (claim with the same evidence)": receipt.gas_used,
        "EAS attest (endorsement referencing it)": first,
        "EAS flow: claim + 2 endorsements, no resolver": receipt.gas_used + first + second,
    }


def main() -> None:
    port = _free_port()
    # Osaka, as make run's chain: passkey signatures are checked by the P-256 precompile.
    print(f"Starting Anvil on 127.0.0.1:{port} (osaka) for the gas benchmark...")
    started = time.perf_counter()
    with networks.parse_network_choice(
        "ethereum:local:foundry", provider_settings={"host": f"http://127.0.0.1:{port}", "evm_version": "osaka"}
    ):
        test_accounts = accounts.test_accounts
        deployer, members, relayer = test_accounts[0], list(test_accounts[1:4]), test_accounts[6]
        ours = measure_ours(deployer, members, relayer, owner=test_accounts[7])
        eas = measure_eas(deployer, members)

    width = max(map(len, [*ours, *eas])) + 2
    print(f"\n{'action':<{width}}{'gas':>10}")
    for name, value in {**ours, **eas}.items():
        print(f"{name:<{width}}{value:>10,}")

    whole = ours["whole contribution (claim + 2 attestations + mint)"]
    eas_flow = eas["EAS flow: claim + 2 endorsements, no resolver"]
    print("\nratios")
    eas_attest = eas["EAS attest (claim with the same evidence)"]
    print(f"  attest / EAS attest of the same evidence:            {ours['attest'] / eas_attest:.2f}")
    print(f"  claim / EAS attest of the same evidence:             {ours['claim'] / eas_attest:.2f}")
    print(f"  whole contribution / EAS flow (no resolver):          {whole / eas_flow:.2f}")
    print(
        f"  relayed whole contribution / EAS flow (no resolver):  {ours['relayed whole contribution'] / eas_flow:.2f}"
    )
    batched = ours[f"relayed whole contribution, in batches of {BATCH}"]
    print(f"  relayed in batches / sent directly (whole contribution): {batched / whole:.2f} ({batched:,} / {whole:,})")
    print(f"  whole contribution within 300,000 gas:                {'yes' if whole <= 300_000 else 'NO'} ({whole:,})")
    created = ours["create a community through the factory (one transaction)"]
    [separately] = [value for name, value in ours.items() if name.startswith("deploy a community separately")]
    print(
        f"  a community through the factory / separately:       {created / separately:.2f} ({created - separately:+,})"
    )
    by_passkey = ours["relayed claim, signed with a passkey"]
    by_key = ours["relayed claim, signed with a key (same run)"]
    extra = by_passkey - by_key
    print(f"  relayed claim, passkey / key:                         {by_passkey / by_key:.2f} ({extra:+,} gas)")
    print("\nwhat each fair-play rule adds to a whole contribution (beside every rule off, same run)")
    off = ours["whole contribution, every rule off (again, beside the rules)"]
    for name, value in ours.items():
        if (
            name.startswith("whole contribution")
            and name != "whole contribution (claim + 2 attestations + mint)"
            and value != off
            and "rule off" not in name
        ):
            print(f"  {name[len('whole contribution') :].lstrip(', '):<52}{value - off:>+8,} ({value / off:.2f}x)")
    print(f"\n(done in {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
