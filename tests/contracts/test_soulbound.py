"""Rules 5 and 6: ERC-5192 locking, no transfer or approval, on-chain JSON tokenURI."""

import base64
import json

import ape
import pytest

from devstack.protocol import EVIDENCE_HASH, EVIDENCE_URI

ERC5192 = bytes.fromhex("b45a3c0e")
ERC721 = bytes.fromhex("80ac58cd")
ERC721_METADATA = bytes.fromhex("5b5e139f")


@pytest.fixture
def minted(badge, mentoring, alice, bob, carol):
    badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    badge.attest(1, sender=bob)
    receipt = badge.attest(1, sender=carol)
    return 1, receipt


def test_locked_and_interfaces(badge, minted):
    token_id, receipt = minted
    assert badge.locked(token_id) is True
    assert [log.tokenId for log in receipt.decode_logs(badge.Locked)] == [token_id]
    for interface_id in (ERC5192, ERC721, ERC721_METADATA):
        assert badge.supportsInterface(interface_id)
    assert not badge.supportsInterface(bytes.fromhex("ffffffff"))


def test_locked__reverts_for_missing_token(badge):
    with ape.reverts(badge.ERC721NonexistentToken, tokenId=5):
        badge.locked(5)


def test_every_transfer_and_approval_reverts(badge, minted, alice, bob):
    token_id, _ = minted
    with ape.reverts(badge.SoulboundTokenLocked, tokenId=token_id):
        badge.transferFrom(alice, bob, token_id, sender=alice)
    with ape.reverts(badge.SoulboundTokenLocked, tokenId=token_id):
        badge.safeTransferFrom(alice, bob, token_id, sender=alice)
    with ape.reverts(badge.SoulboundTokenLocked, tokenId=token_id):
        badge.safeTransferFrom(alice, bob, token_id, b"", sender=alice)
    with ape.reverts(badge.SoulboundTokenLocked, tokenId=token_id):
        badge.approve(bob, token_id, sender=alice)
    with ape.reverts(badge.SoulboundApprovalDisabled):
        badge.setApprovalForAll(bob, True, sender=alice)
    assert badge.ownerOf(token_id) == alice.address
    assert badge.getApproved(token_id) == "0x" + "0" * 40
    assert not badge.isApprovedForAll(alice, bob)


def test_token_uri_is_on_chain_json(badge, minted, alice):
    token_id, _ = minted
    uri = badge.tokenURI(token_id)
    prefix = "data:application/json;base64,"
    assert uri.startswith(prefix)
    metadata = json.loads(base64.b64decode(uri[len(prefix) :]))
    _, record, _ = badge.getBadge(token_id)
    assert metadata["name"] == "Mentoring a newcomer #1"
    assert metadata["indicator"] == {"id": 1, "version": 1, "name": "Mentoring a newcomer", "orientation": "community"}
    assert metadata["contributor"].lower() == alice.address.lower()
    assert metadata["weight"] == 5
    assert metadata["evidence_hash"] == "0x" + EVIDENCE_HASH.hex()
    assert metadata["minted_at"] == record.mintedAt
    assert metadata["active"] is True
    assert (metadata["revoked_at"], metadata["disowned_at"]) == (0, 0)


def test_token_uri_says_when_its_holder_disowned_it(badge, minted, alice, chain):
    token_id, _ = minted
    receipt = badge.disown(token_id, sender=alice)
    metadata = json.loads(base64.b64decode(badge.tokenURI(token_id).split(",", 1)[1]))
    assert metadata["disowned_at"] == chain.blocks[receipt.block_number].timestamp > 0
    assert (metadata["active"], metadata["revoked_at"]) == (False, 0)


def test_token_uri_escapes_indicator_names(badge, add_indicator, alice, bob):
    quoted = add_indicator(name='Said "thanks" \\ often', endorsements=1)
    badge.claim(quoted, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    badge.attest(1, sender=bob)
    uri = badge.tokenURI(1)
    metadata = json.loads(base64.b64decode(uri.split(",", 1)[1]))
    assert metadata["indicator"]["name"] == 'Said "thanks" \\ often'
