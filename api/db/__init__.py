"""Tables (SQLAlchemy 2 declarative models), engines and the Alembic entry point."""
