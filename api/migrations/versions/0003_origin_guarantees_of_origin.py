"""guarantees of origin: installations, batches of GOs and their holdings

Revision ID: 0003_origin
Revises: 0002
Create Date: 2026-11-30 07:49:39.078148

A batch is the GOs of one installation and production month (or one imported run), numbered
1…volume; its holdings split those serials between accounts, each serial in one holding.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003_origin'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def exact(precision: int, scale: int) -> sa.types.TypeEngine:
    """NUMERIC(p, s); on SQLite, whose NUMERIC is a float, the decimal as text."""
    return sa.Numeric(precision, scale).with_variant(sa.String(precision + 2), "sqlite")


def upgrade() -> None:
    op.create_table('go_batches',
    sa.Column('batch_id', sa.String(length=120), nullable=False),
    sa.Column('installation_id', sa.String(length=80), nullable=False),
    sa.Column('producer', sa.String(length=200), nullable=False),
    sa.Column('energy_source', sa.String(length=32), nullable=False),
    sa.Column('energy_carrier', sa.String(length=32), nullable=False),
    sa.Column('installation_type', sa.String(length=200), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('capacity_mw', exact(14, 3), nullable=False),
    sa.Column('commissioning_date', sa.Date(), nullable=False),
    sa.Column('investment_support', sa.String(length=500), nullable=False),
    sa.Column('support_scheme', sa.String(length=32), nullable=False),
    sa.Column('production_support', sa.String(length=200), nullable=False),
    sa.Column('contract_id', sa.String(length=100), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('production_start', sa.Date(), nullable=False),
    sa.Column('production_end', sa.Date(), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('volume', sa.BigInteger(), nullable=False),
    sa.Column('issued_to', sa.String(length=200), nullable=False),
    sa.Column('metered_kwh', sa.BigInteger(), nullable=False),
    sa.Column('carried_in_kwh', sa.Integer(), nullable=False),
    sa.Column('carried_out_kwh', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('recognition', sa.String(length=16), nullable=False),
    sa.Column('refusal_reason', sa.String(length=500), nullable=False),
    sa.Column('serial_width', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("origin IN ('issued', 'imported')", name=op.f('ck_go_batches_origin')),
    sa.CheckConstraint("recognition IN ('recognised', 'refused')", name=op.f('ck_go_batches_recognition')),
    sa.CheckConstraint('carried_in_kwh BETWEEN 0 AND 999 AND carried_out_kwh BETWEEN 0 AND 999', name=op.f('ck_go_batches_carried_below_one_mwh')),
    sa.CheckConstraint('production_end >= production_start', name=op.f('ck_go_batches_period')),
    sa.CheckConstraint('volume >= 0 AND metered_kwh >= 0', name=op.f('ck_go_batches_volume_not_negative')),
    sa.PrimaryKeyConstraint('batch_id', name=op.f('pk_go_batches'))
    )
    with op.batch_alter_table('go_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_go_batches_installation_id_production_end'), ['installation_id', 'production_end'], unique=False)
        batch_op.create_index(batch_op.f('ix_go_batches_month'), ['month'], unique=False)

    op.create_table('go_installations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('installation_id', sa.String(length=80), nullable=False),
    sa.Column('producer', sa.String(length=200), nullable=False),
    sa.Column('energy_source', sa.String(length=32), nullable=False),
    sa.Column('installation_type', sa.String(length=200), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('capacity_mw', exact(14, 3), nullable=False),
    sa.Column('commissioning_date', sa.Date(), nullable=False),
    sa.Column('investment_support', sa.String(length=500), nullable=False),
    sa.Column('support_scheme', sa.String(length=32), nullable=False),
    sa.Column('production_support', sa.String(length=200), nullable=False),
    sa.Column('contract_id', sa.String(length=100), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('energy_carrier', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('capacity_mw > 0', name=op.f('ck_go_installations_capacity_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_go_installations')),
    sa.UniqueConstraint('installation_id', name=op.f('uq_go_installations_installation_id'))
    )
    with op.batch_alter_table('go_installations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_go_installations_producer'), ['producer'], unique=False)

    op.create_table('go_holdings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.String(length=120), nullable=False),
    sa.Column('first_serial', sa.BigInteger(), nullable=False),
    sa.Column('last_serial', sa.BigInteger(), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('cancelled_on', sa.Date(), nullable=True),
    sa.Column('beneficiary', sa.String(length=200), nullable=True),
    sa.CheckConstraint("(status = 'cancelled') = (cancelled_on IS NOT NULL AND beneficiary IS NOT NULL)", name=op.f('ck_go_holdings_cancellation_named')),
    sa.CheckConstraint("status IN ('active', 'cancelled')", name=op.f('ck_go_holdings_status')),
    sa.CheckConstraint('first_serial >= 1 AND last_serial >= first_serial', name=op.f('ck_go_holdings_run')),
    sa.ForeignKeyConstraint(['batch_id'], ['go_batches.batch_id'], name=op.f('fk_go_holdings_batch_id_go_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_go_holdings')),
    sa.UniqueConstraint('batch_id', 'first_serial', name=op.f('uq_go_holdings_batch_id_first_serial'))
    )
    with op.batch_alter_table('go_holdings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_go_holdings_holder'), ['holder'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('go_holdings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_go_holdings_holder'))

    op.drop_table('go_holdings')
    with op.batch_alter_table('go_installations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_go_installations_producer'))

    op.drop_table('go_installations')
    with op.batch_alter_table('go_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_go_batches_month'))
        batch_op.drop_index(batch_op.f('ix_go_batches_installation_id_production_end'))

    op.drop_table('go_batches')
