"""Domain errors: raised by services and the chain gateway, turned into problem+json by the API.

Each carries the HTTP status that fits it, so the mapping lives in one place.
"""

from __future__ import annotations

import time
from typing import Any


class DomainError(Exception):
    """Root of every error a client can cause or be told about."""

    status = 400
    title = "Bad request"
    type = "bad-request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidRequest(DomainError):
    status = 400
    title = "Invalid request"
    type = "invalid-request"


class Unprocessable(DomainError):
    status = 422
    title = "Unprocessable request"
    type = "unprocessable"


class InvalidSignature(DomainError):
    status = 403
    title = "Invalid signature"
    type = "invalid-signature"


class Forbidden(DomainError):
    status = 403
    title = "Not allowed"
    type = "forbidden"


class NotFound(DomainError):
    status = 404
    title = "Not found"
    type = "not-found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"
    type = "conflict"


class NodeUnavailable(DomainError):
    status = 503
    title = "Chain node unavailable"
    type = "node-unavailable"


class TooManyRequests(DomainError):
    """A relaying budget is spent; `retry_after` (seconds) says when it frees up."""

    status = 429
    title = "Budget exceeded"
    type = "budget-exceeded"


class IndexUnavailable(DomainError):
    """The index's database cannot be reached."""

    status = 503
    title = "Index database unavailable"
    type = "index-unavailable"


class TimedOut(DomainError):
    status = 504
    title = "Timed out"
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
}


# The consent and fair-play rules' refusals in words, before the error's name and arguments.
_WORDS = {
    "BadgeNotNominee": "Only the nominee answers a nomination: {account} is not the contributor of claim {claimId}",
    "BadgeNotNomination": "Claim {claimId} is its contributor's own claim, not a nomination: there is nothing to "
    "accept or decline",
    "BadgeNominationDeclined": "The nominee declined claim {claimId}: it stays on record as declined, and can no "
    "longer be attested or accepted",
    "BadgeNominationAlreadyAccepted": "The nominee already accepted claim {claimId}",
    "BadgeNotHolder": "Only the holder disowns a badge: {account} does not hold badge {tokenId}",
    "BadgeAlreadyDisowned": "Badge {tokenId} is already disowned (disowning cannot be undone)",
    "BadgeEndorserNotQualified": "Only holders of a counting badge of indicator {endorserIndicatorId} may attest "
    "claim {claimId}, and {attester} showed none (badge {endorserBadgeId} is not a "
    "counting badge of it that they hold)",
    "BadgeEarnCapReached": "{contributor} already earned as many badges of indicator {indicatorId} as the "
    "community allows per period ({cap}); more can be earned from {periodEnds}",
    "BadgeAttestCapReached": "{attester} already attested as many claims of indicator {indicatorId} as the "
    "community allows per period ({cap}); more can be attested from {periodEnds}",
    "BadgeReciprocalEndorsement": "{contributor} endorsed {attester} on this indicator within the community's "
    "reciprocal window: {attester} may attest claim {claimId} from {until}",
    "RegistryUnknownOrganisation": "No organisation {organisationId} is registered in this community",
    "RegistryOrganisationRetired": "Organisation {organisationId} was retired: new claims cannot credit it",
    "DirectoryTaken": "Another member of this community already uses {text!r} (upper and lower case count as the "
    "same): choose another",
    "DirectoryInvalidText": "{text!r} cannot be used: it is too long (a name is at most 32 characters, a user "
    "name 64), holds a control character, or starts or ends with a space",
    "AdmissionVouchingOff": "This community admits people only by proposal: vouching is turned off",
    "AdmissionAlreadyVouched": "{voucher} already vouched for {candidate}",
    "AdmissionCapReached": "{member} already gave as many vouches and invitations as the community allows per "
    "period ({cap}); more can be given from {periodEnds}",
    "AdmissionRemovedByGovernance": "{account} was removed by the community's vote: only a proposal can admit "
    "them again",
    "AdmissionInvalidInvitation": "{invitation} cannot be invited or vouched for: it is a member already, an "
    "invitation already, or empty",
    "AdmissionUnknownInvitation": "No invitation has the address {invitation}: check the link",
    "AdmissionInvitationClosed": "This invitation was already accepted or withdrawn: ask the person who invited "
    "you for a new one",
    "AdmissionInvitationExpired": "This invitation expired on {expiresAt}: ask the person who invited you for a "
    "new one",
    "AdmissionNotInviter": "Only the member who made an invitation may withdraw it",
    "PasskeyAccountKeyExists": "This passkey is already one of your account's",
    "PasskeyAccountUnknownKey": "This passkey is not one of your account's: there is nothing to remove",
    "PasskeyAccountTooManyKeys": "Your account holds {maxKeys} passkeys, the most it can: remove one first",
    "PasskeyAccountLastKey": "This is your account's last passkey: add another before removing it, or you could "
    "no longer sign",
    "AdmissionWrongSecret": "This link's secret does not open invitation {invitation} for {account}: use the "
    "whole link exactly as you received it",
}


# The other custom errors of the contracts (every name in their ABIs, OpenZeppelin's included): what
# happened and, where there is something to do, what to do. tests/backend/test_web_refusals.py checks
# that every error of the ABIs has one, and that no detail carries an error's name.
_WORDS.update(
    {
        "AdmissionInvalidRules": "These admission rules are outside the contract's bounds: at most 16 vouches to "
        "admit a person, 1 to 100 vouches and invitations per member per period, a period and an invitation's "
        "lifetime of 1 to 365 days. Correct them and propose again",
        "BadgeAlreadyAttested": "{attester} already endorsed claim {claimId}: each member endorses a claim once",
        "BadgeAlreadyMinted": "Claim {claimId} already has its badge: there is nothing more to do",
        "BadgeAlreadyRevoked": "Badge {tokenId} is already revoked",
        "BadgeContributorNotMember": "The contributor of claim {claimId}, {contributor}, is not a member of this "
        "community (any more): the claim cannot become a badge",
        "BadgeIndicatorChanged": "Indicator {indicatorId} was amended after claim {claimId} was made: the claim "
        "can no longer be endorsed. Make it again, under the indicator's new terms",
        "BadgeMissingEvidence": "A claim needs its evidence: add a link to where others can see the contribution",
        "BadgeNotHeldBy": "{account} does not hold badge {tokenId}",
        "BadgeNotMember": "Only members can do this, and {account} is not a member of this community: ask a member "
        "to vouch for you, or to propose admitting you",
        "BadgeSelfAttestation": "Claim {claimId} is {contributor}'s own contribution, so others endorse it: nobody "
        "endorses their own claim",
        "BadgeUnknownClaim": "No claim {claimId} in this community: check its number",
        "CheckpointUnorderedInsertion": "The chain's clock and this record disagree (a vote or membership record out "
        "of order): nothing changed; try again in a moment",
        "DirectoryUnknownSite": "Site {site} is not one the community's directory knows: choose GitHub, GitLab, "
        "drupal.org or the community's Discourse",
        "ECDSAInvalidSignature": "The signature is not a valid signature: nothing was sent. Sign again with your "
        "wallet",
        "ECDSAInvalidSignatureLength": "The signature has {length} bytes, not 65: nothing was sent. Sign again with "
        "your wallet",
        "ECDSAInvalidSignatureS": "The signature is in a form the contracts refuse (its s value is in the upper "
        "half): nothing was sent. Sign again with a standard wallet",
        "ERC2771ForwarderExpiredRequest": "The request expired on {deadline}, before it could be sent: nothing was "
        "recorded. Sign it again",
        "ERC2771ForwarderInvalidSigner": "The signature is by {signer}, not by {from}, whom the request is for: "
        "nothing was sent. Sign again with that account",
        "ERC2771ForwarderMismatchedValue": "The request asks to send {requestedValue} wei and {msgValue} came with "
        "it: requests to this community send none. Prepare it again",
        "ERC2771ForwarderNoRefundReceiver": "The relayer sent a batch of requests with nowhere to refund them: a "
        "fault of the relayer, not of your request. Try again later",
        "ERC2771UntrustfulTarget": "Contract {target} does not take requests through this community's forwarder "
        "({forwarder}): the request was signed for another community or contract. Prepare it again here",
        "ERC5805FutureLookup": "The request asks about {timepoint}, which the chain's clock ({clock}) has not "
        "reached yet: try again in a moment",
        "ERC6372InconsistentClock": "The community's contracts disagree about their clock: a fault of the "
        "deployment. Tell the people who run this service",
        "ERC721IncorrectOwner": "{sender} does not hold badge {tokenId}; {owner} does",
        "ERC721InsufficientApproval": "{operator} may not move badge {tokenId}: badges stay with their holder",
        "ERC721InvalidApprover": "{approver} cannot approve anyone: badges stay with their holder",
        "ERC721InvalidOperator": "{operator} cannot be approved: badges stay with their holder",
        "ERC721InvalidOwner": "{owner} cannot hold badges",
        "ERC721InvalidReceiver": "{receiver} cannot receive badges",
        "ERC721InvalidSender": "{sender} cannot send badges",
        "ERC721NonexistentToken": "No badge {tokenId} in this community: check its number",
        "FailedCall": "A call the contract made failed without saying why: nothing changed. Try again; if it fails "
        "again, tell the people who run this service",
        "FailedDeployment": "The account could not be created: nothing changed. Try again; if it fails again, tell "
        "the people who run this service",
        "GovernorAlreadyCastVote": "{voter} already voted on this proposal: each member votes once",
        "GovernorAlreadyQueuedProposal": "Proposal {proposalId} is already queued",
        "GovernorDisabledDeposit": "The community's governor takes no payments: send the request without any",
        "GovernorInsufficientProposerVotes": "{proposer} holds {votes} vote(s), and making a proposal takes "
        "{threshold}: ask a member who holds enough to propose it",
        "GovernorInvalidProposalLength": "The proposal's calls do not line up ({targets} contracts, {calldatas} "
        "calls, {values} values): prepare it again with this service",
        "GovernorInvalidQuorumFraction": "A quorum of {quorumNumerator} out of {quorumDenominator} is not possible: "
        "choose a percentage of members from 1 to 100",
        "GovernorInvalidSignature": "This vote's signature is not {voter}'s: nothing was sent. Sign it again",
        "GovernorInvalidVoteParams": "This vote carries options the governor does not take: vote for, against or "
        "abstain",
        "GovernorInvalidVoteType": "A vote is for, against or abstain: choose one of them",
        "GovernorInvalidVotingPeriod": "A voting period of {votingPeriod} is not possible: choose a longer one",
        "GovernorNoVotingPower": "{account} has no vote on proposal {proposalId}: only those who were members when "
        "it was proposed vote on it",
        "GovernorNonexistentProposal": "No proposal {proposalId} in this community: check its link",
        "GovernorNotMember": "Only members make proposals and vote, and {account} is not a member of this "
        "community: ask a member to vouch for you, or to propose admitting you",
        "GovernorOnlyExecutor": "Only the community's governor does this, not {account}: propose it, and it happens "
        "once the vote passes",
        "GovernorProposalQueueingFailed": "Proposal {proposalId} could not be queued",
        "GovernorProposalQueueingNotRequired": "Proposal {proposalId} needs no queueing: once it passes, it is "
        "carried out as it stands",
        "GovernorProposalThresholdOutOfRange": "{value} vote(s) to make a proposal is outside the governor's "
        "bounds, {min} to {max}: choose a number within them, so that governance can always act again",
        "GovernorQuorumOutOfRange": "A quorum of {value}% is outside the governor's bounds, {min}% to {max}%: "
        "choose one within them",
        "GovernorRestrictedProposer": "{proposer} may not make this proposal: its description names who may",
        "GovernorUnableToCancel": "{account} cannot cancel proposal {proposalId}: only its proposer may, before "
        "voting opens",
        "GovernorUnexpectedProposalState": "Proposal {proposalId} {current}, so this cannot be done now",
        "GovernorVotingDelayOutOfRange": "A voting delay of {value} is outside the governor's bounds, {min} to "
        "{max}: choose one within them, so that governance can always act again",
        "GovernorVotingPeriodOutOfRange": "A voting period of {value} is outside the governor's bounds, {min} to "
        "{max}: choose one within them, so that governance can always act again",
        "InsufficientBalance": "The sender holds {balance} wei and this needs {needed}: the relayer's account needs "
        "funds. Tell the people who run this service",
        "InvalidAccountNonce": "{account}'s request is out of turn (the next one expected is number "
        "{currentNonce}): prepare it again",
        "InvalidInitialization": "This contract is set up already: there is nothing to do",
        "NotInitializing": "This contract can be set up only while it is deployed",
        "InvalidShortString": "A text is too long for its field: shorten it",
        "MembershipAlreadyMember": "{account} is already a member",
        "MembershipInvalidDelegate": "Votes cannot be delegated to {delegatee}: choose a member's address",
        "MembershipLastMember": "{account} is the last member: a community keeps at least one member, so that it "
        "can still propose and vote",
        "MembershipNoFounders": "A community needs at least one founder",
        "MembershipNotMember": "{account} is not a member of this community",
        "OwnableInvalidOwner": "{owner} cannot own this contract",
        "OwnableUnauthorizedAccount": "Only the community's governor may do this, not {account}: propose it, and it "
        "happens once the vote passes",
        "PasskeyAccountFactoryZeroForwarder": "The passkey account factory has no forwarder: a fault of the "
        "deployment. Tell the people who run this service",
        "PasskeyAccountInvalidKey": "This passkey's public key is not a point of the P-256 curve: make the passkey "
        "again",
        "PasskeyAccountUnauthorized": "Only the account itself, through the community's forwarder, changes its "
        "passkeys ({caller} may not)",
        "RegistryIndicatorRetired": "Indicator {indicatorId} was retired: nothing more can be claimed or changed "
        "under it. Choose an active one",
        "RegistryInvalidIndicator": "The indicator's {field} is not acceptable: {field_rule}",
        "RegistryInvalidOrganisation": "The organisation's {field} is not acceptable: {field_rule}",
        "RegistryReciprocalWindowTooLong": "A window of {seconds_} is longer than the contract allows ({max}): "
        "choose a shorter one",
        "RegistryCaptureRulesTooLong": "These capture rules take {length} bytes, and the community keeps at most "
        "{max}: shorten them",
        "RegistryUnknownIndicator": "No indicator {indicatorId} in this community: choose one from its list",
        "SafeCastOverflowedUintDowncast": "{value} is too large for its field (it must fit in {bits} bits): use a "
        "smaller number",
        "SoulboundApprovalDisabled": "Badges cannot be handed to anyone else: they stay with their holder",
        "SoulboundTokenLocked": "Badge {tokenId} cannot be transferred: it stays with its holder (a lost key is "
        "recovered by a proposal)",
        "StringTooLong": "The text {str!r} is too long for its field: shorten it",
        "StringsInsufficientHexLength": "{value} does not fit in {length} hexadecimal digits: a fault of the "
        "contract. Tell the people who run this service",
        "VotesExpiredSignature": "The signed delegation expired on {expiry}: sign it again",
        # Not the contracts' own: a revert with no data, or a selector no ABI of the deployment has.
        "EmptyRevert": "The contract refused the request without saying why: nothing changed. Check what you "
        "entered and try again",
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
}
# Governor.state()'s values, as GovernorUnexpectedProposalState says where a proposal stands.
_PROPOSAL_STATES = (
    "has not opened for voting yet",
    "is still being voted on",
    "was cancelled",
    "was defeated",
    "passed and waits to be carried out",
    "is queued",
    "expired",
    "was already carried out",
)
# What each field of an indicator or organisation must be, as the registry checks it.
_FIELD_RULES = {
    "name": "1 to 64 bytes of text (a letter with an accent counts two, an emoji four)",
    "identifier": "at most 256 bytes of text",
    "weight": "at least 1",
    "endorsementsRequired": "at least 1 endorsement",
    "endorserIndicatorId": "the endorsers' indicator must be another indicator that exists",
    "capPeriod": "a cap needs its period, and a period needs a cap",
}


def utc_time(timestamp: int) -> str:
    """A Unix time as refusals say it: 2026-03-01 14:05 UTC."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(int(timestamp)))


def _span(seconds: int) -> str:
    for unit, size in (("day", 86_400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n:,} {unit}{'s' if n != 1 else ''}"
    return f"{seconds:,} second{'s' if seconds != 1 else ''}"


def _in_words(error: str, args: dict[str, Any]) -> dict[str, Any]:
    spans = _SPANS.get(error, ())
    out: dict[str, Any] = {}
    for k, v in args.items():
        if k in _TIMES:
            out[k] = utc_time(v)
        elif k in spans:
            out[k] = _span(int(v))
        else:
            out[k] = v
    if error == "GovernorUnexpectedProposalState" and "current" in args:
        current = int(args["current"])
        out["current"] = _PROPOSAL_STATES[current] if 0 <= current < len(_PROPOSAL_STATES) else f"is in state {current}"
    if "field" in args:
        out["field_rule"] = _FIELD_RULES.get(str(args["field"]), "correct it and try again")
    return out


def refusal_in_words(error: str, args: dict[str, Any]) -> str:
    """A contract's refusal as a sentence a member understands, without the error's name (which the
    problem carries in its `error` field, for programmers)."""
    words = _WORDS.get(error)
    if words is not None:
        try:
            return words.format(**_in_words(error, args))
        except (KeyError, IndexError, ValueError):
            pass
    return (
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
