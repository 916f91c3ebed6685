"""meter readings carry curtailed and guarantee-of-origin energy; statements show reductions;
CPI values for indexed strike prices; generation profiles for technology-weighted references

Revision ID: 0004_readers
Revises: 0003_origin
Create Date: 2026-11-30 08:10:00.000000

`curtailed_kwh` (Art. 16) and `go_kwh` (Art. 15(6)) are the meter file's optional columns; a
reading without them stores NULL. A statement's `reductions_minor` is support withheld under a
rule (rate cap, double benefit, …), kept apart from payments by the producer:
net = paid to producer − paid by producer − reductions. Statements stored before this revision
have no reductions apart (0): their reductions stay inside `paid_by_producer_minor`.
`cpi_values` holds the CPI uploads (`month,cpi`) the service needs for CPI-indexed contracts,
`profile_points` the generation profiles for contracts weighted by a technology's output.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004_readers'
down_revision: str | None = '0003_origin'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def exact(precision: int, scale: int) -> sa.types.TypeEngine:
    """NUMERIC(p, s); on SQLite, whose NUMERIC is a float, the decimal as text."""
    return sa.Numeric(precision, scale).with_variant(sa.String(precision + 2), "sqlite")


def upgrade() -> None:
    op.create_table('cpi_values',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('cpi', exact(14, 6), nullable=False),
    sa.CheckConstraint('cpi > 0', name=op.f('ck_cpi_values_cpi_positive')),
    sa.PrimaryKeyConstraint('month', name=op.f('pk_cpi_values'))
    )
    op.create_table('profile_points',
    sa.Column('profile', sa.String(length=50), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('weight_milli', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('weight_milli >= 0', name=op.f('ck_profile_points_weight_not_negative')),
    sa.PrimaryKeyConstraint('profile', 'ts', name=op.f('pk_profile_points'))
    )
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_uploads_kind'), type_='check')
        batch_op.create_check_constraint(
            'kind', "kind IN ('prices', 'meters', 'fx', 'cpi', 'profile')")
    with op.batch_alter_table('meter_readings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('curtailed_kwh', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('go_kwh', sa.BigInteger(), nullable=True))
        batch_op.create_check_constraint(
            'extra_energy_not_negative', 'curtailed_kwh >= 0 AND go_kwh >= 0')
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reductions_minor', sa.BigInteger(), nullable=False,
                                      server_default='0'))
        batch_op.drop_constraint(op.f('ck_statements_net_balances'), type_='check')
        batch_op.create_check_constraint(
            'net_balances',
            'net_minor = paid_to_producer_minor - paid_by_producer_minor - reductions_minor')


def downgrade() -> None:
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_statements_net_balances'), type_='check')
        batch_op.drop_column('reductions_minor')
        batch_op.create_check_constraint(
            'net_balances', 'net_minor = paid_to_producer_minor - paid_by_producer_minor')
    with op.batch_alter_table('meter_readings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_meter_readings_extra_energy_not_negative'), type_='check')
        batch_op.drop_column('go_kwh')
        batch_op.drop_column('curtailed_kwh')
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_uploads_kind'), type_='check')
        batch_op.create_check_constraint('kind', "kind IN ('prices', 'meters', 'fx')")
    op.drop_table('cpi_values')
    op.drop_table('profile_points')
