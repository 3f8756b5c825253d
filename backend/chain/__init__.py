"""Everything that talks to the chain: deployments, typed data, relaying, revert decoding."""
