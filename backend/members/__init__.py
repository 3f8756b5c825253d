"""Members: routes, schemas and the service that reads and prepares them."""
