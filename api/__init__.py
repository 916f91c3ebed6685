"""The Mzekari service: persistence (SQLAlchemy, Alembic) and the HTTP API (FastAPI).

It wraps the computation packages (`auction`, `settlement`, `treasury`), which stay free of
HTTP and database imports. Layers: `api.db` (tables), `api.uow` (unit of work and
repositories), `api.services` (use cases), `api.http` (routes and schemas).
"""
