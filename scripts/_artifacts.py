"""The compiled contracts that deploying needs, committed in artifacts/, so that a fresh clone
deploys without compiling (solcjs took about 20 s of `make run`'s first minute).

artifacts/ holds each deployed contract's ABI and bytecode (artifacts/<Name>.json, as ape's
ContractType reads it) and artifacts/manifest.json: what they were compiled from, namely the
sha256 of every source file in contracts/, the OpenZeppelin version, the compiler and its settings.
Deploying (scripts/_community.py) takes the contracts from artifacts/ while the manifest matches
what is in the checkout; otherwise ape compiles, as it did before. tests/backend/test_contract_artifacts.py
fails when they are stale, so they never silently differ from the sources.

    make artifacts                          # ape compile --force, then write artifacts/ (below)
    python -m scripts._artifacts            # write artifacts/ from ape's last compile (.build/)
    python -m scripts._artifacts --check    # exit 1, saying what changed, when artifacts/ is stale

Nothing here imports ape at module level: `make run` checks freshness in a fraction of a second.
Files starting with "_" are not listed as ape scripts.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
MANIFEST = "manifest.json"
OPENZEPPELIN = "@openzeppelin/contracts"


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml  # PyYAML, an ape dependency: in the virtualenv whenever deploying is possible

    return yaml.safe_load(path.read_text())


def inputs(root: Path = ROOT) -> dict[str, Any]:
    """What the compiled contracts depend on, as the checkout has it now: every source's sha256,
    the OpenZeppelin version (package-lock.json installs it; ape-config.yaml names it), the
    solc package (solcjs, behind the shim) and the compiler settings of ape-config.yaml."""
    contracts = root / "contracts"
    sources = {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(contracts.rglob("*.sol"))
        if ".cache" not in path.relative_to(contracts).parts  # ape's copy of the dependencies
    }
    config = _read_yaml(root / "ape-config.yaml")
    locked = json.loads((root / "package-lock.json").read_text())["packages"]
    dependencies = {d["name"]: d.get("version") for d in config.get("dependencies", [])}
    return {
        "sources": sources,
        "openzeppelin": {
            "npm": locked.get(f"node_modules/{OPENZEPPELIN}", {}).get("version"),
            "ape-config": dependencies.get("openzeppelin"),
        },
        "solc_npm": locked.get("node_modules/solc", {}).get("version"),
        "compiler": config.get("solidity", {}),
    }


def deployed_contracts(root: Path = ROOT) -> list[str]:
    """The contract types a deployment needs: CONTRACT_TYPES, EXTRA_ABIS, DEPLOYER_TYPES (the
    community factory's) and OTHER_TYPES of scripts/_community.py, read from its source (importing
    it would import ape)."""
    tree = ast.parse((root / "scripts" / "_community.py").read_text())
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id in ("CONTRACT_TYPES", "EXTRA_ABIS", "DEPLOYER_TYPES", "OTHER_TYPES")
            for t in node.targets
        ):
            names.extend(ast.literal_eval(node.value).values())
    return sorted(set(names))


def stale_reasons(root: Path = ROOT, artifacts: Path | None = None) -> list[str]:
    """Why artifacts/ does not match the checkout, in sentences; empty when it does."""
    artifacts = artifacts or root / "artifacts"
    manifest_path = artifacts / MANIFEST
    if not manifest_path.exists():
        return [f"there is no {manifest_path.relative_to(root)}"]
    recorded = json.loads(manifest_path.read_text())["inputs"]
    now = inputs(root)
    reasons = []
    before, after = recorded["sources"], now["sources"]
    reasons += [f"{path} changed" for path in sorted(before.keys() & after.keys()) if before[path] != after[path]]
    reasons += [f"{path} is new" for path in sorted(after.keys() - before.keys())]
    reasons += [f"{path} was removed" for path in sorted(before.keys() - after.keys())]
    if recorded["openzeppelin"] != now["openzeppelin"]:
        reasons.append(f"OpenZeppelin is now {now['openzeppelin']}, not {recorded['openzeppelin']}")
    if recorded["solc_npm"] != now["solc_npm"]:
        reasons.append(f"the solc package is now {now['solc_npm']}, not {recorded['solc_npm']}")
    if recorded["compiler"] != now["compiler"]:
        reasons.append("the compiler settings in ape-config.yaml (solidity:) changed")
    missing = [name for name in deployed_contracts(root) if not (artifacts / f"{name}.json").exists()]
    if missing:
        reasons.append(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not in artifacts/")
    return reasons


@functools.cache
def fresh() -> bool:
    return not stale_reasons()


def write(root: Path = ROOT) -> list[str]:
    """artifacts/ from ape's last compile (.build/__local__.json), which must have read the sources
    as they are now. The names of the files written."""
    build = json.loads((root / ".build" / "__local__.json").read_text())
    now = inputs(root)
    compiled = build.get("sources", {})
    behind = [
        path
        for path in now["sources"]
        if hashlib.sha256(str(compiled.get(path, {}).get("content", "")).encode()).hexdigest() != now["sources"][path]
    ]
    if behind:
        raise SystemExit(f"ape's last compile did not read {', '.join(behind)} as it is now: run `make artifacts`")
    [solidity] = [c for c in build["compilers"] if c["name"] == "solidity"]
    out = root / "artifacts"
    out.mkdir(exist_ok=True)
    written = []
    for name in deployed_contracts(root):
        contract = build["contractTypes"][name]
        artifact = {
            "contractName": name,
            "sourceId": contract["sourceId"],
            "abi": contract["abi"],
            "deploymentBytecode": {"bytecode": contract["deploymentBytecode"]["bytecode"]},
        }
        (out / f"{name}.json").write_text(json.dumps(artifact, indent=1) + "\n")
        written.append(f"{name}.json")
    manifest = {
        "about": "What artifacts/*.json were compiled from; `make artifacts` writes it (scripts/_artifacts.py).",
        "compiler_version": solidity["version"],
        "contracts": written,
        "inputs": now,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return [*written, MANIFEST]


class Contracts:
    """ape's `project` for deploying: `contracts.Membership` is a ContractContainer of artifacts/
    while the artifacts match the sources (no compile), else ape's project's own (ape compiles)."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return _container(name) if fresh() and (ARTIFACTS / f"{name}.json").exists() else _project(name)


@functools.cache
def _container(name: str) -> Any:
    from ape.contracts import ContractContainer
    from ethpm_types import ContractType

    return ContractContainer(ContractType.model_validate_json((ARTIFACTS / f"{name}.json").read_text()))


def _project(name: str) -> Any:
    from ape import project

    return getattr(project, name)


contracts = Contracts()


def main(argv: list[str]) -> int:
    if argv[1:] == ["--check"]:
        reasons = stale_reasons()
        if reasons:
            print(
                "The compiled contracts in artifacts/ are stale: " + "; ".join(reasons) + ". "
                "Run `make artifacts` and commit artifacts/ (until then, deploying compiles).",
                file=sys.stderr,
            )
            return 1
        print("artifacts/ matches contracts/, OpenZeppelin and the compiler settings")
        return 0
    if argv[1:]:
        print(__doc__, file=sys.stderr)
        return 2
    written = write()
    print(f"==> artifacts/: {', '.join(written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
