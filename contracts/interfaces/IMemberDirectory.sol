// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title A community's directory of names: the display name and linked accounts each member sets
/// @notice Names are what people read instead of addresses, and linked accounts (a GitHub or
/// GitLab login, a drupal.org or Discourse user name) are how work done elsewhere finds its
/// member. Both are set by the member with their own signature and live in events, so the index
/// rebuilds them from the chain. Within one community no two members hold the same name, or the
/// same account on one site, compared without ASCII case. Governance may clear an abusive one.
interface IMemberDirectory {
    /// @notice `text` is empty where it must not be, longer than `maxBytes`, holds a control
    /// character, or starts or ends with a space.
    error DirectoryInvalidText(string text, uint256 maxBytes);
    /// @notice Another member already holds `text` (a name, or an account on one site).
    error DirectoryTaken(string text, address holder);
    /// @notice `site` is not one of the sites a linked account may be on.
    error DirectoryUnknownSite(uint8 site);

    /// @notice Emitted when `member` sets or clears (empty `name`) their display name, and when
    /// governance clears it or the member leaves (removed, or recovered to a new address, which
    /// starts without a name).
    event NameSet(address indexed member, string name);
    /// @notice Emitted when `member` links or unlinks (empty `handle`) their account on `site`.
    event AccountLinked(address indexed member, uint8 indexed site, string handle);

    /// @notice Sets the caller's display name; an empty one clears it.
    /// @dev Members only. At most 96 bytes (the service takes 32 characters), no control
    /// characters, no leading or trailing space; unique in the community ignoring ASCII case.
    function setName(string calldata name) external;

    /// @notice Links the caller's account `handle` on `site` (1 GitHub, 2 GitLab, 3 drupal.org,
    /// 4 the community's Discourse); an empty handle unlinks it.
    /// @dev Members only. At most 64 bytes, the same characters as a name; unique per site.
    function linkAccount(uint8 site, string calldata handle) external;

    /// @notice Clears `member`'s name (an abusive or impersonating one).
    /// @dev Governance only.
    function clearName(address member) external;

    /// @notice Unlinks `member`'s account on `site` (one they do not hold).
    /// @dev Governance only.
    function clearLinkedAccount(address member, uint8 site) external;

    /// @notice The member holding `name` (compared without ASCII case), or zero.
    function holderOfName(string calldata name) external view returns (address);

    /// @notice The member who linked `handle` on `site` (compared without ASCII case), or zero.
    function holderOfAccount(uint8 site, string calldata handle) external view returns (address);
}
