"""privileged-producer status (per contract, with its history), bid securities, the
standard-form contract documents, standstill and objections

Revision ID: 0005_lifecycle
Revises: 0004_readers
Create Date: 2026-11-30 08:30:00.000000

Contracts awarded before this revision have no status row: settlement pays them over their
whole term, as before. Status events and security entries are append-only, like the audit log.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005_lifecycle'
down_revision: str | None = '0004_readers'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ('contract_status_events', 'security_ledger', 'contract_documents')


def _guards(dialect: str) -> list[str]:
    if dialect == 'postgresql':
        out = ["""CREATE FUNCTION lifecycle_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
        END $$"""]
        for table in APPEND_ONLY:
            out += [
                f"""CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION lifecycle_append_only()""",
                f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION lifecycle_append_only()""",
            ]
        return out
    out = []
    for table in APPEND_ONLY:
        for op_name in ('UPDATE', 'DELETE'):
            out.append(
                f"""CREATE TRIGGER {table}_no_{op_name.lower()} BEFORE {op_name} ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op_name} refused'); END"""
            )
    return out


def upgrade() -> None:
    op.create_table('contract_lifecycles',
    sa.Column('contract_id', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('term_from', sa.String(length=16), nullable=False),
    sa.Column('term_years', sa.Integer(), nullable=False),
    sa.Column('granted_on', sa.Date(), nullable=False),
    sa.Column('commissioning_deadline', sa.Date(), nullable=False),
    sa.Column('milestone_date', sa.Date(), nullable=True),
    sa.Column('longstop_date', sa.Date(), nullable=True),
    sa.Column('commissioned_on', sa.Date(), nullable=True),
    sa.Column('last_effective', sa.Date(), nullable=False),
    sa.CheckConstraint("status IN ('granted', 'commissioned', 'suspended', 'revoked', 'terminated', 'expired')", name=op.f('ck_contract_lifecycles_status')),
    sa.CheckConstraint("term_from IN ('start', 'commissioning')", name=op.f('ck_contract_lifecycles_term_from')),
    sa.CheckConstraint('term_years BETWEEN 1 AND 40', name=op.f('ck_contract_lifecycles_term_years')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.contract_id'], name=op.f('fk_contract_lifecycles_contract_id_contracts')),
    sa.PrimaryKeyConstraint('contract_id', name=op.f('pk_contract_lifecycles'))
    )
    op.create_table('contract_status_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.String(length=100), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_by', sa.String(length=32), nullable=False),
    sa.Column('decided_role', sa.String(length=16), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('audit_hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint("action IN ('grant', 'commission', 'suspend', 'resume', 'revoke', 'terminate', 'expire')", name=op.f('ck_contract_status_events_action')),
    sa.CheckConstraint("to_status IN ('granted', 'commissioned', 'suspended', 'revoked', 'terminated', 'expired')", name=op.f('ck_contract_status_events_to_status')),
    sa.CheckConstraint('length(reason) > 0', name=op.f('ck_contract_status_events_reason_given')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.contract_id'], name=op.f('fk_contract_status_events_contract_id_contracts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_status_events')),
    sa.UniqueConstraint('contract_id', 'seq', name=op.f('uq_contract_status_events_contract_id_seq'))
    )
    with op.batch_alter_table('contract_status_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_status_events_contract_id'), ['contract_id'], unique=False)

    op.create_table('round_security_rules',
    sa.Column('round_id', sa.String(length=100), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('set_by', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.round_id'], name=op.f('fk_round_security_rules_round_id_rounds')),
    sa.PrimaryKeyConstraint('round_id', name=op.f('pk_round_security_rules'))
    )
    op.create_table('security_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.String(length=100), nullable=False),
    sa.Column('bid_id', sa.String(length=100), nullable=False),
    sa.Column('bidder', sa.String(length=200), nullable=False),
    sa.Column('contract_id', sa.String(length=100), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=32), nullable=False),
    sa.CheckConstraint("kind IN ('held', 'returned', 'drawn')", name=op.f('ck_security_ledger_kind')),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_security_ledger_amount_positive')),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.round_id'], name=op.f('fk_security_ledger_round_id_rounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_ledger'))
    )
    with op.batch_alter_table('security_ledger', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_security_ledger_bidder'), ['bidder'], unique=False)
        batch_op.create_index(batch_op.f('ix_security_ledger_round_id_bid_id'), ['round_id', 'bid_id'], unique=False)

    op.create_table('contract_documents',
    sa.Column('contract_id', sa.String(length=100), nullable=False),
    sa.Column('form_version', sa.String(length=50), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.contract_id'], name=op.f('fk_contract_documents_contract_id_contracts')),
    sa.PrimaryKeyConstraint('contract_id', name=op.f('pk_contract_documents'))
    )
    op.create_table('round_standstills',
    sa.Column('round_id', sa.String(length=100), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('set_by', sa.String(length=32), nullable=False),
    sa.CheckConstraint('days BETWEEN 0 AND 90', name=op.f('ck_round_standstills_days')),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.round_id'], name=op.f('fk_round_standstills_round_id_rounds')),
    sa.PrimaryKeyConstraint('round_id', name=op.f('pk_round_standstills'))
    )
    op.create_table('round_objections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.String(length=100), nullable=False),
    sa.Column('producer', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('filed_by', sa.String(length=32), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('upheld', sa.Boolean(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_by', sa.String(length=32), nullable=True),
    sa.CheckConstraint('(answer IS NULL) = (upheld IS NULL)', name=op.f('ck_round_objections_answer_complete')),
    sa.CheckConstraint('length(text) > 0', name=op.f('ck_round_objections_text_given')),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.round_id'], name=op.f('fk_round_objections_round_id_rounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_objections'))
    )
    with op.batch_alter_table('round_objections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_objections_round_id'), ['round_id'], unique=False)

    for statement in _guards(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    with op.batch_alter_table('round_objections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_objections_round_id'))
    op.drop_table('round_objections')
    op.drop_table('round_standstills')
    op.drop_table('contract_documents')
    with op.batch_alter_table('security_ledger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_security_ledger_round_id_bid_id'))
        batch_op.drop_index(batch_op.f('ix_security_ledger_bidder'))
    op.drop_table('security_ledger')
    op.drop_table('round_security_rules')
    with op.batch_alter_table('contract_status_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_status_events_contract_id'))
    op.drop_table('contract_status_events')
    op.drop_table('contract_lifecycles')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION lifecycle_append_only()')
