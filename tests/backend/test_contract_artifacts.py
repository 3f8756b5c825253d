"""The compiled contracts committed in artifacts/ (deploying takes them instead of compiling) match
their sources: a change to contracts/, OpenZeppelin's version or the compiler settings without
`make artifacts` fails here, so the two never silently differ (scripts/_artifacts.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from scripts import _artifacts

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_artifacts_match_their_sources():
    reasons = _artifacts.stale_reasons()
    assert not reasons, "artifacts/ is stale: " + "; ".join(reasons) + ". Run `make artifacts` and commit artifacts/."


def test_every_contract_a_deployment_needs_has_its_abi_and_bytecode():
    manifest = json.loads((ROOT / "artifacts" / "manifest.json").read_text())
    needed = _artifacts.deployed_contracts()
    assert {"CommunityGovernor", "Membership", "PasskeyAccount"} <= set(needed)
    for name in needed:
        artifact = json.loads((ROOT / "artifacts" / f"{name}.json").read_text())
        assert artifact["contractName"] == name
        assert any(entry["type"] == "function" for entry in artifact["abi"])
        assert artifact["deploymentBytecode"]["bytecode"].startswith("0x6")  # PUSH1: creation code
        assert f"{name}.json" in manifest["contracts"]
    assert manifest["compiler_version"].startswith(manifest["inputs"]["compiler"]["version"] + "+")


def _checkout(tmp_path: Path) -> Path:
    """A copy of what the manifest reads: contracts/, the configs and the deploy script."""
    for name in ("contracts", "artifacts", "scripts"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns(".cache", "__pycache__"))
    for name in ("ape-config.yaml", "package-lock.json"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_a_changed_new_or_removed_source_makes_them_stale(tmp_path):
    root = _checkout(tmp_path)
    baseline = set(_artifacts.stale_reasons(root))  # as in the checkout (empty once committed)
    changed, removed = root / "contracts" / "Membership.sol", root / "contracts" / "interfaces" / "IERC5192.sol"
    changed.write_text(changed.read_text() + "\n// one more line\n")
    removed.unlink()
    (root / "contracts" / "Extra.sol").write_text("// SPDX-License-Identifier: MIT\npragma solidity ^0.8.0;\n")
    assert set(_artifacts.stale_reasons(root)) - baseline == {
        "contracts/Membership.sol changed",
        "contracts/interfaces/IERC5192.sol was removed",
        "contracts/Extra.sol is new",
    }


def test_other_openzeppelin_or_compiler_settings_make_them_stale(tmp_path):
    root = _checkout(tmp_path)
    config = (root / "ape-config.yaml").read_text()
    (root / "ape-config.yaml").write_text(config.replace("optimization_runs: 200", "optimization_runs: 1000"))
    lock = json.loads((root / "package-lock.json").read_text())
    lock["packages"]["node_modules/@openzeppelin/contracts"]["version"] = "5.8.0"
    (root / "package-lock.json").write_text(json.dumps(lock))
    reasons = _artifacts.stale_reasons(root)
    assert "the compiler settings in ape-config.yaml (solidity:) changed" in reasons
    assert any(reason.startswith("OpenZeppelin is now") and "5.8.0" in reason for reason in reasons)


def test_a_contract_the_deploy_names_without_its_artifact_makes_them_stale(tmp_path):
    root = _checkout(tmp_path)
    script = root / "scripts" / "_community.py"
    named = '"forwarder": "CommunityForwarder",'
    script.write_text(script.read_text().replace(named, named + ' "vault": "CommunityVault",'))
    reasons = _artifacts.stale_reasons(root)
    assert any("CommunityVault" in reason and reason.endswith("not in artifacts/") for reason in reasons)
