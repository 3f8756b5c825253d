// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {IPasskeyAccount} from "./interfaces/IPasskeyAccount.sol";
import {IPasskeyAccountFactory} from "./interfaces/IPasskeyAccountFactory.sol";
import {PasskeyAccount} from "./PasskeyAccount.sol";

/// @title Deploys members' passkey accounts as minimal clones at CREATE2 addresses
/// @dev The CREATE2 salt is keccak256(qx, qy, salt): an address belongs to one first key, so
/// deploying it is nobody's privilege and nobody's attack.
contract PasskeyAccountFactory is IPasskeyAccountFactory {
    /// @inheritdoc IPasskeyAccountFactory
    address public immutable implementation;

    /// @param forwarder the community's forwarder, which its accounts trust
    constructor(address forwarder) {
        if (forwarder == address(0)) revert PasskeyAccountFactoryZeroForwarder();
        implementation = address(new PasskeyAccount(forwarder));
    }

    /// @inheritdoc IPasskeyAccountFactory
    function create(bytes32 qx, bytes32 qy, bytes32 salt) external returns (address account) {
        bytes32 create2Salt = _salt(qx, qy, salt);
        account = Clones.predictDeterministicAddress(implementation, create2Salt);
        if (account.code.length != 0) return account;
        account = Clones.cloneDeterministic(implementation, create2Salt);
        emit AccountCreated(account, qx, qy, salt);
        IPasskeyAccount(account).initialize(qx, qy);
    }

    /// @inheritdoc IPasskeyAccountFactory
    function predict(bytes32 qx, bytes32 qy, bytes32 salt) public view returns (address) {
        return Clones.predictDeterministicAddress(implementation, _salt(qx, qy, salt));
    }

    function _salt(bytes32 qx, bytes32 qy, bytes32 salt) private pure returns (bytes32) {
        return keccak256(abi.encode(qx, qy, salt));
    }
}
