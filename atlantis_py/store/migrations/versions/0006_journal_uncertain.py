"""A journaled write whose send may have landed though it failed (a 5xx, a
timeout) is marked, so the retry looks for it on the forge before sending again.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_journal") as batch:
        batch.add_column(sa.Column("uncertain", sa.Boolean, nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("job_journal") as batch:
        batch.drop_column("uncertain")
