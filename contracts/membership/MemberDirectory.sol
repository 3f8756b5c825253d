// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {IMemberDirectory} from "../interfaces/IMemberDirectory.sol";

/// @title Names and linked accounts of a community's members (see {IMemberDirectory})
/// @dev Mixed into Membership. Uniqueness is kept by key: the text with ASCII letters folded to
/// lower case, so "Alice" and "alice" are one name. Other scripts are compared byte for byte;
/// the service normalises what it sends (NFC) and refuses look-alikes it can tell.
abstract contract MemberDirectory is Context, IMemberDirectory {
    uint256 private constant MAX_NAME_BYTES = 96;
    uint256 private constant MAX_HANDLE_BYTES = 64;
    uint8 private constant SITES = 4; // 1 GitHub, 2 GitLab, 3 drupal.org, 4 Discourse

    mapping(address member => bytes32) private _nameKeys;
    mapping(bytes32 key => address) private _nameHolders;
    mapping(address member => mapping(uint8 site => bytes32)) private _accountKeys;
    mapping(bytes32 key => address) private _accountHolders;

    /// @dev Reverts unless `account` is a member (Membership's check).
    function _requireMemberForDirectory(address account) internal view virtual;

    /// @dev Reverts unless the caller is governance (Ownable's check).
    function _requireGovernanceForDirectory() internal view virtual;

    /// @inheritdoc IMemberDirectory
    function setName(string calldata name) external {
        address member = _msgSender();
        _requireMemberForDirectory(member);
        _setName(member, name);
    }

    /// @inheritdoc IMemberDirectory
    function linkAccount(uint8 site, string calldata handle) external {
        address member = _msgSender();
        _requireMemberForDirectory(member);
        _link(member, site, handle);
    }

    /// @inheritdoc IMemberDirectory
    function clearName(address member) external {
        _requireGovernanceForDirectory();
        _setName(member, "");
    }

    /// @inheritdoc IMemberDirectory
    function clearLinkedAccount(address member, uint8 site) external {
        _requireGovernanceForDirectory();
        _link(member, site, "");
    }

    /// @inheritdoc IMemberDirectory
    function holderOfName(string calldata name) external view returns (address) {
        return _nameHolders[_key(bytes(name), 0, MAX_NAME_BYTES)];
    }

    /// @inheritdoc IMemberDirectory
    function holderOfAccount(uint8 site, string calldata handle) external view returns (address) {
        return _accountHolders[_key(bytes(handle), site, MAX_HANDLE_BYTES)];
    }

    /// @dev Frees a leaving member's name and accounts for others.
    function _clearDirectory(address member) internal {
        if (_nameKeys[member] != bytes32(0)) _setName(member, "");
        for (uint8 site = 1; site <= SITES; ++site) {
            if (_accountKeys[member][site] != bytes32(0)) _link(member, site, "");
        }
    }

    function _setName(address member, string memory name) private {
        bytes32 key = _claimKey(bytes(name), 0, MAX_NAME_BYTES, member, _nameHolders);
        bytes32 previous = _nameKeys[member];
        if (previous != bytes32(0) && previous != key) delete _nameHolders[previous];
        _nameKeys[member] = key;
        emit NameSet(member, name);
    }

    function _link(address member, uint8 site, string memory handle) private {
        if (site == 0 || site > SITES) revert DirectoryUnknownSite(site);
        bytes32 key = _claimKey(bytes(handle), site, MAX_HANDLE_BYTES, member, _accountHolders);
        bytes32 previous = _accountKeys[member][site];
        if (previous != bytes32(0) && previous != key) delete _accountHolders[previous];
        _accountKeys[member][site] = key;
        emit AccountLinked(member, site, handle);
    }

    /// @dev Checks `text`, takes its key for `member` and answers it; empty text answers zero.
    function _claimKey(
        bytes memory text,
        uint8 site,
        uint256 maxBytes,
        address member,
        mapping(bytes32 => address) storage holders
    ) private returns (bytes32 key) {
        if (text.length == 0) return bytes32(0);
        if (text.length > maxBytes || text[0] == 0x20 || text[text.length - 1] == 0x20) {
            revert DirectoryInvalidText(string(text), maxBytes);
        }
        key = _key(text, site, maxBytes);
        address holder = holders[key];
        if (holder != address(0) && holder != member) revert DirectoryTaken(string(text), holder);
        holders[key] = member;
    }

    /// @dev The text's key: its bytes with ASCII A-Z folded to a-z, hashed with the site (0 for
    /// names). Reverts on control characters (below 0x20, and DEL).
    function _key(bytes memory text, uint8 site, uint256 maxBytes) private pure returns (bytes32) {
        bytes memory folded = new bytes(text.length);
        for (uint256 i = 0; i < text.length; ++i) {
            bytes1 c = text[i];
            if (c < 0x20 || c == 0x7f) revert DirectoryInvalidText(string(text), maxBytes);
            folded[i] = (c >= 0x41 && c <= 0x5a) ? bytes1(uint8(c) + 32) : c;
        }
        return keccak256(abi.encodePacked(site, folded));
    }
}
