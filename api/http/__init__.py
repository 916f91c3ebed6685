"""The HTTP layer: routes, schemas, dependencies and the one error handler."""
