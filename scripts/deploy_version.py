"""Deploy the next version of a community's badge contract: `ape run deploy_version --network
ethereum:local:foundry [--community SLUG]`.

The new version (contracts/versions/ContributionBadgeV2.sol) names the version in use as its
predecessor, under the same membership, registry, forwarder, owner (the timelock) and metadata
writer; it takes no write until the community's vote moves the records to it and they are carried
over (docs/developers/versions.md). Prints its address and the proposal action that moves the
records: propose it (the Propose page, or POST .../proposals), and once the vote passes and runs,
the service carries every record over by itself. The deployments file is left as it is: the
service learns of the move from the chain.
"""

import json
from pathlib import Path

import click
from ape import accounts, chain
from ape.cli import ConnectedProviderCommand, account_option

from scripts._artifacts import contracts as project
from scripts._community import DEPLOYMENTS_DIR, ZERO_ADDRESS, _deploy, deployment_path, read_deployments


@click.command(cls=ConnectedProviderCommand)
@account_option(prompt=False)
@click.option("--community", "slug", default=None, help="The community's slug (default: the file's only one).")
@click.option(
    "--deployments-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEPLOYMENTS_DIR,
    show_default="deployments/",
    help="Where <network>.json is (tests point this at a temporary folder).",
)
def cli(ecosystem, network, provider, account, slug, deployments_dir):
    path = deployment_path(deployments_dir, ecosystem.name, network.name, provider.name)
    communities = read_deployments(path, chain.chain_id).get("communities", {})
    if slug is None and len(communities) == 1:
        [slug] = communities
    if slug not in communities:
        known = ", ".join(sorted(communities)) or "none"
        raise click.UsageError(f"Name the community with --community: {path} records {known}.")
    if account is None:
        if not network.is_local:
            raise click.UsageError("Name the deploying account with --account on a non-local network.")
        account = accounts.test_accounts[0]
    contracts = communities[slug]["contracts"]
    registry = project.IndicatorRegistry.at(contracts["registry"])
    # Where the records are now: the version the registry names, or the one deployed.
    current_address = registry.records()
    if current_address == ZERO_ADDRESS:
        current_address = contracts["badge"]
    current = project.ContributionBadge.at(current_address)
    click.echo(f"Deploying version {current.version() + 1} of community '{slug}''s badge contract")
    successor, _ = _deploy(
        account,
        project.ContributionBadgeV2,
        current.name(),
        current.symbol(),
        current.membership(),
        current.registry(),
        current.trustedForwarder(),
        current.owner(),
        current.metadata(),
        current_address,
    )
    click.echo(f"  version {successor.version()} at {successor.address}, naming {current_address}")
    action = {"type": "move_records", "from_version": current_address, "to_version": successor.address}
    click.echo("Propose this action to move the community's records to it:")
    click.echo(json.dumps(action))
