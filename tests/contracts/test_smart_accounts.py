"""Issue 10, section 5: a member whose address is a contract wallet acts gaslessly. The
forwarder takes a key's ECDSA signature as before, and asks a contract `from` (ERC-1271,
OpenZeppelin's SignatureChecker) about the same EIP-712 digest, within WALLET_SIGNATURE_GAS."""

import ape
import pytest
from ape.contracts import ContractContainer
from ethpm_types import ContractType

from backend.chain.typed_data import WALLET_SIGNATURE_GAS, forward_request_struct
from devstack.protocol import EVIDENCE_HASH, EVIDENCE_URI, FOR, indicator_input
from devstack.wallets import HOSTILE_MODES, compiled


def _container(name):
    artifact = compiled()[name]
    return ContractContainer(
        ContractType.model_validate(
            {"contractName": name, "abi": artifact["abi"], "deploymentBytecode": {"bytecode": artifact["bytecode"]}}
        )
    )


@pytest.fixture(scope="session")
def owner(accounts):
    """The one key of the wallet; not a member itself."""
    return accounts[7]


@pytest.fixture(scope="session")
def other_key(accounts):
    return accounts[8]


@pytest.fixture
def wallet(deployer, owner):
    return deployer.deploy(_container("ERC1271Wallet"), owner.address)


@pytest.fixture
def wallet_member(wallet, governance, membership):
    governance.pass_([(membership, "admit", (wallet.address,))], f"admit the wallet {wallet.address}")
    assert membership.isMember(wallet.address)
    return wallet


def test_a_wallet_member_claims_attests_and_votes_through_the_forwarder(
    wallet_member, owner, relay, governance, governor, registry, badge, mentoring, alice, bob, relayer
):
    wallet = wallet_member
    # It claims; two founders attest; its badge is minted to the wallet.
    relay.submit(*_signed(relay, owner, wallet, badge, "claim", mentoring, EVIDENCE_HASH, EVIDENCE_URI))
    claim_id = badge.claimCount()
    assert badge.getClaim(claim_id).contributor == wallet.address
    relay.call(alice, badge, "attest", claim_id)
    relay.call(bob, badge, "attest", claim_id)
    assert badge.ownerOf(claim_id) == wallet.address

    # It attests a founder's claim.
    badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    relay.submit(*_signed(relay, owner, wallet, badge, "attest", badge.claimCount()))
    assert badge.hasAttested(badge.claimCount(), wallet.address)
    assert not badge.hasAttested(badge.claimCount(), owner.address)

    # It votes on a proposal made after its admission.
    calls = [(registry, "addIndicator", (indicator_input("Translated a guide"),))]
    proposal_id = governance.propose(calls, "translations count")
    governance.wait_for_snapshot(proposal_id)
    relay.submit(*_signed(relay, owner, wallet, governor, "castVote", proposal_id, FOR))
    assert governor.hasVoted(proposal_id, wallet.address)
    assert governor.proposalVotes(proposal_id) == (0, 1, 0)


def test_a_key_and_a_wallet_in_one_batch(wallet_member, owner, relay, forwarder, badge, mentoring, alice, relayer):
    wallet = wallet_member
    requests = [
        forward_request_struct(*_signed(relay, owner, wallet, badge, "claim", mentoring, EVIDENCE_HASH, EVIDENCE_URI)),
        forward_request_struct(*_signed(relay, alice, alice, badge, "claim", mentoring, EVIDENCE_HASH, EVIDENCE_URI)),
    ]
    assert all(forwarder.verify(r) for r in requests)
    forwarder.executeBatch(requests, "0x" + "00" * 20, sender=relayer)
    assert [badge.getClaim(i).contributor for i in (1, 2)] == [wallet.address, alice.address]


def test_a_signature_the_wallet_refuses(wallet_member, owner, other_key, relay, forwarder, badge, mentoring):
    wallet = wallet_member
    # Another key than the wallet's owner.
    typed, signature = _signed(relay, other_key, wallet, badge, "claim", mentoring, EVIDENCE_HASH, EVIDENCE_URI)
    assert not forwarder.verify(forward_request_struct(typed, signature))
    with ape.reverts(forwarder.ERC2771ForwarderInvalidSigner, signer=other_key.address, **{"from": wallet.address}):
        relay.submit(typed, signature)
    # The owner's signature of its own request, replayed with the wallet as `from`: `from` is in
    # the digest, so the owner's key signed another request than the wallet's.
    typed, signature = _signed(relay, owner, owner, badge, "claim", mentoring, EVIDENCE_HASH, EVIDENCE_URI)
    replayed = {**typed, "message": {**typed["message"], "from": wallet.address}}
    with ape.reverts(forwarder.ERC2771ForwarderInvalidSigner):
        relay.submit(replayed, signature)
    assert forwarder.nonces(wallet.address) == 0 and badge.claimCount() == 0


@pytest.mark.parametrize("mode", ["revert", "garbage", "burn_gas"])
def test_a_hostile_wallet_is_refused_at_bounded_cost(
    mode, deployer, owner, relay, forwarder, governance, membership, badge, mentoring, alice, relayer
):
    hostile = deployer.deploy(_container("HostileWallet"), HOSTILE_MODES[mode])
    governance.pass_([(membership, "admit", (hostile.address,))], f"admit {mode}")
    theirs = forward_request_struct(
        *_signed(relay, owner, hostile, badge, "claim", mentoring, EVIDENCE_HASH, EVIDENCE_URI)
    )
    assert not forwarder.verify(theirs)
    with ape.reverts(forwarder.ERC2771ForwarderInvalidSigner):
        forwarder.execute(theirs, sender=relayer)
    # In a batch with a refund receiver (as the relayer worker sends), it is skipped and the others
    # go through; whatever it does, its check costs the batch at most WALLET_SIGNATURE_GAS.
    alone = forwarder.execute(
        forward_request_struct(*_signed(relay, alice, alice, badge, "claim", mentoring, EVIDENCE_HASH, EVIDENCE_URI)),
        sender=relayer,
    )
    alices = forward_request_struct(
        *_signed(relay, alice, alice, badge, "claim", mentoring, EVIDENCE_HASH, EVIDENCE_URI)
    )
    receipt = forwarder.executeBatch([theirs, alices], relayer.address, sender=relayer)
    assert badge.claimCount() == 2 and badge.getClaim(2).contributor == alice.address
    assert forwarder.nonces(hostile.address) == 0
    assert receipt.gas_used - alone.gas_used < forwarder.WALLET_SIGNATURE_GAS() + 30_000


def test_the_service_knows_the_forwarders_gas_bound(forwarder):
    assert forwarder.WALLET_SIGNATURE_GAS() == WALLET_SIGNATURE_GAS


def test_a_wallet_that_says_yes_to_anything_is_its_owners_business(
    deployer, relay, forwarder, governance, membership, badge, mentoring, other_key, relayer
):
    yes = deployer.deploy(_container("HostileWallet"), HOSTILE_MODES["yes_to_all"])
    governance.pass_([(membership, "admit", (yes.address,))], "admit a careless wallet")
    relay.submit(*_signed(relay, other_key, yes, badge, "claim", mentoring, EVIDENCE_HASH, EVIDENCE_URI))
    assert badge.getClaim(1).contributor == yes.address


def _signed(relay, key, sender, target, method, *args):
    """A request for `sender` (a wallet or a key), signed with `key`."""
    typed = relay.typed_data(sender, target, method, *args)
    return typed, relay.sign(key, typed)
