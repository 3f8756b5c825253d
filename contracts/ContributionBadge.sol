// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {BadgeMetadata} from "./BadgeMetadata.sol";
import {SoulboundERC721} from "./SoulboundERC721.sol";
import {IBadgeVersions} from "./interfaces/IBadgeVersions.sol";
import {IContributionBadge} from "./interfaces/IContributionBadge.sol";
import {IIndicatorRegistry} from "./interfaces/IIndicatorRegistry.sol";
import {IMembership} from "./interfaces/IMembership.sol";

/// @title Claims, peer attestations and soulbound contribution badges
/// @dev Storage per recorded contribution: one claim slot, one evidence slot, one attestation
/// flag per attester, and one badge slot at mint. Token id = claim id, so a badge needs no
/// copy of its claim. The owner is the community's timelock. A later version carries these
/// records on ({IBadgeVersions}): it is deployed naming this one, and the community's vote moves
/// the records to it in the registry, which every write already reads.
contract ContributionBadge is SoulboundERC721, ERC2771Context, Ownable, IContributionBadge {
    IMembership public immutable membership;
    IIndicatorRegistry public immutable registry;
    /// @notice Writes each badge's metadata ({tokenURI}): shared by every community of a factory,
    /// and kept out of this contract so that it stays within the contract size limit.
    BadgeMetadata public immutable metadata;

    mapping(uint256 claimId => Claim) private _claims;
    mapping(uint256 claimId => bytes32) private _evidenceHashes;
    mapping(uint256 claimId => mapping(address attester => bool)) private _attested;
    mapping(uint256 tokenId => Badge) private _badges;
    // Claims filed (or carried over) so far; its top bit, `_CARRYING`, is set while the
    // predecessor's claims are still being carried in (no new claim until they all are: ids go
    // on from the predecessor's). One word that a claim reads and writes anyway, so the flag
    // costs a claim nothing.
    uint256 private _claimCount;
    uint256 private constant _CARRYING = 1 << 255;
    // The version these records carry on from (zero for the first): what is kept only for checks
    // (who attested, caps, reciprocal windows, hidden profiles) is read there, never copied.
    IContributionBadge private immutable _predecessor;
    // Written only for claims that credit an organisation.
    mapping(uint256 claimId => uint32) private _organisations;
    // Written only for indicators with a cap: each member's use of it in its current period.
    mapping(address member => mapping(uint32 indicatorId => Tally)) private _tallies;
    // Written only while the reciprocal window is on: when `attester` last endorsed `contributor`.
    mapping(address attester => mapping(address contributor => mapping(uint32 indicatorId => uint40))) private
        _lastEndorsed;

    /// @dev A member's choice of public lists; `Inherited` reads the predecessor's.
    enum Visibility {
        Inherited,
        Shown,
        Hidden
    }

    /// @dev Badges earned and claims attested of one indicator in period number `period`.
    struct Tally {
        uint32 period;
        uint16 earned;
        uint16 attested;
    }

    mapping(address member => Visibility) private _visibility;

    constructor(
        string memory name_,
        string memory symbol_,
        IMembership membership_,
        IIndicatorRegistry registry_,
        address forwarder,
        address governor,
        BadgeMetadata metadata_,
        IContributionBadge predecessor_
    ) ERC721(name_, symbol_) ERC2771Context(forwarder) Ownable(governor) {
        membership = membership_;
        registry = registry_;
        metadata = metadata_;
        _predecessor = predecessor_;
        // A later version takes no write until every record of its predecessor is carried over.
        if (address(predecessor_) != address(0)) _claimCount = _CARRYING;
    }

    // ---------------------------------------------------------------- members

    /// @inheritdoc IContributionBadge
    function claim(uint32 indicatorId, bytes32 evidenceHash, string calldata evidenceURI)
        external
        returns (uint256 claimId)
    {
        address sender = _msgSender();
        return _submitClaim(sender, sender, indicatorId, evidenceHash, evidenceURI);
    }

    /// @inheritdoc IContributionBadge
    function claimWithOrganisation(
        uint32 indicatorId,
        uint32 organisationId,
        bytes32 evidenceHash,
        string calldata evidenceURI
    ) external returns (uint256 claimId) {
        address sender = _msgSender();
        claimId = _submitClaim(sender, sender, indicatorId, evidenceHash, evidenceURI);
        _credit(claimId, organisationId);
    }

    /// @inheritdoc IContributionBadge
    function nominateWithOrganisation(
        address contributor,
        uint32 indicatorId,
        uint32 organisationId,
        bytes32 evidenceHash,
        string calldata evidenceURI
    ) external returns (uint256 claimId) {
        claimId = _submitClaim(_msgSender(), contributor, indicatorId, evidenceHash, evidenceURI);
        _credit(claimId, organisationId);
    }

    /// @inheritdoc IContributionBadge
    function nominate(address contributor, uint32 indicatorId, bytes32 evidenceHash, string calldata evidenceURI)
        external
        returns (uint256 claimId)
    {
        return _submitClaim(_msgSender(), contributor, indicatorId, evidenceHash, evidenceURI);
    }

    /// @inheritdoc IContributionBadge
    function attest(uint256 claimId) external {
        _attest(claimId, 0);
    }

    /// @inheritdoc IContributionBadge
    function attestWith(uint256 claimId, uint256 endorserBadgeId) external {
        _attest(claimId, endorserBadgeId);
    }

    /// @inheritdoc IContributionBadge
    function acceptNomination(uint256 claimId) external {
        address nominee = _msgSender();
        Claim memory record = _pendingNomination(claimId, nominee);
        _requireMember(nominee);
        (IIndicatorRegistry.Terms memory terms, address records) = registry.claimRules(record.indicatorId);
        _requireRecordsHere(records);
        if (!terms.active || terms.version != record.indicatorVersion) {
            revert BadgeIndicatorChanged(claimId, record.indicatorId);
        }
        _claims[claimId].nomination = Nomination.Accepted;
        emit NominationAccepted(claimId, nominee);
        if (record.attestations >= terms.endorsementsRequired) _mintBadge(claimId, record, terms);
    }

    /// @inheritdoc IContributionBadge
    function declineNomination(uint256 claimId) external {
        address nominee = _msgSender();
        _requireRecordsHere(registry.records());
        _pendingNomination(claimId, nominee);
        _claims[claimId].nomination = Nomination.Declined;
        emit NominationDeclined(claimId, nominee);
    }

    /// @inheritdoc IContributionBadge
    function disown(uint256 tokenId) external {
        _requireRecordsHere(registry.records());
        address holder = _msgSender();
        if (_ownerOf(tokenId) != holder) revert BadgeNotHolder(tokenId, holder);
        Badge storage badge = _badges[tokenId];
        if (badge.disownedAt != 0) revert BadgeAlreadyDisowned(tokenId);
        badge.disownedAt = uint40(block.timestamp);
        emit BadgeDisowned(tokenId, holder);
    }

    /// @inheritdoc IContributionBadge
    function setProfileHidden(bool hidden) external {
        _requireRecordsHere(registry.records());
        address member = _msgSender();
        _requireMember(member);
        _visibility[member] = hidden ? Visibility.Hidden : Visibility.Shown;
        emit ProfileVisibilityChanged(member, hidden);
    }

    // ---------------------------------------------------------------- governance

    /// @inheritdoc IContributionBadge
    function revoke(uint256 tokenId, string calldata reason) external onlyOwner {
        _requireRecordsHere(registry.records());
        _requireOwned(tokenId);
        Badge storage badge = _badges[tokenId];
        if (badge.revokedAt != 0) revert BadgeAlreadyRevoked(tokenId);
        badge.revokedAt = uint40(block.timestamp);
        emit BadgeRevoked(tokenId, reason);
    }

    /// @inheritdoc IContributionBadge
    function recoverBadges(address lost, address replacement, uint256[] calldata tokenIds) external onlyOwner {
        _requireRecordsHere(registry.records());
        _requireMember(replacement);
        for (uint256 i = 0; i < tokenIds.length; ++i) {
            if (_ownerOf(tokenIds[i]) != lost) revert BadgeNotHeldBy(tokenIds[i], lost);
            // The one governed move past the soulbound lock (see SoulboundERC721).
            ERC721._update(replacement, tokenIds[i], address(0));
        }
        emit BadgesRecovered(lost, replacement, tokenIds.length);
    }

    // ---------------------------------------------------------------- versions

    /// @inheritdoc IBadgeVersions
    function carryOver(uint256 count, address[][] calldata attesters) external {
        uint256 carried = _claimCount;
        if (carried & _CARRYING == 0 || registry.records() != address(this)) revert BadgeNothingToCarry();
        carried &= ~_CARRYING;
        // Final: the predecessor takes no write once the registry names this contract.
        uint256 total = _predecessor.claimCount();
        uint256 first = carried + 1;
        uint256 last = count < total - carried ? carried + count : total;
        uint256 lists = 0;
        for (uint256 claimId = first; claimId <= last; ++claimId) {
            if (_carry(claimId)) {
                if (lists == attesters.length) revert BadgeAttestersNotCarried(claimId);
                _carryAttesters(claimId, attesters[lists++]);
            }
        }
        if (lists != attesters.length) revert BadgeAttestersNotCarried(0);
        _claimCount = last < total ? last | _CARRYING : last;
        emit RecordsCarried(first, last);
    }

    /// @inheritdoc IBadgeVersions
    function version() public pure virtual returns (uint32) {
        return 1;
    }

    /// @inheritdoc IBadgeVersions
    function predecessor() external view returns (address) {
        return address(_predecessor);
    }

    /// @inheritdoc IContributionBadge
    function recordOf(uint256 claimId)
        external
        view
        returns (Claim memory record, Badge memory badge, bytes32 evidenceHash, uint32 organisationId, address holder)
    {
        record = getClaim(claimId);
        return (record, _badges[claimId], _evidenceHashes[claimId], _organisations[claimId], _ownerOf(claimId));
    }

    /// @inheritdoc IBadgeVersions
    function tallyOf(address member, uint32 indicatorId)
        public
        view
        returns (uint32 period, uint16 earned, uint16 attested)
    {
        Tally memory tally = _tallies[member][indicatorId];
        // Never used here: what the member used of it in the versions before (a stored tally
        // always counts one use at least).
        if (address(_predecessor) != address(0) && tally.earned == 0 && tally.attested == 0) {
            return _predecessor.tallyOf(member, indicatorId);
        }
        return (tally.period, tally.earned, tally.attested);
    }

    /// @inheritdoc IBadgeVersions
    function lastEndorsed(address attester, address contributor, uint32 indicatorId) public view returns (uint40) {
        uint40 endorsedAt = _lastEndorsed[attester][contributor][indicatorId];
        if (endorsedAt == 0 && address(_predecessor) != address(0)) {
            return _predecessor.lastEndorsed(attester, contributor, indicatorId);
        }
        return endorsedAt;
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IContributionBadge
    function isActive(uint256 tokenId) public view returns (bool) {
        if (_ownerOf(tokenId) == address(0)) return false;
        Badge memory badge = _badges[tokenId];
        if (badge.revokedAt != 0 || badge.disownedAt != 0) return false;
        return badge.validity == 0 || block.timestamp < uint256(badge.mintedAt) + badge.validity;
    }

    /// @inheritdoc IContributionBadge
    function getClaim(uint256 claimId) public view returns (Claim memory record) {
        record = _claims[claimId];
        if (record.contributor == address(0)) revert BadgeUnknownClaim(claimId);
    }

    /// @inheritdoc IContributionBadge
    function getBadge(uint256 tokenId) external view returns (Claim memory, Badge memory, bytes32) {
        _requireOwned(tokenId);
        return (_claims[tokenId], _badges[tokenId], _evidenceHashes[tokenId]);
    }

    /// @inheritdoc IContributionBadge
    function hasAttested(uint256 claimId, address account) external view returns (bool) {
        if (_attested[claimId][account]) return true;
        // Attestations of a claim carried over that was no longer open stay where they were made.
        return address(_predecessor) != address(0) && _predecessor.hasAttested(claimId, account);
    }

    /// @inheritdoc IContributionBadge
    function profileHidden(address member) external view returns (bool) {
        Visibility visibility = _visibility[member];
        if (visibility == Visibility.Inherited && address(_predecessor) != address(0)) {
            return _predecessor.profileHidden(member);
        }
        return visibility == Visibility.Hidden;
    }

    /// @inheritdoc IContributionBadge
    function organisationOf(uint256 claimId) external view returns (uint32) {
        getClaim(claimId);
        return _organisations[claimId];
    }

    /// @inheritdoc IContributionBadge
    function claimCount() external view returns (uint256) {
        return _claimCount & ~_CARRYING;
    }

    /// @notice The badge's metadata as an on-chain JSON data URI, written by {metadata}.
    function tokenURI(uint256 tokenId) public view override returns (string memory) {
        _requireOwned(tokenId);
        Claim memory record = _claims[tokenId];
        return metadata.tokenURI(
            BadgeMetadata.BadgeView({
                tokenId: tokenId,
                claim: record,
                badge: _badges[tokenId],
                evidenceHash: _evidenceHashes[tokenId],
                indicatorName: registry.indicatorName(record.indicatorId),
                active: isActive(tokenId),
                recordsVersion: version()
            })
        );
    }

    // ---------------------------------------------------------------- internal

    function _submitClaim(
        address submitter,
        address contributor,
        uint32 indicatorId,
        bytes32 evidenceHash,
        string calldata evidenceURI
    ) private returns (uint256 claimId) {
        uint256 filed = _claimCount;
        if (filed & _CARRYING != 0) revert BadgeRecordsCarrying(filed & ~_CARRYING);
        _requireMember(submitter);
        // A nominee is a member, or a person invited and not yet joined (credit before joining).
        if (submitter != contributor && !membership.isMember(contributor) && !membership.isOpenInvitation(contributor))
        {
            revert BadgeNotMember(contributor);
        }
        if (evidenceHash == bytes32(0)) revert BadgeMissingEvidence();
        (IIndicatorRegistry.Terms memory terms, address records) = registry.claimRules(indicatorId);
        _requireRecordsHere(records);
        if (!terms.active) revert IIndicatorRegistry.RegistryIndicatorRetired(indicatorId);
        // Refused at once rather than after peers spent their attestations on it.
        if (terms.earnCap != 0) _countEarned(contributor, indicatorId, terms, false);

        claimId = filed + 1;
        _claimCount = claimId;
        _claims[claimId] = Claim({
            contributor: contributor,
            indicatorId: indicatorId,
            indicatorVersion: terms.version,
            attestations: 0,
            nomination: submitter == contributor ? Nomination.None : Nomination.Pending
        });
        _evidenceHashes[claimId] = evidenceHash;
        emit ClaimSubmitted(claimId, contributor, indicatorId, terms.version, submitter, evidenceHash, evidenceURI);
    }

    function _attest(uint256 claimId, uint256 endorserBadgeId) private {
        address attester = _msgSender();
        Claim memory record = getClaim(claimId);
        _requireMember(attester);
        if (attester == record.contributor) revert BadgeSelfAttestation(claimId, attester);
        if (_attested[claimId][attester]) revert BadgeAlreadyAttested(claimId, attester);
        if (_ownerOf(claimId) != address(0)) revert BadgeAlreadyMinted(claimId);
        if (record.nomination == Nomination.Declined) revert BadgeNominationDeclined(claimId);
        // Checked on every attestation, not only the minting one: an endorsement of a removed
        // member's claim would otherwise be recorded and count towards a badge if they came back.
        if (!membership.isMember(record.contributor)) revert BadgeContributorNotMember(claimId, record.contributor);
        (IIndicatorRegistry.Terms memory terms, uint32 window, address records) =
            registry.attestationRules(record.indicatorId);
        _requireRecordsHere(records);
        if (!terms.active || terms.version != record.indicatorVersion) {
            revert BadgeIndicatorChanged(claimId, record.indicatorId);
        }
        if (terms.endorserIndicatorId != 0) _requireEndorser(claimId, attester, terms, endorserBadgeId);
        if (terms.attestCap != 0) _countAttested(attester, record.indicatorId, terms);
        if (window != 0) _checkReciprocity(claimId, attester, record, window);

        _attested[claimId][attester] = true;
        uint16 attestations = record.attestations + 1;
        _claims[claimId].attestations = attestations;
        emit Attested(claimId, attester, attestations);

        // A pending nomination gathers attestations; its badge waits for the nominee's consent.
        if (attestations >= terms.endorsementsRequired && record.nomination != Nomination.Pending) {
            _mintBadge(claimId, record, terms);
        }
    }

    /// @dev Reverts unless `badgeId` is a counting badge of the required indicator held by `attester`.
    function _requireEndorser(uint256 claimId, address attester, IIndicatorRegistry.Terms memory terms, uint256 badgeId)
        private
        view
    {
        if (
            _ownerOf(badgeId) != attester || _claims[badgeId].indicatorId != terms.endorserIndicatorId
                || !isActive(badgeId)
        ) {
            revert BadgeEndorserNotQualified(claimId, attester, terms.endorserIndicatorId, badgeId);
        }
    }

    /// @dev Refuses an attestation of a contributor who endorsed the attester on the same
    /// indicator within `window` seconds, and records this one while the rule is on.
    function _checkReciprocity(uint256 claimId, address attester, Claim memory record, uint32 window) private {
        uint256 until = uint256(lastEndorsed(record.contributor, attester, record.indicatorId)) + window;
        if (until > window && block.timestamp < until) {
            revert BadgeReciprocalEndorsement(claimId, attester, record.contributor, until);
        }
        _lastEndorsed[attester][record.contributor][record.indicatorId] = uint40(block.timestamp);
    }

    /// @dev Reverts if `member` already earned the indicator's cap this period; counts one more
    /// badge when `count` (at mint), or only checks (when the claim is filed).
    function _countEarned(address member, uint32 indicatorId, IIndicatorRegistry.Terms memory terms, bool count)
        private
    {
        (Tally memory tally, uint256 periodEnds) = _currentTally(member, indicatorId, terms);
        if (tally.earned >= terms.earnCap) revert BadgeEarnCapReached(member, indicatorId, terms.earnCap, periodEnds);
        if (count) {
            ++tally.earned;
            _tallies[member][indicatorId] = tally;
        }
    }

    /// @dev Reverts if `member` already attested the indicator's cap this period; else counts one more.
    function _countAttested(address member, uint32 indicatorId, IIndicatorRegistry.Terms memory terms) private {
        (Tally memory tally, uint256 periodEnds) = _currentTally(member, indicatorId, terms);
        if (tally.attested >= terms.attestCap) {
            revert BadgeAttestCapReached(member, indicatorId, terms.attestCap, periodEnds);
        }
        ++tally.attested;
        _tallies[member][indicatorId] = tally;
    }

    /// @dev `member`'s tally of a capped indicator in the current period (fixed windows of
    /// `capPeriod` seconds from the Unix epoch), and when the period ends.
    function _currentTally(address member, uint32 indicatorId, IIndicatorRegistry.Terms memory terms)
        private
        view
        returns (Tally memory tally, uint256 periodEnds)
    {
        uint32 period = uint32(block.timestamp / terms.capPeriod);
        (tally.period, tally.earned, tally.attested) = tallyOf(member, indicatorId);
        if (tally.period != period) tally = Tally({period: period, earned: 0, attested: 0});
        periodEnds = (uint256(period) + 1) * terms.capPeriod;
    }

    function _credit(uint256 claimId, uint32 organisationId) private {
        registry.requireActiveOrganisation(organisationId);
        _organisations[claimId] = organisationId;
        emit ClaimCredited(claimId, organisationId);
    }

    function _mintBadge(uint256 claimId, Claim memory record, IIndicatorRegistry.Terms memory terms) private {
        if (terms.earnCap != 0) _countEarned(record.contributor, record.indicatorId, terms, true);
        _badges[claimId] = Badge({
            weight: terms.weight,
            validity: terms.validity,
            mintedAt: uint40(block.timestamp),
            revokedAt: 0,
            orientation: terms.orientation,
            disownedAt: 0
        });
        _mint(record.contributor, claimId);
        emit BadgeMinted(claimId, record.contributor, record.indicatorId, terms.weight);
    }

    /// @dev The claim, if `account` may still answer it as its nominee. A nomination made to an
    /// invitation that `account` accepted becomes theirs here.
    function _pendingNomination(uint256 claimId, address account) private returns (Claim memory record) {
        record = getClaim(claimId);
        address invitation = record.contributor;
        // Only while the invitation's own address is no member: once it is, its claims are its own.
        bool joined = invitation != account && membership.invitationOf(invitation).account == account
            && !membership.isMember(invitation);
        if (invitation != account && !joined) revert BadgeNotNominee(claimId, account);
        // Attested while the invitation's address was a member, it would be a badge of one's own.
        if (joined && _attested[claimId][account]) revert BadgeSelfAttestation(claimId, account);
        if (record.nomination == Nomination.None) revert BadgeNotNomination(claimId);
        if (record.nomination == Nomination.Declined) revert BadgeNominationDeclined(claimId);
        if (record.nomination == Nomination.Accepted) revert BadgeNominationAlreadyAccepted(claimId);
        if (joined) {
            _claims[claimId].contributor = account;
            record.contributor = account;
            emit NomineeJoined(claimId, invitation, account);
        }
    }

    /// @dev Reverts unless the registry's `records` (where the community records now) is this
    /// contract: zero, for a first version never moved, means here too.
    function _requireRecordsHere(address records) private view {
        if (records == address(this) || (records == address(0) && address(_predecessor) == address(0))) return;
        // Never adopted: its predecessor's records were never moved to it.
        if (_claimCount == _CARRYING) revert BadgeVersionNotInUse(records);
        revert BadgeRecordsMoved(records);
    }

    /// @dev Copies one claim, and its badge if minted, from the predecessor as it holds them;
    /// whether it is still open (not minted, not declined), so its attesters come with it.
    function _carry(uint256 claimId) private returns (bool open) {
        (Claim memory record, Badge memory badge, bytes32 evidenceHash, uint32 organisationId, address holder) =
            _predecessor.recordOf(claimId);
        _claims[claimId] = record;
        _evidenceHashes[claimId] = evidenceHash;
        if (organisationId != 0) _organisations[claimId] = organisationId;
        if (holder != address(0)) {
            _badges[claimId] = badge;
            _mint(holder, claimId);
            return false;
        }
        return record.nomination != Nomination.Declined;
    }

    /// @dev Records an open claim's attesters, listed in increasing order by whoever carries it
    /// over: every one must have attested it in the predecessor, and all of them be listed.
    function _carryAttesters(uint256 claimId, address[] calldata attesters) private {
        if (attesters.length != _claims[claimId].attestations) revert BadgeAttestersNotCarried(claimId);
        address previous = address(0);
        for (uint256 i = 0; i < attesters.length; ++i) {
            address attester = attesters[i];
            if (attester <= previous || !_predecessor.hasAttested(claimId, attester)) {
                revert BadgeAttestersNotCarried(claimId);
            }
            _attested[claimId][attester] = true;
            previous = attester;
        }
    }

    function _requireMember(address account) private view {
        if (!membership.isMember(account)) revert BadgeNotMember(account);
    }

    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}
