// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IBadgeVersions} from "./interfaces/IBadgeVersions.sol";
import {IIndicatorRegistry} from "./interfaces/IIndicatorRegistry.sol";

/// @title The community's indicators of value, organisations and fair-play rules, changed only
/// by its Governor
contract IndicatorRegistry is Ownable, IIndicatorRegistry {
    uint256 private constant _MAX_NAME_BYTES = 64;
    uint256 private constant _MAX_IDENTIFIER_BYTES = 256;
    uint32 private constant _MAX_RECIPROCAL_WINDOW = 365 days;
    uint256 private constant _MAX_CAPTURE_RULES = 16_384;

    mapping(uint32 indicatorId => Terms) private _terms;
    // Stored because tokenURI shows it; descriptions and categories are in events only.
    mapping(uint32 indicatorId => string) private _names;
    mapping(uint32 organisationId => bool) private _organisationRetired;
    // One slot: every write of the badge contract reads the count (bounds check), and with it
    // where the records are (so moving them costs no write anything more) and the window.
    uint32 private _indicatorCount;
    /// @inheritdoc IIndicatorRegistry
    uint32 public reciprocalWindow;
    /// @inheritdoc IIndicatorRegistry
    ScoreRule public scoreRule;
    /// @inheritdoc IIndicatorRegistry
    address public records;
    /// @inheritdoc IIndicatorRegistry
    bytes32 public captureRulesDigest;
    /// @inheritdoc IIndicatorRegistry
    uint32 public organisationCount;

    constructor(address governor) Ownable(governor) {}

    /// @inheritdoc IIndicatorRegistry
    function addIndicator(IndicatorInput calldata input) external onlyOwner returns (uint32 indicatorId) {
        indicatorId = ++_indicatorCount;
        _define(indicatorId, 1, input);
    }

    /// @inheritdoc IIndicatorRegistry
    function amendIndicator(uint32 indicatorId, IndicatorInput calldata input) external onlyOwner {
        Terms memory current = _activeTerms(indicatorId);
        _define(indicatorId, current.version + 1, input);
    }

    /// @inheritdoc IIndicatorRegistry
    function retireIndicator(uint32 indicatorId) external onlyOwner {
        Terms memory current = _activeTerms(indicatorId);
        _terms[indicatorId].active = false;
        emit IndicatorRetired(indicatorId, current.version);
    }

    /// @inheritdoc IIndicatorRegistry
    function terms(uint32 indicatorId) public view returns (Terms memory) {
        if (indicatorId == 0 || indicatorId > _indicatorCount) revert RegistryUnknownIndicator(indicatorId);
        return _terms[indicatorId];
    }

    /// @inheritdoc IIndicatorRegistry
    function indicatorName(uint32 indicatorId) external view returns (string memory) {
        terms(indicatorId);
        return _names[indicatorId];
    }

    /// @inheritdoc IIndicatorRegistry
    function indicatorCount() external view returns (uint32) {
        return _indicatorCount;
    }

    /// @inheritdoc IIndicatorRegistry
    function attestationRules(uint32 indicatorId) external view returns (Terms memory, uint32, address) {
        return (terms(indicatorId), reciprocalWindow, records);
    }

    /// @inheritdoc IIndicatorRegistry
    function claimRules(uint32 indicatorId) external view returns (Terms memory, address) {
        return (terms(indicatorId), records);
    }

    /// @inheritdoc IIndicatorRegistry
    function moveRecords(address from, address to) external onlyOwner {
        address current = records;
        if (current != address(0) && current != from) revert RegistryNotSuccessor(from, to);
        // A version that names `from`, under these rules and the same owner (which code it runs is
        // the vote's choice: the service shows whether it is a known version), from a version that
        // holds every record of its own predecessor (none is left behind). Each is asked without
        // trusting it to answer: what is no badge contract is refused in words.
        uint256 fromCount = _answer(from, IContributionBadgeParts.claimCount.selector);
        address fromPredecessor = address(uint160(_answer(from, IBadgeVersions.predecessor.selector)));
        if (
            address(uint160(_answer(to, IBadgeVersions.predecessor.selector))) != from
                || address(uint160(_answer(to, IContributionBadgeParts.registry.selector))) != address(this)
                || address(uint160(_answer(from, IContributionBadgeParts.registry.selector))) != address(this)
                || address(uint160(_answer(to, IContributionBadgeParts.owner.selector))) != owner()
                || (fromPredecessor != address(0)
                    && fromCount < _answer(fromPredecessor, IContributionBadgeParts.claimCount.selector))
        ) {
            revert RegistryNotSuccessor(from, to);
        }
        records = to;
        emit RecordsMoved(from, to, fromCount);
    }

    /// @dev A view's one-word answer from `target` (type(uint256).max when it has no code, reverts,
    /// or answers something else), asked in a static call: never trusted to answer.
    function _answer(address target, bytes4 selector) private view returns (uint256) {
        if (target.code.length == 0) return type(uint256).max;
        (bool ok, bytes memory answer) = target.staticcall(abi.encodeWithSelector(selector));
        if (!ok || answer.length != 32) return type(uint256).max;
        return abi.decode(answer, (uint256));
    }

    /// @inheritdoc IIndicatorRegistry
    function addOrganisation(string calldata name, string calldata identifier)
        external
        onlyOwner
        returns (uint32 organisationId)
    {
        uint256 nameLength = bytes(name).length;
        if (nameLength == 0 || nameLength > _MAX_NAME_BYTES) revert RegistryInvalidOrganisation("name");
        if (bytes(identifier).length > _MAX_IDENTIFIER_BYTES) revert RegistryInvalidOrganisation("identifier");
        organisationId = ++organisationCount;
        emit OrganisationAdded(organisationId, name, identifier);
    }

    /// @inheritdoc IIndicatorRegistry
    function retireOrganisation(uint32 organisationId) external onlyOwner {
        requireActiveOrganisation(organisationId);
        _organisationRetired[organisationId] = true;
        emit OrganisationRetired(organisationId);
    }

    /// @inheritdoc IIndicatorRegistry
    function requireActiveOrganisation(uint32 organisationId) public view {
        if (organisationId == 0 || organisationId > organisationCount) {
            revert RegistryUnknownOrganisation(organisationId);
        }
        if (_organisationRetired[organisationId]) revert RegistryOrganisationRetired(organisationId);
    }

    /// @inheritdoc IIndicatorRegistry
    function setCommunityRules(uint32 reciprocalWindow_, ScoreRule scoreRule_) external onlyOwner {
        if (reciprocalWindow_ > _MAX_RECIPROCAL_WINDOW) {
            revert RegistryReciprocalWindowTooLong(reciprocalWindow_, _MAX_RECIPROCAL_WINDOW);
        }
        reciprocalWindow = reciprocalWindow_;
        scoreRule = scoreRule_;
        emit CommunityRulesSet(reciprocalWindow_, scoreRule_);
    }

    /// @inheritdoc IIndicatorRegistry
    function setCaptureRules(string calldata rules) external onlyOwner {
        if (bytes(rules).length > _MAX_CAPTURE_RULES) {
            revert RegistryCaptureRulesTooLong(bytes(rules).length, _MAX_CAPTURE_RULES);
        }
        bytes32 digest = keccak256(bytes(rules));
        captureRulesDigest = digest;
        emit CaptureRulesSet(digest, rules);
    }

    function _activeTerms(uint32 indicatorId) private view returns (Terms memory current) {
        current = terms(indicatorId);
        if (!current.active) revert RegistryIndicatorRetired(indicatorId);
    }

    function _define(uint32 indicatorId, uint32 version, IndicatorInput calldata input) private {
        uint256 nameLength = bytes(input.name).length;
        if (nameLength == 0 || nameLength > _MAX_NAME_BYTES) revert RegistryInvalidIndicator("name");
        if (input.weight == 0) revert RegistryInvalidIndicator("weight");
        if (input.endorsementsRequired == 0) revert RegistryInvalidIndicator("endorsementsRequired");
        // An indicator cannot gate itself: its first badge could never be endorsed.
        if (input.endorserIndicatorId == indicatorId || input.endorserIndicatorId > _indicatorCount) {
            revert RegistryInvalidIndicator("endorserIndicatorId");
        }
        bool capped = input.earnCap != 0 || input.attestCap != 0;
        if (capped != (input.capPeriod != 0)) revert RegistryInvalidIndicator("capPeriod");

        _terms[indicatorId] = Terms({
            weight: input.weight,
            endorsementsRequired: input.endorsementsRequired,
            validity: input.validity,
            version: version,
            orientation: input.orientation,
            active: true,
            endorserIndicatorId: input.endorserIndicatorId,
            earnCap: input.earnCap,
            attestCap: input.attestCap,
            capPeriod: input.capPeriod
        });
        _names[indicatorId] = input.name;
        emit IndicatorDefined(
            indicatorId,
            version,
            input.name,
            input.descriptionURI,
            input.category,
            input.orientation,
            input.weight,
            input.endorsementsRequired,
            input.validity
        );
        emit IndicatorRulesDefined(
            indicatorId, version, input.endorserIndicatorId, input.earnCap, input.attestCap, input.capPeriod
        );
    }
}

/// @dev What {IndicatorRegistry-moveRecords} asks of the two versions beside {IBadgeVersions}.
interface IContributionBadgeParts {
    function registry() external view returns (IIndicatorRegistry);
    function owner() external view returns (address);
    function claimCount() external view returns (uint256);
}
