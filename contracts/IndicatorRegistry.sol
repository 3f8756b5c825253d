// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IIndicatorRegistry} from "./interfaces/IIndicatorRegistry.sol";

/// @title The community's indicators of value, changed only by its Governor
contract IndicatorRegistry is Ownable, IIndicatorRegistry {
    uint256 private constant _MAX_NAME_BYTES = 64;

    mapping(uint32 indicatorId => Terms) private _terms;
    // Stored because tokenURI shows it; descriptions and categories are in events only.
    mapping(uint32 indicatorId => string) private _names;
    uint32 private _indicatorCount;

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

    function _activeTerms(uint32 indicatorId) private view returns (Terms memory current) {
        current = terms(indicatorId);
        if (!current.active) revert RegistryIndicatorRetired(indicatorId);
    }

    function _define(uint32 indicatorId, uint32 version, IndicatorInput calldata input) private {
        uint256 nameLength = bytes(input.name).length;
        if (nameLength == 0 || nameLength > _MAX_NAME_BYTES) revert RegistryInvalidIndicator("name");
        if (input.weight == 0) revert RegistryInvalidIndicator("weight");
        if (input.endorsementsRequired == 0) revert RegistryInvalidIndicator("endorsementsRequired");

        _terms[indicatorId] = Terms({
            weight: input.weight,
            endorsementsRequired: input.endorsementsRequired,
            validity: input.validity,
            version: version,
            orientation: input.orientation,
            active: true
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
    }
}
