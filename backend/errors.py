"""Domain errors: raised by services and the chain gateway, turned into problem+json by the API.

Each carries the HTTP status that fits it, so the mapping lives in one place.
"""

from __future__ import annotations

from typing import Any

from backend.i18n import N_, ngettext
from backend.i18n import gettext as _
from backend.units import number, span, utc_time


class DomainError(Exception):
    """Root of every error a client can cause or be told about. Its `detail` is a sentence in the
    language of the moment (translated where it is raised); its `title` is the catalog's message,
    translated where it is shown (backend/api/problems.py)."""

    status = 400
    title = N_("Bad request")
    type = "bad-request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class TooLarge(DomainError):
    status = 413
    title = N_("Payload too large")
    type = "payload-too-large"


def too_large(limit: int) -> TooLarge:
    """A body longer than `limit` bytes, refused before it is read on."""
    return TooLarge(
        _(
            "The body is longer than %(limit)s bytes, the most this service reads: nothing was recorded",
            limit=number(limit),
        )
    )


class InvalidRequest(DomainError):
    status = 400
    title = N_("Invalid request")
    type = "invalid-request"


class Unprocessable(DomainError):
    status = 422
    title = N_("Unprocessable request")
    type = "unprocessable"


class InvalidSignature(DomainError):
    status = 403
    title = N_("Invalid signature")
    type = "invalid-signature"


class Forbidden(DomainError):
    status = 403
    title = N_("Not allowed")
    type = "forbidden"


class NotFound(DomainError):
    status = 404
    title = N_("Not found")
    type = "not-found"


class Conflict(DomainError):
    status = 409
    title = N_("Conflict")
    type = "conflict"


class NodeUnavailable(DomainError):
    status = 503
    title = N_("Chain node unavailable")
    type = "node-unavailable"


class BatchRefused(NodeUnavailable):
    """The node answered a whole batch of calls with one error (a provider's limits, say), not
    each call with its own."""


class TooManyRequests(DomainError):
    """A relaying budget is spent; `retry_after` (seconds) says when it frees up."""

    status = 429
    title = N_("Budget exceeded")
    type = "budget-exceeded"


class IndexUnavailable(DomainError):
    """The index's database cannot be reached."""

    status = 503
    title = N_("Index database unavailable")
    type = "index-unavailable"


class TimedOut(DomainError):
    status = 504
    title = N_("Timed out")
    type = "timeout"


# How the contracts' custom errors map onto HTTP: who you are (403), what does not exist (404),
# what clashes with the current state (409), what is malformed (422).
_STATUS_BY_ERROR = {
    "BadgeNotMember": Forbidden,
    "GovernorNotMember": Forbidden,
    "GovernorNoVotingPower": Forbidden,
    "GovernorInsufficientProposerVotes": Forbidden,
    "GovernorRestrictedProposer": Forbidden,
    "GovernorOnlyExecutor": Forbidden,
    "GovernorUnableToCancel": Forbidden,
    "OwnableUnauthorizedAccount": Forbidden,
    "MembershipNotMember": Forbidden,
    "ERC2771ForwarderInvalidSigner": InvalidSignature,
    "BadgeNotNominee": Forbidden,
    "BadgeNotHolder": Forbidden,
    "BadgeEndorserNotQualified": Forbidden,
    "RegistryUnknownOrganisation": NotFound,
    "RegistryOrganisationRetired": Conflict,
    "BadgeEarnCapReached": Conflict,
    "BadgeAttestCapReached": Conflict,
    "BadgeReciprocalEndorsement": Conflict,
    "RegistryInvalidOrganisation": Unprocessable,
    "RegistryReciprocalWindowTooLong": Unprocessable,
    "RegistryCaptureRulesTooLong": Unprocessable,
    "BadgeUnknownClaim": NotFound,
    "RegistryUnknownIndicator": NotFound,
    "GovernorNonexistentProposal": NotFound,
    "ERC721NonexistentToken": NotFound,
    "BadgeSelfAttestation": Conflict,
    "BadgeAlreadyAttested": Conflict,
    "BadgeAlreadyMinted": Conflict,
    "BadgeAlreadyRevoked": Conflict,
    "BadgeIndicatorChanged": Conflict,
    "BadgeNotHeldBy": Conflict,
    "RegistryIndicatorRetired": Conflict,
    "MembershipAlreadyMember": Conflict,
    "GovernorAlreadyCastVote": Conflict,
    "GovernorUnexpectedProposalState": Conflict,
    "MembershipLastMember": Conflict,
    "BadgeContributorNotMember": Conflict,
    "BadgeNotNomination": Conflict,
    "BadgeNominationDeclined": Conflict,
    "BadgeNominationAlreadyAccepted": Conflict,
    "BadgeAlreadyDisowned": Conflict,
    "ERC2771ForwarderExpiredRequest": Unprocessable,
    "BadgeMissingEvidence": Unprocessable,
    "RegistryInvalidIndicator": Unprocessable,
    "MembershipInvalidDelegate": Unprocessable,
    "GovernorInvalidProposalLength": Unprocessable,
    "GovernorInvalidQuorumFraction": Unprocessable,
    "GovernorInvalidVotingPeriod": Unprocessable,
    "GovernorInvalidVoteType": Unprocessable,
    "GovernorVotingDelayOutOfRange": Unprocessable,
    "GovernorVotingPeriodOutOfRange": Unprocessable,
    "GovernorQuorumOutOfRange": Unprocessable,
    "GovernorProposalThresholdOutOfRange": Unprocessable,
    "MembershipNoFounders": Unprocessable,
    "ERC2771UntrustfulTarget": InvalidRequest,
    "DirectoryInvalidText": Unprocessable,
    "DirectoryTaken": Conflict,
    "DirectoryUnknownSite": Unprocessable,
    "AdmissionInvalidRules": Unprocessable,
    "AdmissionVouchingOff": Conflict,
    "AdmissionAlreadyVouched": Conflict,
    "AdmissionCapReached": Conflict,
    "AdmissionRemovedByGovernance": Forbidden,
    "AdmissionInvalidInvitation": Unprocessable,
    "AdmissionUnknownInvitation": NotFound,
    "AdmissionInvitationClosed": Conflict,
    "AdmissionInvitationExpired": Conflict,
    "AdmissionNotInviter": Forbidden,
    "AdmissionWrongSecret": Forbidden,
    "PasskeyAccountUnauthorized": Forbidden,
    "PasskeyAccountInvalidKey": Unprocessable,
    "PasskeyAccountKeyExists": Conflict,
    "PasskeyAccountUnknownKey": Conflict,
    "PasskeyAccountTooManyKeys": Conflict,
    "PasskeyAccountLastKey": Conflict,
    "AccessControlUnauthorizedAccount": Forbidden,
    "TimelockUnauthorizedCaller": Forbidden,
    "TimelockDelayOutOfRange": Unprocessable,
    "TimelockRoleRequired": Conflict,
    "GovernorTimelockWithoutGovernor": Conflict,
    "TimelockInsufficientDelay": Unprocessable,
    "TimelockInvalidOperationLength": Unprocessable,
    "TimelockUnexecutedPredecessor": Conflict,
    "TimelockUnexpectedOperationState": Conflict,
    "CommunityFactoryInvalidSlug": Unprocessable,
    "CommunityFactoryInvalidName": Unprocessable,
    "CommunityFactorySlugTaken": Conflict,
    "BadgeRecordsMoved": Conflict,
    "BadgeVersionNotInUse": Conflict,
    "BadgeRecordsCarrying": Conflict,
    "BadgeNothingToCarry": Conflict,
    "BadgeAttestersNotCarried": Unprocessable,
    "RegistryNotSuccessor": Unprocessable,
    "BadgeDeployerFailed": Conflict,
}


# The consent and fair-play rules' refusals in words, before the error's name and arguments.
_WORDS = {
    "BadgeNotNominee": N_(
        "Only the nominee answers a nomination: %(account)s is not the contributor of claim %(claimId)s"
    ),
    "BadgeNotNomination": N_(
        "Claim %(claimId)s is its contributor's own claim, not a nomination: there is nothing to accept or decline"
    ),
    "BadgeNominationDeclined": N_(
        "The nominee declined claim %(claimId)s: it stays on record as declined, and can no "
        "longer be attested or accepted"
    ),
    "BadgeNominationAlreadyAccepted": N_("The nominee already accepted claim %(claimId)s"),
    "BadgeNotHolder": N_("Only the holder disowns a badge: %(account)s does not hold badge %(tokenId)s"),
    "BadgeAlreadyDisowned": N_("Badge %(tokenId)s is already disowned (disowning cannot be undone)"),
    "BadgeEndorserNotQualified": N_(
        "Only holders of a counting badge of indicator %(endorserIndicatorId)s may attest "
        "claim %(claimId)s, and %(attester)s showed none (badge %(endorserBadgeId)s is not a "
        "counting badge of it that they hold)"
    ),
    "BadgeEarnCapReached": N_(
        "%(contributor)s already earned as many badges of indicator %(indicatorId)s as the "
        "community allows per period (%(cap)s); more can be earned from %(periodEnds)s"
    ),
    "BadgeAttestCapReached": N_(
        "%(attester)s already attested as many claims of indicator %(indicatorId)s as the "
        "community allows per period (%(cap)s); more can be attested from %(periodEnds)s"
    ),
    "BadgeReciprocalEndorsement": N_(
        "%(contributor)s endorsed %(attester)s on this indicator within the community's "
        "reciprocal window: %(attester)s may attest claim %(claimId)s from %(until)s"
    ),
    "RegistryUnknownOrganisation": N_("No organisation %(organisationId)s is registered in this community"),
    "RegistryOrganisationRetired": N_("Organisation %(organisationId)s was retired: new claims cannot credit it"),
    "DirectoryTaken": N_(
        "Another member of this community already uses “%(text)s” (upper and lower case count as the "
        "same): choose another"
    ),
    "DirectoryInvalidText": N_(
        "“%(text)s” cannot be used: it is too long (a name is at most 32 characters, a user "
        "name 64), holds a control character, or starts or ends with a space"
    ),
    "AdmissionVouchingOff": N_("This community admits people only by proposal: vouching is turned off"),
    "AdmissionAlreadyVouched": N_("%(voucher)s already vouched for %(candidate)s"),
    "AdmissionCapReached": N_(
        "%(member)s already gave as many vouches and invitations as the community allows per "
        "period (%(cap)s); more can be given from %(periodEnds)s"
    ),
    "AdmissionRemovedByGovernance": N_(
        "%(account)s was removed by the community's vote: only a proposal can admit them again"
    ),
    "AdmissionInvalidInvitation": N_(
        "%(invitation)s cannot be invited or vouched for: it is a member already, an invitation already, or empty"
    ),
    "AdmissionUnknownInvitation": N_("No invitation has the address %(invitation)s: check the link"),
    "AdmissionInvitationClosed": N_(
        "This invitation was already accepted or withdrawn: ask the person who invited you for a new one"
    ),
    "AdmissionInvitationExpired": N_(
        "This invitation expired on %(expiresAt)s: ask the person who invited you for a new one"
    ),
    "AdmissionNotInviter": N_("Only the member who made an invitation may withdraw it"),
    "PasskeyAccountKeyExists": N_("This passkey is already one of your account's"),
    "PasskeyAccountUnknownKey": N_("This passkey is not one of your account's: there is nothing to remove"),
    "PasskeyAccountTooManyKeys": N_("Your account holds %(maxKeys)s passkeys, the most it can: remove one first"),
    "PasskeyAccountLastKey": N_(
        "This is your account's last passkey: add another before removing it, or you could no longer sign"
    ),
    "AdmissionWrongSecret": N_(
        "This link's secret does not open invitation %(invitation)s for %(account)s: use the "
        "whole link exactly as you received it"
    ),
}


# The other custom errors of the contracts (every name in their ABIs, OpenZeppelin's included): what
# happened and, where there is something to do, what to do. tests/backend/test_web_refusals.py checks
# that every error of the ABIs has one, and that no detail carries an error's name.
_WORDS.update(
    {
        "AdmissionInvalidRules": N_(
            "These admission rules are outside the contract's bounds: at most 16 vouches to "
            "admit a person, 1 to 100 vouches and invitations per member per period, a period and an invitation's "
            "lifetime of 1 to 365 days. Correct them and propose again"
        ),
        "BadgeAlreadyAttested": N_(
            "%(attester)s already endorsed claim %(claimId)s: each member endorses a claim once"
        ),
        "BadgeAlreadyMinted": N_("Claim %(claimId)s already has its badge: there is nothing more to do"),
        "BadgeAlreadyRevoked": N_("Badge %(tokenId)s is already revoked"),
        "BadgeContributorNotMember": N_(
            "The contributor of claim %(claimId)s, %(contributor)s, is not a member of this "
            "community (any more): the claim cannot become a badge"
        ),
        "BadgeIndicatorChanged": N_(
            "Indicator %(indicatorId)s was amended after claim %(claimId)s was made: the claim "
            "can no longer be endorsed. Make it again, under the indicator's new terms"
        ),
        "BadgeMissingEvidence": N_("A claim needs its evidence: add a link to where others can see the contribution"),
        "BadgeNotHeldBy": N_("%(account)s does not hold badge %(tokenId)s"),
        "BadgeNotMember": N_(
            "Only members can do this, and %(account)s is not a member of this community: ask a member "
            "to vouch for you, or to propose admitting you"
        ),
        "BadgeSelfAttestation": N_(
            "Claim %(claimId)s is %(contributor)s's own contribution, so others endorse it: nobody "
            "endorses their own claim"
        ),
        "BadgeUnknownClaim": N_("No claim %(claimId)s in this community: check its number"),
        "BadgeRecordsMoved": N_(
            "This community moved its records to a new version of its contracts, and this was sent to the "
            "old one: nothing changed. Reload the page and do it again"
        ),
        "BadgeVersionNotInUse": N_(
            "This version of the community's contracts is not the one it uses: its vote has not moved the "
            "records to it. Nothing changed"
        ),
        "BadgeRecordsCarrying": N_(
            "This community is moving its records to a new version of its contracts (%(carried)s claims "
            "carried over so far): new claims open once every record is carried. Try again in a few minutes"
        ),
        "BadgeNothingToCarry": N_(
            "There is nothing to carry over: the community has not moved its records to this version, or "
            "every record is carried already"
        ),
        "BadgeAttestersNotCarried": N_(
            "The people listed as having endorsed claim %(claimId)s are not exactly those who endorsed it in "
            "the version before (each once, in increasing order of address): nothing was carried over"
        ),
        "BadgeDeployerFailed": N_(
            "The badge contract could not be created: this factory already holds one made with the same "
            "settings. Choose another slug"
        ),
        "RegistryNotSuccessor": N_(
            "The records cannot move from %(from)s to %(to)s: they are not at %(from)s now, or %(to)s is "
            "not a later version of it in this community, under the same rules and governance"
        ),
        "CheckpointUnorderedInsertion": N_(
            "The chain's clock and this record disagree (a vote or membership record out "
            "of order): nothing changed; try again in a moment"
        ),
        "CommunityFactoryInvalidName": N_(
            "A community's name is 1 to 31 bytes of text (a letter with an accent counts two, an emoji four), "
            "and “%(name)s” is not: shorten it"
        ),
        "CommunityFactoryInvalidSlug": N_(
            "“%(slug)s” cannot name a community in addresses: a slug is 1 to 32 characters, lowercase letters a-z, "
            "digits and hyphens, neither starting nor ending with a hyphen. Choose another"
        ),
        "CommunityFactorySlugTaken": N_(
            "A community called “%(slug)s” was already created through this factory, by %(creator)s: choose "
            "another slug"
        ),
        "DirectoryUnknownSite": N_(
            "Site %(site)s is not one the community's directory knows: choose GitHub, GitLab, "
            "drupal.org or the community's Discourse"
        ),
        "ECDSAInvalidSignature": N_(
            "The signature is not a valid signature: nothing was sent. Sign again with your wallet"
        ),
        "ECDSAInvalidSignatureLength": N_(
            "The signature has %(length)s bytes, not 65: nothing was sent. Sign again with your wallet"
        ),
        "ECDSAInvalidSignatureS": N_(
            "The signature is in a form the contracts refuse (its s value is in the upper "
            "half): nothing was sent. Sign again with a standard wallet"
        ),
        "ERC2771ForwarderExpiredRequest": N_(
            "The request expired on %(deadline)s, before it could be sent: nothing was recorded. Sign it again"
        ),
        "ERC2771ForwarderInvalidSigner": N_(
            "The signature is by %(signer)s, not by %(from)s, whom the request is for: "
            "nothing was sent. Sign again with that account"
        ),
        "ERC2771ForwarderMismatchedValue": N_(
            "The request asks to send %(requestedValue)s wei and %(msgValue)s came with "
            "it: requests to this community send none. Prepare it again"
        ),
        "ERC2771ForwarderNoRefundReceiver": N_(
            "The relayer sent a batch of requests with nowhere to refund them: a "
            "fault of the relayer, not of your request. Try again later"
        ),
        "ERC2771UntrustfulTarget": N_(
            "Contract %(target)s does not take requests through this community's forwarder "
            "(%(forwarder)s): the request was signed for another community or contract. Prepare it again here"
        ),
        "ERC5805FutureLookup": N_(
            "The request asks about %(timepoint)s, which the chain's clock (%(clock)s) has not "
            "reached yet: try again in a moment"
        ),
        "ERC6372InconsistentClock": N_(
            "The community's contracts disagree about their clock: a fault of the "
            "deployment. Tell the people who run this service"
        ),
        "ERC721IncorrectOwner": N_("%(sender)s does not hold badge %(tokenId)s; %(owner)s does"),
        "ERC721InsufficientApproval": N_("%(operator)s may not move badge %(tokenId)s: badges stay with their holder"),
        "ERC721InvalidApprover": N_("%(approver)s cannot approve anyone: badges stay with their holder"),
        "ERC721InvalidOperator": N_("%(operator)s cannot be approved: badges stay with their holder"),
        "ERC721InvalidOwner": N_("%(owner)s cannot hold badges"),
        "ERC721InvalidReceiver": N_("%(receiver)s cannot receive badges"),
        "ERC721InvalidSender": N_("%(sender)s cannot send badges"),
        "ERC721NonexistentToken": N_("No badge %(tokenId)s in this community: check its number"),
        "FailedCall": N_(
            "A call the contract made failed without saying why: nothing changed. Try again; if it fails "
            "again, tell the people who run this service"
        ),
        "FailedDeployment": N_(
            "The account could not be created: nothing changed. Try again; if it fails again, tell "
            "the people who run this service"
        ),
        "GovernorAlreadyCastVote": N_("%(voter)s already voted on this proposal: each member votes once"),
        "GovernorAlreadyQueuedProposal": N_("Proposal %(proposalId)s is already queued"),
        "GovernorDisabledDeposit": N_("The community's governor takes no payments: send the request without any"),
        "GovernorInsufficientProposerVotes": N_(
            "%(proposer)s holds %(votes)s, and making a proposal takes "
            "%(threshold)s: ask a member who holds enough to propose it"
        ),
        "GovernorInvalidProposalLength": N_(
            "The proposal's calls do not line up (%(targets)s contracts, %(calldatas)s "
            "calls, %(values)s values): prepare it again with this service"
        ),
        "GovernorInvalidQuorumFraction": N_(
            "A quorum of %(quorumNumerator)s out of %(quorumDenominator)s is not possible: "
            "choose a percentage of members from 1 to 100"
        ),
        "GovernorInvalidSignature": N_("This vote's signature is not %(voter)s's: nothing was sent. Sign it again"),
        "GovernorInvalidVoteParams": N_(
            "This vote carries options the governor does not take: vote for, against or abstain"
        ),
        "GovernorInvalidVoteType": N_("A vote is for, against or abstain: choose one of them"),
        "GovernorInvalidVotingPeriod": N_("A voting period of %(votingPeriod)s is not possible: choose a longer one"),
        "GovernorNoVotingPower": N_(
            "%(account)s has no vote on proposal %(proposalId)s: only those who were members when "
            "it was proposed vote on it"
        ),
        "GovernorNonexistentProposal": N_("No proposal %(proposalId)s in this community: check its link"),
        "GovernorNotMember": N_(
            "Only members make proposals and vote, and %(account)s is not a member of this "
            "community: ask a member to vouch for you, or to propose admitting you"
        ),
        "GovernorOnlyExecutor": N_(
            "Only the community's governor does this, not %(account)s: propose it, and it happens once the vote passes"
        ),
        "GovernorProposalQueueingFailed": N_("Proposal %(proposalId)s could not be queued"),
        "GovernorProposalQueueingNotRequired": N_(
            "Proposal %(proposalId)s needs no queueing: once it passes, it is carried out as it stands"
        ),
        "GovernorProposalThresholdOutOfRange": N_(
            "%(value)s to make a proposal is outside the governor's "
            "bounds, %(min)s to %(max)s: choose a number within them, so that governance can always act again"
        ),
        "GovernorQuorumOutOfRange": N_(
            "A quorum of %(value)s%% is outside the governor's bounds, %(min)s%% to %(max)s%%: choose one within them"
        ),
        "GovernorRestrictedProposer": N_("%(proposer)s may not make this proposal: its description names who may"),
        "GovernorUnableToCancel": N_(
            "%(account)s cannot cancel proposal %(proposalId)s: only its proposer may, before voting opens, "
            "and the community's guardian, if it elected one, until the proposal runs"
        ),
        "GovernorUnexpectedProposalState": N_("Proposal %(proposalId)s %(current)s, so this cannot be done now"),
        "GovernorTimelockWithoutGovernor": N_(
            "The governor can move only to a waiting room (timelock) that already lets it propose and cancel, and "
            "%(timelock)s does not: nothing changed. Give this governor those roles there first"
        ),
        "GovernorVotingDelayOutOfRange": N_(
            "A voting delay of %(value)s is outside the governor's bounds, %(min)s to "
            "%(max)s: choose one within them, so that governance can always act again"
        ),
        "GovernorVotingPeriodOutOfRange": N_(
            "A voting period of %(value)s is outside the governor's bounds, %(min)s to "
            "%(max)s: choose one within them, so that governance can always act again"
        ),
        "InsufficientBalance": N_(
            "The sender holds %(balance)s wei and this needs %(needed)s: the relayer's account needs "
            "funds. Tell the people who run this service"
        ),
        "InvalidAccountNonce": N_(
            "%(account)s's request is out of turn (the next one expected is number %(currentNonce)s): prepare it again"
        ),
        "InvalidInitialization": N_("This contract is set up already: there is nothing to do"),
        "NotInitializing": N_("This contract can be set up only while it is deployed"),
        "InvalidShortString": N_("A text is too long for its field: shorten it"),
        "MembershipAlreadyMember": N_("%(account)s is already a member"),
        "MembershipInvalidDelegate": N_("Votes cannot be delegated to %(delegatee)s: choose a member's address"),
        "MembershipLastMember": N_(
            "%(account)s is the last member: a community keeps at least one member, so that it "
            "can still propose and vote"
        ),
        "MembershipNoFounders": N_("A community needs at least one founder"),
        "MembershipNotMember": N_("%(account)s is not a member of this community"),
        "OwnableInvalidOwner": N_("%(owner)s cannot own this contract"),
        "OwnableUnauthorizedAccount": N_(
            "Only the community's governor may do this, not %(account)s: propose it, and it "
            "happens once the vote passes"
        ),
        "PasskeyAccountFactoryZeroForwarder": N_(
            "The passkey account factory has no forwarder: a fault of the "
            "deployment. Tell the people who run this service"
        ),
        "PasskeyAccountInvalidKey": N_(
            "This passkey's public key is not a point of the P-256 curve: make the passkey again"
        ),
        "PasskeyAccountUnauthorized": N_(
            "Only the account itself, through the community's forwarder, changes its passkeys (%(caller)s may not)"
        ),
        "RegistryIndicatorRetired": N_(
            "Indicator %(indicatorId)s was retired: nothing more can be claimed or changed "
            "under it. Choose an active one"
        ),
        "RegistryInvalidIndicator": N_("The indicator's %(field)s is not acceptable: %(field_rule)s"),
        "RegistryInvalidOrganisation": N_("The organisation's %(field)s is not acceptable: %(field_rule)s"),
        "RegistryReciprocalWindowTooLong": N_(
            "A window of %(seconds_)s is longer than the contract allows (%(max)s): choose a shorter one"
        ),
        "RegistryCaptureRulesTooLong": N_(
            "These capture rules take %(length)s bytes, and the community keeps at most %(max)s: shorten them"
        ),
        "RegistryUnknownIndicator": N_("No indicator %(indicatorId)s in this community: choose one from its list"),
        "SafeCastOverflowedUintDowncast": N_(
            "%(value)s is too large for its field (it must fit in %(bits)s bits): use a smaller number"
        ),
        "SoulboundApprovalDisabled": N_("Badges cannot be handed to anyone else: they stay with their holder"),
        "SoulboundTokenLocked": N_(
            "Badge %(tokenId)s cannot be transferred: it stays with its holder (a lost key is recovered by a proposal)"
        ),
        "StringTooLong": N_("The text “%(str)s” is too long for its field: shorten it"),
        "StringsInsufficientHexLength": N_(
            "%(value)s does not fit in %(length)s hexadecimal digits: a fault of the "
            "contract. Tell the people who run this service"
        ),
        "VotesExpiredSignature": N_("The signed delegation expired on %(expiry)s: sign it again"),
        # The community's timelock (OpenZeppelin's TimelockController and AccessControl).
        "AccessControlBadConfirmation": N_(
            "An account gives up only a role of its own, confirming with its own address: nothing changed"
        ),
        "AccessControlUnauthorizedAccount": N_(
            "%(account)s may not do this: only the community's governance does it, through a proposal that passed"
        ),
        "TimelockRoleRequired": N_(
            "This would leave nobody to propose, cancel or carry out proposals, or take the community's waiting "
            "room out of its own hands, and no vote could undo it: nothing changed. Give the role to someone else "
            "first, or keep it"
        ),
        "TimelockDelayOutOfRange": N_(
            "A delay of %(value)s before a passed proposal is carried out is outside the bounds, %(min)s to "
            "%(max)s: choose one within them"
        ),
        "TimelockInsufficientDelay": N_(
            "A delay of %(delay)s is shorter than the community's timelock allows (%(minDelay)s): a passed proposal "
            "waits at least that long"
        ),
        "TimelockInvalidOperationLength": N_(
            "The proposal's calls do not line up (%(targets)s contracts, %(payloads)s calls, %(values)s values): "
            "prepare it again with this service"
        ),
        "TimelockUnauthorizedCaller": N_(
            "Only the community's timelock does this, not %(caller)s: propose it, and it happens once the vote "
            "passes and the delay is over"
        ),
        "TimelockUnexecutedPredecessor": N_(
            "This waits for an earlier proposal to be carried out first: try again once it is"
        ),
        "TimelockUnexpectedOperationState": N_(
            "This proposal is not at the stage this needs (not queued yet, still waiting for its delay, already "
            "carried out or cancelled): check its page, and try again when it is ready"
        ),
        # Not the contracts' own: a revert with no data, or a selector no ABI of the deployment has.
        "EmptyRevert": N_(
            "The contract refused the request without saying why: nothing changed. Check what you entered and try again"
        ),
    }
)

# Arguments that are Unix times: shown in words as UTC dates.
_TIMES = ("periodEnds", "until", "expiresAt", "deadline", "expiry", "timepoint", "clock")
# Arguments that are spans of seconds, by error: shown as days, hours or minutes.
_SPANS = {
    "GovernorVotingDelayOutOfRange": ("value", "min", "max"),
    "GovernorVotingPeriodOutOfRange": ("value", "min", "max"),
    "GovernorInvalidVotingPeriod": ("votingPeriod",),
    "RegistryReciprocalWindowTooLong": ("seconds_", "max"),
    "TimelockDelayOutOfRange": ("value", "min", "max"),
    "TimelockInsufficientDelay": ("delay", "minDelay"),
}
# Arguments that are counts of votes, by error: "1 vote", "2 votes".
_VOTES = {
    "GovernorInsufficientProposerVotes": ("votes", "threshold"),
    "GovernorProposalThresholdOutOfRange": ("value", "min", "max"),
}
# Arguments that are texts a member typed: shown with their control characters escaped.
_TEXTS = ("text", "str", "slug")
# Governor.state()'s values, as GovernorUnexpectedProposalState says where a proposal stands.
_PROPOSAL_STATES = (
    N_("has not opened for voting yet"),
    N_("is still being voted on"),
    N_("was cancelled"),
    N_("was defeated"),
    N_("passed and waits to be carried out"),
    N_("is queued"),
    N_("expired"),
    N_("was already carried out"),
)
# What each field of an indicator or organisation must be, as the registry checks it.
_FIELD_RULES = {
    "name": N_("1 to 64 bytes of text (a letter with an accent counts two, an emoji four)"),
    "identifier": N_("at most 256 bytes of text"),
    "weight": N_("at least 1"),
    "endorsementsRequired": N_("at least 1 endorsement"),
    "endorserIndicatorId": N_("the endorsers' indicator must be another indicator that exists"),
    "capPeriod": N_("a cap needs its period, and a period needs a cap"),
}
# The fields' names, as a member reads them.
_FIELDS = {
    "name": N_("name"),
    "identifier": N_("identifier"),
    "weight": N_("weight"),
    "endorsementsRequired": N_("number of endorsements"),
    "endorserIndicatorId": N_("endorsers' indicator"),
    "capPeriod": N_("cap period"),
}


def _votes(n: int) -> str:
    return ngettext("%(num)s vote", "%(num)s votes", n, num=number(n))


def _in_words(error: str, args: dict[str, Any]) -> dict[str, Any]:
    spans, votes = _SPANS.get(error, ()), _VOTES.get(error, ())
    out: dict[str, Any] = {}
    for k, v in args.items():
        if k in _TIMES:
            out[k] = utc_time(v)
        elif k in spans:
            out[k] = span(int(v))
        elif k in votes:
            out[k] = _votes(int(v))
        elif k in _TEXTS:
            out[k] = repr(str(v))[1:-1]
        else:
            out[k] = v
    if error == "GovernorUnexpectedProposalState" and "current" in args:
        current = int(args["current"])
        out["current"] = (
            _(_PROPOSAL_STATES[current])
            if 0 <= current < len(_PROPOSAL_STATES)
            else _("is in state %(state)s", state=current)
        )
    if "field" in args:
        field = str(args["field"])
        out["field"] = _(_FIELDS[field]) if field in _FIELDS else field
        out["field_rule"] = _(_FIELD_RULES[field]) if field in _FIELD_RULES else _("correct it and try again")
    return out


def refusal_in_words(error: str, args: dict[str, Any]) -> str:
    """A contract's refusal as a sentence a member understands, in the language of the moment,
    without the error's name (which the problem carries in its `error` field, for programmers)."""
    words = _WORDS.get(error)
    if words is not None:
        try:
            # `error` is always among the values, so the sentence is always formatted (its %% too).
            return _(words, **{**_in_words(error, args), "error": error})
        except (KeyError, IndexError, ValueError, TypeError):
            pass
    return _(
        "The contract refused the request for a reason this service has no words for yet: nothing changed. "
        "The problem's error field names the reason, for whoever runs this service"
    )


class ChainRefused(DomainError):
    """The chain would revert the request: carries the contract's custom error name and arguments.
    Its detail is in words (refusal_in_words); the name and arguments are in `error` and `arguments`."""

    def __init__(self, error: str, args: dict[str, Any], detail: str | None = None) -> None:
        kind = _STATUS_BY_ERROR.get(error, Conflict)
        self.status, self.title = kind.status, kind.title
        self.type = "chain-refused"
        self.error = error
        self.args_ = args
        super().__init__(detail or refusal_in_words(error, args), error=error, arguments=args)
