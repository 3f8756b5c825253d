// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {CommunityGovernor} from "../contracts/CommunityGovernor.sol";
import {CommunityTimelock} from "../contracts/CommunityTimelock.sol";
import {ContributionBadge} from "../contracts/ContributionBadge.sol";
import {ContributionBadgeV2} from "../contracts/versions/ContributionBadgeV2.sol";
import {IBadgeVersions} from "../contracts/interfaces/IBadgeVersions.sol";
import {SoulboundERC721} from "../contracts/SoulboundERC721.sol";
import {IContributionBadge} from "../contracts/interfaces/IContributionBadge.sol";
import {IAdmissions} from "../contracts/interfaces/IAdmissions.sol";
import {IIndicatorRegistry} from "../contracts/interfaces/IIndicatorRegistry.sol";
import {IMemberDirectory} from "../contracts/interfaces/IMemberDirectory.sol";
import {IMembership} from "../contracts/interfaces/IMembership.sol";
import {IPasskeyAccount} from "../contracts/interfaces/IPasskeyAccount.sol";
import {ICommunityFactory} from "../contracts/interfaces/ICommunityFactory.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {
    BadgeDeployer,
    ForwarderDeployer,
    GovernorDeployer,
    MembershipDeployer,
    PasskeysDeployer,
    RegistryDeployer,
    TimelockDeployer
} from "../contracts/factory/Deployers.sol";
import {Community} from "./utils/Community.sol";
import {TestBase} from "./utils/Vm.sol";
import {Versions} from "./utils/Versions.sol";

/// @notice The access-control table: every state-changing external function of the project's
/// contracts, called by an outsider, a member, the contributor, the forwarder relaying a request
/// with a bad signature, the guardian (elected by governance; a Safe of members, no member
/// itself), and governance (a real proposal, voted, queued in the timelock and executed: the
/// timelock is the caller); each cell's outcome asserted: success, or the exact revert data
/// (custom error and arguments). The governor holds the timelock's proposer and canceller roles
/// and uses them only through its own queue and cancel (rows of their own).
contract AccessControlTable is TestBase, Community, Versions {
    uint256 internal constant COLUMNS = 6;
    uint256 internal constant OUTSIDER_KEY = 0x0B5;
    uint256 internal constant PASSKEY = 0x9A55CE1; // of a passkey account (not a member)
    uint256 internal constant INVITATION_KEY = 0x1417E; // alice's open invitation (the secret)
    uint256 internal constant JOINED_INVITATION_KEY = 0x1417F; // alice's invitation she accepted herself
    address internal alice; // the contributor: holds badge 1, filed open claim 2, nominated in claim 4, proposed Q;
    // named "Alice", linked as "alice" on site 1; invited `invitation` (open) and accepted her other
    // invitation, nominated in claim 6, herself
    address internal bob; // a member (holds no badge)
    address internal carol; // a member: filed claim 5, on indicator 2 (endorsed by holders of indicator 1 only)
    address internal dave; // a founder, removed by governance after filing claim 3
    address internal outsider;
    address internal newcomer = address(0xBEEF);
    address internal relayer = address(0x5E1A7);
    address internal candidate = address(0xCA0D1DA7E); // no member, never removed: vouched for
    address internal guardian = address(0x6A4D1A4); // the governor's proposal guardian
    address internal invitation;
    address internal joinedInvitation;
    IPasskeyAccount internal passkeyAccount;
    CommunityTimelock internal spareTimelock; // another timelock, for updateTimelock: the governor proposes there
    CommunityTimelock internal orphanTimelock; // one that does not let the governor propose or cancel
    ContributionBadgeV2 internal successor; // version 2 of the badge contract, naming `badge`
    ContributionBadgeV2 internal stranger; // version 2 of a badge contract of another community

    // Proposals: S succeeded (not queued) and D queued (ready: delay 0), both by bob; P active
    // (open to votes, by bob); Q pending (by alice).
    uint256 internal S;
    uint256 internal D;
    uint256 internal P;
    uint256 internal Q;

    struct Call {
        address target;
        bytes data;
    }

    struct Row {
        string name;
        address target;
        bytes data;
        bytes[COLUMNS] expected; // outsider, member, contributor, forwarder with a bad signature, guardian, governance
    }

    Row[] internal rows;
    /// @dev Calls governance makes before a row's call in the same proposal (governance cell only).
    mapping(uint256 rowNameHash => Call[]) internal preludes;
    /// @dev Calls governance (the timelock) made before a row's call, in every column: the state
    /// the row is about (the records moved to version 2).
    mapping(uint256 rowNameHash => Call[]) internal arrangements;
    bytes internal constant OK = "";
    string[COLUMNS] internal roleNames =
        ["outsider", "member", "contributor", "forwarder (bad signature)", "guardian", "governance (the timelock)"];

    function setUp() public {
        alice = vm.addr(0xA11CE);
        bob = vm.addr(0xB0B);
        carol = vm.addr(0xCA201);
        outsider = vm.addr(OUTSIDER_KEY);
        dave = vm.addr(0xDA7E);
        address[] memory founders = new address[](4);
        (founders[0], founders[1], founders[2], founders[3]) = (alice, bob, carol, dave);
        deployCommunity(founders);
        (bytes32 qx, bytes32 qy) = passkeyPublicKey(PASSKEY);
        passkeyAccount = IPasskeyAccount(accountFactory.create(qx, qy, 0));

        _pass(address(registry), abi.encodeCall(registry.addIndicator, (indicator("Mentoring", 2, 0))), "indicator");
        // Indicator 2 is endorsed only by holders of a counting badge of indicator 1 (alice's badge 1).
        IIndicatorRegistry.IndicatorInput memory review = indicator("Code review", 1, 0);
        review.endorserIndicatorId = 1;
        _pass(address(registry), abi.encodeCall(registry.addIndicator, (review)), "gated indicator");
        _pass(address(registry), abi.encodeCall(registry.addOrganisation, ("Acme", "acme.example")), "organisation");
        vm.prank(alice);
        badge.claim(1, keccak256("evidence 1"), "ipfs://1");
        vm.prank(bob);
        badge.attest(1);
        vm.prank(carol);
        badge.attest(1); // badge 1 minted to alice
        vm.prank(alice);
        badge.claim(1, keccak256("evidence 2"), "ipfs://2"); // claim 2, open
        vm.prank(dave);
        badge.claim(1, keccak256("evidence 3"), "ipfs://3"); // claim 3, open; then dave is removed
        vm.prank(bob);
        badge.nominate(alice, 1, keccak256("evidence 4"), "ipfs://4"); // claim 4, waiting for alice's answer
        _pass(address(membership), abi.encodeCall(membership.remove, (dave)), "remove dave");
        vm.prank(carol);
        badge.claim(2, keccak256("evidence 5"), "ipfs://5"); // claim 5, open, on the gated indicator
        _admissionsSetUp();
        _pass(address(governor), abi.encodeCall(governor.setProposalGuardian, (guardian)), "guardian");
        address[] memory theGovernor = new address[](1);
        theGovernor[0] = address(governor); // proposer and canceller there
        spareTimelock = new CommunityTimelock(0, theGovernor, new address[](1), address(0));
        orphanTimelock = new CommunityTimelock(0, new address[](0), new address[](1), address(0));
        successor = deploySuccessor(badge);
        address[] memory others = new address[](1);
        others[0] = carol;
        stranger = deploySuccessor(ContributionBadge(factory.createCommunity(communityConfig("other", others)).badge));

        S = _proposeAs(bob, address(membership), abi.encodeCall(membership.admit, (newcomer)), "S");
        D = _proposeAs(
            bob, address(registry), abi.encodeCall(registry.addOrganisation, ("Delta", "delta.example")), "D"
        );
        vm.warp(governor.proposalSnapshot(S) + 1);
        _voteAll(S);
        _voteAll(D);
        vm.warp(governor.proposalDeadline(S) + 1);
        _queue(D);
        P = _proposeAs(bob, address(registry), abi.encodeCall(registry.retireIndicator, (1)), "P");
        vm.warp(governor.proposalSnapshot(P) + 1);
        Q = _proposeAs(alice, address(registry), abi.encodeCall(registry.retireIndicator, (1)), "Q");
        require(uint8(governor.state(S)) == uint8(IGovernor.ProposalState.Succeeded), "S not succeeded");
        require(uint8(governor.state(D)) == uint8(IGovernor.ProposalState.Queued), "D not queued");
        require(uint8(governor.state(P)) == uint8(IGovernor.ProposalState.Active), "P not active");
        require(uint8(governor.state(Q)) == uint8(IGovernor.ProposalState.Pending), "Q not pending");
        _buildTable();
    }

    /// @dev Two vouches admit, three vouches or invitations a week each; alice's name and handle;
    /// her two invitations (two of her three this week), one open, the other accepted by herself
    /// after bob nominated it (claim 6).
    function _admissionsSetUp() internal {
        IAdmissions.AdmissionRules memory rules = IAdmissions.AdmissionRules(2, 3, 7 days, 7 days);
        _pass(address(membership), abi.encodeCall(membership.setAdmissionRules, (rules)), "admission rules");
        invitation = vm.addr(INVITATION_KEY);
        joinedInvitation = vm.addr(JOINED_INVITATION_KEY);
        vm.prank(alice);
        membership.setName("Alice");
        vm.prank(alice);
        membership.linkAccount(1, "alice");
        vm.prank(alice);
        membership.invite(invitation, "Nina");
        vm.prank(alice);
        membership.invite(joinedInvitation, "Alice's other self");
        vm.prank(bob);
        badge.nominate(joinedInvitation, 1, keccak256("evidence 6"), "ipfs://6"); // claim 6
        vm.prank(alice);
        membership.acceptInvitation(joinedInvitation, _acceptance(JOINED_INVITATION_KEY, joinedInvitation, alice));
    }

    function test_accessControlTable() public {
        uint256 cells;
        for (uint256 r = 0; r < rows.length; ++r) {
            for (uint256 role = 0; role < COLUMNS; ++role) {
                uint256 snapshot = vm.snapshotState();
                _arrange(rows[r]);
                (bool ok, bytes memory returned) = _callAs(role, rows[r]);
                bytes memory got = ok ? OK : returned;
                if (keccak256(got) != keccak256(rows[r].expected[role])) {
                    fail(
                        string.concat(
                            rows[r].name,
                            " called by ",
                            roleNames[role],
                            ": expected ",
                            _show(rows[r].expected[role]),
                            ", got ",
                            ok ? "success" : _show(returned)
                        )
                    );
                }
                vm.revertToState(snapshot);
                cells++;
            }
        }
        assertEq(cells, rows.length * COLUMNS, "cells");
    }

    // ---------------------------------------------------------------- callers

    function _callAs(uint256 role, Row storage row) internal returns (bool ok, bytes memory returned) {
        if (role < 3 || role == 4) {
            vm.prank(role == 0 ? outsider : role == 1 ? bob : role == 2 ? alice : guardian);
            return row.target.call(row.data);
        }
        if (role == 3) {
            vm.prank(relayer);
            if (row.target == address(forwarder)) return address(forwarder).call(_badlySigned(row.data));
            // bob's request, signed with the outsider's key.
            return address(forwarder)
                .call(abi.encodeCall(forwarder.execute, (signedRequest(OUTSIDER_KEY, bob, row.target, row.data))));
        }
        // Governance: a proposal with this call (after the row's prelude, if any), voted by every
        // member, queued in the timelock and executed: the timelock makes the call.
        (address[] memory targets, uint256[] memory values, bytes[] memory calldatas) = _withPrelude(row);
        string memory description = string.concat("cell ", row.name);
        vm.prank(carol);
        uint256 id = governor.propose(targets, values, calldatas, description);
        vm.warp(governor.proposalSnapshot(id) + 1);
        _voteAll(id);
        vm.warp(governor.proposalDeadline(id) + 1);
        return queueAndExecute(targets, values, calldatas, keccak256(bytes(description)));
    }

    function _arrange(Row storage row) internal {
        Call[] storage calls = arrangements[uint256(keccak256(bytes(row.name)))];
        for (uint256 i = 0; i < calls.length; ++i) {
            vm.prank(address(timelock));
            (bool ok,) = calls[i].target.call(calls[i].data);
            require(ok, string.concat("arranging ", row.name, ": refused"));
        }
    }

    function _withPrelude(Row storage row)
        internal
        view
        returns (address[] memory targets, uint256[] memory values, bytes[] memory calldatas)
    {
        Call[] storage prelude = preludes[uint256(keccak256(bytes(row.name)))];
        uint256 n = prelude.length;
        targets = new address[](n + 1);
        values = new uint256[](n + 1);
        calldatas = new bytes[](n + 1);
        for (uint256 i = 0; i < n; ++i) {
            (targets[i], calldatas[i]) = (prelude[i].target, prelude[i].data);
        }
        (targets[n], calldatas[n]) = (row.target, row.data);
    }

    /// @dev The row's forwarder call with its request's signature replaced by the outsider's.
    function _badlySigned(bytes memory data) internal view returns (bytes memory) {
        ERC2771Forwarder.ForwardRequestData memory request = _bobsAttestation();
        request.signature = signedRequest(OUTSIDER_KEY, bob, address(badge), request.data).signature;
        if (bytes4(data) == forwarder.execute.selector) return abi.encodeCall(forwarder.execute, (request));
        ERC2771Forwarder.ForwardRequestData[] memory batch = new ERC2771Forwarder.ForwardRequestData[](1);
        batch[0] = request;
        return abi.encodeCall(forwarder.executeBatch, (batch, payable(address(0))));
    }

    function _bobsAttestation() internal view returns (ERC2771Forwarder.ForwardRequestData memory) {
        return signedRequest(0xB0B, bob, address(badge), abi.encodeCall(badge.attest, (2)));
    }

    // ---------------------------------------------------------------- the table

    // The table keeps one row a line, as a table reads:
    // forgefmt: disable-start
    function _buildTable() internal {
        address gov = address(timelock); // governance's calls come from the timelock
        address m = address(membership);
        address r = address(registry);
        address b = address(badge);
        uint256 aliceToken = uint256(uint160(alice));
        bytes memory badSig = abi.encodeWithSelector(
            ERC2771Forwarder.ERC2771ForwarderInvalidSigner.selector, outsider, bob
        );
        bytes memory untrusted = abi.encodeWithSelector(ERC2771Forwarder.ERC2771UntrustfulTarget.selector, r, address(forwarder));

        // Membership: governance only, except delegation (members only).
        _ownerOnly("Membership.admit", m, abi.encodeCall(membership.admit, (newcomer)), badSig);
        _ownerOnly("Membership.remove", m, abi.encodeCall(membership.remove, (carol)), badSig);
        _lastMemberRow(badSig);
        _ownerOnly("Membership.recover", m, abi.encodeCall(membership.recover, (carol, newcomer)), badSig);
        _row("Membership.delegate", m, abi.encodeCall(membership.delegate, (carol)), [
            _err(IMembership.MembershipNotMember.selector, outsider), OK, OK, badSig,
            _err(IMembership.MembershipNotMember.selector, guardian),
            _err(IMembership.MembershipNotMember.selector, gov)
        ]);
        bytes memory notMember = _err(IMembership.MembershipNotMember.selector, outsider);
        _row("Membership.delegateBySig (signed by an outsider)", m, _outsiderDelegationBySig(), [
            notMember, notMember, notMember, badSig, notMember, notMember
        ]);
        _locked("Membership", m, aliceToken, badSig);
        _ownerOnly("Membership.transferOwnership", m, abi.encodeCall(membership.transferOwnership, (outsider)), badSig);
        _ownerOnly("Membership.renounceOwnership", m, abi.encodeCall(membership.renounceOwnership, ()), badSig);
        _directoryRows(badSig);
        _admissionsRows(badSig);

        // IndicatorRegistry: governance only; it trusts no forwarder.
        _ownerOnly("IndicatorRegistry.addIndicator", r, abi.encodeCall(registry.addIndicator, (indicator("New", 1, 0))), untrusted);
        _ownerOnly("IndicatorRegistry.amendIndicator", r, abi.encodeCall(registry.amendIndicator, (1, indicator("New", 1, 0))), untrusted);
        _ownerOnly("IndicatorRegistry.retireIndicator", r, abi.encodeCall(registry.retireIndicator, (1)), untrusted);
        _ownerOnly("IndicatorRegistry.transferOwnership", r, abi.encodeCall(registry.transferOwnership, (outsider)), untrusted);
        _ownerOnly("IndicatorRegistry.renounceOwnership", r, abi.encodeCall(registry.renounceOwnership, ()), untrusted);
        _fairPlayRegistryRows(untrusted);

        // ContributionBadge: members claim, nominate and attest (not their own claim); governance revokes and recovers.
        _row("ContributionBadge.claim", b, abi.encodeCall(badge.claim, (1, keccak256("e"), "u")), [
            _err(IContributionBadge.BadgeNotMember.selector, outsider), OK, OK, badSig,
            _err(IContributionBadge.BadgeNotMember.selector, guardian),
            _err(IContributionBadge.BadgeNotMember.selector, gov)
        ]);
        _row("ContributionBadge.nominate", b, abi.encodeCall(badge.nominate, (carol, 1, keccak256("e"), "u")), [
            _err(IContributionBadge.BadgeNotMember.selector, outsider), OK, OK, badSig,
            _err(IContributionBadge.BadgeNotMember.selector, guardian),
            _err(IContributionBadge.BadgeNotMember.selector, gov)
        ]);
        _row("ContributionBadge.attest", b, abi.encodeCall(badge.attest, (2)), [
            _err(IContributionBadge.BadgeNotMember.selector, outsider), OK,
            abi.encodeWithSelector(IContributionBadge.BadgeSelfAttestation.selector, uint256(2), alice), badSig,
            _err(IContributionBadge.BadgeNotMember.selector, guardian),
            _err(IContributionBadge.BadgeNotMember.selector, gov)
        ]);
        _removedContributorRow(badSig);
        _fairPlayBadgeRows(badSig);
        _consentRows(badSig);
        _ownerOnly("ContributionBadge.revoke", b, abi.encodeCall(badge.revoke, (1, "fraud")), badSig);
        uint256[] memory tokens = new uint256[](1);
        tokens[0] = 1;
        _ownerOnly("ContributionBadge.recoverBadges", b, abi.encodeCall(badge.recoverBadges, (alice, bob, tokens)), badSig);
        _locked("ContributionBadge", b, 1, badSig);
        _ownerOnly("ContributionBadge.transferOwnership", b, abi.encodeCall(badge.transferOwnership, (outsider)), badSig);
        _ownerOnly("ContributionBadge.renounceOwnership", b, abi.encodeCall(badge.renounceOwnership, ()), badSig);
        _versionRows(badSig, untrusted);

        // CommunityGovernor: members propose and vote; anyone queues a succeeded proposal and
        // executes a queued one; the guardian cancels; settings by governance.
        _governorRows(badSig);
        _timelockRows();

        // CommunityForwarder: anyone may relay a validly signed request; a bad signature is refused.
        ERC2771Forwarder.ForwardRequestData[] memory batch = new ERC2771Forwarder.ForwardRequestData[](1);
        batch[0] = _bobsAttestation();
        _row("CommunityForwarder.execute (bob's signed attestation)", address(forwarder),
            abi.encodeCall(forwarder.execute, (batch[0])), [OK, OK, OK, badSig, OK, OK]);
        _row("CommunityForwarder.executeBatch (bob's signed attestation)", address(forwarder),
            abi.encodeCall(forwarder.executeBatch, (batch, payable(address(0)))), [OK, OK, OK, badSig, OK, OK]);

        // Passkey accounts and their factory.
        _passkeyFactoryRows();
        _passkeyAccountRows(badSig);

        // The community factory and its deployers: anyone, as many times as they pay for.
        _communityFactoryRows();
    }


    /// @dev Members name themselves and link their accounts, each name and handle held once (ASCII
    /// case aside); governance clears them, on a site that exists.
    function _directoryRows(bytes memory badSig) internal {
        address m = address(membership);
        address gov = address(timelock); // governance's calls come from the timelock
        bytes memory outsiderNotMember = _err(IMembership.MembershipNotMember.selector, outsider);
        bytes memory guardianNotMember = _err(IMembership.MembershipNotMember.selector, guardian);
        bytes memory govNotMember = _err(IMembership.MembershipNotMember.selector, gov);
        bytes4 taken = IMemberDirectory.DirectoryTaken.selector;
        bytes4 unauthorized = Ownable.OwnableUnauthorizedAccount.selector;
        _row("Membership.setName", m, abi.encodeCall(membership.setName, ("Robin")), [
            outsiderNotMember, OK, OK, badSig, guardianNotMember, govNotMember
        ]);
        _row("Membership.setName (alice's name, another case)", m, abi.encodeCall(membership.setName, ("ALICE")), [
            outsiderNotMember, abi.encodeWithSelector(taken, "ALICE", alice), OK, badSig, guardianNotMember, govNotMember
        ]);
        _row("Membership.linkAccount", m, abi.encodeCall(membership.linkAccount, (2, "robin")), [
            outsiderNotMember, OK, OK, badSig, guardianNotMember, govNotMember
        ]);
        _row("Membership.linkAccount (alice's handle, another case)", m, abi.encodeCall(membership.linkAccount, (1, "Alice")), [
            outsiderNotMember, abi.encodeWithSelector(taken, "Alice", alice), OK, badSig, guardianNotMember, govNotMember
        ]);
        _ownerOnly("Membership.clearName", m, abi.encodeCall(membership.clearName, (alice)), badSig);
        _ownerOnly("Membership.clearLinkedAccount", m, abi.encodeCall(membership.clearLinkedAccount, (alice, 1)), badSig);
        _row("Membership.clearLinkedAccount (site 5)", m, abi.encodeCall(membership.clearLinkedAccount, (alice, 5)), [
            _err(unauthorized, outsider), _err(unauthorized, bob), _err(unauthorized, alice), badSig,
            _err(unauthorized, guardian),
            abi.encodeWithSelector(IMemberDirectory.DirectoryUnknownSite.selector, uint8(5))
        ]);
    }

    /// @dev Governance sets the admission rules (within bounds, even for itself); members vouch
    /// (never for an address governance removed) and invite; the inviter alone withdraws; whoever
    /// holds the acceptance signed with the invitation's secret for their own account accepts,
    /// member or not; the account that accepted an invitation answers the nominations made to it.
    function _admissionsRows(bytes memory badSig) internal {
        address m = address(membership);
        address gov = address(timelock); // governance's calls come from the timelock
        bytes memory outsiderNotMember = _err(IMembership.MembershipNotMember.selector, outsider);
        bytes memory guardianNotMember = _err(IMembership.MembershipNotMember.selector, guardian);
        bytes memory govNotMember = _err(IMembership.MembershipNotMember.selector, gov);
        bytes4 unauthorized = Ownable.OwnableUnauthorizedAccount.selector;
        _ownerOnly("Membership.setAdmissionRules", m,
            abi.encodeCall(membership.setAdmissionRules, (IAdmissions.AdmissionRules(1, 5, 1 days, 1 days))), badSig);
        _row("Membership.setAdmissionRules (17 vouches)", m,
            abi.encodeCall(membership.setAdmissionRules, (IAdmissions.AdmissionRules(17, 5, 1 days, 1 days))), [
            _err(unauthorized, outsider), _err(unauthorized, bob), _err(unauthorized, alice), badSig,
            _err(unauthorized, guardian),
            abi.encodeWithSelector(IAdmissions.AdmissionInvalidRules.selector)
        ]);
        _row("Membership.vouch", m, abi.encodeCall(membership.vouch, (candidate)), [
            outsiderNotMember, OK, OK, badSig, guardianNotMember, govNotMember
        ]);
        bytes memory daveRemoved = _err(IAdmissions.AdmissionRemovedByGovernance.selector, dave);
        _row("Membership.vouch (dave, removed by governance)", m, abi.encodeCall(membership.vouch, (dave)), [
            outsiderNotMember, daveRemoved, daveRemoved, badSig, guardianNotMember, govNotMember
        ]);
        _row("Membership.invite", m, abi.encodeCall(membership.invite, (vm.addr(0x14180), "Otto")), [
            outsiderNotMember, OK, OK, badSig, guardianNotMember, govNotMember
        ]);
        _invitationRows(badSig);
        _invitationNominationRows(badSig);
    }

    function _invitationRows(bytes memory badSig) internal {
        address m = address(membership);
        address gov = address(timelock); // governance's calls come from the timelock
        bytes4 notInviter = IAdmissions.AdmissionNotInviter.selector;
        _row("Membership.withdrawInvitation (alice's)", m, abi.encodeCall(membership.withdrawInvitation, (invitation)), [
            abi.encodeWithSelector(notInviter, invitation, outsider), abi.encodeWithSelector(notInviter, invitation, bob),
            OK, badSig, abi.encodeWithSelector(notInviter, invitation, guardian), abi.encodeWithSelector(notInviter, invitation, gov)
        ]);
        bytes4 wrong = IAdmissions.AdmissionWrongSecret.selector;
        bytes[6] memory wrongFor = [
            abi.encodeWithSelector(wrong, invitation, outsider), abi.encodeWithSelector(wrong, invitation, bob),
            abi.encodeWithSelector(wrong, invitation, alice), badSig, abi.encodeWithSelector(wrong, invitation, guardian),
            abi.encodeWithSelector(wrong, invitation, gov)
        ];
        _row("Membership.acceptInvitation (signed for bob)", m,
            abi.encodeCall(membership.acceptInvitation, (invitation, _acceptance(INVITATION_KEY, invitation, bob))), [
            wrongFor[0], OK, wrongFor[2], badSig, wrongFor[4], wrongFor[5]
        ]);
        _row("Membership.acceptInvitation (signed for the outsider)", m,
            abi.encodeCall(membership.acceptInvitation, (invitation, _acceptance(INVITATION_KEY, invitation, outsider))), [
            OK, wrongFor[1], wrongFor[2], badSig, wrongFor[4], wrongFor[5]
        ]);
        _row("Membership.acceptInvitation (bob's, signed with a wrong secret)", m,
            abi.encodeCall(membership.acceptInvitation, (invitation, _acceptance(JOINED_INVITATION_KEY, invitation, bob))), wrongFor);
    }

    function _invitationNominationRows(bytes memory badSig) internal {
        address b = address(badge);
        address gov = address(timelock); // governance's calls come from the timelock
        _row("ContributionBadge.nominate (an open invitation)", b,
            abi.encodeCall(badge.nominate, (invitation, 1, keccak256("e"), "u")), [
            _err(IContributionBadge.BadgeNotMember.selector, outsider), OK, OK, badSig,
            _err(IContributionBadge.BadgeNotMember.selector, guardian),
            _err(IContributionBadge.BadgeNotMember.selector, gov)
        ]);
        bytes4 notNominee = IContributionBadge.BadgeNotNominee.selector;
        bytes[6] memory onlyAlice = [
            abi.encodeWithSelector(notNominee, uint256(6), outsider), abi.encodeWithSelector(notNominee, uint256(6), bob),
            OK, badSig, abi.encodeWithSelector(notNominee, uint256(6), guardian),
            abi.encodeWithSelector(notNominee, uint256(6), gov)
        ];
        _row("ContributionBadge.acceptNomination (claim 6, to the invitation alice accepted)", b,
            abi.encodeCall(badge.acceptNomination, (6)), onlyAlice);
        _row("ContributionBadge.declineNomination (claim 6, to the invitation alice accepted)", b,
            abi.encodeCall(badge.declineNomination, (6)), onlyAlice);
        bytes memory notYet =
            abi.encodeWithSelector(IContributionBadge.BadgeContributorNotMember.selector, uint256(6), joinedInvitation);
        _row("ContributionBadge.attest (claim 6, before its nominee answers)", b, abi.encodeCall(badge.attest, (6)), [
            _err(IContributionBadge.BadgeNotMember.selector, outsider), notYet, notYet, badSig,
            _err(IContributionBadge.BadgeNotMember.selector, guardian),
            _err(IContributionBadge.BadgeNotMember.selector, gov)
        ]);
    }

    /// @dev Anyone deploys a passkey account (the relayer pays; the factory trusts no forwarder).
    function _passkeyFactoryRows() internal {
        address f = address(accountFactory);
        (bytes32 qx, bytes32 qy) = passkeyPublicKey(PASSKEY);
        (bytes32 x2, bytes32 y2) = passkeyPublicKey(PASSKEY + 1);
        bytes memory untrusted = abi.encodeWithSelector(ERC2771Forwarder.ERC2771UntrustfulTarget.selector, f, address(forwarder));
        _row("PasskeyAccountFactory.create (a new account)", f, abi.encodeCall(accountFactory.create, (x2, y2, 0)), [
            OK, OK, OK, untrusted, OK, OK
        ]);
        _row("PasskeyAccountFactory.create (an existing account)", f, abi.encodeCall(accountFactory.create, (qx, qy, 0)), [
            OK, OK, OK, untrusted, OK, OK
        ]);
    }

    /// @dev Anyone creates a community under a slug nobody holds yet (the caller is its creator and
    /// keeps no role in it); a slug held is refused to everyone, its creator included; each deployer
    /// deploys for anyone, at addresses salted by the caller. None trusts a forwarder.
    function _communityFactoryRows() internal {
        address f = address(factory);
        bytes memory untrusted = abi.encodeWithSelector(ERC2771Forwarder.ERC2771UntrustfulTarget.selector, f, address(forwarder));
        address[] memory founders = new address[](1);
        founders[0] = bob;
        _row("CommunityFactory.createCommunity (a new slug)", f, abi.encodeCall(factory.createCommunity, (communityConfig("second", founders))), [
            OK, OK, OK, untrusted, OK, OK
        ]);
        bytes memory taken = abi.encodeWithSelector(ICommunityFactory.CommunityFactorySlugTaken.selector, "test", address(this));
        _row("CommunityFactory.createCommunity (the slug of this community)", f, abi.encodeCall(factory.createCommunity, (communityConfig("test", founders))), [
            taken, taken, taken, untrusted, taken, taken
        ]);
        bytes32 salt = keccak256("salt");
        _anyone("ForwarderDeployer.deploy", address(factory.forwarderDeployer()), abi.encodeCall(ForwarderDeployer.deploy, (salt)));
        _anyone("MembershipDeployer.deploy", address(factory.membershipDeployer()),
            abi.encodeCall(MembershipDeployer.deploy, (salt, "Other", "OTH", founders, address(forwarder), bob)));
        _anyone("TimelockDeployer.deploy", address(factory.timelockDeployer()),
            abi.encodeCall(TimelockDeployer.deploy, (salt, 0, founders, founders, bob)));
        GovernorDeployer.GovernorArgs memory args = GovernorDeployer.GovernorArgs(
            "Other", IVotes(address(membership)), address(forwarder), 1, 60, 0, 50, timelock
        );
        _anyone("GovernorDeployer.deploy", address(factory.governorDeployer()), abi.encodeCall(GovernorDeployer.deploy, (salt, args)));
        _anyone("RegistryDeployer.deploy", address(factory.registryDeployer()), abi.encodeCall(RegistryDeployer.deploy, (salt, bob)));
        _anyone("BadgeDeployer.deploy", address(factory.badgeDeployer()),
            abi.encodeCall(BadgeDeployer.deploy, (salt, abi.encode("B", "B", membership, registry, address(forwarder), bob, factory.badgeMetadata(), address(0)))));
        _anyone("PasskeysDeployer.deploy", address(factory.passkeysDeployer()),
            abi.encodeCall(PasskeysDeployer.deploy, (salt, address(forwarder))));
    }

    /// @dev Anyone may make the call; the forwarder refuses to relay to a contract that trusts none.
    function _anyone(string memory name, address target, bytes memory data) internal {
        bytes memory untrusted = abi.encodeWithSelector(ERC2771Forwarder.ERC2771UntrustfulTarget.selector, target, address(forwarder));
        _row(name, target, data, [OK, OK, OK, untrusted, OK, OK]);
    }

    /// @dev Only the account itself changes its keys, which no column is: a request it signed
    /// with one of its passkeys, relayed (PasskeyAccount.t.sol). Nobody initialises an account
    /// twice, nor the implementation ever.
    function _passkeyAccountRows(bytes memory badSig) internal {
        address a = address(passkeyAccount);
        (bytes32 qx, bytes32 qy) = passkeyPublicKey(PASSKEY);
        (bytes32 x2, bytes32 y2) = passkeyPublicKey(PASSKEY + 1);
        bytes4 unauthorized = IPasskeyAccount.PasskeyAccountUnauthorized.selector;
        bytes[6] memory onlyItself = [
            _err(unauthorized, outsider), _err(unauthorized, bob), _err(unauthorized, alice), badSig,
            _err(unauthorized, guardian), _err(unauthorized, address(timelock))
        ];
        _row("PasskeyAccount.addKey", a, abi.encodeCall(passkeyAccount.addKey, (x2, y2)), onlyItself);
        _row("PasskeyAccount.removeKey", a, abi.encodeCall(passkeyAccount.removeKey, (qx, qy)), onlyItself);
        bytes memory once = abi.encodeWithSelector(Initializable.InvalidInitialization.selector);
        bytes memory initialize = abi.encodeCall(passkeyAccount.initialize, (x2, y2));
        _row("PasskeyAccount.initialize (again)", a, initialize, [once, once, once, badSig, once, once]);
        _row("PasskeyAccount.initialize (the implementation)", accountFactory.implementation(), initialize, [
            once, once, once, badSig, once, once
        ]);
    }

    /// @dev The last member cannot be removed: governance removes bob and carol first, then alice.
    function _lastMemberRow(bytes memory badSig) internal {
        address m = address(membership);
        string memory name = "Membership.remove (the last member)";
        preludes[uint256(keccak256(bytes(name)))].push(Call(m, abi.encodeCall(membership.remove, (bob))));
        preludes[uint256(keccak256(bytes(name)))].push(Call(m, abi.encodeCall(membership.remove, (carol))));
        bytes4 unauthorized = Ownable.OwnableUnauthorizedAccount.selector;
        _row(name, m, abi.encodeCall(membership.remove, (alice)), [
            _err(unauthorized, outsider), _err(unauthorized, bob), _err(unauthorized, alice), badSig,
            _err(unauthorized, guardian),
            _err(IMembership.MembershipLastMember.selector, alice)
        ]);
    }

    /// @dev Claim 3 was filed by dave, since removed: members' attestations are refused.
    function _removedContributorRow(bytes memory badSig) internal {
        bytes memory daveGone =
            abi.encodeWithSelector(IContributionBadge.BadgeContributorNotMember.selector, uint256(3), dave);
        _row("ContributionBadge.attest (claim of a removed member)", address(badge), abi.encodeCall(badge.attest, (3)), [
            _err(IContributionBadge.BadgeNotMember.selector, outsider), daveGone, daveGone, badSig,
            _err(IContributionBadge.BadgeNotMember.selector, guardian),
            _err(IContributionBadge.BadgeNotMember.selector, address(timelock))
        ]);
    }

    /// @dev Organisations and the community's fair-play rules: governance only, and the
    /// reciprocal window's bound holds even against governance.
    function _fairPlayRegistryRows(bytes memory untrusted) internal {
        address r = address(registry);
        _ownerOnly("IndicatorRegistry.addOrganisation", r, abi.encodeCall(registry.addOrganisation, ("Beta", "0xbeta")), untrusted);
        _ownerOnly("IndicatorRegistry.retireOrganisation", r, abi.encodeCall(registry.retireOrganisation, (1)), untrusted);
        _ownerOnly("IndicatorRegistry.setCommunityRules", r,
            abi.encodeCall(registry.setCommunityRules, (7 days, IIndicatorRegistry.ScoreRule.SquareRoot)), untrusted);
        _ownerOnly("IndicatorRegistry.setCaptureRules", r, abi.encodeCall(registry.setCaptureRules, ("{}")), untrusted);
        bytes4 unauthorized = Ownable.OwnableUnauthorizedAccount.selector;
        _row("IndicatorRegistry.setCommunityRules (366 days)", r,
            abi.encodeCall(registry.setCommunityRules, (366 days, IIndicatorRegistry.ScoreRule.Linear)), [
            _err(unauthorized, outsider), _err(unauthorized, bob), _err(unauthorized, alice), untrusted,
            _err(unauthorized, guardian),
            abi.encodeWithSelector(IIndicatorRegistry.RegistryReciprocalWindowTooLong.selector, 366 days, 365 days)
        ]);
    }

    /// @dev Members claim and nominate crediting organisation 1; attestWith on the ungated claim 2
    /// ignores the badge shown; on claim 5 (gated by indicator 1) only alice, holder of badge 1,
    /// may attest showing it.
    function _fairPlayBadgeRows(bytes memory badSig) internal {
        address b = address(badge);
        bytes memory outsiderNotMember = _err(IContributionBadge.BadgeNotMember.selector, outsider);
        bytes memory guardianNotMember = _err(IContributionBadge.BadgeNotMember.selector, guardian);
        bytes memory govNotMember = _err(IContributionBadge.BadgeNotMember.selector, address(timelock));
        _row("ContributionBadge.claimWithOrganisation", b,
            abi.encodeCall(badge.claimWithOrganisation, (1, 1, keccak256("e"), "u")), [
            outsiderNotMember, OK, OK, badSig, guardianNotMember, govNotMember
        ]);
        _row("ContributionBadge.nominateWithOrganisation", b,
            abi.encodeCall(badge.nominateWithOrganisation, (carol, 1, 1, keccak256("e"), "u")), [
            outsiderNotMember, OK, OK, badSig, guardianNotMember, govNotMember
        ]);
        _row("ContributionBadge.attestWith (ungated claim 2)", b, abi.encodeCall(badge.attestWith, (2, 1)), [
            outsiderNotMember, OK,
            abi.encodeWithSelector(IContributionBadge.BadgeSelfAttestation.selector, uint256(2), alice), badSig,
            guardianNotMember,
            govNotMember
        ]);
        _row("ContributionBadge.attestWith (claim 5, gated: badge 1 shown)", b, abi.encodeCall(badge.attestWith, (5, 1)), [
            outsiderNotMember,
            abi.encodeWithSelector(IContributionBadge.BadgeEndorserNotQualified.selector, uint256(5), bob, uint32(1), uint256(1)),
            OK, badSig, guardianNotMember, govNotMember
        ]);
    }

    /// @dev Consent: only the nominee answers claim 4; only the holder disowns badge 1; members
    /// hide their own profiles.
    function _consentRows(bytes memory badSig) internal {
        address b = address(badge);
        address gov = address(timelock); // governance's calls come from the timelock
        bytes4 notNominee = IContributionBadge.BadgeNotNominee.selector;
        bytes4 notHolder = IContributionBadge.BadgeNotHolder.selector;
        _row("ContributionBadge.acceptNomination", b, abi.encodeCall(badge.acceptNomination, (4)), [
            abi.encodeWithSelector(notNominee, uint256(4), outsider), abi.encodeWithSelector(notNominee, uint256(4), bob),
            OK, badSig, abi.encodeWithSelector(notNominee, uint256(4), guardian), abi.encodeWithSelector(notNominee, uint256(4), gov)
        ]);
        _row("ContributionBadge.declineNomination", b, abi.encodeCall(badge.declineNomination, (4)), [
            abi.encodeWithSelector(notNominee, uint256(4), outsider), abi.encodeWithSelector(notNominee, uint256(4), bob),
            OK, badSig, abi.encodeWithSelector(notNominee, uint256(4), guardian), abi.encodeWithSelector(notNominee, uint256(4), gov)
        ]);
        _row("ContributionBadge.disown", b, abi.encodeCall(badge.disown, (1)), [
            abi.encodeWithSelector(notHolder, uint256(1), outsider), abi.encodeWithSelector(notHolder, uint256(1), bob),
            OK, badSig, abi.encodeWithSelector(notHolder, uint256(1), guardian), abi.encodeWithSelector(notHolder, uint256(1), gov)
        ]);
        _row("ContributionBadge.setProfileHidden", b, abi.encodeCall(badge.setProfileHidden, (true)), [
            _err(IContributionBadge.BadgeNotMember.selector, outsider), OK, OK, badSig,
            _err(IContributionBadge.BadgeNotMember.selector, guardian),
            _err(IContributionBadge.BadgeNotMember.selector, gov)
        ]);
    }

    /// @dev Versions: governance alone moves the records, to a version naming the one that holds
    /// them; then anyone carries them over (nobody before), version 1 takes no member's write, and
    /// version 2 no claim until every record is carried.
    function _versionRows(bytes memory badSig, bytes memory untrusted) internal {
        address r = address(registry);
        address b = address(badge);
        bytes4 unauthorized = Ownable.OwnableUnauthorizedAccount.selector;
        _ownerOnly("IndicatorRegistry.moveRecords", r, abi.encodeCall(registry.moveRecords, (b, address(successor))), untrusted);
        _row("IndicatorRegistry.moveRecords (to a version of another community's badge)", r,
            abi.encodeCall(registry.moveRecords, (b, address(stranger))), [
            _err(unauthorized, outsider), _err(unauthorized, bob), _err(unauthorized, alice), untrusted,
            _err(unauthorized, guardian),
            abi.encodeWithSelector(IIndicatorRegistry.RegistryNotSuccessor.selector, b, address(stranger))
        ]);
        address[] memory known = new address[](4);
        (known[0], known[1], known[2], known[3]) = (alice, bob, carol, dave);
        bytes memory carry = abi.encodeCall(successor.carryOver, (100, attesterLists(successor, 1, badge.claimCount(), known)));
        bytes memory nothing = abi.encodeWithSelector(IBadgeVersions.BadgeNothingToCarry.selector);
        _row("ContributionBadge.carryOver (version 2, the records not moved)", address(successor), carry, [
            nothing, nothing, nothing, badSig, nothing, nothing
        ]);
        _afterTheMove("ContributionBadge.carryOver (version 2, the records moved)", address(successor), carry, [
            OK, OK, OK, badSig, OK, OK
        ]);
        _sealedRows(badSig);
    }

    function _sealedRows(bytes memory badSig) internal {
        address b = address(badge);
        address gov = address(timelock); // governance's calls come from the timelock
        bytes memory moved = abi.encodeWithSelector(IBadgeVersions.BadgeRecordsMoved.selector, address(successor));
        bytes memory claim = abi.encodeCall(badge.claim, (1, keccak256("e"), "u"));
        _afterTheMove("ContributionBadge.claim (version 1, the records moved)", b, claim, [
            _err(IContributionBadge.BadgeNotMember.selector, outsider), moved, moved, badSig,
            _err(IContributionBadge.BadgeNotMember.selector, guardian),
            _err(IContributionBadge.BadgeNotMember.selector, gov)
        ]);
        _afterTheMove("ContributionBadge.attest (version 1, the records moved)", b, abi.encodeCall(badge.attest, (2)), [
            _err(IContributionBadge.BadgeNotMember.selector, outsider), moved,
            abi.encodeWithSelector(IContributionBadge.BadgeSelfAttestation.selector, uint256(2), alice), badSig,
            _err(IContributionBadge.BadgeNotMember.selector, guardian),
            _err(IContributionBadge.BadgeNotMember.selector, gov)
        ]);
        bytes memory carrying = abi.encodeWithSelector(IBadgeVersions.BadgeRecordsCarrying.selector, 0);
        _afterTheMove("ContributionBadge.claim (version 2, carrying the records)", address(successor), claim, [
            carrying, carrying, carrying, badSig, carrying, carrying
        ]);
    }

    /// @dev A row whose call comes after governance moved the records to version 2, in every column.
    function _afterTheMove(string memory name, address target, bytes memory data, bytes[COLUMNS] memory expected) internal {
        arrangements[uint256(keccak256(bytes(name)))].push(Call(address(registry), abi.encodeCall(registry.moveRecords, (address(badge), address(successor)))));
        _row(name, target, data, expected);
    }

    function _governorRows(bytes memory badSig) internal {
        address g = address(governor);
        address gov = address(timelock); // governance's calls come from the timelock
        bytes memory notMemberOutsider = _err(CommunityGovernor.GovernorNotMember.selector, outsider);
        bytes memory notMemberGuardian = _err(CommunityGovernor.GovernorNotMember.selector, guardian);
        bytes memory notMemberGov = _err(CommunityGovernor.GovernorNotMember.selector, gov);
        (address[] memory targets, uint256[] memory values, bytes[] memory calldatas) =
            _one(address(membership), abi.encodeCall(membership.admit, (outsider)));
        _row("CommunityGovernor.propose", g, abi.encodeCall(governor.propose, (targets, values, calldatas, "new")), [
            notMemberOutsider, OK, OK, badSig, notMemberGuardian, notMemberGov
        ]);
        _row("CommunityGovernor.castVote", g, abi.encodeCall(governor.castVote, (P, 1)), [
            notMemberOutsider, OK, OK, badSig, notMemberGuardian, notMemberGov
        ]);
        _row("CommunityGovernor.castVoteWithReason", g, abi.encodeCall(governor.castVoteWithReason, (P, 1, "why")), [
            notMemberOutsider, OK, OK, badSig, notMemberGuardian, notMemberGov
        ]);
        _row("CommunityGovernor.castVoteWithReasonAndParams", g,
            abi.encodeCall(governor.castVoteWithReasonAndParams, (P, 1, "why", "")), [
            notMemberOutsider, OK, OK, badSig, notMemberGuardian, notMemberGov
        ]);
        _row("CommunityGovernor.castVoteBySig (signed by an outsider)", g, _outsiderBallot(false), [
            notMemberOutsider, notMemberOutsider, notMemberOutsider, badSig, notMemberOutsider, notMemberOutsider
        ]);
        _row("CommunityGovernor.castVoteWithReasonAndParamsBySig (signed by an outsider)", g, _outsiderBallot(true), [
            notMemberOutsider, notMemberOutsider, notMemberOutsider, badSig, notMemberOutsider, notMemberOutsider
        ]);
        _queueAndExecuteRows(badSig);
        _cancelRows(badSig);
        _executorOnly("CommunityGovernor.relay (admit: the governor owns nothing)", abi.encodeCall(governor.relay, (address(membership), 0, abi.encodeCall(membership.admit, (newcomer)))), badSig,
            _err(Ownable.OwnableUnauthorizedAccount.selector, g));
        (bytes32 x2, bytes32 y2) = passkeyPublicKey(PASSKEY + 1);
        _executorOnly("CommunityGovernor.relay (a call anyone may make)", abi.encodeCall(governor.relay, (address(accountFactory), 0, abi.encodeCall(accountFactory.create, (x2, y2, 0)))), badSig);
        _executorOnly("CommunityGovernor.setVotingDelay", abi.encodeCall(governor.setVotingDelay, (5)), badSig);
        _executorOnly("CommunityGovernor.setVotingPeriod", abi.encodeCall(governor.setVotingPeriod, (150)), badSig);
        _executorOnly("CommunityGovernor.setProposalThreshold", abi.encodeCall(governor.setProposalThreshold, (1)), badSig);
        _executorOnly("CommunityGovernor.updateQuorumNumerator", abi.encodeCall(governor.updateQuorumNumerator, (40)), badSig);
        // Out of bounds: refused even to governance, so no proposal can brick governance.
        _executorOnly("CommunityGovernor.setVotingDelay (2**48 - 1)", abi.encodeCall(governor.setVotingDelay, (type(uint48).max)), badSig,
            abi.encodeWithSelector(CommunityGovernor.GovernorVotingDelayOutOfRange.selector, uint256(type(uint48).max), 0, 30 days));
        _executorOnly("CommunityGovernor.setVotingPeriod (59 s)", abi.encodeCall(governor.setVotingPeriod, (59)), badSig,
            abi.encodeWithSelector(CommunityGovernor.GovernorVotingPeriodOutOfRange.selector, 59, 60, 30 days));
        _executorOnly("CommunityGovernor.setProposalThreshold (2 votes)", abi.encodeCall(governor.setProposalThreshold, (2)), badSig,
            abi.encodeWithSelector(CommunityGovernor.GovernorProposalThresholdOutOfRange.selector, 2, 0, 1));
        _executorOnly("CommunityGovernor.updateQuorumNumerator (0 %)", abi.encodeCall(governor.updateQuorumNumerator, (0)), badSig,
            abi.encodeWithSelector(CommunityGovernor.GovernorQuorumOutOfRange.selector, 0, 1, 100));
        // The guardian and the timelock: set by governance alone (the guardian cannot replace itself).
        _executorOnly("CommunityGovernor.setProposalGuardian", abi.encodeCall(governor.setProposalGuardian, (bob)), badSig);
        _executorOnly("CommunityGovernor.setProposalGuardian (none)", abi.encodeCall(governor.setProposalGuardian, (address(0))), badSig);
        _executorOnly("CommunityGovernor.updateTimelock", abi.encodeCall(governor.updateTimelock, (spareTimelock)), badSig);
        _executorOnly("CommunityGovernor.updateTimelock (one the governor cannot use)", abi.encodeCall(governor.updateTimelock, (orphanTimelock)), badSig,
            _err(CommunityGovernor.GovernorTimelockWithoutGovernor.selector, address(orphanTimelock)));
        // Deposits: the timelock holds the community's funds, the governor none.
        bytes memory noDeposit = abi.encodeWithSelector(IGovernor.GovernorDisabledDeposit.selector);
        bytes[COLUMNS] memory noDeposits = [noDeposit, noDeposit, noDeposit, badSig, noDeposit, noDeposit];
        _row("CommunityGovernor.receive", g, "", noDeposits);
        _row("CommunityGovernor.onERC721Received", g, abi.encodeCall(governor.onERC721Received, (alice, alice, 1, "")), noDeposits);
        _row("CommunityGovernor.onERC1155Received", g, abi.encodeCall(governor.onERC1155Received, (alice, alice, 1, 1, "")), noDeposits);
        _row("CommunityGovernor.onERC1155BatchReceived", g,
            abi.encodeCall(governor.onERC1155BatchReceived, (alice, alice, new uint256[](1), new uint256[](1), "")), noDeposits);
    }

    /// @dev Anyone queues a succeeded proposal and executes a queued one once its delay has
    /// passed (0 here); a succeeded proposal not yet queued does not run, whoever asks.
    function _queueAndExecuteRows(bytes memory badSig) internal {
        address g = address(governor);
        (address[] memory targets, uint256[] memory values, bytes[] memory calldatas) =
            _one(address(membership), abi.encodeCall(membership.admit, (newcomer)));
        bytes32 sHash = keccak256("S");
        bytes memory notQueued = abi.encodeWithSelector(
            IGovernor.GovernorUnexpectedProposalState.selector, S, IGovernor.ProposalState.Succeeded,
            bytes32(1 << uint8(IGovernor.ProposalState.Queued))
        );
        _row("CommunityGovernor.execute (a succeeded proposal, not queued)", g,
            abi.encodeCall(governor.execute, (targets, values, calldatas, sHash)), [
            notQueued, notQueued, notQueued, badSig, notQueued, notQueued
        ]);
        _row("CommunityGovernor.queue (a succeeded proposal)", g, abi.encodeCall(governor.queue, (targets, values, calldatas, sHash)), [
            OK, OK, OK, badSig, OK, OK
        ]);
        (targets, values, calldatas) = _dCalls();
        _row("CommunityGovernor.execute (a queued proposal, its delay passed)", g,
            abi.encodeCall(governor.execute, (targets, values, calldatas, keccak256("D"))), [OK, OK, OK, badSig, OK, OK]);
        bytes memory queuedAlready = abi.encodeWithSelector(
            IGovernor.GovernorUnexpectedProposalState.selector, D, IGovernor.ProposalState.Queued,
            bytes32(1 << uint8(IGovernor.ProposalState.Succeeded))
        );
        _row("CommunityGovernor.queue (a queued proposal)", g, abi.encodeCall(governor.queue, (targets, values, calldatas, keccak256("D"))), [
            queuedAlready, queuedAlready, queuedAlready, badSig, queuedAlready, queuedAlready
        ]);
    }

    /// @dev The guardian cancels at any stage; otherwise only the proposer, and only before voting
    /// opens; governance itself cannot (it votes a proposal down instead).
    function _cancelRows(bytes memory badSig) internal {
        address g = address(governor);
        bytes4 unable = IGovernor.GovernorUnableToCancel.selector;
        (address[] memory targets, uint256[] memory values, bytes[] memory calldatas) =
            _one(address(registry), abi.encodeCall(registry.retireIndicator, (1)));
        _row("CommunityGovernor.cancel (Q: alice's, pending)", g, abi.encodeCall(governor.cancel, (targets, values, calldatas, keccak256("Q"))), [
            abi.encodeWithSelector(unable, Q, outsider), abi.encodeWithSelector(unable, Q, bob), OK, badSig, OK,
            abi.encodeWithSelector(unable, Q, address(timelock))
        ]);
        _row("CommunityGovernor.cancel (P: bob's, open to votes)", g, abi.encodeCall(governor.cancel, (targets, values, calldatas, keccak256("P"))), [
            abi.encodeWithSelector(unable, P, outsider), abi.encodeWithSelector(unable, P, bob),
            abi.encodeWithSelector(unable, P, alice), badSig, OK, abi.encodeWithSelector(unable, P, address(timelock))
        ]);
        (targets, values, calldatas) = _one(address(membership), abi.encodeCall(membership.admit, (newcomer)));
        _row("CommunityGovernor.cancel (S: bob's, succeeded)", g, abi.encodeCall(governor.cancel, (targets, values, calldatas, keccak256("S"))), [
            abi.encodeWithSelector(unable, S, outsider), abi.encodeWithSelector(unable, S, bob),
            abi.encodeWithSelector(unable, S, alice), badSig, OK, abi.encodeWithSelector(unable, S, address(timelock))
        ]);
        (targets, values, calldatas) = _dCalls();
        _row("CommunityGovernor.cancel (D: bob's, queued)", g, abi.encodeCall(governor.cancel, (targets, values, calldatas, keccak256("D"))), [
            abi.encodeWithSelector(unable, D, outsider), abi.encodeWithSelector(unable, D, bob),
            abi.encodeWithSelector(unable, D, alice), badSig, OK, abi.encodeWithSelector(unable, D, address(timelock))
        ]);
    }

    /// @dev The timelock: only the governor schedules and cancels (through queue and cancel);
    /// anyone executes what is ready, nothing else; only the timelock itself, that is a proposal
    /// that waited the delay, changes the delay (within bounds) and the roles. It trusts no forwarder.
    function _timelockRows() internal {
        bytes memory untrusted =
            abi.encodeWithSelector(ERC2771Forwarder.ERC2771UntrustfulTarget.selector, address(timelock), address(forwarder));
        _timelockScheduleRows(untrusted);
        _timelockExecuteRows(untrusted);
        _timelockAdminRows(untrusted);
        // Receiving: the timelock holds the community's funds and tokens, from anyone.
        address t = address(timelock);
        bytes[COLUMNS] memory anyone = [OK, OK, OK, untrusted, OK, OK];
        _row("CommunityTimelock.receive", t, "", anyone);
        _row("CommunityTimelock.onERC721Received", t, abi.encodeCall(timelock.onERC721Received, (alice, alice, 1, "")), anyone);
        _row("CommunityTimelock.onERC1155Received", t, abi.encodeCall(timelock.onERC1155Received, (alice, alice, 1, 1, "")), anyone);
        _row("CommunityTimelock.onERC1155BatchReceived", t,
            abi.encodeCall(timelock.onERC1155BatchReceived, (alice, alice, new uint256[](1), new uint256[](1), "")), anyone);
    }

    function _timelockScheduleRows(bytes memory untrusted) internal {
        address t = address(timelock);
        bytes32 proposer = timelock.PROPOSER_ROLE();
        bytes memory admit = abi.encodeCall(membership.admit, (newcomer));
        _row("CommunityTimelock.schedule", t, abi.encodeCall(timelock.schedule, (address(membership), 0, admit, 0, 0, 0)),
            _lacking(proposer, untrusted));
        (address[] memory targets, uint256[] memory values, bytes[] memory calldatas) = _one(address(membership), admit);
        _row("CommunityTimelock.scheduleBatch", t, abi.encodeCall(timelock.scheduleBatch, (targets, values, calldatas, 0, 0, 0)),
            _lacking(proposer, untrusted));
        _row("CommunityTimelock.cancel (D's operation)", t, abi.encodeCall(timelock.cancel, (_dOperation())),
            _lacking(timelock.CANCELLER_ROLE(), untrusted));
    }

    /// @dev D's operation in the timelock, as the governor queued it.
    function _dOperation() internal view returns (bytes32) {
        (address[] memory targets, uint256[] memory values, bytes[] memory calldatas) = _dCalls();
        return timelock.hashOperationBatch(targets, values, calldatas, 0, _salt(keccak256("D")));
    }

    function _timelockExecuteRows(bytes memory untrusted) internal {
        address t = address(timelock);
        bytes memory admit = abi.encodeCall(membership.admit, (newcomer));
        (address[] memory dTargets, uint256[] memory dValues, bytes[] memory dCalldatas) = _dCalls();
        _row("CommunityTimelock.executeBatch (D's operation, ready)", t,
            abi.encodeCall(timelock.executeBatch, (dTargets, dValues, dCalldatas, 0, _salt(keccak256("D")))), [
            OK, OK, OK, untrusted, OK, OK
        ]);
        bytes memory notScheduled = abi.encodeWithSelector(
            TimelockController.TimelockUnexpectedOperationState.selector, timelock.hashOperation(address(membership), 0, admit, 0, 0), _readyState()
        );
        _row("CommunityTimelock.execute (never scheduled)", t, abi.encodeCall(timelock.execute, (address(membership), 0, admit, 0, 0)), [
            notScheduled, notScheduled, notScheduled, untrusted, notScheduled, notScheduled
        ]);
        (address[] memory targets, uint256[] memory values, bytes[] memory calldatas) = _one(address(membership), admit);
        notScheduled = abi.encodeWithSelector(
            TimelockController.TimelockUnexpectedOperationState.selector, timelock.hashOperationBatch(targets, values, calldatas, 0, 0), _readyState()
        );
        _row("CommunityTimelock.executeBatch (never scheduled)", t, abi.encodeCall(timelock.executeBatch, (targets, values, calldatas, 0, 0)), [
            notScheduled, notScheduled, notScheduled, untrusted, notScheduled, notScheduled
        ]);
    }

    function _timelockAdminRows(bytes memory untrusted) internal {
        address t = address(timelock);
        bytes32 proposer = timelock.PROPOSER_ROLE();
        bytes4 notItself = TimelockController.TimelockUnauthorizedCaller.selector;
        _row("CommunityTimelock.updateDelay", t, abi.encodeCall(timelock.updateDelay, (1 hours)), [
            _err(notItself, outsider), _err(notItself, bob), _err(notItself, alice), untrusted, _err(notItself, guardian), OK
        ]);
        _row("CommunityTimelock.updateDelay (30 days and a second)", t, abi.encodeCall(timelock.updateDelay, (30 days + 1)), [
            _err(notItself, outsider), _err(notItself, bob), _err(notItself, alice), untrusted, _err(notItself, guardian),
            abi.encodeWithSelector(CommunityTimelock.TimelockDelayOutOfRange.selector, 30 days + 1, 0, 30 days)
        ]);
        bytes32 admin = timelock.DEFAULT_ADMIN_ROLE();
        bytes[COLUMNS] memory adminOnly = _lacking(admin, untrusted);
        adminOnly[5] = OK;
        _row("CommunityTimelock.grantRole (proposer, to the outsider)", t, abi.encodeCall(timelock.grantRole, (proposer, outsider)), adminOnly);
        // No vote can leave nobody to propose, nor take the timelock's administration of itself away.
        bytes[COLUMNS] memory lastProposer = _lacking(admin, untrusted);
        lastProposer[5] = abi.encodeWithSelector(CommunityTimelock.TimelockRoleRequired.selector, proposer, address(governor));
        _row("CommunityTimelock.revokeRole (the governor's proposer role)", t, abi.encodeCall(timelock.revokeRole, (proposer, address(governor))), lastProposer);
        string memory second = "CommunityTimelock.revokeRole (a second proposer's role)";
        preludes[uint256(keccak256(bytes(second)))].push(Call(t, abi.encodeCall(timelock.grantRole, (proposer, outsider))));
        _row(second, t, abi.encodeCall(timelock.revokeRole, (proposer, outsider)), adminOnly);
        bytes memory notTheirs = abi.encodeWithSelector(IAccessControl.AccessControlBadConfirmation.selector);
        _row("CommunityTimelock.renounceRole (the governor's proposer role)", t, abi.encodeCall(timelock.renounceRole, (proposer, address(governor))), [
            notTheirs, notTheirs, notTheirs, untrusted, notTheirs, notTheirs
        ]);
        _row("CommunityTimelock.renounceRole (its own admin role)", t, abi.encodeCall(timelock.renounceRole, (admin, t)), [
            notTheirs, notTheirs, notTheirs, untrusted, notTheirs,
            abi.encodeWithSelector(CommunityTimelock.TimelockRoleRequired.selector, admin, t)
        ]);
    }
    // forgefmt: disable-end

    // ---------------------------------------------------------------- row builders

    function _row(string memory name, address target, bytes memory data, bytes[COLUMNS] memory expected) internal {
        Row storage row = rows.push();
        row.name = name;
        row.target = target;
        row.data = data;
        for (uint256 i = 0; i < COLUMNS; ++i) {
            row.expected[i] = expected[i];
        }
    }

    function _ownerOnly(string memory name, address target, bytes memory data, bytes memory relayed) internal {
        bytes4 unauthorized = Ownable.OwnableUnauthorizedAccount.selector;
        _row(
            name,
            target,
            data,
            [
                _err(unauthorized, outsider),
                _err(unauthorized, bob),
                _err(unauthorized, alice),
                relayed,
                _err(unauthorized, guardian),
                OK
            ]
        );
    }

    function _executorOnly(string memory name, bytes memory data, bytes memory relayed) internal {
        _executorOnly(name, data, relayed, OK);
    }

    function _executorOnly(string memory name, bytes memory data, bytes memory relayed, bytes memory byGovernance)
        internal
    {
        bytes4 onlyExecutor = IGovernor.GovernorOnlyExecutor.selector;
        _row(
            name,
            address(governor),
            data,
            [
                _err(onlyExecutor, outsider),
                _err(onlyExecutor, bob),
                _err(onlyExecutor, alice),
                relayed,
                _err(onlyExecutor, guardian),
                byGovernance
            ]
        );
    }

    /// @dev Every transfer and approval of a soulbound token reverts, whoever asks.
    function _locked(string memory name, address token, uint256 tokenId, bytes memory relayed) internal {
        bytes memory locked = abi.encodeWithSelector(SoulboundERC721.SoulboundTokenLocked.selector, tokenId);
        bytes memory noOperators = abi.encodeWithSelector(SoulboundERC721.SoulboundApprovalDisabled.selector);
        _row(
            string.concat(name, ".transferFrom"),
            token,
            abi.encodeWithSignature("transferFrom(address,address,uint256)", alice, bob, tokenId),
            [locked, locked, locked, relayed, locked, locked]
        );
        _row(
            string.concat(name, ".safeTransferFrom"),
            token,
            abi.encodeWithSignature("safeTransferFrom(address,address,uint256)", alice, bob, tokenId),
            [locked, locked, locked, relayed, locked, locked]
        );
        _row(
            string.concat(name, ".safeTransferFrom(bytes)"),
            token,
            abi.encodeWithSignature("safeTransferFrom(address,address,uint256,bytes)", alice, bob, tokenId, ""),
            [locked, locked, locked, relayed, locked, locked]
        );
        _row(
            string.concat(name, ".approve"),
            token,
            abi.encodeWithSignature("approve(address,uint256)", bob, tokenId),
            [locked, locked, locked, relayed, locked, locked]
        );
        _row(
            string.concat(name, ".setApprovalForAll"),
            token,
            abi.encodeWithSignature("setApprovalForAll(address,bool)", bob, true),
            [noOperators, noOperators, noOperators, relayed, noOperators, noOperators]
        );
    }

    // ---------------------------------------------------------------- signatures

    function _outsiderDelegationBySig() internal view returns (bytes memory) {
        uint256 expiry = block.timestamp + 1 days;
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Delegation(address delegatee,uint256 nonce,uint256 expiry)"), carol, uint256(0), expiry
            )
        );
        (uint8 v, bytes32 rr, bytes32 s) =
            vm.sign(OUTSIDER_KEY, _digest("Test Commons", address(membership), structHash));
        return abi.encodeCall(membership.delegateBySig, (carol, 0, expiry, v, rr, s));
    }

    function _outsiderBallot(bool extended) internal view returns (bytes memory) {
        bytes32 structHash = extended
            ? keccak256(
                abi.encode(
                    keccak256(
                        "ExtendedBallot(uint256 proposalId,uint8 support,address voter,uint256 nonce,string reason,bytes params)"
                    ),
                    P,
                    uint8(1),
                    outsider,
                    uint256(0),
                    keccak256("why"),
                    keccak256("")
                )
            )
            : keccak256(
                abi.encode(
                    keccak256("Ballot(uint256 proposalId,uint8 support,address voter,uint256 nonce)"),
                    P,
                    uint8(1),
                    outsider,
                    uint256(0)
                )
            );
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(OUTSIDER_KEY, _digest("Test Commons", address(governor), structHash));
        bytes memory signature = abi.encodePacked(rr, s, v);
        return extended
            ? abi.encodeCall(governor.castVoteWithReasonAndParamsBySig, (P, 1, outsider, "why", "", signature))
            : abi.encodeCall(governor.castVoteBySig, (P, 1, outsider, signature));
    }

    /// @dev InvitationAcceptance(accepted, account) signed with `secret` (the key of `accepted`, or
    /// another: a wrong secret), in the community's Membership's domain.
    function _acceptance(uint256 secret, address accepted, address account) internal view returns (bytes memory) {
        bytes32 structHash = keccak256(
            abi.encode(keccak256("InvitationAcceptance(address invitation,address account)"), accepted, account)
        );
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(secret, _digest("Test Commons", address(membership), structHash));
        return abi.encodePacked(rr, s, v);
    }

    function _digest(string memory name, address verifier, bytes32 structHash) internal view returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256(bytes(name)),
                keccak256("1"),
                block.chainid,
                verifier
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    // ---------------------------------------------------------------- governance helpers

    function _one(address target, bytes memory data)
        internal
        pure
        returns (address[] memory targets, uint256[] memory values, bytes[] memory calldatas)
    {
        targets = new address[](1);
        targets[0] = target;
        values = new uint256[](1);
        calldatas = new bytes[](1);
        calldatas[0] = data;
    }

    function _proposeAs(address proposer, address target, bytes memory data, string memory description)
        internal
        returns (uint256)
    {
        (address[] memory targets, uint256[] memory values, bytes[] memory calldatas) = _one(target, data);
        vm.prank(proposer);
        return governor.propose(targets, values, calldatas, description);
    }

    function _voteAll(uint256 id) internal {
        vm.prank(alice);
        governor.castVote(id, 1);
        vm.prank(bob);
        governor.castVote(id, 1);
        vm.prank(carol);
        governor.castVote(id, 1);
    }

    function _pass(address target, bytes memory data, string memory description) internal {
        uint256 id = _proposeAs(alice, target, data, description);
        vm.warp(governor.proposalSnapshot(id) + 1);
        _voteAll(id);
        vm.warp(governor.proposalDeadline(id) + 1);
        (address[] memory targets, uint256[] memory values, bytes[] memory calldatas) = _one(target, data);
        (bool ok,) = queueAndExecute(targets, values, calldatas, keccak256(bytes(description)));
        require(ok, string.concat("setup: ", description, " refused"));
    }

    /// @dev Queues D (bob's organisation Delta) in the timelock.
    function _queue(uint256 id) internal {
        (address[] memory targets, uint256[] memory values, bytes[] memory calldatas) = _dCalls();
        governor.queue(targets, values, calldatas, keccak256("D"));
        require(governor.proposalEta(id) == block.timestamp, "setup: D's eta is not now (delay 0)");
    }

    function _dCalls()
        internal
        view
        returns (address[] memory targets, uint256[] memory values, bytes[] memory calldatas)
    {
        return _one(address(registry), abi.encodeCall(registry.addOrganisation, ("Delta", "delta.example")));
    }

    /// @dev Refused for lack of `role` to every column, the forwarder's aside (`relayed`).
    function _lacking(bytes32 role, bytes memory relayed) internal view returns (bytes[COLUMNS] memory) {
        bytes4 unauthorized = IAccessControl.AccessControlUnauthorizedAccount.selector;
        return [
            abi.encodeWithSelector(unauthorized, outsider, role),
            abi.encodeWithSelector(unauthorized, bob, role),
            abi.encodeWithSelector(unauthorized, alice, role),
            relayed,
            abi.encodeWithSelector(unauthorized, guardian, role),
            abi.encodeWithSelector(unauthorized, address(timelock), role)
        ];
    }

    /// @dev The timelock's salt for a proposal of the governor (GovernorTimelockControl's).
    function _salt(bytes32 descriptionHash) internal view returns (bytes32) {
        return bytes20(address(governor)) ^ descriptionHash;
    }

    function _readyState() internal pure returns (bytes32) {
        return bytes32(1 << uint8(TimelockController.OperationState.Ready));
    }

    function _err(bytes4 selector, address account) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector, account);
    }

    function _show(bytes memory data) internal pure returns (string memory) {
        return data.length == 0 ? "success" : Strings.toHexString(uint256(uint32(bytes4(data))), 4);
    }
}
