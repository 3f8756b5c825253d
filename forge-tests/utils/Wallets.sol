// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @dev Test only. A minimal ERC-1271 contract wallet owned by one key: it accepts its owner's
/// ECDSA signature over the hash it is asked about, and nothing else. (A real wallet such as a
/// Safe also executes transactions; a member's wallet needs none here: the relayer pays.)
contract ERC1271Wallet is IERC1271 {
    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(hash, signature);
        return
            err == ECDSA.RecoverError.NoError && signer == owner
                ? IERC1271.isValidSignature.selector
                : bytes4(0xffffffff);
    }
}

/// @dev Test only. A wallet that misbehaves as told: its `isValidSignature` reverts, answers
/// garbage, burns all the gas it is given, or says yes to every signature.
contract HostileWallet {
    enum Mode {
        Revert,
        Garbage,
        BurnGas,
        YesToAll
    }

    Mode public mode;

    constructor(Mode mode_) {
        mode = mode_;
    }

    function setMode(Mode mode_) external {
        mode = mode_;
    }

    function isValidSignature(bytes32, bytes calldata) external view returns (bytes4) {
        Mode m = mode;
        if (m == Mode.Revert) revert("no");
        if (m == Mode.Garbage) {
            assembly ("memory-safe") {
                // the magic value alone, 4 bytes: not an ABI-encoded bytes4
                mstore(0, 0x1626ba7e00000000000000000000000000000000000000000000000000000000)
                return(0, 4)
            }
        }
        if (m == Mode.BurnGas) {
            uint256 x;
            while (gasleft() > 0) x++;
        }
        return IERC1271.isValidSignature.selector;
    }
}

/// @dev Test only. A wallet that lies to simulations: its `isValidSignature` says yes to any
/// signature when `tx.gasprice` is 0 (true in `eth_call` and `eth_simulateV1`, where a relayer
/// checks it) and, in a real transaction, burns all the gas it is given. The forwarder then skips
/// the request, after the relayer paid for it.
contract LyingWallet {
    function isValidSignature(bytes32, bytes calldata) external view returns (bytes4) {
        if (tx.gasprice == 0) return IERC1271.isValidSignature.selector;
        uint256 x;
        while (gasleft() > 0) x++;
        return bytes4(uint32(x));
    }
}
