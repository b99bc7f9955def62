"""IPR lifecycle: API reviews, API tokens, policy snapshot and pending clock.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pull_requests") as batch:
        batch.add_column(sa.Column("description", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("base_config", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("pending_since", sa.DateTime))
    with op.batch_alter_table("project_runs") as batch:
        batch.add_column(sa.Column("environment", sa.String(255), nullable=False,
                                   server_default="default"))
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pull_id", sa.Integer, sa.ForeignKey("pull_requests.id"), nullable=False),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("commit_sha", sa.String(64), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_reviews_pull", "reviews", ["pull_id", "id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
    op.drop_table("reviews")
    with op.batch_alter_table("project_runs") as batch:
        batch.drop_column("environment")
    with op.batch_alter_table("pull_requests") as batch:
        batch.drop_column("pending_since")
        batch.drop_column("base_config")
        batch.drop_column("description")
