// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IContributionBadge} from "../../contracts/interfaces/IContributionBadge.sol";
import {IIndicatorRegistry} from "../../contracts/interfaces/IIndicatorRegistry.sol";
import {IBadgeVersions} from "../../contracts/interfaces/IBadgeVersions.sol";
import {CommunityTimelock} from "../../contracts/CommunityTimelock.sol";
import {Membership} from "../../contracts/Membership.sol";
import {IndicatorRegistry} from "../../contracts/IndicatorRegistry.sol";
import {ContributionBadge} from "../../contracts/ContributionBadge.sol";
import {ContributionBadgeV2} from "../../contracts/versions/ContributionBadgeV2.sol";
import {CommunityHandler} from "./CommunityHandler.sol";
import {VersionChecks} from "./VersionChecks.sol";

/// @notice Random histories carried over (IBadgeVersions): CommunityHandler's random sequences,
/// each ended by a move of the community's records to a version 2 (afterInvariant). Fewer
/// sequences than CommunityInvariants' (the same handler, the same moves): each move deploys a
/// version, carries every claim over and tries a few hundred writes on both versions, about as
/// long as the sequence itself with CommunityInvariants' checks after every step.
contract VersionInvariants is VersionChecks {
    CommunityHandler internal handler;
    Membership internal membership;
    CommunityTimelock internal timelock;
    IndicatorRegistry internal registry;
    ContributionBadge internal badge;

    function setUp() public {
        // A chain's clock. Cap periods are counted from the Unix epoch, and in a cap's first period
        // (where forge's clock starts) version 2 forgets the caps used: a known bug of Versions.t.sol.
        vm.warp(1_750_000_000);
        handler = new CommunityHandler();
        membership = handler.membership();
        timelock = handler.timelock();
        registry = handler.registry();
        badge = handler.badge();
        targetContract(address(handler));
    }

    /// The handler never moves the records (no proposal of its asks, and nobody else may): they
    /// stay with the first version, which holds the model's claims.
    /// forge-config: default.invariant.runs = 64
    /// forge-config: fuzz.invariant.runs = 1000
    function invariant_theRecordsStayWithTheFirstVersionUntilMoved() public view {
        assertEq(registry.records(), address(0), "the records moved without a vote");
        assertEq(badge.claimCount(), handler.modelClaimCount(), "claim count differs from the model");
    }

    /// At the end of each random sequence, the community's vote moves its records to version 2,
    /// anyone carries them over in batches, and then (the state put back after):
    /// - version 2 holds every record as version 1 held it, and nothing more: each claim (its
    ///   organisation, evidence, badge with its times, weight and orientation, holder), who attested
    ///   it (of every account the handler knows), badges held and counting, metadata (but for the
    ///   version), hidden profiles, reciprocal windows; no badge held by anyone else;
    /// - version 1 takes no write any more (each it took, refused as moved), version 2 no claim
    ///   until every record is carried, then claim N + 1;
    /// - every write the members and governance may make (claims, nominations, attestations with
    ///   the badge a gated indicator asks for, answers, disowning, hiding, revocation, recovery) is
    ///   answered by version 2 as by version 1, each alone and all in turn twice a day apart: the
    ///   caps used, reciprocal windows and endorsers' badges of the history are seen by its checks.
    function afterInvariant() public {
        uint256 start = vm.snapshotState();
        uint256 n = badge.claimCount();
        address[] memory known = _knownAccounts();
        (Write[] memory writes, uint256 onRecords) = _writes(n);
        bytes[] memory alone = tryEach(address(badge), writes, onRecords);
        bytes[] memory inTurn = tryInTurn(address(badge), writes);
        vm.revertToState(start);

        ContributionBadgeV2 next = deploySuccessor(badge);
        vm.prank(address(timelock));
        registry.moveRecords(address(badge), address(next));
        checkSealed(address(badge), address(next), writes, alone);
        _carryInBatches(next, n, known);
        _checkCarried(next, n, known);
        _checkNextClaim(next, n);
        checkSameOutcomes(tryEach(address(next), writes, onRecords), alone, writes, "each alone");
        checkSameOutcomes(tryInTurn(address(next), writes), inTurn, writes, "in turn");
        vm.revertToState(start);
    }

    /// @dev Every account the handler knows: its actors and the invitations' addresses.
    function _knownAccounts() internal view returns (address[] memory known) {
        uint256 invitations = handler.invitationCount();
        known = new address[](6 + invitations);
        for (uint256 i = 0; i < 6; ++i) {
            known[i] = handler.actor(i);
        }
        for (uint256 i = 0; i < invitations; ++i) {
            known[6 + i] = handler.invitations(i);
        }
    }

    /// @dev Carried over by the outsider, 1-4 claims a call (by the history), a claim refused
    /// before each call; with no claim, one call with no list.
    function _carryInBatches(ContributionBadgeV2 next, uint256 n, address[] memory known) internal {
        uint256 batch = 1 + uint256(keccak256(abi.encode(n, block.timestamp))) % 4;
        (address founder, address outsider) = (handler.actor(0), handler.actor(5));
        uint256 first = 1;
        do {
            uint256 last = first + batch - 1 < n ? first + batch - 1 : n;
            address[][] memory lists = first <= last ? attesterLists(next, first, last, known) : new address[][](0);
            vm.expectRevert(abi.encodeWithSelector(IBadgeVersions.BadgeRecordsCarrying.selector, first - 1));
            vm.prank(founder);
            next.claim(1, keccak256("too soon"), "u");
            vm.expectEmit(address(next));
            emit IBadgeVersions.RecordsCarried(first, last);
            vm.prank(outsider);
            next.carryOver(batch, lists);
            first = last + 1;
        } while (first <= n);
    }

    function _checkCarried(ContributionBadgeV2 next, uint256 n, address[] memory known) internal view {
        assertEq(next.claimCount(), n, "claims carried over: more or fewer");
        uint256 held;
        for (uint256 id = 1; id <= n; ++id) {
            assertEq(recordOf(next, id), recordOf(badge, id), "a record carried otherwise");
            assertEq(abi.encode(next.getClaim(id)), abi.encode(badge.getClaim(id)), "a claim carried otherwise");
            assertEq(next.organisationOf(id), badge.organisationOf(id), "an organisation carried otherwise");
            assertTrue(next.isActive(id) == badge.isActive(id), "a badge counts otherwise");
            address holder = _ownerOf(id);
            if (holder != address(0)) {
                assertEq(next.ownerOf(id), holder, "a badge carried to another holder");
                checkSameMetadata(badge, next, id);
                ++held;
            }
            for (uint256 i = 0; i < known.length; ++i) {
                assertTrue(next.hasAttested(id, known[i]) == badge.hasAttested(id, known[i]), "an attester differs");
            }
        }
        assertTrue(!next.isActive(n + 1), "a badge added");
        uint256 balances;
        uint32 indicators = registry.indicatorCount();
        for (uint256 i = 0; i < known.length; ++i) {
            address a = known[i];
            assertEq(next.balanceOf(a), badge.balanceOf(a), "badges held differ");
            balances += next.balanceOf(a);
            assertTrue(next.profileHidden(a) == badge.profileHidden(a), "a profile hidden otherwise");
        }
        // Attesters are actors; contributors, actors or invitations.
        for (uint256 i = 0; i < 6; ++i) {
            for (uint256 j = 0; j < known.length; ++j) {
                for (uint32 k = 1; k <= indicators; ++k) {
                    assertEq(
                        next.lastEndorsed(known[i], known[j], k),
                        badge.lastEndorsed(known[i], known[j], k),
                        "a reciprocal window differs"
                    );
                }
            }
        }
        assertEq(balances, held, "badges held by someone the handler does not know, or added");
    }

    /// @dev Once every record is carried, version 2 files claim N + 1 (on an indicator governance
    /// adds: the history may have retired every other); version 1 still holds N.
    function _checkNextClaim(ContributionBadgeV2 next, uint256 n) internal {
        uint256 before = vm.snapshotState();
        IIndicatorRegistry.IndicatorInput memory input;
        (input.name, input.weight, input.endorsementsRequired) = ("Carried on", 1, 1);
        vm.prank(address(timelock));
        uint32 fresh = registry.addIndicator(input);
        address member = handler.actor(0);
        for (uint256 i = 1; !membership.isMember(member); ++i) {
            member = handler.actor(i);
        }
        vm.prank(member);
        assertEq(next.claim(fresh, keccak256("carried on"), "u"), n + 1, "version 2's first claim is not N + 1");
        assertEq(badge.claimCount(), n, "version 1 took a claim");
        vm.revertToState(before);
    }

    /// @dev The writes tried on both versions, as the sequence left the records: each actor claims
    /// each indicator and nominates the next actor (or an invitation), crediting organisation 1 one
    /// time in two; each member attests each claim (of a gated indicator, showing their first
    /// counting badge of its endorser indicator); each nominee answers (accepts three times in
    /// four); holders disown a third of the badges, governance revokes a quarter and recovers a
    /// fifth to another member; each actor turns their profile's visibility over. Then (tried in
    /// turn only: they do not exist before) each member attests each claim those writes file.
    /// `onRecords`: how many come before these last.
    function _writes(uint256 n) internal view returns (Write[] memory writes, uint256 onRecords) {
        uint32 indicators = registry.indicatorCount();
        uint256 filed = 6 * (indicators + 1);
        writes = new Write[](filed + 6 + 5 * (n + filed) + 4 * n);
        uint256 w = 0;
        bool credit = registry.organisationCount() > 0 && handler.organisationActive(1);
        for (uint256 i = 0; i < 6; ++i) {
            address a = handler.actor(i);
            for (uint32 k = 1; k <= indicators; ++k) {
                bytes32 evidence = keccak256(abi.encode(i, k));
                writes[w++] = Write(
                    a,
                    credit && k % 2 == 0
                        ? abi.encodeCall(badge.claimWithOrganisation, (k, 1, evidence, "u"))
                        : abi.encodeCall(badge.claim, (k, evidence, "u"))
                );
            }
            address nominee = i % 2 == 1 && handler.invitationCount() > 0
                ? handler.invitations(i % handler.invitationCount())
                : handler.actor((i + 1) % 6);
            uint32 on = uint32(1 + i % indicators);
            writes[w++] = Write(
                a,
                credit && i % 2 == 0
                    ? abi.encodeCall(badge.nominateWithOrganisation, (nominee, on, 1, keccak256("n"), "u"))
                    : abi.encodeCall(badge.nominate, (nominee, on, keccak256("n"), "u"))
            );
        }
        w = _attestations(writes, w, 1, n, _badgesToShow(n, indicators));
        w = _answersAndGovernance(writes, w, n);
        for (uint256 i = 0; i < 6; ++i) {
            address a = handler.actor(i);
            writes[w++] = Write(a, abi.encodeCall(badge.setProfileHidden, (!badge.profileHidden(a))));
        }
        onRecords = w;
        w = _attestations(writes, w, n + 1, n + filed, new uint256[][](0));
        assembly ("memory-safe") {
            mstore(writes, w)
        }
    }

    /// @dev Each member attests claims `first` to `last`: showing, for a claim of a gated indicator,
    /// their first counting badge of its endorser indicator (`shown`; none for claims to be filed).
    function _attestations(Write[] memory writes, uint256 w, uint256 first, uint256 last, uint256[][] memory shown)
        internal
        view
        returns (uint256)
    {
        for (uint256 i = 0; i < 5; ++i) {
            address a = handler.actor(i);
            if (!membership.isMember(a)) continue;
            for (uint256 id = first; id <= last; ++id) {
                uint32 endorser =
                    shown.length != 0 ? registry.terms(badge.getClaim(id).indicatorId).endorserIndicatorId : 0;
                uint256 badgeId = endorser != 0 ? shown[i][endorser] : 0;
                writes[w++] = Write(
                    a,
                    badgeId != 0 ? abi.encodeCall(badge.attestWith, (id, badgeId)) : abi.encodeCall(badge.attest, (id))
                );
            }
        }
        return w;
    }

    function _answersAndGovernance(Write[] memory writes, uint256 w, uint256 n) internal view returns (uint256) {
        for (uint256 id = 1; id <= n; ++id) {
            IContributionBadge.Claim memory c = badge.getClaim(id);
            (,,, address joined,) = handler.modelInvitation(c.contributor);
            address nominee = joined != address(0) ? joined : c.contributor;
            writes[w++] = Write(
                nominee,
                id % 4 == 3
                    ? abi.encodeCall(badge.declineNomination, (id))
                    : abi.encodeCall(badge.acceptNomination, (id))
            );
        }
        for (uint256 id = 1; id <= n; ++id) {
            address holder = _ownerOf(id);
            if (holder == address(0)) continue;
            if (id % 3 == 0) writes[w++] = Write(holder, abi.encodeCall(badge.disown, (id)));
            if (id % 4 == 1) writes[w++] = Write(address(timelock), abi.encodeCall(badge.revoke, (id, "")));
            if (id % 5 == 2) {
                uint256[] memory tokens = new uint256[](1);
                tokens[0] = id;
                address replacement = handler.actor(0) == holder ? handler.actor(1) : handler.actor(0);
                writes[w++] =
                    Write(address(timelock), abi.encodeCall(badge.recoverBadges, (holder, replacement, tokens)));
            }
        }
        return w;
    }

    /// @dev For each of the five actors who may be members and each indicator, their first badge
    /// of it that counts (0 for none).
    function _badgesToShow(uint256 n, uint32 indicators) internal view returns (uint256[][] memory shown) {
        shown = new uint256[][](5);
        for (uint256 i = 0; i < 5; ++i) {
            shown[i] = new uint256[](indicators + 1);
        }
        for (uint256 id = n; id >= 1; --id) {
            address holder = _ownerOf(id);
            if (holder == address(0) || !badge.isActive(id)) continue;
            for (uint256 i = 0; i < 5; ++i) {
                if (handler.actor(i) == holder) shown[i][badge.getClaim(id).indicatorId] = id;
            }
        }
    }

    function _ownerOf(uint256 id) private view returns (address) {
        try badge.ownerOf(id) returns (address owner) {
            return owner;
        } catch {
            return address(0);
        }
    }
}
