"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 13:42:04.933328
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def exact(precision: int, scale: int) -> sa.types.TypeEngine:
    """NUMERIC(p, s); on SQLite, whose NUMERIC is a float, the decimal as text."""
    return sa.Numeric(precision, scale).with_variant(sa.String(precision + 2), "sqlite")


# The audit log is append-only: the database itself rejects UPDATE and DELETE.
PG_AUDIT_GUARD = [
    """CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
    END $$""",
    """CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""",
]
SQLITE_AUDIT_GUARD = [
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END""",
]


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('producer', sa.String(length=200), nullable=True),
    sa.Column('secret_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(role = 'producer') = (producer IS NOT NULL)", name=op.f('ck_api_keys_producer_binding')),
    sa.CheckConstraint("role IN ('operator', 'producer', 'treasury', 'admin')", name=op.f('ck_api_keys_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_id', name=op.f('uq_api_keys_key_id'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_key_id', sa.String(length=32), nullable=False),
    sa.Column('actor_role', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity', sa.String(length=300), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_log_hash'))
    )
    op.create_table('forecast_jobs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('progress_done', sa.Integer(), nullable=False),
    sa.Column('progress_total', sa.Integer(), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_forecast_jobs_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forecast_jobs'))
    )
    op.create_table('fx_rates',
    sa.Column('pair', sa.String(length=7), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('rate', exact(14, 6), nullable=False),
    sa.CheckConstraint('rate > 0', name=op.f('ck_fx_rates_rate_positive')),
    sa.PrimaryKeyConstraint('pair', 'day', name=op.f('pk_fx_rates'))
    )
    op.create_table('meter_readings',
    sa.Column('contract_pk', sa.Integer(), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('energy_kwh', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('energy_kwh >= 0', name=op.f('ck_meter_readings_energy_not_negative')),
    sa.PrimaryKeyConstraint('contract_pk', 'ts', name=op.f('pk_meter_readings'))
    )
    op.create_table('price_series',
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('resolution_s', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_price_series'))
    )
    op.create_table('rounds',
    sa.Column('round_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.Column('clearing', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('awarded_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'open', 'closed', 'cleared', 'awarded')", name=op.f('ck_rounds_status')),
    sa.PrimaryKeyConstraint('round_id', name=op.f('pk_rounds'))
    )
    op.create_table('settlement_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('input_sha256', sa.String(length=64), nullable=False),
    sa.Column('basis_sha256', sa.String(length=64), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_runs')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_settlement_runs_idempotency_key')),
    sa.UniqueConstraint('month', 'input_sha256', 'basis_sha256', name=op.f('uq_settlement_runs_month_input_sha256_basis_sha256'))
    )
    with op.batch_alter_table('settlement_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_settlement_runs_month'), ['month'], unique=False)

    op.create_table('uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=50), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('first_ts', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_ts', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.CheckConstraint("kind IN ('prices', 'meters', 'fx')", name=op.f('ck_uploads_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_uploads')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_uploads_idempotency_key')),
    sa.UniqueConstraint('kind', 'target', 'content_sha256', name=op.f('uq_uploads_kind_target_content_sha256'))
    )
    op.create_table('awards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.String(length=100), nullable=False),
    sa.Column('bid_id', sa.String(length=100), nullable=False),
    sa.Column('bidder', sa.String(length=200), nullable=False),
    sa.Column('technology', sa.String(length=50), nullable=False),
    sa.Column('receipt', sa.String(length=64), nullable=False),
    sa.Column('accepted', sa.Boolean(), nullable=False),
    sa.Column('awarded_capacity_mw', exact(14, 3), nullable=False),
    sa.Column('awarded_annual_mwh', exact(16, 3), nullable=False),
    sa.Column('price_paid', exact(14, 2), nullable=True),
    sa.Column('budget_used', exact(20, 2), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.CheckConstraint('awarded_capacity_mw >= 0', name=op.f('ck_awards_capacity_not_negative')),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.round_id'], name=op.f('fk_awards_round_id_rounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_awards')),
    sa.UniqueConstraint('round_id', 'bid_id', name=op.f('uq_awards_round_id_bid_id'))
    )
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_awards_round_id'), ['round_id'], unique=False)

    op.create_table('bids',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.String(length=100), nullable=False),
    sa.Column('bid_id', sa.String(length=100), nullable=False),
    sa.Column('bidder', sa.String(length=200), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('receipt', sa.String(length=64), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_by', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.round_id'], name=op.f('fk_bids_round_id_rounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bids')),
    sa.UniqueConstraint('receipt', name=op.f('uq_bids_receipt')),
    sa.UniqueConstraint('round_id', 'bid_id', name=op.f('uq_bids_round_id_bid_id'))
    )
    with op.batch_alter_table('bids', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bids_bidder'), ['bidder'], unique=False)
        batch_op.create_index(batch_op.f('ix_bids_round_id'), ['round_id'], unique=False)

    op.create_table('contracts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.String(length=100), nullable=False),
    sa.Column('round_id', sa.String(length=100), nullable=True),
    sa.Column('bid_id', sa.String(length=100), nullable=True),
    sa.Column('producer', sa.String(length=200), nullable=False),
    sa.Column('scheme', sa.String(length=32), nullable=False),
    sa.Column('strike_price', exact(14, 2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('capacity_mw', exact(14, 3), nullable=False),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('capacity_mw > 0', name=op.f('ck_contracts_capacity_positive')),
    sa.CheckConstraint('end_date >= start_date', name=op.f('ck_contracts_period')),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.round_id'], name=op.f('fk_contracts_round_id_rounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contracts')),
    sa.UniqueConstraint('contract_id', name=op.f('uq_contracts_contract_id'))
    )
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contracts_producer'), ['producer'], unique=False)
        batch_op.create_index(batch_op.f('ix_contracts_round_id'), ['round_id'], unique=False)

    op.create_table('forecast_files',
    sa.Column('job_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['forecast_jobs.id'], name=op.f('fk_forecast_files_job_id_forecast_jobs')),
    sa.PrimaryKeyConstraint('job_id', 'name', name=op.f('pk_forecast_files'))
    )
    op.create_table('price_points',
    sa.Column('series', sa.String(length=50), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('price', exact(14, 2), nullable=False),
    sa.ForeignKeyConstraint(['series'], ['price_series.name'], name=op.f('fk_price_points_series_price_series')),
    sa.PrimaryKeyConstraint('series', 'ts', name=op.f('pk_price_points'))
    )
    op.create_table('statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('producer', sa.String(length=200), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('paid_to_producer_minor', sa.BigInteger(), nullable=False),
    sa.Column('paid_by_producer_minor', sa.BigInteger(), nullable=False),
    sa.Column('net_minor', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('net_minor = paid_to_producer_minor - paid_by_producer_minor', name=op.f('ck_statements_net_balances')),
    sa.CheckConstraint('paid_to_producer_minor >= 0 AND paid_by_producer_minor >= 0', name=op.f('ck_statements_directions')),
    sa.ForeignKeyConstraint(['run_id'], ['settlement_runs.id'], name=op.f('fk_statements_run_id_settlement_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statements')),
    sa.UniqueConstraint('run_id', 'producer', 'currency', name=op.f('uq_statements_run_id_producer_currency'))
    )
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statements_producer_month'), ['producer', 'month'], unique=False)
        batch_op.create_index(batch_op.f('ix_statements_run_id'), ['run_id'], unique=False)

    op.create_table('settlement_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.String(length=200), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.String(length=100), nullable=False),
    sa.Column('producer', sa.String(length=200), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('reference_price', exact(20, 6), nullable=True),
    sa.Column('reference_series', sa.String(length=50), nullable=True),
    sa.Column('eligible_kwh', sa.BigInteger(), nullable=False),
    sa.Column('excluded_kwh', sa.BigInteger(), nullable=False),
    sa.Column('rate', exact(20, 6), nullable=True),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('direction', sa.String(length=32), nullable=False),
    sa.Column('corrects_line_id', sa.String(length=200), nullable=True),
    sa.Column('adjusted_kind', sa.String(length=32), nullable=True),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_settlement_lines_statement_id_statements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_lines')),
    sa.UniqueConstraint('line_id', name=op.f('uq_settlement_lines_line_id'))
    )
    with op.batch_alter_table('settlement_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_settlement_lines_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_settlement_lines_month'), ['month'], unique=False)
        batch_op.create_index(batch_op.f('ix_settlement_lines_statement_id'), ['statement_id'], unique=False)


    guard = PG_AUDIT_GUARD if op.get_bind().dialect.name == "postgresql" else SQLITE_AUDIT_GUARD
    for statement in guard:
        op.execute(statement)


def downgrade() -> None:
    with op.batch_alter_table('settlement_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_settlement_lines_statement_id'))
        batch_op.drop_index(batch_op.f('ix_settlement_lines_month'))
        batch_op.drop_index(batch_op.f('ix_settlement_lines_contract_id'))

    op.drop_table('settlement_lines')
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statements_run_id'))
        batch_op.drop_index(batch_op.f('ix_statements_producer_month'))

    op.drop_table('statements')
    op.drop_table('price_points')
    op.drop_table('forecast_files')
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contracts_round_id'))
        batch_op.drop_index(batch_op.f('ix_contracts_producer'))

    op.drop_table('contracts')
    with op.batch_alter_table('bids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bids_round_id'))
        batch_op.drop_index(batch_op.f('ix_bids_bidder'))

    op.drop_table('bids')
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_awards_round_id'))

    op.drop_table('awards')
    op.drop_table('uploads')
    with op.batch_alter_table('settlement_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_settlement_runs_month'))

    op.drop_table('settlement_runs')
    op.drop_table('rounds')
    op.drop_table('price_series')
    op.drop_table('meter_readings')
    op.drop_table('fx_rates')
    op.drop_table('forecast_jobs')
    op.drop_table('audit_log')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_table('api_keys')
