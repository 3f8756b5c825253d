// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {Errors} from "@openzeppelin/contracts/utils/Errors.sol";
import {WebAuthn} from "@openzeppelin/contracts/utils/cryptography/WebAuthn.sol";
import {PasskeyAccount} from "../contracts/PasskeyAccount.sol";
import {PasskeyAccountFactory} from "../contracts/PasskeyAccountFactory.sol";
import {IPasskeyAccount} from "../contracts/interfaces/IPasskeyAccount.sol";
import {IPasskeyAccountFactory} from "../contracts/interfaces/IPasskeyAccountFactory.sol";
import {Community} from "./utils/Community.sol";
import {TestBase} from "./utils/Vm.sol";

/// @notice Issue 22, first step: members' passkey accounts and their factory. The account takes
/// a browser's WebAuthn assertion whose challenge is the request's EIP-712 digest (user verified,
/// low s), refuses every other, and never reverts on malformed bytes; the forwarder relays a
/// passkey member's requests through its ERC-1271 path, and a request signed for one account of
/// a passkey is refused for another; keys change only by the account's own relayed request. The
/// gas tests print what a relayed claim costs signed by a key and by a passkey (`-vv`).
contract PasskeyAccountTest is TestBase, Community {
    uint256 internal constant PASSKEY = 0x9A55CE1;
    uint256 internal constant SECOND_PASSKEY = 0x9A55CE2;
    uint256 internal constant STRANGER_PASSKEY = 0x57A4;
    uint256 internal constant ALICE_KEY = 0xA11CE;
    bytes4 internal constant MAGIC = IERC1271.isValidSignature.selector;
    bytes4 internal constant REFUSED = 0xffffffff;

    address internal alice;
    address internal bob;
    address internal gov;
    address internal outsider = address(0x0B5);
    address internal relayer = address(0x5E1A7);
    bytes32 internal qx;
    bytes32 internal qy;
    PasskeyAccount internal account;

    event log_named_uint(string key, uint256 val);

    function setUp() public {
        alice = vm.addr(ALICE_KEY);
        bob = vm.addr(0xB0B);
        address[] memory founders = new address[](3);
        (founders[0], founders[1], founders[2]) = (alice, bob, vm.addr(0xCA201));
        deployCommunity(founders);
        gov = address(timelock); // governance: the timelock carries out passed proposals
        vm.prank(gov);
        registry.addIndicator(indicator("Mentoring", 2, 0));
        (qx, qy) = passkeyPublicKey(PASSKEY);
        vm.prank(relayer);
        account = PasskeyAccount(accountFactory.create(qx, qy, 0));
    }

    // ---------------------------------------------------------------- the factory

    function test_factoryPredictsTheAddressAndCreatesOnce() public {
        bytes32 salt = bytes32(uint256(7));
        address predicted = accountFactory.predict(qx, qy, salt);
        assertEq(predicted.code.length, 0, "nothing there before create");
        vm.expectEmit(address(accountFactory));
        emit IPasskeyAccountFactory.AccountCreated(predicted, qx, qy, salt);
        vm.expectEmit(predicted);
        emit IPasskeyAccount.KeyAdded(qx, qy);
        vm.prank(relayer);
        assertEq(accountFactory.create(qx, qy, salt), predicted, "create deploys at predict's address");
        assertEq(predicted.code.length, 45, "a minimal clone (EIP-1167)");
        IPasskeyAccount.PublicKey[] memory held = IPasskeyAccount(predicted).keys();
        assertTrue(held.length == 1 && held[0].qx == qx && held[0].qy == qy, "the first key");
        assertEq(PasskeyAccount(predicted).trustedForwarder(), address(forwarder), "trusts the community's forwarder");

        // Again, by anyone: the same account, and nothing happens.
        vm.recordLogs();
        vm.prank(outsider);
        assertEq(accountFactory.create(qx, qy, salt), predicted, "create is idempotent");
        assertEq(vm.getRecordedLogs().length, 0, "no event the second time");

        // Another salt or another first key: another address.
        (bytes32 x2, bytes32 y2) = passkeyPublicKey(SECOND_PASSKEY);
        assertTrue(accountFactory.predict(qx, qy, bytes32(uint256(8))) != predicted, "another salt");
        assertTrue(accountFactory.predict(x2, y2, salt) != predicted, "another first key");
        assertEq(accountFactory.predict(qx, qy, 0), address(account), "setUp's account");
    }

    function test_factoryAndInitialisationRefusals() public {
        vm.expectRevert(abi.encodeWithSelector(IPasskeyAccountFactory.PasskeyAccountFactoryZeroForwarder.selector));
        new PasskeyAccountFactory(address(0));
        // A point off the curve: no account, at its predicted address or anywhere.
        bytes32 offCurve = bytes32(uint256(qy) ^ 1);
        vm.expectRevert(abi.encodeWithSelector(IPasskeyAccount.PasskeyAccountInvalidKey.selector, qx, offCurve));
        accountFactory.create(qx, offCurve, 0);
        assertEq(accountFactory.predict(qx, offCurve, 0).code.length, 0, "no account");
        // An account is initialised once, by its factory; the implementation never.
        (bytes32 x2, bytes32 y2) = passkeyPublicKey(SECOND_PASSKEY);
        vm.expectRevert(abi.encodeWithSelector(Initializable.InvalidInitialization.selector));
        account.initialize(x2, y2);
        PasskeyAccount implementation = PasskeyAccount(accountFactory.implementation());
        vm.expectRevert(abi.encodeWithSelector(Initializable.InvalidInitialization.selector));
        implementation.initialize(x2, y2);
        assertEq(implementation.keys().length, 0, "the implementation holds no key");
    }

    // ---------------------------------------------------------------- signatures (ERC-1271)

    function test_aBrowsersAssertionIsAcceptedAndEverySpoiledOneRefused() public view {
        bytes32 digest = keccak256("a request's EIP-712 digest");
        _judged(passkeySignature(PASSKEY, digest), digest, MAGIC, "the browser's assertion");

        Assertion memory a = browser(PASSKEY, digest);
        a.highS = true;
        _judged(passkeySignature(a), digest, REFUSED, "high s (the same signature, malleated)");
        a = browser(PASSKEY, keccak256("another request's digest"));
        _judged(passkeySignature(a), digest, REFUSED, "a challenge other than the digest");
        a = browser(PASSKEY, digest);
        a.flags = FLAG_UP;
        _judged(passkeySignature(a), digest, REFUSED, "no user verification");
        a.flags = FLAG_UV;
        _judged(passkeySignature(a), digest, REFUSED, "no user presence");
        a = browser(PASSKEY, digest);
        a.kind = "webauthn.create";
        _judged(passkeySignature(a), digest, REFUSED, "a registration, not an assertion");

        // Another passkey's assertion: not one of the account's keys, whichever key it names.
        bytes memory theirs = passkeySignature(STRANGER_PASSKEY, digest);
        _judged(theirs, digest, REFUSED, "a stranger's passkey");
        for (uint256 i = 0; i < 32; ++i) {
            (theirs[i], theirs[32 + i]) = (qx[i], qy[i]);
        }
        _judged(theirs, digest, REFUSED, "a stranger's assertion naming the account's key");
        // A key's ECDSA signature of the digest (what the forwarder tries first).
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(ALICE_KEY, digest);
        _judged(abi.encodePacked(r, s, v), digest, REFUSED, "an ECDSA signature");
    }

    function test_malformedSignaturesAreRefusedNeverReverted() public view {
        bytes32 digest = keccak256("a request's EIP-712 digest");
        bytes memory good = passkeySignature(PASSKEY, digest);
        _judged("", digest, REFUSED, "empty");
        _judged(hex"c0ffee", digest, REFUSED, "three bytes");
        _judged(abi.encodePacked(qx, bytes31(0)), digest, REFUSED, "63 bytes");
        _judged(abi.encodePacked(qx, qy), digest, REFUSED, "the key and no assertion");
        _judged(abi.encodePacked(qx, qy, new bytes(0xbf)), digest, REFUSED, "an assertion too short to decode");
        bytes memory truncated = new bytes(good.length - 32);
        for (uint256 i = 0; i < truncated.length; ++i) {
            truncated[i] = good[i];
        }
        _judged(truncated, digest, REFUSED, "truncated");
        bytes memory pointingOut = bytes.concat(good);
        assembly ("memory-safe") {
            // the assertion's authenticatorData offset (its fifth head word) pointing far away
            mstore(add(pointingOut, add(0x60, 0x80)), 0xffffffffffff)
        }
        _judged(pointingOut, digest, REFUSED, "an offset out of bounds");
        // Indexes into clientDataJSON far past its end (OpenZeppelin's type check would read
        // memory there: a memory expansion no gas pays for).
        WebAuthn.WebAuthnAuth memory auth = webAuthnAuth(browser(PASSKEY, digest));
        auth.typeIndex = 1 << 200;
        _judged(encodePasskeySignature(qx, qy, auth), digest, REFUSED, "a type index past the end");
        auth.typeIndex = type(uint256).max - 5;
        _judged(encodePasskeySignature(qx, qy, auth), digest, REFUSED, "a type index that wraps around");
        auth.typeIndex = 1;
        auth.challengeIndex = 1 << 200;
        _judged(encodePasskeySignature(qx, qy, auth), digest, REFUSED, "a challenge index past the end");
        auth.challengeIndex = type(uint256).max;
        _judged(encodePasskeySignature(qx, qy, auth), digest, REFUSED, "a challenge index that wraps around");
    }

    /// forge-config: default.fuzz.runs = 512
    function testFuzz_anyBytesAfterTheKeyAreRefusedWithoutRevert(bytes calldata junk, bytes32 digest) public view {
        assertTrue(account.isValidSignature(digest, abi.encodePacked(qx, qy, junk)) == REFUSED, "junk accepted");
    }

    /// @dev A browser's assertion with its indexes and flags moved anywhere: accepted only as the
    /// browser made it, and never a revert.
    /// forge-config: default.fuzz.runs = 256
    function testFuzz_anyIndexesAndFlagsAreJudgedWithoutRevert(uint256 typeIndex, uint256 challengeIndex, uint8 flags)
        public
        view
    {
        bytes32 digest = keccak256("a request's EIP-712 digest");
        Assertion memory a = browser(PASSKEY, digest);
        a.flags = bytes1(flags);
        WebAuthn.WebAuthnAuth memory auth = webAuthnAuth(a);
        bool asMade = typeIndex == auth.typeIndex && challengeIndex == auth.challengeIndex;
        bool verified = (a.flags & FLAG_UV) != 0 && (a.flags & FLAG_UP) != 0 && (a.flags & 0x18 != 0x10);
        (auth.typeIndex, auth.challengeIndex) = (typeIndex, challengeIndex);
        bytes4 answer = account.isValidSignature(digest, encodePasskeySignature(qx, qy, auth));
        assertTrue(answer == (asMade && verified ? MAGIC : REFUSED), "judged otherwise");
    }

    // ---------------------------------------------------------------- through the forwarder

    /// @dev The whole path of a member without a wallet: admitted at the predicted address before
    /// it exists, deployed by the relayer, then a claim signed with the passkey and relayed.
    function test_aPasskeyMemberClaimsThroughTheForwarder() public {
        bytes32 salt = bytes32(uint256(1));
        address member = accountFactory.predict(qx, qy, salt);
        vm.prank(gov);
        membership.admit(member);
        assertTrue(membership.isMember(member) && member.code.length == 0, "admitted before it exists");
        vm.prank(relayer);
        accountFactory.create(qx, qy, salt);

        ERC2771Forwarder.ForwardRequestData memory request =
            passkeyRequest(PASSKEY, member, address(badge), abi.encodeCall(badge.claim, (1, keccak256("e"), "u")));
        assertTrue(forwarder.verify(request), "the forwarder takes the passkey's request");
        vm.prank(relayer);
        forwarder.execute(request);
        assertEq(badge.getClaim(1).contributor, member, "claimed as the account");
        assertEq(forwarder.nonces(member), 1, "the account's nonce used");
        vm.prank(alice);
        badge.attest(1);
        vm.prank(bob);
        badge.attest(1);
        assertEq(badge.ownerOf(1), member, "the badge is the account's");

        // The same request again: the nonce moved on, and the digest with it.
        vm.expectRevert(
            abi.encodeWithSelector(ERC2771Forwarder.ERC2771ForwarderInvalidSigner.selector, address(0), member)
        );
        vm.prank(relayer);
        forwarder.execute(request);
        // A spoiled assertion is refused by the forwarder as a wrong key is (high s here).
        request = unsignedRequest(member, address(badge), abi.encodeCall(badge.claim, (1, keccak256("f"), "u")));
        Assertion memory a = browser(PASSKEY, requestDigest(request));
        a.highS = true;
        request.signature = passkeySignature(a);
        assertTrue(!forwarder.verify(request), "high s through the forwarder");
    }

    /// @dev One passkey, two accounts: A's request, replayed with `from` = B, is refused, because
    /// `from` is in the digest the passkey signed as its challenge.
    function test_aRequestSignedForOneAccountIsRefusedForAnotherOfTheSamePasskey() public {
        address a = address(account);
        address b = accountFactory.create(qx, qy, bytes32(uint256(1)));
        vm.prank(gov);
        membership.admit(a);
        vm.prank(gov);
        membership.admit(b);
        bytes memory claim = abi.encodeCall(badge.claim, (1, keccak256("e"), "u"));

        ERC2771Forwarder.ForwardRequestData memory forA = passkeyRequest(PASSKEY, a, address(badge), claim);
        ERC2771Forwarder.ForwardRequestData memory replayed = unsignedRequest(b, address(badge), claim);
        replayed.signature = forA.signature;
        assertTrue(!forwarder.verify(replayed), "A's signature for B");
        // B holds the same passkey: it refuses B's digest, as the challenge is A's.
        assertTrue(PasskeyAccount(b).isValidSignature(requestDigest(replayed), forA.signature) == REFUSED, "B's digest");
        vm.expectRevert(abi.encodeWithSelector(ERC2771Forwarder.ERC2771ForwarderInvalidSigner.selector, address(0), b));
        vm.prank(relayer);
        forwarder.execute(replayed);

        vm.prank(relayer);
        forwarder.execute(forA);
        assertEq(badge.getClaim(1).contributor, a, "A's request acts as A");
        assertTrue(forwarder.nonces(a) == 1 && forwarder.nonces(b) == 0, "B's nonce untouched");
    }

    // ---------------------------------------------------------------- keys

    /// @dev A member adds a second passkey with a request signed by the first, then (the first
    /// phone lost) removes the first with the second: each change a relayed request of the account.
    function test_aSecondPasskeyIsAddedAndTheFirstRemovedByTheAccountsOwnRequests() public {
        vm.prank(gov);
        membership.admit(address(account));
        (bytes32 x2, bytes32 y2) = passkeyPublicKey(SECOND_PASSKEY);

        vm.expectEmit(address(account));
        emit IPasskeyAccount.KeyAdded(x2, y2);
        _relay(passkeyRequest(PASSKEY, address(account), address(account), abi.encodeCall(account.addKey, (x2, y2))));
        assertTrue(account.isKey(qx, qy) && account.isKey(x2, y2), "two keys");

        _relay(
            passkeyRequest(
                SECOND_PASSKEY, address(account), address(badge), abi.encodeCall(badge.claim, (1, keccak256("e"), "u"))
            )
        );
        assertEq(badge.getClaim(1).contributor, address(account), "the second passkey signs for the account");

        vm.expectEmit(address(account));
        emit IPasskeyAccount.KeyRemoved(qx, qy);
        _relay(
            passkeyRequest(
                SECOND_PASSKEY, address(account), address(account), abi.encodeCall(account.removeKey, (qx, qy))
            )
        );
        IPasskeyAccount.PublicKey[] memory held = account.keys();
        assertTrue(held.length == 1 && held[0].qx == x2 && !account.isKey(qx, qy), "only the second key left");
        ERC2771Forwarder.ForwardRequestData memory request = passkeyRequest(
            PASSKEY, address(account), address(badge), abi.encodeCall(badge.claim, (1, keccak256("f"), "u"))
        );
        assertTrue(!forwarder.verify(request), "the removed passkey no longer signs");
    }

    function test_onlyTheAccountChangesItsKeys() public {
        (bytes32 x2, bytes32 y2) = passkeyPublicKey(SECOND_PASSKEY);
        bytes memory add = abi.encodeCall(account.addKey, (x2, y2));
        bytes memory remove = abi.encodeCall(account.removeKey, (qx, qy));
        bytes4 unauthorized = IPasskeyAccount.PasskeyAccountUnauthorized.selector;
        // Called directly, by anyone.
        address[3] memory callers = [outsider, alice, gov];
        for (uint256 i = 0; i < callers.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(unauthorized, callers[i]));
            vm.prank(callers[i]);
            account.addKey(x2, y2);
            vm.expectRevert(abi.encodeWithSelector(unauthorized, callers[i]));
            vm.prank(callers[i]);
            account.removeKey(qx, qy);
        }
        // Relayed for another signer: the account sees that signer, and refuses.
        _expectAsSender(bob, add, abi.encodeWithSelector(unauthorized, bob));
        _expectAsSender(bob, remove, abi.encodeWithSelector(unauthorized, bob));
        ERC2771Forwarder.ForwardRequestData memory request = signedRequest(0xB0B, bob, address(account), add);
        vm.expectRevert(abi.encodeWithSelector(Errors.FailedCall.selector));
        forwarder.execute(request);
        // Signed with a passkey that is not the account's.
        request = passkeyRequest(STRANGER_PASSKEY, address(account), address(account), add);
        vm.expectRevert(
            abi.encodeWithSelector(
                ERC2771Forwarder.ERC2771ForwarderInvalidSigner.selector, address(0), address(account)
            )
        );
        forwarder.execute(request);
        assertTrue(account.keys().length == 1 && account.isKey(qx, qy) && !account.isKey(x2, y2), "keys unchanged");
    }

    /// @dev The key rules, each as the forwarder delivers the account's own request.
    function test_keyRules() public {
        address self = address(account);
        bytes32 offCurve = bytes32(uint256(qy) ^ 1);
        _expectAsSender(
            self,
            abi.encodeCall(account.addKey, (qx, offCurve)),
            abi.encodeWithSelector(IPasskeyAccount.PasskeyAccountInvalidKey.selector, qx, offCurve)
        );
        _expectAsSender(
            self,
            abi.encodeCall(account.addKey, (qx, qy)),
            abi.encodeWithSelector(IPasskeyAccount.PasskeyAccountKeyExists.selector, qx, qy)
        );
        _expectAsSender(
            self,
            abi.encodeCall(account.removeKey, (qx, qy)),
            abi.encodeWithSelector(IPasskeyAccount.PasskeyAccountLastKey.selector, qx, qy)
        );
        (bytes32[4] memory xs, bytes32[4] memory ys) = _keys();
        _expectAsSender(
            self,
            abi.encodeCall(account.removeKey, (xs[1], ys[1])),
            abi.encodeWithSelector(IPasskeyAccount.PasskeyAccountUnknownKey.selector, xs[1], ys[1])
        );
        // Up to MAX_KEYS keys, not one more.
        for (uint256 i = 1; i < 4; ++i) {
            _expectAsSender(self, abi.encodeCall(account.addKey, (xs[i], ys[i])), "");
        }
        assertEq(account.keys().length, account.MAX_KEYS(), "four keys");
        (bytes32 x5, bytes32 y5) = passkeyPublicKey(0x9A55CE5);
        _expectAsSender(
            self,
            abi.encodeCall(account.addKey, (x5, y5)),
            abi.encodeWithSelector(IPasskeyAccount.PasskeyAccountTooManyKeys.selector, uint256(4))
        );
        // Removing the second of four: the last takes its place; then removing the (new) last.
        _expectAsSender(self, abi.encodeCall(account.removeKey, (xs[1], ys[1])), "");
        IPasskeyAccount.PublicKey[] memory held = account.keys();
        assertTrue(held.length == 3 && held[0].qx == xs[0] && held[1].qx == xs[3] && held[2].qx == xs[2], "order");
        _expectAsSender(self, abi.encodeCall(account.removeKey, (xs[2], ys[2])), "");
        held = account.keys();
        assertTrue(held.length == 2 && held[0].qx == xs[0] && held[1].qx == xs[3], "order after the last");
        assertTrue(account.isKey(xs[0], ys[0]) && account.isKey(xs[3], ys[3]), "the kept keys");
        assertTrue(!account.isKey(xs[1], ys[1]) && !account.isKey(xs[2], ys[2]), "the removed keys");
        // The moved key is still removable (its place was updated), and a removed key can come back.
        _expectAsSender(self, abi.encodeCall(account.removeKey, (xs[3], ys[3])), "");
        _expectAsSender(self, abi.encodeCall(account.addKey, (xs[1], ys[1])), "");
        held = account.keys();
        assertTrue(held.length == 2 && held[0].qx == xs[0] && held[1].qx == xs[1], "re-added");
    }

    // ---------------------------------------------------------------- gas (`forge test -vv` prints it)

    function test_gas_relayedClaimSignedByAKey() public {
        _measureRelayed(
            "relayed claim signed by a key (ECDSA)",
            signedRequest(ALICE_KEY, alice, address(badge), abi.encodeCall(badge.claim, (1, keccak256("e"), "u")))
        );
    }

    function test_gas_relayedClaimSignedByAPasskey() public {
        vm.prank(gov);
        membership.admit(address(account));
        _measureRelayed(
            "relayed claim signed by a passkey (WebAuthn, P-256)",
            passkeyRequest(
                PASSKEY, address(account), address(badge), abi.encodeCall(badge.claim, (1, keccak256("e"), "u"))
            )
        );
    }

    function test_gas_passkeyCheckAloneAndAccountCreation() public {
        bytes32 digest = keccak256("a request's EIP-712 digest");
        bytes memory signature = passkeySignature(PASSKEY, digest);
        uint256 before = gasleft();
        bytes4 answer = account.isValidSignature(digest, signature);
        uint256 used = before - gasleft();
        assertTrue(answer == MAGIC, "valid");
        assertTrue(used < forwarder.WALLET_SIGNATURE_GAS(), "within the forwarder's bound");
        emit log_named_uint("isValidSignature of a passkey assertion: gas", used);
        emit log_named_uint("P-256 precompile at 0x100 (1 = present)", _precompile() ? 1 : 0);
        (bytes32 x2, bytes32 y2) = passkeyPublicKey(SECOND_PASSKEY);
        before = gasleft();
        accountFactory.create(x2, y2, 0);
        emit log_named_uint("PasskeyAccountFactory.create (a new account): gas", before - gasleft());
    }

    // ---------------------------------------------------------------- helpers

    function _judged(bytes memory signature, bytes32 digest, bytes4 expected, string memory what) internal view {
        assertTrue(account.isValidSignature(digest, signature) == expected, what);
    }

    function _relay(ERC2771Forwarder.ForwardRequestData memory request) internal {
        vm.prank(relayer);
        forwarder.execute(request);
    }

    /// @dev Calls the account as the forwarder delivers a request of `sender` (ERC-2771: the
    /// sender's address after the call data), and checks the outcome: "" for success.
    function _expectAsSender(address sender, bytes memory data, bytes memory expected) internal {
        vm.prank(address(forwarder));
        (bool ok, bytes memory returned) = address(account).call(abi.encodePacked(data, sender));
        assertEq(ok ? bytes("") : returned, expected, "outcome");
        assertTrue(ok == (expected.length == 0), "success");
    }

    function _keys() internal pure returns (bytes32[4] memory xs, bytes32[4] memory ys) {
        uint256[4] memory passkeys = [PASSKEY, SECOND_PASSKEY, 0x9A55CE3, 0x9A55CE4];
        for (uint256 i = 0; i < 4; ++i) {
            (xs[i], ys[i]) = passkeyPublicKey(passkeys[i]);
        }
    }

    /// @dev The execution gas of `forwarder.execute(request)` and, for a relayer that sends it
    /// alone, the transaction's gas: that plus 21,000 and the call data (EIP-2028: 4 a zero
    /// byte, 16 another).
    function _measureRelayed(string memory what, ERC2771Forwarder.ForwardRequestData memory request) internal {
        bytes memory callData = abi.encodeCall(forwarder.execute, (request));
        uint256 before = gasleft();
        vm.prank(relayer);
        forwarder.execute(request);
        uint256 execution = before - gasleft();
        uint256 calldataGas;
        for (uint256 i = 0; i < callData.length; ++i) {
            calldataGas += callData[i] == 0 ? 4 : 16;
        }
        assertTrue(forwarder.nonces(request.from) == 1, "executed");
        emit log_named_uint(string.concat(what, ": execution gas"), execution);
        emit log_named_uint(
            string.concat(what, ": transaction gas (+ 21,000 and call data)"), execution + 21_000 + calldataGas
        );
        emit log_named_uint(string.concat(what, ": signature bytes"), request.signature.length);
        emit log_named_uint("P-256 precompile at 0x100 (1 = present)", _precompile() ? 1 : 0);
    }

    /// @dev Whether the chain has the P-256 precompile: it answers 1 for a valid signature.
    function _precompile() internal view returns (bool) {
        bytes32 h = sha256("precompile?");
        (bytes32 r, bytes32 s) = vm.signP256(PASSKEY, h);
        (bool ok, bytes memory answer) = address(0x100).staticcall(abi.encode(h, r, s, qx, qy));
        return ok && answer.length == 32 && abi.decode(answer, (uint256)) == 1;
    }
}
