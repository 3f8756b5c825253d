// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IAdmissions} from "../../contracts/interfaces/IAdmissions.sol";
import {IContributionBadge} from "../../contracts/interfaces/IContributionBadge.sol";
import {IIndicatorRegistry} from "../../contracts/interfaces/IIndicatorRegistry.sol";
import {IPasskeyAccount} from "../../contracts/interfaces/IPasskeyAccount.sol";
import {CommunityGovernor} from "../../contracts/CommunityGovernor.sol";
import {CommunityTimelock} from "../../contracts/CommunityTimelock.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {Membership} from "../../contracts/Membership.sol";
import {IndicatorRegistry} from "../../contracts/IndicatorRegistry.sol";
import {ContributionBadge} from "../../contracts/ContributionBadge.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {TestBase} from "../utils/Vm.sol";
import {CommunityHandler} from "./CommunityHandler.sol";

/// @notice The protocol's promises, checked by forge after every step of every random sequence
/// of CommunityHandler's moves (runs and depth: foundry.toml; `make fuzz` runs the deep profile).
contract CommunityInvariants is TestBase {
    CommunityHandler internal handler;
    Membership internal membership;
    CommunityGovernor internal governor;
    CommunityTimelock internal timelock;
    IndicatorRegistry internal registry;
    ContributionBadge internal badge;

    function setUp() public {
        handler = new CommunityHandler();
        membership = handler.membership();
        governor = handler.governor();
        timelock = handler.timelock();
        registry = handler.registry();
        badge = handler.badge();
        targetContract(address(handler));
    }

    /// @dev One campaign checks every promise after every step (forge runs one campaign per
    /// invariant_ function, so five separate ones would cost five times the calls).
    function invariant_protocolPromises() public view {
        checkForbiddenCallsNeverSucceed();
        checkBadgeOwnersFollowMintAndRecoveryOnly();
        checkAVoteCountsAtMostOnce();
        checkRulesChangeOnlyByExecutedProposals();
        checkRevokedOrExpiredBadgesNeverCount();
        checkGovernanceStaysAlive();
        checkTimelock();
        checkConsent();
        checkFairPlay();
        checkOrganisations();
        checkPasskeyKeys();
        checkAdmissions();
        checkDirectory();
    }

    /// No call that must fail (an outsider's, a transfer or approval, a bad signature, an
    /// attestation or vote the rules forbid) ever succeeded, and no outsider's call changed state.
    function checkForbiddenCallsNeverSucceed() internal view {
        bytes memory violation = bytes(handler.violation());
        if (violation.length != 0) fail(string(violation));
    }

    /// A badge never changes owner except by governed recovery, and exists exactly when the model
    /// says it was minted: the attestation that reached the required number of distinct
    /// attesters (members at the time, none the contributor) for the claim's indicator version,
    /// while the contributor was a member (no badge is ever minted to a non-member: the handler
    /// records a violation if one is, and the model refuses attestations of a non-member's claim).
    function checkBadgeOwnersFollowMintAndRecoveryOnly() internal view {
        uint256 claims = badge.claimCount();
        assertEq(claims, handler.modelClaimCount(), "claim count differs from the model");
        for (uint256 id = 1; id <= claims; ++id) {
            address expected = handler.modelOwner(id);
            address actual = _ownerOf(id);
            assertEq(actual, expected, "badge owner differs from mint + governed recovery");
            IContributionBadge.Claim memory c = badge.getClaim(id);
            (address contributor, uint32 indicatorId, uint32 version, uint16 attestations,) = handler.modelClaims(id);
            assertEq(c.contributor, contributor, "claim contributor changed");
            assertEq(c.indicatorVersion, version, "claim version changed");
            assertEq(c.attestations, attestations, "attestations differ from the allowed ones");
            // A claim credits the organisation it named when filed (then active), or none.
            assertEq(
                badge.organisationOf(id), handler.modelClaimOrganisation(id), "a claim credits another organisation"
            );
            if (actual != address(0)) {
                assertTrue(
                    attestations >= handler.modelRequired(indicatorId, version),
                    "badge minted with fewer attestations than required"
                );
                assertTrue(!badge.hasAttested(id, contributor), "contributor attested own claim");
            }
        }
    }

    /// A member's vote counts at most once per proposal: no voter counted twice, the tally is
    /// the sum of the counted voters' weights at the snapshot, never above the total then.
    function checkAVoteCountsAtMostOnce() internal view {
        for (uint256 i = 0; i < handler.proposalCount(); ++i) {
            uint256 id = handler.proposalId(i);
            address[] memory voters = handler.voters(id);
            uint256 snapshot = governor.proposalSnapshot(id);
            uint256 weights;
            for (uint256 v = 0; v < voters.length; ++v) {
                assertEq(handler.successfulVotes(id, voters[v]), 1, "a member voted twice on one proposal");
                assertTrue(governor.hasVoted(id, voters[v]), "a counted vote is not marked");
                weights += membership.getPastVotes(voters[v], snapshot);
            }
            (uint256 against, uint256 forVotes, uint256 abstain) = governor.proposalVotes(id);
            assertEq(against + forVotes + abstain, weights, "tally differs from the voters' weights");
            if (voters.length > 0) {
                assertTrue(weights <= membership.getPastTotalSupply(snapshot), "more votes than members");
            }
        }
    }

    /// The registry and membership change only by executed proposals (and membership by the
    /// vouches the model allows: checkAdmissions).
    function checkRulesChangeOnlyByExecutedProposals() internal view {
        assertEq(
            membership.memberCount(), handler.modelMemberCount(), "member count changed outside governance and vouching"
        );
        for (uint256 i = 0; i < 6; ++i) {
            address account = handler.actor(i);
            assertTrue(
                membership.isMember(account) == handler.modelMember(account),
                "membership changed outside governance and vouching"
            );
        }
        uint32 count = registry.indicatorCount();
        assertEq(count, handler.modelIndicatorCount(), "indicator count changed outside governance");
        for (uint32 id = 1; id <= count; ++id) {
            IIndicatorRegistry.Terms memory t = registry.terms(id);
            assertEq(t.version, handler.modelVersion(id), "indicator version changed outside governance");
            assertTrue(t.active == handler.modelActive(id), "indicator retired outside governance");
            assertEq(
                t.endorsementsRequired, handler.modelRequired(id, t.version), "requirement changed outside governance"
            );
            assertEq(t.validity, handler.modelValidity(id, t.version), "validity changed outside governance");
            CommunityHandler.Rules memory rules = handler.modelRules(id, t.version);
            assertTrue(
                t.endorserIndicatorId == rules.endorserIndicatorId && t.earnCap == rules.earnCap
                    && t.attestCap == rules.attestCap && t.capPeriod == rules.capPeriod,
                "fair-play rules of an indicator changed outside governance"
            );
        }
        assertEq(registry.reciprocalWindow(), handler.modelWindow(), "reciprocal window changed outside governance");
        assertEq(uint8(registry.scoreRule()), handler.modelScoreRule(), "score rule changed outside governance");
        assertEq(membership.owner(), address(timelock), "membership owner changed");
        assertEq(registry.owner(), address(timelock), "registry owner changed");
        assertEq(badge.owner(), address(timelock), "badge owner changed");
    }

    /// A revoked, disowned or expired badge never counts; a badge that is none of these does.
    function checkRevokedOrExpiredBadgesNeverCount() internal view {
        for (uint256 i = 0; i < handler.mintedCount(); ++i) {
            uint256 id = handler.mintedTokens(i);
            (, uint32 indicatorId, uint32 version,,) = handler.modelClaims(id);
            uint256 validity = handler.modelValidity(indicatorId, version);
            bool expired = validity != 0 && block.timestamp >= handler.modelMintedAt(id) + validity;
            bool revoked = handler.modelRevoked(id);
            bool disowned = handler.modelDisowned(id);
            assertTrue(
                badge.isActive(id) == !(expired || revoked || disowned),
                "isActive disagrees with revocation/disowning/expiry"
            );
            (, IContributionBadge.Badge memory b,) = badge.getBadge(id);
            assertTrue((b.revokedAt != 0) == revoked, "revocation record differs from governed revocations");
            assertTrue((b.disownedAt != 0) == disowned, "disowning record differs from the holders' disownings");
        }
        assertTrue(!badge.isActive(badge.claimCount() + 1), "an unminted badge counts");
    }

    /// Governance can always act again: there is always at least one member, and the settings
    /// stay within the governor's bounds (a delay that does not overflow proposing, a period to
    /// vote in, a quorum of 1-100 %, a threshold any member meets), changed only by executed
    /// proposals, whatever values proposals asked for.
    function checkGovernanceStaysAlive() internal view {
        assertTrue(membership.memberCount() >= 1, "no members left");
        uint256 delay = governor.votingDelay();
        uint256 period = governor.votingPeriod();
        uint256 threshold = governor.proposalThreshold();
        uint256 quorum = governor.quorumNumerator();
        assertTrue(
            delay >= governor.MIN_VOTING_DELAY() && delay <= governor.MAX_VOTING_DELAY(), "voting delay out of bounds"
        );
        assertTrue(
            period >= governor.MIN_VOTING_PERIOD() && period <= governor.MAX_VOTING_PERIOD(),
            "voting period out of bounds"
        );
        assertTrue(threshold <= governor.MAX_PROPOSAL_THRESHOLD(), "proposal threshold out of bounds");
        assertTrue(
            quorum >= governor.MIN_QUORUM_PERCENT() && quorum <= governor.MAX_QUORUM_PERCENT(), "quorum out of bounds"
        );
        assertEq(delay, handler.modelVotingDelay(), "voting delay changed outside executed proposals");
        assertEq(period, handler.modelVotingPeriod(), "voting period changed outside executed proposals");
        assertEq(threshold, handler.modelProposalThreshold(), "proposal threshold changed outside executed proposals");
        assertEq(quorum, handler.modelQuorum(), "quorum changed outside executed proposals");
    }

    /// The timelock and the guardian:
    /// - the timelock's roles are what the deployment left them, whoever tried otherwise (only the
    ///   timelock itself could change them, by a proposal, and none asks): the governor alone
    ///   proposes and cancels, anyone executes, the timelock alone administers (the factory
    ///   renounced; neither it nor the community's creator holds any role); the governor's
    ///   timelock is still it;
    /// - the delay stays within bounds and the guardian is the last one elected, each changed only
    ///   by executed proposals;
    /// - every proposal is where its story puts it: a cancelled one is Canceled and never ran, an
    ///   executed one was queued first (and ran once its delay had passed: checked as it ran), a
    ///   queued one waits in the timelock.
    function checkTimelock() internal view {
        assertEq(governor.timelock(), address(timelock), "the governor's timelock changed");
        address[] memory accounts = handler.roleCandidates();
        // Bit (role * accounts + account): proposer and canceller the governor (account 0), executor
        // anyone (account 2, the zero address), admin the timelock (account 1).
        uint256 n = accounts.length;
        uint256 expected = (1 << 0) | (1 << n) | (1 << (2 * n + 2)) | (1 << (3 * n + 1));
        assertEq(handler.timelockRoles(), expected, "the timelock's roles changed");
        uint256 delay = timelock.getMinDelay();
        assertTrue(delay <= timelock.MAX_DELAY(), "timelock delay out of bounds");
        assertEq(delay, handler.modelTimelockDelay(), "timelock delay changed outside executed proposals");
        assertEq(governor.proposalGuardian(), handler.modelGuardian(), "guardian changed outside executed proposals");
        for (uint256 i = 0; i < handler.proposalCount(); ++i) {
            (bool queued, bool executed, bool canceled) = handler.proposalStory(i);
            IGovernor.ProposalState state = governor.state(handler.proposalId(i));
            if (canceled) {
                assertTrue(state == IGovernor.ProposalState.Canceled && !executed, "a cancelled proposal ran");
            } else if (executed) {
                assertTrue(state == IGovernor.ProposalState.Executed && queued, "an executed proposal was not queued");
            } else if (queued) {
                assertTrue(state == IGovernor.ProposalState.Queued, "a queued proposal left the timelock");
            } else {
                assertTrue(
                    state == IGovernor.ProposalState.Pending || state == IGovernor.ProposalState.Active
                        || state == IGovernor.ProposalState.Defeated || state == IGovernor.ProposalState.Succeeded,
                    "a proposal ended without being queued or cancelled"
                );
            }
        }
    }

    /// Consent: every claim's nomination state is the one its nominee chose (a claim of one's
    /// own needs none); a badge exists for a nomination only once it was accepted, never for a
    /// pending or declined one; profiles are hidden only by their members.
    function checkConsent() internal view {
        for (uint256 id = 1; id <= badge.claimCount(); ++id) {
            (,,,, uint8 nomination) = handler.modelClaims(id);
            IContributionBadge.Claim memory c = badge.getClaim(id);
            assertEq(uint8(c.nomination), nomination, "nomination state differs from the nominee's answers");
            if (_ownerOf(id) != address(0)) {
                assertTrue(
                    c.nomination == IContributionBadge.Nomination.None
                        || c.nomination == IContributionBadge.Nomination.Accepted,
                    "a badge minted from a nomination that was not accepted"
                );
            }
        }
        for (uint256 i = 0; i < 6; ++i) {
            address account = handler.actor(i);
            assertTrue(badge.profileHidden(account) == handler.modelHidden(account), "profile hidden by someone else");
        }
    }

    /// Fair play, over the ghost record of every attestation and every capped badge earned:
    /// - who may endorse: an attestation of an indicator that requires its endorsers to hold a
    ///   badge of another came from a member who, at that moment, held a counting (neither
    ///   revoked, disowned nor expired) badge of that indicator and showed it;
    /// - caps: the n-th claim a member attested of an indicator with an attest cap within one
    ///   cap period had n at most the cap then in force; the same for the n-th badge a member
    ///   earned of an indicator with an earn cap;
    /// - reciprocity: while the window was on, no member attested a claim of a member who,
    ///   within the window before and while it was on, attested a claim of theirs on the same
    ///   indicator.
    function checkFairPlay() internal view {
        CommunityHandler.AttestationRecord[] memory attestations = handler.attestations();
        for (uint256 i = 0; i < attestations.length; ++i) {
            CommunityHandler.AttestationRecord memory a = attestations[i];
            if (a.endorserIndicatorId != 0 && !a.endorserQualified) {
                fail(
                    string.concat(
                        "attestation of claim ",
                        Strings.toString(a.claimId),
                        " by a member without a counting badge of indicator ",
                        Strings.toString(a.endorserIndicatorId),
                        " (showed ",
                        Strings.toString(a.badgeShown),
                        ")"
                    )
                );
            }
            assertTrue(
                a.attestedInPeriod <= a.attestCap,
                "a member attested more claims of an indicator in one period than its cap"
            );
            if (a.window != 0 && a.reverseAt != 0 && a.time < a.reverseAt + a.window) {
                fail(
                    string.concat(
                        "reciprocal endorsement within the window: claim ",
                        Strings.toString(a.claimId),
                        " attested at ",
                        Strings.toString(a.time),
                        ", the reverse at ",
                        Strings.toString(a.reverseAt)
                    )
                );
            }
        }
        CommunityHandler.EarningRecord[] memory earnings = handler.earnings();
        for (uint256 i = 0; i < earnings.length; ++i) {
            CommunityHandler.EarningRecord memory e = earnings[i];
            assertTrue(
                e.earnedInPeriod <= e.earnCap, "a member earned more badges of an indicator in one period than its cap"
            );
        }
    }

    /// Organisations: registered and retired only by executed proposals (what each claim
    /// credits: checkBadgeOwnersFollowMintAndRecoveryOnly).
    function checkOrganisations() internal view {
        uint32 count = registry.organisationCount();
        assertEq(count, handler.modelOrganisationCount(), "organisation count changed outside governance");
        for (uint32 id = 1; id <= count; ++id) {
            assertTrue(
                handler.organisationActive(id) == !handler.modelOrganisationRetired(id),
                "organisation retired outside governance"
            );
        }
    }

    /// Passkeys: the passkey member's account holds exactly the passkeys its own relayed requests,
    /// signed with a passkey it held, gave it (1 to MAX_KEYS, each once); its twin (another
    /// account of the same first passkey, never asked) still holds only that one. Requests signed
    /// with a passkey the account does not hold, replayed from the twin, with high s or without
    /// user verification never succeeded (checkForbiddenCallsNeverSucceed).
    function checkPasskeyKeys() internal view {
        IPasskeyAccount account = handler.passkeyAccount();
        IPasskeyAccount.PublicKey[] memory held = account.keys();
        assertEq(held.length, handler.modelPasskeyCount(), "passkeys changed outside the account's own requests");
        assertTrue(held.length >= 1 && held.length <= account.MAX_KEYS(), "passkey count out of bounds");
        for (uint256 i = 0; i < held.length; ++i) {
            assertTrue(handler.modelHoldsKey(held[i].qx, held[i].qy), "a passkey the account's requests never added");
        }
        assertEq(handler.twin().keys().length, 1, "the twin's passkeys changed");
    }

    /// Admissions, over the ghost record of every vouch, invitation and admission by vouching:
    /// - whoever the contract admitted by vouching had at least k vouches (k in force then, not 0)
    ///   from distinct members, all given since the last removal by governance;
    /// - a removed address (removed by governance, or replaced by recovery, and not admitted by
    ///   governance since) never became a member through vouching;
    /// - no member spent more than the cap in force on vouches and invitations in one period;
    /// - the rules change only by executed proposals; each candidate's vouches, and each
    ///   invitation (inviter, expiry, withdrawal, the accepting account, open or not), are the
    ///   model's.
    function checkAdmissions() internal view {
        CommunityHandler.VouchAdmission[] memory admitted = handler.vouchAdmissions();
        for (uint256 i = 0; i < admitted.length; ++i) {
            CommunityHandler.VouchAdmission memory a = admitted[i];
            if (a.vouchesRequired == 0 || a.vouches < a.vouchesRequired) {
                fail(
                    string.concat(
                        "admitted by vouching with ",
                        Strings.toString(a.vouches),
                        " vouches of the current epoch, k = ",
                        Strings.toString(a.vouchesRequired)
                    )
                );
            }
            assertTrue(!a.removed, "a removed address became a member through vouching");
        }
        CommunityHandler.SpendRecord[] memory spent = handler.spends();
        for (uint256 i = 0; i < spent.length; ++i) {
            if (spent[i].usedInPeriod > spent[i].cap) {
                fail(
                    string.concat(
                        "a member spent ",
                        Strings.toString(spent[i].usedInPeriod),
                        " vouches and invitations in one period, the cap ",
                        Strings.toString(spent[i].cap)
                    )
                );
            }
        }
        IAdmissions.AdmissionRules memory rules = membership.admissionRules();
        IAdmissions.AdmissionRules memory model = handler.modelAdmissionRules();
        assertTrue(
            keccak256(abi.encode(rules)) == keccak256(abi.encode(model)),
            "admission rules changed outside executed proposals"
        );
        for (uint256 i = 0; i < 6; ++i) {
            address account = handler.actor(i);
            assertEq(membership.vouchesFor(account), handler.ghostVouchesFor(account), "vouches differ from the model");
        }
        for (uint256 i = 0; i < handler.invitationCount(); ++i) {
            address invited = handler.invitations(i);
            IAdmissions.Invitation memory actual = membership.invitationOf(invited);
            (address inviter, uint256 expiresAt, bool withdrawn, address account,) = handler.modelInvitation(invited);
            assertTrue(
                actual.inviter == inviter && actual.expiresAt == expiresAt && actual.withdrawn == withdrawn
                    && actual.account == account,
                "an invitation differs from the model"
            );
            assertTrue(
                membership.isOpenInvitation(invited) == handler.modelIsOpen(invited), "an invitation open or not"
            );
            assertTrue(!membership.isMember(invited), "an invitation's address became a member");
        }
    }

    /// The directory: no two members hold the same name, nor the same account on one site,
    /// ASCII case aside; each member holds what they last set (unless governance cleared it); a
    /// member who left holds nothing, and whatever a member held and no longer does is free or
    /// another's.
    function checkDirectory() internal view {
        for (uint8 site = 0; site <= 4; ++site) {
            for (uint256 i = 0; i < 6; ++i) {
                address a = handler.actor(i);
                bytes32 key = handler.ghostDirectoryKey(a, site);
                string memory text = handler.ghostDirectoryText(a, site);
                if (key != 0) {
                    assertTrue(handler.modelMember(a), "a non-member holds a name or an account");
                    assertEq(_holder(site, text), a, "a member does not hold the name or account they set");
                    for (uint256 j = i + 1; j < 6; ++j) {
                        address b = handler.actor(j);
                        if (handler.modelMember(b) && handler.ghostDirectoryKey(b, site) == key) {
                            fail("two members hold the same name or account (ASCII case aside)");
                        }
                    }
                } else if (bytes(text).length != 0) {
                    assertTrue(_holder(site, text) != a, "a name or account cleared or freed is still held");
                }
            }
        }
    }

    function _holder(uint8 site, string memory text) private view returns (address) {
        return site == 0 ? membership.holderOfName(text) : membership.holderOfAccount(site, text);
    }

    function _ownerOf(uint256 id) private view returns (address) {
        try badge.ownerOf(id) returns (address owner) {
            return owner;
        } catch {
            return address(0);
        }
    }
}
