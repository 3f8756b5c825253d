"""A community's whole history as one file anyone can check against the chain: written from the
index (`commons export --all`, GET .../archive), verified by rebuilding it from the node alone
(`commons archive verify`), and an index restored from the chain into an empty database
(`python -m backend restore`). The format: docs/developers/archive.md."""
