// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ContributionBadge} from "../contracts/ContributionBadge.sol";
import {IndicatorRegistry} from "../contracts/IndicatorRegistry.sol";
import {ContributionBadgeV2} from "../contracts/versions/ContributionBadgeV2.sol";
import {IBadgeVersions} from "../contracts/interfaces/IBadgeVersions.sol";
import {IContributionBadge} from "../contracts/interfaces/IContributionBadge.sol";
import {IIndicatorRegistry} from "../contracts/interfaces/IIndicatorRegistry.sol";
import {Community} from "./utils/Community.sol";
import {TestBase} from "./utils/Vm.sol";
import {Versions} from "./utils/Versions.sol";

/// @notice Moving a community's records to a later version of the badge contract
/// (IBadgeVersions), against hostile or mistaken calls: who may move them and to what, carrying
/// them over with wrong attester lists, and every write of the version left behind; and the known
/// bugs found (skipped reproducers). Random histories carried over: invariant/VersionInvariants.t.sol.
contract VersionsTest is TestBase, Community, Versions {
    address internal alice = address(0xA11CE);
    address internal bob = address(0xB0B);
    address internal carol = address(0xCA201);
    address internal dave = address(0xDA7E);
    address internal outsider = address(0x0B5);
    address internal gov;
    address[] internal known;
    uint256 internal constant NOW = 1_750_000_000; // 15 June 2025
    uint256 internal constant DAY_ENDS = (NOW / 1 days + 1) * 1 days; // when indicator 4's cap period ends

    /// @dev A write of the first version and who makes it.
    struct Write {
        string name;
        address sender;
        bytes data;
    }

    /// @dev The history the records carry: claims 1-8 (bob, alice, carol and dave members).
    /// 1 alice's, minted (bob and carol attested); 2 alice's, open (carol attested);
    /// 3 bob's nomination of carol, open (alice attested); 4 bob's nomination of alice, declined
    /// (carol attested before); 5 carol's, crediting organisation 1, minted (bob) and revoked;
    /// 6 bob's, minted (alice and carol) and disowned; 7 alice's of indicator 3, open (bob, then
    /// dave while the reciprocal window was on); 8 alice's of indicator 4, minted (bob): the
    /// indicator's one badge earned and one claim attested a day, used. Carol's profile is hidden.
    function setUp() public {
        // A chain's clock (cap periods are counted from the Unix epoch; see the known bugs below).
        vm.warp(NOW);
        address[] memory founders = new address[](4);
        (founders[0], founders[1], founders[2], founders[3]) = (alice, bob, carol, dave);
        deployCommunity(founders);
        gov = address(timelock);
        known = new address[](5);
        (known[0], known[1], known[2], known[3], known[4]) = (dave, carol, bob, alice, outsider);
        vm.startPrank(gov);
        registry.addIndicator(indicator("Mentoring", 2, 0)); // 1
        registry.addIndicator(indicator("Review", 1, 100)); // 2: counts 100 s
        registry.addIndicator(indicator("Translation", 3, 0)); // 3
        IIndicatorRegistry.IndicatorInput memory capped = indicator("Organising", 1, 0);
        (capped.earnCap, capped.attestCap, capped.capPeriod) = (1, 1, 1 days);
        registry.addIndicator(capped); // 4
        registry.addOrganisation("Acme", "acme.example");
        vm.stopPrank();

        _claim(alice, 1, bob, carol); // 1
        _claim(alice, 1, carol, address(0)); // 2
        _nominate(bob, carol, 1, alice); // 3
        _nominate(bob, alice, 2, carol); // 4
        vm.prank(alice);
        badge.declineNomination(4);
        vm.prank(carol);
        badge.claimWithOrganisation(2, 1, keccak256("e5"), "u"); // 5
        _attest(bob, 5);
        vm.prank(gov);
        badge.revoke(5, "a mistake");
        _claim(bob, 1, alice, carol); // 6
        vm.prank(bob);
        badge.disown(6);
        _claim(alice, 3, bob, address(0)); // 7
        vm.prank(gov);
        registry.setCommunityRules(600, IIndicatorRegistry.ScoreRule.Linear);
        _attest(dave, 7);
        _claim(alice, 4, bob, address(0)); // 8
        vm.prank(carol);
        badge.setProfileHidden(true);
        require(badge.claimCount() == 8 && badge.balanceOf(alice) == 2, "setup: history");
    }

    // ---------------------------------------------------------------- moving the records

    /// The records move, are carried over two claims a call (the claims refused until the last),
    /// and the next version holds them as they were and carries on: its own attestations of an
    /// open claim mint as they would have, and the fair-play rules see what was done before.
    function test_recordsMoveAndCarryOverAsTheyWere() public {
        ContributionBadgeV2 next = deploySuccessor(badge);
        assertTrue(next.version() == 2 && next.predecessor() == address(badge), "version 2 naming version 1");
        vm.expectEmit(address(registry));
        emit IIndicatorRegistry.RecordsMoved(address(badge), address(next), 8);
        _move(badge, next);
        assertEq(registry.records(), address(next), "the registry names version 2");
        for (uint256 first = 1; first <= 8; first += 2) {
            _refusedWhileCarrying(next, first - 1);
            address[][] memory lists = attesterLists(next, first, first + 1, known);
            vm.expectEmit(address(next));
            emit IBadgeVersions.RecordsCarried(first, first + 1);
            vm.prank(outsider); // anyone
            next.carryOver(2, lists);
            assertEq(next.claimCount(), first + 1, "claims carried so far");
        }
        for (uint256 id = 1; id <= 8; ++id) {
            assertEq(recordOf(next, id), recordOf(badge, id), "record carried as it was");
            assertTrue(next.isActive(id) == badge.isActive(id), "counts as it did");
            for (uint256 i = 0; i < known.length; ++i) {
                assertTrue(next.hasAttested(id, known[i]) == badge.hasAttested(id, known[i]), "who attested");
            }
        }
        for (uint256 i = 0; i < known.length; ++i) {
            assertEq(next.balanceOf(known[i]), badge.balanceOf(known[i]), "badges held");
            assertTrue(next.profileHidden(known[i]) == badge.profileHidden(known[i]), "profiles hidden");
        }
        assertEq(next.organisationOf(5), 1, "organisation credited");
        assertEq(next.lastEndorsed(dave, alice, 3), badge.lastEndorsed(dave, alice, 3), "reciprocal window");
        assertTrue(next.lastEndorsed(dave, alice, 3) != 0, "endorsed while the window was on");

        // Claim 7's attesters were carried: bob cannot attest again, a third member mints it.
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeAlreadyAttested.selector, 7, bob));
        vm.prank(bob);
        next.attest(7);
        _attestOn(next, carol, 7);
        assertEq(next.ownerOf(7), alice, "minted by the third attestation, in version 2");
        assertEq(badge.balanceOf(alice), 2, "version 1 holds what it held");
        // Claim 3's: carol, the nominee, accepts; alice's carried attestation is not enough (2).
        vm.prank(carol);
        next.acceptNomination(3);
        _attestOn(next, bob, 3);
        assertEq(next.ownerOf(3), carol, "a carried nomination accepted and minted");

        // New claims take the ids after the carried ones; the rules see version 1's history.
        vm.prank(dave);
        assertEq(next.claim(3, keccak256("e9"), "u"), 9, "the next claim id");
        uint40 endorsedAt = next.lastEndorsed(dave, alice, 3);
        vm.expectRevert(
            abi.encodeWithSelector(
                IContributionBadge.BadgeReciprocalEndorsement.selector, 9, alice, dave, uint256(endorsedAt) + 600
            )
        );
        vm.prank(alice);
        next.attest(9);
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeEarnCapReached.selector, alice, 4, 1, DAY_ENDS));
        vm.prank(alice);
        next.claim(4, keccak256("e"), "u");
        vm.prank(carol);
        uint256 carols = next.claim(4, keccak256("e"), "u");
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeAttestCapReached.selector, bob, 4, 1, DAY_ENDS));
        vm.prank(bob);
        next.attest(carols);
        _attestOn(next, dave, carols);
        assertEq(next.ownerOf(carols), carol, "another member's tally is their own");
    }

    /// The version left behind takes no write, whoever makes it, each of which it took before.
    function test_theFirstVersionTakesNoWriteOnceTheRecordsMoved() public {
        Write[] memory writes = _writesOfVersion1();
        for (uint256 i = 0; i < writes.length; ++i) {
            uint256 before = vm.snapshotState();
            vm.prank(writes[i].sender);
            (bool ok,) = address(badge).call(writes[i].data);
            assertTrue(ok, string.concat(writes[i].name, ": refused before the move"));
            vm.revertToState(before);
        }
        ContributionBadgeV2 next = deploySuccessor(badge);
        _move(badge, next);
        bytes memory moved = abi.encodeWithSelector(IBadgeVersions.BadgeRecordsMoved.selector, address(next));
        for (uint256 i = 0; i < writes.length; ++i) {
            vm.prank(writes[i].sender);
            (bool ok, bytes memory returned) = address(badge).call(writes[i].data);
            assertTrue(!ok && keccak256(returned) == keccak256(moved), string.concat(writes[i].name, ": not sealed"));
        }
        // Its records stay readable.
        assertTrue(badge.ownerOf(1) == alice && badge.claimCount() == 8 && bytes(badge.tokenURI(1)).length > 0, "reads");
        // The next version takes none before its records are carried (what it would hold): no
        // claim, and no write about a claim it does not hold yet.
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeUnknownClaim.selector, 2));
        vm.prank(bob);
        next.attest(2);
    }

    /// A version deployed but not (yet) named by the registry takes no write: the records are
    /// still at the first version (the registry's zero), and it holds none of them.
    function test_aVersionTakesNoWriteBeforeTheVote() public {
        ContributionBadgeV2 next = deploySuccessor(badge);
        _refusedWhileCarrying(next, 0);
        vm.expectRevert(abi.encodeWithSelector(IBadgeVersions.BadgeVersionNotInUse.selector, address(0)));
        vm.prank(alice);
        next.setProfileHidden(true);
        vm.expectRevert(abi.encodeWithSelector(IBadgeVersions.BadgeNothingToCarry.selector));
        next.carryOver(8, new address[][](0));
        vm.prank(alice);
        badge.claim(1, keccak256("e"), "u"); // version 1 still takes them
    }

    /// Only the community's vote (its timelock) moves the records.
    function test_onlyGovernanceMovesTheRecords() public {
        ContributionBadgeV2 next = deploySuccessor(badge);
        address[3] memory callers = [outsider, alice, address(governor)];
        for (uint256 i = 0; i < callers.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, callers[i]));
            vm.prank(callers[i]);
            registry.moveRecords(address(badge), address(next));
        }
        assertEq(registry.records(), address(0), "not moved");
    }

    /// The records move only to a contract that names the version holding them as its
    /// predecessor, under this registry and the same owner.
    function test_moveRecordsRefusesWhatIsNoSuccessor() public {
        ContributionBadge other = _badge(address(0), registry, gov); // a second first version
        _notSuccessor(address(badge), address(0xBEEF)); // an account with no code
        _notSuccessor(address(badge), address(badge)); // itself
        _notSuccessor(address(badge), address(_badge(address(other), registry, gov))); // names another
        _notSuccessor(address(badge), address(_badge(address(0), registry, gov))); // names none: a first version
        _notSuccessor(address(badge), address(_badge(address(badge), registry, bob))); // another owner
        IndicatorRegistry elsewhere = new IndicatorRegistry(gov);
        _notSuccessor(address(badge), address(_badge(address(badge), elsewhere, gov))); // another registry
        // From a version under another registry, to one under this registry naming it.
        ContributionBadge foreign = _badge(address(0), elsewhere, gov);
        _notSuccessor(address(foreign), address(_badge(address(foreign), registry, gov)));
        assertEq(registry.records(), address(0), "not moved");

        // Once moved, only from where the records are: not from version 1 again, to another.
        ContributionBadgeV2 next = deploySuccessor(badge);
        ContributionBadgeV2 rival = deploySuccessor(badge);
        _move(badge, next);
        _notSuccessor(address(badge), address(rival));
        _notSuccessor(address(badge), address(next)); // nor to the same again
        assertEq(registry.records(), address(next), "where the vote moved them");
    }

    /// carryOver refuses before the move, every wrong list of attesters, and after the last claim.
    function test_carryOverRefusals() public {
        ContributionBadgeV2 next = deploySuccessor(badge);
        address[][] memory lists = attesterLists(next, 1, 8, known);
        vm.expectRevert(abi.encodeWithSelector(IBadgeVersions.BadgeNothingToCarry.selector));
        next.carryOver(8, lists); // before the move
        vm.expectRevert(abi.encodeWithSelector(IBadgeVersions.BadgeNothingToCarry.selector));
        badge.carryOver(8, new address[][](0)); // version 1 carries nothing
        _move(badge, next);

        // Open claims 2 [carol], 3 [alice], 7 [bob, dave]; 4 is declined, the rest minted.
        assertEq(lists.length, 3, "three open claims");
        _notCarried(next, 8, _replace(lists, 0, new address[](0)), 2); // carol missing
        _notCarried(next, 8, _replace(lists, 1, _two(alice, bob)), 3); // and bob, who did not attest 3
        _notCarried(next, 8, _replace(lists, 1, _one(bob)), 3); // bob instead of alice
        _notCarried(next, 8, _replace(lists, 2, _two(dave, bob)), 7); // out of order
        _notCarried(next, 8, _replace(lists, 2, _two(bob, bob)), 7); // bob twice, dave left out
        _notCarried(next, 8, _replace(lists, 2, _one(dave)), 7); // bob missing
        address[][] memory fewer = new address[][](2);
        (fewer[0], fewer[1]) = (lists[0], lists[1]);
        _notCarried(next, 8, fewer, 7); // no list for claim 7
        address[][] memory more = new address[][](4);
        (more[0], more[1], more[2]) = (lists[0], lists[1], lists[2]);
        _notCarried(next, 8, more, 0); // a list too many
        _notCarried(next, 1, attesterLists(next, 2, 2, known), 0); // a list for minted claim 1
        address[][] memory declined = new address[][](3);
        (declined[0], declined[1], declined[2]) = (lists[0], lists[1], _one(carol));
        _notCarried(next, 4, declined, 0); // 4, declined (carol attested it), takes none
        // A count of 0 carries nothing; past the end, up to the last claim.
        next.carryOver(0, new address[][](0));
        assertEq(next.claimCount(), 0, "nothing carried");
        _refusedWhileCarrying(next, 0);
        next.carryOver(3, attesterLists(next, 1, 3, known));
        next.carryOver(1000, attesterLists(next, 4, 8, known));
        assertEq(next.claimCount(), 8, "every claim carried");
        vm.expectRevert(abi.encodeWithSelector(IBadgeVersions.BadgeNothingToCarry.selector));
        next.carryOver(1, new address[][](0)); // after the last
        vm.prank(alice);
        assertEq(next.claim(1, keccak256("e"), "u"), 9, "claims taken");
    }

    /// A community with no claim carries over in one call, with no list.
    function test_noClaimToCarry() public {
        deployCommunity(known); // a second community, no claim
        gov = address(timelock);
        vm.prank(gov);
        registry.addIndicator(indicator("Mentoring", 2, 0));
        ContributionBadgeV2 next = deploySuccessor(badge);
        _move(badge, next);
        next.carryOver(0, new address[][](0));
        vm.prank(alice);
        assertEq(next.claim(1, keccak256("e"), "u"), 1, "the first claim");
    }

    /// The records move on again, from version 2 to a third: carried over through version 2, the
    /// first version's checks still read through both; versions 1 and 2 are sealed.
    function test_aSecondMoveCarriesOnAndTheFirstStaysSealed() public {
        ContributionBadgeV2 second = _movedAndCarried(badge);
        vm.prank(dave);
        second.claim(1, keccak256("e9"), "u"); // 9, in version 2
        _attestOn(second, bob, 9);
        ContributionBadgeV2 third = deploySuccessor(second);
        _notSuccessor(address(badge), address(third)); // the records are not at version 1
        _move(second, third);
        carryAll(third, 4, known);
        assertEq(third.claimCount(), 9, "version 1's claims and version 2's");
        for (uint256 id = 1; id <= 9; ++id) {
            assertEq(recordOf(third, id), recordOf(second, id), "carried as it was");
            for (uint256 i = 0; i < known.length; ++i) {
                assertTrue(third.hasAttested(id, known[i]) == second.hasAttested(id, known[i]), "who attested");
            }
        }
        assertTrue(third.hasAttested(4, carol) && third.profileHidden(carol), "read through two versions");
        assertEq(third.lastEndorsed(dave, alice, 3), badge.lastEndorsed(dave, alice, 3), "window through two");
        bytes memory moved = abi.encodeWithSelector(IBadgeVersions.BadgeRecordsMoved.selector, address(third));
        vm.expectRevert(moved);
        vm.prank(alice);
        badge.claim(1, keccak256("e"), "u");
        vm.expectRevert(moved);
        vm.prank(alice);
        second.claim(1, keccak256("e"), "u");
        vm.expectRevert(moved);
        vm.prank(bob);
        second.attest(2);
        vm.prank(alice);
        assertEq(third.claim(1, keccak256("e"), "u"), 10, "version 3 takes claims");
    }

    // ---------------------------------------------------------------- bugs the invariant suite found (fixed)

    /// A cap period that has not ended once since the Unix epoch (a cap "once, ever": the longest
    /// period the registry takes, until 2106) is remembered by the next version: it read the
    /// predecessor's tally only when its own was of another period, and its empty tally is of
    /// period 0, the current one. An empty tally is now read through, whatever its period.
    function test_aCapOnceEverIsRememberedByTheNextVersion() public {
        IIndicatorRegistry.IndicatorInput memory once = indicator("Founding", 1, 0);
        (once.earnCap, once.capPeriod) = (1, type(uint32).max);
        vm.prank(gov);
        registry.addIndicator(once); // 5
        _claim(alice, 5, bob, address(0)); // 9: alice's one badge of it, ever
        ContributionBadgeV2 next = _movedAndCarried(badge);
        vm.expectRevert(
            abi.encodeWithSelector(
                IContributionBadge.BadgeEarnCapReached.selector, alice, 5, 1, uint256(type(uint32).max)
            )
        );
        vm.prank(alice);
        next.claim(5, keccak256("e"), "u");
    }

    /// A third version remembers the caps used in the first within the same period: `tallyOf`
    /// reads through the versions before, as `lastEndorsed`, `hasAttested` and `profileHidden` do.
    function test_aThirdVersionRemembersTheCapsUsedInTheFirst() public {
        ContributionBadgeV2 third = _movedAndCarried(_movedAndCarried(badge)); // the same day
        (uint32 period, uint16 earned,) = badge.tallyOf(alice, 4);
        assertTrue(period == NOW / 1 days && earned == 1, "alice earned indicator 4's one badge today");
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeEarnCapReached.selector, alice, 4, 1, DAY_ENDS));
        vm.prank(alice);
        third.claim(4, keccak256("e"), "u");
    }

    /// The records do not move on from a version still carrying them over (the next version would
    /// carry only the claims carried so far, and new claims would take the others' ids): refused
    /// until every claim is carried, then moved.
    function test_theRecordsDoNotMoveOnBeforeTheyAreAllCarried() public {
        ContributionBadgeV2 second = deploySuccessor(badge);
        _move(badge, second);
        second.carryOver(3, attesterLists(second, 1, 3, known)); // claims 1-3 of 8
        ContributionBadgeV2 third = deploySuccessor(second);
        _notSuccessor(address(second), address(third));
        carryAll(second, 8, known);
        _move(second, third);
        carryAll(third, 8, known);
        assertEq(third.claimCount(), 8, "every claim carried twice over");
    }

    /// moveRecords refuses in words (RegistryNotSuccessor) a contract that is no badge contract,
    /// and a version naming an account with no code: it asks them without trusting them to answer.
    function test_moveRecordsRefusesWhatIsNoBadgeInWords() public {
        _notSuccessor(address(badge), address(membership));
        _notSuccessor(address(0xBEEF), address(_badge(address(0xBEEF), registry, gov)));
    }

    /// carryOver with a count meant as "all the rest" (the largest number), once a first batch was
    /// carried, carries up to the last claim (it overflowed).
    function test_carryOverOfTheLargestCountCarriesTheRest() public {
        ContributionBadgeV2 next = deploySuccessor(badge);
        _move(badge, next);
        next.carryOver(1, new address[][](0));
        next.carryOver(type(uint256).max, attesterLists(next, 2, 8, known));
        assertEq(next.claimCount(), 8, "every claim carried");
    }

    // ---------------------------------------------------------------- helpers

    function _writesOfVersion1() internal view returns (Write[] memory writes) {
        uint256[] memory tokens = new uint256[](1);
        tokens[0] = 1;
        writes = new Write[](13);
        writes[0] = Write("claim", alice, abi.encodeCall(badge.claim, (1, keccak256("e"), "u")));
        writes[1] = Write(
            "claimWithOrganisation", alice, abi.encodeCall(badge.claimWithOrganisation, (1, 1, keccak256("e"), "u"))
        );
        writes[2] = Write("nominate", bob, abi.encodeCall(badge.nominate, (carol, 1, keccak256("e"), "u")));
        writes[3] = Write(
            "nominateWithOrganisation",
            bob,
            abi.encodeCall(badge.nominateWithOrganisation, (carol, 1, 1, keccak256("e"), "u"))
        );
        writes[4] = Write("attest", bob, abi.encodeCall(badge.attest, (2)));
        writes[5] = Write("attestWith", bob, abi.encodeCall(badge.attestWith, (2, 6)));
        writes[6] = Write("attest (the minting one)", carol, abi.encodeCall(badge.attest, (7)));
        writes[7] = Write("acceptNomination", carol, abi.encodeCall(badge.acceptNomination, (3)));
        writes[8] = Write("declineNomination", carol, abi.encodeCall(badge.declineNomination, (3)));
        writes[9] = Write("disown", alice, abi.encodeCall(badge.disown, (1)));
        writes[10] = Write("setProfileHidden", bob, abi.encodeCall(badge.setProfileHidden, (true)));
        writes[11] = Write("revoke", gov, abi.encodeCall(badge.revoke, (1, "fraud")));
        writes[12] = Write("recoverBadges", gov, abi.encodeCall(badge.recoverBadges, (alice, dave, tokens)));
    }

    /// @dev A badge contract of this community's membership and forwarder: version 2 naming
    /// `predecessor` (or a first version, for none), under `registry_`, owned by `owner`.
    function _badge(address predecessor, IIndicatorRegistry registry_, address owner)
        internal
        returns (ContributionBadge)
    {
        if (predecessor == address(0)) {
            return new ContributionBadge(
                "B",
                "B",
                membership,
                registry_,
                address(forwarder),
                owner,
                badge.metadata(),
                IContributionBadge(address(0))
            );
        }
        return new ContributionBadgeV2(
            "B",
            "B",
            membership,
            registry_,
            address(forwarder),
            owner,
            badge.metadata(),
            IContributionBadge(predecessor)
        );
    }

    function _movedAndCarried(ContributionBadge from) internal returns (ContributionBadgeV2 next) {
        next = deploySuccessor(from);
        _move(from, next);
        carryAll(next, 3, known);
    }

    function _move(ContributionBadge from, ContributionBadge to) internal {
        vm.prank(gov);
        registry.moveRecords(address(from), address(to));
    }

    function _notSuccessor(address from, address to) internal {
        vm.expectRevert(abi.encodeWithSelector(IIndicatorRegistry.RegistryNotSuccessor.selector, from, to));
        vm.prank(gov);
        registry.moveRecords(from, to);
    }

    function _notCarried(IContributionBadge to, uint256 count, address[][] memory lists, uint256 claimId) internal {
        vm.expectRevert(abi.encodeWithSelector(IBadgeVersions.BadgeAttestersNotCarried.selector, claimId));
        to.carryOver(count, lists);
    }

    /// @dev A claim refused, whoever files it, while `carried` claims are carried.
    function _refusedWhileCarrying(IContributionBadge to, uint256 carried) internal {
        vm.expectRevert(abi.encodeWithSelector(IBadgeVersions.BadgeRecordsCarrying.selector, carried));
        vm.prank(alice);
        to.claim(1, keccak256("e"), "u");
    }

    function _claim(address member, uint32 indicatorId, address first, address second) internal {
        bytes32 evidence = keccak256(abi.encode(badge.claimCount()));
        vm.prank(member);
        uint256 id = badge.claim(indicatorId, evidence, "u");
        if (first != address(0)) _attest(first, id);
        if (second != address(0)) _attest(second, id);
    }

    function _nominate(address nominator, address nominee, uint32 indicatorId, address attester) internal {
        bytes32 evidence = keccak256(abi.encode(badge.claimCount()));
        vm.prank(nominator);
        uint256 id = badge.nominate(nominee, indicatorId, evidence, "u");
        _attest(attester, id);
    }

    function _attest(address attester, uint256 claimId) internal {
        _attestOn(badge, attester, claimId);
    }

    function _attestOn(IContributionBadge on, address attester, uint256 claimId) internal {
        vm.prank(attester);
        on.attest(claimId);
    }

    function _replace(address[][] memory lists, uint256 i, address[] memory list)
        internal
        pure
        returns (address[][] memory copy)
    {
        copy = new address[][](lists.length);
        for (uint256 j = 0; j < lists.length; ++j) {
            copy[j] = j == i ? list : lists[j];
        }
    }

    function _one(address a) internal pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = a;
    }

    function _two(address a, address b) internal pure returns (address[] memory list) {
        list = new address[](2);
        (list[0], list[1]) = (a, b);
    }
}
