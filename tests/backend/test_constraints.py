"""`make setup` installs constraints.txt as it is, with no resolving (`uv pip install --no-deps`,
then `uv pip check` for the dependencies of what it installed): so every requirement of
pyproject.toml, the service's and every extra's, must be pinned there, at a version it allows."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not an exact pin (name==version)"
            assert canonicalize_name(name) not in pins, f"constraints.txt pins {name} twice"
            pins[canonicalize_name(name)] = Version(version)
    return pins


def test_every_requirement_of_pyproject_is_pinned_in_constraints():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {})
    texts = [*project["dependencies"], *(text for extra in extras.values() for text in extra)]
    requirements = [Requirement(text) for text in texts]
    pins = _pins()
    unpinned, refused = [], []
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        if name == canonicalize_name(project["name"]) or (requirement.marker and not requirement.marker.evaluate()):
            continue  # the project's own extras; a platform this is not
        if name not in pins:
            unpinned.append(str(requirement))
        elif not requirement.specifier.contains(pins[name], prereleases=True):
            refused.append(f"{requirement} (constraints.txt pins {pins[name]})")
    assert not unpinned, f"pyproject.toml requires, and constraints.txt does not pin: {', '.join(unpinned)}"
    assert not refused, f"constraints.txt pins a version pyproject.toml does not allow: {', '.join(refused)}"
    assert len(requirements) > 20  # the service's, deploy's and dev's requirements were all read
