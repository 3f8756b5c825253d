"""Admission without a vote per person (issue 22, section 4), and credit before joining
(section 3): vouching under governed rules, invitations whose secret is never on chain, and a
nomination to an invitation that becomes the invitee's once they join."""

import ape
import pytest
from eth_account import Account

from backend.chain.typed_data import invitation_acceptance_typed_data
from devstack.protocol import EVIDENCE_HASH, EVIDENCE_URI

DAY = 86_400


def acceptance(membership, chain, secret, account) -> bytes:
    """The invitation's secret signing the acceptance by `account`, as the invitee's browser asks."""
    typed = invitation_acceptance_typed_data(
        chain_id=chain.chain_id,
        membership=membership.address,
        membership_name=membership.name(),
        invitation=secret.address,
        account=getattr(account, "address", account),
    )
    return bytes(Account.sign_typed_data(secret.key, full_message=typed).signature)


@pytest.fixture
def vouching(governance, membership):
    """Two vouches admit; each member may vouch or invite twice per 7 days."""

    def set_rules(required=2, cap=2, period=7 * DAY, lifetime=14 * DAY):
        governance.pass_([(membership, "setAdmissionRules", ((required, cap, period, lifetime),))], f"rules {required}")

    set_rules()
    return set_rules


def test_vouching_is_off_until_governance_turns_it_on(membership, alice, newcomer):
    assert membership.admissionRules().vouchesRequired == 0
    with ape.reverts(membership.AdmissionVouchingOff):
        membership.vouch(newcomer, sender=alice)


def test_setting_the_rules__only_by_governance_and_within_bounds(governance, membership, alice):
    with ape.reverts(membership.OwnableUnauthorizedAccount, account=alice.address):
        membership.setAdmissionRules((1, 1, DAY, DAY), sender=alice)
    for rules in ((17, 1, DAY, DAY), (1, 0, DAY, DAY), (1, 1, DAY - 1, DAY), (1, 1, DAY, 366 * DAY)):
        calls = [(membership, "setAdmissionRules", (rules,))]
        governance.carry(calls, f"bad rules {rules}")
        with ape.reverts(membership.AdmissionInvalidRules):
            governance.execute(calls, f"bad rules {rules}")


def test_k_vouches_admit(vouching, membership, alice, bob, newcomer):
    receipt = membership.vouch(newcomer, sender=alice)
    [event] = receipt.decode_logs(membership.Vouched)
    assert (event.candidate, event.voucher, event.vouches) == (newcomer.address, alice.address, 1)
    assert not membership.isMember(newcomer)
    with ape.reverts(membership.AdmissionAlreadyVouched, candidate=newcomer.address, voucher=alice.address):
        membership.vouch(newcomer, sender=alice)
    receipt = membership.vouch(newcomer, sender=bob)
    assert receipt.decode_logs(membership.MemberAdmitted)
    assert membership.isMember(newcomer) and membership.getVotes(newcomer) == 1
    with ape.reverts(membership.AdmissionInvalidInvitation, invitation=newcomer.address):
        membership.vouch(newcomer, sender=bob)  # already a member


def test_only_members_vouch(vouching, membership, outsider, newcomer):
    with ape.reverts(membership.MembershipNotMember, account=outsider.address):
        membership.vouch(newcomer, sender=outsider)


def test_the_cap_counts_vouches_and_invitations_per_period(vouching, membership, chain, alice, accounts):
    membership.vouch(accounts[7], sender=alice)
    membership.invite(Account.create().address, "Sam", sender=alice)
    period_ends = membership.admissionRules().vouchPeriod + chain.blocks.head.timestamp
    with ape.reverts(membership.AdmissionCapReached):
        membership.vouch(accounts[8], sender=alice)
    chain.mine(timestamp=period_ends + 10)
    membership.vouch(accounts[8], sender=alice)  # a new period


def test_a_removal_voids_vouches_in_progress_and_the_removed_are_not_vouched_back(
    vouching, governance, membership, alice, bob, carol, newcomer
):
    membership.vouch(newcomer, sender=alice)
    governance.pass_([(membership, "remove", (carol.address,))], "remove carol")
    assert membership.vouchesFor(newcomer) == 0
    membership.vouch(newcomer, sender=bob)
    assert not membership.isMember(newcomer)  # alice's vouch was voided: one of two
    with ape.reverts(membership.AdmissionRemovedByGovernance, account=carol.address):
        membership.vouch(carol, sender=alice)


def test_an_invitation_credits_before_joining_and_its_secret_stays_off_chain(
    vouching, membership, badge, mentoring, chain, alice, bob, carol, newcomer
):
    secret = Account.create()
    receipt = membership.invite(secret.address, "Sam", sender=alice)
    [created] = receipt.decode_logs(membership.InvitationCreated)
    assert (created.invitation, created.inviter, created.name) == (secret.address, alice.address, "Sam")
    assert created.expiresAt == chain.blocks.head.timestamp + 14 * DAY
    assert secret.key.hex()[2:] not in receipt.transaction.data.hex()

    assert membership.isOpenInvitation(secret.address)
    # Credit goes to the invitation's address; nobody attests a person who has not joined.
    badge.nominate(secret.address, mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=bob)
    claim_id = badge.claimCount()
    with ape.reverts(badge.BadgeContributorNotMember):
        badge.attest(claim_id, sender=carol)

    # The invitee accepts as their new account: the invitation is alice's vouch; bob's admits.
    signed = acceptance(membership, chain, secret, newcomer)
    receipt = membership.acceptInvitation(secret.address, signed, sender=newcomer)
    [accepted] = receipt.decode_logs(membership.InvitationAccepted)
    assert accepted.account == newcomer.address
    assert membership.vouchesFor(newcomer) == 1
    membership.vouch(newcomer, sender=bob)
    assert membership.isMember(newcomer)

    # Their consent, as for any nomination: accepting makes the claim theirs.
    receipt = badge.acceptNomination(claim_id, sender=newcomer)
    [joined] = receipt.decode_logs(badge.NomineeJoined)
    assert (joined.claimId, joined.invitation, joined.account) == (claim_id, secret.address, newcomer.address)
    assert badge.getClaim(claim_id).contributor == newcomer.address
    badge.attest(claim_id, sender=carol)
    badge.attest(claim_id, sender=alice)
    assert badge.ownerOf(claim_id) == newcomer.address


def test_acceptance__wrong_secret_other_account_second_use(vouching, membership, chain, alice, newcomer, outsider):
    secret = Account.create()
    membership.invite(secret.address, "Sam", sender=alice)
    wrong = acceptance(membership, chain, Account.create(), newcomer)
    with ape.reverts(membership.AdmissionWrongSecret, invitation=secret.address, account=newcomer.address):
        membership.acceptInvitation(secret.address, wrong, sender=newcomer)
    # Copied from newcomer's acceptance, replayed by another account: refused.
    theirs = acceptance(membership, chain, secret, newcomer)
    with ape.reverts(membership.AdmissionWrongSecret, invitation=secret.address, account=outsider.address):
        membership.acceptInvitation(secret.address, theirs, sender=outsider)
    with ape.reverts(membership.AdmissionWrongSecret):
        membership.acceptInvitation(secret.address, b"\x01" * 7, sender=newcomer)  # malformed
    membership.acceptInvitation(secret.address, theirs, sender=newcomer)
    with ape.reverts(membership.AdmissionInvitationClosed, invitation=secret.address):
        membership.acceptInvitation(secret.address, theirs, sender=newcomer)


def test_withdrawn_and_expired_invitations(vouching, membership, badge, mentoring, chain, alice, bob, newcomer):
    withdrawn, expired = Account.create(), Account.create()
    membership.invite(withdrawn.address, "Sam", sender=alice)
    with ape.reverts(membership.AdmissionNotInviter, invitation=withdrawn.address, account=bob.address):
        membership.withdrawInvitation(withdrawn.address, sender=bob)
    membership.withdrawInvitation(withdrawn.address, sender=alice)
    assert not membership.isOpenInvitation(withdrawn.address)
    with ape.reverts(membership.AdmissionInvitationClosed):
        signed = acceptance(membership, chain, withdrawn, newcomer)
        membership.acceptInvitation(withdrawn.address, signed, sender=newcomer)
    with ape.reverts(badge.BadgeNotMember, account=withdrawn.address):
        badge.nominate(withdrawn.address, mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=bob)

    receipt = membership.invite(expired.address, "Kim", sender=bob)
    [created] = receipt.decode_logs(membership.InvitationCreated)
    chain.mine(timestamp=created.expiresAt + 1)
    with ape.reverts(membership.AdmissionInvitationExpired):
        membership.acceptInvitation(expired.address, acceptance(membership, chain, expired, newcomer), sender=newcomer)


def test_invitation_addresses_are_fresh(vouching, membership, alice, bob):
    secret = Account.create()
    membership.invite(secret.address, "Sam", sender=alice)
    for address, name in ((secret.address, "Again"), (bob.address, "A member"), ("0x" + "00" * 20, "Nobody")):
        with ape.reverts(membership.AdmissionInvalidInvitation):
            membership.invite(address, name, sender=alice)
    with ape.reverts(membership.AdmissionInvalidInvitation):
        membership.invite(Account.create().address, "", sender=alice)  # a name is needed
