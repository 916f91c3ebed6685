"""The migrations are the schema: they agree with the models, and the database itself
enforces the invariants (append-only audit log, balanced statements, key bindings)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from api.db.engine import make_engine, upgrade
from api.db.models import Base


def test_models_and_migrations_agree(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def _add_audit_row(connection) -> None:
    connection.execute(
        text(
            "INSERT INTO audit_log (at, actor_key_id, actor_role, action, entity, details, "
            "prev_hash, hash) VALUES (:at, 'k', 'admin', 'a', 'e', '{}', :p, :h)"
        ),
        {"at": datetime.now(UTC).replace(tzinfo=None), "p": "0" * 64, "h": "1" * 64},
    )


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log"]
)
def test_audit_log_rejects_update_and_delete(engine, statement):
    with engine.begin() as connection:
        _add_audit_row(connection)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT action FROM audit_log")).scalars().all() == ["a"]


def test_statement_net_must_equal_paid_to_minus_paid_by(engine):
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO settlement_runs (id, month, input_sha256, basis_sha256, line_count, "
                "created_at, created_by) VALUES (1, '2021-01', 'x', 'y', 0, :at, 'k')"
            ),
            {"at": datetime.now(UTC).replace(tzinfo=None)},
        )
    insert = text(
        "INSERT INTO statements (run_id, producer, month, currency, paid_to_producer_minor, "
        "paid_by_producer_minor, net_minor) VALUES (1, 'P', '2021-01', 'GEL', :to, :by, :net)"
    )
    with engine.begin() as connection:
        connection.execute(insert, {"to": 1000, "by": 250, "net": 750})
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert, {"to": 1000, "by": 250, "net": 751})


def test_producer_keys_must_name_their_producer(engine):
    insert = text(
        "INSERT INTO api_keys (key_id, name, role, producer, secret_sha256, "
        "created_at) VALUES (:k, 'n', :role, :producer, 'h', :at)"
    )
    at = datetime.now(UTC).replace(tzinfo=None)
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert, {"k": "a", "role": "producer", "producer": None, "at": at})
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert, {"k": "b", "role": "operator", "producer": "P", "at": at})
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert, {"k": "c", "role": "root", "producer": None, "at": at})


def test_downgrade_to_base_and_upgrade_again(database_url):
    from alembic import command

    from api.db.engine import alembic_config

    command.downgrade(alembic_config(database_url), "base")
    engine = make_engine(database_url)
    with engine.connect() as connection:
        tables = set(connection.dialect.get_table_names(connection)) - {"alembic_version"}
    engine.dispose()
    assert tables == set()
    upgrade(database_url)
