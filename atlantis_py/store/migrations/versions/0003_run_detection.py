"""Project runs remember why they ran and where a destroy was planned.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("project_runs") as batch:
        batch.add_column(sa.Column("reasons", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("deleted", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("source_sha", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("project_runs") as batch:
        batch.drop_column("source_sha")
        batch.drop_column("deleted")
        batch.drop_column("reasons")
