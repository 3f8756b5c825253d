// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721Votes} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721Votes.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {SoulboundERC721} from "./SoulboundERC721.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {MemberDirectory} from "./membership/MemberDirectory.sol";
import {Admissions} from "./membership/Admissions.sol";

/// @title Soulbound membership with one vote per member, delegable to another member
/// @dev The owner is the community's Governor. Votes use a timestamp clock (ERC-6372) so the
/// Governor's periods are in seconds. Members' names are in {MemberDirectory}; admission by
/// vouching and invitations in {Admissions}.
contract Membership is SoulboundERC721, ERC721Votes, ERC2771Context, Ownable, MemberDirectory, Admissions, IMembership {
    constructor(
        string memory name_,
        string memory symbol_,
        address[] memory founders,
        address forwarder,
        address initialOwner
    ) ERC721(name_, symbol_) EIP712(name_, "1") ERC2771Context(forwarder) Ownable(initialOwner) {
        if (founders.length == 0) revert MembershipNoFounders();
        for (uint256 i = 0; i < founders.length; ++i) {
            _admit(founders[i]);
        }
    }

    // ---------------------------------------------------------------- governance

    /// @inheritdoc IMembership
    function admit(address account) external onlyOwner {
        _noteAdmission(account);
        _admit(account);
    }

    /// @inheritdoc IMembership
    function remove(address account) external onlyOwner {
        _requireMember(account);
        // Without members nobody could propose or vote again: governance would be over.
        if (_getTotalSupply() == 1) revert MembershipLastMember(account);
        _burn(_tokenIdOf(account));
        _clearDirectory(account);
        _noteRemoval(account, true);
        emit MemberRemoved(account);
    }

    /// @inheritdoc IMembership
    function recover(address lost, address replacement) external onlyOwner {
        _requireMember(lost);
        _burn(_tokenIdOf(lost));
        _clearDirectory(lost);
        _noteRemoval(lost, false);
        _noteAdmission(replacement);
        _admit(replacement);
        emit MembershipRecovered(lost, replacement);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IMembership
    function isMember(address account) public view override(Admissions, IMembership) returns (bool) {
        return _ownerOf(_tokenIdOf(account)) != address(0);
    }

    /// @inheritdoc IMembership
    function memberCount() external view returns (uint256) {
        return _getTotalSupply();
    }

    /// @notice Votes are counted by timestamp, so governance periods are in seconds.
    function clock() public view override returns (uint48) {
        return uint48(block.timestamp);
    }

    /// @notice Machine-readable description of the clock (ERC-6372).
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    /// @inheritdoc SoulboundERC721
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, SoulboundERC721) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    /// @notice Always reverts: memberships cannot be approved.
    function approve(address to, uint256 tokenId) public override(ERC721, SoulboundERC721) {
        super.approve(to, tokenId);
    }

    /// @notice Always reverts: memberships cannot be approved.
    function setApprovalForAll(address operator, bool approved) public override(ERC721, SoulboundERC721) {
        super.setApprovalForAll(operator, approved);
    }

    // ---------------------------------------------------------------- internal

    function _requireMemberForDirectory(address account) internal view override {
        _requireMember(account);
    }

    function _requireGovernanceForDirectory() internal view override {
        _checkOwner();
    }

    function _requireMemberForAdmissions(address account) internal view override {
        _requireMember(account);
    }

    function _requireGovernanceForAdmissions() internal view override {
        _checkOwner();
    }

    function _admitForAdmissions(address account) internal override {
        _admit(account);
    }

    function _hashTypedDataForAdmissions(bytes32 structHash) internal view override returns (bytes32) {
        return _hashTypedDataV4(structHash);
    }

    function _admit(address account) private {
        if (isMember(account)) revert MembershipAlreadyMember(account);
        _mint(account, _tokenIdOf(account));
        emit MemberAdmitted(account);
    }

    function _requireMember(address account) private view {
        if (!isMember(account)) revert MembershipNotMember(account);
    }

    function _tokenIdOf(address account) private pure returns (uint256) {
        return uint256(uint160(account));
    }

    /// @dev A new member self-delegates, so nobody pays a separate delegation before voting.
    function _update(address to, uint256 tokenId, address auth)
        internal
        override(SoulboundERC721, ERC721Votes)
        returns (address from)
    {
        from = super._update(to, tokenId, auth);
        if (from == address(0) && delegates(to) != to) _delegate(to, to);
    }

    /// @dev Only members delegate, and only to members: one member, one vote, liquid among members.
    function _delegate(address account, address delegatee) internal override {
        if (!isMember(account)) revert MembershipNotMember(account);
        if (!isMember(delegatee)) revert MembershipInvalidDelegate(delegatee);
        super._delegate(account, delegatee);
    }

    function _increaseBalance(address account, uint128 amount) internal override(ERC721, ERC721Votes) {
        super._increaseBalance(account, amount);
    }

    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}
