"""bids scoped to their bidder and excludable; uploads repeat content; signed audit entries

Revision ID: 0006_hardening
Revises: 0005_lifecycle
Create Date: 2026-11-30 08:10:00.000000

- A bid id is unique per bidder in a round (was: per round, which told a producer that a
  rival had taken an id). Awards follow. An operator may exclude a closed round's bid with a
  recorded reason.
- An upload may repeat an earlier content (X, Y, X: the third replaces Y), so
  (kind, target, content) is no longer unique.
- Each audit entry carries an HMAC-SHA256 of its hash under a key kept outside the database
  (`MZEKARI_AUDIT_KEY`); entries written before have none.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006_hardening'
down_revision: str | None = '0005_lifecycle'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('bids', schema=None) as batch_op:
        batch_op.drop_constraint('uq_bids_round_id_bid_id', type_='unique')
        batch_op.create_unique_constraint(
            batch_op.f('uq_bids_round_id_bidder_bid_id'), ['round_id', 'bidder', 'bid_id'])
        batch_op.add_column(sa.Column('excluded_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('excluded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('excluded_by', sa.String(length=32), nullable=True))
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.drop_constraint('uq_awards_round_id_bid_id', type_='unique')
        batch_op.create_unique_constraint(
            batch_op.f('uq_awards_round_id_bidder_bid_id'), ['round_id', 'bidder', 'bid_id'])
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_constraint('uq_uploads_kind_target_content_sha256', type_='unique')
        batch_op.create_index(batch_op.f('ix_uploads_kind_target'), ['kind', 'target'],
                              unique=False)
    # ADD COLUMN without a table rebuild: the append-only triggers stay in place.
    op.add_column('audit_log', sa.Column('signature', sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column('audit_log', 'signature')
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_uploads_kind_target'))
        batch_op.create_unique_constraint(
            'uq_uploads_kind_target_content_sha256', ['kind', 'target', 'content_sha256'])
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.drop_constraint('uq_awards_round_id_bidder_bid_id', type_='unique')
        batch_op.create_unique_constraint('uq_awards_round_id_bid_id', ['round_id', 'bid_id'])
    with op.batch_alter_table('bids', schema=None) as batch_op:
        batch_op.drop_column('excluded_by')
        batch_op.drop_column('excluded_at')
        batch_op.drop_column('excluded_reason')
        batch_op.drop_constraint('uq_bids_round_id_bidder_bid_id', type_='unique')
        batch_op.create_unique_constraint('uq_bids_round_id_bid_id', ['round_id', 'bid_id'])
