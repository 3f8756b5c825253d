// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorCountingSimple} from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import {GovernorVotes} from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {GovernorVotesQuorumFraction} from
    "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {IMembership} from "./interfaces/IMembership.sol";

/// @title The community's governor: members propose and vote; it alone changes the rules
/// @notice OpenZeppelin's Governor with for/against/abstain counting, a quorum as a fraction of
/// members, and a timestamp clock. Only current members propose and vote; a vote weighs what the
/// voter held (own vote plus delegations) at the proposal's snapshot.
/// @dev The Governor executes its own proposals (no timelock) and owns Membership,
/// IndicatorRegistry and ContributionBadge.
contract CommunityGovernor is
    Governor,
    GovernorSettings,
    GovernorCountingSimple,
    GovernorVotes,
    GovernorVotesQuorumFraction,
    ERC2771Context
{
    /// @notice Only current members can propose or vote.
    error GovernorNotMember(address account);
    /// @notice `account` held no votes at the proposal's snapshot (admitted after it, or delegated away).
    error GovernorNoVotingPower(address account, uint256 proposalId);

    IMembership private immutable _membership;

    constructor(
        string memory name_,
        IVotes membership,
        address forwarder,
        uint48 votingDelay_,
        uint32 votingPeriod_,
        uint256 proposalThreshold_,
        uint256 quorumPercent
    )
        Governor(name_)
        GovernorSettings(votingDelay_, votingPeriod_, proposalThreshold_)
        GovernorVotes(membership)
        GovernorVotesQuorumFraction(quorumPercent)
        ERC2771Context(forwarder)
    {
        _membership = IMembership(address(membership));
    }

    /// @notice Creates a proposal; the caller must be a member (and meet the proposal threshold).
    function propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description
    ) public override returns (uint256) {
        _requireMember(_msgSender());
        return super.propose(targets, values, calldatas, description);
    }

    /// @inheritdoc Governor
    function votingDelay() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingDelay();
    }

    /// @inheritdoc Governor
    function votingPeriod() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingPeriod();
    }

    /// @inheritdoc Governor
    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    /// @inheritdoc Governor
    function quorum(uint256 timepoint) public view override(Governor, GovernorVotesQuorumFraction) returns (uint256) {
        return super.quorum(timepoint);
    }

    function _castVote(uint256 proposalId, address account, uint8 support, string memory reason, bytes memory params)
        internal
        override
        returns (uint256)
    {
        _requireMember(account);
        return super._castVote(proposalId, account, support, reason, params);
    }

    /// @dev A vote of zero weight would still mark the voter as having voted: refuse it instead.
    function _countVote(uint256 proposalId, address account, uint8 support, uint256 totalWeight, bytes memory params)
        internal
        override(Governor, GovernorCountingSimple)
        returns (uint256)
    {
        if (totalWeight == 0) revert GovernorNoVotingPower(account, proposalId);
        return super._countVote(proposalId, account, support, totalWeight, params);
    }

    function _requireMember(address account) private view {
        if (!_membership.isMember(account)) revert GovernorNotMember(account);
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
