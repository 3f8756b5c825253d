// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IAdmissions} from "../../contracts/interfaces/IAdmissions.sol";
import {IContributionBadge} from "../../contracts/interfaces/IContributionBadge.sol";
import {IIndicatorRegistry} from "../../contracts/interfaces/IIndicatorRegistry.sol";
import {IPasskeyAccount} from "../../contracts/interfaces/IPasskeyAccount.sol";
import {Community} from "../utils/Community.sol";
import {Vm} from "../utils/Vm.sol";

/// @dev The fuzzer's moves: random sequences over six accounts (three founders, two people who may
/// be admitted, the second of them a passkey account without a wallet, one outsider who never is)
/// of admit, remove, recover, indicator changes (often with fair-play rules: an endorser indicator,
/// earn and attest caps per period), revocations, settings changes in and out of the governor's
/// bounds, removing every member at once, the community's reciprocal window and score rule, and
/// organisations registered or retired, the governor's guardian elected or removed and the
/// timelock's delay (in and out of its bounds) (each as a proposal), propose, vote, queue, execute,
/// cancel (by the guardian, the proposer or anyone, at any stage), delegate,
/// claim and nominate (some crediting an organisation), attest (direct, showing a badge, and
/// relayed, with good and bad signatures; the passkey member's signed with one of its passkeys, or
/// spoiled: a passkey it does not hold, its passkey's signature of its twin's request (another
/// account of the same passkey), high s, no user verification), accept or decline a nomination
/// (direct and relayed), disown a badge, hide or show a profile, the passkey member adding and
/// removing passkeys by its own relayed requests (or by a passkey it does not hold), transfer and
/// approve attempts, outsider calls, and time jumps (one in eight a day long). Admissions and the
/// directory: members vouch (for the two who may be admitted, a removed founder, a member or
/// nobody), invite (a fresh invitation whose secret the handler keeps, or one refused: zero, a
/// member, an invitation already, a name empty or too long), the invitee accepts as one of the
/// actors but the outsider (signed with the invitation's secret for that account, or spoiled: a
/// wrong secret, an acceptance signed for another account, bytes that are no signature), the
/// inviter (or anyone) withdraws, members set names and link accounts (ASCII-case duplicates, other
/// scripts, non-UTF-8 bytes, and texts the rules refuse), members nominate open invitations and the
/// joined account answers; governance changes the admission rules (in and out of bounds) and
/// clears names and accounts; and, each in one move so that they happen within a sequence, an
/// invitation's story (invited, nominated, accepted, vouched for, answered, attested), vouching
/// across a removal, two members clashing over one name, and the guardian's story (elected, then
/// cancelling a proposal at a stage of its life). Beside the contracts it keeps a model
/// that changes only on what the protocol allows (an executed proposal; a vouch, or an acceptance
/// carrying one, that the admission rules allow; an attestation by a member other than the
/// contributor), which the invariants compare with the contracts after every step, and
/// ghost records of every attestation and every capped badge earned (the tally of the member's
/// period, the rules in force, the reverse endorsement the reciprocal window saw), against which
/// the invariants check the fair-play rules; and of every vouch or invitation spent (the member's
/// period), every admission by vouching (the vouches of the epoch, k then), every invitation and
/// what each actor holds in the directory, against which they check admissions and names.
contract CommunityHandler is Community {
    Vm private constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    uint256 internal constant ACTORS = 6;
    uint256 internal constant OUTSIDER = 5;
    /// @dev The actor whose address is a passkey account (one of the two who may be admitted).
    uint256 internal constant PASSKEY_MEMBER = 4;
    /// @dev The passkeys the passkey member may come to hold: one more than an account holds.
    uint256 internal constant PASSKEYS = 5;
    uint256 internal constant FIRST_PASSKEY = 0x9A55CE0;
    uint256[ACTORS] internal keys;
    address[ACTORS] public actors;

    enum Kind {
        Admit,
        Remove,
        Recover,
        AddIndicator,
        AmendIndicator,
        RetireIndicator,
        Revoke,
        Settings,
        RemoveEveryone,
        CommunityRules,
        Organisation,
        AdmissionRules,
        ClearDirectory,
        Guardian,
        TimelockDelay
    }

    uint256 internal constant KINDS = 15;

    struct Proposal {
        uint256 id;
        Kind kind;
        address a;
        address b;
        uint32 indicatorId;
        uint16 endorsements;
        uint32 validity;
        uint256[] tokens; // badge ids (Recover, Revoke), or actor indexes (RemoveEveryone)
        uint8 setting; // Settings: 0 voting delay, 1 voting period, 2 proposal threshold, 3 quorum;
        // CommunityRules: the score rule; Organisation: 0 add, 1 retire (indicatorId: which)
        uint256 value; // Settings: the value; CommunityRules: the reciprocal window; TimelockDelay: the delay
        // ClearDirectory: setting 0 the name of `a`, 1-4 its account on that site, 5 (refused) a site that is none
        Rules rules; // AddIndicator, AmendIndicator
        IAdmissions.AdmissionRules admission; // AdmissionRules
        address[] targets;
        bytes[] calldatas;
        string description;
        address proposer;
        bool queued;
        bool executed;
        bool canceled;
    }

    struct ClaimModel {
        address contributor;
        uint32 indicatorId;
        uint32 version;
        uint16 attestations;
        uint8 nomination; // 0 a claim of one's own, 1 pending, 2 accepted, 3 declined
    }

    /// @dev An indicator version's fair-play rules.
    struct Rules {
        uint32 endorserIndicatorId;
        uint16 earnCap;
        uint16 attestCap;
        uint32 capPeriod;
    }

    struct GhostTally {
        uint256 period;
        uint16 earned;
        uint16 attested;
    }

    /// @dev Ghost record of one successful attestation, with what the rules saw at that time.
    struct AttestationRecord {
        uint256 claimId;
        address attester;
        address contributor;
        uint32 indicatorId;
        uint32 endorserIndicatorId; // of the indicator version in force; 0 = anyone
        uint256 badgeShown;
        bool endorserQualified; // the model: the attester held badgeShown, of that indicator, counting
        uint16 attestCap; // 0 = none
        uint16 attestedInPeriod; // the attester's attestations of the indicator in this cap period, this one included
        uint32 window; // the reciprocal window in force (0 = off)
        uint256 time;
        uint256 reverseAt; // when the contributor last attested the attester's claim on it while the window was on
    }

    /// @dev Ghost record of one badge earned of an indicator with an earn cap.
    struct EarningRecord {
        uint256 tokenId;
        address member;
        uint32 indicatorId;
        uint16 earnCap;
        uint16 earnedInPeriod; // the member's badges of the indicator in this cap period, this one included
    }

    /// @dev An invitation as the model sees it, with the secret the handler made for it.
    struct InvitationModel {
        address inviter;
        uint256 expiresAt;
        bool withdrawn;
        address account; // the actor that accepted it, or 0
        uint256 secret;
    }

    /// @dev One vouch or invitation a member spent, with their use of the period it fell in (the
    /// period: `vouchPeriod` seconds from the member's first use after the last one ended).
    struct SpendRecord {
        address member;
        uint256 time;
        uint256 periodStart;
        uint256 usedInPeriod; // this one included
        uint8 cap; // the cap in force
    }

    /// @dev Someone the contract admitted by vouching (a vouch, or an acceptance carrying one).
    struct VouchAdmission {
        address candidate;
        uint256 vouches; // distinct members' vouches given for them since the last removal by governance
        uint8 vouchesRequired; // k in force
        bool removed; // removed by governance (or replaced by recovery) and not admitted by it since
    }

    uint8 internal constant NONE = 0;
    uint8 internal constant PENDING = 1;
    uint8 internal constant ACCEPTED = 2;
    uint8 internal constant DECLINED = 3;

    // ---- the model
    mapping(address => bool) public modelMember;
    uint256 public modelMemberCount;
    uint32 public modelIndicatorCount;
    mapping(uint32 => uint32) public modelVersion;
    mapping(uint32 => bool) public modelActive;
    mapping(uint32 => mapping(uint32 => uint16)) public modelRequired;
    mapping(uint32 => mapping(uint32 => uint32)) public modelValidity;
    mapping(uint256 => ClaimModel) public modelClaims;
    uint256 public modelClaimCount;
    mapping(uint256 => address) public modelOwner; // badge owner, 0 = not minted
    mapping(uint256 => uint256) public modelMintedAt;
    mapping(uint256 => bool) public modelRevoked;
    mapping(uint256 => bool) public modelDisowned;
    mapping(address => bool) public modelHidden;
    uint256[] public mintedTokens;
    mapping(uint32 => mapping(uint32 => Rules)) internal _modelRules;
    uint32 public modelWindow;
    uint8 public modelScoreRule;
    uint32 public modelOrganisationCount;
    mapping(uint32 => bool) public modelOrganisationRetired;
    mapping(uint256 => uint32) public modelClaimOrganisation;

    // ---- ghosts of the fair-play rules
    /// @dev Per (member, indicator): the badges earned and claims attested in its cap period
    /// number `period` (fixed windows of the indicator's capPeriod from the Unix epoch), counted
    /// while the indicator had that cap; a use of the indicator in another period starts afresh.
    mapping(address => mapping(uint32 => GhostTally)) public ghostTally;
    /// @dev Per (attester, contributor, indicator): the last attestation while the window was on.
    mapping(address => mapping(address => mapping(uint32 => uint256))) public ghostLastEndorsed;
    AttestationRecord[] internal _attestations;
    EarningRecord[] internal _earnings;
    // The governor's settings, changed only by executed proposals.
    uint256 public modelVotingDelay = VOTING_DELAY;
    uint256 public modelVotingPeriod = VOTING_PERIOD;
    uint256 public modelProposalThreshold;
    uint256 public modelQuorum = QUORUM_PERCENT;
    // The timelock's delay and the governor's guardian, changed only by executed proposals.
    uint256 public modelTimelockDelay;
    address public modelGuardian;

    Proposal[] internal _proposals;
    mapping(uint256 => mapping(address => uint256)) public successfulVotes;
    mapping(uint256 => address[]) internal _voters;

    /// @dev Set when a call that must fail succeeded (outsider, transfer, bad signature).
    string public violation;
    uint256 public proposalsQueued;
    uint256 public proposalsExecuted;
    uint256 public proposalsCanceled;
    uint256 public badgesMinted;
    uint256 public outsiderCalls;
    uint256 public badgesRecovered;
    uint256 public badgesRevoked;
    uint256 public membersRemoved;
    uint256 public settingsChanged;
    uint256 public nominationsAccepted;
    uint256 public nominationsDeclined;
    uint256 public badgesDisowned;
    uint256 public passkeyChanges;
    uint256 private _nonce;

    // ---- admissions and the directory
    uint256 internal constant FIRST_INVITATION_SECRET = 0x1417E00;
    IAdmissions.AdmissionRules internal _modelAdmission;
    /// @dev Removals by governance: vouches given before the last one no longer count.
    uint256 public modelRemovals;
    /// @dev Removed by governance (or replaced by recovery) and not admitted by governance since.
    mapping(address => bool) public modelRemoved;
    /// @dev Per candidate: the voucher's vouch, as the removals count when given, plus one.
    mapping(address => mapping(address => uint256)) internal _ghostVouchedIn;
    mapping(address => uint256) internal _ghostCandidacyEpoch;
    mapping(address => uint256) internal _ghostCandidacyVouches;
    mapping(address => uint256) internal _ghostPeriodStart;
    mapping(address => uint256) internal _ghostPeriodUsed;
    SpendRecord[] internal _spends;
    VouchAdmission[] internal _vouchAdmissions;
    address[] public invitations;
    mapping(address => InvitationModel) public modelInvitation;
    /// @dev What each actor holds in the directory: site 0 its name, 1-4 its linked accounts; the
    /// key (0: none) is the text with ASCII letters folded, hashed with the site.
    mapping(address => mapping(uint8 => bytes32)) public ghostDirectoryKey;
    /// @dev The last text the actor held there (kept after it is cleared, to check it is freed).
    mapping(address => mapping(uint8 => string)) internal _ghostDirectoryText;
    mapping(bytes32 => address) public ghostDirectoryHolder;
    uint256 public vouchesGiven;
    uint256 public invitationsAccepted;
    uint256 public admittedByVouching;
    uint256 public nomineesJoined;
    uint256 public directoryChanges;

    // ---- the passkey member
    IPasskeyAccount public passkeyAccount;
    /// @dev Another account of the passkey member's first passkey (another salt); never a member.
    IPasskeyAccount public twin;
    /// @dev Which of the PASSKEYS passkeys the account holds: changed only by its own signed requests.
    mapping(uint256 passkey => bool) public modelHolds;
    uint256 public modelPasskeyCount;

    constructor() {
        address[] memory founders = new address[](3);
        for (uint256 i = 0; i < ACTORS; ++i) {
            keys[i] = 0xA11CE + i;
            actors[i] = vm.addr(keys[i]);
            if (i < 3) founders[i] = actors[i];
        }
        deployCommunity(founders);
        // The passkey member's address is its account (keys[PASSKEY_MEMBER] only signs badly).
        (bytes32 qx, bytes32 qy) = passkeyPublicKey(FIRST_PASSKEY);
        passkeyAccount = IPasskeyAccount(accountFactory.create(qx, qy, 0));
        twin = IPasskeyAccount(accountFactory.create(qx, qy, bytes32(uint256(1))));
        actors[PASSKEY_MEMBER] = address(passkeyAccount);
        modelHolds[FIRST_PASSKEY] = true;
        modelPasskeyCount = 1;
        for (uint256 i = 0; i < 3; ++i) {
            modelMember[actors[i]] = true;
        }
        modelMemberCount = 3;
        // Four indicators to start from: 2 endorsements, forever; 1 endorsement, 300 s; then,
        // forever with 1 endorsement, one endorsed only by holders of the second, of which a member
        // attests at most one claim per 10 minutes, and one of which a member earns at most one
        // badge an hour. A 10-minute reciprocal window, and one organisation.
        Rules memory none;
        _govern(_withRules(_newProposal(Kind.AddIndicator, address(0), address(0), 0, 2, 0, 0), none));
        _govern(_withRules(_newProposal(Kind.AddIndicator, address(0), address(0), 0, 1, 300, 0), none));
        _govern(_withRules(_newProposal(Kind.AddIndicator, address(0), address(0), 0, 1, 0, 0), Rules(2, 0, 1, 600)));
        _govern(_withRules(_newProposal(Kind.AddIndicator, address(0), address(0), 0, 1, 0, 0), Rules(0, 1, 0, 3600)));
        _govern(_newProposal(Kind.CommunityRules, address(0), address(0), 0, 1, 0, 2)); // window 600 s, linear
        _govern(_newProposal(Kind.Organisation, address(0), address(0), 0, 1, 0, 0));
        // Admission: two vouches admit; two vouches or invitations a day each; invitations open a
        // day (the shortest the bounds allow, so the warps' day-long jumps end them).
        Proposal storage admission = _newProposal(Kind.AdmissionRules, address(0), address(0), 0, 1, 0, 0);
        admission.admission = IAdmissions.AdmissionRules(2, 2, 1 days, 1 days);
        admission.calldatas[0] = abi.encodeCall(membership.setAdmissionRules, (admission.admission));
        admission.id = governor.hashProposal(
            admission.targets, new uint256[](1), admission.calldatas, keccak256(bytes(admission.description))
        );
        _govern(admission);
        // Executed: their tallies can no longer change, so the invariants need not re-read them
        // after every step (the first two stay, as before the fair-play rules).
        for (uint256 i = 0; i < 5; ++i) {
            _proposals.pop();
        }
        require(
            modelIndicatorCount == 4 && modelWindow == 600 && modelOrganisationCount == 1
                && _modelAdmission.vouchesRequired == 2,
            "setup: rules not in force"
        );
    }

    // ================================================================ moves

    function propose(uint256 actorSeed, uint256 kindSeed, uint256 aSeed, uint256 bSeed) external {
        _newProposal(
            Kind(kindSeed % KINDS),
            _actor(aSeed, 5),
            _actor(bSeed, 5),
            uint32(aSeed % 4),
            uint16(1 + bSeed % 3),
            _validity(bSeed),
            bSeed
        );
        Proposal storage p = _proposals[_proposals.length - 1];
        address proposer = _actor(actorSeed, ACTORS);
        vm.prank(proposer);
        try governor.propose(p.targets, new uint256[](p.targets.length), p.calldatas, p.description) {
            _requireWas(modelMember[proposer], "non-member proposed");
            p.proposer = proposer;
        } catch {
            _proposals.pop();
        }
    }

    function vote(uint256 actorSeed, uint256 proposalSeed, uint8 support) external {
        if (_proposals.length == 0) return;
        _vote(_actor(actorSeed, ACTORS), _proposals[proposalSeed % _proposals.length].id, support % 3);
    }

    function queue(uint256 proposalSeed) external {
        if (_proposals.length == 0) return;
        _queue(_proposals[proposalSeed % _proposals.length]);
    }

    function execute(uint256 proposalSeed) external {
        if (_proposals.length == 0) return;
        _execute(_proposals[proposalSeed % _proposals.length]);
    }

    /// @dev A member, the guardian (one time in three, when there is one) or anyone else cancels
    /// a proposal: it succeeds exactly when the caller is the guardian, or the proposer while the
    /// proposal is pending, and the proposal has not ended (cancelled or executed).
    function cancel(uint256 actorSeed, uint256 proposalSeed) external {
        if (_proposals.length == 0) return;
        address caller =
            actorSeed % 3 == 0 && modelGuardian != address(0) ? modelGuardian : _actor(actorSeed / 3, ACTORS);
        _cancelAs(caller, _proposals[proposalSeed % _proposals.length]);
    }

    /// @dev The guardian's story in one move, so that it happens within a sequence: governance
    /// elects an actor guardian (when there is none), a member proposes (a hostile proposal as
    /// often as any), and at a stage the seed picks (pending, open to votes, passed, queued) the
    /// guardian cancels it, or, one time in four, the proposer tries, or another actor.
    function guardianStory(uint256 seed) external {
        if (modelGuardian == address(0)) {
            // A seed of 1 elects the actor (0 would elect none).
            _govern(_newProposal(Kind.Guardian, _actor(seed, 5), address(0), 0, 1, 0, 1));
            if (modelGuardian == address(0)) return;
        }
        seed = uint256(keccak256(abi.encode(seed, "guardian")));
        Proposal storage p = _newProposal(
            Kind(seed % KINDS), _actor(seed / 16, 5), _actor(seed / 128, 5), uint32(seed / 1024 % 4), 1, 0, seed
        );
        address proposer = _proposer();
        if (proposer == address(0)) {
            _proposals.pop();
            return;
        }
        vm.prank(proposer);
        governor.propose(p.targets, new uint256[](p.targets.length), p.calldatas, p.description);
        p.proposer = proposer;
        uint256 stage = seed / 8192 % 4;
        if (stage >= 1) vm.warp(governor.proposalSnapshot(p.id) + 1);
        if (stage >= 2) {
            for (uint256 i = 0; i < ACTORS; ++i) {
                _vote(actors[i], p.id, 1);
            }
            vm.warp(governor.proposalDeadline(p.id) + 1);
        }
        if (stage == 3) _queue(p);
        uint256 who = seed / 65_536 % 8;
        _cancelAs(who == 0 ? proposer : who == 1 ? _actor(seed / 524_288, ACTORS) : modelGuardian, p);
    }

    function _cancelAs(address caller, Proposal storage p) internal {
        IGovernor.ProposalState state = governor.state(p.id);
        bool ended = state == IGovernor.ProposalState.Canceled || state == IGovernor.ProposalState.Executed;
        bool allowed = !ended
            && ((modelGuardian != address(0) && caller == modelGuardian)
                || (caller == p.proposer && state == IGovernor.ProposalState.Pending));
        vm.prank(caller);
        try governor.cancel(p.targets, new uint256[](p.targets.length), p.calldatas, keccak256(bytes(p.description))) {
            _requireWas(allowed, "a cancellation the rules forbid succeeded");
            p.canceled = true;
            proposalsCanceled++;
        } catch {
            _requireWas(!allowed, "a cancellation the rules allow was refused");
        }
    }

    /// @dev A whole proposal lifecycle in one move (propose, every member votes for, queue,
    /// execute once the timelock's delay has passed), so governed changes happen often enough
    /// within a sequence.
    function govern(uint256 kindSeed, uint256 aSeed, uint256 bSeed) external {
        _govern(
            _newProposal(
                Kind(kindSeed % KINDS),
                _actor(aSeed, 5),
                _actor(bSeed, 5),
                uint32(aSeed % 4),
                uint16(1 + bSeed % 3),
                _validity(bSeed),
                bSeed
            )
        );
    }

    function delegate(uint256 actorSeed, uint256 toSeed) external {
        address account = _actor(actorSeed, ACTORS);
        address to = _actor(toSeed, ACTORS);
        vm.prank(account);
        try membership.delegate(to) {
            _requireWas(modelMember[account] && modelMember[to], "delegation by or to a non-member");
        } catch {}
    }

    /// @dev A claim of one's own; one time in three crediting an organisation (registered or
    /// not, active or retired).
    function claim(uint256 actorSeed, uint256 indicatorSeed, uint256 organisationSeed) external {
        address member = _actor(actorSeed, ACTORS);
        _file(member, member, uint32(1 + indicatorSeed % (modelIndicatorCount + 1)), _organisation(organisationSeed));
    }

    /// @dev One time in four, when there are invitations, the nominee is one of them (open or not).
    function nominate(uint256 actorSeed, uint256 contributorSeed, uint256 indicatorSeed, uint256 organisationSeed)
        external
    {
        address contributor = contributorSeed % 4 == 3 && invitations.length > 0
            ? invitations[contributorSeed / 4 % invitations.length]
            : _actor(contributorSeed, ACTORS);
        _file(
            _actor(actorSeed, ACTORS),
            contributor,
            uint32(1 + indicatorSeed % (modelIndicatorCount + 1)),
            _organisation(organisationSeed)
        );
    }

    function attest(uint256 actorSeed, uint256 claimSeed, uint256 badgeSeed) external {
        if (modelClaimCount == 0) return;
        uint256 claimId = 1 + claimSeed % modelClaimCount;
        ClaimModel storage c = modelClaims[claimId];
        uint32 endorser = _modelRules[c.indicatorId][modelVersion[c.indicatorId]].endorserIndicatorId;
        // Three times in four, the first member from a random start who is not the contributor
        // (and, on a gated indicator, holds a counting badge of its endorser indicator if any
        // such member does), so badges get minted within a sequence; otherwise anyone.
        address attester = _actor(actorSeed, ACTORS);
        if (actorSeed % 4 != 0) {
            for (uint256 pass = endorser == 0 ? 1 : 0; pass < 2; ++pass) {
                address candidate = _attesterFrom(actorSeed, c.contributor, pass == 0 ? endorser : 0);
                if (candidate != address(0)) {
                    attester = candidate;
                    break;
                }
            }
        }
        _attestAs(attester, claimId, badgeSeed);
    }

    /// @dev The fair-play rules met in one move (as `govern` does for proposals), so they meet
    /// within a sequence: on an indicator (three times in four one of the setup's, gated by
    /// indicator 2 or capped, as long as governance leaves them so), member `a` files two
    /// claims and member `b` one; `b` attests `a`'s first, `a` attests `b`'s back (which the
    /// reciprocal window refuses while on), `b` attests `a`'s second (which the attest cap, or
    /// the earn cap at mint, refuses past the cap), and `a` files a third (which the earn cap
    /// refuses at filing once reached). On a gated indicator, half the time each first earns a
    /// badge of the endorser indicator if they hold none that counts.
    function fairPlay(uint256 aSeed, uint256 bSeed, uint256 indicatorSeed, uint256 badgeSeed) external {
        address a = _memberFrom(aSeed, address(0));
        address b = _memberFrom(bSeed, a);
        if (b == address(0)) return;
        uint32 indicatorId = indicatorSeed % 4 != 0
            ? uint32(3 + indicatorSeed / 4 % 2)
            : uint32(1 + indicatorSeed / 4 % modelIndicatorCount);
        uint32 endorser = _modelRules[indicatorId][modelVersion[indicatorId]].endorserIndicatorId;
        if (endorser != 0 && badgeSeed % 2 == 0) {
            _qualify(a, endorser, b, badgeSeed);
            _qualify(b, endorser, a, badgeSeed);
        }
        uint256 first = _file(a, a, indicatorId, 0);
        uint256 theirs = _file(b, b, indicatorId, 0);
        uint256 second = _file(a, a, indicatorId, 0);
        if (first != 0) _attestAs(b, first, badgeSeed >> 8);
        if (theirs != 0) _attestAs(a, theirs, badgeSeed >> 16);
        if (second != 0) _attestAs(b, second, badgeSeed >> 24);
        _file(a, a, indicatorId, 0);
    }

    /// @dev The nominee (three times in four; otherwise anyone) accepts or declines a claim,
    /// directly or relayed from their signature.
    function answer(uint256 actorSeed, uint256 claimSeed, bool accept, bool relayed) external {
        if (modelClaimCount == 0) return;
        uint256 claimId = 1 + claimSeed % modelClaimCount;
        uint256 i = actorSeed % ACTORS;
        if (actorSeed % 4 != 0) {
            // A nomination made to an invitation is answered by the account that accepted it.
            address nominee = modelClaims[claimId].contributor;
            if (modelInvitation[nominee].account != address(0)) nominee = modelInvitation[nominee].account;
            for (uint256 j = 0; j < ACTORS; ++j) {
                if (actors[j] == nominee) i = j;
            }
        }
        _answerAs(i, claimId, accept, relayed, actorSeed);
    }

    function _answerAs(uint256 i, uint256 claimId, bool accept, bool relayed, uint256 seed) internal {
        bytes memory data = accept
            ? abi.encodeCall(badge.acceptNomination, (claimId))
            : abi.encodeCall(badge.declineNomination, (claimId));
        bool ok;
        if (relayed) {
            try forwarder.execute(_request(i, false, seed, address(badge), data)) {
                ok = true;
            } catch {}
        } else {
            vm.prank(actors[i]);
            (ok,) = address(badge).call(data);
        }
        if (ok) _recordAnswer(claimId, actors[i], accept);
    }

    /// @dev The holder (three times in four; otherwise anyone) disowns a minted badge.
    function disown(uint256 actorSeed, uint256 tokenSeed) external {
        if (mintedTokens.length == 0) return;
        uint256 tokenId = mintedTokens[tokenSeed % mintedTokens.length];
        address caller = actorSeed % 4 != 0 ? modelOwner[tokenId] : _actor(actorSeed, ACTORS);
        vm.prank(caller);
        try badge.disown(tokenId) {
            _requireWas(
                caller == modelOwner[tokenId] && !modelDisowned[tokenId], "a disowning the protocol forbids succeeded"
            );
            modelDisowned[tokenId] = true;
            badgesDisowned++;
        } catch {}
    }

    function hideProfile(uint256 actorSeed, bool hidden) external {
        address account = _actor(actorSeed, ACTORS);
        vm.prank(account);
        try badge.setProfileHidden(hidden) {
            _requireWas(modelMember[account], "a non-member hid a profile");
            modelHidden[account] = hidden;
        } catch {}
    }

    // ---------------------------------------------------------------- admissions and the directory

    /// @dev A member (three times in four; otherwise anyone) vouches for one of the five actors
    /// but the outsider (who is never admitted), or for nobody (zero). Succeeds exactly when the
    /// model allows it: by a member, vouching on, within the member's cap, for a non-member never
    /// removed by governance since its last governed admission, not vouched for by them since the
    /// last removal; admits at k vouches of that epoch. Never for an invitation's address: one
    /// that became a member would let the account that accepted it take over claims it attested
    /// (the known bug of Admissions.t.sol, test_knownBug_theJoinedAccountTakesOverAClaimItAttested).
    function vouchFor(uint256 voucherSeed, uint256 candidateSeed) external {
        address voucher = voucherSeed % 4 != 0 ? _memberFrom(voucherSeed, address(0)) : _actor(voucherSeed, ACTORS);
        _vouchAs(voucher, candidateSeed % 8 == 0 ? address(0) : _actor(candidateSeed, OUTSIDER));
    }

    function _vouchAs(address voucher, address candidate) internal {
        bool allowed = modelMember[voucher] && _modelAdmission.vouchesRequired != 0 && _allowanceLeft(voucher)
            && _vouchable(candidate, voucher);
        vm.prank(voucher);
        try membership.vouch(candidate) {
            _requireWas(allowed, "a vouch the rules forbid succeeded");
            _spend(voucher);
            _recordVouch(candidate, voucher);
        } catch {
            _requireWas(!allowed, "a vouch the rules allow was refused");
        }
    }

    /// @dev A member (three times in four) invites a fresh invitation, whose secret the handler
    /// keeps; or the address is refused (zero, a member, an invitation already), or the name is
    /// (empty, 97 bytes).
    function inviteSomeone(uint256 inviterSeed, uint256 invitationSeed, uint256 nameSeed) external {
        address inviter = inviterSeed % 4 != 0 ? _memberFrom(inviterSeed, address(0)) : _actor(inviterSeed, ACTORS);
        address invited = vm.addr(FIRST_INVITATION_SECRET + invitations.length);
        uint256 pick = invitationSeed % 8;
        if (pick == 0) invited = address(0);
        else if (pick == 1) invited = _memberFrom(invitationSeed / 8, address(0));
        else if (pick == 2 && invitations.length > 0) invited = invitations[invitationSeed / 8 % invitations.length];
        _inviteAs(inviter, invited, nameSeed % 8 == 0 ? "" : nameSeed % 8 == 1 ? _text(97) : "Nina");
    }

    /// @dev `inviter` invites `invited` (a fresh one's secret: the next FIRST_INVITATION_SECRET + n).
    function _inviteAs(address inviter, address invited, string memory name) internal returns (bool ok) {
        uint256 secret = FIRST_INVITATION_SECRET + invitations.length;
        bool allowed = modelMember[inviter] && invited != address(0) && !modelMember[invited]
            && modelInvitation[invited].inviter == address(0) && bytes(name).length != 0 && bytes(name).length <= 96
            && _allowanceLeft(inviter);
        vm.prank(inviter);
        try membership.invite(invited, name) {
            _requireWas(allowed, "an invitation the rules forbid succeeded");
            _spend(inviter);
            invitations.push(invited);
            modelInvitation[invited] = InvitationModel(
                inviter, block.timestamp + _modelAdmission.invitationLifetime, false, address(0), secret
            );
            ok = true;
        } catch {
            _requireWas(!allowed, "an invitation the rules allow was refused");
        }
    }

    /// @dev One of the actors but the outsider accepts an invitation: signed with its secret for
    /// that account (two times in five), or spoiled: another invitation's secret, the acceptance
    /// signed for another actor (a replay), or bytes that are no signature. Succeeds exactly when
    /// the invitation is open and the signature good; carries the inviter's vouch when the model
    /// says it can.
    function acceptAnInvitation(uint256 invitationSeed, uint256 accountSeed, uint8 how) external {
        if (invitations.length == 0) return;
        _acceptAs(invitations[invitationSeed % invitations.length], accountSeed % OUTSIDER, how % 5, accountSeed);
    }

    /// @dev Actor `i` accepts `invited`, signed as `kind` says (0-1 good, 2 a wrong secret, 3 signed
    /// for another actor, 4 no signature).
    function _acceptAs(address invited, uint256 i, uint256 kind, uint256 accountSeed) internal {
        InvitationModel storage inv = modelInvitation[invited];
        address account = actors[i];
        bytes memory signature;
        if (kind == 2) signature = _acceptance(inv.secret + 1, invited, account);
        else if (kind == 3) signature = _acceptance(inv.secret, invited, actors[(i + 1 + accountSeed / 8 % 5) % ACTORS]);
        else if (kind == 4) signature = abi.encodePacked(bytes32(accountSeed), bytes32(accountSeed), uint8(27));
        else signature = _acceptance(inv.secret, invited, account);
        bool allowed = kind < 2 && _modelOpen(invited);
        vm.prank(account);
        try membership.acceptInvitation(invited, signature) {
            _requireWas(allowed, "an acceptance the rules forbid succeeded");
            inv.account = account;
            invitationsAccepted++;
            if (
                _modelAdmission.vouchesRequired != 0 && !modelMember[account] && modelMember[inv.inviter]
                    && _vouchable(account, inv.inviter)
            ) {
                _recordVouch(account, inv.inviter);
            }
        } catch {
            _requireWas(!allowed, "an acceptance the rules allow was refused");
        }
    }

    /// @dev The inviter (three times in four; otherwise anyone) withdraws an invitation.
    function withdrawAnInvitation(uint256 invitationSeed, uint256 actorSeed) external {
        if (invitations.length == 0) return;
        address invited = invitations[invitationSeed % invitations.length];
        InvitationModel storage inv = modelInvitation[invited];
        address caller = actorSeed % 4 != 0 ? inv.inviter : _actor(actorSeed, ACTORS);
        bool allowed = caller == inv.inviter && _modelOpen(invited);
        vm.prank(caller);
        try membership.withdrawInvitation(invited) {
            _requireWas(allowed, "a withdrawal the rules forbid succeeded");
            inv.withdrawn = true;
        } catch {
            _requireWas(!allowed, "a withdrawal the rules allow was refused");
        }
    }

    /// @dev An invitation's whole story in one move (as `govern` and `fairPlay` do), so that it
    /// happens within a sequence: a member invites a fresh invitation, another member nominates
    /// it, one of the actors but the outsider accepts it, a member vouches for them when they are
    /// not yet a member, they answer the nomination (accept or decline), and two members attest.
    function invitationJourney(uint256 seed) external {
        address inviter = _memberFrom(seed, address(0));
        address invited = vm.addr(FIRST_INVITATION_SECRET + invitations.length);
        if (!_inviteAs(inviter, invited, "Nina")) return;
        address nominator = _memberFrom(seed >> 8, inviter);
        uint256 claimId = _file(nominator == address(0) ? inviter : nominator, invited, uint32(1 + (seed >> 16) % 2), 0);
        uint256 i = (seed >> 24) % OUTSIDER;
        _acceptAs(invited, i, (seed >> 32) % 3 == 0 ? (seed >> 40) % 5 : 0, seed);
        if (!membership.isMember(actors[i])) _vouchAs(_memberFrom(seed >> 48, inviter), actors[i]);
        if (claimId == 0) return;
        _answerAs(i, claimId, (seed >> 56) % 4 != 0, false, seed);
        _attestAs(_attesterFrom(seed >> 64, actors[i], 0), claimId, seed >> 72);
        _attestAs(_attesterFrom(seed >> 80, actors[i], 0), claimId, seed >> 88);
    }

    /// @dev Vouching across a removal, in one move: a member vouches for a candidate (one of the
    /// actors but the outsider), governance removes another member (a proposal, voted and
    /// executed), and members vouch for the candidate again, the first voucher among them: the
    /// removal voided the first vouch, so it may be given again and counts afresh.
    function vouchingThroughARemoval(uint256 seed) external {
        address first = _memberFrom(seed, address(0));
        address candidate = _actor(seed >> 8, OUTSIDER);
        _vouchAs(first, candidate);
        address removed = _memberFrom(seed >> 16, first);
        if (removed != address(0)) _govern(_newProposal(Kind.Remove, removed, address(0), 0, 1, 0, seed));
        _vouchAs(_memberFrom(seed >> 24, first), candidate);
        _vouchAs(first, candidate);
    }

    /// @dev A member (three times in four; otherwise anyone) sets their name (`where` 0-1), links
    /// an account on site 1-4 (2-5), or on a site that is none (6); the text from a small pool of
    /// ASCII-case variants, other scripts, non-UTF-8 bytes, empty (clearing), and texts refused
    /// (a leading or trailing space, control characters, too long).
    function directory(uint256 actorSeed, uint256 textSeed, uint8 where) external {
        address member = actorSeed % 4 != 0 ? _memberFrom(actorSeed, address(0)) : _actor(actorSeed, ACTORS);
        where %= 7;
        uint8 site = where < 2 ? 0 : where < 6 ? where - 1 : (textSeed % 2 == 0 ? 0 : 5);
        _directoryAs(member, site, where < 2, _directoryText(textSeed / 2));
    }

    /// @dev Directory clashes in one move, so they meet within a sequence: two members take
    /// ASCII-case variants of one text (a name, or an account on one site); the second is refused
    /// until the first lets it go (a new text, or none).
    function directoryClash(uint256 seed) external {
        address a = _memberFrom(seed, address(0));
        address b = _memberFrom(seed >> 8, a);
        if (b == address(0)) return;
        uint8 site = uint8((seed >> 16) % 5);
        // Three spellings of one text, or two of one and another (the capital E-diaeresis is not folded).
        string[3] memory variants =
            (seed >> 24) % 2 == 0 ? ["Alice", "alice", "ALICE"] : [unicode"Zoë", unicode"zOë", unicode"ZOË"];
        _directoryAs(a, site, site == 0, variants[(seed >> 32) % 3]);
        _directoryAs(b, site, site == 0, variants[(seed >> 40) % 3]);
        _directoryAs(a, site, site == 0, (seed >> 48) % 2 == 0 ? "" : "Carol-Dev");
        _directoryAs(b, site, site == 0, variants[(seed >> 40) % 3]);
    }

    function _directoryAs(address member, uint8 site, bool isName, string memory text) internal {
        bytes32 key = bytes(text).length == 0 ? bytes32(0) : keccak256(abi.encode(site, _fold(bytes(text))));
        address holder = ghostDirectoryHolder[key];
        bool allowed = modelMember[member] && (isName || (site >= 1 && site <= 4))
            && _validText(bytes(text), isName ? 96 : 64) && (key == 0 || holder == address(0) || holder == member);
        vm.prank(member);
        (bool ok,) = address(membership)
            .call(
                isName
                    ? abi.encodeCall(membership.setName, (text))
                    : abi.encodeCall(membership.linkAccount, (site, text))
            );
        if (!ok) {
            _requireWas(!allowed, "a name or account the rules allow was refused");
            return;
        }
        _requireWas(allowed, "a name or account the rules forbid (taken, invalid, a non-member's) was set");
        _clearDirectoryGhost(member, site);
        if (key != 0) {
            ghostDirectoryHolder[key] = member;
            ghostDirectoryKey[member][site] = key;
            _ghostDirectoryText[member][site] = text;
        }
        directoryChanges++;
    }

    /// @dev An attestation or a vote signed by a member and relayed by anyone; with a bad
    /// signature (another account's key; for the passkey member, a spoiled passkey signature) it
    /// must fail. The forwarder's verdict on the signature alone (`verify`) must be the model's too,
    /// whether or not the call would succeed.
    function relay(uint256 actorSeed, uint256 targetSeed, bool badSignature) external {
        uint256 i = actorSeed % ACTORS;
        if (targetSeed % 2 == 0 && modelClaimCount > 0) {
            uint256 claimId = 1 + (targetSeed / 2) % modelClaimCount;
            ERC2771Forwarder.ForwardRequestData memory request =
                _request(i, badSignature, actorSeed, address(badge), abi.encodeCall(badge.attest, (claimId)));
            _requireVerdict(request, badSignature);
            try forwarder.execute(request) {
                _requireWas(!badSignature, "relayed attestation with a bad signature succeeded");
                _recordAttestation(claimId, actors[i], 0);
            } catch {}
        } else if (_proposals.length > 0) {
            uint256 id = _proposals[(targetSeed / 2) % _proposals.length].id;
            ERC2771Forwarder.ForwardRequestData memory request =
                _request(i, badSignature, actorSeed, address(governor), abi.encodeCall(governor.castVote, (id, 1)));
            _requireVerdict(request, badSignature);
            try forwarder.execute(request) {
                _requireWas(!badSignature, "relayed vote with a bad signature succeeded");
                _recordVote(id, actors[i]);
            } catch {}
        }
    }

    /// @dev The passkey member adds or removes one of the PASSKEYS passkeys by a request to its
    /// own account, signed with a passkey it holds, or (badSignature) with one it does not hold.
    /// A change succeeds only when signed by a held passkey and within the rules: an added key
    /// not held while fewer than MAX_KEYS are, a removed key held while others are too.
    function passkeyKeys(uint256 keySeed, uint256 signerSeed, bool add, bool badSignature) external {
        uint256 passkey = FIRST_PASSKEY + keySeed % PASSKEYS;
        (bytes32 qx, bytes32 qy) = passkeyPublicKey(passkey);
        bytes memory data =
            add ? abi.encodeCall(passkeyAccount.addKey, (qx, qy)) : abi.encodeCall(passkeyAccount.removeKey, (qx, qy));
        ERC2771Forwarder.ForwardRequestData memory request =
            passkeyRequest(_passkey(signerSeed, !badSignature), address(passkeyAccount), address(passkeyAccount), data);
        _requireVerdict(request, badSignature);
        try forwarder.execute(request) {
            _requireWas(!badSignature, "a key change signed by a passkey the account does not hold succeeded");
            _requireWas(
                add
                    ? !modelHolds[passkey] && modelPasskeyCount < passkeyAccount.MAX_KEYS()
                    : modelHolds[passkey] && modelPasskeyCount > 1,
                "a key change the account's rules forbid succeeded"
            );
            modelHolds[passkey] = add;
            modelPasskeyCount = add ? modelPasskeyCount + 1 : modelPasskeyCount - 1;
            passkeyChanges++;
        } catch {}
    }

    /// @dev Every way to move or approve a badge or a membership, by its holder or anyone: all must revert.
    function transferAttempt(uint256 actorSeed, uint256 tokenSeed, uint256 toSeed, uint8 how) external {
        address from;
        address token;
        uint256 tokenId;
        if (how % 2 == 0 && mintedTokens.length > 0) {
            tokenId = mintedTokens[tokenSeed % mintedTokens.length];
            from = modelOwner[tokenId];
            token = address(badge);
        } else {
            from = _actor(tokenSeed, ACTORS);
            tokenId = uint256(uint160(from));
            token = address(membership);
        }
        address caller = actorSeed % 2 == 0 ? from : _actor(actorSeed, ACTORS);
        address to = _actor(toSeed, ACTORS);
        bytes memory data;
        uint8 method = (how / 2) % 5;
        if (method == 0) {
            data = abi.encodeWithSignature("transferFrom(address,address,uint256)", from, to, tokenId);
        } else if (method == 1) {
            data = abi.encodeWithSignature("safeTransferFrom(address,address,uint256)", from, to, tokenId);
        } else if (method == 2) {
            data = abi.encodeWithSignature("safeTransferFrom(address,address,uint256,bytes)", from, to, tokenId, "");
        } else if (method == 3) {
            data = abi.encodeWithSignature("approve(address,uint256)", to, tokenId);
        } else {
            data = abi.encodeWithSignature("setApprovalForAll(address,bool)", to, true);
        }
        vm.prank(caller);
        (bool ok,) = token.call(data);
        if (ok) violation = "a transfer or approval succeeded";
    }

    /// @dev The outsider calls a state-changing function of any contract; nothing may change.
    function outsiderCall(uint256 which, uint256 seed) external {
        address outsider = actors[OUTSIDER];
        address member = _actor(seed, 3);
        (address target, bytes memory data) = _outsiderCall(which % 56, outsider, member, seed);
        bytes32 before = fingerprint();
        outsiderCalls++;
        vm.prank(outsider);
        (bool ok,) = target.call(data);
        if (ok) violation = "an outsider's call succeeded";
        if (fingerprint() != before) violation = "an outsider's call changed state";
    }

    /// @dev Seconds to minutes; one time in eight a day more (admission periods and invitations
    /// last a day or more).
    function warp(uint256 secondsSeed) external {
        vm.warp(block.timestamp + 1 + secondsSeed % 400 + (secondsSeed % 8 == 0 ? 1 days : 0));
    }

    // ================================================================ views for the invariants

    function proposalCount() external view returns (uint256) {
        return _proposals.length;
    }

    function proposalId(uint256 i) external view returns (uint256) {
        return _proposals[i].id;
    }

    /// @dev What the handler saw happen to proposal `i`: queued, executed, cancelled.
    function proposalStory(uint256 i) external view returns (bool queued, bool executed, bool canceled) {
        Proposal storage p = _proposals[i];
        return (p.queued, p.executed, p.canceled);
    }

    function voters(uint256 id) external view returns (address[] memory) {
        return _voters[id];
    }

    function mintedCount() external view returns (uint256) {
        return mintedTokens.length;
    }

    /// @dev Whether (qx, qy) is one of the PASSKEYS passkeys and the model says the account holds it.
    function modelHoldsKey(bytes32 qx, bytes32 qy) external view returns (bool) {
        for (uint256 j = 0; j < PASSKEYS; ++j) {
            (bytes32 x, bytes32 y) = passkeyPublicKey(FIRST_PASSKEY + j);
            if (x == qx && y == qy) return modelHolds[FIRST_PASSKEY + j];
        }
        return false;
    }

    function actor(uint256 i) external view returns (address) {
        return actors[i];
    }

    function modelRules(uint32 indicatorId, uint32 version) external view returns (Rules memory) {
        return _modelRules[indicatorId][version];
    }

    /// @dev Every ghost record at once (one call per check, not two per record).
    function attestations() external view returns (AttestationRecord[] memory) {
        return _attestations;
    }

    function earnings() external view returns (EarningRecord[] memory) {
        return _earnings;
    }

    function spends() external view returns (SpendRecord[] memory) {
        return _spends;
    }

    function vouchAdmissions() external view returns (VouchAdmission[] memory) {
        return _vouchAdmissions;
    }

    function invitationCount() external view returns (uint256) {
        return invitations.length;
    }

    function modelAdmissionRules() external view returns (IAdmissions.AdmissionRules memory) {
        return _modelAdmission;
    }

    function modelIsOpen(address invited) external view returns (bool) {
        return _modelOpen(invited);
    }

    function ghostDirectoryText(address member, uint8 site) external view returns (string memory) {
        return _ghostDirectoryText[member][site];
    }

    /// @dev A digest of every piece of state the protocol keeps that the actors can touch.
    function fingerprint() public view returns (bytes32 digest) {
        digest = keccak256(abi.encode(membership.memberCount(), registry.indicatorCount(), badge.claimCount()));
        for (uint256 i = 0; i < ACTORS; ++i) {
            address a = actors[i];
            digest = keccak256(
                abi.encode(
                    digest,
                    membership.isMember(a),
                    membership.delegates(a),
                    membership.getVotes(a),
                    forwarder.nonces(a),
                    badge.balanceOf(a),
                    badge.profileHidden(a),
                    membership.balanceOf(a),
                    membership.vouchesFor(a)
                )
            );
            digest = keccak256(abi.encode(digest, _directoryPrint(a)));
        }
        digest = keccak256(abi.encode(digest, membership.admissionRules()));
        for (uint256 i = 0; i < invitations.length; ++i) {
            digest = keccak256(
                abi.encode(digest, membership.invitationOf(invitations[i]), membership.isOpenInvitation(invitations[i]))
            );
        }
        for (uint32 id = 1; id <= registry.indicatorCount(); ++id) {
            digest = keccak256(abi.encode(digest, registry.terms(id), registry.indicatorName(id)));
        }
        for (uint256 id = 1; id <= badge.claimCount(); ++id) {
            digest = keccak256(abi.encode(digest, badge.getClaim(id), badge.isActive(id), badge.organisationOf(id)));
        }
        for (uint32 id = 1; id <= registry.organisationCount(); ++id) {
            digest = keccak256(abi.encode(digest, organisationActive(id)));
        }
        for (uint256 i = 0; i < _proposals.length; ++i) {
            uint256 id = _proposals[i].id;
            (uint256 against, uint256 forVotes, uint256 abstain) = governor.proposalVotes(id);
            digest = keccak256(abi.encode(digest, governor.state(id), against, forVotes, abstain));
        }
        digest = keccak256(
            abi.encode(
                digest,
                membership.owner(),
                registry.owner(),
                badge.owner(),
                governor.votingDelay(),
                governor.votingPeriod(),
                governor.proposalThreshold(),
                governor.quorumNumerator(),
                registry.reciprocalWindow(),
                registry.scoreRule(),
                registry.organisationCount(),
                passkeyAccount.keys(),
                twin.keys()
            )
        );
        digest = keccak256(
            abi.encode(
                digest, timelock.getMinDelay(), governor.proposalGuardian(), governor.timelock(), timelockRoles()
            )
        );
    }

    /// @dev Who holds each of the timelock's roles, among every account the handler knows: bit
    /// (role * accounts + account) of the result.
    function timelockRoles() public view returns (uint256 held) {
        bytes32[4] memory roles = [
            timelock.PROPOSER_ROLE(), timelock.CANCELLER_ROLE(), timelock.EXECUTOR_ROLE(), timelock.DEFAULT_ADMIN_ROLE()
        ];
        address[] memory accounts = roleCandidates();
        for (uint256 r = 0; r < 4; ++r) {
            for (uint256 i = 0; i < accounts.length; ++i) {
                if (timelock.hasRole(roles[r], accounts[i])) held |= 1 << (r * accounts.length + i);
            }
        }
    }

    /// @dev Everyone who could hold a role of the timelock: the governor, the timelock itself,
    /// anyone (the zero address), the community's creator (this handler), the factory that
    /// deployed it, the forwarder, every actor.
    function roleCandidates() public view returns (address[] memory accounts) {
        accounts = new address[](6 + ACTORS);
        (accounts[0], accounts[1], accounts[2], accounts[3], accounts[4], accounts[5]) =
        (address(governor), address(timelock), address(0), address(this), address(factory), address(forwarder));
        for (uint256 i = 0; i < ACTORS; ++i) {
            accounts[6 + i] = actors[i];
        }
    }

    /// @dev Who holds, in the directory, each text `account` holds or last held.
    function _directoryPrint(address account) internal view returns (bytes32 digest) {
        for (uint8 site = 0; site <= 4; ++site) {
            string memory text = _ghostDirectoryText[account][site];
            if (bytes(text).length == 0) continue;
            address holder = site == 0 ? membership.holderOfName(text) : membership.holderOfAccount(site, text);
            digest = keccak256(abi.encode(digest, site, holder));
        }
    }

    function organisationActive(uint32 organisationId) public view returns (bool) {
        try registry.requireActiveOrganisation(organisationId) {
            return true;
        } catch {
            return false;
        }
    }

    // ================================================================ internal

    /// @dev Actor `i`'s request, signed as that actor signs (a key; a passkey for the passkey
    /// member), or badly: another actor's key; for the passkey member one of four spoiled
    /// signatures, chosen by `seed`.
    function _request(uint256 i, bool bad, uint256 seed, address target, bytes memory data)
        internal
        view
        returns (ERC2771Forwarder.ForwardRequestData memory request)
    {
        if (i != PASSKEY_MEMBER) return signedRequest(keys[bad ? (i + 1) % ACTORS : i], actors[i], target, data);
        address account = address(passkeyAccount);
        uint256 held = _passkey(seed / ACTORS, true);
        if (!bad) return passkeyRequest(held, account, target, data);
        uint256 kind = seed / ACTORS % 4;
        if (kind == 0) return passkeyRequest(_passkey(seed / ACTORS, false), account, target, data);
        if (kind == 1) {
            // Its twin's request, signed with the twin's passkey (the member's first, which it
            // holds unless it removed it), sent as the member's: `from` changed after signing.
            request = passkeyRequest(FIRST_PASSKEY, address(twin), target, data);
            request.from = account;
            return request;
        }
        request = unsignedRequest(account, target, data);
        Assertion memory assertion = browser(held, requestDigest(request));
        if (kind == 2) assertion.highS = true;
        else assertion.flags = FLAG_UP;
        request.signature = passkeySignature(assertion);
    }

    /// @dev One of the PASSKEYS passkeys, from `seed`: one the account holds, or one it does not.
    function _passkey(uint256 seed, bool held) internal view returns (uint256) {
        for (uint256 j = 0; j < PASSKEYS; ++j) {
            uint256 passkey = FIRST_PASSKEY + (seed % PASSKEYS + j) % PASSKEYS;
            if (modelHolds[passkey] == held) return passkey;
        }
        revert("no such passkey"); // unreachable: 1 to MAX_KEYS held, of MAX_KEYS + 1
    }

    // ---------------------------------------------------------------- admissions: the model's side

    /// @dev Whether the model says `invited` may be nominated and accepted now.
    function _modelOpen(address invited) internal view returns (bool) {
        InvitationModel storage inv = modelInvitation[invited];
        return
            inv.inviter != address(0) && !inv.withdrawn && inv.account == address(0) && block.timestamp < inv.expiresAt;
    }

    /// @dev Whether `voucher` may vouch for `candidate` (membership, cap and k aside).
    function _vouchable(address candidate, address voucher) internal view returns (bool) {
        return candidate != address(0) && !modelMember[candidate] && !modelRemoved[candidate]
            && _ghostVouchedIn[candidate][voucher] != modelRemovals + 1;
    }

    /// @dev The candidate's vouches given since the last removal by governance.
    function ghostVouchesFor(address candidate) public view returns (uint256) {
        return _ghostCandidacyEpoch[candidate] == modelRemovals ? _ghostCandidacyVouches[candidate] : 0;
    }

    /// @dev Whether `member` has a vouch or invitation left in their current period.
    function _allowanceLeft(address member) internal view returns (bool) {
        if (block.timestamp >= _ghostPeriodStart[member] + _modelAdmission.vouchPeriod) return true;
        return _ghostPeriodUsed[member] < _modelAdmission.vouchCap;
    }

    /// @dev A vouch or invitation `member` spent, counted in their period (a new one starts at the
    /// first use after the last ended).
    function _spend(address member) internal {
        if (block.timestamp >= _ghostPeriodStart[member] + _modelAdmission.vouchPeriod) {
            (_ghostPeriodStart[member], _ghostPeriodUsed[member]) = (block.timestamp, 0);
        }
        uint256 used = ++_ghostPeriodUsed[member];
        _spends.push(SpendRecord(member, block.timestamp, _ghostPeriodStart[member], used, _modelAdmission.vouchCap));
    }

    /// @dev A vouch the contract took (directly, or carried by an acceptance): counted in this
    /// epoch; the model admits at k, and whoever the contract admitted is recorded with the
    /// vouches they had and the k in force.
    function _recordVouch(address candidate, address voucher) internal {
        uint256 vouches = ghostVouchesFor(candidate) + 1;
        (_ghostCandidacyEpoch[candidate], _ghostCandidacyVouches[candidate]) = (modelRemovals, vouches);
        _ghostVouchedIn[candidate][voucher] = modelRemovals + 1;
        vouchesGiven++;
        if (vouches >= _modelAdmission.vouchesRequired) {
            modelMember[candidate] = true;
            modelMemberCount++;
        }
        if (membership.isMember(candidate)) {
            _vouchAdmissions.push(
                VouchAdmission(candidate, vouches, _modelAdmission.vouchesRequired, modelRemoved[candidate])
            );
            admittedByVouching++;
        }
    }

    /// @dev Governance removed `account` (a removal voids the vouches in progress; a recovery
    /// does not): it is not vouched for again until governance admits it, and its name and
    /// accounts are freed.
    function _noteGovernedRemoval(address account, bool voidsVouches) internal {
        modelRemoved[account] = true;
        if (voidsVouches) modelRemovals++;
        for (uint8 site = 0; site <= 4; ++site) {
            _clearDirectoryGhost(account, site);
        }
    }

    function _clearDirectoryGhost(address member, uint8 site) internal {
        bytes32 key = ghostDirectoryKey[member][site];
        if (key == 0) return;
        if (ghostDirectoryHolder[key] == member) delete ghostDirectoryHolder[key];
        ghostDirectoryKey[member][site] = 0;
    }

    /// @dev InvitationAcceptance(invited, account) signed with `secret`, in the Membership's domain.
    function _acceptance(uint256 secret, address invited, address account) internal view returns (bytes memory) {
        bytes32 structHash = keccak256(
            abi.encode(keccak256("InvitationAcceptance(address invitation,address account)"), invited, account)
        );
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("Test Commons"),
                keccak256("1"),
                block.chainid,
                address(membership)
            )
        );
        (uint8 v, bytes32 r, bytes32 sig) = vm.sign(secret, keccak256(abi.encodePacked("\x19\x01", domain, structHash)));
        return abi.encodePacked(r, sig, v);
    }

    /// @dev The pool of names and handles: ASCII-case variants, another script in two cases,
    /// non-UTF-8 bytes, empty, and texts the directory refuses.
    function _directoryText(uint256 seed) internal pure returns (string memory) {
        uint256 pick = seed % 16;
        if (pick < 3) return ["Alice", "alice", "ALICE"][pick];
        if (pick < 5) return ["Bob", "bOB"][pick - 3];
        if (pick == 5) return unicode"Zoë";
        if (pick == 6) return unicode"ZOË";
        if (pick == 7) return string(abi.encodePacked(hex"fffe", "dev"));
        if (pick == 8) return "";
        if (pick == 9) return " Lead";
        if (pick == 10) return "Trail ";
        if (pick == 11) return "Tab\tbed";
        if (pick == 12) return "Del\x7f";
        if (pick == 13) return _text(65); // a name, too long a handle
        if (pick == 14) return _text(97); // too long for either
        return "Carol-Dev";
    }

    /// @dev `length` bytes of letters: "aaaa...".
    function _text(uint256 length) internal pure returns (string memory) {
        bytes memory text = new bytes(length);
        for (uint256 i = 0; i < length; ++i) {
            text[i] = "a";
        }
        return string(text);
    }

    /// @dev The directory's rules for a text, written anew: empty (clears), or at most `maxBytes`,
    /// no byte below 0x20 nor 0x7f, no space first or last.
    function _validText(bytes memory text, uint256 maxBytes) internal pure returns (bool) {
        if (text.length == 0) return true;
        if (text.length > maxBytes || text[0] == " " || text[text.length - 1] == " ") return false;
        for (uint256 i = 0; i < text.length; ++i) {
            if (uint8(text[i]) < 0x20 || uint8(text[i]) == 0x7f) return false;
        }
        return true;
    }

    /// @dev The text with ASCII A-Z as a-z.
    function _fold(bytes memory text) internal pure returns (bytes memory folded) {
        folded = new bytes(text.length);
        for (uint256 i = 0; i < text.length; ++i) {
            uint8 c = uint8(text[i]);
            folded[i] = bytes1(c >= 65 && c <= 90 ? c + 32 : c);
        }
    }

    function _actor(uint256 seed, uint256 range) internal view returns (address) {
        return actors[seed % range];
    }

    function _validity(uint256 seed) internal pure returns (uint32) {
        return seed % 2 == 0 ? 0 : uint32(30 + seed % 400);
    }

    /// @dev The forwarder takes a request's signature exactly when the model says it is good.
    function _requireVerdict(ERC2771Forwarder.ForwardRequestData memory request, bool badSignature) internal {
        if (forwarder.verify(request) == badSignature) {
            violation = badSignature ? "the forwarder took a bad signature" : "the forwarder refused a good signature";
        }
    }

    function _requireWas(bool allowed, string memory message) internal {
        if (!allowed) violation = message;
    }

    function _newProposal(
        Kind kind,
        address a,
        address b,
        uint32 indicatorSeed,
        uint16 endorsements,
        uint32 validity,
        uint256 seed
    ) internal returns (Proposal storage p) {
        p = _proposals.push();
        p.kind = kind;
        p.a = a;
        p.b = b;
        p.endorsements = endorsements;
        p.validity = validity;
        p.description = string.concat("proposal ", Strings.toString(_proposals.length), " ", Strings.toString(_nonce++));
        if (kind == Kind.Admit) {
            p.targets.push(address(membership));
            p.calldatas.push(abi.encodeCall(membership.admit, (a)));
        } else if (kind == Kind.Remove) {
            p.targets.push(address(membership));
            p.calldatas.push(abi.encodeCall(membership.remove, (a)));
        } else if (kind == Kind.Recover) {
            for (uint256 i = 0; i < mintedTokens.length; ++i) {
                if (modelOwner[mintedTokens[i]] == a) p.tokens.push(mintedTokens[i]);
            }
            p.targets.push(address(membership));
            p.calldatas.push(abi.encodeCall(membership.recover, (a, b)));
            p.targets.push(address(badge));
            p.calldatas.push(abi.encodeCall(badge.recoverBadges, (a, b, p.tokens)));
        } else if (kind == Kind.AddIndicator) {
            p.rules = _randomRules(seed, 0);
            p.targets.push(address(registry));
            p.calldatas.push(abi.encodeCall(registry.addIndicator, (_input(p, "Reviewing"))));
        } else if (kind == Kind.AmendIndicator || kind == Kind.RetireIndicator) {
            p.indicatorId = 1 + indicatorSeed % (modelIndicatorCount + 1);
            p.targets.push(address(registry));
            if (kind == Kind.AmendIndicator) {
                p.rules = _randomRules(seed, p.indicatorId);
                p.calldatas.push(abi.encodeCall(registry.amendIndicator, (p.indicatorId, _input(p, "Amended"))));
            } else {
                p.calldatas.push(abi.encodeCall(registry.retireIndicator, (p.indicatorId)));
            }
        } else if (kind == Kind.CommunityRules) {
            // Off, short, long, the bound, and past it (refused).
            uint32[6] memory windows = [uint32(0), 60, 600, 3600, 365 days, 365 days + 1];
            (p.value, p.setting) = (windows[seed % 6], uint8(seed / 6 % 2));
            p.targets.push(address(registry));
            p.calldatas
                .push(
                    abi.encodeCall(
                        registry.setCommunityRules, (uint32(p.value), IIndicatorRegistry.ScoreRule(p.setting))
                    )
                );
        } else if (kind == Kind.Organisation) {
            // Registered twice as often as retired; a retirement may name an unknown or retired one.
            p.setting = seed % 3 == 2 ? 1 : 0;
            p.indicatorId = 1 + indicatorSeed % (modelOrganisationCount + 1);
            p.targets.push(address(registry));
            p.calldatas
                .push(
                    p.setting == 0
                        ? abi.encodeCall(registry.addOrganisation, ("Sponsor", "sponsor.example"))
                        : abi.encodeCall(registry.retireOrganisation, (p.indicatorId))
                );
        } else if (kind == Kind.AdmissionRules) {
            p.admission = _randomAdmissionRules(seed);
            p.targets.push(address(membership));
            p.calldatas.push(abi.encodeCall(membership.setAdmissionRules, (p.admission)));
        } else if (kind == Kind.ClearDirectory) {
            p.setting = uint8(seed % 6);
            p.targets.push(address(membership));
            p.calldatas
                .push(
                    p.setting == 0
                        ? abi.encodeCall(membership.clearName, (a))
                        : abi.encodeCall(membership.clearLinkedAccount, (a, p.setting))
                );
        } else if (kind == Kind.Guardian) {
            // An actor who may be a member (not the outsider), or none one time in three.
            p.a = seed % 3 == 0 ? address(0) : a;
            p.targets.push(address(governor));
            p.calldatas.push(abi.encodeCall(governor.setProposalGuardian, (p.a)));
        } else if (kind == Kind.TimelockDelay) {
            // None, a minute, an hour (each allowed on the local chain), or past 30 days (refused).
            uint256[4] memory delays = [uint256(0), 60, 1 hours, 30 days + 1];
            p.value = delays[seed % 4];
            p.targets.push(address(timelock));
            p.calldatas.push(abi.encodeCall(timelock.updateDelay, (p.value)));
        } else if (kind == Kind.Settings) {
            (p.setting, p.value) = _setting(seed);
            p.targets.push(address(governor));
            p.calldatas.push(_settingCall(p.setting, p.value));
        } else if (kind == Kind.RemoveEveryone) {
            // The hostile member's proposal: remove every current member, one call each.
            for (uint256 i = 0; i < ACTORS; ++i) {
                if (!modelMember[actors[i]]) continue;
                p.targets.push(address(membership));
                p.calldatas.push(abi.encodeCall(membership.remove, (actors[i])));
                p.tokens.push(i);
            }
        } else {
            p.tokens.push(mintedTokens.length == 0 ? 1 : mintedTokens[uint256(indicatorSeed) % mintedTokens.length]);
            p.targets.push(address(badge));
            p.calldatas.push(abi.encodeCall(badge.revoke, (p.tokens[0], "fraud")));
        }
        p.id = governor.hashProposal(
            p.targets, new uint256[](p.targets.length), p.calldatas, keccak256(bytes(p.description))
        );
    }

    /// @dev Fair-play rules for a new version of indicator `selfId` (0 for a new indicator): half
    /// the time none; otherwise an endorser indicator (never itself), an earn cap and an attest
    /// cap of 1-2 per 10 minutes or an hour, each a third of the time; one time in sixteen a
    /// cap without a period or a period without a cap, which the registry refuses.
    function _randomRules(uint256 seed, uint32 selfId) internal view returns (Rules memory r) {
        seed = uint256(keccak256(abi.encode(seed, "rules")));
        if (seed % 2 == 0) return r;
        if (seed / 2 % 3 == 0) {
            r.endorserIndicatorId = uint32(1 + seed / 6 % modelIndicatorCount);
            if (r.endorserIndicatorId == selfId) r.endorserIndicatorId = 0;
        }
        if (seed / 64 % 3 == 0) r.earnCap = uint16(1 + seed / 192 % 2);
        if (seed / 1024 % 3 == 0) r.attestCap = uint16(1 + seed / 3072 % 2);
        if (r.earnCap != 0 || r.attestCap != 0) r.capPeriod = seed / 8192 % 2 == 0 ? 600 : 3600;
        if (seed / 16384 % 16 == 0) r.capPeriod = r.capPeriod == 0 ? 600 : 0;
    }

    /// @dev Admission rules, most within the bounds (k 0-3, a cap of 1-3, a period and a lifetime
    /// of a day or more), some outside (17 vouches, a cap of 0, a period a second short of a day,
    /// a lifetime past a year), which the contract refuses.
    function _randomAdmissionRules(uint256 seed) internal pure returns (IAdmissions.AdmissionRules memory) {
        seed = uint256(keccak256(abi.encode(seed, "admission")));
        uint8[6] memory ks = [uint8(0), 1, 2, 2, 3, 17];
        uint8[6] memory caps = [uint8(1), 2, 2, 3, 3, 0];
        uint32[4] memory periods = [uint32(1 days), 1 days, 2 days, 1 days - 1];
        uint32[4] memory lifetimes = [uint32(1 days), 2 days, 3 days, 365 days + 1];
        return
            IAdmissions.AdmissionRules(
                ks[seed % 6], caps[seed / 6 % 6], periods[seed / 36 % 4], lifetimes[seed / 144 % 4]
            );
    }

    /// @dev An AddIndicator proposal with these rules rather than random ones.
    function _withRules(Proposal storage p, Rules memory rules) internal returns (Proposal storage) {
        p.rules = rules;
        p.calldatas[0] = abi.encodeCall(registry.addIndicator, (_input(p, "Reviewing")));
        p.id = governor.hashProposal(p.targets, new uint256[](1), p.calldatas, keccak256(bytes(p.description)));
        return p;
    }

    function _input(Proposal storage p, string memory name)
        internal
        view
        returns (IIndicatorRegistry.IndicatorInput memory input)
    {
        input = indicator(name, p.endorsements, p.validity);
        input.endorserIndicatorId = p.rules.endorserIndicatorId;
        input.earnCap = p.rules.earnCap;
        input.attestCap = p.rules.attestCap;
        input.capPeriod = p.rules.capPeriod;
    }

    /// @dev A setting and a value for it: within the governor's bounds, at their edges, or outside.
    function _setting(uint256 seed) internal pure returns (uint8 setting, uint256 value) {
        setting = uint8(seed % 4);
        seed /= 4;
        if (setting == 0) {
            uint256[6] memory delays = [uint256(0), 1, 10, 30 days, 30 days + 1, type(uint48).max];
            value = delays[seed % 6];
        } else if (setting == 1) {
            uint256[7] memory periods = [uint256(0), 59, 60, 100, 30 days, 30 days + 1, type(uint32).max];
            value = periods[seed % 7];
        } else if (setting == 2) {
            uint256[4] memory thresholds = [uint256(0), 1, 2, type(uint256).max];
            value = thresholds[seed % 4];
        } else {
            uint256[6] memory quorums = [uint256(0), 1, 50, 100, 101, type(uint256).max];
            value = quorums[seed % 6];
        }
    }

    function _settingCall(uint8 setting, uint256 value) internal view returns (bytes memory) {
        if (setting == 0) return abi.encodeCall(governor.setVotingDelay, (uint48(value)));
        if (setting == 1) return abi.encodeCall(governor.setVotingPeriod, (uint32(value)));
        if (setting == 2) return abi.encodeCall(governor.setProposalThreshold, (value));
        return abi.encodeCall(governor.updateQuorumNumerator, (value));
    }

    /// @dev A member who holds enough votes to propose (a threshold of one vote leaves out members
    /// who delegated theirs away or were admitted this very second), or none.
    function _proposer() internal view returns (address proposer) {
        for (uint256 i = 0; i < 5; ++i) {
            if (
                modelMember[actors[i]]
                    && membership.getPastVotes(actors[i], block.timestamp - 1) >= modelProposalThreshold
            ) {
                proposer = actors[i];
            }
        }
    }

    function _govern(Proposal storage p) internal {
        address proposer = _proposer();
        if (proposer == address(0)) {
            _proposals.pop();
            return;
        }
        vm.prank(proposer);
        governor.propose(p.targets, new uint256[](p.targets.length), p.calldatas, p.description);
        p.proposer = proposer;
        vm.warp(governor.proposalSnapshot(p.id) + 1);
        for (uint256 i = 0; i < ACTORS; ++i) {
            _vote(actors[i], p.id, 1);
        }
        vm.warp(governor.proposalDeadline(p.id) + 1);
        _queue(p);
        if (p.queued) vm.warp(governor.proposalEta(p.id));
        _execute(p);
    }

    function _vote(address voter, uint256 id, uint8 support) internal {
        vm.prank(voter);
        try governor.castVote(id, support) {
            _recordVote(id, voter);
        } catch {}
    }

    function _recordVote(uint256 id, address voter) internal {
        _requireWas(modelMember[voter], "a non-member voted");
        if (successfulVotes[id][voter]++ == 0) _voters[id].push(voter);
    }

    /// @dev Queues a succeeded proposal in the timelock (anyone may).
    function _queue(Proposal storage p) internal {
        try governor.queue(p.targets, new uint256[](p.targets.length), p.calldatas, keccak256(bytes(p.description))) {
            _requireWas(!p.queued, "a proposal queued twice");
            p.queued = true;
            proposalsQueued++;
        } catch {}
    }

    function _execute(Proposal storage p) internal {
        try governor.execute(p.targets, new uint256[](p.targets.length), p.calldatas, keccak256(bytes(p.description))) {
            _requireWas(p.queued, "a proposal executed without being queued");
            _requireWas(!p.canceled, "a cancelled proposal executed");
            _requireWas(block.timestamp >= governor.proposalEta(p.id), "a proposal executed before its delay passed");
            _requireWas(!p.executed, "a proposal executed twice");
            p.executed = true;
            proposalsExecuted++;
            _apply(p);
        } catch {}
    }

    /// @dev The model's side of an executed proposal.
    function _apply(Proposal storage p) internal {
        if (p.kind == Kind.Admit) {
            modelMember[p.a] = true;
            modelMemberCount++;
            modelRemoved[p.a] = false;
        } else if (p.kind == Kind.Remove) {
            modelMember[p.a] = false;
            modelMemberCount--;
            membersRemoved++;
            _noteGovernedRemoval(p.a, true);
        } else if (p.kind == Kind.Recover) {
            modelMember[p.a] = false;
            modelMember[p.b] = true;
            _noteGovernedRemoval(p.a, false);
            modelRemoved[p.b] = false;
            for (uint256 i = 0; i < p.tokens.length; ++i) {
                modelOwner[p.tokens[i]] = p.b;
            }
            badgesRecovered += p.tokens.length;
        } else if (p.kind == Kind.AddIndicator) {
            uint32 id = ++modelIndicatorCount;
            _defineModel(id, 1, p);
        } else if (p.kind == Kind.AmendIndicator) {
            _defineModel(p.indicatorId, modelVersion[p.indicatorId] + 1, p);
        } else if (p.kind == Kind.RetireIndicator) {
            modelActive[p.indicatorId] = false;
        } else if (p.kind == Kind.RemoveEveryone) {
            for (uint256 i = 0; i < p.tokens.length; ++i) {
                modelMember[actors[p.tokens[i]]] = false;
                modelMemberCount--;
                _noteGovernedRemoval(actors[p.tokens[i]], true);
            }
        } else if (p.kind == Kind.CommunityRules) {
            modelWindow = uint32(p.value);
            modelScoreRule = p.setting;
        } else if (p.kind == Kind.Organisation) {
            if (p.setting == 0) modelOrganisationCount++;
            else modelOrganisationRetired[p.indicatorId] = true;
        } else if (p.kind == Kind.AdmissionRules) {
            _modelAdmission = p.admission;
        } else if (p.kind == Kind.ClearDirectory) {
            _requireWas(p.setting <= 4, "governance cleared an account on a site that is none");
            _clearDirectoryGhost(p.a, p.setting);
        } else if (p.kind == Kind.Guardian) {
            modelGuardian = p.a;
        } else if (p.kind == Kind.TimelockDelay) {
            _requireWas(p.value <= 30 days, "a timelock delay past 30 days was accepted");
            modelTimelockDelay = p.value;
        } else if (p.kind == Kind.Settings) {
            if (p.setting == 0) modelVotingDelay = p.value;
            else if (p.setting == 1) modelVotingPeriod = p.value;
            else if (p.setting == 2) modelProposalThreshold = p.value;
            else modelQuorum = p.value;
            settingsChanged++;
        } else {
            modelRevoked[p.tokens[0]] = true;
            badgesRevoked++;
        }
    }

    function _defineModel(uint32 id, uint32 version, Proposal storage p) internal {
        modelVersion[id] = version;
        modelActive[id] = true;
        modelRequired[id][version] = p.endorsements;
        modelValidity[id][version] = p.validity;
        _modelRules[id][version] = p.rules;
    }

    function _recordClaim(
        uint256 claimId,
        address submitter,
        address contributor,
        uint32 indicatorId,
        uint32 organisationId
    ) internal {
        _requireWas(
            modelMember[submitter]
                && (modelMember[contributor] || (submitter != contributor && _modelOpen(contributor)))
                && modelActive[indicatorId],
            "a claim by or for a non-member (but an open invitation's nomination), or on an inactive indicator"
        );
        _requireWas(
            organisationId == 0
                || (organisationId <= modelOrganisationCount && !modelOrganisationRetired[organisationId]),
            "a claim credited an unknown or retired organisation"
        );
        Rules memory r = _modelRules[indicatorId][modelVersion[indicatorId]];
        if (r.earnCap != 0) {
            GhostTally storage t = ghostTally[contributor][indicatorId];
            _requireWas(
                t.period != block.timestamp / r.capPeriod || t.earned < r.earnCap,
                "a claim filed for a member who already earned the cap this period"
            );
        }
        _requireWas(claimId == ++modelClaimCount, "claim ids not sequential");
        modelClaims[claimId] = ClaimModel(
            contributor, indicatorId, modelVersion[indicatorId], 0, submitter == contributor ? NONE : PENDING
        );
        modelClaimOrganisation[claimId] = organisationId;
    }

    /// @dev Only an attestation the protocol allows advances the model; once the claim has the
    /// attestations its indicator version requires and its contributor's consent (a claim of
    /// their own, or an accepted nomination), the badge is minted to the contributor.
    function _recordAttestation(uint256 claimId, address attester, uint256 shown) internal {
        ClaimModel storage c = modelClaims[claimId];
        _logAttestation(claimId, attester, c, shown);
        _requireWas(
            modelMember[attester] && attester != c.contributor && modelMember[c.contributor]
                && modelActive[c.indicatorId] && modelVersion[c.indicatorId] == c.version
                && modelOwner[claimId] == address(0) && c.nomination != DECLINED,
            "an attestation the protocol forbids succeeded"
        );
        ++c.attestations;
        _mintIfDue(claimId);
    }

    /// @dev Only the nominee answers a pending nomination; accepting needs them a member and the
    /// indicator unchanged, and mints when the attestations are already there.
    function _recordAnswer(uint256 claimId, address nominee, bool accept) internal {
        ClaimModel storage c = modelClaims[claimId];
        // A nomination made to an invitation is the accepting account's: the claim becomes theirs.
        bool joined = nominee != c.contributor && modelInvitation[c.contributor].account == nominee;
        _requireWas(
            (nominee == c.contributor || joined) && c.nomination == PENDING, "an answer by someone else, or twice"
        );
        if (joined) {
            c.contributor = nominee;
            nomineesJoined++;
        }
        if (accept) {
            _requireWas(
                modelMember[nominee] && modelActive[c.indicatorId] && modelVersion[c.indicatorId] == c.version,
                "a nomination accepted by a non-member or on a changed indicator"
            );
            c.nomination = ACCEPTED;
            nominationsAccepted++;
            _mintIfDue(claimId);
        } else {
            c.nomination = DECLINED;
            nominationsDeclined++;
        }
    }

    /// @dev `submitter` files a claim for `contributor` (a nomination when they differ),
    /// crediting `organisationId` unless 0; the claim's id, or 0 if refused.
    function _file(address submitter, address contributor, uint32 indicatorId, uint32 organisationId)
        internal
        returns (uint256 claimId)
    {
        bytes32 evidence = keccak256(abi.encode(_nonce++));
        bytes memory data;
        if (submitter == contributor) {
            data = organisationId == 0
                ? abi.encodeCall(badge.claim, (indicatorId, evidence, "ipfs://evidence"))
                : abi.encodeCall(
                    badge.claimWithOrganisation, (indicatorId, organisationId, evidence, "ipfs://evidence")
                );
        } else {
            data = organisationId == 0
                ? abi.encodeCall(badge.nominate, (contributor, indicatorId, evidence, "ipfs://evidence"))
                : abi.encodeCall(
                    badge.nominateWithOrganisation,
                    (contributor, indicatorId, organisationId, evidence, "ipfs://evidence")
                );
        }
        vm.prank(submitter);
        (bool ok, bytes memory returned) = address(badge).call(data);
        if (!ok) return 0;
        claimId = abi.decode(returned, (uint256));
        _recordClaim(claimId, submitter, contributor, indicatorId, organisationId);
    }

    /// @dev On an indicator endorsed only by holders of another's badge, the attester shows one
    /// of theirs of it (counting or not) four times in five; otherwise any badge, or none
    /// (attest, or attestWith badge 0).
    function _attestAs(address attester, uint256 claimId, uint256 badgeSeed) internal {
        ClaimModel storage c = modelClaims[claimId];
        uint32 endorser = _modelRules[c.indicatorId][modelVersion[c.indicatorId]].endorserIndicatorId;
        uint256 shown;
        if (endorser != 0 && badgeSeed % 5 != 0) {
            shown = _heldBadge(attester, endorser, badgeSeed / 5);
        } else if (badgeSeed % 5 == 0 && mintedTokens.length > 0) {
            shown = mintedTokens[badgeSeed / 5 % mintedTokens.length];
        }
        vm.prank(attester);
        (bool ok,) = address(badge)
            .call(
                shown == 0 && badgeSeed % 2 == 0
                    ? abi.encodeCall(badge.attest, (claimId))
                    : abi.encodeCall(badge.attestWith, (claimId, shown))
            );
        if (ok) _recordAttestation(claimId, attester, shown);
    }

    /// @dev Unless `holder` holds a counting badge of `indicatorId`, they file a claim on it
    /// and `attester` attests it.
    function _qualify(address holder, uint32 indicatorId, address attester, uint256 badgeSeed) internal {
        if (_heldBadge(holder, indicatorId, type(uint256).max) != 0) return;
        uint256 claimId = _file(holder, holder, indicatorId, 0);
        if (claimId != 0) _attestAs(attester, claimId, badgeSeed >> 48);
    }

    /// @dev The first member from a random start other than `other`; 0 if none.
    function _memberFrom(uint256 seed, address other) internal view returns (address) {
        for (uint256 i = 0; i < ACTORS; ++i) {
            address candidate = actors[(seed % ACTORS + i) % ACTORS];
            if (modelMember[candidate] && candidate != other) return candidate;
        }
        return address(0);
    }

    /// @dev The ghosts' side of a successful attestation: what the endorser rule, the attest
    /// cap and the reciprocal window saw, recorded for the invariants to judge.
    function _logAttestation(uint256 claimId, address attester, ClaimModel storage c, uint256 shown) internal {
        Rules memory r = _modelRules[c.indicatorId][c.version];
        AttestationRecord storage a = _attestations.push();
        (a.claimId, a.attester, a.contributor, a.indicatorId) = (claimId, attester, c.contributor, c.indicatorId);
        (a.endorserIndicatorId, a.badgeShown, a.time, a.window) =
        (r.endorserIndicatorId, shown, block.timestamp, modelWindow);
        a.endorserQualified = r.endorserIndicatorId == 0 || _counts(shown, attester, r.endorserIndicatorId);
        if (r.attestCap != 0) {
            a.attestCap = r.attestCap;
            a.attestedInPeriod = ++_currentTally(attester, c.indicatorId, r.capPeriod).attested;
        }
        if (modelWindow != 0) {
            a.reverseAt = ghostLastEndorsed[c.contributor][attester][c.indicatorId];
            ghostLastEndorsed[attester][c.contributor][c.indicatorId] = block.timestamp;
        }
    }

    /// @dev The model's view: `tokenId` is a badge `holder` holds, of indicator `indicatorId`,
    /// neither revoked, disowned nor expired.
    function _counts(uint256 tokenId, address holder, uint32 indicatorId) internal view returns (bool) {
        ClaimModel storage c = modelClaims[tokenId];
        if (modelOwner[tokenId] != holder || c.indicatorId != indicatorId) return false;
        if (modelRevoked[tokenId] || modelDisowned[tokenId]) return false;
        uint256 validity = modelValidity[c.indicatorId][c.version];
        return validity == 0 || block.timestamp < modelMintedAt[tokenId] + validity;
    }

    /// @dev A member, from a random start, who may attest a claim of `contributor`: not them,
    /// and holding a counting badge of `endorser` when it is not 0.
    function _attesterFrom(uint256 seed, address contributor, uint32 endorser) internal view returns (address) {
        for (uint256 i = 0; i < ACTORS; ++i) {
            address candidate = actors[(seed % ACTORS + i) % ACTORS];
            if (!modelMember[candidate] || candidate == contributor) continue;
            if (endorser == 0 || _heldBadge(candidate, endorser, type(uint256).max) != 0) return candidate;
        }
        return address(0);
    }

    /// @dev One of `holder`'s badges of `indicatorId`, picked by `seed` (counting or not); with
    /// seed type(uint256).max, the first counting one. 0 if none.
    function _heldBadge(address holder, uint32 indicatorId, uint256 seed) internal view returns (uint256 found) {
        uint256 n;
        for (uint256 i = 0; i < mintedTokens.length; ++i) {
            uint256 t = mintedTokens[i];
            if (modelOwner[t] != holder || modelClaims[t].indicatorId != indicatorId) continue;
            if (seed == type(uint256).max) {
                if (_counts(t, holder, indicatorId)) return t;
            } else if (seed % ++n == 0) {
                found = t;
            }
        }
    }

    /// @dev The member's ghost tally of the indicator, started afresh in a new period.
    function _currentTally(address member, uint32 indicatorId, uint32 capPeriod)
        internal
        returns (GhostTally storage t)
    {
        t = ghostTally[member][indicatorId];
        uint256 period = block.timestamp / capPeriod;
        if (t.period != period) (t.period, t.earned, t.attested) = (period, 0, 0);
    }

    /// @dev 0 (no organisation) two times in three; otherwise an id from 1 to one past the last.
    function _organisation(uint256 seed) internal view returns (uint32) {
        if (seed % 3 != 0) return 0;
        return uint32(1 + seed / 3 % (modelOrganisationCount + 1));
    }

    function _mintIfDue(uint256 claimId) internal {
        ClaimModel storage c = modelClaims[claimId];
        if (c.nomination == PENDING || c.attestations < modelRequired[c.indicatorId][c.version]) return;
        _requireWas(membership.isMember(c.contributor), "a badge was minted to a non-member");
        Rules memory r = _modelRules[c.indicatorId][c.version];
        if (r.earnCap != 0) {
            uint16 earned = ++_currentTally(c.contributor, c.indicatorId, r.capPeriod).earned;
            _earnings.push(EarningRecord(claimId, c.contributor, c.indicatorId, r.earnCap, earned));
        }
        modelOwner[claimId] = c.contributor;
        modelMintedAt[claimId] = block.timestamp;
        mintedTokens.push(claimId);
        badgesMinted++;
    }

    struct OutsiderCall {
        address outsider;
        address member;
        uint256 seed;
        uint256 tokenId;
        uint256 claimId;
        uint256 proposal;
    }

    function _outsiderCall(uint256 which, address outsider, address member, uint256 seed)
        internal
        view
        returns (address, bytes memory)
    {
        OutsiderCall memory c = OutsiderCall({
            outsider: outsider,
            member: member,
            seed: seed,
            tokenId: mintedTokens.length == 0 ? 1 : mintedTokens[seed % mintedTokens.length],
            claimId: modelClaimCount == 0 ? 1 : 1 + seed % modelClaimCount,
            proposal: _proposals.length == 0 ? 1 : _proposals[seed % _proposals.length].id
        });
        if (which < 6) return (address(membership), _membershipCall(which, c));
        if (which < 10) return (address(registry), _registryCall(which, c));
        if (which < 16) return (address(badge), _badgeCall(which, c));
        if (which < 22) return (address(governor), _governorCall(which, c));
        if (which >= 46) return _timelockCall(which, c);
        if (which >= 37) return (address(membership), _admissionsCall(which, c));
        if (which >= 34) return _passkeyCall(which, c);
        if (which >= 28) return _fairPlayCall(which, c);
        if (which == 24) return (address(badge), abi.encodeCall(badge.acceptNomination, (c.claimId)));
        if (which == 25) return (address(badge), abi.encodeCall(badge.declineNomination, (c.claimId)));
        if (which == 26) return (address(badge), abi.encodeCall(badge.disown, (c.tokenId)));
        if (which == 27) return (address(badge), abi.encodeCall(badge.setProfileHidden, (true)));
        // 22: the outsider's own valid signature, so the request acts as the outsider;
        // 23: a member's request signed with the outsider's key.
        address from = which == 22 ? outsider : member;
        return (
            address(forwarder),
            abi.encodeCall(
                forwarder.execute,
                (signedRequest(keys[OUTSIDER], from, address(badge), abi.encodeCall(badge.attest, (c.claimId))))
            )
        );
    }

    /// @dev 28-30: the registry's organisations and community rules; 31-33: the badge's
    /// organisation-crediting claims and attestWith.
    function _fairPlayCall(uint256 which, OutsiderCall memory c) internal view returns (address, bytes memory) {
        address r = address(registry);
        address b = address(badge);
        if (which == 28) {
            return (r, abi.encodeCall(registry.setCommunityRules, (0, IIndicatorRegistry.ScoreRule.SquareRoot)));
        }
        if (which == 29) return (r, abi.encodeCall(registry.addOrganisation, ("Outsider's", "x")));
        if (which == 30) return (r, abi.encodeCall(registry.retireOrganisation, (1)));
        if (which == 31) return (b, abi.encodeCall(badge.claimWithOrganisation, (1, 1, bytes32(c.seed | 1), "x")));
        if (which == 32) {
            return (b, abi.encodeCall(badge.nominateWithOrganisation, (c.member, 1, 1, bytes32(c.seed | 1), "x")));
        }
        return (b, abi.encodeCall(badge.attestWith, (c.claimId, c.tokenId)));
    }

    /// @dev 37-45: the directory's and admissions' functions: naming, linking, vouching, inviting,
    /// withdrawing an invitation, accepting one with an acceptance signed for a member (a replay),
    /// and governance's setting of the rules and clearing of names and accounts.
    function _admissionsCall(uint256 which, OutsiderCall memory c) internal view returns (bytes memory) {
        if (which == 37) return abi.encodeCall(membership.setName, ("Outsider"));
        if (which == 38) return abi.encodeCall(membership.linkAccount, (1, "outsider"));
        if (which == 39) return abi.encodeCall(membership.vouch, (actors[3]));
        if (which == 40) return abi.encodeCall(membership.invite, (vm.addr(FIRST_INVITATION_SECRET - 1), "x"));
        address invited =
            invitations.length == 0 ? vm.addr(FIRST_INVITATION_SECRET) : invitations[c.seed % invitations.length];
        if (which == 41) return abi.encodeCall(membership.withdrawInvitation, (invited));
        if (which == 42) {
            uint256 secret = modelInvitation[invited].secret;
            bytes memory replayed = _acceptance(secret == 0 ? FIRST_INVITATION_SECRET : secret, invited, c.member);
            return abi.encodeCall(membership.acceptInvitation, (invited, replayed));
        }
        if (which == 43) {
            return abi.encodeCall(membership.setAdmissionRules, (IAdmissions.AdmissionRules(1, 100, 1 days, 1 days)));
        }
        if (which == 44) return abi.encodeCall(membership.clearName, (c.member));
        return abi.encodeCall(membership.clearLinkedAccount, (c.member, 1));
    }

    /// @dev 34-36: the passkey account's key changes and initialisation, called by the outsider.
    function _passkeyCall(uint256 which, OutsiderCall memory c) internal view returns (address, bytes memory) {
        (bytes32 qx, bytes32 qy) = passkeyPublicKey(FIRST_PASSKEY + c.seed % PASSKEYS);
        address account = c.seed % 2 == 0 ? address(passkeyAccount) : address(twin);
        if (which == 34) return (account, abi.encodeCall(passkeyAccount.addKey, (qx, qy)));
        if (which == 35) return (account, abi.encodeCall(passkeyAccount.removeKey, (qx, qy)));
        return (account, abi.encodeCall(passkeyAccount.initialize, (qx, qy)));
    }

    function _membershipCall(uint256 which, OutsiderCall memory c) internal view returns (bytes memory) {
        if (which == 0) return abi.encodeCall(membership.admit, (c.outsider));
        if (which == 1) return abi.encodeCall(membership.remove, (c.member));
        if (which == 2) return abi.encodeCall(membership.recover, (c.member, c.outsider));
        if (which == 3) return abi.encodeCall(membership.delegate, (c.member));
        if (which == 4) return abi.encodeCall(membership.transferOwnership, (c.outsider));
        return abi.encodeCall(membership.renounceOwnership, ());
    }

    function _registryCall(uint256 which, OutsiderCall memory c) internal view returns (bytes memory) {
        if (which == 6) return abi.encodeCall(registry.addIndicator, (indicator("Outsider's", 1, 0)));
        if (which == 7) return abi.encodeCall(registry.amendIndicator, (1, indicator("Outsider's", 1, 0)));
        if (which == 8) return abi.encodeCall(registry.retireIndicator, (1));
        return abi.encodeCall(registry.transferOwnership, (c.outsider));
    }

    function _badgeCall(uint256 which, OutsiderCall memory c) internal view returns (bytes memory) {
        if (which == 10) return abi.encodeCall(badge.claim, (1, bytes32(c.seed | 1), "x"));
        if (which == 11) return abi.encodeCall(badge.nominate, (c.member, 1, bytes32(c.seed | 1), "x"));
        if (which == 12) return abi.encodeCall(badge.attest, (c.claimId));
        if (which == 13) return abi.encodeCall(badge.revoke, (c.tokenId, "x"));
        if (which == 14) {
            uint256[] memory tokens = new uint256[](1);
            tokens[0] = c.tokenId;
            return abi.encodeCall(badge.recoverBadges, (c.member, c.outsider, tokens));
        }
        return abi.encodeCall(badge.transferOwnership, (c.outsider));
    }

    /// @dev 46-55: the timelock's scheduling, cancelling, executing of what was never scheduled,
    /// delay and roles; the governor's guardian, timelock and cancel (the outsider is neither a
    /// guardian nor a proposer).
    function _timelockCall(uint256 which, OutsiderCall memory c) internal view returns (address, bytes memory) {
        address t = address(timelock);
        bytes memory admit = abi.encodeCall(membership.admit, (c.outsider));
        if (which == 46) return (t, abi.encodeCall(timelock.schedule, (address(membership), 0, admit, 0, 0, 0)));
        if (which == 47) return (t, abi.encodeCall(timelock.execute, (address(membership), 0, admit, 0, 0)));
        if (which == 48) return (t, abi.encodeCall(timelock.updateDelay, (c.seed % 2 == 0 ? 0 : 1 hours)));
        if (which == 49) return (t, abi.encodeCall(timelock.grantRole, (timelock.PROPOSER_ROLE(), c.outsider)));
        if (which == 50) {
            return (t, abi.encodeCall(timelock.revokeRole, (timelock.CANCELLER_ROLE(), address(governor))));
        }
        if (which == 51) return (t, abi.encodeCall(timelock.renounceRole, (timelock.DEFAULT_ADMIN_ROLE(), t)));
        if (which == 52) return (address(governor), abi.encodeCall(governor.setProposalGuardian, (c.outsider)));
        if (which == 53) {
            return
                (address(governor), abi.encodeCall(governor.updateTimelock, (TimelockController(payable(c.outsider)))));
        }
        if (_proposals.length == 0) return (t, abi.encodeCall(timelock.cancel, (bytes32(c.seed))));
        Proposal storage p = _proposals[c.seed % _proposals.length];
        uint256[] memory values = new uint256[](p.targets.length);
        bytes32 descriptionHash = keccak256(bytes(p.description));
        if (which == 54) {
            return
                (address(governor), abi.encodeCall(governor.cancel, (p.targets, values, p.calldatas, descriptionHash)));
        }
        // The timelock's operation of a proposal (queued or not): cancelled by the governor only.
        bytes32 operation = timelock.hashOperationBatch(
            p.targets, values, p.calldatas, 0, bytes20(address(governor)) ^ descriptionHash
        );
        return (t, abi.encodeCall(timelock.cancel, (operation)));
    }

    function _governorCall(uint256 which, OutsiderCall memory c) internal view returns (bytes memory) {
        bytes memory admit = abi.encodeCall(membership.admit, (c.outsider));
        if (which == 16) {
            address[] memory targets = new address[](1);
            targets[0] = address(membership);
            bytes[] memory calldatas = new bytes[](1);
            calldatas[0] = admit;
            return abi.encodeCall(governor.propose, (targets, new uint256[](1), calldatas, "x"));
        }
        if (which == 17) return abi.encodeCall(governor.castVote, (c.proposal, 1));
        if (which == 18) return abi.encodeCall(governor.castVoteWithReason, (c.proposal, 1, "x"));
        if (which == 19) return abi.encodeCall(governor.relay, (address(membership), 0, admit));
        if (which == 20) return abi.encodeCall(governor.setVotingPeriod, (1));
        return abi.encodeCall(governor.updateQuorumNumerator, (1));
    }
}
