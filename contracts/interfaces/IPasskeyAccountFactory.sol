// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Deploys members' passkey accounts at addresses known in advance
/// @notice One factory per community: it deploys one {IPasskeyAccount} implementation that
/// trusts the community's forwarder, and each account is a minimal clone of it (EIP-1167,
/// CREATE2), so an account costs a small deployment. An account's address follows from its
/// first passkey and a salt ({predict}), so it can be admitted, credited or nominated before it
/// exists; anyone may deploy it ({create}, the relayer pays), and always with that first key:
/// the key is part of the CREATE2 salt, so nobody can take the address with another key.
interface IPasskeyAccountFactory {
    /// @notice The factory needs the community's forwarder: its accounts change keys only through it.
    error PasskeyAccountFactoryZeroForwarder();

    /// @notice Emitted when `account` is deployed with its first passkey (`qx`, `qy`) and `salt`.
    event AccountCreated(address indexed account, bytes32 qx, bytes32 qy, bytes32 salt);

    /// @notice Deploys the account of first passkey (`qx`, `qy`) and `salt`, or returns it if it
    /// exists already (then nothing happens), so a relayer may call it before any request.
    /// @dev Anyone may call it. Reverts with {IPasskeyAccount-PasskeyAccountInvalidKey} for a
    /// point off the P-256 curve.
    /// @return account the account's address, always {predict}'s
    function create(bytes32 qx, bytes32 qy, bytes32 salt) external returns (address account);

    /// @notice The address of the account of first passkey (`qx`, `qy`) and `salt`, deployed or not.
    function predict(bytes32 qx, bytes32 qy, bytes32 salt) external view returns (address);

    /// @notice The account implementation every account of this factory is a clone of.
    function implementation() external view returns (address);
}
