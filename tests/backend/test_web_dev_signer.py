"""The development signer signs only on a local chain, only as Alice, Bob, Carol or Dana, and only
this service's forward requests (backend/web/dev_signer.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from backend.chain.typed_data import forward_request_typed_data
from backend.errors import Forbidden
from backend.web import dev_signer
from backend.web.present import dev_accounts

FORWARDER = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
BOB = dev_accounts()[1]


def _ctx(chain_id: int):
    community = SimpleNamespace(contracts={"forwarder": FORWARDER})
    return SimpleNamespace(
        gateway=SimpleNamespace(chain_id=chain_id), deployments=SimpleNamespace(communities={"example": community})
    )


def _body(chain_id: int, signer: str = BOB[1], forwarder: str = FORWARDER):
    typed = forward_request_typed_data(
        chain_id=chain_id,
        forwarder=forwarder,
        sender=signer,
        target=FORWARDER,
        data=b"\x01",
        nonce=0,
        deadline=2**40,
        gas=100_000,
    )
    return dev_signer.DevSignIn.model_validate({"address": signer, "typed_data": typed})


def test_signs_as_a_development_account_on_a_local_chain():
    signed = dev_signer.sign(_ctx(31337), _body(31337))
    typed = _body(31337).typed_data.as_dict()
    assert Account.recover_message(encode_typed_data(full_message=typed), signature=signed.signature) == BOB[1]


@pytest.mark.parametrize("chain_id", [1, 10, 11155111])
def test_refused_on_any_chain_that_is_not_local(chain_id):
    with pytest.raises(Forbidden, match="only on a local development chain"):
        dev_signer.sign(_ctx(chain_id), _body(chain_id))


def test_refused_for_other_keys_chains_and_contracts():
    stranger = Account.create().address
    with pytest.raises(Forbidden, match="not one of the development signers"):
        dev_signer.sign(_ctx(31337), _body(31337, signer=stranger))
    with pytest.raises(Forbidden, match="signs only this service's forward requests"):
        dev_signer.sign(_ctx(31337), _body(1337))
    with pytest.raises(Forbidden, match="signs only this service's forward requests"):
        dev_signer.sign(_ctx(31337), _body(31337, forwarder=stranger))
