"""The route table: every route of the API and the web app is the one that answers its own paths.

FastAPI tries routes in the order they were included, and the service includes the routes members
use most first (backend/app.py), since each route tried before the right one costs a few
microseconds of every request. That order must never decide what a path means: here each route's
path, with a made-up value in each parameter, is answered for each of its methods by that route:
no route tried before it takes it (a literal path such as /claims/awaiting before /claims/{id})."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import _IncludedRouter
from starlette.routing import BaseRoute, Match, Mount

from backend.api import signed_submits
from backend.app import create_app
from backend.settings import Settings

# A value for each kind of path parameter, unlike any literal segment of a path.
_SAMPLES = {"int": "7", "path": "x7/y7"}


def _flat(routes: list) -> list:
    """The routes in the order they are tried, each included router's own routes in its place."""
    out = []
    for route in routes:
        if isinstance(route, _IncludedRouter):
            out.extend(_flat(route.effective_candidates()))
        else:
            out.append(route)
    return out


def _path_of(route) -> str:
    starlette = getattr(route, "starlette_route", None)
    return (starlette or route).path


def _methods_of(route) -> set[str]:
    starlette = getattr(route, "starlette_route", None)
    return set(getattr(starlette or route, "methods", None) or {"GET"})


def _sample(path: str) -> str:
    sample = re.sub(r"\{(\w+)(?::(\w+))?\}", lambda m: _SAMPLES.get(m.group(2) or "", "x7"), path)
    return sample if sample else "/"


def _answering(routes: list, path: str, method: str) -> int | None:
    """The index of the first route that takes `method` on `path`, as the router tries them."""
    scope = {"type": "http", "path": path, "root_path": "", "method": method, "path_params": {}}
    for index, route in enumerate(routes):
        if route.matches(scope)[0] == Match.FULL:
            return index
    return None


@pytest.fixture(scope="module")
def routes(env) -> list[BaseRoute]:
    settings = Settings(rpc_url=env.anvil.url, deployments_file=env.deployments, DATABASE_URL=env.database_url)
    return _flat(create_app(settings, run_indexer=False).router.routes)


def test_every_route_answers_its_own_paths(routes):
    assert len(routes) > 100  # the API's routes, twice (under /communities/{c} and at the top level), and the pages
    wrong = []
    for index, route in enumerate(routes):
        path = _sample(_path_of(route))
        if isinstance(getattr(route, "starlette_route", None) or route, Mount):
            path = path.rstrip("/") + "/x7.css"  # a file under a mount (the static files)
        for method in sorted(_methods_of(route) - {"HEAD"}):
            answering = _answering(routes, path, method)
            if answering != index:
                wrong.append(f"{method} {path}: {_path_of(routes[answering]) if answering is not None else 'none'}")
    assert not wrong, wrong


def test_the_writes_members_make_most_are_tried_first(routes):
    """Speed, not meaning: a claim or an attestation is matched against a score of routes, not a hundred."""
    for path in ("/communities/x7/claims", "/communities/x7/attestations", "/claims", "/attestations"):
        assert _answering(routes, path, "POST") < 24, path


def test_the_lean_door_takes_only_its_own_routes_paths(env):
    """The signed submits' middleware (backend/api/signed_submits.py) runs before the router: each
    path of every route that it would take is one FastAPI would give to a signed submit with the
    same function, and it takes every signed submit's path."""
    settings = Settings(rpc_url=env.anvil.url, deployments_file=env.deployments, DATABASE_URL=env.database_url)
    app = create_app(settings, run_indexer=False)
    submits = signed_submits.submit_routes(app)
    assert len({s.endpoint for s in submits}) >= 12  # claims, attestations, votes, ... (not one with a path id)
    routes = _flat(app.router.routes)
    for route in routes:
        path = _sample(_path_of(route))
        taken = [s for s in submits if s.path.match(path)]
        if "POST" not in _methods_of(route) or not taken:
            continue
        answering = routes[_answering(routes, path, "POST")]
        original = getattr(answering, "original_route", answering)
        assert signed_submits.is_signed_submit(original), path
        assert [s.endpoint for s in taken] == [original.endpoint], path
