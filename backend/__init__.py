"""The service: a gateway that relays members' signed requests and an index of the chain's events."""
