"""The local forge's pull requests, comments and statuses (--local-repos).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "local_pulls",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("repo", sa.String(255), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("head_ref", sa.String(255), nullable=False),
        sa.Column("base_ref", sa.String(255), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("repo", "number", name="uq_local_pull"),
    )
    op.create_table(
        "local_comments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("repo", sa.String(255), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_local_comments_pull", "local_comments", ["repo", "number", "id"])
    op.create_table(
        "local_statuses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("repo", sa.String(255), nullable=False),
        sa.Column("sha", sa.String(64), nullable=False),
        sa.Column("context", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("repo", "sha", "context", name="uq_local_status"),
    )


def downgrade() -> None:
    op.drop_table("local_statuses")
    op.drop_index("ix_local_comments_pull", "local_comments")
    op.drop_table("local_comments")
    op.drop_table("local_pulls")
