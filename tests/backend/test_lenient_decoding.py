"""Every string the chain hands back is decoded leniently in one place (backend.chain.abi): any
bytes become readable text that PostgreSQL and JSON can hold, and the exact bytes stay beside
any text that had to be altered. Calls a member signs are still decoded strictly. The JSON a
contract writes around such strings (a badge's tokenURI) is read as leniently (backend.badges.service)."""

from __future__ import annotations

import base64
import json

import pytest
from eth_abi import decode, encode
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.badges.service import token_uri_json
from backend.chain.abi import (
    ContractAbi,
    ErrorDecoder,
    _shown,
    _with_raw,
    decode_lenient,
    parse,
    readable_text,
    word_decoder,
)
from backend.errors import DomainError

R = "\ufffd"
ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"

ABI = ContractAbi(
    [
        {
            "type": "event",
            "name": "Said",
            "anonymous": False,
            "inputs": [
                {"name": "topic", "type": "string", "indexed": True},
                {"name": "who", "type": "address", "indexed": True},
                {"name": "text", "type": "string", "indexed": False},
                {"name": "lines", "type": "string[]", "indexed": False},
                {
                    "name": "pair",
                    "type": "tuple",
                    "indexed": False,
                    "components": [{"name": "label", "type": "string"}, {"name": "blob", "type": "bytes"}],
                },
                {"name": "note", "type": "string", "indexed": False},
            ],
        },
        {
            "type": "function",
            "name": "say",
            "inputs": [{"name": "text", "type": "string"}],
            "outputs": [
                {
                    "name": "",
                    "type": "tuple",
                    "components": [{"name": "label", "type": "string"}, {"name": "owner", "type": "address"}],
                },
                {"name": "", "type": "string[]"},
            ],
        },
    ]
)
SAID = ABI.events[keccak(text="Said(string,address,string,string[],(string,bytes),string)")]


def _said(text: bytes, lines: list[bytes], label: bytes, note: bytes) -> dict:
    topics = [SAID.topic, keccak(b"topic"), encode(["address"], [ALICE])]
    data = encode(["bytes", "bytes[]", "(bytes,bytes)", "bytes"], [text, lines, (label, b"\x00\xff"), note])
    return SAID.decode(topics, data)


@pytest.mark.parametrize(
    "raw, shown",
    [
        (b"plain text", "plain text"),
        (b"tab\tnew\nline\rkept", "tab\tnew\nline\rkept"),
        (b"nul\x00", f"nul{R}"),
        (b"\x01\x1b[31m\x7f", f"{R}{R}[31m{R}"),
        ("c1 \x85 \x9f".encode(), f"c1 {R} {R}"),
        (b"\xff\xfe", f"{R}{R}"),
        (b"\xc3(", f"{R}("),
        (b"\xed\xa0\x80", f"{R}{R}{R}"),  # a UTF-16 surrogate, encoded: not UTF-8
        ("caf\u00e9 \u2603 \U0001f600".encode(), "caf\u00e9 \u2603 \U0001f600"),
    ],
)
def test_any_bytes_become_readable_text(raw, shown):
    assert readable_text(raw) == shown


def test_clean_strings_are_decoded_as_they_are_with_no_raw():
    args = _said(b"hello", [b"a", b"b"], b"label", ("0x" + "ab" * 20).encode())
    assert args == {
        "topic": "0x" + keccak(b"topic").hex(),
        "who": ALICE,
        "text": "hello",
        "lines": ["a", "b"],
        "pair": ["label", "0x00ff"],
        "note": "0x" + "ab" * 20,
    }  # a string, not an address


def test_altered_strings_keep_their_exact_bytes_beside_them():
    args = _said(b"nul\x00 and \xff", [b"fine", b"\xc3("], b"lab\x01", b"0x" + b"g" * 40)
    assert args["text"] == f"nul{R} and {R}" and args["text_raw"] == "0x" + b"nul\x00 and \xff".hex()
    assert args["lines"] == ["fine", f"{R}("] and args["lines_raw"] == ["0x" + b"fine".hex(), "0xc328"]
    assert args["pair"] == [f"lab{R}", "0x00ff"] and args["pair_raw"] == ["0x" + b"lab\x01".hex(), "0x00ff"]
    assert args["note"] == "0x" + "g" * 40 and "note_raw" not in args
    # What the index stores: JSON without NUL escapes (PostgreSQL's JSONB refuses \u0000).
    assert "\\u0000" not in json.dumps(args) and "\x00" not in json.dumps(args, ensure_ascii=False)


def test_strings_read_from_the_chain_are_readable_text():
    fn = ABI.function("say")
    output = encode(["(bytes,address)", "bytes[]"], [(b"x\xff", ALICE), [b"ok", b"\x00"]])
    assert fn.decode_output(output) == ((f"x{R}", ALICE.lower()), ("ok", R))


def test_revert_reasons_from_the_chain_are_readable_text():
    data = bytes.fromhex("08c379a0") + encode(["bytes"], [b"no\x00pe\xff"])
    assert ErrorDecoder([ABI]).decode(data) == (
        "Error",
        {"message": f"no{R}pe{R}", "message_raw": "0x" + b"no\x00pe\xff".hex()},
    )


def test_calls_a_member_signs_are_decoded_strictly():
    fn = ABI.function("say")
    assert fn.decode_input(fn.selector + encode(["string"], ["hi"])) == {"text": "hi"}
    with pytest.raises(UnicodeDecodeError):
        fn.decode_input(fn.selector + encode(["bytes"], [b"\xff"]))


# ---------------------------------------------------------------------- the index's own decoder, beside eth-abi

# Events of value types, strings and bytes (all this project's contracts emit) are decoded word
# by word by backend.chain.abi itself; eth-abi decodes anything else, and any data not laid out as
# Solidity lays it out. Both must agree on every input: the same arguments, or both refuse.
MIXED = ContractAbi(
    [
        {
            "type": "event",
            "name": "Mixed",
            "anonymous": False,
            "inputs": [
                {"name": "id", "type": "uint256", "indexed": True},
                {"name": "who", "type": "address", "indexed": True},
                {"name": "tag", "type": "bytes32", "indexed": True},
                {"name": "uri", "type": "string", "indexed": False},
                {"name": "small", "type": "uint32", "indexed": False},
                {"name": "blob", "type": "bytes", "indexed": False},
                {"name": "flag", "type": "bool", "indexed": False},
                {"name": "to", "type": "address", "indexed": False},
                {"name": "code", "type": "bytes4", "indexed": False},
                {"name": "note", "type": "string", "indexed": False},
            ],
        }
    ]
)
MIXED_EVENT = next(iter(MIXED.events.values()))
DATA_TYPES = [kind for _, kind in MIXED_EVENT.data]


def _as_eth_abi_decodes(topics: list[bytes], data: bytes) -> dict:
    args = {
        name: "0x" + topic.hex() if kind == "bytes32" else _shown(parse(kind), decode([kind], topic)[0])
        for (name, kind), topic in zip(MIXED_EVENT.indexed, topics[1:])
    }
    return {**args, **_with_raw([name for name, _ in MIXED_EVENT.data], decode_lenient(DATA_TYPES, data))}


def _outcome(run, *args):
    try:
        return "decoded", run(*args)
    except Exception:  # eth-abi's errors and ours differ in class and words: only that both refuse
        return "refused"


WORDS = st.one_of(
    st.binary(min_size=32, max_size=32),
    st.integers(0, 2**256 - 1).map(lambda n: n.to_bytes(32, "big")),
    st.integers(0, 2**160 - 1).map(lambda n: n.to_bytes(32, "big")),
    st.integers(0, 2).map(lambda n: n.to_bytes(32, "big")),
    st.binary(min_size=4, max_size=4).map(lambda b: b + bytes(28)),
)


@settings(max_examples=400, deadline=None)
@given(
    kind=st.sampled_from(["uint8", "uint32", "uint64", "uint256", "address", "bool", "bytes4", "bytes32"]), word=WORDS
)
def test_a_word_decodes_as_eth_abi_decodes_it(kind, word):
    assert _outcome(word_decoder(kind), word) == _outcome(lambda w: _shown(parse(kind), decode([kind], w)[0]), word)


DAMAGE = st.one_of(
    st.none(),
    st.tuples(st.just("byte"), st.integers(0, 600), st.integers(0, 255)),  # an offset, a length, padding, text
    st.tuples(st.just("cut"), st.integers(0, 600)),  # cut short
    # a string's offset pointing anywhere: into the head, at another string's, past the end
    st.tuples(st.just("offset"), st.sampled_from([0, 2, 6]), st.integers(0, 16).map(lambda n: 32 * n)),
)


@settings(max_examples=400, deadline=None)
@given(
    uri=st.binary(max_size=80),
    small=st.integers(0, 2**32 - 1),
    blob=st.binary(max_size=40),
    flag=st.booleans(),
    note=st.binary(max_size=40),
    topics=st.lists(WORDS, min_size=3, max_size=3),
    damage=DAMAGE,
)
def test_an_event_decodes_as_eth_abi_decodes_it_whatever_its_bytes(uri, small, blob, flag, note, topics, damage):
    data = encode(
        ["bytes", "uint32", "bytes", "bool", "address", "bytes4", "bytes"],
        [uri, small, blob, flag, ALICE, b"\x01\x02\x03\x04", note],
    )
    if damage and damage[0] == "byte":
        at = damage[1] % len(data)
        data = data[:at] + bytes([damage[2]]) + data[at + 1 :]
    elif damage and damage[0] == "cut":
        data = data[: damage[1]]
    elif damage:
        data = data[: 32 * damage[1]] + damage[2].to_bytes(32, "big") + data[32 * damage[1] + 32 :]
    topics = [MIXED_EVENT.topic, *topics]
    assert _outcome(MIXED_EVENT.decode, topics, data) == _outcome(_as_eth_abi_decodes, topics, data)


# ---------------------------------------------------------------------- a tokenURI's JSON, read leniently


def _data_uri(document: bytes) -> str:
    return "data:application/json;base64," + base64.b64encode(document).decode()


def _token_uri(name: bytes, *, escaped: bool = True) -> str:
    """A data URI as ContributionBadge.tokenURI writes it, around an indicator name of any bytes
    (escaped for JSON as Strings.escapeJSON escapes, unless not)."""
    if escaped:
        name = b"".join(
            b'\\"' if c == 0x22 else b"\\\\" if c == 0x5C else b"\\u%04x" % c if c < 0x20 else bytes([c]) for c in name
        )
    return _data_uri(
        b'{"name":"'
        + name
        + b' #7","indicator":{"id":3,"version":1,"name":"'
        + name
        + b'","orientation":"community"},"contributor":"'
        + ALICE.lower().encode()
        + b'","weight":2,'
        b'"evidence_hash":"0x' + b"00" * 32 + b'","minted_at":1,"valid_for_seconds":0,"revoked_at":0,'
        b'"disowned_at":0,"active":true}'
    )


@pytest.mark.parametrize(
    "name, shown",
    [
        (b"Mentoring", "Mentoring"),
        (b'say "hi" \\ now', 'say "hi" \\ now'),
        (b"\xff\xfe name \xc3(", f"{R}{R} name {R}("),
        (b"nul\x00 esc\x1b tab\t nl\n", f"nul{R} esc{R} tab\t nl\n"),
        (b"\xed\xa0\x80 \x7f \xc2\x85", f"{R}{R}{R} {R} {R}"),
        (b"\\ud800 typed", "\\ud800 typed"),  # a backslash the contract escapes: text, not a surrogate
    ],
)
def test_a_token_uri_reads_as_the_index_reads_its_strings(name, shown):
    document = token_uri_json(_token_uri(name), "the URI")
    assert (document["name"], document["indicator"]["name"]) == (f"{shown} #7", shown)
    assert shown == readable_text(name)  # what the index shows of the same bytes
    assert json.dumps(document, ensure_ascii=False).encode()  # any JSON answer can hold it


def test_control_characters_left_unescaped_and_lone_surrogates_still_read():
    assert token_uri_json(_token_uri(b"a\x01b\tc", escaped=False), "the URI")["indicator"]["name"] == f"a{R}b\tc"
    lone = _data_uri(
        b'{"name":"\\ud800 #7","indicator":{"id":3,"version":1,"name":"\\udfff","orientation":"object"},'
        b'"contributor":"0x","weight":1,"evidence_hash":"0x","minted_at":1,"valid_for_seconds":0,'
        b'"active":false}'
    )
    read = token_uri_json(lone, "the URI")
    assert (read["name"], read["indicator"]["name"]) == (f"{R}{R}{R} #7", f"{R}{R}{R}")
    assert json.dumps(read, ensure_ascii=False).encode()  # no surrogate left to fail encoding


@pytest.mark.parametrize(
    "uri, words",
    [
        ("ipfs://bafy", "is not a JSON data URI: 'ipfs://bafy'"),
        ("data:application/json;base64,!!not base64", "is not base64"),
        (_token_uri(b'a "quote" unescaped', escaped=False), "does not hold JSON (Expecting ',' delimiter"),
        (
            _data_uri(b'["\xff\x00</script>"]'),
            f"does not hold the badge metadata this service reads: '[\"{R}{R}</script>\"]'",
        ),
        (_data_uri(b'{"name":"x"}'), "does not hold the badge metadata"),
    ],
)
def test_a_token_uri_that_is_not_badge_metadata_is_refused_in_words_with_its_text(uri, words):
    with pytest.raises(DomainError) as refused:
        token_uri_json(uri, "Badge 7's tokenURI")
    assert refused.value.detail.startswith("Badge 7's tokenURI ") and words in refused.value.detail
    assert "\x00" not in refused.value.detail


@pytest.mark.parametrize(
    "field, value", [("weight", "2"), ("weight", True), ("active", 1), ("indicator", "x"), ("name", None)]
)
def test_a_token_uri_whose_fields_have_other_types_is_refused(field, value):
    good = json.loads(base64.b64decode(_token_uri(b"x").split(",", 1)[1]))
    with pytest.raises(DomainError):
        token_uri_json(_data_uri(json.dumps({**good, field: value}).encode()), "the URI")
