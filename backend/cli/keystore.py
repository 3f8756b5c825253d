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

from backend.i18n import N_
from backend.i18n import gettext as _
from backend.units import number

# A keystore is under 1 kB: a file given by mistake (a disk image, /dev/zero) is not read whole.
MAX_BYTES = 1 << 20
# The work a key derivation may ask for. geth's standard scrypt is 256 MiB (n 2^18, r 8, p 1) and
# eth-account's pbkdf2 1,000,000 rounds; a file asking for far more would exhaust the machine's
# memory or keep it busy for hours, where a keystore of any wallet is unlocked in a second or two.
SCRYPT_MAX_BYTES = 1 << 30
PBKDF2_MAX_ROUNDS = 10_000_000
_HEX = re.compile(r"(?:0x)?((?:[0-9a-fA-F]{2})*)")


def _what_to_do() -> str:
    return _(
        "give a keystore file in the Web3 Secret Storage format (version 3, as geth, ape and `commons account new` "
        "write)"
    )


class KeystoreError(ValueError):
    """The keystore gives no key; the message is the sentence to show."""


def read_keystore(path: Path) -> dict[str, Any]:
    """The file's keystore, its shape checked: everything but the password."""
    data = _read(path)
    if not data.strip():
        raise KeystoreError(_("the keystore %(path)s is empty; %(what)s", path=path, what=_what_to_do()))
    try:
        keyfile = json.loads(data)  # bytes: UTF-8 (or -16, -32), as JSON may be written
    except UnicodeDecodeError:
        raise KeystoreError(
            _("%(path)s is not a keystore: it is not text; %(what)s", path=path, what=_what_to_do())
        ) from None
    except json.JSONDecodeError as exc:
        raise KeystoreError(
            _(
                "%(path)s is not a keystore: it is not JSON (%(why)s at line %(line)s, column %(column)s); %(what)s",
                path=path,
                why=exc.msg,
                line=exc.lineno,
                column=exc.colno,
                what=_what_to_do(),
            )
        ) from None
    except (ValueError, RecursionError) as exc:  # a number of 5,000 digits, arrays nested 100,000 deep
        raise KeystoreError(
            _(
                "%(path)s is not a keystore: it is not JSON a keystore could be (%(why)s); %(what)s",
                path=path,
                why=exc,
                what=_what_to_do(),
            )
        ) from None
    problem = keystore_problem(keyfile)
    if problem:
        raise KeystoreError(
            _(
                "%(path)s is not a keystore this command can unlock: %(problem)s; %(what)s",
                path=path,
                problem=problem,
                what=_what_to_do(),
            )
        )
    return keyfile


def unlock(path: Path, keyfile: dict[str, Any], password: str) -> str:
    """The private key (0x hex) of a keystore read by read_keystore."""
    try:
        key = bytes(Account.decrypt(keyfile, password))
    except ValueError as exc:
        if "MAC mismatch" not in str(exc):
            raise KeystoreError(
                _("cannot unlock %(path)s: %(why)s; %(what)s", path=path, why=exc, what=_what_to_do())
            ) from None
        raise KeystoreError(
            _(
                "cannot unlock %(path)s: wrong password (the keystore's MAC does not match it); give the password it "
                "was made with (--password-file, COMMONS_PASSWORD or the prompt)",
                path=path,
            )
        ) from None
    except Exception as exc:
        raise KeystoreError(
            _(
                "cannot unlock %(path)s: %(why)s; %(what)s",
                path=path,
                why=f"{type(exc).__name__}: {exc}",
                what=_what_to_do(),
            )
        ) from None
    try:
        Account.from_key(key)
    except ValueError:  # zero, or past the curve's order: a MAC can be made for any 32 bytes
        raise KeystoreError(
            _(
                "cannot unlock %(path)s: what it holds is not a valid private key; %(what)s",
                path=path,
                what=_what_to_do(),
            )
        ) from None
    return "0x" + key.hex()


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise KeystoreError(
            _(
                "there is no keystore at %(path)s: check the path, or make a key with `commons account new FILE`",
                path=path,
            )
        ) from None
    except IsADirectoryError:
        raise KeystoreError(
            _("%(path)s is a directory, not a keystore file: give the keystore file inside it", path=path)
        ) from None
    except PermissionError:
        raise KeystoreError(
            _(
                "cannot read the keystore %(path)s: permission denied; make it readable by this user (chmod u+r)",
                path=path,
            )
        ) from None
    except OSError as exc:
        raise KeystoreError(
            _(
                "cannot read the keystore %(path)s: %(why)s; %(what)s",
                path=path,
                why=exc.strerror or exc,
                what=_what_to_do(),
            )
        ) from None
    if len(data) > MAX_BYTES:
        raise KeystoreError(
            _(
                "%(path)s is not a keystore: it is over %(limit)s MiB, where a keystore is under 1 kB; %(what)s",
                path=path,
                limit=MAX_BYTES >> 20,
                what=_what_to_do(),
            )
        )
    return data


def keystore_problem(keyfile: object) -> str | None:
    """What makes this JSON other than a version 3 keystore eth-account can decrypt, or None."""
    if not isinstance(keyfile, dict):
        return _("it holds %(kind)s, where a keystore is an object", kind=_kind(keyfile))
    fields = _lower(keyfile)  # eth-account reads names in any case (geth once wrote "Crypto")
    if "version" not in fields:
        return _("it has no version")
    if not _is_int(fields["version"]) or fields["version"] != 3:
        return _("its version is %(value)s, and only version 3 is read", value=_shown(fields["version"]))
    if not isinstance(fields.get("crypto"), dict):
        if "crypto" not in fields:
            return _("it has no crypto object")
        return _("its crypto is %(kind)s", kind=_kind(fields["crypto"]))
    crypto = _lower(fields["crypto"])
    if crypto.get("cipher") != "aes-128-ctr":
        return _("its cipher is %(value)s, and only aes-128-ctr is read", value=_shown(crypto.get("cipher")))
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
        return _("its key derivation function is %(value)s, and only scrypt and pbkdf2 are read", value=_shown(kdf))
    if not isinstance(crypto.get("kdfparams"), dict):
        return _("its kdfparams is %(kind)s, where an object is needed", kind=_kind(crypto.get("kdfparams")))
    return _kdf_problem(kdf, _lower(crypto["kdfparams"]))


def _kdf_problem(kdf: str, params: dict[str, Any]) -> str | None:
    if not isinstance(params.get("salt"), str) or not _HEX.fullmatch(params["salt"]):
        return _("its kdfparams.salt is %(value)s, where hex is needed", value=_shown(params.get("salt")))
    names = ("dklen", "n", "r", "p") if kdf == "scrypt" else ("dklen", "c")
    for name in names:
        if not _is_int(params.get(name)) or params[name] < 1:
            return _(
                "its %(field)s is %(value)s, where a whole number above 0 is needed",
                field=f"kdfparams.{name}",
                value=_shown(params.get(name)),
            )
    if not 32 <= params["dklen"] <= 64:
        return _("its kdfparams.dklen is %(value)s, where the key to derive is 32 bytes", value=params["dklen"])
    if kdf == "pbkdf2":
        if params.get("prf") != "hmac-sha256":
            return _("its kdfparams.prf is %(value)s, and only hmac-sha256 is read", value=_shown(params.get("prf")))
        if params["c"] > PBKDF2_MAX_ROUNDS:
            return _(
                "it asks for %(rounds)s rounds of pbkdf2, more than any wallet writes (%(limit)s at most)",
                rounds=number(params["c"]),
                limit=number(PBKDF2_MAX_ROUNDS),
            )
        return None
    n, r, p = params["n"], params["r"], params["p"]
    if n < 2 or n & (n - 1):
        return _("its kdfparams.n is %(value)s, where scrypt needs a power of 2", value=n)
    if 128 * n * r * p > SCRYPT_MAX_BYTES:
        return _(
            "it asks for %(size)s MiB of scrypt work (n %(n)s, r %(r)s, p %(p)s), more than any wallet writes "
            "(%(limit)s MiB at most)",
            size=number(128 * n * r * p >> 20),
            n=n,
            r=r,
            p=p,
            limit=number(SCRYPT_MAX_BYTES >> 20),
        )
    return None


def _hex_problem(name: str, value: object, least: int, most: int) -> str | None:
    size = f"{most}" if least == most else _("%(least)s to %(most)s", least=least, most=most)
    match = _HEX.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return _(
            "its %(field)s is %(value)s, where %(size)s bytes of hex are needed",
            field=name,
            value=_shown(value),
            size=size,
        )
    if not least <= len(match.group(1)) // 2 <= most:
        return _(
            "its %(field)s is %(length)s bytes, where %(size)s are needed",
            field=name,
            length=len(match.group(1)) // 2,
            size=size,
        )
    return None


def _lower(fields: dict[Any, Any]) -> dict[Any, Any]:
    return {key.lower() if isinstance(key, str) else key: value for key, value in fields.items()}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind(value: object) -> str:
    """A JSON value's kind, as a member would name it."""
    kinds = {
        dict: N_("an object"),
        list: N_("an array"),
        str: N_("a string"),
        bool: N_("true or false"),
        int: N_("a number"),
        float: N_("a number"),
        type(None): "null",
    }
    kind = kinds.get(type(value))
    return _(kind) if kind and kind != "null" else kind or type(value).__name__


def _shown(value: object) -> str:
    """A value from the file, shown short (it may be anything, of any size)."""
    if value is None:
        return _("missing")
    if isinstance(value, (dict, list)):
        return _kind(value)
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."
