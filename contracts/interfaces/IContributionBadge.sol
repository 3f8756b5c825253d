// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBadgeVersions} from "./IBadgeVersions.sol";
import {IIndicatorRegistry} from "./IIndicatorRegistry.sol";

/// @title Claims, attestations and non-transferable contribution badges
/// @notice A member claims a contribution (or nominates another member) against an active
/// indicator with evidence; other members attest; when attestations reach the indicator's
/// requirement the badge is minted to the contributor, with token id = claim id.
/// Evidence URIs are emitted, not stored: the badge keeps the evidence hash.
/// Consent: a nomination counts only once its nominee accepts it (attestations may gather
/// before, the badge is minted only after); a holder may disown a badge; a member may keep
/// their profile out of public lists.
/// Fair play: an indicator may require its attesters to hold a counting badge of another
/// indicator, and cap the badges one member earns and the claims one member attests of it per
/// period; the community may forbid reciprocal endorsement within a window. A claim may credit
/// an organisation registered by governance.
interface IContributionBadge is IBadgeVersions {
    /// @notice Where a claim stands on its contributor's consent: `None` for a claim of one's
    /// own (consent is implied), `Pending` for a nomination not yet answered, then `Accepted`
    /// or `Declined` by the nominee.
    enum Nomination {
        None,
        Pending,
        Accepted,
        Declined
    }

    /// @notice A claim as stored: one slot.
    struct Claim {
        address contributor;
        uint32 indicatorId;
        uint32 indicatorVersion;
        uint16 attestations;
        Nomination nomination;
    }

    /// @notice What a minted badge records beyond its claim: one slot, written at mint (then
    /// only its revocation and disowning times).
    struct Badge {
        uint32 weight;
        uint32 validity;
        uint40 mintedAt;
        uint40 revokedAt;
        IIndicatorRegistry.Orientation orientation;
        uint40 disownedAt;
    }

    /// @notice `account` is not a member.
    error BadgeNotMember(address account);
    /// @notice A claim must carry a non-zero evidence hash.
    error BadgeMissingEvidence();
    /// @notice No claim has this id.
    error BadgeUnknownClaim(uint256 claimId);
    /// @notice The contributor cannot attest their own claim.
    error BadgeSelfAttestation(uint256 claimId, address contributor);
    /// @notice `attester` already attested this claim.
    error BadgeAlreadyAttested(uint256 claimId, address attester);
    /// @notice The claim already has its badge.
    error BadgeAlreadyMinted(uint256 claimId);
    /// @notice The claim's contributor is no longer a member (removed, or recovered to another
    /// address, since the claim was filed): nobody attests it and no badge is minted to them.
    error BadgeContributorNotMember(uint256 claimId, address contributor);
    /// @notice The claim's indicator was amended or retired since the claim: file it again.
    error BadgeIndicatorChanged(uint256 claimId, uint32 indicatorId);
    /// @notice The badge was already revoked.
    error BadgeAlreadyRevoked(uint256 tokenId);
    /// @notice The badge is not held by `account`.
    error BadgeNotHeldBy(uint256 tokenId, address account);
    /// @notice Only the nominee (the claim's contributor) answers a nomination; `account` is not.
    error BadgeNotNominee(uint256 claimId, address account);
    /// @notice The claim is the contributor's own, not a nomination: there is nothing to answer.
    error BadgeNotNomination(uint256 claimId);
    /// @notice The nominee declined this nomination: it stays on record, and nobody attests or
    /// accepts it any more.
    error BadgeNominationDeclined(uint256 claimId);
    /// @notice The nominee already accepted this nomination.
    error BadgeNominationAlreadyAccepted(uint256 claimId);
    /// @notice Only the badge's holder disowns it; `account` does not hold it.
    error BadgeNotHolder(uint256 tokenId, address account);
    /// @notice The badge was already disowned (it cannot be taken back).
    error BadgeAlreadyDisowned(uint256 tokenId);
    /// @notice The claim's indicator is endorsed only by holders of a counting badge of
    /// `endorserIndicatorId`, and `endorserBadgeId` is not one the attester holds.
    error BadgeEndorserNotQualified(
        uint256 claimId, address attester, uint32 endorserIndicatorId, uint256 endorserBadgeId
    );
    /// @notice `contributor` already earned `cap` badges of this indicator this period; more can
    /// be earned from `periodEnds` (a Unix time).
    error BadgeEarnCapReached(address contributor, uint32 indicatorId, uint16 cap, uint256 periodEnds);
    /// @notice `attester` already attested `cap` claims of this indicator this period; more can be
    /// attested from `periodEnds` (a Unix time).
    error BadgeAttestCapReached(address attester, uint32 indicatorId, uint16 cap, uint256 periodEnds);
    /// @notice The claim's contributor attested a claim of `attester` on the same indicator
    /// within the community's reciprocal window: `attester` may attest theirs from `until`.
    error BadgeReciprocalEndorsement(uint256 claimId, address attester, address contributor, uint256 until);

    /// @notice Emitted when a claim is filed; `submitter` differs from `contributor` for a nomination.
    event ClaimSubmitted(
        uint256 indexed claimId,
        address indexed contributor,
        uint32 indexed indicatorId,
        uint32 indicatorVersion,
        address submitter,
        bytes32 evidenceHash,
        string evidenceURI
    );
    /// @notice Emitted after {ClaimSubmitted} when the claim credits an organisation.
    event ClaimCredited(uint256 indexed claimId, uint32 indexed organisationId);
    /// @notice Emitted for each attestation; `attestations` is the claim's count after it.
    event Attested(uint256 indexed claimId, address indexed attester, uint16 attestations);
    /// @notice Emitted when a claim's badge is minted (beside ERC-721 `Transfer` and ERC-5192 `Locked`).
    event BadgeMinted(uint256 indexed tokenId, address indexed contributor, uint32 indexed indicatorId, uint32 weight);
    /// @notice Emitted when governance revokes a badge; the token stays, it stops counting.
    event BadgeRevoked(uint256 indexed tokenId, string reason);
    /// @notice Emitted when governance moves a member's badges to a replacement address.
    event BadgesRecovered(address indexed lost, address indexed replacement, uint256 count);
    /// @notice Emitted when a nominee accepts a nomination (a `BadgeMinted` follows when it
    /// already had enough attestations).
    event NominationAccepted(uint256 indexed claimId, address indexed nominee);
    /// @notice Emitted when a nomination made to an invitation becomes the nomination of `account`,
    /// the account that accepted the invitation, as it answers the nomination.
    event NomineeJoined(uint256 indexed claimId, address indexed invitation, address indexed account);
    /// @notice Emitted when a nominee declines a nomination; it stays on record as declined.
    event NominationDeclined(uint256 indexed claimId, address indexed nominee);
    /// @notice Emitted when a holder disowns their badge; it stays on record and stops counting.
    event BadgeDisowned(uint256 indexed tokenId, address indexed holder);
    /// @notice Emitted when a member keeps their profile out of public lists, or shows it again.
    event ProfileVisibilityChanged(address indexed member, bool hidden);

    /// @notice Claims a contribution of the caller's own against an active indicator.
    /// @return claimId The new claim's id, which will also be its badge's token id.
    function claim(uint32 indicatorId, bytes32 evidenceHash, string calldata evidenceURI)
        external
        returns (uint256 claimId);

    /// @notice Nominates another member for a contribution that went unseen. The nomination
    /// counts only once the nominee accepts it: attestations may gather before, but no badge
    /// is minted until then. `contributor` may also be an open invitation (see
    /// {IAdmissions-invite}): the nomination is then answered by the account that accepts the
    /// invitation, once it is a member; it cannot be attested before.
    /// @return claimId The new claim's id.
    function nominate(address contributor, uint32 indicatorId, bytes32 evidenceHash, string calldata evidenceURI)
        external
        returns (uint256 claimId);

    /// @notice {claim}, crediting a registered, active organisation (the sponsor, employer or
    /// customer the work was done for).
    function claimWithOrganisation(
        uint32 indicatorId,
        uint32 organisationId,
        bytes32 evidenceHash,
        string calldata evidenceURI
    ) external returns (uint256 claimId);

    /// @notice {nominate}, crediting a registered, active organisation.
    function nominateWithOrganisation(
        address contributor,
        uint32 indicatorId,
        uint32 organisationId,
        bytes32 evidenceHash,
        string calldata evidenceURI
    ) external returns (uint256 claimId);

    /// @notice Attests a claim as a member other than its contributor, once; the attestation that
    /// reaches the indicator's requirement mints the badge to the contributor (for a
    /// nomination, only once the nominee has accepted it).
    /// @dev Reverts with {BadgeNotMember} for a non-member attester, {BadgeSelfAttestation},
    /// {BadgeAlreadyAttested}, {BadgeAlreadyMinted}, {BadgeContributorNotMember} when the
    /// contributor is no longer a member, {BadgeIndicatorChanged}, and
    /// {BadgeNominationDeclined}; under the indicator's fair-play rules also with
    /// {BadgeEndorserNotQualified} (use {attestWith}), {BadgeAttestCapReached},
    /// {BadgeEarnCapReached} (for the minting attestation) and {BadgeReciprocalEndorsement}.
    function attest(uint256 claimId) external;

    /// @notice {attest}, showing `endorserBadgeId`: a counting badge the attester holds of the
    /// indicator the claim's indicator requires of its endorsers (ignored when it requires none).
    function attestWith(uint256 claimId, uint256 endorserBadgeId) external;

    /// @notice Accepts a nomination of the caller; if it already has the attestations its
    /// indicator requires, the badge is minted now.
    /// @dev Reverts with {BadgeNotNominee} unless the caller is the claim's contributor (or the
    /// account that accepted the invitation nominated, which becomes the contributor: {NomineeJoined};
    /// not while the invitation's own address is a member, and {BadgeSelfAttestation} if that
    /// account attested the claim when it was),
    /// {BadgeNotNomination} for a claim of one's own, {BadgeNominationDeclined},
    /// {BadgeNominationAlreadyAccepted}, {BadgeNotMember} when the caller is no longer a
    /// member, and {BadgeIndicatorChanged} when the indicator was amended or retired since.
    function acceptNomination(uint256 claimId) external;

    /// @notice Declines a nomination of the caller: it stays on record as declined, and can no
    /// longer be attested or accepted.
    /// @dev Reverts with {BadgeNotNominee}, {BadgeNotNomination}, {BadgeNominationDeclined}
    /// and {BadgeNominationAlreadyAccepted}.
    function declineNomination(uint256 claimId) external;

    /// @notice Disowns a badge the caller holds: it stops counting for good ({isActive} is
    /// false), and stays on record as disowned. It cannot be undone.
    /// @dev Reverts with {BadgeNotHolder} and {BadgeAlreadyDisowned}.
    function disown(uint256 tokenId) external;

    /// @notice Keeps the caller's profile out of public lists (`hidden` true) or shows it again.
    /// Their badges still count, and the community's own reads still show them.
    /// @dev Members only ({BadgeNotMember}).
    function setProfileHidden(bool hidden) external;

    /// @notice Revokes a badge with a reason: it stays on record and stops counting.
    /// @dev Governance only.
    function revoke(uint256 tokenId, string calldata reason) external;

    /// @notice Moves the listed badges of `lost` to `replacement`, which must already be a member.
    /// @dev Governance only; pair it with {IMembership-recover} in the same proposal, before it.
    function recoverBadges(address lost, address replacement, uint256[] calldata tokenIds) external;

    /// @notice Whether a badge counts now: minted, not revoked, not disowned, and within its
    /// validity period.
    function isActive(uint256 tokenId) external view returns (bool);

    /// @notice A claim by id; reverts with {BadgeUnknownClaim}.
    function getClaim(uint256 claimId) external view returns (Claim memory);

    /// @notice A badge's record by token id; reverts for a token that was not minted.
    function getBadge(uint256 tokenId) external view returns (Claim memory, Badge memory, bytes32 evidenceHash);

    /// @notice Whether `account` attested claim `claimId`.
    function hasAttested(uint256 claimId, address account) external view returns (bool);

    /// @notice The organisation a claim credits; 0 for none.
    function organisationOf(uint256 claimId) external view returns (uint32);

    /// @notice How many claims were filed.
    function claimCount() external view returns (uint256);

    /// @notice Whether `member` keeps their profile out of public lists.
    function profileHidden(address member) external view returns (bool);

    /// @notice Everything a later version carries of one claim, in one call: the claim, its badge
    /// (zero until minted), its evidence hash, the organisation it credits (0 for none) and the
    /// badge's holder (zero until minted).
    function recordOf(uint256 claimId)
        external
        view
        returns (Claim memory record, Badge memory badge, bytes32 evidenceHash, uint32 organisationId, address holder);
}
