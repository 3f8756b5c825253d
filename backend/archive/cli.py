"""`commons archive export` (and `commons export --all`): the community's archive from the service,
into a file; `commons archive verify FILE`: that file checked against the chain alone, from a node
(docs/stewards/backups.md). `python -m backend restore` rebuilds an index into an empty database.

Exit codes of verify: 0 the archive matches the chain; 1 it differs (each difference is named), or
the chain no longer holds the block as the archive saw it; 2 not an archive, or nothing to check it
with (another chain, no ABIs for its contracts); 3 the node is unavailable (nothing was compared,
and nothing is left behind)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import click
import httpx

from backend.archive.verify import CannotCheck, NotAnArchive, node_refused, read_header, summary, verify
from backend.chain.deployments import Deployments, DeploymentsError
from backend.chain.rpc import RpcError
from backend.cli.language import Group, option
from backend.errors import DomainError, NodeUnavailable
from backend.i18n import N_
from backend.i18n import gettext as _
from backend.units import number

# The exit codes of `commons` (backend/cli/main.py).
OK, REFUSED, USAGE, UNAVAILABLE = 0, 1, 2, 3
# The archive is written by the service before its first byte: a long history takes a while.
_READ_TIMEOUT_SECONDS = 600.0


def _exit(code: int, message: str) -> click.ClickException:
    from backend.cli.main import Exit  # the command line's own, imported when raised: main imports this module

    return Exit(code, message)


@click.group(
    cls=Group,
    help=N_(
        "The community's whole history in one file anyone can check against the chain: export it, verify it. "
        "(An index is restored from the chain into an empty database by python -m backend restore.)"
    ),
)
def archive() -> None:
    pass


@archive.command("export", help=N_("The community's archive from the service (JSON Lines), as commons export --all."))
@option("--output", "-o", type=click.Path(dir_okay=False), help=N_("Write to this file (default: stdout)"))
@click.pass_obj
def export_command(out: Any, output: str | None) -> None:
    export_all(out, output)


def export_all(out: Any, output: str | None) -> None:
    """GET .../archive into `output` (written beside it, then renamed: a download cut short leaves no
    file that looks whole), or to stdout."""
    client = out.client
    target = Path(output) if output else None
    partial = target.with_name(target.name + ".part") if target else None
    size = 0
    try:
        with client.http.stream(
            "GET", client.prefix + "/archive", timeout=httpx.Timeout(30.0, read=_READ_TIMEOUT_SECONDS)
        ) as response:
            if response.status_code >= 400:
                response.read()
                out.call("GET", "/archive")  # raises with the problem, as every command says it
            sink = partial.open("wb") if partial else click.get_binary_stream("stdout")
            try:
                for chunk in response.iter_bytes():
                    sink.write(chunk)
                    size += len(chunk)
            finally:
                if partial:
                    sink.close()
    except httpx.HTTPError as exc:
        if partial:
            partial.unlink(missing_ok=True)
        raise _exit(
            UNAVAILABLE,
            _(
                "the service at %(api)s is unavailable (%(kind)s: %(why)s)",
                api=out.api,
                kind=type(exc).__name__,
                why=exc,
            ),
        ) from exc
    if target and partial:
        os.replace(partial, target)
        header = read_header(target)
        out.progress(
            _(
                "wrote the archive of community %(slug)s as of block %(block)s: %(size)s bytes to %(path)s",
                slug=header.community.slug,
                block=number(header.as_of.block_number),
                size=number(size),
                path=target,
            )
        )


class _Progress:
    """Blocks rebuilt so far, on stderr, at most once a second, and the last."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self._said = 0.0

    def __call__(self, reached: int, wanted: int) -> None:
        now = time.monotonic()
        if reached < wanted and now - self._said < 1.0:
            return
        self._said = now
        self.out.progress(
            _(
                "rebuilding from the chain: block %(block)s of %(wanted)s",
                block=number(reached),
                wanted=number(wanted),
            )
        )


@archive.command(
    "verify",
    help=N_(
        "Check an archive against the chain alone: rebuild it from the node, into a temporary index, as of the "
        "archive's block, and compare byte for byte; name what differs. Exit 0: it matches; 1: it differs; 2: not "
        "an archive, or nothing to check it with; 3: the node is unavailable."
    ),
)
@option(
    "--rpc",
    envvar="CC_RPC_URL",
    help=N_("The chain node's JSON-RPC address (CC_RPC_URL; default: the service's setting)"),
)
@option(
    "--deployments",
    envvar="CC_DEPLOYMENTS_FILE",
    type=click.Path(dir_okay=False),
    help=N_("A deployments file of the same contracts' version, for their ABIs (CC_DEPLOYMENTS_FILE)"),
)
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_obj
def verify_command(out: Any, file: str, rpc: str | None, deployments: str | None) -> None:
    if rpc is None or deployments is None:
        from backend.settings import Settings

        settings = Settings()
        rpc = rpc or settings.rpc_url
        deployments = deployments or str(settings.deployments_file)
    try:
        abis = Deployments.load(Path(deployments)).abis
    except DeploymentsError as exc:
        raise _exit(USAGE, _("cannot read the contracts' ABIs: %(why)s", why=exc)) from exc
    try:
        result = verify(Path(file), rpc, abis, _Progress(out))
    except NotAnArchive as exc:
        raise _exit(USAGE, str(exc)) from exc
    except CannotCheck as exc:
        raise _exit(exc.code, _("cannot check the archive: %(why)s", why=exc)) from exc
    except NodeUnavailable as exc:
        raise _exit(
            UNAVAILABLE, _("cannot check the archive: %(why)s (nothing was compared)", why=exc.detail.rstrip("."))
        ) from exc
    except DomainError as exc:
        raise _exit(UNAVAILABLE, _("cannot check the archive: %(why)s", why=exc.detail)) from exc
    except RpcError as exc:
        raise _exit(UNAVAILABLE, _("cannot check the archive: %(why)s", why=node_refused(exc))) from exc
    header = result.header
    out.output(
        {
            "matches": result.matches,
            "community": header.community.slug,
            "chain_id": header.chain_id,
            "as_of": header.as_of.model_dump(),
            "records": result.records,
            "differences": result.count,
            "shown": result.differences,
        },
        summary(result),
    )
    if not result.matches:
        sys.exit(REFUSED)
