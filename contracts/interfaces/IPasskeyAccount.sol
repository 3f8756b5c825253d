// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";

/// @title A member's account held by passkeys (WebAuthn, P-256): membership without a wallet
/// @notice A person who has no wallet creates a passkey in the browser and gets this account,
/// deployed for them by the community's {IPasskeyAccountFactory}. The account's address is what
/// membership, votes and badges belong to; it holds no assets and executes nothing itself. Every
/// action is a ForwardRequest with `from` = the account, signed with one of its passkeys and
/// relayed by the community's forwarder, which asks the account through ERC-1271
/// ({isValidSignature}) as it asks any contract wallet.
///
/// A signature is the signing key's coordinates `qx || qy` (64 bytes, ERC-7913's encoding of a
/// P-256 key), then the WebAuthn assertion as OpenZeppelin's `SignerWebAuthn` takes it: the
/// fields of `WebAuthn.WebAuthnAuth` ABI-encoded as a tuple, `abi.encode(r, s, challengeIndex,
/// typeIndex, authenticatorData, clientDataJSON)`. It is valid
/// when the key is one of the account's and OpenZeppelin's `WebAuthn.verify` accepts it with user
/// verification required: clientDataJSON of type "webauthn.get" whose challenge is exactly the
/// digest asked about (base64url), the UP and UV flags set, and a P-256 signature with low s.
///
/// The challenge is the digest itself, so a signature is good for whatever names the account
/// in what it signs: a ForwardRequest (`from`, the forwarder's domain: chain and address, the
/// nonce and deadline) or a Governor ballot (`voter`). One passkey may hold several accounts (in
/// several communities, or several salts); a request signed for one is refused for another,
/// because `from` is part of the digest. A digest that names no account would be good for every
/// account of that passkey: the service asks passkeys to sign nothing else.
///
/// An account holds one to {MAX_KEYS} passkeys; a second passkey is added, and a key removed,
/// only by the account itself: a request relayed by the community's forwarder with `from` = the
/// account, so signed with one of its keys, under the forwarder's nonce and deadline. A lost
/// last passkey is not the account's business: the community's governed recovery moves the
/// membership (and badges) to a new account.
interface IPasskeyAccount is IERC1271 {
    /// @notice A P-256 public key: the coordinates of its point.
    struct PublicKey {
        bytes32 qx;
        bytes32 qy;
    }

    /// @notice Only the account itself (a request it signed, relayed by its forwarder) changes its keys.
    error PasskeyAccountUnauthorized(address caller);
    /// @notice (`qx`, `qy`) is not a point of the P-256 curve.
    error PasskeyAccountInvalidKey(bytes32 qx, bytes32 qy);
    /// @notice The key is already one of the account's.
    error PasskeyAccountKeyExists(bytes32 qx, bytes32 qy);
    /// @notice The key is not one of the account's.
    error PasskeyAccountUnknownKey(bytes32 qx, bytes32 qy);
    /// @notice The account already holds `maxKeys` keys.
    error PasskeyAccountTooManyKeys(uint256 maxKeys);
    /// @notice The key is the account's only one: without it nobody could sign for the account.
    error PasskeyAccountLastKey(bytes32 qx, bytes32 qy);

    /// @notice Emitted when a passkey starts signing for the account (the first one at creation).
    event KeyAdded(bytes32 indexed qx, bytes32 indexed qy);
    /// @notice Emitted when a passkey stops signing for the account.
    event KeyRemoved(bytes32 indexed qx, bytes32 indexed qy);

    /// @notice Sets the account's first passkey. Once, by the factory, in the transaction that
    /// deploys the account (the implementation itself can never be initialised).
    /// @dev Reverts with {PasskeyAccountInvalidKey} for a point off the curve, and with
    /// OpenZeppelin's `InvalidInitialization` when called again.
    function initialize(bytes32 qx, bytes32 qy) external;

    /// @notice Adds a passkey (a second device, a new phone) that signs for the account as the others do.
    /// @dev The account itself only (see the interface's notice): else {PasskeyAccountUnauthorized}.
    /// Reverts with {PasskeyAccountInvalidKey}, {PasskeyAccountKeyExists}, or
    /// {PasskeyAccountTooManyKeys} when the account already holds {MAX_KEYS}.
    function addKey(bytes32 qx, bytes32 qy) external;

    /// @notice Removes a passkey; it no longer signs for the account. Any of the account's keys
    /// may remove any other: a member who suspects a device removes it from another one.
    /// @dev The account itself only: else {PasskeyAccountUnauthorized}. Reverts with
    /// {PasskeyAccountUnknownKey}, and with {PasskeyAccountLastKey} for the only key left.
    function removeKey(bytes32 qx, bytes32 qy) external;

    /// @notice ERC-1271: `0x1626ba7e` when `signature` is a WebAuthn assertion over `hash` by one
    /// of the account's passkeys, with user verification (see the interface's notice for the
    /// encoding); `0xffffffff` otherwise. Never reverts on malformed input.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4);

    /// @notice Whether (`qx`, `qy`) signs for the account now.
    function isKey(bytes32 qx, bytes32 qy) external view returns (bool);

    /// @notice The account's passkeys now, in no particular order.
    function keys() external view returns (PublicKey[] memory);

    /// @notice The most passkeys one account holds.
    // solhint-disable-next-line func-name-mixedcase
    function MAX_KEYS() external view returns (uint256);
}
