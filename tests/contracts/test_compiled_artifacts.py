"""The committed artifacts/ are what compiling contracts/ gives: each deployed contract's ABI and
creation bytecode equal those of ape's compile in this run, byte for byte (solc's metadata hash
included). tests/backend/test_contract_artifacts.py checks their manifest against the sources;
this checks the bytes themselves, where the contracts are compiled anyway."""

from __future__ import annotations

import pytest
from ape import project
from ethpm_types import ContractType

from scripts import _artifacts


@pytest.mark.parametrize("name", _artifacts.deployed_contracts())
def test_the_committed_artifacts_are_what_the_sources_compile_to(name):
    if reasons := _artifacts.stale_reasons():
        pytest.skip("artifacts/ is stale (test_contract_artifacts fails for it): " + "; ".join(reasons))
    committed = ContractType.model_validate_json((_artifacts.ARTIFACTS / f"{name}.json").read_text())
    compiled = getattr(project, name).contract_type
    assert committed.deployment_bytecode is not None and compiled.deployment_bytecode is not None
    assert committed.deployment_bytecode.bytecode == compiled.deployment_bytecode.bytecode
    assert committed.abi == compiled.abi
