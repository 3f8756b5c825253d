"""Static analysis gate: slither over contracts/, through the project's solc shim in
standard-JSON mode (the shim has no --combined-json, see TOOLCHAIN.md).

Slither runs unfiltered, OpenZeppelin included, so that paths through the library (for
example a reentrancy through ERC721Utils) are still seen; a finding is ours when its first
element lies in contracts/. The check fails on any High or Medium finding of ours, and on any
Low finding not listed with a reason in slither-accepted.json; it also fails on an accepted
entry that no longer matches a finding, so the list cannot go stale. Informational and
optimization findings are counted and printed, not gated.

Run: .venv/bin/python tests/static/slither_check.py   (make test runs it)
"""

from __future__ import annotations

import glob
import inspect
import json
import logging
import os
import sys
import time
from collections import Counter
from pathlib import Path

from crytic_compile import CryticCompile
from crytic_compile.platform.solc_standard_json import SolcStandardJson
from slither import Slither
from slither.detectors import all_detectors
from slither.detectors.abstract_detector import AbstractDetector

ROOT = Path(__file__).resolve().parents[2]
ACCEPTED = Path(__file__).with_name("slither-accepted.json")
SOLC = ".solcx/solc-v0.8.37"
REMAPS = "@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"
GATED = ("High", "Medium", "Low")


def element_key(element: dict) -> str:
    """Contract.function (or Contract, or the element's name): stable across line moves."""
    parent = element.get("type_specific_fields", {}).get("parent", {})
    if element.get("type") == "function" and parent.get("name"):
        signature = element.get("type_specific_fields", {}).get("signature", element.get("name"))
        return f"{parent['name']}.{signature}"
    return element.get("name", "?")


def run_slither() -> list[dict]:
    # A platform object rather than a path: with foundry.toml at the root, crytic-compile
    # would otherwise pick forge, whose build-info solcjs does not produce.
    # Built as forge and ape build them (foundry.toml, ape-config.yaml): without the optimizer,
    # OpenZeppelin's P256 (PasskeyAccount's fallback when a chain has no P-256 precompile) does
    # not compile (stack too deep). Slither reads the source, so its findings do not depend on it.
    settings = {"optimizer": {"enabled": True, "runs": 200}, "evmVersion": "cancun"}
    standard_json = SolcStandardJson({"settings": settings})
    standard_json.add_source_files(sorted(glob.glob("contracts/*.sol")))
    compilation = CryticCompile(standard_json, solc=SOLC, solc_remaps=REMAPS)
    slither = Slither(compilation)
    for _, detector in inspect.getmembers(all_detectors, inspect.isclass):
        if issubclass(detector, AbstractDetector):
            slither.register_detector(detector)
    return [finding for results in slither.run_detectors() for finding in results]


def main() -> int:
    os.chdir(ROOT)
    # solc's warnings about OpenZeppelin's sources are not findings.
    logging.getLogger("CryticCompile").setLevel(logging.ERROR)
    started = time.monotonic()
    findings = run_slither()
    ours = [
        f
        for f in findings
        if f["elements"]
        and f["elements"][0].get("source_mapping", {}).get("filename_relative", "").startswith("contracts/")
    ]
    accepted = json.loads(ACCEPTED.read_text())["accepted"]
    accepted_keys = {(entry["check"], entry["element"]): entry for entry in accepted}
    for entry in accepted:
        if not entry.get("reason", "").strip():
            print(f"slither-accepted.json: {entry['check']} {entry['element']} has no reason")
            return 1

    failures, used = [], set()
    for finding in ours:
        if finding["impact"] not in GATED:
            continue
        key = (finding["check"], element_key(finding["elements"][0]))
        description = finding["description"].strip().splitlines()[0]
        if finding["impact"] == "Low" and key in accepted_keys:
            used.add(key)
            print(f"  accepted  Low     {key[0]:<24} {key[1]}: {accepted_keys[key]['reason']}")
        else:
            failures.append(f"  FINDING   {finding['impact']:<7} {key[0]:<24} {description}")
    stale = [
        f"  STALE     accepted entry matches no finding: {check} {element}"
        for check, element in accepted_keys
        if (check, element) not in used
    ]

    by_impact = Counter(f["impact"] for f in ours)
    print(
        f"slither {len(findings)} findings in all (OpenZeppelin included), {len(ours)} in contracts/: "
        + ", ".join(f"{impact} {by_impact.get(impact, 0)}" for impact in (*GATED, "Informational", "Optimization"))
        + f" ({time.monotonic() - started:.1f} s)"
    )
    for line in failures + stale:
        print(line)
    if failures or stale:
        print(
            "slither check FAILED: fix the finding, or accept a Low one with its reason in "
            "tests/static/slither-accepted.json"
        )
        return 1
    print("slither check passed: 0 High, 0 Medium, every Low fixed or accepted with a reason")
    return 0


if __name__ == "__main__":
    sys.exit(main())
