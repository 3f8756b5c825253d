"""`commons` given a keystore that is not one it can unlock (issue 20, item 6): whatever the file
holds, or whatever stands at its path, the command exits 4 with one sentence on stderr saying
what is wrong and what to do, never a traceback. No service is needed: `account address`
unlocks the key and prints its address, and nothing else."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from eth_account import Account
from eth_keyfile.keyfile import _pbkdf2_hash, encrypt_aes_ctr
from eth_utils import keccak

from backend.cli.keystore import MAX_BYTES
from backend.cli.main import main as cli_main
from backend.settings import ANVIL_DEV_KEYS

PASSWORD = "correct horse battery staple"
KEY = ANVIL_DEV_KEYS[3]
COMMONS = Path(sys.executable).parent / "commons"
# Light scrypt (tests only): a keystore as eth-account writes it.
GOOD = Account.encrypt(KEY, PASSWORD, kdf="scrypt", iterations=2**10)


def commons(*args: str, password: str = PASSWORD) -> subprocess.CompletedProcess:
    """main() in this process, as tests/e2e/test_cli.py runs it: its exit code, stdout and stderr apart."""
    argv, sys.argv = sys.argv, ["commons", *args]
    environment = {
        "COMMONS_PASSWORD": password,
        "COMMONS_PASSWORD_FILE": None,
        "COMMONS_KEYSTORE": None,
        "COMMONS_ACCOUNT": None,
        "COMMONS_API": "http://127.0.0.1:9",
    }
    try:
        with CliRunner(mix_stderr=False).isolation(env=environment) as (stdout, stderr):
            try:
                cli_main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
            out, err = stdout.getvalue().decode(), stderr.getvalue().decode()
    finally:
        sys.argv = argv
    return subprocess.CompletedProcess(["commons", *args], code, out, err)


def refused(path: Path | str, password: str = PASSWORD) -> str:
    """The one sentence `commons account address` answers for this keystore, having exited 4."""
    result = commons("--keystore", str(path), "account", "address", password=password)
    assert result.returncode == 4, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == "" and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("commons: ") and str(path) in lines[0], result.stderr
    return lines[0].removeprefix("commons: ")


def edited(edit) -> dict:
    keyfile = copy.deepcopy(GOOD)
    edit(keyfile)
    return keyfile


def crafted(key: bytes, iv: int = 7, c: int = 2) -> dict:
    """A pbkdf2 keystore of any 32 bytes, its MAC right: what eth-account would not write."""
    salt = b"\x01" * 16
    derived = _pbkdf2_hash(PASSWORD.encode(), "sha256", salt, c, 32)
    ciphertext = encrypt_aes_ctr(key, derived[:16], iv)
    return {
        "version": 3,
        "crypto": {
            "cipher": "aes-128-ctr",
            "cipherparams": {"iv": iv.to_bytes((iv.bit_length() + 7) // 8 or 1, "big").hex()},
            "ciphertext": ciphertext.hex(),
            "kdf": "pbkdf2",
            "mac": keccak(derived[16:32] + ciphertext).hex(),
            "kdfparams": {"c": c, "dklen": 32, "prf": "hmac-sha256", "salt": salt.hex()},
        },
    }


def _set(path: str, value):
    """An edit setting one field of the keystore (dotted path), or deleting it (value: ...)."""
    *parents, last = path.split(".")

    def edit(keyfile: dict) -> None:
        node = keyfile
        for name in parents:
            node = node[name]
        if value is ...:
            del node[last]
        else:
            node[last] = value

    return edit


# What is in the file -> words the sentence must hold.
MALFORMED = {
    "an empty object": ({}, "no version"),
    "an array": ([], "an array"),
    "an array of a keystore": ([GOOD], "an array"),
    "a string": ("keystore", "a string"),
    "a number": (3, "a number"),
    "null": (None, "null"),
    "crypto empty, no version": ({"crypto": {}}, "no version"),
    "crypto empty": ({"version": 3, "crypto": {}}, "cipher is missing"),
    "crypto a string": (edited(_set("crypto", "scrypt")), "crypto is a string"),
    "no crypto": (edited(_set("crypto", ...)), "no crypto"),
    "version 4 (EIP-2335)": (edited(_set("version", 4)), "version is 4"),
    "version as text": (edited(_set("version", "3")), 'version is "3"'),
    "version true": (edited(_set("version", True)), "version is true"),
    "argon2 kdf": (edited(_set("crypto.kdf", "argon2id")), 'key derivation function is "argon2id"'),
    "no kdf": (edited(_set("crypto.kdf", ...)), "key derivation function is missing"),
    "unknown cipher": (edited(_set("crypto.cipher", "aes-256-gcm")), 'cipher is "aes-256-gcm"'),
    "no cipherparams": (edited(_set("crypto.cipherparams", ...)), "cipherparams.iv is missing"),
    "iv a number": (edited(_set("crypto.cipherparams.iv", 12345)), "cipherparams.iv is 12345"),
    "iv not hex": (edited(_set("crypto.cipherparams.iv", "zz" * 16)), "cipherparams.iv"),
    "iv too long": (edited(_set("crypto.cipherparams.iv", "00" * 17)), "17 bytes"),
    "ciphertext odd hex": (edited(_set("crypto.ciphertext", "abc")), "ciphertext"),
    "ciphertext short": (edited(_set("crypto.ciphertext", "00" * 16)), "16 bytes, where 32"),
    "mac null": (edited(_set("crypto.mac", None)), "mac is missing"),
    "mac a list": (edited(_set("crypto.mac", ["00"])), "mac is an array"),
    "kdfparams a list": (edited(_set("crypto.kdfparams", [])), "kdfparams is an array"),
    "n as text": (edited(_set("crypto.kdfparams.n", "1024")), 'kdfparams.n is "1024"'),
    "n a float": (edited(_set("crypto.kdfparams.n", 1024.0)), "kdfparams.n is 1024.0"),
    "n not a power of 2": (edited(_set("crypto.kdfparams.n", 1000)), "power of 2"),
    "n zero": (edited(_set("crypto.kdfparams.n", 0)), "kdfparams.n is 0"),
    "n huge": (edited(_set("crypto.kdfparams.n", 2**40)), "MiB of scrypt work"),
    "r negative": (edited(_set("crypto.kdfparams.r", -8)), "kdfparams.r is -8"),
    "no p": (edited(_set("crypto.kdfparams.p", ...)), "kdfparams.p is missing"),
    "dklen 16": (edited(_set("crypto.kdfparams.dklen", 16)), "dklen is 16"),
    "salt a number": (edited(_set("crypto.kdfparams.salt", 5)), "salt is 5"),
    "pbkdf2 without prf": (
        edited(lambda k: k["crypto"].update(kdf="pbkdf2", kdfparams={"c": 2, "dklen": 32, "salt": "00"})),
        "prf is missing",
    ),
    "pbkdf2 sha512": (
        edited(
            lambda k: k["crypto"].update(
                kdf="pbkdf2", kdfparams={"c": 2, "dklen": 32, "salt": "00", "prf": "hmac-sha512"}
            )
        ),
        "hmac-sha256",
    ),
    "pbkdf2 forever": (
        edited(
            lambda k: k["crypto"].update(
                kdf="pbkdf2", kdfparams={"c": 10**12, "dklen": 32, "salt": "00", "prf": "hmac-sha256"}
            )
        ),
        "rounds of pbkdf2",
    ),
    "a zero key, its MAC right": (crafted(b"\0" * 32), "not a valid private key"),
    "a key past the curve's order, its MAC right": (crafted(b"\xff" * 32), "not a valid private key"),
}


@pytest.mark.parametrize("content,words", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_keystore_exits_4_with_a_sentence(tmp_path, content, words):
    path = tmp_path / "key.json"
    path.write_text(json.dumps(content))
    sentence = refused(path)
    assert words in sentence, sentence
    assert "; " in sentence  # then what to do


# What is in the file (bytes) -> words the sentence must hold.
NOT_JSON = {
    "empty": (b"", "is empty"),
    "blank": (b" \n\t\n", "is empty"),
    "text": (b"my password is hunter2\n", "not JSON"),
    "cut short": (json.dumps(GOOD).encode()[:100], "not JSON"),
    "binary garbage": (bytes(range(256)) * 4, "is not a keystore: it is not"),
    "a PNG's first bytes": (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "not text"),
    "nested 100,000 deep": (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
    "a number of 5,000 digits": (b"9" * 5_000, "not JSON"),
    "over 1 MiB": (b" " * MAX_BYTES + b"{}", "over 1 MiB"),
}


@pytest.mark.parametrize("content,words", NOT_JSON.values(), ids=NOT_JSON.keys())
def test_a_file_that_is_no_json_keystore_exits_4_with_a_sentence(tmp_path, content, words):
    path = tmp_path / "key.json"
    path.write_bytes(content)
    assert words in refused(path)


def test_what_stands_at_the_path_instead_of_a_keystore_exits_4(tmp_path, monkeypatch):
    assert "no keystore at" in refused(tmp_path / "missing.json")
    assert "is a directory" in refused(tmp_path)
    assert "over 1 MiB" in refused("/dev/zero")
    assert "Input/output error" in refused("/proc/self/mem")  # a read that fails
    path = tmp_path / "key.json"
    path.write_text(json.dumps(GOOD))
    path.chmod(0)
    # As root every file is readable: the refusal a member sees is made here.
    monkeypatch.setattr(Path, "open", lambda *a, **k: (_ for _ in ()).throw(PermissionError(13, "Permission denied")))
    assert "permission denied" in refused(path)


def test_a_wrong_password_exits_4_saying_so(tmp_path):
    path = tmp_path / "key.json"
    path.write_text(json.dumps(GOOD))
    assert "wrong password" in refused(path, password="not it")
    assert commons("--keystore", str(path), "account", "address").stdout.strip() == Account.from_key(KEY).address


def test_keystores_of_every_shape_the_spec_allows_unlock(tmp_path):
    """What the checks must not refuse: names in any case (geth wrote "Crypto"), an IV whose
    leading zero bytes eth-account dropped, 0x prefixes, pbkdf2."""
    address = Account.from_key(KEY).address
    key = bytes.fromhex(KEY.removeprefix("0x"))
    upper = edited(lambda k: k.update(Crypto=k.pop("crypto")))
    prefixed = edited(lambda k: k["crypto"].update(mac="0x" + k["crypto"]["mac"]))
    for keyfile in (
        GOOD,
        upper,
        prefixed,
        crafted(key, iv=1),
        crafted(key, iv=2**127 + 5),
        Account.encrypt(KEY, PASSWORD, kdf="pbkdf2", iterations=2),
    ):
        path = tmp_path / "key.json"
        path.write_text(json.dumps(keyfile))
        result = commons("--json", "--keystore", str(path), "account", "address")
        assert result.returncode == 0 and json.loads(result.stdout) == {"address": address}, result.stderr


def test_the_console_script_exits_4_without_a_traceback(tmp_path):
    """The installed `commons`, in a process of its own as a shell runs it, errors as JSON too."""
    path = tmp_path / "key.json"
    path.write_text(json.dumps(edited(_set("crypto.kdf", "argon2id"))))
    result = subprocess.run(
        [str(COMMONS), "--json", "--keystore", str(path), "account", "address"],
        env={"PATH": str(COMMONS.parent), "COMMONS_PASSWORD": PASSWORD},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 4 and result.stdout == "" and "Traceback" not in result.stderr, result.stderr
    error = json.loads(result.stderr)
    assert error["exit_code"] == 4 and "argon2id" in error["error"]
