// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title The community's timelock: a passed proposal waits here before it runs
/// @notice OpenZeppelin's TimelockController with its delay kept within bounds. It owns the
/// community's rules (Membership, IndicatorRegistry, ContributionBadge) and carries out what the
/// governor queued once the delay has passed. Anyone may execute a ready operation; only the
/// governor proposes and cancels; the timelock administers itself (no admin once deployed).
/// @dev Between a passed vote and its effect, members see what is coming and a guardian elected
/// by governance may cancel it (CommunityGovernor). The delay is changed only by the timelock
/// itself, that is by a proposal that waited the current delay.
contract CommunityTimelock is TimelockController {
    /// @notice A delay outside the bounds that keep the timelock both useful and governable.
    error TimelockDelayOutOfRange(uint256 value, uint256 min, uint256 max);
    /// @notice Revoking or renouncing `role` from `account` would leave nobody to propose, cancel or
    /// execute, or take the timelock's administration of itself away: governance would stop for good.
    error TimelockRoleRequired(bytes32 role, address account);

    /// @notice Shortest delay on a public network: 1 hour, time for members to see a passed
    /// proposal and for the guardian to cancel it.
    uint256 public constant MIN_DELAY = 1 hours;
    /// @notice Longest delay: 30 days. With the governor's longest voting delay and period, a bad
    /// setting can still be undone within 90 days.
    uint256 public constant MAX_DELAY = 30 days;
    /// @notice The chain id of local development chains (Anvil, Hardhat), where a delay of 0 is
    /// allowed so that practice and tests need not wait.
    uint256 public constant LOCAL_CHAIN_ID = 31_337;

    /// @notice How many accounts hold each role (proposers, cancellers, executors): none may be left
    /// without one once it had one.
    mapping(bytes32 role => uint256) public roleHolders;

    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {
        _checkDelay(minDelay);
    }

    /// @notice Changes the delay; only the timelock itself may (a proposal that waited the delay).
    function updateDelay(uint256 newDelay) public override {
        super.updateDelay(newDelay); // refuses anyone but the timelock itself first
        _checkDelay(newDelay);
    }

    /// @notice The shortest delay this chain allows: 0 on a local development chain, else MIN_DELAY.
    function minDelayAllowed() public view returns (uint256) {
        return block.chainid == LOCAL_CHAIN_ID ? 0 : MIN_DELAY;
    }

    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        granted = super._grantRole(role, account);
        if (granted) ++roleHolders[role];
    }

    /// @dev A vote cannot end governance: the last proposer (the governor), canceller or executor
    /// (anyone) stays, and the timelock keeps administering itself.
    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (!revoked) return revoked;
        --roleHolders[role];
        bool lastHolder =
            (role == PROPOSER_ROLE || role == CANCELLER_ROLE || role == EXECUTOR_ROLE) && roleHolders[role] == 0;
        if (lastHolder || (role == DEFAULT_ADMIN_ROLE && account == address(this))) {
            revert TimelockRoleRequired(role, account);
        }
    }

    function _checkDelay(uint256 delay) private view {
        uint256 min = minDelayAllowed();
        if (delay < min || delay > MAX_DELAY) revert TimelockDelayOutOfRange(delay, min, MAX_DELAY);
    }
}
