"""Names and linked accounts (issue 22, section 2): set by the member, unique in the community
ignoring ASCII case, bounded, cleared by governance, freed when a member leaves."""

import ape
import pytest
from eth_abi import encode
from eth_utils import keccak
from web3.exceptions import ContractLogicError

GITHUB, GITLAB = 1, 2


def test_a_member_names_themselves_once_per_community(membership, alice, bob):
    receipt = membership.setName("Alice Liddell", sender=alice)
    [event] = receipt.decode_logs(membership.NameSet)
    assert (event.member, event.name) == (alice.address, "Alice Liddell")
    assert membership.holderOfName("alice liddell") == alice.address
    with ape.reverts(membership.DirectoryTaken, holder=alice.address):
        membership.setName("ALICE LIDDELL", sender=bob)
    membership.setName("Alice", sender=alice)  # renaming frees the old name
    membership.setName("Alice Liddell", sender=bob)
    assert membership.holderOfName("Alice") == alice.address


def test_names_are_bounded_and_printable(membership, alice, outsider):
    with ape.reverts(membership.MembershipNotMember, account=outsider.address):
        membership.setName("Mallory", sender=outsider)
    for bad in (" Alice", "Alice ", "Al\nice", "A\x7f", "x" * 97):
        with ape.reverts(membership.DirectoryInvalidText):
            membership.setName(bad, sender=alice)
    membership.setName("é" * 48, sender=alice)  # 96 bytes: the most


def test_bytes_that_are_not_utf8_reach_the_chain_as_they_are(membership, alice, bob):
    # The contract takes any bytes but control characters; the index shows them leniently.
    def set_name_raw(member, raw: bytes):
        data = membership.setName.encode_input("x")[:4] + encode(["bytes"], [raw])
        return member.transfer(membership.address, 0, data=data)

    receipt = set_name_raw(alice, b"Zo\xe9 \xff")
    [log] = receipt.logs  # read raw: ape decodes strings as strict UTF-8
    assert b"Zo\xe9 \xff" in bytes(log["data"])
    # The same bytes but for ASCII case: taken (read raw, for the same reason).
    taken = membership.setName.encode_input("x")[:4] + encode(["bytes"], [b"ZO\xe9 \xff"])
    web3 = membership.provider.web3
    with pytest.raises(ContractLogicError) as refused:
        web3.eth.call({"from": bob.address, "to": membership.address, "data": "0x" + taken.hex()})
    assert refused.value.data.startswith("0x" + keccak(text="DirectoryTaken(string,address)")[:4].hex())


def test_linked_accounts_are_unique_per_site(membership, alice, bob):
    receipt = membership.linkAccount(GITHUB, "alice-l", sender=alice)
    [event] = receipt.decode_logs(membership.AccountLinked)
    assert (event.member, event.site, event.handle) == (alice.address, GITHUB, "alice-l")
    with ape.reverts(membership.DirectoryTaken, holder=alice.address):
        membership.linkAccount(GITHUB, "Alice-L", sender=bob)
    membership.linkAccount(GITLAB, "alice-l", sender=bob)  # another site
    with ape.reverts(membership.DirectoryUnknownSite, site=9):
        membership.linkAccount(9, "alice", sender=alice)
    membership.linkAccount(GITHUB, "", sender=alice)  # unlinked: free for others
    membership.linkAccount(GITHUB, "alice-l", sender=bob)
    assert membership.holderOfAccount(GITHUB, "ALICE-L") == bob.address


def test_governance_clears_an_abusive_name_or_account(governance, membership, alice, bob):
    membership.setName("The Moderator", sender=bob)
    membership.linkAccount(GITHUB, "alice-l", sender=bob)
    with ape.reverts(membership.OwnableUnauthorizedAccount, account=alice.address):
        membership.clearName(bob, sender=alice)
    governance.pass_(
        [(membership, "clearName", (bob.address,)), (membership, "clearLinkedAccount", (bob.address, GITHUB))],
        "clear bob's impersonation",
    )
    assert membership.holderOfName("The Moderator") == "0x" + "00" * 20
    membership.linkAccount(GITHUB, "alice-l", sender=alice)


def test_a_removed_member_leaves_their_name_free(governance, membership, alice, carol):
    membership.setName("Carol", sender=carol)
    membership.linkAccount(GITLAB, "carol", sender=carol)
    governance.pass_([(membership, "remove", (carol.address,))], "remove carol")
    membership.setName("Carol", sender=alice)
    assert membership.holderOfAccount(GITLAB, "carol") == "0x" + "00" * 20
