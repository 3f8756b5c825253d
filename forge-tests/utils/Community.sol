// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";
import {CommunityForwarder} from "../../contracts/CommunityForwarder.sol";
import {Membership} from "../../contracts/Membership.sol";
import {CommunityGovernor} from "../../contracts/CommunityGovernor.sol";
import {CommunityTimelock} from "../../contracts/CommunityTimelock.sol";
import {IndicatorRegistry} from "../../contracts/IndicatorRegistry.sol";
import {ContributionBadge} from "../../contracts/ContributionBadge.sol";
import {IIndicatorRegistry} from "../../contracts/interfaces/IIndicatorRegistry.sol";
import {PasskeyAccountFactory} from "../../contracts/PasskeyAccountFactory.sol";
import {CommunityFactory} from "../../contracts/CommunityFactory.sol";
import {ICommunityFactory} from "../../contracts/interfaces/ICommunityFactory.sol";
import {IAdmissions} from "../../contracts/interfaces/IAdmissions.sol";
import {
    BadgeDeployer,
    ForwarderDeployer,
    GovernorDeployer,
    MembershipDeployer,
    PasskeysDeployer,
    RegistryDeployer,
    TimelockDeployer
} from "../../contracts/factory/Deployers.sol";
import {Passkeys} from "./Passkeys.sol";
import {Vm} from "./Vm.sol";

/// @dev One community created as scripts/_community.py creates it: through CommunityFactory, in one
/// transaction (same constructor arguments; the timelock, with the delay of 0 a local chain allows,
/// fed and cancelled by the governor only, executed by anyone and administered by itself alone;
/// ownership of the rules handed to the timelock; neither the factory nor its caller keeps a role),
/// plus signing of forwarder requests with a key or a passkey, the passkey account factory, and
/// the step every passed proposal takes: queued, then executed.
contract Community is Passkeys {
    Vm private constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    uint48 internal constant VOTING_DELAY = 10;
    uint32 internal constant VOTING_PERIOD = 100;
    uint256 internal constant QUORUM_PERCENT = 50;
    bytes32 private constant _REQUEST_TYPEHASH = keccak256(
        "ForwardRequest(address from,address to,uint256 value,uint256 gas,uint256 nonce,uint48 deadline,bytes data)"
    );

    CommunityFactory public factory;
    CommunityForwarder public forwarder;
    Membership public membership;
    CommunityGovernor public governor;
    CommunityTimelock public timelock;
    IndicatorRegistry public registry;
    ContributionBadge public badge;
    PasskeyAccountFactory public accountFactory;

    function deployCommunity(address[] memory founders) internal {
        factory = deployFactory();
        ICommunityFactory.CommunityContracts memory c = factory.createCommunity(communityConfig("test", founders));
        forwarder = CommunityForwarder(c.forwarder);
        membership = Membership(c.membership);
        governor = CommunityGovernor(payable(c.governor));
        timelock = CommunityTimelock(payable(c.timelock));
        registry = IndicatorRegistry(c.registry);
        badge = ContributionBadge(c.badge);
        accountFactory = PasskeyAccountFactory(c.passkeys);
    }

    /// @dev The factory and its seven deployers, as `ape run deploy` deploys them once per chain.
    function deployFactory() internal returns (CommunityFactory) {
        return new CommunityFactory(
            new ForwarderDeployer(),
            new MembershipDeployer(),
            new TimelockDeployer(),
            new GovernorDeployer(),
            new RegistryDeployer(),
            new BadgeDeployer(),
            new PasskeysDeployer()
        );
    }

    /// @dev The test community's founding settings (Test Commons, TST), under `slug`: Membership's
    /// default admission rules, no timelock delay (a local chain).
    function communityConfig(string memory slug, address[] memory founders)
        internal
        pure
        returns (ICommunityFactory.CommunityConfig memory)
    {
        return ICommunityFactory.CommunityConfig({
            slug: slug,
            name: "Test Commons",
            symbol: "TST",
            founders: founders,
            votingDelay: VOTING_DELAY,
            votingPeriod: VOTING_PERIOD,
            proposalThreshold: 0,
            quorumPercent: QUORUM_PERCENT,
            timelockDelay: 0,
            admissionRules: IAdmissions.AdmissionRules({
                vouchesRequired: 0, vouchCap: 3, vouchPeriod: 30 days, invitationLifetime: 30 days
            })
        });
    }

    /// @dev A passed proposal queued in the timelock, then executed: with the delay of 0 a local
    /// chain allows, it is ready in the block that queued it. Returns the execution's outcome
    /// (the refused call's revert data, bubbled up through the timelock and the governor).
    function queueAndExecute(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal returns (bool ok, bytes memory returned) {
        governor.queue(targets, values, calldatas, descriptionHash);
        return address(governor).call(abi.encodeCall(governor.execute, (targets, values, calldatas, descriptionHash)));
    }

    function indicator(string memory name, uint16 endorsements, uint32 validity)
        internal
        pure
        returns (IIndicatorRegistry.IndicatorInput memory)
    {
        return IIndicatorRegistry.IndicatorInput({
            name: name,
            descriptionURI: "ipfs://description",
            category: "mentoring",
            orientation: IIndicatorRegistry.Orientation.Community,
            weight: 5,
            endorsementsRequired: endorsements,
            validity: validity,
            endorserIndicatorId: 0,
            earnCap: 0,
            attestCap: 0,
            capPeriod: 0
        });
    }

    /// @dev A ForwardRequest for `from`, signed with `signerKey` (the wrong key makes a bad signature).
    function signedRequest(uint256 signerKey, address from, address target, bytes memory data)
        internal
        view
        returns (ERC2771Forwarder.ForwardRequestData memory request)
    {
        request = unsignedRequest(from, target, data);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKey, requestDigest(request));
        request.signature = abi.encodePacked(r, s, v);
    }

    /// @dev A ForwardRequest for `from` (a passkey account), signed with `passkey` as a browser does.
    function passkeyRequest(uint256 passkey, address from, address target, bytes memory data)
        internal
        view
        returns (ERC2771Forwarder.ForwardRequestData memory request)
    {
        request = unsignedRequest(from, target, data);
        request.signature = passkeySignature(passkey, requestDigest(request));
    }

    function unsignedRequest(address from, address target, bytes memory data)
        internal
        view
        returns (ERC2771Forwarder.ForwardRequestData memory)
    {
        return ERC2771Forwarder.ForwardRequestData({
            from: from,
            to: target,
            value: 0,
            gas: 1_000_000,
            deadline: uint48(block.timestamp + 3600),
            data: data,
            signature: ""
        });
    }

    /// @dev The request's EIP-712 digest under the community's forwarder, at `from`'s next nonce:
    /// what a key signs, and a passkey's challenge.
    function requestDigest(ERC2771Forwarder.ForwardRequestData memory request) internal view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                _REQUEST_TYPEHASH,
                request.from,
                request.to,
                request.value,
                request.gas,
                forwarder.nonces(request.from),
                request.deadline,
                keccak256(request.data)
            )
        );
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("CommunityForwarder"),
                keccak256("1"),
                block.chainid,
                address(forwarder)
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }
}
