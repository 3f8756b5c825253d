// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {Membership} from "../contracts/Membership.sol";
import {BadgeDeployer} from "../contracts/factory/Deployers.sol";
import {ContributionBadge} from "../contracts/ContributionBadge.sol";
import {CommunityGovernor} from "../contracts/CommunityGovernor.sol";
import {CommunityTimelock} from "../contracts/CommunityTimelock.sol";
import {IContributionBadge} from "../contracts/interfaces/IContributionBadge.sol";
import {IERC5192} from "../contracts/interfaces/IERC5192.sol";
import {IIndicatorRegistry} from "../contracts/interfaces/IIndicatorRegistry.sol";
import {IMembership} from "../contracts/interfaces/IMembership.sol";
import {Community} from "./utils/Community.sol";
import {TestBase} from "./utils/Vm.sol";
import {ERC1271Wallet, HostileWallet} from "./utils/Wallets.sol";
import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";

/// @notice One test per refusal and per branch of the project's contracts, so `make coverage`
/// reports every branch taken both ways (the ape tests cover the same rules end to end).
contract Branches is TestBase, Community {
    address internal alice = address(0xA11CE);
    address internal bob = address(0xB0B);
    address internal carol = address(0xCA201);
    address internal outsider = address(0x0B5);
    address internal guardian = address(0x6A4D1A4); // elected by governance: no member
    address internal gov;

    function setUp() public {
        address[] memory founders = new address[](3);
        (founders[0], founders[1], founders[2]) = (alice, bob, carol);
        deployCommunity(founders);
        gov = address(timelock); // governance: the timelock carries out passed proposals
        vm.prank(gov);
        registry.addIndicator(indicator("Mentoring", 2, 0)); // 1: two endorsements, forever
        vm.prank(gov);
        registry.addIndicator(indicator("Review", 1, 100)); // 2: one endorsement, 100 s
    }

    // ---------------------------------------------------------------- ContributionBadge

    function test_claimRefusals() public {
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeNotMember.selector, outsider));
        vm.prank(outsider);
        badge.claim(1, keccak256("e"), "u");
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeNotMember.selector, outsider));
        vm.prank(alice);
        badge.nominate(outsider, 1, keccak256("e"), "u");
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeMissingEvidence.selector));
        vm.prank(alice);
        badge.claim(1, bytes32(0), "u");
        vm.expectRevert(abi.encodeWithSelector(IIndicatorRegistry.RegistryUnknownIndicator.selector, uint32(9)));
        vm.prank(alice);
        badge.claim(9, keccak256("e"), "u");
        vm.prank(gov);
        registry.retireIndicator(1);
        vm.expectRevert(abi.encodeWithSelector(IIndicatorRegistry.RegistryIndicatorRetired.selector, uint32(1)));
        vm.prank(alice);
        badge.claim(1, keccak256("e"), "u");
    }

    function test_attestRefusalsAndMint() public {
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeUnknownClaim.selector, uint256(1)));
        badge.getClaim(1);
        vm.prank(bob);
        uint256 id = badge.nominate(alice, 1, keccak256("e"), "u");
        assertEq(badge.claimCount(), 1, "claimCount");
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeNotMember.selector, outsider));
        vm.prank(outsider);
        badge.attest(id);
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeSelfAttestation.selector, id, alice));
        vm.prank(alice);
        badge.attest(id);
        vm.prank(bob);
        badge.attest(id);
        assertTrue(badge.hasAttested(id, bob) && !badge.isActive(id), "one attestation, no badge");
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeAlreadyAttested.selector, id, bob));
        vm.prank(bob);
        badge.attest(id);
        vm.prank(carol);
        badge.attest(id);
        assertTrue(!badge.isActive(id) && badge.balanceOf(alice) == 0, "enough attestations, but not accepted yet");
        vm.prank(alice);
        badge.acceptNomination(id);
        assertEq(badge.ownerOf(id), alice, "minted to the contributor");
        assertTrue(badge.isActive(id) && badge.locked(id), "active and locked");
        // A fourth member cannot attest a minted claim.
        vm.prank(gov);
        membership.admit(outsider);
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeAlreadyMinted.selector, id));
        vm.prank(outsider);
        badge.attest(id);
        (IContributionBadge.Claim memory c, IContributionBadge.Badge memory b, bytes32 evidence) = badge.getBadge(id);
        assertTrue(c.attestations == 2 && b.weight == 5 && evidence == keccak256("e"), "getBadge");
        string memory uri = badge.tokenURI(id);
        assertTrue(bytes(uri).length > 100, "tokenURI");
    }

    function test_consent() public {
        bytes4 notNominee = IContributionBadge.BadgeNotNominee.selector;
        vm.prank(alice);
        uint256 own = badge.claim(2, keccak256("e"), "u");
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeNotNomination.selector, own));
        vm.prank(alice);
        badge.acceptNomination(own);
        vm.prank(bob);
        uint256 declined = badge.nominate(alice, 2, keccak256("e"), "u");
        vm.expectRevert(abi.encodeWithSelector(notNominee, declined, bob));
        vm.prank(bob);
        badge.declineNomination(declined);
        vm.prank(alice);
        badge.declineNomination(declined);
        assertTrue(badge.getClaim(declined).nomination == IContributionBadge.Nomination.Declined, "declined");
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeNominationDeclined.selector, declined));
        vm.prank(carol);
        badge.attest(declined);
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeNominationDeclined.selector, declined));
        vm.prank(alice);
        badge.acceptNomination(declined);

        // Accepted before any attestation: the one attestation needed mints.
        vm.prank(bob);
        uint256 accepted = badge.nominate(alice, 2, keccak256("e"), "u");
        vm.prank(alice);
        badge.acceptNomination(accepted);
        assertEq(badge.balanceOf(alice), 0, "no attestation yet");
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeNominationAlreadyAccepted.selector, accepted));
        vm.prank(alice);
        badge.declineNomination(accepted);
        vm.prank(carol);
        badge.attest(accepted);
        assertEq(badge.ownerOf(accepted), alice, "the attestation after acceptance mints");

        // Disowning: the holder only, once; the badge stops counting and stays on record.
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeNotHolder.selector, accepted, bob));
        vm.prank(bob);
        badge.disown(accepted);
        vm.prank(alice);
        badge.disown(accepted);
        (, IContributionBadge.Badge memory b,) = badge.getBadge(accepted);
        assertTrue(b.disownedAt == block.timestamp && !badge.isActive(accepted), "disowned, not counting");
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeAlreadyDisowned.selector, accepted));
        vm.prank(alice);
        badge.disown(accepted);

        // Profiles: members only.
        vm.prank(alice);
        badge.setProfileHidden(true);
        assertTrue(badge.profileHidden(alice), "hidden");
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeNotMember.selector, outsider));
        vm.prank(outsider);
        badge.setProfileHidden(true);
    }

    function test_acceptAfterTheIndicatorChangedOrTheNomineeLeft() public {
        vm.prank(bob);
        uint256 amended = badge.nominate(alice, 1, keccak256("e"), "u");
        vm.prank(bob);
        uint256 retired = badge.nominate(alice, 2, keccak256("e"), "u");
        vm.prank(bob);
        uint256 removed = badge.nominate(carol, 1, keccak256("e"), "u");
        vm.prank(gov);
        registry.amendIndicator(1, indicator("Mentoring v2", 2, 0));
        vm.prank(gov);
        registry.retireIndicator(2);
        vm.prank(gov);
        membership.remove(carol);
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeIndicatorChanged.selector, amended, uint32(1)));
        vm.prank(alice);
        badge.acceptNomination(amended);
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeIndicatorChanged.selector, retired, uint32(2)));
        vm.prank(alice);
        badge.acceptNomination(retired);
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeNotMember.selector, carol));
        vm.prank(carol);
        badge.acceptNomination(removed);
    }

    function test_attestAfterTheIndicatorChanged() public {
        vm.prank(alice);
        uint256 amended = badge.claim(1, keccak256("e"), "u");
        vm.prank(alice);
        uint256 retired = badge.claim(2, keccak256("e"), "u");
        vm.prank(gov);
        registry.amendIndicator(1, indicator("Mentoring v2", 2, 0));
        vm.prank(gov);
        registry.retireIndicator(2);
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeIndicatorChanged.selector, amended, uint32(1)));
        vm.prank(bob);
        badge.attest(amended);
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeIndicatorChanged.selector, retired, uint32(2)));
        vm.prank(bob);
        badge.attest(retired);
    }

    function test_attestRefusedOnceTheContributorIsNoLongerAMember() public {
        vm.prank(alice);
        uint256 removed = badge.claim(1, keccak256("e"), "u");
        vm.prank(bob);
        uint256 recovered = badge.claim(2, keccak256("e"), "u");
        vm.prank(carol);
        badge.attest(removed); // one of two attestations, while alice is a member
        vm.prank(gov);
        membership.remove(alice);
        vm.prank(gov);
        membership.recover(bob, outsider); // bob's key lost: his claim stays under the old address
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeContributorNotMember.selector, removed, alice));
        vm.prank(outsider);
        badge.attest(removed); // the attestation that would have minted
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeContributorNotMember.selector, recovered, bob));
        vm.prank(carol);
        badge.attest(recovered);
        assertTrue(!badge.isActive(removed) && !badge.isActive(recovered), "no badge minted to a non-member");
        assertEq(badge.getClaim(removed).attestations, 1, "the refused attestation is not recorded");
        // Re-admitted, the contributor's claim collects attestations again.
        vm.prank(gov);
        membership.admit(alice);
        vm.prank(outsider);
        badge.attest(removed);
        assertEq(badge.ownerOf(removed), alice, "minted once a member again");
    }

    function test_expiryRevocationAndObjectOrientation() public {
        IIndicatorRegistry.IndicatorInput memory code = indicator("Code", 1, 0);
        code.orientation = IIndicatorRegistry.Orientation.Object;
        vm.prank(gov);
        registry.addIndicator(code);
        uint256 expiring = _mint(2);
        uint256 forever = _mint(3);
        assertTrue(badge.isActive(expiring) && bytes(badge.tokenURI(forever)).length > 0, "active");
        vm.warp(block.timestamp + 100);
        assertTrue(!badge.isActive(expiring) && badge.isActive(forever), "expired after its validity");
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, uint256(99)));
        vm.prank(gov);
        badge.revoke(99, "none");
        vm.prank(gov);
        badge.revoke(forever, "fraud");
        assertTrue(!badge.isActive(forever), "revoked");
        bytes(badge.tokenURI(forever)); // metadata of an inactive badge
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeAlreadyRevoked.selector, forever));
        vm.prank(gov);
        badge.revoke(forever, "again");
        assertTrue(!badge.isActive(99), "unminted");
    }

    function test_recoverBadges() public {
        uint256 id = _mint(2);
        uint256[] memory tokens = new uint256[](1);
        tokens[0] = id;
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeNotMember.selector, outsider));
        vm.prank(gov);
        badge.recoverBadges(alice, outsider, tokens);
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeNotHeldBy.selector, id, bob));
        vm.prank(gov);
        badge.recoverBadges(bob, carol, tokens);
        vm.prank(gov);
        membership.recover(alice, outsider);
        vm.prank(gov);
        badge.recoverBadges(alice, outsider, tokens);
        assertEq(badge.ownerOf(id), outsider, "recovered");
    }

    // ---------------------------------------------------------------- fair play (ContributionBadge)

    /// Who may endorse: indicator 3 is endorsed only by holders of a counting badge of
    /// indicator 2 (Review, 100 s); each way of not holding one is refused.
    function test_endorserMustHoldACountingBadge() public {
        IIndicatorRegistry.IndicatorInput memory gated = indicator("Code review", 2, 0);
        gated.endorserIndicatorId = 2;
        vm.prank(gov);
        registry.addIndicator(gated);
        uint256 bobsReview = _mintTo(bob, 2, alice);
        uint256 carolsMentoring = _mintTo(carol, 1, alice);
        vm.prank(bob);
        badge.attest(carolsMentoring); // second of two: minted
        assertEq(badge.ownerOf(carolsMentoring), carol, "carol holds a badge of another indicator");
        vm.prank(alice);
        uint256 id = badge.claim(3, keccak256("e"), "u");

        _notQualified(id, carol, 0); // attest without a badge (badge 0)
        vm.expectRevert(
            abi.encodeWithSelector(
                IContributionBadge.BadgeEndorserNotQualified.selector, id, carol, uint32(2), uint256(0)
            )
        );
        vm.prank(carol);
        badge.attest(id);
        _notQualified(id, carol, bobsReview); // someone else's badge
        _notQualified(id, carol, carolsMentoring); // a badge of another indicator
        _notQualified(id, carol, 99); // no such badge
        uint256 revoked = _mintTo(carol, 2, alice);
        vm.prank(gov);
        badge.revoke(revoked, "fraud");
        _notQualified(id, carol, revoked); // revoked
        uint256 disowned = _mintTo(carol, 2, alice);
        vm.prank(carol);
        badge.disown(disowned);
        _notQualified(id, carol, disowned); // disowned
        uint256 expiring = _mintTo(carol, 2, alice);

        vm.prank(bob);
        badge.attestWith(id, bobsReview); // bob holds a counting one: accepted
        assertTrue(badge.hasAttested(id, bob), "a qualified endorser's attestation counts");
        uint256 snapshot = vm.snapshotState();
        vm.prank(carol);
        badge.attestWith(id, expiring); // while it counts: accepted, and mints
        assertEq(badge.ownerOf(id), alice, "minted by qualified endorsers");
        vm.revertToState(snapshot);
        vm.warp(block.timestamp + 100);
        _notQualified(id, carol, expiring); // expired
        uint256 fresh = _mintTo(carol, 2, alice);
        vm.prank(carol);
        badge.attestWith(id, fresh);
        assertEq(badge.ownerOf(id), alice, "minted once carol shows a counting badge");

        // Ungated indicators ignore the badge shown.
        vm.prank(alice);
        uint256 open = badge.claim(1, keccak256("e"), "u");
        vm.prank(bob);
        badge.attestWith(open, 12345);
        assertTrue(badge.hasAttested(open, bob), "badge ignored on an ungated indicator");
    }

    /// Earn cap: two badges of indicator 3 per day; refused when filing once reached, and at
    /// the minting attestation or acceptance for claims filed earlier; a new period resets it.
    function test_earnCap() public {
        IIndicatorRegistry.IndicatorInput memory capped = indicator("Capped", 1, 0);
        (capped.earnCap, capped.capPeriod) = (2, 1 days);
        vm.prank(gov);
        registry.addIndicator(capped);
        vm.warp(10 days + 5);
        bytes memory reached = abi.encodeWithSelector(
            IContributionBadge.BadgeEarnCapReached.selector, alice, uint32(3), uint16(2), 11 days
        );
        uint256 first = _claim(alice, 3);
        uint256 second = _claim(alice, 3);
        uint256 third = _claim(alice, 3);
        vm.prank(bob);
        uint256 nominated = badge.nominate(alice, 3, keccak256("e"), "u");
        vm.prank(carol);
        badge.attest(nominated); // a pending nomination gathers attestations: nothing earned yet
        vm.prank(bob);
        badge.attest(first);
        vm.prank(bob);
        badge.attest(second);
        assertEq(badge.balanceOf(alice), 2, "two earned this period");

        vm.expectRevert(reached);
        vm.prank(alice);
        badge.claim(3, keccak256("e"), "u"); // at filing
        vm.expectRevert(reached);
        vm.prank(bob);
        badge.nominate(alice, 3, keccak256("e"), "u"); // a nomination too
        vm.expectRevert(reached);
        vm.prank(bob);
        badge.attest(third); // at the minting attestation
        vm.expectRevert(reached);
        vm.prank(alice);
        badge.acceptNomination(nominated); // at the minting acceptance
        _claim(bob, 3); // another member's tally is their own

        vm.warp(11 days - 1);
        vm.expectRevert(reached);
        vm.prank(bob);
        badge.attest(third); // the last second of the period
        vm.warp(11 days); // the next period
        vm.prank(bob);
        badge.attest(third);
        vm.prank(alice);
        badge.acceptNomination(nominated);
        assertTrue(badge.ownerOf(third) == alice && badge.ownerOf(nominated) == alice, "earned in the new period");
        vm.expectRevert(
            abi.encodeWithSelector(
                IContributionBadge.BadgeEarnCapReached.selector, alice, uint32(3), uint16(2), 12 days
            )
        );
        vm.prank(alice);
        badge.claim(3, keccak256("e"), "u");
    }

    /// Attest cap: two attestations of indicator 3 per hour, whoever's claims; a new period resets it.
    function test_attestCap() public {
        IIndicatorRegistry.IndicatorInput memory capped = indicator("Capped", 1, 0);
        (capped.attestCap, capped.capPeriod) = (2, 1 hours);
        vm.prank(gov);
        registry.addIndicator(capped);
        vm.warp(100 hours);
        uint256 a1 = _claim(alice, 3);
        uint256 a2 = _claim(alice, 3);
        uint256 a3 = _claim(alice, 3);
        uint256 c1 = _claim(carol, 3);
        vm.prank(bob);
        badge.attest(a1);
        vm.prank(bob);
        badge.attest(a2);
        bytes memory reached = abi.encodeWithSelector(
            IContributionBadge.BadgeAttestCapReached.selector, bob, uint32(3), uint16(2), 101 hours
        );
        vm.expectRevert(reached);
        vm.prank(bob);
        badge.attest(a3);
        vm.expectRevert(reached);
        vm.prank(bob);
        badge.attest(c1); // another contributor's claim: the same cap
        vm.prank(carol);
        badge.attest(a3); // carol's tally is her own
        uint256 uncapped = _claim(alice, 1);
        vm.prank(bob);
        badge.attest(uncapped); // other indicators are not capped
        vm.warp(101 hours);
        vm.prank(bob);
        badge.attest(c1);
        assertTrue(badge.ownerOf(a3) == alice && badge.ownerOf(c1) == carol, "attested within the caps");
    }

    /// Both caps on one indicator keep separate counts in the member's one tally.
    function test_earnAndAttestCapsTogether() public {
        IIndicatorRegistry.IndicatorInput memory capped = indicator("Capped", 1, 0);
        (capped.earnCap, capped.attestCap, capped.capPeriod) = (1, 1, 1 days);
        vm.prank(gov);
        registry.addIndicator(capped);
        uint256 alices = _claim(alice, 3);
        uint256 bobs = _claim(bob, 3);
        vm.prank(bob);
        badge.attest(alices); // bob attested 1, alice earned 1
        vm.prank(alice);
        badge.attest(bobs); // alice attested 1 (her earning does not count against it), bob earned 1
        assertTrue(badge.ownerOf(alices) == alice && badge.ownerOf(bobs) == bob, "one each");
        uint256 carols = _claim(carol, 3);
        vm.expectRevert(
            abi.encodeWithSelector(
                IContributionBadge.BadgeAttestCapReached.selector, alice, uint32(3), uint16(1), 1 days
            )
        );
        vm.prank(alice);
        badge.attest(carols);
        vm.expectRevert(
            abi.encodeWithSelector(IContributionBadge.BadgeEarnCapReached.selector, bob, uint32(3), uint16(1), 1 days)
        );
        vm.prank(bob);
        badge.claim(3, keccak256("e"), "u");
    }

    /// Reciprocity: once bob attested alice's claim on indicator 2, alice may not attest bob's
    /// on indicator 2 for a week; other indicators, the same direction and other members may.
    function test_reciprocalWindow() public {
        vm.prank(gov);
        registry.setCommunityRules(7 days, IIndicatorRegistry.ScoreRule.Linear);
        vm.warp(1000);
        uint256 alices = _claim(alice, 2);
        vm.prank(bob);
        badge.attest(alices); // bob endorsed alice on 2 at t = 1000
        uint256 bobs = _claim(bob, 2);
        bytes memory refused = abi.encodeWithSelector(
            IContributionBadge.BadgeReciprocalEndorsement.selector, bobs, alice, bob, uint256(1000 + 7 days)
        );
        vm.expectRevert(refused);
        vm.prank(alice);
        badge.attest(bobs);
        uint256 again = _claim(alice, 2);
        vm.prank(bob);
        badge.attest(again); // the same direction again: allowed
        uint256 other = _claim(bob, 1);
        vm.prank(alice);
        badge.attest(other); // another indicator: allowed
        vm.warp(1000 + 7 days - 1);
        vm.expectRevert(refused);
        vm.prank(alice);
        badge.attest(bobs); // the window's last second
        vm.warp(1000 + 7 days);
        vm.prank(alice);
        badge.attest(bobs); // the window is over
        assertEq(badge.ownerOf(bobs), bob, "attested after the window");
    }

    /// Window 0 turns the rule off, and attestations made while it is off are not remembered.
    function test_reciprocalWindowOff() public {
        uint256 alices = _claim(alice, 2);
        vm.prank(bob);
        badge.attest(alices);
        uint256 bobs = _claim(bob, 2);
        vm.prank(alice);
        badge.attest(bobs); // off (the default): allowed at once
        vm.prank(gov);
        registry.setCommunityRules(365 days, IIndicatorRegistry.ScoreRule.SquareRoot);
        uint256 alices2 = _claim(alice, 2);
        vm.prank(bob);
        badge.attest(alices2); // alice's earlier endorsement was made while the rule was off
        vm.prank(gov);
        registry.setCommunityRules(0, IIndicatorRegistry.ScoreRule.Linear);
        uint256 bobs2 = _claim(bob, 2);
        vm.prank(alice);
        badge.attest(bobs2); // bob's endorsement, seen by the rule, no longer refuses anything
        assertEq(badge.balanceOf(bob), 2, "reciprocal endorsements while the rule is off");
    }

    /// Organisations: registered and retired by governance; claims and nominations credit one.
    function test_organisations() public {
        string memory long = "12345678901234567890123456789012345678901234567890123456789012345";
        _invalidOrganisation("", "x", "name");
        _invalidOrganisation(long, "x", "name");
        _invalidOrganisation("Acme", string.concat(long, long, long, long), "identifier");
        vm.prank(gov);
        assertEq(registry.addOrganisation("Acme", ""), 1, "first organisation");
        vm.prank(gov);
        registry.addOrganisation(
            "1234567890123456789012345678901234567890123456789012345678901234",
            string.concat(long, long, long, "123456789012345678901234567890123456789012345678901234567890")
        ); // 64 and 256 bytes: the edges
        assertEq(registry.organisationCount(), 2, "two organisations");
        vm.expectRevert(abi.encodeWithSelector(IIndicatorRegistry.RegistryUnknownOrganisation.selector, uint32(0)));
        registry.requireActiveOrganisation(0);
        vm.expectRevert(abi.encodeWithSelector(IIndicatorRegistry.RegistryUnknownOrganisation.selector, uint32(3)));
        vm.prank(alice);
        badge.claimWithOrganisation(1, 3, keccak256("e"), "u");

        vm.prank(alice);
        uint256 credited = badge.claimWithOrganisation(1, 1, keccak256("e"), "u");
        vm.prank(bob);
        uint256 nominated = badge.nominateWithOrganisation(carol, 1, 2, keccak256("e"), "u");
        uint256 plain = _claim(alice, 1);
        assertTrue(
            badge.organisationOf(credited) == 1 && badge.organisationOf(nominated) == 2
                && badge.organisationOf(plain) == 0,
            "organisationOf"
        );
        assertTrue(badge.getClaim(nominated).nomination == IContributionBadge.Nomination.Pending, "still a nomination");
        vm.expectRevert(abi.encodeWithSelector(IContributionBadge.BadgeUnknownClaim.selector, uint256(9)));
        badge.organisationOf(9);

        vm.prank(gov);
        registry.retireOrganisation(1);
        bytes memory retired =
            abi.encodeWithSelector(IIndicatorRegistry.RegistryOrganisationRetired.selector, uint32(1));
        vm.expectRevert(retired);
        vm.prank(gov);
        registry.retireOrganisation(1);
        vm.expectRevert(retired);
        vm.prank(bob);
        badge.nominateWithOrganisation(alice, 1, 1, keccak256("e"), "u");
        vm.expectRevert(abi.encodeWithSelector(IIndicatorRegistry.RegistryUnknownOrganisation.selector, uint32(7)));
        vm.prank(gov);
        registry.retireOrganisation(7);
        assertEq(badge.organisationOf(credited), 1, "an earlier claim keeps its credit");
        registry.requireActiveOrganisation(2);
    }

    // ---------------------------------------------------------------- Membership

    function test_membershipRefusalsAndReadmission() public {
        vm.expectRevert(abi.encodeWithSelector(IMembership.MembershipAlreadyMember.selector, alice));
        vm.prank(gov);
        membership.admit(alice);
        vm.expectRevert(abi.encodeWithSelector(IMembership.MembershipNotMember.selector, outsider));
        vm.prank(gov);
        membership.remove(outsider);
        vm.expectRevert(abi.encodeWithSelector(IMembership.MembershipNotMember.selector, outsider));
        vm.prank(gov);
        membership.recover(outsider, address(0xD));
        vm.expectRevert(abi.encodeWithSelector(IMembership.MembershipInvalidDelegate.selector, outsider));
        vm.prank(alice);
        membership.delegate(outsider);
        // A removed member keeps their self-delegation; re-admitted, they need no new one.
        vm.prank(gov);
        membership.remove(carol);
        assertTrue(!membership.isMember(carol) && membership.memberCount() == 2, "removed");
        vm.prank(gov);
        membership.admit(carol);
        assertEq(membership.delegates(carol), carol, "self-delegated");
        assertEq(membership.getVotes(carol), 1, "one vote");
        assertEq(membership.clock(), block.timestamp, "timestamp clock");
        assertEq(bytes(membership.CLOCK_MODE()), bytes("mode=timestamp"), "clock mode");
        assertTrue(membership.locked(uint256(uint160(alice))), "locked");
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, uint256(1)));
        membership.locked(1);
    }

    function test_theLastMemberCannotBeRemoved() public {
        vm.prank(gov);
        membership.remove(alice);
        vm.prank(gov);
        membership.remove(bob);
        vm.expectRevert(abi.encodeWithSelector(IMembership.MembershipLastMember.selector, carol));
        vm.prank(gov);
        membership.remove(carol);
        // Recovery moves the last membership without ever leaving none.
        vm.prank(gov);
        membership.recover(carol, outsider);
        assertTrue(membership.memberCount() == 1 && membership.isMember(outsider), "one member left");
        vm.expectRevert(abi.encodeWithSelector(IMembership.MembershipNoFounders.selector));
        new Membership("Empty", "E", new address[](0), address(forwarder), address(this));
    }

    function test_interfaces() public view {
        assertTrue(membership.supportsInterface(type(IERC5192).interfaceId), "membership 5192");
        assertTrue(membership.supportsInterface(type(IERC721).interfaceId), "membership 721");
        assertTrue(badge.supportsInterface(type(IERC5192).interfaceId), "badge 5192");
        assertTrue(!badge.supportsInterface(0xffffffff), "no such interface");
    }

    // ---------------------------------------------------------------- IndicatorRegistry

    function test_registryRefusals() public {
        vm.expectRevert(abi.encodeWithSelector(IIndicatorRegistry.RegistryUnknownIndicator.selector, uint32(0)));
        registry.terms(0);
        vm.expectRevert(abi.encodeWithSelector(IIndicatorRegistry.RegistryUnknownIndicator.selector, uint32(3)));
        registry.indicatorName(3);
        assertEq(bytes(registry.indicatorName(1)), bytes("Mentoring"), "name");
        _invalid(indicator("", 1, 0), "name");
        _invalid(indicator("12345678901234567890123456789012345678901234567890123456789012345", 1, 0), "name");
        IIndicatorRegistry.IndicatorInput memory weightless = indicator("W", 1, 0);
        weightless.weight = 0;
        _invalid(weightless, "weight");
        _invalid(indicator("E", 0, 0), "endorsementsRequired");
        vm.prank(gov);
        registry.retireIndicator(1);
        vm.expectRevert(abi.encodeWithSelector(IIndicatorRegistry.RegistryIndicatorRetired.selector, uint32(1)));
        vm.prank(gov);
        registry.amendIndicator(1, indicator("Again", 1, 0));
    }

    function test_registryFairPlayRefusals() public {
        IIndicatorRegistry.IndicatorInput memory input = indicator("Gated", 1, 0);
        input.endorserIndicatorId = 3; // itself (the next id)
        _invalid(input, "endorserIndicatorId");
        input.endorserIndicatorId = 4; // not yet defined
        _invalid(input, "endorserIndicatorId");
        vm.expectRevert(
            abi.encodeWithSelector(IIndicatorRegistry.RegistryInvalidIndicator.selector, "endorserIndicatorId")
        );
        vm.prank(gov);
        registry.amendIndicator(1, _gatedBy(1)); // itself, on amendment
        vm.prank(gov);
        registry.amendIndicator(1, _gatedBy(2));
        assertEq(registry.terms(1).endorserIndicatorId, 2, "amended to be gated by 2");

        input = indicator("Capped", 1, 0);
        input.earnCap = 1; // a cap without a period
        _invalid(input, "capPeriod");
        (input.earnCap, input.attestCap) = (0, 1);
        _invalid(input, "capPeriod");
        (input.attestCap, input.capPeriod) = (0, 1 days); // a period without a cap
        _invalid(input, "capPeriod");
        (input.earnCap, input.attestCap) = (3, 4);
        vm.prank(gov);
        registry.addIndicator(input);
        IIndicatorRegistry.Terms memory t = registry.terms(3);
        assertTrue(
            t.earnCap == 3 && t.attestCap == 4 && t.capPeriod == 1 days && t.endorserIndicatorId == 0, "caps stored"
        );

        vm.expectRevert(
            abi.encodeWithSelector(
                IIndicatorRegistry.RegistryReciprocalWindowTooLong.selector, uint32(365 days + 1), uint32(365 days)
            )
        );
        vm.prank(gov);
        registry.setCommunityRules(365 days + 1, IIndicatorRegistry.ScoreRule.SquareRoot);
        vm.prank(gov);
        registry.setCommunityRules(365 days, IIndicatorRegistry.ScoreRule.SquareRoot);
        // Capture rules: at most 16,384 bytes, their digest kept.
        vm.expectRevert(abi.encodeWithSelector(IIndicatorRegistry.RegistryCaptureRulesTooLong.selector, 16_385, 16_384));
        vm.prank(gov);
        registry.setCaptureRules(string(new bytes(16_385)));
        vm.prank(gov);
        registry.setCaptureRules(string(new bytes(16_384)));
        assertTrue(registry.captureRulesDigest() == keccak256(new bytes(16_384)), "capture rules' digest");
        (IIndicatorRegistry.Terms memory rules, uint32 window, address records) = registry.attestationRules(3);
        assertTrue(
            window == 365 days && registry.reciprocalWindow() == 365 days && rules.earnCap == 3 && records == address(0)
                && registry.scoreRule() == IIndicatorRegistry.ScoreRule.SquareRoot,
            "community rules"
        );
    }

    // ---------------------------------------------------------------- CommunityGovernor

    function test_governorRefusesZeroWeightVotes() public {
        vm.prank(carol);
        membership.delegate(bob);
        vm.warp(block.timestamp + 1);
        uint256 id = _propose();
        vm.warp(governor.proposalSnapshot(id) + 1);
        vm.expectRevert(abi.encodeWithSelector(CommunityGovernor.GovernorNoVotingPower.selector, carol, id));
        vm.prank(carol);
        governor.castVote(id, 1);
        vm.prank(bob);
        governor.castVote(id, 1);
        (, uint256 forVotes,) = governor.proposalVotes(id);
        assertEq(forVotes, 2, "bob votes for carol too");
        assertEq(governor.quorum(block.timestamp - 1), 1, "quorum: 50% of 3 members");
        assertTrue(
            governor.votingDelay() == 10 && governor.votingPeriod() == 100 && governor.proposalThreshold() == 0,
            "settings"
        );
    }

    function test_governorSettingsBounds() public {
        uint256 month = 30 days;
        // Inside the bounds, at each edge: one proposal (the governor takes governance calls only
        // from the timelock carrying out a proposal of its own).
        bytes[] memory edges = new bytes[](7);
        edges[0] = abi.encodeCall(governor.setVotingDelay, (0));
        edges[1] = abi.encodeCall(governor.setVotingDelay, (uint48(month)));
        edges[2] = abi.encodeCall(governor.setVotingPeriod, (60));
        edges[3] = abi.encodeCall(governor.setVotingPeriod, (uint32(month)));
        edges[4] = abi.encodeCall(governor.updateQuorumNumerator, (1));
        edges[5] = abi.encodeCall(governor.updateQuorumNumerator, (100));
        edges[6] = abi.encodeCall(governor.setProposalThreshold, (1));
        (bool ok,) = _governGovernor(edges, "settings at the edges");
        assertTrue(ok, "settings at the edges refused");
        assertTrue(
            governor.votingDelay() == month && governor.votingPeriod() == month && governor.quorumNumerator() == 100
                && governor.proposalThreshold() == 1,
            "settings at the edges"
        );
        // Outside: each setter refuses with its named error, the values and the bounds.
        _outOfRange(
            abi.encodeCall(governor.setVotingDelay, (uint48(month + 1))),
            abi.encodeWithSelector(CommunityGovernor.GovernorVotingDelayOutOfRange.selector, month + 1, 0, month)
        );
        _outOfRange(
            abi.encodeCall(governor.setVotingDelay, (type(uint48).max)),
            abi.encodeWithSelector(
                CommunityGovernor.GovernorVotingDelayOutOfRange.selector, uint256(type(uint48).max), 0, month
            )
        );
        _outOfRange(
            abi.encodeCall(governor.setVotingPeriod, (59)),
            abi.encodeWithSelector(CommunityGovernor.GovernorVotingPeriodOutOfRange.selector, 59, 60, month)
        );
        _outOfRange(
            abi.encodeCall(governor.setVotingPeriod, (uint32(month + 1))),
            abi.encodeWithSelector(CommunityGovernor.GovernorVotingPeriodOutOfRange.selector, month + 1, 60, month)
        );
        _outOfRange(
            abi.encodeCall(governor.updateQuorumNumerator, (0)),
            abi.encodeWithSelector(CommunityGovernor.GovernorQuorumOutOfRange.selector, 0, 1, 100)
        );
        _outOfRange(
            abi.encodeCall(governor.updateQuorumNumerator, (101)),
            abi.encodeWithSelector(CommunityGovernor.GovernorQuorumOutOfRange.selector, 101, 1, 100)
        );
        _outOfRange(
            abi.encodeCall(governor.setProposalThreshold, (2)),
            abi.encodeWithSelector(CommunityGovernor.GovernorProposalThresholdOutOfRange.selector, 2, 0, 1)
        );
        assertTrue(governor.votingDelay() == month && governor.quorumNumerator() == 100, "nothing changed");
        assertTrue(
            governor.MIN_VOTING_DELAY() == 0 && governor.MAX_VOTING_DELAY() == month
                && governor.MIN_VOTING_PERIOD() == 60 && governor.MAX_VOTING_PERIOD() == month
                && governor.MIN_QUORUM_PERCENT() == 1 && governor.MAX_QUORUM_PERCENT() == 100
                && governor.MIN_PROPOSAL_THRESHOLD() == 0 && governor.MAX_PROPOSAL_THRESHOLD() == 1,
            "public bounds"
        );
    }

    function test_governorConstructorChecksTheSameBounds() public {
        IVotes votes = IVotes(address(membership));
        vm.expectRevert(
            abi.encodeWithSelector(
                CommunityGovernor.GovernorVotingDelayOutOfRange.selector, uint256(type(uint48).max), 0, 30 days
            )
        );
        new CommunityGovernor("G", votes, address(forwarder), type(uint48).max, 300, 0, 50, timelock);
        vm.expectRevert(
            abi.encodeWithSelector(CommunityGovernor.GovernorVotingPeriodOutOfRange.selector, 1, 60, 30 days)
        );
        new CommunityGovernor("G", votes, address(forwarder), 1, 1, 0, 50, timelock);
        vm.expectRevert(abi.encodeWithSelector(CommunityGovernor.GovernorProposalThresholdOutOfRange.selector, 5, 0, 1));
        new CommunityGovernor("G", votes, address(forwarder), 1, 300, 5, 50, timelock);
        vm.expectRevert(abi.encodeWithSelector(CommunityGovernor.GovernorQuorumOutOfRange.selector, 0, 1, 100));
        new CommunityGovernor("G", votes, address(forwarder), 1, 300, 0, 0, timelock);
    }

    // ---------------------------------------------------------------- CommunityTimelock

    /// @dev On a public network (chain id 1) the delay is an hour to 30 days: 0 and 59 minutes
    /// are refused, so are 30 days and a second; the constructor checks the same bounds.
    function test_timelockDelayBoundsOnAPublicChain() public {
        vm.chainId(1);
        assertEq(timelock.minDelayAllowed(), 1 hours, "an hour at least on a public chain");
        _delayRefused(0, 1 hours);
        _delayRefused(59 minutes, 1 hours);
        _delayRefused(30 days + 1, 1 hours);
        vm.prank(gov);
        timelock.updateDelay(1 hours);
        assertEq(timelock.getMinDelay(), 1 hours, "an hour");
        vm.prank(gov);
        timelock.updateDelay(30 days);
        assertEq(timelock.getMinDelay(), 30 days, "30 days");
        _deployRefused(0, 1 hours);
        _deployRefused(59 minutes, 1 hours);
        _deployRefused(30 days + 1, 1 hours);
        assertEq(_deployTimelock(1 hours).getMinDelay(), 1 hours, "deployed with an hour");
        assertEq(_deployTimelock(30 days).getMinDelay(), 30 days, "deployed with 30 days");
    }

    /// @dev On a local development chain (31337, forge's and Anvil's) a delay of 0 is allowed,
    /// so that practice and tests need not wait; the longest is still 30 days.
    function test_timelockDelayBoundsOnALocalChain() public {
        assertEq(block.chainid, 31_337, "forge's chain");
        assertEq(timelock.minDelayAllowed(), 0, "no delay needed locally");
        assertEq(timelock.getMinDelay(), 0, "deployed with no delay");
        vm.prank(gov);
        timelock.updateDelay(1 hours);
        vm.prank(gov);
        timelock.updateDelay(0);
        assertEq(timelock.getMinDelay(), 0, "back to no delay");
        _delayRefused(30 days + 1, 0);
        assertEq(_deployTimelock(0).getMinDelay(), 0, "deployed with no delay");
        _deployRefused(30 days + 1, 0);
        assertTrue(
            timelock.MIN_DELAY() == 1 hours && timelock.MAX_DELAY() == 30 days && timelock.LOCAL_CHAIN_ID() == 31_337,
            "public bounds"
        );
    }

    /// @dev Only the timelock itself changes its delay, and anyone else is refused as such before
    /// the value is looked at: an outsider's out-of-range delay is an unauthorised call.
    function test_timelockDelayChangedByTheTimelockOnly() public {
        vm.chainId(1);
        vm.expectRevert(abi.encodeWithSelector(TimelockController.TimelockUnauthorizedCaller.selector, outsider));
        vm.prank(outsider);
        timelock.updateDelay(0);
        vm.expectRevert(
            abi.encodeWithSelector(TimelockController.TimelockUnauthorizedCaller.selector, address(governor))
        );
        vm.prank(address(governor));
        timelock.updateDelay(1 hours);
        assertEq(timelock.getMinDelay(), 0, "unchanged");
    }

    /// @dev A delay set by a proposal governs the next one: queued, it waits the hour (its eta),
    /// refused until then, then executed by anyone.
    function test_aPassedProposalWaitsTheDelay() public {
        address[] memory targets = new address[](1);
        targets[0] = address(timelock);
        bytes[] memory calls = new bytes[](1);
        calls[0] = abi.encodeCall(timelock.updateDelay, (1 hours));
        (bool ok,) = _pass(targets, calls, "an hour to react");
        assertTrue(ok && timelock.getMinDelay() == 1 hours, "delay set by governance");

        uint256 id = _propose();
        assertTrue(governor.proposalNeedsQueuing(id), "a proposal needs queuing");
        (targets, calls) = _retireCalls();
        uint256[] memory values = new uint256[](1);
        vm.warp(governor.proposalSnapshot(id) + 1);
        _voteFor(id);
        vm.warp(governor.proposalDeadline(id) + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IGovernor.GovernorUnexpectedProposalState.selector,
                id,
                IGovernor.ProposalState.Succeeded,
                bytes32(1 << uint8(IGovernor.ProposalState.Queued))
            )
        );
        governor.execute(targets, values, calls, keccak256("retire"));
        governor.queue(targets, values, calls, keccak256("retire"));
        assertEq(governor.proposalEta(id), block.timestamp + 1 hours, "eta: queued plus the delay");
        assertTrue(governor.state(id) == IGovernor.ProposalState.Queued, "queued");
        bytes32 operation = timelock.hashOperationBatch(targets, values, calls, 0, _salt(keccak256("retire")));
        vm.warp(block.timestamp + 1 hours - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                TimelockController.TimelockUnexpectedOperationState.selector,
                operation,
                bytes32(1 << uint8(TimelockController.OperationState.Ready))
            )
        );
        governor.execute(targets, values, calls, keccak256("retire"));
        vm.warp(block.timestamp + 1);
        vm.prank(outsider);
        governor.execute(targets, values, calls, keccak256("retire"));
        assertTrue(governor.state(id) == IGovernor.ProposalState.Executed, "executed");
        assertTrue(!registry.terms(1).active && timelock.isOperationDone(operation), "carried out by the timelock");
    }

    /// @dev The last proposer, canceller and executor stay, and the timelock keeps administering
    /// itself; a second holder may go, and granting or revoking a role twice counts once.
    function test_timelockKeepsARoleHolder() public {
        bytes32 proposer = timelock.PROPOSER_ROLE();
        bytes32 canceller = timelock.CANCELLER_ROLE();
        bytes32 executor = timelock.EXECUTOR_ROLE();
        bytes32 admin = timelock.DEFAULT_ADMIN_ROLE();
        bytes4 required = CommunityTimelock.TimelockRoleRequired.selector;
        vm.startPrank(gov);
        vm.expectRevert(abi.encodeWithSelector(required, proposer, address(governor)));
        timelock.revokeRole(proposer, address(governor));
        vm.expectRevert(abi.encodeWithSelector(required, canceller, address(governor)));
        timelock.revokeRole(canceller, address(governor));
        vm.expectRevert(abi.encodeWithSelector(required, executor, address(0)));
        timelock.revokeRole(executor, address(0));
        vm.expectRevert(abi.encodeWithSelector(required, admin, address(timelock)));
        timelock.renounceRole(admin, address(timelock));
        timelock.grantRole(proposer, outsider);
        timelock.grantRole(proposer, outsider); // already held: counted once
        assertEq(timelock.roleHolders(proposer), 2, "two proposers");
        timelock.revokeRole(proposer, outsider);
        timelock.revokeRole(proposer, outsider); // no longer held: nothing to count
        assertEq(timelock.roleHolders(proposer), 1, "the governor alone again");
        timelock.grantRole(admin, outsider);
        timelock.revokeRole(admin, outsider); // another administrator may go
        vm.stopPrank();
        assertTrue(
            timelock.hasRole(proposer, address(governor)) && timelock.hasRole(admin, address(timelock))
                && !timelock.hasRole(admin, outsider),
            "governance intact"
        );
    }

    /// @dev The governor moves only to a timelock that lets it both propose and cancel.
    function test_governorMovesOnlyToATimelockThatLetsItProposeAndCancel() public {
        CommunityTimelock orphan = _deployTimelock(0);
        CommunityTimelock proposeOnly = new CommunityTimelock(0, new address[](0), new address[](1), address(this));
        proposeOnly.grantRole(proposeOnly.PROPOSER_ROLE(), address(governor));
        address[] memory fed = new address[](1);
        fed[0] = address(governor);
        CommunityTimelock next = new CommunityTimelock(0, fed, new address[](1), address(0));
        CommunityTimelock[3] memory candidates = [orphan, proposeOnly, next];
        string[3] memory descriptions = ["to an orphan", "to one that only lets us propose", "to the next"];
        for (uint256 i; i < 3; ++i) {
            address[] memory targets = new address[](1);
            targets[0] = address(governor);
            bytes[] memory calls = new bytes[](1);
            calls[0] = abi.encodeCall(governor.updateTimelock, (candidates[i]));
            (bool ok, bytes memory returned) = _pass(targets, calls, descriptions[i]);
            if (i < 2) {
                assertTrue(!ok, descriptions[i]);
                assertEq(
                    returned,
                    abi.encodeWithSelector(
                        CommunityGovernor.GovernorTimelockWithoutGovernor.selector, address(candidates[i])
                    ),
                    descriptions[i]
                );
            } else {
                assertTrue(ok, descriptions[i]);
            }
        }
        assertEq(governor.timelock(), address(next), "moved to the timelock that lets it propose and cancel");
    }

    /// @dev What Governor front-ends (Tally and others) read: the IGovernor interface, a proposal
    /// that needs queuing, and its eta (with no delay, the queue block's timestamp).
    function test_governorKeepsTheFrontEndsInterface() public {
        assertTrue(governor.supportsInterface(type(IGovernor).interfaceId), "IGovernor");
        assertEq(governor.timelock(), address(timelock), "timelock");
        uint256 id = _propose();
        assertTrue(governor.proposalNeedsQueuing(id), "needs queuing");
        assertEq(governor.proposalEta(id), 0, "no eta before it is queued");
        (address[] memory targets, bytes[] memory calls) = _retireCalls();
        vm.warp(governor.proposalSnapshot(id) + 1);
        _voteFor(id);
        vm.warp(governor.proposalDeadline(id) + 1);
        governor.queue(targets, new uint256[](1), calls, keccak256("retire"));
        assertEq(governor.proposalEta(id), block.timestamp, "eta: the queue block's timestamp");
        governor.execute(targets, new uint256[](1), calls, keccak256("retire"));
        assertTrue(governor.state(id) == IGovernor.ProposalState.Executed, "executed at once");
    }

    /// @dev Without a guardian, only the proposer cancels, and only while the proposal is pending
    /// (the zero address, the absent guardian's, cannot either).
    function test_withoutAGuardianOnlyTheProposerCancelsWhilePending() public {
        assertEq(governor.proposalGuardian(), address(0), "no guardian");
        uint256 pending = _proposeRetire("pending");
        _cancelRefused(pending, "pending", bob);
        _cancelRefused(pending, "pending", address(0));
        _cancel(pending, "pending", alice);
        uint256 open = _proposeRetire("open");
        vm.warp(governor.proposalSnapshot(open) + 1);
        _cancelRefused(open, "open", alice);
        _voteFor(open);
        vm.warp(governor.proposalDeadline(open) + 1);
        _cancelRefused(open, "open", alice);
        (address[] memory targets, bytes[] memory calls) = _retireCalls();
        governor.queue(targets, new uint256[](1), calls, keccak256("open"));
        _cancelRefused(open, "open", alice);
        assertTrue(governor.state(open) == IGovernor.ProposalState.Queued, "still queued");
    }

    /// @dev The guardian cancels at every stage (pending, open to votes, succeeded, queued: then
    /// the timelock's operation too) but not what has run; others keep the rule without a
    /// guardian (the proposer while pending); removed, the guardian cancels nothing.
    function test_theGuardianCancelsAtEveryStage() public {
        bytes[] memory calls = new bytes[](1);
        calls[0] = abi.encodeCall(governor.setProposalGuardian, (guardian));
        (bool ok,) = _governGovernor(calls, "a guardian");
        assertTrue(ok && governor.proposalGuardian() == guardian, "guardian elected");

        uint256 succeeded = _proposeRetire("succeeded");
        uint256 queued = _proposeRetire("queued");
        uint256 executed = _proposeRetire("executed");
        vm.warp(governor.proposalSnapshot(succeeded) + 1);
        _voteFor(succeeded);
        _voteFor(queued);
        _voteFor(executed);
        vm.warp(governor.proposalDeadline(succeeded) + 1);
        (address[] memory targets, bytes[] memory retire) = _retireCalls();
        uint256[] memory values = new uint256[](1);
        governor.queue(targets, values, retire, keccak256("queued"));
        queueAndExecute(targets, values, retire, keccak256("executed"));
        uint256 open = _proposeRetire("open");
        vm.warp(governor.proposalSnapshot(open) + 1);
        uint256 pending = _proposeRetire("pending");
        uint256 own = _proposeRetire("own");

        _cancelRefused(pending, "pending", bob);
        _cancelRefused(open, "open", alice);
        _cancelRefused(succeeded, "succeeded", alice);
        _cancelRefused(queued, "queued", bob);
        _cancel(own, "own", alice); // the proposer, while pending
        _cancel(pending, "pending", guardian);
        _cancel(open, "open", guardian);
        _cancel(succeeded, "succeeded", guardian);
        bytes32 operation = timelock.hashOperationBatch(targets, values, retire, 0, _salt(keccak256("queued")));
        assertTrue(timelock.isOperationPending(operation), "queued in the timelock");
        _cancel(queued, "queued", guardian);
        assertTrue(!timelock.isOperation(operation), "cancelled in the timelock too");
        // 0x3b: every state but Canceled, Expired and Executed.
        vm.expectRevert(
            abi.encodeWithSelector(
                IGovernor.GovernorUnexpectedProposalState.selector, executed, IGovernor.ProposalState.Executed, 0x3b
            )
        );
        vm.prank(guardian);
        governor.cancel(targets, values, retire, keccak256("executed"));

        calls[0] = abi.encodeCall(governor.setProposalGuardian, (address(0)));
        (ok,) = _governGovernor(calls, "no guardian");
        assertTrue(ok && governor.proposalGuardian() == address(0), "guardian removed");
        uint256 later = _proposeRetire("later");
        _cancelRefused(later, "later", guardian);
    }

    // ---------------------------------------------------------------- CommunityForwarder

    uint256 internal constant WALLET_OWNER_KEY = 0x0A11CE;
    uint256 internal constant OTHER_KEY = 0x0B0B;

    /// @dev A member whose address is a contract wallet: the wallet judges the signature (ERC-1271).
    function test_forwarderTakesAContractWalletsSignature() public {
        ERC1271Wallet wallet = new ERC1271Wallet(vm.addr(WALLET_OWNER_KEY));
        vm.prank(gov);
        membership.admit(address(wallet));
        bytes memory delegate = abi.encodeCall(membership.delegate, (alice));

        // Another key's signature: the wallet refuses, answered as an ECDSA mismatch.
        ERC2771Forwarder.ForwardRequestData memory request =
            signedRequest(OTHER_KEY, address(wallet), address(membership), delegate);
        assertTrue(!forwarder.verify(request), "another key's signature");
        vm.expectRevert(
            abi.encodeWithSelector(
                ERC2771Forwarder.ERC2771ForwarderInvalidSigner.selector, vm.addr(OTHER_KEY), address(wallet)
            )
        );
        forwarder.execute(request);
        // Not an ECDSA signature at all (a wallet may take any form): still the wallet's to judge.
        request.signature = hex"c0ffee";
        assertTrue(!forwarder.verify(request), "bytes the wallet does not take");

        // The owner's signature of the request for the wallet: the wallet says yes.
        request = signedRequest(WALLET_OWNER_KEY, address(wallet), address(membership), delegate);
        assertTrue(forwarder.verify(request), "the owner's signature");
        forwarder.execute(request);
        assertEq(membership.delegates(address(wallet)), alice, "acted as the wallet");
        assertEq(forwarder.nonces(address(wallet)), 1, "the wallet's nonce used");

        // The owner's signature of a request of its own, replayed with the wallet as `from`.
        request = signedRequest(WALLET_OWNER_KEY, vm.addr(WALLET_OWNER_KEY), address(membership), delegate);
        request.from = address(wallet);
        assertTrue(!forwarder.verify(request), "a key's request replayed for the wallet");

        // A key (no code) with another key's signature: refused as before, no wallet asked.
        request = signedRequest(OTHER_KEY, vm.addr(WALLET_OWNER_KEY), address(membership), delegate);
        vm.expectRevert(
            abi.encodeWithSelector(
                ERC2771Forwarder.ERC2771ForwarderInvalidSigner.selector, vm.addr(OTHER_KEY), vm.addr(WALLET_OWNER_KEY)
            )
        );
        forwarder.execute(request);
    }

    /// @dev A wallet that reverts, answers garbage or burns its gas is a refusal, and costs at most
    /// WALLET_SIGNATURE_GAS; one that says yes to anything is its own owner's business.
    function test_forwarderBoundsAHostileWallet() public {
        HostileWallet wallet = new HostileWallet(HostileWallet.Mode.Revert);
        vm.prank(gov);
        membership.admit(address(wallet));
        ERC2771Forwarder.ForwardRequestData memory request =
            signedRequest(OTHER_KEY, address(wallet), address(membership), abi.encodeCall(membership.delegate, (bob)));
        assertTrue(!forwarder.verify(request), "reverts");
        wallet.setMode(HostileWallet.Mode.Garbage);
        assertTrue(!forwarder.verify(request), "garbage");
        wallet.setMode(HostileWallet.Mode.BurnGas);
        uint256 before = gasleft();
        assertTrue(!forwarder.verify(request), "burns its gas");
        assertTrue(before - gasleft() < forwarder.WALLET_SIGNATURE_GAS() + 30_000, "bounded");
        wallet.setMode(HostileWallet.Mode.YesToAll);
        forwarder.execute(request);
        assertEq(membership.delegates(address(wallet)), bob, "yes to anything");
    }

    // ---------------------------------------------------------------- the factory's deployers

    /// The badge deployer creates nothing where its caller's salt already holds a badge contract,
    /// nor from arguments its constructor cannot take: a refusal in words either way. (Versions of
    /// the badge contract, moving and carrying records: Versions.t.sol.)
    function test_theBadgeDeployerRefusesWhatItCannotCreate() public {
        BadgeDeployer deployer = factory.badgeDeployer();
        bytes memory args =
            abi.encode("B", "B", membership, registry, address(forwarder), gov, badge.metadata(), address(0));
        address created = deployer.deploy(keccak256("salt"), args);
        assertEq(ContributionBadge(created).owner(), gov, "created with the arguments given");
        vm.expectRevert(abi.encodeWithSelector(BadgeDeployer.BadgeDeployerFailed.selector));
        deployer.deploy(keccak256("salt"), args); // the address is taken (CREATE2 burns the gas it was given)
        vm.expectRevert(abi.encodeWithSelector(BadgeDeployer.BadgeDeployerFailed.selector));
        deployer.deploy(keccak256("other salt"), hex"01"); // no constructor's arguments
    }

    // ---------------------------------------------------------------- helpers

    /// @dev A setting out of range, proposed, passed, queued: refused when executed.
    function _outOfRange(bytes memory call, bytes memory expected) internal {
        bytes[] memory calls = new bytes[](1);
        calls[0] = call;
        (bool ok, bytes memory returned) = _governGovernor(calls, "out of range");
        assertTrue(!ok, "an out-of-range setting was accepted");
        assertEq(returned, expected, "wrong revert data");
    }

    /// @dev A proposal of `calls` to the governor itself: alice proposes, every member votes for,
    /// then it is queued and executed. Returns the execution's outcome.
    function _governGovernor(bytes[] memory calls, string memory description)
        internal
        returns (bool ok, bytes memory returned)
    {
        address[] memory targets = new address[](calls.length);
        for (uint256 i = 0; i < calls.length; ++i) {
            targets[i] = address(governor);
        }
        return _pass(targets, calls, description);
    }

    /// @dev A proposal of `calls` to `targets`, passed by every member, queued and executed.
    function _pass(address[] memory targets, bytes[] memory calls, string memory description)
        internal
        returns (bool ok, bytes memory returned)
    {
        uint256[] memory values = new uint256[](calls.length);
        vm.prank(alice);
        uint256 id = governor.propose(targets, values, calls, description);
        vm.warp(governor.proposalSnapshot(id) + 1);
        _voteFor(id);
        vm.warp(governor.proposalDeadline(id) + 1);
        return queueAndExecute(targets, values, calls, keccak256(bytes(description)));
    }

    function _voteFor(uint256 id) internal {
        vm.prank(alice);
        governor.castVote(id, 1);
        vm.prank(bob);
        governor.castVote(id, 1);
        vm.prank(carol);
        governor.castVote(id, 1);
    }

    function _mint(uint32 indicatorId) internal returns (uint256 id) {
        vm.prank(alice);
        id = badge.claim(indicatorId, keccak256("e"), "u");
        vm.prank(bob);
        badge.attest(id);
    }

    function _claim(address member, uint32 indicatorId) internal returns (uint256 id) {
        vm.prank(member);
        id = badge.claim(indicatorId, keccak256("e"), "u");
    }

    /// @dev `holder` claims, `attester` attests (a badge for one-endorsement indicators).
    function _mintTo(address holder, uint32 indicatorId, address attester) internal returns (uint256 id) {
        id = _claim(holder, indicatorId);
        vm.prank(attester);
        badge.attest(id);
    }

    function _notQualified(uint256 claimId, address attester, uint256 shown) internal {
        uint32 endorser = registry.terms(badge.getClaim(claimId).indicatorId).endorserIndicatorId;
        vm.expectRevert(
            abi.encodeWithSelector(
                IContributionBadge.BadgeEndorserNotQualified.selector, claimId, attester, endorser, shown
            )
        );
        vm.prank(attester);
        badge.attestWith(claimId, shown);
    }

    function _gatedBy(uint32 endorserIndicatorId)
        internal
        pure
        returns (IIndicatorRegistry.IndicatorInput memory input)
    {
        input = indicator("Gated", 1, 0);
        input.endorserIndicatorId = endorserIndicatorId;
    }

    function _invalidOrganisation(string memory name, string memory identifier, string memory field) internal {
        vm.expectRevert(abi.encodeWithSelector(IIndicatorRegistry.RegistryInvalidOrganisation.selector, field));
        vm.prank(gov);
        registry.addOrganisation(name, identifier);
    }

    function _invalid(IIndicatorRegistry.IndicatorInput memory input, string memory field) internal {
        vm.expectRevert(abi.encodeWithSelector(IIndicatorRegistry.RegistryInvalidIndicator.selector, field));
        vm.prank(gov);
        registry.addIndicator(input);
    }

    function _propose() internal returns (uint256) {
        return _proposeRetire("retire");
    }

    /// @dev alice's proposal to retire indicator 1, told apart by its description.
    function _proposeRetire(string memory description) internal returns (uint256) {
        (address[] memory targets, bytes[] memory calldatas) = _retireCalls();
        vm.prank(alice);
        return governor.propose(targets, new uint256[](1), calldatas, description);
    }

    function _retireCalls() internal view returns (address[] memory targets, bytes[] memory calldatas) {
        targets = new address[](1);
        targets[0] = address(registry);
        calldatas = new bytes[](1);
        calldatas[0] = abi.encodeCall(registry.retireIndicator, (1));
    }

    function _cancel(uint256 id, string memory description, address caller) internal {
        (address[] memory targets, bytes[] memory calldatas) = _retireCalls();
        vm.prank(caller);
        governor.cancel(targets, new uint256[](1), calldatas, keccak256(bytes(description)));
        assertTrue(
            governor.state(id) == IGovernor.ProposalState.Canceled, string.concat(description, ": not cancelled")
        );
    }

    function _cancelRefused(uint256 id, string memory description, address caller) internal {
        (address[] memory targets, bytes[] memory calldatas) = _retireCalls();
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorUnableToCancel.selector, id, caller));
        vm.prank(caller);
        governor.cancel(targets, new uint256[](1), calldatas, keccak256(bytes(description)));
    }

    /// @dev The timelock's salt for a proposal of the governor (GovernorTimelockControl's).
    function _salt(bytes32 descriptionHash) internal view returns (bytes32) {
        return bytes20(address(governor)) ^ descriptionHash;
    }

    function _delayRefused(uint256 delay, uint256 min) internal {
        vm.expectRevert(abi.encodeWithSelector(CommunityTimelock.TimelockDelayOutOfRange.selector, delay, min, 30 days));
        vm.prank(gov);
        timelock.updateDelay(delay);
    }

    function _deployRefused(uint256 delay, uint256 min) internal {
        vm.expectRevert(abi.encodeWithSelector(CommunityTimelock.TimelockDelayOutOfRange.selector, delay, min, 30 days));
        _deployTimelock(delay);
    }

    function _deployTimelock(uint256 delay) internal returns (CommunityTimelock) {
        return new CommunityTimelock(delay, new address[](0), new address[](1), address(0));
    }
}
