"""Create one community: `ape run deploy --network ethereum:local:foundry [--params FILE]`.

The community is created through the chain's CommunityFactory, in one transaction; the factory
itself is deployed first when the deployments file records none on this chain (once per chain).
Writes deployments/<network>.json (chain id, the factory, addresses, ABIs, deployment block),
which the backend reads; a service already running learns of the community from the factory's
event, without the file. Works on a chain that mines a block a second (as `make run` leaves its
chain) as on one that mines each transaction. On a local network the deployer defaults to the
first development account.
"""

from pathlib import Path

import click
from ape import accounts, chain
from ape.cli import ConnectedProviderCommand, account_option

from scripts._community import (
    DEPLOYMENTS_DIR,
    CommunityParams,
    create_community,
    deploy_factory,
    deployment_path,
    read_deployments,
    record_deployment,
    recorded_factory,
)


@click.command(cls=ConnectedProviderCommand)
@account_option(prompt=False)
@click.option(
    "--params",
    "params_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=Path("communities/example.json"),
    show_default=True,
    help="The community's founding parameters.",
)
@click.option(
    "--deployments-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEPLOYMENTS_DIR,
    show_default="deployments/",
    help="Where to write <network>.json (tests point this at a temporary folder).",
)
@click.option(
    "--replace",
    is_flag=True,
    help="Create it again even if this network's file has the community (the factory must not hold its slug).",
)
def cli(ecosystem, network, provider, account, params_file, deployments_dir, replace):
    try:
        params = CommunityParams.load(params_file)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    path = deployment_path(deployments_dir, ecosystem.name, network.name, provider.name)
    network_choice = f"{ecosystem.name}:{network.name}:{provider.name}"
    record = read_deployments(path, chain.chain_id)
    if account is None:
        if not network.is_local:
            raise click.UsageError("Name the deploying account with --account on a non-local network.")
        account = accounts.test_accounts[0]
    factory = recorded_factory(record)
    if not replace and _already_deployed(record, params.slug):
        click.echo(f"Community '{params.slug}' is already deployed on this chain ({path}); use --replace to redeploy.")
        if factory is None:
            # A chain from before the factory: the service started on this file will follow it.
            record_deployment(path, None, chain.chain_id, network_choice, deploy_factory(account, log=click.echo))
            click.echo(f"Recorded the community factory in {path}")
        return
    factory = factory or deploy_factory(account, log=click.echo)
    try:
        community = create_community(params, account, factory, log=click.echo)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    record_deployment(path, community, chain.chain_id, network_choice, factory)
    click.echo(f"Recorded in {path}")


def _already_deployed(record: dict, slug: str) -> bool:
    community = record.get("communities", {}).get(slug)
    # A local chain restarted without its state file has the same id but no code there.
    return community is not None and bool(chain.provider.get_code(community["contracts"]["governor"]))
