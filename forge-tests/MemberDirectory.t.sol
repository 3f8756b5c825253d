// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IMemberDirectory} from "../contracts/interfaces/IMemberDirectory.sol";
import {IMembership} from "../contracts/interfaces/IMembership.sol";
import {Community} from "./utils/Community.sol";
import {TestBase} from "./utils/Vm.sol";

/// @notice Members' display names and linked accounts (MemberDirectory, mixed into Membership):
/// what a name may hold (at most 96 bytes, no control characters, no leading or trailing space;
/// any other bytes, UTF-8 or not), one holder per name and per account on a site ignoring ASCII
/// case, members only, governance clears, and a removal or recovery frees them.
contract MemberDirectoryTest is TestBase, Community {
    address internal alice = address(0xA11CE);
    address internal bob = address(0xB0B);
    address internal carol = address(0xCA201);
    address internal outsider = address(0x0B5);
    address internal gov;

    // 96 bytes: the longest name; one more is refused.
    string internal constant NAME_96 =
        "Alice Anne Marie Josephine Wilhelmina Charlotte of the Commons, contributor since 2026, verified";
    string internal constant NAME_97 =
        "Alice Anne Marie Josephine Wilhelmina Charlotte of the Commons, contributor since 2026, verified!";
    // 64 bytes: the longest handle.
    string internal constant HANDLE_64 = "a-handle-of-exactly-sixty-four-bytes-on-a-site-such-as-gitlab-xx";
    string internal constant HANDLE_65 = "a-handle-of-exactly-sixty-four-bytes-on-a-site-such-as-gitlab-xxx";

    function setUp() public {
        address[] memory founders = new address[](3);
        (founders[0], founders[1], founders[2]) = (alice, bob, carol);
        deployCommunity(founders);
        gov = address(timelock); // governance: the timelock carries out passed proposals
        require(bytes(NAME_96).length == 96 && bytes(NAME_97).length == 97, "name lengths");
        require(bytes(HANDLE_64).length == 64 && bytes(HANDLE_65).length == 65, "handle lengths");
    }

    // ---------------------------------------------------------------- names

    function test_aNameIsUniqueIgnoringAsciiCase() public {
        vm.expectEmit(address(membership));
        emit IMemberDirectory.NameSet(alice, "Alice");
        _setName(alice, "Alice");
        assertEq(membership.holderOfName("Alice"), alice, "holder");
        assertEq(membership.holderOfName("aLICE"), alice, "looked up in any ASCII case");
        _taken(bob, "alice", alice);
        _taken(bob, "ALICE", alice);
        _taken(bob, "AlIcE", alice);
        // Its holder may change its case: the same key, still hers.
        _setName(alice, "ALICE");
        assertEq(membership.holderOfName("alice"), alice, "re-cased, still held");
        // A new name frees the old one for others.
        _setName(alice, "Ally");
        assertEq(membership.holderOfName("alice"), address(0), "old name freed");
        _setName(bob, "alice");
        assertEq(membership.holderOfName("ALICE"), bob, "taken by bob");
        assertEq(membership.holderOfName("ally"), alice, "alice holds Ally");
    }

    function test_anEmptyNameClearsIt() public {
        _setName(alice, "Alice");
        vm.expectEmit(address(membership));
        emit IMemberDirectory.NameSet(alice, "");
        _setName(alice, "");
        assertEq(membership.holderOfName("Alice"), address(0), "freed");
        _setName(alice, ""); // clearing none: nothing to free, no refusal
        _setName(bob, "Alice");
        assertEq(membership.holderOfName("alice"), bob, "another member takes it");
    }

    function test_nameBounds() public {
        _setName(alice, NAME_96);
        assertEq(membership.holderOfName(NAME_96), alice, "96 bytes");
        _invalidName(bob, NAME_97);
        _invalidName(bob, " Bob"); // leading space
        _invalidName(bob, "Bob "); // trailing space
        _invalidName(bob, " "); // only a space
        _invalidName(bob, "Bob\x00"); // NUL
        _invalidName(bob, "B\tob"); // tab
        _invalidName(bob, "Bob\nSmith"); // newline
        _invalidName(bob, "Bob\x1f"); // unit separator, the last control character below space
        _invalidName(bob, "Bob\x7f"); // DEL
        _invalidName(bob, "\x01"); // a one-byte control character
        _setName(bob, "Bob Smith"); // a space inside is fine
        _setName(carol, "~!Carol@#"); // printable ASCII punctuation
        assertEq(membership.holderOfName("bob smith"), bob, "with a space");
        assertEq(membership.holderOfName("~!carol@#"), carol, "punctuation kept, letters folded");
    }

    /// Other scripts are compared byte for byte (the service normalises and refuses look-alikes);
    /// bytes that are not UTF-8 at all are the service's to refuse, not the chain's.
    function test_nonAsciiNamesAndNonUtf8Bytes() public {
        _setName(alice, unicode"Zoë");
        _setName(bob, unicode"ZOË"); // Ë is not folded: another name
        assertEq(membership.holderOfName(unicode"zoë"), alice, "ASCII letters folded around the e-diaeresis");
        assertEq(membership.holderOfName(unicode"zoË"), bob, "the capital E-diaeresis is not folded");
        _setName(carol, _text(hex"fffe80c0")); // not UTF-8
        assertEq(membership.holderOfName(_text(hex"fffe80c0")), carol, "non-UTF-8 bytes accepted on chain");
        // 0x80-0xff are not control characters to the contract (a C1 control in UTF-8 is C2 80-9F).
        _setName(alice, string(hex"c28541"));
        assertEq(membership.holderOfName(string(hex"c28561")), alice, "high bytes kept, the A folded");
    }

    function test_membersOnly() public {
        vm.expectRevert(abi.encodeWithSelector(IMembership.MembershipNotMember.selector, outsider));
        vm.prank(outsider);
        membership.setName("Outsider");
        vm.expectRevert(abi.encodeWithSelector(IMembership.MembershipNotMember.selector, outsider));
        vm.prank(outsider);
        membership.linkAccount(1, "outsider");
        vm.expectRevert(abi.encodeWithSelector(IMembership.MembershipNotMember.selector, gov));
        vm.prank(gov);
        membership.setName("Governance");
    }

    // ---------------------------------------------------------------- linked accounts

    function test_linkedAccounts() public {
        for (uint8 site = 1; site <= 4; ++site) {
            vm.expectEmit(address(membership));
            emit IMemberDirectory.AccountLinked(alice, site, "alice-dev");
            _link(alice, site, "alice-dev");
            assertEq(membership.holderOfAccount(site, "ALICE-DEV"), alice, "linked on each site");
        }
        _unknownSite(bob, 0);
        _unknownSite(bob, 5);
        _unknownSite(bob, 255);
        // One holder per site, ignoring ASCII case.
        vm.expectRevert(abi.encodeWithSelector(IMemberDirectory.DirectoryTaken.selector, "Alice-Dev", alice));
        vm.prank(bob);
        membership.linkAccount(2, "Alice-Dev");
        // A name and a handle never collide, nor handles on different sites.
        _setName(bob, "alice-dev");
        _link(carol, 1, "bob");
        _link(bob, 2, "bob");
        assertEq(membership.holderOfAccount(1, "bob"), carol, "site 1");
        assertEq(membership.holderOfAccount(2, "bob"), bob, "site 2");
        assertEq(membership.holderOfAccount(3, "bob"), address(0), "site 3");
        assertEq(membership.holderOfAccount(0, "alice-dev"), address(0), "no site 0");
        // A new handle frees the old; an empty one unlinks.
        _link(alice, 1, "alice-new");
        assertEq(membership.holderOfAccount(1, "alice-dev"), address(0), "old handle freed");
        _link(alice, 1, "ALICE-new"); // re-cased: the same key, still hers
        assertEq(membership.holderOfAccount(1, "alice-NEW"), alice, "re-cased");
        vm.expectEmit(address(membership));
        emit IMemberDirectory.AccountLinked(alice, 2, "");
        _link(alice, 2, "");
        assertEq(membership.holderOfAccount(2, "alice-dev"), address(0), "unlinked");
        _link(bob, 2, "alice-dev");
    }

    function test_handleBounds() public {
        _link(alice, 1, HANDLE_64);
        _invalidHandle(bob, 1, HANDLE_65);
        _invalidHandle(bob, 1, " bob");
        _invalidHandle(bob, 1, "bob ");
        _invalidHandle(bob, 1, "bob\r");
        _invalidHandle(bob, 1, "\x7f");
        _link(bob, 1, _text(hex"ff"));
        assertEq(membership.holderOfAccount(1, _text(hex"ff")), bob, "non-UTF-8 handle");
    }

    // ---------------------------------------------------------------- governance

    function test_governanceClearsNamesAndAccounts() public {
        _setName(alice, "Alice");
        _link(alice, 1, "alice");
        _link(alice, 4, "alice");
        bytes4 unauthorized = Ownable.OwnableUnauthorizedAccount.selector;
        vm.expectRevert(abi.encodeWithSelector(unauthorized, bob));
        vm.prank(bob);
        membership.clearName(alice);
        vm.expectRevert(abi.encodeWithSelector(unauthorized, alice));
        vm.prank(alice);
        membership.clearLinkedAccount(alice, 1);

        vm.expectEmit(address(membership));
        emit IMemberDirectory.NameSet(alice, "");
        vm.prank(gov);
        membership.clearName(alice);
        assertEq(membership.holderOfName("alice"), address(0), "name cleared");
        vm.expectEmit(address(membership));
        emit IMemberDirectory.AccountLinked(alice, 1, "");
        vm.prank(gov);
        membership.clearLinkedAccount(alice, 1);
        assertEq(membership.holderOfAccount(1, "alice"), address(0), "account cleared");
        assertEq(membership.holderOfAccount(4, "alice"), alice, "the other site's account kept");
        vm.expectRevert(abi.encodeWithSelector(IMemberDirectory.DirectoryUnknownSite.selector, uint8(7)));
        vm.prank(gov);
        membership.clearLinkedAccount(alice, 7);
        // Clearing what is not set, or a non-member's, refuses nothing.
        vm.prank(gov);
        membership.clearName(outsider);
        vm.prank(gov);
        membership.clearLinkedAccount(bob, 2);
        _setName(bob, "ALICE");
        assertEq(membership.holderOfName("Alice"), bob, "the cleared name is free");
    }

    function test_removalAndRecoveryFreeNamesAndAccounts() public {
        _setName(alice, "Alice");
        _link(alice, 1, "alice");
        _link(alice, 3, "alice-d");
        _setName(carol, "Carol");
        _link(carol, 2, "carol");
        vm.expectEmit(address(membership));
        emit IMemberDirectory.NameSet(alice, "");
        vm.expectEmit(address(membership));
        emit IMemberDirectory.AccountLinked(alice, 1, "");
        vm.expectEmit(address(membership));
        emit IMemberDirectory.AccountLinked(alice, 3, "");
        vm.expectEmit(address(membership));
        emit IMembership.MemberRemoved(alice);
        vm.prank(gov);
        membership.remove(alice);
        assertTrue(
            membership.holderOfName("alice") == address(0) && membership.holderOfAccount(1, "alice") == address(0)
                && membership.holderOfAccount(3, "alice-d") == address(0),
            "freed on removal"
        );
        _setName(bob, "alice");
        _link(bob, 1, "alice");

        address replacement = address(0xCA202);
        vm.prank(gov);
        membership.recover(carol, replacement);
        assertTrue(
            membership.holderOfName("carol") == address(0) && membership.holderOfAccount(2, "carol") == address(0),
            "freed on recovery (not moved to the replacement)"
        );
        _setName(replacement, "Carol");
        _link(replacement, 2, "carol");
        // Re-admitted, the removed member starts without a name.
        vm.prank(gov);
        membership.admit(alice);
        _taken(alice, "Alice", bob);
    }

    // ---------------------------------------------------------------- helpers

    /// @dev Bytes as a string (a literal that is not UTF-8 cannot be one).
    function _text(bytes memory raw) internal pure returns (string memory) {
        return string(raw);
    }

    function _setName(address member, string memory name) internal {
        vm.prank(member);
        membership.setName(name);
    }

    function _link(address member, uint8 site, string memory handle) internal {
        vm.prank(member);
        membership.linkAccount(site, handle);
    }

    function _taken(address member, string memory name, address holder) internal {
        vm.expectRevert(abi.encodeWithSelector(IMemberDirectory.DirectoryTaken.selector, name, holder));
        _setName(member, name);
    }

    function _invalidName(address member, string memory name) internal {
        vm.expectRevert(abi.encodeWithSelector(IMemberDirectory.DirectoryInvalidText.selector, name, uint256(96)));
        _setName(member, name);
    }

    function _invalidHandle(address member, uint8 site, string memory handle) internal {
        vm.expectRevert(abi.encodeWithSelector(IMemberDirectory.DirectoryInvalidText.selector, handle, uint256(64)));
        _link(member, site, handle);
    }

    function _unknownSite(address member, uint8 site) internal {
        vm.expectRevert(abi.encodeWithSelector(IMemberDirectory.DirectoryUnknownSite.selector, site));
        _link(member, site, "x");
    }
}
