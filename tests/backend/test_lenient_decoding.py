"""Every string the chain hands back is decoded leniently in one place (backend.chain.abi): any
bytes become readable text that PostgreSQL and JSON can hold, and the exact bytes stay beside
any text that had to be altered. Calls a member signs are still decoded strictly."""

from __future__ import annotations

import json

import pytest
from eth_abi import encode
from eth_utils import keccak

from backend.chain.abi import ContractAbi, ErrorDecoder, readable_text

R = "\ufffd"
ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"

ABI = ContractAbi([
    {"type": "event", "name": "Said", "anonymous": False, "inputs": [
        {"name": "topic", "type": "string", "indexed": True},
        {"name": "who", "type": "address", "indexed": True},
        {"name": "text", "type": "string", "indexed": False},
        {"name": "lines", "type": "string[]", "indexed": False},
        {"name": "pair", "type": "tuple", "indexed": False,
         "components": [{"name": "label", "type": "string"}, {"name": "blob", "type": "bytes"}]},
        {"name": "note", "type": "string", "indexed": False}]},
    {"type": "function", "name": "say", "inputs": [{"name": "text", "type": "string"}],
     "outputs": [{"name": "", "type": "tuple", "components": [
         {"name": "label", "type": "string"}, {"name": "owner", "type": "address"}]}, {"name": "", "type": "string[]"}]},
])
SAID = ABI.events[keccak(text="Said(string,address,string,string[],(string,bytes),string)")]


def _said(text: bytes, lines: list[bytes], label: bytes, note: bytes) -> dict:
    topics = [SAID.topic, keccak(b"topic"), encode(["address"], [ALICE])]
    data = encode(["bytes", "bytes[]", "(bytes,bytes)", "bytes"], [text, lines, (label, b"\x00\xff"), note])
    return SAID.decode(topics, data)


@pytest.mark.parametrize("raw, shown", [
    (b"plain text", "plain text"),
    (b"tab\tnew\nline\rkept", "tab\tnew\nline\rkept"),
    (b"nul\x00", f"nul{R}"),
    (b"\x01\x1b[31m\x7f", f"{R}{R}[31m{R}"),
    ("c1 \x85 \x9f".encode(), f"c1 {R} {R}"),
    (b"\xff\xfe", f"{R}{R}"),
    (b"\xc3(", f"{R}("),
    (b"\xed\xa0\x80", f"{R}{R}{R}"),  # a UTF-16 surrogate, encoded: not UTF-8
    ("caf\u00e9 \u2603 \U0001f600".encode(), "caf\u00e9 \u2603 \U0001f600"),
])
def test_any_bytes_become_readable_text(raw, shown):
    assert readable_text(raw) == shown


def test_clean_strings_are_decoded_as_they_are_with_no_raw():
    args = _said(b"hello", [b"a", b"b"], b"label", ("0x" + "ab" * 20).encode())
    assert args == {"topic": "0x" + keccak(b"topic").hex(), "who": ALICE, "text": "hello", "lines": ["a", "b"],
                    "pair": ["label", "0x00ff"], "note": "0x" + "ab" * 20}  # a string, not an address


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
    assert ErrorDecoder([ABI]).decode(data) == ("Error", {"message": f"no{R}pe{R}",
                                                          "message_raw": "0x" + b"no\x00pe\xff".hex()})


def test_calls_a_member_signs_are_decoded_strictly():
    fn = ABI.function("say")
    assert fn.decode_input(fn.selector + encode(["string"], ["hi"])) == {"text": "hi"}
    with pytest.raises(UnicodeDecodeError):
        fn.decode_input(fn.selector + encode(["bytes"], [b"\xff"]))
