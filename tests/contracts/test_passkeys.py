"""Issue 22, first step: a member without a wallet holds a passkey account. The passkey is a P-256
key made here as a browser's authenticator makes one (cryptography's SECP256R1); it signs a
WebAuthn assertion whose challenge is the request's EIP-712 digest, the DER signature is read as
(r, s) and s brought to the lower half, as the web app will do with the browser's answer. The
account (a clone from the community's PasskeyAccountFactory) judges it through the forwarder's
ERC-1271 path. On py-evm, without the P-256 precompile, OpenZeppelin's Solidity P256 does the work."""

from __future__ import annotations

import ape
import pytest

from backend.chain.typed_data import WALLET_SIGNATURE_GAS, forward_request_struct, typed_data_digest
from devstack.passkeys import FLAG_UP, SALT, Passkey
from devstack.protocol import EVIDENCE_HASH, EVIDENCE_URI


@pytest.fixture(scope="session")
def factory(project, deployer, forwarder):
    """The community's passkey account factory (the deploy script does not deploy one yet)."""
    return deployer.deploy(project.PasskeyAccountFactory, forwarder.address)


@pytest.fixture
def passkey():
    return Passkey.generate()


@pytest.fixture
def passkey_member(project, factory, passkey, governance, membership, relayer):
    """Admitted at its predicted address before it exists, then deployed by the relayer."""
    qx, qy = passkey.public
    address = factory.predict(qx, qy, SALT)
    governance.pass_([(membership, "admit", (address,))], f"admit the passkey account {address}")
    assert membership.isMember(address)
    factory.create(qx, qy, SALT, sender=relayer)
    return project.PasskeyAccount.at(address)


def test_a_passkey_member_claims_through_the_forwarder(passkey_member, passkey, relay, forwarder, badge, mentoring):
    typed = relay.typed_data(passkey_member, badge, "claim", mentoring, EVIDENCE_HASH, EVIDENCE_URI)
    signature = passkey.sign_request(typed)
    assert passkey_member.isValidSignature(typed_data_digest(typed), signature) == bytes.fromhex("1626ba7e")
    assert forwarder.verify(forward_request_struct(typed, signature))
    relay.submit(typed, signature)
    assert badge.getClaim(badge.claimCount()).contributor == passkey_member.address
    assert forwarder.nonces(passkey_member.address) == 1


@pytest.mark.parametrize(
    "spoil",
    [{"high_s": True}, {"flags": FLAG_UP}, {"kind": "webauthn.create"}],
    ids=["high s", "no user verification", "not an assertion"],
)
def test_a_spoiled_assertion_is_refused(spoil, passkey_member, passkey, relay, forwarder, badge, mentoring):
    typed = relay.typed_data(passkey_member, badge, "claim", mentoring, EVIDENCE_HASH, EVIDENCE_URI)
    signature = passkey.sign_request(typed, **spoil)
    assert passkey_member.isValidSignature(typed_data_digest(typed), signature) == bytes.fromhex("ffffffff")
    with ape.reverts(forwarder.ERC2771ForwarderInvalidSigner):
        relay.submit(typed, signature)
    assert forwarder.nonces(passkey_member.address) == 0


def test_a_challenge_other_than_the_digest_is_refused(passkey_member, passkey, relay, forwarder, badge, mentoring):
    typed = relay.typed_data(passkey_member, badge, "claim", mentoring, EVIDENCE_HASH, EVIDENCE_URI)
    other = relay.typed_data(passkey_member, badge, "claim", mentoring, EVIDENCE_HASH, "https://example.org/other")
    with ape.reverts(forwarder.ERC2771ForwarderInvalidSigner):
        relay.submit(typed, passkey.sign_request(other))


def test_a_request_for_one_account_is_refused_for_another_of_the_same_passkey(
    project, factory, passkey_member, passkey, relay, forwarder, governance, membership, badge, mentoring, relayer
):
    qx, qy = passkey.public
    other_salt = (1).to_bytes(32, "big")
    factory.create(qx, qy, other_salt, sender=relayer)
    other = project.PasskeyAccount.at(factory.predict(qx, qy, other_salt))
    governance.pass_([(membership, "admit", (other.address,))], "admit the second account")

    typed = relay.typed_data(passkey_member, badge, "claim", mentoring, EVIDENCE_HASH, EVIDENCE_URI)
    signature = passkey.sign_request(typed)
    replayed = {**typed, "message": {**typed["message"], "from": other.address}}
    assert not forwarder.verify(forward_request_struct(replayed, signature))
    with ape.reverts(forwarder.ERC2771ForwarderInvalidSigner):
        relay.submit(replayed, signature)
    relay.submit(typed, signature)
    assert badge.getClaim(badge.claimCount()).contributor == passkey_member.address
    assert forwarder.nonces(other.address) == 0


def test_a_second_passkey_added_by_the_accounts_own_request(
    passkey_member, passkey, relay, forwarder, badge, mentoring
):
    second = Passkey.generate()
    typed = relay.typed_data(passkey_member, passkey_member, "addKey", *second.public)
    receipt = relay.submit(typed, passkey.sign_request(typed))
    assert passkey_member.isKey(*second.public) and len(passkey_member.keys()) == 2
    assert [(log.qx, log.qy) for log in receipt.decode_logs(passkey_member.KeyAdded)] == [second.public]
    typed = relay.typed_data(passkey_member, badge, "claim", mentoring, EVIDENCE_HASH, EVIDENCE_URI)
    relay.submit(typed, second.sign_request(typed))
    assert badge.getClaim(badge.claimCount()).contributor == passkey_member.address


def test_gas_of_a_relayed_claim_signed_by_a_passkey_and_by_a_key(
    chain, passkey_member, passkey, relay, badge, mentoring, alice
):
    # Each the first claim from the same state, so that they differ only by their signatures.
    snapshot = chain.snapshot()
    typed = relay.typed_data(alice, badge, "claim", mentoring, EVIDENCE_HASH, EVIDENCE_URI)
    by_key = relay.submit(typed, relay.sign(alice, typed)).gas_used
    chain.restore(snapshot)
    typed = relay.typed_data(passkey_member, badge, "claim", mentoring, EVIDENCE_HASH, EVIDENCE_URI)
    by_passkey = relay.submit(typed, passkey.sign_request(typed)).gas_used
    print(f"\nrelayed claim, transaction gas: signed by a key {by_key:,}, by a passkey {by_passkey:,}")
    assert badge.getClaim(1).contributor == passkey_member.address
    # What the passkey adds is its check, which the forwarder bounds.
    assert by_key < by_passkey < by_key + WALLET_SIGNATURE_GAS
