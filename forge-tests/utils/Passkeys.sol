// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";
import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";
import {WebAuthn} from "@openzeppelin/contracts/utils/cryptography/WebAuthn.sol";
import {Vm} from "./Vm.sol";

/// @dev Passkeys as a browser uses them: a P-256 key (forge's signP256) makes a WebAuthn
/// assertion over a challenge, with authenticatorData = sha256(rp id) || flags || counter and
/// clientDataJSON {"type":"webauthn.get","challenge":base64url(challenge),"origin":...}; its
/// signature over authenticatorData || sha256(clientDataJSON) is normalised to low s (as the web
/// app does with the browser's DER signature), then encoded as PasskeyAccount takes it.
abstract contract Passkeys {
    Vm private constant _VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    bytes1 internal constant FLAG_UP = 0x01; // user present
    bytes1 internal constant FLAG_UV = 0x04; // user verified (PIN, biometrics)

    /// @dev How an assertion is made; `browser(...)` is a correct one, tests spoil one field.
    struct Assertion {
        uint256 passkey; // the P-256 private key
        bytes32 challenge; // what the authenticator is asked to sign: the request's EIP-712 digest
        bytes1 flags;
        string kind; // clientDataJSON's "type"
        bool highS; // leave s in the upper half (the other valid signature of the same message)
    }

    function passkeyPublicKey(uint256 passkey) internal pure returns (bytes32 qx, bytes32 qy) {
        (uint256 x, uint256 y) = _VM.publicKeyP256(passkey);
        return (bytes32(x), bytes32(y));
    }

    function browser(uint256 passkey, bytes32 challenge) internal pure returns (Assertion memory) {
        return Assertion(passkey, challenge, FLAG_UP | FLAG_UV, "webauthn.get", false);
    }

    /// @dev A browser's assertion by `passkey` over `challenge`, as PasskeyAccount takes it.
    function passkeySignature(uint256 passkey, bytes32 challenge) internal pure returns (bytes memory) {
        return passkeySignature(browser(passkey, challenge));
    }

    function passkeySignature(Assertion memory a) internal pure returns (bytes memory) {
        (bytes32 qx, bytes32 qy) = passkeyPublicKey(a.passkey);
        return encodePasskeySignature(qx, qy, webAuthnAuth(a));
    }

    /// @dev The signing key, then the assertion's fields as a tuple (no leading offset word, as
    /// WebAuthn.tryDecodeAuth reads them).
    function encodePasskeySignature(bytes32 qx, bytes32 qy, WebAuthn.WebAuthnAuth memory auth)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(
            qx,
            qy,
            abi.encode(auth.r, auth.s, auth.challengeIndex, auth.typeIndex, auth.authenticatorData, auth.clientDataJSON)
        );
    }

    function webAuthnAuth(Assertion memory a) internal pure returns (WebAuthn.WebAuthnAuth memory auth) {
        string memory clientDataJSON = string.concat(
            '{"type":"',
            a.kind,
            '","challenge":"',
            Base64.encodeURL(abi.encodePacked(a.challenge)),
            '","origin":"http://localhost","crossOrigin":false}'
        );
        bytes memory authenticatorData = abi.encodePacked(sha256("localhost"), a.flags, uint32(1));
        (bytes32 r, bytes32 s) =
            _VM.signP256(a.passkey, sha256(abi.encodePacked(authenticatorData, sha256(bytes(clientDataJSON)))));
        bool low = uint256(s) <= P256.N / 2;
        if (low == a.highS) s = bytes32(P256.N - uint256(s));
        auth = WebAuthn.WebAuthnAuth({
            r: r,
            s: s,
            challengeIndex: 11 + bytes(a.kind).length, // after {"type":"<kind>",
            typeIndex: 1,
            authenticatorData: authenticatorData,
            clientDataJSON: clientDataJSON
        });
    }
}
