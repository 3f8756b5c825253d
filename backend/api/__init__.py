"""The HTTP API: FastAPI routers over the services."""
