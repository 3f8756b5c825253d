"""Units of the contract-wallet path (issue 10, section 5): the digest a wallet is asked about,
the relayer gas a wallet's request reserves, and how the outbox keys a long signature."""

from eth_account import Account

from backend.chain.typed_data import WALLET_SIGNATURE_GAS, forward_request_typed_data, typed_data_digest
from backend.relay.gas import relay_gas
from backend.relay.outbox import signature_key

KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
TYPED = forward_request_typed_data(
    chain_id=31337,
    forwarder="0x" + "11" * 20,
    sender="0x" + "22" * 20,
    target="0x" + "33" * 20,
    data=b"\x01\x02",
    nonce=3,
    deadline=10**9,
    gas=100_000,
)


def test_the_digest_a_wallet_is_asked_about_is_the_one_a_key_signs():
    digest = typed_data_digest(TYPED)
    assert Account.unsafe_sign_hash(digest, KEY).signature == Account.sign_typed_data(KEY, full_message=TYPED).signature


def test_a_wallets_request_reserves_the_forwarders_bound():
    struct = ("0x" + "22" * 20, "0x" + "33" * 20, 0, 100_000, 10**9, b"\x01\x02", b"\x00" * 65)
    assert relay_gas(struct, b"\x00" * 100, wallet=True) - relay_gas(struct, b"\x00" * 100) == WALLET_SIGNATURE_GAS


def test_the_outbox_keeps_a_keys_signature_and_the_hash_of_a_longer_one():
    short = "0x" + "AB" * 65
    assert signature_key(short) == short.lower()
    long = "0x" + "ab" * 130
    assert len(signature_key(long)) == 66 and signature_key(long) == signature_key(long.upper().replace("0X", "0x"))
    assert signature_key(long) != signature_key("0x" + "ab" * 129 + "ac")
