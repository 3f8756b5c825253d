"""Moving a community's records to a later version of the badge contract: the service carries the
records over once the community's vote moved them (carrier.py). Following them across versions is
the index's (backend/indexer/versions.py); the vote is a proposal action (move_records)."""
