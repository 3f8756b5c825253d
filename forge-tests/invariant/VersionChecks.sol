// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {ContributionBadge} from "../../contracts/ContributionBadge.sol";
import {IBadgeVersions} from "../../contracts/interfaces/IBadgeVersions.sol";
import {IContributionBadge} from "../../contracts/interfaces/IContributionBadge.sol";
import {TestBase} from "../utils/Vm.sol";
import {Versions} from "../utils/Versions.sol";

/// @dev What CommunityInvariants asks of a version that carried a random history over, beside its
/// records: that every write the members and governance may make is answered by it as the version
/// before would have answered it (the same success and return, or the same refusal in the same
/// words), tried each alone and all in turn; that the version left behind takes none of them; and
/// that each badge's metadata is the same but for the version that holds it.
abstract contract VersionChecks is TestBase, Versions {
    /// @dev One write of a badge contract, and who makes it.
    struct Write {
        address sender;
        bytes data;
    }

    /// @dev The outcome on `target` of each of the first `count` writes, as the state is now, each
    /// alone: made in a call that then reverts (cheaper than putting a snapshot back).
    function tryEach(address target, Write[] memory writes, uint256 count) internal returns (bytes[] memory outcomes) {
        outcomes = new bytes[](count);
        for (uint256 i = 0; i < count; ++i) {
            (, outcomes[i]) = address(this).call(abi.encodeCall(this.undoneWrite, (target, writes[i])));
        }
    }

    /// @dev Makes `w` on `target`, then reverts with its outcome, undoing it (for {tryEach} only).
    function undoneWrite(address target, Write calldata w) external {
        (, bytes memory outcome) = _try(target, w);
        assembly ("memory-safe") {
            revert(add(outcome, 32), mload(outcome))
        }
    }

    /// @dev The writes' outcomes on `target` one after another, then, once a day has passed (every
    /// cap period and reciprocal window the history uses ends), all again. The clock is put back.
    function tryInTurn(address target, Write[] memory writes) internal returns (bytes[] memory outcomes) {
        uint256 n = writes.length;
        uint256 start = block.timestamp;
        outcomes = new bytes[](2 * n);
        for (uint256 i = 0; i < 2 * n; ++i) {
            if (i == n) vm.warp(start + 1 days + 1);
            (, outcomes[i]) = _try(target, writes[i % n]);
        }
        vm.warp(start);
    }

    /// @dev The later version answered each write as the first did (`expected`), but in one case:
    /// an attester of a claim closed when it was carried (minted or declined) asks again; their
    /// attestation stayed in the first version, read through by {hasAttested} but not by the check
    /// (`_attested`), so they are refused for the claim's state rather than as its attester.
    function checkSameOutcomes(bytes[] memory got, bytes[] memory expected, Write[] memory writes, string memory how)
        internal
        pure
    {
        for (uint256 i = 0; i < got.length; ++i) {
            if (keccak256(got[i]) == keccak256(expected[i]) || _attestedBefore(expected[i], got[i])) continue;
            Write memory w = writes[i % writes.length];
            fail(
                string.concat(
                    "version 2 answers a write otherwise than version 1 (",
                    how,
                    ", write ",
                    Strings.toString(i),
                    ", selector ",
                    Strings.toHexString(uint32(bytes4(w.data)), 4),
                    " by ",
                    Strings.toHexString(w.sender),
                    "): ",
                    _show(expected[i]),
                    " then ",
                    _show(got[i])
                )
            );
        }
    }

    /// @dev Every write tried alone (`before`: their outcomes before the move) refused by the version
    /// left behind; those it took, for the move alone: BadgeRecordsMoved, naming where the records are.
    function checkSealed(address sealed_, address records, Write[] memory writes, bytes[] memory before) internal {
        bytes memory moved = abi.encodeWithSelector(IBadgeVersions.BadgeRecordsMoved.selector, records);
        for (uint256 i = 0; i < before.length; ++i) {
            (bool ok, bytes memory outcome) = _try(sealed_, writes[i]);
            assertTrue(!ok, "the version left behind took a write");
            if (before[i][0] == 0x01) assertEq(outcome, abi.encodePacked(bytes1(0), moved), "refused, not as moved");
        }
    }

    /// @dev Badge `tokenId`'s metadata in `later` is its metadata in `first`, with its
    /// `records_version` (2) added last.
    function checkSameMetadata(ContributionBadge first, ContributionBadge later, uint256 tokenId) internal view {
        bytes memory before = _json(first.tokenURI(tokenId));
        bytes memory after_ = _json(later.tokenURI(tokenId));
        assertTrue(before.length > 0 && before[before.length - 1] == "}", "metadata is a JSON object");
        assembly ("memory-safe") {
            mstore(before, sub(mload(before), 1)) // without its closing brace
        }
        assertEq(after_, bytes.concat(before, ',"records_version":2}'), "metadata differs but for the version");
    }

    /// @dev The outcome of `w` on `target`: 0x01 then the returned data, or 0x00 then the revert data.
    function _try(address target, Write memory w) private returns (bool ok, bytes memory outcome) {
        vm.prank(w.sender);
        bytes memory returned;
        (ok, returned) = target.call(w.data);
        outcome = abi.encodePacked(ok ? bytes1(0x01) : bytes1(0), returned);
    }

    function _attestedBefore(bytes memory expected, bytes memory got) private pure returns (bool) {
        if (expected.length != 69 || bytes4(_skipFlag(expected)) != IContributionBadge.BadgeAlreadyAttested.selector) {
            return false;
        }
        (uint256 claimId,) = abi.decode(_args(expected), (uint256, address));
        return keccak256(got)
                == keccak256(
                abi.encodePacked(
                bytes1(0), abi.encodeWithSelector(IContributionBadge.BadgeAlreadyMinted.selector, claimId)
            )
            )
            || keccak256(got)
                == keccak256(
                abi.encodePacked(
                bytes1(0), abi.encodeWithSelector(IContributionBadge.BadgeNominationDeclined.selector, claimId)
            )
            );
    }

    /// @dev The decoded JSON of a `data:application/json;base64,` URI.
    function _json(string memory uri) private pure returns (bytes memory) {
        bytes memory prefix = "data:application/json;base64,";
        bytes memory all = bytes(uri);
        bytes memory encoded = new bytes(all.length - prefix.length);
        for (uint256 i = 0; i < encoded.length; ++i) {
            encoded[i] = all[prefix.length + i];
        }
        return Base64.decode(string(encoded));
    }

    function _skipFlag(bytes memory outcome) private pure returns (bytes memory rest) {
        rest = new bytes(outcome.length - 1);
        for (uint256 i = 0; i < rest.length; ++i) {
            rest[i] = outcome[i + 1];
        }
    }

    /// @dev The arguments of a refusal outcome (flag and selector skipped).
    function _args(bytes memory outcome) private pure returns (bytes memory args) {
        args = new bytes(outcome.length - 5);
        for (uint256 i = 0; i < args.length; ++i) {
            args[i] = outcome[i + 5];
        }
    }

    function _show(bytes memory outcome) private pure returns (string memory) {
        if (outcome[0] == 0x01) return "success";
        if (outcome.length < 5) return "a refusal without words";
        return string.concat("refusal ", Strings.toHexString(uint32(bytes4(_skipFlag(outcome))), 4));
    }
}
