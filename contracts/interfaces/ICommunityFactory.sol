// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAdmissions} from "./IAdmissions.sol";

/// @title Creates a whole community in one transaction, and announces it
/// @notice Anyone may create a community: its forwarder, membership (the founders minted), timelock,
/// governor, indicator registry, badge contract and passkey account factory, wired as the
/// project's deploy script wires them (the timelock owns every rule, is fed and cancelled by the
/// governor only, executed by anyone, and administered by nobody but itself; neither the creator
/// nor the factory keeps any role). Each community is announced with {CommunityCreated}, which
/// is how the service learns of it. A slug names one community per factory.
interface ICommunityFactory {
    /// @notice What a community decides at its founding (as communities/*.json says it).
    struct CommunityConfig {
        string slug; // 1-32 characters: a-z, 0-9 and inner hyphens; the community's name in addresses
        string name; // 1-31 bytes (the EIP-712 domain name of its membership and governor)
        string symbol;
        address[] founders;
        uint48 votingDelay; // seconds
        uint32 votingPeriod; // seconds
        uint256 proposalThreshold;
        uint256 quorumPercent;
        uint256 timelockDelay; // seconds a passed proposal waits (0 only on a local chain)
        IAdmissions.AdmissionRules admissionRules;
    }

    /// @notice The contracts of one community.
    struct CommunityContracts {
        address forwarder;
        address membership;
        address timelock;
        address governor;
        address registry;
        address badge;
        address passkeys;
    }

    /// @notice `slug` is empty, longer than 32 characters, or holds a character other than a-z,
    /// 0-9 and hyphens (one may not start or end it).
    error CommunityFactoryInvalidSlug(string slug);
    /// @notice A community named `slug` was created through this factory already, by `creator`.
    error CommunityFactorySlugTaken(string slug, address creator);
    /// @notice The community's name is empty or longer than 31 bytes (it names the EIP-712 domain
    /// its members sign under, which OpenZeppelin keeps in 31 bytes).
    error CommunityFactoryInvalidName(string name);

    /// @notice Emitted once per community, with every contract's address: the record a service
    /// follows to start serving it. `creator` (who called {createCommunity}) and the slug's
    /// keccak256 are indexed, so a reader can ask for one creator's communities, or one slug's.
    event CommunityCreated(
        address indexed creator, bytes32 indexed slugHash, string slug, string name, CommunityContracts contracts
    );

    /// @notice Creates a community: every contract deployed with CREATE2 under {saltOf}(caller,
    /// slug), wired, then announced. Reverts with a named error for a bad slug or name, a slug
    /// taken, or any of the community's own bounds (voting settings, timelock delay, admission
    /// rules, at least one founder).
    /// @return contracts the addresses of the community's contracts
    function createCommunity(CommunityConfig calldata config) external returns (CommunityContracts memory contracts);

    /// @notice Who created the community named `slug` through this factory (zero: nobody yet).
    function creatorOf(string calldata slug) external view returns (address);

    /// @notice The CREATE2 salt of `creator`'s community `slug`: each contract's address follows
    /// from it, the deployer that creates it, and its constructor's arguments.
    function saltOf(address creator, string calldata slug) external pure returns (bytes32);
}
