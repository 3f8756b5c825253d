// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IMemberDirectory} from "./IMemberDirectory.sol";
import {IAdmissions} from "./IAdmissions.sol";

/// @title Community membership: one soulbound token, one vote, per member
/// @notice A member's token id is their address as a number, so membership needs no index.
/// Admission, removal and recovery are governance-only; founders are minted at deployment.
/// There is always at least one member: deployment needs a founder and the last member cannot
/// be removed. Governance may also let members admit by vouching and invite ({IAdmissions}), and
/// members name themselves ({IMemberDirectory}).
interface IMembership is IMemberDirectory, IAdmissions {
    /// @notice `account` already holds a membership.
    error MembershipAlreadyMember(address account);
    /// @notice `account` is not a member.
    error MembershipNotMember(address account);
    /// @notice Votes can only be delegated to a member.
    error MembershipInvalidDelegate(address delegatee);
    /// @notice `account` is the last member: removing them would leave nobody to propose or vote,
    /// so governance could never act again. The community always keeps at least one member.
    error MembershipLastMember(address account);
    /// @notice A community is founded by at least one member.
    error MembershipNoFounders();

    /// @notice Emitted when `account` becomes a member (founders included).
    event MemberAdmitted(address indexed account);
    /// @notice Emitted when `account` stops being a member.
    event MemberRemoved(address indexed account);
    /// @notice Emitted when a member's lost address is replaced by a new one.
    event MembershipRecovered(address indexed lost, address indexed replacement);

    /// @notice Admits `account` as a member; it self-delegates its vote at once.
    /// @dev Governance only. Reverts with {MembershipAlreadyMember} for an existing member.
    function admit(address account) external;

    /// @notice Removes `account` from the community; its vote stops counting from now on.
    /// @dev Governance only. Reverts with {MembershipNotMember} for a non-member and with
    /// {MembershipLastMember} for the only member left: the member count never reaches zero.
    function remove(address account) external;

    /// @notice Moves the membership of `lost` (a lost key) to `replacement`.
    /// @dev Governance only. Votes delegated to `lost` by others stay with `lost` until re-delegated.
    /// Reverts with {MembershipNotMember} if `lost` is not a member and {MembershipAlreadyMember} if
    /// `replacement` is; the member count does not change.
    function recover(address lost, address replacement) external;

    /// @notice Whether `account` is a member now.
    function isMember(address account) external view returns (bool);

    /// @notice How many members the community has now.
    function memberCount() external view returns (uint256);
}
