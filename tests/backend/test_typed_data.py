"""The ForwardRequest digest is hashed field by field (backend/chain/typed_data.py), not by
eth-account's general EIP-712 encoder: it must equal that encoder's digest for every request,
and the signer recovered from it must be the one eth-account recovers."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from backend.chain.abi import ContractAbi
from backend.chain.typed_data import (
    execute_batch_calldata,
    execute_calldata,
    forward_request_struct,
    forward_request_typed_data,
    recover_signer,
    typed_data_digest,
)

ROOT = Path(__file__).resolve().parents[2]
KEYS = ["0x" + f"{i + 1:064x}" for i in range(4)]


def _requests(count: int):
    rng = random.Random(20261124)
    edges = [0, 1, 2**48 - 1, 2**256 - 1]
    for i in range(count):
        yield forward_request_typed_data(
            chain_id=rng.choice([1, 31337, 11155111, 2**64 + rng.randrange(1000)]),
            forwarder="0x" + rng.randbytes(20).hex(),
            sender=Account.from_key(KEYS[i % len(KEYS)]).address,
            target="0x" + rng.randbytes(20).hex(),
            data=rng.randbytes(rng.choice([0, 1, 31, 32, 33, 500])),
            nonce=rng.choice([*edges, rng.randrange(2**64)]),
            deadline=rng.choice([*edges[:3], rng.randrange(2**48)]),
            gas=rng.choice([*edges, rng.randrange(10**7)]),
            value=rng.choice(edges),
        )


@pytest.mark.parametrize("typed", list(_requests(40)))
def test_the_digest_is_eth_accounts_and_recovers_the_same_signer(typed):
    encoded = encode_typed_data(full_message=typed)
    digest = typed_data_digest(typed)
    key = next(k for k in KEYS if Account.from_key(k).address == typed["message"]["from"])
    signature = Account.sign_typed_data(key, full_message=typed).signature
    assert (
        Account.recover_message(encoded, signature=signature)
        == recover_signer(digest, signature)
        == typed["message"]["from"]
    )
    # Another message's signature recovers someone else.
    other = {**typed, "message": {**typed["message"], "nonce": (typed["message"]["nonce"] + 1) % 2**256}}
    assert recover_signer(typed_data_digest(other), signature) != typed["message"]["from"]
    # v as 0/1 (eth-account takes it; signature_flaw refuses it before, as the forwarder would).
    low_v = signature[:64] + bytes([signature[64] - 27])
    assert recover_signer(digest, low_v) == Account.recover_message(encoded, signature=low_v)


def test_the_domain_binds_chain_and_forwarder():
    typed = next(_requests(1))
    for field, value in (("chainId", typed["domain"]["chainId"] + 1), ("verifyingContract", "0x" + "00" * 20)):
        moved = {**typed, "domain": {**typed["domain"], field: value}}
        assert typed_data_digest(moved) != typed_data_digest(typed)
        encoded = encode_typed_data(full_message=moved)
        assert typed_data_digest(moved) == keccak(b"\x19" + encoded.version + encoded.header + encoded.body)


FORWARDER = ContractAbi(json.loads((ROOT / "artifacts" / "CommunityForwarder.json").read_text())["abi"])


def test_execute_and_batch_calldata_are_eth_abis_byte_for_byte():
    """The forwarder's calldata encoded by hand, against eth-abi through the forwarder's own ABI:
    data and signatures of every length around a word, every edge of each number, batches of 0 to 5."""
    rng = random.Random(20261206)
    structs = [
        forward_request_struct(typed, rng.randbytes(rng.choice([0, 1, 64, 65, 66, 200, 2048])))
        for typed in _requests(40)
    ]
    for struct in structs:
        assert execute_calldata(struct) == FORWARDER.function("execute").encode(struct)
    refund = "0x" + rng.randbytes(20).hex()
    for size in range(6):
        batch = rng.sample(structs, size)
        assert execute_batch_calldata(batch, refund) == FORWARDER.function("executeBatch").encode(batch, refund)
    late = (*structs[0][:4], 2**48, *structs[0][5:])
    with pytest.raises(OverflowError):
        execute_calldata(late)
    with pytest.raises(ValueError):
        execute_calldata(("0x1234", *structs[0][1:]))
