// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IAdmissions} from "../interfaces/IAdmissions.sol";

/// @title Admission by vouching, and invitations (see {IAdmissions})
/// @dev Mixed into Membership, which provides membership, the EIP-712 domain and governance.
abstract contract Admissions is Context, IAdmissions {
    bytes32 private constant ACCEPTANCE_TYPEHASH =
        keccak256("InvitationAcceptance(address invitation,address account)");
    uint256 private constant MAX_INVITEE_NAME_BYTES = 96;

    struct Allowance {
        uint40 periodStart;
        uint8 used;
    }

    struct Candidacy {
        uint32 epoch; // the removals count when these vouches were given
        uint8 vouches;
    }

    AdmissionRules private _rules;
    // Bumped by each removal by governance: vouches given before it no longer count.
    uint32 private _removals;
    mapping(address account => bool) private _removed;
    mapping(address candidate => Candidacy) private _candidacies;
    mapping(address candidate => mapping(address voucher => uint32 epochPlusOne)) private _vouchedIn;
    mapping(address member => Allowance) private _allowances;
    mapping(address invitation => Invitation) private _invitations;

    /// @dev Vouching off; 3 vouches or invitations per member per 30 days; invitations open 30 days.
    constructor() {
        _setAdmissionRules(
            AdmissionRules({vouchesRequired: 0, vouchCap: 3, vouchPeriod: 30 days, invitationLifetime: 30 days})
        );
    }

    function isMember(address account) public view virtual returns (bool);

    function _requireMemberForAdmissions(address account) internal view virtual;

    function _requireGovernanceForAdmissions() internal view virtual;

    function _admitForAdmissions(address account) internal virtual;

    function _hashTypedDataForAdmissions(bytes32 structHash) internal view virtual returns (bytes32);

    /// @inheritdoc IAdmissions
    function setAdmissionRules(AdmissionRules calldata rules) external {
        _requireGovernanceForAdmissions();
        _setAdmissionRules(rules);
    }

    /// @inheritdoc IAdmissions
    function vouch(address candidate) external {
        address voucher = _msgSender();
        _requireMemberForAdmissions(voucher);
        if (_rules.vouchesRequired == 0) revert AdmissionVouchingOff();
        _spendAllowance(voucher);
        _vouch(candidate, voucher);
    }

    /// @inheritdoc IAdmissions
    function invite(address invitation, string calldata name) external {
        address inviter = _msgSender();
        _requireMemberForAdmissions(inviter);
        if (invitation == address(0) || isMember(invitation) || _invitations[invitation].inviter != address(0)) {
            revert AdmissionInvalidInvitation(invitation);
        }
        if (bytes(name).length == 0 || bytes(name).length > MAX_INVITEE_NAME_BYTES) {
            revert AdmissionInvalidInvitation(invitation);
        }
        _spendAllowance(inviter);
        uint40 expiresAt = uint40(block.timestamp + _rules.invitationLifetime);
        _invitations[invitation] =
            Invitation({inviter: inviter, expiresAt: expiresAt, withdrawn: false, account: address(0)});
        emit InvitationCreated(invitation, inviter, name, expiresAt);
    }

    /// @inheritdoc IAdmissions
    function withdrawInvitation(address invitation) external {
        Invitation storage record = _openInvitation(invitation);
        if (record.inviter != _msgSender()) revert AdmissionNotInviter(invitation, _msgSender());
        record.withdrawn = true;
        emit InvitationWithdrawn(invitation);
    }

    /// @inheritdoc IAdmissions
    function acceptInvitation(address invitation, bytes calldata signature) external {
        address account = _msgSender();
        Invitation storage record = _openInvitation(invitation);
        bytes32 digest = _hashTypedDataForAdmissions(keccak256(abi.encode(ACCEPTANCE_TYPEHASH, invitation, account)));
        if (!SignatureChecker.isValidSignatureNow(invitation, digest, signature)) {
            revert AdmissionWrongSecret(invitation, account);
        }
        record.account = account;
        emit InvitationAccepted(invitation, account);
        // The invitation is the inviter's vouch, already counted against their allowance.
        if (
            _rules.vouchesRequired != 0 && !isMember(account) && isMember(record.inviter) && !_removed[account]
                && _vouchedIn[account][record.inviter] != _removals + 1
        ) {
            _vouch(account, record.inviter);
        }
    }

    /// @inheritdoc IAdmissions
    function admissionRules() external view returns (AdmissionRules memory) {
        return _rules;
    }

    /// @inheritdoc IAdmissions
    function invitationOf(address invitation) external view returns (Invitation memory) {
        return _invitations[invitation];
    }

    /// @inheritdoc IAdmissions
    function isOpenInvitation(address invitation) public view returns (bool) {
        Invitation memory record = _invitations[invitation];
        return record.inviter != address(0) && !record.withdrawn && record.account == address(0)
            && block.timestamp < record.expiresAt;
    }

    /// @inheritdoc IAdmissions
    function vouchesFor(address candidate) external view returns (uint8) {
        Candidacy memory candidacy = _candidacies[candidate];
        return candidacy.epoch == _removals ? candidacy.vouches : 0;
    }

    /// @dev Called by Membership when governance removes `account` (voiding the vouches in
    /// progress: some may be a removed sock puppet's) or recovers a lost address.
    function _noteRemoval(address account, bool voidVouches) internal {
        _removed[account] = true;
        if (voidVouches) ++_removals;
    }

    /// @dev Called by Membership when governance admits `account`: it may be vouched in again later.
    function _noteAdmission(address account) internal {
        if (_removed[account]) delete _removed[account];
    }

    function _setAdmissionRules(AdmissionRules memory rules) internal {
        if (
            rules.vouchesRequired > 16 || rules.vouchCap == 0 || rules.vouchCap > 100 || rules.vouchPeriod < 1 days
                || rules.vouchPeriod > 365 days || rules.invitationLifetime < 1 days
                || rules.invitationLifetime > 365 days
        ) revert AdmissionInvalidRules();
        _rules = rules;
        emit AdmissionRulesChanged(rules.vouchesRequired, rules.vouchCap, rules.vouchPeriod, rules.invitationLifetime);
    }

    function _vouch(address candidate, address voucher) private {
        if (candidate == address(0) || isMember(candidate)) revert AdmissionInvalidInvitation(candidate);
        if (_removed[candidate]) revert AdmissionRemovedByGovernance(candidate);
        uint32 epoch = _removals;
        if (_vouchedIn[candidate][voucher] == epoch + 1) revert AdmissionAlreadyVouched(candidate, voucher);
        _vouchedIn[candidate][voucher] = epoch + 1;
        Candidacy memory candidacy = _candidacies[candidate];
        uint8 vouches = (candidacy.epoch == epoch ? candidacy.vouches : 0) + 1;
        _candidacies[candidate] = Candidacy({epoch: epoch, vouches: vouches});
        emit Vouched(candidate, voucher, vouches);
        if (vouches >= _rules.vouchesRequired) _admitForAdmissions(candidate);
    }

    /// @dev Counts one vouch or invitation against `member`'s allowance of the current period.
    function _spendAllowance(address member) private {
        Allowance memory allowance = _allowances[member];
        if (block.timestamp >= uint256(allowance.periodStart) + _rules.vouchPeriod) {
            allowance = Allowance({periodStart: uint40(block.timestamp), used: 0});
        }
        if (allowance.used >= _rules.vouchCap) {
            revert AdmissionCapReached(member, _rules.vouchCap, uint256(allowance.periodStart) + _rules.vouchPeriod);
        }
        allowance.used += 1;
        _allowances[member] = allowance;
    }

    function _openInvitation(address invitation) private view returns (Invitation storage record) {
        record = _invitations[invitation];
        if (record.inviter == address(0)) revert AdmissionUnknownInvitation(invitation);
        if (record.withdrawn || record.account != address(0)) revert AdmissionInvitationClosed(invitation);
        if (block.timestamp >= record.expiresAt) revert AdmissionInvitationExpired(invitation, record.expiresAt);
    }
}
