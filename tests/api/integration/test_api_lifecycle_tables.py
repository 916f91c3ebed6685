"""Status history, the securities ledger and contract documents are append-only in the
database itself, and a status change needs a reason there too."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

REFUSED = [
    "UPDATE contract_status_events SET reason = 'forged'",
    "DELETE FROM contract_status_events",
    "UPDATE contract_documents SET sha256 = 'forged'",
    "DELETE FROM contract_documents",
    "UPDATE security_ledger SET amount_minor = 1",
    "DELETE FROM security_ledger",
]
TABLES = ("contract_status_events", "contract_documents", "security_ledger")


def _counts(engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES
        }


def test_history_ledger_and_documents_refuse_update_and_delete(engine, awarded):
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO security_ledger (round_id, bid_id, bidder, kind, amount_minor, "
                "currency, reason, recorded_at, recorded_by) VALUES ('T-2021', 'a1', "
                "'Alpha', 'held', 100, 'GEL', 'r', CURRENT_TIMESTAMP, 'k')"
            )
        )
    before = _counts(engine)
    assert all(before.values())
    for statement in REFUSED:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    assert _counts(engine) == before


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
