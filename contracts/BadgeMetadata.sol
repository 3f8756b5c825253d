// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {IContributionBadge} from "./interfaces/IContributionBadge.sol";
import {IIndicatorRegistry} from "./interfaces/IIndicatorRegistry.sol";

/// @title Writes a contribution badge's metadata, as an on-chain JSON data URI
/// @notice Pure: the badge contract passes what it holds of a badge, and gets its metadata back.
/// One is deployed with each community factory and shared by its communities; it lives apart from
/// the badge contract so that the badge contract, which its factory's deployer embeds, stays within
/// the contract size limit (EIP-170) with room for later versions.
contract BadgeMetadata {
    using Strings for uint256;

    /// @notice What one badge holds, as its contract passes it.
    struct BadgeView {
        uint256 tokenId;
        IContributionBadge.Claim claim;
        IContributionBadge.Badge badge;
        bytes32 evidenceHash;
        string indicatorName;
        bool active;
        uint32 recordsVersion;
    }

    /// @notice The badge's metadata as a `data:application/json;base64,` URI. A badge held by a
    /// later version of the badge contract says which (`records_version`); the first says nothing.
    function tokenURI(BadgeView calldata badge) external pure returns (string memory) {
        string memory indicator = Strings.escapeJSON(badge.indicatorName);
        string memory json = string.concat(
            '{"name":"',
            indicator,
            " #",
            badge.tokenId.toString(),
            '","indicator":{"id":',
            uint256(badge.claim.indicatorId).toString(),
            ',"version":',
            uint256(badge.claim.indicatorVersion).toString(),
            ',"name":"',
            indicator,
            '","orientation":"',
            badge.badge.orientation == IIndicatorRegistry.Orientation.Community ? "community" : "object",
            '"},"contributor":"',
            Strings.toHexString(badge.claim.contributor),
            _tail(badge)
        );
        return string.concat("data:application/json;base64,", Base64.encode(bytes(json)));
    }

    /// @dev Split from tokenURI to keep each function's stack small.
    function _tail(BadgeView calldata badge) private pure returns (string memory) {
        return string.concat(
            '","weight":',
            uint256(badge.badge.weight).toString(),
            ',"evidence_hash":"',
            Strings.toHexString(uint256(badge.evidenceHash), 32),
            '","minted_at":',
            uint256(badge.badge.mintedAt).toString(),
            ',"valid_for_seconds":',
            uint256(badge.badge.validity).toString(),
            // 0 when never: why a badge stopped counting, beside whether it counts.
            ',"revoked_at":',
            uint256(badge.badge.revokedAt).toString(),
            ',"disowned_at":',
            uint256(badge.badge.disownedAt).toString(),
            ',"active":',
            badge.active ? "true" : "false",
            badge.recordsVersion > 1
                ? string.concat(',"records_version":', uint256(badge.recordsVersion).toString())
                : "",
            "}"
        );
    }
}
