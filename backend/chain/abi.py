"""ABI encoding and decoding with eth-abi directly: calls, custom errors and event logs.

web3.py's contract layer is avoided on the hot paths: decoding logs through it is about 20x
slower than eth-abi (TOOLCHAIN.md), and a raw eth_call about 5x faster.

Whatever a contract emits is decoded leniently, in one place (`Event.decode`): anyone can put any
bytes in a `string` on chain, so strings are read as the bytes they are and shown as readable
text (see `readable_text`); when the text differs from the bytes, the exact bytes stay beside
it, as 0x hex under `<name>_raw`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any, cast

from eth_abi import decode, encode
from eth_abi.grammar import ABIType, BasicType, TupleType
from eth_abi.grammar import parse as _parse

from backend.chain.addresses import checksum
from backend.chain.hashing import keccak

# Control characters (C0 but tab, newline and carriage return; DEL; C1): PostgreSQL text and
# JSONB cannot hold NUL, and none of them is readable.
_UNREADABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
REPLACEMENT = "\ufffd"
# The suffix of the argument that keeps a string's exact bytes when its text was altered.
RAW_SUFFIX = "_raw"


def readable_text(raw: bytes | str) -> str:
    """Text any database and JSON can hold, from any bytes: invalid UTF-8 and control characters
    other than tab, newline and carriage return become U+FFFD (the replacement character)."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, (bytes, bytearray)) else raw
    return _UNREADABLE.sub(REPLACEMENT, text)


def is_altered(raw: bytes) -> bool:
    """Whether `readable_text(raw)` differs from the bytes (so they must be kept beside it)."""
    try:
        return _UNREADABLE.search(raw.decode("utf-8")) is not None
    except UnicodeDecodeError:
        return True


@cache
def parse(kind: str) -> ABIType:
    return _parse(kind)


@cache
def _strings_as_bytes(kind: str) -> str:
    # ABI `string` and `bytes` are encoded alike: decoding as bytes never fails on content.
    return re.sub(r"\bstring\b", "bytes", kind)


def _basic(kind: ABIType) -> BasicType:
    """A type that is neither a tuple nor an array: a base and its size (uint256: "uint", "256")."""
    return cast(BasicType, kind)


def _is_dynamic(kind: ABIType) -> bool:
    return (
        kind.is_array
        or isinstance(kind, TupleType)
        or (_basic(kind).base in ("string", "bytes") and not _basic(kind).sub)
    )


def canonical_type(param: dict[str, Any]) -> str:
    """The ABI type string of a parameter, tuples spelled out as `(t1,t2)[]`."""
    kind = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(canonical_type(c) for c in param["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def signature(entry: dict[str, Any]) -> str:
    return f"{entry['name']}({','.join(canonical_type(p) for p in entry.get('inputs', []))})"


def _shown(kind: ABIType, value: Any, raw: bool = False) -> Any:
    """A decoded value in JSON-friendly form, directed by its ABI type: strings as readable text
    (or, with raw, as the 0x hex of their bytes), addresses checksummed, bytes as 0x hex, tuples
    and arrays as lists."""
    if kind.is_array:
        return [_shown(kind.item_type, v, raw) for v in value]
    if isinstance(kind, TupleType):
        return [_shown(k, v, raw) for k, v in zip(kind.components, value)]
    if _basic(kind).base == "string":
        if isinstance(value, str):  # decoded strictly (calls): already text
            return value
        return "0x" + value.hex() if raw else readable_text(value)
    if _basic(kind).base == "address":
        return checksum(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def _readable_strings(kind: ABIType, value: Any) -> Any:
    if kind.is_array:
        return tuple(_readable_strings(kind.item_type, v) for v in value)
    if isinstance(kind, TupleType):
        return tuple(_readable_strings(k, v) for k, v in zip(kind.components, value))
    return readable_text(value) if _basic(kind).base == "string" else value


def _any_altered(kind: ABIType, value: Any) -> bool:
    if kind.is_array:
        return any(_any_altered(kind.item_type, v) for v in value)
    if isinstance(kind, TupleType):
        return any(_any_altered(k, v) for k, v in zip(kind.components, value))
    return _basic(kind).base == "string" and isinstance(value, bytes) and is_altered(value)


def decode_lenient(kinds: list[str], data: bytes) -> list[tuple[Any, Any | None]]:
    """Each value as (shown, raw): raw is None unless a string in it was altered for showing,
    then the value again with every string as the 0x hex of its exact bytes."""
    parsed = [parse(k) for k in kinds]
    values = decode([_strings_as_bytes(k) for k in kinds], data, strict=False)
    return [(_shown(p, v), _shown(p, v, raw=True) if _any_altered(p, v) else None) for p, v in zip(parsed, values)]


def _with_raw(names: list[str], decoded: list[tuple[Any, Any | None]]) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for name, (shown, raw) in zip(names, decoded):
        args[name] = shown
        if raw is not None:
            args[name + RAW_SUFFIX] = raw
    return args


@dataclass(frozen=True)
class Function:
    name: str
    selector: bytes
    input_types: list[str]
    input_names: list[str]
    output_types: list[str]

    def encode(self, *args: Any) -> bytes:
        return self.selector + encode(self.input_types, list(args))

    def decode_input(self, data: bytes) -> dict[str, Any]:
        """Strict: a call whose strings are not UTF-8 raises (bad input is refused before sending)."""
        fast = self._decode_canonical(data[4:])
        if fast is not None:
            return fast
        values = decode(self.input_types, data[4:])
        return {
            name: _shown(parse(kind), value) for name, kind, value in zip(self.input_names, self.input_types, values)
        }

    @cached_property
    def _input_plan(self) -> list[tuple[str, WordDecoder | None]] | None:
        """How each argument is read (members' calls take value types and strings: a claim is a
        number, a hash and a string); None when eth-abi reads them."""
        return value_plan(self.input_types)

    def _decode_canonical(self, args: bytes) -> dict[str, Any] | None:
        """The arguments as decode_input reads them through eth-abi, in a ninth of its time (a
        claim: 2.7 against 23 µs alone, and eth-abi was a twentieth of a relayed write's CPU in
        the service), when they are laid out exactly as an encoder lays them out: each string's
        offset where the one before it ends, its padding zero, the data ending with the last.
        None for anything else (a layout eth-abi may still read, or refuse: padding not empty,
        text that is not UTF-8), which eth-abi then decides."""
        plan = self._input_plan
        if plan is None:
            return None
        end = 32 * len(plan)
        if len(args) < end:
            return None
        values: dict[str, Any] = {}
        for i, ((kind, decoded), name) in enumerate(zip(plan, self.input_names)):
            word = args[32 * i : 32 * i + 32]
            if decoded is not None:
                try:
                    values[name] = decoded(word)
                except ValueError:
                    return None
                continue
            if int.from_bytes(word, "big") != end or end + 32 > len(args):
                return None
            length = int.from_bytes(args[end : end + 32], "big")
            start, end = end + 32, end + 32 + -(-length // 32) * 32
            if end > len(args) or any(args[start + length : end]):
                return None
            raw = args[start : start + length]
            if kind == "bytes":
                values[name] = "0x" + raw.hex()
                continue
            try:
                values[name] = raw.decode("utf-8")
            except UnicodeDecodeError:
                return None
        return values if end == len(args) else None

    def decode_output(self, data: bytes) -> tuple:
        """As eth-abi returns it, but strings (the chain's, any bytes) as readable text."""
        values = decode([_strings_as_bytes(k) for k in self.output_types], data)
        return tuple(_readable_strings(parse(k), v) for k, v in zip(self.output_types, values))


WordDecoder = Callable[[bytes], Any]


def _padded(word: bytes, size: int) -> bytes:
    """The last `size` bytes of a 32-byte word whose others are zero, as eth-abi checks them."""
    if len(word) != 32:
        raise ValueError(f"a word of {len(word)} bytes, not 32")
    if any(word[: 32 - size]):
        raise ValueError(f"padding bytes are not empty: 0x{word.hex()}")
    return word[32 - size :]


def _uint_word(bits: int) -> WordDecoder:
    return lambda word: int.from_bytes(_padded(word, bits // 8), "big")


def _address_word(word: bytes) -> str:
    return checksum("0x" + _padded(word, 20).hex())


def _bool_word(word: bytes) -> bool:
    value = _padded(word, 1)[0]
    if value > 1:
        raise ValueError(f"a boolean is 0 or 1, not {value}")
    return value == 1


def _fixed_bytes_word(size: int) -> WordDecoder:
    def decoded(word: bytes) -> str:
        if len(word) != 32 or any(word[size:]):
            raise ValueError(f"bytes{size}: padding bytes are not empty: 0x{word.hex()}")
        return "0x" + word[:size].hex()

    return decoded


@cache
def word_decoder(kind: str) -> WordDecoder | None:
    """How one 32-byte word of a value type decodes, with eth-abi's checks (padding zero, a
    boolean 0 or 1) and shown as `_shown` shows it, in a fraction of eth-abi's time: the index
    decodes every event ever emitted, a few words each. None for any other type (strings,
    bytes, arrays, tuples, signed integers), which eth-abi decodes."""
    parsed = parse(kind)
    if parsed.is_array or isinstance(parsed, TupleType):
        return None
    if _basic(parsed).base == "uint":
        return _uint_word(int(_basic(parsed).sub))
    if _basic(parsed).base == "address":
        return _address_word
    if _basic(parsed).base == "bool":
        return _bool_word
    if _basic(parsed).base == "bytes" and _basic(parsed).sub:
        return _fixed_bytes_word(int(_basic(parsed).sub))
    return None


def value_plan(kinds: list[str]) -> list[tuple[str, WordDecoder | None]] | None:
    """(type, its word's decoder) per value when each is a value type, a string or bytes (no
    decoder: read from where its word points); None when any is another (arrays, tuples, signed
    integers), which eth-abi reads."""
    plan = []
    for kind in kinds:
        decoder = word_decoder(kind)
        if decoder is None and kind not in ("string", "bytes"):
            return None
        plan.append((kind, decoder))
    return plan


def _topic_decoder(kind: str) -> WordDecoder:
    """An indexed value type is its topic's word; a string, bytes, array or tuple is on chain
    only as its keccak hash, shown as 0x hex."""
    parsed = parse(kind)
    if _is_dynamic(parsed):
        return lambda topic: "0x" + topic.hex()
    return word_decoder(kind) or (lambda topic: _shown(parsed, decode([kind], topic)[0]))


@dataclass(frozen=True)
class Event:
    name: str
    topic: bytes
    indexed: list[tuple[str, str]]
    data: list[tuple[str, str]]

    @cached_property
    def _topic_decoders(self) -> list[WordDecoder]:
        return [_topic_decoder(kind) for _, kind in self.indexed]

    @cached_property
    def _data_plan(self) -> list[tuple[str, str, WordDecoder | None]] | None:
        """(name, "word" | "string" | "bytes", decoder) per data argument when each is a value
        type or a string or bytes (what this project's contracts emit); None otherwise."""
        plan = value_plan([kind for _, kind in self.data])
        if plan is None:
            return None
        return [(name, "word" if decoder else kind, decoder) for (name, _), (kind, decoder) in zip(self.data, plan)]

    def decode(self, topics: list[bytes], data: bytes) -> dict[str, Any]:
        """The event's arguments by name. Never fails on content: strings are readable text, with
        `<name>_raw` (0x hex of the exact bytes) beside any string that had to be altered. An
        indexed string, bytes, array or tuple is on chain only as its keccak hash: 0x hex."""
        args = {
            name: decoded(topic) for (name, _), topic, decoded in zip(self.indexed, topics[1:], self._topic_decoders)
        }
        fast = self._decode_data(data) if self._data_plan is not None else None
        if fast is None:
            fast = _with_raw([name for name, _ in self.data], decode_lenient([kind for _, kind in self.data], data))
        args.update(fast)
        return args

    def _decode_data(self, data: bytes) -> dict[str, Any] | None:
        """The data as `decode_lenient` reads it, when it is laid out as Solidity lays it out
        (each string's offset past the head and its bytes within the data); None when it is not,
        and eth-abi decides what it is."""
        plan = self._data_plan
        if plan is None:
            return None
        head = 32 * len(plan)
        if len(data) < head:
            return None
        args: dict[str, Any] = {}
        for i, (name, kind, decoded) in enumerate(plan):
            word = data[32 * i : 32 * i + 32]
            if decoded is not None:
                args[name] = decoded(word)
                continue
            offset = int.from_bytes(word, "big")
            if offset < head or offset + 32 > len(data):
                return None
            length = int.from_bytes(data[offset : offset + 32], "big")
            if offset + 32 + length > len(data):
                return None
            raw = data[offset + 32 : offset + 32 + length]
            if kind == "bytes":
                args[name] = "0x" + raw.hex()
                continue
            args[name] = readable_text(raw)
            if is_altered(raw):
                args[name + RAW_SUFFIX] = "0x" + raw.hex()
        return args


@dataclass(frozen=True)
class CustomError:
    name: str
    types: list[str]
    names: list[str]

    def decode(self, data: bytes) -> dict[str, Any]:
        # Revert data comes from the chain: decoded leniently, as events are.
        return _with_raw([name or f"arg{i}" for i, name in enumerate(self.names)], decode_lenient(self.types, data[4:]))


class ContractAbi:
    """One contract's functions, events and errors, looked up by name, topic or selector."""

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self.entries = entries
        self.functions: dict[str, Function] = {}
        self.functions_by_selector: dict[bytes, Function] = {}
        self.events: dict[bytes, Event] = {}
        self.errors: dict[bytes, CustomError] = {}
        for entry in entries:
            kind = entry.get("type")
            if kind == "function":
                fn = Function(
                    entry["name"],
                    keccak(text=signature(entry))[:4],
                    [canonical_type(p) for p in entry["inputs"]],
                    [p.get("name", "") for p in entry["inputs"]],
                    [canonical_type(p) for p in entry.get("outputs", [])],
                )
                self.functions.setdefault(fn.name, fn)
                self.functions_by_selector[fn.selector] = fn
            elif kind == "event" and not entry.get("anonymous"):
                inputs = entry["inputs"]
                self.events[keccak(text=signature(entry))] = Event(
                    entry["name"],
                    keccak(text=signature(entry)),
                    [(p["name"], canonical_type(p)) for p in inputs if p.get("indexed")],
                    [(p["name"], canonical_type(p)) for p in inputs if not p.get("indexed")],
                )
            elif kind == "error":
                self.errors[keccak(text=signature(entry))[:4]] = CustomError(
                    entry["name"],
                    [canonical_type(p) for p in entry["inputs"]],
                    [p.get("name", "") for p in entry["inputs"]],
                )

    def function(self, name: str) -> Function:
        return self.functions[name]


# Solidity's own revert forms, which no ABI lists.
_ERROR_STRING = CustomError("Error", ["string"], ["message"])
_PANIC = CustomError("Panic", ["uint256"], ["code"])


class ErrorDecoder:
    """Names a revert by its selector, against every ABI of the deployment."""

    def __init__(self, abis: Iterable[ContractAbi]) -> None:
        self.errors: dict[bytes, CustomError] = {
            bytes.fromhex("08c379a0"): _ERROR_STRING,
            bytes.fromhex("4e487b71"): _PANIC,
        }
        for abi in abis:
            self.errors.update(abi.errors)

    def decode(self, data: bytes) -> tuple[str, dict[str, Any]]:
        if len(data) < 4:
            return "EmptyRevert", {}
        error = self.errors.get(data[:4])
        if error is None:
            return f"UnknownError(0x{data[:4].hex()})", {}
        try:
            return error.name, error.decode(data)
        except Exception:  # a selector clash with malformed arguments: still name it
            return error.name, {}
