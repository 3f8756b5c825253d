"""Fast checks that need no chain: settings, typed data, ABI and revert decoding, scoring."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from pydantic import SecretStr

from backend.chain.abi import ContractAbi, ErrorDecoder
from backend.chain.typed_data import forward_request_struct, forward_request_typed_data
from backend.errors import ChainRefused
from backend.members.scores import ScoredBadge, counts, score
from backend.proposals.plan import proposal_id
from backend.settings import ANVIL_DEV_KEYS, RelayerKeyRefused, Settings

BADGE_ABI = [
    {
        "type": "error",
        "name": "BadgeSelfAttestation",
        "inputs": [{"name": "claimId", "type": "uint256"}, {"name": "contributor", "type": "address"}],
    },
    {"type": "function", "name": "attest", "inputs": [{"name": "claimId", "type": "uint256"}], "outputs": []},
    {
        "type": "event",
        "name": "Attested",
        "anonymous": False,
        "inputs": [
            {"name": "claimId", "type": "uint256", "indexed": True},
            {"name": "attester", "type": "address", "indexed": True},
            {"name": "attestations", "type": "uint16", "indexed": False},
        ],
    },
    {
        "type": "function",
        "name": "addIndicator",
        "outputs": [],
        "inputs": [
            {
                "name": "input",
                "type": "tuple",
                "components": [{"name": "name", "type": "string"}, {"name": "weight", "type": "uint32"}],
            }
        ],
    },
]
ALICE = Account.from_key(ANVIL_DEV_KEYS[1]).address


# ---------------------------------------------------------------------- settings


@pytest.mark.parametrize("key", [ANVIL_DEV_KEYS[0], ANVIL_DEV_KEYS[9]])
def test_anvil_keys_are_refused_on_non_local_chains(key):
    settings = Settings(relayer_key=SecretStr(key))
    settings.check_relayer_key(31337)
    settings.check_relayer_key(1337)
    with pytest.raises(RelayerKeyRefused, match="public Anvil development key"):
        settings.check_relayer_key(11155111)


def test_a_private_key_is_accepted_anywhere():
    settings = Settings(relayer_key=SecretStr("0x" + keccak(text="not a dev key").hex()))
    settings.check_relayer_key(1)


def test_database_url_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    assert Settings().database_url == "postgresql://u@h/db"


# ---------------------------------------------------------------------- typed data


def test_typed_data_signature_recovers_the_member():
    typed = forward_request_typed_data(
        chain_id=31337,
        forwarder="0x" + "11" * 20,
        sender=ALICE,
        target="0x" + "22" * 20,
        data=b"\x01\x02",
        nonce=0,
        deadline=2**40,
        gas=100_000,
    )
    signed = Account.sign_typed_data(ANVIL_DEV_KEYS[1], full_message=typed)
    assert Account.recover_message(encode_typed_data(full_message=typed), signature=signed.signature) == ALICE
    struct = forward_request_struct(typed, signed.signature)
    assert struct[0] == ALICE and struct[5] == b"\x01\x02" and struct[4] == 2**40
    # Another chain id is another message: the signature no longer recovers the member.
    typed["domain"]["chainId"] = 1
    assert Account.recover_message(encode_typed_data(full_message=typed), signature=signed.signature) != ALICE


# ---------------------------------------------------------------------- ABI


def test_custom_errors_are_named_with_their_arguments():
    decoder = ErrorDecoder([ContractAbi(BADGE_ABI)])
    data = keccak(text="BadgeSelfAttestation(uint256,address)")[:4] + encode(["uint256", "address"], [7, ALICE])
    assert decoder.decode(data) == ("BadgeSelfAttestation", {"claimId": 7, "contributor": ALICE})
    assert decoder.decode(b"\xde\xad\xbe\xef")[0] == "UnknownError(0xdeadbeef)"
    revert_string = bytes.fromhex("08c379a0") + encode(["string"], ["nope"])
    assert decoder.decode(revert_string) == ("Error", {"message": "nope"})


def test_refusals_map_to_fitting_statuses():
    assert ChainRefused("BadgeSelfAttestation", {}).status == 409
    assert ChainRefused("BadgeNotMember", {}).status == 403
    assert ChainRefused("RegistryUnknownIndicator", {}).status == 404
    assert ChainRefused("RegistryInvalidIndicator", {"field": "name"}).status == 422


def test_calls_and_events_round_trip_through_eth_abi():
    abi = ContractAbi(BADGE_ABI)
    call = abi.function("attest").encode(5)
    assert call[:4] == keccak(text="attest(uint256)")[:4]
    assert abi.functions_by_selector[call[:4]].decode_input(call) == {"claimId": 5}
    tuple_call = abi.function("addIndicator").encode(("Mentoring", 5))
    assert tuple_call[:4] == keccak(text="addIndicator((string,uint32))")[:4]
    event = abi.events[keccak(text="Attested(uint256,address,uint16)")]
    topics = [event.topic, encode(["uint256"], [5]), encode(["address"], [ALICE])]
    assert event.decode(topics, encode(["uint16"], [2])) == {"claimId": 5, "attester": ALICE, "attestations": 2}


def test_proposal_id_is_the_governors_hash():
    targets, values, calldatas = ["0x" + "33" * 20], [0], [b"\x12"]
    expected = keccak(
        encode(["address[]", "uint256[]", "bytes[]", "bytes32"], [targets, values, calldatas, keccak(text="d")])
    )
    assert proposal_id(targets, values, calldatas, "d") == int.from_bytes(expected, "big")


# ---------------------------------------------------------------------- profiles


def _badge(token, indicator, category, orientation, weight, minted=1_000, validity=0, revoked=None, disowned=None):
    return ScoredBadge(
        token, indicator, f"i{indicator}", category, orientation, weight, minted, validity, revoked, disowned
    )


def test_profile_counts_only_badges_that_count_now():
    badges = [
        _badge(1, 1, "mentoring", "community", 5),
        _badge(2, 1, "mentoring", "community", 5, revoked=1_500),  # revoked
        _badge(3, 2, "code", "object", 3, minted=1_000, validity=100),  # expired at 1,100
        _badge(4, 2, "code", "object", 3, minted=1_950, validity=100),  # still valid at 2,000
        _badge(5, 3, "events", "community", 2),
        _badge(6, 3, "events", "community", 2, disowned=1_200),  # disowned by its holder
    ]
    result = score(badges, now=2_000)
    assert result.total_score == 10
    assert (result.badges_counting, result.badges_not_counting) == (3, 3)
    assert {o: (e.badges, e.score) for o, e in result.by_orientation.items()} == {"object": (1, 3), "community": (2, 7)}
    assert [(c.category, c.score) for c in result.by_category] == [
        ("code", 3),
        ("events", 2),
        ("mentoring", 5),
    ]
    assert [(i.indicator_id, i.badges, i.score) for i in result.by_indicator] == [
        (1, 1, 5),
        (2, 1, 3),
        (3, 1, 2),
    ]


def test_validity_ends_exactly_at_its_last_second():
    badge = _badge(1, 1, "code", "object", 1, minted=100, validity=10)
    assert counts(badge, 109) and not counts(badge, 110)
