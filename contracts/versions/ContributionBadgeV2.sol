// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {BadgeMetadata} from "../BadgeMetadata.sol";
import {ContributionBadge} from "../ContributionBadge.sol";
import {IContributionBadge} from "../interfaces/IContributionBadge.sol";
import {IIndicatorRegistry} from "../interfaces/IIndicatorRegistry.sol";
import {IMembership} from "../interfaces/IMembership.sol";

/// @title Version 2 of the badge contract: the first to carry a community's records on
/// @notice It differs from version 1 in what a member sees: each badge's metadata says which
/// version of the records holds it, and the service shows the version in use. It is deployed
/// naming the version in use (scripts/deploy_version.py) and takes writes once the community's
/// vote moved the records to it and every claim is carried over ({IBadgeVersions}).
contract ContributionBadgeV2 is ContributionBadge {
    constructor(
        string memory name_,
        string memory symbol_,
        IMembership membership_,
        IIndicatorRegistry registry_,
        address forwarder,
        address governor,
        BadgeMetadata metadata_,
        IContributionBadge predecessor_
    ) ContributionBadge(name_, symbol_, membership_, registry_, forwarder, governor, metadata_, predecessor_) {}

    /// @inheritdoc ContributionBadge
    function version() public pure override returns (uint32) {
        return 2;
    }
}
