"""Status history and the securities ledger are append-only in the database itself, and a
status change needs a reason there too."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE contract_status_events SET reason = 'forged'",
        "DELETE FROM contract_status_events",
        "UPDATE security_ledger SET amount_minor = 1",
        "DELETE FROM security_ledger",
    ],
)
def test_history_and_ledger_refuse_update_and_delete(engine, awarded, statement):
    table = statement.split()[1] if statement.startswith("UPDATE") else statement.split()[2]
    with engine.begin() as connection:
        if table == "security_ledger":
            connection.execute(
                text(
                    "INSERT INTO security_ledger (round_id, bid_id, bidder, kind, amount_minor, "
                    "currency, reason, recorded_at, recorded_by) VALUES ('T-2021', 'a1', "
                    "'Alpha', 'held', 100, 'GEL', 'r', CURRENT_TIMESTAMP, 'k')"
                )
            )
        before = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    assert before > 0
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == before


def test_a_status_event_without_a_reason_is_refused_by_the_database(engine, awarded):
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO contract_status_events (contract_id, seq, action, from_status, "
                "to_status, effective_date, reason, decided_by, decided_role, recorded_at, "
                "audit_hash) VALUES ('T-2021-a1', 9, 'revoke', 'granted', 'revoked', "
                "'2021-07-16', '', 'k', 'operator', CURRENT_TIMESTAMP, 'h')"
            )
        )
