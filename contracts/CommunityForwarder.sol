// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/// @title The community's trusted forwarder: relays members' EIP-712 signed requests
/// @notice Every contract of a community trusts this one forwarder, so one signature scheme
/// (ForwardRequest with nonce and deadline, bound to chain id and this address) covers
/// proposing, voting, delegating, claiming, nominating and attesting.
/// A member's address may be a key (its ECDSA signature, as OpenZeppelin's forwarder takes) or
/// a contract wallet (a Safe, a passkey wallet): the wallet's ERC-1271 `isValidSignature` then
/// judges the signature of the same EIP-712 digest, within `WALLET_SIGNATURE_GAS`.
contract CommunityForwarder is ERC2771Forwarder {
    /// @notice The most gas a contract wallet's `isValidSignature` may use when this forwarder
    /// checks a request signed for it: enough for a Safe of many owners or a passkey (P-256)
    /// check in Solidity; a wallet that needs more is refused. It bounds what a hostile wallet
    /// can burn of a relayer's batch (a wallet whose answer changes after the relayer's
    /// simulation) at this much per request.
    uint256 public constant WALLET_SIGNATURE_GAS = 500_000;

    constructor() ERC2771Forwarder("CommunityForwarder") {}

    /// @notice Whether the contract `wallet` accepts `signature` for `hash` under ERC-1271
    /// (OpenZeppelin's SignatureChecker: a call that reverts, runs out of gas or answers
    /// anything but the magic value is a refusal). The forwarder calls it on itself with at
    /// most `WALLET_SIGNATURE_GAS`; anyone may call it.
    /// @param wallet the contract that judges the signature
    /// @param hash the digest signed (for a request, its EIP-712 digest under this forwarder)
    /// @param signature the signature, in whatever form the wallet takes
    /// @return true when the wallet answered with ERC-1271's magic value
    function isValidWalletSignature(address wallet, bytes32 hash, bytes calldata signature)
        external
        view
        returns (bool)
    {
        return SignatureChecker.isValidERC1271SignatureNowCalldata(wallet, hash, signature);
    }

    /// @dev OpenZeppelin's checks first, unchanged, so a key's request costs about what it did; only
    /// when the signature is not the `from` key's and `from` has code is the wallet asked, on
    /// the same EIP-712 digest. A wallet's acceptance makes `from` the signer; a refusal answers
    /// as an ECDSA mismatch does (`ERC2771ForwarderInvalidSigner(recovered, from)`). A key's
    /// signature of a request for another `from` never matches: `from` is part of the digest.
    function _validate(ForwardRequestData calldata request)
        internal
        view
        override
        returns (bool isTrustedForwarder, bool active, bool signerMatch, address signer)
    {
        (isTrustedForwarder, active, signerMatch, signer) = super._validate(request);
        if (
            !signerMatch && request.from.code.length != 0
                && _walletAccepts(request.from, _digest(request), request.signature)
        ) {
            (signerMatch, signer) = (true, request.from);
        }
    }

    /// @dev The request's EIP-712 digest, as OpenZeppelin's forwarder computes it to recover a key.
    function _digest(ForwardRequestData calldata request) private view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    FORWARD_REQUEST_TYPEHASH,
                    request.from,
                    request.to,
                    request.value,
                    request.gas,
                    nonces(request.from),
                    request.deadline,
                    keccak256(request.data)
                )
            )
        );
    }

    /// @dev The wallet's answer within WALLET_SIGNATURE_GAS (less if less is left: then a
    /// refusal, and the request is not executed, its nonce unused). A call of this forwarder's
    /// own `isValidWalletSignature`, so that the gas a wallet burns is bounded whatever it does.
    function _walletAccepts(address wallet, bytes32 digest, bytes calldata signature) private view returns (bool) {
        (bool answered, bytes memory accepted) = address(this).staticcall{gas: WALLET_SIGNATURE_GAS}(
            abi.encodeCall(this.isValidWalletSignature, (wallet, digest, signature))
        );
        return answered && abi.decode(accepted, (bool));
    }
}
