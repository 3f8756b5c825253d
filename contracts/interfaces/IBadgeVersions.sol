// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title How a community's records move to a new version of the badge contract
/// @notice A version is deployed naming the one before it (its predecessor) and the same
/// membership, registry, forwarder and owner. The community's vote (through its timelock) names
/// it in the registry ({IIndicatorRegistry-moveRecords}), which every write of a badge contract
/// already reads: from then on the predecessor takes no write, and its reads stay as they are.
/// Anyone then calls {carryOver} on the new version until every claim is carried; each record is
/// read from the predecessor on chain, never taken from calldata, and keeps its id, so none can be
/// left out, added or altered. No new claim is filed until then. What is kept only for checks
/// (caps used, reciprocal windows, hidden profiles, attestations of closed claims) is not copied:
/// the new version reads its predecessor for it.
interface IBadgeVersions {
    /// @notice The community's records moved to `records` (the registry names it): this contract
    /// takes no write any more.
    error BadgeRecordsMoved(address records);
    /// @notice This version is not the one the community uses: its vote never moved the records
    /// to it (`records` is where they are).
    error BadgeVersionNotInUse(address records);
    /// @notice This version is still carrying its predecessor's records over: `carried` claims so
    /// far (of the predecessor's {claimCount}). Anyone may call {carryOver} to finish.
    error BadgeRecordsCarrying(uint256 carried);
    /// @notice The registry does not name this contract (yet), or every record is already carried.
    error BadgeNothingToCarry();
    /// @notice The attesters given for open claim `claimId` are not exactly those who attested it
    /// in the predecessor, in increasing order (0: more lists were given than open claims).
    error BadgeAttestersNotCarried(uint256 claimId);

    /// @notice Emitted for each batch carried over: claims (and their badges) `firstClaimId` to
    /// `lastClaimId`, as the predecessor holds them.
    event RecordsCarried(uint256 firstClaimId, uint256 lastClaimId);

    /// @notice Carries the next `count` claims (fewer at the end) over from the predecessor, in
    /// order of id: each claim with its evidence hash and organisation, and each badge with its
    /// holder, original mint time, weight, validity, orientation and revocation or disowning.
    /// `attesters` lists, for each claim of the batch still open (not minted, not declined), in
    /// order, the addresses that attested it, in increasing order (from its `Attested` events).
    /// @dev Anyone may call it once the registry names this contract ({BadgeNothingToCarry});
    /// {BadgeAttestersNotCarried} when a list is wrong, short or extra.
    function carryOver(uint256 count, address[][] calldata attesters) external;

    /// @notice This contract's version number: 1 for the first.
    function version() external view returns (uint32);

    /// @notice The version this one carries on from; zero for the first.
    function predecessor() external view returns (address);

    /// @notice `member`'s use of a capped indicator in period `period` (fixed windows of the
    /// indicator's cap period from the Unix epoch): badges earned and claims attested.
    function tallyOf(address member, uint32 indicatorId)
        external
        view
        returns (uint32 period, uint16 earned, uint16 attested);

    /// @notice When `attester` last endorsed `contributor` on `indicatorId` while the reciprocal
    /// window was on (a Unix time; 0 for never).
    function lastEndorsed(address attester, address contributor, uint32 indicatorId) external view returns (uint40);
}
