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
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable

from eth_abi import decode, encode
from eth_abi.grammar import ABIType, TupleType
from eth_abi.grammar import parse as _parse
from eth_utils import keccak

from backend.chain.addresses import checksum

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


@lru_cache(maxsize=None)
def parse(kind: str) -> ABIType:
    return _parse(kind)


@lru_cache(maxsize=None)
def _strings_as_bytes(kind: str) -> str:
    # ABI `string` and `bytes` are encoded alike: decoding as bytes never fails on content.
    return re.sub(r"\bstring\b", "bytes", kind)


def _is_dynamic(kind: ABIType) -> bool:
    return kind.is_array or isinstance(kind, TupleType) or (kind.base in ("string", "bytes") and not kind.sub)


def canonical_type(param: dict[str, Any]) -> str:
    """The ABI type string of a parameter, tuples spelled out as `(t1,t2)[]`."""
    kind = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(canonical_type(c) for c in param["components"])
        return f"({inner}){kind[len('tuple'):]}"
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
    if kind.base == "string":
        if isinstance(value, str):  # decoded strictly (calls): already text
            return value
        return "0x" + value.hex() if raw else readable_text(value)
    if kind.base == "address":
        return checksum(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def _readable_strings(kind: ABIType, value: Any) -> Any:
    if kind.is_array:
        return tuple(_readable_strings(kind.item_type, v) for v in value)
    if isinstance(kind, TupleType):
        return tuple(_readable_strings(k, v) for k, v in zip(kind.components, value))
    return readable_text(value) if kind.base == "string" else value


def _any_altered(kind: ABIType, value: Any) -> bool:
    if kind.is_array:
        return any(_any_altered(kind.item_type, v) for v in value)
    if isinstance(kind, TupleType):
        return any(_any_altered(k, v) for k, v in zip(kind.components, value))
    return kind.base == "string" and isinstance(value, bytes) and is_altered(value)


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
        values = decode(self.input_types, data[4:])
        return {name: _shown(parse(kind), value)
                for name, kind, value in zip(self.input_names, self.input_types, values)}

    def decode_output(self, data: bytes) -> tuple:
        """As eth-abi returns it, but strings (the chain's, any bytes) as readable text."""
        values = decode([_strings_as_bytes(k) for k in self.output_types], data)
        return tuple(_readable_strings(parse(k), v) for k, v in zip(self.output_types, values))


@dataclass(frozen=True)
class Event:
    name: str
    topic: bytes
    indexed: list[tuple[str, str]]
    data: list[tuple[str, str]]

    def decode(self, topics: list[bytes], data: bytes) -> dict[str, Any]:
        """The event's arguments by name. Never fails on content: strings are readable text, with
        `<name>_raw` (0x hex of the exact bytes) beside any string that had to be altered. An
        indexed string, bytes, array or tuple is on chain only as its keccak hash: 0x hex."""
        args: dict[str, Any] = {}
        for (name, kind), topic in zip(self.indexed, topics[1:]):
            parsed = parse(kind)
            args[name] = "0x" + topic.hex() if _is_dynamic(parsed) else _shown(parsed, decode([kind], topic)[0])
        args.update(_with_raw([name for name, _ in self.data], decode_lenient([kind for _, kind in self.data], data)))
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
