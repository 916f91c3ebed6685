"""The Mzekari service: persistence (SQLAlchemy, Alembic) and the HTTP API (FastAPI).

It wraps the computation packages (`auction`, `settlement`, `treasury`), which stay free of
HTTP and database imports. Layers: `api.db` (tables), `api.repositories` (queries),
`api.uow` (the unit of work that holds them), `api.services` (use cases), `api.http` (routes
and schemas), `api.web` (pages).
"""
