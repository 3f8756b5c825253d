// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IERC5192} from "./interfaces/IERC5192.sol";

/// @title ERC-721 that can be minted and burned but never transferred or approved (ERC-5192)
/// @dev Invariant an inheritor must keep: every owner change goes through {_update}, which lets
/// only mints and burns through. A governed move (lost-key recovery) calls `ERC721._update`
/// explicitly, so it cannot happen by accident.
abstract contract SoulboundERC721 is ERC721, IERC5192 {
    /// @notice Soulbound tokens cannot be transferred or approved.
    error SoulboundTokenLocked(uint256 tokenId);
    /// @notice Operators cannot be approved for soulbound tokens.
    error SoulboundApprovalDisabled();

    /// @inheritdoc IERC5192
    function locked(uint256 tokenId) external view returns (bool) {
        _requireOwned(tokenId);
        return true;
    }

    /// @notice Always reverts: a soulbound token has no approvals.
    function approve(address, uint256 tokenId) public virtual override {
        revert SoulboundTokenLocked(tokenId);
    }

    /// @notice Always reverts: a soulbound token has no operators.
    function setApprovalForAll(address, bool) public virtual override {
        revert SoulboundApprovalDisabled();
    }

    /// @inheritdoc ERC721
    function supportsInterface(bytes4 interfaceId) public view virtual override returns (bool) {
        return interfaceId == type(IERC5192).interfaceId || super.supportsInterface(interfaceId);
    }

    function _update(address to, uint256 tokenId, address auth) internal virtual override returns (address from) {
        from = _ownerOf(tokenId);
        if (from != address(0) && to != address(0)) revert SoulboundTokenLocked(tokenId);
        super._update(to, tokenId, auth);
        if (from == address(0)) emit Locked(tokenId);
    }
}
