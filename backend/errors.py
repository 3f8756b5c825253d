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
    "DirectoryInvalidText": "{text!r} cannot be used: at most {maxBytes} bytes, no control characters, and no "
    "space at either end",
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


# Arguments that are Unix times: shown in words as UTC dates.
_TIMES = ("periodEnds", "until", "expiresAt")


def _in_words(args: dict[str, Any]) -> dict[str, Any]:
    return {k: time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(int(v))) if k in _TIMES else v for k, v in args.items()}


class ChainRefused(DomainError):
    """The chain would revert the request: carries the contract's custom error name and arguments."""

    def __init__(self, error: str, args: dict[str, Any], detail: str | None = None) -> None:
        kind = _STATUS_BY_ERROR.get(error, Conflict)
        self.status, self.title = kind.status, kind.title
        self.type = "chain-refused"
        self.error = error
        self.args_ = args
        shown = ", ".join(f"{k}={v}" for k, v in args.items())
        if detail is None and error in _WORDS:
            try:
                detail = f"{_WORDS[error].format(**_in_words(args))}: {error}({shown})"
            except (KeyError, IndexError):
                detail = None
        super().__init__(detail or f"The contract refused the request: {error}({shown})", error=error, arguments=args)
