"""Deploy one community: `ape run deploy --network ethereum:local:foundry [--params FILE]`.

Writes deployments/<network>.json (chain id, addresses, ABIs, deployment block), which the
backend reads. On a local network the deployer defaults to the first development account.
"""

from pathlib import Path

import click
from ape import accounts, chain
from ape.cli import ConnectedProviderCommand, account_option

from scripts._community import DEPLOYMENTS_DIR, CommunityParams, deploy_community, deployment_path, record_deployment


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
@click.option("--replace", is_flag=True, help="Deploy again even if this network already has the community.")
def cli(ecosystem, network, provider, account, params_file, deployments_dir, replace):
    params = CommunityParams.load(params_file)
    path = deployment_path(deployments_dir, ecosystem.name, network.name, provider.name)
    if not replace and _already_deployed(path, params.slug, chain.chain_id):
        click.echo(f"Community '{params.slug}' is already deployed on this chain ({path}); use --replace to redeploy.")
        return
    if account is None:
        if not network.is_local:
            raise click.UsageError("Name the deploying account with --account on a non-local network.")
        account = accounts.test_accounts[0]
    community = deploy_community(params, account, log=click.echo)
    record_deployment(path, community, chain.chain_id, f"{ecosystem.name}:{network.name}:{provider.name}")
    click.echo(f"Recorded in {path}")


def _already_deployed(path: Path, slug: str, chain_id: int) -> bool:
    import json

    if not path.exists():
        return False
    record = json.loads(path.read_text())
    community = record.get("communities", {}).get(slug)
    if record.get("chain_id") != chain_id or community is None:
        return False
    # A local chain restarted without its state file has the same id but no code there.
    return bool(chain.provider.get_code(community["contracts"]["governor"]))
