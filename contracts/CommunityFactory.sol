// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {BadgeMetadata} from "./BadgeMetadata.sol";
import {ICommunityFactory} from "./interfaces/ICommunityFactory.sol";
import {IAdmissions} from "./interfaces/IAdmissions.sol";
import {IIndicatorRegistry} from "./interfaces/IIndicatorRegistry.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {Membership} from "./Membership.sol";
import {
    BadgeDeployer,
    ForwarderDeployer,
    GovernorDeployer,
    MembershipDeployer,
    PasskeysDeployer,
    RegistryDeployer,
    TimelockDeployer
} from "./factory/Deployers.sol";

/// @title Creates a whole community in one transaction, and announces it (see {ICommunityFactory})
/// @notice Anyone may call it: a community created here is the creator's to found, and a service
/// decides for itself which creators' communities it serves.
/// @dev Each contract comes from a deployer contract of its own (factory/Deployers.sol), which
/// holds its creation code: the governor's and membership's are about 22 KB each, so one contract
/// under EIP-170's 24 KB cannot hold them all. Each is deployed in full, with CREATE2 under a salt
/// of the creator and the slug, not as an EIP-1167 clone: the contracts keep what identifies their
/// community in immutables (ERC2771Context's trusted forwarder, EIP712's name and cached domain
/// separator, the governor's token, the badge's membership and registry), which a clone would share
/// with its implementation. Clones would need OpenZeppelin's upgradeable variants, which keep those
/// in storage: every relayed request would then pay a cold storage read for the forwarder, a
/// domain separator rebuilt for each signature and a DELEGATECALL into the implementation, forever,
/// against the 300,000 gas budget of a whole contribution, to save once what a community's
/// creation costs (docs/performance/gas.md). The wiring is scripts/_community.py's, step for step:
/// the factory holds membership and the timelock's admin role only within this transaction.
contract CommunityFactory is ICommunityFactory {
    uint256 private constant _MAX_SLUG_BYTES = 32;
    // The name is the EIP-712 domain name of the membership and the governor, which OpenZeppelin's
    // EIP712 keeps in an immutable of at most 31 bytes (a longer one reverts with StringTooLong).
    uint256 private constant _MAX_NAME_BYTES = 31;

    /// @notice Deploys each community's forwarder.
    ForwarderDeployer public immutable forwarderDeployer;
    /// @notice Deploys each community's membership.
    MembershipDeployer public immutable membershipDeployer;
    /// @notice Deploys each community's timelock.
    TimelockDeployer public immutable timelockDeployer;
    /// @notice Deploys each community's governor.
    GovernorDeployer public immutable governorDeployer;
    /// @notice Deploys each community's indicator registry.
    RegistryDeployer public immutable registryDeployer;
    /// @notice Deploys each community's badge contract.
    BadgeDeployer public immutable badgeDeployer;
    /// @notice Writes the metadata of every badge of this factory's communities.
    BadgeMetadata public immutable badgeMetadata;
    /// @notice Deploys each community's passkey account factory.
    PasskeysDeployer public immutable passkeysDeployer;

    mapping(bytes32 slugHash => address creator) private _creators;

    constructor(
        ForwarderDeployer forwarderDeployer_,
        MembershipDeployer membershipDeployer_,
        TimelockDeployer timelockDeployer_,
        GovernorDeployer governorDeployer_,
        RegistryDeployer registryDeployer_,
        BadgeDeployer badgeDeployer_,
        PasskeysDeployer passkeysDeployer_
    ) {
        forwarderDeployer = forwarderDeployer_;
        membershipDeployer = membershipDeployer_;
        timelockDeployer = timelockDeployer_;
        governorDeployer = governorDeployer_;
        registryDeployer = registryDeployer_;
        badgeDeployer = badgeDeployer_;
        badgeMetadata = new BadgeMetadata();
        passkeysDeployer = passkeysDeployer_;
    }

    /// @inheritdoc ICommunityFactory
    function createCommunity(CommunityConfig calldata config) external returns (CommunityContracts memory contracts) {
        if (!_isSlug(bytes(config.slug))) revert CommunityFactoryInvalidSlug(config.slug);
        bytes32 slugHash = keccak256(bytes(config.slug));
        address taken = _creators[slugHash];
        if (taken != address(0)) revert CommunityFactorySlugTaken(config.slug, taken);
        uint256 nameLength = bytes(config.name).length;
        if (nameLength == 0 || nameLength > _MAX_NAME_BYTES) revert CommunityFactoryInvalidName(config.name);
        // The slug is the creator's before any contract is deployed.
        _creators[slugHash] = msg.sender;

        bytes32 salt = saltOf(msg.sender, config.slug);
        _deployGovernance(config, salt, contracts);
        contracts.registry = registryDeployer.deploy(salt, contracts.timelock);
        contracts.badge = badgeDeployer.deploy(
            salt,
            abi.encode(
                string.concat(config.name, " Contribution Badges"),
                string.concat(config.symbol, "B"),
                contracts.membership,
                contracts.registry,
                contracts.forwarder,
                contracts.timelock,
                badgeMetadata,
                address(0) // a first version: later ones name it (scripts/deploy_version.py)
            )
        );
        // Accounts for members who sign with a passkey: clones that trust this community's forwarder.
        contracts.passkeys = passkeysDeployer.deploy(salt, contracts.forwarder);
        _handOverMembership(Membership(contracts.membership), config.admissionRules, contracts.timelock);
        emit CommunityCreated(msg.sender, slugHash, config.slug, config.name, contracts);
    }

    /// @inheritdoc ICommunityFactory
    function creatorOf(string calldata slug) external view returns (address) {
        return _creators[keccak256(bytes(slug))];
    }

    /// @inheritdoc ICommunityFactory
    function saltOf(address creator, string calldata slug) public pure returns (bytes32) {
        return keccak256(abi.encode(creator, keccak256(bytes(slug))));
    }

    /// @dev The forwarder, membership (held by the factory until its rules are set), the timelock
    /// (administered by the factory until the governor holds its roles, as the two reference each
    /// other; executed by anyone: the zero address) and the governor; then the factory renounces
    /// the timelock's admin role, and the timelock administers itself.
    function _deployGovernance(CommunityConfig calldata config, bytes32 salt, CommunityContracts memory contracts)
        private
    {
        contracts.forwarder = forwarderDeployer.deploy(salt);
        contracts.membership = membershipDeployer.deploy(
            salt, config.name, config.symbol, config.founders, contracts.forwarder, address(this)
        );
        contracts.timelock =
            timelockDeployer.deploy(salt, config.timelockDelay, new address[](0), new address[](1), address(this));
        contracts.governor = governorDeployer.deploy(
            salt,
            GovernorDeployer.GovernorArgs({
                name: config.name,
                membership: IVotes(contracts.membership),
                forwarder: contracts.forwarder,
                votingDelay: config.votingDelay,
                votingPeriod: config.votingPeriod,
                proposalThreshold: config.proposalThreshold,
                quorumPercent: config.quorumPercent,
                timelock: TimelockController(payable(contracts.timelock))
            })
        );
        TimelockController timelock = TimelockController(payable(contracts.timelock));
        timelock.grantRole(timelock.PROPOSER_ROLE(), contracts.governor);
        timelock.grantRole(timelock.CANCELLER_ROLE(), contracts.governor);
        timelock.renounceRole(timelock.DEFAULT_ADMIN_ROLE(), address(this));
    }

    /// @dev The founding admission rules, when they are not Membership's own defaults (as the
    /// deploy script sets them), then membership to the timelock, which owns every rule from now on.
    function _handOverMembership(Membership membership, IAdmissions.AdmissionRules calldata rules, address timelock)
        private
    {
        if (keccak256(abi.encode(membership.admissionRules())) != keccak256(abi.encode(rules))) {
            membership.setAdmissionRules(rules);
        }
        membership.transferOwnership(timelock);
    }

    /// @dev 1 to 32 characters, each a-z, 0-9 or a hyphen, neither the first nor the last a hyphen:
    /// a slug goes into the service's addresses (/communities/{slug}/..., did:web) as it is.
    function _isSlug(bytes calldata slug) private pure returns (bool) {
        uint256 length = slug.length;
        if (length == 0 || length > _MAX_SLUG_BYTES || slug[0] == "-" || slug[length - 1] == "-") return false;
        for (uint256 i = 0; i < length; ++i) {
            bytes1 c = slug[i];
            if (!((c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "-")) return false;
        }
        return true;
    }
}
