"""A call's arguments, decoded as a relay check reads them (backend/chain/abi.py, decode_input).

Calls laid out as an encoder lays them out are read without eth-abi; anything else goes to
eth-abi, which reads or refuses it as it always did. Held here against eth-abi itself: for calls
of many signatures, encoded and then mangled byte by byte, the answer is eth-abi's, or eth-abi's
refusal."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import decode, encode
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.chain.abi import Function, _shown, parse

VALUE_TYPES = ["uint8", "uint32", "uint256", "address", "bool", "bytes1", "bytes20", "bytes32"]
TYPES = [*VALUE_TYPES, "string", "bytes"]


def value_of(kind: str) -> st.SearchStrategy[Any]:
    if kind.startswith("uint"):
        return st.integers(0, 2 ** int(kind[4:]) - 1)
    if kind == "address":
        return st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
    if kind == "bool":
        return st.booleans()
    if kind == "string":
        return st.text(max_size=80)
    if kind == "bytes":
        return st.binary(max_size=80)
    return st.binary(min_size=int(kind[5:]), max_size=int(kind[5:]))


@st.composite
def calls(draw: st.DrawFn) -> tuple[Function, bytes]:
    kinds = draw(st.lists(st.sampled_from(TYPES), min_size=0, max_size=5))
    values = [draw(value_of(k)) for k in kinds]
    function = Function("f", b"\x12\x34\x56\x78", kinds, [f"a{i}" for i in range(len(kinds))], [])
    return function, function.selector + encode(kinds, values)


def by_eth_abi(function: Function, data: bytes) -> dict[str, Any] | Exception:
    try:
        values = decode(function.input_types, data[4:])
    except Exception as exc:  # what a check refuses: the test compares that it is refused
        return exc
    return {
        name: _shown(parse(kind), value)
        for name, kind, value in zip(function.input_names, function.input_types, values)
    }


def by_the_check(function: Function, data: bytes) -> dict[str, Any] | Exception:
    try:
        return function.decode_input(data)
    except Exception as exc:
        return exc


def same(left: dict[str, Any] | Exception, right: dict[str, Any] | Exception) -> bool:
    if isinstance(left, Exception) or isinstance(right, Exception):
        return isinstance(left, Exception) and isinstance(right, Exception)
    return left == right


@settings(max_examples=400, deadline=None)
@given(calls())
def test_a_call_as_an_encoder_lays_it_out_reads_as_eth_abi_reads_it_without_eth_abi(call) -> None:
    function, data = call
    assert function._decode_canonical(data[4:]) is not None  # the fast path took it
    assert same(by_the_check(function, data), by_eth_abi(function, data))


@settings(max_examples=1500, deadline=None)
@given(calls(), st.data())
def test_a_mangled_call_reads_as_eth_abi_reads_it_or_is_refused_as_eth_abi_refuses_it(call, data) -> None:
    function, encoded = call
    mangled = bytearray(encoded)
    for _ in range(data.draw(st.integers(1, 3))):
        how = data.draw(st.sampled_from(["flip", "cut", "grow", "offset"]))
        if how == "flip" and len(mangled) > 4:
            at = data.draw(st.integers(4, len(mangled) - 1))
            mangled[at] = data.draw(st.integers(0, 255))
        elif how == "cut" and len(mangled) > 4:
            del mangled[data.draw(st.integers(4, len(mangled) - 1)) :]
        elif how == "grow":
            mangled += data.draw(st.binary(min_size=1, max_size=64))
        elif how == "offset" and len(mangled) >= 36:
            slot = data.draw(st.integers(0, (len(mangled) - 4) // 32 - 1))
            mangled[4 + 32 * slot : 4 + 32 * slot + 32] = data.draw(st.integers(0, 600)).to_bytes(32, "big")
    assert same(by_the_check(function, bytes(mangled)), by_eth_abi(function, bytes(mangled)))


@pytest.mark.parametrize(
    ("kinds", "args", "why"),
    [
        (["string"], b"\x00" * 31 + b"\x20" + b"\x00" * 31 + b"\x02" + b"\xff\xfe" + b"\x00" * 30, "not UTF-8"),
        (["string"], b"\x00" * 31 + b"\x20" + b"\x00" * 31 + b"\x01" + b"a" + b"\x01" + b"\x00" * 30, "padding"),
        (["uint8"], b"\x00" * 30 + b"\x01\x00", "a number too big for its type"),
        (["bool"], b"\x00" * 31 + b"\x02", "a boolean that is neither"),
        (["address"], b"\x01" + b"\x00" * 31, "an address with its padding set"),
    ],
)
def test_a_call_eth_abi_refuses_is_refused(kinds: list[str], args: bytes, why: str) -> None:
    function = Function("f", b"\x12\x34\x56\x78", kinds, ["a"], [])
    assert function._decode_canonical(args) is None, why
    with pytest.raises(Exception):  # noqa: B017 - whichever eth-abi raises: refused
        function.decode_input(function.selector + args)


def test_a_claim_reads_as_the_check_reads_it() -> None:
    function = Function("claim", b"\x12\x34\x56\x78", ["uint32", "bytes32", "string"], ["id", "hash", "uri"], [])
    data = function.selector + encode(["uint32", "bytes32", "string"], [7, b"\xab" * 32, "https://ex.org/é"])
    assert function.decode_input(data) == {"id": 7, "hash": "0x" + "ab" * 32, "uri": "https://ex.org/é"}
