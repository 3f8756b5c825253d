"""The index: the contracts' events followed into a SQL database, and the projections reads use."""
