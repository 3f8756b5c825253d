// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Admission without a vote per person: invitations and vouching
/// @notice Besides admission by proposal, a community may admit a person once `vouchesRequired`
/// members vouch for them (0 turns vouching off). Each member may vouch, or invite, at most
/// `vouchCap` times per `vouchPeriod`. An invitation lets members credit a person before they
/// join: it is an address whose private key (the invitation's secret) travels in a link; the
/// invitee proves the link by signing their account's address with it, so the secret never
/// appears on chain, and a copied acceptance cannot be redirected to another account. Nominations
/// made to the invitation's address become the invitee's to accept, and the invitation counts as
/// the inviter's vouch. A removal by governance voids the vouches in progress, and a removed
/// address is admitted again only by governance.
interface IAdmissions {
    /// @notice The community's admission rules, set by governance.
    struct AdmissionRules {
        uint8 vouchesRequired; // 0: admission by vouching is off
        uint8 vouchCap; // vouches and invitations per member per period
        uint32 vouchPeriod; // seconds
        uint32 invitationLifetime; // seconds
    }

    /// @notice An invitation, by the address its secret controls.
    struct Invitation {
        address inviter;
        uint40 expiresAt;
        bool withdrawn;
        address account; // the account that accepted it, or zero
    }

    /// @notice The rules are outside the bounds that keep admission working.
    error AdmissionInvalidRules();
    /// @notice Admission by vouching is turned off in this community.
    error AdmissionVouchingOff();
    /// @notice `voucher` already vouched for `candidate`.
    error AdmissionAlreadyVouched(address candidate, address voucher);
    /// @notice `member` used all `cap` vouches and invitations of the period ending at `periodEnds`.
    error AdmissionCapReached(address member, uint8 cap, uint256 periodEnds);
    /// @notice `account` was removed by governance: only governance may admit it again.
    error AdmissionRemovedByGovernance(address account);
    /// @notice `invitation` is zero, a member, or an invitation already; or the invitee's name is
    /// empty or longer than 96 bytes. For a vouch: the candidate is zero or a member.
    error AdmissionInvalidInvitation(address invitation);
    /// @notice No invitation has the address `invitation`.
    error AdmissionUnknownInvitation(address invitation);
    /// @notice The invitation can no longer be accepted or withdrawn.
    error AdmissionInvitationClosed(address invitation);
    /// @notice The invitation expired at `expiresAt`.
    error AdmissionInvitationExpired(address invitation, uint256 expiresAt);
    /// @notice Only the inviter may withdraw an invitation.
    error AdmissionNotInviter(address invitation, address account);
    /// @notice The acceptance was not signed with the invitation's secret for this account.
    error AdmissionWrongSecret(address invitation, address account);

    /// @notice Emitted when governance changes the admission rules (and at deployment).
    event AdmissionRulesChanged(uint8 vouchesRequired, uint8 vouchCap, uint32 vouchPeriod, uint32 invitationLifetime);
    /// @notice Emitted when `voucher` vouches for `candidate`, who now has `vouches`.
    event Vouched(address indexed candidate, address indexed voucher, uint8 vouches);
    /// @notice Emitted when `inviter` invites the person called `name` (typed by the inviter).
    event InvitationCreated(address indexed invitation, address indexed inviter, string name, uint40 expiresAt);
    /// @notice Emitted when the inviter withdraws an invitation.
    event InvitationWithdrawn(address indexed invitation);
    /// @notice Emitted when the invitee accepts `invitation` as `account`.
    event InvitationAccepted(address indexed invitation, address indexed account);

    /// @notice Changes the admission rules.
    /// @dev Governance only. Vouching needs 0-16 vouches; cap 1-100; a period of 1-365 days; an
    /// invitation lives 1-365 days.
    function setAdmissionRules(AdmissionRules calldata rules) external;

    /// @notice Vouches for `candidate`; at `vouchesRequired` vouches they are admitted.
    function vouch(address candidate) external;

    /// @notice Invites a person, named `name`, through the address `invitation` (see above).
    function invite(address invitation, string calldata name) external;

    /// @notice Withdraws an invitation not yet accepted. Inviter only.
    function withdrawInvitation(address invitation) external;

    /// @notice Accepts `invitation` as the caller, with `signature` over
    /// InvitationAcceptance(address invitation,address account) by the invitation's secret.
    function acceptInvitation(address invitation, bytes calldata signature) external;

    /// @notice The admission rules now.
    function admissionRules() external view returns (AdmissionRules memory);

    /// @notice The invitation at `invitation` (an inviter of zero: none).
    function invitationOf(address invitation) external view returns (Invitation memory);

    /// @notice Whether `invitation` may still be nominated and accepted.
    function isOpenInvitation(address invitation) external view returns (bool);

    /// @notice How many vouches `candidate` holds now.
    function vouchesFor(address candidate) external view returns (uint8);
}
