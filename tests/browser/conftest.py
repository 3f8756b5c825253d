"""The web app in a real browser: Debian's chromium driven by Playwright, against a real Anvil,
`ape run deploy` and the service (devstack/stack.py's local_stack, SQLite index).

Playwright's own browser download cannot run on these machines, so the tests launch the system
chromium with `executable_path`. Without it they skip with a message, except under CI=true,
where a missing browser is a failure. Screenshots of every page go to var/test-output/screenshots/."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from eth_account import Account

from backend.settings import ANVIL_DEV_KEYS
from devstack.stack import ROOT, local_stack

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "var" / "test-output" / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

# The story's people: founders Alice, Bob, Carol (communities/example.json); Dana is admitted.
ALICE, BOB, CAROL, DANA = (ANVIL_DEV_KEYS[i] for i in (1, 2, 3, 4))
NAMES = {ALICE: "Alice", BOB: "Bob", CAROL: "Carol", DANA: "Dana"}


def address(key: str) -> str:
    return Account.from_key(key).address


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: under CI the browser tests must run (.ci/run installs chromium from Debian)")
    pytest.skip(f"{reason}: browser tests skipped (apt-get install chromium to run them)")


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed")
    if not Path(CHROMIUM).exists():
        _missing(f"no chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with local_stack(tmp_path_factory.mktemp("browser")) as stack:
        yield stack


# An EIP-1193 provider, as a wallet extension injects one, whose accounts, network and signatures
# are the test's (Wallet below) through exposed functions: the page's real signing path runs.
WALLET_JS = """
(() => {
  const listeners = {};
  window.ethereum = {
    isTestWallet: true,
    on(event, fn) { (listeners[event] = listeners[event] || []).push(fn); },
    removeListener() {},
    async request({ method, params }) {
      const answer = JSON.parse(await window.__testWallet(method, JSON.stringify(params || [])));
      if (answer.error) throw answer.error;
      return answer.result;
    },
  };
})();
"""


@dataclass
class Wallet:
    """The wallet behind the injected provider: which account is selected, which network it is
    on (mainnet at first, so the page has to ask it to switch), and what it was asked."""

    chain_id: int = 1
    key: str = ALICE
    calls: list[tuple[str, list]] = field(default_factory=list)
    signed: list[dict] = field(default_factory=list)
    before_sign: Callable[[], None] | None = None

    def handle(self, method: str, params_json: str) -> str:
        params = json.loads(params_json)
        self.calls.append((method, params))
        try:
            return json.dumps({"result": self._answer(method, params)})
        except WalletError as exc:
            return json.dumps({"error": {"code": exc.code, "message": str(exc)}})

    def _answer(self, method: str, params: list):
        if method in ("eth_requestAccounts", "eth_accounts"):
            return [address(self.key)]
        if method == "eth_chainId":
            return hex(self.chain_id)
        if method == "wallet_switchEthereumChain":
            wanted = int(params[0]["chainId"], 16)
            if wanted not in (1, 31337):
                raise WalletError(4902, f"Unrecognized chain {wanted}")
            self.chain_id = wanted
            return None
        if method == "eth_signTypedData_v4":
            signer, typed = params[0], json.loads(params[1])
            if signer.lower() != address(self.key).lower():
                raise WalletError(4100, "not the selected account")
            if typed["domain"]["chainId"] != self.chain_id:
                raise WalletError(4901, "typed data for another chain than the wallet's")
            if self.before_sign:
                self.before_sign()
            self.signed.append(typed)
            return "0x" + Account.sign_typed_data(self.key, full_message=typed).signature.hex().removeprefix("0x")
        raise WalletError(4200, f"unsupported method {method}")


class WalletError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Visits:
    """Everything a page did that it must not: console errors, uncaught exceptions, requests to
    any host but the service; and, per page checked, axe-core's serious or critical findings."""

    origin: str
    problems: list[str] = field(default_factory=list)
    allow_refusals: bool = False
    screenshots: list[Path] = field(default_factory=list)

    def watch(self, page) -> None:
        host = urlsplit(self.origin).netloc

        def console(message) -> None:
            if message.type != "error":
                return
            # A refused write is a 4xx answer the page shows in words; Chromium also logs each one.
            if self.allow_refusals and "the server responded with a status of 4" in message.text:
                return
            self.problems.append(f"console error on {page.url}: {message.text}")

        def request(request) -> None:
            parts = urlsplit(request.url)
            if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != host:
                self.problems.append(f"request to another host from {page.url}: {request.url}")

        page.on("console", console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught error on {page.url}: {error}"))
        page.on("request", request)

    def check(self, page, name: str) -> None:
        """axe-core on the page as it is, then a full-page screenshot under var/test-output."""
        page.wait_for_load_state("load")
        if not page.evaluate("typeof axe !== 'undefined'"):
            page.evaluate(AXE.read_text())
        result = page.evaluate("""async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at '
                     + v.nodes.map(n => n.target.join(' ')).join(', '));
        }""")
        self.problems.extend(f"axe on {name} ({page.url}): {v}" for v in result)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.screenshots.append(path)


def passkey_tab(browser, origin: str, visits: Visits, *, width: int = 1000, height: int = 900) -> SimpleNamespace:
    """A browser tab with no wallet (no window.ethereum) and a platform authenticator: a phone's
    or laptop's passkeys, with user verification (fingerprint, face or PIN), through the DevTools
    Protocol's virtual authenticator. `origin` must be http://localhost:<port>: a passkey's rp id is
    the page's host name, and WebAuthn needs a secure context."""
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=origin)
    page = context.new_page()
    visits.watch(page)
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )["authenticatorId"]
    return SimpleNamespace(context=context, page=page, cdp=cdp, authenticator=authenticator)
