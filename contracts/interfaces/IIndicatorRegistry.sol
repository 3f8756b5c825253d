// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The community's indicators of value, the organisations it credits, and its fair-play rules
/// @notice Indicators are defined, amended and retired only by governance. Amending bumps the
/// version; earlier versions stay readable in the {IndicatorDefined} events. Descriptions and
/// category tags live in events only: nothing on-chain reads them. Each indicator may also say
/// who may endorse it and cap how much one member earns and attests of it per period; the
/// community as a whole sets a reciprocal-endorsement window and how scores add up.
interface IIndicatorRegistry {
    /// @notice What an indicator values: work on the shared object (code, docs, translations),
    /// or work on the community itself (mentoring, organising, moderating).
    enum Orientation {
        Object,
        Community
    }

    /// @notice How a member's score adds up over badges of one indicator: `Linear` sums their
    /// weights; `SquareRoot` gives n badges the mean weight times the square root of n, so the
    /// hundredth badge of one kind adds far less than the first.
    enum ScoreRule {
        Linear,
        SquareRoot
    }

    /// @notice The terms a contribution is recorded under, the indicator's fair-play rules
    /// included; packed in one slot because the badge contract reads them together on every
    /// attestation (so the rules cost no storage read when they are off).
    struct Terms {
        uint32 weight;
        uint16 endorsementsRequired;
        uint32 validity; // seconds a badge counts after minting; 0 = forever
        uint32 version;
        Orientation orientation;
        bool active;
        uint32 endorserIndicatorId; // attesters must hold a counting badge of it; 0 = anyone
        uint16 earnCap; // badges one member may earn of it per period; 0 = no cap
        uint16 attestCap; // claims one member may attest of it per period; 0 = no cap
        uint32 capPeriod; // seconds in a cap period; set when either cap is
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
        uint32 endorserIndicatorId;
        uint16 earnCap;
        uint16 attestCap;
        uint32 capPeriod;
    }

    /// @notice No indicator has this id.
    error RegistryUnknownIndicator(uint32 indicatorId);
    /// @notice The indicator was retired and can no longer be amended or claimed against.
    error RegistryIndicatorRetired(uint32 indicatorId);
    /// @notice An input field is out of range; `field` names it.
    error RegistryInvalidIndicator(string field);
    /// @notice No organisation has this id.
    error RegistryUnknownOrganisation(uint32 organisationId);
    /// @notice The organisation was retired: new claims cannot name it.
    error RegistryOrganisationRetired(uint32 organisationId);
    /// @notice An organisation's name must be 1-64 bytes and its identifier at most 256.
    error RegistryInvalidOrganisation(string field);
    /// @notice The reciprocal-endorsement window may be at most 365 days.
    error RegistryReciprocalWindowTooLong(uint32 seconds_, uint32 max);
    /// @notice The capture rules are `length` bytes, over the `max` the registry takes.
    error RegistryCaptureRulesTooLong(uint256 length, uint256 max);
    /// @notice The records cannot move from `from` to `to`: they are not at `from` now, or `to` is
    /// not a later version of it under this registry and its owner.
    error RegistryNotSuccessor(address from, address to);

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
    /// @notice Emitted beside every {IndicatorDefined}: the version's fair-play rules.
    event IndicatorRulesDefined(
        uint32 indexed indicatorId,
        uint32 version,
        uint32 endorserIndicatorId,
        uint16 earnCap,
        uint16 attestCap,
        uint32 capPeriod
    );
    /// @notice Emitted when an indicator is retired at `version`.
    event IndicatorRetired(uint32 indexed indicatorId, uint32 version);
    /// @notice Emitted when governance registers an organisation that claims may credit.
    /// `identifier` is its address, domain or other identifier, as the community knows it.
    event OrganisationAdded(uint32 indexed organisationId, string name, string identifier);
    /// @notice Emitted when governance retires an organisation: new claims cannot name it.
    event OrganisationRetired(uint32 indexed organisationId);
    /// @notice Emitted when governance sets the community-wide fair-play rules.
    event CommunityRulesSet(uint32 reciprocalWindow, ScoreRule scoreRule);
    /// @notice Emitted when governance sets the capture rules: how work done elsewhere (a merged
    /// pull request, a forum topic) becomes a draft a member may sign. `rules` is a JSON document
    /// the service reads; `digest` is its keccak256, also kept in {captureRulesDigest}.
    event CaptureRulesSet(bytes32 indexed digest, string rules);
    /// @notice Emitted when the community's vote moves its records from one version of the badge
    /// contract to the next; `from` held `claimCount` claims, which `to` carries over.
    event RecordsMoved(address indexed from, address indexed to, uint256 claimCount);

    /// @notice Adds an indicator, active at version 1.
    /// @dev Governance only. The name must be 1-64 bytes, weight at least 1, and at least one
    /// endorsement required. An endorser indicator must exist and be another indicator; a cap
    /// needs a cap period, and a cap period needs a cap.
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

    /// @notice An indicator's current terms, the community's reciprocal-endorsement window and
    /// where its records are ({records}), in one call: what the badge contract checks an
    /// attestation against.
    function attestationRules(uint32 indicatorId)
        external
        view
        returns (Terms memory, uint32 reciprocalWindow, address currentRecords);

    /// @notice An indicator's current terms and where the community's records are ({records}), in
    /// one call: what the badge contract checks a claim, and the acceptance of a nomination, against.
    function claimRules(uint32 indicatorId) external view returns (Terms memory, address currentRecords);

    /// @notice The badge contract that holds the community's records now, once they were moved
    /// to a later version ({moveRecords}); zero while the first version holds them. Every write
    /// of a badge contract other than this one is refused.
    function records() external view returns (address);

    /// @notice Moves the community's records from version `from` of the badge contract to `to`,
    /// which names `from` as its predecessor and shares this registry and its owner: `from` takes
    /// no write from now on, and anyone carries its records over to `to`
    /// ({IBadgeVersions-carryOver}). Governance only; {RegistryNotSuccessor} otherwise, and when
    /// the records are not at `from` now.
    function moveRecords(address from, address to) external;

    /// @notice Registers an organisation (a sponsor, employer or customer) that claims may
    /// credit. Governance only; the name must be 1-64 bytes, the identifier at most 256.
    /// @return organisationId Its id, counting from 1.
    function addOrganisation(string calldata name, string calldata identifier) external returns (uint32 organisationId);

    /// @notice Retires an organisation: claims already crediting it keep doing so; new ones cannot.
    /// @dev Governance only.
    function retireOrganisation(uint32 organisationId) external;

    /// @notice Reverts unless `organisationId` names a registered organisation not retired.
    function requireActiveOrganisation(uint32 organisationId) external view;

    /// @notice How many organisations were ever registered (retired ones included).
    function organisationCount() external view returns (uint32);

    /// @notice Sets the community-wide fair-play rules: if A attested a claim of B, B may not
    /// attest a claim of A on the same indicator within `reciprocalWindow` seconds (0 turns the
    /// rule off; it sees attestations made while it is on); and how scores add up.
    /// @dev Governance only; the window is at most 365 days.
    function setCommunityRules(uint32 reciprocalWindow, ScoreRule scoreRule) external;

    /// @notice Sets the community's capture rules (see {CaptureRulesSet}); the empty document turns
    /// capture off. They are kept in the event only, their digest in storage, so that anyone can
    /// check the rules a service applies against the chain.
    /// @dev Governance only; at most 16,384 bytes.
    function setCaptureRules(string calldata rules) external;

    /// @notice The keccak256 of the capture rules in force (zero: none were ever set).
    function captureRulesDigest() external view returns (bytes32);

    /// @notice The reciprocal-endorsement window in seconds (0 = off).
    function reciprocalWindow() external view returns (uint32);

    /// @notice How scores add up over badges of one indicator.
    function scoreRule() external view returns (ScoreRule);
}
