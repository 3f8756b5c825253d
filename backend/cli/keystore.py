"""A keystore file (Web3 Secret Storage, version 3, as geth, ape and eth-account write it) read
and unlocked for the command line. Whatever the file holds, the answer is the key or a
KeystoreError whose message is one sentence: what is wrong with the file and what to do.

eth-account's decrypt trusts the file's shape: given `{}`, `[]`, an argon2 kdf or a number where
hex belongs it raises KeyError, TypeError or NotImplementedError from deep inside (a traceback for
the member), it ignores the cipher named, and it derives a key with whatever work the file asks
for. So the shape is checked here first, each field by the spec, before a password is asked."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from eth_account import Account

# A keystore is under 1 kB: a file given by mistake (a disk image, /dev/zero) is not read whole.
MAX_BYTES = 1 << 20
# The work a key derivation may ask for. geth's standard scrypt is 256 MiB (n 2^18, r 8, p 1) and
# eth-account's pbkdf2 1,000,000 rounds; a file asking for far more would exhaust the machine's
# memory or keep it busy for hours, where a keystore of any wallet is unlocked in a second or two.
SCRYPT_MAX_BYTES = 1 << 30
PBKDF2_MAX_ROUNDS = 10_000_000
_HEX = re.compile(r"(?:0x)?((?:[0-9a-fA-F]{2})*)")
_WHAT_TO_DO = (
    "give a keystore file in the Web3 Secret Storage format (version 3, as geth, ape and `commons account new` write)"
)


class KeystoreError(ValueError):
    """The keystore gives no key; the message is the sentence to show."""


def read_keystore(path: Path) -> dict[str, Any]:
    """The file's keystore, its shape checked: everything but the password."""
    data = _read(path)
    if not data.strip():
        raise KeystoreError(f"the keystore {path} is empty; {_WHAT_TO_DO}")
    try:
        keyfile = json.loads(data)  # bytes: UTF-8 (or -16, -32), as JSON may be written
    except UnicodeDecodeError:
        raise KeystoreError(f"{path} is not a keystore: it is not text; {_WHAT_TO_DO}") from None
    except json.JSONDecodeError as exc:
        raise KeystoreError(
            f"{path} is not a keystore: it is not JSON ({exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}); {_WHAT_TO_DO}"
        ) from None
    except (ValueError, RecursionError) as exc:  # a number of 5,000 digits, arrays nested 100,000 deep
        raise KeystoreError(
            f"{path} is not a keystore: it is not JSON a keystore could be ({exc}); {_WHAT_TO_DO}"
        ) from None
    problem = keystore_problem(keyfile)
    if problem:
        raise KeystoreError(f"{path} is not a keystore this command can unlock: {problem}; {_WHAT_TO_DO}")
    return keyfile


def unlock(path: Path, keyfile: dict[str, Any], password: str) -> str:
    """The private key (0x hex) of a keystore read by read_keystore."""
    try:
        key = bytes(Account.decrypt(keyfile, password))
    except ValueError as exc:
        if "MAC mismatch" not in str(exc):
            raise KeystoreError(f"cannot unlock {path}: {exc}; {_WHAT_TO_DO}") from None
        raise KeystoreError(
            f"cannot unlock {path}: wrong password (the keystore's MAC does not match it); give "
            "the password it was made with (--password-file, COMMONS_PASSWORD or the prompt)"
        ) from None
    except Exception as exc:
        raise KeystoreError(f"cannot unlock {path}: {type(exc).__name__}: {exc}; {_WHAT_TO_DO}") from None
    try:
        Account.from_key(key)
    except ValueError:  # zero, or past the curve's order: a MAC can be made for any 32 bytes
        raise KeystoreError(f"cannot unlock {path}: what it holds is not a valid private key; {_WHAT_TO_DO}") from None
    return "0x" + key.hex()


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise KeystoreError(
            f"there is no keystore at {path}: check the path, or make a key with `commons account new FILE`"
        ) from None
    except IsADirectoryError:
        raise KeystoreError(f"{path} is a directory, not a keystore file: give the keystore file inside it") from None
    except PermissionError:
        raise KeystoreError(
            f"cannot read the keystore {path}: permission denied; make it readable by this user (chmod u+r)"
        ) from None
    except OSError as exc:
        raise KeystoreError(f"cannot read the keystore {path}: {exc.strerror or exc}; {_WHAT_TO_DO}") from None
    if len(data) > MAX_BYTES:
        raise KeystoreError(
            f"{path} is not a keystore: it is over {MAX_BYTES >> 20} MiB, where a keystore is under 1 kB; {_WHAT_TO_DO}"
        )
    return data


def keystore_problem(keyfile: object) -> str | None:
    """What makes this JSON other than a version 3 keystore eth-account can decrypt, or None."""
    if not isinstance(keyfile, dict):
        return f"it holds {_kind(keyfile)}, where a keystore is an object"
    fields = _lower(keyfile)  # eth-account reads names in any case (geth once wrote "Crypto")
    if "version" not in fields:
        return "it has no version"
    if not _is_int(fields["version"]) or fields["version"] != 3:
        return f"its version is {_shown(fields['version'])}, and only version 3 is read"
    if not isinstance(fields.get("crypto"), dict):
        return "it has no crypto object" if "crypto" not in fields else f"its crypto is {_kind(fields['crypto'])}"
    crypto = _lower(fields["crypto"])
    if crypto.get("cipher") != "aes-128-ctr":
        return f"its cipher is {_shown(crypto.get('cipher'))}, and only aes-128-ctr is read"
    params = crypto.get("cipherparams")
    params = _lower(params) if isinstance(params, dict) else {}
    # eth-account writes the IV as a number's bytes, so without its leading zero bytes.
    for name, value, sizes in (
        ("cipherparams.iv", params.get("iv"), (1, 16)),
        ("ciphertext", crypto.get("ciphertext"), (32, 32)),
        ("mac", crypto.get("mac"), (32, 32)),
    ):
        problem = _hex_problem(name, value, *sizes)
        if problem:
            return problem
    kdf = crypto.get("kdf")
    if kdf not in ("scrypt", "pbkdf2"):
        return f"its key derivation function is {_shown(kdf)}, and only scrypt and pbkdf2 are read"
    if not isinstance(crypto.get("kdfparams"), dict):
        return f"its kdfparams is {_kind(crypto.get('kdfparams'))}, where an object is needed"
    return _kdf_problem(kdf, _lower(crypto["kdfparams"]))


def _kdf_problem(kdf: str, params: dict[str, Any]) -> str | None:
    if not isinstance(params.get("salt"), str) or not _HEX.fullmatch(params["salt"]):
        return f"its kdfparams.salt is {_shown(params.get('salt'))}, where hex is needed"
    names = ("dklen", "n", "r", "p") if kdf == "scrypt" else ("dklen", "c")
    for name in names:
        if not _is_int(params.get(name)) or params[name] < 1:
            return f"its kdfparams.{name} is {_shown(params.get(name))}, where a whole number above 0 is needed"
    if not 32 <= params["dklen"] <= 64:
        return f"its kdfparams.dklen is {params['dklen']}, where the key to derive is 32 bytes"
    if kdf == "pbkdf2":
        if params.get("prf") != "hmac-sha256":
            return f"its kdfparams.prf is {_shown(params.get('prf'))}, and only hmac-sha256 is read"
        if params["c"] > PBKDF2_MAX_ROUNDS:
            return (
                f"it asks for {params['c']:,} rounds of pbkdf2, more than any wallet writes "
                f"({PBKDF2_MAX_ROUNDS:,} at most)"
            )
        return None
    n, r, p = params["n"], params["r"], params["p"]
    if n < 2 or n & (n - 1):
        return f"its kdfparams.n is {n}, where scrypt needs a power of 2"
    if 128 * n * r * p > SCRYPT_MAX_BYTES:
        return (
            f"it asks for {128 * n * r * p >> 20:,} MiB of scrypt work (n {n}, r {r}, p {p}), more than any "
            f"wallet writes ({SCRYPT_MAX_BYTES >> 20:,} MiB at most)"
        )
    return None


def _hex_problem(name: str, value: object, least: int, most: int) -> str | None:
    size = f"{most}" if least == most else f"{least} to {most}"
    match = _HEX.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return f"its {name} is {_shown(value)}, where {size} bytes of hex are needed"
    if not least <= len(match.group(1)) // 2 <= most:
        return f"its {name} is {len(match.group(1)) // 2} bytes, where {size} are needed"
    return None


def _lower(fields: dict[Any, Any]) -> dict[Any, Any]:
    return {key.lower() if isinstance(key, str) else key: value for key, value in fields.items()}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind(value: object) -> str:
    """A JSON value's kind, as a member would name it."""
    kinds = {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "true or false",
        int: "a number",
        float: "a number",
        type(None): "null",
    }
    return kinds.get(type(value), type(value).__name__)


def _shown(value: object) -> str:
    """A value from the file, shown short (it may be anything, of any size)."""
    if value is None:
        return "missing"
    if isinstance(value, (dict, list)):
        return _kind(value)
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."
