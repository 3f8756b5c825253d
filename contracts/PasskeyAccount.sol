// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";
import {WebAuthn} from "@openzeppelin/contracts/utils/cryptography/WebAuthn.sol";
import {IPasskeyAccount} from "./interfaces/IPasskeyAccount.sol";

/// @title A member's account held by passkeys, verified by OpenZeppelin's WebAuthn and P-256 code
/// @dev Deployed once per community by its PasskeyAccountFactory, which clones it for every
/// account; the forwarder it trusts is an immutable of this implementation, so every clone trusts
/// the community's forwarder. The signature check is OpenZeppelin's `SignerWebAuthn`'s
/// (`WebAuthn.tryDecodeAuth` then `WebAuthn.verify` with user verification required), over a
/// set of keys instead of one. P-256 verification uses the precompile at 0x100 where the chain
/// has it (RIP-7212 on L2s, EIP-7951 on Ethereum since Osaka) and OpenZeppelin's Solidity
/// implementation elsewhere, within the forwarder's WALLET_SIGNATURE_GAS either way.
/// Invariant: the account holds 1 to MAX_KEYS keys, each a point of the curve, listed once.
contract PasskeyAccount is ERC2771Context, Initializable, IPasskeyAccount {
    /// @inheritdoc IPasskeyAccount
    uint256 public constant MAX_KEYS = 4;

    PublicKey[] private _keys;
    /// @dev A key's place in `_keys`, plus one; 0 for a key the account does not hold.
    mapping(bytes32 keyId => uint256 position) private _positions;

    /// @param forwarder the community's forwarder, the only way the account changes its keys
    constructor(address forwarder) ERC2771Context(forwarder) {
        _disableInitializers();
    }

    // ---------------------------------------------------------------- keys

    /// @inheritdoc IPasskeyAccount
    function initialize(bytes32 qx, bytes32 qy) external initializer {
        _addKey(qx, qy);
    }

    /// @inheritdoc IPasskeyAccount
    function addKey(bytes32 qx, bytes32 qy) external {
        _requireSelf();
        if (_keys.length == MAX_KEYS) revert PasskeyAccountTooManyKeys(MAX_KEYS);
        _addKey(qx, qy);
    }

    /// @inheritdoc IPasskeyAccount
    function removeKey(bytes32 qx, bytes32 qy) external {
        _requireSelf();
        bytes32 id = _keyId(qx, qy);
        uint256 position = _positions[id];
        if (position == 0) revert PasskeyAccountUnknownKey(qx, qy);
        uint256 count = _keys.length;
        if (count == 1) revert PasskeyAccountLastKey(qx, qy);
        // The last key takes the removed key's place.
        PublicKey memory last = _keys[count - 1];
        _keys[position - 1] = last;
        _positions[_keyId(last.qx, last.qy)] = position;
        _keys.pop();
        delete _positions[id];
        emit KeyRemoved(qx, qy);
    }

    // ---------------------------------------------------------------- signatures

    /// @inheritdoc IPasskeyAccount
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        return _isValid(hash, signature) ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IPasskeyAccount
    function isKey(bytes32 qx, bytes32 qy) external view returns (bool) {
        return _positions[_keyId(qx, qy)] != 0;
    }

    /// @inheritdoc IPasskeyAccount
    function keys() external view returns (PublicKey[] memory) {
        return _keys;
    }

    // ---------------------------------------------------------------- internal

    /// @dev The signing key first (64 bytes), then the assertion as OpenZeppelin's SignerWebAuthn
    /// takes it; any malformed part is a refusal, never a revert.
    function _isValid(bytes32 hash, bytes calldata signature) private view returns (bool) {
        if (signature.length < 0x40) return false;
        bytes32 qx = bytes32(signature[0x00:0x20]);
        bytes32 qy = bytes32(signature[0x20:0x40]);
        if (_positions[_keyId(qx, qy)] == 0) return false;
        (bool decoded, WebAuthn.WebAuthnAuth calldata auth) = WebAuthn.tryDecodeAuth(signature[0x40:]);
        // OpenZeppelin 5.7's type check reads clientDataJSON at typeIndex before it bounds the
        // index (an assembly `and` evaluates both sides): an index far past the end expands
        // memory until the call runs out of gas. Such an assertion is malformed: refused here.
        if (!decoded || auth.typeIndex >= bytes(auth.clientDataJSON).length) return false;
        return WebAuthn.verify(abi.encodePacked(hash), auth, qx, qy, true);
    }

    function _addKey(bytes32 qx, bytes32 qy) private {
        if (!P256.isValidPublicKey(qx, qy)) revert PasskeyAccountInvalidKey(qx, qy);
        bytes32 id = _keyId(qx, qy);
        if (_positions[id] != 0) revert PasskeyAccountKeyExists(qx, qy);
        _keys.push(PublicKey(qx, qy));
        _positions[id] = _keys.length;
        emit KeyAdded(qx, qy);
    }

    /// @dev Only a request the account signed, relayed by its forwarder, has the account as sender.
    function _requireSelf() private view {
        address caller = _msgSender();
        if (caller != address(this)) revert PasskeyAccountUnauthorized(caller);
    }

    function _keyId(bytes32 qx, bytes32 qy) private pure returns (bytes32) {
        return keccak256(abi.encode(qx, qy));
    }
}
