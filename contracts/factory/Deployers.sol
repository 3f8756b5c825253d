// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {CommunityForwarder} from "../CommunityForwarder.sol";
import {CommunityGovernor} from "../CommunityGovernor.sol";
import {CommunityTimelock} from "../CommunityTimelock.sol";
import {ContributionBadge} from "../ContributionBadge.sol";
import {IndicatorRegistry} from "../IndicatorRegistry.sol";
import {Membership} from "../Membership.sol";
import {PasskeyAccountFactory} from "../PasskeyAccountFactory.sol";
import {IIndicatorRegistry} from "../interfaces/IIndicatorRegistry.sol";
import {IMembership} from "../interfaces/IMembership.sol";

// One deployer per contract of a community: each holds one contract's creation code (the governor's
// and membership's are about 22 KB each, so no contract under EIP-170's 24 KB could hold two of
// them), and deploys it with CREATE2 when CommunityFactory asks. They hold no state and no rights.

/// @title The CREATE2 salt of a deployer's caller
/// @dev The caller's address is part of the salt: anyone may call a deployer, and lands at
/// addresses of their own, never at the ones CommunityFactory will use (so nobody can occupy a
/// community's addresses ahead of it).
abstract contract CallerSalted {
    function _salted(bytes32 salt) internal view returns (bytes32) {
        return keccak256(abi.encode(msg.sender, salt));
    }
}

/// @title Deploys a community's CommunityForwarder
contract ForwarderDeployer is CallerSalted {
    /// @notice Deploys a forwarder at the address of the caller's `salt`.
    /// @return the forwarder's address
    function deploy(bytes32 salt) external returns (address) {
        return address(new CommunityForwarder{salt: _salted(salt)}());
    }
}

/// @title Deploys a community's Membership
contract MembershipDeployer is CallerSalted {
    /// @notice Deploys Membership with these constructor arguments, at the address of the caller's `salt`.
    /// @return the membership's address
    function deploy(
        bytes32 salt,
        string calldata name,
        string calldata symbol,
        address[] calldata founders,
        address forwarder,
        address owner
    ) external returns (address) {
        return address(new Membership{salt: _salted(salt)}(name, symbol, founders, forwarder, owner));
    }
}

/// @title Deploys a community's CommunityTimelock
contract TimelockDeployer is CallerSalted {
    /// @notice Deploys a timelock with these constructor arguments, at the address of the caller's `salt`.
    /// @return the timelock's address
    function deploy(
        bytes32 salt,
        uint256 minDelay,
        address[] calldata proposers,
        address[] calldata executors,
        address admin
    ) external returns (address) {
        return address(new CommunityTimelock{salt: _salted(salt)}(minDelay, proposers, executors, admin));
    }
}

/// @title Deploys a community's CommunityGovernor
contract GovernorDeployer is CallerSalted {
    /// @notice The governor's constructor arguments.
    struct GovernorArgs {
        string name;
        IVotes membership;
        address forwarder;
        uint48 votingDelay;
        uint32 votingPeriod;
        uint256 proposalThreshold;
        uint256 quorumPercent;
        TimelockController timelock;
    }

    /// @notice Deploys a governor with these constructor arguments, at the address of the caller's `salt`.
    /// @return the governor's address
    function deploy(bytes32 salt, GovernorArgs calldata args) external returns (address) {
        return address(
            new CommunityGovernor{salt: _salted(salt)}(
                args.name,
                args.membership,
                args.forwarder,
                args.votingDelay,
                args.votingPeriod,
                args.proposalThreshold,
                args.quorumPercent,
                args.timelock
            )
        );
    }
}

/// @title Deploys a community's IndicatorRegistry
contract RegistryDeployer is CallerSalted {
    /// @notice Deploys a registry owned by `owner`, at the address of the caller's `salt`.
    /// @return the registry's address
    function deploy(bytes32 salt, address owner) external returns (address) {
        return address(new IndicatorRegistry{salt: _salted(salt)}(owner));
    }
}

/// @title Deploys a community's ContributionBadge
/// @dev The constructor's arguments come ABI-encoded and are appended to the creation code as they
/// are: this deployer embeds the badge's code, so it decodes nothing itself, to stay within the
/// contract size limit (EIP-170) with room for the badge to grow.
contract BadgeDeployer is CallerSalted {
    /// @notice The badge contract could not be created with these arguments at this address.
    error BadgeDeployerFailed();

    /// @notice Deploys the badge contract with `constructorArgs` (ABI-encoded, as ContributionBadge's
    /// constructor takes them), at the address of the caller's `salt`.
    /// @return badge the badge contract's address
    function deploy(bytes32 salt, bytes calldata constructorArgs) external returns (address badge) {
        bytes memory initCode = bytes.concat(type(ContributionBadge).creationCode, constructorArgs);
        bytes32 salted = _salted(salt);
        assembly ("memory-safe") {
            badge := create2(0, add(initCode, 0x20), mload(initCode), salted)
        }
        if (badge == address(0)) revert BadgeDeployerFailed();
    }
}

/// @title Deploys a community's PasskeyAccountFactory
contract PasskeysDeployer is CallerSalted {
    /// @notice Deploys a passkey account factory trusting `forwarder`, at the address of the caller's `salt`.
    /// @return the passkey account factory's address
    function deploy(bytes32 salt, address forwarder) external returns (address) {
        return address(new PasskeyAccountFactory{salt: _salted(salt)}(forwarder));
    }
}
