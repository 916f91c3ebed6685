"""round analyses stored at clearing; awards keep their exact budget use

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 15:05:00.000000

Rounds cleared before this revision have no stored analysis; the round page says so and
`api.services.rounds.analyse_round` computes one for them.

An award's budget use is exact in milli-cents (price less reference, discounted, times MWh:
up to five decimals); NUMERIC(20, 2) rounded it on PostgreSQL while SQLite kept every digit.
Awards already stored on PostgreSQL keep their rounded value.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def exact(precision: int, scale: int) -> sa.types.TypeEngine:
    """NUMERIC(p, s); on SQLite, whose NUMERIC is a float, the decimal as text."""
    return sa.Numeric(precision, scale).with_variant(sa.String(precision + 2), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.alter_column('budget_used', existing_type=exact(20, 2), type_=exact(23, 5),
                              existing_nullable=False)
    op.create_table('round_analyses',
    sa.Column('round_id', sa.String(length=100), nullable=False),
    sa.Column('analysis', sa.JSON(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.round_id'],
                            name=op.f('fk_round_analyses_round_id_rounds')),
    sa.PrimaryKeyConstraint('round_id', name=op.f('pk_round_analyses'))
    )


def downgrade() -> None:
    op.drop_table('round_analyses')
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.alter_column('budget_used', existing_type=exact(23, 5), type_=exact(20, 2),
                              existing_nullable=False)
