// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {CommunityForwarder} from "../contracts/CommunityForwarder.sol";
import {CommunityGovernor} from "../contracts/CommunityGovernor.sol";
import {CommunityTimelock} from "../contracts/CommunityTimelock.sol";
import {Membership} from "../contracts/Membership.sol";
import {ICommunityFactory} from "../contracts/interfaces/ICommunityFactory.sol";
import {IAdmissions} from "../contracts/interfaces/IAdmissions.sol";
import {IMembership} from "../contracts/interfaces/IMembership.sol";
import {ForwarderDeployer} from "../contracts/factory/Deployers.sol";
import {Community} from "./utils/Community.sol";
import {TestBase, Vm} from "./utils/Vm.sol";

/// @notice CommunityFactory: a community in one transaction, wired as the deploy script wires it,
/// announced with every address; slugs and names checked, a slug held once per factory.
contract CommunityFactoryTest is TestBase, Community {
    address internal alice = address(0xA11CE);
    address internal bob = address(0xB0B);
    address internal carol = address(0xCA201);
    address internal creator = address(0xC4EA702);
    address internal stranger = address(0x57A4);
    address[] internal founders;

    function setUp() public {
        founders.push(alice);
        founders.push(bob);
        founders.push(carol);
        deployCommunity(founders); // "test", created by this contract
    }

    function test_theCommunityIsWiredAsTheDeployScriptWiresIt() public view {
        address t = address(timelock);
        assertEq(membership.owner(), t, "membership owner");
        assertEq(registry.owner(), t, "registry owner");
        assertEq(badge.owner(), t, "badge owner");
        assertEq(governor.timelock(), t, "governor's timelock");
        assertEq(address(governor.token()), address(membership), "governor's token");
        assertEq(address(badge.membership()), address(membership), "badge's membership");
        assertEq(address(badge.registry()), address(registry), "badge's registry");
        for (uint256 i = 0; i < 3; ++i) {
            assertTrue(membership.isMember(founders[i]), "founder");
        }
        assertEq(membership.memberCount(), 3, "members");
        address f = address(forwarder);
        assertTrue(membership.isTrustedForwarder(f) && governor.isTrustedForwarder(f), "forwarder trusted");
        assertTrue(badge.isTrustedForwarder(f), "badge trusts the forwarder");
        assertTrue(f.code.length != 0, "forwarder deployed");
        assertTrue(accountFactory.implementation().code.length != 0, "passkey accounts' implementation");
        assertTrue(keccak256(bytes(governor.name())) == keccak256("Test Commons"), "governor name");
        assertTrue(keccak256(bytes(badge.name())) == keccak256("Test Commons Contribution Badges"), "badge name");
        assertTrue(keccak256(bytes(badge.symbol())) == keccak256("TSTB"), "badge symbol");
        assertEq(governor.votingDelay(), VOTING_DELAY, "voting delay");
        assertEq(governor.votingPeriod(), VOTING_PERIOD, "voting period");
        assertEq(governor.quorumNumerator(), QUORUM_PERCENT, "quorum");
        assertEq(timelock.getMinDelay(), 0, "delay");
        // The governor alone proposes and cancels; anyone executes; the timelock administers
        // itself; the factory and the community's creator hold no role.
        bytes32 admin = timelock.DEFAULT_ADMIN_ROLE();
        bytes32[4] memory roles = [timelock.PROPOSER_ROLE(), timelock.CANCELLER_ROLE(), timelock.EXECUTOR_ROLE(), admin];
        assertTrue(timelock.hasRole(roles[0], address(governor)), "proposer");
        assertTrue(timelock.hasRole(roles[1], address(governor)), "canceller");
        assertTrue(timelock.hasRole(roles[2], address(0)), "executor: anyone");
        assertTrue(timelock.hasRole(admin, t), "self-administered");
        for (uint256 r = 0; r < 4; ++r) {
            assertTrue(!timelock.hasRole(roles[r], address(factory)), "the factory keeps a role");
            assertTrue(!timelock.hasRole(roles[r], address(this)), "the creator keeps a role");
        }
        assertTrue(!timelock.hasRole(admin, address(governor)), "the governor administers");
        assertEq(factory.creatorOf("test"), address(this), "creator");
    }

    function test_announcedWithEveryAddressAtCreate2AddressesOfTheCreatorAndSlug() public {
        vm.recordLogs();
        vm.prank(creator);
        ICommunityFactory.CommunityContracts memory c = factory.createCommunity(communityConfig("wiki-2", founders));
        Vm.Log[] memory logs = vm.getRecordedLogs();
        Vm.Log memory announced = logs[logs.length - 1];
        assertEq(announced.emitter, address(factory), "emitter");
        assertEq(uint256(announced.topics[0]), uint256(ICommunityFactory.CommunityCreated.selector), "event");
        assertEq(uint256(announced.topics[1]), uint256(uint160(creator)), "creator topic");
        assertEq(uint256(announced.topics[2]), uint256(keccak256("wiki-2")), "slug topic");
        (string memory slug, string memory name, ICommunityFactory.CommunityContracts memory inEvent) =
            abi.decode(announced.data, (string, string, ICommunityFactory.CommunityContracts));
        assertTrue(keccak256(bytes(slug)) == keccak256("wiki-2"), "slug");
        assertTrue(keccak256(bytes(name)) == keccak256("Test Commons"), "name");
        assertTrue(keccak256(abi.encode(inEvent)) == keccak256(abi.encode(c)), "addresses in the event");
        // The forwarder's address follows from its deployer, the creator and the slug alone.
        bytes32 salt = keccak256(abi.encode(address(factory), factory.saltOf(creator, "wiki-2")));
        bytes32 initCode = keccak256(type(CommunityForwarder).creationCode);
        address predicted = address(
            uint160(
                uint256(keccak256(abi.encodePacked(bytes1(0xff), address(factory.forwarderDeployer()), salt, initCode)))
            )
        );
        assertEq(c.forwarder, predicted, "CREATE2 address");
        assertEq(factory.creatorOf("wiki-2"), creator, "creator");
        assertEq(Membership(c.membership).owner(), c.timelock, "its own timelock owns it");
        assertTrue(c.membership != address(membership), "another community's contracts");
    }

    function test_aProposalPassesThroughItsTimelock() public {
        bytes memory data = abi.encodeCall(registry.addIndicator, (indicator("Mentoring", 2, 0)));
        address[] memory targets = new address[](1);
        targets[0] = address(registry);
        uint256[] memory values = new uint256[](1);
        bytes[] memory calldatas = new bytes[](1);
        calldatas[0] = data;
        vm.prank(alice);
        uint256 id = governor.propose(targets, values, calldatas, "mentoring");
        vm.warp(governor.proposalSnapshot(id) + 1);
        vm.prank(alice);
        governor.castVote(id, 1);
        vm.prank(bob);
        governor.castVote(id, 1);
        vm.warp(governor.proposalDeadline(id) + 1);
        (bool ok,) = queueAndExecute(targets, values, calldatas, keccak256("mentoring"));
        assertTrue(ok, "executed");
        assertTrue(governor.state(id) == IGovernor.ProposalState.Executed, "state");
        assertEq(registry.indicatorCount(), 1, "the timelock added the indicator");
    }

    function test_foundingAdmissionRulesAreSetWhenTheyAreNotTheDefaults() public {
        ICommunityFactory.CommunityConfig memory config = communityConfig("vouching", founders);
        config.admissionRules = IAdmissions.AdmissionRules(2, 3, 30 days, 30 days);
        Membership m = Membership(factory.createCommunity(config).membership);
        IAdmissions.AdmissionRules memory rules = m.admissionRules();
        assertEq(rules.vouchesRequired, 2, "vouches required");
        // The defaults are left as the constructor set them (no second AdmissionRulesChanged).
        assertEq(membership.admissionRules().vouchesRequired, 0, "defaults");
    }

    function test_aSlugIsHeldOncePerFactoryWhoeverAsks() public {
        bytes memory taken =
            abi.encodeWithSelector(ICommunityFactory.CommunityFactorySlugTaken.selector, "test", address(this));
        vm.expectRevert(taken);
        vm.prank(stranger);
        factory.createCommunity(communityConfig("test", founders));
        vm.expectRevert(taken);
        factory.createCommunity(communityConfig("test", founders)); // its creator too
        // Another factory is another namespace.
        deployFactory().createCommunity(communityConfig("test", founders));
    }

    function test_slugsAreLowercaseLettersDigitsAndInnerHyphens() public {
        string[8] memory bad = [
            "",
            "abcdefghijklmnopqrstuvwxyz0123456", // 33 characters
            "-wiki",
            "wiki-",
            "Wiki",
            "wi ki",
            "wiki/x",
            "wiki:"
        ];
        for (uint256 i = 0; i < bad.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(ICommunityFactory.CommunityFactoryInvalidSlug.selector, bad[i]));
            factory.createCommunity(communityConfig(bad[i], founders));
        }
        // Characters just outside the ranges: '/' before '0', ':' after '9', '`' before 'a', '{' after 'z'.
        string[4] memory edges = ["a/", "a:", "a`", "a{"];
        for (uint256 i = 0; i < edges.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(ICommunityFactory.CommunityFactoryInvalidSlug.selector, edges[i]));
            factory.createCommunity(communityConfig(edges[i], founders));
        }
        factory.createCommunity(communityConfig("abcdefghijklmnopqrstuvwxyz012345", founders)); // 32
        factory.createCommunity(communityConfig("a", founders));
        factory.createCommunity(communityConfig("drupal-2026", founders));
        assertEq(factory.creatorOf("drupal-2026"), address(this), "created");
    }

    function test_theNameIsOneTo31Bytes() public {
        ICommunityFactory.CommunityConfig memory config = communityConfig("named", founders);
        config.name = "";
        vm.expectRevert(abi.encodeWithSelector(ICommunityFactory.CommunityFactoryInvalidName.selector, ""));
        factory.createCommunity(config);
        config.name = "0123456789012345678901234567890X"; // 32: OpenZeppelin's EIP712 would refuse it
        vm.expectRevert(abi.encodeWithSelector(ICommunityFactory.CommunityFactoryInvalidName.selector, config.name));
        factory.createCommunity(config);
        config.name = "0123456789012345678901234567890"; // 31
        factory.createCommunity(config);
    }

    function test_theCommunitysOwnBoundsStillHoldAndARefusalLeavesTheSlugFree() public {
        ICommunityFactory.CommunityConfig memory config = communityConfig("bounded", founders);
        config.founders = new address[](0);
        vm.expectRevert(abi.encodeWithSelector(IMembership.MembershipNoFounders.selector));
        factory.createCommunity(config);
        config.founders = founders;
        config.votingPeriod = 59;
        vm.expectRevert(
            abi.encodeWithSelector(
                CommunityGovernor.GovernorVotingPeriodOutOfRange.selector, uint256(59), uint256(60), uint256(30 days)
            )
        );
        factory.createCommunity(config);
        config.votingPeriod = VOTING_PERIOD;
        config.timelockDelay = 31 days;
        vm.expectRevert(
            abi.encodeWithSelector(
                CommunityTimelock.TimelockDelayOutOfRange.selector, uint256(31 days), uint256(0), uint256(30 days)
            )
        );
        factory.createCommunity(config);
        config.timelockDelay = 0;
        config.admissionRules = IAdmissions.AdmissionRules(17, 3, 30 days, 30 days);
        vm.expectRevert(abi.encodeWithSelector(IAdmissions.AdmissionInvalidRules.selector));
        factory.createCommunity(config);
        assertEq(factory.creatorOf("bounded"), address(0), "a refused creation holds no slug");
    }

    function test_aDeployerCalledDirectlyLandsAtTheCallersOwnAddresses() public {
        ForwarderDeployer deployer = factory.forwarderDeployer();
        bytes32 salt = factory.saltOf(creator, "squat");
        vm.prank(stranger);
        address squatted = deployer.deploy(salt);
        vm.prank(creator);
        ICommunityFactory.CommunityContracts memory c = factory.createCommunity(communityConfig("squat", founders));
        assertTrue(c.forwarder != squatted && c.forwarder.code.length != 0, "the factory's forwarder is its own");
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        Membership(c.membership).admit(stranger);
    }
}
