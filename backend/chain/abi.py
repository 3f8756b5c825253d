"""ABI encoding and decoding with eth-abi directly: calls, custom errors and event logs.

web3.py's contract layer is avoided on the hot paths: decoding logs through it is about 20x
slower than eth-abi (TOOLCHAIN.md), and a raw eth_call about 5x faster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address


def canonical_type(param: dict[str, Any]) -> str:
    """The ABI type string of a parameter, tuples spelled out as `(t1,t2)[]`."""
    kind = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(canonical_type(c) for c in param["components"])
        return f"({inner}){kind[len('tuple'):]}"
    return kind


def signature(entry: dict[str, Any]) -> str:
    return f"{entry['name']}({','.join(canonical_type(p) for p in entry.get('inputs', []))})"


def _plain(value: Any) -> Any:
    """JSON-friendly values: bytes as 0x hex, addresses checksummed, tuples as lists."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, str) and len(value) == 42 and value.startswith("0x"):
        return to_checksum_address(value)
    return value


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
        values = decode(self.input_types, data[4:])
        return {name: _plain(value) for name, value in zip(self.input_names, values)}

    def decode_output(self, data: bytes) -> tuple:
        return decode(self.output_types, data)


@dataclass(frozen=True)
class Event:
    name: str
    topic: bytes
    indexed: list[tuple[str, str]]
    data: list[tuple[str, str]]

    def decode(self, topics: list[bytes], data: bytes) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for (name, kind), topic in zip(self.indexed, topics[1:]):
            args[name] = _plain(decode([kind], topic)[0])
        values = decode([kind for _, kind in self.data], data)
        args.update({name: _plain(value) for (name, _), value in zip(self.data, values)})
        return args


@dataclass(frozen=True)
class CustomError:
    name: str
    types: list[str]
    names: list[str]

    def decode(self, data: bytes) -> dict[str, Any]:
        values = decode(self.types, data[4:])
        return {name or f"arg{i}": _plain(value) for i, (name, value) in enumerate(zip(self.names, values))}


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
