"""Whoever holds the database cannot rewrite history undetected: each tampering below is done
directly in the database (append-only triggers dropped first, as the database's owner can),
and `GET /api/audit/verify` catches it."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from api.db.models import AuditEntry
from api.services.audit import GENESIS_HASH, entry_hash

DROP_GUARDS = {
    "sqlite": ["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"],
    "postgresql": ["ALTER TABLE audit_log DISABLE TRIGGER USER"],
}


def _as_owner(engine, *statements: str, **params) -> None:
    with engine.begin() as connection:
        for statement in DROP_GUARDS[engine.dialect.name]:
            connection.execute(text(statement))
        for statement in statements:
            connection.execute(text(statement), params)


def _verify(client, auth, **query) -> dict:
    response = client.get("/api/audit/verify", params=query, headers=auth("operator"))
    assert response.status_code == 200, response.text
    return response.json()


def _run_entry_id(client, auth) -> int:
    entries = client.get("/api/audit", headers=auth("operator")).json()["items"]
    return next(e["id"] for e in entries if e["action"] == "settlement.run")


def test_a_posted_amount_raised_in_the_database_is_detected(client, auth, engine, settled):
    statement = client.get("/api/statements", headers=auth("producer")).json()["items"][0]
    served = client.get(f"/api/statements/{statement['id']}", headers=auth("producer")).json()
    head = served["audit_head"]
    untouched = _verify(client, auth, head_id=head["id"], head_hash=head["hash"])
    assert untouched["valid"] and untouched["signatures_checked"]
    # The award's contracts and the run's amounts.
    assert untouched["hashes_recomputed"] == 2 and untouched["entries"] == head["id"]
    csv = client.get(f"/api/statements/{statement['id']}/csv", headers=auth("producer"))
    assert csv.headers["x-audit-head"] == f"{head['id']}:{head['hash']}"
    # +1,000,000.00 GEL on a statement, its totals kept consistent so every CHECK still holds.
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE statements SET net_minor = net_minor + 100000000, "
                "paid_to_producer_minor = paid_to_producer_minor + 100000000 "
                "WHERE id = (SELECT min(id) FROM statements)"
            )
        )
    result = _verify(client, auth)
    assert not result["valid"]
    assert result["first_bad_id"] == _run_entry_id(client, auth)
    assert "amounts" in result["message"]


def test_a_strike_price_changed_in_the_database_is_detected(client, auth, engine, awarded):
    assert _verify(client, auth)["valid"]
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE contracts SET strike_price = '250.50' WHERE contract_id = 'T-2021-a1'")
        )
    result = _verify(client, auth)
    entries = client.get("/api/audit", headers=auth("operator")).json()["items"]
    award = next(e["id"] for e in entries if e["action"] == "round.award")
    assert not result["valid"] and result["first_bad_id"] == award
    assert "contracts" in result["message"]


def test_an_entry_rewritten_with_its_chain_recomputed_is_detected(client, auth, engine, settled):
    with Session(engine) as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    # The forger changes entry 2's details and re-hashes every entry from there on, as the
    # chain alone allows; it cannot sign them without the key.
    forged, prev = [], GENESIS_HASH
    for row in rows:
        details = '{"forged":true}' if row.id == 2 else row.details
        fields = (row.at, row.actor_key_id, row.actor_role, row.action, row.entity, details)
        digest = entry_hash(prev, *fields)
        forged.append({"id": row.id, "details": details, "prev": prev, "hash": digest})
        prev = digest
    _as_owner(engine, "UPDATE audit_log SET hash = 'tmp' || id")
    with engine.begin() as connection:
        for entry in forged:
            connection.execute(
                text(
                    "UPDATE audit_log SET details = :details, prev_hash = :prev, hash = :hash "
                    "WHERE id = :id"
                ),
                entry,
            )
    result = _verify(client, auth)
    assert not result["valid"] and result["first_bad_id"] == 2
    assert "not signed" in result["message"]


def test_newest_entries_deleted_are_detected_by_an_earlier_head(client, auth, engine, settled):
    results = client.get("/api/rounds/T-2021/results", headers=auth("treasury")).json()
    head = results["audit_head"]
    assert _verify(client, auth, head_id=head["id"], head_hash=head["hash"])["valid"]
    _as_owner(engine, "DELETE FROM audit_log WHERE id >= :first", first=head["id"] - 1)
    # The shortened chain is still a consistent, signed chain ...
    assert _verify(client, auth)["valid"]
    # ... but not the one whose head was handed out.
    result = _verify(client, auth, head_id=head["id"], head_hash=head["hash"])
    assert not result["valid"] and result["first_bad_id"] == head["id"]


def test_a_partial_or_malformed_head_is_refused(client, auth):
    for query in ({"head_id": 1}, {"head_hash": "0" * 64}, {"head_id": 1, "head_hash": "xyz"}):
        response = client.get("/api/audit/verify", params=query, headers=auth("operator"))
        assert response.status_code == 422, query
