"""Jobs retry later after a transient forge failure, and keep a journal of what
they sent to the forge so a retry sends nothing twice.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("not_before", sa.DateTime))
        batch.add_column(sa.Column("retry_since", sa.DateTime))
    op.create_table(
        "job_journal",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("job_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("forge", sa.String(32), nullable=False),
        sa.Column("repo", sa.String(255), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("sha", sa.String(64), nullable=False),
        sa.Column("context", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("posted", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_journal_job", "job_journal", ["job_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_journal_job", "job_journal")
    op.drop_table("job_journal")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("retry_since")
        batch.drop_column("not_before")
