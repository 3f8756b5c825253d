// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The community's indicators of value
/// @notice Indicators are defined, amended and retired only by governance. Amending bumps the
/// version; earlier versions stay readable in the {IndicatorDefined} events. Descriptions and
/// category tags live in events only: nothing on-chain reads them.
interface IIndicatorRegistry {
    /// @notice What an indicator values: work on the shared object (code, docs, translations),
    /// or work on the community itself (mentoring, organising, moderating).
    enum Orientation {
        Object,
        Community
    }

    /// @notice The terms a contribution is recorded under; packed in one slot because the badge
    /// contract reads them together on every attestation.
    struct Terms {
        uint32 weight;
        uint16 endorsementsRequired;
        uint32 validity; // seconds a badge counts after minting; 0 = forever
        uint32 version;
        Orientation orientation;
        bool active;
    }

    /// @notice An indicator as governance proposes it.
    struct IndicatorInput {
        string name;
        string descriptionURI;
        string category; // the community's own tag, e.g. "mentoring"
        Orientation orientation;
        uint32 weight;
        uint16 endorsementsRequired;
        uint32 validity;
    }

    /// @notice No indicator has this id.
    error RegistryUnknownIndicator(uint32 indicatorId);
    /// @notice The indicator was retired and can no longer be amended or claimed against.
    error RegistryIndicatorRetired(uint32 indicatorId);
    /// @notice An input field is out of range; `field` names it.
    error RegistryInvalidIndicator(string field);

    /// @notice Emitted for every new version of an indicator (version 1 when it is added).
    event IndicatorDefined(
        uint32 indexed indicatorId,
        uint32 version,
        string name,
        string descriptionURI,
        string category,
        Orientation orientation,
        uint32 weight,
        uint16 endorsementsRequired,
        uint32 validity
    );
    /// @notice Emitted when an indicator is retired at `version`.
    event IndicatorRetired(uint32 indexed indicatorId, uint32 version);

    /// @notice Adds an indicator, active at version 1.
    /// @dev Governance only. The name must be 1-64 bytes, weight at least 1, and at least one
    /// endorsement required.
    /// @return indicatorId The new indicator's id, counting from 1.
    function addIndicator(IndicatorInput calldata input) external returns (uint32 indicatorId);

    /// @notice Replaces an active indicator's definition and bumps its version.
    /// @dev Governance only. Claims filed under the earlier version can no longer be attested.
    function amendIndicator(uint32 indicatorId, IndicatorInput calldata input) external;

    /// @notice Retires an active indicator: no new claims, no more attestations on open claims.
    /// @dev Governance only. Badges already minted keep counting.
    function retireIndicator(uint32 indicatorId) external;

    /// @notice The current terms of an indicator; reverts with {RegistryUnknownIndicator}.
    function terms(uint32 indicatorId) external view returns (Terms memory);

    /// @notice The current name of an indicator; reverts with {RegistryUnknownIndicator}.
    function indicatorName(uint32 indicatorId) external view returns (string memory);

    /// @notice How many indicators were ever added (retired ones included).
    function indicatorCount() external view returns (uint32);
}
