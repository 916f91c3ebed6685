"""one installation per support contract in the GO register

Revision ID: 0007_go_guards
Revises: 0006_hardening
Create Date: 2026-11-30 09:30:00.000000

Two installations naming one contract would each be issued GOs for the same metered MWh
(law Art. 15(5)): `go_installations.contract_id` is unique (NULL, an unsupported
installation, may repeat).
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0007_go_guards'
down_revision: str | None = '0006_hardening'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('go_installations', schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f('uq_go_installations_contract_id'), ['contract_id']
        )


def downgrade() -> None:
    with op.batch_alter_table('go_installations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_go_installations_contract_id'), type_='unique')
